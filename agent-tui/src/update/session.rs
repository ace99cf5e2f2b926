//! The session and the connection: signing in, the server ending the session, the
//! socket coming and going, and resuming the event stream (`sync`).

use shared::events::SyncAck;
use time::Duration;

use super::{flash, load_all, net, shown};
use crate::effect::{Effect, SessionCmd};
use crate::msg::{ConnEvent, SessionReply};
use crate::state::{ConnState, FlashLevel, LoginField, Mode, State, ViewId};
use crate::views::{self, SessionChange};

pub(super) fn on_reply(state: &mut State, r: SessionReply, fx: &mut Vec<Effect>) {
    match r {
        SessionReply::LoggedIn(session) => {
            state.server_url = session.server.clone();
            state.login.busy = false;
            state.login.error = None;
            state.login.password.clear();
            state.login.field = LoginField::Email;
            for v in views::all() {
                let change = SessionChange::SignedIn {
                    agent_id: &session.agent.id,
                };
                v.on_session(state, change, fx);
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
            state.view = ViewId::Chats;
            load_all(state, fx);
            flash(state, FlashLevel::Info, format!("Signed in as {name}"));
        }
        SessionReply::LoginFailed(msg) => {
            state.login.busy = false;
            state.login.error = Some(shown(&msg));
            state.flash = None;
        }
        SessionReply::Expired => session_over(state, "the server ended the session", fx),
        SessionReply::Synced(ack) => synced(state, ack, fx),
    }
}

pub(super) fn on_conn(state: &mut State, c: ConnEvent, fx: &mut Vec<Effect>) {
    match c {
        ConnEvent::Connecting { attempt } => {
            state.conn.state = ConnState::Connecting { attempt };
        }
        ConnEvent::Connected => {
            state.conn.state = ConnState::Connected;
            // Resume the event stream first; the views then send what waited (the
            // socket keeps acked emits in order).
            fx.push(
                SessionCmd::Sync {
                    since_event_id: state.conn.last_event_id,
                }
                .into(),
            );
            for v in views::all() {
                v.on_session(state, SessionChange::Connected, fx);
            }
        }
        ConnEvent::Disconnected {
            reason,
            retry_in_ms,
        } => {
            state.conn.state = ConnState::Offline {
                reason: shown(&reason),
                retry_at: retry_in_ms.map(|ms| state.now + Duration::milliseconds(ms as i64)),
            };
            state.conn.rtt_ms = None;
            for v in views::all() {
                v.on_session(state, SessionChange::Disconnected, fx);
            }
        }
        ConnEvent::AuthFailed(why) => session_over(state, &why, fx),
        ConnEvent::Rtt(ms) => state.conn.rtt_ms = Some(ms),
    }
}

fn session_over(state: &mut State, why: &str, fx: &mut Vec<Effect>) {
    let why = shown(why);
    for v in views::all() {
        v.on_session(state, SessionChange::SignedOut, fx);
    }
    state.conn.state = ConnState::AuthFailed(why.clone());
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

fn synced(state: &mut State, ack: SyncAck, fx: &mut Vec<Effect>) {
    match ack {
        SyncAck::Events {
            events,
            latest_event_id,
        } if state.conn.has_baseline => {
            for ev in events {
                let id = ev.event_id();
                net::apply_push(state, ev, fx);
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
            load_all(state, fx);
            for v in views::all() {
                v.on_session(state, SessionChange::Resynced, fx);
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
