//! Keys and pasted text in the Chats view's own modes: the composer (insert), the
//! queue search, and the canned-response picker.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::compose::{open_chat, typed};
use crate::action::Action;
use crate::effect::Effect;
use crate::keys::{KeyContext, KeyPress, Resolved};
use crate::state::{Mode, Pane, State};
use crate::update::apply;

pub(super) fn on_key(state: &mut State, ev: KeyEvent, fx: &mut Vec<Effect>) {
    match state.mode {
        Mode::Insert => insert_key(state, ev, fx),
        Mode::Search => search_key(state, ev, fx),
        Mode::Canned => super::canned::on_key(state, ev, fx),
        _ => {}
    }
}

pub(super) fn on_paste(state: &mut State, clean: &str, fx: &mut Vec<Effect>) {
    match state.mode {
        Mode::Insert => {
            state.chats.composer.textarea.insert_str(clean);
            typed(state, fx);
        }
        Mode::Search => {
            state
                .chats
                .queue
                .filter
                .text
                .push_str(&shared::text::sanitize_line(clean));
        }
        Mode::Canned => super::canned::on_paste(state, clean),
        _ => {}
    }
}

fn insert_key(state: &mut State, ev: KeyEvent, fx: &mut Vec<Effect>) {
    if let Some(kp) = KeyPress::from_event(&ev)
        && let Resolved::Action(a) = state.keymap.resolve(KeyContext::Insert, &[kp])
    {
        apply(state, a, fx);
        return;
    }
    let before = state.chats.composer.textarea.lines().len();
    let changed = state.chats.composer.textarea.input(ev);
    if changed || state.chats.composer.textarea.lines().len() != before {
        typed(state, fx);
    }
}

fn search_key(state: &mut State, ev: KeyEvent, fx: &mut Vec<Effect>) {
    let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
    match ev.code {
        KeyCode::Esc => {
            state.chats.queue.filter.text.clear();
            state.mode = Mode::Normal;
        }
        KeyCode::Enter => {
            state.mode = Mode::Normal;
            if let Some(id) = state.chats.queue.selected.clone() {
                open_chat(state, &id, fx);
                state.chats.focus = Pane::Chat;
            }
        }
        KeyCode::Backspace => {
            let was_empty = state.chats.queue.filter.text.pop().is_none();
            if was_empty {
                state.mode = Mode::Normal;
            }
        }
        KeyCode::Down => apply(state, Action::MoveDown, fx),
        KeyCode::Up => apply(state, Action::MoveUp, fx),
        KeyCode::Char('n' | 'j') if ctrl => apply(state, Action::MoveDown, fx),
        KeyCode::Char('p' | 'k') if ctrl => apply(state, Action::MoveUp, fx),
        KeyCode::Char('u') if ctrl => state.chats.queue.filter.text.clear(),
        KeyCode::Char(c)
            if !ctrl
                && state.chats.queue.filter.text.chars().count()
                    < shared::limits::MAX_SEARCH_CHARS =>
        {
            state.chats.queue.filter.text.push(c);
        }
        _ => {}
    }
    // Keep the selection on a visible row while the list narrows.
    crate::update::rebuild(state);
}
