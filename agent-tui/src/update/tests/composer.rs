//! The composer: send keys, notes, the typing signal, drafts per chat.

use super::*;

#[test]
fn composer_enter_is_a_newline_and_the_send_keys_send() {
    let mut s = three_chats();
    open_mine(&mut s);
    press(&mut s, "i");
    assert_eq!(s.mode, Mode::Insert);
    type_text(&mut s, "line one");
    press(&mut s, "enter");
    type_text(&mut s, "line two");
    assert_eq!(s.chats.composer.text(), "line one\nline two");
    let fx = press(&mut s, "ctrl-s");
    let sent = sends(&fx);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].1, "line one\nline two");
    assert!(s.chats.composer.is_empty());
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
    assert_eq!(s.chats.composer.kind, ComposeKind::Note);
    let fx = type_text(&mut s, "check the ledger");
    assert!(
        !fx.iter()
            .any(|e| matches!(e, Effect::Net(NetCmd::Chats(ChatCmd::Typing { .. }))))
    );
    let fx = press(&mut s, "ctrl-s");
    let Some(Effect::Net(NetCmd::Chats(ChatCmd::Send(item)))) = fx
        .iter()
        .find(|e| matches!(e, Effect::Net(NetCmd::Chats(ChatCmd::Send(_)))))
    else {
        panic!("no send")
    };
    assert_eq!(item.kind, MessageKind::Note);
    press(&mut s, "ctrl-n");
    assert_eq!(s.chats.composer.kind, ComposeKind::Reply);
}

#[test]
fn typing_is_throttled_and_expires_after_idle() {
    let mut s = three_chats();
    open_mine(&mut s);
    press(&mut s, "i");
    let typing = |fx: &[Effect]| {
        fx.iter()
            .filter_map(|e| match e {
                Effect::Net(NetCmd::Chats(ChatCmd::Typing { typing, .. })) => Some(*typing),
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
fn drafts_are_kept_per_chat() {
    let mut s = three_chats();
    open_mine(&mut s);
    press(&mut s, "i");
    type_text(&mut s, "half written");
    press(&mut s, "esc 1");
    s.chats.queue.selected = Some("c1".into());
    press(&mut s, "enter");
    assert!(s.chats.composer.is_empty());
    press(&mut s, "1");
    s.chats.queue.selected = Some("c3".into());
    press(&mut s, "enter");
    assert_eq!(s.chats.composer.text(), "half written");
}
