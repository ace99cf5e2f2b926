//! The knowledge base over REST on a real server: who may write, what each role and
//! the public read (internal articles and drafts never reach a public route), bad
//! input refused with nothing changed, categories without cycles, bookmarks, recent
//! and popular, import/export round trip, and suggestions from a visitor's messages.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "kb/corpus.rs"]
mod corpus;

use common::{Answer, Rest, TestServer};
use serde_json::{Value, json};

async fn put(rest: &Rest, token: &str, path: &str, body: &Value) -> Answer {
    rest.send(rest.http.put(rest.url(path)).bearer_auth(token).json(body))
        .await
}

async fn delete(rest: &Rest, token: &str, path: &str) -> Answer {
    rest.send(rest.http.delete(rest.url(path)).bearer_auth(token))
        .await
}

/// A page at the server's root (not under /api/v1).
async fn page(server: &TestServer, path: &str) -> (u16, String) {
    let r = reqwest::get(format!("{}{path}", server.base))
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

fn slugs(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {v}"))
        .iter()
        .map(|a| a["slug"].as_str().unwrap().to_owned())
        .collect()
}

fn article(title: &str, status: &str, visibility: &str) -> Value {
    json!({"title": title, "body": format!("About {title}: **bold** text."),
           "status": status, "visibility": visibility, "tags": ["demo"]})
}

async fn import_demo(server: &TestServer, token: &str) -> Value {
    let files: Vec<Value> = corpus::demo_files()
        .into_iter()
        .map(|f| json!({"name": f.name, "content": f.content}))
        .collect();
    let a = server
        .rest
        .post(Some(token), "/kb/import", &json!({ "files": files }))
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    a.body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writers_write_agents_read_published_and_the_public_reads_public_only() {
    let server = TestServer::start().await;
    let rest = &server.rest;
    let alice = server.login("alice@example.com").await;
    let sam = server.login("sam@example.com").await;

    // Agents may not write.
    rest.post(
        Some(&alice),
        "/kb/articles",
        &article("Lens care", "published", "public"),
    )
    .await
    .assert_error(403, "forbidden");
    rest.get(None, "/kb/articles")
        .await
        .assert_error(401, "unauthorized");

    let made = |title: &'static str, status: &'static str, vis: &'static str| {
        let sam = sam.clone();
        async move {
            let a = rest
                .post(Some(&sam), "/kb/articles", &article(title, status, vis))
                .await;
            assert_eq!(a.status, 201, "{}", a.body);
            a.body
        }
    };
    let public = made("Lens care", "published", "public").await;
    let internal = made("Lens care for the team", "published", "internal").await;
    let draft = made("Lens care draft", "draft", "public").await;
    assert_eq!(public["slug"], "lens-care");
    assert_eq!(public["author_id"], server.team.sam.id.as_str());
    // The same title again gets a numbered slug.
    let again = made("Lens care", "published", "public").await;
    assert_eq!(again["slug"], "lens-care-2");

    // Agents: published ones (internal too), never drafts.
    let seen = rest.get(Some(&alice), "/kb/articles?q=lens").await;
    let mut s = slugs(&seen.body);
    s.sort();
    assert_eq!(s, ["lens-care", "lens-care-2", "lens-care-for-the-team"]);
    let draft_path = format!("/kb/articles/{}", draft["id"].as_str().unwrap());
    rest.get(Some(&alice), &draft_path)
        .await
        .assert_error(404, "not_found");
    assert_eq!(rest.get(Some(&sam), &draft_path).await.status, 200);
    let sam_list = rest.get(Some(&sam), "/kb/articles").await;
    assert_eq!(sam_list.body["total"], 4);

    // The public: published public ones only, on every public route.
    let found = rest.get(None, "/public/kb/search?q=lens").await;
    assert_eq!(found.status, 200, "{}", found.body);
    let mut s = slugs(&found.body);
    s.sort();
    assert_eq!(s, ["lens-care", "lens-care-2"]);
    assert!(
        found.body["items"][0]["url"]
            .as_str()
            .unwrap()
            .starts_with("/kb/lens-care")
    );
    let (status, html) = page(&server, "/kb").await;
    assert_eq!(status, 200);
    assert!(html.contains("/kb/lens-care\""), "{html}");
    assert!(
        !html.contains("for-the-team") && !html.contains("draft"),
        "{html}"
    );
    let (status, html) = page(&server, "/kb?q=team").await;
    assert_eq!(status, 200);
    assert!(!html.contains("for-the-team"), "{html}");
    for slug in [
        "lens-care-for-the-team",
        "lens-care-draft",
        "no-such-article",
        "BAD%20slug",
    ] {
        let (status, html) = page(&server, &format!("/kb/{slug}")).await;
        assert_eq!(status, 404, "/kb/{slug}: {html}");
        assert!(!html.contains("About Lens care"), "{html}");
        rest.post(
            None,
            &format!("/public/kb/{slug}/vote"),
            &json!({"helpful": true}),
        )
        .await
        .assert_error(404, "not_found");
    }
    let (status, html) = page(&server, "/kb/lens-care").await;
    assert_eq!(status, 200);
    assert!(html.contains("<strong>bold</strong>"), "{html}");

    // A visitor's vote counts on the article, and so does the page view.
    let voted = rest
        .post(None, "/public/kb/lens-care/vote", &json!({"helpful": true}))
        .await;
    assert_eq!(voted.status, 200, "{}", voted.body);
    let id = public["id"].as_str().unwrap();
    let now = rest
        .get(Some(&sam), &format!("/kb/articles/{id}"))
        .await
        .body;
    assert_eq!(
        (now["helpful_yes"].as_i64(), now["views"].as_i64()),
        (Some(1), Some(2))
    );

    // Internal becomes public once a writer says so; then the public sees it.
    let mut change = article("Lens care for the team", "published", "public");
    change["slug"] = json!("lens-care-team");
    let iid = internal["id"].as_str().unwrap();
    put(rest, &alice, &format!("/kb/articles/{iid}"), &change)
        .await
        .assert_error(403, "forbidden");
    let changed = put(rest, &sam, &format!("/kb/articles/{iid}"), &change).await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(page(&server, "/kb/lens-care-team").await.0, 200);

    // Deleting: writers only.
    let did = draft["id"].as_str().unwrap();
    delete(rest, &alice, &format!("/kb/articles/{did}"))
        .await
        .assert_error(403, "forbidden");
    assert_eq!(
        delete(rest, &sam, &format!("/kb/articles/{did}"))
            .await
            .status,
        200
    );
    delete(rest, &sam, &format!("/kb/articles/{did}"))
        .await
        .assert_error(404, "not_found");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_and_changes_nothing() {
    let server = TestServer::start().await;
    let rest = &server.rest;
    let sam = server.login("sam@example.com").await;
    let ok = article("Wi-Fi basics", "published", "public");
    assert_eq!(rest.post(Some(&sam), "/kb/articles", &ok).await.status, 201);
    let with = |k: &str, v: Value| {
        let mut a = ok.clone();
        a[k] = v;
        a
    };
    for (body, status, code, says) in [
        (with("title", json!("  ")), 422, "invalid", "title is empty"),
        (
            with("title", json!("x".repeat(201))),
            422,
            "invalid",
            "title",
        ),
        (with("body", json!("")), 422, "invalid", "body is empty"),
        (
            with("body", json!("x".repeat(49 * 1024))),
            413,
            "too_large",
            "body is",
        ),
        (with("slug", json!("Bad Slug")), 422, "invalid", "slug"),
        (with("slug", json!("wi-fi-basics")), 409, "conflict", "slug"),
        (with("tags", json!(["has space"])), 422, "invalid", "tag"),
        (with("status", json!("live")), 422, "invalid", "draft"),
        (
            with("visibility", json!("secret")),
            422,
            "invalid",
            "internal",
        ),
        (
            with("category_id", json!("no-such-category")),
            404,
            "not_found",
            "category",
        ),
        (
            with("body", json!("bell \u{7} here")),
            422,
            "invalid",
            "control",
        ),
    ] {
        let a = rest.post(Some(&sam), "/kb/articles", &body).await;
        a.assert_error(status, code);
        assert!(a.body.to_string().contains(says), "{body}: {}", a.body);
    }
    for q in [
        format!("/kb/articles?q={}", "x".repeat(201)),
        "/kb/articles?per_page=0".to_owned(),
        "/kb/articles?page=abc".to_owned(),
        "/kb/suggest".to_owned(),
        "/kb/suggest?chat_id=a&ticket_id=b".to_owned(),
        "/kb/recent?limit=0".to_owned(),
    ] {
        rest.get(Some(&sam), &q).await.assert_error(422, "invalid");
    }
    rest.get(None, &format!("/public/kb/search?q={}", "y".repeat(201)))
        .await
        .assert_error(422, "invalid");
    // Nothing but the first article was stored.
    assert_eq!(rest.get(Some(&sam), "/kb/articles").await.body["total"], 1);

    // Categories: a tree, never a cycle; only empty ones can go.
    let cat = |name: &str, parent: Option<&str>| json!({"name": name, "parent_id": parent});
    let root = rest
        .post(Some(&sam), "/kb/categories", &cat("Setup", None))
        .await;
    assert_eq!(root.status, 201, "{}", root.body);
    let rid = root.body["id"].as_str().unwrap().to_owned();
    let child = rest
        .post(Some(&sam), "/kb/categories", &cat("Image", Some(&rid)))
        .await;
    let cid = child.body["id"].as_str().unwrap().to_owned();
    put(
        rest,
        &sam,
        &format!("/kb/categories/{rid}"),
        &cat("Setup", Some(&cid)),
    )
    .await
    .assert_error(422, "invalid");
    rest.post(Some(&sam), "/kb/categories", &cat("Image", Some(&rid)))
        .await
        .assert_error(409, "conflict");
    let alice = server.login("alice@example.com").await;
    rest.post(Some(&alice), "/kb/categories", &cat("Mine", None))
        .await
        .assert_error(403, "forbidden");
    let mut fresh = with("category_id", json!(cid));
    fresh["title"] = json!("Image basics");
    assert_eq!(
        rest.post(Some(&sam), "/kb/articles", &fresh).await.status,
        201
    );
    delete(rest, &sam, &format!("/kb/categories/{rid}"))
        .await
        .assert_error(409, "conflict");
    // Listing a category includes the ones below it.
    let under = rest
        .get(Some(&sam), &format!("/kb/articles?category_id={rid}"))
        .await;
    assert_eq!(slugs(&under.body), ["image-basics"]);

    // An import with one bad file stores nothing.
    let bad = json!({"files": [
        {"name": "good.md", "content": "---\ntitle: Good\n---\nBody"},
        {"name": "bad.md", "content": "no front matter"}]});
    let a = rest.post(Some(&sam), "/kb/import", &bad).await;
    a.assert_error(422, "invalid");
    assert!(a.body.to_string().contains("bad.md"), "{}", a.body);
    assert_eq!(rest.get(Some(&sam), "/kb/articles").await.body["total"], 2);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_export_bookmarks_recent_popular_and_suggestions() {
    let server = TestServer::start().await;
    let rest = &server.rest;
    let sam = server.login("sam@example.com").await;
    let alice = server.login("alice@example.com").await;
    let report = import_demo(&server, &sam).await;
    assert_eq!(report["created"], 30);
    assert!(
        report["categories_created"].as_u64().unwrap() >= 5,
        "{report}"
    );
    // Importing the same files again updates them.
    assert_eq!(import_demo(&server, &sam).await["updated"], 30);
    rest.post(Some(&alice), "/kb/import", &json!({"files": []}))
        .await
        .assert_error(403, "forbidden");

    // Export gives files that import back to the same articles.
    let exported = rest.get(Some(&sam), "/kb/export").await;
    assert_eq!(exported.status, 200);
    let files = exported.body["files"].as_array().unwrap();
    assert_eq!(files.len(), 30);
    let hdmi = files
        .iter()
        .find(|f| f["name"] == "hdmi-no-signal.md")
        .expect("hdmi file");
    let text = hdmi["content"].as_str().unwrap();
    assert!(
        text.contains("category: Connections\n") && text.contains("visibility: public\n"),
        "{text}"
    );
    assert_eq!(
        rest.post(Some(&sam), "/kb/import", &exported.body)
            .await
            .body["updated"],
        30
    );
    rest.get(Some(&alice), "/kb/export")
        .await
        .assert_error(403, "forbidden");

    // Search with snippets.
    let hits = rest.get(Some(&alice), "/kb/articles?q=keystone").await.body;
    assert_eq!(hits["items"][0]["slug"], "keystone-correction");
    assert!(
        hits["items"][0]["snippet"].as_str().unwrap().contains("[["),
        "{hits}"
    );

    // Bookmarks are per agent; recent follows what each agent opened.
    let id_of = |slug: &str| {
        hits["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["slug"] == slug)
            .map(|h| h["id"].as_str().unwrap().to_owned())
    };
    let keystone = id_of("keystone-correction").unwrap();
    assert_eq!(
        put(
            rest,
            &alice,
            &format!("/kb/bookmarks/{keystone}"),
            &json!({})
        )
        .await
        .status,
        200
    );
    assert_eq!(
        slugs(&rest.get(Some(&alice), "/kb/bookmarks").await.body),
        ["keystone-correction"]
    );
    assert!(slugs(&rest.get(Some(&sam), "/kb/bookmarks").await.body).is_empty());
    put(rest, &alice, "/kb/bookmarks/nope", &json!({}))
        .await
        .assert_error(404, "not_found");
    assert_eq!(
        delete(rest, &alice, &format!("/kb/bookmarks/{keystone}"))
            .await
            .status,
        200
    );
    assert!(slugs(&rest.get(Some(&alice), "/kb/bookmarks").await.body).is_empty());

    let list = rest
        .get(Some(&alice), "/kb/articles?per_page=100")
        .await
        .body;
    let ids: Vec<(String, String)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["slug"].as_str().unwrap().to_owned(),
                a["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let id = |slug: &str| ids.iter().find(|(s, _)| s == slug).unwrap().1.clone();
    for slug in ["lamp-life", "warranty-policy", "lamp-life"] {
        assert_eq!(
            rest.get(Some(&alice), &format!("/kb/articles/{}", id(slug)))
                .await
                .status,
            200
        );
    }
    assert_eq!(
        slugs(&rest.get(Some(&alice), "/kb/recent").await.body),
        ["lamp-life", "warranty-policy"]
    );
    assert!(slugs(&rest.get(Some(&sam), "/kb/recent").await.body).is_empty());
    let popular = slugs(&rest.get(Some(&sam), "/kb/popular?limit=2").await.body);
    assert_eq!(popular, ["lamp-life", "warranty-policy"]);

    // Suggestions come from the visitor's own words, for agents who see the chat.
    let mut visitor = server.visitor().await;
    visitor
        .start(
            "Hello, my laptop is connected with HDMI but the projector says no signal",
            None,
        )
        .await;
    let chat_id = visitor.chat_id().to_owned();
    let s = rest
        .get(Some(&alice), &format!("/kb/suggest?chat_id={chat_id}"))
        .await;
    assert_eq!(s.status, 200, "{}", s.body);
    assert_eq!(s.body["items"][0]["slug"], "hdmi-no-signal", "{}", s.body);
    assert!(s.body["query"].as_str().unwrap().contains("hdmi"));
    visitor
        .say("now I want to return it and get a refund")
        .await;
    let s = rest
        .get(Some(&alice), &format!("/kb/suggest?chat_id={chat_id}"))
        .await;
    let top: Vec<String> = slugs(&s.body);
    assert!(top.contains(&"returns-refunds".to_owned()), "{}", s.body);
    // Carol works Support only: the Sales chat is not hers.
    let carol = server.login("carol@example.com").await;
    rest.get(Some(&carol), &format!("/kb/suggest?chat_id={chat_id}"))
        .await
        .assert_error(404, "not_found");
    server.stop().await;
}
