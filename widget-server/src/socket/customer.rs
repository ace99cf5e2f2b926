//! The `/customer` namespace: website visitors, identified by a visitor token that
//! the widget keeps, chat with the team. They only ever see their own chats, and
//! never an internal note.

use std::sync::Arc;

use super::SocketIo;
use super::SocketRef;
use serde_json::Value;
use shared::events::{
    CustomerAuth, CustomerReadReq, CustomerSendReq, CustomerTypingReq, Empty, RateReq, ServerEvent,
    SessionPayload, StartAck, StartReq, SyncAck, SyncReq, TypingEvent,
};
use shared::limits::{
    MAX_COMMENT_CHARS, MAX_ID_CHARS, MAX_NAME_CHARS, validate_attachment_ids, validate_body,
    validate_body_with_files, validate_client_id, validate_email, validate_line, validate_text,
};
use shared::model::{Author, AuthorKind, Message};
use shared::{ApiError, ErrorCode};

use super::limits::Class;
use super::{Refused, chat_rooms, customer_room, parse, pong};
use crate::AppState;
use crate::domain::visitor::{Identity, identify};
use crate::store::{SyncResult, Viewer};

#[derive(Clone)]
struct Session {
    customer_id: Arc<str>,
    name: Arc<str>,
    token: Arc<str>,
    open_chat_id: Option<Arc<str>>,
    /// No record is stored for this visitor yet (they have not chatted): written at
    /// their first `chat:start`, with the connect's name and email.
    unstored: Option<Profile>,
}

/// What a visitor said about themselves when connecting.
#[derive(Clone, Default)]
struct Profile {
    name: Option<Arc<str>>,
    email: Option<Arc<str>>,
}

impl Session {
    /// Whose rate limits this socket draws from: the visitor's, across sockets.
    fn limit_key(&self) -> String {
        format!("c:{}", self.customer_id)
    }
}

pub async fn register(io: &SocketIo, state: AppState) -> anyhow::Result<()> {
    super::namespace(
        io,
        shared::events::CUSTOMER_NS,
        state,
        authenticate,
        on_connect,
    )
    .await
}

/// A browser always sends `Origin`; it must be the server's own origin or on the
/// allow-list. Clients that send none (not a browser) are allowed.
fn origin_allowed(s: &SocketRef, st: &AppState) -> bool {
    let headers = &s.req_parts().headers;
    let Some(origin) = headers.get("origin").and_then(|o| o.to_str().ok()) else {
        return headers.get("origin").is_none();
    };
    let origin = origin.trim_end_matches('/');
    if st
        .config
        .allowed_origins
        .iter()
        .any(|a| a == "*" || a.trim_end_matches('/').eq_ignore_ascii_case(origin))
    {
        return true;
    }
    let host = headers.get("host").and_then(|h| h.to_str().ok());
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    matches!((host, origin_host), (Some(h), Some(o)) if h.eq_ignore_ascii_case(o))
}

async fn authenticate(s: SocketRef, auth: Option<Value>, st: AppState) -> Result<(), Refused> {
    if !origin_allowed(&s, &st) {
        return Err(Refused(ErrorCode::Forbidden));
    }
    let auth: CustomerAuth = match auth {
        None | Some(Value::Null) => CustomerAuth::default(),
        Some(v) => serde_json::from_value(v).map_err(|_| Refused(ErrorCode::Invalid))?,
    };
    let name = auth
        .name
        .as_deref()
        .filter(|n| !n.trim().is_empty())
        .map(|n| validate_line("name", n, MAX_NAME_CHARS))
        .transpose()
        .map_err(|e| Refused(e.code))?;
    let email = auth
        .email
        .as_deref()
        .filter(|n| !n.trim().is_empty())
        .map(validate_email)
        .transpose()
        .map_err(|e| Refused(e.code))?;
    let token = auth
        .visitor_token
        .filter(|t| !t.is_empty() && t.len() <= 128);
    let stored = match token.as_deref() {
        Some(t) => st
            .store
            .resolve_visitor_known(t)
            .await
            .map_err(|e| Refused(e.code))?,
        None => None,
    };
    let signed = token
        .as_deref()
        .and_then(|t| st.tokens.visitor_key().verify(t));
    let session = match identify(stored, signed) {
        Identity::Stored(_) => {
            let visitor = st
                .store
                .resolve_visitor(token.as_deref(), None, None)
                .await
                .map_err(|e| Refused(e.code))?;
            Session {
                customer_id: Arc::from(visitor.customer.id.as_str()),
                name: Arc::from(visitor.customer.name.as_str()),
                token: Arc::from(visitor.token.as_str()),
                open_chat_id: visitor.open_chat_id.as_deref().map(Arc::from),
                unstored: None,
            }
        }
        Identity::Signed(id) => unstored_session(id, token.unwrap_or_default(), name, email),
        Identity::New => {
            // Identities are free, so new ones are limited per client address.
            let parts = s.req_parts();
            let ip = crate::auth::client_ip(
                crate::http::peer_ip(parts),
                &parts.headers,
                &st.config.trusted_proxies,
            );
            let who = ip.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
            st.limits
                .take(Class::NewVisitor, &who)
                .await
                .map_err(|e| Refused(e.code))?;
            let id = crate::store::new_id();
            let token = st.tokens.visitor_key().issue(&id);
            unstored_session(id, token, name, email)
        }
    };
    register_handlers(&s, &st, &session.customer_id);
    s.extensions.insert(session);
    Ok(())
}

/// A visitor known by a signed token only: nothing stored until their first chat.
fn unstored_session(
    customer_id: String,
    token: String,
    name: Option<String>,
    email: Option<String>,
) -> Session {
    let display = name
        .clone()
        .unwrap_or_else(|| crate::domain::visitor::default_name(&customer_id));
    Session {
        customer_id: Arc::from(customer_id.as_str()),
        name: Arc::from(display.as_str()),
        token: Arc::from(token.as_str()),
        open_chat_id: None,
        unstored: Some(Profile {
            name: name.as_deref().map(Arc::from),
            email: email.as_deref().map(Arc::from),
        }),
    }
}

fn session(s: &SocketRef, _: &AppState) -> Result<Session, ApiError> {
    s.extensions
        .get::<Session>()
        .ok_or_else(|| ApiError::unauthorized("no visitor session"))
}

type Data = Option<Value>;

async fn on_connect(s: SocketRef, st: AppState) {
    let Ok(sess) = session(&s, &st) else {
        let _ = s.disconnect();
        return;
    };
    let _ = s.emit(
        shared::events::SESSION,
        &SessionPayload {
            visitor_token: sess.token.to_string(),
            customer_id: sess.customer_id.to_string(),
            chat_id: sess.open_chat_id.as_deref().map(str::to_owned),
        },
    );
}

/// Joins the visitor's room and registers the event handlers. Called from the auth
/// middleware: socketioxide confirms the connect *before* it spawns the connect
/// handler, so handlers registered there could miss a client's first events.
fn register_handlers(s: &SocketRef, st: &AppState, customer_id: &str) {
    s.join(customer_room(customer_id));
    on!(s, st, session, shared::events::CHAT_START, start);
    on!(s, st, session, shared::events::MESSAGE_SEND, send);
    on!(s, st, session, shared::events::MESSAGE_READ, read);
    on!(s, st, session, shared::events::TYPING, typing);
    on!(s, st, session, shared::events::CHAT_RATE, rate);
    on!(s, st, session, shared::events::SYNC, sync);
    on!(s, st, session, shared::events::PING, ping);
    super::answer_unknown_events(s);
}

fn check_opt_chat_id(id: &Option<String>) -> Result<(), ApiError> {
    match id {
        Some(id) => shared::limits::validate_id("chat_id", id),
        None => Ok(()),
    }
}

/// The department a new chat goes to (`domain::routing::pick_department`).
async fn pick_department(st: &AppState, asked: Option<&str>) -> Result<String, ApiError> {
    let departments = st.store.departments().await?;
    crate::domain::routing::pick_department(
        &departments,
        asked,
        st.config.default_department.as_deref(),
    )
}

async fn start(
    s: &SocketRef,
    st: &AppState,
    sess: &Session,
    data: Data,
) -> Result<StartAck, ApiError> {
    let r: StartReq = parse(data)?;
    let body = validate_body(&r.body)?;
    let name = r
        .name
        .as_deref()
        .filter(|n| !n.trim().is_empty())
        .map(|n| validate_line("name", n, MAX_NAME_CHARS))
        .transpose()?;
    let email = r
        .email
        .as_deref()
        .filter(|n| !n.trim().is_empty())
        .map(validate_email)
        .transpose()?;
    if r.department_id
        .as_ref()
        .is_some_and(|d| d.len() > MAX_ID_CHARS)
    {
        return Err(ApiError::invalid("department_id is too long"));
    }
    let client_msg_id = match r.client_msg_id.as_deref() {
        Some(c) => validate_client_id("client_msg_id", c)?,
        None => uuid::Uuid::new_v4().to_string(),
    };
    let department = pick_department(st, r.department_id.as_deref()).await?;
    st.limits.take(Class::Send, &sess.limit_key()).await?;
    if let Some(profile) = &sess.unstored {
        // The visitor's first chat: their record is written now, under their id.
        st.store
            .create_visitor(
                &sess.customer_id,
                &sess.token,
                profile.name.as_deref(),
                profile.email.as_deref(),
            )
            .await?;
        s.extensions.insert(Session {
            unstored: None,
            ..sess.clone()
        });
    }
    let (chat, message) = st
        .store
        .start_chat(
            &sess.customer_id,
            &department,
            &body,
            &client_msg_id,
            name.as_deref(),
            email.as_deref(),
        )
        .await?;
    // Both come as the visitor sees them.
    Ok(StartAck { chat, message })
}

async fn send(
    _: &SocketRef,
    st: &AppState,
    sess: &Session,
    data: Data,
) -> Result<Message, ApiError> {
    let r: CustomerSendReq = parse(data)?;
    check_opt_chat_id(&r.chat_id)?;
    let client_msg_id = validate_client_id("client_msg_id", &r.client_msg_id)?;
    validate_attachment_ids(&r.attachment_ids)?;
    let body = validate_body_with_files(&r.body, !r.attachment_ids.is_empty())?;
    st.limits.take(Class::Send, &sess.limit_key()).await?;
    st.store
        .customer_send(
            &sess.customer_id,
            r.chat_id.as_deref(),
            &client_msg_id,
            &body,
            &r.attachment_ids,
        )
        .await
}

async fn read(_: &SocketRef, st: &AppState, sess: &Session, data: Data) -> Result<Empty, ApiError> {
    let r: CustomerReadReq = parse(data)?;
    check_opt_chat_id(&r.chat_id)?;
    st.store
        .customer_read(&sess.customer_id, r.chat_id.as_deref(), r.seq)
        .await?;
    Ok(Empty {})
}

async fn typing(
    s: &SocketRef,
    st: &AppState,
    sess: &Session,
    data: Data,
) -> Result<Empty, ApiError> {
    let r: CustomerTypingReq = parse(data)?;
    // Typing is frequent and unacknowledged by design: past the limit it is dropped.
    check_opt_chat_id(&r.chat_id)?;
    let chat = st
        .store
        .customer_chat(&sess.customer_id, r.chat_id.as_deref())
        .await?;
    let ev = TypingEvent {
        chat_id: chat.id.clone(),
        author: Author {
            kind: AuthorKind::Customer,
            id: sess.customer_id.to_string(),
            name: sess.name.to_string(),
        },
        typing: r.typing,
    };
    let _ = s;
    if let Some(agents) = st.io.of(shared::events::AGENT_NS) {
        let rooms = chat_rooms(Some(&chat.department_id), None, chat.assignee_id.as_deref());
        let _ = super::reach(st, agents.to(rooms))
            .emit(shared::events::TYPING, &ev)
            .await;
    }
    Ok(Empty {})
}

async fn rate(_: &SocketRef, st: &AppState, sess: &Session, data: Data) -> Result<Empty, ApiError> {
    let r: RateReq = parse(data)?;
    check_opt_chat_id(&r.chat_id)?;
    if !(1..=5).contains(&r.score) {
        return Err(ApiError::invalid("score must be 1 to 5"));
    }
    let comment = r
        .comment
        .as_deref()
        .map(|c| validate_text("comment", c, MAX_COMMENT_CHARS))
        .transpose()?
        .filter(|c| !c.is_empty());
    st.store
        .rate(
            &sess.customer_id,
            r.chat_id.as_deref(),
            r.score,
            comment.as_deref(),
        )
        .await?;
    Ok(Empty {})
}

async fn sync(
    _: &SocketRef,
    st: &AppState,
    sess: &Session,
    data: Data,
) -> Result<SyncAck, ApiError> {
    let r: SyncReq = parse(data)?;
    let viewer = Viewer::Customer(sess.customer_id.to_string());
    Ok(
        match st.store.events_since(&viewer, r.since_event_id).await? {
            SyncResult::Events(events, latest_event_id) => SyncAck::Events {
                // Customers only know `chat:updated`.
                events: events
                    .into_iter()
                    .map(|e| match e {
                        ServerEvent::ChatCreated(c) => ServerEvent::ChatUpdated(c),
                        other => other,
                    })
                    .collect(),
                latest_event_id,
            },
            SyncResult::Resync(latest_event_id) => SyncAck::Resync {
                resync: true,
                latest_event_id,
            },
        },
    )
}

async fn ping(
    _: &SocketRef,
    _: &AppState,
    _: &Session,
    _: Data,
) -> Result<shared::events::Pong, ApiError> {
    pong()
}
