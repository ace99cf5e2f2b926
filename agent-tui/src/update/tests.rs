//! Pure tests of `update`: keys, actions and network events in, state and effects out.

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
use crate::effect::{Effect, NetCmd};
use crate::msg::{ChatOp, ConnEvent, Msg, NetEvent, SendError};
use crate::state::{ConnState, History, Mode, OutboxStatus, Pane, PickerKind, Session, State};

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
    assert!(fx.contains(&Effect::Net(NetCmd::Connect {
        server: "http://panel.test".into(),
        token: "tok".into()
    })));
    s.conn.state = ConnState::Connected;
    s.conn.has_baseline = true;
    s.conn.last_event_id = 100;
    s.departments = vec![
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
    s.agents = vec![
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
            Effect::Net(NetCmd::Send(i)) => Some((i.client_msg_id.clone(), i.body.clone())),
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
        NetEvent::ChatsLoaded {
            status: ChatStatus::Waiting,
            chats: vec![a, b],
        },
    );
    net(
        &mut s,
        NetEvent::ChatsLoaded {
            status: ChatStatus::Active,
            chats: vec![mine],
        },
    );
    s
}

#[test]
fn queue_sections_sort_and_j_k_g_g_move_the_selection() {
    let mut s = three_chats();
    assert_eq!(s.queue.waiting, vec!["c1", "c2"], "longest waiting first");
    assert_eq!(s.queue.mine, vec!["c3"]);
    assert_eq!(s.queue.selected.as_deref(), Some("c1"));
    press(&mut s, "j");
    assert_eq!(s.queue.selected.as_deref(), Some("c2"));
    press(&mut s, "j j j");
    assert_eq!(s.queue.selected.as_deref(), Some("c3"), "stops at the end");
    press(&mut s, "k");
    assert_eq!(s.queue.selected.as_deref(), Some("c2"));
    press(&mut s, "G");
    assert_eq!(s.queue.selected.as_deref(), Some("c3"));
    press(&mut s, "g");
    assert_eq!(s.queue.selected.as_deref(), Some("c3"), "g alone waits");
    assert_eq!(s.pending_keys.len(), 1);
    press(&mut s, "g");
    assert_eq!(s.queue.selected.as_deref(), Some("c1"));
    assert!(s.pending_keys.is_empty());
    // A sort change reorders.
    press(&mut s, ":");
    type_text(&mut s, "sort newest");
    press(&mut s, "enter");
    assert_eq!(s.queue.waiting, vec!["c2", "c1"]);
}

#[test]
fn enter_opens_the_chat_and_loads_history_and_customer() {
    let mut s = three_chats();
    let fx = press(&mut s, "enter");
    assert_eq!(s.open_chat.as_deref(), Some("c1"));
    assert_eq!(s.focus, Pane::Chat);
    assert!(fx.contains(&Effect::Net(NetCmd::LoadMessages {
        chat_id: "c1".into(),
        before_seq: None
    })));
    assert!(fx.contains(&Effect::Net(NetCmd::LoadCustomer("cu-c1".into()))));
    assert_eq!(s.chats["c1"].history, History::Loading);
}

#[test]
fn panes_switch_with_h_l_tab_and_numbers() {
    let mut s = three_chats();
    assert_eq!(s.focus, Pane::Queue);
    press(&mut s, "l");
    assert_eq!(s.focus, Pane::Chat);
    press(&mut s, "l l");
    assert_eq!(s.focus, Pane::Customer, "l stops at the last pane");
    press(&mut s, "tab");
    assert_eq!(s.focus, Pane::Queue, "tab wraps");
    press(&mut s, "shift-tab");
    assert_eq!(s.focus, Pane::Customer);
    press(&mut s, "h");
    assert_eq!(s.focus, Pane::Chat);
    press(&mut s, "1");
    assert_eq!(s.focus, Pane::Queue);
}

#[test]
fn claim_sends_the_claim_and_its_ack_makes_the_chat_mine_and_open() {
    let mut s = three_chats();
    let fx = press(&mut s, "c");
    assert!(fx.contains(&Effect::Net(NetCmd::Claim("c1".into()))));
    let mut claimed = chat("c1", "Ada Lovelace", ChatStatus::Active, Some("me"));
    claimed.created_at = T0 - Duration::minutes(12);
    let fx = net(
        &mut s,
        NetEvent::ChatActionDone {
            op: ChatOp::Claim,
            chat: claimed,
        },
    );
    assert!(s.queue.mine.contains(&"c1".to_owned()));
    assert!(!s.queue.waiting.contains(&"c1".to_owned()));
    assert_eq!(s.open_chat.as_deref(), Some("c1"));
    assert_eq!(s.focus, Pane::Chat);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Net(NetCmd::LoadMessages { .. })))
    );
    // Claiming one's own chat again does nothing but say so.
    let fx = press(&mut s, "c");
    assert!(
        !fx.iter()
            .any(|e| matches!(e, Effect::Net(NetCmd::Claim(_))))
    );
    assert!(s.flash.as_ref().unwrap().text.contains("already yours"));
}

#[test]
fn claim_conflict_says_so_and_refetches_the_chat() {
    let mut s = three_chats();
    press(&mut s, "c");
    let fx = net(
        &mut s,
        NetEvent::ChatActionFailed {
            op: ChatOp::Claim,
            chat_id: "c1".into(),
            error: SendError::Refused(ApiError::conflict("chat already assigned")),
        },
    );
    assert!(fx.contains(&Effect::Net(NetCmd::LoadChat("c1".into()))));
    let f = s.flash.clone().unwrap();
    assert_eq!(f.level, FlashLevel::Error);
    assert!(f.text.contains("Another agent claimed"), "{}", f.text);
    // The refetched chat shows who has it and leaves the queue.
    let taken = chat("c1", "Ada Lovelace", ChatStatus::Active, Some("a2"));
    net(&mut s, NetEvent::ChatLoaded(taken));
    assert!(!s.queue.waiting.contains(&"c1".to_owned()));
    assert!(!s.queue.mine.contains(&"c1".to_owned()));
}

#[test]
fn transfer_picker_shows_status_and_load_and_sends_the_choice() {
    let mut s = three_chats();
    let fx = press(&mut s, "t");
    assert!(fx.contains(&Effect::Net(NetCmd::LoadAgents)));
    assert_eq!(s.mode, Mode::Picker);
    let p = s.picker.clone().unwrap();
    assert_eq!(
        p.kind,
        PickerKind::Transfer {
            chat_id: "c1".into()
        }
    );
    // Me excluded; online before away; departments after agents.
    let labels: Vec<&str> = p.items.iter().map(|i| i.label.as_str()).collect();
    assert_eq!(
        labels,
        vec!["Sam Rivera", "Priya Natarajan", "Support", "Billing"]
    );
    assert_eq!(p.items[0].badge.as_deref(), Some("● online"));
    assert!(p.items[0].detail.starts_with("2/5 chats"));
    assert_eq!(p.items[1].badge.as_deref(), Some("◐ away"));
    // Typing filters; Enter sends.
    type_text(&mut s, "priya");
    assert_eq!(s.picker.as_ref().unwrap().visible().len(), 1);
    let fx = press(&mut s, "enter");
    assert!(fx.contains(&Effect::Net(NetCmd::Transfer {
        chat_id: "c1".into(),
        to_agent_id: Some("a3".into()),
        to_department_id: None
    })));
    assert_eq!(s.mode, Mode::Normal);
    // The ack moves it away from me.
    let moved = chat("c1", "Ada Lovelace", ChatStatus::Active, Some("a3"));
    net(
        &mut s,
        NetEvent::ChatActionDone {
            op: ChatOp::Transfer,
            chat: moved,
        },
    );
    assert!(s.flash.unwrap().text.contains("transferred"));
}

#[test]
fn transfer_command_resolves_departments_and_agents_by_name() {
    let mut s = three_chats();
    press(&mut s, ":");
    type_text(&mut s, "transfer billing");
    let fx = press(&mut s, "enter");
    assert!(fx.contains(&Effect::Net(NetCmd::Transfer {
        chat_id: "c1".into(),
        to_agent_id: None,
        to_department_id: Some("d2".into())
    })));
    press(&mut s, ":");
    type_text(&mut s, "transfer sam");
    let fx = press(&mut s, "enter");
    assert!(fx.contains(&Effect::Net(NetCmd::Transfer {
        chat_id: "c1".into(),
        to_agent_id: Some("a2".into()),
        to_department_id: None
    })));
    // Ambiguous or unknown: the picker opens pre-filtered.
    press(&mut s, ":");
    type_text(&mut s, "transfer zzz");
    press(&mut s, "enter");
    assert_eq!(s.mode, Mode::Picker);
    assert_eq!(s.picker.as_ref().unwrap().query, "zzz");
}

fn open_mine(s: &mut State) {
    let mut c = chat("c3", "Fatima Zahra", ChatStatus::Active, Some("me"));
    c.last_seq = 3;
    net(s, NetEvent::ChatLoaded(c));
    s.focus = Pane::Queue;
    s.queue.selected = Some("c3".into());
    press(s, "enter");
    net(
        s,
        NetEvent::MessagesLoaded {
            chat_id: "c3".into(),
            messages: vec![
                message("c3", 1, AuthorKind::Customer, "I was charged twice"),
                message("c3", 2, AuthorKind::Agent, "Let me check"),
                message("c3", 3, AuthorKind::Customer, "Thanks"),
            ],
            older: false,
        },
    );
}

#[test]
fn composer_enter_is_a_newline_and_the_send_keys_send() {
    let mut s = three_chats();
    open_mine(&mut s);
    press(&mut s, "i");
    assert_eq!(s.mode, Mode::Insert);
    type_text(&mut s, "line one");
    press(&mut s, "enter");
    type_text(&mut s, "line two");
    assert_eq!(s.composer.text(), "line one\nline two");
    let fx = press(&mut s, "ctrl-s");
    let sent = sends(&fx);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].1, "line one\nline two");
    assert!(s.composer.is_empty());
    assert_eq!(
        s.mode,
        Mode::Insert,
        "stays in the composer for the next message"
    );
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::SaveOutbox(v) if v.len() == 1))
    );
    type_text(&mut s, "again");
    assert_eq!(sends(&press(&mut s, "alt-enter")).len(), 1);
    type_text(&mut s, "kitty");
    assert_eq!(sends(&press(&mut s, "ctrl-enter")).len(), 1);
    // Empty text is refused with a reason.
    let fx = press(&mut s, "ctrl-s");
    assert!(sends(&fx).is_empty());
    assert!(s.flash.as_ref().unwrap().text.contains("empty"));
    press(&mut s, "esc");
    assert_eq!(s.mode, Mode::Normal);
}

#[test]
fn note_mode_is_visible_sends_notes_and_never_signals_typing() {
    let mut s = three_chats();
    open_mine(&mut s);
    press(&mut s, "n");
    assert_eq!(s.composer.kind, ComposeKind::Note);
    let fx = type_text(&mut s, "check the ledger");
    assert!(
        !fx.iter()
            .any(|e| matches!(e, Effect::Net(NetCmd::Typing { .. })))
    );
    let fx = press(&mut s, "ctrl-s");
    let Some(Effect::Net(NetCmd::Send(item))) = fx
        .iter()
        .find(|e| matches!(e, Effect::Net(NetCmd::Send(_))))
    else {
        panic!("no send")
    };
    assert_eq!(item.kind, MessageKind::Note);
    press(&mut s, "ctrl-n");
    assert_eq!(s.composer.kind, ComposeKind::Reply);
}

#[test]
fn offline_sends_wait_in_the_outbox_and_flush_in_order_after_sync() {
    let mut s = three_chats();
    open_mine(&mut s);
    net(
        &mut s,
        NetEvent::Conn(ConnEvent::Disconnected {
            reason: "connection lost".into(),
            retry_in_ms: Some(2000),
        }),
    );
    assert_eq!(
        s.conn.state,
        ConnState::Offline {
            reason: "connection lost".into(),
            retry_at: Some(T0 + Duration::seconds(2))
        }
    );
    press(&mut s, "i");
    type_text(&mut s, "first");
    let fx = press(&mut s, "ctrl-s");
    assert!(sends(&fx).is_empty(), "nothing is emitted while offline");
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::SaveOutbox(v) if v.len() == 1))
    );
    type_text(&mut s, "second");
    press(&mut s, "ctrl-s");
    assert_eq!(s.outbox.len(), 2);
    assert!(s.outbox.iter().all(|o| o.status == OutboxStatus::Pending));
    let ids: Vec<String> = s.outbox.iter().map(|o| o.client_msg_id.clone()).collect();

    net(&mut s, NetEvent::Conn(ConnEvent::Connecting { attempt: 2 }));
    assert_eq!(s.conn.state, ConnState::Connecting { attempt: 2 });
    let fx = net(&mut s, NetEvent::Conn(ConnEvent::Connected));
    // Sync comes first, then the outbox in typing order with the original ids.
    assert_eq!(
        fx[0],
        Effect::Net(NetCmd::Sync {
            since_event_id: 100
        })
    );
    let sent = sends(&fx);
    assert_eq!(
        sent,
        vec![
            (ids[0].clone(), "first".to_owned()),
            (ids[1].clone(), "second".to_owned())
        ]
    );
    assert!(s.outbox.iter().all(|o| o.status == OutboxStatus::Sending));
    // Nothing is sent twice while the acks are on their way.
    let fx = update(&mut s, Msg::Tick(T0 + Duration::seconds(1)));
    assert!(sends(&fx).is_empty());
}

#[test]
fn acks_and_pushes_of_the_same_message_store_it_once() {
    let mut s = three_chats();
    open_mine(&mut s);
    press(&mut s, "i");
    type_text(&mut s, "refund issued");
    press(&mut s, "ctrl-s");
    let id = s.outbox[0].client_msg_id.clone();
    let mut m = message("c3", 4, AuthorKind::Agent, "refund issued");
    m.client_msg_id = id.clone();
    net(
        &mut s,
        NetEvent::Server(ServerEvent::MessageNew(MessageEvent {
            event_id: 101,
            message: m.clone(),
        })),
    );
    assert!(s.outbox.is_empty(), "the push acknowledges the send");
    let fx = net(
        &mut s,
        NetEvent::SendAcked {
            client_msg_id: id,
            message: m,
        },
    );
    assert_eq!(s.chats["c3"].messages.len(), 4);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::SaveOutbox(v) if v.is_empty()))
    );
    assert_eq!(s.conn.last_event_id, 101);
}

#[test]
fn refused_sends_fail_with_the_reason_and_transient_ones_retry() {
    let mut s = three_chats();
    open_mine(&mut s);
    press(&mut s, "i");
    type_text(&mut s, "one");
    press(&mut s, "ctrl-s");
    type_text(&mut s, "two");
    press(&mut s, "ctrl-s");
    let (a, b) = (
        s.outbox[0].client_msg_id.clone(),
        s.outbox[1].client_msg_id.clone(),
    );
    let fx = net(
        &mut s,
        NetEvent::SendFailed {
            client_msg_id: a,
            error: SendError::Refused(ApiError::forbidden("the chat is closed")),
        },
    );
    assert_eq!(
        s.outbox[0].status,
        OutboxStatus::Failed {
            reason: "the chat is closed".into()
        }
    );
    assert!(fx.iter().any(|e| matches!(e, Effect::SaveOutbox(_))));
    net(
        &mut s,
        NetEvent::SendFailed {
            client_msg_id: b.clone(),
            error: SendError::Transient("no answer from the server".into()),
        },
    );
    assert_eq!(s.outbox[1].status, OutboxStatus::Pending);
    // The next tick while online sends it again — never the failed one.
    let fx = update(&mut s, Msg::Tick(T0 + Duration::seconds(1)));
    let sent = sends(&fx);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, b);
}

#[test]
fn a_gap_in_seq_refetches_the_chat_and_a_contiguous_one_does_not() {
    let mut s = three_chats();
    open_mine(&mut s);
    let fx = net(
        &mut s,
        NetEvent::Server(ServerEvent::MessageNew(MessageEvent {
            event_id: 101,
            message: message("c3", 4, AuthorKind::Customer, "still there?"),
        })),
    );
    assert!(
        !fx.iter()
            .any(|e| matches!(e, Effect::Net(NetCmd::LoadMessages { .. })))
    );
    let fx = net(
        &mut s,
        NetEvent::Server(ServerEvent::MessageNew(MessageEvent {
            event_id: 103,
            message: message("c3", 6, AuthorKind::Customer, "hello?"),
        })),
    );
    assert!(fx.contains(&Effect::Net(NetCmd::LoadMessages {
        chat_id: "c3".into(),
        before_seq: None
    })));
    assert_eq!(s.chats["c3"].history, History::Loading);
    // The refetch fills the hole.
    net(
        &mut s,
        NetEvent::MessagesLoaded {
            chat_id: "c3".into(),
            messages: (1..=6)
                .map(|q| message("c3", q, AuthorKind::Customer, "x"))
                .collect(),
            older: false,
        },
    );
    let seqs: Vec<i64> = s.chats["c3"].messages.keys().copied().collect();
    assert_eq!(seqs, vec![1, 2, 3, 4, 5, 6]);
}

#[test]
fn sync_applies_missed_events_in_order() {
    let mut s = three_chats();
    let mut updated = chat("c2", "Kenji Watanabe", ChatStatus::Active, Some("a2"));
    updated.created_at = T0 - Duration::minutes(3);
    let created = chat("c9", "Noah Wilson", ChatStatus::Waiting, None);
    let fx = net(
        &mut s,
        NetEvent::Synced(SyncAck::Events {
            events: vec![
                ServerEvent::ChatUpdated(ChatEvent {
                    event_id: 101,
                    chat: updated,
                }),
                ServerEvent::ChatCreated(ChatEvent {
                    event_id: 102,
                    chat: created,
                }),
            ],
            latest_event_id: 105,
        }),
    );
    assert_eq!(s.conn.last_event_id, 105);
    assert_eq!(s.queue.waiting, vec!["c1", "c9"]);
    assert!(fx.contains(&Effect::Bell), "a new waiting chat rings");
    assert!(
        !fx.iter()
            .any(|e| matches!(e, Effect::Net(NetCmd::LoadChats { .. })))
    );
}

#[test]
fn resync_reloads_lists_and_the_open_chat() {
    let mut s = three_chats();
    open_mine(&mut s);
    let fx = net(
        &mut s,
        NetEvent::Synced(SyncAck::Resync {
            resync: true,
            latest_event_id: 5000,
        }),
    );
    assert_eq!(s.conn.last_event_id, 5000);
    for st in [ChatStatus::Waiting, ChatStatus::Active, ChatStatus::Closed] {
        assert!(fx.contains(&Effect::Net(NetCmd::LoadChats { status: st })));
    }
    assert!(fx.contains(&Effect::Net(NetCmd::LoadMessages {
        chat_id: "c3".into(),
        before_seq: None
    })));
    assert!(s.flash.unwrap().text.contains("Reloaded"));
}

#[test]
fn first_sync_only_sets_the_baseline_and_loads_lists() {
    let mut s = three_chats();
    s.conn.has_baseline = false;
    s.conn.last_event_id = 0;
    let fx = net(
        &mut s,
        NetEvent::Synced(SyncAck::Events {
            events: vec![ServerEvent::ChatUpdated(ChatEvent {
                event_id: 3,
                // Stale: applying it would reopen a chat the lists say is waiting.
                chat: chat("c1", "Ada Lovelace", ChatStatus::Closed, None),
            })],
            latest_event_id: 42,
        }),
    );
    assert!(s.conn.has_baseline);
    assert_eq!(s.conn.last_event_id, 42);
    assert_eq!(s.chats["c1"].chat.status, ChatStatus::Waiting);
    assert!(fx.contains(&Effect::Net(NetCmd::LoadChats {
        status: ChatStatus::Waiting
    })));
}

#[test]
fn lost_connection_requeues_in_flight_sends_and_auth_failure_signs_out() {
    let mut s = three_chats();
    open_mine(&mut s);
    press(&mut s, "i");
    type_text(&mut s, "hello");
    press(&mut s, "ctrl-s");
    assert_eq!(s.outbox[0].status, OutboxStatus::Sending);
    net(
        &mut s,
        NetEvent::Conn(ConnEvent::Disconnected {
            reason: "no answer to ping".into(),
            retry_in_ms: None,
        }),
    );
    assert_eq!(s.outbox[0].status, OutboxStatus::Pending);
    assert_eq!(s.conn.rtt_ms, None);
    let fx = net(
        &mut s,
        NetEvent::Conn(ConnEvent::AuthFailed("unauthorized".into())),
    );
    assert!(fx.contains(&Effect::ClearSession));
    assert_eq!(s.mode, Mode::Login);
    assert!(s.session.is_none());
    assert_eq!(s.outbox.len(), 1, "unsent messages survive the sign-out");
    assert!(s.login.error.as_ref().unwrap().contains("Sign in again"));
    assert_eq!(s.login.email, "maya.chen@example.com");
}

#[test]
fn typing_is_throttled_and_expires_after_idle() {
    let mut s = three_chats();
    open_mine(&mut s);
    press(&mut s, "i");
    let typing = |fx: &[Effect]| {
        fx.iter()
            .filter_map(|e| match e {
                Effect::Net(NetCmd::Typing { typing, .. }) => Some(*typing),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(typing(&type_text(&mut s, "h")), vec![true]);
    s.now = T0 + Duration::seconds(1);
    assert!(
        typing(&type_text(&mut s, "el")).is_empty(),
        "within 2 s: nothing"
    );
    s.now = T0 + Duration::milliseconds(2500);
    assert_eq!(typing(&type_text(&mut s, "l")), vec![true]);
    let fx = update(&mut s, Msg::Tick(T0 + Duration::seconds(4)));
    assert!(typing(&fx).is_empty());
    let fx = update(&mut s, Msg::Tick(T0 + Duration::seconds(8)));
    assert_eq!(typing(&fx), vec![false], "5 s idle switches it off");
    // Sending also switches it off.
    s.now = T0 + Duration::seconds(9);
    type_text(&mut s, "o");
    let fx = press(&mut s, "ctrl-s");
    assert!(typing(&fx).contains(&false));
}

#[test]
fn visitor_typing_shows_and_expires() {
    let mut s = three_chats();
    net(
        &mut s,
        NetEvent::Typing(TypingEvent {
            chat_id: "c3".into(),
            author: Author {
                kind: AuthorKind::Customer,
                id: "cu-c3".into(),
                name: "Fatima".into(),
            },
            typing: true,
        }),
    );
    assert!(s.chats["c3"].customer_typing_until.is_some());
    update(&mut s, Msg::Tick(T0 + Duration::seconds(7)));
    assert!(s.chats["c3"].customer_typing_until.is_none());
}

#[test]
fn opening_a_chat_marks_it_read_and_unread_counts_update_live() {
    let mut s = three_chats();
    // A customer message in a chat that is not open counts as unread.
    let fx = net(
        &mut s,
        NetEvent::Server(ServerEvent::MessageNew(MessageEvent {
            event_id: 101,
            message: message("c3", 1, AuthorKind::Customer, "hello"),
        })),
    );
    assert_eq!(s.chats["c3"].chat.unread_count, 1);
    assert!(fx.contains(&Effect::Bell), "my chat's visitor wrote");
    // The same event again (e.g. replayed) does not count twice.
    net(
        &mut s,
        NetEvent::Server(ServerEvent::MessageNew(MessageEvent {
            event_id: 101,
            message: message("c3", 1, AuthorKind::Customer, "hello"),
        })),
    );
    assert_eq!(s.chats["c3"].chat.unread_count, 1);
    s.queue.selected = Some("c3".into());
    let fx = press(&mut s, "enter");
    assert!(fx.contains(&Effect::Net(NetCmd::Read {
        chat_id: "c3".into(),
        seq: 1
    })));
    assert_eq!(s.chats["c3"].chat.unread_count, 0);
    // New messages in the open chat are read at once.
    net(
        &mut s,
        NetEvent::MessagesLoaded {
            chat_id: "c3".into(),
            messages: vec![message("c3", 1, AuthorKind::Customer, "hello")],
            older: false,
        },
    );
    let fx = net(
        &mut s,
        NetEvent::Server(ServerEvent::MessageNew(MessageEvent {
            event_id: 102,
            message: message("c3", 2, AuthorKind::Customer, "anyone?"),
        })),
    );
    assert!(fx.contains(&Effect::Net(NetCmd::Read {
        chat_id: "c3".into(),
        seq: 2
    })));
    assert_eq!(s.chats["c3"].chat.unread_count, 0);
    // The visitor's read receipt.
    net(
        &mut s,
        NetEvent::Server(ServerEvent::MessageRead(ReadEvent {
            event_id: 103,
            chat_id: "c3".into(),
            reader: Author {
                kind: AuthorKind::Customer,
                id: "cu-c3".into(),
                name: "F".into(),
            },
            seq: 2,
        })),
    );
    assert_eq!(s.chats["c3"].chat.customer_read_seq, 2);
}

#[test]
fn scrolling_up_counts_new_messages_below_and_g_returns() {
    let mut s = three_chats();
    open_mine(&mut s);
    press(&mut s, "k k k");
    assert_eq!(s.chat_scroll.from_bottom, 3);
    net(
        &mut s,
        NetEvent::Server(ServerEvent::MessageNew(MessageEvent {
            event_id: 101,
            message: message("c3", 4, AuthorKind::Customer, "news"),
        })),
    );
    assert_eq!(s.chat_scroll.unseen, 1);
    press(&mut s, "G");
    assert_eq!(s.chat_scroll.from_bottom, 0);
    assert_eq!(s.chat_scroll.unseen, 0);
}

#[test]
fn search_filters_the_queue_and_esc_clears_it() {
    let mut s = three_chats();
    press(&mut s, "/");
    assert_eq!(s.mode, Mode::Search);
    type_text(&mut s, "kenji");
    assert_eq!(s.queue.len(), 1);
    assert_eq!(s.queue.selected.as_deref(), Some("c2"));
    assert_eq!(s.queue.totals[0], 2, "totals ignore the filter");
    press(&mut s, "esc");
    assert_eq!(s.mode, Mode::Normal);
    assert_eq!(s.queue.len(), 3);
    press(&mut s, "/");
    type_text(&mut s, "ada");
    let fx = press(&mut s, "enter");
    assert_eq!(s.open_chat.as_deref(), Some("c1"));
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Net(NetCmd::LoadMessages { .. })))
    );
    press(&mut s, "1 esc");
    assert!(!s.queue.filter.is_active());
}

#[test]
fn command_line_completes_commands_and_arguments() {
    let mut s = three_chats();
    press(&mut s, ":");
    type_text(&mut s, "sta");
    press(&mut s, "tab");
    assert_eq!(s.command.input, "status ");
    type_text(&mut s, "a");
    press(&mut s, "tab");
    assert_eq!(s.command.input, "status away");
    let fx = press(&mut s, "enter");
    assert!(fx.contains(&Effect::Net(NetCmd::Presence(AgentStatus::Away))));
    // Several candidates cycle.
    press(&mut s, ":");
    type_text(&mut s, "transfer ");
    press(&mut s, "tab");
    assert_eq!(s.command.input, "transfer Sam Rivera");
    press(&mut s, "tab");
    assert_eq!(s.command.input, "transfer Priya Natarajan");
    press(&mut s, "shift-tab");
    assert_eq!(s.command.input, "transfer Sam Rivera");
    press(&mut s, "esc");
    // History.
    press(&mut s, ": up");
    assert_eq!(s.command.input, "status away");
}

#[test]
fn close_asks_for_a_resolution_then_closes() {
    let mut s = three_chats();
    open_mine(&mut s);
    press(&mut s, "x");
    assert_eq!(s.mode, Mode::Command);
    assert_eq!(s.command.input, "close ");
    type_text(&mut s, "refunded");
    let fx = press(&mut s, "enter");
    assert!(fx.contains(&Effect::Net(NetCmd::Close {
        chat_id: "c3".into(),
        resolution: Some("refunded".into())
    })));
    let mut closed = chat("c3", "Fatima Zahra", ChatStatus::Closed, Some("me"));
    closed.closed_at = Some(T0);
    net(
        &mut s,
        NetEvent::ChatActionDone {
            op: ChatOp::Close,
            chat: closed,
        },
    );
    assert_eq!(s.queue.closed, vec!["c3"]);
    // Replying to a closed chat is refused locally; reopen is offered.
    press(&mut s, "i");
    assert_eq!(s.mode, Mode::Normal);
    assert!(s.flash.as_ref().unwrap().text.contains("reopen"));
    let fx = press(&mut s, "R");
    assert!(fx.contains(&Effect::Net(NetCmd::Reopen("c3".into()))));
}

#[test]
fn tags_block_export_filter_and_theme_commands() {
    let mut s = three_chats();
    let run = |s: &mut State, line: &str| {
        press(s, ":");
        type_text(s, line);
        press(s, "enter")
    };
    let fx = run(&mut s, "tag vip Escalated");
    assert!(fx.contains(&Effect::Net(NetCmd::Tag {
        chat_id: "c1".into(),
        add: vec!["vip".into(), "escalated".into()],
        remove: vec![]
    })));
    let fx = run(&mut s, "untag vip");
    assert!(fx.contains(&Effect::Net(NetCmd::Tag {
        chat_id: "c1".into(),
        add: vec![],
        remove: vec!["vip".into()]
    })));
    let fx = run(&mut s, "tag bad!tag");
    assert!(!fx.iter().any(|e| matches!(e, Effect::Net(_))));
    let fx = run(&mut s, "block");
    assert!(fx.contains(&Effect::Net(NetCmd::Block {
        customer_id: "cu-c1".into(),
        blocked: true
    })));
    let fx = run(&mut s, "export");
    assert!(fx.contains(&Effect::Net(NetCmd::Export {
        chat_id: "c1".into(),
        path: "transcript-ada-lovelace-c1.txt".into()
    })));
    let fx = run(&mut s, "export /tmp/x.txt");
    assert!(fx.contains(&Effect::Net(NetCmd::Export {
        chat_id: "c1".into(),
        path: "/tmp/x.txt".into()
    })));
    run(&mut s, "filter department billing");
    assert_eq!(s.queue.filter.department.as_deref(), Some("d2"));
    assert_eq!(s.queue.len(), 0);
    run(&mut s, "filter all");
    assert_eq!(s.queue.len(), 3);
    run(&mut s, "filter unread");
    assert!(s.queue.filter.unread_only);
    run(&mut s, "filter clear");
    run(&mut s, "theme light");
    assert_eq!(s.theme, crate::state::ThemeName::Light);
    press(&mut s, "T");
    assert_eq!(s.theme, crate::state::ThemeName::HighContrast);
    run(&mut s, "bogus");
    assert!(s.flash.unwrap().text.contains("Unknown command"));
}

#[test]
fn notifications_ring_and_list_then_open_their_chat() {
    let mut s = three_chats();
    let fx = net(
        &mut s,
        NetEvent::Server(ServerEvent::Notification(NotificationEvent {
            event_id: 101,
            notification: Notification {
                kind: "assigned".into(),
                title: "Chat assigned".into(),
                body: "Fatima Zahra".into(),
                chat_id: Some("c3".into()),
            },
        })),
    );
    assert!(fx.contains(&Effect::Bell));
    assert!(fx.iter().any(|e| matches!(e, Effect::Notify { .. })));
    assert_eq!(s.unseen_notifications(), 1);
    press(&mut s, "N");
    assert_eq!(s.mode, Mode::Picker);
    assert_eq!(s.unseen_notifications(), 0);
    press(&mut s, "enter");
    assert_eq!(s.open_chat.as_deref(), Some("c3"));
}

#[test]
fn login_form_submits_and_shows_the_server_answer() {
    let mut s = State::new("http://panel.test", T0);
    start(&mut s, None, vec![]);
    assert_eq!(s.mode, Mode::Login);
    assert_eq!(s.login.field, crate::state::LoginField::Email);
    type_text(&mut s, "maya@example.com");
    press(&mut s, "tab");
    type_text(&mut s, "secret pass");
    let fx = press(&mut s, "enter");
    assert_eq!(
        fx,
        vec![Effect::Net(NetCmd::Login {
            server: "http://panel.test".into(),
            email: "maya@example.com".into(),
            password: "secret pass".into(),
            remember: true
        })]
    );
    assert!(s.login.busy);
    net(
        &mut s,
        NetEvent::LoginFailed("wrong e-mail or password".into()),
    );
    assert_eq!(s.login.error.as_deref(), Some("wrong e-mail or password"));
    assert!(!s.login.busy);
    let session = Session {
        server: "http://panel.test".into(),
        token: "tok2".into(),
        agent: agent("me", "Maya Chen", AgentStatus::Online, 0),
        expires_at: None,
    };
    let fx = net(&mut s, NetEvent::LoggedIn(session.clone()));
    assert!(fx.contains(&Effect::SaveSession(session)));
    assert!(fx.contains(&Effect::Net(NetCmd::Connect {
        server: "http://panel.test".into(),
        token: "tok2".into()
    })));
    assert_eq!(s.mode, Mode::Normal);
    assert!(s.login.password.is_empty(), "the password is not kept");
}

#[test]
fn help_toggles_and_quit_quits() {
    let mut s = three_chats();
    press(&mut s, "?");
    assert_eq!(s.mode, Mode::Help);
    press(&mut s, "j");
    assert_eq!(s.help_scroll, 1);
    press(&mut s, "esc");
    assert_eq!(s.mode, Mode::Normal);
    let fx = press(&mut s, "q");
    assert!(fx.contains(&Effect::Quit));
    assert!(s.quit);
}

#[test]
fn stale_queue_entries_are_refetched_after_a_reload() {
    let mut s = three_chats();
    let fx = net(
        &mut s,
        NetEvent::ChatsLoaded {
            status: ChatStatus::Waiting,
            chats: vec![chat("c2", "Kenji Watanabe", ChatStatus::Waiting, None)],
        },
    );
    assert!(fx.contains(&Effect::Net(NetCmd::LoadChat("c1".into()))));
}

#[test]
fn a_chat_transferred_to_me_appears_and_rings() {
    let mut s = three_chats();
    let mut c = chat("c2", "Kenji Watanabe", ChatStatus::Active, Some("me"));
    c.created_at = T0 - Duration::minutes(3);
    let fx = net(
        &mut s,
        NetEvent::Server(ServerEvent::ChatUpdated(ChatEvent {
            event_id: 101,
            chat: c,
        })),
    );
    assert!(s.queue.mine.contains(&"c2".to_owned()));
    assert!(fx.contains(&Effect::Bell));
    // A message for a chat the console never saw loads that chat.
    let fx = net(
        &mut s,
        NetEvent::Server(ServerEvent::MessageNew(MessageEvent {
            event_id: 102,
            message: message("zz", 1, AuthorKind::Customer, "hi"),
        })),
    );
    assert!(fx.contains(&Effect::Net(NetCmd::LoadChat("zz".into()))));
}

#[test]
fn drafts_are_kept_per_chat() {
    let mut s = three_chats();
    open_mine(&mut s);
    press(&mut s, "i");
    type_text(&mut s, "half written");
    press(&mut s, "esc 1");
    s.queue.selected = Some("c1".into());
    press(&mut s, "enter");
    assert!(s.composer.is_empty());
    press(&mut s, "1");
    s.queue.selected = Some("c3".into());
    press(&mut s, "enter");
    assert_eq!(s.composer.text(), "half written");
}

#[test]
fn ctrl_c_leaves_modes_then_quits() {
    let mut s = three_chats();
    press(&mut s, ":");
    press(&mut s, "ctrl-c");
    assert_eq!(s.mode, Mode::Normal);
    let fx = press(&mut s, "ctrl-c");
    assert!(fx.contains(&Effect::Quit));
}

#[test]
fn every_action_applies_in_normal_mode_without_surprises() {
    for a in crate::action::Action::ALL {
        let mut s = three_chats();
        open_mine(&mut s);
        s.focus = Pane::Chat;
        let fx = update(&mut s, Msg::Action(a));
        match a {
            crate::action::Action::CopyLink => assert!(fx.contains(&Effect::Clipboard(
                "http://panel.test/api/v1/chats/c3/transcript?format=text".into()
            ))),
            crate::action::Action::Refresh => {
                assert!(fx.contains(&Effect::Net(NetCmd::LoadAgents)));
                assert!(fx.contains(&Effect::Net(NetCmd::LoadMessages {
                    chat_id: "c3".into(),
                    before_seq: None
                })));
            }
            crate::action::Action::SetStatus => assert_eq!(s.mode, Mode::Picker),
            crate::action::Action::Export => assert_eq!(s.command.input, "export "),
            crate::action::Action::Tag => assert_eq!(s.command.input, "tag "),
            crate::action::Action::Quit => assert!(s.quit),
            crate::action::Action::Top => assert!(s.chat_scroll.from_bottom > 0),
            crate::action::Action::PageUp => assert_eq!(s.chat_scroll.from_bottom, PAGE),
            _ => {}
        }
    }
}

#[test]
fn status_picker_sets_presence_and_next_unread_jumps() {
    let mut s = three_chats();
    press(&mut s, "s");
    type_text(&mut s, "dnd");
    let fx = press(&mut s, "enter");
    assert!(fx.contains(&Effect::Net(NetCmd::Presence(AgentStatus::Dnd))));
    let mut me = agent("me", "Maya Chen", AgentStatus::Dnd, 1);
    me.role = Role::Supervisor;
    net(&mut s, NetEvent::PresenceSet(me));
    assert_eq!(s.me().unwrap().status, AgentStatus::Dnd);
    assert!(s.flash.as_ref().unwrap().text.contains("dnd"));
    // Next unread: only c2 has unread messages.
    let mut c = chat("c2", "Kenji Watanabe", ChatStatus::Waiting, None);
    c.created_at = T0 - Duration::minutes(3);
    c.unread_count = 2;
    net(&mut s, NetEvent::ChatLoaded(c));
    press(&mut s, "u");
    assert_eq!(s.open_chat.as_deref(), Some("c2"));
}

#[test]
fn remaining_network_events_update_state() {
    let mut s = three_chats();
    net(&mut s, NetEvent::Rtt(17));
    assert_eq!(s.conn.rtt_ms, Some(17));
    net(
        &mut s,
        NetEvent::AgentsLoaded(vec![agent("a9", "New Person", AgentStatus::Busy, 4)]),
    );
    assert_eq!(s.agents.len(), 1);
    net(&mut s, NetEvent::DepartmentsLoaded(vec![]));
    assert!(s.departments.is_empty());
    // Presence push for a teammate.
    net(
        &mut s,
        NetEvent::Server(ServerEvent::Presence(shared::events::PresenceEvent {
            event_id: 120,
            agent: agent("a9", "New Person", AgentStatus::Away, 4),
        })),
    );
    assert_eq!(s.agents[0].status, AgentStatus::Away);
    assert_eq!(s.conn.last_event_id, 120);
    // A customer blocked (ack) and updated (push) everywhere it shows.
    let mut cu = customer("cu-c1", "Ada Lovelace");
    cu.blocked = true;
    net(&mut s, NetEvent::CustomerBlocked(cu.clone()));
    assert!(s.chats["c1"].chat.customer.blocked);
    cu.name = "Ada King".into();
    net(
        &mut s,
        NetEvent::Server(ServerEvent::CustomerUpdated(
            shared::events::CustomerEvent {
                event_id: 121,
                customer: cu,
            },
        )),
    );
    assert_eq!(s.chats["c1"].chat.customer.name, "Ada King");
    net(
        &mut s,
        NetEvent::Exported {
            path: "/tmp/t.txt".into(),
        },
    );
    assert!(s.flash.as_ref().unwrap().text.contains("/tmp/t.txt"));
    net(
        &mut s,
        NetEvent::Failed {
            what: "loading chats".into(),
            error: "cannot reach the server".into(),
        },
    );
    assert_eq!(s.flash.as_ref().unwrap().level, FlashLevel::Error);
    let fx = net(&mut s, NetEvent::SessionExpired);
    assert!(fx.contains(&Effect::ClearSession));
    assert_eq!(s.mode, Mode::Login);
}

#[test]
fn older_history_loads_on_g_g_and_joins_below() {
    let mut s = three_chats();
    let mut c = chat("c3", "Fatima Zahra", ChatStatus::Active, Some("me"));
    c.last_seq = 400;
    net(&mut s, NetEvent::ChatLoaded(c));
    s.queue.selected = Some("c3".into());
    press(&mut s, "enter");
    net(
        &mut s,
        NetEvent::MessagesLoaded {
            chat_id: "c3".into(),
            messages: (201..=400)
                .map(|q| message("c3", q, AuthorKind::Customer, "x"))
                .collect(),
            older: false,
        },
    );
    assert_eq!(s.chats["c3"].history, History::Loaded { complete: false });
    let fx = press(&mut s, "g g");
    assert!(fx.contains(&Effect::Net(NetCmd::LoadMessages {
        chat_id: "c3".into(),
        before_seq: Some(201)
    })));
    net(
        &mut s,
        NetEvent::MessagesLoaded {
            chat_id: "c3".into(),
            messages: (1..=200)
                .map(|q| message("c3", q, AuthorKind::Customer, "x"))
                .collect(),
            older: true,
        },
    );
    assert_eq!(s.chats["c3"].messages.len(), 400);
    assert_eq!(s.chats["c3"].history, History::Loaded { complete: true });
}

#[test]
fn another_agent_signing_in_does_not_inherit_the_outbox() {
    let mut s = three_chats();
    open_mine(&mut s);
    net(
        &mut s,
        NetEvent::Conn(ConnEvent::Disconnected {
            reason: "x".into(),
            retry_in_ms: None,
        }),
    );
    press(&mut s, "i");
    type_text(&mut s, "unsent");
    press(&mut s, "ctrl-s esc");
    net(&mut s, NetEvent::SessionExpired);
    assert_eq!(s.outbox.len(), 1);
    // The same agent again: the outbox stays and goes out on connect.
    let again = Session {
        server: "http://panel.test".into(),
        token: "t3".into(),
        agent: agent("me", "Maya Chen", AgentStatus::Online, 1),
        expires_at: None,
    };
    net(&mut s, NetEvent::LoggedIn(again));
    assert_eq!(s.outbox.len(), 1);
    net(&mut s, NetEvent::SessionExpired);
    let other = Session {
        server: "http://panel.test".into(),
        token: "t4".into(),
        agent: agent("a2", "Sam Rivera", AgentStatus::Online, 1),
        expires_at: None,
    };
    let fx = net(&mut s, NetEvent::LoggedIn(other));
    assert!(s.outbox.is_empty());
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::SaveOutbox(v) if v.is_empty()))
    );
}

fn run_cmd(s: &mut State, line: &str) -> Vec<Effect> {
    press(s, ":");
    type_text(s, line);
    press(s, "enter")
}

fn file(id: &str, name: &str, size: u64) -> shared::model::Attachment {
    shared::model::Attachment {
        id: id.into(),
        name: name.into(),
        content_type: "application/pdf".into(),
        size,
        url: format!("/api/v1/attachments/{id}"),
    }
}

fn sent_items(fx: &[Effect]) -> Vec<OutboxItem> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Net(NetCmd::Send(i)) => Some(i.clone()),
            _ => None,
        })
        .collect()
}

/// `:attach` uploads, the finished upload is staged, and the next send carries it.
fn attach_ok(s: &mut State, path: &str, f: shared::model::Attachment) {
    let fx = run_cmd(s, &format!("attach {path}"));
    assert!(
        fx.contains(&Effect::Net(NetCmd::Upload {
            chat_id: "c3".into(),
            path: path.into()
        })),
        "{fx:?}"
    );
    net(
        s,
        NetEvent::Uploaded {
            chat_id: "c3".into(),
            path: path.into(),
            attachment: f,
        },
    );
}

#[test]
fn attached_files_are_staged_and_go_with_the_next_reply_or_note() {
    let mut s = three_chats();
    open_mine(&mut s);
    let fx = run_cmd(&mut s, "attach ~/report.pdf");
    assert_eq!(
        s.composer.uploading_for("c3").collect::<Vec<_>>(),
        ["~/report.pdf"]
    );
    assert!(s.flash.as_ref().unwrap().text.contains("Uploading"));
    assert_eq!(fx.len(), 1, "only the upload: {fx:?}");
    net(
        &mut s,
        NetEvent::Uploaded {
            chat_id: "c3".into(),
            path: "~/report.pdf".into(),
            attachment: file("a1", "report.pdf", 120 * 1024),
        },
    );
    assert_eq!(s.composer.uploading_for("c3").count(), 0);
    assert_eq!(
        s.composer.staged_for("c3"),
        [file("a1", "report.pdf", 120 * 1024)]
    );
    let f = s.flash.as_ref().unwrap();
    assert!(
        f.text.contains("Attached report.pdf (120 KiB)"),
        "{}",
        f.text
    );
    // A message with only files may have an empty body.
    press(&mut s, "i");
    let fx = press(&mut s, "ctrl-s");
    let items = sent_items(&fx);
    assert_eq!(items.len(), 1, "{fx:?}");
    assert_eq!(items[0].body, "");
    assert_eq!(items[0].kind, MessageKind::Text);
    assert_eq!(items[0].attachments, [file("a1", "report.pdf", 120 * 1024)]);
    assert!(s.composer.staged_for("c3").is_empty(), "sent once");
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::SaveOutbox(v) if v[0].attachments.len() == 1))
    );
    // The next message goes without it.
    type_text(&mut s, "plain");
    let items = sent_items(&press(&mut s, "ctrl-s"));
    assert!(items[0].attachments.is_empty());
    press(&mut s, "esc");
    // Notes carry files too, also from the command line.
    attach_ok(&mut s, "a.png", file("a2", "a.png", 10));
    attach_ok(&mut s, "b.png", file("a3", "b.png", 10));
    let items = sent_items(&run_cmd(&mut s, "note see the screenshots"));
    assert_eq!(items[0].kind, MessageKind::Note);
    assert_eq!(items[0].body, "see the screenshots");
    let ids: Vec<_> = items[0].attachments.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["a2", "a3"]);
    // The ack clears the outbox item as for any message.
    let mut m = message("c3", 4, AuthorKind::Agent, "see the screenshots");
    m.client_msg_id = items[0].client_msg_id.clone();
    net(
        &mut s,
        NetEvent::SendAcked {
            client_msg_id: items[0].client_msg_id.clone(),
            message: m,
        },
    );
    assert!(
        !s.outbox
            .iter()
            .any(|o| o.client_msg_id == items[0].client_msg_id)
    );
}

#[test]
fn detach_clears_the_staged_files_and_they_stay_with_their_chat() {
    let mut s = three_chats();
    open_mine(&mut s);
    attach_ok(&mut s, "r.pdf", file("a1", "r.pdf", 2048));
    attach_ok(&mut s, "s.pdf", file("a2", "s.pdf", 2048));
    // Another chat has its own (empty) set; coming back finds them again.
    s.queue.selected = Some("c1".into());
    s.focus = Pane::Queue;
    press(&mut s, "enter");
    assert!(s.composer.staged_for("c1").is_empty());
    s.queue.selected = Some("c3".into());
    s.focus = Pane::Queue;
    press(&mut s, "enter");
    assert_eq!(s.composer.staged_for("c3").len(), 2);
    run_cmd(&mut s, "detach");
    assert!(s.composer.staged_for("c3").is_empty());
    assert!(s.flash.as_ref().unwrap().text.contains("Removed 2"));
    let items = sent_items(&run_cmd(&mut s, "reply just text"));
    assert!(items[0].attachments.is_empty());
    run_cmd(&mut s, "detach");
    assert!(s.flash.as_ref().unwrap().text.contains("No files"));
}

#[test]
fn attach_errors_are_explained_and_offline_files_are_refused() {
    let mut s = three_chats();
    // No chat open.
    assert!(run_cmd(&mut s, "attach x.pdf").is_empty());
    assert!(s.flash.as_ref().unwrap().text.contains("Open a chat"));
    open_mine(&mut s);
    assert!(run_cmd(&mut s, "attach").is_empty());
    assert!(s.flash.as_ref().unwrap().text.contains("Usage: :attach"));
    // What the worker found wrong with the file is shown, and nothing stays uploading.
    run_cmd(&mut s, "attach big.iso");
    net(
        &mut s,
        NetEvent::UploadFailed {
            chat_id: "c3".into(),
            path: "big.iso".into(),
            error: "big.iso: 11.0 MiB is over the 10 MiB limit".into(),
        },
    );
    let f = s.flash.as_ref().unwrap();
    assert_eq!(f.level, FlashLevel::Error);
    assert!(f.text.contains("over the 10 MiB limit"), "{}", f.text);
    assert_eq!(s.composer.uploading.len(), 0);
    assert!(s.composer.staged_for("c3").is_empty());
    // At most five per message, counting uploads under way.
    for i in 0..4 {
        attach_ok(&mut s, &format!("f{i}"), file(&format!("a{i}"), "f", 1));
    }
    run_cmd(&mut s, "attach f4");
    assert!(run_cmd(&mut s, "attach f5").is_empty());
    assert!(s.flash.as_ref().unwrap().text.contains("At most 5"));
    net(
        &mut s,
        NetEvent::Uploaded {
            chat_id: "c3".into(),
            path: "f4".into(),
            attachment: file("a4", "f", 1),
        },
    );
    assert_eq!(s.composer.staged_for("c3").len(), 5);
    // Offline: no new attachments, and a message with files is not queued…
    net(
        &mut s,
        NetEvent::Conn(ConnEvent::Disconnected {
            reason: "gone".into(),
            retry_in_ms: Some(1000),
        }),
    );
    run_cmd(&mut s, "detach");
    assert!(run_cmd(&mut s, "attach x.pdf").is_empty());
    assert!(s.flash.as_ref().unwrap().text.contains("Offline"));
    s.conn.state = ConnState::Connected;
    attach_ok(&mut s, "x.pdf", file("ax", "x.pdf", 1));
    net(
        &mut s,
        NetEvent::Conn(ConnEvent::Disconnected {
            reason: "gone".into(),
            retry_in_ms: Some(1000),
        }),
    );
    press(&mut s, "i");
    type_text(&mut s, "here");
    let fx = press(&mut s, "ctrl-s");
    assert!(sent_items(&fx).is_empty());
    assert!(s.outbox.is_empty(), "files never wait in the outbox");
    assert!(
        s.flash
            .as_ref()
            .unwrap()
            .text
            .contains("not kept in the outbox")
    );
    assert_eq!(s.composer.text(), "here", "the text stays in the composer");
    assert_eq!(s.composer.staged_for("c3").len(), 1);
    // …while text alone still waits in the outbox as before.
    press(&mut s, "esc");
    run_cmd(&mut s, "detach");
    press(&mut s, "i");
    press(&mut s, "ctrl-s");
    assert_eq!(s.outbox.len(), 1);
    assert_eq!(s.outbox[0].status, OutboxStatus::Pending);
    assert_eq!(s.outbox[0].body, "here");
}

#[test]
fn save_picks_the_nth_newest_file_of_the_open_chat() {
    let mut s = three_chats();
    assert!(run_cmd(&mut s, "save").is_empty());
    open_mine(&mut s);
    assert!(run_cmd(&mut s, "save").is_empty());
    assert!(s.flash.as_ref().unwrap().text.contains("no files"));
    let mut old = message("c3", 4, AuthorKind::Customer, "two files");
    old.attachments = vec![file("o1", "first.pdf", 1), file("o2", "second.pdf", 1)];
    let mut new = message("c3", 5, AuthorKind::Customer, "");
    new.attachments = vec![file("n1", "latest.png", 1)];
    net(
        &mut s,
        NetEvent::MessagesLoaded {
            chat_id: "c3".into(),
            messages: vec![old, new],
            older: false,
        },
    );
    let save = |fx: Vec<Effect>| -> Option<(String, Option<String>)> {
        fx.into_iter().find_map(|e| match e {
            Effect::Net(NetCmd::SaveAttachment { attachment, dir }) => Some((attachment.id, dir)),
            _ => None,
        })
    };
    assert_eq!(save(run_cmd(&mut s, "save")), Some(("n1".into(), None)));
    assert!(s.flash.as_ref().unwrap().text.contains("latest.png"));
    assert_eq!(save(run_cmd(&mut s, "save 2")), Some(("o1".into(), None)));
    assert_eq!(
        save(run_cmd(&mut s, "save 3 ~/in box")),
        Some(("o2".into(), Some("~/in box".into())))
    );
    assert_eq!(
        save(run_cmd(&mut s, "save /tmp")),
        Some(("n1".into(), Some("/tmp".into())))
    );
    assert_eq!(save(run_cmd(&mut s, "save 4")), None);
    assert!(s.flash.as_ref().unwrap().text.contains("has 3 files"));
    assert_eq!(save(run_cmd(&mut s, "save 0")), None);
    net(
        &mut s,
        NetEvent::AttachmentSaved {
            name: "latest.png".into(),
            path: "/home/maya/Downloads/latest (1).png".into(),
        },
    );
    assert_eq!(
        s.flash.as_ref().unwrap().text,
        "Saved latest.png to /home/maya/Downloads/latest (1).png"
    );
}
