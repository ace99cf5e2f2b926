//! The team and its departments, visitors and their tokens, chats started and the
//! first messages: creation, idempotency and who may not.

use super::*;

pub(crate) async fn directory(store: &dyn Store) -> Team {
    assert!(store.departments().await.unwrap().is_empty());
    let sales = store.create_department("Sales").await.unwrap();
    pause().await;
    let support = store.create_department("Support").await.unwrap();
    assert_eq!(
        (sales.name.as_str(), support.name.as_str()),
        ("Sales", "Support")
    );
    assert_ne!(sales.id, support.id);
    refused(
        store.create_department("Sales").await,
        Conflict,
        "a department named \"Sales\" already exists",
    );
    let names: Vec<String> = store
        .departments()
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert_eq!(names, ["Sales", "Support"]);
    let found = store.department_by_name("Support").await.unwrap().unwrap();
    assert_eq!((&found.id, &found.name), (&support.id, &support.name));
    // The answer and the stored row carry the same `created_at`.
    assert_eq!(found.created_at, support.created_at);
    assert_eq!(store.department_by_name("Nowhere").await.unwrap(), None);

    let new = |email: &str, name: &str, role: Role, depts: &[&Department]| NewAgent {
        email: email.into(),
        name: name.into(),
        role,
        department_ids: depts.iter().map(|d| d.id.clone()).collect(),
        password_hash: format!("hash-of-{email}"),
        max_chats: 5,
    };
    let mut made = Vec::new();
    for (email, name, role, depts) in [
        (
            "alice@example.com",
            "Alice Agent",
            Role::Agent,
            vec![&sales],
        ),
        ("bob@example.com", "Bob Agent", Role::Agent, vec![&sales]),
        (
            "carol@example.com",
            "Carol Agent",
            Role::Agent,
            vec![&support],
        ),
        (
            "sam@example.com",
            "Sam Supervisor",
            Role::Supervisor,
            vec![&sales],
        ),
        ("ada@example.com", "Ada Admin", Role::Admin, vec![]),
    ] {
        let a = store
            .create_agent(new(email, name, role, &depts))
            .await
            .unwrap();
        assert_eq!(
            (a.email.as_str(), a.name.as_str(), a.role),
            (email, name, role)
        );
        assert_eq!(a.department_ids.len(), depts.len());
        assert_eq!(
            (a.status, a.max_chats, a.active_chats),
            (AgentStatus::Offline, 5, 0)
        );
        assert_eq!(store.agent(&a.id).await.unwrap().as_ref(), Some(&a));
        made.push(a);
    }
    refused(
        store
            .create_agent(new("bob@example.com", "Bob Again", Role::Agent, &[&sales]))
            .await,
        Conflict,
        "an agent with email bob@example.com already exists",
    );
    // An unknown department is refused, and nothing of the agent is kept.
    let mut ghost = new("gil@example.com", "Gil Ghost", Role::Agent, &[&sales]);
    ghost.department_ids.push("no-such-department".into());
    refused(
        store.create_agent(ghost).await,
        Invalid,
        "no department \"no-such-department\"",
    );
    assert!(
        store
            .agent_credentials("gil@example.com")
            .await
            .unwrap()
            .is_none()
    );
    let by_name: Vec<String> = store
        .agents()
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(
        by_name,
        [
            "Ada Admin",
            "Alice Agent",
            "Bob Agent",
            "Carol Agent",
            "Sam Supervisor"
        ]
    );
    assert_eq!(store.agent("no-such-agent").await.unwrap(), None);
    let (bob, hash) = store
        .agent_credentials("bob@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (bob, hash.as_str()),
        (made[1].clone(), "hash-of-bob@example.com")
    );
    assert!(
        store
            .agent_credentials("eve@example.com")
            .await
            .unwrap()
            .is_none()
    );

    let [alice, bob, carol, sam, ada] = made.try_into().unwrap();
    Team {
        alice: Actor::from_agent(&alice),
        bob: Actor::from_agent(&bob),
        carol: Actor::from_agent(&carol),
        sam: Actor::from_agent(&sam),
        ada: Actor::from_agent(&ada),
        sales,
        support,
    }
}

pub(crate) async fn visitors(store: &dyn Store) -> (Person, Person, Person) {
    let v = store
        .resolve_visitor(None, Some("Vera Visitor"), Some("vera@example.com"))
        .await
        .unwrap();
    assert_eq!(v.customer.name, "Vera Visitor");
    assert_eq!(v.customer.email.as_deref(), Some("vera@example.com"));
    assert!(!v.customer.blocked && v.open_chat_id.is_none());
    assert!(v.token.len() >= 32, "a visitor token must not be guessable");
    // The same token again is the same visitor.
    let again = store
        .resolve_visitor(Some(&v.token), None, None)
        .await
        .unwrap();
    assert_eq!((&again.customer, &again.token), (&v.customer, &v.token));
    // A token the store never issued gets a new visitor and a new token.
    let stranger = store
        .resolve_visitor(Some("a-token-nobody-issued"), None, None)
        .await
        .unwrap();
    assert_ne!(stranger.customer.id, v.customer.id);
    assert_ne!(stranger.token, "a-token-nobody-issued");
    assert!(
        stranger.customer.name.starts_with("Visitor "),
        "{}",
        stranger.customer.name
    );
    for (token, known) in [
        (v.token.as_str(), Some(&v.customer.id)),
        (stranger.token.as_str(), Some(&stranger.customer.id)),
        ("a-token-nobody-issued", None),
    ] {
        let found = store.resolve_visitor_known(token).await.unwrap();
        assert_eq!(found.as_ref(), known, "resolve_visitor_known({token:?})");
    }
    refused(
        store.customer_chat(&v.customer.id, None).await,
        NotFound,
        "no open chat",
    );
    refused(
        store.customer_chat_any(&v.customer.id, None).await,
        NotFound,
        "no such chat",
    );
    let w = store
        .resolve_visitor(None, Some("Walt"), None)
        .await
        .unwrap();
    // A visitor known by a signed token is written at their first chat, under the id
    // the token carries, and only once.
    let signed = uuid::Uuid::now_v7().to_string();
    assert_eq!(store.customer(&signed).await.unwrap(), None);
    let made = store
        .create_visitor(&signed, "v1.signed-token", None, Some("sig@example.com"))
        .await
        .unwrap();
    let default_name = format!("Visitor {}", &signed[signed.len() - 4..]);
    assert_eq!(
        (made.id.as_str(), made.name.as_str(), made.email.as_deref()),
        (
            signed.as_str(),
            default_name.as_str(),
            Some("sig@example.com")
        )
    );
    let again = store
        .create_visitor(&signed, "v1.signed-token", Some("Someone else"), None)
        .await
        .unwrap();
    assert_eq!(again, made, "a stored visitor is left as they are");
    assert_eq!(store.customer(&signed).await.unwrap(), Some(made));
    assert_eq!(
        store
            .resolve_visitor_known("v1.signed-token")
            .await
            .unwrap(),
        Some(signed)
    );
    assert_eq!(
        store.latest_event_id().await.unwrap(),
        0,
        "visitors are not events"
    );
    let person = |x: widget_server::store::Visitor| Person {
        id: x.customer.id,
        token: x.token,
    };
    (person(v), person(w), person(stranger))
}

/// Vera (Sales), Walt (Support), then the newcomer (Sales) start chats.
pub(crate) async fn starting_chats(
    store: &dyn Store,
    team: &Team,
    vera: &Person,
    walt: &Person,
    newcomer: &Person,
) -> [String; 3] {
    let start_id = new_id();
    let hello = "Hello, my order #1042 is late";
    let (chat, first) = store
        .start_chat(&vera.id, &team.sales.id, hello, &start_id, None, None)
        .await
        .unwrap();
    assert_eq!(
        (chat.status, &chat.department_id),
        (ChatStatus::Waiting, &team.sales.id)
    );
    assert_eq!(
        (chat.assignee_id.as_deref(), chat.customer.id.as_str()),
        (None, vera.id.as_str())
    );
    // The answer is the visitor's view of the chat; agents' counters are kept apart.
    assert_eq!(
        (chat.last_seq, chat.unread_count, chat.queue_position),
        (1, 0, Some(1))
    );
    assert_eq!(store.chat(&chat.id).await.unwrap().unwrap().unread_count, 1);
    assert_eq!(
        (first.seq, first.kind, first.body.as_str()),
        (1, MessageKind::Text, hello)
    );
    assert_eq!(
        (first.author.kind, first.author.name.as_str()),
        (AuthorKind::Customer, "Vera Visitor")
    );
    assert_eq!(
        (first.chat_id.as_str(), first.client_msg_id.as_str()),
        (chat.id.as_str(), start_id.as_str())
    );
    assert_eq!(chat.last_message.as_ref(), Some(&first));
    // A retried start answers the same chat and message.
    let (retry_chat, retry) = store
        .start_chat(&vera.id, &team.sales.id, hello, &start_id, None, None)
        .await
        .unwrap();
    assert_eq!((retry_chat.id.as_str(), &retry), (chat.id.as_str(), &first));
    // A new start while a chat is open continues that chat.
    let (cont_chat, cont) = store
        .start_chat(
            &vera.id,
            &team.sales.id,
            "Are you there?",
            &new_id(),
            None,
            None,
        )
        .await
        .unwrap();
    assert_eq!((cont_chat.id.as_str(), cont.seq), (chat.id.as_str(), 2));

    pause().await;
    let (wchat, _) = store
        .start_chat(
            &walt.id,
            &team.support.id,
            "My projector shows no picture",
            &new_id(),
            Some("Walter"),
            Some("walt@example.com"),
        )
        .await
        .unwrap();
    assert_eq!(
        (
            wchat.customer.name.as_str(),
            wchat.customer.email.as_deref()
        ),
        ("Walter", Some("walt@example.com"))
    );
    assert_eq!(wchat.queue_position, Some(1), "queues are per department");
    pause().await;
    let (nchat, _) = store
        .start_chat(
            &newcomer.id,
            &team.sales.id,
            "Do you ship to Norway?",
            &new_id(),
            None,
            None,
        )
        .await
        .unwrap();
    assert_eq!(nchat.queue_position, Some(2));

    // Refusals: an unknown department, a blocked customer, an unknown customer.
    let mallory = store
        .resolve_visitor(None, Some("Mallory"), None)
        .await
        .unwrap()
        .customer;
    refused(
        store
            .start_chat(
                &mallory.id,
                "no-such-department",
                "hi",
                &new_id(),
                None,
                None,
            )
            .await,
        Invalid,
        "no department \"no-such-department\"",
    );
    assert!(
        store
            .block(&team.ada, &mallory.id, true)
            .await
            .unwrap()
            .blocked
    );
    refused(
        store
            .start_chat(&mallory.id, &team.sales.id, "hi", &new_id(), None, None)
            .await,
        Forbidden,
        "blocked",
    );
    refused(
        store
            .start_chat(
                "no-such-customer",
                &team.sales.id,
                "hi",
                &new_id(),
                None,
                None,
            )
            .await,
        Unauthorized,
        "unknown visitor",
    );
    let back = store
        .resolve_visitor(Some(&vera.token), None, None)
        .await
        .unwrap();
    assert_eq!(
        back.open_chat_id.as_deref(),
        Some(chat.id.as_str()),
        "a reload resumes the chat"
    );
    assert_eq!(
        store.customer_chat(&vera.id, None).await.unwrap().id,
        chat.id
    );
    refused(
        store.customer_chat(&vera.id, Some(&wchat.id)).await,
        NotFound,
        &wchat.id,
    );
    [chat.id, wchat.id, nchat.id]
}

pub(crate) async fn messages(store: &dyn Store, vera: &Person, walt: &Person, chat: &str) {
    pause().await;
    let (id3, id4) = (new_id(), new_id());
    let m3 = store
        .customer_send(&vera.id, None, &id3, "It was due on Monday", &[])
        .await
        .unwrap();
    let m4 = store
        .customer_send(&vera.id, Some(chat), &id4, "Tracking shows nothing", &[])
        .await
        .unwrap();
    assert_eq!((m3.seq, m4.seq), (3, 4));
    assert_eq!((m3.chat_id.as_str(), m4.chat_id.as_str()), (chat, chat));
    // A resend (after a lost ack) answers the stored message, whatever its body now.
    let resent = store
        .customer_send(&vera.id, None, &id3, "It was due on Monday!!", &[])
        .await
        .unwrap();
    assert_eq!(resent, m3);
    // Another visitor's chat answers exactly like a chat that does not exist.
    let theirs = refused(
        store
            .customer_send(&walt.id, Some(chat), &new_id(), "hi", &[])
            .await,
        NotFound,
        chat,
    );
    let missing = refused(
        store
            .customer_send(&walt.id, Some("no-such-chat"), &new_id(), "hi", &[])
            .await,
        NotFound,
        "no-such-chat",
    );
    assert_eq!(
        theirs.message.replace(chat, "X"),
        missing.message.replace("no-such-chat", "X")
    );
    let all = store.messages(chat, None, 50, true).await.unwrap();
    assert_eq!(seqs(&all), [1, 2, 3, 4], "seq has no gaps");
    assert_eq!(all[2..], [m3, m4]);
    assert_eq!(
        seqs(&store.messages(chat, Some(4), 2, true).await.unwrap()),
        [2, 3]
    );
    let c = store.chat(chat).await.unwrap().unwrap();
    assert_eq!((c.last_seq, c.unread_count), (4, 4));
    assert_eq!(store.chat("no-such-chat").await.unwrap(), None);
}
