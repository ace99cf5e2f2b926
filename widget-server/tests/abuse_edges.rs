//! Server edges under abuse: the revoked-token cache stays bounded (the store still
//! refuses what it forgot), absurd page numbers are refused instead of overflowing, and
//! the data directory, database and signing secret are private.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod stateful;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{ServerProcess, TestServer, free_port, seeded_data_dir};
use stateful::StateServer;
use widget_server::auth::MAX_REVOKED_CACHED;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

/// The database and the SQLite files beside it that exist.
fn database_files(data: &Path) -> Vec<PathBuf> {
    [
        "panel.db",
        "panel.db-wal",
        "panel.db-shm",
        "panel.db-journal",
    ]
    .iter()
    .map(|f| data.join(f))
    .filter(|p| p.exists())
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_revoked_cache_is_bounded_and_the_store_still_refuses_forgotten_tokens() {
    let server = StateServer::start(|_| {}).await;
    let rest = &server.rest;
    let gone = rest.login("alice@example.com").await;
    let kept = rest.login("alice@example.com").await;
    let out = rest
        .post(Some(&gone), "/auth/logout", &serde_json::json!({}))
        .await;
    assert_eq!(out.status, 200, "{}", out.body);
    // A flood of sign-outs of tokens that live longer than this one.
    let cache = &server.state.revoked;
    let later = jsonwebtoken::get_current_timestamp() + 40 * 24 * 3600;
    for i in 0..MAX_REVOKED_CACHED * 3 {
        cache.insert(&format!("flood-{i}"), later);
    }
    assert!(cache.len() <= MAX_REVOKED_CACHED, "{} cached", cache.len());
    // The signed-out token fell out of the cache; the store still refuses it.
    rest.get(Some(&gone), "/auth/me")
        .await
        .assert_error(401, "unauthorized");
    assert_eq!(rest.get(Some(&kept), "/auth/me").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_far_past_any_list_is_invalid_not_an_overflow() {
    let server = TestServer::start().await;
    let token = server.login("ada@example.com").await;
    for path in [
        "/agents?page=50000000&per_page=100",
        "/departments?page=50000000&per_page=100",
        "/chats?page=50000000&per_page=100",
        "/canned-responses?page=50000000&per_page=100",
        "/agents?page=4294967295&per_page=100",
        "/agents?page=100001",
    ] {
        let a = server.rest.get(Some(&token), path).await;
        a.assert_error(422, "invalid");
        assert!(
            a.body.to_string().contains("page must be 1 to 100000"),
            "{path}: {}",
            a.body
        );
    }
    // The last allowed page is just empty.
    let last = server
        .rest
        .get(Some(&token), "/agents?page=100000&per_page=100")
        .await;
    assert_eq!(last.status, 200, "{}", last.body);
    assert_eq!(last.body["items"], serde_json::json!([]));
    assert_eq!(last.body["total"], 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_data_dir_is_private_from_the_first_start() {
    let server = TestServer::start().await;
    let data = server.config.data_dir.clone();
    assert_eq!(mode(&data), 0o700);
    let files = database_files(&data);
    assert!(!files.is_empty(), "no database in {}", data.display());
    for f in files {
        assert_eq!(mode(&f), 0o600, "{}", f.display());
    }
    assert_eq!(mode(&data.join("jwt.secret")), 0o600);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_data_dir_and_database_open_to_others_are_made_private_at_start() {
    let root = tempfile::tempdir().unwrap();
    let (data, _team) = seeded_data_dir(root.path()).await;
    // As an older version (or a careless restore) left them.
    chmod(&data, 0o755);
    std::fs::write(data.join("panel.db-journal"), b"").unwrap();
    let files = database_files(&data);
    for f in &files {
        chmod(f, 0o644);
    }
    let log = root.path().join("server.log");
    let server = ServerProcess::spawn(&data, free_port(), &log).await;
    assert_eq!(mode(&data), 0o700);
    for f in &files {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }
    for f in database_files(&data) {
        assert_eq!(mode(&f), 0o600, "{}", f.display());
    }
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("was readable by other users (mode 0644); made it 0600"),
        "{logged}"
    );
    assert!(logged.contains("(mode 0755); made it 0700"), "{logged}");
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jwt_secret_readable_by_others_is_refused_at_start() {
    let root = tempfile::tempdir().unwrap();
    let (data, _team) = seeded_data_dir(root.path()).await;
    let secret = data.join("jwt.secret");
    std::fs::write(&secret, "0123456789abcdef0123456789abcdef0123456789abcdef").unwrap();
    chmod(&secret, 0o644);
    let mut child = Command::new(env!("CARGO_BIN_EXE_widget-server"))
        .arg("serve")
        .arg("--data-dir")
        .arg(&data)
        .arg("--bind")
        .arg(format!("127.0.0.1:{}", free_port()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn widget-server");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if tokio::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server started with a jwt.secret of mode 0644");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("jwt.secret is not private (mode 0644)"),
        "{stderr}"
    );
    assert!(stderr.contains("chmod 600"), "{stderr}");
    // Refused, not silently changed: the operator decides.
    assert_eq!(mode(&secret), 0o644);
}
