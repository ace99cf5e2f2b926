//! The one door for server data: every payload is decoded here and every string in
//! it passes `shared::text` sanitising exactly once, before it becomes state. One-line
//! fields (names, tags, ids) also lose line breaks; message bodies keep them.

use serde::de::DeserializeOwned;
use serde_json::Value;
use shared::ApiError;
use shared::canned::CannedResponse;
use shared::events::{
    ChatEvent, CustomerEvent, MessageEvent, NotificationEvent, PresenceEvent, ReadEvent,
    ServerEvent, SyncAck, TypingEvent,
};
use shared::model::{
    Agent, Attachment, Author, Chat, ChatSummary, Customer, CustomerProfile, Department, Items,
    Message, Notification, Page, Rating,
};
use shared::text::{sanitize, sanitize_line};
use shared::ticket::{Ticket, TicketEntry, TicketEntryEvent, TicketEvent, TicketLink};

/// Types that carry untrusted text.
pub trait Sanitize {
    fn sanitize(&mut self);
}

fn line(s: &mut String) {
    if let std::borrow::Cow::Owned(clean) = sanitize_line(s) {
        *s = clean;
    }
}

fn text(s: &mut String) {
    if let std::borrow::Cow::Owned(clean) = sanitize(s) {
        *s = clean;
    }
}

fn opt_line(s: &mut Option<String>) {
    if let Some(s) = s {
        line(s);
    }
}

fn opt_text(s: &mut Option<String>) {
    if let Some(s) = s {
        text(s);
    }
}

/// Error text longer than this is cut: a decoder may quote a whole hostile value.
const MAX_ERROR_CHARS: usize = 300;

/// An error string for the agent: serde, socket and system errors can quote what a
/// server or customer sent, so it is cleaned to one line and kept short.
pub fn clean_error(s: &str) -> String {
    let clean = sanitize_line(s);
    if clean.chars().count() <= MAX_ERROR_CHARS {
        return clean.into_owned();
    }
    let mut out: String = clean.chars().take(MAX_ERROR_CHARS - 1).collect();
    out.push('…');
    out
}

/// Decodes a payload and sanitises it: the only way server data enters the console.
/// A refusal names what serde saw, cleaned.
pub fn decode<T: DeserializeOwned + Sanitize>(v: Value) -> Result<T, String> {
    let mut t: T =
        serde_json::from_value(v).map_err(|e| clean_error(&format!("unexpected data: {e}")))?;
    t.sanitize();
    Ok(t)
}

impl Sanitize for Customer {
    fn sanitize(&mut self) {
        line(&mut self.id);
        line(&mut self.name);
        opt_line(&mut self.email);
        opt_line(&mut self.phone);
        opt_line(&mut self.location);
        self.tags.iter_mut().for_each(line);
        let fields = std::mem::take(&mut self.custom_fields);
        self.custom_fields = fields
            .into_iter()
            .map(|(mut k, mut v)| {
                line(&mut k);
                line(&mut v);
                (k, v)
            })
            .collect();
    }
}

impl Sanitize for Author {
    fn sanitize(&mut self) {
        line(&mut self.id);
        line(&mut self.name);
    }
}

impl Sanitize for Attachment {
    fn sanitize(&mut self) {
        line(&mut self.id);
        line(&mut self.name);
        line(&mut self.content_type);
        line(&mut self.url);
    }
}

impl Sanitize for Message {
    fn sanitize(&mut self) {
        line(&mut self.id);
        line(&mut self.chat_id);
        line(&mut self.client_msg_id);
        self.author.sanitize();
        text(&mut self.body);
        self.attachments.iter_mut().for_each(Sanitize::sanitize);
    }
}

impl Sanitize for shared::kb::Article {
    fn sanitize(&mut self) {
        line(&mut self.id);
        line(&mut self.slug);
        line(&mut self.title);
        text(&mut self.body);
        opt_line(&mut self.category_id);
        self.tags.iter_mut().for_each(line);
        line(&mut self.author_id);
    }
}

impl Sanitize for shared::kb::ArticleHit {
    fn sanitize(&mut self) {
        self.article.sanitize();
        line(&mut self.snippet);
    }
}

impl Sanitize for Rating {
    fn sanitize(&mut self) {
        opt_text(&mut self.comment);
    }
}

impl Sanitize for Chat {
    fn sanitize(&mut self) {
        line(&mut self.id);
        line(&mut self.department_id);
        opt_line(&mut self.assignee_id);
        opt_line(&mut self.assignee_name);
        self.tags.iter_mut().for_each(line);
        self.customer.sanitize();
        if let Some(m) = &mut self.last_message {
            m.sanitize();
        }
        if let Some(r) = &mut self.rating {
            r.sanitize();
        }
        opt_text(&mut self.resolution);
    }
}

impl Sanitize for ChatSummary {
    fn sanitize(&mut self) {
        line(&mut self.id);
        line(&mut self.department_id);
        opt_line(&mut self.assignee_id);
        if let Some(r) = &mut self.rating {
            r.sanitize();
        }
    }
}

impl Sanitize for CustomerProfile {
    fn sanitize(&mut self) {
        self.customer.sanitize();
        self.previous_chats.iter_mut().for_each(Sanitize::sanitize);
        self.tickets.iter_mut().for_each(Sanitize::sanitize);
    }
}

impl Sanitize for Agent {
    fn sanitize(&mut self) {
        line(&mut self.id);
        line(&mut self.name);
        line(&mut self.email);
        self.department_ids.iter_mut().for_each(line);
    }
}

impl Sanitize for Department {
    fn sanitize(&mut self) {
        line(&mut self.id);
        line(&mut self.name);
    }
}

impl Sanitize for TicketLink {
    fn sanitize(&mut self) {
        line(&mut self.ticket_id);
    }
}

impl Sanitize for Ticket {
    fn sanitize(&mut self) {
        line(&mut self.id);
        line(&mut self.subject);
        self.customer.sanitize();
        line(&mut self.department_id);
        opt_line(&mut self.assignee_id);
        self.tags.iter_mut().for_each(line);
        opt_line(&mut self.chat_id);
        opt_line(&mut self.merged_into);
        self.links.iter_mut().for_each(Sanitize::sanitize);
        opt_text(&mut self.resolution);
    }
}

impl Sanitize for TicketEntry {
    fn sanitize(&mut self) {
        line(&mut self.id);
        line(&mut self.ticket_id);
        line(&mut self.client_msg_id);
        self.author.sanitize();
        text(&mut self.body);
        self.attachments.iter_mut().for_each(Sanitize::sanitize);
    }
}

impl Sanitize for Notification {
    fn sanitize(&mut self) {
        line(&mut self.kind);
        line(&mut self.title);
        line(&mut self.body);
        opt_line(&mut self.chat_id);
    }
}

impl Sanitize for ApiError {
    fn sanitize(&mut self) {
        // Error messages can quote what a user typed.
        line(&mut self.message);
    }
}

impl Sanitize for ServerEvent {
    fn sanitize(&mut self) {
        match self {
            ServerEvent::ChatCreated(ChatEvent { chat, .. })
            | ServerEvent::ChatUpdated(ChatEvent { chat, .. }) => chat.sanitize(),
            ServerEvent::MessageNew(MessageEvent { message, .. }) => message.sanitize(),
            ServerEvent::MessageRead(ReadEvent {
                chat_id, reader, ..
            }) => {
                line(chat_id);
                reader.sanitize();
            }
            ServerEvent::Presence(PresenceEvent { agent, .. }) => agent.sanitize(),
            ServerEvent::Notification(NotificationEvent { notification, .. }) => {
                notification.sanitize()
            }
            ServerEvent::CustomerUpdated(CustomerEvent { customer, .. }) => customer.sanitize(),
            ServerEvent::TicketCreated(TicketEvent { ticket, .. })
            | ServerEvent::TicketUpdated(TicketEvent { ticket, .. }) => ticket.sanitize(),
            ServerEvent::TicketEntry(TicketEntryEvent { entry, .. }) => entry.sanitize(),
        }
    }
}

impl Sanitize for TypingEvent {
    fn sanitize(&mut self) {
        line(&mut self.chat_id);
        self.author.sanitize();
    }
}

impl Sanitize for SyncAck {
    fn sanitize(&mut self) {
        if let SyncAck::Events { events, .. } = self {
            events.iter_mut().for_each(Sanitize::sanitize);
        }
    }
}

impl Sanitize for CannedResponse {
    fn sanitize(&mut self) {
        line(&mut self.id);
        line(&mut self.title);
        line(&mut self.shortcut);
        text(&mut self.body);
        opt_line(&mut self.category);
        line(&mut self.owner_id);
    }
}

impl Sanitize for shared::report::Period {
    fn sanitize(&mut self) {
        line(&mut self.from);
        line(&mut self.to);
        line(&mut self.tz);
    }
}

impl Sanitize for shared::report::Summary {
    fn sanitize(&mut self) {
        self.period.sanitize();
        let breakdown = std::mem::take(&mut self.csat.breakdown);
        self.csat.breakdown = breakdown
            .into_iter()
            .map(|(mut k, v)| {
                line(&mut k);
                (k, v)
            })
            .collect();
    }
}

impl Sanitize for shared::report::Timeseries {
    fn sanitize(&mut self) {
        self.period.sanitize();
        line(&mut self.metric);
        line(&mut self.bucket);
        for p in &mut self.points {
            line(&mut p.bucket);
        }
    }
}

impl<T: Sanitize> Sanitize for Page<T> {
    fn sanitize(&mut self) {
        self.items.iter_mut().for_each(Sanitize::sanitize);
    }
}

impl<T: Sanitize> Sanitize for Items<T> {
    fn sanitize(&mut self) {
        self.items.iter_mut().for_each(Sanitize::sanitize);
    }
}

impl<T: Sanitize> Sanitize for Vec<T> {
    fn sanitize(&mut self) {
        self.iter_mut().for_each(Sanitize::sanitize);
    }
}

/// Login answer: `{token, expires_at, agent}`.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct LoginAnswer {
    pub token: String,
    #[serde(default)]
    pub expires_at: Option<String>,
    pub agent: Agent,
}

impl Sanitize for LoginAnswer {
    fn sanitize(&mut self) {
        // The token goes back to the server only; it is never drawn.
        opt_line(&mut self.expires_at);
        self.agent.sanitize();
    }
}

/// Text that is drawn as it came (a transcript written to a file is not drawn).
pub fn clean_text(s: &str) -> String {
    sanitize(s).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NASTY: &str = "hi\u{1b}[2J\u{1b}]52;c;ZXZpbA==\u{7}\u{202E}evil\u{200B}\u{9b}31m!";

    #[test]
    fn every_string_of_a_pushed_message_is_cleaned() {
        let v = json!({
            "event": "message:new",
            "data": {"event_id": 7, "message": {
                "id": "m1", "chat_id": "c1", "seq": 1, "client_msg_id": "x",
                "author": {"kind": "customer", "id": "cu1", "name": NASTY},
                "kind": "text", "body": format!("{NASTY}\nline two"), "attachments": [],
                "created_at": "2026-01-02T03:04:05Z"}}
        });
        let ev: ServerEvent = decode(v).unwrap();
        let ServerEvent::MessageNew(m) = ev else {
            panic!("wrong event")
        };
        assert_eq!(m.message.author.name, "hievil!");
        assert_eq!(m.message.body, "hievil!\nline two");
    }

    #[test]
    fn a_profiles_tickets_are_cleaned_too() {
        let v = json!({
            "id": "cu1", "name": "Ada", "email": null, "phone": null, "location": null,
            "tags": [], "custom_fields": {}, "blocked": false,
            "created_at": "2026-01-02T03:04:05Z", "previous_chats": [],
            "tickets": [{
                "id": "t1", "number": 1001, "subject": NASTY, "status": "open",
                "priority": "high", "department_id": "d1", "assignee_id": null,
                "customer": {"id": "cu1", "name": NASTY, "email": null, "phone": null,
                    "location": null, "tags": [], "custom_fields": {}, "blocked": false,
                    "created_at": "2026-01-02T03:04:05Z"},
                "tags": [NASTY], "due_at": null, "created_at": "2026-01-02T03:04:05Z",
                "updated_at": "2026-01-02T03:04:05Z", "source": "widget", "chat_id": null,
                "merged_into": null, "links": [], "resolution": NASTY, "spam": false,
                "last_seq": 1, "entry_count": 1
            }]
        });
        let p: CustomerProfile = decode(v).unwrap();
        let t = &p.tickets[0];
        assert_eq!(t.subject, "hievil!");
        assert_eq!(t.customer.name, "hievil!");
        assert_eq!(t.tags, ["hievil!"]);
        assert_eq!(t.resolution.as_deref(), Some("hievil!"));
    }

    #[test]
    fn one_line_fields_lose_breaks() {
        let mut c = Customer {
            id: "c".into(),
            name: "A\nB\u{1b}[31m".into(),
            email: Some("a@b.c\r\n".into()),
            phone: None,
            location: Some("Par\u{202E}is".into()),
            tags: vec!["t\tx".into()],
            custom_fields: [("k\u{1b}]0;x\u{7}".to_owned(), "v\nw".to_owned())].into(),
            blocked: false,
            created_at: time::OffsetDateTime::UNIX_EPOCH,
        };
        c.sanitize();
        assert_eq!(c.name, "A B");
        assert_eq!(c.email.as_deref(), Some("a@b.c "));
        assert_eq!(c.location.as_deref(), Some("Paris"));
        assert_eq!(c.tags, vec!["t x"]);
        assert_eq!(c.custom_fields.get("k").map(String::as_str), Some("v w"));
    }
}
