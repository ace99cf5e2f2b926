//! The objects of the wire contract: agents, departments, customers, chats, messages.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub type AgentId = String;
pub type ChatId = String;
pub type CustomerId = String;
pub type DepartmentId = String;
pub type MessageId = String;
pub type EventId = i64;
pub type Seq = i64;

/// What an agent may do: agents work their departments' queues, supervisors and
/// admins see every chat, admins also manage the team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Agent,
    Supervisor,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Agent, Role::Supervisor, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }

    /// Supervisors and admins see every chat, not only their departments'.
    pub fn sees_everything(self) -> bool {
        matches!(self, Role::Supervisor | Role::Admin)
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role {s:?}: expected agent, supervisor or admin"))
    }
}

/// An agent's availability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentStatus {
    Online,
    Away,
    Busy,
    Dnd,
    InMeeting,
    OnLeave,
    Offline,
}

impl AgentStatus {
    pub const ALL: [AgentStatus; 7] = [
        AgentStatus::Online,
        AgentStatus::Away,
        AgentStatus::Busy,
        AgentStatus::Dnd,
        AgentStatus::InMeeting,
        AgentStatus::OnLeave,
        AgentStatus::Offline,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AgentStatus::Online => "online",
            AgentStatus::Away => "away",
            AgentStatus::Busy => "busy",
            AgentStatus::Dnd => "dnd",
            AgentStatus::InMeeting => "in_meeting",
            AgentStatus::OnLeave => "on_leave",
            AgentStatus::Offline => "offline",
        }
    }
}

impl std::str::FromStr for AgentStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AgentStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown status {s:?}: expected one of online, away, busy, dnd, in_meeting, on_leave, offline"
                )
            })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    pub id: AgentId,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub status: AgentStatus,
    pub department_ids: Vec<DepartmentId>,
    pub max_chats: u32,
    /// Chats currently assigned and open (the agent's load).
    #[serde(default)]
    pub active_chats: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Department {
    pub id: DepartmentId,
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub id: CustomerId,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub location: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub custom_fields: BTreeMap<String, String>,
    #[serde(default)]
    pub blocked: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A customer with the chats they had before (newest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerProfile {
    #[serde(flatten)]
    pub customer: Customer,
    pub previous_chats: Vec<ChatSummary>,
    /// The customer's tickets the reader may see, newest first (at most 100).
    #[serde(default)]
    pub tickets: Vec<crate::ticket::Ticket>,
    /// Internal notes agents keep about the customer, newest first (never shown to
    /// the customer).
    #[serde(default)]
    pub notes: Vec<CustomerNote>,
}

/// An internal note about a customer, written by an agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerNote {
    pub id: String,
    pub customer_id: CustomerId,
    pub author: Author,
    pub body: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatStatus {
    Waiting,
    Active,
    Closed,
}

impl ChatStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ChatStatus::Waiting => "waiting",
            ChatStatus::Active => "active",
            ChatStatus::Closed => "closed",
        }
    }
}

impl std::str::FromStr for ChatStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "waiting" => Ok(ChatStatus::Waiting),
            "active" => Ok(ChatStatus::Active),
            "closed" => Ok(ChatStatus::Closed),
            _ => Err(format!(
                "unknown chat status {s:?}: expected waiting, active or closed"
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rating {
    pub score: u8,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chat {
    pub id: ChatId,
    pub status: ChatStatus,
    pub customer: Customer,
    pub department_id: DepartmentId,
    pub assignee_id: Option<AgentId>,
    /// The assigned agent's display name (what the visitor sees).
    #[serde(default)]
    pub assignee_name: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_message_at: OffsetDateTime,
    /// Customer messages after the last one an agent marked read.
    #[serde(default)]
    pub unread_count: u32,
    pub last_message: Option<Message>,
    pub rating: Option<Rating>,
    /// 1-based position in the department's waiting queue, while waiting.
    #[serde(default)]
    pub queue_position: Option<u32>,
    /// The highest `seq` in the chat.
    #[serde(default)]
    pub last_seq: Seq,
    /// The highest `seq` the customer has read (for agents' read receipts).
    #[serde(default)]
    pub customer_read_seq: Seq,
    /// The highest `seq` an agent has read (for the visitor's read receipts).
    #[serde(default)]
    pub agent_read_seq: Seq,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub closed_at: Option<OffsetDateTime>,
    #[serde(default)]
    pub resolution: Option<String>,
    /// The ticket this chat became (`POST /chats/{id}/ticket`), if any.
    #[serde(default)]
    pub ticket_id: Option<String>,
}

/// A line in a customer's history of chats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatSummary {
    pub id: ChatId,
    pub status: ChatStatus,
    pub department_id: DepartmentId,
    pub assignee_id: Option<AgentId>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_message_at: OffsetDateTime,
    pub message_count: i64,
    pub rating: Option<Rating>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthorKind {
    Customer,
    Agent,
    System,
}

impl AuthorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthorKind::Customer => "customer",
            AuthorKind::Agent => "agent",
            AuthorKind::System => "system",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author {
    pub kind: AuthorKind,
    pub id: String,
    pub name: String,
}

/// `note` is an internal note: agents only, never sent to a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    #[default]
    Text,
    Note,
    Event,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Text => "text",
            MessageKind::Note => "note",
            MessageKind::Event => "event",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: String,
    pub name: String,
    pub content_type: String,
    pub size: u64,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub id: MessageId,
    pub chat_id: ChatId,
    pub seq: Seq,
    pub client_msg_id: String,
    pub author: Author,
    pub kind: MessageKind,
    pub body: String,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A paginated list, the same shape on every list route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

/// Items without pagination totals (`GET /chats/{id}/messages`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Items<T> {
    pub items: Vec<T>,
}

/// Something an agent should notice: a chat assigned to them, a mention, an SLA alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub kind: String,
    pub title: String,
    pub body: String,
    pub chat_id: Option<ChatId>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn customer() -> Customer {
        Customer {
            id: "c1".into(),
            name: "Ada".into(),
            email: Some("ada@example.com".into()),
            phone: None,
            location: None,
            tags: vec!["vip".into()],
            custom_fields: BTreeMap::from([("plan".into(), "pro".into())]),
            blocked: false,
            created_at: datetime!(2026-01-02 03:04:05 UTC),
        }
    }

    #[test]
    fn message_round_trips_with_protocol_field_names() {
        let m = Message {
            id: "m1".into(),
            chat_id: "ch1".into(),
            seq: 3,
            client_msg_id: "0b9f8c2e-2a59-4b87-9b8e-2f7a0d0a0c11".into(),
            author: Author {
                kind: AuthorKind::Agent,
                id: "a1".into(),
                name: "Bo".into(),
            },
            kind: MessageKind::Note,
            body: "internal".into(),
            attachments: vec![],
            created_at: datetime!(2026-01-02 03:04:05 UTC),
        };
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(v["author"]["kind"], "agent");
        assert_eq!(v["kind"], "note");
        assert_eq!(v["created_at"], "2026-01-02T03:04:05Z");
        let back: Message = serde_json::from_value(v).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn chat_round_trips_and_nulls_are_explicit() {
        let c = Chat {
            id: "ch1".into(),
            status: ChatStatus::Waiting,
            customer: customer(),
            department_id: "d1".into(),
            assignee_id: None,
            assignee_name: None,
            tags: vec![],
            created_at: datetime!(2026-01-02 03:04:05 UTC),
            last_message_at: datetime!(2026-01-02 03:04:06 UTC),
            unread_count: 1,
            last_message: None,
            rating: None,
            queue_position: Some(2),
            last_seq: 1,
            customer_read_seq: 0,
            agent_read_seq: 0,
            closed_at: None,
            resolution: None,
            ticket_id: None,
        };
        let v = serde_json::to_value(&c).unwrap();
        assert!(v["assignee_id"].is_null());
        assert_eq!(v["status"], "waiting");
        assert_eq!(v["customer"]["custom_fields"]["plan"], "pro");
        let back: Chat = serde_json::from_value(v).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn enums_parse_from_their_wire_names() {
        for s in AgentStatus::ALL {
            assert_eq!(s.as_str().parse::<AgentStatus>(), Ok(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert!("sleeping".parse::<AgentStatus>().is_err());
        assert_eq!("closed".parse::<ChatStatus>(), Ok(ChatStatus::Closed));
    }

    #[test]
    fn customer_profile_flattens_customer() {
        let p = CustomerProfile {
            customer: customer(),
            previous_chats: vec![],
            tickets: Vec::new(),
            notes: Vec::new(),
        };
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["name"], "Ada");
        assert!(v["previous_chats"].as_array().unwrap().is_empty());
    }
}
