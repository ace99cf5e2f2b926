//! The Tickets view: the filter line, sorting and paging, live pushes and unread
//! marks, the split marks, the composer, and the commands that change a ticket.

use serde_json::json;
use shared::events::ServerEvent;
use shared::model::{Author, AuthorKind, Page};
use shared::ticket::{
    EntryKind, Ticket, TicketEntry, TicketEntryEvent, TicketEvent, TicketPriority, TicketSource,
    TicketStatus,
};

use super::*;
use crate::effect::TicketCmd;
use crate::msg::{TicketOp, TicketReply};
use crate::state::views::tickets::{AssigneeFilter, SpamFilter, TicketPane, TicketSort};
use crate::update::views::tickets::filter::parse_filter;
use crate::update::views::tickets::list::{compare, matches};

pub fn ticket(n: i64, subject: &str, status: TicketStatus, priority: TicketPriority) -> Ticket {
    Ticket {
        id: format!("t{n}"),
        number: n,
        subject: subject.into(),
        status,
        priority,
        customer: customer(&format!("cu{n}"), "Fatima Zahra"),
        department_id: "d1".into(),
        assignee_id: None,
        tags: vec![],
        due_at: None,
        created_at: T0 - Duration::hours(48) + Duration::minutes(n % 100),
        updated_at: T0 - Duration::hours(2) + Duration::minutes(n % 100),
        source: TicketSource::Agent,
        chat_id: None,
        merged_into: None,
        links: vec![],
        resolution: None,
        spam: false,
        last_seq: 0,
        entry_count: 0,
    }
}

pub fn entry(
    ticket_id: &str,
    seq: i64,
    kind: EntryKind,
    who: AuthorKind,
    body: &str,
) -> TicketEntry {
    let (id, name) = match who {
        AuthorKind::Customer => ("cu1".to_owned(), "Fatima Zahra".to_owned()),
        AuthorKind::Agent => ("a2".to_owned(), "Sam Rivera".to_owned()),
        AuthorKind::System => ("system".to_owned(), "System".to_owned()),
    };
    TicketEntry {
        id: format!("{ticket_id}-e{seq}"),
        ticket_id: ticket_id.into(),
        seq,
        client_msg_id: format!("c-{ticket_id}-{seq}"),
        author: Author {
            kind: who,
            id,
            name,
        },
        kind,
        body: body.into(),
        attachments: vec![],
        created_at: T0 - Duration::hours(3) + Duration::minutes(seq * 7),
    }
}

fn tickets_of(fx: &[Effect]) -> Vec<TicketCmd> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Net(NetCmd::Tickets(c)) => Some(c.clone()),
            _ => None,
        })
        .collect()
}

fn acts(fx: &[Effect]) -> Vec<(TicketOp, String, serde_json::Value)> {
    tickets_of(fx)
        .into_iter()
        .filter_map(|c| match c {
            TicketCmd::Act {
                op,
                ticket_id,
                body,
            } => Some((op, ticket_id, body)),
            _ => None,
        })
        .collect()
}

/// The Tickets view with one page of five tickets (45 in all), answered by the server.
pub fn with_tickets() -> State {
    let mut s = signed_in();
    press(&mut s, "g t");
    let mut page = vec![
        ticket(
            1005,
            "Projector fan is loud",
            TicketStatus::Open,
            TicketPriority::High,
        ),
        ticket(
            1004,
            "Refund for order #48213",
            TicketStatus::Pending,
            TicketPriority::Medium,
        ),
        ticket(
            1003,
            "Remote does not pair",
            TicketStatus::Open,
            TicketPriority::Urgent,
        ),
        ticket(
            1002,
            "Lamp replacement quote",
            TicketStatus::Resolved,
            TicketPriority::Low,
        ),
        ticket(
            1001,
            "Purple tint on HDMI input",
            TicketStatus::Closed,
            TicketPriority::Medium,
        ),
    ];
    page[0].assignee_id = Some("me".into());
    page[0].due_at = Some(T0 - Duration::hours(3));
    page[2].due_at = Some(T0 + Duration::hours(20));
    page[2].tags = vec!["vip".into()];
    page[1].customer = customer("cu1004", "Kenji Watanabe");
    let g = s.tickets.generation;
    net(
        &mut s,
        NetEvent::Tickets(TicketReply::Listed {
            generation: g,
            page: Page {
                items: page,
                total: 45,
                page: 1,
                per_page: 20,
            },
        }),
    );
    s
}

/// `with_tickets`, with #1005 open and its timeline loaded.
pub fn with_open_ticket() -> State {
    let mut s = with_tickets();
    press(&mut s, "enter");
    net(
        &mut s,
        NetEvent::Tickets(TicketReply::EntriesLoaded {
            ticket_id: "t1005".into(),
            entries: vec![
                entry(
                    "t1005",
                    1,
                    EntryKind::Reply,
                    AuthorKind::Customer,
                    "The fan got loud after the firmware update.\nIt whines at high speed.",
                ),
                entry(
                    "t1005",
                    2,
                    EntryKind::Event,
                    AuthorKind::Agent,
                    "Priority: medium → high",
                ),
                entry(
                    "t1005",
                    3,
                    EntryKind::Note,
                    AuthorKind::Agent,
                    "Known issue with 2.3.1, see #1003",
                ),
                entry(
                    "t1005",
                    4,
                    EntryKind::Reply,
                    AuthorKind::Agent,
                    "Thanks! Could you send a short video of the noise?",
                ),
                entry(
                    "t1005",
                    5,
                    EntryKind::Reply,
                    AuthorKind::Customer,
                    "Sure, here it is. Also the remote is flaky.",
                ),
            ],
        }),
    );
    s
}

#[test]
fn the_filter_line_parses_every_field_and_resolves_names() {
    let s = signed_in();
    let f = parse_filter(
        &s,
        "status=open,pending priority>=high assignee=me tag=vip dept=billing spam=any",
    )
    .unwrap();
    assert_eq!(f.status, [TicketStatus::Open, TicketStatus::Pending]);
    assert_eq!(f.priority_min, Some(TicketPriority::High));
    assert_eq!(f.assignee, Some(AssigneeFilter::Me));
    assert_eq!(f.tag.as_deref(), Some("vip"));
    assert_eq!(f.department_id.as_deref(), Some("d2"));
    assert_eq!(f.spam, SpamFilter::Any);
    let f = parse_filter(&s, "assignee=sam priority<=medium").unwrap();
    assert_eq!(f.assignee, Some(AssigneeFilter::Agent("a2".into())));
    assert_eq!(f.priority, [TicketPriority::Low, TicketPriority::Medium]);
    let f = parse_filter(&s, "priority>medium assignee=none").unwrap();
    assert_eq!(f.priority_min, Some(TicketPriority::High));
    assert_eq!(f.assignee, Some(AssigneeFilter::Unassigned));
    let f = parse_filter(&s, r#"dept="Support""#).unwrap();
    assert_eq!(f.department_id.as_deref(), Some("d1"));
    assert!(parse_filter(&s, "").unwrap().is_empty());
    assert!(parse_filter(&s, "all").unwrap().is_empty());
}

#[test]
fn a_wrong_filter_says_which_term_is_wrong_and_why() {
    let s = signed_in();
    let err = |line: &str| parse_filter(&s, line).unwrap_err();
    assert!(
        err("colour=red").contains("unknown filter field \"colour\""),
        "{}",
        err("colour=red")
    );
    assert!(err("colour=red").contains("status, priority, assignee, tag, dept, spam"));
    assert!(err("status=later").contains("open, pending, resolved, closed"));
    assert!(err("priority>=").contains("priority>= needs a value"));
    assert!(err("status>=open").contains("status takes = only"));
    assert!(err("priority>urgent").contains("nothing is above urgent"));
    assert!(err("dept=Sales").contains("no department named \"Sales\""));
    assert!(err("dept=Sales").contains("Support, Billing"));
    assert!(err("open").contains("write field=value"));
    assert!(err("spam=maybe").contains("spam=no, spam=yes or spam=any"));
    assert!(err(r#"dept="Support"#).contains("quote is not closed"));
}

#[test]
fn filter_command_asks_for_page_one_and_a_refused_one_keeps_the_list() {
    let mut s = with_tickets();
    let fx = run_cmd(&mut s, "filter status=open priority>=high");
    let cmds = tickets_of(&fx);
    let [TicketCmd::List { generation, query }] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    assert_eq!(*generation, s.tickets.generation);
    assert_eq!(query.page, 1);
    assert_eq!(query.filter.status, [TicketStatus::Open]);
    assert_eq!(s.tickets.filter_text, "status=open priority>=high");
    assert_eq!(
        crate::net::tickets::query_params(query),
        [
            ("sort", "updated".to_owned()),
            ("page", "1".to_owned()),
            ("per_page", "20".to_owned()),
            ("status", "open".to_owned()),
            ("priority_min", "high".to_owned()),
        ]
    );
    // A page answered for an older request is dropped.
    net(
        &mut s,
        NetEvent::Tickets(TicketReply::Listed {
            generation: generation - 1,
            page: Page {
                items: vec![],
                total: 0,
                page: 1,
                per_page: 20,
            },
        }),
    );
    assert_eq!(s.tickets.list.len(), 5);
    let fx = run_cmd(&mut s, "filter status=soon");
    assert!(tickets_of(&fx).is_empty());
    assert_eq!(s.tickets.query.filter.status, [TicketStatus::Open]);
    let e = s.tickets.filter_error.clone().unwrap();
    assert!(e.contains("unknown ticket status \"soon\""), "{e}");
    assert_eq!(s.flash.as_ref().unwrap().level, FlashLevel::Error);
    // `f` opens the command line with the filter to edit.
    press(&mut s, "f");
    assert_eq!(s.mode, Mode::Command);
    assert_eq!(s.command.input, "filter status=open priority>=high ");
}

#[test]
fn sort_key_and_command_reload_and_the_order_matches_the_server() {
    let mut s = with_tickets();
    let fx = press(&mut s, "o");
    assert_eq!(s.tickets.query.sort, TicketSort::Newest);
    assert_eq!(tickets_of(&fx).len(), 1);
    run_cmd(&mut s, "sort due");
    assert_eq!(s.tickets.query.sort, TicketSort::Due);
    run_cmd(&mut s, "sort sideways");
    assert!(s.flash.as_ref().unwrap().text.contains("Usage: :sort"));
    let a = ticket(1, "a", TicketStatus::Open, TicketPriority::Low);
    let mut b = ticket(2, "b", TicketStatus::Open, TicketPriority::Urgent);
    let mut c = ticket(3, "c", TicketStatus::Open, TicketPriority::Medium);
    b.due_at = Some(T0 + Duration::hours(5));
    c.due_at = Some(T0 + Duration::hours(1));
    let order = |sort| {
        let mut v = [a.clone(), b.clone(), c.clone()];
        v.sort_by(|x, y| compare(sort, x, y));
        v.iter().map(|t| t.number).collect::<Vec<_>>()
    };
    assert_eq!(
        order(TicketSort::Due),
        [3, 2, 1],
        "soonest first, no date last"
    );
    assert_eq!(order(TicketSort::Priority), [2, 3, 1]);
    assert_eq!(order(TicketSort::Newest), [3, 2, 1]);
    assert_eq!(order(TicketSort::Oldest), [1, 2, 3]);
    assert_eq!(order(TicketSort::Updated), [3, 2, 1]);
}

#[test]
fn pages_turn_within_the_total() {
    let mut s = with_tickets();
    assert_eq!(s.tickets.pages(), 3);
    let fx = press(&mut s, "]");
    assert_eq!(s.tickets.query.page, 2);
    assert_eq!(tickets_of(&fx).len(), 1);
    press(&mut s, "]");
    let fx = press(&mut s, "]");
    assert!(tickets_of(&fx).is_empty());
    assert_eq!(
        s.flash.as_ref().unwrap().text,
        "This is the last page (3 of 3)"
    );
    run_cmd(&mut s, "page 1");
    assert_eq!(s.tickets.query.page, 1);
    run_cmd(&mut s, "page 9");
    assert!(s.flash.as_ref().unwrap().text.contains("Usage: :page 1…3"));
}

#[test]
fn pushes_add_matching_tickets_drop_ones_that_stop_matching_and_mark_unread() {
    let mut s = with_tickets();
    run_cmd(&mut s, "filter status=open,pending");
    let g = s.tickets.generation;
    let page: Vec<Ticket> = s
        .tickets
        .list
        .iter()
        .filter_map(|id| s.tickets.tickets.get(id).cloned())
        .filter(|t| matches!(t.status, TicketStatus::Open | TicketStatus::Pending))
        .collect();
    net(
        &mut s,
        NetEvent::Tickets(TicketReply::Listed {
            generation: g,
            page: Page {
                total: page.len() as i64,
                items: page,
                page: 1,
                per_page: 20,
            },
        }),
    );
    assert_eq!(s.tickets.list, ["t1005", "t1004", "t1003"]);
    let mut new = ticket(
        1006,
        "Screen flickers",
        TicketStatus::Open,
        TicketPriority::Medium,
    );
    new.updated_at = T0;
    net(
        &mut s,
        NetEvent::Push(ServerEvent::TicketCreated(TicketEvent {
            event_id: 101,
            ticket: new,
        })),
    );
    assert_eq!(s.tickets.list[0], "t1006");
    assert_eq!(s.tickets.total, 4);
    assert!(s.tickets.unread.contains("t1006"));
    assert_eq!(s.conn.last_event_id, 101);
    // Resolved: no longer open or pending, so it leaves this list.
    let mut done = s.tickets.tickets["t1004"].clone();
    done.status = TicketStatus::Resolved;
    net(
        &mut s,
        NetEvent::Push(ServerEvent::TicketUpdated(TicketEvent {
            event_id: 102,
            ticket: done,
        })),
    );
    assert_eq!(s.tickets.list, ["t1006", "t1005", "t1003"]);
    // A customer's answer moves the ticket up and marks it unread.
    let mut e = entry(
        "t1003",
        9,
        EntryKind::Reply,
        AuthorKind::Customer,
        "Still broken",
    );
    e.created_at = T0 + Duration::minutes(1);
    net(
        &mut s,
        NetEvent::Push(ServerEvent::TicketEntry(TicketEntryEvent {
            event_id: 103,
            entry: e,
        })),
    );
    assert_eq!(s.tickets.list[0], "t1003");
    assert!(s.tickets.unread.contains("t1003"));
    // The tab counts unread tickets; opening one reads it.
    assert_eq!(
        crate::views::get(ViewId::Tickets).unwrap().badge(&s),
        Some(2)
    );
    press(&mut s, "g g enter");
    assert!(!s.tickets.unread.contains("t1003"));
    // A merged ticket leaves default lists.
    let mut merged = s.tickets.tickets["t1005"].clone();
    merged.merged_into = Some("t1003".into());
    assert!(!matches(&s.tickets.query.filter, &merged, Some("me")));
}

#[test]
fn opening_a_ticket_loads_its_timeline_and_customer_and_entries_arrive_live() {
    let mut s = with_tickets();
    let fx = press(&mut s, "enter");
    assert_eq!(s.tickets.open.as_deref(), Some("t1005"));
    assert_eq!(s.tickets.focus, TicketPane::Detail);
    let cmds = tickets_of(&fx);
    assert!(
        cmds.contains(&TicketCmd::LoadEntries("t1005".into())),
        "{cmds:?}"
    );
    assert!(cmds.contains(&TicketCmd::Load("t1005".into())));
    assert!(cmds.contains(&TicketCmd::LoadCustomer("cu1005".into())));
    let mut s = with_open_ticket();
    assert_eq!(s.tickets.open_entries().len(), 5);
    assert_eq!(s.tickets.cursor, 4);
    net(
        &mut s,
        NetEvent::Push(ServerEvent::TicketEntry(TicketEntryEvent {
            event_id: 120,
            entry: entry(
                "t1005",
                6,
                EntryKind::Reply,
                AuthorKind::Customer,
                "Video attached",
            ),
        })),
    );
    assert_eq!(s.tickets.open_entries().len(), 6);
    assert_eq!(s.tickets.cursor, 5, "the cursor follows the newest");
    assert!(!s.tickets.unread.contains("t1005"), "read while open");
}

#[test]
fn space_marks_entries_and_split_moves_them_to_a_new_ticket() {
    let mut s = with_open_ticket();
    let fx = run_cmd(&mut s, "split Remote issue");
    assert!(acts(&fx).is_empty());
    assert!(s.flash.as_ref().unwrap().text.contains("Mark the entries"));
    // The cursor is on the newest entry (#5); the event line (#2) cannot be marked.
    press(&mut s, "␣");
    press(&mut s, "k k k ␣");
    assert!(s.flash.as_ref().unwrap().text.contains("Event lines stay"));
    press(&mut s, "k ␣");
    assert_eq!(
        s.tickets.marked.iter().cloned().collect::<Vec<_>>(),
        ["t1005-e1", "t1005-e5"]
    );
    // Space again unmarks.
    press(&mut s, "␣");
    press(&mut s, "␣");
    let fx = run_cmd(&mut s, "split Remote is flaky");
    let a = acts(&fx);
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].0, TicketOp::Split);
    assert_eq!(a[0].1, "t1005");
    assert_eq!(
        a[0].2,
        json!({"entry_ids": ["t1005-e1", "t1005-e5"], "subject": "Remote is flaky"})
    );
    let mut new = ticket(
        1007,
        "Remote is flaky",
        TicketStatus::Open,
        TicketPriority::Medium,
    );
    new.links = vec![shared::ticket::TicketLink {
        ticket_id: "t1005".into(),
        kind: shared::ticket::LinkKind::SplitFrom,
    }];
    let fx = net(
        &mut s,
        NetEvent::Tickets(TicketReply::Done {
            op: TicketOp::Split,
            ticket: new,
        }),
    );
    assert!(s.tickets.marked.is_empty());
    assert_eq!(s.tickets.open.as_deref(), Some("t1007"));
    assert!(tickets_of(&fx).contains(&TicketCmd::LoadEntries("t1007".into())));
}

#[test]
fn reply_and_note_are_sent_with_a_client_msg_id_and_land_in_the_timeline() {
    let mut s = with_open_ticket();
    press(&mut s, "r");
    assert_eq!(s.mode, Mode::Insert);
    type_text(&mut s, "Please try firmware 2.3.2");
    let fx = press(&mut s, "ctrl-s");
    let cmds = tickets_of(&fx);
    let [
        TicketCmd::Post {
            ticket_id,
            kind,
            body,
            client_msg_id,
        },
    ] = cmds.as_slice()
    else {
        panic!("{cmds:?}")
    };
    assert_eq!(
        (ticket_id.as_str(), *kind, body.as_str()),
        ("t1005", EntryKind::Reply, "Please try firmware 2.3.2")
    );
    assert!(s.tickets.composer.is_empty());
    assert_eq!(s.tickets.pending.len(), 1);
    let mut e = entry("t1005", 6, EntryKind::Reply, AuthorKind::Agent, body);
    e.client_msg_id = client_msg_id.clone();
    e.author.id = "me".into();
    net(
        &mut s,
        NetEvent::Tickets(TicketReply::Posted {
            client_msg_id: client_msg_id.clone(),
            entry: e,
        }),
    );
    assert!(s.tickets.pending.is_empty());
    assert_eq!(s.tickets.open_entries().len(), 6);
    // Ctrl+N turns the composer into an internal note.
    press(&mut s, "ctrl-n");
    type_text(&mut s, "escalate if 2.3.2 fails");
    let fx = press(&mut s, "ctrl-s");
    assert!(matches!(
        tickets_of(&fx).as_slice(),
        [TicketCmd::Post {
            kind: EntryKind::Note,
            ..
        }]
    ));
    // A refused send keeps the text on screen with the reason.
    let id = s.tickets.pending[0].client_msg_id.clone();
    net(
        &mut s,
        NetEvent::Tickets(TicketReply::PostFailed {
            client_msg_id: id,
            error: "ticket is closed".into(),
        }),
    );
    assert_eq!(
        s.tickets.pending[0].failed.as_deref(),
        Some("ticket is closed")
    );
    // An empty composer sends nothing.
    let fx = press(&mut s, "ctrl-s");
    assert!(tickets_of(&fx).is_empty());
}

#[test]
fn commands_change_the_ticket_through_the_right_route_and_refuse_bad_input() {
    let mut s = with_open_ticket();
    let one = |s: &mut State, line: &str| {
        let a = acts(&run_cmd(s, line));
        assert_eq!(a.len(), 1, "{line}: {:?}", s.flash);
        (a[0].0, a[0].2.clone())
    };
    assert_eq!(
        one(&mut s, "status pending"),
        (TicketOp::Update, json!({"status": "pending"}))
    );
    assert_eq!(
        one(&mut s, "priority urgent"),
        (TicketOp::Update, json!({"priority": "urgent"}))
    );
    assert_eq!(
        one(&mut s, "assign sam"),
        (TicketOp::Update, json!({"assignee_id": "a2"}))
    );
    assert_eq!(
        one(&mut s, "assign none"),
        (TicketOp::Update, json!({"assignee_id": null}))
    );
    assert_eq!(
        one(&mut s, "dept billing"),
        (TicketOp::Update, json!({"department_id": "d2"}))
    );
    assert_eq!(
        one(&mut s, "due +2d"),
        (TicketOp::Update, json!({"due_at": "2026-03-14T15:00:00Z"}))
    );
    assert_eq!(
        one(&mut s, "due 2026-03-20"),
        (TicketOp::Update, json!({"due_at": "2026-03-20T17:00:00Z"}))
    );
    assert_eq!(
        one(&mut s, "due none"),
        (TicketOp::Update, json!({"due_at": null}))
    );
    assert_eq!(
        one(&mut s, "tag +vip -old firmware"),
        (
            TicketOp::Update,
            json!({"add_tags": ["vip", "firmware"], "remove_tags": ["old"]})
        )
    );
    assert_eq!(
        one(&mut s, "merge #1003"),
        (TicketOp::Merge, json!({"into": "t1003"}))
    );
    assert_eq!(
        one(&mut s, "link #1002"),
        (
            TicketOp::Link,
            json!({"ticket_id": "t1002", "kind": "related"})
        )
    );
    assert_eq!(one(&mut s, "clone"), (TicketOp::Clone, json!({})));
    assert_eq!(
        one(&mut s, "escalate billing -- customer threatens chargeback"),
        (
            TicketOp::Escalate,
            json!({"to_department_id": "d2", "note": "customer threatens chargeback"})
        )
    );
    assert_eq!(
        one(&mut s, "spam block"),
        (
            TicketOp::Spam,
            json!({"spam": true, "block_customer": true})
        )
    );
    assert_eq!(
        one(&mut s, "close Replaced the fan under warranty"),
        (
            TicketOp::Close,
            json!({"resolution": "Replaced the fan under warranty"})
        )
    );
    assert_eq!(one(&mut s, "reopen"), (TicketOp::Reopen, json!({})));
    // Refusals say why and send nothing.
    for (line, why) in [
        ("status later", "unknown ticket status"),
        ("status closed", "Closing needs a resolution"),
        ("priority extreme", "unknown priority"),
        ("assign nobody-here", "No agent named"),
        ("dept Sales", "No department named \"Sales\""),
        ("due someday", "is not a due date"),
        ("due +0d", "out of range"),
        ("tag", "Usage: :tag"),
        ("merge #1005", "cannot be merged into itself"),
        ("merge #9999", "#9999 is not loaded"),
        ("link nine", "is not a ticket number"),
        ("close", "Usage: :close"),
        ("spam maybe", "Usage: :spam"),
        ("ticket new not-an-email Broken lamp", "email"),
    ] {
        let fx = run_cmd(&mut s, line);
        assert!(acts(&fx).is_empty(), "{line}");
        let text = &s.flash.as_ref().unwrap().text;
        assert!(text.contains(why), "{line}: {text}");
    }
    // The merge picker searches the other tickets.
    press(&mut s, "M");
    assert_eq!(s.mode, Mode::Picker);
    type_text(&mut s, "remote");
    let fx = press(&mut s, "enter");
    assert_eq!(
        acts(&fx),
        [(
            TicketOp::Merge,
            "t1005".to_owned(),
            json!({"into": "t1003"})
        )]
    );
}

#[test]
fn new_ticket_and_a_chat_turned_into_a_ticket() {
    let mut s = with_tickets();
    let fx = run_cmd(
        &mut s,
        "ticket new kenji@example.com Lamp flickers after 10 minutes",
    );
    let a = acts(&fx);
    assert_eq!(a[0].0, TicketOp::Create);
    assert_eq!(a[0].2["customer_email"], "kenji@example.com");
    assert_eq!(a[0].2["subject"], "Lamp flickers after 10 minutes");
    assert_eq!(a[0].2["body"], "Lamp flickers after 10 minutes");
    let new = ticket(
        1010,
        "Lamp flickers after 10 minutes",
        TicketStatus::Open,
        TicketPriority::Medium,
    );
    net(
        &mut s,
        NetEvent::Tickets(TicketReply::Done {
            op: TicketOp::Create,
            ticket: new,
        }),
    );
    assert_eq!(s.tickets.open.as_deref(), Some("t1010"));
    assert_eq!(s.tickets.list[0], "t1010");
    assert_eq!(s.flash.as_ref().unwrap().text, "Created #1010");
    // From a chat: `:ticket` in the Chats view.
    let mut s = three_chats();
    s.chats.queue.selected = Some("c3".into());
    let fx = run_cmd(&mut s, "ticket Charged twice");
    assert_eq!(
        tickets_of(&fx),
        [TicketCmd::FromChat {
            chat_id: "c3".into(),
            subject: Some("Charged twice".into())
        }]
    );
    let mut t = ticket(
        1011,
        "Charged twice",
        TicketStatus::Open,
        TicketPriority::Medium,
    );
    t.chat_id = Some("c3".into());
    t.source = TicketSource::Chat;
    net(
        &mut s,
        NetEvent::Tickets(TicketReply::Done {
            op: TicketOp::FromChat,
            ticket: t,
        }),
    );
    assert_eq!(s.view, ViewId::Tickets);
    assert_eq!(s.tickets.open.as_deref(), Some("t1011"));
    // Once the chat points at its ticket, `:ticket` opens that one again.
    let mut c = s.chats.entries["c3"].chat.clone();
    c.ticket_id = Some("t1011".into());
    net(&mut s, NetEvent::Chats(ChatReply::Loaded(c)));
    press(&mut s, "g c");
    s.tickets.open = None;
    let fx = run_cmd(&mut s, "ticket");
    assert!(
        !tickets_of(&fx)
            .iter()
            .any(|c| matches!(c, TicketCmd::FromChat { .. }))
    );
    assert_eq!(s.view, ViewId::Tickets);
    assert_eq!(s.tickets.open.as_deref(), Some("t1011"));
}

#[test]
fn search_narrows_the_page_while_typing_and_asks_the_server_on_enter() {
    let mut s = with_tickets();
    press(&mut s, "/");
    assert_eq!(s.mode, Mode::Search);
    type_text(&mut s, "kenji");
    assert_eq!(s.tickets.rows().len(), 1);
    let fx = press(&mut s, "enter");
    let cmds = tickets_of(&fx);
    let [TicketCmd::List { query, .. }] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    assert_eq!(query.search, "kenji");
    press(&mut s, "/");
    type_text(&mut s, "#1003");
    assert_eq!(s.tickets.rows()[0].number, 1003);
    press(&mut s, "esc");
    assert_eq!(s.tickets.rows().len(), 5);
}

#[test]
fn customer_fields_and_notes_are_edited_through_their_routes() {
    let mut s = with_open_ticket();
    let fx = run_cmd(&mut s, "customer phone +44 20 7946 0958");
    assert_eq!(
        tickets_of(&fx),
        [TicketCmd::UpdateCustomer {
            customer_id: "cu1005".into(),
            patch: json!({"phone": "+44 20 7946 0958"})
        }]
    );
    let fx = run_cmd(&mut s, "customer field plan=Pro yearly");
    assert!(
        matches!(&tickets_of(&fx)[0], TicketCmd::UpdateCustomer { patch, .. } if patch == &json!({"custom_fields": {"plan": "Pro yearly"}}))
    );
    let fx = run_cmd(&mut s, "customer email nope");
    assert!(tickets_of(&fx).is_empty());
    let fx = run_cmd(&mut s, "cnote Prefers email over phone");
    assert_eq!(
        tickets_of(&fx),
        [TicketCmd::AddCustomerNote {
            customer_id: "cu1005".into(),
            body: "Prefers email over phone".into()
        }]
    );
    let mut c = s.tickets.tickets["t1005"].customer.clone();
    c.phone = Some("+44 20 7946 0958".into());
    net(&mut s, NetEvent::Tickets(TicketReply::CustomerSaved(c)));
    assert_eq!(
        s.tickets.tickets["t1005"].customer.phone.as_deref(),
        Some("+44 20 7946 0958")
    );
}

#[test]
fn the_chats_customer_pane_loads_the_customers_tickets_and_edits_the_customer() {
    let mut s = three_chats();
    s.chats.focus = Pane::Queue;
    s.chats.queue.selected = Some("c3".into());
    let fx = press(&mut s, "enter");
    assert!(
        tickets_of(&fx).contains(&TicketCmd::LoadCustomer("cu-c3".into())),
        "{fx:?}"
    );
    let fx = run_cmd(&mut s, "customer location Leeds, UK");
    assert_eq!(
        tickets_of(&fx),
        [TicketCmd::UpdateCustomer {
            customer_id: "cu-c3".into(),
            patch: json!({"location": "Leeds, UK"})
        }]
    );
    let fx = run_cmd(&mut s, "cnote Calls back after 18:00");
    assert_eq!(
        tickets_of(&fx),
        [TicketCmd::AddCustomerNote {
            customer_id: "cu-c3".into(),
            body: "Calls back after 18:00".into()
        }]
    );
}

#[test]
fn reply_and_note_commands_send_at_once_or_open_the_composer() {
    let mut s = with_open_ticket();
    let fx = run_cmd(&mut s, "note Lab confirmed the fan curve bug");
    assert!(matches!(
        tickets_of(&fx).as_slice(),
        [TicketCmd::Post { kind: EntryKind::Note, body, .. }] if body == "Lab confirmed the fan curve bug"
    ));
    assert_eq!(s.mode, Mode::Normal);
    run_cmd(&mut s, "reply");
    assert_eq!(s.mode, Mode::Insert);
    assert_eq!(s.tickets.composer.kind, ComposeKind::Reply);
}
