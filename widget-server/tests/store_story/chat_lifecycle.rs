//! The end of a chat and around it: read receipts, close, rating, reopen, blocking a
//! customer and agents' presence.

use super::*;

pub(crate) async fn read_receipts(
    store: &dyn Store,
    team: &Team,
    vera: &Person,
    walt: &Person,
    chat: &str,
) {
    let before = store.latest_event_id().await.unwrap();
    let last = store.chat(chat).await.unwrap().unwrap().last_seq;
    store.agent_read(&team.alice, chat, last).await.unwrap();
    let c = store.chat(chat).await.unwrap().unwrap();
    assert_eq!((c.agent_read_seq, c.unread_count), (last, 0));
    let outside = format!("seq {} is outside the chat (1..={last})", last + 1);
    refused(
        store.agent_read(&team.alice, chat, last + 1).await,
        Invalid,
        &outside,
    );
    refused(
        store.agent_read(&team.alice, chat, 0).await,
        Invalid,
        "outside the chat",
    );
    refused(
        store.agent_read(&team.carol, chat, 1).await,
        Forbidden,
        "not in your departments",
    );

    store.customer_read(&vera.id, None, 3).await.unwrap();
    let quiet = store.latest_event_id().await.unwrap();
    store.customer_read(&vera.id, Some(chat), 2).await.unwrap();
    assert_eq!(
        store.latest_event_id().await.unwrap(),
        quiet,
        "reading back changes nothing"
    );
    assert_eq!(
        store.chat(chat).await.unwrap().unwrap().customer_read_seq,
        3
    );
    refused(
        store.customer_read(&vera.id, None, last + 1).await,
        Invalid,
        "outside the chat",
    );
    refused(
        store.customer_read(&walt.id, Some(chat), 1).await,
        NotFound,
        chat,
    );
    // The visitor hears that the agent read; its own receipt goes to the agents only.
    let (seen, _) = sync(store, &Viewer::Customer(vera.id.clone()), before).await;
    let reads: Vec<_> = seen
        .iter()
        .filter_map(|e| match e {
            ServerEvent::MessageRead(r) => Some((r.reader.kind, r.seq)),
            _ => None,
        })
        .collect();
    // In the visitor's numbering: the highest of their numbers at or before `last`.
    let theirs = store.visitor_numbers(chat).await.unwrap().last_seq;
    assert_eq!(reads, [(AuthorKind::Agent, theirs)]);
    let (heard, _) = sync(store, &Viewer::Agent(team.alice.clone()), before).await;
    assert!(heard.iter().any(|e| matches!(e, ServerEvent::MessageRead(r) if r.reader.kind == AuthorKind::Customer && r.seq == 3)));
}

pub(crate) async fn close_rate_reopen(
    store: &dyn Store,
    team: &Team,
    vera: &Person,
    walt: &Person,
    chat: &str,
) {
    let alice = &team.alice;
    refused(
        store.close(&team.carol, chat, None).await,
        Forbidden,
        "not in your departments",
    );
    let before = store.latest_event_id().await.unwrap();
    let closed = store
        .close(alice, chat, Some("Refund issued"))
        .await
        .unwrap();
    assert_eq!(
        (closed.status, closed.resolution.as_deref()),
        (ChatStatus::Closed, Some("Refund issued"))
    );
    assert!(closed.closed_at.is_some());
    assert_eq!(
        closed.last_message.as_ref().unwrap().body,
        "Alice Agent closed the chat"
    );
    refused(
        store.close(alice, chat, None).await,
        Conflict,
        "already closed",
    );
    refused(
        store
            .agent_send(alice, chat, &new_id(), "PS", MessageKind::Text, &[])
            .await,
        Conflict,
        "reopen it to reply",
    );
    refused(store.claim(alice, chat).await, Conflict, "closed");
    refused(
        store
            .transfer(alice, chat, Some(&team.bob.id), None, None)
            .await,
        Conflict,
        "closed",
    );
    refused(
        store
            .customer_send(&vera.id, Some(chat), &new_id(), "hello?", &[])
            .await,
        Conflict,
        "closed",
    );
    refused(
        store
            .customer_send(&vera.id, None, &new_id(), "hello?", &[])
            .await,
        NotFound,
        "no open chat",
    );
    // The visitor learns it closed, without the team's closing note or tags.
    let (seen, _) = sync(store, &Viewer::Customer(vera.id.clone()), before).await;
    let told = seen.iter().find_map(|e| match e {
        ServerEvent::ChatUpdated(c) if c.chat.status == ChatStatus::Closed => Some(&c.chat),
        _ => None,
    });
    let told = told.expect("the visitor hears of the close");
    assert_eq!((told.resolution.as_deref(), told.tags.len()), (None, 0));
    assert_eq!(
        store.customer_chat_any(&vera.id, None).await.unwrap().id,
        chat
    );
    assert_eq!(
        store
            .customer_chat_any(&vera.id, Some(chat))
            .await
            .unwrap()
            .status,
        ChatStatus::Closed
    );
    refused(
        store.customer_chat_any(&walt.id, Some(chat)).await,
        NotFound,
        "no such chat",
    );

    store
        .rate(&vera.id, None, 5, Some("Quick and kind"))
        .await
        .unwrap();
    let rating = Rating {
        score: 5,
        comment: Some("Quick and kind".into()),
    };
    assert_eq!(
        store.chat(chat).await.unwrap().unwrap().rating,
        Some(rating.clone())
    );
    refused(
        store.rate(&walt.id, Some(chat), 1, None).await,
        NotFound,
        chat,
    );
    let profile = store.customer_profile(&vera.id).await.unwrap().unwrap();
    assert_eq!(profile.customer.id, vera.id);
    let texts = store.messages(chat, None, 500, true).await.unwrap();
    let texts = texts.iter().filter(|m| m.kind == MessageKind::Text).count();
    let past = &profile.previous_chats[0];
    assert_eq!(
        (past.id.as_str(), past.status, past.rating.as_ref()),
        (chat, ChatStatus::Closed, Some(&rating))
    );
    assert_eq!(
        past.message_count, texts as i64,
        "notes and system lines are not counted"
    );
    // Each past chat names its department and assignee, so that what an agent reads
    // of the profile is only the chats it may see.
    assert_eq!(
        (past.department_id.as_str(), past.assignee_id.as_deref()),
        (team.sales.id.as_str(), Some(alice.id.as_str()))
    );
    assert!(
        team.carol
            .profile_view(profile.clone())
            .previous_chats
            .is_empty()
    );
    assert_eq!(
        team.bob.profile_view(profile.clone()).previous_chats,
        profile.previous_chats
    );
    assert_eq!(
        store.customer_profile("no-such-customer").await.unwrap(),
        None
    );
    // The chats each reader may see, filtered and counted by the store, paged.
    let everyone = store
        .customer_chats(&team.ada, &vera.id, 1, 50)
        .await
        .unwrap();
    assert_eq!(everyone.items, profile.previous_chats);
    assert_eq!(everyone.total, profile.previous_chats.len() as i64);
    let sales = store
        .customer_chats(&team.alice, &vera.id, 1, 50)
        .await
        .unwrap();
    assert_eq!(
        sales.items,
        team.alice.profile_view(profile.clone()).previous_chats
    );
    let support = store
        .customer_chats(&team.carol, &vera.id, 1, 50)
        .await
        .unwrap();
    assert_eq!((support.items.len(), support.total), (0, 0));
    let paged = store
        .customer_chats(&team.ada, &vera.id, 2, 1)
        .await
        .unwrap();
    assert_eq!(
        (paged.items, paged.total, paged.page, paged.per_page),
        (
            profile.previous_chats[1..]
                .iter()
                .take(1)
                .cloned()
                .collect(),
            everyone.total,
            2,
            1
        )
    );
    assert_eq!(
        store.customer(&vera.id).await.unwrap().map(|c| c.id),
        Some(vera.id.clone())
    );

    // Reopening waits until the customer's newer chat is closed.
    let (second, _) = store
        .start_chat(
            &vera.id,
            &team.sales.id,
            "About my invoice",
            &new_id(),
            None,
            None,
        )
        .await
        .unwrap();
    assert_ne!(second.id, chat);
    refused(store.reopen(alice, chat).await, Conflict, &second.id);
    refused(
        store.reopen(alice, &second.id).await,
        Conflict,
        "not closed",
    );
    store.close(alice, &second.id, None).await.unwrap();
    let reopened = store.reopen(alice, chat).await.unwrap();
    assert_eq!(
        (reopened.status, reopened.assignee_id.as_deref()),
        (ChatStatus::Active, Some(alice.id.as_str()))
    );
    assert_eq!((reopened.closed_at, reopened.resolution), (None, None));
    assert_eq!(
        reopened.last_message.unwrap().body,
        "Alice Agent reopened the chat"
    );
    let back = store
        .resolve_visitor(Some(&vera.token), None, None)
        .await
        .unwrap();
    assert_eq!(back.open_chat_id.as_deref(), Some(chat));
}

pub(crate) async fn blocking(store: &dyn Store, team: &Team, vera: &Person) {
    refused(
        store.block(&team.carol, &vera.id, true).await,
        NotFound,
        &vera.id,
    );
    let before = store.latest_event_id().await.unwrap();
    let blocked = store.block(&team.alice, &vera.id, true).await.unwrap();
    assert_eq!(
        (blocked.id.as_str(), blocked.blocked),
        (vera.id.as_str(), true)
    );
    refused(
        store
            .customer_send(&vera.id, None, &new_id(), "let me in", &[])
            .await,
        Forbidden,
        "blocked",
    );
    let (heard, _) = sync(store, &Viewer::Agent(team.bob.clone()), before).await;
    assert!(
        heard
            .iter()
            .any(|e| matches!(e, ServerEvent::CustomerUpdated(c) if c.customer.blocked))
    );
    let (elsewhere, _) = sync(store, &Viewer::Agent(team.carol.clone()), before).await;
    assert!(elsewhere.is_empty(), "{elsewhere:?}");
    assert!(
        !store
            .block(&team.alice, &vera.id, false)
            .await
            .unwrap()
            .blocked
    );
    store
        .customer_send(&vera.id, None, &new_id(), "Thanks for the refund", &[])
        .await
        .unwrap();
    refused(
        store.block(&team.ada, "no-such-customer", true).await,
        NotFound,
        "no-such-customer",
    );
}

pub(crate) async fn presence(store: &dyn Store, team: &Team, vera: &Person) {
    let before = store.latest_event_id().await.unwrap();
    let online = store
        .set_presence(&team.alice.id, AgentStatus::Online)
        .await
        .unwrap();
    assert_eq!(
        (online.id.as_str(), online.status),
        (team.alice.id.as_str(), AgentStatus::Online)
    );
    assert_eq!(
        store.agent(&team.alice.id).await.unwrap().unwrap().status,
        AgentStatus::Online
    );
    let (everyone, _) = sync(store, &Viewer::Agent(team.carol.clone()), before).await;
    assert!(matches!(&everyone[..], [ServerEvent::Presence(p)] if p.agent == online));
    assert!(
        sync(store, &Viewer::Customer(vera.id.clone()), before)
            .await
            .0
            .is_empty()
    );
    refused(
        store.set_presence("no-such-agent", AgentStatus::Away).await,
        NotFound,
        "no such agent",
    );
}
