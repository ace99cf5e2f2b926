//! One load run against a live server: log agents in, connect agents and visitors,
//! start and claim chats, drive the chosen load (fixed rate, rate ramp, closed loop or
//! idle hold), wait for stragglers, and build the report.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::StreamExt;
use futures_util::stream;
use serde::{Deserialize, Serialize};
use shared::events::{AGENT_NS, CHAT_CLAIM, CHAT_START, CUSTOMER_NS};

use crate::conn::{self, Handle, NO_OWNER, Role, Routing, Shared, Target};
use crate::pace::{Pacer, RoundRobin};
use crate::procstat::{self, Usage, Watch};
use crate::setup::{self, AgentLogin, Layout};
use crate::stats::{LatSummary, Latencies, Stats};
use crate::track::{Tally, Tracker};

/// How the run loads the server once everyone is connected.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// Visitors send at `rate`/s in total for `duration` after `warmup`.
    Fixed {
        rate: f64,
        warmup: Duration,
        duration: Duration,
    },
    /// Ramp the rate ×`growth` per step of `step` until p99 delivery passes
    /// `bound_ms` or errors appear, then bisect `refine` more steps.
    MaxRate {
        start: f64,
        growth: f64,
        step: Duration,
        bound_ms: f64,
        refine: u32,
        max_steps: u32,
        max_rate: f64,
    },
    /// Each visitor keeps `inflight` messages unacked (sends the next on each ack):
    /// measures how many writes the store commits per second.
    ClosedLoop {
        inflight: u32,
        warmup: Duration,
        duration: Duration,
    },
    /// Connect, then hold the sockets for `hold`, measuring the server's memory.
    Idle { hold: Duration },
}

#[derive(Debug, Clone)]
pub struct Options {
    pub url: String,
    /// More nodes of the same installation; sockets are spread over all of them.
    pub extra_urls: Vec<String>,
    pub allow_remote: bool,
    pub agents: u32,
    pub visitors: u32,
    pub layout: Layout,
    pub password: String,
    /// Create the agents first with `widget-server admin` (binary, data dir).
    pub create_agents: Option<(PathBuf, PathBuf)>,
    pub reply_share: f64,
    pub body_chars: usize,
    pub max_inflight: usize,
    pub connect_concurrency: usize,
    pub connect_timeout: Duration,
    pub grace: Duration,
    pub server_pid: Option<u32>,
    /// After the run, read every chat back over REST and check each acked message is
    /// stored exactly once.
    pub verify: bool,
    /// In idle mode, start a chat per visitor too (off: sockets only).
    pub idle_chats: bool,
    pub mode: Mode,
}

impl Options {
    /// A generous bound on the whole run, from its size and mode.
    pub fn default_deadline(&self) -> Duration {
        let setup = 60.0 + f64::from(self.visitors + self.agents) / 100.0;
        let load = match &self.mode {
            Mode::Fixed {
                warmup, duration, ..
            }
            | Mode::ClosedLoop {
                warmup, duration, ..
            } => (*warmup + *duration).as_secs_f64(),
            Mode::MaxRate {
                step, max_steps, ..
            } => {
                (step.as_secs_f64() + 4.0 + self.grace.as_secs_f64()) * f64::from(*max_steps) + 5.0
            }
            Mode::Idle { hold } => hold.as_secs_f64() + 5.0,
        };
        let verify = if self.verify {
            30.0 + f64::from(self.visitors) / 20.0
        } else {
            0.0
        };
        Duration::from_secs_f64(setup + load + self.grace.as_secs_f64() + verify + 30.0)
    }
}

/// One step of a rate ramp.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub rate: f64,
    pub achieved_per_s: f64,
    pub sent: u64,
    pub acked: u64,
    pub errors: u64,
    pub skipped: u64,
    pub drained: bool,
    pub ack: LatSummary,
    pub delivery: LatSummary,
    pub reply_delivery: LatSummary,
    pub passed: bool,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct MaxRateResult {
    pub bound_ms: f64,
    /// The highest rate whose step passed (0 if none did).
    pub best_rate: f64,
    /// What the server actually acked per second at that step.
    pub best_achieved_per_s: f64,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, Serialize)]
pub struct IdleResult {
    pub connections: u64,
    pub rss_before_kib: u64,
    pub rss_connected_kib: u64,
    pub bytes_per_connection: f64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Verify {
    pub chats: u64,
    pub stored_load_messages: u64,
    /// Acked but not found in the chat's history.
    pub missing: u64,
    /// Stored more than once.
    pub duplicated: u64,
    /// Stored but never acked (e.g. the ack timed out): allowed, reported.
    pub unacked_but_stored: u64,
    pub errors: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub mode: String,
    pub url: String,
    pub layout: Layout,
    pub visitors: u32,
    pub agents: u32,
    pub connected_visitors: u64,
    pub connected_agents: u64,
    pub chats: u64,
    pub target_rate: Option<f64>,
    pub measured_seconds: f64,
    /// Visitor messages sent during the whole load (warm-up included).
    pub sent: u64,
    pub acked: u64,
    /// Visitor messages that reached the agent that owns the chat.
    pub delivered: u64,
    /// Every `message:new` copy received by an agent (fan-out).
    pub deliveries: u64,
    /// Acked but never delivered, visitor messages and agent replies together.
    pub lost: u64,
    /// Sent but neither acked nor refused within the grace period.
    pub unacked: u64,
    pub errors: BTreeMap<String, u64>,
    pub error_total: u64,
    pub skipped: u64,
    pub visitor_to_agent: Tally,
    pub agent_to_visitor: Tally,
    /// Acked visitor messages per second in the measured window.
    pub throughput_per_s: f64,
    pub latency: Latencies,
    pub max_rate: Option<MaxRateResult>,
    pub idle: Option<IdleResult>,
    pub verify: Option<Verify>,
    pub server: Option<Usage>,
    pub loadgen: Option<Usage>,
    pub setup_seconds: f64,
    pub elapsed_seconds: f64,
}

impl Report {
    /// Nothing acked was lost, nothing failed, nothing went unanswered, and the stored
    /// history (when verified) matches the acks.
    pub fn clean(&self) -> bool {
        self.lost == 0
            && self.error_total == 0
            && self.unacked == 0
            && self
                .verify
                .as_ref()
                .is_none_or(|v| v.missing == 0 && v.duplicated == 0 && v.errors == 0)
    }
}

/// Runs one scenario to the end and reports; the caller bounds it with a deadline.
pub async fn run(opts: &Options) -> anyhow::Result<Report> {
    let t_start = Instant::now();
    let (base_url, target) = setup::parse_target(&opts.url, opts.allow_remote)?;
    let mut targets = vec![target];
    for u in &opts.extra_urls {
        targets.push(setup::parse_target(u, opts.allow_remote)?.1);
    }
    let need = u64::from(opts.visitors + opts.agents) + 256;
    let limit = setup::raise_nofile(need);
    if limit < need {
        eprintln!(
            "warning: file-descriptor limit is {limit}, below the {need} this run needs (raise the hard limit: ulimit -Hn)"
        );
    }
    if let Some((bin, dir)) = &opts.create_agents {
        setup::create_agents(bin, dir, opts.layout, opts.agents, &opts.password).await?;
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    let logins = login_all(&http, &base_url, opts).await?;
    let agent_index: HashMap<String, u32> = logins
        .iter()
        .enumerate()
        .map(|(i, l)| (l.agent.id.clone(), i as u32))
        .collect();

    let body: String = {
        let mut b = String::from("load message ");
        while b.chars().count() < opts.body_chars.max(1) {
            b.push('x');
        }
        b.chars().take(opts.body_chars.max(1)).collect()
    };
    let shared = Arc::new(Shared {
        base: Instant::now(),
        stats: Stats::new()?,
        tracker: Tracker::new(opts.visitors, opts.agents),
        visitors: opts.visitors,
        routing: OnceLock::new(),
        reply_share: opts.reply_share.clamp(0.0, 1.0),
        body_json: serde_json::to_string(&body)?,
        max_inflight: opts.max_inflight.max(1),
        closed_loop_until_ns: Default::default(),
    });

    let idle = matches!(opts.mode, Mode::Idle { .. });
    let rss_before = match opts.server_pid {
        Some(pid) if idle => Some(procstat::snapshot(pid)?.rss_kib),
        _ => None,
    };

    // Agents first, so that no push about a visitor's chat can be missed.
    let agent_handles = connect_agents(&targets, &logins, &shared, opts).await;
    let visitor_handles = connect_visitors(&targets, &shared, opts).await;
    let connected_agents = agent_handles.iter().filter(|h| h.is_some()).count() as u64;
    let connected_visitors = visitor_handles.iter().filter(|h| h.is_some()).count() as u64;

    let mut report = Report {
        mode: mode_name(&opts.mode).to_owned(),
        url: std::iter::once(&opts.url)
            .chain(&opts.extra_urls)
            .cloned()
            .collect::<Vec<_>>()
            .join(" "),
        layout: opts.layout,
        visitors: opts.visitors,
        agents: opts.agents,
        connected_visitors,
        connected_agents,
        chats: 0,
        target_rate: None,
        measured_seconds: 0.0,
        sent: 0,
        acked: 0,
        delivered: 0,
        deliveries: 0,
        lost: 0,
        unacked: 0,
        errors: BTreeMap::new(),
        error_total: 0,
        skipped: 0,
        visitor_to_agent: Tally::default(),
        agent_to_visitor: Tally::default(),
        throughput_per_s: 0.0,
        latency: Latencies::default(),
        max_rate: None,
        idle: None,
        verify: None,
        server: None,
        loadgen: None,
        setup_seconds: 0.0,
        elapsed_seconds: 0.0,
    };

    let live_agents: Vec<u32> = (0..opts.agents)
        .filter(|&a| agent_handles[a as usize].is_some())
        .collect();
    let routing = if idle && !opts.idle_chats {
        Routing::default()
    } else {
        if live_agents.is_empty() {
            bail!("no agent is connected; cannot start chats");
        }
        start_and_claim(
            &http,
            &base_url,
            &logins,
            &agent_index,
            &live_agents,
            &agent_handles,
            &visitor_handles,
            &shared,
        )
        .await
    };
    report.chats = routing.chat_json.iter().filter(|c| c.is_some()).count() as u64;
    let ready: Vec<u32> = (0..opts.visitors)
        .filter(|&v| {
            routing
                .chat_json
                .get(v as usize)
                .is_some_and(Option::is_some)
                && routing
                    .owner
                    .get(v as usize)
                    .is_some_and(|&o| o != NO_OWNER)
        })
        .collect();
    let _ = shared.routing.set(routing);
    report.setup_seconds = t_start.elapsed().as_secs_f64();

    let ready_handles: Vec<&Handle> = ready
        .iter()
        .filter_map(|&v| visitor_handles[v as usize].as_ref())
        .collect();
    if !idle && ready_handles.is_empty() {
        bail!("no visitor has a claimed chat; nothing to load (see the errors above)");
    }

    let server_watch = opts.server_pid.map(Watch::start).transpose()?;
    let self_watch = Watch::start(std::process::id()).ok();
    match &opts.mode {
        Mode::Idle { hold } => {
            // Let the server settle (allocator, buffers) before reading its memory.
            tokio::time::sleep(Duration::from_secs(2).min(*hold)).await;
            if let (Some(pid), Some(before)) = (opts.server_pid, rss_before) {
                let after = procstat::snapshot(pid)?.rss_kib;
                let conns = connected_agents + connected_visitors;
                report.idle = Some(IdleResult {
                    connections: conns,
                    rss_before_kib: before,
                    rss_connected_kib: after,
                    bytes_per_connection: if conns > 0 {
                        (after.saturating_sub(before) as f64 * 1024.0) / conns as f64
                    } else {
                        0.0
                    },
                });
            }
            tokio::time::sleep(hold.saturating_sub(Duration::from_secs(2))).await;
        }
        Mode::Fixed {
            rate,
            warmup,
            duration,
        } => {
            report.target_rate = Some(*rate);
            pace(&ready_handles, *rate, *warmup, &shared.stats).await;
            shared.stats.reset_latencies();
            let acked0 = visitor_acked(&shared);
            let t0 = Instant::now();
            pace(&ready_handles, *rate, *duration, &shared.stats).await;
            let secs = t0.elapsed().as_secs_f64();
            report.measured_seconds = secs;
            report.throughput_per_s = (visitor_acked(&shared) - acked0) as f64 / secs;
        }
        Mode::ClosedLoop {
            inflight,
            warmup,
            duration,
        } => {
            let until = shared.now_ns() + (*warmup + *duration).as_nanos() as u64;
            shared.closed_loop_until_ns.store(until, Ordering::Relaxed);
            for h in &ready_handles {
                if !h.try_closed_loop(*inflight) {
                    Stats::bump(&shared.stats.skipped);
                }
            }
            tokio::time::sleep(*warmup).await;
            shared.stats.reset_latencies();
            let acked0 = visitor_acked(&shared);
            let t0 = Instant::now();
            tokio::time::sleep(*duration).await;
            let secs = t0.elapsed().as_secs_f64();
            report.measured_seconds = secs;
            report.throughput_per_s = (visitor_acked(&shared) - acked0) as f64 / secs;
        }
        Mode::MaxRate { .. } => {
            let r = ramp(&ready_handles, &shared, &opts.mode, opts.grace).await;
            report.target_rate = Some(r.best_rate);
            report.throughput_per_s = r.best_achieved_per_s;
            report.max_rate = Some(r);
        }
    }
    let drained = drain(&shared, opts.grace).await;
    if !drained {
        eprintln!("warning: not everything was acked and delivered within the grace period");
    }
    report.server = server_watch.map(Watch::finish);
    report.loadgen = self_watch.map(Watch::finish);
    if !matches!(opts.mode, Mode::MaxRate { .. }) {
        report.latency = shared.stats.latencies();
    }

    if opts.verify && !idle {
        report.verify = Some(verify(&http, &base_url, &logins, &shared).await);
    }
    // Closing the sockets: dropping the handles ends each task.
    drop(ready_handles);
    drop(visitor_handles);
    drop(agent_handles);

    let (v2a, a2v) = shared.tracker.tally();
    report.visitor_to_agent = v2a;
    report.agent_to_visitor = a2v;
    report.sent = v2a.sent;
    report.acked = v2a.acked;
    report.delivered = v2a.delivered;
    report.lost = v2a.lost + a2v.lost;
    report.unacked = v2a.unacked + a2v.unacked;
    report.deliveries = Stats::load(&shared.stats.deliveries);
    report.skipped = Stats::load(&shared.stats.skipped);
    report.errors = shared.stats.errors();
    report.error_total = report.errors.values().sum();
    report.elapsed_seconds = t_start.elapsed().as_secs_f64();
    Ok(report)
}

fn mode_name(m: &Mode) -> &'static str {
    match m {
        Mode::Fixed { .. } => "fixed",
        Mode::MaxRate { .. } => "max_rate",
        Mode::ClosedLoop { .. } => "closed_loop",
        Mode::Idle { .. } => "idle",
    }
}

fn visitor_acked(sh: &Shared) -> u64 {
    Stats::load(&sh.stats.visitor_acked)
}

async fn login_all(
    http: &reqwest::Client,
    base: &reqwest::Url,
    opts: &Options,
) -> anyhow::Result<Vec<AgentLogin>> {
    let results: Vec<(u32, anyhow::Result<AgentLogin>)> = stream::iter(0..opts.agents)
        .map(|i| async move {
            let email = setup::agent_email(opts.layout, i);
            (i, setup::login(http, base, &email, &opts.password).await)
        })
        .buffer_unordered(4)
        .collect()
        .await;
    let mut out: Vec<Option<AgentLogin>> = vec![None; opts.agents as usize];
    for (i, r) in results {
        out[i as usize] = Some(r.with_context(|| {
            format!(
                "agent {i} cannot log in; create the agents first (loadgen run --create-agents --data-dir DIR, or widget-server admin create-agent)"
            )
        })?);
    }
    Ok(out.into_iter().flatten().collect())
}

async fn connect_agents(
    targets: &[Target],
    logins: &[AgentLogin],
    shared: &Arc<Shared>,
    opts: &Options,
) -> Vec<Option<Handle>> {
    let results: Vec<(usize, Option<Handle>)> = stream::iter(logins.iter().enumerate())
        .map(|(i, l)| async move {
            let auth = serde_json::json!({ "token": l.token }).to_string();
            let target = &targets[i % targets.len()];
            // Agents receive every fan-out copy: a bigger read buffer saves syscalls.
            match conn::open(target, AGENT_NS, &auth, 64 * 1024, opts.connect_timeout).await {
                Ok(ws) => (
                    i,
                    Some(conn::spawn(ws, Role::Agent(i as u32), Arc::clone(shared))),
                ),
                Err(e) => {
                    shared.stats.error(e.key());
                    (i, None)
                }
            }
        })
        .buffer_unordered(opts.connect_concurrency.max(1))
        .collect()
        .await;
    place(results, logins.len())
}

async fn connect_visitors(
    targets: &[Target],
    shared: &Arc<Shared>,
    opts: &Options,
) -> Vec<Option<Handle>> {
    let results: Vec<(usize, Option<Handle>)> = stream::iter(0..opts.visitors as usize)
        .map(|v| async move {
            let auth = serde_json::json!({ "name": format!("Load Visitor {v}") }).to_string();
            let target = &targets[v % targets.len()];
            match conn::open(target, CUSTOMER_NS, &auth, 4 * 1024, opts.connect_timeout).await {
                Ok(ws) => (
                    v,
                    Some(conn::spawn(ws, Role::Visitor(v as u32), Arc::clone(shared))),
                ),
                Err(e) => {
                    shared.stats.error(e.key());
                    (v, None)
                }
            }
        })
        .buffer_unordered(opts.connect_concurrency.max(1))
        .collect()
        .await;
    place(results, opts.visitors as usize)
}

fn place(results: Vec<(usize, Option<Handle>)>, n: usize) -> Vec<Option<Handle>> {
    let mut out: Vec<Option<Handle>> = (0..n).map(|_| None).collect();
    for (i, h) in results {
        if let Some(slot) = out.get_mut(i) {
            *slot = h;
        }
    }
    out
}

/// A started chat: its id and the agent the server assigned it to, if any.
type Started = (String, Option<String>);

const SETUP_ACK_TIMEOUT: Duration = Duration::from_secs(30);

/// Each visitor starts a chat in its owner's department; owners claim (spread evenly
/// over the connected agents). A chat the server already gave to one of our agents
/// keeps that owner.
#[allow(clippy::too_many_arguments)]
async fn start_and_claim(
    http: &reqwest::Client,
    base: &reqwest::Url,
    logins: &[AgentLogin],
    agent_index: &HashMap<String, u32>,
    live_agents: &[u32],
    agents: &[Option<Handle>],
    visitors: &[Option<Handle>],
    shared: &Arc<Shared>,
) -> Routing {
    let n = visitors.len();
    let started: Vec<(usize, Option<Started>)> = stream::iter(
        visitors
            .iter()
            .enumerate()
            .filter_map(|(v, h)| h.as_ref().map(|h| (v, h))),
    )
    .map(|(v, h)| async move {
        let owner = live_agents[v % live_agents.len()];
        let dept = logins[owner as usize].agent.department_ids.first().cloned();
        let mut data = serde_json::json!({
            "body": format!("Hello, load visitor {v} here"),
            "client_msg_id": format!("lgstart-{v}"),
        });
        if let Some(d) = dept {
            data["department_id"] = serde_json::Value::String(d);
        }
        match h
            .emit(CHAT_START, data.to_string(), SETUP_ACK_TIMEOUT)
            .await
        {
            Ok(ack) => {
                let chat = &ack["chat"];
                match chat["id"].as_str() {
                    Some(id) => (
                        v,
                        Some((
                            id.to_owned(),
                            chat["assignee_id"].as_str().map(str::to_owned),
                        )),
                    ),
                    None => {
                        shared.stats.error("start:bad_ack");
                        (v, None)
                    }
                }
            }
            Err(e) => {
                shared.stats.error(format!("start:{}", e.code));
                (v, None)
            }
        }
    })
    .buffer_unordered(64)
    .collect()
    .await;

    let mut routing = Routing {
        chat_json: vec![None; n],
        owner: vec![NO_OWNER; n],
    };
    let mut to_claim: Vec<(usize, String, u32)> = Vec::new();
    for (v, r) in started {
        let Some((chat_id, assignee)) = r else {
            continue;
        };
        routing.chat_json[v] = serde_json::to_string(&chat_id).ok().map(Arc::from);
        match assignee.and_then(|a| agent_index.get(&a).copied()) {
            Some(owner) => routing.owner[v] = owner,
            None => to_claim.push((v, chat_id, live_agents[v % live_agents.len()])),
        }
    }
    let claimed: Vec<(usize, u32)> = stream::iter(to_claim)
        .map(|(v, chat_id, owner)| async move {
            let Some(h) = agents[owner as usize].as_ref() else {
                return (v, NO_OWNER);
            };
            let data = serde_json::json!({ "chat_id": chat_id }).to_string();
            match h.emit(CHAT_CLAIM, data, SETUP_ACK_TIMEOUT).await {
                Ok(_) => (v, owner),
                Err(e) if e.code == shared::ErrorCode::Conflict => {
                    // Someone has it already (e.g. automatic assignment): ask who.
                    let who = chat_assignee(http, base, &logins[owner as usize].token, &chat_id)
                        .await
                        .and_then(|a| agent_index.get(&a).copied());
                    match who {
                        Some(o) => (v, o),
                        None => {
                            shared.stats.error("claim:conflict");
                            (v, NO_OWNER)
                        }
                    }
                }
                Err(e) => {
                    shared.stats.error(format!("claim:{}", e.code));
                    (v, NO_OWNER)
                }
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    for (v, owner) in claimed {
        routing.owner[v] = owner;
    }
    routing
}

async fn chat_assignee(
    http: &reqwest::Client,
    base: &reqwest::Url,
    token: &str,
    chat_id: &str,
) -> Option<String> {
    let url = base.join(&format!("/api/v1/chats/{chat_id}")).ok()?;
    let v: serde_json::Value = http
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    v["assignee_id"].as_str().map(str::to_owned)
}

/// Hands out sends at `rate`/s round-robin over `handles` for `dur`.
async fn pace(handles: &[&Handle], rate: f64, dur: Duration, stats: &Stats) {
    if handles.is_empty() || rate <= 0.0 {
        tokio::time::sleep(dur).await;
        return;
    }
    let mut pacer = Pacer::new(rate);
    let mut rr = RoundRobin::default();
    let mut tick = tokio::time::interval(pacer.tick());
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let start = Instant::now();
    // Bounded by `dur`; each tick hands out at most rate × elapsed sends in total.
    loop {
        tick.tick().await;
        let elapsed = start.elapsed();
        if elapsed >= dur {
            break;
        }
        for _ in 0..pacer.due(elapsed) {
            if let Some(i) = rr.pick(handles.len())
                && !handles[i].try_load()
            {
                Stats::bump(&stats.skipped);
            }
        }
    }
}

/// Waits until every send is answered and every acked message delivered, or `limit`.
async fn drain(sh: &Shared, limit: Duration) -> bool {
    let start = Instant::now();
    loop {
        let s = &sh.stats;
        if Stats::load(&s.resolved) >= Stats::load(&s.sent)
            && Stats::load(&s.delivered) >= Stats::load(&s.acked)
        {
            return true;
        }
        if start.elapsed() >= limit {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn ramp(handles: &[&Handle], sh: &Shared, mode: &Mode, grace: Duration) -> MaxRateResult {
    let Mode::MaxRate {
        start,
        growth,
        step,
        bound_ms,
        refine,
        max_steps,
        max_rate,
    } = mode
    else {
        return MaxRateResult {
            bound_ms: 0.0,
            best_rate: 0.0,
            best_achieved_per_s: 0.0,
            steps: vec![],
        };
    };
    // A short unmeasured warm-up at the start rate (connections, caches, pools).
    pace(handles, *start, Duration::from_secs(2), &sh.stats).await;
    drain(sh, Duration::from_secs(3)).await;

    let mut out = MaxRateResult {
        bound_ms: *bound_ms,
        best_rate: 0.0,
        best_achieved_per_s: 0.0,
        steps: vec![],
    };
    let mut rate = *start;
    let mut failed_at: Option<f64> = None;
    let mut refines_left = *refine;
    for _ in 0..*max_steps {
        let s = run_step(handles, sh, rate, *step, *bound_ms, grace).await;
        eprintln!(
            "  step {:>8.0}/s: achieved {:>8.0}/s, p99 delivery {:>7.2} ms, errors {}, {}",
            s.rate,
            s.achieved_per_s,
            s.delivery.p99_ms.max(s.reply_delivery.p99_ms),
            s.errors,
            if s.passed { "pass" } else { s.reason.as_str() }
        );
        let passed = s.passed;
        if passed && s.rate > out.best_rate {
            out.best_rate = s.rate;
            out.best_achieved_per_s = s.achieved_per_s;
        }
        out.steps.push(s);
        if !passed {
            failed_at = Some(failed_at.map_or(rate, |f: f64| f.min(rate)));
        }
        match failed_at {
            None => {
                rate *= growth;
                if rate > *max_rate {
                    break;
                }
            }
            Some(f) if out.best_rate == 0.0 => {
                // Nothing has passed yet: step down until something does.
                rate = f / growth / growth;
                if rate < 1.0 {
                    break;
                }
            }
            Some(f) => {
                if refines_left == 0 {
                    break;
                }
                refines_left -= 1;
                // Bisect between the best pass and the lowest failure.
                let next = (out.best_rate + f) / 2.0;
                if (f - next) / f < 0.02 {
                    break;
                }
                rate = next;
            }
        }
    }
    out
}

async fn run_step(
    handles: &[&Handle],
    sh: &Shared,
    rate: f64,
    dur: Duration,
    bound_ms: f64,
    grace: Duration,
) -> Step {
    let s = &sh.stats;
    sh.stats.reset_latencies();
    let sent0 = Stats::load(&s.visitor_sent);
    let acked0 = visitor_acked(sh);
    let errors0 = s.error_total();
    let skipped0 = Stats::load(&s.skipped);
    let t0 = Instant::now();
    pace(handles, rate, dur, s).await;
    let secs = t0.elapsed().as_secs_f64();
    let acked_in_window = visitor_acked(sh) - acked0;
    // A step passes only if the server caught up within 3 s; either way the next step
    // starts from an idle server (up to the grace period), so steps stay independent.
    let drained = drain(sh, Duration::from_secs(3)).await;
    let lat = s.latencies();
    if !drained {
        drain(sh, grace).await;
    }
    let errors = s.error_total() - errors0;
    let skipped = Stats::load(&s.skipped) - skipped0;
    let achieved = acked_in_window as f64 / secs;
    let p99 = lat.delivery.p99_ms.max(lat.reply_delivery.p99_ms);
    let reason = if errors > 0 {
        format!("{errors} errors")
    } else if !drained {
        "did not drain".to_owned()
    } else if skipped > 0 {
        format!("{skipped} sends skipped (backlog)")
    } else if p99 > bound_ms {
        format!("p99 {p99:.1} ms > {bound_ms} ms")
    } else if achieved < 0.95 * rate {
        format!("achieved only {achieved:.0}/s")
    } else {
        String::new()
    };
    Step {
        rate,
        achieved_per_s: achieved,
        sent: Stats::load(&s.visitor_sent) - sent0,
        acked: acked_in_window,
        errors,
        skipped,
        drained,
        ack: lat.ack,
        delivery: lat.delivery,
        reply_delivery: lat.reply_delivery,
        passed: reason.is_empty(),
        reason,
    }
}

#[derive(Deserialize)]
struct StoredMessage {
    seq: i64,
    client_msg_id: String,
}

#[derive(Deserialize)]
struct StoredPage {
    items: Vec<StoredMessage>,
}

/// Reads every chat's history over REST and checks that each acked load message is
/// stored exactly once.
async fn verify(
    http: &reqwest::Client,
    base: &reqwest::Url,
    logins: &[AgentLogin],
    sh: &Shared,
) -> Verify {
    let Some(routing) = sh.routing.get() else {
        return Verify::default();
    };
    let chats: Vec<(String, String)> = routing
        .chat_json
        .iter()
        .zip(&routing.owner)
        .filter_map(|(c, &o)| {
            let id: String = serde_json::from_str(c.as_ref()?).ok()?;
            let token = logins.get(o as usize)?.token.clone();
            Some((id, token))
        })
        .collect();
    let mut out = Verify {
        chats: chats.len() as u64,
        ..Verify::default()
    };
    let pages: Vec<Result<Vec<String>, String>> = stream::iter(chats)
        .map(|(id, token)| async move { chat_keys(http, base, &token, &id).await })
        .buffer_unordered(8)
        .collect()
        .await;
    let mut counts: HashMap<(u32, u32), u32> = HashMap::new();
    for p in pages {
        match p {
            Ok(keys) => {
                for k in keys {
                    if let Some(key) = crate::sio::parse_message_key(&k) {
                        *counts.entry(key).or_insert(0) += 1;
                    }
                }
            }
            Err(e) => {
                eprintln!("verify: {e}");
                out.errors += 1;
            }
        }
    }
    out.stored_load_messages = counts.len() as u64;
    out.duplicated = counts.values().filter(|&&c| c > 1).count() as u64;
    let mut acked_total = 0u64;
    for s in 0..sh.tracker.senders() {
        for n in sh.tracker.acked_numbers(s) {
            acked_total += 1;
            if !counts.contains_key(&(s, n)) {
                out.missing += 1;
            }
        }
    }
    out.unacked_but_stored = (counts.len() as u64).saturating_sub(acked_total - out.missing);
    out
}

/// Every `client_msg_id` of one chat, paging backwards from the newest.
async fn chat_keys(
    http: &reqwest::Client,
    base: &reqwest::Url,
    token: &str,
    chat_id: &str,
) -> Result<Vec<String>, String> {
    const LIMIT: usize = shared::limits::MAX_MESSAGE_LIMIT as usize;
    let mut keys = Vec::new();
    let mut before: Option<i64> = None;
    // Bounded: a chat of the load generator holds far fewer than 10,000 pages.
    for _ in 0..10_000 {
        let mut url = base
            .join(&format!("/api/v1/chats/{chat_id}/messages"))
            .map_err(|e| e.to_string())?;
        url.query_pairs_mut()
            .append_pair("limit", &LIMIT.to_string());
        if let Some(b) = before {
            url.query_pairs_mut()
                .append_pair("before_seq", &b.to_string());
        }
        let resp = http
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| format!("chat {chat_id}: {e}"))?;
        if !resp.status().is_success() {
            return Err(format!("chat {chat_id}: HTTP {}", resp.status()));
        }
        let page: StoredPage = resp
            .json()
            .await
            .map_err(|e| format!("chat {chat_id}: {e}"))?;
        let Some(min_seq) = page.items.iter().map(|m| m.seq).min() else {
            break;
        };
        let full = page.items.len() >= LIMIT;
        keys.extend(page.items.into_iter().map(|m| m.client_msg_id));
        if !full || min_seq <= 1 {
            break;
        }
        before = Some(min_seq);
    }
    Ok(keys)
}
