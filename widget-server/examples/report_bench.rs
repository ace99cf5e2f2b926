//! Report latency over a large SQLite history: seeds 100,000 chats and 1,000,000
//! messages over 90 days straight into a database file, then times the 30-day
//! per-agent report, the 30-day summary, an agent's dashboard figures (today and 7
//! days) and a 14-day series. Run in release:
//! `cargo run --release -p widget-server --example report_bench -- [chats] [agents]`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use rusqlite::params;
use widget_server::Config;
use widget_server::domain::metrics::{Bucket, Metric, Period, ReportScope};
use widget_server::store::{self, now_ms, reports};

const DAY: i64 = 86_400_000;
const MESSAGES_PER_CHAT: i64 = 10;

fn seed(path: &std::path::Path, chats: i64, agents: i64) {
    let mut db = rusqlite::Connection::open(path).unwrap();
    db.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF;")
        .unwrap();
    let t = db.transaction().unwrap();
    let now = now_ms();
    t.execute(
        "INSERT INTO departments (id, name, created_at) VALUES ('d1', 'Sales', 0), ('d2', 'Support', 0)",
        [],
    )
    .unwrap();
    for a in 0..agents {
        t.execute(
            "INSERT INTO agents (id, email, name, role, password_hash, created_at) VALUES (?, ?, ?, 'agent', 'x', 0)",
            params![format!("a{a:03}"), format!("a{a}@example.com"), format!("Agent {a:03}")],
        )
        .unwrap();
        t.execute(
            "INSERT INTO agent_departments (agent_id, department_id) VALUES (?, ?)",
            params![format!("a{a:03}"), if a % 2 == 0 { "d1" } else { "d2" }],
        )
        .unwrap();
    }
    {
        let mut cust = t
            .prepare("INSERT INTO customers (id, name, created_at) VALUES (?, 'Visitor', ?)")
            .unwrap();
        let mut chat = t
            .prepare(
                "INSERT INTO chats (id, customer_id, department_id, status, assignee_id, created_at, \
                 last_message_at, waiting_since, last_seq, rating_score, rating_comment, closed_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .unwrap();
        let mut msg = t
            .prepare(
                "INSERT INTO messages (id, chat_id, seq, client_msg_id, author_kind, author_id, \
                 author_name, kind, body, created_at) VALUES (?, ?, ?, ?, ?, ?, 'x', ?, 'hello there', ?)",
            )
            .unwrap();
        let span = 90 * DAY;
        for c in 0..chats {
            let id = format!("c{c:07}");
            let created = now - span + c * span / chats;
            let agent = format!("a{:03}", c % agents);
            let dept = if (c % agents) % 2 == 0 { "d1" } else { "d2" };
            cust.execute(params![id, created]).unwrap();
            let mut ats = Vec::with_capacity(MESSAGES_PER_CHAT as usize);
            let mut at = created;
            for s in 1..=MESSAGES_PER_CHAT {
                if s > 1 {
                    at += 20_000 + (c * 7919 + s * 104_729) % 160_000;
                }
                ats.push(at);
            }
            let open = c > chats - chats / 100;
            let rating: Option<i64> = (c % 5 != 0).then_some(1 + (c * 31) % 5);
            chat.execute(params![
                id,
                id,
                dept,
                if open { "active" } else { "closed" },
                agent,
                created,
                at,
                created,
                MESSAGES_PER_CHAT,
                if open { None } else { rating },
                if open || c % 10 != 1 {
                    None
                } else {
                    Some("thanks")
                },
                if open { None } else { Some(at + 1000) },
            ])
            .unwrap();
            for s in 1..=MESSAGES_PER_CHAT {
                // customer, reply, customer, note, reply, customer, reply, customer,
                // reply, system (closed): waits of 20 s to ~3 min.
                let (kind, author, mkind) = match s {
                    1 | 3 | 6 | 8 => ("customer", id.as_str(), "text"),
                    4 => ("agent", agent.as_str(), "note"),
                    10 => ("system", "", "event"),
                    _ => ("agent", agent.as_str(), "text"),
                };
                let at = ats[s as usize - 1];
                msg.execute(params![
                    format!("{id}-{s}"),
                    id,
                    s,
                    format!("{id}-{s}"),
                    kind,
                    author,
                    mkind,
                    at
                ])
                .unwrap();
            }
        }
    }
    t.commit().unwrap();
    db.execute_batch("ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
}

fn report(name: &str, mut times: Vec<Duration>) {
    times.sort();
    let pct = |p: usize| times[(times.len() * p).div_ceil(100).max(1) - 1];
    println!(
        "{name:<34} n={:<4} p50={:>7.2} ms  p99={:>7.2} ms  max={:>7.2} ms",
        times.len(),
        pct(50).as_secs_f64() * 1e3,
        pct(99).as_secs_f64() * 1e3,
        times.last().unwrap().as_secs_f64() * 1e3
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<i64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let chats = args.first().copied().unwrap_or(100_000);
    let agents = args.get(1).copied().unwrap_or(20);
    let runs = 200;
    let dir = tempfile::tempdir().unwrap();
    let config = Config::new(dir.path());
    let path = dir.path().join("panel.db");
    let s = store::open(&config).await.unwrap();
    s.close_store().await;
    let t = Instant::now();
    seed(&path, chats, agents);
    println!(
        "seeded {chats} chats, {} messages, {agents} agents in {:.1} s",
        chats * MESSAGES_PER_CHAT,
        t.elapsed().as_secs_f64()
    );
    let s = store::open(&config).await.unwrap();
    let t = Instant::now();
    s.refresh_reports().await.unwrap();
    println!(
        "first rollup of every chat: {:.2} s",
        t.elapsed().as_secs_f64()
    );
    let now = now_ms();
    let all = ReportScope::All {
        agent_id: None,
        department_id: None,
    };
    let own = ReportScope::Own {
        agent_id: "a007".into(),
        department_id: None,
    };
    let p30 = Period::parse(None, None, Some("Europe/Paris"), now).unwrap();
    let (tz, name) = widget_server::domain::metrics::parse_tz(Some("Europe/Paris")).unwrap();
    let p14 = Period::last_days(14, &tz, &name, now).unwrap();
    let p7 = Period::last_days(7, &tz, &name, now).unwrap();
    let p1 = Period::last_days(1, &tz, &name, now).unwrap();

    let rows = reports::agents(&*s, &p30, &all).await.unwrap();
    let handled: u64 = rows.items.iter().map(|r| r.chats_handled).sum();
    println!(
        "30-day table: {} agents, {handled} chats handled",
        rows.items.len()
    );

    let mut times = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        reports::agents(&*s, &p30, &all).await.unwrap();
        times.push(t.elapsed());
    }
    report("30-day per-agent report", times);
    let mut times = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        reports::summary(&*s, &p30, &all).await.unwrap();
        times.push(t.elapsed());
    }
    report("30-day summary (everyone)", times);
    let mut times = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        reports::summary(&*s, &p1, &own).await.unwrap();
        reports::summary(&*s, &p7, &own).await.unwrap();
        reports::timeseries(&*s, &p14, &own, Metric::ChatsHandled, Bucket::Day)
            .await
            .unwrap();
        times.push(t.elapsed());
    }
    report("dashboard (today, 7 d, 14-d chart)", times);
    let mut times = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        reports::timeseries(&*s, &p30, &all, Metric::Response, Bucket::Day)
            .await
            .unwrap();
        times.push(t.elapsed());
    }
    report("30-day daily series (everyone)", times);
    s.close_store().await;
    if let Ok(keep) = std::env::var("KEEP_DB") {
        std::fs::copy(&path, keep).unwrap();
    }
}
