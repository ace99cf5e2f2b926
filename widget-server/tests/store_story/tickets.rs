//! Tickets: numbers, the timeline, every action and its refusals, merge and split,
//! the visitor's view, and the list's filters.

use super::*;
use shared::ticket::{EntryKind, LinkKind, TicketPriority, TicketStatus};
use widget_server::store::{
    AssigneeFilter, EntryView, NewTicket, SpamFilter, TicketAction, TicketChanges, TicketCustomer,
    TicketFilter, TicketSort,
};

fn all_tickets() -> TicketFilter {
    TicketFilter {
        statuses: vec![],
        priorities: vec![],
        priority_min: None,
        department_id: None,
        assignee: AssigneeFilter::Any,
        tag: None,
        q: None,
        spam: SpamFilter::Hide,
        include_merged: false,
        customer_id: None,
        sort: TicketSort::Oldest,
        page: 1,
        per_page: 20,
    }
}

fn new_ticket(subject: &str, customer: TicketCustomer) -> NewTicket {
    NewTicket {
        subject: subject.into(),
        body: format!("{subject}: please help"),
        customer,
        department_id: None,
        priority: TicketPriority::Medium,
        tags: vec![],
        due_at_ms: None,
        assignee_id: None,
        client_msg_id: new_id(),
        on_behalf: true,
    }
}

fn update(changes: TicketChanges) -> TicketAction {
    TicketAction::Update {
        changes,
        department_id: None,
    }
}

pub(crate) async fn tickets(store: &dyn Store, team: &Team) {
    let tess = store
        .resolve_visitor(None, Some("Tess"), Some("tess@example.com"))
        .await
        .unwrap();
    let tess_id = tess.customer.id.clone();

    // Numbers from 1001; a customer by email is found or created.
    let first = store
        .create_ticket(
            &team.alice,
            new_ticket(
                "Printer",
                TicketCustomer::Email {
                    email: "rita@example.com".into(),
                    name: Some("Rita".into()),
                },
            ),
        )
        .await
        .unwrap();
    assert_eq!(first.number, 1001);
    assert_eq!(first.department_id, team.sales.id);
    assert_eq!(first.customer.name, "Rita");
    let again = store
        .create_ticket(
            &team.alice,
            new_ticket(
                "Scanner",
                TicketCustomer::Email {
                    email: "rita@example.com".into(),
                    name: None,
                },
            ),
        )
        .await
        .unwrap();
    assert_eq!(again.number, 1002);
    assert_eq!(again.customer.id, first.customer.id);
    refused(
        store
            .create_ticket(
                &team.carol,
                NewTicket {
                    department_id: Some(team.sales.id.clone()),
                    ..new_ticket("Nope", TicketCustomer::Id(tess_id.clone()))
                },
            )
            .await,
        Forbidden,
        "own departments",
    );
    refused(
        store
            .create_ticket(
                &team.alice,
                new_ticket("x", TicketCustomer::Id("nobody".into())),
            )
            .await,
        Invalid,
        "no customer",
    );

    // A replay of the creation answers the same ticket.
    let mut mine = new_ticket("Login", TicketCustomer::Id(tess_id.clone()));
    mine.on_behalf = false;
    let t = store
        .create_ticket(&team.alice, mine.clone())
        .await
        .unwrap();
    assert_eq!(
        store.create_ticket(&team.alice, mine).await.unwrap().id,
        t.id
    );
    assert_eq!(store.ticket(&t.id).await.unwrap().unwrap().number, 1003);
    assert!(store.ticket("missing").await.unwrap().is_none());

    // Replies and notes; a replay answers the stored entry, another author's id is
    // refused.
    let (note, replay) = store
        .add_ticket_entry(
            &team.alice,
            &t.id,
            EntryKind::Note,
            "secret @Bob Agent",
            "n1",
            &[],
        )
        .await
        .unwrap();
    assert!(!replay);
    let (same, replay) = store
        .add_ticket_entry(
            &team.alice,
            &t.id,
            EntryKind::Note,
            "secret @Bob Agent",
            "n1",
            &[],
        )
        .await
        .unwrap();
    assert!(replay);
    assert_eq!(same.id, note.id);
    refused(
        store
            .add_ticket_entry(&team.bob, &t.id, EntryKind::Reply, "x", "n1", &[])
            .await,
        Conflict,
        "client_msg_id",
    );
    refused(
        store
            .add_ticket_entry(&team.carol, &t.id, EntryKind::Note, "peek", "c1", &[])
            .await,
        Forbidden,
        "not in your departments",
    );
    store
        .add_ticket_entry(
            &team.alice,
            &t.id,
            EntryKind::Reply,
            "Try again now",
            "r1",
            &[],
        )
        .await
        .unwrap();
    let agent_view = store
        .ticket_entries(&t.id, 0, 100, EntryView::Agent)
        .await
        .unwrap();
    assert_eq!(
        agent_view.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=agent_view.len() as i64).collect::<Vec<_>>()
    );
    let customer_view = store
        .ticket_entries(&t.id, 0, 100, EntryView::Customer)
        .await
        .unwrap();
    assert_eq!(
        customer_view
            .iter()
            .map(|e| (e.seq, e.body.as_str()))
            .collect::<Vec<_>>(),
        [(1, "Login: please help"), (2, "Try again now")],
        "replies only, numbered without the note"
    );

    // Field changes, each with its line; refusals change nothing.
    let changed = store
        .ticket_action(
            &team.alice,
            &t.id,
            update(TicketChanges {
                status: Some(TicketStatus::Pending),
                priority: Some(TicketPriority::High),
                assignee_id: Some(Some(team.bob.id.clone())),
                add_tags: vec!["vip".into()],
                ..TicketChanges::default()
            }),
        )
        .await
        .unwrap();
    assert_eq!(
        (
            changed.status,
            changed.priority,
            changed.assignee_id.as_deref()
        ),
        (
            TicketStatus::Pending,
            TicketPriority::High,
            Some(team.bob.id.as_str())
        )
    );
    assert_eq!(changed.tags, ["vip"]);
    refused(
        store
            .ticket_action(
                &team.alice,
                &t.id,
                update(TicketChanges {
                    assignee_id: Some(Some(team.sam.id.clone())),
                    ..TicketChanges::default()
                }),
            )
            .await,
        Forbidden,
        "assigned to another agent",
    );
    refused(
        store
            .ticket_action(
                &team.sam,
                &t.id,
                TicketAction::Update {
                    changes: TicketChanges::default(),
                    department_id: Some("nowhere".into()),
                },
            )
            .await,
        Invalid,
        "no department",
    );
    assert_eq!(store.ticket(&t.id).await.unwrap().unwrap(), changed);

    // The visitor answers: pending goes back to open; closed refuses.
    let (answer, replay) = store
        .customer_ticket_entry(&tess_id, &t.id, "Still broken", "v1")
        .await
        .unwrap();
    assert!(!replay);
    assert_eq!(answer.seq, 3);
    assert!(
        store
            .customer_ticket_entry(&tess_id, &t.id, "Still broken", "v1")
            .await
            .unwrap()
            .1
    );
    assert_eq!(
        store.ticket(&t.id).await.unwrap().unwrap().status,
        TicketStatus::Open
    );
    refused(
        store
            .customer_ticket_entry(&first.customer.id, &t.id, "hijack", "v2")
            .await,
        NotFound,
        "no request",
    );
    let closed = store
        .ticket_action(
            &team.bob,
            &t.id,
            TicketAction::Close {
                resolution: "Reset the password".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(closed.status, TicketStatus::Closed);
    assert_eq!(closed.resolution.as_deref(), Some("Reset the password"));
    refused(
        store
            .customer_ticket_entry(&tess_id, &t.id, "one more", "v3")
            .await,
        Conflict,
        "closed",
    );
    refused(
        store
            .ticket_action(
                &team.bob,
                &t.id,
                TicketAction::Close {
                    resolution: "again".into(),
                },
            )
            .await,
        Conflict,
        "already closed",
    );
    let reopened = store
        .ticket_action(&team.bob, &t.id, TicketAction::Reopen)
        .await
        .unwrap();
    assert_eq!(
        (reopened.status, reopened.resolution),
        (TicketStatus::Open, None)
    );

    // Escalation, links, spam.
    let up = store
        .ticket_action(
            &team.bob,
            &t.id,
            TicketAction::Escalate {
                to_department_id: None,
                to_agent_id: None,
                note: Some("customer is angry".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(up.priority, TicketPriority::Urgent);
    let linked = store
        .ticket_action(
            &team.sam,
            &t.id,
            TicketAction::Link {
                other_id: first.id.clone(),
                kind: LinkKind::Related,
            },
        )
        .await
        .unwrap();
    assert_eq!(linked.links.len(), 1);
    assert_eq!(
        store.ticket(&first.id).await.unwrap().unwrap().links[0].ticket_id,
        t.id
    );
    let unlinked = store
        .ticket_action(
            &team.sam,
            &t.id,
            TicketAction::Unlink {
                other_id: first.id.clone(),
            },
        )
        .await
        .unwrap();
    assert!(unlinked.links.is_empty());
    refused(
        store
            .ticket_action(
                &team.sam,
                &t.id,
                TicketAction::Unlink {
                    other_id: first.id.clone(),
                },
            )
            .await,
        NotFound,
        "not linked",
    );

    // Split: the chosen entries move to a new ticket linked split_from.
    let entries = store
        .ticket_entries(&t.id, 0, 100, EntryView::Agent)
        .await
        .unwrap();
    let before = entries.len();
    let chosen: Vec<String> = entries
        .iter()
        .filter(|e| e.body == "Still broken" || e.body == "customer is angry")
        .map(|e| e.id.clone())
        .collect();
    assert_eq!(chosen.len(), 2);
    let split = store
        .split_ticket(&team.bob, &t.id, &chosen, "Angry follow-up")
        .await
        .unwrap();
    assert_eq!(split.links[0].kind, LinkKind::SplitFrom);
    let moved = store
        .ticket_entries(&split.id, 0, 100, EntryView::Agent)
        .await
        .unwrap();
    assert_eq!(moved.len(), 3, "two moved, one line");
    let left = store
        .ticket_entries(&t.id, 0, 100, EntryView::Agent)
        .await
        .unwrap();
    assert_eq!(left.len(), before - 2 + 1);
    refused(
        store.split_ticket(&team.bob, &t.id, &[], "x").await,
        Invalid,
        "entry_ids",
    );

    // Merge: every entry of the source lands once in the target.
    let src_entries = store
        .ticket_entries(&split.id, 0, 100, EntryView::Agent)
        .await
        .unwrap();
    let dst_before = store
        .ticket_entries(&t.id, 0, 100, EntryView::Agent)
        .await
        .unwrap();
    let target = store
        .merge_ticket(&team.bob, &split.id, &t.id)
        .await
        .unwrap();
    assert_eq!(target.id, t.id);
    let merged = store.ticket(&split.id).await.unwrap().unwrap();
    assert_eq!(merged.merged_into.as_deref(), Some(t.id.as_str()));
    let dst_after = store
        .ticket_entries(&t.id, 0, 500, EntryView::Agent)
        .await
        .unwrap();
    assert_eq!(dst_after.len(), dst_before.len() + src_entries.len() + 1);
    for e in &src_entries {
        assert_eq!(dst_after.iter().filter(|d| d.id == e.id).count(), 1);
    }
    refused(
        store.merge_ticket(&team.bob, &t.id, &t.id).await,
        Invalid,
        "itself",
    );
    refused(
        store.merge_ticket(&team.bob, &first.id, &split.id).await,
        Conflict,
        "merged into",
    );
    let visible = store
        .ticket_entries(&t.id, 0, 500, EntryView::Customer)
        .await
        .unwrap();
    assert!(visible.iter().all(|e| e.kind == EntryKind::Reply));
    assert_eq!(
        visible.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=visible.len() as i64).collect::<Vec<_>>()
    );

    // Clone.
    let copy = store.clone_ticket(&team.alice, &first.id).await.unwrap();
    assert_eq!(copy.subject, first.subject);
    assert_ne!(copy.number, first.number);

    // A chat becomes a ticket, once.
    let chat = store
        .chats(&team.sam, &every_chat())
        .await
        .unwrap()
        .items
        .into_iter()
        .next()
        .expect("the story has chats");
    let messages = store.messages(&chat.id, None, 500, true).await.unwrap();
    let converted = store
        .chat_to_ticket(&team.sam, &chat.id, Some("From the chat"), None)
        .await
        .unwrap();
    assert_eq!(converted.chat_id.as_deref(), Some(chat.id.as_str()));
    assert_eq!(converted.source, shared::ticket::TicketSource::Chat);
    let timeline = store
        .ticket_entries(&converted.id, 0, 500, EntryView::Agent)
        .await
        .unwrap();
    assert_eq!(
        timeline.len(),
        messages.len() + 1,
        "every message and one line"
    );
    assert_eq!(
        store.chat(&chat.id).await.unwrap().unwrap().ticket_id,
        Some(converted.id.clone())
    );
    refused(
        store.chat_to_ticket(&team.sam, &chat.id, None, None).await,
        Conflict,
        "already became",
    );
    refused(
        store.chat_to_ticket(&team.sam, "no-chat", None, None).await,
        NotFound,
        "no chat",
    );

    // The visitor's requests: leave a message, list their own.
    let left_msg = store
        .customer_create_ticket(
            &tess_id,
            "Call me",
            "Call me back",
            "tess@example.com",
            None,
            "w1",
        )
        .await
        .unwrap();
    assert_eq!(left_msg.source, shared::ticket::TicketSource::Widget);
    assert!(left_msg.tags.is_empty());
    let again = store
        .customer_create_ticket(
            &tess_id,
            "Call me",
            "Call me back",
            "tess@example.com",
            None,
            "w1",
        )
        .await
        .unwrap();
    assert_eq!(again.id, left_msg.id);
    let own = store.customer_tickets(&tess_id).await.unwrap();
    let own_ids: Vec<&str> = own.iter().map(|t| t.id.as_str()).collect();
    assert!(own_ids.contains(&t.id.as_str()) && own_ids.contains(&left_msg.id.as_str()));
    assert!(
        !own_ids.contains(&split.id.as_str()),
        "merged sources are not listed"
    );
    assert!(
        own.iter()
            .all(|t| t.tags.is_empty() && t.resolution.is_none())
    );
    let all_of_tess = store.tickets_of_customer(&tess_id).await.unwrap();
    assert!(
        all_of_tess.len() > own.len(),
        "the merged source is among all of them"
    );

    // The list: scope, filters, sorts.
    let carol_sees = store.tickets(&team.carol, &all_tickets()).await.unwrap();
    assert_eq!(carol_sees.total, 0);
    let sam_sees = store.tickets(&team.sam, &all_tickets()).await.unwrap();
    assert_eq!(
        sam_sees.total,
        6,
        "merged source hidden: {:?}",
        sam_sees.items.iter().map(|t| t.number).collect::<Vec<_>>()
    );
    let with_merged = store
        .tickets(
            &team.sam,
            &TicketFilter {
                include_merged: true,
                ..all_tickets()
            },
        )
        .await
        .unwrap();
    assert_eq!(with_merged.total, 7);
    let urgent = store
        .tickets(
            &team.alice,
            &TicketFilter {
                priority_min: Some(TicketPriority::Urgent),
                ..all_tickets()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        urgent.items.iter().map(|t| &t.id).collect::<Vec<_>>(),
        [&t.id]
    );
    let bobs = store
        .tickets(
            &team.bob,
            &TicketFilter {
                assignee: AssigneeFilter::Agent(team.bob.id.clone()),
                ..all_tickets()
            },
        )
        .await
        .unwrap();
    assert!(bobs.items.iter().any(|x| x.id == t.id));
    assert!(
        bobs.items
            .iter()
            .all(|x| x.assignee_id.as_deref() == Some(team.bob.id.as_str()))
    );
    let by_number = store
        .tickets(
            &team.sam,
            &TicketFilter {
                q: Some(format!("#{}", first.number)),
                ..all_tickets()
            },
        )
        .await
        .unwrap();
    assert_eq!(by_number.items[0].id, first.id);
    let by_text = store
        .tickets(
            &team.sam,
            &TicketFilter {
                q: Some("Still broken".into()),
                ..all_tickets()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        by_text.items.iter().map(|t| &t.id).collect::<Vec<_>>(),
        [&t.id]
    );
    let vip = store
        .tickets(
            &team.sam,
            &TicketFilter {
                tag: Some("vip".into()),
                ..all_tickets()
            },
        )
        .await
        .unwrap();
    assert!(vip.items.iter().any(|x| x.id == t.id));
    assert!(vip.items.iter().all(|x| x.tags.contains(&"vip".to_owned())));
    assert!(!vip.items.iter().any(|x| x.id == first.id));
    let newest = store
        .tickets(
            &team.sam,
            &TicketFilter {
                sort: TicketSort::Newest,
                ..all_tickets()
            },
        )
        .await
        .unwrap();
    assert_eq!(newest.items[0].id, left_msg.id);
    let spam = store
        .ticket_action(
            &team.sam,
            &left_msg.id,
            TicketAction::Spam {
                spam: true,
                block_customer: false,
            },
        )
        .await
        .unwrap();
    assert!(spam.spam);
    assert_eq!(
        store
            .tickets(&team.sam, &all_tickets())
            .await
            .unwrap()
            .total,
        5
    );
    let only_spam = store
        .tickets(
            &team.sam,
            &TicketFilter {
                spam: SpamFilter::Only,
                ..all_tickets()
            },
        )
        .await
        .unwrap();
    assert_eq!(only_spam.items[0].id, left_msg.id);
    assert!(
        !store
            .customer_tickets(&tess_id)
            .await
            .unwrap()
            .iter()
            .any(|x| x.id == left_msg.id),
        "spam leaves the visitor's list too"
    );
}
