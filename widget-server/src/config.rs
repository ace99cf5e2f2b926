//! Server configuration: where data lives, who may connect, and the edge limits.

use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;

#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    /// `sqlite://…` (default: `<data_dir>/panel.db`) or `postgres://…`.
    pub database_url: Option<String>,
    /// Origins allowed to open `/customer` sockets besides the server's own.
    pub allowed_origins: Vec<String>,
    /// Messages per second per socket; 0 turns the limit off.
    pub send_rate_limit: u32,
    pub send_burst: u32,
    /// The department that chats started without one go to (by name or id);
    /// default: the department created first.
    pub default_department: Option<String>,
    /// Password checks (argon2, ~19 MiB each) allowed to run at once.
    pub max_password_checks: usize,
    /// How long a sign-in waits for a free password check before `rate_limited`.
    pub password_check_wait: Duration,
    /// Reverse proxies whose `X-Forwarded-For` names the client; nobody else's is read.
    pub trusted_proxies: Vec<IpNet>,
    /// How often every agent socket is checked against the store (expiry, sign-out,
    /// password reset, role and department changes made by any process).
    pub session_check_interval: Duration,
    /// Events per second each visitor or agent may send besides messages and typing
    /// (sync, read receipts, ratings, pings…), across all its sockets; 0 = unlimited.
    pub event_rate_limit: u32,
    /// New visitor identities one client address may create per minute.
    pub new_visitors_per_minute: u32,
    /// Uploads a visitor may have not yet sent in a message, per hour: files, bytes.
    pub visitor_upload_files: u64,
    pub visitor_upload_bytes: u64,
    /// Uploads never sent in a message are deleted after this long.
    pub unsent_upload_max_age: Duration,
    /// `/metrics` on the public listener, for this bearer token (off when `None`).
    pub metrics_token: Option<String>,
    /// `/metrics` on a listener of its own, without a token (off when `None`).
    pub metrics_bind: Option<std::net::SocketAddr>,
    /// Redis shared by several nodes (`redis://…`); none: this process is alone.
    pub redis_url: Option<String>,
    /// What this installation's Redis keys and channels start with.
    pub redis_prefix: String,
}

/// The default for [`Config::session_check_interval`].
pub const DEFAULT_SESSION_CHECK: Duration = Duration::from_secs(2);

/// The default for [`Config::redis_prefix`].
pub const DEFAULT_REDIS_PREFIX: &str = "panel";

/// The window of the visitor upload quota.
pub const UPLOAD_QUOTA_WINDOW: Duration = Duration::from_secs(3600);

impl Config {
    /// The quota a visitor's uploads are checked against.
    pub fn visitor_upload_quota(&self) -> crate::store::UploadQuota {
        crate::store::UploadQuota {
            files: self.visitor_upload_files,
            bytes: self.visitor_upload_bytes,
            window_ms: UPLOAD_QUOTA_WINDOW.as_millis() as i64,
        }
    }

    pub fn new(data_dir: impl Into<PathBuf>) -> Config {
        Config {
            data_dir: data_dir.into(),
            database_url: None,
            allowed_origins: Vec::new(),
            send_rate_limit: 10,
            send_burst: 20,
            default_department: None,
            max_password_checks: crate::auth::default_max_checks(),
            password_check_wait: crate::auth::DEFAULT_CHECK_WAIT,
            trusted_proxies: Vec::new(),
            session_check_interval: DEFAULT_SESSION_CHECK,
            event_rate_limit: crate::socket::limits::EVENT_RATE,
            new_visitors_per_minute: crate::socket::limits::NEW_VISITORS_PER_MINUTE,
            visitor_upload_files: 20,
            visitor_upload_bytes: 50 * 1024 * 1024,
            unsent_upload_max_age: Duration::from_secs(24 * 3600),
            metrics_token: None,
            metrics_bind: None,
            redis_url: None,
            redis_prefix: DEFAULT_REDIS_PREFIX.to_owned(),
        }
    }

    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(u) => u.clone(),
            None => format!("sqlite://{}", self.data_dir.join("panel.db").display()),
        }
    }

    /// The SQLite database file, when the store is a SQLite file.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        let url = self.database_url();
        let rest = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))?;
        let path = rest.split('?').next().unwrap_or("");
        (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
    }

    /// Creates the data directory (mode 0700) if it is missing, and keeps it and the
    /// database private: an existing directory readable by others is made 0700 and
    /// existing database, WAL and journal files 0600, with a warning for each; a
    /// database not created yet is created empty as 0600, so that SQLite gives its WAL
    /// the same mode.
    pub fn ensure_data_dir(&self) -> anyhow::Result<()> {
        if !self.data_dir.exists() {
            std::fs::create_dir_all(&self.data_dir).map_err(|e| {
                anyhow::anyhow!(
                    "cannot create data directory {}: {e}",
                    self.data_dir.display()
                )
            })?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&self.data_dir, std::fs::Permissions::from_mode(0o700))?;
            }
        }
        if !self.data_dir.is_dir() {
            anyhow::bail!("{} is not a directory", self.data_dir.display());
        }
        #[cfg(unix)]
        {
            make_private(&self.data_dir, 0o700);
            if let Some(db) = self.sqlite_path() {
                create_private_if_missing(&db);
                for suffix in ["", "-wal", "-shm", "-journal"] {
                    let mut name = db.clone().into_os_string();
                    name.push(suffix);
                    make_private(std::path::Path::new(&name), 0o600);
                }
            }
        }
        Ok(())
    }
}

/// Takes group and other permissions off `path` if it exists and has any, warning
/// that it did (or could not).
#[cfg(unix)]
fn make_private(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = std::fs::metadata(path) else {
        return;
    };
    let old = meta.permissions().mode() & 0o777;
    if old & 0o077 == 0 {
        return;
    }
    match std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)) {
        Ok(()) => tracing::warn!(
            "{} was readable by other users (mode {old:04o}); made it {mode:04o}",
            path.display()
        ),
        Err(e) => tracing::warn!(
            "{} is readable by other users (mode {old:04o}) and could not be made {mode:04o}: {e}",
            path.display()
        ),
    }
}

/// Creates an empty database file readable by its owner only; SQLite opens an empty
/// file as a new database.
#[cfg(unix)]
fn create_private_if_missing(path: &std::path::Path) {
    use std::os::unix::fs::OpenOptionsExt;
    if path
        .parent()
        .is_some_and(|p| !p.as_os_str().is_empty() && !p.is_dir())
    {
        return;
    }
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
    if let Err(e) = created
        && e.kind() != std::io::ErrorKind::AlreadyExists
    {
        tracing::warn!("cannot create {}: {e}", path.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sqlite_path_comes_from_the_url() {
        let mut c = Config::new("/srv/panel");
        assert_eq!(c.sqlite_path(), Some(PathBuf::from("/srv/panel/panel.db")));
        c.database_url = Some("sqlite:///var/db/p.db?mode=rwc".into());
        assert_eq!(c.sqlite_path(), Some(PathBuf::from("/var/db/p.db")));
        c.database_url = Some("sqlite:rel.db".into());
        assert_eq!(c.sqlite_path(), Some(PathBuf::from("rel.db")));
        c.database_url = Some("sqlite::memory:".into());
        assert_eq!(c.sqlite_path(), None);
        c.database_url = Some("postgres://db/panel".into());
        assert_eq!(c.sqlite_path(), None);
    }
}
