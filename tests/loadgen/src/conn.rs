//! One Socket.IO client socket over a plain WebSocket: the namespace handshake, then a
//! task per socket that answers heartbeats, sends what the run asks for, and records
//! acks and deliveries in the run's tracker and histograms.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use shared::ApiError;
use shared::events::{MESSAGE_NEW, MESSAGE_SEND};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{WebSocketStream, client_async_with_config};

use crate::sio::{self, AckStatus, Packet};
use crate::stats::{Lat, Stats};
use crate::track::Tracker;

pub type Ws = WebSocketStream<TcpStream>;
type WsError = tokio_tungstenite::tungstenite::Error;

/// Where the sockets connect (already checked against the loopback rule).
#[derive(Debug, Clone)]
pub struct Target {
    /// For `TcpStream::connect` (`::1`, not `[::1]`).
    pub connect_host: String,
    /// For the request line (`[::1]`).
    pub url_host: String,
    pub port: u16,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("tcp connect: {0}")]
    Io(#[from] std::io::Error),
    #[error("websocket: {0}")]
    Ws(#[from] WsError),
    #[error("refused: {0}")]
    Refused(String),
    #[error("protocol: {0}")]
    Protocol(&'static str),
    #[error("timed out")]
    Timeout,
}

impl ConnectError {
    /// A short key for the error table.
    pub fn key(&self) -> String {
        match self {
            ConnectError::Io(_) => "connect:io".into(),
            ConnectError::Ws(_) => "connect:websocket".into(),
            ConnectError::Refused(m) => format!("connect:{m}"),
            ConnectError::Protocol(_) => "connect:protocol".into(),
            ConnectError::Timeout => "connect:timeout".into(),
        }
    }
}

/// Opens a WebSocket, waits for the Engine.IO open packet and joins `ns`.
/// `read_buffer` is eagerly allocated per socket: small for the many idle visitors,
/// larger for agents that receive every fan-out copy.
pub async fn open(
    target: &Target,
    ns: &str,
    auth_json: &str,
    read_buffer: usize,
    timeout: Duration,
) -> Result<Ws, ConnectError> {
    tokio::time::timeout(timeout, open_inner(target, ns, auth_json, read_buffer))
        .await
        .map_err(|_| ConnectError::Timeout)?
}

async fn open_inner(
    target: &Target,
    ns: &str,
    auth_json: &str,
    read_buffer: usize,
) -> Result<Ws, ConnectError> {
    let tcp = TcpStream::connect((target.connect_host.as_str(), target.port)).await?;
    tcp.set_nodelay(true)?;
    let url = format!(
        "ws://{}:{}/socket.io/?EIO=4&transport=websocket",
        target.url_host, target.port
    );
    let config = WebSocketConfig::default()
        .read_buffer_size(read_buffer)
        .write_buffer_size(0)
        .max_message_size(Some(4 << 20))
        .max_frame_size(Some(4 << 20));
    let (mut ws, _response) = client_async_with_config(url, tcp, Some(config)).await?;
    let first = next_text(&mut ws).await?;
    if !matches!(sio::parse(&first), Ok(Packet::Open(_))) {
        return Err(ConnectError::Protocol("expected the Engine.IO open packet"));
    }
    ws.send(Message::text(sio::connect(ns, auth_json))).await?;
    // The namespace answer normally comes next; a heartbeat may come first on a slow
    // machine. Bounded: the server has no reason to send more before the answer.
    for _ in 0..64 {
        let text = next_text(&mut ws).await?;
        match sio::parse(&text) {
            Ok(Packet::Connect { ns: n, .. }) if n == ns => return Ok(ws),
            Ok(Packet::ConnectError { ns: n, data }) if n == ns => {
                return Err(ConnectError::Refused(sio::connect_error_message(data)));
            }
            Ok(Packet::Ping) => ws.send(Message::text(sio::PONG)).await?,
            Ok(Packet::Close) => return Err(ConnectError::Protocol("closed during connect")),
            _ => {}
        }
    }
    Err(ConnectError::Protocol("no answer to the namespace connect"))
}

async fn next_text(ws: &mut Ws) -> Result<String, ConnectError> {
    // Bounded: control frames are the only thing skipped before a text frame.
    for _ in 0..64 {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => return Ok(t.as_str().to_owned()),
            Some(Ok(Message::Close(_))) | None => {
                return Err(ConnectError::Protocol("closed during connect"));
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.into()),
        }
    }
    Err(ConnectError::Protocol("no text frame"))
}

/// Which chat each visitor talks in and which agent answers it; fixed once the chats
/// are started and claimed.
#[derive(Debug, Default)]
pub struct Routing {
    /// Per visitor: the chat id as a JSON string (quoted, escaped), ready to splice.
    pub chat_json: Vec<Option<Arc<str>>>,
    /// Per visitor: the owning agent's index, or [`NO_OWNER`].
    pub owner: Vec<u32>,
}

pub const NO_OWNER: u32 = u32::MAX;

/// State shared by every socket of a run.
pub struct Shared {
    pub base: Instant,
    pub stats: Stats,
    pub tracker: Tracker,
    pub visitors: u32,
    pub routing: OnceLock<Routing>,
    pub reply_share: f64,
    /// The message body as a JSON string literal.
    pub body_json: String,
    /// Unacked loads one socket may have before the scheduler's sends are skipped.
    pub max_inflight: usize,
    /// Closed-loop sending refills on each ack until this many ns after `base` (0 = off).
    pub closed_loop_until_ns: AtomicU64,
}

impl Shared {
    pub fn now_ns(&self) -> u64 {
        self.base.elapsed().as_nanos() as u64
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Visitor(u32),
    Agent(u32),
}

/// What the run asks a socket to do.
pub enum Cmd {
    /// An acked emit whose answer the caller awaits (setup: chat:start, chat:claim).
    Emit {
        event: &'static str,
        data: String,
        reply: oneshot::Sender<Result<serde_json::Value, ApiError>>,
    },
    /// Visitor: send one load message in its chat.
    Load,
    /// Visitor: keep this many loads unacked until the closed-loop deadline.
    ClosedLoop(u32),
}

enum Pending {
    Setup(oneshot::Sender<Result<serde_json::Value, ApiError>>),
    Load(u32),
}

/// The run's handle on one socket task; dropping it closes the socket.
pub struct Handle {
    tx: mpsc::Sender<Cmd>,
}

impl Handle {
    /// Sends an acked event and waits for its answer.
    pub async fn emit(
        &self,
        event: &'static str,
        data: String,
        timeout: Duration,
    ) -> Result<serde_json::Value, ApiError> {
        let (reply, rx) = oneshot::channel();
        let gone = || ApiError::new(shared::ErrorCode::Unavailable, "socket closed");
        self.tx
            .send(Cmd::Emit { event, data, reply })
            .await
            .map_err(|_| gone())?;
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(r)) => r,
            Ok(Err(_)) => Err(gone()),
            Err(_) => Err(ApiError::new(
                shared::ErrorCode::Unavailable,
                "ack timed out",
            )),
        }
    }

    /// Queues one load send; `false` if the socket is backed up or gone.
    pub fn try_load(&self) -> bool {
        self.tx.try_send(Cmd::Load).is_ok()
    }

    pub fn try_closed_loop(&self, inflight: u32) -> bool {
        self.tx.try_send(Cmd::ClosedLoop(inflight)).is_ok()
    }
}

/// Starts the task that owns `ws`.
pub fn spawn(ws: Ws, role: Role, shared: Arc<Shared>) -> Handle {
    let (tx, rx) = mpsc::channel(64);
    let sender = match role {
        Role::Visitor(v) => v,
        Role::Agent(a) => shared.visitors + a,
    };
    let ns = match role {
        Role::Visitor(_) => shared::events::CUSTOMER_NS,
        Role::Agent(_) => shared::events::AGENT_NS,
    };
    let client = Client {
        ws,
        ns,
        role,
        sender,
        shared,
        next_id: 0,
        pending: HashMap::new(),
        reply_acc: 0.0,
        closed_loop: 0,
    };
    tokio::spawn(client.run(rx));
    Handle { tx }
}

struct Client {
    ws: Ws,
    ns: &'static str,
    role: Role,
    sender: u32,
    shared: Arc<Shared>,
    next_id: u64,
    pending: HashMap<u64, Pending>,
    reply_acc: f64,
    /// Closed-loop window size (0 = open loop).
    closed_loop: u32,
}

impl Client {
    async fn run(mut self, mut rx: mpsc::Receiver<Cmd>) {
        loop {
            tokio::select! {
                frame = self.ws.next() => match frame {
                    Some(Ok(Message::Text(t))) => {
                        if let Err(e) = self.on_text(t.as_str()).await {
                            self.shared.stats.error(format!("socket:{}", short(&e)));
                            break;
                        }
                    }
                    Some(Ok(Message::Close(_))) | None => {
                        self.shared.stats.error("socket:closed_by_server");
                        break;
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => {
                        self.shared.stats.error(format!("socket:{}", short(&e)));
                        break;
                    }
                },
                cmd = rx.recv() => match cmd {
                    Some(cmd) => {
                        if let Err(e) = self.on_cmd(cmd).await {
                            self.shared.stats.error(format!("socket:{}", short(&e)));
                            break;
                        }
                    }
                    None => {
                        // The run is over: leave politely, but do not wait long.
                        let _ = tokio::time::timeout(
                            Duration::from_secs(1),
                            self.ws.close(None),
                        )
                        .await;
                        break;
                    }
                },
            }
        }
    }

    async fn send_text(&mut self, text: String) -> Result<(), WsError> {
        self.ws.send(Message::text(text)).await
    }

    async fn on_cmd(&mut self, cmd: Cmd) -> Result<(), WsError> {
        match cmd {
            Cmd::Emit { event, data, reply } => {
                let id = self.next_ack_id();
                self.pending.insert(id, Pending::Setup(reply));
                let frame = sio::event(self.ns, Some(id), event, &data);
                self.send_text(frame).await
            }
            Cmd::Load => {
                if let Role::Visitor(v) = self.role {
                    self.send_load(v).await?;
                }
                Ok(())
            }
            Cmd::ClosedLoop(n) => {
                self.closed_loop = n;
                if let Role::Visitor(v) = self.role {
                    for _ in 0..n {
                        self.send_load(v).await?;
                    }
                }
                Ok(())
            }
        }
    }

    fn next_ack_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Sends one tracked `message:send` into the chat of `visitor`.
    async fn send_load(&mut self, visitor: u32) -> Result<(), WsError> {
        let sh = Arc::clone(&self.shared);
        let Some(chat) = sh
            .routing
            .get()
            .and_then(|r| r.chat_json.get(visitor as usize))
            .and_then(|c| c.as_ref())
        else {
            sh.stats.error("send:no_chat");
            return Ok(());
        };
        if self.pending.len() >= sh.max_inflight {
            Stats::bump(&sh.stats.skipped);
            return Ok(());
        }
        let Some(n) = sh.tracker.send(self.sender, sh.now_ns()) else {
            return Ok(());
        };
        Stats::bump(&sh.stats.sent);
        if matches!(self.role, Role::Visitor(_)) {
            Stats::bump(&sh.stats.visitor_sent);
        }
        let id = self.next_ack_id();
        let data = format!(
            "{{\"chat_id\":{chat},\"client_msg_id\":\"{}\",\"body\":{}}}",
            sio::message_key(self.sender, n),
            sh.body_json
        );
        self.pending.insert(id, Pending::Load(n));
        let frame = sio::event(self.ns, Some(id), MESSAGE_SEND, &data);
        self.send_text(frame).await
    }

    async fn on_text(&mut self, text: &str) -> Result<(), WsError> {
        match sio::parse(text) {
            Ok(Packet::Ping) => self.send_text(sio::PONG.to_owned()).await,
            Ok(Packet::Event { data, .. }) => self.on_event(data).await,
            Ok(Packet::Ack { id, data, .. }) => self.on_ack(id, data).await,
            // The loop records the error once, as `socket:closed`.
            Ok(Packet::Close) | Ok(Packet::Disconnect { .. }) => Err(WsError::ConnectionClosed),
            Ok(_) => Ok(()),
            Err(_) => {
                self.shared.stats.error("socket:bad_packet");
                Ok(())
            }
        }
    }

    async fn on_ack(&mut self, id: u64, data: &str) -> Result<(), WsError> {
        let sh = Arc::clone(&self.shared);
        match self.pending.remove(&id) {
            Some(Pending::Setup(reply)) => {
                let _ = reply.send(sio::ack_value(data));
                Ok(())
            }
            Some(Pending::Load(n)) => {
                let now = sh.now_ns();
                let lat = match self.role {
                    Role::Visitor(_) => Lat::Ack,
                    Role::Agent(_) => Lat::ReplyAck,
                };
                match sio::ack_status(data) {
                    AckStatus::Ok => {
                        if let Some(sent) = sh.tracker.ack(self.sender, n) {
                            sh.stats.record(lat, now.saturating_sub(sent) / 1000);
                            Stats::bump(&sh.stats.acked);
                            Stats::bump(&sh.stats.resolved);
                            if lat == Lat::Ack {
                                Stats::bump(&sh.stats.visitor_acked);
                            }
                        }
                    }
                    AckStatus::Err(e) => {
                        if sh.tracker.fail(self.sender, n) {
                            sh.stats.error(e.code.as_str());
                            Stats::bump(&sh.stats.resolved);
                        }
                    }
                    AckStatus::Malformed => {
                        if sh.tracker.fail(self.sender, n) {
                            sh.stats.error("malformed_ack");
                            Stats::bump(&sh.stats.resolved);
                        }
                    }
                }
                let until = sh.closed_loop_until_ns.load(Ordering::Relaxed);
                if let Role::Visitor(v) = self.role
                    && self.closed_loop > 0
                    && now < until
                {
                    self.send_load(v).await?;
                }
                Ok(())
            }
            None => {
                sh.stats.error("unexpected_ack");
                Ok(())
            }
        }
    }

    async fn on_event(&mut self, data: &str) -> Result<(), WsError> {
        if sio::event_name(data) != Some(MESSAGE_NEW) {
            return Ok(());
        }
        let Some((s, n)) =
            sio::find_str_field(data, "client_msg_id").and_then(sio::parse_message_key)
        else {
            return Ok(());
        };
        let sh = Arc::clone(&self.shared);
        let now = sh.now_ns();
        match self.role {
            Role::Agent(a) => {
                // Replies of other agents reach agents too; only visitor messages count.
                if !sh.tracker.is_visitor(s) {
                    return Ok(());
                }
                let Some(routing) = sh.routing.get() else {
                    return Ok(());
                };
                let intended = routing.owner.get(s as usize) == Some(&a);
                let Some(d) = sh.tracker.deliver(s, n, intended) else {
                    return Ok(());
                };
                sh.stats
                    .record(Lat::Delivery, now.saturating_sub(d.sent_ns) / 1000);
                Stats::bump(&sh.stats.deliveries);
                if d.first {
                    Stats::bump(&sh.stats.delivered);
                    if sh.reply_share > 0.0 {
                        self.reply_acc += sh.reply_share;
                        if self.reply_acc >= 1.0 {
                            self.reply_acc -= 1.0;
                            self.send_load(s).await?;
                        }
                    }
                }
                Ok(())
            }
            Role::Visitor(_) => {
                // The visitor's own messages may be echoed back to it; only replies count.
                if sh.tracker.is_visitor(s) {
                    return Ok(());
                }
                if let Some(d) = sh.tracker.deliver(s, n, true) {
                    sh.stats
                        .record(Lat::ReplyDelivery, now.saturating_sub(d.sent_ns) / 1000);
                    if d.first {
                        Stats::bump(&sh.stats.delivered);
                    }
                }
                Ok(())
            }
        }
    }
}

/// A short error key (the error table groups by it).
fn short(e: &WsError) -> &'static str {
    match e {
        WsError::ConnectionClosed | WsError::AlreadyClosed => "closed",
        WsError::Io(_) => "io",
        WsError::Capacity(_) => "too_large",
        WsError::Protocol(_) => "protocol",
        _ => "other",
    }
}
