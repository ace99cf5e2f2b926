//! Ticket list benchmark: seeds 100,000 tickets and 1,000,000 entries straight into a
//! store's database, then times filtered, sorted pages and searches through the store
//! (the same query the REST list runs) and prints p50/p95/p99 per query shape.
//!
//! SQLite (a temp file, or `TICKETS_BENCH_DB=path` to keep and reuse it):
//! `cargo run --release -p widget-server --example tickets_bench -- [TICKETS] [ENTRIES_PER_TICKET] [RUNS]`
//!
//! PostgreSQL: `TICKETS_BENCH_PG=postgres://postgres@127.0.0.1:5432/tickets_bench` (the
//! database is created when missing, seeded when it holds no ticket, and kept).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::str::FromStr;
use std::time::{Duration, Instant};

use rusqlite::params;
use shared::model::Role;
use shared::ticket::{TicketPriority, TicketStatus};
use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, ConnectOptions, Connection};
use widget_server::domain::Actor;
use widget_server::store::postgres::{PgOptions, PgStore};
use widget_server::store::sqlite::SqliteStore;
use widget_server::store::{AssigneeFilter, SpamFilter, Store, TicketFilter, TicketSort};

const DEPARTMENTS: usize = 4;
const AGENTS: usize = 20;
const CUSTOMERS: usize = 10_000;
/// Error codes quoted in entries: each one is in about 200 entries.
const CODES: usize = 5_000;
const TAGS: [&str; 8] = [
    "billing", "vip", "bug", "refund", "login", "hardware", "shipping", "feature",
];
const NOW: i64 = 1_764_800_000_000;
/// A case stops after this much time (with at least 3 runs): the slow shapes.
const CASE_BUDGET: Duration = Duration::from_secs(20);

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

struct GenTicket {
    id: String,
    number: i64,
    subject: String,
    status: TicketStatus,
    priority: TicketPriority,
    customer_id: String,
    department_id: String,
    assignee_id: Option<String>,
    tags: Vec<&'static str>,
    due_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
    entries: i64,
    public: i64,
}

struct GenEntry {
    id: String,
    ticket_id: String,
    seq: i64,
    public_seq: Option<i64>,
    client_msg_id: String,
    author_kind: &'static str,
    author_id: String,
    kind: &'static str,
    body: String,
    created_at: i64,
}

/// The same tickets and entries every time, in ticket order (a ticket after its
/// entries).
fn generate(
    tickets: usize,
    per_ticket: usize,
    mut on_entry: impl FnMut(GenEntry),
    mut on_ticket: impl FnMut(GenTicket),
) {
    let mut rng = Lcg(42);
    for i in 0..tickets {
        let id = format!("t{i:07}");
        let status = TicketStatus::ALL[rng.below(4)];
        let priority = TicketPriority::ALL[rng.below(4)];
        let department_id = format!("d{}", rng.below(DEPARTMENTS));
        let assignee_id = (rng.below(3) > 0).then(|| format!("a{}", rng.below(AGENTS)));
        let mut tags: Vec<&str> = (0..rng.below(3))
            .map(|_| TAGS[rng.below(TAGS.len())])
            .collect();
        tags.dedup();
        let due_at = (rng.below(10) < 3).then(|| NOW + (rng.below(60) as i64) * 86_400_000);
        let created_at = NOW - (tickets - i) as i64 * 60_000;
        let updated_at = created_at + rng.below(30 * 86_400) as i64 * 1000;
        let mut public = 0i64;
        for s in 1..=per_ticket {
            let kind = match rng.below(10) {
                0..=5 => "reply",
                6..=7 => "note",
                _ => "event",
            };
            let public_seq = (kind == "reply").then(|| {
                public += 1;
                public
            });
            let (author_kind, author_id) = if s % 2 == 1 && kind == "reply" {
                ("customer", format!("c{}", i % CUSTOMERS))
            } else {
                ("agent", format!("a{}", rng.below(AGENTS)))
            };
            let body = if kind == "event" {
                format!("Status: open → pending by Agent {}", rng.below(AGENTS))
            } else {
                format!(
                    "entry {s} of ticket {i}: the printer shows {} again, error E{}",
                    TAGS[s % TAGS.len()],
                    rng.below(CODES)
                )
            };
            on_entry(GenEntry {
                id: format!("{id}-{s}"),
                ticket_id: id.clone(),
                seq: s as i64,
                public_seq,
                client_msg_id: format!("m{s}"),
                author_kind,
                author_id,
                kind,
                body,
                created_at: created_at + s as i64 * 1000,
            });
        }
        on_ticket(GenTicket {
            id,
            number: 1001 + i as i64,
            subject: format!("Ticket {i} about {}", TAGS[i % TAGS.len()]),
            status,
            priority,
            customer_id: format!("c{}", i % CUSTOMERS),
            department_id,
            assignee_id,
            tags,
            due_at,
            created_at,
            updated_at,
            entries: per_ticket as i64,
            public,
        });
    }
}

fn seed_sqlite(path: &std::path::Path, tickets: usize, per_ticket: usize) {
    let mut conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF; PRAGMA foreign_keys = OFF;",
    )
    .unwrap();
    let tx = conn.transaction().unwrap();
    for d in 0..DEPARTMENTS {
        tx.execute(
            "INSERT INTO departments (id, name, created_at) VALUES (?, ?, ?)",
            params![format!("d{d}"), format!("Department {d}"), NOW + d as i64],
        )
        .unwrap();
    }
    for a in 0..AGENTS {
        tx.execute(
            "INSERT INTO agents (id, email, name, role, password_hash, created_at) VALUES (?, ?, ?, 'agent', 'x', ?)",
            params![format!("a{a}"), format!("a{a}@example.com"), format!("Agent {a}"), NOW],
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
                NOW
            ],
        )
        .unwrap();
    }
    {
        let ins_t = std::cell::RefCell::new(
            tx.prepare(
                "INSERT INTO tickets (id, number, subject, status, priority, priority_rank, customer_id, department_id, \
                 assignee_id, tags, due_at, created_at, updated_at, source, last_seq, public_seq, entry_count) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'agent', ?, ?, ?)",
            )
            .unwrap(),
        );
        let ins_tag = std::cell::RefCell::new(
            tx.prepare("INSERT OR IGNORE INTO ticket_tags (tag, ticket_id) VALUES (?, ?)")
                .unwrap(),
        );
        let ins_e = std::cell::RefCell::new(
            tx.prepare(
                "INSERT INTO ticket_entries (id, ticket_id, seq, public_seq, client_msg_id, author_kind, author_id, \
                 author_name, kind, body, attachments, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'Someone', ?, ?, '[]', ?)",
            )
            .unwrap(),
        );
        // Entries reference their ticket: SQLite checks nothing here (foreign keys
        // off), so the generator's order is fine.
        generate(
            tickets,
            per_ticket,
            |e| {
                ins_e
                    .borrow_mut()
                    .execute(params![
                        e.id,
                        e.ticket_id,
                        e.seq,
                        e.public_seq,
                        e.client_msg_id,
                        e.author_kind,
                        e.author_id,
                        e.kind,
                        e.body,
                        e.created_at
                    ])
                    .unwrap();
            },
            |t| {
                ins_t
                    .borrow_mut()
                    .execute(params![
                        t.id,
                        t.number,
                        t.subject,
                        t.status.as_str(),
                        t.priority.as_str(),
                        widget_server::domain::ticket::priority_rank(t.priority),
                        t.customer_id,
                        t.department_id,
                        t.assignee_id,
                        serde_json::to_string(&t.tags).unwrap(),
                        t.due_at,
                        t.created_at,
                        t.updated_at,
                        t.entries,
                        t.public,
                        t.entries
                    ])
                    .unwrap();
                for tag in &t.tags {
                    ins_tag.borrow_mut().execute(params![tag, t.id]).unwrap();
                }
            },
        );
    }
    tx.execute(
        "UPDATE ticket_counter SET next_number = ? WHERE id = 1",
        params![1001 + tickets as i64],
    )
    .unwrap();
    tx.commit().unwrap();
    conn.execute_batch("ANALYZE;").unwrap();
}

/// A COPY text-format field.
fn field(out: &mut String, v: Option<&str>) {
    match v {
        None => out.push_str("\\N"),
        Some(s) => {
            for c in s.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\t' => out.push_str("\\t"),
                    '\n' => out.push_str("\\n"),
                    c => out.push(c),
                }
            }
        }
    }
}

fn row(out: &mut String, fields: &[Option<&str>]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push('\t');
        }
        field(out, *f);
    }
    out.push('\n');
}

/// Streams `rows` into `COPY table (cols) FROM STDIN`.
async fn copy_rows(conn: &mut sqlx::PgConnection, statement: &str, rows: Vec<String>) {
    let mut copy = conn.copy_in_raw(statement).await.unwrap();
    let mut buf = String::new();
    for r in rows {
        buf.push_str(&r);
        if buf.len() > 1 << 20 {
            copy.send(std::mem::take(&mut buf).into_bytes())
                .await
                .unwrap();
        }
    }
    if !buf.is_empty() {
        copy.send(buf.into_bytes()).await.unwrap();
    }
    copy.finish().await.unwrap();
}

async fn seed_postgres(url: &str, tickets: usize, per_ticket: usize) {
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let mut people = Vec::new();
    for d in 0..DEPARTMENTS {
        people.push(format!(
            "INSERT INTO departments (id, name, created_at) VALUES ('d{d}', 'Department {d}', {})",
            NOW + d as i64
        ));
    }
    for a in 0..AGENTS {
        people.push(format!(
            "INSERT INTO agents (id, email, name, role, password_hash, created_at) \
             VALUES ('a{a}', 'a{a}@example.com', 'Agent {a}', 'agent', 'x', {NOW})"
        ));
        people.push(format!(
            "INSERT INTO agent_departments (agent_id, department_id) VALUES ('a{a}', 'd{}')",
            a % DEPARTMENTS
        ));
    }
    for s in people {
        sqlx::query(AssertSqlSafe(s))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let customers: Vec<String> = (0..CUSTOMERS)
        .map(|c| {
            let mut r = String::new();
            let created = NOW.to_string();
            row(
                &mut r,
                &[
                    Some(&format!("c{c}")),
                    Some(&format!("Customer {c}")),
                    Some(&format!("customer{c}@example.com")),
                    Some(&created),
                ],
            );
            r
        })
        .collect();
    copy_rows(
        &mut conn,
        "COPY customers (id, name, email, created_at) FROM STDIN",
        customers,
    )
    .await;
    // Tickets first (entries and tags reference them): two passes of the generator.
    let (mut trows, mut tagrows) = (Vec::new(), Vec::new());
    generate(
        tickets,
        per_ticket,
        |_| {},
        |t| {
            let mut r = String::new();
            let (n, rank) = (
                t.number.to_string(),
                widget_server::domain::ticket::priority_rank(t.priority).to_string(),
            );
            let (due, created, updated) = (
                t.due_at.map(|d| d.to_string()),
                t.created_at.to_string(),
                t.updated_at.to_string(),
            );
            let (entries, public) = (t.entries.to_string(), t.public.to_string());
            let tags = serde_json::to_string(&t.tags).unwrap();
            row(
                &mut r,
                &[
                    Some(&t.id),
                    Some(&n),
                    Some(&t.subject),
                    Some(t.status.as_str()),
                    Some(t.priority.as_str()),
                    Some(&rank),
                    Some(&t.customer_id),
                    Some(&t.department_id),
                    t.assignee_id.as_deref(),
                    Some(&tags),
                    due.as_deref(),
                    Some(&created),
                    Some(&updated),
                    Some("agent"),
                    Some(&entries),
                    Some(&public),
                    Some(&entries),
                ],
            );
            trows.push(r);
            for tag in &t.tags {
                let mut r = String::new();
                row(&mut r, &[Some(tag), Some(&t.id)]);
                tagrows.push(r);
            }
        },
    );
    copy_rows(
        &mut conn,
        "COPY tickets (id, number, subject, status, priority, priority_rank, customer_id, department_id, \
         assignee_id, tags, due_at, created_at, updated_at, source, last_seq, public_seq, entry_count) FROM STDIN",
        trows,
    )
    .await;
    copy_rows(
        &mut conn,
        "COPY ticket_tags (tag, ticket_id) FROM STDIN",
        tagrows,
    )
    .await;
    // Entries in slices, so the rows never all sit in memory at once.
    let slice = 10_000usize;
    let mut erows = Vec::with_capacity(slice);
    let mut pending: Vec<Vec<String>> = Vec::new();
    generate(
        tickets,
        per_ticket,
        |e| {
            let mut r = String::new();
            let (seq, public, created) = (
                e.seq.to_string(),
                e.public_seq.map(|p| p.to_string()),
                e.created_at.to_string(),
            );
            row(
                &mut r,
                &[
                    Some(&e.id),
                    Some(&e.ticket_id),
                    Some(&seq),
                    public.as_deref(),
                    Some(&e.client_msg_id),
                    Some(e.author_kind),
                    Some(&e.author_id),
                    Some("Someone"),
                    Some(e.kind),
                    Some(&e.body),
                    Some("[]"),
                    Some(&created),
                ],
            );
            erows.push(r);
            if erows.len() == slice {
                pending.push(std::mem::take(&mut erows));
            }
        },
        |_| {},
    );
    pending.push(erows);
    let mut copy = conn
        .copy_in_raw(
            "COPY ticket_entries (id, ticket_id, seq, public_seq, client_msg_id, author_kind, author_id, \
             author_name, kind, body, attachments, created_at) FROM STDIN",
        )
        .await
        .unwrap();
    for rows in pending {
        copy.send(rows.concat().into_bytes()).await.unwrap();
    }
    copy.finish().await.unwrap();
    sqlx::query(AssertSqlSafe(format!(
        "UPDATE ticket_counter SET next_number = {} WHERE id = 1",
        1001 + tickets
    )))
    .execute(&mut conn)
    .await
    .unwrap();
    sqlx::query("VACUUM ANALYZE")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
}

/// Creates the database `url` names when it is missing; true when it holds no ticket.
async fn prepare_postgres(url: &str) -> bool {
    let opts = PgConnectOptions::from_str(url).unwrap();
    let name = opts
        .get_database()
        .expect("the URL names a database")
        .to_owned();
    let mut admin = opts.clone().database("postgres").connect().await.unwrap();
    let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(&name)
        .fetch_optional(&mut admin)
        .await
        .unwrap();
    if exists.is_none() {
        // A name from the operator's own URL: quoting is all the escaping it needs.
        sqlx::query(AssertSqlSafe(format!(
            "CREATE DATABASE \"{}\"",
            name.replace('"', "\"\"")
        )))
        .execute(&mut admin)
        .await
        .unwrap();
    }
    admin.close().await.unwrap();
    let store = open_pg(url).await;
    store.close_store().await;
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tickets")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    n == 0
}

async fn open_pg(url: &str) -> PgStore {
    PgStore::open_with(
        url,
        PgOptions {
            // The slow shapes of an old schema take longer than a node allows.
            read_timeout: Duration::from_secs(600),
            ..PgOptions::default()
        },
    )
    .await
    .unwrap()
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

fn q(text: &str) -> TicketFilter {
    TicketFilter {
        q: Some(text.into()),
        ..filter()
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let tickets: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let per_ticket: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10);
    let runs: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(200);
    let dir = tempfile::tempdir().unwrap();
    let store: Box<dyn Store> = if let Ok(url) = std::env::var("TICKETS_BENCH_PG") {
        if prepare_postgres(&url).await {
            let started = Instant::now();
            seed_postgres(&url, tickets, per_ticket).await;
            println!(
                "seeded {tickets} tickets, {} entries in {:.1} s (PostgreSQL)",
                tickets * per_ticket,
                started.elapsed().as_secs_f64()
            );
        }
        println!("backend: PostgreSQL");
        Box::new(open_pg(&url).await)
    } else {
        // TICKETS_BENCH_DB=path keeps (and reuses) the seeded database.
        let path = std::env::var_os("TICKETS_BENCH_DB")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| dir.path().join("bench.db"));
        let url = format!("sqlite://{}", path.display());
        let fresh = !path.exists();
        let store = SqliteStore::open(&url).await.unwrap();
        store.close_store().await;
        if fresh {
            let started = Instant::now();
            seed_sqlite(&path, tickets, per_ticket);
            println!(
                "seeded {tickets} tickets, {} entries in {:.1} s (SQLite)",
                tickets * per_ticket,
                started.elapsed().as_secs_f64()
            );
        }
        println!("backend: SQLite");
        Box::new(SqliteStore::open(&url).await.unwrap())
    };
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
    let open = || TicketFilter {
        statuses: vec![TicketStatus::Open],
        ..filter()
    };
    let mut cases: Vec<(String, &Actor, TicketFilter)> = vec![
        (
            "agent: status=open,pending sort=updated".into(),
            &agent,
            TicketFilter {
                statuses: vec![TicketStatus::Open, TicketStatus::Pending],
                ..filter()
            },
        ),
        (
            "agent: assignee=me sort=due".into(),
            &agent,
            TicketFilter {
                assignee: AssigneeFilter::Agent("a1".into()),
                sort: TicketSort::Due,
                ..filter()
            },
        ),
        (
            "supervisor: priority>=high sort=priority".into(),
            &sup,
            TicketFilter {
                priority_min: Some(TicketPriority::High),
                sort: TicketSort::Priority,
                ..filter()
            },
        ),
        (
            "supervisor: department + status=open sort=oldest page 50".into(),
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
            "supervisor: tag=refund sort=newest".into(),
            &sup,
            TicketFilter {
                tag: Some("refund".into()),
                sort: TicketSort::Newest,
                ..filter()
            },
        ),
        (
            "agent: tag=refund sort=updated".into(),
            &agent,
            TicketFilter {
                tag: Some("refund".into()),
                ..filter()
            },
        ),
        (
            "supervisor: assignee=none sort=updated".into(),
            &sup,
            TicketFilter {
                assignee: AssigneeFilter::Unassigned,
                ..filter()
            },
        ),
    ];
    for (name, sort) in [
        ("newest", TicketSort::Newest),
        ("oldest", TicketSort::Oldest),
        ("priority", TicketSort::Priority),
        ("due", TicketSort::Due),
        ("updated", TicketSort::Updated),
    ] {
        cases.push((
            format!("supervisor: status=open sort={name}"),
            &sup,
            TicketFilter { sort, ..open() },
        ));
    }
    cases.extend([
        (
            "supervisor: q=#51234 (number)".to_owned(),
            &sup,
            q("#51234"),
        ),
        (
            "supervisor: q=51234 (number or text)".to_owned(),
            &sup,
            q("51234"),
        ),
        (
            "supervisor: q=Customer 4242 (name)".to_owned(),
            &sup,
            q("Customer 4242"),
        ),
        (
            "supervisor: q=customer4242@example.com".to_owned(),
            &sup,
            q("customer4242@example.com"),
        ),
        (
            "supervisor: q=E1234 (entry text, ~200 entries)".to_owned(),
            &sup,
            q("E1234"),
        ),
        ("agent: q=E1234 (entry text)".to_owned(), &agent, q("E1234")),
        (
            "supervisor: q=printer E1234 (two words)".to_owned(),
            &sup,
            q("printer E1234"),
        ),
        (
            "supervisor: q=<text, no match>".to_owned(),
            &sup,
            q("no such words anywhere"),
        ),
        (
            "supervisor: q=E1234 status=open sort=priority".to_owned(),
            &sup,
            TicketFilter {
                sort: TicketSort::Priority,
                ..TicketFilter {
                    q: Some("E1234".into()),
                    ..open()
                }
            },
        ),
    ]);
    println!(
        "{:<58} {:>5} {:>8} {:>8} {:>8} {:>7}",
        "query (20 per page, with total)", "runs", "p50 ms", "p95 ms", "p99 ms", "total"
    );
    for (name, actor, f) in &cases {
        let mut times = Vec::with_capacity(runs);
        let mut total = 0;
        let started = Instant::now();
        for i in 0..runs {
            if i >= 3 && started.elapsed() > CASE_BUDGET {
                break;
            }
            let t0 = Instant::now();
            let page = store.tickets(actor, f).await.unwrap();
            times.push(t0.elapsed().as_secs_f64() * 1000.0);
            total = page.total;
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{name:<58} {:>5} {:>8.2} {:>8.2} {:>8.2} {total:>7}",
            times.len(),
            pct(&times, 0.5),
            pct(&times, 0.95),
            pct(&times, 0.99)
        );
    }
    store.close_store().await;
}
