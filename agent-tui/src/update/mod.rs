//! The pure heart of the console: `update(&mut State, Msg) -> Vec<Effect>`. It never
//! performs I/O; the app loop runs the effects it returns. Here: what is the same in
//! every view (the session, overlays, global actions); each view's own behaviour is
//! in `views/`, reached through `crate::views`.

pub mod commands;
mod directory;
mod input;
mod net;
pub(crate) mod picker;
mod session;
#[cfg(test)]
pub(crate) mod tests;
pub mod views;

use time::{Duration, OffsetDateTime};

use crate::action::Action;
use crate::effect::{DirectoryCmd, Effect, SessionCmd};
use crate::msg::Msg;
use crate::state::{Flash, FlashLevel, Mode, OutboxItem, Session, State, ViewId};
use crate::views::{self as registry, SessionChange};

pub use commands::complete;

/// Typing is sent at most this often while the agent types…
pub const TYPING_THROTTLE: Duration = Duration::seconds(2);
/// …and switched off after this long without a key.
pub const TYPING_IDLE: Duration = Duration::seconds(5);
/// A visitor's typing indicator disappears if no update comes for this long.
pub const CUSTOMER_TYPING_TTL: Duration = Duration::seconds(6);
pub const FLASH_TTL: Duration = Duration::seconds(6);
/// Lines moved by page up/down in lists and the chat history.
pub const PAGE: usize = 10;

/// Sets up the state from what is on disk and says what to do first.
pub fn start(state: &mut State, session: Option<Session>, outbox: Vec<OutboxItem>) -> Vec<Effect> {
    state.chats.outbox = outbox;
    let mut fx = Vec::new();
    match session {
        Some(s) => {
            state.server_url = s.server.clone();
            state.login.server = s.server.clone();
            state.login.email = s.agent.email.clone();
            fx.push(
                SessionCmd::Connect {
                    server: s.server.clone(),
                    token: s.token.clone(),
                }
                .into(),
            );
            let agent_id = s.agent.id.clone();
            state.session = Some(s);
            state.mode = Mode::Normal;
            for v in registry::all() {
                v.on_session(
                    state,
                    SessionChange::SignedIn {
                        agent_id: &agent_id,
                    },
                    &mut fx,
                );
            }
            load_all(state, &mut fx);
        }
        None => state.mode = Mode::Login,
    }
    rebuild(state);
    fx
}

pub fn update(state: &mut State, msg: Msg) -> Vec<Effect> {
    let mut fx = Vec::new();
    match msg {
        Msg::Key(ev) => input::on_key(state, ev, &mut fx),
        Msg::Paste(text) => input::on_paste(state, &text, &mut fx),
        Msg::Resize { width, .. } => state.width = width,
        Msg::Tick(now) => tick(state, now, &mut fx),
        Msg::Action(a) => apply(state, a, &mut fx),
        Msg::Net(ev) => net::on_net(state, ev, &mut fx),
    }
    rebuild(state);
    fx
}

/// Recomputes what the views derive from their data (the queue), after any change.
pub fn rebuild(state: &mut State) {
    for v in registry::all() {
        v.rebuild(state);
    }
}

/// Everything loaded at sign-in and on every reload: the directory, then each
/// view's lists.
pub(crate) fn load_all(state: &State, fx: &mut Vec<Effect>) {
    for v in registry::all() {
        v.load(state, fx);
    }
    fx.push(DirectoryCmd::LoadAgents.into());
    fx.push(DirectoryCmd::LoadDepartments.into());
}

/// Text for the message line, the login form or a failed message: error strings
/// quote servers, decoders and the system, so everything shown is one line with no
/// escape sequence, control, bidi or invisible character, whatever the source did.
pub(crate) fn shown(text: &str) -> String {
    shared::text::sanitize_line(text).into_owned()
}

pub(crate) fn flash(state: &mut State, level: FlashLevel, text: impl Into<String>) {
    state.flash = Some(Flash {
        text: shown(&text.into()),
        level,
        at: state.now,
    });
}

fn tick(state: &mut State, now: OffsetDateTime, fx: &mut Vec<Effect>) {
    state.now = now;
    for v in registry::all() {
        v.on_tick(state, fx);
    }
    if let Some(f) = &state.flash {
        let ttl = if f.level == FlashLevel::Error {
            FLASH_TTL * 2
        } else {
            FLASH_TTL
        };
        if now - f.at >= ttl {
            state.flash = None;
        }
    }
}

pub(crate) fn open_command(state: &mut State, prefill: &str) {
    state.command.input = prefill.to_owned();
    state.command.completions.clear();
    state.command.completion_idx = None;
    state.command.completion_base = None;
    state.command.history_idx = None;
    state.mode = Mode::Command;
}

/// Shows a view; one that does not exist yet says so.
pub(crate) fn go_to(state: &mut State, view: ViewId, fx: &mut Vec<Effect>) {
    if let Some(v) = registry::get(view) {
        let shown = state.view == view;
        state.view = view;
        if !shown {
            v.on_show(state, fx);
        }
    } else {
        flash(
            state,
            FlashLevel::Info,
            format!("The {} view is not available yet", view.title()),
        );
    }
}

fn is_movement(a: Action) -> bool {
    matches!(
        a,
        Action::MoveDown
            | Action::MoveUp
            | Action::Top
            | Action::Bottom
            | Action::PageDown
            | Action::PageUp
    )
}

/// Applies one action: overlays and global actions here, the rest by the view shown.
pub(crate) fn apply(state: &mut State, a: Action, fx: &mut Vec<Effect>) {
    let view = registry::active(state);
    // The canned-response picker is the Chats view's modal overlay: it takes every
    // action but quit.
    if state.mode == Mode::Canned && a != Action::Quit {
        view.on_action(state, a, fx);
        return;
    }
    match a {
        _ if state.mode == Mode::Picker && is_movement(a) => picker::movement(state, a),
        _ if state.mode == Mode::Help && is_movement(a) => help_scroll(state, a),
        Action::Open if state.mode == Mode::Picker => picker::confirm(state, fx),
        Action::Normal if state.mode == Mode::Picker => {
            state.picker = None;
            state.mode = Mode::Normal;
        }
        Action::CommandLine => open_command(state, ""),
        Action::Help => toggle_help(state),
        Action::SetStatus => picker::open_status_picker(state),
        Action::Refresh => {
            load_all(state, fx);
            for v in registry::all() {
                v.on_session(state, SessionChange::Refreshed, fx);
            }
            flash(state, FlashLevel::Info, "Reloading…");
        }
        Action::CycleTheme => {
            state.theme = state.theme.next();
            let name = state.theme.as_str();
            flash(state, FlashLevel::Info, format!("Theme: {name}"));
        }
        Action::Notifications => go_to(state, ViewId::Notifications, fx),
        Action::GoTo(v) => go_to(state, v, fx),
        Action::Quit => {
            for v in registry::all() {
                v.on_session(state, SessionChange::Closing, fx);
            }
            state.quit = true;
            fx.push(Effect::Quit);
        }
        _ => {
            if !view.on_action(state, a, fx) {
                match a {
                    Action::ClearFilter => state.flash = None,
                    Action::Normal => state.mode = Mode::Normal,
                    _ => {}
                }
            }
        }
    }
}

fn toggle_help(state: &mut State) {
    if state.mode == Mode::Help {
        state.mode = state.prev_mode;
    } else {
        state.prev_mode = if state.mode == Mode::Insert {
            Mode::Insert
        } else {
            Mode::Normal
        };
        state.help_scroll = 0;
        state.mode = Mode::Help;
    }
}

fn help_scroll(state: &mut State, a: Action) {
    state.help_scroll = match a {
        Action::MoveDown => state.help_scroll.saturating_add(1),
        Action::MoveUp => state.help_scroll.saturating_sub(1),
        Action::PageDown => state.help_scroll.saturating_add(PAGE as u16),
        Action::PageUp => state.help_scroll.saturating_sub(PAGE as u16),
        Action::Top => 0,
        _ => u16::MAX,
    };
}
