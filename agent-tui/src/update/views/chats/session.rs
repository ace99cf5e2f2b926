//! The Chats view through the session's life: whose outbox it is at sign-in, what is
//! resent on reconnect, what is dropped on sign-out, reloads, and the clock (typing
//! expiry, retries).

use super::compose::{flush_outbox, mark_read, save_outbox, stop_typing};
use crate::effect::{CannedCmd, ChatCmd, Effect};
use crate::state::{History, OutboxStatus, Pane, State};
use crate::update::TYPING_IDLE;
use crate::views::SessionChange;

pub(super) fn on_session(state: &mut State, change: SessionChange<'_>, fx: &mut Vec<Effect>) {
    match change {
        SessionChange::SignedIn { agent_id } => {
            // A different agent on this machine must not send someone else's outbox.
            let other_agent = state
                .chats
                .outbox_agent
                .as_ref()
                .is_some_and(|id| id != agent_id);
            state.chats.outbox_agent = Some(agent_id.to_owned());
            if other_agent && !state.chats.outbox.is_empty() {
                state.chats.outbox.clear();
                save_outbox(state, fx);
            }
            if other_agent {
                // Uploads can only be sent by their uploader.
                state.chats.composer.staged.clear();
            }
            state.chats.focus = Pane::Queue;
        }
        SessionChange::SignedOut => {
            stop_typing(state, fx);
            state.chats.composer.uploading.clear();
        }
        SessionChange::Connected => {
            // The sync is already asked for: the socket keeps acked emits in order,
            // so what waited in the outbox goes after it.
            for item in &mut state.chats.outbox {
                if item.status == OutboxStatus::Sending {
                    item.status = OutboxStatus::Pending;
                }
            }
            flush_outbox(state, fx);
            mark_read(state, fx);
        }
        SessionChange::Disconnected => {
            state.chats.composer.typing_on = false;
            for item in &mut state.chats.outbox {
                if item.status == OutboxStatus::Sending {
                    item.status = OutboxStatus::Pending;
                }
            }
            for e in state.chats.entries.values_mut() {
                e.customer_typing_until = None;
            }
        }
        SessionChange::Refreshed => reload_open_chat(state, fx),
        SessionChange::Resynced => {
            reload_open_chat(state, fx);
            // Other chats' cached history may have holes now: load again when opened.
            let open = state.chats.open_chat.clone();
            for e in state.chats.entries.values_mut() {
                if Some(&e.chat.id) != open.as_ref() {
                    e.history = History::NotLoaded;
                    e.messages.clear();
                }
            }
        }
        SessionChange::Closing => stop_typing(state, fx),
    }
}

fn reload_open_chat(state: &mut State, fx: &mut Vec<Effect>) {
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
}

/// The chat lists and canned responses, at sign-in and on every reload.
pub(super) fn load(fx: &mut Vec<Effect>) {
    use shared::model::ChatStatus;
    for status in [ChatStatus::Waiting, ChatStatus::Active, ChatStatus::Closed] {
        fx.push(ChatCmd::LoadList { status }.into());
    }
    fx.push(CannedCmd::Load.into());
}

pub(super) fn on_tick(state: &mut State, fx: &mut Vec<Effect>) {
    let now = state.now;
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
    // A send that timed out while the socket stayed up is retried here.
    if state.conn.is_online() {
        flush_outbox(state, fx);
    }
}
