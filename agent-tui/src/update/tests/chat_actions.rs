//! Chat actions: claim, transfer, close and reopen, and what their acks change.

use super::*;

#[test]
fn claim_sends_the_claim_and_its_ack_makes_the_chat_mine_and_open() {
    let mut s = three_chats();
    let fx = press(&mut s, "c");
    assert!(fx.contains(&Effect::Net(NetCmd::Chats(ChatCmd::Claim("c1".into())))));
    let mut claimed = chat("c1", "Ada Lovelace", ChatStatus::Active, Some("me"));
    claimed.created_at = T0 - Duration::minutes(12);
    let fx = net(
        &mut s,
        NetEvent::Chats(ChatReply::ActionDone {
            op: ChatOp::Claim,
            chat: claimed,
        }),
    );
    assert!(s.chats.queue.mine.contains(&"c1".to_owned()));
    assert!(!s.chats.queue.waiting.contains(&"c1".to_owned()));
    assert_eq!(s.chats.open_chat.as_deref(), Some("c1"));
    assert_eq!(s.chats.focus, Pane::Chat);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Net(NetCmd::Chats(ChatCmd::LoadMessages { .. }))))
    );
    // Claiming one's own chat again does nothing but say so.
    let fx = press(&mut s, "c");
    assert!(
        !fx.iter()
            .any(|e| matches!(e, Effect::Net(NetCmd::Chats(ChatCmd::Claim(_)))))
    );
    assert!(s.flash.as_ref().unwrap().text.contains("already yours"));
}

#[test]
fn claim_conflict_says_so_and_refetches_the_chat() {
    let mut s = three_chats();
    press(&mut s, "c");
    let fx = net(
        &mut s,
        NetEvent::Chats(ChatReply::ActionFailed {
            op: ChatOp::Claim,
            chat_id: "c1".into(),
            error: SendError::Refused(ApiError::conflict("chat already assigned")),
        }),
    );
    assert!(fx.contains(&Effect::Net(NetCmd::Chats(ChatCmd::Load("c1".into())))));
    let f = s.flash.clone().unwrap();
    assert_eq!(f.level, FlashLevel::Error);
    assert!(f.text.contains("Another agent claimed"), "{}", f.text);
    // The refetched chat shows who has it and leaves the queue.
    let taken = chat("c1", "Ada Lovelace", ChatStatus::Active, Some("a2"));
    net(&mut s, NetEvent::Chats(ChatReply::Loaded(taken)));
    assert!(!s.chats.queue.waiting.contains(&"c1".to_owned()));
    assert!(!s.chats.queue.mine.contains(&"c1".to_owned()));
}

#[test]
fn transfer_picker_shows_status_and_load_and_sends_the_choice() {
    let mut s = three_chats();
    let fx = press(&mut s, "t");
    assert!(fx.contains(&Effect::Net(NetCmd::Directory(DirectoryCmd::LoadAgents))));
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
    assert!(fx.contains(&Effect::Net(NetCmd::Chats(ChatCmd::Transfer {
        chat_id: "c1".into(),
        to_agent_id: Some("a3".into()),
        to_department_id: None
    }))));
    assert_eq!(s.mode, Mode::Normal);
    // The ack moves it away from me.
    let moved = chat("c1", "Ada Lovelace", ChatStatus::Active, Some("a3"));
    net(
        &mut s,
        NetEvent::Chats(ChatReply::ActionDone {
            op: ChatOp::Transfer,
            chat: moved,
        }),
    );
    assert!(s.flash.unwrap().text.contains("transferred"));
}

#[test]
fn transfer_command_resolves_departments_and_agents_by_name() {
    let mut s = three_chats();
    press(&mut s, ":");
    type_text(&mut s, "transfer billing");
    let fx = press(&mut s, "enter");
    assert!(fx.contains(&Effect::Net(NetCmd::Chats(ChatCmd::Transfer {
        chat_id: "c1".into(),
        to_agent_id: None,
        to_department_id: Some("d2".into())
    }))));
    press(&mut s, ":");
    type_text(&mut s, "transfer sam");
    let fx = press(&mut s, "enter");
    assert!(fx.contains(&Effect::Net(NetCmd::Chats(ChatCmd::Transfer {
        chat_id: "c1".into(),
        to_agent_id: Some("a2".into()),
        to_department_id: None
    }))));
    // Ambiguous or unknown: the picker opens pre-filtered.
    press(&mut s, ":");
    type_text(&mut s, "transfer zzz");
    press(&mut s, "enter");
    assert_eq!(s.mode, Mode::Picker);
    assert_eq!(s.picker.as_ref().unwrap().query, "zzz");
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
    assert!(fx.contains(&Effect::Net(NetCmd::Chats(ChatCmd::Close {
        chat_id: "c3".into(),
        resolution: Some("refunded".into())
    }))));
    let mut closed = chat("c3", "Fatima Zahra", ChatStatus::Closed, Some("me"));
    closed.closed_at = Some(T0);
    net(
        &mut s,
        NetEvent::Chats(ChatReply::ActionDone {
            op: ChatOp::Close,
            chat: closed,
        }),
    );
    assert_eq!(s.chats.queue.closed, vec!["c3"]);
    // Replying to a closed chat is refused locally; reopen is offered.
    press(&mut s, "i");
    assert_eq!(s.mode, Mode::Normal);
    assert!(s.flash.as_ref().unwrap().text.contains("reopen"));
    let fx = press(&mut s, "R");
    assert!(fx.contains(&Effect::Net(NetCmd::Chats(ChatCmd::Reopen("c3".into())))));
}

#[test]
fn a_chat_transferred_to_me_appears_and_rings() {
    let mut s = three_chats();
    let mut c = chat("c2", "Kenji Watanabe", ChatStatus::Active, Some("me"));
    c.created_at = T0 - Duration::minutes(3);
    let fx = net(
        &mut s,
        NetEvent::Push(ServerEvent::ChatUpdated(ChatEvent {
            event_id: 101,
            chat: c,
        })),
    );
    assert!(s.chats.queue.mine.contains(&"c2".to_owned()));
    assert!(fx.contains(&Effect::Bell));
    // A message for a chat the console never saw loads that chat.
    let fx = net(
        &mut s,
        NetEvent::Push(ServerEvent::MessageNew(MessageEvent {
            event_id: 102,
            message: message("zz", 1, AuthorKind::Customer, "hi"),
        })),
    );
    assert!(fx.contains(&Effect::Net(NetCmd::Chats(ChatCmd::Load("zz".into())))));
}
