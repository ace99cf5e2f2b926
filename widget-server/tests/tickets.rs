//! Tickets over REST and Socket.IO on a real server: every action, its refusals and
//! who may do it (visitor, agent in and out of the department, supervisor, admin),
//! merge and split invariants, pushes and `sync`, bad input, replayed client_msg_id.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Answer, Rest, TestServer, Visitor, new_id};
use serde_json::{Value, json};

const SECRET: &str = "internal: this customer is a reseller";

async fn patch(rest: &Rest, token: &str, path: &str, body: &Value) -> Answer {
    rest.send(
        rest.http
            .patch(rest.url(path))
            .bearer_auth(token)
            .json(body),
    )
    .await
}

async fn delete(rest: &Rest, token: &str, path: &str) -> Answer {
    rest.send(rest.http.delete(rest.url(path)).bearer_auth(token))
        .await
}

async fn visitor_post(rest: &Rest, visitor_token: &str, path: &str, body: &Value) -> Answer {
    rest.send(
        rest.http
            .post(rest.url(path))
            .header("X-Visitor-Token", visitor_token)
            .json(body),
    )
    .await
}

/// Creates a ticket as `token`; asserts 201 and returns it.
async fn create(rest: &Rest, token: &str, body: Value) -> Value {
    let a = rest.post(Some(token), "/tickets", &body).await;
    assert_eq!(a.status, 201, "create ticket: {}", a.body);
    a.body
}

async fn entries(rest: &Rest, token: &str, id: &str) -> Vec<Value> {
    let a = rest
        .get(Some(token), &format!("/tickets/{id}/entries?limit=500"))
        .await;
    assert_eq!(a.status, 200, "entries of {id}: {}", a.body);
    a.body["items"].as_array().unwrap().clone()
}

async fn entry(rest: &Rest, token: &str, id: &str, kind: &str, body: &str) -> Value {
    let a = rest
        .post(
            Some(token),
            &format!("/tickets/{id}/entries"),
            &json!({"kind": kind, "body": body, "client_msg_id": new_id()}),
        )
        .await;
    assert_eq!(a.status, 201, "entry on {id}: {}", a.body);
    a.body
}

fn bodies(entries: &[Value]) -> Vec<String> {
    entries
        .iter()
        .map(|e| e["body"].as_str().unwrap().to_owned())
        .collect()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_creates_changes_closes_and_reopens_a_ticket() {
    let server = TestServer::start().await;
    let rest = &server.rest;
    let team = server.team.clone();
    let alice = server.login("alice@example.com").await;
    let t = create(
        rest,
        &alice,
        json!({"subject": "Printer on fire", "body": "It smokes since Monday",
               "customer_email": "Vera@Example.com", "customer_name": "Vera",
               "priority": "low", "tags": ["hardware", "Hardware"]}),
    )
    .await;
    assert_eq!(t["number"], 1001, "numbers start at 1001");
    assert_eq!(t["status"], "open");
    assert_eq!(t["priority"], "low");
    assert_eq!(t["tags"], json!(["hardware"]));
    assert_eq!(t["department_id"], team.sales.id.as_str());
    assert_eq!(t["customer"]["email"], "vera@example.com");
    assert_eq!(t["source"], "agent");
    let tid = id(&t);
    let first = entries(rest, &alice, &tid).await;
    assert_eq!(first[0]["kind"], "reply");
    assert_eq!(
        first[0]["author"]["kind"], "customer",
        "on behalf of the customer"
    );
    assert_eq!(first[1]["kind"], "event");
    assert!(first[1]["body"].as_str().unwrap().contains("Alice Agent"));

    // The same customer by email is found, not created again; the number moves on.
    let t2 = create(
        rest,
        &alice,
        json!({"subject": "Second", "body": "Again", "customer_email": "vera@example.com"}),
    )
    .await;
    assert_eq!(t2["number"], 1002);
    assert_eq!(t2["customer"]["id"], t["customer"]["id"]);

    let a = patch(
        rest,
        &alice,
        &format!("/tickets/{tid}"),
        &json!({"status": "pending", "priority": "high", "assignee_id": team.bob.id,
                "add_tags": ["vip"], "due_at": "2030-01-31T12:00:00Z"}),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["status"], "pending");
    assert_eq!(a.body["priority"], "high");
    assert_eq!(a.body["assignee_id"], team.bob.id.as_str());
    assert_eq!(a.body["tags"], json!(["hardware", "vip"]));
    assert_eq!(a.body["due_at"], "2030-01-31T12:00:00Z");
    let lines: Vec<String> = entries(rest, &alice, &tid)
        .await
        .into_iter()
        .filter(|e| e["kind"] == "event")
        .map(|e| e["body"].as_str().unwrap().to_owned())
        .collect();
    for want in [
        "Status: open → pending",
        "Priority: low → high",
        "Assignee: Bob Agent",
        "Tags: hardware, vip",
        "Due date: none → 2030-01-31T12:00:00Z",
    ] {
        assert!(lines.iter().any(|l| l == want), "{want:?} in {lines:?}");
    }
    // Null clears.
    let a = patch(
        rest,
        &alice,
        &format!("/tickets/{tid}"),
        &json!({"due_at": null}),
    )
    .await;
    assert_eq!(a.body["due_at"], Value::Null, "{}", a.body);

    // Closing needs a resolution; a closed ticket only reopens.
    patch(
        rest,
        &alice,
        &format!("/tickets/{tid}"),
        &json!({"status": "closed"}),
    )
    .await
    .assert_error(422, "invalid");
    let c = rest
        .post(
            Some(&alice),
            &format!("/tickets/{tid}/close"),
            &json!({"resolution": "Replaced the fuser"}),
        )
        .await;
    assert_eq!(c.status, 200, "{}", c.body);
    assert_eq!(c.body["status"], "closed");
    assert_eq!(c.body["resolution"], "Replaced the fuser");
    rest.post(
        Some(&alice),
        &format!("/tickets/{tid}/close"),
        &json!({"resolution": "again"}),
    )
    .await
    .assert_error(409, "conflict");
    rest.post(
        Some(&alice),
        &format!("/tickets/{tid}/entries"),
        &json!({"kind": "reply", "body": "late", "client_msg_id": new_id()}),
    )
    .await
    .assert_error(409, "conflict");
    let r = rest
        .post(Some(&alice), &format!("/tickets/{tid}/reopen"), &json!({}))
        .await;
    assert_eq!(r.body["status"], "open", "{}", r.body);
    assert_eq!(r.body["resolution"], Value::Null);

    // Escalate: one step up (at least high), to Support, unassigned.
    let e = rest
        .post(
            Some(&alice),
            &format!("/tickets/{tid}/escalate"),
            &json!({"to_department_id": team.support.id, "note": "needs a technician"}),
        )
        .await;
    assert_eq!(e.status, 200, "{}", e.body);
    assert_eq!(e.body["priority"], "urgent");
    assert_eq!(e.body["department_id"], team.support.id.as_str());
    assert_eq!(e.body["assignee_id"], Value::Null);
    // Alice no longer works it.
    rest.get(Some(&alice), &format!("/tickets/{tid}"))
        .await
        .assert_error(403, "forbidden");

    // Export as text and JSON, notes only when asked.
    let sam = server.login("sam@example.com").await;
    let text = rest
        .get(Some(&sam), &format!("/tickets/{tid}/export"))
        .await;
    assert_eq!(text.status, 200);
    let s = text.body.as_str().unwrap();
    assert!(
        s.contains("#1001") && s.contains("It smokes since Monday"),
        "{s}"
    );
    assert!(
        !s.contains("needs a technician"),
        "no notes by default: {s}"
    );
    let js = rest
        .get(
            Some(&sam),
            &format!("/tickets/{tid}/export?format=json&notes=true"),
        )
        .await;
    assert!(js.body.to_string().contains("needs a technician"));
    rest.get(Some(&sam), &format!("/tickets/{tid}/export?format=pdf"))
        .await
        .assert_error(422, "invalid");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn who_may_see_and_work_a_ticket() {
    let server = TestServer::start().await;
    let rest = &server.rest;
    let team = server.team.clone();
    let alice = server.login("alice@example.com").await;
    let carol = server.login("carol@example.com").await;
    let sam = server.login("sam@example.com").await;
    let ada = server.login("ada@example.com").await;
    let t = create(
        rest,
        &alice,
        json!({"subject": "Sales question", "body": "How much?", "customer_email": "v@example.com"}),
    )
    .await;
    let tid = id(&t);
    // Carol (Support) neither sees nor works a Sales ticket.
    rest.get(Some(&carol), &format!("/tickets/{tid}"))
        .await
        .assert_error(403, "forbidden");
    rest.get(Some(&carol), &format!("/tickets/{tid}/entries"))
        .await
        .assert_error(403, "forbidden");
    patch(
        rest,
        &carol,
        &format!("/tickets/{tid}"),
        &json!({"priority": "urgent"}),
    )
    .await
    .assert_error(403, "forbidden");
    rest.post(
        Some(&carol),
        &format!("/tickets/{tid}/entries"),
        &json!({"kind": "note", "body": "peek", "client_msg_id": new_id()}),
    )
    .await
    .assert_error(403, "forbidden");
    for action in ["reopen", "clone"] {
        rest.post(
            Some(&carol),
            &format!("/tickets/{tid}/{action}"),
            &json!({}),
        )
        .await
        .assert_error(403, "forbidden");
    }
    let list = rest.get(Some(&carol), "/tickets").await;
    assert_eq!(list.body["total"], 0, "{}", list.body);
    // Carol may not create in Sales either.
    rest.post(
        Some(&carol),
        "/tickets",
        &json!({"subject": "x", "body": "y", "customer_email": "v@example.com",
                "department_id": team.sales.id}),
    )
    .await
    .assert_error(403, "forbidden");
    // Supervisor and admin see and work everything.
    for token in [&sam, &ada] {
        assert_eq!(
            rest.get(Some(token), &format!("/tickets/{tid}"))
                .await
                .status,
            200
        );
        assert_eq!(rest.get(Some(token), "/tickets").await.body["total"], 1);
    }
    // Assigned to Carol by a supervisor (she does not work Sales: refused), then to Bob.
    patch(
        rest,
        &sam,
        &format!("/tickets/{tid}"),
        &json!({"assignee_id": team.carol.id}),
    )
    .await
    .assert_error(422, "invalid");
    let a = patch(
        rest,
        &sam,
        &format!("/tickets/{tid}"),
        &json!({"assignee_id": team.bob.id}),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    // Alice, not the holder, cannot hand Bob's ticket to someone else.
    let sam_id = team.sam.id.clone();
    patch(
        rest,
        &alice,
        &format!("/tickets/{tid}"),
        &json!({"assignee_id": sam_id}),
    )
    .await
    .assert_error(403, "forbidden");
    // assignee=me / none filters.
    let bob = server.login("bob@example.com").await;
    assert_eq!(
        rest.get(Some(&bob), "/tickets?assignee=me").await.body["total"],
        1
    );
    assert_eq!(
        rest.get(Some(&bob), "/tickets?assignee=none").await.body["total"],
        0
    );
    // No token, no tickets.
    rest.get(None, "/tickets")
        .await
        .assert_error(401, "unauthorized");
    // An unknown ticket is 404.
    rest.get(Some(&sam), "/tickets/nope")
        .await
        .assert_error(404, "not_found");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_reach_the_visitor_numbered_without_notes() {
    let server = TestServer::start().await;
    let rest = &server.rest;
    let alice = server.login("alice@example.com").await;
    // A visitor is on record from their first chat.
    let mut visitor = Visitor::connect(&server.base, json!({})).await;
    visitor
        .start("Hello, a question about my order", None)
        .await;
    let t = create(
        rest,
        &alice,
        json!({"subject": "Your order", "body": "We looked into your order",
               "customer_id": visitor.customer_id}),
    )
    .await;
    let tid = id(&t);
    let first = entries(rest, &alice, &tid).await;
    assert_eq!(first[0]["author"]["kind"], "agent", "written by the agent");
    visitor
        .sock
        .expect_where("ticket:entry", |v| {
            v["entry"]["body"] == "We looked into your order"
        })
        .await;
    entry(rest, &alice, &tid, "note", SECRET).await;
    entry(rest, &alice, &tid, "reply", "It ships tomorrow").await;
    let pushed = visitor
        .sock
        .expect_where("ticket:entry", |v| {
            v["entry"]["body"] == "It ships tomorrow"
        })
        .await;
    assert_eq!(
        pushed["entry"]["seq"], 2,
        "numbered among what the visitor sees"
    );
    // The visitor's own view.
    let mine = rest.visitor_get(&visitor.token, "/visitor/tickets").await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    assert_eq!(mine.body["items"][0]["id"], tid.as_str());
    assert_eq!(mine.body["items"][0]["entry_count"], 2);
    let seen = rest
        .visitor_get(&visitor.token, &format!("/visitor/tickets/{tid}/entries"))
        .await;
    let items = seen.body["items"].as_array().unwrap();
    assert_eq!(
        bodies(items),
        ["We looked into your order", "It ships tomorrow"]
    );
    let seqs: Vec<i64> = items.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, [1, 2]);
    // The visitor answers a resolved ticket: it reopens.
    patch(
        rest,
        &alice,
        &format!("/tickets/{tid}"),
        &json!({"status": "resolved"}),
    )
    .await;
    let cmid = new_id();
    let ans = visitor_post(
        rest,
        &visitor.token,
        &format!("/visitor/tickets/{tid}/entries"),
        &json!({"body": "Thanks! One more thing", "client_msg_id": cmid}),
    )
    .await;
    assert_eq!(ans.status, 201, "{}", ans.body);
    assert_eq!(ans.body["seq"], 3);
    let again = visitor_post(
        rest,
        &visitor.token,
        &format!("/visitor/tickets/{tid}/entries"),
        &json!({"body": "Thanks! One more thing", "client_msg_id": cmid}),
    )
    .await;
    assert_eq!(again.status, 200, "a replay answers the stored entry");
    assert_eq!(again.body["id"], ans.body["id"]);
    let now = rest.get(Some(&alice), &format!("/tickets/{tid}")).await;
    assert_eq!(now.body["status"], "open");
    // Nothing the visitor received carries the note.
    for (_, v) in visitor.sock.log() {
        assert!(!v.to_string().contains(SECRET), "note leaked: {v}");
    }
    let sync = visitor.sock.ok("sync", json!({"since_event_id": 0})).await;
    assert!(!sync.to_string().contains(SECRET));
    assert!(sync.to_string().contains("It ships tomorrow"), "{sync}");
    // Another visitor sees nothing of it.
    let other = Visitor::connect(&server.base, json!({})).await;
    rest.visitor_get(&other.token, &format!("/visitor/tickets/{tid}/entries"))
        .await
        .assert_error(404, "not_found");
    visitor_post(
        rest,
        &other.token,
        &format!("/visitor/tickets/{tid}/entries"),
        &json!({"body": "hijack", "client_msg_id": new_id()}),
    )
    .await
    .assert_error(404, "not_found");
    assert_eq!(
        rest.visitor_get(&other.token, "/visitor/tickets")
            .await
            .body["items"],
        json!([])
    );
    rest.visitor_get("bogus", "/visitor/tickets")
        .await
        .assert_error(401, "unauthorized");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_leaves_a_message_as_a_ticket() {
    let server = TestServer::start().await;
    let rest = &server.rest;
    let visitor = Visitor::connect(&server.base, json!({})).await;
    let (_, alice) = server.agent_as("alice@example.com").await;
    let body = json!({"body": "Call me back please\nabout invoice 7", "email": "v@example.com",
                      "name": "Vera", "client_msg_id": "leave-1"});
    let a = visitor_post(rest, &visitor.token, "/visitor/tickets", &body).await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.body["source"], "widget");
    assert_eq!(a.body["subject"], "Call me back please");
    assert_eq!(a.body["tags"], json!([]));
    let again = visitor_post(rest, &visitor.token, "/visitor/tickets", &body).await;
    assert_eq!(
        again.body["id"], a.body["id"],
        "a replay makes no second ticket"
    );
    let created = alice
        .expect_where("ticket:created", |v| v["ticket"]["id"] == a.body["id"])
        .await;
    assert_eq!(created["ticket"]["customer"]["name"], "Vera");
    visitor_post(
        rest,
        &visitor.token,
        "/visitor/tickets",
        &json!({"body": "x", "email": "not-an-email", "client_msg_id": "leave-2"}),
    )
    .await
    .assert_error(422, "invalid");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_moves_every_entry_once_and_keeps_notes_from_the_visitor() {
    let server = TestServer::start().await;
    let rest = &server.rest;
    let alice = server.login("alice@example.com").await;
    let carol = server.login("carol@example.com").await;
    let mut visitor = Visitor::connect(&server.base, json!({})).await;
    visitor
        .start("Hello, a question about my order", None)
        .await;
    let cid = visitor.customer_id.clone();
    let src = create(
        rest,
        &alice,
        json!({"subject": "Dup", "body": "first ask", "customer_id": cid}),
    )
    .await;
    let dst = create(
        rest,
        &alice,
        json!({"subject": "Main", "body": "main ask", "customer_id": cid}),
    )
    .await;
    let (sid, did) = (id(&src), id(&dst));
    entry(rest, &alice, &sid, "note", SECRET).await;
    entry(rest, &alice, &sid, "reply", "answer on the duplicate").await;
    entry(rest, &alice, &did, "reply", "answer on the main").await;
    let src_before = entries(rest, &alice, &sid).await;
    let dst_before = entries(rest, &alice, &did).await;

    // Refusals: into itself, by an outsider, into an unknown ticket.
    rest.post(
        Some(&alice),
        &format!("/tickets/{sid}/merge"),
        &json!({"into": sid}),
    )
    .await
    .assert_error(422, "invalid");
    rest.post(
        Some(&carol),
        &format!("/tickets/{sid}/merge"),
        &json!({"into": did}),
    )
    .await
    .assert_error(403, "forbidden");
    rest.post(
        Some(&alice),
        &format!("/tickets/{sid}/merge"),
        &json!({"into": "nope"}),
    )
    .await
    .assert_error(422, "invalid");

    let m = rest
        .post(
            Some(&alice),
            &format!("/tickets/{sid}/merge"),
            &json!({"into": did}),
        )
        .await;
    assert_eq!(m.status, 200, "{}", m.body);
    assert_eq!(m.body["id"], did.as_str(), "answers the target");
    let source = rest.get(Some(&alice), &format!("/tickets/{sid}")).await;
    assert_eq!(source.body["merged_into"], did.as_str());
    let after = entries(rest, &alice, &did).await;
    // Every source entry is in the target once, after the target's own, plus one line.
    let moved: Vec<&Value> = after
        .iter()
        .filter(|e| src_before.iter().any(|s| s["id"] == e["id"]))
        .collect();
    assert_eq!(moved.len(), src_before.len());
    assert_eq!(after.len(), dst_before.len() + src_before.len() + 1);
    let mut ids: Vec<&str> = after.iter().map(|e| e["id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), after.len(), "no duplicates");
    let seqs: Vec<i64> = after.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=after.len() as i64).collect::<Vec<_>>());
    assert!(
        after.last().unwrap()["body"]
            .as_str()
            .unwrap()
            .starts_with("Merged #1001")
    );
    // The source keeps only its pointer line; nothing more goes into it.
    let left = entries(rest, &alice, &sid).await;
    assert_eq!(left.len(), 1, "{left:?}");
    rest.post(
        Some(&alice),
        &format!("/tickets/{sid}/entries"),
        &json!({"kind": "note", "body": "x", "client_msg_id": new_id()}),
    )
    .await
    .assert_error(409, "conflict");
    // Merging into a merged ticket is refused.
    let third = create(
        rest,
        &alice,
        json!({"subject": "Third", "body": "t", "customer_id": cid}),
    )
    .await;
    rest.post(
        Some(&alice),
        &format!("/tickets/{}/merge", id(&third)),
        &json!({"into": sid}),
    )
    .await
    .assert_error(409, "conflict");
    // The default list hides the merged source.
    let list = rest.get(Some(&alice), "/tickets").await;
    assert!(!list.body.to_string().contains(&format!("\"id\":\"{sid}\"")));
    // The visitor sees the replies of both, numbered 1..n, and never the note.
    let seen = rest
        .visitor_get(&visitor.token, &format!("/visitor/tickets/{did}/entries"))
        .await;
    let items = seen.body["items"].as_array().unwrap();
    assert!(!seen.body.to_string().contains(SECRET));
    let public: Vec<String> = bodies(items);
    for want in [
        "first ask",
        "answer on the duplicate",
        "main ask",
        "answer on the main",
    ] {
        assert!(public.contains(&want.to_owned()), "{want} in {public:?}");
    }
    let seqs: Vec<i64> = items.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=items.len() as i64).collect::<Vec<_>>());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_moves_the_chosen_entries_to_a_linked_ticket() {
    let server = TestServer::start().await;
    let rest = &server.rest;
    let alice = server.login("alice@example.com").await;
    let t = create(
        rest,
        &alice,
        json!({"subject": "Two problems", "body": "Printer and VPN", "customer_email": "v@example.com"}),
    )
    .await;
    let tid = id(&t);
    let vpn1 = entry(rest, &alice, &tid, "reply", "About the VPN: reinstall").await;
    entry(rest, &alice, &tid, "reply", "About the printer: toner").await;
    let vpn2 = entry(rest, &alice, &tid, "note", "VPN note").await;
    let before = entries(rest, &alice, &tid).await;
    let event_id = before.iter().find(|e| e["kind"] == "event").unwrap()["id"].clone();
    let path = format!("/tickets/{tid}/split");
    rest.post(
        Some(&alice),
        &path,
        &json!({"entry_ids": [], "subject": "VPN"}),
    )
    .await
    .assert_error(422, "invalid");
    rest.post(
        Some(&alice),
        &path,
        &json!({"entry_ids": [event_id], "subject": "VPN"}),
    )
    .await
    .assert_error(422, "invalid");
    rest.post(
        Some(&alice),
        &path,
        &json!({"entry_ids": [id(&vpn1)], "subject": ""}),
    )
    .await
    .assert_error(422, "invalid");
    let s = rest
        .post(
            Some(&alice),
            &path,
            &json!({"entry_ids": [id(&vpn2), id(&vpn1)], "subject": "VPN"}),
        )
        .await;
    assert_eq!(s.status, 201, "{}", s.body);
    assert_eq!(s.body["number"], 1002);
    assert_eq!(
        s.body["links"],
        json!([{"ticket_id": tid, "kind": "split_from"}])
    );
    let nid = id(&s.body);
    let new_entries = entries(rest, &alice, &nid).await;
    assert_eq!(
        bodies(&new_entries)[..2],
        ["About the VPN: reinstall".to_owned(), "VPN note".to_owned()],
        "moved in their order"
    );
    let left = entries(rest, &alice, &tid).await;
    // Two moved out, one line added.
    assert_eq!(left.len(), before.len() - 2 + 1);
    assert!(!bodies(&left).iter().any(|b| b.contains("VPN note")));
    let seqs: Vec<i64> = left.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=left.len() as i64).collect::<Vec<_>>());

    // Links: related both ways, refusals, unlink.
    let other = create(
        rest,
        &alice,
        json!({"subject": "Other", "body": "o", "customer_email": "w@example.com"}),
    )
    .await;
    let oid = id(&other);
    let l = rest
        .post(
            Some(&alice),
            &format!("/tickets/{tid}/links"),
            &json!({"ticket_id": oid, "kind": "related"}),
        )
        .await;
    assert_eq!(l.status, 200, "{}", l.body);
    assert!(l.body["links"].to_string().contains(&oid));
    let back = rest.get(Some(&alice), &format!("/tickets/{oid}")).await;
    assert!(back.body["links"].to_string().contains(&tid));
    rest.post(
        Some(&alice),
        &format!("/tickets/{tid}/links"),
        &json!({"ticket_id": tid}),
    )
    .await
    .assert_error(422, "invalid");
    rest.post(
        Some(&alice),
        &format!("/tickets/{tid}/links"),
        &json!({"ticket_id": oid, "kind": "split_from"}),
    )
    .await
    .assert_error(422, "invalid");
    let u = delete(rest, &alice, &format!("/tickets/{tid}/links/{oid}")).await;
    assert_eq!(u.status, 200, "{}", u.body);
    assert!(!u.body["links"].to_string().contains(&oid));
    delete(rest, &alice, &format!("/tickets/{tid}/links/{oid}"))
        .await
        .assert_error(404, "not_found");
    // Clone: same fields, a new number, linked.
    let c = rest
        .post(Some(&alice), &format!("/tickets/{tid}/clone"), &json!({}))
        .await;
    assert_eq!(c.status, 201, "{}", c.body);
    assert_eq!(c.body["subject"], "Two problems");
    assert_eq!(c.body["number"], 1004);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_follow_the_department_and_sync_replays_them() {
    let server = TestServer::start().await;
    let rest = &server.rest;
    let (alice_token, alice) = server.agent_as("alice@example.com").await;
    let (_, carol) = server.agent_as("carol@example.com").await;
    let (_, sam) = server.agent_as("sam@example.com").await;
    let t = create(
        rest,
        &alice_token,
        json!({"subject": "Live", "body": "hello", "customer_email": "v@example.com"}),
    )
    .await;
    let tid = id(&t);
    let created = alice
        .expect_where("ticket:created", |v| v["ticket"]["id"] == tid.as_str())
        .await;
    assert!(created["event_id"].as_i64().unwrap() > 0);
    sam.expect_where("ticket:created", |v| v["ticket"]["id"] == tid.as_str())
        .await;
    entry(rest, &alice_token, &tid, "note", SECRET).await;
    alice
        .expect_where("ticket:entry", |v| v["entry"]["body"] == SECRET)
        .await;
    patch(
        rest,
        &alice_token,
        &format!("/tickets/{tid}"),
        &json!({"priority": "urgent"}),
    )
    .await;
    alice
        .expect_where("ticket:updated", |v| v["ticket"]["priority"] == "urgent")
        .await;
    carol
        .expect_none("ticket:created", |v| v["ticket"]["id"] == tid.as_str())
        .await;
    assert!(
        !carol.log().iter().any(|(n, _)| n.starts_with("ticket:")),
        "Carol is outside Sales: {:?}",
        carol.log_names()
    );
    // sync replays the same events to Sales and none to Carol.
    let sync = alice.ok("sync", json!({"since_event_id": 0})).await;
    let names: Vec<&str> = sync["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    for want in ["ticket:created", "ticket:updated", "ticket:entry"] {
        assert!(names.contains(&want), "{want} in {names:?}");
    }
    let cs = carol.ok("sync", json!({"since_event_id": 0})).await;
    assert!(!cs.to_string().contains("ticket:"), "{cs}");
    // Moving it to Support: Carol hears of it, Sales hears it left.
    let support = server.team.support.id.clone();
    patch(
        rest,
        &alice_token,
        &format!("/tickets/{tid}"),
        &json!({"department_id": support}),
    )
    .await;
    carol
        .expect_where("ticket:updated", |v| v["ticket"]["id"] == tid.as_str())
        .await;
    alice
        .expect_where("ticket:updated", |v| {
            v["ticket"]["department_id"] == support.as_str()
        })
        .await;
    // A mention notifies an agent who may see the ticket.
    let (_, carol2) = server.agent_as("carol@example.com").await;
    let sam_token = server.login("sam@example.com").await;
    entry(rest, &sam_token, &tid, "note", "@Carol Agent please look").await;
    carol2
        .expect_where("notification", |v| {
            v["notification"]["title"]
                .as_str()
                .unwrap_or("")
                .contains("#1001")
        })
        .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_client_msg_id_answers_the_same_entry_and_anothers_is_refused() {
    let server = TestServer::start().await;
    let rest = &server.rest;
    let alice = server.login("alice@example.com").await;
    let bob = server.login("bob@example.com").await;
    let t = create(
        rest,
        &alice,
        json!({"subject": "Idem", "body": "b", "customer_email": "v@example.com",
        "client_msg_id": "create-1"}),
    )
    .await;
    let again = rest
        .post(
            Some(&alice),
            "/tickets",
            &json!({"subject": "Idem", "body": "b",
            "customer_email": "v@example.com", "client_msg_id": "create-1"}),
        )
        .await;
    assert_eq!(
        again.body["id"], t["id"],
        "a replayed creation makes no second ticket"
    );
    let tid = id(&t);
    let path = format!("/tickets/{tid}/entries");
    let body = json!({"kind": "reply", "body": "once", "client_msg_id": "m-1"});
    let a = rest.post(Some(&alice), &path, &body).await;
    assert_eq!(a.status, 201);
    let b = rest.post(Some(&alice), &path, &body).await;
    assert_eq!(b.status, 200, "{}", b.body);
    assert_eq!(a.body["id"], b.body["id"]);
    rest.post(Some(&bob), &path, &body)
        .await
        .assert_error(409, "conflict");
    let n = entries(rest, &alice, &tid)
        .await
        .iter()
        .filter(|e| e["body"] == "once")
        .count();
    assert_eq!(n, 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_on_every_field_is_refused_and_changes_nothing() {
    let server = TestServer::start().await;
    let rest = &server.rest;
    let alice = server.login("alice@example.com").await;
    let ok = json!({"subject": "s", "body": "b", "customer_email": "v@example.com"});
    let with = |k: &str, v: Value| {
        let mut b = ok.clone();
        b[k] = v;
        b
    };
    let cases = [
        with("subject", json!("")),
        with("subject", json!("x".repeat(201))),
        with("subject", json!("two\nlines")),
        with("body", json!("   ")),
        with("customer_email", json!("nobody")),
        with("priority", json!("asap")),
        with("tags", json!(["has space"])),
        with(
            "tags",
            json!((0..21).map(|i| format!("t{i}")).collect::<Vec<_>>()),
        ),
        with("due_at", json!("tomorrow")),
        with("due_at", json!("1990-01-01T00:00:00Z")),
        with("department_id", json!("no-such-department")),
        with("assignee_id", json!("no-such-agent")),
        with("client_msg_id", json!("has space")),
        with("colour", json!("red")),
        with("customer_id", json!("someone")),
        json!({"subject": "s", "body": "b"}),
        json!([1, 2]),
    ];
    for c in &cases {
        let a = rest.post(Some(&alice), "/tickets", c).await;
        assert_eq!(a.status, 422, "{c} → {}", a.body);
        assert_eq!(a.error_code(), "invalid", "{c}");
    }
    let big = rest
        .post(
            Some(&alice),
            "/tickets",
            &with("body", json!("x".repeat(4001))),
        )
        .await;
    assert_eq!(big.error_code(), "too_large", "{}", big.body);
    assert_eq!(
        rest.get(Some(&alice), "/tickets").await.body["total"],
        0,
        "nothing was created"
    );

    let t = create(rest, &alice, ok.clone()).await;
    let tid = id(&t);
    let before = entries(rest, &alice, &tid).await.len();
    for c in [
        json!({}),
        json!({"status": "later"}),
        json!({"priority": "asap"}),
        json!({"subject": ""}),
        json!({"tags": ["a b"]}),
        json!({"tags": ["a"], "add_tags": ["b"]}),
        json!({"due_at": "soon"}),
        json!({"assignee_id": "nobody"}),
        json!({"department_id": "nowhere"}),
        json!({"resolution": "done"}),
        json!({"priorty": "high"}),
    ] {
        let a = patch(rest, &alice, &format!("/tickets/{tid}"), &c).await;
        assert_eq!(a.status, 422, "{c} → {}", a.body);
    }
    for (path, body) in [
        (
            "entries",
            json!({"kind": "event", "body": "x", "client_msg_id": "e1"}),
        ),
        (
            "entries",
            json!({"kind": "shout", "body": "x", "client_msg_id": "e2"}),
        ),
        (
            "entries",
            json!({"kind": "reply", "body": "", "client_msg_id": "e3"}),
        ),
        ("entries", json!({"kind": "reply", "body": "x"})),
        ("close", json!({"resolution": ""})),
        ("close", json!({})),
        ("spam", json!({"spam": "yes"})),
        ("links", json!({"ticket_id": tid, "kind": "cousin"})),
        ("escalate", json!({"to_department_id": "nowhere"})),
        ("escalate", json!({"to_agent_id": "nobody"})),
    ] {
        let a = rest
            .post(Some(&alice), &format!("/tickets/{tid}/{path}"), &body)
            .await;
        assert_eq!(a.status, 422, "{path} {body} → {}", a.body);
    }
    for q in [
        "status=later",
        "status=open,",
        "priority=asap",
        "priority_min=top",
        "sort=random",
        "spam=maybe",
        "page=0",
        "per_page=101",
        "tag=a%20b",
    ] {
        rest.get(Some(&alice), &format!("/tickets?{q}"))
            .await
            .assert_error(422, "invalid");
    }
    let after = rest
        .get(Some(&alice), &format!("/tickets/{tid}"))
        .await
        .body;
    assert_eq!(after["priority"], t["priority"]);
    assert_eq!(after["status"], "open");
    assert_eq!(
        entries(rest, &alice, &tid).await.len(),
        before,
        "no entry was added"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_filter_search_sort_and_page() {
    let server = TestServer::start().await;
    let rest = &server.rest;
    let alice = server.login("alice@example.com").await;
    let mk = |subject: &'static str, priority: &'static str, email: &'static str| {
        json!({"subject": subject, "body": format!("body of {subject}"), "priority": priority,
               "customer_email": email, "tags": [priority]})
    };
    let a = create(rest, &alice, mk("Alpha login", "low", "ann@example.com")).await;
    let b = create(
        rest,
        &alice,
        mk("Beta invoice", "urgent", "ben@example.com"),
    )
    .await;
    let c = create(rest, &alice, mk("Gamma login", "high", "cat@example.com")).await;
    patch(
        rest,
        &alice,
        &format!("/tickets/{}", id(&b)),
        &json!({"status": "pending"}),
    )
    .await;
    let ids = |v: &Answer| -> Vec<i64> {
        v.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["number"].as_i64().unwrap())
            .collect()
    };
    let get = |q: &'static str| {
        let alice = alice.clone();
        async move { rest.get(Some(&alice), &format!("/tickets?{q}")).await }
    };
    assert_eq!(ids(&get("sort=oldest").await), [1001, 1002, 1003]);
    assert_eq!(ids(&get("sort=newest").await), [1003, 1002, 1001]);
    assert_eq!(ids(&get("sort=priority").await), [1002, 1003, 1001]);
    assert_eq!(ids(&get("status=open&sort=oldest").await), [1001, 1003]);
    assert_eq!(
        ids(&get("status=open,pending&sort=oldest").await),
        [1001, 1002, 1003]
    );
    assert_eq!(
        ids(&get("priority_min=high&sort=oldest").await),
        [1002, 1003]
    );
    assert_eq!(ids(&get("priority=low").await), [1001]);
    assert_eq!(ids(&get("tag=urgent").await), [1002]);
    assert_eq!(ids(&get("q=login&sort=oldest").await), [1001, 1003]);
    assert_eq!(ids(&get("q=%231002").await), [1002]);
    assert_eq!(ids(&get("q=cat%40example").await), [1003]);
    assert_eq!(ids(&get("q=body%20of%20Beta").await), [1002]);
    let p = get("sort=oldest&per_page=2&page=2").await;
    assert_eq!(ids(&p), [1003]);
    assert_eq!(p.body["total"], 3);
    // Spam leaves the default list.
    rest.post(
        Some(&alice),
        &format!("/tickets/{}/spam", id(&a)),
        &json!({"spam": true, "block_customer": true}),
    )
    .await;
    assert_eq!(ids(&get("sort=oldest").await), [1002, 1003]);
    assert_eq!(ids(&get("spam=true").await), [1001]);
    assert_eq!(get("spam=any").await.body["total"], 3);
    // The spammer is blocked too.
    let who = a["customer"]["id"].as_str().unwrap();
    let profile = rest.get(Some(&alice), &format!("/customers/{who}")).await;
    assert_eq!(profile.body["blocked"], true, "{}", profile.body);
    let _ = c;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_becomes_a_ticket_with_its_transcript() {
    let server = TestServer::start().await;
    let rest = &server.rest;
    let visitor = server
        .visitor_with_chat("My parcel is lost\norder 7", None)
        .await;
    let chat_id = visitor.chat_id().to_owned();
    let (alice_token, alice) = server.agent_as("alice@example.com").await;
    alice.ok("chat:claim", json!({"chat_id": chat_id})).await;
    common::agent_say(&alice, &chat_id, "Checking with the courier", "text").await;
    common::agent_say(&alice, &chat_id, SECRET, "note").await;
    let carol = server.login("carol@example.com").await;
    rest.post(
        Some(&carol),
        &format!("/chats/{chat_id}/ticket"),
        &json!({}),
    )
    .await
    .assert_error(403, "forbidden");
    rest.post(
        Some(&alice_token),
        &format!("/chats/{chat_id}/ticket"),
        &json!({"priority": "asap"}),
    )
    .await
    .assert_error(422, "invalid");
    let t = rest
        .post(
            Some(&alice_token),
            &format!("/chats/{chat_id}/ticket"),
            &json!({}),
        )
        .await;
    assert_eq!(t.status, 201, "{}", t.body);
    assert_eq!(t.body["source"], "chat");
    assert_eq!(t.body["chat_id"], chat_id.as_str());
    assert_eq!(t.body["subject"], "My parcel is lost");
    assert_eq!(t.body["assignee_id"], server.team.alice.id.as_str());
    let tid = id(&t.body);
    let all = entries(rest, &alice_token, &tid).await;
    assert_eq!(all[0]["author"]["kind"], "customer");
    assert_eq!(all[0]["body"], "My parcel is lost\norder 7");
    assert!(bodies(&all).contains(&"Checking with the courier".to_owned()));
    assert!(
        all.iter()
            .any(|e| e["kind"] == "note" && e["body"] == SECRET)
    );
    assert!(
        all.last().unwrap()["body"]
            .as_str()
            .unwrap()
            .starts_with("Created from a chat")
    );
    let chat = rest.chat(&alice_token, &chat_id).await;
    assert_eq!(
        chat["ticket_id"],
        tid.as_str(),
        "the chat points at its ticket"
    );
    rest.post(
        Some(&alice_token),
        &format!("/chats/{chat_id}/ticket"),
        &json!({}),
    )
    .await
    .assert_error(409, "conflict");
    // The visitor sees the replies, not the note.
    let seen = rest
        .visitor_get(&visitor.token, &format!("/visitor/tickets/{tid}/entries"))
        .await;
    assert!(!seen.body.to_string().contains(SECRET));
    assert_eq!(
        seen.body["items"].as_array().unwrap().len(),
        2,
        "{}",
        seen.body
    );
    // A chat from a ticket needs the customer online; this server says so.
    let c = rest
        .post(
            Some(&alice_token),
            &format!("/tickets/{tid}/chat"),
            &json!({}),
        )
        .await;
    c.assert_error(409, "conflict");
    assert!(c.body.to_string().contains("not online"), "{}", c.body);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_customer_profile_lists_the_tickets_its_reader_may_see() {
    let server = TestServer::start().await;
    let rest = &server.rest;
    let alice = server.login("alice@example.com").await;
    let carol = server.login("carol@example.com").await;
    let sam = server.login("sam@example.com").await;
    let t = create(
        rest,
        &alice,
        json!({"subject": "Sales one", "body": "b", "customer_email": "p@example.com"}),
    )
    .await;
    let cid = t["customer"]["id"].as_str().unwrap().to_owned();
    let support = server.team.support.id.clone();
    create(rest, &sam, json!({"subject": "Support one", "body": "b", "customer_id": cid, "department_id": support})).await;
    let mine = rest.get(Some(&alice), &format!("/customers/{cid}")).await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    let subjects: Vec<&str> = mine.body["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["Sales one"], "only what Alice may see");
    let all = rest.get(Some(&sam), &format!("/customers/{cid}")).await;
    assert_eq!(all.body["tickets"].as_array().unwrap().len(), 2);
    let hers = rest.get(Some(&carol), &format!("/customers/{cid}")).await;
    assert_eq!(
        hers.body["tickets"].as_array().unwrap().len(),
        1,
        "{}",
        hers.body
    );
    assert_eq!(hers.body["tickets"][0]["subject"], "Support one");
    server.stop().await;
}
