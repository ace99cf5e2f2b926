//! Ticket list benchmark: seeds 100,000 tickets and 1,000,000 entries straight into a
//! SQLite store, then times filtered, sorted pages through the store (the same query
//! the REST list runs) and prints p50/p99 per query.
//!
//! `cargo run -p widget-server --example tickets_bench -- [TICKETS] [ENTRIES_PER_TICKET] [RUNS]`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use rusqlite::params;
use shared::model::Role;
use shared::ticket::{TicketPriority, TicketStatus};
use widget_server::domain::Actor;
use widget_server::store::sqlite::SqliteStore;
use widget_server::store::{
    AssigneeFilter, SpamFilter, Store, TicketFilter, TicketSort, TicketStore,
};

const DEPARTMENTS: usize = 4;
const AGENTS: usize = 20;
const CUSTOMERS: usize = 10_000;
const TAGS: [&str; 8] = [
    "billing", "vip", "bug", "refund", "login", "hardware", "shipping", "feature",
];

/// A small deterministic generator (no dependency, same data every run).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn seed(path: &std::path::Path, tickets: usize, per_ticket: usize) {
    let mut conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF; PRAGMA foreign_keys = OFF;",
    )
    .unwrap();
    let tx = conn.transaction().unwrap();
    let now: i64 = 1_764_800_000_000;
    for d in 0..DEPARTMENTS {
        tx.execute(
            "INSERT INTO departments (id, name, created_at) VALUES (?, ?, ?)",
            params![format!("d{d}"), format!("Department {d}"), now + d as i64],
        )
        .unwrap();
    }
    for a in 0..AGENTS {
        tx.execute(
            "INSERT INTO agents (id, email, name, role, password_hash, created_at) VALUES (?, ?, ?, 'agent', 'x', ?)",
            params![format!("a{a}"), format!("a{a}@example.com"), format!("Agent {a}"), now],
        )
        .unwrap();
        tx.execute(
            "INSERT INTO agent_departments (agent_id, department_id) VALUES (?, ?)",
            params![format!("a{a}"), format!("d{}", a % DEPARTMENTS)],
        )
        .unwrap();
    }
    for c in 0..CUSTOMERS {
        tx.execute(
            "INSERT INTO customers (id, name, email, created_at) VALUES (?, ?, ?, ?)",
            params![
                format!("c{c}"),
                format!("Customer {c}"),
                format!("customer{c}@example.com"),
                now
            ],
        )
        .unwrap();
    }
    let mut rng = Lcg(42);
    {
        let mut ins_t = tx
            .prepare(
                "INSERT INTO tickets (id, number, subject, status, priority, priority_rank, customer_id, department_id, \
                 assignee_id, tags, due_at, created_at, updated_at, source, last_seq, public_seq, entry_count) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'agent', ?, ?, ?)",
            )
            .unwrap();
        let mut ins_tag = tx
            .prepare("INSERT OR IGNORE INTO ticket_tags (tag, ticket_id) VALUES (?, ?)")
            .unwrap();
        let mut ins_e = tx
            .prepare(
                "INSERT INTO ticket_entries (id, ticket_id, seq, public_seq, client_msg_id, author_kind, author_id, \
                 author_name, kind, body, attachments, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '[]', ?)",
            )
            .unwrap();
        for i in 0..tickets {
            let id = format!("t{i:07}");
            let status = TicketStatus::ALL[rng.below(4)];
            let prio = TicketPriority::ALL[rng.below(4)];
            let dept = format!("d{}", rng.below(DEPARTMENTS));
            let assignee = (rng.below(3) > 0).then(|| format!("a{}", rng.below(AGENTS)));
            let tags: Vec<&str> = (0..rng.below(3))
                .map(|_| TAGS[rng.below(TAGS.len())])
                .collect();
            let due = (rng.below(10) < 3).then(|| now + (rng.below(60) as i64) * 86_400_000);
            let created = now - (tickets - i) as i64 * 60_000;
            let updated = created + rng.below(30 * 86_400) as i64 * 1000;
            let mut public = 0i64;
            for s in 1..=per_ticket {
                let kind = match rng.below(10) {
                    0..=5 => "reply",
                    6..=7 => "note",
                    _ => "event",
                };
                let p = (kind == "reply").then(|| {
                    public += 1;
                    public
                });
                let (ak, aid) = if s % 2 == 1 && kind == "reply" {
                    ("customer", format!("c{}", i % CUSTOMERS))
                } else {
                    ("agent", format!("a{}", rng.below(AGENTS)))
                };
                ins_e
                    .execute(params![
                        format!("{id}-{s}"),
                        id,
                        s as i64,
                        p,
                        format!("m{s}"),
                        ak,
                        aid,
                        "Someone",
                        kind,
                        format!(
                            "entry {s} of ticket {i}: the printer {} again",
                            TAGS[s % TAGS.len()]
                        ),
                        created + s as i64 * 1000
                    ])
                    .unwrap();
            }
            ins_t
                .execute(params![
                    id,
                    1001 + i as i64,
                    format!("Ticket {i} about {}", TAGS[i % TAGS.len()]),
                    status.as_str(),
                    prio.as_str(),
                    widget_server::domain::ticket::priority_rank(prio),
                    format!("c{}", i % CUSTOMERS),
                    dept,
                    assignee,
                    serde_json::to_string(&tags).unwrap(),
                    due,
                    created,
                    updated,
                    per_ticket as i64,
                    public,
                    per_ticket as i64
                ])
                .unwrap();
            for t in &tags {
                ins_tag.execute(params![t, id]).unwrap();
            }
        }
    }
    tx.execute(
        "UPDATE ticket_counter SET next_number = ? WHERE id = 1",
        params![1001 + tickets as i64],
    )
    .unwrap();
    tx.commit().unwrap();
    conn.execute_batch("ANALYZE;").unwrap();
}

fn filter() -> TicketFilter {
    TicketFilter {
        statuses: vec![],
        priorities: vec![],
        priority_min: None,
        department_id: None,
        assignee: AssigneeFilter::Any,
        tag: None,
        q: None,
        spam: SpamFilter::Hide,
        include_merged: false,
        customer_id: None,
        sort: TicketSort::Updated,
        page: 1,
        per_page: 20,
    }
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let tickets: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let per_ticket: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10);
    let runs: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(200);
    // TICKETS_BENCH_DB=path keeps (and reuses) the seeded database.
    let dir = tempfile::tempdir().unwrap();
    let path = std::env::var_os("TICKETS_BENCH_DB")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| dir.path().join("bench.db"));
    let url = format!("sqlite://{}", path.display());
    let fresh = !path.exists();
    let store = SqliteStore::open(&url).await.unwrap();
    store.close_store().await;
    if fresh {
        let started = Instant::now();
        seed(&path, tickets, per_ticket);
        println!(
            "seeded {tickets} tickets, {} entries in {:.1} s",
            tickets * per_ticket,
            started.elapsed().as_secs_f64()
        );
    }
    let store = SqliteStore::open(&url).await.unwrap();
    let agent = Actor {
        id: "a1".into(),
        name: "Agent 1".into(),
        role: Role::Agent,
        department_ids: vec!["d1".into()],
    };
    let sup = Actor {
        id: "s".into(),
        name: "Supervisor".into(),
        role: Role::Supervisor,
        department_ids: vec![],
    };
    let cases: Vec<(&str, &Actor, TicketFilter)> = vec![
        (
            "agent: status=open,pending sort=updated",
            &agent,
            TicketFilter {
                statuses: vec![TicketStatus::Open, TicketStatus::Pending],
                ..filter()
            },
        ),
        (
            "agent: assignee=me sort=due",
            &agent,
            TicketFilter {
                assignee: AssigneeFilter::Agent("a1".into()),
                sort: TicketSort::Due,
                ..filter()
            },
        ),
        (
            "supervisor: priority>=high sort=priority",
            &sup,
            TicketFilter {
                priority_min: Some(TicketPriority::High),
                sort: TicketSort::Priority,
                ..filter()
            },
        ),
        (
            "supervisor: department + status=open sort=oldest page 50",
            &sup,
            TicketFilter {
                department_id: Some("d2".into()),
                statuses: vec![TicketStatus::Open],
                sort: TicketSort::Oldest,
                page: 50,
                ..filter()
            },
        ),
        (
            "supervisor: tag=refund sort=newest",
            &sup,
            TicketFilter {
                tag: Some("refund".into()),
                sort: TicketSort::Newest,
                ..filter()
            },
        ),
        (
            "supervisor: assignee=none sort=updated",
            &sup,
            TicketFilter {
                assignee: AssigneeFilter::Unassigned,
                ..filter()
            },
        ),
        (
            "supervisor: q=#51234 (number)",
            &sup,
            TicketFilter {
                q: Some("#51234".into()),
                ..filter()
            },
        ),
    ];
    println!(
        "{:<58} {:>9} {:>9} {:>8}",
        "query (20 per page, with total)", "p50 ms", "p99 ms", "total"
    );
    for (name, actor, f) in &cases {
        let mut times = Vec::with_capacity(runs);
        let mut total = 0;
        for _ in 0..runs {
            let t0 = Instant::now();
            let page = store.tickets(actor, f).await.unwrap();
            times.push(t0.elapsed().as_secs_f64() * 1000.0);
            total = page.total;
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{name:<58} {:>9.2} {:>9.2} {total:>8}",
            pct(&times, 0.5),
            pct(&times, 0.99)
        );
    }
    // Entry-text search scans the entries: timed apart, fewer runs.
    let f = TicketFilter {
        q: Some("no such words anywhere".into()),
        ..filter()
    };
    let mut times = Vec::new();
    for _ in 0..3 {
        let t0 = Instant::now();
        store.tickets(&sup, &f).await.unwrap();
        times.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{:<58} {:>9.2} {:>9.2}",
        "supervisor: q=<text, no match> (scans entries; 3 runs)",
        pct(&times, 0.5),
        pct(&times, 0.99)
    );
    store.close_store().await;
}
