//! Knowledge-base search benchmark: 10,000 articles, a mix of searches (one word, several
//! words, a word being typed, typos, the customer words of a suggestion), latency
//! percentiles per backend. Not a test: figures go to docs/performance.md.
//!
//! `cargo run -p widget-server --example kb_search_bench [-- --articles N --rounds N]`;
//! with `TEST_DATABASE_URL=postgres://…` it also runs on a fresh PostgreSQL database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use shared::kb::{ArticleInput, ArticleStatus, Visibility};
use sqlx::{AssertSqlSafe, Connection};
use widget_server::domain::kb::{self as rules, ArticleFile, KbAudience};
use widget_server::store::{ArticleFilter, Store};

const SEARCHES: &[&str] = &[
    "keystone",
    "hdmi no signal",
    "firmware update usb",
    "warranty",
    "bluetooth speaker",
    "iphone mirroring",
    "refund",
    "lamp life",
    "fan noise",
    "projector picture",
    "keyst",
    "proj",
    "keystne",
    "firmwre",
    "wifi casting slow",
    "ceiling mount flip",
    "laptop hdmi projector says no signal picture",
    "netflix app",
    "remote batteries",
    "screen size distance",
];

const DOMAIN: &[&str] = &[
    "projector",
    "picture",
    "image",
    "hdmi",
    "cable",
    "wifi",
    "bluetooth",
    "remote",
    "lens",
    "focus",
    "keystone",
    "firmware",
    "update",
    "warranty",
    "refund",
    "shipping",
    "lamp",
    "led",
    "fan",
    "noise",
    "screen",
    "wall",
    "ceiling",
    "mount",
    "speaker",
    "sound",
    "volume",
    "app",
    "netflix",
    "youtube",
    "casting",
    "mirroring",
    "iphone",
    "android",
    "laptop",
    "console",
    "brightness",
    "colour",
    "resolution",
    "4k",
    "signal",
    "input",
    "source",
    "settings",
    "menu",
];

/// A deterministic word generator: syllables make a vocabulary of a few thousand words.
struct Words(u64);

impl Words {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn word(&mut self) -> String {
        const SYL: &[&str] = &[
            "ka", "lo", "mi", "ner", "sta", "vo", "tri", "pel", "dun", "gra", "cho", "fi", "zu",
            "bem", "ras", "tol", "qui", "wen", "hap", "sor",
        ];
        let r = self.next();
        // About one word in 40 is a product word: each is in roughly one article in
        // ten, as a real help center's specific terms are (most are rarer).
        if r.is_multiple_of(40) {
            return DOMAIN[(r / 40) as usize % DOMAIN.len()].to_owned();
        }
        let n = 2 + (r >> 8) as usize % 2;
        (0..n)
            .map(|i| SYL[((r >> (16 + i * 5)) as usize) % SYL.len()])
            .collect()
    }
    fn text(&mut self, n: usize) -> String {
        (0..n).map(|_| self.word()).collect::<Vec<_>>().join(" ")
    }
}

fn articles(n: usize) -> Vec<ArticleFile> {
    let mut w = Words(0x9e37_79b9_7f4a_7c15);
    (0..n)
        .map(|i| ArticleFile {
            input: rules::validate_article(&ArticleInput {
                title: format!("{} {i}", w.text(5)),
                body: (0..4).map(|_| w.text(45)).collect::<Vec<_>>().join("\n\n"),
                slug: None,
                category_id: None,
                tags: vec![w.word(), w.word()],
                status: ArticleStatus::Published,
                visibility: if i.is_multiple_of(10) {
                    Visibility::Internal
                } else {
                    Visibility::Public
                },
            })
            .unwrap(),
            category_path: vec![format!("Section {}", i % 12)],
        })
        .collect()
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn bench(name: &str, store: &dyn Store, n: usize, rounds: usize) {
    let load = Instant::now();
    let all = articles(n);
    for chunk in all.chunks(500) {
        store.kb_import("bench", chunk.to_vec()).await.unwrap();
    }
    println!(
        "{name}: {n} articles imported in {:.1} s",
        load.elapsed().as_secs_f64()
    );
    let mut lat = Vec::new();
    let mut per: Vec<(&str, Vec<f64>)> = SEARCHES.iter().map(|q| (*q, Vec::new())).collect();
    for round in 0..=rounds {
        for (i, q) in SEARCHES.iter().enumerate() {
            let audience = if i % 2 == 0 {
                KbAudience::Public
            } else {
                KbAudience::Agents
            };
            let filter = ArticleFilter {
                audience,
                query: Some(rules::parse_search(q).unwrap()),
                category_id: None,
                page: 1,
                per_page: 20,
            };
            let t = Instant::now();
            let page = store.kb_articles(&filter).await.unwrap();
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            std::hint::black_box(page);
            // Round 0 warms the caches.
            if round > 0 {
                lat.push(ms);
                per[i].1.push(ms);
            }
        }
    }
    let pct = |v: &mut Vec<f64>, p: f64| {
        v.sort_by(f64::total_cmp);
        v[((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1]
    };
    println!(
        "{name}: {} searches: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        lat.len(),
        pct(&mut lat, 0.50),
        pct(&mut lat, 0.99),
        pct(&mut lat, 1.0)
    );
    for (q, v) in &mut per {
        println!(
            "  {q:<48} p50 {:>6.2} ms  p99 {:>6.2} ms",
            pct(v, 0.5),
            pct(v, 0.99)
        );
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n = arg("--articles", 10_000);
    let rounds = arg("--rounds", 25);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store = widget_server::store::sqlite::SqliteStore::open(&url)
        .await
        .unwrap();
    bench("sqlite", &store, n, rounds).await;
    store.close_store().await;

    let Some(server) = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        println!("TEST_DATABASE_URL is not set: PostgreSQL skipped");
        return;
    };
    let db = format!("kb_bench_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&server).await.unwrap();
    sqlx::query(AssertSqlSafe(format!("CREATE DATABASE \"{db}\"")))
        .execute(&mut admin)
        .await
        .unwrap();
    let base = server.rsplit_once('/').map_or(server.as_str(), |(b, _)| b);
    let pg = widget_server::store::postgres::PgStore::open(&format!("{base}/{db}"))
        .await
        .unwrap();
    bench("postgres", &pg, n, rounds).await;
    pg.close_store().await;
    sqlx::query(AssertSqlSafe(format!(
        "DROP DATABASE \"{db}\" WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await
    .unwrap();
}
