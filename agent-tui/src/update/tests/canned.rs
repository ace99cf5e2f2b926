//! Canned responses: the `/` picker, its search and browsing, variables, `:canned`.

use shared::canned::{CannedInput, CannedResponse, CannedScope};
use shared::model::ChatStatus;

use super::{T0, chat, press, signed_in, type_text};
use crate::effect::{CannedCmd, ChatCmd, Effect, NetCmd};
use crate::msg::{CannedReply, ChatReply, Msg, NetEvent, SessionReply};
use crate::state::{FlashLevel, Mode, State};
use crate::update::update;

pub fn response(shortcut: &str, title: &str, body: &str, scope: CannedScope) -> CannedResponse {
    CannedResponse {
        id: format!("id-{shortcut}-{}", scope.as_str()),
        title: title.into(),
        shortcut: shortcut.into(),
        body: body.into(),
        category: None,
        scope,
        owner_id: if scope == CannedScope::Team {
            "a2"
        } else {
            "me"
        }
        .into(),
        created_at: T0,
        updated_at: T0,
    }
}

/// A few realistic responses, ordered by shortcut like the server sends them.
pub fn responses() -> Vec<CannedResponse> {
    let mut v = vec![
        response(
            "bye",
            "Closing",
            "Thanks for contacting WZATCO, {{customer_first_name}}! Have a great day.",
            CannedScope::Team,
        ),
        response(
            "fw",
            "Firmware update steps",
            "1. Download the firmware to a FAT32 USB stick.\n2. Settings > System > Update.\n3. Keep the projector on until it restarts.",
            CannedScope::Team,
        ),
        response(
            "hello",
            "Greeting",
            "Hi {{customer_first_name}}, this is {{agent_first_name}} from {{department}}. How can I help?",
            CannedScope::Team,
        ),
        response(
            "purple",
            "Troubleshooting purple tint",
            "A purple tint usually means the HDMI colour space is wrong: set it to RGB.",
            CannedScope::Team,
        ),
        response(
            "refund",
            "Refund policy",
            "Refunds are possible within 30 days, {{customer_name}}; we email {{customer_email}}.",
            CannedScope::Team,
        ),
        response(
            "refund",
            "My refund wording",
            "Mine: {{customer_name}}",
            CannedScope::Personal,
        ),
    ];
    v[3].category = Some("troubleshooting".into());
    v
}

fn net(s: &mut State, e: NetEvent) -> Vec<Effect> {
    update(s, Msg::Net(e))
}

/// Signed in as Maya Chen (Support), writing to Ada Lovelace in an open chat.
pub fn composing() -> State {
    let mut s = signed_in();
    net(
        &mut s,
        NetEvent::Chats(ChatReply::ListLoaded {
            status: ChatStatus::Active,
            chats: vec![chat("c1", "Ada Lovelace", ChatStatus::Active, Some("me"))],
        }),
    );
    net(&mut s, NetEvent::Canned(CannedReply::Loaded(responses())));
    s.chats.queue.selected = Some("c1".into());
    press(&mut s, "i");
    assert_eq!(s.mode, Mode::Insert);
    s
}

fn shortcuts(s: &State) -> Vec<String> {
    s.canned_visible()
        .iter()
        .map(|c| format!("{}:{}", c.scope.as_str(), c.shortcut))
        .collect()
}

#[test]
fn slash_in_an_empty_composer_opens_the_picker_and_enter_inserts_the_filled_in_response() {
    let mut s = composing();
    press(&mut s, "/");
    assert_eq!(s.mode, Mode::Canned);
    assert_eq!(
        s.chats.composer.text(),
        "/",
        "the slash stays in the composer"
    );
    assert_eq!(
        s.canned_visible().len(),
        6,
        "an empty search shows everything"
    );
    type_text(&mut s, "hello");
    assert_eq!(
        s.chats.composer.text(),
        "/",
        "the search does not go into the composer"
    );
    assert_eq!(shortcuts(&s)[0], "team:hello");
    // The preview is exactly what Enter inserts.
    let preview = s.canned_text(s.canned_selected().unwrap());
    assert_eq!(
        preview,
        "Hi Ada, this is Maya from Support. How can I help?"
    );
    let fx = press(&mut s, "enter");
    assert_eq!(s.mode, Mode::Insert);
    assert!(s.chats.canned_picker.is_none());
    assert_eq!(s.chats.composer.text(), preview, "the slash is replaced");
    assert!(
        fx.iter().any(|e| matches!(
            e,
            Effect::Net(NetCmd::Chats(ChatCmd::Typing { typing: true, .. }))
        )),
        "inserting text is typing: {fx:?}"
    );
    assert!(
        !fx.iter()
            .any(|e| matches!(e, Effect::Net(NetCmd::Chats(ChatCmd::Send(_))))),
        "nothing is sent before the agent sends it"
    );
    // More text can follow, then it is sent as usual.
    type_text(&mut s, " :)");
    let fx = press(&mut s, "ctrl-s");
    let sent = fx.iter().find_map(|e| match e {
        Effect::Net(NetCmd::Chats(ChatCmd::Send(item))) => Some(item.body.clone()),
        _ => None,
    });
    assert_eq!(
        sent.as_deref(),
        Some("Hi Ada, this is Maya from Support. How can I help? :)")
    );
}

#[test]
fn esc_keeps_the_slash_and_a_slash_after_text_is_just_a_character() {
    let mut s = composing();
    press(&mut s, "/");
    type_text(&mut s, "ref");
    press(&mut s, "esc");
    assert_eq!(s.mode, Mode::Insert);
    assert!(s.chats.canned_picker.is_none());
    assert_eq!(s.chats.composer.text(), "/");
    // The composer is no longer empty: `/` types.
    type_text(&mut s, "usr/bin");
    assert_eq!(s.mode, Mode::Insert);
    assert_eq!(s.chats.composer.text(), "/usr/bin");

    let mut s = composing();
    type_text(&mut s, "see a/b");
    assert_eq!(s.mode, Mode::Insert);
    assert_eq!(s.chats.composer.text(), "see a/b");
    // Ctrl+C leaves the picker like Esc, without quitting.
    let mut s = composing();
    press(&mut s, "/");
    let fx = press(&mut s, "ctrl-c");
    assert_eq!(s.mode, Mode::Insert);
    assert!(!fx.contains(&Effect::Quit));
}

#[test]
fn backspace_past_the_search_removes_the_slash_and_closes() {
    let mut s = composing();
    press(&mut s, "/");
    type_text(&mut s, "fw");
    press(&mut s, "backspace backspace");
    assert_eq!(s.mode, Mode::Canned);
    assert_eq!(s.chats.canned_picker.as_ref().unwrap().query, "");
    press(&mut s, "backspace");
    assert_eq!(s.mode, Mode::Insert);
    assert_eq!(s.chats.composer.text(), "");
}

#[test]
fn arrows_and_ctrl_keys_move_while_searching_and_tab_switches_to_j_k_browsing() {
    let mut s = composing();
    press(&mut s, "/");
    let sel = |s: &State| s.chats.canned_picker.as_ref().unwrap().selected;
    press(&mut s, "down down");
    assert_eq!(sel(&s), 2);
    press(&mut s, "up");
    assert_eq!(sel(&s), 1);
    // While searching, j and k are letters of the search.
    type_text(&mut s, "k");
    assert_eq!(s.chats.canned_picker.as_ref().unwrap().query, "k");
    assert_eq!(sel(&s), 0);
    press(&mut s, "backspace tab");
    assert!(s.chats.canned_picker.as_ref().unwrap().browsing);
    press(&mut s, "j j j");
    assert_eq!(sel(&s), 3);
    press(&mut s, "k");
    assert_eq!(sel(&s), 2);
    press(&mut s, "G");
    assert_eq!(sel(&s), 5);
    press(&mut s, "j");
    assert_eq!(sel(&s), 5, "the cursor stops at the end");
    press(&mut s, "g g");
    assert_eq!(sel(&s), 0);
    // Any other letter goes back to the search.
    type_text(&mut s, "p");
    let p = s.chats.canned_picker.as_ref().unwrap();
    assert!(!p.browsing);
    assert_eq!(p.query, "p");
    press(&mut s, "tab j enter");
    assert_eq!(s.mode, Mode::Insert);
    assert!(!s.chats.composer.text().starts_with('/'));
}

#[test]
fn fuzzy_search_ranks_shortcuts_over_titles_over_bodies() {
    let mut s = composing();
    press(&mut s, "/");
    type_text(&mut s, "purple");
    assert_eq!(shortcuts(&s), ["team:purple"]);
    press(&mut s, "ctrl-u");
    type_text(&mut s, "rfnd");
    assert_eq!(
        shortcuts(&s)[..2],
        ["team:refund", "personal:refund"],
        "letters in order match"
    );
    press(&mut s, "ctrl-u");
    type_text(&mut s, "fat32");
    assert_eq!(shortcuts(&s), ["team:fw"], "the body is searched");
    press(&mut s, "ctrl-u");
    type_text(&mut s, "zzzq");
    assert!(s.canned_visible().is_empty());
    let fx = press(&mut s, "enter");
    assert_eq!(s.mode, Mode::Canned, "nothing to insert: the picker stays");
    assert!(fx.is_empty());
}

#[test]
fn variables_without_a_value_stay_visible_and_are_flagged() {
    let mut s = composing();
    s.chats.entries.get_mut("c1").unwrap().chat.customer.email = None;
    press(&mut s, "/");
    type_text(&mut s, "refund");
    press(&mut s, "enter");
    assert_eq!(
        s.chats.composer.text(),
        "Refunds are possible within 30 days, Ada Lovelace; we email {{customer_email}}."
    );
    let f = s.flash.clone().unwrap();
    assert_eq!(f.level, FlashLevel::Warn);
    assert!(f.text.contains("{{customer_email}}"), "{}", f.text);
}

#[test]
fn colon_canned_opens_the_picker_from_normal_mode() {
    let mut s = composing();
    press(&mut s, "esc");
    assert_eq!(s.mode, Mode::Normal);
    press(&mut s, ":");
    type_text(&mut s, "canned");
    press(&mut s, "enter");
    assert_eq!(s.mode, Mode::Canned);
    press(&mut s, "enter");
    assert_eq!(s.mode, Mode::Insert);
    assert_eq!(
        s.chats.composer.text(),
        "Thanks for contacting WZATCO, Ada! Have a great day."
    );
}

#[test]
fn canned_add_saves_the_composer_text_and_rm_deletes_by_shortcut() {
    let mut s = composing();
    type_text(&mut s, "Hi {{customer_first_name}}!");
    press(&mut s, "esc :");
    type_text(&mut s, "canned add hi Short greeting");
    let fx = press(&mut s, "enter");
    assert!(
        fx.contains(&Effect::Net(NetCmd::Canned(CannedCmd::Create(
            CannedInput {
                title: "Short greeting".into(),
                shortcut: "hi".into(),
                body: "Hi {{customer_first_name}}!".into(),
                category: None,
                scope: Some(CannedScope::Personal),
            }
        )))),
        "{fx:?}"
    );
    let fx = net(
        &mut s,
        NetEvent::Canned(CannedReply::Created(response(
            "hi",
            "Short greeting",
            "Hi",
            CannedScope::Personal,
        ))),
    );
    assert_eq!(
        fx,
        vec![Effect::Net(NetCmd::Canned(CannedCmd::Load))],
        "refreshed after a change"
    );

    for (line, why) in [
        ("canned add Bad! Title", "shortcut"),
        ("canned add onlyshortcut", "Usage"),
        ("canned rm nope", "No canned response /nope"),
        ("canned frob", "Usage"),
    ] {
        press(&mut s, ":");
        type_text(&mut s, line);
        let fx = press(&mut s, "enter");
        assert!(fx.is_empty(), "{line}: {fx:?}");
        let f = s.flash.clone().unwrap();
        assert!(f.text.contains(why), "{line}: {}", f.text);
    }

    // The agent's own /refund is the one removed, not the team's.
    press(&mut s, ":");
    type_text(&mut s, "canned rm refund");
    let fx = press(&mut s, "enter");
    assert!(fx.contains(&Effect::Net(NetCmd::Canned(CannedCmd::Delete {
        id: "id-refund-personal".into(),
        shortcut: "refund".into()
    }))));
    let fx = net(
        &mut s,
        NetEvent::Canned(CannedReply::Deleted {
            shortcut: "refund".into(),
        }),
    );
    assert_eq!(fx, vec![Effect::Net(NetCmd::Canned(CannedCmd::Load))]);

    // Without a body there is nothing to save.
    s.chats.composer.textarea = crate::state::new_textarea(Vec::new());
    press(&mut s, ":");
    type_text(&mut s, "canned add x Title");
    assert!(press(&mut s, "enter").is_empty());
}

#[test]
fn responses_load_at_sign_in_and_complete_on_the_command_line() {
    let mut s = State::new("http://panel.test", T0);
    let fx = crate::update::start(&mut s, None, vec![]);
    assert!(!fx.contains(&Effect::Net(NetCmd::Canned(CannedCmd::Load))));
    let s = composing();
    let (prefix, c) = crate::update::complete(&s, "canned rm re");
    assert_eq!(
        (prefix.as_str(), c),
        ("canned rm ", vec!["refund".to_owned()])
    );
    let (prefix, c) = crate::update::complete(&s, "canned ");
    assert_eq!(
        (prefix.as_str(), c),
        ("canned ", vec!["add".to_owned(), "rm".to_owned()])
    );
    let mut fresh = State::new("http://panel.test", T0);
    let fx = net(
        &mut fresh,
        NetEvent::Session(SessionReply::LoggedIn(crate::state::Session {
            server: "http://panel.test".into(),
            token: "t".into(),
            agent: s.me().unwrap().clone(),
            expires_at: None,
        })),
    );
    assert!(fx.contains(&Effect::Net(NetCmd::Canned(CannedCmd::Load))));
}
