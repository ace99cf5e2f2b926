//! Key presses in the modes every view shares: normal mode (the active view's keys,
//! then the global ones), the help overlay, pickers, the command line and the login
//! form. Keys in a view's own modes (the composer, search) go to that view.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::{apply, commands, flash};
use crate::action::Action;
use crate::effect::{Effect, SessionCmd};
use crate::keys::{KeyContext, KeyPress, Resolved};
use crate::state::{FlashLevel, LoginField, Mode, State};
use crate::views;

pub fn on_key(state: &mut State, ev: KeyEvent, fx: &mut Vec<Effect>) {
    if ev.kind == KeyEventKind::Release {
        return;
    }
    let ctrl_c = ev.code == KeyCode::Char('c') && ev.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl_c {
        // Ctrl+C quits from normal mode and leaves any other mode, like Esc.
        match state.mode {
            Mode::Normal | Mode::Login => apply(state, Action::Quit, fx),
            Mode::Command | Mode::Search => state.mode = Mode::Normal,
            Mode::Canned => apply(state, Action::Normal, fx),
            _ => apply(state, Action::Normal, fx),
        }
        return;
    }
    match state.mode {
        Mode::Normal => normal_key(state, ev, fx),
        Mode::Picker => picker_key(state, ev, fx),
        Mode::Help => help_key(state, ev, fx),
        Mode::Command => command_key(state, ev, fx),
        Mode::Login => login_key(state, ev, fx),
        Mode::Insert | Mode::Search | Mode::Canned => {
            views::active(state).on_key(state, ev, fx);
        }
    }
}

pub fn on_paste(state: &mut State, text: &str, fx: &mut Vec<Effect>) {
    // Pasted text is the agent's own, but may carry escape bytes from elsewhere.
    let clean = shared::text::sanitize(text);
    match state.mode {
        Mode::Command => state
            .command
            .input
            .push_str(&shared::text::sanitize_line(&clean)),
        Mode::Picker => {
            if let Some(p) = &mut state.picker {
                p.query.push_str(&shared::text::sanitize_line(&clean));
                p.selected = 0;
            }
        }
        Mode::Login => {
            let line = shared::text::sanitize_line(&clean).into_owned();
            match state.login.field {
                LoginField::Server => state.login.server.push_str(line.trim()),
                LoginField::Email => state.login.email.push_str(line.trim()),
                LoginField::Password => state.login.password.push_str(&line),
                LoginField::Remember => {}
            }
        }
        Mode::Insert | Mode::Search | Mode::Canned => {
            views::active(state).on_paste(state, &clean, fx);
        }
        Mode::Normal | Mode::Help => {}
    }
}

fn normal_key(state: &mut State, ev: KeyEvent, fx: &mut Vec<Effect>) {
    let Some(kp) = KeyPress::from_event(&ev) else {
        return;
    };
    let ctxs = [KeyContext::View(state.view), KeyContext::Normal];
    state.pending_keys.push(kp);
    match state.keymap.resolve_in(&ctxs, &state.pending_keys) {
        Resolved::Action(a) => {
            state.pending_keys.clear();
            apply(state, a, fx);
        }
        Resolved::Pending => {}
        Resolved::Unbound => {
            // "g x": drop the unfinished prefix and try the new key on its own.
            let retry = state.pending_keys.len() > 1;
            state.pending_keys.clear();
            if retry {
                state.pending_keys.push(kp);
                match state.keymap.resolve_in(&ctxs, &state.pending_keys) {
                    Resolved::Action(a) => {
                        state.pending_keys.clear();
                        apply(state, a, fx);
                    }
                    Resolved::Pending => {}
                    Resolved::Unbound => state.pending_keys.clear(),
                }
            }
        }
    }
}

fn picker_key(state: &mut State, ev: KeyEvent, fx: &mut Vec<Effect>) {
    if let Some(kp) = KeyPress::from_event(&ev)
        && let Resolved::Action(a) = state.keymap.resolve(KeyContext::Picker, &[kp])
    {
        apply(state, a, fx);
        return;
    }
    let Some(p) = &mut state.picker else {
        state.mode = Mode::Normal;
        return;
    };
    match ev.code {
        KeyCode::Backspace => {
            p.query.pop();
            p.selected = 0;
        }
        KeyCode::Char(c) if !ev.modifiers.contains(KeyModifiers::CONTROL) => {
            p.query.push(c);
            p.selected = 0;
        }
        _ => {}
    }
}

fn help_key(state: &mut State, ev: KeyEvent, fx: &mut Vec<Effect>) {
    let Some(kp) = KeyPress::from_event(&ev) else {
        return;
    };
    if matches!(
        kp.code,
        crate::keys::Code::Esc | crate::keys::Code::Char('q')
    ) {
        state.mode = state.prev_mode;
        return;
    }
    match state.keymap.resolve(KeyContext::Normal, &[kp]) {
        Resolved::Action(
            a @ (Action::MoveDown
            | Action::MoveUp
            | Action::PageDown
            | Action::PageUp
            | Action::Bottom
            | Action::Help),
        ) => apply(state, a, fx),
        _ if kp == KeyPress::ch('g') => state.help_scroll = 0,
        _ => {}
    }
}

fn command_key(state: &mut State, ev: KeyEvent, fx: &mut Vec<Effect>) {
    let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
    let cl = &mut state.command;
    let reset_completion = |cl: &mut crate::state::CommandLine| {
        cl.completions.clear();
        cl.completion_idx = None;
        cl.completion_base = None;
    };
    match ev.code {
        KeyCode::Esc => state.mode = Mode::Normal,
        KeyCode::Enter => {
            let line = state.command.input.trim().to_owned();
            state.mode = Mode::Normal;
            if !line.is_empty() {
                state.command.history.retain(|h| h != &line);
                state.command.history.push(line.clone());
                if state.command.history.len() > 100 {
                    state.command.history.remove(0);
                }
                commands::execute(state, &line, fx);
            }
            state.command.input.clear();
        }
        KeyCode::Tab => commands::cycle_completion(state, true),
        KeyCode::BackTab => commands::cycle_completion(state, false),
        KeyCode::Backspace => {
            if cl.input.is_empty() {
                state.mode = Mode::Normal;
            } else {
                cl.input.pop();
                reset_completion(cl);
            }
        }
        KeyCode::Char('u') if ctrl => {
            cl.input.clear();
            reset_completion(cl);
        }
        KeyCode::Char('w') if ctrl => {
            let trimmed = cl.input.trim_end().len();
            cl.input.truncate(trimmed);
            let cut = cl.input.rfind(' ').map_or(0, |i| i + 1);
            cl.input.truncate(cut);
            reset_completion(cl);
        }
        KeyCode::Up | KeyCode::Down => {
            if cl.history.is_empty() {
                return;
            }
            let n = cl.history.len();
            let idx = match (cl.history_idx, ev.code) {
                (None, KeyCode::Up) => Some(n - 1),
                (None, _) => None,
                (Some(i), KeyCode::Up) => Some(i.saturating_sub(1)),
                (Some(i), _) if i + 1 < n => Some(i + 1),
                (Some(_), _) => None,
            };
            cl.history_idx = idx;
            cl.input = idx.map(|i| cl.history[i].clone()).unwrap_or_default();
            reset_completion(cl);
        }
        KeyCode::Char(c) if !ctrl => {
            cl.input.push(c);
            reset_completion(cl);
        }
        _ => {}
    }
}

fn login_key(state: &mut State, ev: KeyEvent, fx: &mut Vec<Effect>) {
    let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
    let f = &mut state.login;
    if f.busy {
        return;
    }
    let order = [
        LoginField::Server,
        LoginField::Email,
        LoginField::Password,
        LoginField::Remember,
    ];
    let pos = order.iter().position(|x| *x == f.field).unwrap_or(0);
    match ev.code {
        KeyCode::Tab | KeyCode::Down => f.field = order[(pos + 1) % order.len()],
        KeyCode::BackTab | KeyCode::Up => f.field = order[(pos + order.len() - 1) % order.len()],
        KeyCode::Enter => {
            if f.field != LoginField::Remember && f.field != LoginField::Password {
                f.field = order[pos + 1];
                return;
            }
            submit_login(state, fx);
        }
        KeyCode::Char(' ') if f.field == LoginField::Remember => f.remember = !f.remember,
        KeyCode::Backspace => {
            match f.field {
                LoginField::Server => f.server.pop(),
                LoginField::Email => f.email.pop(),
                LoginField::Password => f.password.pop(),
                LoginField::Remember => None,
            };
        }
        KeyCode::Char('u') if ctrl => match f.field {
            LoginField::Server => f.server.clear(),
            LoginField::Email => f.email.clear(),
            LoginField::Password => f.password.clear(),
            LoginField::Remember => {}
        },
        KeyCode::Char(c) if !ctrl => match f.field {
            LoginField::Server => f.server.push(c),
            LoginField::Email => f.email.push(c),
            LoginField::Password => f.password.push(c),
            LoginField::Remember => {}
        },
        _ => {}
    }
}

fn submit_login(state: &mut State, fx: &mut Vec<Effect>) {
    let f = &mut state.login;
    let server = f.server.trim().trim_end_matches('/').to_owned();
    if server.is_empty() || f.email.trim().is_empty() || f.password.is_empty() {
        f.error = Some("Server, e-mail and password are all needed".into());
        return;
    }
    if !(server.starts_with("http://") || server.starts_with("https://")) {
        f.error = Some("The server address starts with http:// or https://".into());
        return;
    }
    f.error = None;
    f.busy = true;
    fx.push(
        SessionCmd::Login {
            server,
            email: f.email.trim().to_owned(),
            password: f.password.clone(),
            remember: f.remember,
        }
        .into(),
    );
    flash(state, FlashLevel::Info, "Signing in…");
}
