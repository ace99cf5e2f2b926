//! Who receives a committed event, and what a visitor sees of chats and messages.

use shared::events::ServerEvent;
use shared::model::{Chat, Message, MessageKind};

/// Who receives a published event.
#[derive(Debug, Clone, Default)]
pub struct Audience {
    pub department_id: Option<String>,
    pub prev_department_id: Option<String>,
    pub agent_id: Option<String>,
    /// Every agent (presence).
    pub broadcast: bool,
    /// The customer, with the customer-facing form of the event.
    pub customer: Option<(String, ServerEvent)>,
}

impl Audience {
    /// The agents who follow a chat: its department (and the one it left) and its
    /// assignee; supervisors and admins follow every chat.
    pub fn of_chat(department_id: &str, prev: Option<String>, assignee: Option<String>) -> Self {
        Audience {
            department_id: Some(department_id.to_owned()),
            prev_department_id: prev,
            agent_id: assignee,
            broadcast: false,
            customer: None,
        }
    }

    /// One agent only (their notifications).
    pub fn agent(agent_id: &str) -> Self {
        Audience {
            agent_id: Some(agent_id.to_owned()),
            ..Audience::default()
        }
    }

    /// Every agent.
    pub fn everyone() -> Self {
        Audience {
            broadcast: true,
            ..Audience::default()
        }
    }
}

/// A committed event and who may receive it.
#[derive(Debug, Clone)]
pub struct Published {
    pub event: ServerEvent,
    pub audience: Audience,
}

/// The customer-facing form of a chat: no internal tags, no agent-side counters, no
/// internal note as the last message.
pub fn customer_view(chat: &Chat) -> Chat {
    let mut c = chat.clone();
    c.tags.clear();
    c.unread_count = 0;
    c.customer.tags.clear();
    c.customer.custom_fields.clear();
    // The closing note is written for the team.
    c.resolution = None;
    c.ticket_id = None;
    if c.last_message
        .as_ref()
        .is_some_and(|m| m.kind == MessageKind::Note)
    {
        c.last_message = None;
    }
    c
}

/// Where a visitor downloads a file: their own route, not the agents'.
pub fn visitor_attachment_url(id: &str) -> String {
    format!("/api/v1/visitor/attachments/{id}")
}

/// A message as a visitor receives it (attachment links on the visitor route), or
/// nothing for an internal note.
pub fn customer_message(m: &Message) -> Message {
    let mut m = m.clone();
    for a in &mut m.attachments {
        a.url = visitor_attachment_url(&a.id);
    }
    m
}

/// May a visitor ever see this message?
pub fn visible_to_customer(kind: MessageKind) -> bool {
    kind != MessageKind::Note
}
