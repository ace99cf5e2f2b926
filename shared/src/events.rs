//! Socket.IO event names and payloads for the `/agent` and `/customer` namespaces.

use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::model::{
    Agent, AgentStatus, Author, Chat, ChatId, Customer, CustomerId, EventId, Message, MessageKind,
    Notification, Seq,
};
use crate::ticket::{TicketEntryEvent, TicketEvent};

/// Namespace paths.
pub const AGENT_NS: &str = "/agent";
pub const CUSTOMER_NS: &str = "/customer";

// Client → server (both namespaces unless noted).
pub const CHAT_CLAIM: &str = "chat:claim";
pub const CHAT_TRANSFER: &str = "chat:transfer";
pub const CHAT_CLOSE: &str = "chat:close";
pub const CHAT_REOPEN: &str = "chat:reopen";
pub const CHAT_TAG: &str = "chat:tag";
pub const CHAT_START: &str = "chat:start";
pub const CHAT_RATE: &str = "chat:rate";
pub const CUSTOMER_BLOCK: &str = "customer:block";
pub const MESSAGE_SEND: &str = "message:send";
pub const MESSAGE_READ: &str = "message:read";
pub const TYPING: &str = "typing";
pub const PRESENCE_SET: &str = "presence:set";
pub const SYNC: &str = "sync";
pub const PING: &str = "ping:rtt";

// Server → client.
pub const SESSION: &str = "session";
pub const CHAT_CREATED: &str = "chat:created";
pub const CHAT_UPDATED: &str = "chat:updated";
pub const MESSAGE_NEW: &str = "message:new";
pub const PRESENCE: &str = "presence";
pub const NOTIFICATION: &str = "notification";
pub const CUSTOMER_UPDATED: &str = "customer:updated";
pub const TICKET_CREATED: &str = "ticket:created";
pub const TICKET_UPDATED: &str = "ticket:updated";
pub const TICKET_ENTRY: &str = "ticket:entry";

/// The ack of every state-changing event: `{"ok":true,"data":..}` or
/// `{"ok":false,"error":{..}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Ack<T> {
    Ok { ok: AckTrue, data: T },
    Err { ok: AckFalse, error: ApiError },
}

impl<T> Ack<T> {
    pub fn ok(data: T) -> Self {
        Ack::Ok { ok: AckTrue, data }
    }
    pub fn err(error: ApiError) -> Self {
        Ack::Err {
            ok: AckFalse,
            error,
        }
    }
    pub fn into_result(self) -> Result<T, ApiError> {
        match self {
            Ack::Ok { data, .. } => Ok(data),
            Ack::Err { error, .. } => Err(error),
        }
    }
}

impl<T> From<Result<T, ApiError>> for Ack<T> {
    fn from(r: Result<T, ApiError>) -> Self {
        match r {
            Ok(d) => Ack::ok(d),
            Err(e) => Ack::err(e),
        }
    }
}

/// The literal `true` of a successful ack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AckTrue;
/// The literal `false` of a failed ack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AckFalse;

macro_rules! bool_literal {
    ($ty:ident, $val:literal) => {
        impl Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bool($val)
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let b = bool::deserialize(d)?;
                if b == $val {
                    Ok($ty)
                } else {
                    Err(serde::de::Error::custom(concat!("expected ", $val)))
                }
            }
        }
    };
}
bool_literal!(AckTrue, true);
bool_literal!(AckFalse, false);

/// An empty ack payload, `{}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Empty {}

// ---- /agent requests ----

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatRef {
    pub chat_id: ChatId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferReq {
    pub chat_id: ChatId,
    #[serde(default)]
    pub to_agent_id: Option<String>,
    #[serde(default)]
    pub to_department_id: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloseReq {
    pub chat_id: ChatId,
    #[serde(default)]
    pub resolution: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagReq {
    pub chat_id: ChatId,
    #[serde(default)]
    pub add: Vec<String>,
    #[serde(default)]
    pub remove: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentSendReq {
    pub chat_id: ChatId,
    pub client_msg_id: String,
    pub body: String,
    #[serde(default)]
    pub kind: Option<MessageKind>,
    #[serde(default)]
    pub attachment_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentReadReq {
    pub chat_id: ChatId,
    pub seq: Seq,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentTypingReq {
    pub chat_id: ChatId,
    pub typing: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceReq {
    pub status: AgentStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockReq {
    pub customer_id: CustomerId,
    #[serde(default = "default_true")]
    pub blocked: bool,
}

fn default_true() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncReq {
    pub since_event_id: EventId,
}

// ---- /customer requests ----

/// The auth payload of the `/customer` namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CustomerAuth {
    #[serde(default)]
    pub visitor_token: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

/// The auth payload of the `/agent` namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentAuth {
    pub token: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartReq {
    pub body: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub department_id: Option<String>,
    /// Makes a retried start idempotent, like `message:send`.
    #[serde(default)]
    pub client_msg_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartAck {
    pub chat: Chat,
    pub message: Message,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerSendReq {
    pub client_msg_id: String,
    pub body: String,
    #[serde(default)]
    pub chat_id: Option<ChatId>,
    /// Files uploaded first with `POST /api/v1/visitor/attachments`.
    #[serde(default)]
    pub attachment_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerReadReq {
    pub seq: Seq,
    #[serde(default)]
    pub chat_id: Option<ChatId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerTypingReq {
    pub typing: bool,
    #[serde(default)]
    pub chat_id: Option<ChatId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateReq {
    pub score: u8,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub chat_id: Option<ChatId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionPayload {
    pub visitor_token: String,
    pub customer_id: CustomerId,
    /// The visitor's open chat, if any (so a reloaded page resumes it).
    #[serde(default)]
    pub chat_id: Option<ChatId>,
}

// ---- server → client pushes ----

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatEvent {
    pub event_id: EventId,
    pub chat: Chat,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageEvent {
    pub event_id: EventId,
    pub message: Message,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypingEvent {
    pub chat_id: ChatId,
    pub author: Author,
    pub typing: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadEvent {
    pub event_id: EventId,
    pub chat_id: ChatId,
    pub reader: Author,
    pub seq: Seq,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceEvent {
    pub event_id: EventId,
    pub agent: Agent,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationEvent {
    pub event_id: EventId,
    pub notification: Notification,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerEvent {
    pub event_id: EventId,
    pub customer: Customer,
}

/// A pushed event with its name, as `sync` returns it:
/// `{"event": "message:new", "data": {..the pushed payload..}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", content = "data")]
pub enum ServerEvent {
    #[serde(rename = "chat:created")]
    ChatCreated(ChatEvent),
    #[serde(rename = "chat:updated")]
    ChatUpdated(ChatEvent),
    #[serde(rename = "message:new")]
    MessageNew(MessageEvent),
    #[serde(rename = "message:read")]
    MessageRead(ReadEvent),
    #[serde(rename = "presence")]
    Presence(PresenceEvent),
    #[serde(rename = "notification")]
    Notification(NotificationEvent),
    #[serde(rename = "customer:updated")]
    CustomerUpdated(CustomerEvent),
    #[serde(rename = "ticket:created")]
    TicketCreated(TicketEvent),
    #[serde(rename = "ticket:updated")]
    TicketUpdated(TicketEvent),
    #[serde(rename = "ticket:entry")]
    TicketEntry(TicketEntryEvent),
}

impl ServerEvent {
    pub fn name(&self) -> &'static str {
        match self {
            ServerEvent::ChatCreated(_) => CHAT_CREATED,
            ServerEvent::ChatUpdated(_) => CHAT_UPDATED,
            ServerEvent::MessageNew(_) => MESSAGE_NEW,
            ServerEvent::MessageRead(_) => MESSAGE_READ,
            ServerEvent::Presence(_) => PRESENCE,
            ServerEvent::Notification(_) => NOTIFICATION,
            ServerEvent::CustomerUpdated(_) => CUSTOMER_UPDATED,
            ServerEvent::TicketCreated(_) => TICKET_CREATED,
            ServerEvent::TicketUpdated(_) => TICKET_UPDATED,
            ServerEvent::TicketEntry(_) => TICKET_ENTRY,
        }
    }

    pub fn event_id(&self) -> EventId {
        match self {
            ServerEvent::ChatCreated(e) | ServerEvent::ChatUpdated(e) => e.event_id,
            ServerEvent::MessageNew(e) => e.event_id,
            ServerEvent::MessageRead(e) => e.event_id,
            ServerEvent::Presence(e) => e.event_id,
            ServerEvent::Notification(e) => e.event_id,
            ServerEvent::CustomerUpdated(e) => e.event_id,
            ServerEvent::TicketCreated(e) | ServerEvent::TicketUpdated(e) => e.event_id,
            ServerEvent::TicketEntry(e) => e.event_id,
        }
    }
}

/// The ack of `sync`: either the missed events, or `{"resync": true}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SyncAck {
    Events {
        events: Vec<ServerEvent>,
        latest_event_id: EventId,
    },
    Resync {
        resync: bool,
        latest_event_id: EventId,
    },
}

/// The ack of the `ping:rtt` latency probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pong {
    pub server_time_ms: i64,
}

/// A customer's view of its own chat, pushed as `chat:updated` on `/customer`.
pub type CustomerChat = Chat;

/// A customer pushed on `customer:updated` (e.g. blocked or tagged).
pub type CustomerUpdate = Customer;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use serde_json::json;

    #[test]
    fn ack_ok_and_err_shapes() {
        let ok: Ack<Empty> = Ack::ok(Empty {});
        assert_eq!(
            serde_json::to_value(&ok).unwrap(),
            json!({"ok": true, "data": {}})
        );
        let err: Ack<Empty> = Ack::err(ApiError::conflict("taken"));
        assert_eq!(
            serde_json::to_value(&err).unwrap(),
            json!({"ok": false, "error": {"code": "conflict", "message": "taken"}})
        );
        let back: Ack<Empty> = serde_json::from_value(
            json!({"ok": false, "error": {"code": "invalid", "message": "x"}}),
        )
        .unwrap();
        assert_eq!(back.into_result().unwrap_err().code, ErrorCode::Invalid);
        // `ok: true` with an error body is not a valid ack.
        assert!(
            serde_json::from_value::<Ack<Empty>>(
                json!({"ok": true, "error": {"code": "invalid", "message": "x"}})
            )
            .is_err()
        );
    }

    #[test]
    fn agent_send_defaults() {
        let r: AgentSendReq =
            serde_json::from_value(json!({"chat_id": "c", "client_msg_id": "u", "body": "hi"}))
                .unwrap();
        assert_eq!(r.kind, None);
        assert!(r.attachment_ids.is_empty());
    }

    #[test]
    fn sync_ack_round_trips_both_forms() {
        let a = SyncAck::Resync {
            resync: true,
            latest_event_id: 9,
        };
        let v = serde_json::to_value(&a).unwrap();
        assert_eq!(v, json!({"resync": true, "latest_event_id": 9}));
        assert_eq!(serde_json::from_value::<SyncAck>(v).unwrap(), a);
        let b = SyncAck::Events {
            events: vec![],
            latest_event_id: 3,
        };
        let v = serde_json::to_value(&b).unwrap();
        assert_eq!(serde_json::from_value::<SyncAck>(v).unwrap(), b);
    }
}
