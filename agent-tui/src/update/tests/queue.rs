//! The queue: sections and their order, moving the selection, panes, search, next unread.

use super::*;

#[test]
fn queue_sections_sort_and_j_k_g_g_move_the_selection() {
    let mut s = three_chats();
    assert_eq!(
        s.chats.queue.waiting,
        vec!["c1", "c2"],
        "longest waiting first"
    );
    assert_eq!(s.chats.queue.mine, vec!["c3"]);
    assert_eq!(s.chats.queue.selected.as_deref(), Some("c1"));
    press(&mut s, "j");
    assert_eq!(s.chats.queue.selected.as_deref(), Some("c2"));
    press(&mut s, "j j j");
    assert_eq!(
        s.chats.queue.selected.as_deref(),
        Some("c3"),
        "stops at the end"
    );
    press(&mut s, "k");
    assert_eq!(s.chats.queue.selected.as_deref(), Some("c2"));
    press(&mut s, "G");
    assert_eq!(s.chats.queue.selected.as_deref(), Some("c3"));
    press(&mut s, "g");
    assert_eq!(
        s.chats.queue.selected.as_deref(),
        Some("c3"),
        "g alone waits"
    );
    assert_eq!(s.pending_keys.len(), 1);
    press(&mut s, "g");
    assert_eq!(s.chats.queue.selected.as_deref(), Some("c1"));
    assert!(s.pending_keys.is_empty());
    // A sort change reorders.
    press(&mut s, ":");
    type_text(&mut s, "sort newest");
    press(&mut s, "enter");
    assert_eq!(s.chats.queue.waiting, vec!["c2", "c1"]);
}

#[test]
fn enter_opens_the_chat_and_loads_history_and_customer() {
    let mut s = three_chats();
    let fx = press(&mut s, "enter");
    assert_eq!(s.chats.open_chat.as_deref(), Some("c1"));
    assert_eq!(s.chats.focus, Pane::Chat);
    assert!(
        fx.contains(&Effect::Net(NetCmd::Chats(ChatCmd::LoadMessages {
            chat_id: "c1".into(),
            before_seq: None
        })))
    );
    assert!(
        fx.contains(&Effect::Net(NetCmd::Directory(DirectoryCmd::LoadCustomer(
            "cu-c1".into()
        ))))
    );
    assert_eq!(s.chats.entries["c1"].history, History::Loading);
}

#[test]
fn panes_switch_with_h_l_tab_and_numbers() {
    let mut s = three_chats();
    assert_eq!(s.chats.focus, Pane::Queue);
    press(&mut s, "l");
    assert_eq!(s.chats.focus, Pane::Chat);
    press(&mut s, "l l");
    assert_eq!(s.chats.focus, Pane::Customer, "l stops at the last pane");
    press(&mut s, "tab");
    assert_eq!(s.chats.focus, Pane::Queue, "tab wraps");
    press(&mut s, "shift-tab");
    assert_eq!(s.chats.focus, Pane::Customer);
    press(&mut s, "h");
    assert_eq!(s.chats.focus, Pane::Chat);
    press(&mut s, "1");
    assert_eq!(s.chats.focus, Pane::Queue);
}

#[test]
fn search_filters_the_queue_and_esc_clears_it() {
    let mut s = three_chats();
    press(&mut s, "/");
    assert_eq!(s.mode, Mode::Search);
    type_text(&mut s, "kenji");
    assert_eq!(s.chats.queue.len(), 1);
    assert_eq!(s.chats.queue.selected.as_deref(), Some("c2"));
    assert_eq!(s.chats.queue.totals[0], 2, "totals ignore the filter");
    press(&mut s, "esc");
    assert_eq!(s.mode, Mode::Normal);
    assert_eq!(s.chats.queue.len(), 3);
    press(&mut s, "/");
    type_text(&mut s, "ada");
    let fx = press(&mut s, "enter");
    assert_eq!(s.chats.open_chat.as_deref(), Some("c1"));
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Net(NetCmd::Chats(ChatCmd::LoadMessages { .. }))))
    );
    press(&mut s, "1 esc");
    assert!(!s.chats.queue.filter.is_active());
}

#[test]
fn stale_queue_entries_are_refetched_after_a_reload() {
    let mut s = three_chats();
    let fx = net(
        &mut s,
        NetEvent::Chats(ChatReply::ListLoaded {
            status: ChatStatus::Waiting,
            chats: vec![chat("c2", "Kenji Watanabe", ChatStatus::Waiting, None)],
        }),
    );
    assert!(fx.contains(&Effect::Net(NetCmd::Chats(ChatCmd::Load("c1".into())))));
}

#[test]
fn status_picker_sets_presence_and_next_unread_jumps() {
    let mut s = three_chats();
    press(&mut s, "s");
    type_text(&mut s, "dnd");
    let fx = press(&mut s, "enter");
    assert!(
        fx.contains(&Effect::Net(NetCmd::Directory(DirectoryCmd::Presence(
            AgentStatus::Dnd
        ))))
    );
    let mut me = agent("me", "Maya Chen", AgentStatus::Dnd, 1);
    me.role = Role::Supervisor;
    net(&mut s, NetEvent::Directory(DirectoryReply::PresenceSet(me)));
    assert_eq!(s.me().unwrap().status, AgentStatus::Dnd);
    assert!(s.flash.as_ref().unwrap().text.contains("dnd"));
    // Next unread: only c2 has unread messages.
    let mut c = chat("c2", "Kenji Watanabe", ChatStatus::Waiting, None);
    c.created_at = T0 - Duration::minutes(3);
    c.unread_count = 2;
    net(&mut s, NetEvent::Chats(ChatReply::Loaded(c)));
    press(&mut s, "u");
    assert_eq!(s.chats.open_chat.as_deref(), Some("c2"));
}
