//! Moving around the Chats view: panes, the queue selection, scrolling the history
//! (loading older messages at the top) and the customer pane, the next unread chat.

use shared::model::{ChatId, ChatStatus};

use super::compose::open_chat;
use crate::action::Action;
use crate::effect::{ChatCmd, Effect};
use crate::state::{ChatScroll, FlashLevel, History, Pane, State};
use crate::update::{PAGE, flash};

pub(super) fn move_focus(state: &mut State, delta: isize, wrap: bool) {
    let order = Pane::ALL;
    let i = state.chats.focus.index() as isize + delta;
    let n = order.len() as isize;
    let i = if wrap {
        i.rem_euclid(n)
    } else {
        i.clamp(0, n - 1)
    };
    state.chats.focus = order[i as usize];
}

fn move_selection(state: &mut State, delta: isize) {
    let n = state.chats.queue.len();
    if n == 0 {
        return;
    }
    let cur = state.chats.queue.selected_index().unwrap_or(0) as isize;
    let next = (cur + delta).clamp(0, n as isize - 1) as usize;
    state.chats.queue.select_index(next);
}

fn scroll_chat(state: &mut State, delta: isize) {
    let s = &mut state.chats.chat_scroll;
    if delta > 0 {
        s.from_bottom = s.from_bottom.saturating_add(delta as usize);
    } else {
        s.from_bottom = s.from_bottom.saturating_sub(delta.unsigned_abs());
        if s.from_bottom == 0 {
            s.unseen = 0;
        }
    }
}

fn load_older(state: &mut State, fx: &mut Vec<Effect>) {
    let Some(id) = state.chats.open_chat.clone() else {
        return;
    };
    if let Some(e) = state.chats.entries.get_mut(&id)
        && e.history == (History::Loaded { complete: false })
    {
        let before = e.messages.keys().next().copied();
        e.history = History::Loading;
        fx.push(
            ChatCmd::LoadMessages {
                chat_id: id,
                before_seq: before,
            }
            .into(),
        );
    }
}

/// Movement keys: the queue selection, the history (where "down" is newer), or the
/// customer pane, whichever has focus.
pub(super) fn movement(state: &mut State, a: Action, fx: &mut Vec<Effect>) {
    match state.chats.focus {
        Pane::Queue => match a {
            Action::MoveDown => move_selection(state, 1),
            Action::MoveUp => move_selection(state, -1),
            Action::PageDown => move_selection(state, PAGE as isize),
            Action::PageUp => move_selection(state, -(PAGE as isize)),
            Action::Top => state.chats.queue.select_index(0),
            _ => {
                let n = state.chats.queue.len();
                if n > 0 {
                    state.chats.queue.select_index(n - 1);
                }
            }
        },
        // In the history, "down" goes towards newer messages (the bottom).
        Pane::Chat => match a {
            Action::MoveDown => scroll_chat(state, -1),
            Action::MoveUp => scroll_chat(state, 1),
            Action::PageDown => scroll_chat(state, -(PAGE as isize)),
            Action::PageUp => scroll_chat(state, PAGE as isize),
            Action::Top => {
                state.chats.chat_scroll.from_bottom = usize::MAX / 2;
                load_older(state, fx);
            }
            _ => state.chats.chat_scroll = ChatScroll::default(),
        },
        Pane::Customer => {
            state.chats.customer_scroll = match a {
                Action::MoveDown => state.chats.customer_scroll.saturating_add(1),
                Action::MoveUp => state.chats.customer_scroll.saturating_sub(1),
                Action::PageDown => state.chats.customer_scroll.saturating_add(PAGE as u16),
                Action::PageUp => state.chats.customer_scroll.saturating_sub(PAGE as u16),
                Action::Top => 0,
                _ => u16::MAX / 2,
            }
        }
    }
}

/// Opens the next chat after the selection with unread messages (wrapping round).
pub(super) fn next_unread(state: &mut State, fx: &mut Vec<Effect>) {
    let ids: Vec<ChatId> = state.chats.queue.flat().cloned().collect();
    let start = state.chats.queue.selected_index().map_or(0, |i| i + 1);
    let n = ids.len();
    let found = (0..n).map(|k| &ids[(start + k) % n.max(1)]).find(|id| {
        state
            .chats
            .entries
            .get(*id)
            .is_some_and(|e| e.chat.unread_count > 0 && e.chat.status != ChatStatus::Closed)
    });
    match found.cloned() {
        Some(id) => {
            open_chat(state, &id, fx);
            state.chats.focus = Pane::Chat;
        }
        None => flash(state, FlashLevel::Info, "No unread chats"),
    }
}
