//! The pure heart of the console: `update(&mut State, Msg) -> Vec<Effect>`. It never
//! performs I/O; the app loop runs the effects it returns.

pub(crate) mod canned;
mod command;
mod input;
mod net;
#[cfg(test)]
pub(crate) mod tests;

use shared::model::{ChatId, ChatStatus, MessageKind};
use time::{Duration, OffsetDateTime};

use crate::action::Action;
use crate::effect::{CannedCmd, ChatCmd, DirectoryCmd, Effect, SessionCmd};
use crate::msg::Msg;
use crate::state::{
    ChatScroll, ComposeKind, Flash, FlashLevel, History, Mode, OutboxItem, OutboxStatus, Pane,
    Picker, PickerItem, PickerKind, PickerValue, Session, State, new_textarea,
};

pub use command::{COMMANDS, complete};

/// Typing is sent at most this often while the agent types…
pub const TYPING_THROTTLE: Duration = Duration::seconds(2);
/// …and switched off after this long without a key.
pub const TYPING_IDLE: Duration = Duration::seconds(5);
/// A visitor's typing indicator disappears if no update comes for this long.
pub const CUSTOMER_TYPING_TTL: Duration = Duration::seconds(6);
pub const FLASH_TTL: Duration = Duration::seconds(6);
/// Lines moved by page up/down in the chat history.
pub const PAGE: usize = 10;

/// Sets up the state from what is on disk and says what to do first.
pub fn start(state: &mut State, session: Option<Session>, outbox: Vec<OutboxItem>) -> Vec<Effect> {
    state.chats.outbox = outbox;
    let mut fx = Vec::new();
    match session {
        Some(s) => {
            state.server_url = s.server.clone();
            state.login.server = s.server.clone();
            state.login.email = s.agent.email.clone();
            fx.push(
                SessionCmd::Connect {
                    server: s.server.clone(),
                    token: s.token.clone(),
                }
                .into(),
            );
            state.chats.outbox_agent = Some(s.agent.id.clone());
            state.session = Some(s);
            state.mode = Mode::Normal;
            load_all(&mut fx);
        }
        None => state.mode = Mode::Login,
    }
    rebuild(state);
    fx
}

pub fn update(state: &mut State, msg: Msg) -> Vec<Effect> {
    let mut fx = Vec::new();
    match msg {
        Msg::Key(ev) => input::on_key(state, ev, &mut fx),
        Msg::Paste(text) => input::on_paste(state, &text, &mut fx),
        Msg::Resize { width, .. } => state.width = width,
        Msg::Tick(now) => tick(state, now, &mut fx),
        Msg::Action(a) => apply(state, a, &mut fx),
        Msg::Net(ev) => net::on_net(state, ev, &mut fx),
    }
    rebuild(state);
    fx
}

/// Recomputes the queue view from the chats (after any change to them).
pub fn rebuild(state: &mut State) {
    let me = state.session.as_ref().map(|s| s.agent.id.clone());
    state
        .chats
        .queue
        .rebuild(&state.chats.entries, me.as_deref());
}

pub(crate) fn load_all(fx: &mut Vec<Effect>) {
    for status in [ChatStatus::Waiting, ChatStatus::Active, ChatStatus::Closed] {
        fx.push(ChatCmd::LoadList { status }.into());
    }
    fx.push(DirectoryCmd::LoadAgents.into());
    fx.push(DirectoryCmd::LoadDepartments.into());
    fx.push(CannedCmd::Load.into());
}

pub(crate) fn flash(state: &mut State, level: FlashLevel, text: impl Into<String>) {
    state.flash = Some(Flash {
        text: text.into(),
        level,
        at: state.now,
    });
}

fn tick(state: &mut State, now: OffsetDateTime, fx: &mut Vec<Effect>) {
    state.now = now;
    if state.chats.composer.typing_on
        && state
            .chats
            .composer
            .last_input_at
            .is_none_or(|t| now - t >= TYPING_IDLE)
    {
        stop_typing(state, fx);
    }
    for e in state.chats.entries.values_mut() {
        if e.customer_typing_until.is_some_and(|t| t <= now) {
            e.customer_typing_until = None;
        }
    }
    if let Some(f) = &state.flash {
        let ttl = if f.level == FlashLevel::Error {
            FLASH_TTL * 2
        } else {
            FLASH_TTL
        };
        if now - f.at >= ttl {
            state.flash = None;
        }
    }
    // A send that timed out while the socket stayed up is retried here.
    if state.conn.is_online() {
        flush_outbox(state, fx);
    }
}

/// Emits every pending outbox item, oldest first.
pub(crate) fn flush_outbox(state: &mut State, fx: &mut Vec<Effect>) {
    for item in &mut state.chats.outbox {
        if item.status == OutboxStatus::Pending {
            item.status = OutboxStatus::Sending;
            fx.push(ChatCmd::Send(item.clone()).into());
        }
    }
}

pub(crate) fn save_outbox(state: &State, fx: &mut Vec<Effect>) {
    fx.retain(|e| !matches!(e, Effect::SaveOutbox(_)));
    fx.push(Effect::SaveOutbox(state.chats.outbox.clone()));
}

pub(crate) fn stop_typing(state: &mut State, fx: &mut Vec<Effect>) {
    if state.chats.composer.typing_on {
        if let Some(chat_id) = state.chats.composer.typing_chat.take() {
            fx.push(
                ChatCmd::Typing {
                    chat_id,
                    typing: false,
                }
                .into(),
            );
        }
        state.chats.composer.typing_on = false;
        state.chats.composer.typing_sent_at = None;
    }
}

/// After the composer text changed: tell the visitor, at most every two seconds.
/// Notes are internal, so writing one never shows the visitor "typing".
pub(crate) fn typed(state: &mut State, fx: &mut Vec<Effect>) {
    let now = state.now;
    state.chats.composer.last_input_at = Some(now);
    let Some(chat_id) = state.chats.open_chat.clone() else {
        return;
    };
    if state.chats.composer.kind == ComposeKind::Note || state.chats.composer.is_empty() {
        stop_typing(state, fx);
        return;
    }
    if state.chats.composer.typing_chat.as_ref() != Some(&chat_id) {
        stop_typing(state, fx);
    }
    let due = !state.chats.composer.typing_on
        || state
            .chats
            .composer
            .typing_sent_at
            .is_none_or(|t| now - t >= TYPING_THROTTLE);
    if due && state.conn.is_online() {
        fx.push(
            ChatCmd::Typing {
                chat_id: chat_id.clone(),
                typing: true,
            }
            .into(),
        );
        state.chats.composer.typing_on = true;
        state.chats.composer.typing_chat = Some(chat_id);
        state.chats.composer.typing_sent_at = Some(now);
    }
}

/// Marks the open chat read up to its last message, when it is the agent's own.
pub(crate) fn mark_read(state: &mut State, fx: &mut Vec<Effect>) {
    if !state.conn.is_online() || state.mode == Mode::Login {
        return;
    }
    let me = state.my_id().map(str::to_owned);
    let Some(id) = state.chats.open_chat.clone() else {
        return;
    };
    let Some(e) = state.chats.entries.get_mut(&id) else {
        return;
    };
    if e.chat.assignee_id.is_none() || e.chat.assignee_id != me {
        return;
    }
    let seq = e.last_seq();
    if seq > 0 && seq > e.read_sent && (e.chat.unread_count > 0 || seq > e.chat.agent_read_seq) {
        e.read_sent = seq;
        e.chat.unread_count = 0;
        fx.push(ChatCmd::Read { chat_id: id, seq }.into());
    }
}

/// Opens a chat in the chat pane: loads its history and customer, keeps the draft of
/// the chat being left.
pub(crate) fn open_chat(state: &mut State, id: &ChatId, fx: &mut Vec<Effect>) {
    if state.chats.open_chat.as_ref() != Some(id) {
        stop_typing(state, fx);
        if let Some(old) = state.chats.open_chat.take() {
            let lines = state.chats.composer.textarea.lines().to_vec();
            if state.chats.composer.is_empty() {
                state.chats.composer.drafts.remove(&old);
            } else {
                state
                    .chats
                    .composer
                    .drafts
                    .insert(old, (lines, state.chats.composer.kind));
            }
        }
        let (lines, kind) = state
            .chats
            .composer
            .drafts
            .remove(id)
            .unwrap_or((Vec::new(), ComposeKind::Reply));
        state.chats.composer.textarea = new_textarea(lines);
        state.chats.composer.kind = kind;
        state.chats.open_chat = Some(id.clone());
        state.chats.chat_scroll = ChatScroll::default();
        state.chats.customer_scroll = 0;
    }
    state.chats.queue.selected = Some(id.clone());
    let Some(e) = state.chats.entries.get_mut(id) else {
        fx.push(ChatCmd::Load(id.clone()).into());
        return;
    };
    if e.history == History::NotLoaded {
        e.history = History::Loading;
        fx.push(
            ChatCmd::LoadMessages {
                chat_id: id.clone(),
                before_seq: None,
            }
            .into(),
        );
    }
    let customer_id = e.chat.customer.id.clone();
    if !state.directory.customers.contains_key(&customer_id) {
        fx.push(DirectoryCmd::LoadCustomer(customer_id).into());
    }
    mark_read(state, fx);
}

fn focus_order(state: &State) -> [Pane; 3] {
    let _ = state;
    Pane::ALL
}

fn move_focus(state: &mut State, delta: isize, wrap: bool) {
    let order = focus_order(state);
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

fn movement(state: &mut State, a: Action, fx: &mut Vec<Effect>) {
    match state.mode {
        Mode::Picker => {
            if let Some(p) = &mut state.picker {
                let n = p.visible().len();
                if n == 0 {
                    return;
                }
                p.selected = match a {
                    Action::MoveDown => (p.selected + 1).min(n - 1),
                    Action::MoveUp => p.selected.saturating_sub(1),
                    Action::PageDown => (p.selected + PAGE).min(n - 1),
                    Action::PageUp => p.selected.saturating_sub(PAGE),
                    Action::Top => 0,
                    _ => n - 1,
                };
            }
            return;
        }
        Mode::Help => {
            state.help_scroll = match a {
                Action::MoveDown => state.help_scroll.saturating_add(1),
                Action::MoveUp => state.help_scroll.saturating_sub(1),
                Action::PageDown => state.help_scroll.saturating_add(PAGE as u16),
                Action::PageUp => state.help_scroll.saturating_sub(PAGE as u16),
                Action::Top => 0,
                _ => u16::MAX,
            };
            return;
        }
        _ => {}
    }
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

pub(crate) fn begin_compose(state: &mut State, kind: ComposeKind, fx: &mut Vec<Effect>) {
    if state.chats.open_chat.is_none() {
        match state.chats.queue.selected.clone() {
            Some(id) => open_chat(state, &id, fx),
            None => {
                flash(
                    state,
                    FlashLevel::Warn,
                    "Open a chat first (Enter on a queue row)",
                );
                return;
            }
        }
    }
    if let Some(e) = state.chats.open_entry()
        && e.chat.status == ChatStatus::Closed
        && kind == ComposeKind::Reply
    {
        flash(
            state,
            FlashLevel::Warn,
            "This chat is closed: reopen it (R or :reopen) to reply, or write a note (n)",
        );
        return;
    }
    state.chats.composer.kind = kind;
    state.chats.focus = Pane::Chat;
    state.mode = Mode::Insert;
    state.chats.chat_scroll = ChatScroll::default();
}

/// Queues the composer's text, with the files staged for the chat, in the outbox and
/// sends it when online.
fn send(state: &mut State, fx: &mut Vec<Effect>) {
    let Some(chat_id) = state.chats.open_chat.clone() else {
        flash(state, FlashLevel::Warn, "No chat is open");
        return;
    };
    let kind = match state.chats.composer.kind {
        ComposeKind::Reply => MessageKind::Text,
        ComposeKind::Note => MessageKind::Note,
    };
    let text = state.chats.composer.text();
    if queue_message(state, chat_id, &text, kind, fx) {
        state.chats.composer.textarea = new_textarea(Vec::new());
        stop_typing(state, fx);
    }
}

/// Adds one message to the outbox, with the files staged for its chat; false (with
/// the reason shown) if it is not valid. A message with files needs a connection:
/// files are not kept in the outbox while offline, so it is refused and everything
/// stays in the composer.
pub(crate) fn queue_message(
    state: &mut State,
    chat_id: ChatId,
    text: &str,
    kind: MessageKind,
    fx: &mut Vec<Effect>,
) -> bool {
    let files = state.chats.composer.staged_for(&chat_id).to_vec();
    let body = match shared::limits::validate_body_with_files(text, !files.is_empty()) {
        Ok(b) => b,
        Err(e) => {
            flash(state, FlashLevel::Warn, e.message);
            return false;
        }
    };
    if !files.is_empty() && !state.conn.is_online() {
        flash(
            state,
            FlashLevel::Warn,
            "Offline: a message with files needs a connection (files are not kept in the outbox) — send when back online, or :detach to send the text alone",
        );
        return false;
    }
    state.chats.composer.staged.remove(&chat_id);
    let mut item = OutboxItem {
        client_msg_id: uuid::Uuid::new_v4().to_string(),
        chat_id,
        body,
        kind,
        attachments: files,
        created_at: state.now,
        status: OutboxStatus::Pending,
    };
    if state.conn.is_online() {
        item.status = OutboxStatus::Sending;
        fx.push(ChatCmd::Send(item.clone()).into());
    } else {
        flash(
            state,
            FlashLevel::Warn,
            "Offline: the message waits in the outbox (◷) and is sent on reconnect",
        );
    }
    state.chats.outbox.push(item);
    state.chats.chat_scroll = ChatScroll::default();
    save_outbox(state, fx);
    true
}

fn open_command(state: &mut State, prefill: &str) {
    state.command.input = prefill.to_owned();
    state.command.completions.clear();
    state.command.completion_idx = None;
    state.command.completion_base = None;
    state.command.history_idx = None;
    state.mode = Mode::Command;
}

pub(crate) fn status_badge(s: shared::model::AgentStatus) -> String {
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

pub(crate) fn open_status_picker(state: &mut State) {
    let current = state.me().map(|a| a.status);
    let items = shared::model::AgentStatus::ALL
        .into_iter()
        .map(|s| PickerItem {
            label: s.as_str().replace('_', " "),
            detail: if Some(s) == current {
                "current".into()
            } else {
                String::new()
            },
            badge: Some(crate::ui::theme::status_symbol(s).to_owned()),
            value: PickerValue::Status(s),
        })
        .collect();
    state.picker = Some(Picker {
        kind: PickerKind::Status,
        title: "Set your status".into(),
        items,
        query: String::new(),
        selected: 0,
    });
    state.mode = Mode::Picker;
}

pub(crate) fn open_notifications(state: &mut State) {
    let items = state
        .notifications
        .newest_first()
        .map(|n| PickerItem {
            label: n.notification.title.clone(),
            detail: n.notification.body.clone(),
            badge: Some(if n.seen { "read" } else { "new" }.into()),
            value: match &n.notification.chat_id {
                Some(c) => PickerValue::Chat(c.clone()),
                None => PickerValue::Chat(String::new()),
            },
        })
        .collect();
    for n in &mut state.notifications.items {
        n.seen = true;
    }
    state.picker = Some(Picker {
        kind: PickerKind::Notifications,
        title: "Notifications".into(),
        items,
        query: String::new(),
        selected: 0,
    });
    state.mode = Mode::Picker;
}

fn picker_confirm(state: &mut State, fx: &mut Vec<Effect>) {
    let Some(p) = state.picker.take() else {
        state.mode = Mode::Normal;
        return;
    };
    state.mode = Mode::Normal;
    let Some(item) = p.visible().get(p.selected).map(|i| (*i).clone()) else {
        return;
    };
    match (&p.kind, item.value) {
        (PickerKind::Transfer { chat_id }, PickerValue::Agent(a)) => {
            fx.push(
                ChatCmd::Transfer {
                    chat_id: chat_id.clone(),
                    to_agent_id: Some(a),
                    to_department_id: None,
                }
                .into(),
            );
            flash(
                state,
                FlashLevel::Info,
                format!("Transferring to {}…", item.label),
            );
        }
        (PickerKind::Transfer { chat_id }, PickerValue::Department(d)) => {
            fx.push(
                ChatCmd::Transfer {
                    chat_id: chat_id.clone(),
                    to_agent_id: None,
                    to_department_id: Some(d),
                }
                .into(),
            );
            flash(
                state,
                FlashLevel::Info,
                format!("Transferring to {}…", item.label),
            );
        }
        (_, PickerValue::Status(s)) => fx.push(DirectoryCmd::Presence(s).into()),
        (_, PickerValue::Chat(c)) if !c.is_empty() => {
            open_chat(state, &c, fx);
            state.chats.focus = Pane::Chat;
        }
        (_, PickerValue::Theme(t)) => state.theme = t,
        _ => {}
    }
}

/// Applies one action in the current mode.
pub(crate) fn apply(state: &mut State, a: Action, fx: &mut Vec<Effect>) {
    if state.mode == Mode::Canned && a != Action::Quit {
        canned::on_action(state, a, fx);
        return;
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
        Action::Open => match state.mode {
            Mode::Picker => picker_confirm(state, fx),
            _ => match state.chats.focus {
                Pane::Queue => {
                    if let Some(id) = state.chats.queue.selected.clone() {
                        open_chat(state, &id, fx);
                        state.chats.focus = Pane::Chat;
                    }
                }
                Pane::Chat => begin_compose(state, ComposeKind::Reply, fx),
                Pane::Customer => {}
            },
        },
        Action::NextUnread => {
            let ids: Vec<ChatId> = state.chats.queue.flat().cloned().collect();
            let start = state.chats.queue.selected_index().map_or(0, |i| i + 1);
            let n = ids.len();
            let found =
                (0..n).map(|k| &ids[(start + k) % n.max(1)]).find(|id| {
                    state.chats.entries.get(*id).is_some_and(|e| {
                        e.chat.unread_count > 0 && e.chat.status != ChatStatus::Closed
                    })
                });
            match found.cloned() {
                Some(id) => {
                    open_chat(state, &id, fx);
                    state.chats.focus = Pane::Chat;
                }
                None => flash(state, FlashLevel::Info, "No unread chats"),
            }
        }
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
            state.picker = None;
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
        Action::SetStatus => open_status_picker(state),
        Action::CommandLine => open_command(state, ""),
        Action::Help => {
            if state.mode == Mode::Help {
                state.mode = state.prev_mode;
            } else {
                state.prev_mode = if state.mode == Mode::Insert {
                    Mode::Insert
                } else {
                    Mode::Normal
                };
                state.help_scroll = 0;
                state.mode = Mode::Help;
            }
        }
        Action::Notifications => open_notifications(state),
        Action::Refresh => {
            load_all(fx);
            if let Some(id) = state.chats.open_chat.clone()
                && let Some(e) = state.chats.entries.get_mut(&id)
            {
                e.history = History::Loading;
                fx.push(
                    ChatCmd::LoadMessages {
                        chat_id: id,
                        before_seq: None,
                    }
                    .into(),
                );
            }
            flash(state, FlashLevel::Info, "Reloading…");
        }
        Action::CycleTheme => {
            state.theme = state.theme.next();
            let name = state.theme.as_str();
            flash(state, FlashLevel::Info, format!("Theme: {name}"));
        }
        Action::CopyLink => match state.chats.target_chat() {
            Some(id) => {
                let link = format!(
                    "{}/api/v1/chats/{id}/transcript?format=text",
                    state.server_url.trim_end_matches('/')
                );
                fx.push(Effect::Clipboard(link));
                flash(state, FlashLevel::Info, "Chat link copied to the clipboard");
            }
            None => flash(state, FlashLevel::Warn, "No chat selected"),
        },
        Action::CannedResponses => canned::trigger(state, fx),
        // Only meaningful inside the canned-response picker.
        Action::CannedBrowse => {}
        Action::Quit => {
            stop_typing(state, fx);
            state.quit = true;
            fx.push(Effect::Quit);
        }
    }
}
