//! The Tickets view: the list (filter, search, sort, pages, live updates, unread
//! marks) | the open ticket (header, timeline, composer) | its customer. Its state is
//! `state.tickets`; its drawing is `ui::views::tickets`.

mod actions;
pub(crate) mod commands;
mod detail;
pub mod filter;
pub mod list;
mod net;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::Rect;

pub(crate) use commands::from_chat;
pub(crate) use net::{on_push, on_reply};

use crate::action::Action;
use crate::effect::Effect;
use crate::keys::{KeyContext, KeyPress, Resolved};
use crate::state::views::tickets::TicketPane;
use crate::state::{Mode, State, ViewId};
use crate::ui::Theme;
use crate::ui::views::tickets as draw;
use crate::update::apply;
use crate::update::commands::Command;
use crate::update::views::chats;
use crate::views::{SessionChange, View};

pub struct Tickets;

/// Normal-mode keys of the Tickets view (`[keymap.tickets]`).
const KEYS: &[(&str, Action)] = &[
    ("h", Action::FocusLeft),
    ("left", Action::FocusLeft),
    ("l", Action::FocusRight),
    ("right", Action::FocusRight),
    ("tab", Action::NextPane),
    ("shift-tab", Action::PrevPane),
    ("1", Action::FocusQueue),
    ("2", Action::FocusChat),
    ("3", Action::FocusCustomer),
    ("enter", Action::Open),
    ("u", Action::NextUnread),
    ("/", Action::Search),
    ("f", Action::EditFilter),
    ("o", Action::CycleSort),
    ("]", Action::NextPage),
    ("[", Action::PrevPage),
    ("i", Action::Compose),
    ("r", Action::Compose),
    ("n", Action::ComposeNote),
    ("space", Action::MarkEntry),
    ("S", Action::SetTicketStatus),
    ("p", Action::SetPriority),
    ("a", Action::Assign),
    ("D", Action::SetDue),
    ("#", Action::Tag),
    ("M", Action::Merge),
    ("x", Action::Close),
    ("R", Action::Reopen),
    ("e", Action::Export),
];

impl View for Tickets {
    fn id(&self) -> ViewId {
        ViewId::Tickets
    }

    fn keys(&self) -> &'static [(&'static str, Action)] {
        KEYS
    }

    fn commands(&self) -> &'static [Command] {
        commands::COMMANDS
    }

    fn on_action(&self, state: &mut State, a: Action, fx: &mut Vec<Effect>) -> bool {
        actions::on_action(state, a, fx)
    }

    fn on_key(&self, state: &mut State, ev: KeyEvent, fx: &mut Vec<Effect>) {
        match state.mode {
            Mode::Insert => insert_key(state, ev, fx),
            Mode::Search => search_key(state, ev, fx),
            Mode::Canned => chats::canned_key(state, ev, fx),
            _ => {}
        }
    }

    fn on_paste(&self, state: &mut State, text: &str, _fx: &mut Vec<Effect>) {
        match state.mode {
            Mode::Insert => {
                state.tickets.composer.textarea.insert_str(text);
            }
            Mode::Search => state
                .tickets
                .search_input
                .push_str(&shared::text::sanitize_line(text)),
            Mode::Canned => chats::canned_paste(state, text),
            _ => {}
        }
    }

    fn on_session(&self, state: &mut State, change: SessionChange<'_>, fx: &mut Vec<Effect>) {
        match change {
            SessionChange::SignedOut => state.tickets = Default::default(),
            // Pushes missed while the stream could not resume: the page is asked again.
            SessionChange::Resynced => {
                list::reload(state, fx);
                if let Some(id) = state.tickets.open.clone() {
                    fx.push(crate::effect::TicketCmd::LoadEntries(id).into());
                }
            }
            _ => {}
        }
    }

    fn load(&self, state: &State, fx: &mut Vec<Effect>) {
        fx.push(
            crate::effect::TicketCmd::List {
                generation: state.tickets.generation,
                query: state.tickets.query.clone(),
            }
            .into(),
        );
    }

    fn rebuild(&self, state: &mut State) {
        list::keep_selection(state);
    }

    fn badge(&self, state: &State) -> Option<usize> {
        Some(state.tickets.unread.len())
    }

    fn topbar(&self, state: &State) -> Option<String> {
        draw::topbar(state)
    }

    fn hints(&self, state: &State) -> Vec<String> {
        draw::hints(state)
    }

    fn render(&self, state: &State, t: &Theme, f: &mut Frame, area: Rect) {
        draw::render(state, t, f, area);
    }
}

fn insert_key(state: &mut State, ev: KeyEvent, fx: &mut Vec<Effect>) {
    if let Some(kp) = KeyPress::from_event(&ev)
        && let Resolved::Action(a) = state.keymap.resolve(KeyContext::Insert, &[kp])
    {
        apply(state, a, fx);
        return;
    }
    state.tickets.composer.textarea.input(ev);
}

/// `/`: typing narrows the page at once; Enter asks the server (number, subject,
/// customer and entry text), Esc drops the search.
fn search_key(state: &mut State, ev: KeyEvent, fx: &mut Vec<Effect>) {
    let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
    let t = &mut state.tickets;
    match ev.code {
        KeyCode::Esc => {
            t.search_input.clear();
            state.mode = Mode::Normal;
            if !state.tickets.query.search.is_empty() {
                state.tickets.query.search.clear();
                state.tickets.query.page = 1;
                list::reload(state, fx);
            }
        }
        KeyCode::Enter => {
            state.mode = Mode::Normal;
            let q = t.search_input.trim().to_owned();
            t.query.search = q;
            t.query.page = 1;
            t.search_input.clear();
            t.selected = None;
            list::reload(state, fx);
        }
        KeyCode::Backspace if t.search_input.pop().is_none() => state.mode = Mode::Normal,
        KeyCode::Backspace => {}
        KeyCode::Down => apply(state, Action::MoveDown, fx),
        KeyCode::Up => apply(state, Action::MoveUp, fx),
        KeyCode::Char('u') if ctrl => t.search_input.clear(),
        KeyCode::Char(c)
            if !ctrl && t.search_input.chars().count() < shared::limits::MAX_SEARCH_CHARS =>
        {
            t.search_input.push(c);
        }
        _ => {}
    }
    state.tickets.focus = TicketPane::List;
    list::keep_selection(state);
}
