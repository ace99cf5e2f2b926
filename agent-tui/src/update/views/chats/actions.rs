//! What the keys do in the Chats view: panes and movement, opening and composing,
//! claim, close, reopen, transfer (with its picker), tags, export, the chat link.

use shared::model::{ChatId, ChatStatus};

use super::compose::{begin_compose, open_chat, send, stop_typing};
use super::navigation::{move_focus, movement, next_unread};
use crate::action::Action;
use crate::effect::{ChatCmd, DirectoryCmd, Effect};
use crate::state::{
    ComposeKind, FlashLevel, Mode, Pane, Picker, PickerItem, PickerKind, PickerValue, State,
};
use crate::update::{flash, open_command};

/// One action in the Chats view; false for the ones that mean nothing here.
pub(super) fn on_action(state: &mut State, a: Action, fx: &mut Vec<Effect>) -> bool {
    if state.mode == Mode::Canned {
        super::canned::on_action(state, a, fx);
        return true;
    }
    match a {
        Action::MoveDown
        | Action::MoveUp
        | Action::Top
        | Action::Bottom
        | Action::PageDown
        | Action::PageUp => movement(state, a, fx),
        Action::FocusLeft => move_focus(state, -1, false),
        Action::FocusRight => move_focus(state, 1, false),
        Action::NextPane => move_focus(state, 1, true),
        Action::PrevPane => move_focus(state, -1, true),
        Action::FocusQueue => state.chats.focus = Pane::Queue,
        Action::FocusChat => state.chats.focus = Pane::Chat,
        Action::FocusCustomer => state.chats.focus = Pane::Customer,
        Action::Open => match state.chats.focus {
            Pane::Queue => {
                if let Some(id) = state.chats.queue.selected.clone() {
                    open_chat(state, &id, fx);
                    state.chats.focus = Pane::Chat;
                }
            }
            Pane::Chat => begin_compose(state, ComposeKind::Reply, fx),
            Pane::Customer => {}
        },
        Action::NextUnread => next_unread(state, fx),
        Action::Search => {
            state.mode = Mode::Search;
            state.chats.focus = Pane::Queue;
        }
        Action::ClearFilter => {
            if state.chats.queue.filter.is_active() {
                state.chats.queue.filter = Default::default();
                flash(state, FlashLevel::Info, "Search and filters cleared");
            } else {
                state.flash = None;
            }
        }
        Action::Compose => begin_compose(state, ComposeKind::Reply, fx),
        Action::ComposeNote => begin_compose(state, ComposeKind::Note, fx),
        Action::ToggleNote => {
            state.chats.composer.kind = match state.chats.composer.kind {
                ComposeKind::Reply => ComposeKind::Note,
                ComposeKind::Note => ComposeKind::Reply,
            };
            if state.chats.composer.kind == ComposeKind::Note {
                stop_typing(state, fx);
            }
        }
        Action::Send => send(state, fx),
        Action::Normal => {
            if state.mode == Mode::Insert {
                stop_typing(state, fx);
            }
            state.mode = Mode::Normal;
        }
        Action::Claim => match state.chats.target_chat() {
            Some(id) => {
                let mine = state.chats.entries.get(&id).is_some_and(|e| {
                    e.chat.status == ChatStatus::Active
                        && e.chat.assignee_id.as_deref() == state.my_id()
                });
                if mine {
                    flash(state, FlashLevel::Info, "This chat is already yours");
                } else {
                    fx.push(ChatCmd::Claim(id).into());
                    flash(state, FlashLevel::Info, "Claiming…");
                }
            }
            None => flash(state, FlashLevel::Warn, "No chat selected"),
        },
        Action::Close => open_command(state, "close "),
        Action::Reopen => match state.chats.target_chat() {
            Some(id) => fx.push(ChatCmd::Reopen(id).into()),
            None => flash(state, FlashLevel::Warn, "No chat selected"),
        },
        Action::Transfer => match state.chats.target_chat() {
            Some(id) => open_transfer_picker(state, id, "", fx),
            None => flash(state, FlashLevel::Warn, "No chat selected"),
        },
        Action::Tag => open_command(state, "tag "),
        Action::Export => open_command(state, "export "),
        Action::CopyLink => copy_link(state, fx),
        Action::CannedResponses => super::canned::trigger(state, fx),
        // Only meaningful inside the canned-response picker.
        Action::CannedBrowse => {}
        _ => return false,
    }
    true
}

pub(super) fn copy_link(state: &mut State, fx: &mut Vec<Effect>) {
    match state.chats.target_chat() {
        Some(id) => {
            let link = format!(
                "{}/api/v1/chats/{id}/transcript?format=text",
                state.server_url.trim_end_matches('/')
            );
            fx.push(Effect::Clipboard(link));
            flash(state, FlashLevel::Info, "Chat link copied to the clipboard");
        }
        None => flash(state, FlashLevel::Warn, "No chat selected"),
    }
}

fn status_badge(s: shared::model::AgentStatus) -> String {
    format!("{} {}", crate::ui::theme::status_symbol(s), s.as_str())
}

pub(crate) fn open_transfer_picker(
    state: &mut State,
    chat_id: ChatId,
    query: &str,
    fx: &mut Vec<Effect>,
) {
    let me = state.my_id().map(str::to_owned);
    let mut agents: Vec<_> = state
        .directory
        .agents
        .iter()
        .filter(|a| Some(&a.id) != me.as_ref())
        .collect();
    agents.sort_by_key(|a| {
        (
            a.status != shared::model::AgentStatus::Online,
            a.status == shared::model::AgentStatus::Offline,
            a.active_chats,
            a.name.clone(),
        )
    });
    let mut items: Vec<PickerItem> = agents
        .into_iter()
        .map(|a| {
            let depts: Vec<&str> = a
                .department_ids
                .iter()
                .filter_map(|d| state.department_name(d))
                .collect();
            PickerItem {
                label: a.name.clone(),
                detail: format!(
                    "{}/{} chats · {}",
                    a.active_chats,
                    a.max_chats,
                    depts.join(", ")
                ),
                badge: Some(status_badge(a.status)),
                value: PickerValue::Agent(a.id.clone()),
            }
        })
        .collect();
    for d in &state.directory.departments {
        let waiting = state
            .chats
            .entries
            .values()
            .filter(|e| e.chat.status == ChatStatus::Waiting && e.chat.department_id == d.id)
            .count();
        items.push(PickerItem {
            label: d.name.clone(),
            detail: format!("department · {waiting} waiting"),
            badge: Some("dept".into()),
            value: PickerValue::Department(d.id.clone()),
        });
    }
    let name = state
        .chats
        .entries
        .get(&chat_id)
        .map(|e| e.chat.customer.name.clone())
        .unwrap_or_default();
    state.picker = Some(Picker {
        kind: PickerKind::Transfer { chat_id },
        title: format!("Transfer {name} to…"),
        items,
        query: query.to_owned(),
        selected: 0,
    });
    state.prev_mode = Mode::Normal;
    state.mode = Mode::Picker;
    // Fresh presence and load for the choice.
    fx.push(DirectoryCmd::LoadAgents.into());
}

/// Redraws an open transfer picker with fresh presence and load, keeping its query
/// and selection.
pub(crate) fn refresh_transfer_picker(state: &mut State) {
    if let Some(p) = &state.picker
        && let PickerKind::Transfer { chat_id } = &p.kind
    {
        let (chat_id, query, sel) = (chat_id.clone(), p.query.clone(), p.selected);
        let mut ignored = Vec::new();
        open_transfer_picker(state, chat_id, &query, &mut ignored);
        if let Some(p) = &mut state.picker {
            p.selected = sel;
        }
    }
}
