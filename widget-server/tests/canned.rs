//! Canned responses over REST: create, read, replace and delete; who may touch
//! personal and team responses; validation; search; and survival across a restart.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Answer, Rest, TestServer};
use serde_json::{Value, json};

const PATH: &str = "/canned-responses";

async fn put(rest: &Rest, token: &str, path: &str, body: &Value) -> Answer {
    rest.send(rest.http.put(rest.url(path)).bearer_auth(token).json(body))
        .await
}

async fn delete(rest: &Rest, token: &str, path: &str) -> Answer {
    rest.send(rest.http.delete(rest.url(path)).bearer_auth(token))
        .await
}

async fn create(rest: &Rest, token: &str, body: Value) -> Value {
    let a = rest.post(Some(token), PATH, &body).await;
    assert_eq!(a.status, 201, "create {body}: {}", a.body);
    a.body
}

fn shortcuts(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("not a page: {page}"))
        .iter()
        .map(|c| {
            format!(
                "{}:{}",
                c["scope"].as_str().unwrap(),
                c["shortcut"].as_str().unwrap()
            )
        })
        .collect()
}

/// Percent-encodes a query value (every byte but ASCII letters and digits).
fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn canned(shortcut: &str, scope: &str) -> Value {
    json!({
        "title": format!("Title of {shortcut}"),
        "shortcut": shortcut,
        "body": format!("Hello {{{{customer_first_name}}}}, this is {shortcut}."),
        "scope": scope,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_creates_reads_replaces_and_deletes_a_personal_response() {
    let server = TestServer::start().await;
    let rest = &server.rest;
    let alice = server.login("alice@example.com").await;

    let empty = rest.get(Some(&alice), PATH).await;
    assert_eq!(empty.status, 200, "{}", empty.body);
    assert_eq!(
        empty.body,
        json!({"items": [], "total": 0, "page": 1, "per_page": 20})
    );

    let c = create(
        rest,
        &alice,
        json!({"title": " Refund policy ", "shortcut": "refund",
               "body": "Refunds within 30 days,\n{{customer_name}}.", "category": "billing"}),
    )
    .await;
    assert_eq!(c["title"], "Refund policy");
    assert_eq!(c["shortcut"], "refund");
    assert_eq!(c["body"], "Refunds within 30 days,\n{{customer_name}}.");
    assert_eq!(c["category"], "billing");
    assert_eq!(c["scope"], "personal", "personal is the default scope");
    assert_eq!(c["owner_id"], json!(server.team.alice.id));
    assert_eq!(c["created_at"], c["updated_at"]);
    let id = c["id"].as_str().unwrap().to_owned();

    let one = rest.get(Some(&alice), &format!("{PATH}/{id}")).await;
    assert_eq!(one.status, 200);
    assert_eq!(one.body, c);
    let list = rest.get(Some(&alice), PATH).await;
    assert_eq!(list.body["total"], 1);
    assert_eq!(list.body["items"][0], c);

    let replaced = put(
        rest,
        &alice,
        &format!("{PATH}/{id}"),
        &json!({"title": "Refunds", "shortcut": "refund-30", "body": "Thirty days."}),
    )
    .await;
    assert_eq!(replaced.status, 200, "{}", replaced.body);
    assert_eq!(replaced.body["shortcut"], "refund-30");
    assert_eq!(replaced.body["body"], "Thirty days.");
    assert_eq!(
        replaced.body["category"],
        Value::Null,
        "PUT replaces every field"
    );
    assert_eq!(replaced.body["created_at"], c["created_at"]);
    let again = rest.get(Some(&alice), &format!("{PATH}/{id}")).await;
    assert_eq!(again.body, replaced.body);

    let gone = delete(rest, &alice, &format!("{PATH}/{id}")).await;
    assert_eq!(gone.status, 200, "{}", gone.body);
    assert_eq!(gone.body, json!({}));
    rest.get(Some(&alice), &format!("{PATH}/{id}"))
        .await
        .assert_error(404, "not_found");
    delete(rest, &alice, &format!("{PATH}/{id}"))
        .await
        .assert_error(404, "not_found");
    assert_eq!(rest.get(Some(&alice), PATH).await.body["total"], 0);
    rest.get(None, PATH).await.assert_error(401, "unauthorized");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_responses_are_private_and_team_ones_are_managed_by_supervisors_and_admins() {
    let server = TestServer::start().await;
    let rest = &server.rest;
    let alice = server.login("alice@example.com").await;
    let bob = server.login("bob@example.com").await;
    let sam = server.login("sam@example.com").await;
    let ada = server.login("ada@example.com").await;

    // Agents may not create team responses; supervisors and admins may.
    rest.post(Some(&alice), PATH, &canned("hello", "team"))
        .await
        .assert_error(403, "forbidden");
    let by_sam = create(rest, &sam, canned("hello", "team")).await;
    let by_ada = create(rest, &ada, canned("bye", "team")).await;
    let alices = create(rest, &alice, canned("mine", "personal")).await;
    let sams = create(rest, &sam, canned("sams", "personal")).await;

    // Everyone sees every team response and only their own personal ones.
    assert_eq!(
        shortcuts(&rest.get(Some(&alice), PATH).await.body),
        ["team:bye", "team:hello", "personal:mine"]
    );
    assert_eq!(
        shortcuts(&rest.get(Some(&bob), PATH).await.body),
        ["team:bye", "team:hello"]
    );
    assert_eq!(
        shortcuts(&rest.get(Some(&ada), PATH).await.body),
        ["team:bye", "team:hello"],
        "admins do not see agents' personal responses"
    );
    assert_eq!(
        shortcuts(&rest.get(Some(&sam), PATH).await.body),
        ["team:bye", "team:hello", "personal:sams"]
    );

    let path = |c: &Value| format!("{PATH}/{}", c["id"].as_str().unwrap());
    let edit = json!({"title": "Edited", "shortcut": "edited", "body": "Edited body"});

    // Someone else's personal response does not exist for them, whatever their role.
    for token in [&bob, &sam, &ada] {
        rest.get(Some(token), &path(&alices))
            .await
            .assert_error(404, "not_found");
        put(rest, token, &path(&alices), &edit)
            .await
            .assert_error(404, "not_found");
        delete(rest, token, &path(&alices))
            .await
            .assert_error(404, "not_found");
    }
    // Agents read team responses but cannot change them.
    assert_eq!(rest.get(Some(&bob), &path(&by_sam)).await.status, 200);
    put(rest, &bob, &path(&by_sam), &edit)
        .await
        .assert_error(403, "forbidden");
    delete(rest, &alice, &path(&by_ada))
        .await
        .assert_error(403, "forbidden");
    // Supervisors and admins change any team response, not only their own.
    let edited = put(rest, &ada, &path(&by_sam), &edit).await;
    assert_eq!(edited.status, 200, "{}", edited.body);
    assert_eq!(edited.body["owner_id"], by_sam["owner_id"]);
    assert_eq!(delete(rest, &sam, &path(&by_ada)).await.status, 200);
    // The owner changes their personal one; its scope cannot be switched.
    assert_eq!(put(rest, &alice, &path(&alices), &edit).await.status, 200);
    put(
        rest,
        &sam,
        &path(&sams),
        &json!({"title": "t", "shortcut": "sams", "body": "b", "scope": "team"}),
    )
    .await
    .assert_error(422, "invalid");
    assert_eq!(delete(rest, &alice, &path(&alices)).await.status, 200);

    assert_eq!(
        shortcuts(&rest.get(Some(&bob), PATH).await.body),
        ["team:edited"]
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_input_is_refused_with_a_reason_and_shortcuts_are_unique_per_owner_and_scope() {
    let server = TestServer::start().await;
    let rest = &server.rest;
    let alice = server.login("alice@example.com").await;
    let bob = server.login("bob@example.com").await;
    let sam = server.login("sam@example.com").await;

    let base = json!({"title": "T", "shortcut": "ok", "body": "B"});
    let with = |field: &str, v: Value| {
        let mut b = base.clone();
        b[field] = v;
        b
    };
    let cases = [
        ("empty title", with("title", json!("  "))),
        ("title of 101", with("title", json!("t".repeat(101)))),
        ("title with a newline", with("title", json!("a\nb"))),
        ("empty shortcut", with("shortcut", json!(""))),
        ("uppercase shortcut", with("shortcut", json!("Refund"))),
        ("shortcut with a space", with("shortcut", json!("re fund"))),
        ("shortcut with a slash", with("shortcut", json!("/refund"))),
        ("shortcut of 33", with("shortcut", json!("a".repeat(33)))),
        ("empty body", with("body", json!(" \n "))),
        ("body of 4001", with("body", json!("b".repeat(4001)))),
        ("escape in the body", with("body", json!("hi \u{1b}[2J"))),
        (
            "C1 control in the body",
            with("body", json!("hi \u{9b}31m")),
        ),
        ("category with a control", with("category", json!("x\u{7}"))),
        ("unknown scope", with("scope", json!("everyone"))),
        ("missing body", json!({"title": "T", "shortcut": "ok"})),
    ];
    for (what, body) in &cases {
        let a = rest.post(Some(&alice), PATH, body).await;
        assert_eq!(a.status, 422, "{what}: {}", a.body);
        assert_eq!(a.error_code(), "invalid", "{what}");
    }
    let edge = rest
        .post(
            Some(&alice),
            PATH,
            &json!({"title": "t".repeat(100), "shortcut": format!("a-b_{}", "9".repeat(28)),
                    "body": "é".repeat(4000)}),
        )
        .await;
    assert_eq!(edge.status, 201, "limits are inclusive: {}", edge.body);
    assert_eq!(rest.get(Some(&alice), PATH).await.body["total"], 1);

    // One personal "refund" per agent, one team "refund", and they may coexist.
    create(rest, &alice, canned("refund", "personal")).await;
    rest.post(Some(&alice), PATH, &canned("refund", "personal"))
        .await
        .assert_error(409, "conflict");
    create(rest, &bob, canned("refund", "personal")).await;
    create(rest, &sam, canned("refund", "team")).await;
    rest.post(
        Some(&server.login("ada@example.com").await),
        PATH,
        &canned("refund", "team"),
    )
    .await
    .assert_error(409, "conflict");
    // Renaming onto a taken shortcut conflicts too; invalid edits change nothing.
    let other = create(rest, &alice, canned("other", "personal")).await;
    let other_path = format!("{PATH}/{}", other["id"].as_str().unwrap());
    put(rest, &alice, &other_path, &canned("refund", "personal"))
        .await
        .assert_error(409, "conflict");
    put(rest, &alice, &other_path, &with("body", json!("")))
        .await
        .assert_error(422, "invalid");
    assert_eq!(rest.get(Some(&alice), &other_path).await.body, other);

    for q in [
        "?per_page=0".to_owned(),
        "?page=0".to_owned(),
        format!("?q={}", "x".repeat(201)),
        "?q=%1B%5B2J".to_owned(),
    ] {
        rest.get(Some(&alice), &format!("{PATH}{q}"))
            .await
            .assert_error(422, "invalid");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_matches_shortcut_title_and_body_and_pages_like_every_list() {
    let server = TestServer::start().await;
    let rest = &server.rest;
    let sam = server.login("sam@example.com").await;
    let alice = server.login("alice@example.com").await;
    for (shortcut, title, body, scope) in [
        (
            "refund",
            "Refund policy",
            "Refunds within 30 days of delivery.",
            "team",
        ),
        (
            "shipping",
            "Shipping times",
            "Orders ship in 2 business days.",
            "team",
        ),
        (
            "purple",
            "Purple tint",
            "Reset the colour profile: Menu > Picture.",
            "team",
        ),
        (
            "fw",
            "Firmware update",
            "Download the 100% official firmware_v2.",
            "team",
        ),
    ] {
        create(
            rest,
            &sam,
            json!({"title": title, "shortcut": shortcut, "body": body, "scope": scope}),
        )
        .await;
    }
    create(
        rest,
        &alice,
        json!({"title": "My refund note", "shortcut": "myref", "body": "Personal."}),
    )
    .await;
    create(
        rest,
        &sam,
        json!({"title": "Sam's refund", "shortcut": "samref", "body": "Not Alice's."}),
    )
    .await;

    let search = |q: &str| {
        let q = q.to_owned();
        let alice = alice.clone();
        async move {
            let a = rest
                .get(Some(&alice), &format!("{PATH}?q={}", percent(&q)))
                .await;
            assert_eq!(a.status, 200, "q={q}: {}", a.body);
            shortcuts(&a.body)
        }
    };
    assert_eq!(
        search("REFUND").await,
        ["personal:myref", "team:refund"],
        "title and shortcut, case-insensitive, only what alice may see"
    );
    assert_eq!(search("business").await, ["team:shipping"], "body");
    assert_eq!(search("menu > pic").await, ["team:purple"]);
    assert_eq!(search("100%").await, ["team:fw"], "% is literal");
    assert_eq!(search("e_v").await, ["team:fw"], "_ is literal");
    assert!(search("5%").await.is_empty());
    assert_eq!(search("  ").await.len(), 5, "a blank q lists everything");

    let p1 = rest.get(Some(&alice), &format!("{PATH}?per_page=2")).await;
    assert_eq!(p1.body["total"], 5);
    assert_eq!(p1.body["per_page"], 2);
    assert_eq!(shortcuts(&p1.body), ["team:fw", "personal:myref"]);
    let p3 = rest
        .get(Some(&alice), &format!("{PATH}?per_page=2&page=3"))
        .await;
    assert_eq!(shortcuts(&p3.body), ["team:shipping"]);
    assert_eq!(p3.body["page"], 3);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_survive_a_restart_on_the_same_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let (data, _team) = common::seeded_data_dir(dir.path()).await;
    let log = dir.path().join("server.log");
    let mut p = common::ServerProcess::spawn(&data, common::free_port(), &log).await;
    let sam = p.rest.login("sam@example.com").await;
    let c = create(&p.rest, &sam, canned("hello", "team")).await;
    assert!(p.terminate().await.success());

    let p = common::ServerProcess::spawn(&data, common::free_port(), &log).await;
    let bob = p.rest.login("bob@example.com").await;
    let list = p.rest.get(Some(&bob), PATH).await;
    assert_eq!(list.body["items"], json!([c]));
}
