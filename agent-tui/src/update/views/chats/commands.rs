//! The Chats view's `:` commands: chat actions on the selected or open chat (claim,
//! transfer, close, reply, tags, block, export, files, canned responses) and the
//! queue's filter, sort and search, with their completions.

use shared::model::MessageKind;

use super::actions::{copy_link, open_transfer_picker};
use super::compose::queue_message;
use super::{attachments, canned};
use crate::action::Action;
use crate::effect::{ChatCmd, DirectoryCmd, Effect};
use crate::state::{FlashLevel, Pane, SortOrder, State};
use crate::update::commands::{Command, words};
use crate::update::{apply, flash};

pub(super) const COMMANDS: &[Command] = &[
    Command::new("claim", "", "take the chat from the queue", |s, _, fx| {
        apply(s, Action::Claim, fx)
    })
    .on_chat(),
    Command::new(
        "transfer",
        "[agent|department]",
        "hand the chat over (picker without a name)",
        transfer,
    )
    .on_chat()
    .completes(complete_transfer),
    Command::new("close", "[resolution]", "close the chat", close).on_chat(),
    Command::new("reopen", "", "reopen a closed chat", |s, _, fx| {
        apply(s, Action::Reopen, fx)
    })
    .on_chat(),
    Command::new(
        "reply",
        "[text]",
        "send a reply, or open the composer",
        |s, rest, fx| write(s, rest, MessageKind::Text, fx),
    )
    .aliases(&["r"]),
    Command::new(
        "note",
        "[text]",
        "add an internal note, or open the composer in note mode",
        |s, rest, fx| write(s, rest, MessageKind::Note, fx),
    ),
    Command::new("tag", "<tag>…", "add tags to the chat", |s, rest, fx| {
        tag(s, rest, true, fx)
    })
    .on_chat()
    .completes(complete_tag),
    Command::new(
        "untag",
        "<tag>…",
        "remove tags from the chat",
        |s, rest, fx| tag(s, rest, false, fx),
    )
    .on_chat()
    .completes(complete_untag),
    Command::new("block", "", "block the customer (spam)", |s, _, fx| {
        block(s, true, fx)
    })
    .on_chat(),
    Command::new("unblock", "", "unblock the customer", |s, _, fx| {
        block(s, false, fx)
    })
    .on_chat(),
    Command::new("export", "[path]", "save the transcript to a file", export).on_chat(),
    Command::new(
        "ticket",
        "[subject…]",
        "turn the chat into a ticket (its transcript becomes the first entries)",
        crate::update::views::tickets::from_chat,
    )
    .on_chat(),
    Command::new(
        "customer",
        "<name|email|phone|location|tags|field> <value…>",
        "edit the chat's customer",
        crate::update::views::tickets::commands::customer,
    )
    .on_chat(),
    Command::new(
        "cnote",
        "<text…> | rm <n>",
        "add an internal note to the customer (rm n: delete the n-th)",
        crate::update::views::tickets::commands::customer_note,
    )
    .on_chat(),
    Command::new(
        "attach",
        "<path>",
        "upload a file (≤ 10 MiB) to go with the next reply or note",
        attachments::attach,
    ),
    Command::new(
        "detach",
        "",
        "remove the files waiting to be sent",
        |s, _, _| attachments::detach(s),
    ),
    Command::new(
        "save",
        "[n] [dir]",
        "download the n-th newest file of the chat (default ~/Downloads or .)",
        attachments::save,
    ),
    Command::new(
        "filter",
        "<department NAME|unread|all>",
        "filter the queue",
        filter,
    )
    .completes(complete_filter),
    Command::new("sort", "<wait|newest|oldest>", "sort the queue", sort).completes(|_, arg| {
        (
            String::new(),
            words(arg, SortOrder::ALL.map(SortOrder::as_str)),
        )
    }),
    Command::new(
        "search",
        "[text]",
        "search the queue (like /)",
        |s, rest, _| {
            s.chats.queue.filter.text = rest.to_owned();
            s.chats.focus = Pane::Queue;
        },
    ),
    Command::new(
        "canned",
        "[add <shortcut> <title…>|rm <shortcut>]",
        "insert a canned response; add saves the composer's text as one",
        canned::command,
    )
    .completes(canned::complete),
    Command::new(
        "copy",
        "",
        "copy the chat link to the clipboard (OSC 52)",
        |s, _, fx| copy_link(s, fx),
    )
    .on_chat(),
];

fn chat_or_flash(state: &mut State) -> Option<String> {
    let id = state.chats.target_chat();
    if id.is_none() {
        flash(state, FlashLevel::Warn, "No chat selected");
    }
    id
}

fn transfer(state: &mut State, rest: &str, fx: &mut Vec<Effect>) {
    let Some(chat_id) = chat_or_flash(state) else {
        return;
    };
    if rest.is_empty() {
        open_transfer_picker(state, chat_id, "", fx);
        return;
    }
    let q = rest.to_lowercase();
    let me = state.my_id().map(str::to_owned);
    let agents = &state.directory.agents;
    let others = || agents.iter().filter(|a| Some(&a.id) != me.as_ref());
    let mut found: Vec<_> = others()
        .filter(|a| a.name.to_lowercase() == q || a.email.to_lowercase() == q)
        .map(|a| (a.id.clone(), a.name.clone()))
        .collect();
    if found.is_empty() {
        found = others()
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
    match (found.as_slice(), depts.as_slice()) {
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

fn close(state: &mut State, rest: &str, fx: &mut Vec<Effect>) {
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

/// `:reply` / `:note`: sends the text, or opens the composer without one.
fn write(state: &mut State, rest: &str, kind: MessageKind, fx: &mut Vec<Effect>) {
    if rest.is_empty() {
        let a = if kind == MessageKind::Note {
            Action::ComposeNote
        } else {
            Action::Compose
        };
        apply(state, a, fx);
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
    queue_message(state, chat_id, rest, kind, fx);
}

fn tag(state: &mut State, rest: &str, add: bool, fx: &mut Vec<Effect>) {
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
        let cmd = if add { "tag" } else { "untag" };
        flash(state, FlashLevel::Warn, format!("Usage: :{cmd} <tag>…"));
        return;
    }
    let (add, remove) = if add {
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

fn block(state: &mut State, blocked: bool, fx: &mut Vec<Effect>) {
    let Some(chat_id) = chat_or_flash(state) else {
        return;
    };
    if let Some(e) = state.chats.entries.get(&chat_id) {
        fx.push(
            DirectoryCmd::Block {
                customer_id: e.chat.customer.id.clone(),
                blocked,
            }
            .into(),
        );
    }
}

fn export(state: &mut State, rest: &str, fx: &mut Vec<Effect>) {
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

fn filter(state: &mut State, rest: &str, _fx: &mut Vec<Effect>) {
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
            let f = &mut state.chats.queue.filter;
            f.unread_only = !f.unread_only;
            let on = if f.unread_only {
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

fn sort(state: &mut State, rest: &str, _fx: &mut Vec<Effect>) {
    match SortOrder::parse(rest) {
        Some(o) => {
            state.chats.queue.sort = o;
            flash(state, FlashLevel::Info, format!("Sorted by {}", o.as_str()));
        }
        None => flash(state, FlashLevel::Warn, "Usage: :sort wait|newest|oldest"),
    }
}

fn complete_transfer(state: &State, arg: &str) -> (String, Vec<String>) {
    let me = state.my_id();
    let d = &state.directory;
    let names = d
        .agents
        .iter()
        .filter(|a| Some(a.id.as_str()) != me)
        .map(|a| a.name.as_str())
        .chain(d.departments.iter().map(|d| d.name.as_str()));
    let mut v = words(arg, names);
    v.dedup();
    (String::new(), v)
}

fn complete_filter(state: &State, arg: &str) -> (String, Vec<String>) {
    if let Some(d) = arg.strip_prefix("department ") {
        let names = state.directory.departments.iter().map(|x| x.name.as_str());
        return ("department ".into(), words(d, names));
    }
    (String::new(), words(arg, ["department", "unread", "all"]))
}

fn complete_untag(state: &State, arg: &str) -> (String, Vec<String>) {
    let tags = state
        .chats
        .target_chat()
        .and_then(|id| state.chats.entries.get(&id))
        .map(|e| words(arg, e.chat.tags.iter().map(String::as_str)))
        .unwrap_or_default();
    (String::new(), tags)
}

fn complete_tag(state: &State, arg: &str) -> (String, Vec<String>) {
    let known = state
        .chats
        .entries
        .values()
        .flat_map(|e| e.chat.tags.iter().map(String::as_str))
        .chain(["resolved", "escalated", "spam", "vip", "billing", "bug"]);
    let mut v = words(arg, known);
    v.sort();
    v.dedup();
    (String::new(), v)
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
