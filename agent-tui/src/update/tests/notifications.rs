//! The Notifications view: the bell, the list with its selection and read marks,
//! and Enter opening the chat one points to.

use super::*;

fn notify(s: &mut State, id: i64, title: &str, chat: Option<&str>) -> Vec<Effect> {
    net(
        s,
        NetEvent::Push(ServerEvent::Notification(NotificationEvent {
            event_id: id,
            notification: Notification {
                kind: "mention".into(),
                title: title.into(),
                body: format!("about {title}"),
                chat_id: chat.map(Into::into),
            },
        })),
    )
}

#[test]
fn notifications_ring_and_list_then_open_their_chat() {
    let mut s = three_chats();
    let fx = notify(&mut s, 101, "Chat assigned", Some("c3"));
    assert!(fx.contains(&Effect::Bell));
    assert!(fx.iter().any(|e| matches!(e, Effect::Notify { .. })));
    assert_eq!(s.notifications.unread(), 1);
    assert_eq!(s.conn.last_event_id, 101);
    // N (like g n) shows the view; looking at it does not mark anything read.
    press(&mut s, "N");
    assert_eq!(s.view, ViewId::Notifications);
    assert_eq!(s.mode, Mode::Normal);
    assert_eq!(s.notifications.unread(), 1);
    let fx = press(&mut s, "enter");
    assert_eq!(s.notifications.unread(), 0, "Enter marks it read");
    assert_eq!(s.view, ViewId::Chats);
    assert_eq!(s.chats.open_chat.as_deref(), Some("c3"));
    assert_eq!(s.chats.focus, Pane::Chat);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Net(NetCmd::Chats(ChatCmd::LoadMessages { .. })))),
        "{fx:?}"
    );
}

#[test]
fn j_k_move_newest_first_and_the_selection_stays_on_its_entry() {
    let mut s = three_chats();
    notify(&mut s, 101, "first", Some("c1"));
    notify(&mut s, 102, "second", Some("c2"));
    press(&mut s, "g n");
    let title = |s: &State| {
        s.notifications
            .selected_entry()
            .map(|e| e.notification.title.clone())
    };
    assert_eq!(title(&s).as_deref(), Some("second"), "newest first");
    press(&mut s, "j");
    assert_eq!(title(&s).as_deref(), Some("first"));
    press(&mut s, "j");
    assert_eq!(title(&s).as_deref(), Some("first"), "stops at the end");
    // A new one arrives on top; the cursor stays on the same entry.
    notify(&mut s, 103, "third", None);
    assert_eq!(title(&s).as_deref(), Some("first"));
    press(&mut s, "g g");
    assert_eq!(title(&s).as_deref(), Some("third"));
    // j/k moved the list, not the queue behind it.
    assert_eq!(s.chats.queue.selected.as_deref(), Some("c1"));
    // Enter on one without a chat says so and stays.
    press(&mut s, "enter");
    assert_eq!(s.view, ViewId::Notifications);
    assert!(s.flash.as_ref().unwrap().text.contains("not about a chat"));
    press(&mut s, "G");
    assert_eq!(title(&s).as_deref(), Some("first"));
}

#[test]
fn m_toggles_read_and_shift_m_or_read_all_marks_everything() {
    let mut s = three_chats();
    for i in 0..3 {
        notify(&mut s, 101 + i, &format!("n{i}"), None);
    }
    press(&mut s, "g n");
    press(&mut s, "m");
    assert_eq!(s.notifications.unread(), 2);
    press(&mut s, "m");
    assert_eq!(s.notifications.unread(), 3, "m again marks it unread");
    press(&mut s, "M");
    assert_eq!(s.notifications.unread(), 0);
    run_cmd(&mut s, "unread");
    assert_eq!(s.notifications.unread(), 1);
    run_cmd(&mut s, "read all");
    assert_eq!(s.notifications.unread(), 0);
    // Chat keys mean nothing here.
    let fx = press(&mut s, "c");
    assert!(fx.is_empty(), "{fx:?}");
}

#[test]
fn only_the_newest_two_hundred_are_kept() {
    let mut s = three_chats();
    for i in 0..205 {
        notify(&mut s, 101 + i, &format!("n{i}"), None);
    }
    assert_eq!(s.notifications.items.len(), 200);
    assert_eq!(s.notifications.items[0].notification.title, "n5");
}
