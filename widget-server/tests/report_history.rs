//! A scripted history at fixed times, with every figure computed by hand: notes and
//! system lines that must not count, a reopened chat handed to a colleague, ratings,
//! and days that differ by timezone. Run on SQLite always and on PostgreSQL when
//! `TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use shared::model::Role;
use shared::report::SeriesPoint;
use sqlx::{AssertSqlSafe, Connection};
use widget_server::domain::metrics::{Bucket, Metric, Period, ReportScope};
use widget_server::store::{NewAgent, Store, reports};

use common::backends::{SqliteBackend, TempPgDatabase, open_postgres, postgres_server};

struct Ids {
    ann: String,
    bob: String,
    cat: String,
    support: String,
}

/// Unix milliseconds of an RFC 3339 time.
fn at(rfc: &str) -> i64 {
    rfc.parse::<jiff::Timestamp>().unwrap().as_millisecond()
}

/// Creates the team through the store, then writes the chats and messages at their
/// fixed times, as SQL both backends accept.
async fn seed(store: &dyn Store) -> (Ids, String) {
    let sales = store.create_department("Sales").await.unwrap();
    let support = store.create_department("Support").await.unwrap();
    let agent = |name: &str, dept: &str| NewAgent {
        email: format!("{}@example.com", name.to_lowercase()),
        name: name.to_string(),
        role: Role::Agent,
        department_ids: vec![dept.to_string()],
        password_hash: "x".into(),
        max_chats: 8,
    };
    let ann = store.create_agent(agent("Ann", &sales.id)).await.unwrap();
    let bob = store.create_agent(agent("Bob", &sales.id)).await.unwrap();
    let cat = store.create_agent(agent("Cat", &support.id)).await.unwrap();
    let vera = store
        .resolve_visitor(None, Some("Vera"), None)
        .await
        .unwrap();
    let cust = vera.customer.id.clone();

    let mut sql = String::new();
    let mut chat = |id: &str,
                    dept: &str,
                    status: &str,
                    assignee: Option<&str>,
                    created: &str,
                    closed: Option<&str>,
                    rating: Option<(u8, &str)>,
                    lines: &[(&str, &str, &str, &str)]| {
        let last = lines.last().map_or(created, |l| l.0);
        sql.push_str(&format!(
            "INSERT INTO chats (id, customer_id, department_id, status, assignee_id, created_at, \
             last_message_at, waiting_since, last_seq, rating_score, rating_comment, closed_at) \
             VALUES ('{id}', '{cust}', '{dept}', '{status}', {}, {}, {}, {}, {}, {}, {}, {});\n",
            assignee.map_or("NULL".into(), |a| format!("'{a}'")),
            at(created),
            at(last),
            at(created),
            lines.len(),
            rating.map_or("NULL".into(), |r| r.0.to_string()),
            rating.map_or("NULL".into(), |r| format!("'{}'", r.1)),
            closed.map_or("NULL".into(), |c| at(c).to_string()),
        ));
        for (i, (time, author_kind, author_id, kind)) in lines.iter().enumerate() {
            sql.push_str(&format!(
                "INSERT INTO messages (id, chat_id, seq, client_msg_id, author_kind, author_id, \
                 author_name, kind, body, created_at) VALUES ('{id}-{n}', '{id}', {n}, '{id}-{n}', \
                 '{author_kind}', '{author_id}', 'x', '{kind}', 'line', {});\n",
                at(time),
                n = i + 1,
            ));
        }
    };
    let (a, b) = (ann.id.as_str(), bob.id.as_str());
    // The worked example of docs/reports.md.
    chat(
        "chat-a",
        &sales.id,
        "closed",
        Some(b),
        "2026-03-02T10:00:00Z",
        Some("2026-03-02T10:31:00Z"),
        Some((5, "great")),
        &[
            ("2026-03-02T10:00:00Z", "customer", &cust, "text"),
            ("2026-03-02T10:01:00Z", "agent", a, "note"),
            ("2026-03-02T10:02:00Z", "system", "", "event"),
            ("2026-03-02T10:03:00Z", "agent", a, "text"),
            ("2026-03-02T10:04:00Z", "customer", &cust, "text"),
            ("2026-03-02T10:05:00Z", "customer", &cust, "text"),
            ("2026-03-02T10:06:00Z", "agent", a, "text"),
            ("2026-03-02T10:07:00Z", "agent", a, "text"),
            ("2026-03-02T10:08:00Z", "system", "", "event"),
            ("2026-03-02T10:19:00Z", "system", "", "event"),
            ("2026-03-02T10:20:00Z", "customer", &cust, "text"),
            ("2026-03-02T10:25:00Z", "agent", b, "note"),
            ("2026-03-02T10:30:00Z", "agent", b, "text"),
        ],
    );
    // Late on March 2nd in UTC; answered and closed after midnight UTC, which is still
    // March 2nd in New York.
    chat(
        "chat-b",
        &support.id,
        "closed",
        Some(&cat.id),
        "2026-03-02T23:50:00Z",
        Some("2026-03-03T00:20:00Z"),
        Some((2, "slow")),
        &[
            ("2026-03-02T23:50:00Z", "customer", &cust, "text"),
            ("2026-03-03T00:10:00Z", "agent", &cat.id, "text"),
        ],
    );
    // Nobody answered: only a note.
    chat(
        "chat-c",
        &sales.id,
        "waiting",
        None,
        "2026-03-02T12:00:00Z",
        None,
        None,
        &[
            ("2026-03-02T12:00:00Z", "customer", &cust, "text"),
            ("2026-03-02T12:05:00Z", "agent", a, "note"),
        ],
    );
    // March 1st, answered in 30 s, closed unrated.
    chat(
        "chat-d",
        &sales.id,
        "closed",
        Some(a),
        "2026-03-01T09:00:00Z",
        Some("2026-03-01T09:10:00Z"),
        None,
        &[
            ("2026-03-01T09:00:00Z", "customer", &cust, "text"),
            ("2026-03-01T09:00:30Z", "agent", a, "text"),
        ],
    );
    let ids = Ids {
        ann: ann.id,
        bob: bob.id,
        cat: cat.id,
        support: support.id,
    };
    (ids, sql)
}

fn period(from: &str, to: &str, tz: &str) -> Period {
    Period::parse(Some(from), Some(to), Some(tz), 0).unwrap()
}

fn everyone() -> ReportScope {
    ReportScope::All {
        agent_id: None,
        department_id: None,
    }
}

fn values(points: &[SeriesPoint]) -> Vec<(String, Option<f64>)> {
    points.iter().map(|p| (p.bucket.clone(), p.value)).collect()
}

async fn check(store: &dyn Store, ids: &Ids) {
    // March 2nd in UTC: only chat A counts.
    let utc = period("2026-03-02", "2026-03-02", "UTC");
    let s = reports::summary(store, &utc, &everyone()).await.unwrap();
    assert_eq!(s.chats_handled, 1);
    assert_eq!(s.first_response_s.count, 1);
    assert_eq!(s.first_response_s.avg, Some(180.0));
    assert_eq!(s.first_response_s.p90, Some(180.0));
    assert_eq!((s.response_s.avg, s.response_s.count), (Some(300.0), 3));
    assert_eq!(s.resolution_s.avg, Some(1860.0));
    assert_eq!((s.csat.rated, s.csat.score_pct), (1, Some(100.0)));

    let rows = reports::agents(store, &utc, &everyone()).await.unwrap();
    let names: Vec<&str> = rows.items.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["Ann", "Bob", "Cat"]);
    let (ann, bob, cat) = (&rows.items[0], &rows.items[1], &rows.items[2]);
    assert_eq!(
        (
            ann.chats_handled,
            ann.first_response_avg_s,
            ann.response_avg_s
        ),
        (0, Some(180.0), Some(150.0))
    );
    assert_eq!(
        (
            bob.chats_handled,
            bob.first_response_avg_s,
            bob.response_avg_s
        ),
        (1, None, Some(600.0))
    );
    assert_eq!(
        (bob.resolution_avg_s, bob.csat_pct, bob.rated),
        (Some(1860.0), Some(100.0), 1)
    );
    assert_eq!((cat.chats_handled, cat.response_avg_s), (0, None));

    // The same day in New York (UTC-5) also holds chat B.
    let ny = period("2026-03-02", "2026-03-02", "America/New_York");
    let s = reports::summary(store, &ny, &everyone()).await.unwrap();
    assert_eq!(s.chats_handled, 2);
    assert_eq!(
        (
            s.first_response_s.avg,
            s.first_response_s.p50,
            s.first_response_s.p90
        ),
        (Some(690.0), Some(180.0), Some(1200.0))
    );
    assert_eq!(s.response_s.avg, Some(525.0));
    assert_eq!(
        (s.resolution_s.avg, s.resolution_s.p50),
        (Some(1830.0), Some(1800.0))
    );
    assert_eq!((s.csat.rated, s.csat.score_pct), (2, Some(50.0)));
    assert_eq!(s.csat.breakdown.get("2"), Some(&1));
    assert_eq!(s.csat.breakdown.get("5"), Some(&1));

    // One department; one agent's own figures.
    let support = ReportScope::All {
        agent_id: None,
        department_id: Some(ids.support.clone()),
    };
    let s = reports::summary(store, &ny, &support).await.unwrap();
    assert_eq!((s.chats_handled, s.first_response_s.avg), (1, Some(1200.0)));
    let own = ReportScope::Own {
        agent_id: ids.ann.clone(),
        department_id: None,
    };
    let s = reports::summary(store, &utc, &own).await.unwrap();
    assert_eq!(
        (s.chats_handled, s.first_response_s.avg, s.response_s.avg),
        (0, Some(180.0), Some(150.0))
    );
    let mine = reports::agents(store, &utc, &own).await.unwrap();
    assert_eq!(mine.items.len(), 1);
    assert_eq!(mine.items[0].agent_id, ids.ann);

    // Days of the reader's timezone.
    let three = period("2026-03-01", "2026-03-03", "UTC");
    let handled = reports::timeseries(
        store,
        &three,
        &everyone(),
        Metric::ChatsHandled,
        Bucket::Day,
    )
    .await
    .unwrap();
    assert_eq!(
        values(&handled.points),
        [
            ("2026-03-01".to_string(), Some(1.0)),
            ("2026-03-02".to_string(), Some(1.0)),
            ("2026-03-03".to_string(), Some(1.0)),
        ]
    );
    let frt = reports::timeseries(
        store,
        &three,
        &everyone(),
        Metric::FirstResponse,
        Bucket::Day,
    )
    .await
    .unwrap();
    assert_eq!(
        values(&frt.points),
        [
            ("2026-03-01".to_string(), Some(30.0)),
            ("2026-03-02".to_string(), Some(180.0)),
            ("2026-03-03".to_string(), Some(1200.0)),
        ]
    );
    let three_ny = period("2026-03-01", "2026-03-03", "America/New_York");
    let handled = reports::timeseries(
        store,
        &three_ny,
        &everyone(),
        Metric::ChatsHandled,
        Bucket::Day,
    )
    .await
    .unwrap();
    assert_eq!(
        values(&handled.points),
        [
            ("2026-03-01".to_string(), Some(1.0)),
            ("2026-03-02".to_string(), Some(2.0)),
            ("2026-03-03".to_string(), Some(0.0)),
        ]
    );
    let csat = reports::timeseries(store, &three_ny, &everyone(), Metric::Csat, Bucket::Week)
        .await
        .unwrap();
    // March 1st 2026 is a Sunday: its week started on February 23rd.
    assert_eq!(
        values(&csat.points),
        [
            ("2026-02-23".to_string(), None),
            ("2026-03-02".to_string(), Some(50.0)),
        ]
    );

    // Ratings: the breakdown and the comments, newest first.
    let r = reports::ratings(store, &ny, &everyone()).await.unwrap();
    let comments: Vec<(&str, u8)> = r
        .comments
        .iter()
        .map(|c| (c.comment.as_str(), c.score))
        .collect();
    assert_eq!(comments, [("slow", 2), ("great", 5)]);
    assert_eq!(r.comments[0].agent_id.as_deref(), Some(ids.cat.as_str()));
    assert_eq!(r.comments[1].agent_id.as_deref(), Some(ids.bob.as_str()));

    // Asking again reads the same (the rollup is up to date, nothing is counted twice).
    let again = reports::summary(store, &ny, &everyone()).await.unwrap();
    assert_eq!(again.response_s.count, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hand_computed_history_on_sqlite() {
    let backend = SqliteBackend::open().await;
    let (ids, sql) = seed(&*backend.store).await;
    let mut conn = sqlx::SqliteConnection::connect(&backend.config.database_url())
        .await
        .unwrap();
    sqlx::raw_sql(AssertSqlSafe(sql))
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    check(&*backend.store, &ids).await;
    backend.store.close_store().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hand_computed_history_on_postgres() {
    let Some(server) = postgres_server() else {
        eprintln!("TEST_DATABASE_URL is not set: the history ran on SQLite only");
        return;
    };
    let db = TempPgDatabase::create(&server).await;
    let dir = tempfile::tempdir().unwrap();
    let outcome = AssertUnwindSafe(async {
        let store = open_postgres(&db.url, dir.path()).await;
        let (ids, sql) = seed(&*store).await;
        let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
        sqlx::raw_sql(AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
        check(&*store, &ids).await;
        store.close_store().await;
    })
    .catch_unwind()
    .await;
    db.drop_database().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
