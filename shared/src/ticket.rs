//! Tickets: the asynchronous half of the helpdesk. A ticket has a human number
//! (`#1042`), a status and a priority, and a timeline of entries (replies the
//! customer sees, internal notes, and an event line for every change).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::model::{AgentId, Attachment, Author, ChatId, Customer, DepartmentId, EventId, Seq};

pub type TicketId = String;
pub type EntryId = String;

macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal, { $($variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire),+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| {
                        let names: Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
                        format!("unknown {} {s:?}: expected one of {}", $what, names.join(", "))
                    })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_enum!(
    /// Where a ticket is in its life: `open` (someone must act), `pending` (waiting on
    /// the customer), `resolved` (answered; the customer may still reply), `closed`.
    TicketStatus, "ticket status", {
        Open => "open",
        Pending => "pending",
        Resolved => "resolved",
        Closed => "closed",
    }
);

wire_enum!(
    /// Ordered: `low < medium < high < urgent`.
    TicketPriority, "priority", {
        Low => "low",
        Medium => "medium",
        High => "high",
        Urgent => "urgent",
    }
);

wire_enum!(
    /// How the ticket came in.
    TicketSource, "ticket source", {
        Agent => "agent",
        Chat => "chat",
        Widget => "widget",
        Email => "email",
    }
);

wire_enum!(
    /// How two tickets relate.
    LinkKind, "link kind", {
        Related => "related",
        DuplicateOf => "duplicate_of",
        SplitFrom => "split_from",
    }
);

wire_enum!(
    /// `reply` reaches the customer, `note` never does, `event` records a change.
    EntryKind, "entry kind", {
        Reply => "reply",
        Note => "note",
        Event => "event",
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketLink {
    pub ticket_id: TicketId,
    pub kind: LinkKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: TicketId,
    /// Shown as `#1042`; unique across the deployment and never reused.
    pub number: i64,
    pub subject: String,
    pub status: TicketStatus,
    pub priority: TicketPriority,
    pub customer: Customer,
    pub department_id: DepartmentId,
    pub assignee_id: Option<AgentId>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub due_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub source: TicketSource,
    pub chat_id: Option<ChatId>,
    pub merged_into: Option<TicketId>,
    #[serde(default)]
    pub links: Vec<TicketLink>,
    pub resolution: Option<String>,
    #[serde(default)]
    pub spam: bool,
    /// The highest entry `seq`.
    #[serde(default)]
    pub last_seq: Seq,
    /// How many entries the timeline holds (for the reader: what it may see).
    #[serde(default)]
    pub entry_count: i64,
}

impl Ticket {
    /// `#1042`.
    pub fn label(&self) -> String {
        format!("#{}", self.number)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketEntry {
    pub id: EntryId,
    pub ticket_id: TicketId,
    pub seq: Seq,
    pub client_msg_id: String,
    pub author: Author,
    pub kind: EntryKind,
    pub body: String,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// `ticket:created` / `ticket:updated`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketEvent {
    pub event_id: EventId,
    pub ticket: Ticket,
}

/// `ticket:entry`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketEntryEvent {
    pub event_id: EventId,
    pub entry: TicketEntry,
}

/// `null` and absent differ: `Some(None)` is an explicit `null` (clear the field).
fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// `POST /tickets`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTicketRequest {
    pub subject: String,
    pub body: String,
    #[serde(default)]
    pub customer_email: Option<String>,
    #[serde(default)]
    pub customer_name: Option<String>,
    #[serde(default)]
    pub customer_id: Option<String>,
    #[serde(default)]
    pub department_id: Option<String>,
    #[serde(default)]
    pub priority: Option<String>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub due_at: Option<String>,
    #[serde(default)]
    pub assignee_id: Option<String>,
    #[serde(default)]
    pub client_msg_id: Option<String>,
    /// The body is the customer's words typed by the agent (default: true when the
    /// customer is named by email).
    #[serde(default)]
    pub on_behalf: Option<bool>,
}

/// `PATCH /tickets/{id}`: absent fields stay; `null` clears `assignee_id`/`due_at`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateTicketRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub assignee_id: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_tags: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove_tags: Option<Vec<String>>,
    #[serde(
        default,
        deserialize_with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub due_at: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
}

/// `POST /tickets/{id}/entries` (agents) and `/visitor/tickets/{id}/entries`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEntryRequest {
    #[serde(default)]
    pub kind: Option<EntryKind>,
    pub body: String,
    pub client_msg_id: String,
    #[serde(default)]
    pub attachment_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    pub into: TicketId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitRequest {
    pub entry_ids: Vec<EntryId>,
    pub subject: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    pub ticket_id: TicketId,
    #[serde(default = "related")]
    pub kind: LinkKind,
}

fn related() -> LinkKind {
    LinkKind::Related
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalateRequest {
    #[serde(default)]
    pub to_department_id: Option<String>,
    #[serde(default)]
    pub to_agent_id: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpamRequest {
    pub spam: bool,
    #[serde(default)]
    pub block_customer: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    pub resolution: String,
}

/// `POST /visitor/tickets`: leave a message as a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisitorTicketRequest {
    #[serde(default)]
    pub subject: Option<String>,
    pub body: String,
    pub email: String,
    #[serde(default)]
    pub name: Option<String>,
    pub client_msg_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_use_their_wire_names_and_refuse_others() {
        for p in TicketPriority::ALL {
            assert_eq!(p.as_str().parse::<TicketPriority>(), Ok(*p));
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
        }
        assert_eq!(
            "duplicate_of".parse::<LinkKind>(),
            Ok(LinkKind::DuplicateOf)
        );
        let err = "later".parse::<TicketStatus>().unwrap_err();
        assert!(err.contains("open, pending, resolved, closed"), "{err}");
    }

    #[test]
    fn a_patch_tells_null_from_absent() {
        let r: UpdateTicketRequest =
            serde_json::from_str(r#"{"assignee_id": null, "priority": "high"}"#).unwrap();
        assert_eq!(r.assignee_id, Some(None));
        assert_eq!(r.due_at, None);
        let r: UpdateTicketRequest = serde_json::from_str(r#"{"due_at": "x"}"#).unwrap();
        assert_eq!(r.due_at, Some(Some("x".into())));
        assert!(serde_json::from_str::<UpdateTicketRequest>(r#"{"priorty": "high"}"#).is_err());
    }

    #[test]
    fn priorities_are_ordered() {
        assert!(TicketPriority::Low < TicketPriority::Medium);
        assert!(TicketPriority::High < TicketPriority::Urgent);
    }
}
