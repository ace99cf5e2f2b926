//! Canned responses in the console: `/` at the start of the composer opens the
//! picker, Enter inserts the chosen response with its variables filled in, and the
//! `:canned` commands add and remove them.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use shared::canned::{CannedInput, CannedScope, VARIABLES};
use shared::limits::MAX_SEARCH_CHARS;

use super::compose::{begin_compose, typed};
use crate::action::Action;
use crate::effect::{CannedCmd, Effect};
use crate::keys::{KeyContext, KeyPress, Resolved};
use crate::msg::CannedReply;
use crate::state::{CannedPicker, FlashLevel, Mode, State};
use crate::update::{PAGE, flash};

/// `/` in the composer (or `:canned`): the picker when the composer is empty,
/// otherwise just the character.
pub(crate) fn trigger(state: &mut State, fx: &mut Vec<Effect>) {
    if state.mode == Mode::Insert {
        state.composer_mut().textarea.insert_char('/');
        if state.composer().text() == "/" {
            open(state, true);
        } else {
            typed(state, fx);
        }
        return;
    }
    begin_compose(state, state.chats.composer.kind, fx);
    if state.mode == Mode::Insert {
        open(state, false);
    }
}

fn open(state: &mut State, slash: bool) {
    state.chats.canned_picker = Some(CannedPicker {
        slash,
        ..CannedPicker::default()
    });
    state.mode = Mode::Canned;
}

/// Leaves the picker for the composer; with `drop_slash`, the `/` that opened it goes.
fn close(state: &mut State, drop_slash: bool) {
    if let Some(p) = state.chats.canned_picker.take()
        && p.slash
        && drop_slash
    {
        state.composer_mut().textarea.delete_char();
    }
    state.mode = Mode::Insert;
}

/// Puts the selected response, its variables filled in, into the composer.
fn insert(state: &mut State, fx: &mut Vec<Effect>) {
    let Some(c) = state.canned_selected().cloned() else {
        flash(state, FlashLevel::Warn, "No canned response matches");
        return;
    };
    let text = state.canned_text(&c);
    close(state, true);
    state.composer_mut().textarea.insert_str(&text);
    typed(state, fx);
    let missing: Vec<String> = VARIABLES
        .iter()
        .map(|(n, _)| format!("{{{{{n}}}}}"))
        .filter(|v| text.contains(v.as_str()))
        .collect();
    if missing.is_empty() {
        flash(
            state,
            FlashLevel::Info,
            format!("Inserted /{}: edit it if needed, then send", c.shortcut),
        );
    } else {
        flash(
            state,
            FlashLevel::Warn,
            format!(
                "Inserted /{}: fill in {} before sending",
                c.shortcut,
                missing.join(", ")
            ),
        );
    }
}

fn move_selection(state: &mut State, a: Action) {
    let n = state.canned_visible().len();
    let Some(p) = &mut state.chats.canned_picker else {
        return;
    };
    if n == 0 {
        p.selected = 0;
        return;
    }
    p.selected = match a {
        Action::MoveDown => (p.selected + 1).min(n - 1),
        Action::MoveUp => p.selected.saturating_sub(1),
        Action::PageDown => (p.selected + PAGE).min(n - 1),
        Action::PageUp => p.selected.saturating_sub(PAGE),
        Action::Top => 0,
        _ => n - 1,
    };
}

/// An action while the picker is open. Others do nothing, so a key never reaches a
/// pane hidden under the picker.
pub(crate) fn on_action(state: &mut State, a: Action, fx: &mut Vec<Effect>) {
    match a {
        Action::MoveDown
        | Action::MoveUp
        | Action::PageDown
        | Action::PageUp
        | Action::Top
        | Action::Bottom => move_selection(state, a),
        Action::Open | Action::Send => insert(state, fx),
        Action::Normal => close(state, false),
        Action::CannedBrowse => {
            if let Some(p) = &mut state.chats.canned_picker {
                p.browsing = !p.browsing;
            }
        }
        _ => {}
    }
}

fn set_query(state: &mut State, f: impl FnOnce(&mut String)) {
    if let Some(p) = &mut state.chats.canned_picker {
        f(&mut p.query);
        p.selected = 0;
    }
}

pub(crate) fn on_key(state: &mut State, ev: KeyEvent, fx: &mut Vec<Effect>) {
    let Some(p) = &state.chats.canned_picker else {
        state.mode = Mode::Insert;
        return;
    };
    let browsing = p.browsing;
    let query_empty = p.query.is_empty();
    let ctx = if browsing {
        KeyContext::CannedBrowse
    } else {
        KeyContext::Canned
    };
    if let Some(kp) = KeyPress::from_event(&ev) {
        state.pending_keys.push(kp);
        match state.keymap.resolve(ctx, &state.pending_keys) {
            Resolved::Action(a) => {
                state.pending_keys.clear();
                on_action(state, a, fx);
                return;
            }
            Resolved::Pending => return,
            Resolved::Unbound => state.pending_keys.clear(),
        }
    }
    let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
    match ev.code {
        // Deleting past the start of the search deletes the `/` and closes.
        KeyCode::Backspace if query_empty => close(state, true),
        KeyCode::Backspace => set_query(state, |q| {
            q.pop();
        }),
        KeyCode::Char('u') if ctrl => set_query(state, String::clear),
        KeyCode::Char(c) if !ctrl => {
            if let Some(p) = &mut state.chats.canned_picker {
                // Typing while browsing goes back to the search.
                p.browsing = false;
            }
            set_query(state, |q| {
                if q.chars().count() < MAX_SEARCH_CHARS {
                    q.push(c);
                }
            });
        }
        _ => {}
    }
}

pub(crate) fn on_paste(state: &mut State, text: &str) {
    let line = shared::text::sanitize_line(text);
    set_query(state, |q| {
        q.extend(
            line.chars()
                .take(MAX_SEARCH_CHARS.saturating_sub(q.chars().count())),
        );
    });
}

const USAGE: &str = "Usage: :canned | :canned add <shortcut> <title…> | :canned rm <shortcut>";

/// `:canned`, `:canned add <shortcut> <title…>` (the composer's text is the body),
/// `:canned rm <shortcut>`.
pub(crate) fn command(state: &mut State, rest: &str, fx: &mut Vec<Effect>) {
    let (sub, args) = match rest.split_once(char::is_whitespace) {
        Some((s, a)) => (s, a.trim()),
        None => (rest, ""),
    };
    match sub {
        "" => trigger(state, fx),
        "add" => {
            let (shortcut, title) = match args.split_once(char::is_whitespace) {
                Some((s, t)) => (s.trim_start_matches('/'), t.trim()),
                None => {
                    flash(state, FlashLevel::Warn, USAGE);
                    return;
                }
            };
            let body = state.chats.composer.text();
            if body.trim().is_empty() {
                flash(
                    state,
                    FlashLevel::Warn,
                    "Write the response in the composer first (i), then :canned add <shortcut> <title…>",
                );
                return;
            }
            let input = CannedInput {
                title: title.to_owned(),
                shortcut: shortcut.to_owned(),
                body,
                category: None,
                scope: Some(CannedScope::Personal),
            };
            match input.validate() {
                Ok(input) => {
                    flash(
                        state,
                        FlashLevel::Info,
                        format!("Saving /{}…", input.shortcut),
                    );
                    fx.push(CannedCmd::Create(input).into());
                }
                Err(e) => flash(state, FlashLevel::Warn, e.message),
            }
        }
        "rm" | "delete" => {
            let shortcut = args.trim_start_matches('/');
            if shortcut.is_empty() {
                flash(state, FlashLevel::Warn, USAGE);
                return;
            }
            let me = state.my_id().unwrap_or_default().to_owned();
            // The agent's own response first: it is the one `/shortcut` means to them.
            let found = state
                .chats
                .canned
                .iter()
                .filter(|c| c.shortcut == shortcut)
                .min_by_key(|c| !(c.scope == CannedScope::Personal && c.owner_id == me))
                .map(|c| c.id.clone());
            match found {
                Some(id) => {
                    fx.push(
                        CannedCmd::Delete {
                            id,
                            shortcut: shortcut.to_owned(),
                        }
                        .into(),
                    );
                    flash(state, FlashLevel::Info, format!("Deleting /{shortcut}…"));
                }
                None => flash(
                    state,
                    FlashLevel::Warn,
                    format!("No canned response /{shortcut} (Tab completes)"),
                ),
            }
        }
        _ => flash(state, FlashLevel::Warn, USAGE),
    }
}

/// Completion after `canned `.
pub(crate) fn complete(state: &State, arg: &str) -> (String, Vec<String>) {
    if let Some(s) = arg.strip_prefix("rm ") {
        let mut v: Vec<String> = state
            .chats
            .canned
            .iter()
            .map(|c| c.shortcut.clone())
            .filter(|c| c.starts_with(s))
            .collect();
        v.sort();
        v.dedup();
        return ("rm ".into(), v);
    }
    let v = ["add", "rm"]
        .iter()
        .map(|s| (*s).to_owned())
        .filter(|s| s.starts_with(arg))
        .collect();
    (String::new(), v)
}

pub(crate) fn on_reply(state: &mut State, r: CannedReply, fx: &mut Vec<Effect>) {
    match r {
        CannedReply::Loaded(list) => {
            state.chats.canned = list;
            let n = state.canned_visible().len();
            if let Some(p) = &mut state.chats.canned_picker {
                p.selected = p.selected.min(n.saturating_sub(1));
            }
        }
        CannedReply::Created(c) => {
            let scope = match c.scope {
                CannedScope::Personal => "personal",
                CannedScope::Team => "team",
            };
            flash(
                state,
                FlashLevel::Info,
                format!(
                    "Saved /{} ({scope}); type / in the composer to use it",
                    c.shortcut
                ),
            );
            fx.push(CannedCmd::Load.into());
        }
        CannedReply::Deleted { shortcut } => {
            flash(state, FlashLevel::Info, format!("Deleted /{shortcut}"));
            fx.push(CannedCmd::Load.into());
        }
    }
}
