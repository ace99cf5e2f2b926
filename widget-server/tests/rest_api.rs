//! The REST API as the agent client uses it: sign-in and token lifetimes, the chat
//! list's filters, sorting and paging, message paging, transcripts, customer
//! profiles and the team directory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{TestServer, Visitor, agent_say};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("not a page: {page}"))
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_issues_tokens_with_the_right_lifetime() {
    let server = TestServer::start().await;
    let rest = &server.rest;
    for path in ["/healthz", "/api/v1/healthz"] {
        let r = rest
            .http
            .get(format!("{}{path}", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.json::<Value>().await.unwrap(), json!({"status": "ok"}));
    }

    let now = OffsetDateTime::now_utc();
    let hours_left = |body: &Value| {
        let exp = OffsetDateTime::parse(body["expires_at"].as_str().unwrap(), &Rfc3339).unwrap();
        (exp - now).whole_hours()
    };
    let short = rest
        .login_answer("alice@example.com", common::PASSWORD)
        .await;
    assert_eq!(short.status, 200);
    assert!(
        (23..=24).contains(&hours_left(&short.body)),
        "{}",
        short.body
    );
    assert_eq!(short.body["agent"]["email"], "alice@example.com");
    assert_eq!(short.body["agent"]["role"], "agent");
    assert_eq!(
        short.body["agent"]["department_ids"],
        json!([server.team.sales.id])
    );
    assert!(short.body["agent"].get("password_hash").is_none());
    let long = rest
        .post(
            None,
            "/auth/login",
            &json!({"email": " Alice@Example.com ", "password": common::PASSWORD, "remember_me": true}),
        )
        .await;
    assert_eq!(long.status, 200, "{}", long.body);
    assert!(
        (29 * 24..=30 * 24).contains(&hours_left(&long.body)),
        "{}",
        long.body
    );

    let token = short.body["token"].as_str().unwrap();
    let me = rest.get(Some(token), "/auth/me").await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["id"], json!(server.team.alice.id));
    assert_eq!(me.body["name"], "Alice Agent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chat_list_filters_sorts_and_pages() {
    let server = TestServer::start().await;
    let rest = &server.rest;
    let team = server.team.clone();
    let (alice_token, alice) = server.agent_as("alice@example.com").await;
    let sam_token = server.login("sam@example.com").await;

    let mut chats = Vec::new();
    for (name, email) in [
        ("Zoe Zebra", "zoe@zebra.example"),
        ("Yann Yak", "yann@yak.example"),
        ("Xavier Xerus", "xavier@xerus.example"),
    ] {
        let mut v = Visitor::connect(&server.base, json!({})).await;
        let req = json!({"body": format!("hello from {name}"), "name": name, "email": email});
        let data = v.sock.ok("chat:start", req).await;
        v.chat_id = Some(data["chat"]["id"].as_str().unwrap().to_owned());
        assert_eq!(data["chat"]["customer"]["name"], name);
        chats.push(v);
    }
    let support = server
        .visitor_with_chat("hello Support", Some(&team.support.id))
        .await;
    let (zoe, yann, xavier) = (chats[0].chat_id(), chats[1].chat_id(), chats[2].chat_id());
    alice.ok("chat:claim", json!({"chat_id": yann})).await;
    alice.ok("chat:claim", json!({"chat_id": xavier})).await;
    alice.ok("chat:close", json!({"chat_id": xavier})).await;

    let get = |token: &str, q: &str| {
        let token = token.to_owned();
        let q = q.to_owned();
        async move {
            let r = rest.get(Some(&token), &format!("/chats{q}")).await;
            assert_eq!(r.status, 200, "{q}: {}", r.body);
            r.body
        }
    };
    // Status.
    assert_eq!(ids(&get(&alice_token, "?status=waiting").await), vec![zoe]);
    assert_eq!(ids(&get(&alice_token, "?status=active").await), vec![yann]);
    assert_eq!(
        ids(&get(&alice_token, "?status=closed").await),
        vec![xavier]
    );
    // Department, assignee.
    let dept = get(&sam_token, &format!("?department_id={}", team.support.id)).await;
    assert_eq!(ids(&dept), vec![support.chat_id()]);
    let mine = get(&alice_token, "?assignee=me&sort=oldest").await;
    assert_eq!(ids(&mine), vec![yann, xavier]);
    let hers = get(
        &sam_token,
        &format!("?assignee={}&status=active", team.alice.id),
    )
    .await;
    assert_eq!(ids(&hers), vec![yann]);
    // Search by customer name or email, case-insensitively; LIKE wildcards are literal.
    assert_eq!(ids(&get(&alice_token, "?q=zebra").await), vec![zoe]);
    assert_eq!(ids(&get(&alice_token, "?q=YAK.EXAMPLE").await), vec![yann]);
    assert_eq!(get(&alice_token, "?q=%25").await["total"], 0);
    assert_eq!(get(&alice_token, "?q=_").await["total"], 0);
    // Sorting.
    assert_eq!(
        ids(&get(&alice_token, "?sort=oldest").await),
        vec![zoe, yann, xavier]
    );
    let newest = ids(&get(&alice_token, "?sort=newest").await);
    assert_eq!(
        newest[0], xavier,
        "the chat closed last has the newest message"
    );
    assert_eq!(ids(&get(&alice_token, "?sort=wait").await)[0], zoe);
    // Paging.
    let p1 = get(&sam_token, "?sort=oldest&per_page=3&page=1").await;
    let p2 = get(&sam_token, "?sort=oldest&per_page=3&page=2").await;
    let p3 = get(&sam_token, "?sort=oldest&per_page=3&page=3").await;
    assert_eq!(p1["total"], 4);
    assert_eq!(
        (p1["page"].clone(), p1["per_page"].clone()),
        (json!(1), json!(3))
    );
    assert_eq!(ids(&p1), vec![zoe, yann, xavier]);
    assert_eq!(ids(&p2), vec![support.chat_id()]);
    assert!(ids(&p3).is_empty());
    assert_eq!(get(&sam_token, "").await["per_page"], 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_page_backwards_and_transcripts_export() {
    let server = TestServer::start().await;
    let (token, alice) = server.agent_as("alice@example.com").await;
    let visitor = server.visitor_with_chat("one", None).await;
    let chat_id = visitor.chat_id().to_owned();
    alice.ok("chat:claim", json!({"chat_id": chat_id})).await; // seq 2: joined
    visitor.say("three").await;
    agent_say(&alice, &chat_id, "four", "text").await;
    agent_say(&alice, &chat_id, "five (a note)", "note").await;
    visitor.say("six").await;

    let page = |q: &str| {
        let q = q.to_owned();
        let (rest, token, chat_id) = (&server.rest, &token, &chat_id);
        async move {
            let r = rest
                .get(Some(token), &format!("/chats/{chat_id}/messages{q}"))
                .await;
            assert_eq!(r.status, 200, "{q}: {}", r.body);
            r.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["seq"].as_i64().unwrap())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(page("").await, vec![1, 2, 3, 4, 5, 6]);
    assert_eq!(page("?limit=2").await, vec![5, 6]);
    assert_eq!(page("?limit=2&before_seq=5").await, vec![3, 4]);
    assert_eq!(page("?limit=2&before_seq=3").await, vec![1, 2]);
    assert_eq!(page("?limit=2&before_seq=1").await, Vec::<i64>::new());

    let text = server
        .rest
        .http
        .get(
            server
                .rest
                .url(&format!("/chats/{chat_id}/transcript?format=text")),
        )
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(text.status(), 200);
    assert!(
        text.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = text.text().await.unwrap();
    for needle in [
        "one",
        "three",
        "four",
        "five (a note)",
        "six",
        "Alice Agent (agent)",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
    let json = server
        .rest
        .get(
            Some(&token),
            &format!("/chats/{chat_id}/transcript?format=json"),
        )
        .await;
    assert_eq!(json.status, 200);
    assert_eq!(json.body["chat"]["id"], json!(chat_id));
    assert_eq!(json.body["messages"].as_array().unwrap().len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_profiles_and_the_team_directory() {
    let server = TestServer::start().await;
    let team = server.team.clone();
    let (token, alice) = server.agent_as("alice@example.com").await;

    // A returning visitor: one closed chat, then a new one.
    let mut visitor = server.visitor_with_chat("first visit", None).await;
    let first = visitor.chat_id().to_owned();
    alice.ok("chat:claim", json!({"chat_id": first})).await;
    alice.ok("chat:close", json!({"chat_id": first})).await;
    visitor
        .sock
        .expect_where("chat:updated", |v| v["chat"]["status"] == "closed")
        .await;
    visitor
        .sock
        .ok("chat:rate", json!({"score": 5, "comment": "great"}))
        .await;
    visitor.start("second visit", None).await;
    let second = visitor.chat_id().to_owned();
    assert_ne!(first, second);

    let profile = server
        .rest
        .get(Some(&token), &format!("/customers/{}", visitor.customer_id))
        .await;
    assert_eq!(profile.status, 200, "{}", profile.body);
    assert_eq!(profile.body["id"], json!(visitor.customer_id));
    let previous = profile.body["previous_chats"].as_array().unwrap();
    let prev_ids: Vec<&str> = previous.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(
        prev_ids,
        vec![second.as_str(), first.as_str()],
        "newest first"
    );
    assert_eq!(previous[1]["status"], "closed");
    assert_eq!(previous[1]["rating"]["score"], 5);

    let depts = server.rest.get(Some(&token), "/departments").await;
    assert_eq!(depts.status, 200);
    assert_eq!(depts.body["total"], 2);
    let names: Vec<&str> = depts.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Sales", "Support"]);

    alice.ok("chat:claim", json!({"chat_id": second})).await;
    let agents = server.rest.get(Some(&token), "/agents").await;
    assert_eq!(agents.status, 200);
    assert_eq!(agents.body["total"], 5);
    let items = agents.body["items"].as_array().unwrap();
    let find = |id: &str| items.iter().find(|a| a["id"] == json!(id)).unwrap().clone();
    let a = find(&team.alice.id);
    assert_eq!(a["active_chats"], 1, "{a}");
    assert_eq!(a["status"], "online", "{a}");
    assert_eq!(find(&team.carol.id)["status"], "offline");
    assert!(items.iter().all(|a| a.get("password_hash").is_none()));
    let page = server
        .rest
        .get(Some(&token), "/agents?per_page=2&page=3")
        .await;
    assert_eq!(ids(&page.body).len(), 1);
}
