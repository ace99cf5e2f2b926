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
}

impl Config {
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
        }
    }

    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(u) => u.clone(),
            None => format!("sqlite://{}", self.data_dir.join("panel.db").display()),
        }
    }

    /// Creates the data directory (mode 0700) if it is missing.
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
        Ok(())
    }
}
