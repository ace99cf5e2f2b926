//! The view registry: what a view is (`View`) and the views the console has. Each
//! view owns its state (a field of `State`, under `state::views`), its handler
//! (`update::views`), its drawing (`ui::views`), its keys and its `:` commands; the
//! rest of the console reaches it only through this trait and `VIEWS`.

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Span;

use crate::action::Action;
use crate::effect::Effect;
use crate::state::{State, ViewId};
use crate::ui::Theme;
use crate::update::commands::Command;
use crate::update::views::{
    chats::Chats, dashboard::Dashboard, kb::KnowledgeBase, notifications::Notifications,
    tickets::Tickets,
};

/// Views in tab order. Adding a view is one line here (and its modules).
static VIEWS: &[&dyn View] = &[&Chats, &Tickets, &Notifications, &KnowledgeBase, &Dashboard];

/// What happened to the session or the connection, for views that keep something
/// about it (typing, the outbox, caches).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionChange<'a> {
    /// Signed in as this agent (from the saved session or the form).
    SignedIn {
        agent_id: &'a str,
    },
    /// Signed out, or the server ended the session.
    SignedOut,
    Connected,
    Disconnected,
    /// The agent asked for everything again (`Ctrl+R`).
    Refreshed,
    /// The event stream could not resume: what is cached may have holes.
    Resynced,
    /// The console is about to quit.
    Closing,
}

pub trait View: Sync {
    fn id(&self) -> ViewId;

    /// Normal-mode keys of this view (`[keymap.<name>]`), tried before the global ones.
    fn keys(&self) -> &'static [(&'static str, Action)] {
        &[]
    }

    /// `:` commands of this view, tried before the global ones.
    fn commands(&self) -> &'static [Command] {
        &[]
    }

    /// An action while the view is shown; false when it means nothing here.
    fn on_action(&self, state: &mut State, a: Action, fx: &mut Vec<Effect>) -> bool;

    /// A key in one of the view's own modes (the composer, search…).
    fn on_key(&self, _state: &mut State, _ev: KeyEvent, _fx: &mut Vec<Effect>) {}

    /// Pasted text in one of the view's own modes.
    fn on_paste(&self, _state: &mut State, _text: &str, _fx: &mut Vec<Effect>) {}

    fn on_session(&self, _state: &mut State, _change: SessionChange<'_>, _fx: &mut Vec<Effect>) {}

    /// The view was just brought on screen (it was not shown before).
    fn on_show(&self, _state: &mut State, _fx: &mut Vec<Effect>) {}

    /// The clock moved on (`state.now` is already the new time).
    fn on_tick(&self, _state: &mut State, _fx: &mut Vec<Effect>) {}

    /// What the view loads from the server at sign-in and on every reload.
    fn load(&self, _state: &State, _fx: &mut Vec<Effect>) {}

    /// Recomputes what the view derives from its data, after every change.
    fn rebuild(&self, _state: &mut State) {}

    /// A count next to the view's tab (unread notifications).
    fn badge(&self, _state: &State) -> Option<usize> {
        None
    }

    /// What the view adds to the top bar while shown (the active filter).
    fn topbar(&self, _state: &State) -> Option<String> {
        None
    }

    /// What the view adds to the status bar, shown or not (queue counts).
    fn status(&self, _state: &State, _t: &Theme) -> Vec<Span<'static>> {
        Vec::new()
    }

    /// Key hints for the status bar while shown.
    fn hints(&self, state: &State) -> Vec<String>;

    fn render(&self, state: &State, t: &Theme, f: &mut Frame, area: Rect);
}

pub fn all() -> impl Iterator<Item = &'static dyn View> {
    VIEWS.iter().copied()
}

/// The registered view, if that view exists yet.
pub fn get(id: ViewId) -> Option<&'static dyn View> {
    all().find(|v| v.id() == id)
}

/// The view on screen (the first one if `state.view` names none).
pub fn active(state: &State) -> &'static dyn View {
    get(state.view).unwrap_or(VIEWS[0])
}
