//! `widget-server`: serve the Agent Panel API and widget, or administer its store.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use shared::model::Role;
use widget_server::Config;
use widget_server::admin::Admin;

#[derive(Parser)]
#[command(
    name = "widget-server",
    version,
    about = "Agent Panel widget server: REST + Socket.IO for the agent console and the customer widget"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API, the sockets and the widget (the default).
    Serve,
    /// Bootstrap and recovery: departments, agents, passwords.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Create or upgrade the database schema, then exit; with --from and --to, move an
    /// installation from SQLite to PostgreSQL.
    Migrate(MigrateArgs),
}

#[derive(Args, Clone)]
struct MigrateArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Copy this SQLite database (sqlite:///path/panel.db) ...
    #[arg(long, requires = "to")]
    from: Option<String>,
    /// ... into this empty PostgreSQL database (postgres://…); every table, files
    /// included, in one transaction that commits only when every row count matches.
    #[arg(long, requires = "from")]
    to: Option<String>,
}

#[derive(Args, Clone)]
struct StoreArgs {
    /// Data directory (SQLite database, signing secret). Created with mode 0700.
    #[arg(long, env = "PANEL_DATA_DIR", default_value = "./data", global = true)]
    data_dir: PathBuf,
    /// Database URL; default: the SQLite file <data-dir>/panel.db.
    #[arg(long, env = "PANEL_DATABASE_URL", global = true)]
    database_url: Option<String>,
    /// Log level (error, warn, info, debug, trace) or a tracing filter.
    #[arg(long, env = "PANEL_LOG_LEVEL", default_value = "info", global = true)]
    log_level: String,
}

#[derive(Args, Clone)]
struct ServeArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Address to listen on.
    #[arg(
        long,
        env = "PANEL_BIND",
        default_value = "127.0.0.1:5000",
        global = true
    )]
    bind: SocketAddr,
    /// Origin allowed to open customer sockets (the widget's site); repeatable.
    /// The server's own origin is always allowed.
    #[arg(
        long = "allowed-origin",
        env = "PANEL_ALLOWED_ORIGINS",
        value_delimiter = ',',
        global = true
    )]
    allowed_origins: Vec<String>,
    /// Messages per second per socket (bursts of twice that); 0 turns the limit off.
    #[arg(
        long,
        env = "PANEL_SEND_RATE_LIMIT",
        default_value_t = 10,
        global = true
    )]
    send_rate_limit: u32,
    /// Other events (sync, read receipts, ratings, pings…) per second per visitor or
    /// agent, across its sockets, bursts of twice that; 0 turns it off.
    #[arg(
        long,
        env = "PANEL_EVENT_RATE_LIMIT",
        default_value_t = 30,
        global = true
    )]
    event_rate_limit: u32,
    /// New visitor identities (connects without a known token) one client address may
    /// create per minute; 0 turns it off.
    #[arg(
        long,
        env = "PANEL_NEW_VISITORS_PER_MINUTE",
        default_value_t = 30,
        global = true
    )]
    new_visitors_per_minute: u32,
    /// Files a visitor may upload per hour without sending them in a message.
    #[arg(long, env = "PANEL_VISITOR_UPLOAD_FILES", default_value_t = 20,
          value_parser = clap::value_parser!(u64).range(1..=10_000), global = true)]
    visitor_upload_files: u64,
    /// MiB a visitor may upload per hour without sending them in a message.
    #[arg(long, env = "PANEL_VISITOR_UPLOAD_MIB", default_value_t = 50,
          value_parser = clap::value_parser!(u64).range(1..=100_000), global = true)]
    visitor_upload_mib: u64,
    /// Hours after which uploads never sent in a message are deleted.
    #[arg(long, env = "PANEL_UNSENT_UPLOAD_HOURS", default_value_t = 24,
          value_parser = clap::value_parser!(u64).range(1..=8760), global = true)]
    unsent_upload_hours: u64,
    /// Department for chats started without one (name or id); default: the first created.
    #[arg(long, env = "PANEL_DEFAULT_DEPARTMENT", global = true)]
    default_department: Option<String>,
    /// Password checks run at once (each holds ~19 MiB for a moment); further sign-ins
    /// wait up to 5 s for a turn, then get 429. Default: one per core, at most 8.
    #[arg(
        long,
        env = "PANEL_MAX_PASSWORD_CHECKS",
        default_value_t = default_password_checks(),
        value_parser = clap::value_parser!(u16).range(1..=1024),
        global = true
    )]
    max_password_checks: u16,
    /// A reverse proxy (address or CIDR) whose X-Forwarded-For names the client;
    /// repeatable. The header is ignored from every other peer.
    #[arg(
        long = "trusted-proxy",
        env = "PANEL_TRUSTED_PROXY",
        value_delimiter = ',',
        value_parser = widget_server::auth::parse_trusted_proxy,
        global = true
    )]
    trusted_proxies: Vec<ipnet::IpNet>,
    /// Seconds between checks of every agent socket against the store (sign-outs,
    /// password resets and role changes made elsewhere take effect within this).
    #[arg(long, env = "PANEL_SESSION_CHECK_SECS", default_value_t = 2,
          value_parser = clap::value_parser!(u64).range(1..=60), global = true)]
    session_check_secs: u64,
    /// Serve Prometheus `/metrics` on this address, on a listener of its own (keep it
    /// private: it asks for no token).
    #[arg(long, env = "PANEL_METRICS_BIND", global = true)]
    metrics_bind: Option<SocketAddr>,
    /// Serve Prometheus `/metrics` on the public listener to `Authorization: Bearer
    /// <this token>` (off without it).
    #[arg(long, env = "PANEL_METRICS_TOKEN", global = true)]
    metrics_token: Option<String>,
    /// Redis shared by several nodes behind one load balancer (redis://host:6379/0):
    /// pushes reach sockets on every node, and the sign-in throttle, rate limits and
    /// agent presence count across nodes. Unset: this process works alone.
    #[arg(long, env = "PANEL_REDIS_URL", global = true)]
    redis_url: Option<String>,
    /// What this installation's Redis keys and channels start with (several
    /// installations may share one Redis).
    #[arg(long, env = "PANEL_REDIS_PREFIX", default_value = widget_server::config::DEFAULT_REDIS_PREFIX, global = true)]
    redis_prefix: String,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a department.
    CreateDepartment {
        #[arg(long)]
        name: String,
    },
    /// Create an agent; the password is read from stdin (--password-stdin) or prompted.
    CreateAgent {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = parse_role, default_value = "agent")]
        role: Role,
        /// Department name; repeatable.
        #[arg(long = "department")]
        departments: Vec<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a new password for an agent.
    ResetPassword {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Change an agent's role, departments, name or chat limit. Their running sessions
    /// follow within seconds (rooms and permissions).
    UpdateAgent {
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = parse_role)]
        role: Option<Role>,
        /// Department name, repeatable; replaces the agent's departments.
        #[arg(long = "department")]
        departments: Vec<String>,
        /// Remove the agent from every department (supervisors and admins only).
        #[arg(long, conflicts_with = "departments")]
        no_departments: bool,
        #[arg(long)]
        name: Option<String>,
        /// How many chats the agent may hold at once (1 to 100).
        #[arg(long)]
        max_chats: Option<u32>,
    },
    /// List agents with their role, status and departments.
    ListAgents,
    /// List departments.
    ListDepartments,
}

fn default_password_checks() -> u16 {
    u16::try_from(widget_server::auth::default_max_checks()).unwrap_or(4)
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
}

impl StoreArgs {
    fn config(&self) -> Config {
        let mut c = Config::new(&self.data_dir);
        c.database_url = self.database_url.clone();
        c
    }
}

fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from stdin")?;
        let pw = line.trim_end_matches(['\n', '\r']).to_owned();
        if pw.is_empty() {
            anyhow::bail!("the password on stdin is empty");
        }
        Ok(pw)
    } else {
        let pw = rpassword::prompt_password("Password: ").context("cannot read the password")?;
        let again = rpassword::prompt_password("Repeat password: ")?;
        if pw != again {
            anyhow::bail!("the passwords do not match");
        }
        Ok(pw)
    }
}

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        None | Some(Command::Serve) => serve(cli.serve).await,
        Some(Command::Migrate(MigrateArgs {
            store,
            from: Some(from),
            to: Some(to),
        })) => {
            init_logging(&store.log_level);
            let counts = widget_server::migrate::sqlite_to_postgres(&from, &to).await?;
            for (table, rows) in &counts {
                println!("{table:<20} {rows:>10} rows");
            }
            println!("copied every table; counts verified");
            Ok(())
        }
        Some(Command::Migrate(MigrateArgs { store, .. })) => {
            init_logging(&store.log_level);
            let admin = Admin::open(&store.config()).await?;
            admin.close().await;
            println!("schema is up to date");
            Ok(())
        }
        Some(Command::Admin { command, store }) => {
            init_logging(&store.log_level);
            admin(command, store.config()).await
        }
    }
}

async fn admin(command: AdminCommand, config: Config) -> anyhow::Result<()> {
    // Validate what needs no store first, so a bad call changes nothing.
    let password = match &command {
        AdminCommand::CreateAgent { password_stdin, .. }
        | AdminCommand::ResetPassword { password_stdin, .. } => {
            Some(read_password(*password_stdin)?)
        }
        _ => None,
    };
    let admin = Admin::open(&config).await?;
    let result = match command {
        AdminCommand::CreateDepartment { name } => admin
            .create_department(&name)
            .await
            .map(|d| println!("created department {} ({})", d.name, d.id)),
        AdminCommand::CreateAgent {
            email,
            name,
            role,
            departments,
            ..
        } => admin
            .create_agent(
                &email,
                &name,
                role,
                &departments,
                password.as_deref().unwrap_or(""),
            )
            .await
            .map(|a| {
                println!(
                    "created {} {} <{}> ({})",
                    a.role.as_str(),
                    a.name,
                    a.email,
                    a.id
                )
            }),
        AdminCommand::ResetPassword { email, .. } => admin
            .reset_password(&email, password.as_deref().unwrap_or(""))
            .await
            .map(|()| println!("password updated for {email}")),
        AdminCommand::UpdateAgent {
            email,
            role,
            departments,
            no_departments,
            name,
            max_chats,
        } => {
            let departments = (no_departments || !departments.is_empty()).then_some(departments);
            admin
                .update_agent(
                    &email,
                    role,
                    departments.as_deref(),
                    name.as_deref(),
                    max_chats,
                )
                .await
                .map(|a| {
                    println!(
                        "updated {} ({}, {} departments)",
                        a.email,
                        a.role.as_str(),
                        a.department_ids.len()
                    )
                })
        }
        AdminCommand::ListAgents => {
            let depts = admin.departments().await?;
            admin.list_agents().await.map(|agents| {
                println!(
                    "{:<28} {:<24} {:<10} {:<10} DEPARTMENTS",
                    "EMAIL", "NAME", "ROLE", "STATUS"
                );
                for a in agents {
                    let names: Vec<&str> = a
                        .department_ids
                        .iter()
                        .filter_map(|id| {
                            depts.iter().find(|d| &d.id == id).map(|d| d.name.as_str())
                        })
                        .collect();
                    println!(
                        "{:<28} {:<24} {:<10} {:<10} {}",
                        a.email,
                        a.name,
                        a.role.as_str(),
                        a.status.as_str(),
                        names.join(", ")
                    );
                }
            })
        }
        AdminCommand::ListDepartments => admin.departments().await.map(|ds| {
            for d in ds {
                println!("{}  {}", d.id, d.name);
            }
        }),
    };
    admin.close().await;
    result
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    init_logging(&args.store.log_level);
    let mut config = args.store.config();
    config.allowed_origins = args.allowed_origins;
    config.send_rate_limit = args.send_rate_limit;
    config.send_burst = args.send_rate_limit.saturating_mul(2);
    config.event_rate_limit = args.event_rate_limit;
    config.new_visitors_per_minute = args.new_visitors_per_minute;
    config.visitor_upload_files = args.visitor_upload_files;
    config.visitor_upload_bytes = args.visitor_upload_mib * 1024 * 1024;
    config.unsent_upload_max_age = std::time::Duration::from_secs(args.unsent_upload_hours * 3600);
    config.default_department = args.default_department;
    config.metrics_bind = args.metrics_bind;
    config.metrics_token = args.metrics_token.filter(|t| !t.trim().is_empty());
    config.max_password_checks = usize::from(args.max_password_checks);
    config.trusted_proxies = args.trusted_proxies;
    config.session_check_interval = std::time::Duration::from_secs(args.session_check_secs);
    config.redis_url = args.redis_url;
    config.redis_prefix = args.redis_prefix;
    raise_fd_limit();
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .with_context(|| format!("cannot listen on {}", args.bind))?;
    if let Ok(addr) = listener.local_addr() {
        // Scripts wait for this line; the library itself stays quiet on stderr.
        eprintln!("listening on http://{addr}");
    }
    widget_server::serve(listener, config, shutdown_signal()).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// Many sockets need many file descriptors: raise the soft limit to the hard one.
fn raise_fd_limit() {
    #[cfg(unix)]
    {
        if let Ok((soft, hard)) = rlimit::Resource::NOFILE.get()
            && soft < hard
        {
            let _ = rlimit::Resource::NOFILE.set(hard, hard);
        }
    }
}
