//! `widget-server migrate --from sqlite://… --to postgres://…` moves a whole
//! installation (files included) and verifies the counts; it refuses a target that
//! already holds data and bad URLs, changing nothing. Needs `TEST_DATABASE_URL`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;

use common::backends::{TempPgDatabase, postgres_server};
use common::{TestServer, agent_say};
use serde_json::json;
use sqlx::Connection;

fn migrate(from: &str, to: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_widget-server"))
        .args(["migrate", "--from", from, "--to", to, "--log-level", "warn"])
        .output()
        .expect("run widget-server migrate")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_moves_every_table_from_sqlite_to_postgres() {
    let Some(server) = postgres_server() else {
        eprintln!("TEST_DATABASE_URL is not set: the migration to PostgreSQL was not tested");
        return;
    };
    // An installation with chats, notes, a file, a canned response and a revocation.
    let srv = TestServer::start().await;
    let mut v = srv.visitor().await;
    v.start("My parcel is lost", None).await;
    let chat = v.chat_id().to_owned();
    let (token, sam) = srv.agent_as("sam@example.com").await;
    sam.ok("chat:claim", json!({"chat_id": chat})).await;
    agent_say(&sam, &chat, "Checking with the courier", "text").await;
    agent_say(&sam, &chat, "courier ref 77", "note").await;
    let file: Vec<u8> = (0..=255u8).cycle().take(300_000).collect();
    let up = reqwest::Client::new()
        .post(srv.rest.url("/visitor/attachments?name=receipt.bin"))
        .header("x-visitor-token", &v.token)
        .header("content-type", "application/octet-stream")
        .body(file.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(up.status(), 201);
    let canned = srv
        .rest
        .post(
            Some(&token),
            "/canned-responses",
            &json!({"title": "Hi", "shortcut": "hi", "body": "Hello!"}),
        )
        .await;
    assert_eq!(canned.status, 201, "{}", canned.body);
    // Tickets: the older merged into the newer (its row is copied before its target's).
    let mk = |subject: &str| json!({"subject": subject, "body": "help", "customer_email": "m@example.com", "tags": ["vip"]});
    let older = srv.rest.post(Some(&token), "/tickets", &mk("Older")).await;
    let newer = srv.rest.post(Some(&token), "/tickets", &mk("Newer")).await;
    assert_eq!(newer.status, 201, "{}", newer.body);
    let merged = srv
        .rest
        .post(
            Some(&token),
            &format!("/tickets/{}/merge", older.body["id"].as_str().unwrap()),
            &json!({"into": newer.body["id"]}),
        )
        .await;
    assert_eq!(merged.status, 200, "{}", merged.body);
    let bye = srv.login("bob@example.com").await;
    srv.rest.post(Some(&bye), "/auth/logout", &json!({})).await;
    // A consistent copy of the installation that outlives the test server's temp dir.
    let keep = tempfile::tempdir().unwrap();
    let copy = keep.path().join("panel.db");
    let mut live = sqlx::SqliteConnection::connect(&srv.config.database_url())
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "VACUUM INTO '{}'",
        copy.display()
    )))
    .execute(&mut live)
    .await
    .unwrap();
    drop(live);
    srv.stop().await;
    let from = format!("sqlite://{}", copy.display());

    let db = TempPgDatabase::create(&server).await;
    let bad = migrate("mysql://nowhere", &db.url);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--from must be a sqlite: URL"));

    let out = migrate(&from, &db.url);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("counts verified"), "{stdout}");

    let mut lite = sqlx::SqliteConnection::connect(&from).await.unwrap();
    let mut pg = sqlx::PgConnection::connect(&db.url).await.unwrap();
    for t in [
        "departments",
        "agents",
        "agent_departments",
        "customers",
        "chats",
        "messages",
        "events",
        "revoked_tokens",
        "attachments",
        "canned_responses",
        "tickets",
        "ticket_entries",
        "ticket_tags",
        "ticket_links",
        "ticket_counter",
    ] {
        let q = format!("SELECT COUNT(*) FROM {t}");
        let here: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(q.clone()))
            .fetch_one(&mut lite)
            .await
            .unwrap();
        let there: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(q))
            .fetch_one(&mut pg)
            .await
            .unwrap();
        assert_eq!(here, there, "{t}");
        assert!(here > 0, "the installation has no {t}");
    }
    let bytes: Vec<u8> =
        sqlx::query_scalar("SELECT data FROM attachments WHERE name = 'receipt.bin'")
            .fetch_one(&mut pg)
            .await
            .unwrap();
    assert_eq!(bytes, file);
    let note: String = sqlx::query_scalar("SELECT body FROM messages WHERE kind = 'note'")
        .fetch_one(&mut pg)
        .await
        .unwrap();
    assert_eq!(note, "courier ref 77");
    let next: i64 = sqlx::query_scalar("SELECT next_number FROM ticket_counter")
        .fetch_one(&mut pg)
        .await
        .unwrap();
    assert_eq!(next, 1003, "numbers go on where they were");

    // Again into the same database: refused, nothing doubled.
    let again = migrate(&from, &db.url);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds data"));
    let messages: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages")
        .fetch_one(&mut pg)
        .await
        .unwrap();
    let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages")
        .fetch_one(&mut lite)
        .await
        .unwrap();
    assert_eq!(messages, before);
    drop(pg);
    db.drop_database().await;
}
