//! Agents at work: listing with every filter, claiming, replies and notes with their
//! mentions, transfers and tags.

use super::*;

pub(crate) async fn listing_chats(store: &dyn Store, team: &Team, chats: &[String; 3]) {
    let [vera, walt, newcomer] = [0, 1, 2].map(|i| chats[i].as_str());
    // The ids on the page, and the total.
    let list = |who: &Actor, f: ChatFilter| {
        let who = who.clone();
        async move {
            let page = store.chats(&who, &f).await.unwrap();
            let ids: Vec<String> = page.items.iter().map(|c| c.id.clone()).collect();
            (ids, page.total)
        }
    };
    let f = every_chat;
    // Agents see their departments' chats; supervisors and admins see every chat.
    assert_eq!(list(&team.alice, f()).await, (owned(&[vera, newcomer]), 2));
    assert_eq!(list(&team.carol, f()).await, (owned(&[walt]), 1));
    let newest = owned(&[vera, newcomer, walt]);
    assert_eq!(list(&team.sam, f()).await, (newest.clone(), 3));
    assert_eq!(list(&team.ada, f()).await, (newest, 3));
    let oldest = ChatFilter {
        sort: ChatSort::Oldest,
        ..f()
    };
    assert_eq!(list(&team.sam, oldest).await.0, [vera, walt, newcomer]);
    let status = |s| ChatFilter {
        status: Some(s),
        ..f()
    };
    assert_eq!(list(&team.sam, status(ChatStatus::Waiting)).await.1, 3);
    assert_eq!(list(&team.sam, status(ChatStatus::Active)).await.1, 0);
    let support = || ChatFilter {
        department_id: Some(team.support.id.clone()),
        ..f()
    };
    assert_eq!(list(&team.sam, support()).await.0, [walt]);
    let narrowed = list(&team.alice, support()).await.1;
    assert_eq!(narrowed, 0, "a filter never widens what one sees");
    let customer = store.chat(walt).await.unwrap().unwrap().customer.id;
    let by_customer = ChatFilter {
        customer_id: Some(customer),
        ..f()
    };
    assert_eq!(list(&team.sam, by_customer).await.0, [walt]);
    // `q` matches name or e-mail anywhere, ASCII case-insensitively; `%` and `_` are
    // literal.
    let q = |s: &str| ChatFilter {
        q: Some(s.into()),
        ..f()
    };
    assert_eq!(list(&team.sam, q("VERA")).await.0, [vera]);
    assert_eq!(list(&team.sam, q("walt@example")).await.0, [walt]);
    assert_eq!(list(&team.sam, q("%")).await.1, 0);
    assert_eq!(list(&team.sam, q("_")).await.1, 0);
    let page = |page, per_page| ChatFilter {
        page,
        per_page,
        ..f()
    };
    assert_eq!(
        list(&team.sam, page(1, 2)).await,
        (owned(&[vera, newcomer]), 3)
    );
    assert_eq!(list(&team.sam, page(2, 2)).await, (owned(&[walt]), 3));
    assert_eq!(list(&team.sam, page(3, 2)).await, (vec![], 3));
    let p = store.chats(&team.sam, &page(2, 2)).await.unwrap();
    assert_eq!((p.page, p.per_page), (2, 2));
}

pub(crate) async fn claiming(store: &dyn Store, team: &Team, chat: &str, newcomer_chat: &str) {
    let claimed = store.claim(&team.alice, chat).await.unwrap();
    assert_eq!(
        (claimed.status, claimed.assignee_id.as_deref()),
        (ChatStatus::Active, Some(team.alice.id.as_str()))
    );
    assert_eq!(
        (claimed.assignee_name.as_deref(), claimed.queue_position),
        (Some("Alice Agent"), None)
    );
    let line = claimed.last_message.as_ref().unwrap();
    assert_eq!(
        (line.seq, line.kind, line.author.kind),
        (5, MessageKind::Event, AuthorKind::System)
    );
    assert_eq!(line.body, "Alice Agent joined the chat");
    // Claiming one's own chat again changes nothing; a second claimant is refused.
    assert_eq!(store.claim(&team.alice, chat).await.unwrap().last_seq, 5);
    refused(
        store.claim(&team.bob, chat).await,
        Conflict,
        "chat already claimed by Alice Agent",
    );
    refused(
        store.claim(&team.carol, chat).await,
        Forbidden,
        "not in your departments",
    );
    refused(
        store.claim(&team.alice, "no-such-chat").await,
        NotFound,
        "no-such-chat",
    );
    assert_eq!(
        store
            .agent(&team.alice.id)
            .await
            .unwrap()
            .unwrap()
            .active_chats,
        1
    );
    let moved_up = store.chat(newcomer_chat).await.unwrap().unwrap();
    assert_eq!(moved_up.queue_position, Some(1), "the queue moves up");
    let mine = ChatFilter {
        assignee_id: Some(team.alice.id.clone()),
        status: Some(ChatStatus::Active),
        ..every_chat()
    };
    let page = store.chats(&team.alice, &mine).await.unwrap();
    assert_eq!(
        page.items.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        [chat]
    );
    let wait = ChatFilter {
        sort: ChatSort::Wait,
        ..every_chat()
    };
    let queue = store.chats(&team.sam, &wait).await.unwrap();
    let statuses: Vec<ChatStatus> = queue.items.iter().map(|c| c.status).collect();
    assert_eq!(
        statuses,
        [ChatStatus::Waiting, ChatStatus::Waiting, ChatStatus::Active]
    );
    assert_eq!(queue.items[1].id, newcomer_chat, "longest waiting first");
}

const NOTE: &str = "@alice the courier lost it; offer a refund";

pub(crate) async fn replies_and_notes(
    store: &dyn Store,
    team: &Team,
    vera: &Person,
    chat: &str,
    walt_chat: &str,
) {
    let say = |who: &Actor, chat: &str, id: &str, body: &str, kind| {
        let (who, chat, id, body) = (who.clone(), chat.to_owned(), id.to_owned(), body.to_owned());
        async move { store.agent_send(&who, &chat, &id, &body, kind, &[]).await }
    };
    let text = MessageKind::Text;
    refused(
        say(&team.carol, walt_chat, &new_id(), "Hi Walt", text).await,
        Conflict,
        "claim this chat before replying",
    );
    refused(
        say(&team.bob, chat, &new_id(), "I can help", text).await,
        Forbidden,
        "assigned to another agent",
    );
    let reply_id = new_id();
    let reply = say(
        &team.alice,
        chat,
        &reply_id,
        "Sorry about that, let me check",
        text,
    )
    .await
    .unwrap();
    assert_eq!(
        (reply.seq, reply.author.kind, reply.author.id.as_str()),
        (6, AuthorKind::Agent, team.alice.id.as_str())
    );
    assert_eq!(
        say(&team.alice, chat, &reply_id, "Sorry!", text)
            .await
            .unwrap(),
        reply
    );

    // A note that mentions Alice notifies her, once.
    let before = store.latest_event_id().await.unwrap();
    let note_id = new_id();
    let note = say(&team.bob, chat, &note_id, NOTE, MessageKind::Note)
        .await
        .unwrap();
    assert_eq!((note.seq, note.kind), (7, MessageKind::Note));
    let resent = say(&team.bob, chat, &note_id, NOTE, MessageKind::Note)
        .await
        .unwrap();
    assert_eq!(resent, note);
    // The note's client_msg_id answers Bob only: anyone else reusing it is refused,
    // sees nothing of the note, and stores nothing.
    let stored = store.latest_event_id().await.unwrap();
    let taken = "client_msg_id is already used by another message; use a new one";
    refused(
        store
            .customer_send(&vera.id, Some(chat), &note_id, "what did they say?", &[])
            .await,
        Conflict,
        taken,
    );
    refused(
        store
            .customer_send(&vera.id, None, &note_id, "hello", &[])
            .await,
        Conflict,
        taken,
    );
    refused(
        store
            .start_chat(&vera.id, &team.sales.id, "hi", &note_id, None, None)
            .await,
        Conflict,
        taken,
    );
    refused(
        say(&team.alice, chat, &note_id, "mine", text).await,
        Conflict,
        taken,
    );
    refused(
        say(&team.sam, chat, &note_id, "mine", MessageKind::Note).await,
        Conflict,
        taken,
    );
    // Nor does the visitor's id answer an agent, or an agent's the visitor.
    let history = store.messages(chat, None, 50, true).await.unwrap();
    let visitors_id = &history[0].client_msg_id;
    refused(
        say(&team.alice, chat, visitors_id, "again", text).await,
        Conflict,
        taken,
    );
    refused(
        store
            .customer_send(&vera.id, None, &reply_id, "again", &[])
            .await,
        Conflict,
        taken,
    );
    assert_eq!(
        store.latest_event_id().await.unwrap(),
        stored,
        "nothing stored"
    );
    assert_eq!(store.messages(chat, None, 50, true).await.unwrap(), history);
    let for_alice = notifications(store, &team.alice, before).await;
    assert_eq!(
        for_alice.len(),
        1,
        "one notification, also after the resend"
    );
    let n = &for_alice[0];
    assert_eq!(
        (n.kind.as_str(), n.title.as_str()),
        ("mention", "Bob Agent mentioned you")
    );
    assert_eq!((n.body.as_str(), n.chat_id.as_deref()), (NOTE, Some(chat)));
    assert!(
        notifications(store, &team.bob, before).await.is_empty(),
        "a notification is private to its agent"
    );
    assert!(
        notifications(store, &team.sam, before).await.is_empty(),
        "supervisors too see only their own"
    );
    // By e-mail too; mentioning oneself notifies nobody.
    let before = store.latest_event_id().await.unwrap();
    let self_note = "@Alice noted; @sam@example.com please approve the refund";
    say(&team.alice, chat, &new_id(), self_note, MessageKind::Note)
        .await
        .unwrap();
    assert_eq!(notifications(store, &team.sam, before).await.len(), 1);
    assert!(notifications(store, &team.alice, before).await.is_empty());

    // The visitor never sees a note: not in the history, not in what it replays.
    let public = store.messages(chat, None, 50, false).await.unwrap();
    assert_eq!(seqs(&public), [1, 2, 3, 4, 5, 6]);
    assert_eq!(
        seqs(&store.messages(chat, None, 50, true).await.unwrap()),
        [1, 2, 3, 4, 5, 6, 7, 8]
    );
    let (seen, _) = sync(store, &Viewer::Customer(vera.id.clone()), 0).await;
    assert!(!seen.is_empty());
    for ev in &seen {
        assert!(
            !matches!(ev, ServerEvent::Notification(_) | ServerEvent::Presence(_)),
            "{ev:?}"
        );
        if let ServerEvent::MessageNew(m) = ev {
            assert_ne!(m.message.kind, MessageKind::Note);
        }
        assert_eq!(chat_of(ev), Some(chat), "only its own chat");
    }
    let replayed = serde_json::to_string(&seen).unwrap();
    assert!(
        !replayed.contains("courier") && !replayed.contains("approve"),
        "a note leaked: {replayed}"
    );

    // A mention of someone who may not see the chat is not delivered (the
    // notification would carry the note out of Sales); the note is kept.
    let before = store.latest_event_id().await.unwrap();
    let asked = "@Carol Agent @ada do you know this customer?";
    let kept = say(&team.alice, chat, &new_id(), asked, MessageKind::Note)
        .await
        .unwrap();
    assert!(notifications(store, &team.carol, before).await.is_empty());
    let for_ada = notifications(store, &team.ada, before).await;
    assert_eq!(
        for_ada.iter().map(|n| n.body.as_str()).collect::<Vec<_>>(),
        [asked],
        "an admin may see every chat"
    );
    let stored = store.messages(chat, None, 50, true).await.unwrap();
    assert_eq!(stored.last(), Some(&kept));
}

pub(crate) async fn transfers(store: &dyn Store, team: &Team, chat: &str) {
    let (alice, bob, carol) = (&team.alice, &team.bob, &team.carol);
    let before = store.latest_event_id().await.unwrap();
    let to_bob = store
        .transfer(
            alice,
            chat,
            Some(&bob.id),
            None,
            Some("Customer prefers e-mail"),
        )
        .await
        .unwrap();
    assert_eq!(
        (to_bob.status, to_bob.assignee_id.as_deref()),
        (ChatStatus::Active, Some(bob.id.as_str()))
    );
    assert_eq!(to_bob.department_id, team.sales.id);
    let tail = store.messages(chat, None, 2, true).await.unwrap();
    assert_eq!(
        (tail[0].kind, tail[0].body.as_str()),
        (MessageKind::Note, "Handoff note: Customer prefers e-mail")
    );
    assert_eq!(
        (tail[1].kind, tail[1].body.as_str()),
        (
            MessageKind::Event,
            "Alice Agent transferred the chat to Bob Agent"
        )
    );
    let told = notifications(store, bob, before).await;
    assert_eq!(told.len(), 1);
    assert_eq!(
        (told[0].kind.as_str(), told[0].title.as_str()),
        ("chat_assigned", "Alice Agent transferred a chat to you")
    );
    assert_eq!(
        (told[0].body.as_str(), told[0].chat_id.as_deref()),
        ("Chat with Vera Visitor", Some(chat))
    );

    // Bob holds it now: a colleague of the department can neither take it, pass it
    // on nor close it, and the refusal changes nothing.
    let held = store.latest_event_id().await.unwrap();
    let only = "only the assignee (Bob Agent), a supervisor or an admin may";
    let take_over = format!("{only} transfer this chat");
    for (to_agent, to_department) in [
        (Some(alice.id.as_str()), None),
        (Some(team.sam.id.as_str()), None),
        (None, Some(team.support.id.as_str())),
    ] {
        refused(
            store
                .transfer(alice, chat, to_agent, to_department, Some("mine now"))
                .await,
            Forbidden,
            &take_over,
        );
    }
    refused(
        store.close(alice, chat, Some("done")).await,
        Forbidden,
        &format!("{only} close this chat"),
    );
    assert_eq!(
        store.latest_event_id().await.unwrap(),
        held,
        "nothing changed"
    );
    let still = store.chat(chat).await.unwrap().unwrap();
    assert_eq!(
        (still.status, still.assignee_id.as_deref()),
        (ChatStatus::Active, Some(bob.id.as_str()))
    );
    // A supervisor or an admin may move it whoever holds it.
    let to_alice = store
        .transfer(&team.sam, chat, Some(&alice.id), None, None)
        .await
        .unwrap();
    assert_eq!(to_alice.assignee_id.as_deref(), Some(alice.id.as_str()));
    let back = store
        .transfer(&team.ada, chat, Some(&bob.id), None, None)
        .await
        .unwrap();
    assert_eq!(back.assignee_id.as_deref(), Some(bob.id.as_str()));

    refused(
        store.transfer(bob, chat, Some(&bob.id), None, None).await,
        Invalid,
        "already there",
    );
    refused(
        store
            .transfer(bob, chat, Some("no-such-agent"), None, None)
            .await,
        Invalid,
        "no agent",
    );
    refused(
        store
            .transfer(bob, chat, None, Some("no-such-department"), None)
            .await,
        Invalid,
        "no department",
    );
    refused(
        store
            .transfer(bob, chat, Some(&carol.id), Some(&team.sales.id), None)
            .await,
        Invalid,
        "Carol Agent is not in the target department",
    );
    refused(
        store
            .transfer(carol, chat, Some(&carol.id), None, None)
            .await,
        Forbidden,
        "not in your departments",
    );

    // To a department: back in a queue there, out of sight of Sales' agents, who
    // still hear that it left.
    let before = store.latest_event_id().await.unwrap();
    let queued = store
        .transfer(bob, chat, None, Some(&team.support.id), None)
        .await
        .unwrap();
    assert_eq!(
        (queued.status, queued.assignee_id.as_deref()),
        (ChatStatus::Waiting, None)
    );
    assert_eq!(
        (&queued.department_id, queued.queue_position),
        (&team.support.id, Some(2))
    );
    assert_eq!(store.chats(alice, &every_chat()).await.unwrap().total, 1);
    let (heard, _) = sync(store, &Viewer::Agent(alice.clone()), before).await;
    assert!(
        heard
            .iter()
            .any(|e| matches!(e, ServerEvent::ChatUpdated(c) if c.chat.id == chat))
    );
    store.claim(carol, chat).await.unwrap();
    // To an agent of another department: the chat follows them.
    let home = store
        .transfer(carol, chat, Some(&alice.id), None, None)
        .await
        .unwrap();
    assert_eq!(
        (home.status, &home.department_id),
        (ChatStatus::Active, &team.sales.id)
    );
    assert_eq!(home.assignee_id.as_deref(), Some(alice.id.as_str()));
}

pub(crate) async fn tags(store: &dyn Store, team: &Team, vera: &Person, chat: &str) {
    let before = store.latest_event_id().await.unwrap();
    let tag = |add: &[&str], remove: &[&str]| {
        let add: Vec<String> = add.iter().map(|s| s.to_string()).collect();
        let remove: Vec<String> = remove.iter().map(|s| s.to_string()).collect();
        async move { store.tag(&team.alice, chat, &add, &remove).await }
    };
    assert_eq!(
        tag(&["vip", "refund"], &[]).await.unwrap().tags,
        ["vip", "refund"]
    );
    assert_eq!(tag(&[], &["refund"]).await.unwrap().tags, ["vip"]);
    let unchanged = store.latest_event_id().await.unwrap();
    assert_eq!(tag(&["vip"], &[]).await.unwrap().tags, ["vip"]);
    assert_eq!(
        store.latest_event_id().await.unwrap(),
        unchanged,
        "no change, no event"
    );
    let many: Vec<String> = (1..MAX_TAGS_PER_CHAT).map(|i| format!("t{i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    assert_eq!(
        tag(&many, &[]).await.unwrap().tags.len(),
        MAX_TAGS_PER_CHAT,
        "up to the limit"
    );
    let over = format!("a chat can have at most {MAX_TAGS_PER_CHAT} tags");
    refused(tag(&["one-too-many"], &[]).await, Invalid, &over);
    assert_eq!(tag(&[], &many).await.unwrap().tags, ["vip"]);
    refused(
        store.tag(&team.carol, chat, &["mine".into()], &[]).await,
        Forbidden,
        "not in your departments",
    );
    let (seen, _) = sync(store, &Viewer::Customer(vera.id.clone()), before).await;
    assert!(seen.is_empty(), "tags are the team's: {seen:?}");
}
