//! The composer and sending: opening a chat (drafts kept per chat), the typing
//! signal, read marks, queueing messages in the outbox and flushing it.

use shared::model::{ChatId, ChatStatus, MessageKind};

use crate::effect::{ChatCmd, DirectoryCmd, Effect};
use crate::state::{
    ChatScroll, ComposeKind, FlashLevel, History, Mode, OutboxItem, OutboxStatus, Pane, State,
    new_textarea,
};
use crate::update::{TYPING_THROTTLE, flash};

/// Emits every pending outbox item, oldest first.
pub(super) fn flush_outbox(state: &mut State, fx: &mut Vec<Effect>) {
    for item in &mut state.chats.outbox {
        if item.status == OutboxStatus::Pending {
            item.status = OutboxStatus::Sending;
            fx.push(ChatCmd::Send(item.clone()).into());
        }
    }
}

pub(super) fn save_outbox(state: &State, fx: &mut Vec<Effect>) {
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
pub(super) fn typed(state: &mut State, fx: &mut Vec<Effect>) {
    // The composer of another view (a ticket's) tells no visitor anything.
    if state.view != crate::state::ViewId::Chats {
        return;
    }
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
pub(super) fn mark_read(state: &mut State, fx: &mut Vec<Effect>) {
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
        fx.push(DirectoryCmd::LoadCustomer(customer_id.clone()).into());
    }
    // The customer's tickets and the team's notes about them, for the customer pane.
    if !state.tickets.customers.contains_key(&customer_id) {
        fx.push(crate::effect::TicketCmd::LoadCustomer(customer_id).into());
    }
    mark_read(state, fx);
}

pub(super) fn begin_compose(state: &mut State, kind: ComposeKind, fx: &mut Vec<Effect>) {
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
pub(super) fn send(state: &mut State, fx: &mut Vec<Effect>) {
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
pub(super) fn queue_message(
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
