//! Synthetic workloads for the render benchmark and the memory measurement: many
//! chats in the queue, long histories. Not used by the console itself.

use shared::model::{
    Agent, AgentStatus, Author, AuthorKind, Chat, ChatStatus, Customer, Department, Message,
    MessageKind, Role,
};
use time::{Duration, OffsetDateTime};

use crate::state::{ChatEntry, ConnState, History, Mode, Pane, Session, State};

const WORDS: &[&str] = &[
    "order",
    "refund",
    "projector",
    "shipping",
    "thanks",
    "invoice",
    "the",
    "remote",
    "is",
    "not",
    "working",
    "could",
    "you",
    "check",
    "please",
    "delivery",
    "tomorrow",
    "warranty",
    "colour",
    "settings",
    "update",
    "app",
    "login",
    "again",
    "great",
];

fn text(seed: usize, words: usize) -> String {
    (0..words)
        .map(|i| WORDS[(seed * 7 + i * 13) % WORDS.len()])
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn me() -> Agent {
    Agent {
        id: "me".into(),
        name: "Maya Chen".into(),
        email: "maya@example.com".into(),
        role: Role::Supervisor,
        status: AgentStatus::Online,
        department_ids: vec!["d1".into()],
        max_chats: 50,
        active_chats: 50,
    }
}

fn chat(i: usize, now: OffsetDateTime, status: ChatStatus) -> Chat {
    Chat {
        id: format!("chat-{i:05}"),
        status,
        customer: Customer {
            id: format!("cust-{i:05}"),
            name: format!("Customer {i} {}", WORDS[i % WORDS.len()]),
            email: Some(format!("customer{i}@example.com")),
            phone: None,
            location: Some("Leeds, UK".into()),
            tags: vec!["vip".into()],
            custom_fields: Default::default(),
            blocked: false,
            created_at: now - Duration::days(10),
        },
        department_id: "d1".into(),
        assignee_id: (status == ChatStatus::Active).then(|| "me".into()),
        assignee_name: None,
        tags: vec![],
        created_at: now - Duration::seconds(i as i64 * 7),
        last_message_at: now - Duration::seconds(i as i64 * 3),
        unread_count: (i % 4) as u32,
        last_message: None,
        rating: None,
        queue_position: None,
        last_seq: 0,
        customer_read_seq: 0,
        agent_read_seq: 0,
        closed_at: None,
        resolution: None,
        ticket_id: None,
    }
}

pub fn messages(chat_id: &str, n: usize, now: OffsetDateTime) -> Vec<Message> {
    (1..=n)
        .map(|seq| {
            let customer = seq % 3 != 0;
            Message {
                id: format!("{chat_id}-{seq}"),
                chat_id: chat_id.to_owned(),
                seq: seq as i64,
                client_msg_id: format!("c-{chat_id}-{seq}"),
                author: Author {
                    kind: if customer {
                        AuthorKind::Customer
                    } else {
                        AuthorKind::Agent
                    },
                    id: if customer { "cust".into() } else { "me".into() },
                    name: if customer {
                        "Customer".into()
                    } else {
                        "Maya Chen".into()
                    },
                },
                kind: if seq % 17 == 0 {
                    MessageKind::Note
                } else {
                    MessageKind::Text
                },
                body: text(seq, 6 + seq % 20),
                attachments: vec![],
                created_at: now - Duration::seconds((n - seq) as i64 * 30),
            }
        })
        .collect()
}

/// A signed-in, online state at `now` with `waiting` chats in the queue and `mine`
/// open chats of `per_chat` messages each; the first of mine is open.
pub fn workload(waiting: usize, mine: usize, per_chat: usize, now: OffsetDateTime) -> State {
    let mut s = State::new("http://bench.test", now);
    s.session = Some(Session {
        server: "http://bench.test".into(),
        token: "t".into(),
        agent: me(),
        expires_at: None,
    });
    s.mode = Mode::Normal;
    s.conn.state = ConnState::Connected;
    s.conn.rtt_ms = Some(3);
    s.directory.departments = vec![Department {
        id: "d1".into(),
        name: "Support".into(),
        created_at: now,
    }];
    for i in 0..waiting {
        let mut c = chat(i, now, ChatStatus::Waiting);
        c.last_message = messages(&c.id, 1, now).pop();
        s.chats.entries.insert(c.id.clone(), ChatEntry::new(c));
    }
    for j in 0..mine {
        let mut c = chat(waiting + j, now, ChatStatus::Active);
        let msgs = messages(&c.id, per_chat, now);
        c.last_seq = per_chat as i64;
        c.customer_read_seq = per_chat as i64 - 2;
        c.last_message = msgs.last().cloned();
        let mut e = ChatEntry::new(c);
        e.messages = msgs.into_iter().map(|m| (m.seq, m)).collect();
        e.history = History::Loaded { complete: true };
        s.chats.entries.insert(e.chat.id.clone(), e);
    }
    crate::update::rebuild(&mut s);
    if mine > 0 {
        s.chats.open_chat = Some(format!("chat-{waiting:05}"));
        s.chats.focus = Pane::Chat;
    }
    s
}

/// A signed-in state in the Tickets view: `known` tickets in memory, a full page of
/// 20 listed (of `known` in all), some overdue, unread and assigned; with
/// `entries > 0`, the first ticket is open with that many timeline entries.
pub fn ticket_workload(known: usize, entries: usize, now: OffsetDateTime) -> State {
    use shared::ticket::{
        EntryKind, Ticket, TicketEntry, TicketPriority, TicketSource, TicketStatus,
    };
    let mut s = workload(0, 0, 0, now);
    s.view = crate::state::ViewId::Tickets;
    s.directory.agents = vec![me()];
    for i in 0..known {
        let t = Ticket {
            id: format!("ticket-{i:06}"),
            number: 1000 + i as i64,
            subject: text(i, 6),
            status: TicketStatus::ALL[i % 4],
            priority: TicketPriority::ALL[i % 4],
            customer: Customer {
                id: format!("cust-{i}"),
                name: format!("Customer {i}"),
                email: Some(format!("c{i}@example.com")),
                phone: None,
                location: None,
                tags: vec![],
                custom_fields: Default::default(),
                blocked: false,
                created_at: now,
            },
            department_id: "d1".into(),
            assignee_id: (i % 3 == 0).then(|| "me".to_owned()),
            tags: vec!["projector".into()],
            due_at: (i % 2 == 0).then(|| now + Duration::hours(i as i64 % 48 - 24)),
            created_at: now - Duration::minutes(i as i64 * 5),
            updated_at: now - Duration::minutes(i as i64),
            source: TicketSource::Widget,
            chat_id: None,
            merged_into: None,
            links: vec![],
            resolution: None,
            spam: false,
            last_seq: 0,
            entry_count: 0,
        };
        if i % 5 == 0 {
            s.tickets.unread.insert(t.id.clone());
        }
        if i < crate::state::views::tickets::PER_PAGE as usize {
            s.tickets.list.push(t.id.clone());
        }
        s.tickets.tickets.insert(t.id.clone(), t);
    }
    s.tickets.total = known as i64;
    if entries > 0 && known > 0 {
        let id = "ticket-000000".to_owned();
        let tl = s.tickets.timelines.entry(id.clone()).or_default();
        for seq in 1..=entries as i64 {
            let (kind, who) = match seq % 5 {
                0 => (EntryKind::Event, AuthorKind::Agent),
                1 | 3 => (EntryKind::Reply, AuthorKind::Customer),
                2 => (EntryKind::Reply, AuthorKind::Agent),
                _ => (EntryKind::Note, AuthorKind::Agent),
            };
            tl.entries.insert(
                seq,
                TicketEntry {
                    id: format!("e{seq}"),
                    ticket_id: id.clone(),
                    seq,
                    client_msg_id: format!("m{seq}"),
                    author: Author {
                        kind: who,
                        id: "x".into(),
                        name: "Someone".into(),
                    },
                    kind,
                    body: text(seq as usize, 14),
                    attachments: vec![],
                    created_at: now - Duration::minutes(entries as i64 - seq),
                },
            );
        }
        tl.loaded = true;
        s.tickets.open = Some(id.clone());
        s.tickets.selected = Some(id);
        s.tickets.cursor = usize::MAX;
    }
    s
}
