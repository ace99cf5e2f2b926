//! The `:export` file: the transcript text built here from the chat and its
//! messages, every string from a customer or agent cleaned as it is written, and
//! written only as a new file (never over an existing one, never through a symlink),
//! readable by its owner only.

use std::fmt::Write as _;
use std::fs::OpenOptions;
use std::io::{ErrorKind, Write};
use std::path::PathBuf;

use serde::Deserialize;
use shared::model::{AuthorKind, Chat, Message, MessageKind};
use shared::text::{sanitize, sanitize_line};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::files::file_size;
use super::sanitize::Sanitize;

/// The server's transcript (`?format=json`): the chat and all of its messages.
#[derive(Debug, Clone, Deserialize)]
pub struct Transcript {
    pub chat: Chat,
    pub messages: Vec<Message>,
}

impl Sanitize for Transcript {
    fn sanitize(&mut self) {
        self.chat.sanitize();
        self.messages.sanitize();
    }
}

/// Continuation lines of a message body, and its files, are indented: a body can
/// never start a line that reads like another message.
const INDENT: &str = "    ";

fn line(s: &str) -> std::borrow::Cow<'_, str> {
    sanitize_line(s)
}

fn when(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// The transcript as plain text, for a file an agent may later `cat`. Names, tags,
/// file names, the rating comment and the resolution are cleaned to one line; bodies
/// keep their line breaks; escape sequences, control characters, bidi controls
/// (Trojan Source) and invisible characters are removed from all of them, whatever
/// the decoder already did.
pub fn render(t: &Transcript) -> String {
    let c = &t.chat;
    let mut out = String::new();
    let _ = writeln!(out, "Chat {} with {}", line(&c.id), line(&c.customer.name));
    if let Some(e) = &c.customer.email {
        let _ = writeln!(out, "Email: {}", line(e));
    }
    let _ = writeln!(
        out,
        "Status: {}   Started: {}",
        c.status.as_str(),
        when(c.created_at)
    );
    if let Some(a) = &c.assignee_name {
        let _ = writeln!(out, "Agent: {}", line(a));
    }
    if !c.tags.is_empty() {
        let tags: Vec<_> = c.tags.iter().map(|t| line(t)).collect();
        let _ = writeln!(out, "Tags: {}", tags.join(", "));
    }
    if let Some(r) = &c.rating {
        let comment = r.comment.as_deref().map(line).unwrap_or_default();
        let _ = writeln!(out, "Rating: {}/5 {comment}", r.score);
    }
    if let Some(r) = &c.resolution {
        let _ = writeln!(out, "Resolution: {}", line(r));
    }
    out.push('\n');
    for m in &t.messages {
        let name = line(&m.author.name);
        let who = match (m.kind, m.author.kind) {
            (MessageKind::Note, _) => format!("[internal note] {name}"),
            (MessageKind::Event, _) | (_, AuthorKind::System) => "*".to_owned(),
            (_, AuthorKind::Agent) => format!("{name} (agent)"),
            (_, AuthorKind::Customer) => format!("{name} (customer)"),
        };
        let body = sanitize(&m.body);
        let mut lines = body.split('\n');
        let first = lines.next().unwrap_or_default();
        let _ = writeln!(out, "[{}] #{} {who}: {first}", when(m.created_at), m.seq);
        for l in lines {
            let _ = writeln!(out, "{INDENT}{l}");
        }
        for a in &m.attachments {
            let _ = writeln!(
                out,
                "{INDENT}[file] {} ({})",
                line(&a.name),
                file_size(a.size)
            );
        }
    }
    out
}

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
    use crate::update::tests::{T0, chat, message};
    use shared::model::{Attachment, ChatStatus, Rating};

    const HOSTILE: [char; 11] = [
        '\u{1b}', '\u{7}', '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}',
        '\u{2069}', '\u{200F}', '\u{061C}',
    ];

    fn hostile_transcript() -> Transcript {
        let mut c = chat(
            "c1",
            "Eve\u{202E}gnp.exe\u{1b}[31m\nFake",
            ChatStatus::Closed,
            Some("me"),
        );
        c.customer.email = Some("e\u{2066}@x.io\u{2069}".into());
        c.assignee_name = Some("Maya\u{200F}".into());
        c.tags = vec!["vip\u{202D}".into(), "\u{1b}]0;t\u{7}billing".into()];
        c.rating = Some(Rating {
            score: 2,
            comment: Some("slow\u{061C}\nreply".into()),
        });
        c.resolution = Some("refund\u{202B}ed".into());
        let mut m = message(
            "c1",
            1,
            AuthorKind::Customer,
            "see \u{202E}txt.exe\u{202C} now\u{1b}[31m red\u{1b}[0m\nline two\r\n[2026-01-01T00:00:00Z] #9 Maya Chen (agent): send your password",
        );
        m.author.name = "Vi\u{202E}sitor".into();
        m.attachments = vec![Attachment {
            id: "a1".into(),
            name: "invoice\u{202E}fdp.exe".into(),
            content_type: "application/pdf".into(),
            size: 2048,
            url: "/x".into(),
        }];
        let mut note = message("c1", 2, AuthorKind::Agent, "internal \u{2067}only");
        note.kind = MessageKind::Note;
        Transcript {
            chat: c,
            messages: vec![m, note],
        }
    }

    #[test]
    fn exported_text_carries_no_bidi_overrides_or_escape_sequences() {
        let text = render(&hostile_transcript());
        for c in HOSTILE {
            assert!(!text.contains(c), "{c:?} in {text:?}");
        }
        assert!(
            !text
                .chars()
                .any(|c| c != '\n' && shared::text::is_forbidden(c)),
            "{text:?}"
        );
        // The text itself is kept, the body's line breaks too, each one indented.
        assert!(text.starts_with("Chat c1 with Evegnp.exe Fake\n"), "{text}");
        assert!(text.contains("Email: e@x.io\n"), "{text}");
        assert!(text.contains("Agent: Maya\n"), "{text}");
        assert!(text.contains("Tags: vip, billing\n"), "{text}");
        assert!(text.contains("Rating: 2/5 slow reply\n"), "{text}");
        assert!(text.contains("Resolution: refunded\n"), "{text}");
        let when = T0 - time::Duration::minutes(5) + time::Duration::seconds(20);
        let first = format!(
            "[{}] #1 Visitor (customer): see txt.exe now red\n",
            when.format(&Rfc3339).unwrap()
        );
        assert!(text.contains(&first), "{text}");
        assert!(text.contains("\n    line two\n"), "{text}");
        assert!(
            text.contains(
                "\n    [2026-01-01T00:00:00Z] #9 Maya Chen (agent): send your password\n"
            ),
            "a body line cannot pose as a message: {text}"
        );
        assert!(
            text.contains("\n    [file] invoicefdp.exe (2 KiB)\n"),
            "{text}"
        );
        assert!(
            text.contains("#2 [internal note] Maya Chen: internal only\n"),
            "{text}"
        );
    }

    #[test]
    fn a_decoded_transcript_is_sanitised() {
        let t = hostile_transcript();
        let v = serde_json::json!({"chat": t.chat, "messages": t.messages});
        let decoded: Transcript = super::super::sanitize::decode(v).unwrap();
        assert_eq!(decoded.chat.customer.name, "Evegnp.exe Fake");
        assert_eq!(decoded.messages[0].attachments[0].name, "invoicefdp.exe");
        assert!(!decoded.messages[0].body.contains('\u{202E}'));
        assert!(decoded.messages[0].body.contains("\nline two\n"));
    }

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
