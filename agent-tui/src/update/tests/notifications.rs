//! Notifications: the bell, the list, and opening the chat one points to.

use super::*;

#[test]
fn notifications_ring_and_list_then_open_their_chat() {
    let mut s = three_chats();
    let fx = net(
        &mut s,
        NetEvent::Push(ServerEvent::Notification(NotificationEvent {
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
    assert_eq!(s.notifications.unread(), 1);
    press(&mut s, "N");
    assert_eq!(s.mode, Mode::Picker);
    assert_eq!(s.notifications.unread(), 0);
    press(&mut s, "enter");
    assert_eq!(s.chats.open_chat.as_deref(), Some("c3"));
}
