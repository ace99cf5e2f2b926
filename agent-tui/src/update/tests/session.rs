//! Signing in and out, the help overlay, quitting, and every action in normal mode.

use super::*;

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
        vec![Effect::Net(NetCmd::Session(SessionCmd::Login {
            server: "http://panel.test".into(),
            email: "maya@example.com".into(),
            password: "secret pass".into(),
            remember: true
        }))]
    );
    assert!(s.login.busy);
    net(
        &mut s,
        NetEvent::Session(SessionReply::LoginFailed("wrong e-mail or password".into())),
    );
    assert_eq!(s.login.error.as_deref(), Some("wrong e-mail or password"));
    assert!(!s.login.busy);
    let session = Session {
        server: "http://panel.test".into(),
        token: "tok2".into(),
        agent: agent("me", "Maya Chen", AgentStatus::Online, 0),
        expires_at: None,
    };
    let fx = net(
        &mut s,
        NetEvent::Session(SessionReply::LoggedIn(session.clone())),
    );
    assert!(fx.contains(&Effect::SaveSession(session)));
    assert!(
        fx.contains(&Effect::Net(NetCmd::Session(SessionCmd::Connect {
            server: "http://panel.test".into(),
            token: "tok2".into()
        })))
    );
    assert_eq!(s.mode, Mode::Normal);
    assert!(s.login.password.is_empty(), "the password is not kept");
}

#[test]
fn lost_connection_requeues_in_flight_sends_and_auth_failure_signs_out() {
    let mut s = three_chats();
    open_mine(&mut s);
    press(&mut s, "i");
    type_text(&mut s, "hello");
    press(&mut s, "ctrl-s");
    assert_eq!(s.chats.outbox[0].status, OutboxStatus::Sending);
    net(
        &mut s,
        NetEvent::Conn(ConnEvent::Disconnected {
            reason: "no answer to ping".into(),
            retry_in_ms: None,
        }),
    );
    assert_eq!(s.chats.outbox[0].status, OutboxStatus::Pending);
    assert_eq!(s.conn.rtt_ms, None);
    let fx = net(
        &mut s,
        NetEvent::Conn(ConnEvent::AuthFailed("unauthorized".into())),
    );
    assert!(fx.contains(&Effect::ClearSession));
    assert_eq!(s.mode, Mode::Login);
    assert!(s.session.is_none());
    assert_eq!(
        s.chats.outbox.len(),
        1,
        "unsent messages survive the sign-out"
    );
    assert!(s.login.error.as_ref().unwrap().contains("Sign in again"));
    assert_eq!(s.login.email, "maya.chen@example.com");
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
    for a in crate::action::Action::all() {
        let mut s = three_chats();
        open_mine(&mut s);
        s.chats.focus = Pane::Chat;
        let fx = update(&mut s, Msg::Action(a));
        match a {
            crate::action::Action::CopyLink => assert!(fx.contains(&Effect::Clipboard(
                "http://panel.test/api/v1/chats/c3/transcript?format=text".into()
            ))),
            crate::action::Action::Refresh => {
                assert!(fx.contains(&Effect::Net(NetCmd::Directory(DirectoryCmd::LoadAgents))));
                assert!(
                    fx.contains(&Effect::Net(NetCmd::Chats(ChatCmd::LoadMessages {
                        chat_id: "c3".into(),
                        before_seq: None
                    })))
                );
            }
            crate::action::Action::SetStatus => assert_eq!(s.mode, Mode::Picker),
            crate::action::Action::Export => assert_eq!(s.command.input, "export "),
            crate::action::Action::Tag => assert_eq!(s.command.input, "tag "),
            crate::action::Action::Quit => assert!(s.quit),
            crate::action::Action::Top => assert!(s.chats.chat_scroll.from_bottom > 0),
            crate::action::Action::PageUp => assert_eq!(s.chats.chat_scroll.from_bottom, PAGE),
            _ => {}
        }
    }
}
