//! Attachments sent by id, token revocation and the password cutoff, and replaying
//! the event log (`sync`) up to its limit.

use super::*;

pub(crate) async fn attachments(
    store: &dyn Store,
    team: &Team,
    vera: &Person,
    walt: &Person,
    chat: &str,
    walt_chat: &str,
) {
    let before = store.latest_event_id().await.unwrap();
    let pdf = b"%PDF-1.4 receipt #1042".to_vec();
    let up = store
        .create_attachment(
            "customer",
            &vera.id,
            "receipt.pdf",
            "application/pdf",
            pdf.clone(),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        (up.name.as_str(), up.content_type.as_str(), up.size),
        ("receipt.pdf", "application/pdf", pdf.len() as u64)
    );
    assert_eq!(up.url, format!("/api/v1/attachments/{}", up.id));
    let rec = store.attachment(&up.id).await.unwrap().unwrap();
    assert_eq!(
        (&rec.meta, rec.owner_kind.as_str(), rec.owner_id.as_str()),
        (&up, "customer", vera.id.as_str())
    );
    assert_eq!((rec.chat_id, rec.message_kind, rec.data), (None, None, pdf));
    let ids = [up.id.clone()];
    refused(
        store
            .customer_send(&walt.id, Some(walt_chat), &new_id(), "", &ids)
            .await,
        Invalid,
        "of yours",
    );
    let send_id = new_id();
    let sent = store
        .customer_send(&vera.id, None, &send_id, "", &ids)
        .await
        .unwrap();
    // The visitor's answer links the file on the visitor's own route.
    let mut theirs = up.clone();
    theirs.url = format!("/api/v1/visitor/attachments/{}", up.id);
    assert_eq!(
        (sent.body.as_str(), &sent.attachments[..]),
        ("", &[theirs][..])
    );
    let rec = store.attachment(&up.id).await.unwrap().unwrap();
    assert_eq!(
        (rec.chat_id.as_deref(), rec.message_kind.as_deref()),
        (Some(chat), Some("text"))
    );
    assert_eq!(
        store
            .customer_send(&vera.id, None, &send_id, "", &ids)
            .await
            .unwrap(),
        sent
    );
    refused(
        store
            .customer_send(&vera.id, None, &new_id(), "again", &ids)
            .await,
        Invalid,
        "already sent",
    );
    refused(
        store
            .agent_send(&team.alice, chat, &new_id(), "fwd", MessageKind::Text, &ids)
            .await,
        Invalid,
        "of yours",
    );
    // A file in a note stays the team's.
    let memo = store
        .create_attachment(
            "agent",
            &team.alice.id,
            "memo.txt",
            "text/plain",
            b"internal".to_vec(),
            None,
        )
        .await
        .unwrap();
    let note = store
        .agent_send(
            &team.alice,
            chat,
            &new_id(),
            "see memo",
            MessageKind::Note,
            std::slice::from_ref(&memo.id),
        )
        .await
        .unwrap();
    assert_eq!(note.attachments, std::slice::from_ref(&memo));
    let memo_rec = store.attachment(&memo.id).await.unwrap().unwrap();
    assert_eq!(
        (
            memo_rec.owner_kind.as_str(),
            memo_rec.message_kind.as_deref()
        ),
        ("agent", Some("note"))
    );
    // The visitor's copy links the visitor's download route.
    let (seen, _) = sync(store, &Viewer::Customer(vera.id.clone()), before).await;
    let urls: Vec<&str> = seen
        .iter()
        .flat_map(|e| match e {
            ServerEvent::MessageNew(m) => m
                .message
                .attachments
                .iter()
                .map(|a| a.url.as_str())
                .collect(),
            _ => Vec::new(),
        })
        .collect();
    assert_eq!(urls, [format!("/api/v1/visitor/attachments/{}", up.id)]);
    assert!(
        store
            .attachment("no-such-attachment")
            .await
            .unwrap()
            .is_none()
    );
    upload_quota_and_purge(store, walt, up.id.as_str()).await;
}

/// A visitor's unsent uploads are limited (files and bytes per window); uploads
/// never sent are purged, sent ones kept.
async fn upload_quota_and_purge(store: &dyn Store, walt: &Person, sent_id: &str) {
    let quota = UploadQuota {
        files: 2,
        bytes: 10,
        window_ms: 3_600_000,
    };
    let upload = |bytes: &[u8]| {
        store.create_attachment(
            "customer",
            &walt.id,
            "photo.jpg",
            "image/jpeg",
            bytes.to_vec(),
            Some(quota),
        )
    };
    let first = upload(b"12345").await.unwrap();
    refused(upload(b"123456").await, RateLimited, "upload limit reached");
    upload(b"12345").await.unwrap();
    refused(upload(b"1").await, RateLimited, "at most 2 files");
    // Purging what was never sent: Walt's two, not Vera's sent file.
    let purged = store
        .purge_unsent_attachments(widget_server::store::now_ms() + 1)
        .await
        .unwrap();
    assert!(purged >= 2, "purged {purged}");
    assert!(store.attachment(&first.id).await.unwrap().is_none());
    assert!(store.attachment(sent_id).await.unwrap().is_some());
    // With nothing unsent, the quota is free again.
    upload(b"1234567890").await.unwrap();
    store
        .purge_unsent_attachments(widget_server::store::now_ms() + 1)
        .await
        .unwrap();
}

pub(crate) async fn tokens_and_passwords(store: &dyn Store, team: &Team) {
    let jti = new_id();
    assert!(!store.is_revoked(&jti).await.unwrap());
    store
        .revoke_token(&jti, now_ms() + 3_600_000)
        .await
        .unwrap();
    assert!(store.is_revoked(&jti).await.unwrap());
    store
        .revoke_token(&jti, now_ms() + 3_600_000)
        .await
        .unwrap();
    assert!(
        store.is_revoked(&jti).await.unwrap(),
        "revoking twice is harmless"
    );

    assert_eq!(store.sessions_valid_after(&team.alice.id).await.unwrap(), 0);
    let before = now_ms();
    store
        .set_password("alice@example.com", "a-new-hash")
        .await
        .unwrap();
    let cutoff = store.sessions_valid_after(&team.alice.id).await.unwrap();
    assert!(
        (before..=now_ms()).contains(&cutoff),
        "{before} <= {cutoff}"
    );
    let (_, hash) = store
        .agent_credentials("alice@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(hash, "a-new-hash");
    assert_eq!(
        store.sessions_valid_after(&team.bob.id).await.unwrap(),
        0,
        "others stay signed in"
    );
    refused(
        store.set_password("nobody@example.com", "x").await,
        NotFound,
        "nobody@example.com",
    );
    assert_eq!(
        store.sessions_valid_after("no-such-agent").await.unwrap(),
        0
    );
}

pub(crate) async fn syncing(
    store: &dyn Store,
    team: &Team,
    vera: &Person,
    walt: &Person,
    [vera_chat, walt_chat]: [&str; 2],
) {
    let latest = store.latest_event_id().await.unwrap();
    refused(
        store
            .events_since(&Viewer::Customer(vera.id.clone()), -1)
            .await
            .map(|_| ()),
        Invalid,
        "0 or more",
    );
    let alice = Viewer::Agent(team.alice.clone());
    assert_eq!(sync(store, &alice, latest).await, (vec![], latest));
    assert_eq!(sync(store, &alice, latest + 10).await, (vec![], latest));
    let viewers = [
        alice.clone(),
        Viewer::Agent(team.bob.clone()),
        Viewer::Agent(team.carol.clone()),
        Viewer::Agent(team.sam.clone()),
        Viewer::Agent(team.ada.clone()),
        Viewer::Customer(vera.id.clone()),
        Viewer::Customer(walt.id.clone()),
    ];
    for v in &viewers {
        let (events, at) = sync(store, v, 0).await;
        assert_eq!(at, latest);
        let ids: Vec<EventId> = events.iter().map(ServerEvent::event_id).collect();
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "{v:?}: ids not increasing: {ids:?}"
        );
        assert!(ids.iter().all(|&i| i >= 1 && i <= latest));
    }
    let (walts, _) = sync(store, &Viewer::Customer(walt.id.clone()), 0).await;
    assert!(walts.iter().all(|e| chat_of(e) == Some(walt_chat)));
    let (carols, _) = sync(store, &Viewer::Agent(team.carol.clone()), 0).await;
    assert!(
        carols
            .iter()
            .all(|e| !matches!(e, ServerEvent::Notification(_)))
    );
    let newcomer = store.chats(&team.alice, &every_chat()).await.unwrap();
    let sales_only: Vec<&str> = newcomer
        .items
        .iter()
        .map(|c| c.id.as_str())
        .filter(|c| *c != vera_chat)
        .collect();
    assert!(
        carols
            .iter()
            .all(|e| chat_of(e).is_none_or(|c| !sales_only.contains(&c)))
    );
}

/// A visitor who missed exactly `MAX_SYNC_EVENTS` replays them; one more and it must
/// reload instead.
pub(crate) async fn flood(store: &dyn Store, team: &Team, walt: &Person, walt_chat: &str) {
    let alice = Viewer::Agent(team.alice.clone());
    let before = store.latest_event_id().await.unwrap();
    let flood = (0..MAX_SYNC_EVENTS).map(|i| {
        let id = new_id();
        async move {
            store
                .customer_send(&walt.id, None, &id, &format!("ping {i}"), &[])
                .await
        }
    });
    for r in join_all(flood).await {
        r.unwrap();
    }
    let walt_viewer = Viewer::Customer(walt.id.clone());
    let (missed, _) = sync(store, &walt_viewer, before).await;
    assert_eq!(missed.len(), MAX_SYNC_EVENTS);
    store
        .customer_send(&walt.id, None, &new_id(), "one more", &[])
        .await
        .unwrap();
    let latest = store.latest_event_id().await.unwrap();
    for v in [
        &walt_viewer,
        &Viewer::Agent(team.carol.clone()),
        &Viewer::Agent(team.ada.clone()),
    ] {
        match store.events_since(v, before).await.unwrap() {
            SyncResult::Resync(at) => assert_eq!(at, latest),
            SyncResult::Events(e, _) => {
                panic!("{v:?} replayed {} events instead of a resync", e.len())
            }
        }
    }
    assert_eq!(sync(store, &walt_viewer, latest - 3).await.0.len(), 3);
    assert!(
        sync(store, &alice, before).await.0.is_empty(),
        "Sales saw none of it"
    );
    let all = store.messages(walt_chat, None, 5000, true).await.unwrap();
    assert_eq!(
        seqs(&all),
        (1..=all.len() as i64).collect::<Vec<_>>(),
        "no gaps under load"
    );
    assert_eq!(all.len(), MAX_SYNC_EVENTS + 2);
}
