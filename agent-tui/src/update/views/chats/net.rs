//! What the network tells the Chats view: chat lists and history loaded, sends and
//! chat actions acknowledged or refused, and the pushed chat and message events.

use shared::ErrorCode;
use shared::events::{ServerEvent, TypingEvent};
use shared::model::{AuthorKind, Chat, ChatStatus, Customer, Message};

use super::compose::{mark_read, open_chat, save_outbox};
use crate::effect::{ChatCmd, Effect};
use crate::msg::{ChatOp, ChatReply, SendError};
use crate::state::{ChatEntry, FlashLevel, History, OutboxStatus, Pane, State};
use crate::update::{CUSTOMER_TYPING_TTL, flash, shown};

pub(crate) fn on_reply(state: &mut State, r: ChatReply, fx: &mut Vec<Effect>) {
    match r {
        ChatReply::ListLoaded { status, chats } => {
            let listed: std::collections::HashSet<String> =
                chats.iter().map(|c| c.id.clone()).collect();
            for c in chats {
                upsert_chat(state, c, fx);
            }
            // A chat the list no longer has changed while we were not looking: for the
            // queue, it was taken or closed; for our own, it was transferred away.
            let me = state.my_id().map(str::to_owned);
            let stale: Vec<String> = state
                .chats
                .entries
                .values()
                .filter(|e| !listed.contains(&e.chat.id) && e.chat.status == status)
                .filter(|e| match status {
                    ChatStatus::Waiting => true,
                    ChatStatus::Active => e.chat.assignee_id == me,
                    ChatStatus::Closed => false,
                })
                .map(|e| e.chat.id.clone())
                .collect();
            for id in stale {
                fx.push(ChatCmd::Load(id).into());
            }
        }
        ChatReply::Loaded(chat) => {
            let id = chat.id.clone();
            upsert_chat(state, chat, fx);
            if state.chats.open_chat.as_ref() == Some(&id) {
                open_chat(state, &id, fx);
            }
        }
        ChatReply::MessagesLoaded {
            chat_id,
            messages,
            older,
        } => messages_loaded(state, chat_id, messages, older, fx),
        ChatReply::MessagesFailed { chat_id, error } => {
            // The open chat's history can be asked for again (scrolling, reopening).
            if state.chats.open_chat.as_ref() == Some(&chat_id)
                && let Some(e) = state.chats.entries.get_mut(&chat_id)
                && e.history == History::Loading
            {
                e.history = History::NotLoaded;
            }
            flash(state, FlashLevel::Error, format!("messages: {error}"));
        }
        ChatReply::SendAcked {
            client_msg_id,
            message,
        } => {
            state
                .chats
                .outbox
                .retain(|o| o.client_msg_id != client_msg_id);
            add_message(state, message, fx);
            save_outbox(state, fx);
        }
        ChatReply::SendFailed {
            client_msg_id,
            error,
        } => {
            let Some(item) = state
                .chats
                .outbox
                .iter_mut()
                .find(|o| o.client_msg_id == client_msg_id)
            else {
                return;
            };
            match error {
                SendError::Refused(e) => {
                    item.status = OutboxStatus::Failed {
                        reason: shown(&e.message),
                    };
                    flash(state, FlashLevel::Error, format!("Not sent: {}", e.message));
                    save_outbox(state, fx);
                }
                SendError::Transient(_) => item.status = OutboxStatus::Pending,
            }
        }
        ChatReply::ActionDone { op, chat } => {
            let id = chat.id.clone();
            let name = chat.customer.name.clone();
            upsert_chat(state, chat, fx);
            let text = match op {
                ChatOp::Claim => {
                    open_chat(state, &id, fx);
                    state.chats.focus = Pane::Chat;
                    format!("You have {name}'s chat — i to reply")
                }
                ChatOp::Transfer => format!("{name}'s chat transferred"),
                ChatOp::Close => format!("{name}'s chat closed"),
                ChatOp::Reopen => format!("{name}'s chat reopened"),
                ChatOp::Tag => "Tags updated".to_owned(),
            };
            flash(state, FlashLevel::Info, text);
        }
        ChatReply::ActionFailed { op, chat_id, error } => {
            let text = match (&error, op) {
                (SendError::Refused(e), ChatOp::Claim) if e.code == ErrorCode::Conflict => {
                    // Someone was faster: show who has it now.
                    fx.push(ChatCmd::Load(chat_id).into());
                    "Another agent claimed this chat first".to_owned()
                }
                (SendError::Refused(e), _) => format!("Could not {}: {}", op.verb(), e.message),
                (SendError::Transient(why), _) => {
                    format!("Could not {}: {why} — try again when online", op.verb())
                }
            };
            flash(state, FlashLevel::Error, text);
        }
        ChatReply::Exported { path } => {
            flash(
                state,
                FlashLevel::Info,
                format!("Transcript saved to {path}"),
            );
        }
    }
}

/// A pushed (or synced) chat or message event.
pub(crate) fn on_push(state: &mut State, ev: ServerEvent, fx: &mut Vec<Effect>) {
    match ev {
        ServerEvent::ChatCreated(e) => {
            let new_waiting = e.chat.status == ChatStatus::Waiting
                && !state.chats.entries.contains_key(&e.chat.id);
            let name = e.chat.customer.name.clone();
            upsert_chat(state, e.chat, fx);
            if new_waiting {
                fx.push(Effect::Bell);
                fx.push(Effect::Notify {
                    title: "New chat waiting".into(),
                    body: name,
                });
            }
        }
        ServerEvent::ChatUpdated(e) => upsert_chat(state, e.chat, fx),
        ServerEvent::MessageNew(e) => add_message(state, e.message, fx),
        ServerEvent::MessageRead(e) => {
            if let Some(entry) = state.chats.entries.get_mut(&e.chat_id) {
                match e.reader.kind {
                    AuthorKind::Customer => {
                        entry.chat.customer_read_seq = entry.chat.customer_read_seq.max(e.seq);
                    }
                    AuthorKind::Agent => {
                        entry.chat.agent_read_seq = entry.chat.agent_read_seq.max(e.seq);
                        if Some(e.reader.id.as_str())
                            == state.session.as_ref().map(|s| s.agent.id.as_str())
                            && e.seq >= entry.last_seq()
                        {
                            entry.chat.unread_count = 0;
                        }
                    }
                    AuthorKind::System => {}
                }
            }
        }
        // Other domains' events are routed elsewhere.
        _ => {}
    }
}

/// The visitor is typing (or stopped); the indicator expires on its own.
pub(crate) fn on_typing(state: &mut State, t: TypingEvent) {
    if t.author.kind == AuthorKind::Customer
        && let Some(e) = state.chats.entries.get_mut(&t.chat_id)
    {
        e.customer_typing_until = t.typing.then(|| state.now + CUSTOMER_TYPING_TTL);
    }
}

/// A customer changed (blocked, renamed): every chat of theirs shows it.
pub(crate) fn on_customer(state: &mut State, c: &Customer) {
    for e in state.chats.entries.values_mut() {
        if e.chat.customer.id == c.id {
            e.chat.customer = c.clone();
        }
    }
}

/// Inserts or refreshes a chat, keeping the messages already loaded.
fn upsert_chat(state: &mut State, chat: Chat, fx: &mut Vec<Effect>) {
    let me = state.my_id().map(str::to_owned);
    let id = chat.id.clone();
    update_customer_only(state, &chat);
    match state.chats.entries.get_mut(&id) {
        Some(e) => {
            let was_mine = e.chat.assignee_id.is_some() && e.chat.assignee_id == me;
            let was_waiting = e.chat.status == ChatStatus::Waiting;
            let now_mine = chat.status == ChatStatus::Active
                && chat.assignee_id.is_some()
                && chat.assignee_id == me;
            if chat.status == ChatStatus::Waiting && !was_waiting {
                e.waiting_since = chat.last_message_at;
            }
            // A chat snapshot may be older than messages already pushed.
            let local_seq = e.messages.keys().next_back().copied().unwrap_or(0);
            let mut chat = chat;
            if local_seq > chat.last_seq {
                chat.last_seq = local_seq;
                chat.last_message = e.chat.last_message.take().or(chat.last_message);
            }
            chat.customer_read_seq = chat.customer_read_seq.max(e.chat.customer_read_seq);
            e.chat = chat;
            if now_mine && !was_mine {
                let name = e.chat.customer.name.clone();
                flash(
                    state,
                    FlashLevel::Info,
                    format!("{name}'s chat is now yours"),
                );
                fx.push(Effect::Bell);
            }
        }
        None => {
            state.chats.entries.insert(id.clone(), ChatEntry::new(chat));
        }
    }
    if state.chats.open_chat.as_ref() == Some(&id) {
        mark_read(state, fx);
    }
}

fn update_customer_only(state: &mut State, chat: &Chat) {
    if let Some(p) = state.directory.customers.get_mut(&chat.customer.id) {
        p.customer = chat.customer.clone();
    }
}

/// A new message (pushed, synced or acked): stored in order, the gap check, unread
/// counts, the outbox reconciled, the open chat marked read.
fn add_message(state: &mut State, m: Message, fx: &mut Vec<Effect>) {
    let me = state.my_id().map(str::to_owned);
    let is_open = state.chats.open_chat.as_ref() == Some(&m.chat_id);
    if !state.chats.entries.contains_key(&m.chat_id) {
        // A chat this console has not seen (e.g. just transferred here).
        fx.push(ChatCmd::Load(m.chat_id.clone()).into());
        return;
    }
    // The ack and the push of the same message both arrive: the outbox item goes once.
    let before = state.chats.outbox.len();
    state
        .chats
        .outbox
        .retain(|o| o.client_msg_id != m.client_msg_id);
    if state.chats.outbox.len() != before {
        save_outbox(state, fx);
    }
    let Some(e) = state.chats.entries.get_mut(&m.chat_id) else {
        return;
    };
    let known = e.messages.contains_key(&m.seq);
    let newer_than_snapshot = m.seq > e.chat.last_seq;
    if let History::Loaded { .. } = e.history {
        let local_max = e.messages.keys().next_back().copied().unwrap_or(0);
        if local_max > 0 && m.seq > local_max + 1 {
            // A hole in the sequence: something was missed, fetch the latest page.
            e.history = History::Loading;
            fx.push(
                ChatCmd::LoadMessages {
                    chat_id: m.chat_id.clone(),
                    before_seq: None,
                }
                .into(),
            );
        }
    }
    if !matches!(e.history, History::NotLoaded) {
        e.messages.insert(m.seq, m.clone());
    }
    if known {
        return;
    }
    if newer_than_snapshot {
        e.chat.last_seq = m.seq;
        e.chat.last_message_at = m.created_at;
        e.chat.last_message = Some(m.clone());
    }
    let from_customer = m.author.kind == AuthorKind::Customer;
    if from_customer {
        e.customer_typing_until = None;
        if newer_than_snapshot && !is_open {
            e.chat.unread_count += 1;
        }
    }
    let mine = e.chat.assignee_id.is_some() && e.chat.assignee_id == me;
    let name = e.chat.customer.name.clone();
    if is_open {
        if state.chats.chat_scroll.from_bottom > 0 {
            state.chats.chat_scroll.unseen += 1;
        }
        mark_read(state, fx);
    }
    if from_customer && mine && newer_than_snapshot && (!is_open || state.chats.focus != Pane::Chat)
    {
        fx.push(Effect::Bell);
        fx.push(Effect::Notify {
            title: format!("{name} wrote"),
            body: m.body.chars().take(120).collect(),
        });
    }
}

fn messages_loaded(
    state: &mut State,
    chat_id: String,
    messages: Vec<Message>,
    older: bool,
    fx: &mut Vec<Effect>,
) {
    let ids: std::collections::HashSet<&str> =
        messages.iter().map(|m| m.client_msg_id.as_str()).collect();
    let before = state.chats.outbox.len();
    state
        .chats
        .outbox
        .retain(|o| o.is_failed() || !ids.contains(o.client_msg_id.as_str()));
    if state.chats.outbox.len() != before {
        save_outbox(state, fx);
    }
    let Some(e) = state.chats.entries.get_mut(&chat_id) else {
        return;
    };
    let min_new = messages.iter().map(|m| m.seq).min();
    let max_new = messages.iter().map(|m| m.seq).max();
    let local_max = e.messages.keys().next_back().copied().unwrap_or(0);
    // The newest page does not join what we had: drop the old part, the rest loads
    // again when the agent scrolls up.
    if !older
        && let Some(min_new) = min_new
        && local_max > 0
        && min_new > local_max + 1
    {
        e.messages.clear();
    }
    for m in messages {
        e.messages.insert(m.seq, m);
    }
    let first = e.messages.keys().next().copied();
    e.history = History::Loaded {
        complete: first.is_none_or(|s| s <= 1),
    };
    if let Some(max) = max_new
        && max > e.chat.last_seq
    {
        e.chat.last_seq = max;
        e.chat.last_message = e.messages.get(&max).cloned();
    }
    if state.chats.open_chat.as_ref() == Some(&chat_id) {
        mark_read(state, fx);
    }
}
