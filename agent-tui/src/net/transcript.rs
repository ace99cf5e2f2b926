//! The `:export` file: written only as a new file (never over an existing one, never
//! through a symlink), readable by its owner only.

use std::fs::OpenOptions;
use std::io::{ErrorKind, Write};
use std::path::PathBuf;

use shared::text::sanitize_line;

/// Why a transcript was not written, in words for the agent (paths and system
/// messages already cleaned for the message line).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExportError {
    #[error("{0} already exists; choose another name")]
    Exists(String),
    #[error("{path}: {why}")]
    Io { path: String, why: String },
}

impl ExportError {
    fn io(path: &str, e: &dyn std::fmt::Display) -> ExportError {
        ExportError::Io {
            path: sanitize_line(path).into_owned(),
            why: sanitize_line(&e.to_string()).into_owned(),
        }
    }
}

/// Writes `text` to `typed` (relative to the directory the console started in) and
/// returns the absolute path. `create_new` refuses any existing entry at that path,
/// a symlink included, dangling or not, so an export can neither overwrite a file
/// nor be redirected to one. On unix the file is created with mode 0600.
pub fn write_new(typed: &str, text: &str) -> Result<PathBuf, ExportError> {
    let path = std::path::absolute(typed).map_err(|e| ExportError::io(typed, &e))?;
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut file = match opts.open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {
            return Err(ExportError::Exists(sanitize_line(typed).into_owned()));
        }
        Err(e) => return Err(ExportError::io(typed, &e)),
    };
    if let Err(e) = file
        .write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
    {
        drop(file);
        // Only a file this call created is removed: a half-written transcript.
        let _ = std::fs::remove_file(&path);
        return Err(ExportError::io(typed, &e));
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(p: &std::path::Path) -> String {
        p.display().to_string()
    }

    #[test]
    fn a_new_file_is_written_and_its_absolute_path_returned() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.txt");
        let out = write_new(&shown(&p), "hello\n").unwrap();
        assert_eq!(out, p);
        assert!(out.is_absolute());
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "hello\n");
    }

    #[test]
    fn export_does_not_overwrite_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("notes.txt");
        std::fs::write(&p, "mine, keep me").unwrap();
        let err = write_new(&shown(&p), "transcript").unwrap_err();
        assert_eq!(err, ExportError::Exists(shown(&p)));
        assert_eq!(
            err.to_string(),
            format!("{} already exists; choose another name", shown(&p))
        );
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "mine, keep me");
    }

    #[cfg(unix)]
    #[test]
    fn export_refuses_a_symlink_and_leaves_its_target_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("authorized_keys");
        std::fs::write(&target, "ssh-ed25519 AAAA mine").unwrap();
        let link = dir.path().join("transcript.txt");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = write_new(&shown(&link), "ssh-ed25519 AAAA evil").unwrap_err();
        assert_eq!(err, ExportError::Exists(shown(&link)));
        assert_eq!(
            std::fs::read_to_string(&target).unwrap(),
            "ssh-ed25519 AAAA mine"
        );
        assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    }

    #[cfg(unix)]
    #[test]
    fn export_refuses_a_dangling_symlink_and_creates_nothing_at_its_target() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("created-elsewhere");
        let link = dir.path().join("transcript.txt");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = write_new(&shown(&link), "transcript").unwrap_err();
        assert_eq!(err, ExportError::Exists(shown(&link)));
        assert!(!target.exists(), "nothing created through the link");
        assert!(std::fs::symlink_metadata(&target).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn an_exported_file_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.txt");
        write_new(&shown(&p), "x").unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }

    #[test]
    fn errors_name_the_path_cleaned() {
        let dir = tempfile::tempdir().unwrap();
        let typed = format!(
            "{}/no-such-dir/\u{1b}]0;x\u{7}\u{202E}t.txt",
            shown(dir.path())
        );
        let err = write_new(&typed, "x").unwrap_err().to_string();
        assert!(!err.contains('\u{1b}') && !err.contains('\u{7}') && !err.contains('\u{202E}'));
        assert!(err.contains("no-such-dir/t.txt"), "{err}");
        assert!(matches!(write_new("", "x"), Err(ExportError::Io { .. })));
    }
}
