//! Files in the Chats view: `:attach` uploads and stages a file for the open chat's
//! next message, `:detach` drops the staged ones, `:save` downloads a chat's file.

use shared::limits::MAX_ATTACHMENTS_PER_MESSAGE;
use shared::model::Attachment;

use crate::effect::{AttachmentCmd, Effect};
use crate::msg::AttachmentReply;
use crate::net::files::file_size;
use crate::state::{FlashLevel, State};
use crate::update::flash;

/// Starts uploading a file for the open chat; it is staged when the upload is done.
pub(super) fn attach(state: &mut State, rest: &str, fx: &mut Vec<Effect>) {
    let path = unquote(rest);
    if path.is_empty() {
        flash(state, FlashLevel::Warn, "Usage: :attach <path>");
        return;
    }
    let Some(chat_id) = state.chats.open_chat.clone() else {
        flash(state, FlashLevel::Warn, "Open a chat first");
        return;
    };
    if !state.conn.is_online() {
        flash(
            state,
            FlashLevel::Warn,
            "Offline: files can only be attached while connected (they are not kept in the outbox)",
        );
        return;
    }
    let count = state.chats.composer.staged_for(&chat_id).len()
        + state.chats.composer.uploading_for(&chat_id).count();
    if count >= MAX_ATTACHMENTS_PER_MESSAGE {
        flash(
            state,
            FlashLevel::Warn,
            format!("At most {MAX_ATTACHMENTS_PER_MESSAGE} files per message"),
        );
        return;
    }
    state
        .chats
        .composer
        .uploading
        .push((chat_id.clone(), path.to_owned()));
    fx.push(
        AttachmentCmd::Upload {
            chat_id,
            path: path.to_owned(),
        }
        .into(),
    );
    flash(state, FlashLevel::Info, format!("Uploading {path}…"));
}

pub(super) fn detach(state: &mut State) {
    let removed = state
        .chats
        .open_chat
        .clone()
        .and_then(|id| state.chats.composer.staged.remove(&id))
        .map_or(0, |v| v.len());
    match removed {
        0 => flash(state, FlashLevel::Info, "No files attached"),
        1 => flash(state, FlashLevel::Info, "Removed the attached file"),
        n => flash(
            state,
            FlashLevel::Info,
            format!("Removed {n} attached files"),
        ),
    }
}

/// The open chat's files, newest message first (in each message, in its order).
fn chat_files(state: &State) -> Vec<Attachment> {
    state
        .chats
        .open_entry()
        .map(|e| {
            e.messages
                .values()
                .rev()
                .flat_map(|m| m.attachments.iter().cloned())
                .collect()
        })
        .unwrap_or_default()
}

/// `:save [n] [dir]`: the n-th file counting from the newest, into `dir`.
pub(super) fn save(state: &mut State, rest: &str, fx: &mut Vec<Effect>) {
    if state.chats.open_chat.is_none() {
        flash(state, FlashLevel::Warn, "Open a chat first");
        return;
    }
    let (n, dir) = match rest.split_once(char::is_whitespace) {
        Some((first, more)) if first.parse::<usize>().is_ok() => {
            (first.parse::<usize>().ok(), more.trim())
        }
        _ => match rest.parse::<usize>() {
            Ok(n) => (Some(n), ""),
            Err(_) => (None, rest),
        },
    };
    let n = n.unwrap_or(1);
    let files = chat_files(state);
    if files.is_empty() {
        flash(state, FlashLevel::Warn, "This chat has no files");
        return;
    }
    let Some(file) = n.checked_sub(1).and_then(|i| files.get(i)).cloned() else {
        flash(
            state,
            FlashLevel::Warn,
            format!(
                "This chat has {} file{}: :save 1 is the newest",
                files.len(),
                if files.len() == 1 { "" } else { "s" }
            ),
        );
        return;
    };
    let dir = unquote(dir);
    flash(
        state,
        FlashLevel::Info,
        format!("Downloading {}…", file.name),
    );
    fx.push(
        AttachmentCmd::Save {
            attachment: file,
            dir: (!dir.is_empty()).then(|| dir.to_owned()),
        }
        .into(),
    );
}

/// A path typed in quotes (to keep its spaces visible) without them.
fn unquote(s: &str) -> &str {
    let s = s.trim();
    for q in ['"', '\''] {
        if let Some(inner) = s.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner;
        }
    }
    s
}

pub(crate) fn on_reply(state: &mut State, r: AttachmentReply) {
    match r {
        AttachmentReply::Uploaded {
            chat_id,
            path,
            attachment,
        } => {
            upload_done(state, &chat_id, &path);
            let text = format!(
                "Attached {} ({}): it goes with the next reply or note · :detach removes it",
                attachment.name,
                file_size(attachment.size)
            );
            state
                .chats
                .composer
                .staged
                .entry(chat_id)
                .or_default()
                .push(attachment);
            flash(state, FlashLevel::Info, text);
        }
        AttachmentReply::UploadFailed {
            chat_id,
            path,
            error,
        } => {
            upload_done(state, &chat_id, &path);
            flash(state, FlashLevel::Error, format!("Not attached: {error}"));
        }
        AttachmentReply::Saved { name, path } => {
            flash(state, FlashLevel::Info, format!("Saved {name} to {path}"));
        }
    }
}

/// Forgets one upload under way (the first of that path for that chat).
fn upload_done(state: &mut State, chat_id: &str, path: &str) {
    if let Some(i) = state
        .chats
        .composer
        .uploading
        .iter()
        .position(|(c, p)| c == chat_id && p == path)
    {
        state.chats.composer.uploading.remove(i);
    }
}
