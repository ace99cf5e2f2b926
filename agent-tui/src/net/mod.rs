//! The network worker: one task owns the REST client and the socket, runs the
//! `NetCmd`s that `update` asks for, and reports back as `Msg`s. Everything it
//! reports has been through `sanitize::decode`.

pub mod files;
pub mod rest;
pub mod sanitize;
pub mod socket;

use std::path::PathBuf;

use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use shared::ApiError;
use shared::events::{self as ev, Ack, ServerEvent, SyncAck, TypingEvent};
use shared::model::{Agent, Chat, Customer, Message};
use tokio::sync::mpsc;

use crate::effect::NetCmd;
use crate::msg::{ChatOp, ConnEvent, Msg, NetEvent, SendError};
use crate::state::Session;
use rest::{Rest, RestError};
use sanitize::{Sanitize, decode};
use socket::{EmitError, Socket, SocketEvent};

/// The handle `app` uses to give the worker commands.
#[derive(Clone)]
pub struct Net {
    tx: mpsc::UnboundedSender<NetCmd>,
}

impl Net {
    pub fn spawn(out: mpsc::UnboundedSender<Msg>) -> Net {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(worker(rx, out));
        Net { tx }
    }

    pub fn send(&self, cmd: NetCmd) {
        let _ = self.tx.send(cmd);
    }
}

struct Worker {
    out: mpsc::UnboundedSender<Msg>,
    rest: Option<Rest>,
    socket: Option<Socket>,
    sock_tx: mpsc::UnboundedSender<SocketEvent>,
}

async fn worker(mut cmds: mpsc::UnboundedReceiver<NetCmd>, out: mpsc::UnboundedSender<Msg>) {
    let (sock_tx, mut sock_rx) = mpsc::unbounded_channel();
    let mut w = Worker {
        out,
        rest: None,
        socket: None,
        sock_tx,
    };
    loop {
        tokio::select! {
            cmd = cmds.recv() => match cmd {
                Some(c) => w.handle(c),
                None => break,
            },
            Some(e) = sock_rx.recv() => {
                if let Some(m) = socket_event(e) {
                    let _ = w.out.send(Msg::Net(m));
                }
            }
        }
    }
    if let Some(s) = w.socket.take() {
        s.stop();
    }
}

/// A socket event as the console sees it; pushes are decoded (and sanitised) here.
pub fn socket_event(e: SocketEvent) -> Option<NetEvent> {
    Some(match e {
        SocketEvent::Connecting { attempt } => NetEvent::Conn(ConnEvent::Connecting { attempt }),
        SocketEvent::Connected => NetEvent::Conn(ConnEvent::Connected),
        SocketEvent::Disconnected { reason, retry_in } => NetEvent::Conn(ConnEvent::Disconnected {
            reason,
            retry_in_ms: retry_in.map(|d| d.as_millis() as u64),
        }),
        SocketEvent::AuthRefused(why) => NetEvent::Conn(ConnEvent::AuthFailed(why)),
        SocketEvent::Rtt(d) => NetEvent::Rtt(d.as_millis().min(u32::MAX as u128) as u32),
        SocketEvent::Push { event, data } => return push_event(&event, data),
    })
}

/// Decodes one server push by name; unknown or malformed pushes are dropped.
pub fn push_event(event: &str, data: Value) -> Option<NetEvent> {
    match event {
        ev::TYPING => decode::<TypingEvent>(data).ok().map(NetEvent::Typing),
        ev::CHAT_CREATED
        | ev::CHAT_UPDATED
        | ev::MESSAGE_NEW
        | ev::MESSAGE_READ
        | ev::PRESENCE
        | ev::NOTIFICATION
        | ev::CUSTOMER_UPDATED => decode::<ServerEvent>(json!({"event": event, "data": data}))
            .ok()
            .map(NetEvent::Server),
        _ => None,
    }
}

/// An ack's payload: the data decoded and sanitised, or the server's refusal.
pub fn ack_result<T: DeserializeOwned + Sanitize>(
    r: Result<Value, EmitError>,
) -> Result<T, SendError> {
    let v = r.map_err(|e| SendError::Transient(e.to_string()))?;
    let ack: Ack<Value> = serde_json::from_value(v)
        .map_err(|e| SendError::Transient(format!("unexpected answer: {e}")))?;
    match ack.into_result() {
        Ok(data) => decode(data).map_err(SendError::Transient),
        Err(mut e) => {
            e.sanitize();
            Err(SendError::Refused(e))
        }
    }
}

fn rest_failed(what: &str, e: RestError) -> NetEvent {
    if e.is_unauthorized() {
        NetEvent::SessionExpired
    } else {
        NetEvent::Failed {
            what: what.to_owned(),
            error: e.message(),
        }
    }
}

impl Worker {
    fn emit(&self, m: NetEvent) {
        let _ = self.out.send(Msg::Net(m));
    }

    /// Runs a REST call in its own task so a slow answer never holds up the others.
    fn rest_task<F, Fut>(&self, f: F)
    where
        F: FnOnce(Rest) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = NetEvent> + Send + 'static,
    {
        let Some(rest) = self.rest.clone() else {
            return;
        };
        let out = self.out.clone();
        tokio::spawn(async move {
            let m = f(rest).await;
            let _ = out.send(Msg::Net(m));
        });
    }

    /// Queues an acked emit in order now; its answer is handled in a task.
    fn request<F>(&self, event: &str, data: Value, f: F)
    where
        F: FnOnce(Result<Value, EmitError>) -> Option<NetEvent> + Send + 'static,
    {
        let out = self.out.clone();
        let fut = self.socket.as_ref().map(|s| s.submit(event, data));
        tokio::spawn(async move {
            let r = match fut {
                Some(f) => f.await,
                None => Err(EmitError::Offline),
            };
            if let Some(m) = f(r) {
                let _ = out.send(Msg::Net(m));
            }
        });
    }

    fn chat_op(&self, op: ChatOp, event: &str, chat_id: String, data: Value) {
        self.request(event, data, move |r| {
            Some(match ack_result::<Chat>(r) {
                Ok(chat) => NetEvent::ChatActionDone { op, chat },
                Err(error) => NetEvent::ChatActionFailed { op, chat_id, error },
            })
        });
    }

    fn handle(&mut self, cmd: NetCmd) {
        match cmd {
            NetCmd::Login {
                server,
                email,
                password,
                remember,
            } => {
                let out = self.out.clone();
                tokio::spawn(async move {
                    let m = match Rest::new(&server) {
                        Err(e) => NetEvent::LoginFailed(e.message()),
                        Ok(rest) => match rest.login(&email, &password, remember).await {
                            Ok(a) => NetEvent::LoggedIn(Session {
                                server,
                                token: a.token,
                                agent: a.agent,
                                expires_at: a.expires_at,
                            }),
                            Err(e) => NetEvent::LoginFailed(e.message()),
                        },
                    };
                    let _ = out.send(Msg::Net(m));
                });
            }
            NetCmd::Connect { server, token } => {
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
            NetCmd::Logout => {
                if let Some(s) = self.socket.take() {
                    s.stop();
                }
                if let Some(rest) = self.rest.take() {
                    tokio::spawn(async move {
                        let _ = rest.logout().await;
                    });
                }
            }
            NetCmd::LoadChats { status } => self.rest_task(move |r| async move {
                match r.chats(status).await {
                    Ok(chats) => NetEvent::ChatsLoaded { status, chats },
                    Err(e) => rest_failed("loading chats", e),
                }
            }),
            NetCmd::LoadChat(id) => self.rest_task(move |r| async move {
                match r.chat(&id).await {
                    Ok(c) => NetEvent::ChatLoaded(c),
                    Err(e) => rest_failed("loading a chat", e),
                }
            }),
            NetCmd::LoadMessages {
                chat_id,
                before_seq,
            } => self.rest_task(move |r| async move {
                match r.messages(&chat_id, before_seq).await {
                    Ok(messages) => NetEvent::MessagesLoaded {
                        chat_id,
                        messages,
                        older: before_seq.is_some(),
                    },
                    Err(e) => rest_failed("messages", e),
                }
            }),
            NetCmd::LoadCustomer(id) => self.rest_task(move |r| async move {
                match r.customer(&id).await {
                    Ok(p) => NetEvent::CustomerLoaded(p),
                    Err(e) => rest_failed("loading the customer", e),
                }
            }),
            NetCmd::LoadAgents => self.rest_task(|r| async move {
                match r.agents().await {
                    Ok(a) => NetEvent::AgentsLoaded(a),
                    Err(e) => rest_failed("loading agents", e),
                }
            }),
            NetCmd::LoadDepartments => self.rest_task(|r| async move {
                match r.departments().await {
                    Ok(d) => NetEvent::DepartmentsLoaded(d),
                    Err(e) => rest_failed("loading departments", e),
                }
            }),
            NetCmd::Sync { since_event_id } => {
                self.request(ev::SYNC, json!({ "since_event_id": since_event_id }), |r| {
                    // A failed sync is retried after the reconnect that follows it.
                    ack_result::<SyncAck>(r).ok().map(NetEvent::Synced)
                });
            }
            NetCmd::Send(item) => {
                let id = item.client_msg_id.clone();
                let data = json!({
                    "chat_id": item.chat_id,
                    "client_msg_id": item.client_msg_id,
                    "body": item.body,
                    "kind": item.kind,
                    "attachment_ids": item.attachments.iter().map(|a| &a.id).collect::<Vec<_>>(),
                });
                self.request(ev::MESSAGE_SEND, data, move |r| {
                    Some(match ack_result::<Message>(r) {
                        Ok(message) => NetEvent::SendAcked {
                            client_msg_id: id,
                            message,
                        },
                        Err(error) => NetEvent::SendFailed {
                            client_msg_id: id,
                            error,
                        },
                    })
                });
            }
            NetCmd::Read { chat_id, seq } => {
                self.request(ev::MESSAGE_READ, json!({"chat_id": chat_id, "seq": seq}), |_| None);
            }
            NetCmd::Typing { chat_id, typing } => {
                if let Some(s) = &self.socket {
                    s.emit(ev::TYPING, json!({"chat_id": chat_id, "typing": typing}));
                }
            }
            NetCmd::Claim(id) => {
                self.chat_op(ChatOp::Claim, ev::CHAT_CLAIM, id.clone(), json!({"chat_id": id}))
            }
            NetCmd::Transfer {
                chat_id,
                to_agent_id,
                to_department_id,
            } => self.chat_op(
                ChatOp::Transfer,
                ev::CHAT_TRANSFER,
                chat_id.clone(),
                json!({"chat_id": chat_id, "to_agent_id": to_agent_id, "to_department_id": to_department_id}),
            ),
            NetCmd::Close {
                chat_id,
                resolution,
            } => self.chat_op(
                ChatOp::Close,
                ev::CHAT_CLOSE,
                chat_id.clone(),
                json!({"chat_id": chat_id, "resolution": resolution}),
            ),
            NetCmd::Reopen(id) => {
                self.chat_op(ChatOp::Reopen, ev::CHAT_REOPEN, id.clone(), json!({"chat_id": id}))
            }
            NetCmd::Tag {
                chat_id,
                add,
                remove,
            } => self.chat_op(
                ChatOp::Tag,
                ev::CHAT_TAG,
                chat_id.clone(),
                json!({"chat_id": chat_id, "add": add, "remove": remove}),
            ),
            NetCmd::Block {
                customer_id,
                blocked,
            } => self.request(
                ev::CUSTOMER_BLOCK,
                json!({"customer_id": customer_id, "blocked": blocked}),
                |r| {
                    Some(match ack_result::<Customer>(r) {
                        Ok(c) => NetEvent::CustomerBlocked(c),
                        Err(e) => NetEvent::Failed {
                            what: "block".into(),
                            error: send_error_text(&e),
                        },
                    })
                },
            ),
            NetCmd::Presence(status) => {
                self.request(ev::PRESENCE_SET, json!({ "status": status }), |r| {
                    Some(match ack_result::<Agent>(r) {
                        Ok(a) => NetEvent::PresenceSet(a),
                        Err(e) => NetEvent::Failed {
                            what: "status".into(),
                            error: send_error_text(&e),
                        },
                    })
                })
            }
            NetCmd::LoadCanned => self.rest_task(|r| async move {
                match r.canned().await {
                    Ok(list) => NetEvent::CannedLoaded(list),
                    Err(e) => rest_failed("loading canned responses", e),
                }
            }),
            NetCmd::CreateCanned(input) => self.rest_task(move |r| async move {
                match r.create_canned(&input).await {
                    Ok(c) => NetEvent::CannedCreated(c),
                    Err(e) => rest_failed("saving the canned response", e),
                }
            }),
            NetCmd::DeleteCanned { id, shortcut } => self.rest_task(move |r| async move {
                match r.delete_canned(&id).await {
                    Ok(()) => NetEvent::CannedDeleted { shortcut },
                    Err(e) => rest_failed("deleting the canned response", e),
                }
            }),
            NetCmd::Upload { chat_id, path } => {
                let Some(rest) = self.rest.clone() else {
                    self.emit(NetEvent::UploadFailed {
                        chat_id,
                        path,
                        error: "not connected to a server".into(),
                    });
                    return;
                };
                let out = self.out.clone();
                tokio::spawn(async move {
                    let m = upload(rest, chat_id, path).await;
                    let _ = out.send(Msg::Net(m));
                });
            }
            NetCmd::SaveAttachment { attachment, dir } => self.rest_task(move |r| async move {
                match r.download(&attachment.id).await {
                    Ok(bytes) => {
                        let name = attachment.name.clone();
                        let written = tokio::task::spawn_blocking(move || {
                            let dir = match dir {
                                Some(d) => files::expand_home(&d),
                                None => files::default_save_dir(),
                            };
                            files::save_unique(&dir, &name, &bytes)
                        })
                        .await;
                        match written {
                            Ok(Ok(p)) => NetEvent::AttachmentSaved {
                                name: attachment.name,
                                path: p.display().to_string(),
                            },
                            Ok(Err(e)) => NetEvent::Failed {
                                what: format!("saving {}", attachment.name),
                                error: e.to_string(),
                            },
                            Err(e) => NetEvent::Failed {
                                what: format!("saving {}", attachment.name),
                                error: e.to_string(),
                            },
                        }
                    }
                    Err(e) => rest_failed(&format!("downloading {}", attachment.name), e),
                }
            }),
            NetCmd::Export { chat_id, path } => self.rest_task(move |r| async move {
                match r.transcript(&chat_id).await {
                    Ok(text) => match write_export(&path, &text) {
                        Ok(p) => NetEvent::Exported {
                            path: p.display().to_string(),
                        },
                        Err(e) => NetEvent::Failed {
                            what: "export".into(),
                            error: e.to_string(),
                        },
                    },
                    Err(e) => rest_failed("export", e),
                }
            }),
        }
    }
}

/// Checks and reads the file off the async threads, then uploads it.
async fn upload(rest: Rest, chat_id: String, path: String) -> NetEvent {
    let typed = path.clone();
    let failed = |error: String| NetEvent::UploadFailed {
        chat_id: chat_id.clone(),
        path: path.clone(),
        error,
    };
    let file = match tokio::task::spawn_blocking(move || files::read_for_upload(&typed)).await {
        Ok(Ok(f)) => f,
        Ok(Err(e)) => return failed(e.to_string()),
        Err(e) => return failed(e.to_string()),
    };
    match rest.upload(&file.name, file.content_type, file.bytes).await {
        Ok(attachment) => NetEvent::Uploaded {
            chat_id,
            path,
            attachment,
        },
        Err(e) if e.is_unauthorized() => NetEvent::SessionExpired,
        Err(e) => failed(e.message()),
    }
}

fn send_error_text(e: &SendError) -> String {
    match e {
        SendError::Refused(ApiError { message, .. }) => message.clone(),
        SendError::Transient(t) => t.clone(),
    }
}

fn write_export(path: &str, text: &str) -> std::io::Result<PathBuf> {
    let p = PathBuf::from(path);
    let p = if p.is_absolute() {
        p
    } else {
        std::env::current_dir()?.join(p)
    };
    std::fs::write(&p, text)?;
    Ok(p)
}
