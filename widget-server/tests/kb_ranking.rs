//! Knowledge-base search ranks a corpus of 220 articles the same way on every backend:
//! a table of searches, each with the article it must find first (word forms, a word
//! still being typed, small typos), snippets that highlight, and suggestions from
//! scripted customer messages.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "kb/corpus.rs"]
mod corpus;

use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use widget_server::domain::kb::{self as rules, KbAudience};
use widget_server::store::{ArticleFilter, Store};

use common::backends::{SqliteBackend, TempPgDatabase, open_postgres, postgres_server};

async fn load(store: &dyn Store) {
    let files: Vec<_> = corpus::corpus()
        .iter()
        .map(|f| rules::parse_article_file(&f.name, &f.content).unwrap())
        .collect();
    assert!(files.len() >= 200);
    let report = store.kb_import("author", files).await.unwrap();
    assert_eq!(report.created as usize, corpus::corpus().len());
}

async fn first(store: &dyn Store, q: &str, audience: KbAudience) -> Vec<(String, String)> {
    let filter = ArticleFilter {
        audience,
        query: Some(rules::parse_search(q).unwrap()),
        category_id: None,
        page: 1,
        per_page: 5,
    };
    store
        .kb_articles(&filter)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|h| (h.article.slug, h.snippet))
        .collect()
}

async fn ranking(store: &dyn Store) {
    load(store).await;
    let mut wrong = Vec::new();
    for (q, want) in corpus::RANKING {
        let hits = first(store, q, KbAudience::Public).await;
        let got = hits.first().map(|h| h.0.as_str()).unwrap_or("(nothing)");
        if got != *want {
            wrong.push(format!(
                "{q:?}: want {want}, got {:?}",
                hits.iter().map(|h| &h.0).collect::<Vec<_>>()
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "searches ranked wrong:\n{}",
        wrong.join("\n")
    );

    // Snippets highlight the matched words of the body.
    let hits = first(store, "trapezoid", KbAudience::Public).await;
    assert!(
        hits[0].1.to_lowercase().contains("[[trapezoid]]"),
        "{:?}",
        hits[0].1
    );

    // Internal articles: found by agents, never by the public.
    let agents = first(store, "discount codes", KbAudience::Agents).await;
    assert_eq!(agents[0].0, "internal-discount-codes");
    for q in [
        "discount codes",
        "escalating hardware fault",
        "sorry10",
        "internal",
    ] {
        let public = first(store, q, KbAudience::Public).await;
        assert!(
            public.iter().all(|h| !h.0.starts_with("internal-")),
            "{q:?} found an internal article publicly: {public:?}"
        );
    }

    // Suggestions from what customers wrote, newest message first.
    for (messages, want) in [
        (
            vec!["my laptop is plugged in with hdmi but the projector says no signal"],
            "hdmi-no-signal",
        ),
        (
            vec![
                "It is still crooked, wider at the top",
                "Hello! the picture looks like a trapezoid on my wall",
            ],
            "keystone-correction",
        ),
        (
            vec!["How do I return it and get a refund?", "hi"],
            "returns-refunds",
        ),
        (
            vec!["can I mirror my iPhone screen to it? I tried AirPlay"],
            "screen-mirroring-iphone",
        ),
        (
            vec!["where is my parcel? the tracking has not moved"],
            "shipping-times",
        ),
    ] {
        let query = rules::suggestion_query(messages.iter().copied());
        let filter = ArticleFilter {
            audience: KbAudience::Agents,
            query: Some(query.clone()),
            category_id: None,
            page: 1,
            per_page: 3,
        };
        let hits = store.kb_articles(&filter).await.unwrap().items;
        assert_eq!(
            hits.first().map(|h| h.article.slug.as_str()),
            Some(want),
            "suggestions for {messages:?} (searched {:?}): {:?}",
            query.text(),
            hits.iter().map(|h| &h.article.slug).collect::<Vec<_>>()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn searches_find_the_expected_article_first_on_sqlite() {
    let backend = SqliteBackend::open().await;
    ranking(&*backend.store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn searches_find_the_expected_article_first_on_postgres() {
    let Some(server) = postgres_server() else {
        eprintln!("TEST_DATABASE_URL is not set: the ranking ran on SQLite only");
        return;
    };
    let db = TempPgDatabase::create(&server).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let outcome = AssertUnwindSafe(async {
        let store = open_postgres(&db.url, dir.path()).await;
        ranking(&*store).await;
    })
    .catch_unwind()
    .await;
    db.drop_database().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
