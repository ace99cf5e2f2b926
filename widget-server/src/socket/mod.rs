//! Socket.IO: the `/agent` and `/customer` namespaces, the helpers their handlers
//! share (typed payloads, acks, rate limits), and the dispatcher that pushes every
//! committed event, in event-id order, to the sockets allowed to see it.

/// Registers the handler of one acked event: it checks the socket's session with
/// `$session`, takes a token from the identity's rate limit for the event's class,
/// runs `$f(&socket, &state, &session, payload)` and answers the ack.
macro_rules! on {
    ($s:expr, $st:expr, $session:path, $event:expr, $f:path) => {{
        let st = $st.clone();
        $s.on(
            $event,
            move |s: $crate::socket::SocketRef,
                  socketioxide::extract::TryData(data): socketioxide::extract::TryData<
                serde_json::Value,
            >,
                  ack: $crate::socket::AckSender| {
                let st = st.clone();
                async move {
                    let result = match $session(&s, &st) {
                        Ok(sess) => match st.limits.check_event($event, &sess.limit_key()).await {
                            Ok(()) => $f(&s, &st, &sess, data.ok()).await,
                            Err(e) => Err(e),
                        },
                        Err(e) => Err(e),
                    };
                    $crate::socket::reply(ack, result);
                }
            },
        );
    }};
}

mod agent;
mod customer;
pub mod limits;
pub mod presence;
pub mod sessions;

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use shared::events::{Ack, ServerEvent};
use shared::limits::MAX_PACKET_BYTES;
use shared::{ApiError, ErrorCode};

use socketioxide::layer::SocketIoLayer;
use socketioxide_redis::{RedisAdapterConfig, RedisAdapterCtr};

use crate::AppState;
use crate::cluster::{Cluster, PanelAdapter};
use crate::store::Published;

/// The Socket.IO handle, on the adapter that spans nodes when Redis is configured.
pub type SocketIo = socketioxide::SocketIo<PanelAdapter>;
/// A connected socket.
pub type SocketRef = socketioxide::extract::SocketRef<PanelAdapter>;
/// The answer to an acked event.
pub type AckSender = socketioxide::extract::AckSender<PanelAdapter>;
/// A push to some sockets (rooms, a namespace), on every node.
pub type BroadcastOperators = socketioxide::operators::BroadcastOperators<PanelAdapter>;

/// The Socket.IO layer and handle, with the packet and WebSocket frame limits set
/// (the library's payload limit covers HTTP long-polling only).
pub fn layer(cluster: &Cluster) -> (SocketIoLayer<PanelAdapter>, SocketIo) {
    let adapter = RedisAdapterCtr::new_with_driver(
        cluster.driver(),
        RedisAdapterConfig::new()
            .with_prefix(cluster.adapter_prefix())
            .with_request_timeout(crate::cluster::REDIS_TIMEOUT),
    );
    socketioxide::SocketIo::builder()
        .max_payload(MAX_PACKET_BYTES as u64)
        .ws_max_message_size(MAX_PACKET_BYTES)
        .ws_max_frame_size(MAX_PACKET_BYTES)
        .max_buffer_size(4096)
        // Idle sockets dominate memory; a 1 KiB read buffer (default 4 KiB) saved
        // ~3 KiB per idle socket (docs/performance.md). Large frames just take more reads.
        .ws_read_buffer_size(1024)
        .ping_interval(Duration::from_secs(20))
        .ping_timeout(Duration::from_secs(20))
        .with_adapter::<PanelAdapter>(adapter)
        .build_layer()
}

/// Registers a namespace: `auth` runs as the connect middleware (its refusal is the
/// client's `connect_error`), `connect` once the socket is connected. With Redis, the
/// namespace subscribes to the other nodes' requests before this returns.
pub async fn namespace<A, AF, C, CF>(
    io: &SocketIo,
    path: &'static str,
    state: AppState,
    auth: A,
    connect: C,
) -> anyhow::Result<()>
where
    A: Fn(SocketRef, Option<Value>, AppState) -> AF + Clone + Send + Sync + 'static,
    AF: std::future::Future<Output = Result<(), Refused>> + Send + 'static,
    C: Fn(SocketRef, AppState) -> CF + Clone + Send + Sync + 'static,
    CF: std::future::Future<Output = ()> + Send + 'static,
{
    use socketioxide::handler::ConnectHandler;
    let mw_state = state.clone();
    let middleware =
        move |s: SocketRef,
              socketioxide::extract::TryData(data): socketioxide::extract::TryData<Value>| {
            let (st, auth) = (mw_state.clone(), auth.clone());
            async move { auth(s, data.ok(), st).await }
        };
    let handler = move |s: SocketRef| {
        let (st, connect) = (state.clone(), connect.clone());
        async move { connect(s, st).await }
    };
    io.ns(path, handler.with(middleware))
        .await
        .map_err(|e| anyhow::anyhow!("cannot set up the {path} namespace: {e}"))
}

/// Unknown events get an `invalid` ack that names them.
pub fn answer_unknown_events(s: &SocketRef) {
    s.on_fallback(
        |ack: AckSender, socketioxide::extract::Event(name): socketioxide::extract::Event| async move {
            let name: String = name.chars().take(40).collect();
            reply::<()>(ack, Err(ApiError::invalid(format!("unknown event {name:?}"))));
        },
    );
}

pub async fn register(io: &SocketIo, state: AppState) -> anyhow::Result<()> {
    agent::register(io, state.clone()).await?;
    customer::register(io, state).await
}

/// The push as far as it can go: to every node with Redis, to this one without (a
/// node alone skips the adapter's encoding of each push for other nodes).
pub fn reach(st: &AppState, op: BroadcastOperators) -> BroadcastOperators {
    if st.cluster.is_shared() {
        op
    } else {
        op.local()
    }
}

/// A connect refusal: its `Display` is the bare error code, which the client sees as
/// the `connect_error` message.
#[derive(Debug)]
pub struct Refused(pub ErrorCode);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.as_str())
    }
}

/// Parses an event payload into its request type, with an `invalid` error that says
/// what is wrong.
/// `None` is a payload that could not be read as JSON (binary, several arguments).
pub fn parse<T: DeserializeOwned>(data: Option<Value>) -> Result<T, ApiError> {
    let v = data.ok_or_else(|| {
        ApiError::invalid("payload must be one JSON object (binary payloads are not accepted)")
    })?;
    if !v.is_object() {
        return Err(ApiError::invalid("payload must be a JSON object"));
    }
    serde_json::from_value(v).map_err(|e| ApiError::invalid(format!("bad payload: {e}")))
}

/// Answers an ack (if the client asked for one).
pub fn reply<T: Serialize>(ack: AckSender, result: Result<T, ApiError>) {
    if let Err(e) = &result {
        crate::metrics::error(e.code, "socket");
        if e.code == ErrorCode::Internal {
            tracing::error!(error = %e, "handler failed");
        }
    }
    let _ = ack.send(&Ack::from(result));
}

pub fn dept_room(id: &str) -> String {
    format!("dept:{id}")
}
pub fn agent_room(id: &str) -> String {
    format!("agent:{id}")
}
pub fn customer_room(id: &str) -> String {
    format!("cust:{id}")
}
pub const ALL_CHATS_ROOM: &str = "all-chats";

/// The agent rooms that hear about a chat of `department` assigned to `assignee`.
pub fn chat_rooms(
    department: Option<&str>,
    prev: Option<&str>,
    assignee: Option<&str>,
) -> Vec<String> {
    // Supervisors and admins hear about every chat, not about others' private events.
    let mut rooms: Vec<String> = department
        .map(|_| ALL_CHATS_ROOM.to_owned())
        .into_iter()
        .collect();
    rooms.extend(department.map(dept_room));
    rooms.extend(prev.map(dept_room));
    rooms.extend(assignee.map(agent_room));
    rooms
}

/// Pushes `ev` to `op`'s sockets on every node; if Redis cannot take it, to this
/// node's sockets at least (the others catch up with `sync`).
async fn emit_event(st: &AppState, op: BroadcastOperators, ev: &ServerEvent) {
    let op = reach(st, op);
    match emit_to(op.clone(), ev).await {
        Ok(()) => {}
        // Not published: nothing was sent yet, not even locally.
        Err(socketioxide::BroadcastError::Adapter(e)) => {
            tracing::warn!(error = %e, event = ev.name(), "push to other nodes failed; pushing locally");
            if let Err(e) = emit_to(op.local(), ev).await {
                tracing::warn!(error = %e, event = ev.name(), "push failed for some sockets");
            }
        }
        Err(e) => tracing::warn!(error = %e, event = ev.name(), "push failed for some sockets"),
    }
}

async fn emit_to(
    op: BroadcastOperators,
    ev: &ServerEvent,
) -> Result<(), socketioxide::BroadcastError> {
    let name = ev.name();
    match ev {
        ServerEvent::ChatCreated(e) | ServerEvent::ChatUpdated(e) => op.emit(name, e).await,
        ServerEvent::MessageNew(e) => op.emit(name, e).await,
        ServerEvent::MessageRead(e) => op.emit(name, e).await,
        ServerEvent::Presence(e) => op.emit(name, e).await,
        ServerEvent::Notification(e) => op.emit(name, e).await,
        ServerEvent::CustomerUpdated(e) => op.emit(name, e).await,
        ServerEvent::TicketCreated(e) | ServerEvent::TicketUpdated(e) => op.emit(name, e).await,
        ServerEvent::TicketEntry(e) => op.emit(name, e).await,
    }
}

/// Pushes committed events in the order the store committed them.
pub fn spawn_dispatcher(state: AppState) -> anyhow::Result<()> {
    let mut rx = state
        .store
        .take_events()
        .ok_or_else(|| anyhow::anyhow!("the store's event stream was already taken"))?;
    tokio::spawn(async move {
        while let Some(p) = rx.recv().await {
            metrics::counter!(crate::metrics::EVENTS).increment(1);
            if matches!(p.event, shared::events::ServerEvent::MessageNew(_)) {
                metrics::counter!(crate::metrics::MESSAGES).increment(1);
            }
            let moved = queue_moved(&p);
            dispatch(&state, p).await;
            if let Some((event_id, departments)) = moved {
                push_queue_positions(&state, event_id, &departments).await;
            }
        }
    });
    Ok(())
}

async fn dispatch(st: &AppState, p: Published) {
    let io = &st.io;
    let Published { event, audience } = p;
    if let Some(agents) = io.of(shared::events::AGENT_NS) {
        if audience.broadcast {
            emit_event(st, agents, &event).await;
        } else {
            let rooms = chat_rooms(
                audience.department_id.as_deref(),
                audience.prev_department_id.as_deref(),
                audience.agent_id.as_deref(),
            );
            emit_event(st, agents.to(rooms), &event).await;
        }
    }
    if let Some((customer_id, cev)) = &audience.customer
        && let Some(customers) = io.of(shared::events::CUSTOMER_NS)
    {
        emit_event(st, customers.to(customer_room(customer_id)), cev).await;
    }
}

/// A chat left the waiting queue of these departments (claimed, closed, transferred
/// away): the visitors still waiting there moved up.
fn queue_moved(p: &Published) -> Option<(shared::model::EventId, Vec<String>)> {
    let ServerEvent::ChatUpdated(e) = &p.event else {
        return None;
    };
    let mut departments: Vec<String> = p.audience.prev_department_id.iter().cloned().collect();
    if e.chat.status != shared::model::ChatStatus::Waiting {
        departments.push(e.chat.department_id.clone());
    }
    (!departments.is_empty()).then_some((e.event_id, departments))
}

/// Tells each visitor still waiting in `departments` their new queue position
/// (a `chat:updated` with the event id of the change that moved them).
async fn push_queue_positions(
    state: &AppState,
    event_id: shared::model::EventId,
    departments: &[String],
) {
    let system = crate::store::Actor {
        id: String::new(),
        name: String::new(),
        role: shared::model::Role::Admin,
        department_ids: Vec::new(),
    };
    for d in departments {
        let filter = crate::store::ChatFilter {
            status: Some(shared::model::ChatStatus::Waiting),
            department_id: Some(d.clone()),
            assignee_id: None,
            customer_id: None,
            q: None,
            sort: crate::store::ChatSort::Wait,
            page: 1,
            per_page: shared::limits::MAX_PER_PAGE,
        };
        let Ok(page) = state.store.chats(&system, &filter).await else {
            continue;
        };
        for chat in page.items {
            let Ok(numbers) = state.store.visitor_numbers(&chat.id).await else {
                continue;
            };
            let ev = shared::events::ChatEvent {
                event_id,
                chat: crate::store::customer_view(&chat, &numbers),
            };
            let Some(customers) = state.io.of(shared::events::CUSTOMER_NS) else {
                return;
            };
            let _ = reach(state, customers.to(customer_room(&chat.customer.id)))
                .emit(shared::events::CHAT_UPDATED, &ev)
                .await;
        }
    }
}

/// Disconnects every socket opened with the token `jti` (after sign-out), on every
/// node. Were Redis not to answer, the other nodes' session watchers still find the
/// revocation in the store within `--session-check-secs`.
pub async fn disconnect_token(state: &AppState, jti: &str) {
    if let Some(agents) = state.io.of(shared::events::AGENT_NS) {
        let op = reach(state, agents.within(format!("jti:{jti}")));
        match op.clone().disconnect().await {
            Ok(()) => {}
            Err(socketioxide::BroadcastError::Adapter(e)) => {
                tracing::warn!(error = %e, "could not disconnect revoked sockets on other nodes");
                let _ = op.local().disconnect().await;
            }
            Err(e) => tracing::warn!(error = %e, "could not disconnect revoked sockets"),
        }
    }
}

/// `ping:rtt` answers with the server clock so clients can show latency.
pub fn pong() -> Result<shared::events::Pong, ApiError> {
    Ok(shared::events::Pong {
        server_time_ms: crate::store::now_ms(),
    })
}
