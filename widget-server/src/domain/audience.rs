//! Who receives a committed event, and what a visitor sees of chats and messages.

use shared::events::ServerEvent;
use shared::model::{Chat, Message, MessageKind, Seq};

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

/// A chat's counters in its visitor's numbering. A visitor never sees the chat's own
/// `seq` numbers (their gaps would show where internal notes sit): every message has a
/// `customer_seq`, the count of visitor-visible messages up to and including it (a
/// note repeats the number before it), and the visitor sends and receives only those.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VisitorNumbers {
    /// The visitor's number of the chat's last visible message.
    pub last_seq: Seq,
    /// The highest visitor number at or before the agents' read position.
    pub agent_read_seq: Seq,
    /// The visitor's own read position, in their numbering.
    pub customer_read_seq: Seq,
}

/// The `customer_seq` of a new message, given the chat's count of visible messages
/// before it: visible messages count up, a note repeats the number before it.
pub fn next_customer_seq(visible_before: Seq, kind: MessageKind) -> Seq {
    if visible_to_customer(kind) {
        visible_before + 1
    } else {
        visible_before
    }
}

/// Whether an agent's read receipt is news for the visitor: their receipt is the
/// highest visitor number at or before the agent's seq (`before` and `after` the
/// receipt), pushed only when it moved, so reading past a note tells them nothing.
pub fn visitor_read_receipt(before: Seq, after: Seq) -> Option<Seq> {
    (after > before).then_some(after)
}

/// The customer-facing form of a chat: no internal tags, no agent-side counters, no
/// internal note as the last message, every counter in the visitor's numbering.
pub fn customer_view(chat: &Chat, numbers: &VisitorNumbers) -> Chat {
    let mut c = chat.clone();
    c.tags.clear();
    c.unread_count = 0;
    c.customer.tags.clear();
    c.customer.custom_fields.clear();
    // The closing note is written for the team.
    c.resolution = None;
    c.ticket_id = None;
    c.last_seq = numbers.last_seq;
    c.agent_read_seq = numbers.agent_read_seq;
    c.customer_read_seq = numbers.customer_read_seq;
    c.last_message = match c.last_message.take() {
        Some(m) if visible_to_customer(m.kind) => Some(customer_message(&m, numbers.last_seq)),
        // A note as the last message: the visitor's last one is not at hand.
        _ => None,
    };
    c
}

/// Where a visitor downloads a file: their own route, not the agents'.
pub fn visitor_attachment_url(id: &str) -> String {
    format!("/api/v1/visitor/attachments/{id}")
}

/// A visible message as a visitor receives it: numbered `customer_seq` in their
/// numbering, attachment links on the visitor route.
pub fn customer_message(m: &Message, customer_seq: Seq) -> Message {
    let mut m = m.clone();
    m.seq = customer_seq;
    for a in &mut m.attachments {
        a.url = visitor_attachment_url(&a.id);
    }
    m
}

/// May a visitor ever see this message?
pub fn visible_to_customer(kind: MessageKind) -> bool {
    kind != MessageKind::Note
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::model::{Author, AuthorKind, ChatStatus, Customer};
    use time::OffsetDateTime;

    fn message(seq: Seq, kind: MessageKind) -> Message {
        Message {
            id: format!("m{seq}"),
            chat_id: "ch1".into(),
            seq,
            client_msg_id: format!("c{seq}"),
            author: Author {
                kind: AuthorKind::Agent,
                id: "a1".into(),
                name: "Bo".into(),
            },
            kind,
            body: "hello".into(),
            attachments: vec![],
            created_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn chat(last: Message) -> Chat {
        Chat {
            id: "ch1".into(),
            status: ChatStatus::Active,
            customer: Customer {
                id: "c1".into(),
                name: "Ada".into(),
                email: None,
                phone: None,
                location: None,
                tags: vec!["vip".into()],
                custom_fields: Default::default(),
                blocked: false,
                created_at: OffsetDateTime::UNIX_EPOCH,
            },
            department_id: "d1".into(),
            assignee_id: Some("a1".into()),
            assignee_name: Some("Bo".into()),
            tags: vec!["refund".into()],
            created_at: OffsetDateTime::UNIX_EPOCH,
            last_message_at: OffsetDateTime::UNIX_EPOCH,
            unread_count: 2,
            last_seq: last.seq,
            last_message: Some(last),
            rating: None,
            queue_position: None,
            customer_read_seq: 4,
            agent_read_seq: 5,
            ticket_id: None,
            closed_at: None,
            resolution: Some("internal".into()),
        }
    }

    #[test]
    fn visitor_numbering_hides_notes() {
        // text, note, event, note, text: the visitor counts 1, 1, 2, 2, 3.
        let kinds = [
            MessageKind::Text,
            MessageKind::Note,
            MessageKind::Event,
            MessageKind::Note,
            MessageKind::Text,
        ];
        let mut visible = 0;
        let numbers: Vec<Seq> = kinds
            .iter()
            .map(|k| {
                visible = next_customer_seq(visible, *k);
                visible
            })
            .collect();
        assert_eq!(numbers, vec![1, 1, 2, 2, 3]);
    }

    #[test]
    fn read_receipt_on_a_note_is_not_pushed_to_the_visitor() {
        // Reading a note after message 3 leaves the visitor's number at 3.
        assert_eq!(visitor_read_receipt(3, 3), None);
        assert_eq!(visitor_read_receipt(3, 4), Some(4));
        assert_eq!(visitor_read_receipt(0, 1), Some(1));
    }

    #[test]
    fn the_customer_view_numbers_the_chat_for_the_visitor() {
        let numbers = VisitorNumbers {
            last_seq: 3,
            agent_read_seq: 2,
            customer_read_seq: 3,
        };
        let v = customer_view(&chat(message(6, MessageKind::Text)), &numbers);
        assert_eq!(
            (v.last_seq, v.agent_read_seq, v.customer_read_seq),
            (3, 2, 3)
        );
        assert_eq!(v.last_message.as_ref().map(|m| m.seq), Some(3));
        assert!(v.tags.is_empty() && v.customer.tags.is_empty());
        assert_eq!((v.unread_count, v.resolution), (0, None));
        // A note as the last message is not shown, nor its number.
        let v = customer_view(&chat(message(6, MessageKind::Note)), &numbers);
        assert!(v.last_message.is_none());
        assert_eq!(v.last_seq, 3);
    }

    #[test]
    fn a_visitors_message_carries_their_number_and_link() {
        let mut m = message(7, MessageKind::Text);
        m.attachments.push(shared::model::Attachment {
            id: "f1".into(),
            name: "a.png".into(),
            content_type: "image/png".into(),
            size: 1,
            url: "/api/v1/attachments/f1".into(),
        });
        let c = customer_message(&m, 4);
        assert_eq!(c.seq, 4);
        assert_eq!(c.attachments[0].url, "/api/v1/visitor/attachments/f1");
    }
}
