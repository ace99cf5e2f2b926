//! Pure tests of `update`: keys, actions and network events in, state and effects out.
//! The helpers here build states; each file checks one area of behaviour.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyEventState, KeyModifiers};
use shared::ApiError;
use shared::events::{
    ChatEvent, MessageEvent, NotificationEvent, ReadEvent, ServerEvent, SyncAck, TypingEvent,
};
use shared::model::{
    Agent, AgentStatus, Author, AuthorKind, Chat, ChatStatus, Customer, Department, Message,
    MessageKind, Notification, Role,
};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use super::*;
use crate::effect::{AttachmentCmd, ChatCmd, DirectoryCmd, Effect, NetCmd, SessionCmd};
use crate::msg::{
    AttachmentReply, ChatOp, ChatReply, ConnEvent, DirectoryReply, Msg, NetEvent, SendError,
    SessionReply,
};
use crate::state::{
    ComposeKind, ConnState, FlashLevel, History, Mode, OutboxItem, OutboxStatus, Pane, PickerKind,
    Session, State, ViewId,
};

mod attachments;
pub(crate) mod canned;
mod chat_actions;
mod commands;
mod composer;
pub(crate) mod dashboard;
mod history_and_sync;
mod notifications;
mod outbox;
mod queue;
mod session;
pub(crate) mod tickets;
mod views;

pub const T0: OffsetDateTime = datetime!(2026-03-12 15:00 UTC);

pub fn agent(id: &str, name: &str, status: AgentStatus, load: u32) -> Agent {
    Agent {
        id: id.into(),
        name: name.into(),
        email: format!("{}@example.com", name.to_lowercase().replace(' ', ".")),
        role: Role::Agent,
        status,
        department_ids: vec!["d1".into()],
        max_chats: 5,
        active_chats: load,
    }
}

pub fn customer(id: &str, name: &str) -> Customer {
    Customer {
        id: id.into(),
        name: name.into(),
        email: Some(format!("{id}@example.com")),
        phone: None,
        location: None,
        tags: vec![],
        custom_fields: Default::default(),
        blocked: false,
        created_at: T0 - Duration::days(30),
    }
}

pub fn chat(id: &str, name: &str, status: ChatStatus, assignee: Option<&str>) -> Chat {
    Chat {
        id: id.into(),
        status,
        customer: customer(&format!("cu-{id}"), name),
        department_id: "d1".into(),
        assignee_id: assignee.map(Into::into),
        assignee_name: None,
        tags: vec![],
        created_at: T0 - Duration::minutes(10),
        last_message_at: T0 - Duration::minutes(2),
        unread_count: 0,
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

pub fn message(chat_id: &str, seq: i64, kind: AuthorKind, body: &str) -> Message {
    let (id, name) = match kind {
        AuthorKind::Customer => (format!("cu-{chat_id}"), "Visitor".to_owned()),
        AuthorKind::Agent => ("me".to_owned(), "Maya Chen".to_owned()),
        AuthorKind::System => ("system".to_owned(), "System".to_owned()),
    };
    Message {
        id: format!("{chat_id}-m{seq}"),
        chat_id: chat_id.into(),
        seq,
        client_msg_id: format!("cmid-{chat_id}-{seq}"),
        author: Author { kind, id, name },
        kind: if kind == AuthorKind::System {
            MessageKind::Event
        } else {
            MessageKind::Text
        },
        body: body.into(),
        attachments: vec![],
        created_at: T0 - Duration::minutes(5) + Duration::seconds(seq * 20),
    }
}

/// Signed in as "me" (Maya Chen), online, with a baseline, two departments and a team.
pub fn signed_in() -> State {
    let mut s = State::new("http://panel.test", T0);
    let me = Agent {
        role: Role::Supervisor,
        ..agent("me", "Maya Chen", AgentStatus::Online, 1)
    };
    let fx = start(
        &mut s,
        Some(Session {
            server: "http://panel.test".into(),
            token: "tok".into(),
            agent: me.clone(),
            expires_at: None,
        }),
        vec![],
    );
    assert!(
        fx.contains(&Effect::Net(NetCmd::Session(SessionCmd::Connect {
            server: "http://panel.test".into(),
            token: "tok".into()
        })))
    );
    s.conn.state = ConnState::Connected;
    s.conn.has_baseline = true;
    s.conn.last_event_id = 100;
    s.directory.departments = vec![
        Department {
            id: "d1".into(),
            name: "Support".into(),
            created_at: T0,
        },
        Department {
            id: "d2".into(),
            name: "Billing".into(),
            created_at: T0,
        },
    ];
    s.directory.agents = vec![
        me,
        agent("a2", "Sam Rivera", AgentStatus::Online, 2),
        agent("a3", "Priya Natarajan", AgentStatus::Away, 0),
    ];
    s
}

pub fn key(s: &str) -> Msg {
    let kp = crate::keys::KeyPress::parse(s).unwrap();
    let mut m = KeyModifiers::NONE;
    if kp.ctrl {
        m |= KeyModifiers::CONTROL;
    }
    if kp.alt {
        m |= KeyModifiers::ALT;
    }
    let code = match kp.code {
        crate::keys::Code::Char(c) => {
            if c.is_ascii_uppercase() {
                m |= KeyModifiers::SHIFT;
            }
            KeyCode::Char(c)
        }
        crate::keys::Code::Enter => KeyCode::Enter,
        crate::keys::Code::Esc => KeyCode::Esc,
        crate::keys::Code::Tab => KeyCode::Tab,
        crate::keys::Code::BackTab => {
            m |= KeyModifiers::SHIFT;
            KeyCode::BackTab
        }
        crate::keys::Code::Backspace => KeyCode::Backspace,
        crate::keys::Code::Up => KeyCode::Up,
        crate::keys::Code::Down => KeyCode::Down,
        crate::keys::Code::Left => KeyCode::Left,
        crate::keys::Code::Right => KeyCode::Right,
        other => panic!("no test key for {other:?}"),
    };
    Msg::Key(KeyEvent {
        code,
        modifiers: m,
        kind: KeyEventKind::Press,
        state: KeyEventState::NONE,
    })
}

/// Feeds keys one after another (a space-separated list; `␣` types a space).
pub fn press(s: &mut State, keys: &str) -> Vec<Effect> {
    let mut all = Vec::new();
    for k in keys.split(' ') {
        let k = if k == "␣" { "space" } else { k };
        all.extend(update(s, key(k)));
    }
    all
}

/// Types text into whatever takes text now.
pub fn type_text(s: &mut State, text: &str) -> Vec<Effect> {
    let mut all = Vec::new();
    for c in text.chars() {
        let k = if c == ' ' {
            "space".to_owned()
        } else {
            c.to_string()
        };
        all.extend(update(s, key(&k)));
    }
    all
}

fn net(s: &mut State, e: NetEvent) -> Vec<Effect> {
    update(s, Msg::Net(e))
}

fn sends(fx: &[Effect]) -> Vec<(String, String)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Net(NetCmd::Chats(ChatCmd::Send(i))) => {
                Some((i.client_msg_id.clone(), i.body.clone()))
            }
            _ => None,
        })
        .collect()
}

fn three_chats() -> State {
    let mut s = signed_in();
    let mut a = chat("c1", "Ada Lovelace", ChatStatus::Waiting, None);
    a.created_at = T0 - Duration::minutes(12);
    let mut b = chat("c2", "Kenji Watanabe", ChatStatus::Waiting, None);
    b.created_at = T0 - Duration::minutes(3);
    let mine = chat("c3", "Fatima Zahra", ChatStatus::Active, Some("me"));
    net(
        &mut s,
        NetEvent::Chats(ChatReply::ListLoaded {
            status: ChatStatus::Waiting,
            chats: vec![a, b],
        }),
    );
    net(
        &mut s,
        NetEvent::Chats(ChatReply::ListLoaded {
            status: ChatStatus::Active,
            chats: vec![mine],
        }),
    );
    s
}

fn open_mine(s: &mut State) {
    let mut c = chat("c3", "Fatima Zahra", ChatStatus::Active, Some("me"));
    c.last_seq = 3;
    net(s, NetEvent::Chats(ChatReply::Loaded(c)));
    s.chats.focus = Pane::Queue;
    s.chats.queue.selected = Some("c3".into());
    press(s, "enter");
    net(
        s,
        NetEvent::Chats(ChatReply::MessagesLoaded {
            chat_id: "c3".into(),
            messages: vec![
                message("c3", 1, AuthorKind::Customer, "I was charged twice"),
                message("c3", 2, AuthorKind::Agent, "Let me check"),
                message("c3", 3, AuthorKind::Customer, "Thanks"),
            ],
            older: false,
        }),
    );
}

fn run_cmd(s: &mut State, line: &str) -> Vec<Effect> {
    press(s, ":");
    type_text(s, line);
    press(s, "enter")
}
