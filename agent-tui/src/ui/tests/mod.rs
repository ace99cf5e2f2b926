//! Snapshots of every pane and mode at 80×24 and 160×48, drawn into a `TestBackend`
//! from states built with a fixed clock (so no volatile text needs filtering), and
//! the proof that hostile text reaches the screen inert.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::json;
use shared::model::{AuthorKind, ChatStatus, ChatSummary, CustomerProfile, MessageKind, Rating};
use time::Duration;

use super::render;
use crate::effect::Effect;
use crate::msg::{
    CannedReply, ChatOp, ChatReply, ConnEvent, DirectoryReply, Msg, NetEvent, SessionReply,
};
use crate::state::{ConnState, Mode, OutboxItem, OutboxStatus, Pane, State, ThemeName};
use crate::update::tests::{T0, chat, message, press, signed_in, type_text};
use crate::update::update;

mod dashboard;
mod errors;
mod kb;
mod notifications;
mod tickets;

fn draw(s: &State, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| render(s, f)).unwrap();
    t
}

fn screen_text(t: &Terminal<TestBackend>) -> String {
    let buf = t.backend().buffer();
    let mut out = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

/// Snapshots `s` at both sizes; the narrow one shows `narrow_focus`.
fn snap(name: &str, s: &State, narrow_focus: Pane) {
    let mut wide = s.clone();
    wide.width = 160;
    insta::assert_snapshot!(format!("{name}_160x48"), draw(&wide, 160, 48).backend());
    let mut narrow = s.clone();
    narrow.width = 80;
    narrow.chats.focus = narrow_focus;
    insta::assert_snapshot!(format!("{name}_80x24"), draw(&narrow, 80, 24).backend());
}

fn net(s: &mut State, e: NetEvent) -> Vec<Effect> {
    update(s, Msg::Net(e))
}

/// A working console: a queue, a chat with every kind of line, a customer profile.
fn busy() -> State {
    let mut s = signed_in();
    s.conn.rtt_ms = Some(12);
    let mut waiting = Vec::new();
    for (i, (id, name, mins)) in [
        ("w1", "Kenji Watanabe", 14),
        ("w2", "陈伟 Chen Wei", 6),
        ("w3", "Amara Okafor", 1),
    ]
    .into_iter()
    .enumerate()
    {
        let mut c = chat(id, name, ChatStatus::Waiting, None);
        c.created_at = T0 - Duration::minutes(mins);
        c.unread_count = (i + 1) as u32;
        c.last_message = Some(message(
            id,
            1,
            AuthorKind::Customer,
            match i {
                0 => "Do you ship the X2 projector to Japan?",
                1 => "你好! The app keeps logging me out every few minutes.",
                _ => "My projector shows a purple tint on everything.",
            },
        ));
        waiting.push(c);
    }
    net(
        &mut s,
        NetEvent::Chats(ChatReply::ListLoaded {
            status: ChatStatus::Waiting,
            chats: waiting,
        }),
    );
    let mut mine = chat("m1", "Fatima Zahra", ChatStatus::Active, Some("me"));
    mine.tags = vec!["billing".into(), "vip".into()];
    mine.last_seq = 6;
    mine.customer_read_seq = 3;
    mine.customer.phone = Some("+44 20 7946 0958".into());
    mine.customer.location = Some("Leeds, UK".into());
    mine.customer.tags = vec!["returning".into()];
    mine.customer.custom_fields = [
        ("plan".to_owned(), "Pro yearly".to_owned()),
        ("order".to_owned(), "#48213".to_owned()),
    ]
    .into();
    let mut other = chat("m2", "Lukas Schmidt", ChatStatus::Active, Some("me"));
    other.unread_count = 2;
    other.last_message = Some(message(
        "m2",
        4,
        AuthorKind::Customer,
        "Holding the button worked!",
    ));
    net(
        &mut s,
        NetEvent::Chats(ChatReply::ListLoaded {
            status: ChatStatus::Active,
            chats: vec![mine.clone(), other],
        }),
    );
    let mut closed = chat("x1", "Ivan Petrov", ChatStatus::Closed, Some("me"));
    closed.closed_at = Some(T0 - Duration::hours(3));
    net(
        &mut s,
        NetEvent::Chats(ChatReply::ListLoaded {
            status: ChatStatus::Closed,
            chats: vec![closed],
        }),
    );
    s.chats.queue.selected = Some("m1".into());
    press(&mut s, "enter");
    let mut msgs = vec![
        message(
            "m1",
            1,
            AuthorKind::Customer,
            "I was charged twice for my subscription this month.",
        ),
        message("m1", 2, AuthorKind::System, "Maya Chen joined the chat"),
        message(
            "m1",
            3,
            AuthorKind::Agent,
            "Sorry about that! Could you tell me the amounts and dates?",
        ),
        message(
            "m1",
            4,
            AuthorKind::Customer,
            "Both charges are €29.00, on the 3rd and the 4th.\nThe card ends in 4417.",
        ),
        message(
            "m1",
            5,
            AuthorKind::Agent,
            "Thanks — I can see both. Refunding the second one now.",
        ),
        message(
            "m1",
            6,
            AuthorKind::Agent,
            "Ledger shows a retry after a timeout; refund #R-2231.",
        ),
    ];
    msgs[5].kind = MessageKind::Note;
    net(
        &mut s,
        NetEvent::Chats(ChatReply::MessagesLoaded {
            chat_id: "m1".into(),
            messages: msgs,
            older: false,
        }),
    );
    net(
        &mut s,
        NetEvent::Directory(DirectoryReply::CustomerLoaded(CustomerProfile {
            customer: mine.customer.clone(),
            previous_chats: vec![ChatSummary {
                id: "old1".into(),
                status: ChatStatus::Closed,
                department_id: "d2".into(),
                assignee_id: Some("a2".into()),
                created_at: T0 - Duration::days(40),
                last_message_at: T0 - Duration::days(40),
                message_count: 9,
                rating: Some(Rating {
                    score: 5,
                    comment: None,
                }),
            }],
            tickets: Vec::new(),
            notes: Vec::new(),
        })),
    );
    s.chats.outbox.push(OutboxItem {
        client_msg_id: "o1".into(),
        chat_id: "m1".into(),
        body: "The refund takes 3–5 working days.".into(),
        kind: MessageKind::Text,
        attachments: vec![],
        created_at: T0,
        status: OutboxStatus::Sending,
    });
    s.chats.outbox.push(OutboxItem {
        client_msg_id: "o2".into(),
        chat_id: "m1".into(),
        body: "x".repeat(30),
        kind: MessageKind::Text,
        attachments: vec![],
        created_at: T0,
        status: OutboxStatus::Failed {
            reason: "body is too long".into(),
        },
    });
    s.chats.entries.get_mut("m1").unwrap().customer_typing_until = Some(T0 + Duration::seconds(5));
    s.flash = None;
    s
}

#[test]
fn login_screen() {
    let mut s = State::new("http://panel.test", T0);
    crate::update::start(&mut s, None, vec![]);
    type_text(&mut s, "maya@example.com");
    press(&mut s, "tab");
    type_text(&mut s, "hunter22");
    snap("login", &s, Pane::Queue);
    press(&mut s, "enter");
    net(
        &mut s,
        NetEvent::Session(SessionReply::LoginFailed("wrong e-mail or password".into())),
    );
    snap("login_error", &s, Pane::Queue);
    let t = draw(&s, 80, 24);
    let text = screen_text(&t);
    assert!(!text.contains("hunter22"), "the password is never drawn");
    assert!(text.contains("••••••••"));
}

#[test]
fn queue_without_an_open_chat() {
    let mut s = busy();
    s.chats.open_chat = None;
    s.chats.focus = Pane::Queue;
    s.chats.queue.selected = Some("w2".into());
    snap("queue", &s, Pane::Queue);
}

#[test]
fn chat_open_in_normal_mode() {
    let s = busy();
    snap("chat", &s, Pane::Chat);
    snap("customer", &s, Pane::Customer);
    let text = screen_text(&draw(&s, 160, 48));
    for needle in [
        "● Visitor",
        "◆ You",
        "✓✓ read",
        "✓ sent",
        "✎ NOTE",
        "── Maya Chen joined the chat",
        "◷ sending…",
        "✗ not sent: body is too long",
        "is typing…",
        "Pro yearly",
        "Previous chats (1)",
        "● online 12 ms",
    ] {
        assert!(text.contains(needle), "missing {needle:?}");
    }
}

#[test]
fn composer_reply_and_note() {
    let mut s = busy();
    press(&mut s, "i");
    type_text(&mut s, "Your refund is on its way.");
    press(&mut s, "enter");
    type_text(&mut s, "Anything else?");
    snap("insert_reply", &s, Pane::Chat);
    press(&mut s, "ctrl-n");
    snap("insert_note", &s, Pane::Chat);
    let text = screen_text(&draw(&s, 80, 24));
    assert!(text.contains("NOTE · internal"));
}

#[test]
fn command_line_with_completions() {
    let mut s = busy();
    press(&mut s, ":");
    type_text(&mut s, "transfer ");
    press(&mut s, "tab");
    snap("command", &s, Pane::Chat);
}

#[test]
fn search_mode() {
    let mut s = busy();
    press(&mut s, "1 /");
    type_text(&mut s, "chen");
    snap("search", &s, Pane::Queue);
}

#[test]
fn help_overlay_lists_every_binding_and_command() {
    let mut s = busy();
    press(&mut s, "?");
    snap("help", &s, Pane::Queue);
    let lines: Vec<String> = super::help::help_lines(&s)
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    let all = lines.join("\n");
    for ctx in crate::keys::KeyContext::all() {
        for b in s.keymap.bindings(ctx) {
            let keys = crate::keys::seq_to_string(&b.keys);
            assert!(
                lines
                    .iter()
                    .any(|l| l.contains(&keys) && l.contains(&b.action.describe())),
                "help misses {keys} → {:?}",
                b.action
            );
        }
    }
    for (_, list) in crate::update::commands::scopes() {
        for c in list {
            assert!(all.contains(&c.syntax()), "help misses {}", c.syntax());
        }
    }
    // Remapped keys show up: the overlay reads the live keymap.
    s.keymap
        .bind_str(crate::keys::KeyContext::Normal, "ctrl-t", "transfer")
        .unwrap();
    let lines = super::help::help_lines(&s);
    assert!(
        lines
            .iter()
            .any(|(l, _)| l.contains("ctrl-t") && l.contains("transfer"))
    );
}

#[test]
fn canned_picker_with_preview() {
    let mut s = busy();
    net(
        &mut s,
        NetEvent::Canned(CannedReply::Loaded(
            crate::update::tests::canned::responses(),
        )),
    );
    press(&mut s, "i /");
    type_text(&mut s, "hel");
    snap("canned_picker", &s, Pane::Chat);
    let text = screen_text(&draw(&s, 80, 24));
    assert!(text.contains("/hello"), "{text}");
    assert!(text.contains("team"), "scope in words: {text}");
    assert!(
        text.contains("Hi Fatima, this is Maya from Support."),
        "the preview has the variables filled in: {text}"
    );
    assert!(text.contains("CANNED"), "{text}");
    // Browsing, and an empty list, render too.
    press(&mut s, "tab");
    assert!(screen_text(&draw(&s, 80, 24)).contains("browsing"));
    s.chats.canned.clear();
    let text = screen_text(&draw(&s, 160, 48));
    assert!(text.contains(":canned add <shortcut> <title…>"), "{text}");
}

#[test]
fn transfer_picker() {
    let mut s = busy();
    press(&mut s, "t");
    snap("picker_transfer", &s, Pane::Chat);
    let text = screen_text(&draw(&s, 80, 24));
    assert!(
        text.contains("[● online]") && text.contains("[◐ away]"),
        "status in words"
    );
}

#[test]
fn offline_with_unsent_and_scrolled_up() {
    let mut s = busy();
    net(
        &mut s,
        NetEvent::Conn(ConnEvent::Disconnected {
            reason: "lost".into(),
            retry_in_ms: Some(4000),
        }),
    );
    press(&mut s, "k k k k k k");
    net(
        &mut s,
        NetEvent::Push(shared::events::ServerEvent::MessageNew(
            shared::events::MessageEvent {
                event_id: 200,
                message: message("m1", 7, AuthorKind::Customer, "Thank you!"),
            },
        )),
    );
    s.flash = None;
    snap("offline_scrolled", &s, Pane::Chat);
    let text = screen_text(&draw(&s, 160, 48));
    assert!(text.contains("✗ offline · retry in 4s"));
    // At 160×48 the whole chat fits; at 80×24 it is scrolled and says what is below.
    assert!(!text.contains("new message(s) below"));
    let mut narrow = s.clone();
    narrow.width = 80;
    narrow.chats.focus = Pane::Chat;
    let small = screen_text(&draw(&narrow, 80, 24));
    assert!(small.contains("1 new message(s) below"), "{small}");
    assert!(text.contains("◷ pending — sent when back online"));
}

#[test]
fn reconnecting_and_signed_out_bars() {
    let mut s = busy();
    s.conn.state = ConnState::Connecting { attempt: 3 };
    let text = screen_text(&draw(&s, 160, 48));
    assert!(text.contains("◌ reconnecting (try 3)"));
    let c = s.chats.entries["m1"].chat.clone();
    net(
        &mut s,
        NetEvent::Chats(ChatReply::ActionDone {
            op: ChatOp::Tag,
            chat: c,
        }),
    );
    let text = screen_text(&draw(&s, 80, 24));
    assert!(text.contains("Tags updated"));
}

#[test]
fn themes_and_no_color_render() {
    let mut s = busy();
    for t in ThemeName::ALL {
        s.theme = t;
        let text = screen_text(&draw(&s, 160, 48));
        assert!(text.contains("◆ Agent Panel"));
    }
    s.no_color = true;
    let t = draw(&s, 160, 48);
    let buf = t.backend().buffer();
    for cell in buf.content() {
        assert_eq!(
            cell.fg,
            ratatui::style::Color::Reset,
            "NO_COLOR draws no colour"
        );
        assert_eq!(cell.bg, ratatui::style::Color::Reset);
    }
}

#[test]
fn light_and_high_contrast_snapshots() {
    let mut s = busy();
    s.theme = ThemeName::HighContrast;
    insta::assert_snapshot!("high_contrast_80x24", draw(&s, 80, 24).backend());
}

/// Hostile text from the network: escape sequences (which the server refuses in
/// bodies, so injected here through the net layer's own decoding), bidi overrides,
/// zero-width and wide characters. The screen must hold no ESC or control byte and
/// the layout must stay intact.
#[test]
fn hostile_text_from_the_network_renders_inert() {
    let mut s = busy();
    let nasty_body = "pay\u{1b}[2J\u{1b}[H now\u{1b}]52;c;ZXZpbA==\u{7} \u{1b}]8;;http://evil\u{1b}\\link\u{1b}]8;;\u{1b}\\ \u{202E}txt.exe\u{202C} zero\u{200B}width 漢字漢字 \u{9b}31mred\u{7}\u{8}";
    let nasty_name = "Eve\u{1b}[31m\u{202E}live\nNewline";
    let ev = crate::net::push_event(
        "message:new",
        json!({"event_id": 300, "message": {
            "id": "e1", "chat_id": "m1", "seq": 7, "client_msg_id": "e1",
            "author": {"kind": "customer", "id": "cu-m1", "name": nasty_name},
            "kind": "text", "body": nasty_body, "attachments": [],
            "created_at": "2026-03-12T14:59:00Z"}}),
    )
    .expect("decodes");
    update(&mut s, Msg::Net(ev));
    let ev = crate::net::push_event(
        "chat:updated",
        json!({"event_id": 301, "chat": {
            "id": "m1", "status": "active",
            "customer": {"id": "cu-m1", "name": nasty_name, "email": "e\u{1b}[8m@x.io", "phone": null,
                "location": "\u{1b}]0;title\u{7}Paris", "tags": ["\u{202E}vip"], "custom_fields": {"k\u{1b}[1m": "v"},
                "blocked": false, "created_at": "2026-01-01T00:00:00Z"},
            "department_id": "d1", "assignee_id": "me", "tags": ["a\u{1b}[5mb"],
            "created_at": "2026-03-12T14:00:00Z", "last_message_at": "2026-03-12T14:59:00Z",
            "unread_count": 0, "last_message": null, "rating": null, "last_seq": 7}}),
    )
    .expect("decodes");
    update(&mut s, Msg::Net(ev));
    for (w, h) in [(160, 48), (80, 24)] {
        let mut st = s.clone();
        st.width = w;
        st.chats.focus = Pane::Chat;
        let t = draw(&st, w, h);
        let text = screen_text(&t);
        for c in text.chars() {
            assert!(
                c == '\n' || !(c.is_control() || shared::text::is_forbidden(c)),
                "forbidden {c:?} on screen"
            );
        }
        assert!(text.contains("pay now"), "the text itself stays readable");
        assert!(text.contains("txt.exe"));
        assert!(text.contains("zerowidth"));
        // The frame is intact: every body row still starts and ends with a border.
        let buf = t.backend().buffer();
        let first = if w < 100 { 2 } else { 1 };
        for y in first..h - 2 {
            for x in [0, w - 1] {
                let sym = buf[(x, y)].symbol();
                assert!(
                    "│┃┌┐└┘┏┓┗┛".contains(sym),
                    "border broken at ({x},{y}): {sym:?}\n{text}"
                );
            }
        }
    }
    // The queue preview and the customer pane too.
    let mut st = s.clone();
    st.width = 160;
    let text = screen_text(&draw(&st, 160, 48));
    assert!(text.contains("Evelive"), "{text}");
    assert!(!text.contains('\u{1b}'));
    assert_eq!(st.mode, Mode::Normal);
}

#[test]
fn chat_commands_name_their_target_before_enter() {
    let mut s = busy();
    press(&mut s, "x");
    type_text(&mut s, "refunded");
    let text = screen_text(&draw(&s, 80, 24));
    let last = text.lines().last().unwrap_or_default().to_owned();
    assert!(last.contains(":close refunded"), "{last}");
    assert!(last.contains("→ Fatima Zahra (active)"), "{last}");
}

#[test]
fn attachments_are_named_with_their_size() {
    let mut s = busy();
    let mut m = message("m1", 7, AuthorKind::Customer, "Here is the receipt");
    m.attachments = vec![shared::model::Attachment {
        id: "att1".into(),
        name: "receipt.pdf".into(),
        content_type: "application/pdf".into(),
        size: 12_800,
        url: "/api/v1/attachments/att1".into(),
    }];
    update(
        &mut s,
        Msg::Net(NetEvent::Push(shared::events::ServerEvent::MessageNew(
            shared::events::MessageEvent {
                event_id: 400,
                message: m,
            },
        ))),
    );
    let text = screen_text(&draw(&s, 160, 48));
    assert!(text.contains("⎘ receipt.pdf · 12 KB"), "{text}");
}

#[test]
fn staged_files_show_as_chips_above_the_composer() {
    let mut s = busy();
    let file = |id: &str, name: &str, size| shared::model::Attachment {
        id: id.into(),
        name: name.into(),
        content_type: "application/pdf".into(),
        size,
        url: format!("/api/v1/attachments/{id}"),
    };
    s.chats
        .composer
        .staged
        .insert("m1".into(), vec![file("a1", "report.pdf", 120 * 1024)]);
    s.chats
        .composer
        .uploading
        .push(("m1".into(), "~/photos/receipt.png".into()));
    press(&mut s, "i");
    type_text(&mut s, "Here is the report.");
    let mut narrow = s.clone();
    narrow.width = 80;
    narrow.chats.focus = Pane::Chat;
    let term = draw(&narrow, 80, 24);
    let text = screen_text(&term);
    // The clip is two columns wide: the buffer holds a blank for its second one.
    assert!(text.contains("📎  report.pdf 120 KiB"), "{text}");
    assert!(text.contains("⇡ receipt.png uploading…"), "{text}");
    insta::assert_snapshot!("composer_attachment_80x24", term.backend());
    // Another chat shows none of them.
    s.chats.composer.staged.clear();
    s.chats.composer.uploading.clear();
    let text = screen_text(&draw(&s, 160, 48));
    assert!(!text.contains("📎"), "{text}");
}
