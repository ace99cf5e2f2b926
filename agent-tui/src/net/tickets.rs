//! Ticket commands (the list, a ticket and its timeline, replies and notes, every
//! ticket action, export, a chat turned into a ticket, the customer's record and
//! notes) and their results, and how the worker runs them over REST.

use serde::Deserialize;
use serde_json::{Value, json};
use shared::model::{Author, ChatId, Customer, CustomerId, Items, Page};
use shared::text::sanitize_line;
use shared::ticket::{EntryKind, Ticket, TicketEntry, TicketId, TicketStatus};
use time::OffsetDateTime;

use super::sanitize::{Sanitize, clean_text};
use super::{Worker, rest_failed, transcript};
use crate::msg::NetEvent;
use crate::state::views::tickets::{
    AssigneeFilter, CustomerCard, CustomerNote, CustomerTicket, PER_PAGE, SpamFilter, TicketQuery,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketCmd {
    List {
        generation: u64,
        query: TicketQuery,
    },
    Load(TicketId),
    LoadEntries(TicketId),
    /// `POST /tickets/{id}/entries`.
    Post {
        ticket_id: TicketId,
        kind: EntryKind,
        body: String,
        client_msg_id: String,
    },
    /// Any ticket action that answers with a ticket: the body as the route takes it.
    Act {
        op: TicketOp,
        ticket_id: TicketId,
        body: Value,
    },
    Export {
        ticket_id: TicketId,
        path: String,
        json: bool,
        notes: bool,
    },
    FromChat {
        chat_id: ChatId,
        subject: Option<String>,
    },
    LoadCustomer(CustomerId),
    UpdateCustomer {
        customer_id: CustomerId,
        patch: Value,
    },
    AddCustomerNote {
        customer_id: CustomerId,
        body: String,
    },
    DeleteCustomerNote {
        customer_id: CustomerId,
        note_id: String,
    },
}

/// Which ticket action an answer is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketOp {
    Create,
    Update,
    Merge,
    Split,
    Clone,
    Link,
    Unlink,
    Escalate,
    Spam,
    Close,
    Reopen,
    FromChat,
}

impl TicketOp {
    pub fn verb(self) -> &'static str {
        match self {
            TicketOp::Create => "create the ticket",
            TicketOp::Update => "update",
            TicketOp::Merge => "merge",
            TicketOp::Split => "split",
            TicketOp::Clone => "clone",
            TicketOp::Link => "link",
            TicketOp::Unlink => "unlink",
            TicketOp::Escalate => "escalate",
            TicketOp::Spam => "mark as spam",
            TicketOp::Close => "close",
            TicketOp::Reopen => "reopen",
            TicketOp::FromChat => "turn the chat into a ticket",
        }
    }
}

#[derive(Debug, Clone)]
pub enum TicketReply {
    Listed {
        generation: u64,
        page: Page<Ticket>,
    },
    ListFailed {
        generation: u64,
        error: String,
    },
    Loaded(Ticket),
    EntriesLoaded {
        ticket_id: TicketId,
        entries: Vec<TicketEntry>,
    },
    Posted {
        client_msg_id: String,
        entry: TicketEntry,
    },
    PostFailed {
        client_msg_id: String,
        error: String,
    },
    /// The action went through; the ticket it answered with.
    Done {
        op: TicketOp,
        ticket: Ticket,
    },
    Failed {
        op: TicketOp,
        error: String,
    },
    Exported {
        path: String,
    },
    CustomerLoaded {
        customer: Customer,
        card: CustomerCard,
    },
    CustomerSaved(Customer),
    CustomerNotesChanged {
        customer_id: CustomerId,
    },
}

impl From<TicketReply> for NetEvent {
    fn from(r: TicketReply) -> NetEvent {
        NetEvent::Tickets(r)
    }
}

/// The list request's query string.
pub fn query_params(q: &TicketQuery) -> Vec<(&'static str, String)> {
    let f = &q.filter;
    let mut out = vec![
        ("sort", q.sort.as_str().to_owned()),
        ("page", q.page.max(1).to_string()),
        ("per_page", PER_PAGE.to_string()),
    ];
    let join = |v: Vec<&str>| v.join(",");
    if !f.status.is_empty() {
        out.push((
            "status",
            join(f.status.iter().map(|s| s.as_str()).collect()),
        ));
    }
    if !f.priority.is_empty() {
        out.push((
            "priority",
            join(f.priority.iter().map(|s| s.as_str()).collect()),
        ));
    }
    if let Some(p) = f.priority_min {
        out.push(("priority_min", p.as_str().to_owned()));
    }
    match &f.assignee {
        Some(AssigneeFilter::Me) => out.push(("assignee", "me".into())),
        Some(AssigneeFilter::Unassigned) => out.push(("assignee", "none".into())),
        Some(AssigneeFilter::Agent(id)) => out.push(("assignee", id.clone())),
        None => {}
    }
    if let Some(t) = &f.tag {
        out.push(("tag", t.clone()));
    }
    if let Some(d) = &f.department_id {
        out.push(("department_id", d.clone()));
    }
    match f.spam {
        SpamFilter::Hide => {}
        SpamFilter::Only => out.push(("spam", "true".into())),
        SpamFilter::Any => out.push(("spam", "any".into())),
    }
    if !q.search.trim().is_empty() {
        out.push(("q", q.search.trim().to_owned()));
    }
    out
}

/// `GET /customers/{id}` with what tickets added: the customer's tickets and notes.
/// Unknown or missing parts are left empty, so an older server still shows the
/// customer.
#[derive(Debug, Clone, Deserialize)]
struct CustomerRecord {
    #[serde(flatten)]
    customer: Customer,
    #[serde(default)]
    tickets: Vec<RecordTicket>,
    #[serde(default)]
    notes: Vec<RecordNote>,
}

#[derive(Debug, Clone, Deserialize)]
struct RecordTicket {
    id: String,
    #[serde(default)]
    number: i64,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    status: Option<TicketStatus>,
}

#[derive(Debug, Clone, Deserialize)]
struct RecordNote {
    id: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    author_name: Option<String>,
    #[serde(default)]
    author: Option<Author>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    created_at: Option<OffsetDateTime>,
}

impl Sanitize for CustomerRecord {
    fn sanitize(&mut self) {
        self.customer.sanitize();
        for t in &mut self.tickets {
            t.id = sanitize_line(&t.id).into_owned();
            t.subject = sanitize_line(&t.subject).into_owned();
        }
        for n in &mut self.notes {
            n.id = sanitize_line(&n.id).into_owned();
            n.body = clean_text(&n.body);
            if let Some(a) = &mut n.author_name {
                *a = sanitize_line(a).into_owned();
            }
            if let Some(a) = &mut n.author {
                a.sanitize();
            }
        }
    }
}

impl CustomerRecord {
    fn card(self) -> (Customer, CustomerCard) {
        let card = CustomerCard {
            tickets: self
                .tickets
                .into_iter()
                .map(|t| CustomerTicket {
                    id: t.id,
                    number: t.number,
                    subject: t.subject,
                    status: t.status,
                })
                .collect(),
            notes: self
                .notes
                .into_iter()
                .map(|n| CustomerNote {
                    author_name: n
                        .author_name
                        .or(n.author.map(|a| a.name))
                        .unwrap_or_default(),
                    id: n.id,
                    body: n.body,
                    created_at: n.created_at,
                })
                .collect(),
        };
        (self.customer, card)
    }
}

/// Any answer whose content is not needed (a deleted note).
#[derive(Debug, Clone, Deserialize)]
struct Ignored(#[allow(dead_code)] Value);

impl Sanitize for Ignored {
    fn sanitize(&mut self) {}
}

/// Strings of an exported JSON document, cleaned one by one (keys included).
fn clean_json(v: Value) -> Value {
    match v {
        Value::String(s) => Value::String(clean_text(&s)),
        Value::Array(a) => Value::Array(a.into_iter().map(clean_json).collect()),
        Value::Object(o) => Value::Object(
            o.into_iter()
                .map(|(k, v)| (sanitize_line(&k).into_owned(), clean_json(v)))
                .collect(),
        ),
        other => other,
    }
}

fn op_path(op: TicketOp, id: &str) -> (reqwest::Method, String) {
    use reqwest::Method;
    match op {
        TicketOp::Create => (Method::POST, "/tickets".into()),
        TicketOp::Update => (Method::PATCH, format!("/tickets/{id}")),
        TicketOp::Merge => (Method::POST, format!("/tickets/{id}/merge")),
        TicketOp::Split => (Method::POST, format!("/tickets/{id}/split")),
        TicketOp::Clone => (Method::POST, format!("/tickets/{id}/clone")),
        TicketOp::Link => (Method::POST, format!("/tickets/{id}/links")),
        TicketOp::Unlink => (Method::DELETE, format!("/tickets/{id}/links")),
        TicketOp::Escalate => (Method::POST, format!("/tickets/{id}/escalate")),
        TicketOp::Spam => (Method::POST, format!("/tickets/{id}/spam")),
        TicketOp::Close => (Method::POST, format!("/tickets/{id}/close")),
        TicketOp::Reopen => (Method::POST, format!("/tickets/{id}/reopen")),
        TicketOp::FromChat => (Method::POST, format!("/chats/{id}/ticket")),
    }
}

/// Entries fetched per request, and the most a timeline loads.
const ENTRY_PAGE: i64 = 500;
const MAX_ENTRIES: usize = 20_000;

impl Worker {
    pub(super) fn tickets(&self, cmd: TicketCmd) {
        match cmd {
            TicketCmd::List { generation, query } => self.rest_task(move |r| async move {
                match r
                    .get_as::<Page<Ticket>>("/tickets", &query_params(&query))
                    .await
                {
                    Ok(page) => TicketReply::Listed { generation, page }.into(),
                    Err(e) if e.is_unauthorized() => rest_failed("tickets", e),
                    Err(e) => TicketReply::ListFailed {
                        generation,
                        error: e.message(),
                    }
                    .into(),
                }
            }),
            TicketCmd::Load(id) => self.rest_task(move |r| async move {
                match r.get_as::<Ticket>(&format!("/tickets/{id}"), &[]).await {
                    Ok(t) => TicketReply::Loaded(t).into(),
                    Err(e) => rest_failed("loading a ticket", e),
                }
            }),
            TicketCmd::LoadEntries(ticket_id) => self.rest_task(move |r| async move {
                let mut entries: Vec<TicketEntry> = Vec::new();
                let mut after = 0;
                loop {
                    let q = [
                        ("after_seq", after.to_string()),
                        ("limit", ENTRY_PAGE.to_string()),
                    ];
                    let page = match r
                        .get_as::<Items<TicketEntry>>(&format!("/tickets/{ticket_id}/entries"), &q)
                        .await
                    {
                        Ok(p) => p.items,
                        Err(e) => return rest_failed("loading the timeline", e),
                    };
                    let n = page.len() as i64;
                    after = page.iter().map(|e| e.seq).max().unwrap_or(after);
                    entries.extend(page);
                    if n < ENTRY_PAGE || entries.len() >= MAX_ENTRIES {
                        break;
                    }
                }
                TicketReply::EntriesLoaded { ticket_id, entries }.into()
            }),
            TicketCmd::Post {
                ticket_id,
                kind,
                body,
                client_msg_id,
            } => self.rest_task(move |r| async move {
                let data = json!({"kind": kind, "body": body, "client_msg_id": client_msg_id});
                match r
                    .post_as::<TicketEntry>(&format!("/tickets/{ticket_id}/entries"), &data)
                    .await
                {
                    Ok(entry) => TicketReply::Posted {
                        client_msg_id,
                        entry,
                    }
                    .into(),
                    Err(e) if e.is_unauthorized() => rest_failed("reply", e),
                    Err(e) => TicketReply::PostFailed {
                        client_msg_id,
                        error: e.message(),
                    }
                    .into(),
                }
            }),
            TicketCmd::Act {
                op,
                ticket_id,
                body,
            } => self.rest_task(move |r| async move {
                let (method, mut path) = op_path(op, &ticket_id);
                let res = match method {
                    reqwest::Method::PATCH => r.patch_as::<Ticket>(&path, &body).await,
                    reqwest::Method::DELETE => {
                        let other = body["ticket_id"].as_str().unwrap_or_default();
                        path.push('/');
                        path.push_str(other);
                        match r.delete_path(&path).await {
                            Ok(()) => {
                                r.get_as::<Ticket>(&format!("/tickets/{ticket_id}"), &[])
                                    .await
                            }
                            Err(e) => Err(e),
                        }
                    }
                    _ => r.post_as::<Ticket>(&path, &body).await,
                };
                match res {
                    Ok(ticket) => TicketReply::Done { op, ticket }.into(),
                    Err(e) if e.is_unauthorized() => rest_failed(op.verb(), e),
                    Err(e) => TicketReply::Failed {
                        op,
                        error: e.message(),
                    }
                    .into(),
                }
            }),
            TicketCmd::FromChat { chat_id, subject } => self.rest_task(move |r| async move {
                let mut body = json!({});
                if let Some(s) = subject {
                    body["subject"] = Value::String(s);
                }
                match r
                    .post_as::<Ticket>(&format!("/chats/{chat_id}/ticket"), &body)
                    .await
                {
                    Ok(ticket) => TicketReply::Done {
                        op: TicketOp::FromChat,
                        ticket,
                    }
                    .into(),
                    Err(e) => TicketReply::Failed {
                        op: TicketOp::FromChat,
                        error: e.message(),
                    }
                    .into(),
                }
            }),
            TicketCmd::Export {
                ticket_id,
                path,
                json,
                notes,
            } => self.rest_task(move |r| async move {
                let q = [
                    ("format", if json { "json" } else { "text" }.to_owned()),
                    ("notes", notes.to_string()),
                ];
                let raw = match r
                    .get_text(&format!("/tickets/{ticket_id}/export"), &q)
                    .await
                {
                    Ok(t) => t,
                    Err(e) => return rest_failed("export", e),
                };
                // Whatever the server wrote, the file holds no escape sequence.
                let text = if json {
                    match serde_json::from_str::<Value>(&raw) {
                        Ok(v) => serde_json::to_string_pretty(&clean_json(v)).unwrap_or_default(),
                        Err(e) => {
                            return NetEvent::Failed {
                                what: "export".into(),
                                error: sanitize_line(&e.to_string()).into_owned(),
                            };
                        }
                    }
                } else {
                    clean_text(&raw)
                };
                let failed = |error: String| NetEvent::Failed {
                    what: "export".into(),
                    error,
                };
                match tokio::task::spawn_blocking(move || transcript::write_new(&path, &text)).await
                {
                    Ok(Ok(p)) => TicketReply::Exported {
                        path: sanitize_line(&p.display().to_string()).into_owned(),
                    }
                    .into(),
                    Ok(Err(e)) => failed(e.to_string()),
                    Err(e) => failed(sanitize_line(&e.to_string()).into_owned()),
                }
            }),
            TicketCmd::LoadCustomer(id) => self.rest_task(move |r| async move {
                match r
                    .get_as::<CustomerRecord>(&format!("/customers/{id}"), &[])
                    .await
                {
                    Ok(rec) => {
                        let (customer, mut card) = rec.card();
                        // A server that does not list them on the record still finds
                        // them by customer.
                        if card.tickets.is_empty() {
                            let q = [
                                ("customer_id", customer.id.clone()),
                                ("sort", "newest".to_owned()),
                                ("spam", "any".to_owned()),
                                ("per_page", PER_PAGE.to_string()),
                            ];
                            if let Ok(p) = r.get_as::<Page<Ticket>>("/tickets", &q).await {
                                card.tickets = p
                                    .items
                                    .into_iter()
                                    .map(|t| CustomerTicket {
                                        id: t.id,
                                        number: t.number,
                                        subject: t.subject,
                                        status: Some(t.status),
                                    })
                                    .collect();
                            }
                        }
                        TicketReply::CustomerLoaded { customer, card }.into()
                    }
                    Err(e) => rest_failed("loading the customer", e),
                }
            }),
            TicketCmd::UpdateCustomer { customer_id, patch } => {
                self.rest_task(move |r| async move {
                    match r
                        .patch_as::<Customer>(&format!("/customers/{customer_id}"), &patch)
                        .await
                    {
                        Ok(c) => TicketReply::CustomerSaved(c).into(),
                        Err(e) => rest_failed("saving the customer", e),
                    }
                })
            }
            TicketCmd::AddCustomerNote { customer_id, body } => {
                self.rest_task(move |r| async move {
                    match r
                        .post_as::<Ignored>(
                            &format!("/customers/{customer_id}/notes"),
                            &json!({ "body": body }),
                        )
                        .await
                    {
                        Ok(_) => TicketReply::CustomerNotesChanged { customer_id }.into(),
                        Err(e) => rest_failed("adding the note", e),
                    }
                })
            }
            TicketCmd::DeleteCustomerNote {
                customer_id,
                note_id,
            } => self.rest_task(move |r| async move {
                match r
                    .delete_path(&format!("/customers/{customer_id}/notes/{note_id}"))
                    .await
                {
                    Ok(()) => TicketReply::CustomerNotesChanged { customer_id }.into(),
                    Err(e) => rest_failed("deleting the note", e),
                }
            }),
        }
    }
}
