//! Files: `:attach` and `:detach`, staged files going with the next message, `:save`.

use super::*;

fn file(id: &str, name: &str, size: u64) -> shared::model::Attachment {
    shared::model::Attachment {
        id: id.into(),
        name: name.into(),
        content_type: "application/pdf".into(),
        size,
        url: format!("/api/v1/attachments/{id}"),
    }
}

fn sent_items(fx: &[Effect]) -> Vec<OutboxItem> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Net(NetCmd::Chats(ChatCmd::Send(i))) => Some(i.clone()),
            _ => None,
        })
        .collect()
}

/// `:attach` uploads, the finished upload is staged, and the next send carries it.
fn attach_ok(s: &mut State, path: &str, f: shared::model::Attachment) {
    let fx = run_cmd(s, &format!("attach {path}"));
    assert!(
        fx.contains(&Effect::Net(NetCmd::Attachments(AttachmentCmd::Upload {
            chat_id: "c3".into(),
            path: path.into()
        }))),
        "{fx:?}"
    );
    net(
        s,
        NetEvent::Attachments(AttachmentReply::Uploaded {
            chat_id: "c3".into(),
            path: path.into(),
            attachment: f,
        }),
    );
}

#[test]
fn attached_files_are_staged_and_go_with_the_next_reply_or_note() {
    let mut s = three_chats();
    open_mine(&mut s);
    let fx = run_cmd(&mut s, "attach ~/report.pdf");
    assert_eq!(
        s.chats.composer.uploading_for("c3").collect::<Vec<_>>(),
        ["~/report.pdf"]
    );
    assert!(s.flash.as_ref().unwrap().text.contains("Uploading"));
    assert_eq!(fx.len(), 1, "only the upload: {fx:?}");
    net(
        &mut s,
        NetEvent::Attachments(AttachmentReply::Uploaded {
            chat_id: "c3".into(),
            path: "~/report.pdf".into(),
            attachment: file("a1", "report.pdf", 120 * 1024),
        }),
    );
    assert_eq!(s.chats.composer.uploading_for("c3").count(), 0);
    assert_eq!(
        s.chats.composer.staged_for("c3"),
        [file("a1", "report.pdf", 120 * 1024)]
    );
    let f = s.flash.as_ref().unwrap();
    assert!(
        f.text.contains("Attached report.pdf (120 KiB)"),
        "{}",
        f.text
    );
    // A message with only files may have an empty body.
    press(&mut s, "i");
    let fx = press(&mut s, "ctrl-s");
    let items = sent_items(&fx);
    assert_eq!(items.len(), 1, "{fx:?}");
    assert_eq!(items[0].body, "");
    assert_eq!(items[0].kind, MessageKind::Text);
    assert_eq!(items[0].attachments, [file("a1", "report.pdf", 120 * 1024)]);
    assert!(s.chats.composer.staged_for("c3").is_empty(), "sent once");
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::SaveOutbox(v) if v[0].attachments.len() == 1))
    );
    // The next message goes without it.
    type_text(&mut s, "plain");
    let items = sent_items(&press(&mut s, "ctrl-s"));
    assert!(items[0].attachments.is_empty());
    press(&mut s, "esc");
    // Notes carry files too, also from the command line.
    attach_ok(&mut s, "a.png", file("a2", "a.png", 10));
    attach_ok(&mut s, "b.png", file("a3", "b.png", 10));
    let items = sent_items(&run_cmd(&mut s, "note see the screenshots"));
    assert_eq!(items[0].kind, MessageKind::Note);
    assert_eq!(items[0].body, "see the screenshots");
    let ids: Vec<_> = items[0].attachments.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["a2", "a3"]);
    // The ack clears the outbox item as for any message.
    let mut m = message("c3", 4, AuthorKind::Agent, "see the screenshots");
    m.client_msg_id = items[0].client_msg_id.clone();
    net(
        &mut s,
        NetEvent::Chats(ChatReply::SendAcked {
            client_msg_id: items[0].client_msg_id.clone(),
            message: m,
        }),
    );
    assert!(
        !s.chats
            .outbox
            .iter()
            .any(|o| o.client_msg_id == items[0].client_msg_id)
    );
}

#[test]
fn detach_clears_the_staged_files_and_they_stay_with_their_chat() {
    let mut s = three_chats();
    open_mine(&mut s);
    attach_ok(&mut s, "r.pdf", file("a1", "r.pdf", 2048));
    attach_ok(&mut s, "s.pdf", file("a2", "s.pdf", 2048));
    // Another chat has its own (empty) set; coming back finds them again.
    s.chats.queue.selected = Some("c1".into());
    s.chats.focus = Pane::Queue;
    press(&mut s, "enter");
    assert!(s.chats.composer.staged_for("c1").is_empty());
    s.chats.queue.selected = Some("c3".into());
    s.chats.focus = Pane::Queue;
    press(&mut s, "enter");
    assert_eq!(s.chats.composer.staged_for("c3").len(), 2);
    run_cmd(&mut s, "detach");
    assert!(s.chats.composer.staged_for("c3").is_empty());
    assert!(s.flash.as_ref().unwrap().text.contains("Removed 2"));
    let items = sent_items(&run_cmd(&mut s, "reply just text"));
    assert!(items[0].attachments.is_empty());
    run_cmd(&mut s, "detach");
    assert!(s.flash.as_ref().unwrap().text.contains("No files"));
}

#[test]
fn attach_errors_are_explained_and_offline_files_are_refused() {
    let mut s = three_chats();
    // No chat open.
    assert!(run_cmd(&mut s, "attach x.pdf").is_empty());
    assert!(s.flash.as_ref().unwrap().text.contains("Open a chat"));
    open_mine(&mut s);
    assert!(run_cmd(&mut s, "attach").is_empty());
    assert!(s.flash.as_ref().unwrap().text.contains("Usage: :attach"));
    // What the worker found wrong with the file is shown, and nothing stays uploading.
    run_cmd(&mut s, "attach big.iso");
    net(
        &mut s,
        NetEvent::Attachments(AttachmentReply::UploadFailed {
            chat_id: "c3".into(),
            path: "big.iso".into(),
            error: "big.iso: 11.0 MiB is over the 10 MiB limit".into(),
        }),
    );
    let f = s.flash.as_ref().unwrap();
    assert_eq!(f.level, FlashLevel::Error);
    assert!(f.text.contains("over the 10 MiB limit"), "{}", f.text);
    assert_eq!(s.chats.composer.uploading.len(), 0);
    assert!(s.chats.composer.staged_for("c3").is_empty());
    // At most five per message, counting uploads under way.
    for i in 0..4 {
        attach_ok(&mut s, &format!("f{i}"), file(&format!("a{i}"), "f", 1));
    }
    run_cmd(&mut s, "attach f4");
    assert!(run_cmd(&mut s, "attach f5").is_empty());
    assert!(s.flash.as_ref().unwrap().text.contains("At most 5"));
    net(
        &mut s,
        NetEvent::Attachments(AttachmentReply::Uploaded {
            chat_id: "c3".into(),
            path: "f4".into(),
            attachment: file("a4", "f", 1),
        }),
    );
    assert_eq!(s.chats.composer.staged_for("c3").len(), 5);
    // Offline: no new attachments, and a message with files is not queued…
    net(
        &mut s,
        NetEvent::Conn(ConnEvent::Disconnected {
            reason: "gone".into(),
            retry_in_ms: Some(1000),
        }),
    );
    run_cmd(&mut s, "detach");
    assert!(run_cmd(&mut s, "attach x.pdf").is_empty());
    assert!(s.flash.as_ref().unwrap().text.contains("Offline"));
    s.conn.state = ConnState::Connected;
    attach_ok(&mut s, "x.pdf", file("ax", "x.pdf", 1));
    net(
        &mut s,
        NetEvent::Conn(ConnEvent::Disconnected {
            reason: "gone".into(),
            retry_in_ms: Some(1000),
        }),
    );
    press(&mut s, "i");
    type_text(&mut s, "here");
    let fx = press(&mut s, "ctrl-s");
    assert!(sent_items(&fx).is_empty());
    assert!(s.chats.outbox.is_empty(), "files never wait in the outbox");
    assert!(
        s.flash
            .as_ref()
            .unwrap()
            .text
            .contains("not kept in the outbox")
    );
    assert_eq!(
        s.chats.composer.text(),
        "here",
        "the text stays in the composer"
    );
    assert_eq!(s.chats.composer.staged_for("c3").len(), 1);
    // …while text alone still waits in the outbox as before.
    press(&mut s, "esc");
    run_cmd(&mut s, "detach");
    press(&mut s, "i");
    press(&mut s, "ctrl-s");
    assert_eq!(s.chats.outbox.len(), 1);
    assert_eq!(s.chats.outbox[0].status, OutboxStatus::Pending);
    assert_eq!(s.chats.outbox[0].body, "here");
}

#[test]
fn save_picks_the_nth_newest_file_of_the_open_chat() {
    let mut s = three_chats();
    assert!(run_cmd(&mut s, "save").is_empty());
    open_mine(&mut s);
    assert!(run_cmd(&mut s, "save").is_empty());
    assert!(s.flash.as_ref().unwrap().text.contains("no files"));
    let mut old = message("c3", 4, AuthorKind::Customer, "two files");
    old.attachments = vec![file("o1", "first.pdf", 1), file("o2", "second.pdf", 1)];
    let mut new = message("c3", 5, AuthorKind::Customer, "");
    new.attachments = vec![file("n1", "latest.png", 1)];
    net(
        &mut s,
        NetEvent::Chats(ChatReply::MessagesLoaded {
            chat_id: "c3".into(),
            messages: vec![old, new],
            older: false,
        }),
    );
    let save = |fx: Vec<Effect>| -> Option<(String, Option<String>)> {
        fx.into_iter().find_map(|e| match e {
            Effect::Net(NetCmd::Attachments(AttachmentCmd::Save { attachment, dir })) => {
                Some((attachment.id, dir))
            }
            _ => None,
        })
    };
    assert_eq!(save(run_cmd(&mut s, "save")), Some(("n1".into(), None)));
    assert!(s.flash.as_ref().unwrap().text.contains("latest.png"));
    assert_eq!(save(run_cmd(&mut s, "save 2")), Some(("o1".into(), None)));
    assert_eq!(
        save(run_cmd(&mut s, "save 3 ~/in box")),
        Some(("o2".into(), Some("~/in box".into())))
    );
    assert_eq!(
        save(run_cmd(&mut s, "save /tmp")),
        Some(("n1".into(), Some("/tmp".into())))
    );
    assert_eq!(save(run_cmd(&mut s, "save 4")), None);
    assert!(s.flash.as_ref().unwrap().text.contains("has 3 files"));
    assert_eq!(save(run_cmd(&mut s, "save 0")), None);
    net(
        &mut s,
        NetEvent::Attachments(AttachmentReply::Saved {
            name: "latest.png".into(),
            path: "/home/maya/Downloads/latest (1).png".into(),
        }),
    );
    assert_eq!(
        s.flash.as_ref().unwrap().text,
        "Saved latest.png to /home/maya/Downloads/latest (1).png"
    );
}
