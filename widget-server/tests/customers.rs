//! Customers over REST on a real server: agents edit what the customer pane shows and
//! keep internal notes; refusals per role, the `customer:updated` push, and bad input
//! on every field (which changes nothing).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Answer, Rest, TestServer};
use serde_json::{Value, json};

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_edits_a_customer_and_the_team_hears_of_it() {
    let server = TestServer::start().await;
    let rest = &server.rest;
    let sales = server.team.sales.id.clone();
    let v = server.visitor_with_chat("hello", Some(&sales)).await;
    let path = format!("/customers/{}", v.customer_id);
    let alice = server.login("alice@example.com").await;
    let (_, bob_sock) = server.agent_as("bob@example.com").await;
    let (_, carol_sock) = server.agent_as("carol@example.com").await;

    let a = patch(
        rest,
        &alice,
        &path,
        &json!({
            "name": "Vera Lind", "email": "Vera@Example.com", "phone": "+46 70 123 45 67",
            "location": "Malmö", "tags": ["VIP", "b2b"], "custom_fields": {"plan": "Pro"}
        }),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["name"], "Vera Lind");
    assert_eq!(a.body["email"], "vera@example.com");
    assert_eq!(a.body["phone"], "+46 70 123 45 67");
    assert_eq!(a.body["location"], "Malmö");
    assert_eq!(a.body["tags"], json!(["vip", "b2b"]));
    assert_eq!(a.body["custom_fields"], json!({"plan": "Pro"}));

    // Bob (Sales) hears of it with an event id; Carol (Support) does not.
    let ev = bob_sock
        .expect_where("customer:updated", |e| e["customer"]["name"] == "Vera Lind")
        .await;
    assert!(ev["event_id"].as_i64().unwrap() > 0);
    carol_sock
        .expect_none("customer:updated", |e| {
            e["customer"]["id"] == v.customer_id.as_str()
        })
        .await;

    // A partial edit keeps the rest; "" clears a field.
    let a = patch(rest, &alice, &path, &json!({"phone": ""})).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["phone"], Value::Null);
    assert_eq!(a.body["name"], "Vera Lind");
    let p = rest.get(Some(&alice), &path).await;
    assert_eq!(p.body["location"], "Malmö");
    assert_eq!(p.body["phone"], Value::Null);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_agents_who_see_the_customer_edit_it() {
    let server = TestServer::start().await;
    let rest = &server.rest;
    let sales = server.team.sales.id.clone();
    let v = server.visitor_with_chat("hello", Some(&sales)).await;
    let path = format!("/customers/{}", v.customer_id);
    let carol = server.login("carol@example.com").await;
    let sam = server.login("sam@example.com").await;
    let ada = server.login("ada@example.com").await;

    let a = patch(rest, &carol, &path, &json!({"name": "Carol was here"})).await;
    a.assert_error(403, "forbidden");
    let a = rest
        .post(
            Some(&carol),
            &format!("{path}/notes"),
            &json!({"body": "x"}),
        )
        .await;
    a.assert_error(403, "forbidden");
    rest.get(Some(&carol), &format!("{path}/notes"))
        .await
        .assert_error(403, "forbidden");
    for token in [&sam, &ada] {
        let a = patch(rest, token, &path, &json!({"location": "Lund"})).await;
        assert_eq!(a.status, 200, "{}", a.body);
    }
    let a = patch(rest, &ada, "/customers/nobody", &json!({"name": "X"})).await;
    a.assert_error(404, "not_found");
    let a = rest
        .send(rest.http.patch(rest.url(&path)).json(&json!({"name": "X"})))
        .await;
    assert_eq!(a.status, 401, "{}", a.body);
    let p = rest.get(Some(&ada), &path).await;
    assert_ne!(p.body["name"], "Carol was here");
    assert_eq!(p.body["location"], "Lund");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_on_every_field_changes_nothing() {
    let server = TestServer::start().await;
    let rest = &server.rest;
    let sales = server.team.sales.id.clone();
    let v = server.visitor_with_chat("hello", Some(&sales)).await;
    let path = format!("/customers/{}", v.customer_id);
    let alice = server.login("alice@example.com").await;
    let before = rest.get(Some(&alice), &path).await.body;
    let many_tags: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
    let many_fields: serde_json::Map<String, Value> =
        (0..31).map(|i| (format!("k{i}"), json!("v"))).collect();
    for (body, word) in [
        (json!({}), "nothing to change"),
        (json!({"name": ""}), "name"),
        (json!({"name": "n".repeat(101)}), "name"),
        (json!({"name": "ok", "email": "nope"}), "email"),
        (json!({"phone": "call me maybe"}), "phone"),
        (json!({"location": "l".repeat(101)}), "location"),
        (json!({"tags": ["has space"]}), "tag"),
        (json!({"tags": many_tags}), "tags"),
        (json!({"custom_fields": {"": "v"}}), "custom field"),
        (
            json!({"custom_fields": {"k": "v".repeat(501)}}),
            "custom field",
        ),
        (json!({"custom_fields": many_fields}), "custom fields"),
        (json!({"blocked": true}), "blocked"),
        (json!({"name": 5}), "expected a string"),
    ] {
        let a = patch(rest, &alice, &path, &body).await;
        assert_eq!(a.error_code(), "invalid", "{body} → {}", a.body);
        assert!(
            a.body.to_string().contains(word),
            "{body} → {} (wanted {word:?})",
            a.body
        );
    }
    for body in [
        json!({"body": ""}),
        json!({"body": "b".repeat(4001)}),
        json!({}),
    ] {
        let a = rest
            .post(Some(&alice), &format!("{path}/notes"), &body)
            .await;
        assert_eq!(a.error_code(), "invalid", "{body} → {}", a.body);
    }
    let after = rest.get(Some(&alice), &path).await.body;
    assert_eq!(before, after);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notes_are_kept_listed_newest_first_and_deleted_by_their_author_or_a_supervisor() {
    let server = TestServer::start().await;
    let rest = &server.rest;
    let sales = server.team.sales.id.clone();
    let v = server.visitor_with_chat("hello", Some(&sales)).await;
    let path = format!("/customers/{}", v.customer_id);
    let alice = server.login("alice@example.com").await;
    let bob = server.login("bob@example.com").await;
    let sam = server.login("sam@example.com").await;

    let a = rest
        .post(
            Some(&alice),
            &format!("{path}/notes"),
            &json!({"body": " reseller,\nbe kind "}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    let first = a.body.clone();
    assert_eq!(first["body"], "reseller,\nbe kind");
    assert_eq!(first["customer_id"], v.customer_id.as_str());
    assert_eq!(first["author"]["name"], server.team.alice.name.as_str());
    assert!(first["created_at"].is_string());
    let second = rest
        .post(
            Some(&bob),
            &format!("{path}/notes"),
            &json!({"body": "prefers email"}),
        )
        .await
        .body;

    let list = rest.get(Some(&alice), &format!("{path}/notes")).await;
    assert_eq!(list.status, 200, "{}", list.body);
    let ids: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            second["id"].as_str().unwrap(),
            first["id"].as_str().unwrap()
        ]
    );
    let profile = rest.get(Some(&alice), &path).await.body;
    assert_eq!(profile["notes"], list.body["items"]);

    // Bob may not delete Alice's note; Alice and Sam delete theirs and others'.
    let first_path = format!("{path}/notes/{}", first["id"].as_str().unwrap());
    delete(rest, &bob, &first_path)
        .await
        .assert_error(403, "forbidden");
    let a = delete(rest, &alice, &first_path).await;
    assert_eq!(a.status, 200, "{}", a.body);
    delete(rest, &alice, &first_path)
        .await
        .assert_error(404, "not_found");
    let second_path = format!("{path}/notes/{}", second["id"].as_str().unwrap());
    let a = delete(rest, &sam, &second_path).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let profile = rest.get(Some(&alice), &path).await.body;
    assert_eq!(profile["notes"], json!([]));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_known_only_by_a_ticket_is_edited_by_the_tickets_department() {
    let server = TestServer::start().await;
    let rest = &server.rest;
    let alice = server.login("alice@example.com").await;
    let carol = server.login("carol@example.com").await;
    let t = rest
        .post(
            Some(&alice),
            "/tickets",
            &json!({"subject": "Invoice", "body": "Wrong address", "customer_email": "ivy@example.com",
                    "customer_name": "Ivy", "department_id": server.team.sales.id}),
        )
        .await;
    assert_eq!(t.status, 201, "{}", t.body);
    let path = format!("/customers/{}", t.body["customer"]["id"].as_str().unwrap());
    let a = patch(rest, &alice, &path, &json!({"location": "Oslo"})).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["location"], "Oslo");
    patch(rest, &carol, &path, &json!({"location": "Bergen"}))
        .await
        .assert_error(403, "forbidden");
    let p = rest.get(Some(&alice), &path).await;
    assert_eq!(p.body["location"], "Oslo");
    server.stop().await;
}
