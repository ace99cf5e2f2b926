//! Error text from the server, the decoder and the system reaches the message line,
//! the login form and a failed message inert: no ESC, BEL, control or bidi character.

use serde_json::json;
use shared::model::{Chat, ChatStatus};
use shared::{ApiError, ErrorCode};

use super::{busy, draw, net, screen_text};
use crate::msg::{ChatOp, ChatReply, NetEvent, SendError, SessionReply};
use crate::state::{Mode, OutboxItem, OutboxStatus, Pane};
use crate::update::tests::signed_in;

/// An OSC 52 clipboard write and a right-to-left override inside an error message.
const NASTY: &str = "no \u{1b}]52;c;ZXZpbA==\u{7}such \u{202E}chat\u{202C} \u{1b}[2Jhere\u{7}";

fn assert_inert(text: &str) {
    for c in text.chars() {
        assert!(
            c == '\n' || !(c.is_control() || shared::text::is_forbidden(c)),
            "{c:?} reaches the screen:\n{text}"
        );
    }
}

/// The message line: the last row of the screen.
fn message_line(text: &str) -> &str {
    text.lines().last().unwrap_or_default()
}

#[test]
fn server_error_text_reaches_the_status_line_inert() {
    // A refusal handed on as it came (as if the decoder had missed it)…
    let mut s = busy();
    net(
        &mut s,
        NetEvent::Chats(ChatReply::ActionFailed {
            op: ChatOp::Close,
            chat_id: "m1".into(),
            error: SendError::Refused(ApiError::new(ErrorCode::NotFound, NASTY)),
        }),
    );
    let flash = &s.flash.as_ref().expect("shown").text;
    assert_inert(flash);
    for (w, h) in [(160, 48), (80, 24)] {
        let text = screen_text(&draw(&s, w, h));
        assert_inert(&text);
        assert!(
            message_line(&text).contains("Could not close: no such chat here"),
            "{text}"
        );
    }
    // …and one through the socket's ack decoding.
    let mut s = busy();
    let ack = json!({"ok": false, "error": {"code": "not_found", "message": NASTY}});
    let Err(error) = crate::net::ack_result::<Chat>(Ok(ack)) else {
        panic!("a refusal");
    };
    net(
        &mut s,
        NetEvent::Chats(ChatReply::ActionFailed {
            op: ChatOp::Reopen,
            chat_id: "m1".into(),
            error,
        }),
    );
    let text = screen_text(&draw(&s, 160, 48));
    assert_inert(&text);
    assert!(message_line(&text).contains("Could not reopen: no such chat here"));
}

/// A chat whose status serde refuses, quoting it: `unknown variant `…``.
fn chat_with_status(status: &str) -> serde_json::Value {
    let c = crate::update::tests::chat("c9", "Ann", ChatStatus::Waiting, None);
    let mut v = serde_json::to_value(c).expect("serialises");
    v["status"] = json!(status);
    v
}

#[test]
fn decode_errors_quoting_hostile_input_reach_the_status_line_inert() {
    let error = crate::net::sanitize::decode::<Chat>(chat_with_status(NASTY)).expect_err("refused");
    assert_inert(&error);
    assert!(
        error.contains("unknown variant `no such chat here`"),
        "{error}"
    );
    let mut s = busy();
    net(
        &mut s,
        NetEvent::Failed {
            what: "loading a chat".into(),
            error: format!("unexpected data: {NASTY}"),
        },
    );
    let text = screen_text(&draw(&s, 160, 48));
    assert_inert(&text);
    assert!(
        message_line(&text).contains("loading a chat: unexpected data: no such chat here"),
        "{text}"
    );
}

#[test]
fn a_refused_message_shows_its_reason_inert() {
    let mut s = busy();
    s.chats.outbox.push(OutboxItem {
        client_msg_id: "x1".into(),
        chat_id: "m1".into(),
        body: "hello".into(),
        kind: shared::model::MessageKind::Text,
        attachments: vec![],
        created_at: s.now,
        status: OutboxStatus::Sending,
    });
    net(
        &mut s,
        NetEvent::Chats(ChatReply::SendFailed {
            client_msg_id: "x1".into(),
            error: SendError::Refused(ApiError::new(ErrorCode::Invalid, NASTY)),
        }),
    );
    let item = s.chats.outbox.iter().find(|o| o.client_msg_id == "x1");
    let Some(OutboxStatus::Failed { reason }) = item.map(|o| &o.status) else {
        panic!("marked failed");
    };
    assert_inert(reason);
    s.chats.focus = Pane::Chat;
    let text = screen_text(&draw(&s, 160, 48));
    assert_inert(&text);
    assert!(text.contains("not sent: no such chat here"), "{text}");
}

#[test]
fn sign_in_and_session_errors_reach_the_login_form_inert() {
    let mut s = crate::state::State::new("http://panel.test", crate::update::tests::T0);
    net(
        &mut s,
        NetEvent::Session(SessionReply::LoginFailed(NASTY.into())),
    );
    assert_eq!(s.mode, Mode::Login);
    assert_inert(s.login.error.as_deref().unwrap_or_default());
    let text = screen_text(&draw(&s, 80, 24));
    assert_inert(&text);
    assert!(text.contains("no such chat here"), "{text}");

    let mut s = signed_in();
    net(
        &mut s,
        NetEvent::Conn(crate::msg::ConnEvent::AuthFailed(NASTY.into())),
    );
    assert_inert(s.login.error.as_deref().unwrap_or_default());
    assert!(
        matches!(&s.conn.state, crate::state::ConnState::AuthFailed(w) if !w.contains('\u{1b}'))
    );
    net(
        &mut s,
        NetEvent::Conn(crate::msg::ConnEvent::Disconnected {
            reason: NASTY.into(),
            retry_in_ms: None,
        }),
    );
    assert!(
        matches!(&s.conn.state, crate::state::ConnState::Offline { reason, .. } if !reason.contains('\u{1b}') && !reason.contains('\u{202E}'))
    );
}

#[test]
fn error_words_are_cleaned_where_the_net_layer_builds_them() {
    use crate::net::rest::RestError;
    for e in [
        RestError::Api(ApiError::new(ErrorCode::Invalid, NASTY)),
        RestError::Decode(NASTY.into()),
        RestError::Transport(NASTY.into()),
    ] {
        let m = e.message();
        assert_inert(&m);
        assert!(m.contains("no such chat here"), "{m}");
    }
    // An ack whose data serde refuses, quoting the hostile value.
    let ack = json!({"ok": true, "data": chat_with_status(NASTY)});
    let Err(SendError::Transient(why)) = crate::net::ack_result::<Chat>(Ok(ack)) else {
        panic!("refused");
    };
    assert_inert(&why);
    assert!(why.contains("unknown variant `no such chat here`"), "{why}");
    // A decoder quoting a huge value is cut short.
    let long = crate::net::sanitize::clean_error(&format!("{NASTY}{}", "x".repeat(5000)));
    assert_inert(&long);
    assert_eq!(long.chars().count(), 300);
    assert!(long.ends_with('…'));
}
