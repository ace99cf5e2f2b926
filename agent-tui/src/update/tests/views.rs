//! Views: go-to keys, `:view`, reserved views, and commands and keys per view.

use super::*;

#[test]
fn g_keys_and_colon_view_switch_views_and_reserved_ones_say_so() {
    let mut s = three_chats();
    assert_eq!(s.view, ViewId::Chats);
    press(&mut s, "g n");
    assert_eq!(s.view, ViewId::Notifications);
    press(&mut s, "g k");
    assert_eq!(s.view, ViewId::KnowledgeBase);
    press(&mut s, "g c");
    assert_eq!(s.view, ViewId::Chats);
    press(&mut s, "g t");
    assert_eq!(s.view, ViewId::Tickets);
    press(&mut s, "g d");
    assert_eq!(s.view, ViewId::Dashboard);
    press(&mut s, "g c");
    for (keys, title) in [("g r", "Reports"), ("g p", "Profile")] {
        press(&mut s, keys);
        assert_eq!(s.view, ViewId::Chats, "{keys}");
        let f = s.flash.clone().unwrap();
        assert_eq!(
            f.text,
            format!("The {title} view is not available yet"),
            "{keys}"
        );
    }
    // `g g` still goes to the top of the queue.
    press(&mut s, "j g g");
    assert_eq!(s.chats.queue.selected.as_deref(), Some("c1"));
    run_cmd(&mut s, "view notifications");
    assert_eq!(s.view, ViewId::Notifications);
    run_cmd(&mut s, "view Chats");
    assert_eq!(s.view, ViewId::Chats);
    run_cmd(&mut s, "view reports");
    assert!(s.flash.as_ref().unwrap().text.contains("not available yet"));
    run_cmd(&mut s, "view frob");
    let f = s.flash.clone().unwrap();
    assert_eq!(f.level, FlashLevel::Warn);
    assert_eq!(
        f.text,
        "No view named \"frob\": chats, tickets, notifications, knowledge_base, dashboard"
    );
    assert_eq!(s.view, ViewId::Chats);
}

#[test]
fn view_names_complete_and_commands_belong_to_their_view() {
    let mut s = three_chats();
    let (prefix, c) = crate::update::complete(&s, "view ");
    assert_eq!(prefix, "view ");
    assert_eq!(
        c,
        [
            "chats",
            "tickets",
            "notifications",
            "knowledge_base",
            "dashboard"
        ]
    );
    let (_, c) = crate::update::complete(&s, "view n");
    assert_eq!(c, ["notifications"]);
    // The Chats view offers its commands and the global ones…
    let (_, c) = crate::update::complete(&s, "");
    assert!(c.contains(&"claim".to_owned()) && c.contains(&"status".to_owned()));
    assert!(!c.contains(&"read".to_owned()));
    // …the Notifications view its own and the global ones.
    press(&mut s, "g n");
    let (_, c) = crate::update::complete(&s, "");
    assert!(c.contains(&"read".to_owned()) && c.contains(&"view".to_owned()));
    assert!(!c.contains(&"claim".to_owned()));
    let fx = run_cmd(&mut s, "claim");
    assert!(fx.is_empty());
    assert_eq!(
        s.flash.as_ref().unwrap().text,
        ":claim belongs to the Chats view — g c goes there"
    );
    // Global commands work everywhere.
    run_cmd(&mut s, "theme light");
    assert_eq!(s.theme, crate::state::ThemeName::Light);
}
