//! The `/agent` namespace: agents authenticate with their JWT, join the rooms of
//! their departments (or every chat, for supervisors and admins), and work chats.

use std::sync::Arc;

use super::SocketIo;
use super::SocketRef;
use serde_json::Value;
use shared::events::{
    AgentAuth, AgentReadReq, AgentSendReq, AgentTypingReq, BlockReq, ChatRef, CloseReq,
    PresenceReq, SyncAck, SyncReq, TagReq, TransferReq, TypingEvent,
};
use shared::limits::{
    MAX_RESOLUTION_CHARS, validate_attachment_ids, validate_body_with_files, validate_client_id,
    validate_id, validate_tag, validate_text,
};
use shared::model::{Agent, Author, AuthorKind, MessageKind};
use shared::{ApiError, ErrorCode};

use super::limits::Class;
use super::{
    ALL_CHATS_ROOM, Refused, agent_room, chat_rooms, customer_room, dept_room, parse, pong,
};
use crate::AppState;
use crate::store::{Actor, SyncResult, Viewer};

/// What an authenticated agent socket carries.
/// The agent and actor are refreshed from the store by `sessions::spawn_watcher`.
#[derive(Clone)]
pub(super) struct Session {
    pub(super) agent: Arc<Agent>,
    pub(super) actor: Arc<Actor>,
    pub(super) jti: Arc<str>,
    /// Token expiry (Unix seconds): the socket stops working when the token does.
    pub(super) expires_at: u64,
    /// When the token was issued (Unix ms): a password reset after it ends the session.
    pub(super) issued_ms: i64,
}

impl Session {
    /// Whose rate limits this socket draws from: the agent's, across sockets.
    pub(super) fn limit_key(&self) -> String {
        format!("a:{}", self.agent.id)
    }

    /// The same session for the agent as the store now has them.
    pub(super) fn with_agent(&self, agent: Agent, actor: Actor) -> Session {
        Session {
            agent: Arc::new(agent),
            actor: Arc::new(actor),
            ..self.clone()
        }
    }
}

pub async fn register(io: &SocketIo, state: AppState) -> anyhow::Result<()> {
    super::namespace(
        io,
        shared::events::AGENT_NS,
        state,
        authenticate,
        on_connect,
    )
    .await
}

async fn authenticate(s: SocketRef, auth: Option<Value>, st: AppState) -> Result<(), Refused> {
    let auth: AgentAuth = auth
        .and_then(|v| serde_json::from_value(v).ok())
        .ok_or(Refused(ErrorCode::Unauthorized))?;
    let (agent, claims) =
        crate::auth::authenticate(&st.tokens, st.store.as_ref(), &st.revoked, &auth.token)
            .await
            .map_err(|e| Refused(e.code))?;
    let actor = Actor::from_agent(&agent);
    let sess = Session {
        agent: Arc::new(agent),
        actor: Arc::new(actor),
        jti: Arc::from(claims.jti.as_str()),
        expires_at: claims.exp,
        issued_ms: claims.issued_ms(),
    };
    register_handlers(&s, &st, &sess);
    s.extensions.insert(sess);
    Ok(())
}

fn session(s: &SocketRef, st: &AppState) -> Result<Session, ApiError> {
    let sess = s
        .extensions
        .get::<Session>()
        .ok_or_else(|| ApiError::unauthorized("not signed in"))?;
    if jsonwebtoken::get_current_timestamp() > sess.expires_at {
        return Err(ApiError::unauthorized(
            "your session has expired; sign in again",
        ));
    }
    if st.revoked.contains(&sess.jti) {
        return Err(ApiError::unauthorized(
            "this session was signed out; sign in again",
        ));
    }
    Ok(sess)
}

async fn on_connect(s: SocketRef, st: AppState) {
    let Some(sess) = s.extensions.get::<Session>() else {
        let _ = s.disconnect();
        return;
    };
    super::presence::connected(&st, &sess).await;
}

/// Joins the agent's rooms and registers the event handlers. Called from the auth
/// middleware: socketioxide confirms the connect *before* it spawns the connect
/// handler, so handlers registered there could miss a client's first events.
fn register_handlers(s: &SocketRef, st: &AppState, sess: &Session) {
    let mut rooms = vec![agent_room(&sess.agent.id), format!("jti:{}", sess.jti)];
    rooms.extend(work_rooms(&sess.actor));
    s.join(rooms);

    on!(s, st, session, shared::events::CHAT_CLAIM, claim);
    on!(s, st, session, shared::events::CHAT_TRANSFER, transfer);
    on!(s, st, session, shared::events::CHAT_CLOSE, close);
    on!(s, st, session, shared::events::CHAT_REOPEN, reopen);
    on!(s, st, session, shared::events::CHAT_TAG, tag);
    on!(s, st, session, shared::events::MESSAGE_SEND, send);
    on!(s, st, session, shared::events::MESSAGE_READ, read);
    on!(s, st, session, shared::events::TYPING, typing);
    on!(s, st, session, shared::events::PRESENCE_SET, presence);
    on!(s, st, session, shared::events::SYNC, sync);
    on!(s, st, session, shared::events::CUSTOMER_BLOCK, block);
    on!(s, st, session, shared::events::PING, ping);
    super::answer_unknown_events(s);
    let st_dc = st.clone();
    s.on_disconnect(move |s: SocketRef| {
        let st = st_dc.clone();
        async move { on_disconnect(s, st).await }
    });
}

/// The rooms whose chat events an agent hears: their departments', and every chat's
/// for supervisors and admins.
pub(super) fn work_rooms(actor: &Actor) -> Vec<String> {
    let mut rooms: Vec<String> = actor.department_ids.iter().map(|d| dept_room(d)).collect();
    if actor.follows_all_chats() {
        rooms.push(ALL_CHATS_ROOM.to_owned());
    }
    rooms
}

async fn on_disconnect(s: SocketRef, st: AppState) {
    let Some(sess) = s.extensions.get::<Session>() else {
        return;
    };
    let others = st
        .io
        .of(shared::events::AGENT_NS)
        .map(|ns| {
            ns.within(agent_room(&sess.agent.id))
                .sockets()
                .into_iter()
                .filter(|o| o.id != s.id)
                .count()
        })
        .unwrap_or(0);
    super::presence::disconnected(&st, &sess.agent.id, others).await;
}

type Data = Option<Value>;

use parse as payload;

fn check_chat_id(id: &str) -> Result<(), ApiError> {
    validate_id("chat_id", id)
}

async fn claim(
    _: &SocketRef,
    st: &AppState,
    sess: &Session,
    data: Data,
) -> Result<shared::model::Chat, ApiError> {
    let r: ChatRef = payload(data)?;
    check_chat_id(&r.chat_id)?;
    st.store.claim(&sess.actor, &r.chat_id).await
}

async fn transfer(
    _: &SocketRef,
    st: &AppState,
    sess: &Session,
    data: Data,
) -> Result<shared::model::Chat, ApiError> {
    let r: TransferReq = payload(data)?;
    check_chat_id(&r.chat_id)?;
    if r.to_agent_id.is_none() && r.to_department_id.is_none() {
        return Err(ApiError::invalid("name to_agent_id or to_department_id"));
    }
    for id in [&r.to_agent_id, &r.to_department_id].into_iter().flatten() {
        validate_id("transfer target", id)?;
    }
    let note = r
        .note
        .as_deref()
        .map(|n| validate_text("note", n, shared::limits::MAX_BODY_CHARS))
        .transpose()?
        .filter(|n| !n.is_empty());
    st.store
        .transfer(
            &sess.actor,
            &r.chat_id,
            r.to_agent_id.as_deref(),
            r.to_department_id.as_deref(),
            note.as_deref(),
        )
        .await
}

async fn close(
    _: &SocketRef,
    st: &AppState,
    sess: &Session,
    data: Data,
) -> Result<shared::model::Chat, ApiError> {
    let r: CloseReq = payload(data)?;
    check_chat_id(&r.chat_id)?;
    let resolution = r
        .resolution
        .as_deref()
        .map(|x| validate_text("resolution", x, MAX_RESOLUTION_CHARS))
        .transpose()?
        .filter(|x| !x.is_empty());
    st.store
        .close(&sess.actor, &r.chat_id, resolution.as_deref())
        .await
}

async fn reopen(
    _: &SocketRef,
    st: &AppState,
    sess: &Session,
    data: Data,
) -> Result<shared::model::Chat, ApiError> {
    let r: ChatRef = payload(data)?;
    check_chat_id(&r.chat_id)?;
    st.store.reopen(&sess.actor, &r.chat_id).await
}

async fn tag(
    _: &SocketRef,
    st: &AppState,
    sess: &Session,
    data: Data,
) -> Result<shared::model::Chat, ApiError> {
    let r: TagReq = payload(data)?;
    check_chat_id(&r.chat_id)?;
    if r.add.len() + r.remove.len() > 2 * shared::limits::MAX_TAGS_PER_CHAT {
        return Err(ApiError::invalid("too many tags in one request"));
    }
    let add = r
        .add
        .iter()
        .map(|t| validate_tag(t))
        .collect::<Result<Vec<_>, _>>()?;
    let remove = r
        .remove
        .iter()
        .map(|t| validate_tag(t))
        .collect::<Result<Vec<_>, _>>()?;
    st.store.tag(&sess.actor, &r.chat_id, &add, &remove).await
}

async fn send(
    _: &SocketRef,
    st: &AppState,
    sess: &Session,
    data: Data,
) -> Result<shared::model::Message, ApiError> {
    let r: AgentSendReq = payload(data)?;
    check_chat_id(&r.chat_id)?;
    let client_msg_id = validate_client_id("client_msg_id", &r.client_msg_id)?;
    validate_attachment_ids(&r.attachment_ids)?;
    let body = validate_body_with_files(&r.body, !r.attachment_ids.is_empty())?;
    let kind = match r.kind.unwrap_or(MessageKind::Text) {
        MessageKind::Event => {
            return Err(ApiError::invalid("kind must be \"text\" or \"note\""));
        }
        k => k,
    };
    st.limits.take(Class::Send, &sess.limit_key()).await?;
    st.store
        .agent_send(
            &sess.actor,
            &r.chat_id,
            &client_msg_id,
            &body,
            kind,
            &r.attachment_ids,
        )
        .await
}

async fn read(
    _: &SocketRef,
    st: &AppState,
    sess: &Session,
    data: Data,
) -> Result<shared::events::Empty, ApiError> {
    let r: AgentReadReq = payload(data)?;
    check_chat_id(&r.chat_id)?;
    st.store.agent_read(&sess.actor, &r.chat_id, r.seq).await?;
    Ok(shared::events::Empty {})
}

async fn typing(
    s: &SocketRef,
    st: &AppState,
    sess: &Session,
    data: Data,
) -> Result<shared::events::Empty, ApiError> {
    let r: AgentTypingReq = payload(data)?;
    // Typing is frequent and unacknowledged by design: past the limit it is dropped.
    check_chat_id(&r.chat_id)?;
    let chat = st
        .store
        .chat(&r.chat_id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such chat"))?;
    if !sess
        .actor
        .may_see_chat(&chat.department_id, chat.assignee_id.as_deref())
    {
        return Err(ApiError::forbidden("not your chat"));
    }
    let ev = TypingEvent {
        chat_id: r.chat_id.clone(),
        author: Author {
            kind: AuthorKind::Agent,
            id: sess.agent.id.clone(),
            name: sess.agent.name.clone(),
        },
        typing: r.typing,
    };
    if let Some(customers) = st.io.of(shared::events::CUSTOMER_NS) {
        let _ = super::reach(st, customers.to(customer_room(&chat.customer.id)))
            .emit(shared::events::TYPING, &ev)
            .await;
    }
    let rooms = chat_rooms(Some(&chat.department_id), None, chat.assignee_id.as_deref());
    let _ = super::reach(st, s.to(rooms))
        .emit(shared::events::TYPING, &ev)
        .await;
    Ok(shared::events::Empty {})
}

async fn presence(
    _: &SocketRef,
    st: &AppState,
    sess: &Session,
    data: Data,
) -> Result<Agent, ApiError> {
    let r: PresenceReq = payload(data)?;
    st.store.set_presence(&sess.agent.id, r.status).await
}

async fn sync(
    _: &SocketRef,
    st: &AppState,
    sess: &Session,
    data: Data,
) -> Result<SyncAck, ApiError> {
    let r: SyncReq = payload(data)?;
    let viewer = Viewer::Agent((*sess.actor).clone());
    Ok(
        match st.store.events_since(&viewer, r.since_event_id).await? {
            SyncResult::Events(events, latest_event_id) => SyncAck::Events {
                events,
                latest_event_id,
            },
            SyncResult::Resync(latest_event_id) => SyncAck::Resync {
                resync: true,
                latest_event_id,
            },
        },
    )
}

async fn block(
    _: &SocketRef,
    st: &AppState,
    sess: &Session,
    data: Data,
) -> Result<shared::model::Customer, ApiError> {
    let r: BlockReq = payload(data)?;
    validate_id("customer_id", &r.customer_id)?;
    st.store.block(&sess.actor, &r.customer_id, r.blocked).await
}

async fn ping(
    _: &SocketRef,
    _: &AppState,
    _: &Session,
    _: Data,
) -> Result<shared::events::Pong, ApiError> {
    pong()
}
