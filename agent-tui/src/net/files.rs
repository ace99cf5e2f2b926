//! Attachment files on this machine: the checks before an upload, safe names and
//! never-overwriting paths for downloads.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};

use shared::limits::MAX_ATTACHMENT_BYTES;

/// Why a file cannot be attached or saved, in words for the agent.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FileError {
    #[error("{0}: no such file")]
    Missing(String),
    #[error("{0}: not a file")]
    NotAFile(String),
    #[error("{0}: the file is empty")]
    Empty(String),
    #[error("{path}: {size} is over the 10 MiB limit")]
    TooLarge { path: String, size: String },
    #[error("{path}: {why}")]
    Io { path: String, why: String },
}

/// `~` and `~/…` name the home directory; anything else is taken as written
/// (relative paths are relative to the directory the console started in).
pub fn expand_home(path: &str) -> PathBuf {
    let home = || dirs::home_dir().unwrap_or_else(|| PathBuf::from("."));
    if path == "~" {
        return home();
    }
    match path.strip_prefix("~/") {
        Some(rest) => home().join(rest),
        None => PathBuf::from(path),
    }
}

/// A file ready to upload: its name (last path component) and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalFile {
    pub name: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// Checks the file before anything is sent (exists, is a regular file, not empty,
/// at most 10 MiB) and reads it.
pub fn read_for_upload(typed: &str) -> Result<LocalFile, FileError> {
    let path = expand_home(typed);
    let shown = typed.to_owned();
    let meta = std::fs::metadata(&path).map_err(|e| match e.kind() {
        ErrorKind::NotFound => FileError::Missing(shown.clone()),
        _ => FileError::Io {
            path: shown.clone(),
            why: e.to_string(),
        },
    })?;
    if !meta.is_file() {
        return Err(FileError::NotAFile(shown));
    }
    check_size(&shown, meta.len())?;
    let io = |e: std::io::Error| FileError::Io {
        path: shown.clone(),
        why: e.to_string(),
    };
    // Read at most one byte past the limit: the file may grow after the check.
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    File::open(&path)
        .map_err(io)?
        .take(MAX_ATTACHMENT_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    check_size(&shown, bytes.len() as u64)?;
    let name = path
        .file_name()
        .map(|n| safe_file_name(&n.to_string_lossy()))
        .unwrap_or_else(|| "file".to_owned());
    Ok(LocalFile {
        content_type: content_type_for(&name),
        name,
        bytes,
    })
}

fn check_size(shown: &str, size: u64) -> Result<(), FileError> {
    if size == 0 {
        return Err(FileError::Empty(shown.to_owned()));
    }
    if size > MAX_ATTACHMENT_BYTES as u64 {
        return Err(FileError::TooLarge {
            path: shown.to_owned(),
            size: file_size(size),
        });
    }
    Ok(())
}

/// The type recorded for an upload, by extension. The server stores it and serves
/// everything but a few image types as `application/octet-stream` anyway, so a
/// short table of common types is enough.
pub fn content_type_for(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "pdf" => "application/pdf",
        "txt" | "log" => "text/plain",
        "csv" => "text/csv",
        "json" => "application/json",
        "zip" => "application/zip",
        _ => "application/octet-stream",
    }
}

/// A file name from the server made safe to create: only its last path component
/// (either slash), without control, bidi or invisible characters, without leading
/// dots (no hidden files, no `..`), at most 200 characters; "attachment" if nothing
/// is left.
pub fn safe_file_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|&c| !shared::text::is_forbidden(c) && c != '\n' && c != '\t')
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.').trim();
    let out: String = trimmed.chars().take(200).collect();
    if out.is_empty() {
        "attachment".to_owned()
    } else {
        out
    }
}

/// Where `:save` puts files when no directory is given: `~/Downloads` if it exists,
/// else the current directory.
pub fn default_save_dir() -> PathBuf {
    match dirs::home_dir().map(|h| h.join("Downloads")) {
        Some(d) if d.is_dir() => d,
        _ => PathBuf::from("."),
    }
}

/// Writes `bytes` as `dir/name`, or `name (1)`, `name (2)`… before the extension
/// when that exists: created with `create_new`, so nothing is ever overwritten.
pub fn save_unique(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, FileError> {
    let shown = dir.display().to_string();
    if !dir.is_dir() {
        return Err(FileError::NotAFile(format!("{shown} (not a directory)")));
    }
    let name = safe_file_name(name);
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s.to_owned(), format!(".{e}")),
        _ => (name.clone(), String::new()),
    };
    for n in 0..1000u32 {
        let candidate = if n == 0 {
            name.clone()
        } else {
            format!("{stem} ({n}){ext}")
        };
        let path = dir.join(candidate);
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(mut f) => {
                let written = f.write_all(bytes).and_then(|()| f.sync_all());
                if let Err(e) = written {
                    let _ = std::fs::remove_file(&path);
                    return Err(FileError::Io {
                        path: path.display().to_string(),
                        why: e.to_string(),
                    });
                }
                return Ok(std::path::absolute(&path).unwrap_or(path));
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(FileError::Io {
                    path: path.display().to_string(),
                    why: e.to_string(),
                });
            }
        }
    }
    Err(FileError::Io {
        path: shown,
        why: format!("too many files named {name}"),
    })
}

/// A size as the console shows it next to a file: `512 B`, `120 KiB`, `2.5 MiB`.
pub fn file_size(n: u64) -> String {
    match n {
        0..1024 => format!("{n} B"),
        1024..1_048_576 => format!("{} KiB", n.div_ceil(1024)),
        _ => format!("{:.1} MiB", n as f64 / 1_048_576.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_reduced_to_a_safe_last_component() {
        assert_eq!(safe_file_name("report.pdf"), "report.pdf");
        assert_eq!(safe_file_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_file_name("C:\\Users\\x\\evil.exe"), "evil.exe");
        assert_eq!(safe_file_name("dir/"), "attachment");
        assert_eq!(safe_file_name(".."), "attachment");
        assert_eq!(safe_file_name(".bashrc"), "bashrc");
        assert_eq!(safe_file_name(""), "attachment");
        assert_eq!(
            safe_file_name("in\u{1b}[31mvoice\u{7}\r\n.pdf"),
            "in[31mvoice.pdf"
        );
        assert_eq!(safe_file_name("abc\u{202E}fdp.exe"), "abcfdp.exe");
        assert_eq!(safe_file_name("résumé 2026.pdf"), "résumé 2026.pdf");
        assert_eq!(safe_file_name(&"a".repeat(300)).chars().count(), 200);
    }

    #[test]
    fn saving_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let a = save_unique(dir.path(), "r.pdf", b"one").unwrap();
        let b = save_unique(dir.path(), "../r.pdf", b"two").unwrap();
        let c = save_unique(dir.path(), "r.pdf", b"three").unwrap();
        let d = save_unique(dir.path(), "README", b"four").unwrap();
        let e = save_unique(dir.path(), "README", b"five").unwrap();
        assert_eq!(a.file_name().unwrap(), "r.pdf");
        assert_eq!(b.file_name().unwrap(), "r (1).pdf");
        assert_eq!(c.file_name().unwrap(), "r (2).pdf");
        assert_eq!(e.file_name().unwrap(), "README (1)");
        assert_eq!(std::fs::read(&a).unwrap(), b"one");
        assert_eq!(std::fs::read(&b).unwrap(), b"two");
        assert_eq!(std::fs::read(&d).unwrap(), b"four");
        assert!(a.is_absolute());
        assert!(save_unique(&dir.path().join("nope"), "x", b"x").is_err());
    }

    #[test]
    fn uploads_are_checked_before_sending() {
        let dir = tempfile::tempdir().unwrap();
        let p = |n: &str| dir.path().join(n).display().to_string();
        assert_eq!(
            read_for_upload(&p("missing.pdf")),
            Err(FileError::Missing(p("missing.pdf")))
        );
        assert_eq!(
            read_for_upload(&dir.path().display().to_string()),
            Err(FileError::NotAFile(dir.path().display().to_string()))
        );
        std::fs::write(dir.path().join("empty.txt"), b"").unwrap();
        assert_eq!(
            read_for_upload(&p("empty.txt")),
            Err(FileError::Empty(p("empty.txt")))
        );
        let big = File::create(dir.path().join("big.bin")).unwrap();
        big.set_len(MAX_ATTACHMENT_BYTES as u64 + 1).unwrap();
        let err = read_for_upload(&p("big.bin")).unwrap_err();
        assert!(matches!(err, FileError::TooLarge { .. }), "{err}");
        assert!(err.to_string().contains("over the 10 MiB limit"), "{err}");
        std::fs::write(dir.path().join("Report.PDF"), b"%PDF-1.4").unwrap();
        let ok = read_for_upload(&p("Report.PDF")).unwrap();
        assert_eq!(ok.name, "Report.PDF");
        assert_eq!(ok.content_type, "application/pdf");
        assert_eq!(ok.bytes, b"%PDF-1.4");
    }

    #[test]
    fn sizes_read_like_the_chips() {
        assert_eq!(file_size(512), "512 B");
        assert_eq!(file_size(120 * 1024), "120 KiB");
        assert_eq!(file_size(10 * 1024 * 1024), "10.0 MiB");
    }
}
