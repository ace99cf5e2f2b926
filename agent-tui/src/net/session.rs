//! Session commands (sign in, connect, sign out, resume the event stream) and their
//! results, and how the worker runs them.

use serde_json::json;
use shared::events::{self as ev, SyncAck};

use super::rest::Rest;
use super::socket::Socket;
use super::{Worker, ack_result};
use crate::msg::{Msg, NetEvent};
use crate::state::Session;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionCmd {
    Login {
        server: String,
        email: String,
        password: String,
        remember: bool,
    },
    /// Start (or restart with a new token) the socket and REST client.
    Connect {
        server: String,
        token: String,
    },
    Logout,
    /// Ask for the events missed since `since_event_id`.
    Sync {
        since_event_id: i64,
    },
}

#[derive(Debug, Clone)]
pub enum SessionReply {
    LoggedIn(Session),
    LoginFailed(String),
    Synced(SyncAck),
    /// A REST call answered 401: the session is over.
    Expired,
}

impl From<SessionReply> for NetEvent {
    fn from(r: SessionReply) -> NetEvent {
        NetEvent::Session(r)
    }
}

impl Worker {
    pub(super) fn session(&mut self, cmd: SessionCmd) {
        match cmd {
            SessionCmd::Login {
                server,
                email,
                password,
                remember,
            } => {
                let out = self.out.clone();
                tokio::spawn(async move {
                    let r = match Rest::new(&server) {
                        Err(e) => SessionReply::LoginFailed(e.message()),
                        Ok(rest) => match rest.login(&email, &password, remember).await {
                            Ok(a) => SessionReply::LoggedIn(Session {
                                server,
                                token: a.token,
                                agent: a.agent,
                                expires_at: a.expires_at,
                            }),
                            Err(e) => SessionReply::LoginFailed(e.message()),
                        },
                    };
                    let _ = out.send(Msg::Net(r.into()));
                });
            }
            SessionCmd::Connect { server, token } => {
                if let Some(s) = self.socket.take() {
                    s.stop();
                }
                match Rest::new(&server) {
                    Ok(r) => self.rest = Some(r.with_token(token.clone())),
                    Err(e) => {
                        self.emit(NetEvent::Failed {
                            what: "starting".into(),
                            error: e.message(),
                        });
                        return;
                    }
                }
                self.socket = Some(Socket::start(
                    server,
                    ev::AGENT_NS.to_owned(),
                    json!({ "token": token }),
                    self.sock_tx.clone(),
                ));
            }
            SessionCmd::Logout => {
                if let Some(s) = self.socket.take() {
                    s.stop();
                }
                if let Some(rest) = self.rest.take() {
                    tokio::spawn(async move {
                        let _ = rest.logout().await;
                    });
                }
            }
            SessionCmd::Sync { since_event_id } => {
                self.request(ev::SYNC, json!({ "since_event_id": since_event_id }), |r| {
                    // A failed sync is retried after the reconnect that follows it.
                    ack_result::<SyncAck>(r)
                        .ok()
                        .map(|a| SessionReply::Synced(a).into())
                });
            }
        }
    }
}
