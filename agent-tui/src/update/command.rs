//! The `:` command line: the commands, their completion, and what each one does.

use shared::limits::MAX_ATTACHMENTS_PER_MESSAGE;
use shared::model::{AgentStatus, Attachment, MessageKind};

use super::{
    apply, flash, open_notifications, open_status_picker, open_transfer_picker, queue_message,
};
use crate::action::Action;
use crate::effect::{AttachmentCmd, ChatCmd, DirectoryCmd, Effect, SessionCmd};
use crate::state::{FlashLevel, Mode, SortOrder, State, ThemeName};

/// Every command with its argument syntax and what it does (shown in the help).
pub const COMMANDS: &[(&str, &str, &str)] = &[
    ("claim", "", "take the chat from the queue"),
    (
        "transfer",
        "[agent|department]",
        "hand the chat over (picker without a name)",
    ),
    ("close", "[resolution]", "close the chat"),
    ("reopen", "", "reopen a closed chat"),
    ("reply", "[text]", "send a reply, or open the composer"),
    (
        "note",
        "[text]",
        "add an internal note, or open the composer in note mode",
    ),
    ("tag", "<tag>…", "add tags to the chat"),
    ("untag", "<tag>…", "remove tags from the chat"),
    ("block", "", "block the customer (spam)"),
    ("unblock", "", "unblock the customer"),
    ("export", "[path]", "save the transcript to a file"),
    (
        "attach",
        "<path>",
        "upload a file (≤ 10 MiB) to go with the next reply or note",
    ),
    ("detach", "", "remove the files waiting to be sent"),
    (
        "save",
        "[n] [dir]",
        "download the n-th newest file of the chat (default ~/Downloads or .)",
    ),
    (
        "status",
        "<online|away|busy|dnd|in_meeting|on_leave|offline>",
        "set your status",
    ),
    ("filter", "<department NAME|unread|all>", "filter the queue"),
    ("sort", "<wait|newest|oldest>", "sort the queue"),
    ("search", "[text]", "search the queue (like /)"),
    ("theme", "<dark|light|high-contrast>", "switch colours"),
    (
        "canned",
        "[add <shortcut> <title…>|rm <shortcut>]",
        "insert a canned response; add saves the composer's text as one",
    ),
    ("notifications", "", "list notifications"),
    ("copy", "", "copy the chat link to the clipboard (OSC 52)"),
    ("refresh", "", "reload lists from the server"),
    ("help", "", "show every key and command"),
    ("logout", "", "sign out and forget the session"),
    ("quit", "", "leave the console (also :q)"),
];

fn chat_or_flash(state: &mut State) -> Option<String> {
    let id = state.chats.target_chat();
    if id.is_none() {
        flash(state, FlashLevel::Warn, "No chat selected");
    }
    id
}

pub fn execute(state: &mut State, line: &str, fx: &mut Vec<Effect>) {
    let (cmd, rest) = match line.split_once(char::is_whitespace) {
        Some((c, r)) => (c, r.trim()),
        None => (line, ""),
    };
    match cmd {
        "claim" => apply(state, Action::Claim, fx),
        "transfer" => {
            let Some(chat_id) = chat_or_flash(state) else {
                return;
            };
            if rest.is_empty() {
                open_transfer_picker(state, chat_id, "", fx);
                return;
            }
            let q = rest.to_lowercase();
            let me = state.my_id().map(str::to_owned);
            let mut agents: Vec<_> = state
                .directory
                .agents
                .iter()
                .filter(|a| Some(&a.id) != me.as_ref())
                .filter(|a| a.name.to_lowercase() == q || a.email.to_lowercase() == q)
                .map(|a| (a.id.clone(), a.name.clone()))
                .collect();
            if agents.is_empty() {
                agents = state
                    .directory
                    .agents
                    .iter()
                    .filter(|a| Some(&a.id) != me.as_ref())
                    .filter(|a| {
                        a.name.to_lowercase().contains(&q) || a.email.to_lowercase().starts_with(&q)
                    })
                    .map(|a| (a.id.clone(), a.name.clone()))
                    .collect();
            }
            let depts: Vec<_> = state
                .directory
                .departments
                .iter()
                .filter(|d| d.name.to_lowercase() == q)
                .map(|d| (d.id.clone(), d.name.clone()))
                .collect();
            match (agents.as_slice(), depts.as_slice()) {
                ([(id, name)], []) => {
                    fx.push(
                        ChatCmd::Transfer {
                            chat_id,
                            to_agent_id: Some(id.clone()),
                            to_department_id: None,
                        }
                        .into(),
                    );
                    flash(state, FlashLevel::Info, format!("Transferring to {name}…"));
                }
                ([], [(id, name)]) => {
                    fx.push(
                        ChatCmd::Transfer {
                            chat_id,
                            to_agent_id: None,
                            to_department_id: Some(id.clone()),
                        }
                        .into(),
                    );
                    flash(state, FlashLevel::Info, format!("Transferring to {name}…"));
                }
                _ => open_transfer_picker(state, chat_id, rest, fx),
            }
        }
        "close" => {
            if let Some(chat_id) = chat_or_flash(state) {
                let resolution = (!rest.is_empty()).then(|| rest.to_owned());
                fx.push(
                    ChatCmd::Close {
                        chat_id,
                        resolution,
                    }
                    .into(),
                );
            }
        }
        "reopen" => apply(state, Action::Reopen, fx),
        "reply" | "r" | "note" => {
            let note = cmd == "note";
            if rest.is_empty() {
                apply(
                    state,
                    if note {
                        Action::ComposeNote
                    } else {
                        Action::Compose
                    },
                    fx,
                );
                return;
            }
            let Some(chat_id) = state
                .chats
                .open_chat
                .clone()
                .or_else(|| state.chats.target_chat())
            else {
                flash(state, FlashLevel::Warn, "Open a chat first");
                return;
            };
            let kind = if note {
                MessageKind::Note
            } else {
                MessageKind::Text
            };
            queue_message(state, chat_id, rest, kind, fx);
        }
        "tag" | "untag" => {
            let Some(chat_id) = chat_or_flash(state) else {
                return;
            };
            let mut tags = Vec::new();
            for t in rest.split([' ', ',']).filter(|t| !t.is_empty()) {
                match shared::limits::validate_tag(t) {
                    Ok(t) => tags.push(t),
                    Err(e) => {
                        flash(state, FlashLevel::Warn, e.message);
                        return;
                    }
                }
            }
            if tags.is_empty() {
                flash(state, FlashLevel::Warn, format!("Usage: :{cmd} <tag>…"));
                return;
            }
            let (add, remove) = if cmd == "tag" {
                (tags, Vec::new())
            } else {
                (Vec::new(), tags)
            };
            fx.push(
                ChatCmd::Tag {
                    chat_id,
                    add,
                    remove,
                }
                .into(),
            );
        }
        "block" | "unblock" => {
            let Some(chat_id) = chat_or_flash(state) else {
                return;
            };
            if let Some(e) = state.chats.entries.get(&chat_id) {
                fx.push(
                    DirectoryCmd::Block {
                        customer_id: e.chat.customer.id.clone(),
                        blocked: cmd == "block",
                    }
                    .into(),
                );
            }
        }
        "export" => {
            let Some(chat_id) = chat_or_flash(state) else {
                return;
            };
            let path = if rest.is_empty() {
                let name = state
                    .chats
                    .entries
                    .get(&chat_id)
                    .map(|e| slug(&e.chat.customer.name))
                    .unwrap_or_default();
                format!("transcript-{name}-{}.txt", short_id(&chat_id))
            } else {
                rest.to_owned()
            };
            fx.push(ChatCmd::Export { chat_id, path }.into());
        }
        "attach" => attach(state, rest, fx),
        "detach" => detach(state),
        "save" => save(state, rest, fx),
        "status" => {
            if rest.is_empty() {
                open_status_picker(state);
                return;
            }
            match rest.replace(' ', "_").parse::<AgentStatus>() {
                Ok(s) => fx.push(DirectoryCmd::Presence(s).into()),
                Err(e) => flash(state, FlashLevel::Warn, e),
            }
        }
        "filter" => {
            let (kind, arg) = match rest.split_once(char::is_whitespace) {
                Some((k, a)) => (k, a.trim()),
                None => (rest, ""),
            };
            match kind {
                "department" | "dept" => {
                    if arg.is_empty() || arg == "all" {
                        state.chats.queue.filter.department = None;
                        flash(state, FlashLevel::Info, "Showing every department");
                        return;
                    }
                    let found = state
                        .directory
                        .departments
                        .iter()
                        .find(|d| d.name.eq_ignore_ascii_case(arg))
                        .map(|d| (d.id.clone(), d.name.clone()));
                    match found {
                        Some((id, name)) => {
                            state.chats.queue.filter.department = Some(id);
                            flash(state, FlashLevel::Info, format!("Showing {name} only"));
                        }
                        None => flash(
                            state,
                            FlashLevel::Warn,
                            format!("No department named {arg:?} (Tab completes)"),
                        ),
                    }
                }
                "unread" => {
                    state.chats.queue.filter.unread_only = !state.chats.queue.filter.unread_only;
                    let on = if state.chats.queue.filter.unread_only {
                        "Showing only chats with unread messages"
                    } else {
                        "Showing read and unread chats"
                    };
                    flash(state, FlashLevel::Info, on);
                }
                "all" | "none" | "clear" | "" => {
                    state.chats.queue.filter = Default::default();
                    flash(state, FlashLevel::Info, "Filters cleared");
                }
                other => flash(
                    state,
                    FlashLevel::Warn,
                    format!("Unknown filter {other:?}: department NAME, unread or all"),
                ),
            }
        }
        "sort" => match SortOrder::parse(rest) {
            Some(o) => {
                state.chats.queue.sort = o;
                flash(state, FlashLevel::Info, format!("Sorted by {}", o.as_str()));
            }
            None => flash(state, FlashLevel::Warn, "Usage: :sort wait|newest|oldest"),
        },
        "search" => {
            state.chats.queue.filter.text = rest.to_owned();
            state.chats.focus = crate::state::Pane::Queue;
        }
        "theme" => match ThemeName::parse(rest) {
            Some(t) => state.theme = t,
            None if rest.is_empty() => apply(state, Action::CycleTheme, fx),
            None => flash(
                state,
                FlashLevel::Warn,
                "Usage: :theme dark|light|high-contrast",
            ),
        },
        "canned" => super::canned::command(state, rest, fx),
        "notifications" => open_notifications(state),
        "copy" => apply(state, Action::CopyLink, fx),
        "refresh" => apply(state, Action::Refresh, fx),
        "help" => apply(state, Action::Help, fx),
        "logout" => {
            super::stop_typing(state, fx);
            state.chats.composer.uploading.clear();
            fx.push(SessionCmd::Logout.into());
            fx.push(Effect::ClearSession);
            state.session = None;
            state.mode = Mode::Login;
            state.login.password.clear();
            state.login.busy = false;
            state.conn.state = crate::state::ConnState::Idle;
        }
        "quit" | "q" | "qa" | "wq" => apply(state, Action::Quit, fx),
        other => flash(
            state,
            FlashLevel::Warn,
            format!("Unknown command {other:?} — Tab completes, :help lists them"),
        ),
    }
}

/// Starts uploading a file for the open chat; it is staged when the upload is done.
fn attach(state: &mut State, rest: &str, fx: &mut Vec<Effect>) {
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

fn detach(state: &mut State) {
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
pub(crate) fn chat_files(state: &State) -> Vec<Attachment> {
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
fn save(state: &mut State, rest: &str, fx: &mut Vec<Effect>) {
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

/// The part of `input` kept while completing, and the candidates for the rest.
pub fn complete(state: &State, input: &str) -> (String, Vec<String>) {
    let Some((cmd, arg)) = input.split_once(' ') else {
        let c = COMMANDS
            .iter()
            .map(|(n, _, _)| (*n).to_owned())
            .filter(|n| n.starts_with(input))
            .collect();
        return (String::new(), c);
    };
    let arg_l = arg.to_lowercase();
    let starts = |s: &str| s.to_lowercase().starts_with(&arg_l);
    if cmd == "canned" {
        return super::canned::complete(state, arg);
    }
    let prefix = format!("{cmd} ");
    let cands: Vec<String> = match cmd {
        "status" => AgentStatus::ALL
            .iter()
            .map(|s| s.as_str().to_owned())
            .filter(|s| starts(s))
            .collect(),
        "sort" => SortOrder::ALL
            .iter()
            .map(|s| s.as_str().to_owned())
            .filter(|s| starts(s))
            .collect(),
        "theme" => ThemeName::ALL
            .iter()
            .map(|s| s.as_str().to_owned())
            .filter(|s| starts(s))
            .collect(),
        "transfer" => {
            let me = state.my_id();
            let mut v: Vec<String> = state
                .directory
                .agents
                .iter()
                .filter(|a| Some(a.id.as_str()) != me)
                .map(|a| a.name.clone())
                .chain(state.directory.departments.iter().map(|d| d.name.clone()))
                .filter(|s| starts(s))
                .collect();
            v.dedup();
            v
        }
        "filter" => {
            if let Some(d) = arg.strip_prefix("department ") {
                let d = d.to_lowercase();
                return (
                    "filter department ".into(),
                    state
                        .directory
                        .departments
                        .iter()
                        .map(|x| x.name.clone())
                        .filter(|n| n.to_lowercase().starts_with(&d))
                        .collect(),
                );
            }
            ["department", "unread", "all"]
                .iter()
                .map(|s| (*s).to_owned())
                .filter(|s| starts(s))
                .collect()
        }
        "untag" => state
            .chats
            .target_chat()
            .and_then(|id| state.chats.entries.get(&id))
            .map(|e| e.chat.tags.iter().filter(|t| starts(t)).cloned().collect())
            .unwrap_or_default(),
        "tag" => {
            let mut v: Vec<String> = state
                .chats
                .entries
                .values()
                .flat_map(|e| e.chat.tags.iter().cloned())
                .chain(["resolved", "escalated", "spam", "vip", "billing", "bug"].map(String::from))
                .filter(|t| starts(t))
                .collect();
            v.sort();
            v.dedup();
            v
        }
        _ => Vec::new(),
    };
    (prefix, cands)
}

/// Tab / Shift+Tab in the command line.
pub fn cycle_completion(state: &mut State, forward: bool) {
    if state.command.completion_idx.is_none() {
        let base = state.command.input.clone();
        let (prefix, cands) = complete(state, &base);
        if cands.is_empty() {
            return;
        }
        if cands.len() == 1 {
            let only = &cands[0];
            let is_cmd = prefix.is_empty();
            state.command.input = format!("{prefix}{only}{}", if is_cmd { " " } else { "" });
            state.command.completions.clear();
            return;
        }
        state.command.completion_base = Some(base);
        state.command.completions = cands.iter().map(|c| format!("{prefix}{c}")).collect();
        let idx = if forward { 0 } else { cands.len() - 1 };
        state.command.completion_idx = Some(idx);
        state.command.input = state.command.completions[idx].clone();
        return;
    }
    let n = state.command.completions.len();
    if n == 0 {
        return;
    }
    let i = state.command.completion_idx.unwrap_or(0);
    let next = if forward {
        (i + 1) % n
    } else {
        (i + n - 1) % n
    };
    state.command.completion_idx = Some(next);
    state.command.input = state.command.completions[next].clone();
}

fn slug(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while out.contains("--") {
        out = out.replace("--", "-");
    }
    out.trim_matches('-').chars().take(40).collect()
}

fn short_id(id: &str) -> String {
    id.chars()
        .rev()
        .take(8)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect()
}
