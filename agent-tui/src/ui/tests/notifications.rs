//! The Notifications view and the view tabs on screen: entries newest first with their
//! read state in words, the unread count on the tab, the active tab's marking.

use time::Duration;

use super::{busy, draw, net, screen_text, snap};
use crate::msg::NetEvent;
use crate::state::{Pane, State};
use crate::update::tests::{T0, press};

fn notified(s: &mut State, id: i64, kind: &str, title: &str, body: &str, chat: Option<&str>) {
    net(
        s,
        NetEvent::Push(shared::events::ServerEvent::Notification(
            shared::events::NotificationEvent {
                event_id: id,
                notification: shared::model::Notification {
                    kind: kind.into(),
                    title: title.into(),
                    body: body.into(),
                    chat_id: chat.map(Into::into),
                },
            },
        )),
    );
}

#[test]
fn notifications_view_lists_newest_first_and_the_tab_counts_unread() {
    let mut s = busy();
    notified(
        &mut s,
        201,
        "chat_assigned",
        "Sam Rivera transferred a chat to you",
        "Chat with Lukas Schmidt",
        Some("m2"),
    );
    s.now = T0 + Duration::minutes(3);
    notified(
        &mut s,
        202,
        "mention",
        "Priya Natarajan mentioned you",
        "@Maya can you check the refund for order #48213? The customer was charged twice.",
        Some("m1"),
    );
    // The tab shows the unread count from any view.
    let text = screen_text(&draw(&s, 160, 48));
    assert!(
        text.lines().next().unwrap().contains("Notifications ⚑2"),
        "{text}"
    );
    press(&mut s, "g n j m");
    snap("notifications", &s, Pane::Queue);
    let text = screen_text(&draw(&s, 80, 24));
    let top = text.lines().next().unwrap();
    assert!(top.contains("[Notifications] ⚑1"), "{top}");
    assert!(text.contains("● new"), "read state in words: {text}");
    assert!(text.contains("read "), "{text}");
    assert!(text.contains("also receive your team's"), "{text}");
}

#[test]
fn the_active_tab_is_marked_by_brackets_bold_and_underline_not_colour_alone() {
    let mut s = busy();
    s.no_color = true;
    for view in ["g c", "g n"] {
        press(&mut s, view);
        let t = draw(&s, 160, 48);
        let buf = t.backend().buffer();
        let top: String = (0..160).map(|x| buf[(x, 0)].symbol().to_owned()).collect();
        let title = s.view.title();
        let at = top
            .find(&format!("[{title}]"))
            .unwrap_or_else(|| panic!("{top}")) as u16;
        // The column of the first letter after the bracket (the bar is ASCII up to here).
        let x = top[..at as usize].chars().count() as u16 + 1;
        let m = buf[(x, 0)].modifier;
        assert!(
            m.contains(ratatui::style::Modifier::BOLD)
                && m.contains(ratatui::style::Modifier::UNDERLINED),
            "{title}: {m:?}"
        );
    }
}

#[test]
fn an_empty_notifications_view_says_what_will_show_there() {
    let mut s = busy();
    press(&mut s, "g n");
    let text = screen_text(&draw(&s, 160, 48));
    assert!(text.contains("No notifications yet"), "{text}");
    assert!(text.contains("@Maya"), "{text}");
    assert!(text.contains("enter open chat"), "{text}");
}
