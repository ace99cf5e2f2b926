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
