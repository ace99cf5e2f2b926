//! `agent-tui`: run the console, sign in or out from scripts, or start the demo.

use std::io::BufRead;

use anyhow::Context;
use clap::{Parser, Subcommand};

use agent_tui::app::{self, Options};
use agent_tui::config::{self, DEFAULT_SERVER, FileConfig};
use agent_tui::net::rest::Rest;
use agent_tui::state::Session;

#[derive(Parser)]
#[command(
    name = "agent-tui",
    version,
    about = "Agent Panel: the live-chat console for support agents"
)]
struct Cli {
    /// The widget server (also AGENT_PANEL_SERVER, then `server` in config.toml).
    #[arg(long, env = "AGENT_PANEL_SERVER", global = true)]
    server: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Open the console (the default).
    Run,
    /// Sign in without the console and save the session.
    Login {
        #[arg(long)]
        email: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// Keep the session for 30 days instead of 24 hours.
        #[arg(long)]
        remember: bool,
    },
    /// Sign out: revoke the saved session and delete it.
    Logout,
    /// Start an embedded server with simulated visitors and open the console.
    Demo(agent_tui::demo::DemoArgs),
    /// Download a report with the saved session (agents get their own figures).
    Report {
        /// First day (YYYY-MM-DD, in --tz) or an RFC 3339 time; default 30 days ago.
        #[arg(long)]
        from: Option<String>,
        /// Last day, included (or an RFC 3339 time, excluded); default today.
        #[arg(long)]
        to: Option<String>,
        /// The timezone of the days (IANA name); default $TZ, else UTC.
        #[arg(long, env = "TZ")]
        tz: Option<String>,
        /// json, csv or xlsx.
        #[arg(long, default_value = "json")]
        format: String,
        /// summary, agents, timeseries or ratings.
        #[arg(long, default_value = "agents")]
        kind: String,
        /// For timeseries: chats_handled, first_response_s, response_s, resolution_s, csat_pct.
        #[arg(long)]
        metric: Option<String>,
        /// For timeseries: day, week or month.
        #[arg(long)]
        bucket: Option<String>,
        /// Write to this new file (never overwritten) instead of standard output.
        #[arg(long, short)]
        out: Option<std::path::PathBuf>,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // Read before any thread starts: the local offset is unsound to query later.
    let utc_offset = time::UtcOffset::current_local_offset().unwrap_or(time::UtcOffset::UTC);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    rt.block_on(async_main(cli, utc_offset))
}

async fn async_main(cli: Cli, utc_offset: time::UtcOffset) -> anyhow::Result<()> {
    let dir = config::config_dir();
    let file = FileConfig::load(&dir)?;
    let server = cli
        .server
        .clone()
        .or_else(|| file.server.clone())
        .or_else(|| config::load_session(&dir).map(|s| s.server))
        .unwrap_or_else(|| DEFAULT_SERVER.to_owned())
        .trim_end_matches('/')
        .to_owned();
    match cli.command.unwrap_or(Command::Run) {
        Command::Run => {
            app::run(Options {
                server,
                dir,
                config: file,
                banner: Vec::new(),
                session: None,
                utc_offset,
                greeting: None,
            })
            .await
        }
        Command::Login {
            email,
            password_stdin,
            remember,
        } => {
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line)?;
                line.trim_end_matches(['\r', '\n']).to_owned()
            } else {
                rpassword::prompt_password("Password: ")?
            };
            let rest = Rest::new(&server)?;
            let a = rest
                .login(&email, &password, remember)
                .await
                .map_err(|e| anyhow::anyhow!("sign-in failed: {}", e.message()))?;
            let s = Session {
                server: server.clone(),
                token: a.token,
                agent: a.agent,
                expires_at: a.expires_at,
            };
            config::save_session(&dir, &s)?;
            println!(
                "Signed in as {} <{}> on {server}; session saved in {}",
                s.agent.name,
                s.agent.email,
                config::session_path(&dir).display()
            );
            Ok(())
        }
        Command::Logout => {
            match config::load_session(&dir) {
                Some(s) => {
                    let rest = Rest::new(&s.server)?.with_token(s.token.clone());
                    if let Err(e) = rest.logout().await {
                        eprintln!("the server did not confirm the sign-out: {}", e.message());
                    }
                    config::clear_session(&dir)?;
                    println!("Signed out {} from {}", s.agent.email, s.server);
                }
                None => println!("No saved session"),
            }
            Ok(())
        }
        Command::Demo(args) => agent_tui::demo::run(args, dir, file, utc_offset).await,
        Command::Report {
            from,
            to,
            tz,
            format,
            kind,
            metric,
            bucket,
            out,
        } => {
            let s = config::load_session(&dir)
                .ok_or_else(|| anyhow::anyhow!("no saved session: run `agent-tui login` first"))?;
            if !matches!(
                kind.as_str(),
                "summary" | "agents" | "timeseries" | "ratings"
            ) {
                anyhow::bail!("--kind must be summary, agents, timeseries or ratings");
            }
            if format == "xlsx" && out.is_none() {
                anyhow::bail!("an XLSX report needs --out FILE");
            }
            let tz = tz.filter(|t| !t.is_empty() && !t.starts_with(':'));
            let query: Vec<(&str, String)> = [
                ("from", from),
                ("to", to),
                ("tz", tz),
                ("format", Some(format)),
                ("metric", metric),
                ("bucket", bucket),
            ]
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect();
            let rest = Rest::new(&s.server)?.with_token(s.token.clone());
            let bytes = rest
                .report(&kind, &query)
                .await
                .map_err(|e| anyhow::anyhow!("the report failed: {}", e.message()))?;
            match out {
                Some(path) => {
                    use std::io::Write;
                    let mut f = std::fs::OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .open(&path)
                        .with_context(|| {
                            format!("creating {} (it must not exist)", path.display())
                        })?;
                    f.write_all(&bytes)?;
                    println!("Wrote {} ({} bytes)", path.display(), bytes.len());
                }
                None => {
                    use std::io::Write;
                    let text = String::from_utf8_lossy(&bytes);
                    // Customer comments are untrusted text: no control characters
                    // reach the terminal.
                    let clean: String = text
                        .chars()
                        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
                        .collect();
                    std::io::stdout().lock().write_all(clean.as_bytes())?;
                    if !clean.ends_with('\n') {
                        println!();
                    }
                }
            }
            Ok(())
        }
    }
}
