//! The `loadgen` command line: `run`, `create-agents` and `bench`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::run::{self, Mode, Options};
use crate::setup::Layout;
use crate::{bench, report, setup};

#[derive(Parser)]
#[command(
    name = "loadgen",
    about = "Load generator and benchmarks for the Agent Panel widget server",
    long_about = "Drives a widget server with many Socket.IO visitors and agents over \
WebSocket and reports ack and delivery latency, throughput, errors and lost messages. \
It only connects to loopback hosts unless --allow-remote is given."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one scenario against a running server.
    Run(RunArgs),
    /// Create the load generator's agents in a data dir through `widget-server admin`.
    CreateAgents(CreateArgs),
    /// Start a fresh server, run the standard scenarios, write docs/performance.md.
    Bench(bench::BenchArgs),
}

#[derive(Args)]
struct CreateArgs {
    /// The server's data directory (the server may be running on it).
    #[arg(long)]
    data_dir: PathBuf,
    /// widget-server binary (default: $WIDGET_SERVER_BIN, target/release, target/debug).
    #[arg(long)]
    server_bin: Option<PathBuf>,
    #[arg(long, default_value_t = 50)]
    agents: u32,
    #[arg(long, value_enum, default_value_t = Layout::Shared)]
    layout: Layout,
    #[arg(long, env = "LOADGEN_PASSWORD", default_value = setup::DEFAULT_PASSWORD)]
    password: String,
}

#[derive(Args)]
struct RunArgs {
    /// The server (http://HOST:PORT); loopback only unless --allow-remote. Repeat it
    /// for several nodes of one installation: sockets are spread over them in turn
    /// (agent i and visitor i on node i mod n), REST calls go to the first.
    #[arg(long = "url", default_value = "http://127.0.0.1:5000")]
    urls: Vec<String>,
    /// Allow a non-loopback host.
    #[arg(long)]
    allow_remote: bool,
    /// Agents to log in and connect (lg-agent-N@loadgen.test or lg-solo-N@loadgen.test).
    #[arg(long, default_value_t = 5)]
    agents: u32,
    /// Visitors to connect; each starts one chat.
    #[arg(long, default_value_t = 100)]
    visitors: u32,
    /// shared: all agents in one department (fan-out to all); solo: one department each.
    #[arg(long, value_enum, default_value_t = Layout::Shared)]
    layout: Layout,
    /// The agents' password.
    #[arg(long, env = "LOADGEN_PASSWORD", default_value = setup::DEFAULT_PASSWORD)]
    password: String,
    /// Create the agents first with `widget-server admin` (needs --data-dir).
    #[arg(long, requires = "data_dir")]
    create_agents: bool,
    /// Data directory of the server (for --create-agents).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// widget-server binary (for --create-agents).
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Aggregate visitor messages per second.
    #[arg(long, default_value_t = 500.0)]
    rate: f64,
    /// Measured seconds of load.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Unmeasured seconds of load before the measurement.
    #[arg(long, default_value_t = 3.0)]
    warmup: f64,
    /// Share of visitor messages that the owning agent answers.
    #[arg(long, default_value_t = 0.2)]
    reply_share: f64,
    /// Ramp the rate until p99 delivery exceeds --bound-ms or errors appear.
    #[arg(long, conflicts_with_all = ["idle", "closed_loop"])]
    max_rate: bool,
    /// First rate of the ramp (default: --rate).
    #[arg(long)]
    start_rate: Option<f64>,
    #[arg(long, default_value_t = 1.25)]
    growth: f64,
    /// Seconds per ramp step.
    #[arg(long, default_value_t = 4.0)]
    step_secs: f64,
    #[arg(long, default_value_t = 25.0)]
    bound_ms: f64,
    /// Bisection steps after the first failing rate.
    #[arg(long, default_value_t = 2)]
    refine: u32,
    #[arg(long, default_value_t = 40)]
    max_steps: u32,
    /// Never ramp above this rate.
    #[arg(long, default_value_t = 200_000.0)]
    rate_cap: f64,
    /// Connect and hold the sockets, reporting server RSS per connection (--server-pid).
    #[arg(long, conflicts_with = "closed_loop")]
    idle: bool,
    /// Seconds to hold in --idle.
    #[arg(long, default_value_t = 10.0)]
    hold: f64,
    /// In --idle, start a chat per visitor as well.
    #[arg(long)]
    idle_chats: bool,
    /// Closed loop: each visitor keeps K messages unacked (storage throughput).
    #[arg(long, value_name = "K")]
    closed_loop: Option<u32>,
    /// Server process to sample (RSS, CPU) from /proc.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Read every chat back over REST: each acked message stored exactly once.
    #[arg(long)]
    verify: bool,
    /// Characters per message body.
    #[arg(long, default_value_t = 40)]
    body_chars: usize,
    /// Unacked messages per socket before sends are skipped (and counted).
    #[arg(long, default_value_t = 64)]
    max_inflight: usize,
    #[arg(long, default_value_t = 128)]
    connect_concurrency: usize,
    /// Seconds per socket connect.
    #[arg(long, default_value_t = 30.0)]
    connect_timeout: f64,
    /// Seconds to wait after the load for acks and deliveries.
    #[arg(long, default_value_t = 5.0)]
    grace: f64,
    /// Hard limit on the whole run in seconds (default: from the scenario's size).
    #[arg(long)]
    deadline: Option<f64>,
    /// Print the report as one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// Exit non-zero unless lost == 0, errors == 0 and nothing went unanswered.
    #[arg(long)]
    assert_clean: bool,
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.0))
}

impl RunArgs {
    fn options(&self) -> anyhow::Result<Options> {
        let mode = if self.idle {
            Mode::Idle {
                hold: secs(self.hold),
            }
        } else if let Some(k) = self.closed_loop {
            Mode::ClosedLoop {
                inflight: k.max(1),
                warmup: secs(self.warmup),
                duration: secs(self.duration),
            }
        } else if self.max_rate {
            Mode::MaxRate {
                start: self.start_rate.unwrap_or(self.rate),
                growth: self.growth.max(1.01),
                step: secs(self.step_secs),
                bound_ms: self.bound_ms,
                refine: self.refine,
                max_steps: self.max_steps.max(1),
                max_rate: self.rate_cap,
            }
        } else {
            Mode::Fixed {
                rate: self.rate,
                warmup: secs(self.warmup),
                duration: secs(self.duration),
            }
        };
        let create_agents = if self.create_agents {
            let dir = self
                .data_dir
                .clone()
                .ok_or_else(|| anyhow::anyhow!("--create-agents needs --data-dir"))?;
            Some((setup::server_bin(self.server_bin.clone())?, dir))
        } else {
            None
        };
        Ok(Options {
            url: self.urls.first().cloned().unwrap_or_default(),
            extra_urls: self.urls.iter().skip(1).cloned().collect(),
            allow_remote: self.allow_remote,
            agents: self.agents,
            visitors: self.visitors,
            layout: self.layout,
            password: self.password.clone(),
            create_agents,
            reply_share: self.reply_share,
            body_chars: self.body_chars,
            max_inflight: self.max_inflight,
            connect_concurrency: self.connect_concurrency,
            connect_timeout: secs(self.connect_timeout),
            grace: secs(self.grace),
            server_pid: self.server_pid,
            verify: self.verify,
            idle_chats: self.idle_chats,
            mode,
        })
    }
}

async fn cmd_run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let opts = args.options()?;
    let deadline = args.deadline.map_or_else(|| opts.default_deadline(), secs);
    let report = tokio::time::timeout(deadline, run::run(&opts))
        .await
        .map_err(|_| anyhow::anyhow!("the run exceeded its deadline of {deadline:?}"))??;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report::table(&report));
    }
    if args.assert_clean && !report.clean() {
        eprintln!(
            "FAILED: lost {}, errors {}, unanswered {}",
            report.lost, report.error_total, report.unacked
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

async fn cmd_create(args: CreateArgs) -> anyhow::Result<ExitCode> {
    let bin = setup::server_bin(args.server_bin)?;
    setup::create_agents(
        &bin,
        &args.data_dir,
        args.layout,
        args.agents,
        &args.password,
    )
    .await?;
    println!(
        "created {} agents ({:?} layout): {} … password from --password / LOADGEN_PASSWORD",
        args.agents,
        args.layout,
        setup::agent_email(args.layout, 0)
    );
    Ok(ExitCode::SUCCESS)
}

/// Parses the command line and runs it.
pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(a) => cmd_run(a).await,
        Command::CreateAgents(a) => cmd_create(a).await,
        Command::Bench(a) => bench::main(a).await,
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("loadgen: {e:#}");
            ExitCode::FAILURE
        }
    }
}
