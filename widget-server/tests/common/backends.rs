//! Store backends for tests that run on every backend: a fresh SQLite store in a temp
//! dir, a uniquely named PostgreSQL database on the server `TEST_DATABASE_URL` names,
//! and an assertion for the store's refusals.

use std::sync::Arc;

use shared::{ApiError, ErrorCode};
use sqlx::{AssertSqlSafe, Connection};
use widget_server::Config;
use widget_server::store::{self, Store, StoreResult};

/// The environment variable naming a PostgreSQL server for the store tests.
pub const TEST_DATABASE_URL: &str = "TEST_DATABASE_URL";

/// A SQLite store in a temp dir that lives as long as this.
pub struct SqliteBackend {
    pub store: Arc<dyn Store>,
    pub config: Config,
    _dir: tempfile::TempDir,
}

impl SqliteBackend {
    pub async fn open() -> SqliteBackend {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = Config::new(dir.path().join("data"));
        config.ensure_data_dir().expect("data dir");
        let store = store::open(&config).await.expect("open the SQLite store");
        SqliteBackend {
            store,
            config,
            _dir: dir,
        }
    }
}

/// The PostgreSQL server to test on, if `TEST_DATABASE_URL` names one.
pub fn postgres_server() -> Option<String> {
    std::env::var(TEST_DATABASE_URL)
        .ok()
        .filter(|u| !u.trim().is_empty())
}

/// A database of its own on a PostgreSQL server, so tests never share state; drop it
/// with [`TempPgDatabase::drop_database`] (a `Drop` impl could not await).
pub struct TempPgDatabase {
    server_url: String,
    pub name: String,
    /// `server_url` with the database replaced by this one.
    pub url: String,
}

impl TempPgDatabase {
    pub async fn create(server_url: &str) -> TempPgDatabase {
        let name = format!("panel_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(server_url)
            .await
            .unwrap_or_else(|e| panic!("connect to {TEST_DATABASE_URL}={server_url}: {e}"));
        // The name is ours (a UUID), so quoting it is all the escaping it needs.
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("create database {name}: {e}"));
        conn.close().await.expect("close the admin connection");
        TempPgDatabase {
            url: with_database(server_url, &name),
            server_url: server_url.to_owned(),
            name,
        }
    }

    /// Drops the database, disconnecting whatever still uses it.
    pub async fn drop_database(self) {
        let mut conn = sqlx::PgConnection::connect(&self.server_url)
            .await
            .unwrap_or_else(|e| panic!("connect to {}: {e}", self.server_url));
        sqlx::query(AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            self.name
        )))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("drop database {}: {e}", self.name));
        conn.close().await.expect("close the admin connection");
    }
}

/// A fresh database for one PostgreSQL test, or `None` with the reason on stderr when
/// `TEST_DATABASE_URL` names no server.
pub async fn pg_database(test: &str) -> Option<TempPgDatabase> {
    match postgres_server() {
        Some(server) => Some(TempPgDatabase::create(&server).await),
        None => {
            eprintln!(
                "skipping {test}: {TEST_DATABASE_URL} is unset (e.g. \
                 {TEST_DATABASE_URL}=postgres://postgres@127.0.0.1:5432/test)"
            );
            None
        }
    }
}

/// `host:port` of a `postgres://` URL (5432 when it names none).
pub fn host_port(url: &str) -> String {
    let authority_start = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[authority_start..];
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    }
}

/// `url` pointed at another `host:port`, user, database and options kept.
pub fn with_host_port(url: &str, host_port: &str) -> String {
    let authority_start = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[authority_start..];
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let user = authority.rsplit_once('@').map(|(u, _)| u);
    let mut out = url[..authority_start].to_owned();
    if let Some(u) = user {
        out.push_str(u);
        out.push('@');
    }
    out.push_str(host_port);
    out.push_str(&rest[end..]);
    out
}

/// `postgres://user@host:port/db?opts` with `db` replaced (or added) by `database`.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let mut out = format!("{}/{database}", &base[..path_start]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// The store for a PostgreSQL database. `data_dir` is where the server would keep
/// its files.
pub async fn open_postgres(url: &str, data_dir: &std::path::Path) -> Arc<dyn Store> {
    let mut config = Config::new(data_dir);
    config.database_url = Some(url.to_owned());
    store::open(&config)
        .await
        .unwrap_or_else(|e| panic!("open the PostgreSQL store at {url}: {e:#}"))
}

/// Asserts that a store call was refused with `code` and a message containing `says`;
/// returns the error for further checks.
#[track_caller]
pub fn refused<T: std::fmt::Debug>(
    result: StoreResult<T>,
    code: ErrorCode,
    says: &str,
) -> ApiError {
    match result {
        Ok(v) => panic!("expected a {code} refusal mentioning {says:?}, got Ok({v:?})"),
        Err(e) => {
            assert_eq!(e.code, code, "wrong refusal: {e:?}");
            assert!(
                e.message.contains(says),
                "the {code} refusal {:?} should mention {says:?}",
                e.message
            );
            e
        }
    }
}
