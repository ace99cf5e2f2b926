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
    fn priorities_are_ordered() {
        assert!(TicketPriority::Low < TicketPriority::Medium);
        assert!(TicketPriority::High < TicketPriority::Urgent);
    }
}
