//! The network worker: one task owns the REST client and the socket, runs the
//! `NetCmd`s that `update` asks for, and reports back as `Msg`s. Everything it
//! reports has been through `sanitize::decode`.

pub mod attachments;
pub mod canned;
pub mod chats;
pub mod dashboard;
pub mod directory;
pub mod files;
pub mod kb;
pub mod rest;
pub mod sanitize;
pub mod session;
pub mod socket;
pub mod tickets;
pub mod transcript;

use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use shared::ApiError;
use shared::events::{self as ev, Ack, ServerEvent, TypingEvent};
use tokio::sync::mpsc;

use crate::effect::NetCmd;
use crate::msg::{ConnEvent, Msg, NetEvent, SendError};
use rest::{Rest, RestError};
use sanitize::{Sanitize, clean_error, decode};
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
        SocketEvent::Rtt(d) => {
            NetEvent::Conn(ConnEvent::Rtt(d.as_millis().min(u32::MAX as u128) as u32))
        }
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
        | ev::CUSTOMER_UPDATED
        | ev::TICKET_CREATED
        | ev::TICKET_UPDATED
        | ev::TICKET_ENTRY => decode::<ServerEvent>(json!({"event": event, "data": data}))
            .ok()
            .map(NetEvent::Push),
        _ => None,
    }
}

/// An ack's payload: the data decoded and sanitised, or the server's refusal.
pub fn ack_result<T: DeserializeOwned + Sanitize>(
    r: Result<Value, EmitError>,
) -> Result<T, SendError> {
    let v = r.map_err(|e| SendError::Transient(clean_error(&e.to_string())))?;
    let ack: Ack<Value> = serde_json::from_value(v)
        .map_err(|e| SendError::Transient(clean_error(&format!("unexpected answer: {e}"))))?;
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
        session::SessionReply::Expired.into()
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

    /// Runs one command; each domain's commands are run by its own module.
    fn handle(&mut self, cmd: NetCmd) {
        match cmd {
            NetCmd::Session(c) => self.session(c),
            NetCmd::Chats(c) => self.chats(c),
            NetCmd::Directory(c) => self.directory(c),
            NetCmd::Canned(c) => self.canned(c),
            NetCmd::Kb(c) => self.kb(c),
            NetCmd::Dashboard(c) => self.dashboard(c),
            NetCmd::Attachments(c) => self.attachments(c),
            NetCmd::Tickets(c) => self.tickets(c),
        }
    }
}

fn send_error_text(e: &SendError) -> String {
    match e {
        SendError::Refused(ApiError { message, .. }) => clean_error(message),
        SendError::Transient(t) => clean_error(t),
    }
}
