//! `loadgen bench`: starts a fresh `widget-server` per scenario on a temp data dir,
//! runs the standard scenarios of the performance budgets, and writes the figures into
//! the load generator's own section of `docs/performance.md`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use serde::Serialize;

use crate::run::{self, Mode, Options, Report};
use crate::setup::{self, Layout};

pub const BEGIN: &str = "<!-- loadgen:begin";
pub const END: &str = "<!-- loadgen:end -->";

#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// Shorter runs (one run per scenario, shorter windows) — for a first look.
    #[arg(long)]
    quick: bool,
    /// CI smoke run: tiny counts for a few seconds; exits non-zero unless nothing acked
    /// was lost and nothing failed. Writes no docs.
    #[arg(long, conflicts_with = "quick")]
    smoke: bool,
    /// widget-server binary (default: $WIDGET_SERVER_BIN, target/release, target/debug).
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Where to write the figures (default: docs/performance.md of the workspace).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print the figures only; do not touch docs/performance.md.
    #[arg(long)]
    no_write: bool,
    /// Runs per max-rate and storage scenario (the note quotes medians).
    #[arg(long)]
    runs: Option<u32>,
    /// Only these scenarios (comma-separated): idle, sustained, fanout, agents5, storage.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Also print every report as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Keep the temp data dirs and server logs (their path is printed).
    #[arg(long)]
    keep: bool,
}

/// A running server under test.
struct Server {
    child: tokio::process::Child,
    pid: u32,
    url: String,
}

fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

impl Server {
    async fn start(bin: &Path, data_dir: &Path, log: &Path) -> anyhow::Result<Server> {
        let port = free_port()?;
        let log_file = std::fs::File::create(log)?;
        let child = tokio::process::Command::new(bin)
            .arg("serve")
            .arg("--bind")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--send-rate-limit", "0", "--event-rate-limit", "0"])
            .args(["--new-visitors-per-minute", "0", "--log-level", "warn"])
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        let pid = child.id().context("server exited at once")?;
        let url = format!("http://127.0.0.1:{port}");
        let mut server = Server { child, pid, url };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()?;
        // Bounded: 60 s for migrations and bind.
        for _ in 0..300 {
            for path in ["/healthz", "/api/v1/healthz"] {
                if let Ok(r) = http.get(format!("{}{path}", server.url)).send().await
                    && r.status().is_success()
                {
                    return Ok(server);
                }
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                bail!("widget-server exited with {status}; see {}", log.display());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        server.stop().await;
        bail!(
            "widget-server did not answer /healthz within 60 s; see {}",
            log.display()
        )
    }

    /// SIGTERM (a clean shutdown), then SIGKILL after 10 s.
    async fn stop(mut self) {
        let _ = tokio::process::Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status()
            .await;
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

/// One scenario of the standard set.
#[derive(Debug, Clone)]
struct Scenario {
    key: &'static str,
    title: &'static str,
    runs: u32,
    opts: Options,
}

fn base_options(url: &str, layout: Layout, agents: u32, visitors: u32, mode: Mode) -> Options {
    Options {
        url: url.to_owned(),
        extra_urls: Vec::new(),
        allow_remote: false,
        agents,
        visitors,
        layout,
        password: setup::DEFAULT_PASSWORD.to_owned(),
        create_agents: None,
        reply_share: 0.2,
        body_chars: 40,
        max_inflight: 64,
        connect_concurrency: 128,
        connect_timeout: Duration::from_secs(30),
        // Long enough to tell a backlog (late but delivered) from a loss; the wait
        // ends as soon as everything is answered and delivered.
        grace: Duration::from_secs(30),
        server_pid: None,
        verify: false,
        idle_chats: false,
        mode,
    }
}

fn scenarios(args: &BenchArgs) -> Vec<Scenario> {
    let q = args.quick;
    let runs = args.runs.unwrap_or(if q { 1 } else { 3 }).max(1);
    let s = Duration::from_secs;
    if args.smoke {
        let mut o = base_options(
            "",
            Layout::Shared,
            4,
            40,
            Mode::Fixed {
                rate: 100.0,
                warmup: s(1),
                duration: s(3),
            },
        );
        o.verify = true;
        return vec![Scenario {
            key: "smoke",
            title: "Smoke: 40 visitors, 4 agents, 100 msg/s for 3 s, verified",
            runs: 1,
            opts: o,
        }];
    }
    let ramp = |start: f64| Mode::MaxRate {
        start,
        growth: 1.25,
        step: if q { s(3) } else { s(4) },
        bound_ms: 25.0,
        refine: if q { 1 } else { 2 },
        max_steps: 30,
        max_rate: 200_000.0,
    };
    let mut storage = base_options(
        "",
        Layout::Solo,
        50,
        1000,
        Mode::ClosedLoop {
            inflight: 8,
            warmup: s(2),
            duration: if q { s(5) } else { s(10) },
        },
    );
    storage.reply_share = 0.0;
    storage.verify = true;
    let mut idle = base_options("", Layout::Shared, 100, 10_000, Mode::Idle { hold: s(10) });
    idle.connect_timeout = s(60);
    let all = vec![
        Scenario {
            key: "idle",
            title: "1. Idle connections: 10,000 visitors + 100 agents",
            runs: 1,
            opts: idle,
        },
        Scenario {
            key: "sustained",
            title: "2. Sustained load: 1,000 visitors, 50 agents (one department), 5,000 msg/s",
            runs: 1,
            opts: base_options(
                "",
                Layout::Shared,
                50,
                1000,
                Mode::Fixed {
                    rate: 5000.0,
                    warmup: s(5),
                    duration: if q { s(15) } else { s(60) },
                },
            ),
        },
        Scenario {
            key: "fanout",
            title: "3a. Max rate at p99 ≤ 25 ms, fan-out to 50 agents (1,000 visitors)",
            runs,
            opts: base_options("", Layout::Shared, 50, 1000, ramp(1000.0)),
        },
        Scenario {
            key: "agents5",
            title: "3b. Max rate at p99 ≤ 25 ms, 5 agents (1,000 visitors)",
            runs,
            opts: base_options("", Layout::Shared, 5, 1000, ramp(4000.0)),
        },
        Scenario {
            key: "storage",
            title: "4. Storage: persisted messages/s on SQLite, one agent per message",
            runs,
            opts: storage,
        },
    ];
    all.into_iter()
        .filter(|sc| args.only.is_empty() || args.only.iter().any(|o| o == sc.key))
        .collect()
}

/// The equivalent `loadgen run` flags of a scenario, for the note.
fn run_flags(o: &Options) -> String {
    let mut f = format!(
        "--agents {} --visitors {} --layout {}",
        o.agents,
        o.visitors,
        match o.layout {
            Layout::Shared => "shared",
            Layout::Solo => "solo",
        }
    );
    match &o.mode {
        Mode::Fixed {
            rate,
            warmup,
            duration,
        } => {
            let _ = write!(
                f,
                " --rate {rate} --warmup {} --duration {}",
                warmup.as_secs_f64(),
                duration.as_secs_f64()
            );
        }
        Mode::MaxRate {
            start,
            growth,
            step,
            bound_ms,
            refine,
            ..
        } => {
            let _ = write!(
                f,
                " --max-rate --start-rate {start} --growth {growth} --step-secs {} --bound-ms {bound_ms} --refine {refine}",
                step.as_secs_f64()
            );
        }
        Mode::ClosedLoop {
            inflight,
            warmup,
            duration,
        } => {
            let _ = write!(
                f,
                " --closed-loop {inflight} --warmup {} --duration {}",
                warmup.as_secs_f64(),
                duration.as_secs_f64()
            );
        }
        Mode::Idle { hold } => {
            let _ = write!(f, " --idle --hold {}", hold.as_secs_f64());
        }
    }
    if !matches!(o.mode, Mode::Idle { .. }) {
        let _ = write!(f, " --reply-share {}", o.reply_share);
    }
    if o.verify {
        f.push_str(" --verify");
    }
    f
}

#[derive(Debug, Serialize)]
struct Outcome {
    scenario: &'static str,
    run: u32,
    report: Option<Report>,
    error: Option<String>,
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let dest = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &dest)?;
        } else {
            std::fs::copy(entry.path(), dest)?;
        }
    }
    Ok(())
}

pub async fn main(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let bin = setup::server_bin(args.server_bin.clone())?;
    if !bin.is_file() {
        bail!(
            "{} does not exist; build it with `cargo build --release -p widget-server`",
            bin.display()
        );
    }
    let load_before = loadavg();
    let list = scenarios(&args);
    if list.is_empty() {
        bail!("--only matched no scenario (idle, sustained, fanout, agents5, storage)");
    }
    // The server inherits this process's raised soft limit.
    let nofile = setup::raise_nofile(25_000);
    let work = tempfile::Builder::new()
        .prefix("loadgen-bench-")
        .tempdir()?;
    let work_path = if args.keep {
        let p = work.path().to_path_buf();
        std::mem::forget(work);
        eprintln!("bench: keeping data dirs and logs in {}", p.display());
        TempHold::Kept(p)
    } else {
        TempHold::Dir(work)
    };
    let root = work_path.path().to_path_buf();

    // Seed one template data dir with every agent the scenarios use, then copy it for
    // each scenario (hashing passwords is the slow part of setup).
    let t = Instant::now();
    let template = root.join("template");
    std::fs::create_dir_all(&template)?;
    let shared_agents = list
        .iter()
        .filter(|s| s.opts.layout == Layout::Shared)
        .map(|s| s.opts.agents)
        .max()
        .unwrap_or(0);
    let solo_agents = list
        .iter()
        .filter(|s| s.opts.layout == Layout::Solo)
        .map(|s| s.opts.agents)
        .max()
        .unwrap_or(0);
    eprintln!(
        "bench: creating {shared_agents} shared + {solo_agents} solo agents with {} admin …",
        bin.display()
    );
    if shared_agents > 0 {
        setup::create_agents(
            &bin,
            &template,
            Layout::Shared,
            shared_agents,
            setup::DEFAULT_PASSWORD,
        )
        .await?;
    }
    if solo_agents > 0 {
        setup::create_agents(
            &bin,
            &template,
            Layout::Solo,
            solo_agents,
            setup::DEFAULT_PASSWORD,
        )
        .await?;
    }
    eprintln!("bench: agents ready in {:.1} s", t.elapsed().as_secs_f64());

    let mut outcomes = Vec::new();
    for sc in &list {
        for r in 1..=sc.runs {
            eprintln!("bench: {} (run {r}/{})", sc.title, sc.runs);
            let dir = root.join(format!("{}-{r}", sc.key));
            copy_dir(&template, &dir)?;
            let log = root.join(format!("{}-{r}.log", sc.key));
            let outcome = match Server::start(&bin, &dir, &log).await {
                Ok(server) => {
                    let mut opts = sc.opts.clone();
                    opts.url = server.url.clone();
                    opts.server_pid = Some(server.pid);
                    let deadline = opts.default_deadline();
                    let res = tokio::time::timeout(deadline, run::run(&opts)).await;
                    server.stop().await;
                    match res {
                        Ok(Ok(report)) => {
                            eprint!("{}", crate::report::table(&report));
                            Outcome {
                                scenario: sc.key,
                                run: r,
                                report: Some(report),
                                error: None,
                            }
                        }
                        Ok(Err(e)) => failed(sc.key, r, format!("{e:#}")),
                        Err(_) => {
                            failed(sc.key, r, format!("exceeded its deadline of {deadline:?}"))
                        }
                    }
                }
                Err(e) => failed(sc.key, r, format!("{e:#}")),
            };
            if let Some(e) = &outcome.error {
                eprintln!("bench: {} run {r} failed: {e}", sc.key);
            }
            outcomes.push(outcome);
            if !args.keep {
                let _ = std::fs::remove_dir_all(&dir);
            }
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&outcomes)?);
    }

    if args.smoke {
        let ok = outcomes.iter().all(|o| {
            o.report
                .as_ref()
                .is_some_and(|r| r.clean() && r.sent > 0 && r.acked == r.sent)
        });
        if ok {
            eprintln!("bench smoke: ok (lost 0, errors 0, every acked message stored once)");
            return Ok(ExitCode::SUCCESS);
        }
        eprintln!("bench smoke: FAILED");
        return Ok(ExitCode::FAILURE);
    }

    let load = (load_before, loadavg());
    let section = render(&args, &bin, nofile, load, &list, &outcomes);
    println!("{section}");
    if !args.no_write {
        let out = args
            .out
            .clone()
            .unwrap_or_else(|| setup::workspace_root().join("docs").join("performance.md"));
        let existing = std::fs::read_to_string(&out).unwrap_or_default();
        let updated = replace_section(&existing, &section);
        if let Some(dir) = out.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&out, updated)?;
        eprintln!("bench: wrote {}", out.display());
    }
    Ok(ExitCode::SUCCESS)
}

enum TempHold {
    Dir(tempfile::TempDir),
    Kept(PathBuf),
}

impl TempHold {
    fn path(&self) -> &Path {
        match self {
            TempHold::Dir(d) => d.path(),
            TempHold::Kept(p) => p,
        }
    }
}

fn failed(scenario: &'static str, run: u32, error: String) -> Outcome {
    Outcome {
        scenario,
        run,
        report: None,
        error: Some(error),
    }
}

/// Replaces the block between [`BEGIN`] and [`END`] with `section` (which carries its
/// own markers), or appends it; everything outside the markers is kept as it was.
pub fn replace_section(existing: &str, section: &str) -> String {
    let section = section.trim_end();
    if let Some(b) = existing.find(BEGIN)
        && let Some(e_rel) = existing[b..].find(END)
    {
        let e = b + e_rel + END.len();
        return format!("{}{}{}", &existing[..b], section, &existing[e..]);
    }
    if existing.trim().is_empty() {
        return format!("# Performance\n\n{section}\n");
    }
    let mut out = existing.trim_end().to_owned();
    out.push_str("\n\n");
    out.push_str(section);
    out.push('\n');
    out
}

pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    })
}

fn reports<'a>(outcomes: &'a [Outcome], key: &str) -> Vec<&'a Report> {
    outcomes
        .iter()
        .filter(|o| o.scenario == key)
        .filter_map(|o| o.report.as_ref())
        .collect()
}

fn errors_of(outcomes: &[Outcome], key: &str) -> Vec<String> {
    outcomes
        .iter()
        .filter(|o| o.scenario == key)
        .filter_map(|o| o.error.clone())
        .collect()
}

fn thousands(v: f64) -> String {
    let n = v.round() as i64;
    let s = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "**not met**" }
}

struct Machine {
    cpus: usize,
    mem_gib: f64,
    model: String,
    kernel: String,
}

fn machine() -> Machine {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kib = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse::<f64>().ok())
        .unwrap_or(0.0);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|r| r.trim_start_matches([' ', '\t', ':']).trim().to_owned())
        .unwrap_or_else(|| "unknown CPU".to_owned());
    Machine {
        cpus: std::thread::available_parallelism().map_or(0, usize::from),
        mem_gib: mem_kib / 1024.0 / 1024.0,
        model,
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .unwrap_or_default()
            .trim()
            .to_owned(),
    }
}

/// The first three fields of /proc/loadavg.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn now_utc() -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    time::OffsetDateTime::now_utc()
        .format(fmt)
        .unwrap_or_else(|_| "unknown date".to_owned())
}

fn fmt_list(values: &[f64]) -> String {
    values
        .iter()
        .map(|v| thousands(*v))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The Markdown of the load generator's section, markers included.
fn render(
    args: &BenchArgs,
    bin: &Path,
    nofile: u64,
    load: (String, String),
    list: &[Scenario],
    outcomes: &[Outcome],
) -> String {
    let m = machine();
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{BEGIN} — generated by `cargo run --release -p loadgen -- bench`; edit outside these markers -->"
    );
    let _ = writeln!(o, "## Server benchmarks\n");
    let cmd = std::env::args().skip(1).collect::<Vec<_>>().join(" ");
    let _ = writeln!(
        o,
        "Measured {} with `cargo run --release -p loadgen -- {cmd}`{}.",
        now_utc(),
        if args.quick {
            " (quick: one run each, short windows — indicative only)"
        } else {
            ""
        }
    );
    let _ = writeln!(
        o,
        "Machine: {} cores (`nproc`), {:.1} GiB memory, {}, Linux {}. Server: `{}` on a fresh \
SQLite data dir per scenario, `--send-rate-limit 0`, file-descriptor limit {nofile}; the load \
generator runs on the same cores and is included in the load. Latencies are measured by the \
load generator (send → ack, send → the agent's `message:new`). Load average (1/5/15 min) \
before the bench: {}; after: {} — anything above ~0.5 means other work shared the cores.\n",
        m.cpus,
        m.mem_gib,
        m.model,
        m.kernel,
        bin.file_name().map_or_else(
            || bin.display().to_string(),
            |f| f.to_string_lossy().into_owned()
        ),
        load.0,
        load.1
    );

    // Budget table.
    let _ = writeln!(o, "| budget (DESIGN.md) | target | measured | verdict |");
    let _ = writeln!(o, "|---|---|---|---|");
    let idle = reports(outcomes, "idle");
    if let Some(r) = idle.first() {
        let conns = r.connected_visitors + r.connected_agents;
        let want = u64::from(r.visitors + r.agents);
        let _ = writeln!(
            o,
            "| concurrent sockets | 10,000 visitors + 100 agents | {} + {} connected | {} |",
            thousands(r.connected_visitors as f64),
            r.connected_agents,
            verdict(conns == want && want >= 10_100)
        );
        if let Some(i) = &r.idle {
            let kib = i.bytes_per_connection / 1024.0;
            let _ = writeln!(
                o,
                "| server memory per idle socket | ≤ 12 KiB | {kib:.1} KiB | {} |",
                verdict(kib <= 12.0)
            );
        }
    }
    let mut ramp_row = |key: &str, label: &str, budget: f64| {
        let rs = reports(outcomes, key);
        if rs.is_empty() {
            return;
        }
        let mut best: Vec<f64> = rs
            .iter()
            .filter_map(|r| r.max_rate.as_ref().map(|m| m.best_rate))
            .collect();
        let runs = fmt_list(&best);
        if let Some(med) = median(&mut best) {
            let _ = writeln!(
                o,
                "| max rate at p99 delivery ≤ 25 ms, {label} | ≥ {}/s | {}/s (runs: {runs}) | {} |",
                thousands(budget),
                thousands(med),
                verdict(med >= budget)
            );
        }
    };
    ramp_row("fanout", "50-agent fan-out", 2200.0);
    ramp_row("agents5", "5 agents", 11_000.0);
    let storage = reports(outcomes, "storage");
    if !storage.is_empty() {
        let mut tp: Vec<f64> = storage.iter().map(|r| r.throughput_per_s).collect();
        let runs = fmt_list(&tp);
        let intact = storage.iter().all(|r| {
            r.lost == 0
                && r.verify
                    .as_ref()
                    .is_some_and(|v| v.missing == 0 && v.duplicated == 0 && v.errors == 0)
        });
        if let Some(med) = median(&mut tp) {
            let _ = writeln!(
                o,
                "| persisted messages/s on SQLite, one agent per message (ack after commit) | ≥ 20,000/s | {}/s (runs: {runs}); every acked message stored once: {} | {} |",
                thousands(med),
                if intact { "yes" } else { "**no**" },
                verdict(med >= 20_000.0 && intact)
            );
        }
    }
    if let Some(r) = reports(outcomes, "sustained").first() {
        let _ = writeln!(
            o,
            "| sustained 5,000 msg/s, 1,000 visitors, 50 agents | no loss, p99 ≤ 25 ms | {}/s acked, delivery p99 {:.1} ms, lost {}, errors {} | {} |",
            thousands(r.throughput_per_s),
            r.latency.delivery.p99_ms,
            r.lost,
            r.error_total,
            verdict(
                r.lost == 0
                    && r.error_total == 0
                    && r.latency.delivery.p99_ms <= 25.0
                    && r.throughput_per_s >= 0.95 * 5000.0
            )
        );
    }
    let _ = writeln!(
        o,
        "| TUI frame at 200×60, 1,000 chats, 10,000-message chat; RSS with 50 chats × 1,000 messages | ≤ 2 ms; ≤ 50 MiB | see the TUI section of this file | — |\n"
    );

    // Details per scenario.
    for sc in list {
        let _ = writeln!(o, "### {}\n", sc.title);
        let _ = writeln!(
            o,
            "`loadgen run --url URL --server-pid PID {}` ({} run{})\n",
            run_flags(&sc.opts),
            sc.runs,
            if sc.runs == 1 { "" } else { "s" }
        );
        for e in errors_of(outcomes, sc.key) {
            let _ = writeln!(o, "- run failed: {e}");
        }
        for (i, r) in reports(outcomes, sc.key).iter().enumerate() {
            let _ = writeln!(o, "- run {}: {}", i + 1, summary(r));
        }
        let _ = writeln!(o);
    }
    let _ = writeln!(
        o,
        "### 5. TUI render\n\nMeasured by the agent TUI's own benchmark; see the TUI section of this file.\n"
    );
    let _ = writeln!(o, "{END}");
    o
}

/// One line with the figures that matter for a run.
fn summary(r: &Report) -> String {
    let mut s = String::new();
    if let Some(i) = &r.idle {
        let _ = write!(
            s,
            "{} sockets; server RSS {:.1} → {:.1} MiB = {:.2} KiB per socket",
            thousands(i.connections as f64),
            i.rss_before_kib as f64 / 1024.0,
            i.rss_connected_kib as f64 / 1024.0,
            i.bytes_per_connection / 1024.0
        );
    }
    if let Some(m) = &r.max_rate {
        let steps: Vec<String> = m
            .steps
            .iter()
            .map(|st| {
                format!(
                    "{}/s→p99 {:.1} ms{}",
                    thousands(st.rate),
                    st.delivery.p99_ms.max(st.reply_delivery.p99_ms),
                    if st.passed { "" } else { " ✗" }
                )
            })
            .collect();
        let _ = write!(
            s,
            "best {}/s (acked {}/s); steps: {}",
            thousands(m.best_rate),
            thousands(m.best_achieved_per_s),
            steps.join(", ")
        );
    } else if r.mode != "idle" {
        let _ = write!(
            s,
            "{}/s acked over {:.0} s; ack p50/p99/max {:.1}/{:.1}/{:.1} ms; delivery p50/p99/max {:.1}/{:.1}/{:.1} ms",
            thousands(r.throughput_per_s),
            r.measured_seconds,
            r.latency.ack.p50_ms,
            r.latency.ack.p99_ms,
            r.latency.ack.max_ms,
            r.latency.delivery.p50_ms,
            r.latency.delivery.p99_ms,
            r.latency.delivery.max_ms
        );
        if r.latency.reply_delivery.count > 0 {
            let _ = write!(
                s,
                "; reply delivery p99 {:.1} ms",
                r.latency.reply_delivery.p99_ms
            );
        }
    }
    let _ = write!(
        s,
        "; sent {}, acked {}, delivered {}, lost {}, unanswered {}, errors {}",
        r.sent, r.acked, r.delivered, r.lost, r.unacked, r.error_total
    );
    if !r.errors.is_empty() {
        let list: Vec<String> = r.errors.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let _ = write!(s, " ({})", list.join(", "));
    }
    if let Some(v) = &r.verify {
        let _ = write!(
            s,
            "; verified {} chats: missing {}, duplicated {}",
            v.chats, v.missing, v.duplicated
        );
    }
    if let Some(u) = &r.server {
        let _ = write!(
            s,
            "; server CPU {:.0}% of a core, RSS peak {:.0} MiB",
            u.cpu_pct,
            u.rss_peak_kib as f64 / 1024.0
        );
    }
    if let Some(u) = &r.loadgen {
        let _ = write!(s, "; loadgen CPU {:.0}%", u.cpu_pct);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_is_replaced_and_the_rest_kept() {
        let doc = "# Performance\n\nintro\n\n<!-- loadgen:begin x -->\nold figures\n<!-- loadgen:end -->\n\n## TUI\n\nframe 1.2 ms\n";
        let new = "<!-- loadgen:begin y -->\nnew figures\n<!-- loadgen:end -->\n";
        let out = replace_section(doc, new);
        assert!(out.contains("new figures"));
        assert!(!out.contains("old figures"));
        assert!(out.starts_with("# Performance\n\nintro\n\n<!-- loadgen:begin y -->"));
        assert!(out.ends_with("<!-- loadgen:end -->\n\n## TUI\n\nframe 1.2 ms\n"));
        // Idempotent.
        assert_eq!(replace_section(&out, new), out);
    }

    #[test]
    fn section_is_appended_or_created() {
        let new = "<!-- loadgen:begin -->\nfigures\n<!-- loadgen:end -->";
        let out = replace_section("## TUI\n\nframe 1 ms\n", new);
        assert!(out.starts_with("## TUI\n\nframe 1 ms\n\n<!-- loadgen:begin"));
        let fresh = replace_section("", new);
        assert!(fresh.starts_with("# Performance\n\n<!-- loadgen:begin"));
        // An unterminated block is not treated as ours: append instead of eating the rest.
        let broken = "<!-- loadgen:begin -->\n## TUI\n";
        assert!(replace_section(broken, new).contains("## TUI"));
    }

    #[test]
    fn medians_and_numbers() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&mut []), None);
        assert_eq!(thousands(1234567.4), "1,234,567");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(-2200.0), "-2,200");
    }

    #[test]
    fn scenario_selection_and_flags() {
        let args = BenchArgs {
            quick: true,
            smoke: false,
            server_bin: None,
            out: None,
            no_write: true,
            runs: None,
            only: vec!["fanout".into(), "storage".into()],
            json: false,
            keep: false,
        };
        let list = scenarios(&args);
        let keys: Vec<_> = list.iter().map(|s| s.key).collect();
        assert_eq!(keys, vec!["fanout", "storage"]);
        assert!(run_flags(&list[0].opts).contains("--max-rate --start-rate 1000"));
        assert!(run_flags(&list[1].opts).contains("--layout solo"));
        assert!(run_flags(&list[1].opts).contains("--verify"));
        let smoke = scenarios(&BenchArgs {
            smoke: true,
            quick: false,
            only: vec![],
            ..args
        });
        assert_eq!(smoke.len(), 1);
        assert!(smoke[0].opts.verify);
    }
}
