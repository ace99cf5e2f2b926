//! What the network reports: connection changes, loaded lists, pushed events, sync,
//! acks of sends and chat actions.

use shared::ErrorCode;
use shared::events::{ServerEvent, SyncAck};
use shared::model::{AuthorKind, Chat, ChatStatus, Message};
use time::Duration;

use super::{
    CUSTOMER_TYPING_TTL, flash, flush_outbox, load_all, mark_read, open_chat, save_outbox,
    stop_typing,
};
use crate::effect::{ChatCmd, Effect, SessionCmd};
use crate::msg::{
    AttachmentReply, CannedReply, ChatOp, ChatReply, ConnEvent, DirectoryReply, NetEvent,
    SendError, SessionReply,
};
use crate::net::files::file_size;
use crate::state::{
    ChatEntry, ConnState, FlashLevel, History, LoginField, Mode, OutboxStatus, Pane, State,
};

pub fn on_net(state: &mut State, ev: NetEvent, fx: &mut Vec<Effect>) {
    match ev {
        NetEvent::Session(SessionReply::LoggedIn(session)) => {
            state.server_url = session.server.clone();
            state.login.busy = false;
            state.login.error = None;
            state.login.password.clear();
            state.login.field = LoginField::Email;
            // A different agent on this machine must not send someone else's outbox.
            let other_agent = state
                .chats
                .outbox_agent
                .as_ref()
                .is_some_and(|id| *id != session.agent.id);
            state.chats.outbox_agent = Some(session.agent.id.clone());
            if other_agent && !state.chats.outbox.is_empty() {
                state.chats.outbox.clear();
                save_outbox(state, fx);
            }
            if other_agent {
                // Uploads can only be sent by their uploader.
                state.chats.composer.staged.clear();
            }
            if state.login.remember {
                fx.push(Effect::SaveSession(session.clone()));
            }
            fx.push(
                SessionCmd::Connect {
                    server: session.server.clone(),
                    token: session.token.clone(),
                }
                .into(),
            );
            let name = session.agent.name.clone();
            state.session = Some(session);
            state.mode = Mode::Normal;
            state.chats.focus = Pane::Queue;
            load_all(fx);
            flash(state, FlashLevel::Info, format!("Signed in as {name}"));
        }
        NetEvent::Session(SessionReply::LoginFailed(msg)) => {
            state.login.busy = false;
            state.login.error = Some(msg);
            state.flash = None;
        }
        NetEvent::Conn(c) => on_conn(state, c, fx),
        NetEvent::Session(SessionReply::Expired) => {
            session_over(state, "the server ended the session", fx)
        }
        NetEvent::Chats(ChatReply::ListLoaded { status, chats }) => {
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
        NetEvent::Chats(ChatReply::Loaded(chat)) => {
            let id = chat.id.clone();
            upsert_chat(state, chat, fx);
            if state.chats.open_chat.as_ref() == Some(&id) {
                open_chat(state, &id, fx);
            }
        }
        NetEvent::Chats(ChatReply::MessagesLoaded {
            chat_id,
            messages,
            older,
        }) => messages_loaded(state, chat_id, messages, older, fx),
        NetEvent::Directory(DirectoryReply::CustomerLoaded(p)) => {
            state.directory.customers.insert(p.customer.id.clone(), p);
        }
        NetEvent::Directory(DirectoryReply::AgentsLoaded(agents)) => {
            if let Some(s) = &mut state.session
                && let Some(me) = agents.iter().find(|a| a.id == s.agent.id)
            {
                s.agent = me.clone();
            }
            state.directory.agents = agents;
            // The open transfer picker shows fresh status and load.
            if let Some(p) = &state.picker
                && let crate::state::PickerKind::Transfer { chat_id } = &p.kind
            {
                let (chat_id, query, sel) = (chat_id.clone(), p.query.clone(), p.selected);
                let mut ignored = Vec::new();
                super::open_transfer_picker(state, chat_id, &query, &mut ignored);
                if let Some(p) = &mut state.picker {
                    p.selected = sel;
                }
            }
        }
        NetEvent::Directory(DirectoryReply::DepartmentsLoaded(d)) => {
            state.directory.departments = d
        }
        NetEvent::Push(ev) => {
            let id = ev.event_id();
            apply_event(state, ev, fx);
            state.conn.last_event_id = state.conn.last_event_id.max(id);
        }
        NetEvent::Typing(t) => {
            if t.author.kind == AuthorKind::Customer
                && let Some(e) = state.chats.entries.get_mut(&t.chat_id)
            {
                e.customer_typing_until = t.typing.then(|| state.now + CUSTOMER_TYPING_TTL);
            }
        }
        NetEvent::Session(SessionReply::Synced(ack)) => synced(state, ack, fx),
        NetEvent::Chats(ChatReply::SendAcked {
            client_msg_id,
            message,
        }) => {
            state
                .chats
                .outbox
                .retain(|o| o.client_msg_id != client_msg_id);
            add_message(state, message, fx);
            save_outbox(state, fx);
        }
        NetEvent::Chats(ChatReply::SendFailed {
            client_msg_id,
            error,
        }) => {
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
                        reason: e.message.clone(),
                    };
                    flash(state, FlashLevel::Error, format!("Not sent: {}", e.message));
                    save_outbox(state, fx);
                }
                SendError::Transient(_) => item.status = OutboxStatus::Pending,
            }
        }
        NetEvent::Chats(ChatReply::ActionDone { op, chat }) => {
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
        NetEvent::Chats(ChatReply::ActionFailed { op, chat_id, error }) => {
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
        NetEvent::Directory(DirectoryReply::PresenceSet(agent)) => {
            let status = agent.status;
            if let Some(s) = &mut state.session {
                s.agent = agent.clone();
            }
            if let Some(a) = state.directory.agents.iter_mut().find(|a| a.id == agent.id) {
                *a = agent;
            }
            flash(
                state,
                FlashLevel::Info,
                format!("Your status: {}", status.as_str().replace('_', " ")),
            );
        }
        NetEvent::Directory(DirectoryReply::CustomerBlocked(c)) => {
            let text = if c.blocked {
                format!("{} is blocked", c.name)
            } else {
                format!("{} is unblocked", c.name)
            };
            update_customer(state, c);
            flash(state, FlashLevel::Info, text);
        }
        NetEvent::Chats(ChatReply::Exported { path }) => {
            flash(
                state,
                FlashLevel::Info,
                format!("Transcript saved to {path}"),
            );
        }
        ev @ (NetEvent::Canned(CannedReply::Loaded(_))
        | NetEvent::Canned(CannedReply::Created(_))
        | NetEvent::Canned(CannedReply::Deleted { .. })) => super::canned::on_net(state, ev, fx),
        NetEvent::Attachments(AttachmentReply::Uploaded {
            chat_id,
            path,
            attachment,
        }) => {
            upload_done(state, &chat_id, &path);
            let text = format!(
                "Attached {} ({}): it goes with the next reply or note · :detach removes it",
                attachment.name,
                file_size(attachment.size)
            );
            state
                .chats
                .composer
                .staged
                .entry(chat_id)
                .or_default()
                .push(attachment);
            flash(state, FlashLevel::Info, text);
        }
        NetEvent::Attachments(AttachmentReply::UploadFailed {
            chat_id,
            path,
            error,
        }) => {
            upload_done(state, &chat_id, &path);
            flash(state, FlashLevel::Error, format!("Not attached: {error}"));
        }
        NetEvent::Attachments(AttachmentReply::Saved { name, path }) => {
            flash(state, FlashLevel::Info, format!("Saved {name} to {path}"));
        }
        NetEvent::Failed { what, error } => {
            if let Some(id) = state.chats.open_chat.clone()
                && let Some(e) = state.chats.entries.get_mut(&id)
                && e.history == History::Loading
                && what.starts_with("messages")
            {
                e.history = History::NotLoaded;
            }
            flash(state, FlashLevel::Error, format!("{what}: {error}"));
        }
    }
}

/// Forgets one upload under way (the first of that path for that chat).
fn upload_done(state: &mut State, chat_id: &str, path: &str) {
    if let Some(i) = state
        .chats
        .composer
        .uploading
        .iter()
        .position(|(c, p)| c == chat_id && p == path)
    {
        state.chats.composer.uploading.remove(i);
    }
}

fn session_over(state: &mut State, why: &str, fx: &mut Vec<Effect>) {
    stop_typing(state, fx);
    state.chats.composer.uploading.clear();
    state.conn.state = ConnState::AuthFailed(why.to_owned());
    state.conn.rtt_ms = None;
    if let Some(s) = state.session.take() {
        state.login.email = s.agent.email;
        state.login.server = s.server;
    }
    state.login.error = Some(format!(
        "Signed out: {why}. Sign in again; unsent messages are kept."
    ));
    state.login.busy = false;
    state.login.field = LoginField::Password;
    state.mode = Mode::Login;
    state.picker = None;
    fx.push(Effect::ClearSession);
}

fn on_conn(state: &mut State, c: ConnEvent, fx: &mut Vec<Effect>) {
    match c {
        ConnEvent::Connecting { attempt } => {
            state.conn.state = ConnState::Connecting { attempt };
        }
        ConnEvent::Connected => {
            state.conn.state = ConnState::Connected;
            // Resume the event stream first, then send what waited in the outbox: the
            // socket keeps acked emits in order.
            fx.push(
                SessionCmd::Sync {
                    since_event_id: state.conn.last_event_id,
                }
                .into(),
            );
            for item in &mut state.chats.outbox {
                if item.status == OutboxStatus::Sending {
                    item.status = OutboxStatus::Pending;
                }
            }
            flush_outbox(state, fx);
            mark_read(state, fx);
        }
        ConnEvent::Disconnected {
            reason,
            retry_in_ms,
        } => {
            state.conn.state = ConnState::Offline {
                reason,
                retry_at: retry_in_ms.map(|ms| state.now + Duration::milliseconds(ms as i64)),
            };
            state.conn.rtt_ms = None;
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
        ConnEvent::AuthFailed(why) => session_over(state, &why, fx),
        ConnEvent::Rtt(ms) => state.conn.rtt_ms = Some(ms),
    }
}

fn synced(state: &mut State, ack: SyncAck, fx: &mut Vec<Effect>) {
    match ack {
        SyncAck::Events {
            events,
            latest_event_id,
        } if state.conn.has_baseline => {
            for ev in events {
                let id = ev.event_id();
                apply_event(state, ev, fx);
                state.conn.last_event_id = state.conn.last_event_id.max(id);
            }
            state.conn.last_event_id = state.conn.last_event_id.max(latest_event_id);
        }
        SyncAck::Events {
            latest_event_id, ..
        }
        | SyncAck::Resync {
            latest_event_id, ..
        } => {
            // No baseline yet, or too much was missed: the lists are reloaded over REST
            // and the event stream continues from the server's latest id.
            let had_baseline = state.conn.has_baseline;
            state.conn.last_event_id = latest_event_id;
            state.conn.has_baseline = true;
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
            // Other chats' cached history may have holes now: load again when opened.
            let open = state.chats.open_chat.clone();
            for e in state.chats.entries.values_mut() {
                if Some(&e.chat.id) != open.as_ref() {
                    e.history = History::NotLoaded;
                    e.messages.clear();
                }
            }
            if had_baseline {
                flash(
                    state,
                    FlashLevel::Info,
                    "Reloaded: too much happened while offline",
                );
            }
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

fn update_customer(state: &mut State, c: shared::model::Customer) {
    for e in state.chats.entries.values_mut() {
        if e.chat.customer.id == c.id {
            e.chat.customer = c.clone();
        }
    }
    if let Some(p) = state.directory.customers.get_mut(&c.id) {
        p.customer = c;
    }
}

/// Applies one pushed (or synced) event.
fn apply_event(state: &mut State, ev: ServerEvent, fx: &mut Vec<Effect>) {
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
        ServerEvent::Presence(e) => {
            if let Some(s) = &mut state.session
                && s.agent.id == e.agent.id
            {
                s.agent = e.agent.clone();
            }
            match state
                .directory
                .agents
                .iter_mut()
                .find(|a| a.id == e.agent.id)
            {
                Some(a) => *a = e.agent,
                None => state.directory.agents.push(e.agent),
            }
        }
        ServerEvent::Notification(e) => {
            let n = e.notification;
            fx.push(Effect::Bell);
            fx.push(Effect::Notify {
                title: n.title.clone(),
                body: n.body.clone(),
            });
            state.notifications.push(n, state.now);
        }
        ServerEvent::CustomerUpdated(e) => update_customer(state, e.customer),
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
