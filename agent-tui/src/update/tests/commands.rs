//! The command line: completion, history, and the commands that only change state.

use super::*;

#[test]
fn command_line_completes_commands_and_arguments() {
    let mut s = three_chats();
    press(&mut s, ":");
    type_text(&mut s, "sta");
    press(&mut s, "tab");
    assert_eq!(s.command.input, "status ");
    type_text(&mut s, "a");
    press(&mut s, "tab");
    assert_eq!(s.command.input, "status away");
    let fx = press(&mut s, "enter");
    assert!(
        fx.contains(&Effect::Net(NetCmd::Directory(DirectoryCmd::Presence(
            AgentStatus::Away
        ))))
    );
    // Several candidates cycle.
    press(&mut s, ":");
    type_text(&mut s, "transfer ");
    press(&mut s, "tab");
    assert_eq!(s.command.input, "transfer Sam Rivera");
    press(&mut s, "tab");
    assert_eq!(s.command.input, "transfer Priya Natarajan");
    press(&mut s, "shift-tab");
    assert_eq!(s.command.input, "transfer Sam Rivera");
    press(&mut s, "esc");
    // History.
    press(&mut s, ": up");
    assert_eq!(s.command.input, "status away");
}

#[test]
fn tags_block_export_filter_and_theme_commands() {
    let mut s = three_chats();
    let run = |s: &mut State, line: &str| {
        press(s, ":");
        type_text(s, line);
        press(s, "enter")
    };
    let fx = run(&mut s, "tag vip Escalated");
    assert!(fx.contains(&Effect::Net(NetCmd::Chats(ChatCmd::Tag {
        chat_id: "c1".into(),
        add: vec!["vip".into(), "escalated".into()],
        remove: vec![]
    }))));
    let fx = run(&mut s, "untag vip");
    assert!(fx.contains(&Effect::Net(NetCmd::Chats(ChatCmd::Tag {
        chat_id: "c1".into(),
        add: vec![],
        remove: vec!["vip".into()]
    }))));
    let fx = run(&mut s, "tag bad!tag");
    assert!(!fx.iter().any(|e| matches!(e, Effect::Net(_))));
    let fx = run(&mut s, "block");
    assert!(
        fx.contains(&Effect::Net(NetCmd::Directory(DirectoryCmd::Block {
            customer_id: "cu-c1".into(),
            blocked: true
        })))
    );
    let fx = run(&mut s, "export");
    assert!(fx.contains(&Effect::Net(NetCmd::Chats(ChatCmd::Export {
        chat_id: "c1".into(),
        path: "transcript-ada-lovelace-c1.txt".into()
    }))));
    let fx = run(&mut s, "export /tmp/x.txt");
    assert!(fx.contains(&Effect::Net(NetCmd::Chats(ChatCmd::Export {
        chat_id: "c1".into(),
        path: "/tmp/x.txt".into()
    }))));
    run(&mut s, "filter department billing");
    assert_eq!(s.chats.queue.filter.department.as_deref(), Some("d2"));
    assert_eq!(s.chats.queue.len(), 0);
    run(&mut s, "filter all");
    assert_eq!(s.chats.queue.len(), 3);
    run(&mut s, "filter unread");
    assert!(s.chats.queue.filter.unread_only);
    run(&mut s, "filter clear");
    run(&mut s, "theme light");
    assert_eq!(s.theme, crate::state::ThemeName::Light);
    press(&mut s, "T");
    assert_eq!(s.theme, crate::state::ThemeName::HighContrast);
    run(&mut s, "bogus");
    assert!(s.flash.unwrap().text.contains("Unknown command"));
}
