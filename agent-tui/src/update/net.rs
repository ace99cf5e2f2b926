//! What the network reports, routed by domain: the connection and session, pushed
//! events, and each domain's replies to the module that owns that domain.

use shared::events::ServerEvent;

use super::views::{chats, notifications, tickets};
use super::{directory, flash, session};
use crate::effect::Effect;
use crate::msg::NetEvent;
use crate::state::{FlashLevel, State};

pub fn on_net(state: &mut State, ev: NetEvent, fx: &mut Vec<Effect>) {
    match ev {
        NetEvent::Conn(c) => session::on_conn(state, c, fx),
        NetEvent::Session(r) => session::on_reply(state, r, fx),
        NetEvent::Push(ev) => {
            let id = ev.event_id();
            apply_push(state, ev, fx);
            state.conn.last_event_id = state.conn.last_event_id.max(id);
        }
        NetEvent::Typing(t) => chats::on_typing(state, t),
        NetEvent::Chats(r) => chats::on_reply(state, r, fx),
        NetEvent::Directory(r) => directory::on_reply(state, r, fx),
        NetEvent::Canned(r) => chats::on_canned_reply(state, r, fx),
        NetEvent::Attachments(r) => chats::on_attachment_reply(state, r),
        NetEvent::Tickets(r) => tickets::on_reply(state, r, fx),
        NetEvent::Kb(r) => crate::update::views::kb::on_reply(state, r),
        NetEvent::Dashboard(r) => crate::update::views::dashboard::on_reply(state, r),
        NetEvent::Failed { what, error } => {
            flash(state, FlashLevel::Error, format!("{what}: {error}"));
        }
    }
}

/// Applies one pushed (or synced) event, in the domain it belongs to.
pub(super) fn apply_push(state: &mut State, ev: ServerEvent, fx: &mut Vec<Effect>) {
    crate::update::views::dashboard::on_push(state, &ev);
    match ev {
        ServerEvent::ChatCreated(_)
        | ServerEvent::ChatUpdated(_)
        | ServerEvent::MessageNew(_)
        | ServerEvent::MessageRead(_) => chats::on_push(state, ev, fx),
        ServerEvent::Presence(e) => directory::presence(state, e.agent),
        ServerEvent::CustomerUpdated(e) => directory::customer_changed(state, e.customer),
        ServerEvent::Notification(e) => notifications::on_push(state, e.notification, fx),
        ServerEvent::TicketCreated(_)
        | ServerEvent::TicketUpdated(_)
        | ServerEvent::TicketEntry(_) => tickets::on_push(state, ev, fx),
    }
}
