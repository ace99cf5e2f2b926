//! Files in the config directory: `config.toml` (server, theme, keymap), the session
//! (mode 0600) and the outbox next to it, both written atomically.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::keys::KeymapConfig;
use crate::state::Session;
use crate::state::outbox::{OutboxFile, OutboxItem};

pub const DEFAULT_SERVER: &str = "http://127.0.0.1:5000";

/// `$AGENT_PANEL_HOME`, else `$XDG_CONFIG_HOME/agent-panel`, else the platform's
/// config directory (`~/.config/agent-panel`).
pub fn config_dir() -> PathBuf {
    if let Some(h) = std::env::var_os("AGENT_PANEL_HOME").filter(|h| !h.is_empty()) {
        return PathBuf::from(h);
    }
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|h| !h.is_empty()) {
        return PathBuf::from(x).join("agent-panel");
    }
    dirs::config_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("agent-panel")
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// The widget server, e.g. `https://support.example.com`.
    pub server: Option<String>,
    /// `dark`, `light` or `high-contrast`.
    pub theme: Option<String>,
    /// Ring the terminal bell for new chats and messages (default on).
    pub bell: Option<bool>,
    /// Desktop notifications through the terminal (OSC 9 / 777; default on).
    pub desktop_notifications: Option<bool>,
    #[serde(default)]
    pub keymap: KeymapConfig,
}

impl FileConfig {
    pub fn load(dir: &Path) -> anyhow::Result<FileConfig> {
        let p = dir.join("config.toml");
        match std::fs::read_to_string(&p) {
            Ok(s) => toml::from_str(&s).map_err(|e| anyhow::anyhow!("{}: {e}", p.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(FileConfig::default()),
            Err(e) => Err(anyhow::anyhow!("{}: {e}", p.display())),
        }
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory, so a
/// crash leaves the old or the new file, never half of one. `private` makes it 0600.
pub fn write_atomic(path: &Path, bytes: &[u8], private: bool) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = private;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

pub fn session_path(dir: &Path) -> PathBuf {
    dir.join("session.json")
}

pub fn outbox_path(dir: &Path) -> PathBuf {
    dir.join("outbox.json")
}

pub fn load_session(dir: &Path) -> Option<Session> {
    let s = std::fs::read_to_string(session_path(dir)).ok()?;
    serde_json::from_str(&s).ok()
}

pub fn save_session(dir: &Path, s: &Session) -> std::io::Result<()> {
    let bytes = serde_json::to_vec_pretty(s).map_err(std::io::Error::other)?;
    write_atomic(&session_path(dir), &bytes, true)
}

pub fn clear_session(dir: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(session_path(dir)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// The outbox of this server and agent; another's is left alone.
pub fn load_outbox(dir: &Path, server: &str, agent_id: &str) -> Vec<OutboxItem> {
    let Ok(s) = std::fs::read_to_string(outbox_path(dir)) else {
        return Vec::new();
    };
    match serde_json::from_str::<OutboxFile>(&s) {
        Ok(f) if f.server == server && f.agent_id == agent_id => f.restored(),
        _ => Vec::new(),
    }
}

pub fn save_outbox(
    dir: &Path,
    server: &str,
    agent_id: &str,
    items: &[OutboxItem],
) -> std::io::Result<()> {
    let f = OutboxFile {
        server: server.to_owned(),
        agent_id: agent_id.to_owned(),
        items: items.to_vec(),
    };
    let bytes = serde_json::to_vec_pretty(&f).map_err(std::io::Error::other)?;
    write_atomic(&outbox_path(dir), &bytes, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::OutboxStatus;
    use shared::model::{Agent, AgentStatus, MessageKind, Role};

    fn agent() -> Agent {
        Agent {
            id: "a1".into(),
            name: "Maya".into(),
            email: "maya@example.com".into(),
            role: Role::Agent,
            status: AgentStatus::Online,
            department_ids: vec![],
            max_chats: 5,
            active_chats: 0,
        }
    }

    #[test]
    fn session_is_private_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let s = Session {
            server: "http://x".into(),
            token: "t".into(),
            agent: agent(),
            expires_at: None,
        };
        save_session(dir.path(), &s).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(session_path(dir.path()))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(load_session(dir.path()), Some(s));
        clear_session(dir.path()).unwrap();
        assert_eq!(load_session(dir.path()), None);
        clear_session(dir.path()).unwrap();
    }

    #[test]
    fn outbox_survives_a_restart_and_belongs_to_its_agent() {
        let dir = tempfile::tempdir().unwrap();
        let item = |id: &str, status| OutboxItem {
            client_msg_id: id.into(),
            chat_id: "c1".into(),
            body: format!("body {id}"),
            kind: MessageKind::Text,
            attachments: vec![],
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            status,
        };
        let items = vec![
            item("1", OutboxStatus::Sending),
            item("2", OutboxStatus::Pending),
            item(
                "3",
                OutboxStatus::Failed {
                    reason: "too long".into(),
                },
            ),
        ];
        save_outbox(dir.path(), "http://x", "a1", &items).unwrap();
        let back = load_outbox(dir.path(), "http://x", "a1");
        assert_eq!(back.len(), 3);
        assert_eq!(
            back[0].status,
            OutboxStatus::Pending,
            "in flight becomes pending"
        );
        assert_eq!(back[1].client_msg_id, "2");
        assert!(back[2].is_failed());
        assert!(load_outbox(dir.path(), "http://x", "someone-else").is_empty());
        assert!(load_outbox(dir.path(), "http://other", "a1").is_empty());
    }

    #[test]
    fn config_file_reads_keymap_and_theme() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.toml"),
            "server = \"http://h:5000\"\ntheme = \"light\"\n[keymap.normal]\n\"ctrl-j\" = \"move_down\"\n",
        )
        .unwrap();
        let c = FileConfig::load(dir.path()).unwrap();
        assert_eq!(c.server.as_deref(), Some("http://h:5000"));
        assert_eq!(c.theme.as_deref(), Some("light"));
        assert_eq!(c.keymap.len(), 1);
        let empty = tempfile::tempdir().unwrap();
        assert!(FileConfig::load(empty.path()).unwrap().server.is_none());
    }

    #[test]
    fn the_user_guide_keymap_example_applies_without_errors() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.toml"),
            r#"
[keymap.normal]
"ctrl-j" = "move_down"
"ctrl-k" = "move_up"
"ctrl-t" = "transfer"
"x" = "none"
[keymap.chats]
"X" = "close"
[keymap.notifications]
"space" = "toggle_read"
[keymap.insert]
"ctrl-enter" = "send"
"f2" = "toggle_note"
[keymap.picker]
"tab" = "move_down"
"#,
        )
        .unwrap();
        let c = FileConfig::load(dir.path()).unwrap();
        let (_, errors) = crate::keys::Keymap::with_overrides(&c.keymap);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(c.keymap.len(), 5);
    }
}
