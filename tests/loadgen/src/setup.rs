//! What a run needs before it can load the server: a checked target URL, a higher
//! file-descriptor limit, agents (created through `widget-server admin`) and their
//! tokens (REST login).

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;
use shared::model::Agent;
use tokio::io::AsyncWriteExt;

use crate::conn::Target;

/// How agents are spread over departments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// All agents in one department: every visitor message fans out to every agent.
    Shared,
    /// Each agent alone in its own department: each message reaches exactly one agent.
    Solo,
}

pub const SHARED_DEPARTMENT: &str = "lg-shared";
pub const DEFAULT_PASSWORD: &str = "loadgen-password-1";

/// The email of agent `i` in a layout: `lg-agent-{i}@loadgen.test` (shared) or
/// `lg-solo-{i}@loadgen.test` (solo), so both sets can live in one data dir.
pub fn agent_email(layout: Layout, i: u32) -> String {
    match layout {
        Layout::Shared => format!("lg-agent-{i}@loadgen.test"),
        Layout::Solo => format!("lg-solo-{i}@loadgen.test"),
    }
}

/// The department of agent `i` in a layout.
pub fn agent_department(layout: Layout, i: u32) -> String {
    match layout {
        Layout::Shared => SHARED_DEPARTMENT.to_owned(),
        Layout::Solo => format!("lg-solo-{i}"),
    }
}

/// Accepts only `http://` URLs on a loopback host (127.0.0.0/8, ::1, localhost)
/// unless `allow_remote`; the sockets use plain `ws://` on the same host and port.
pub fn parse_target(url: &str, allow_remote: bool) -> anyhow::Result<(reqwest::Url, Target)> {
    let u = reqwest::Url::parse(url).with_context(|| format!("bad --url {url:?}"))?;
    if u.scheme() != "http" {
        bail!("--url must be http://HOST:PORT (the load generator speaks plain ws://), got {url}");
    }
    let port = u.port_or_known_default().context("--url has no port")?;
    let url_host = u.host_str().context("--url has no host")?.to_owned();
    let bare = url_host.trim_start_matches('[').trim_end_matches(']');
    let (connect_host, loopback) = match bare.parse::<IpAddr>() {
        Ok(ip) => (ip.to_string(), ip.is_loopback()),
        Err(_) => (bare.to_owned(), bare.eq_ignore_ascii_case("localhost")),
    };
    if !loopback && !allow_remote {
        bail!(
            "refusing to load {url}: only loopback hosts (127.0.0.1, ::1, localhost) are allowed without --allow-remote"
        );
    }
    Ok((
        u,
        Target {
            connect_host,
            url_host,
            port,
        },
    ))
}

/// Raises this process's soft RLIMIT_NOFILE towards `want` (up to the hard limit) and
/// returns the limit now in force. Child processes (the benchmarked server) inherit it.
pub fn raise_nofile(want: u64) -> u64 {
    rlimit::increase_nofile_limit(want).unwrap_or(0)
}

/// Runs `widget-server admin …` to create the departments and agents of a layout in
/// `data_dir`. Existing ones are kept (a re-run against the same dir is fine).
pub async fn create_agents(
    server_bin: &Path,
    data_dir: &Path,
    layout: Layout,
    count: u32,
    password: &str,
) -> anyhow::Result<()> {
    let mut departments: Vec<String> = (0..count).map(|i| agent_department(layout, i)).collect();
    departments.dedup();
    for d in &departments {
        admin(
            server_bin,
            &["create-department", "--name", d],
            data_dir,
            None,
        )
        .await?;
    }
    for i in 0..count {
        let email = agent_email(layout, i);
        let name = format!("Load Agent {i}");
        let dept = agent_department(layout, i);
        admin(
            server_bin,
            &[
                "create-agent",
                "--email",
                &email,
                "--name",
                &name,
                "--role",
                "agent",
                "--department",
                &dept,
                "--password-stdin",
            ],
            data_dir,
            Some(password),
        )
        .await?;
    }
    Ok(())
}

async fn admin(
    bin: &Path,
    args: &[&str],
    data_dir: &Path,
    stdin: Option<&str>,
) -> anyhow::Result<()> {
    let mut cmd = tokio::process::Command::new(bin);
    cmd.arg("admin")
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot run {}", bin.display()))?;
    if let Some(mut input) = child.stdin.take() {
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).await?;
            input.write_all(b"\n").await?;
        }
        drop(input);
    }
    let out = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .context("widget-server admin took over 120 s")??;
    if out.status.success() {
        return Ok(());
    }
    let err = String::from_utf8_lossy(&out.stderr);
    let lower = err.to_lowercase();
    if lower.contains("exist") || lower.contains("conflict") || lower.contains("already") {
        return Ok(());
    }
    bail!(
        "widget-server admin {} failed: {}",
        args.join(" "),
        err.trim()
    )
}

/// A logged-in agent.
#[derive(Debug, Clone)]
pub struct AgentLogin {
    pub token: String,
    pub agent: Agent,
}

#[derive(Deserialize)]
struct LoginResp {
    token: String,
    agent: Agent,
}

/// `POST /api/v1/auth/login` for one agent.
pub async fn login(
    http: &reqwest::Client,
    base: &reqwest::Url,
    email: &str,
    password: &str,
) -> anyhow::Result<AgentLogin> {
    let url = base.join("/api/v1/auth/login")?;
    let resp = http
        .post(url)
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await
        .with_context(|| format!("login {email}"))?;
    let status = resp.status();
    if !status.is_success() {
        let body = resp.text().await.unwrap_or_default();
        bail!("login {email}: HTTP {status}: {body}");
    }
    let r: LoginResp = resp
        .json()
        .await
        .with_context(|| format!("login {email}: body"))?;
    Ok(AgentLogin {
        token: r.token,
        agent: r.agent,
    })
}

/// The `widget-server` binary: `explicit`, else `$WIDGET_SERVER_BIN`, else the
/// workspace's `target/release`, else `target/debug`.
pub fn server_bin(explicit: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(p) = explicit {
        return Ok(p);
    }
    if let Some(p) = std::env::var_os("WIDGET_SERVER_BIN") {
        return Ok(PathBuf::from(p));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    for profile in ["release", "debug"] {
        let p = target.join(profile).join("widget-server");
        if p.is_file() {
            return Ok(p);
        }
    }
    bail!(
        "no widget-server binary: build it with `cargo build --release -p widget-server`, or pass --server-bin / set WIDGET_SERVER_BIN"
    )
}

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| here.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_without_allow_remote() {
        let (_, t) = parse_target("http://127.0.0.1:5000", false).unwrap();
        assert_eq!((t.connect_host.as_str(), t.port), ("127.0.0.1", 5000));
        let (_, t) = parse_target("http://[::1]:5001/", false).unwrap();
        assert_eq!(
            (t.connect_host.as_str(), t.url_host.as_str()),
            ("::1", "[::1]")
        );
        assert!(parse_target("http://localhost:5000", false).is_ok());
        assert!(parse_target("http://127.9.9.9:80", false).is_ok());
        assert!(parse_target("http://10.0.0.1:5000", false).is_err());
        assert!(parse_target("http://example.com:5000", false).is_err());
        assert!(parse_target("http://example.com:5000", true).is_ok());
        assert!(parse_target("https://127.0.0.1:5000", false).is_err());
        assert!(parse_target("not a url", false).is_err());
    }

    #[test]
    fn layouts_name_agents_and_departments() {
        assert_eq!(agent_email(Layout::Shared, 3), "lg-agent-3@loadgen.test");
        assert_eq!(agent_email(Layout::Solo, 3), "lg-solo-3@loadgen.test");
        assert_eq!(agent_department(Layout::Shared, 7), SHARED_DEPARTMENT);
        assert_eq!(agent_department(Layout::Solo, 7), "lg-solo-7");
        assert!(DEFAULT_PASSWORD.chars().count() >= shared::limits::MIN_PASSWORD_CHARS);
    }

    #[test]
    fn nofile_limit_can_be_raised() {
        assert!(raise_nofile(1024) >= 1024);
    }
}
