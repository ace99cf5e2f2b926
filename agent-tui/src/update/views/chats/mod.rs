//! The Chats view: queue | chat | customer, the composer, and everything done to a
//! chat. Its state is `state.chats`; its drawing is `ui::views::chats`.

mod actions;
mod attachments;
mod canned;
mod commands;
mod compose;
mod input;
mod navigation;
mod net;
mod session;

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Span;

pub(crate) use actions::refresh_transfer_picker;
pub(crate) use attachments::on_reply as on_attachment_reply;
pub(crate) use canned::on_reply as on_canned_reply;
pub(crate) use canned::{
    on_action as canned_action, on_key as canned_key, on_paste as canned_paste,
    trigger as canned_trigger,
};
pub(crate) use compose::open_chat;
pub(crate) use net::{on_customer, on_push, on_reply, on_typing};

use crate::action::Action;
use crate::effect::Effect;
use crate::state::{State, ViewId};
use crate::ui::Theme;
use crate::ui::views::chats as draw;
use crate::update::commands::Command;
use crate::views::{SessionChange, View};

pub struct Chats;

/// Normal-mode keys of the Chats view (`[keymap.chats]`).
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
    ("i", Action::Compose),
    ("r", Action::Compose),
    ("n", Action::ComposeNote),
    ("c", Action::Claim),
    ("x", Action::Close),
    ("R", Action::Reopen),
    ("t", Action::Transfer),
    ("#", Action::Tag),
    ("e", Action::Export),
    ("y", Action::CopyLink),
];

impl View for Chats {
    fn id(&self) -> ViewId {
        ViewId::Chats
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
        input::on_key(state, ev, fx);
    }

    fn on_paste(&self, state: &mut State, text: &str, fx: &mut Vec<Effect>) {
        input::on_paste(state, text, fx);
    }

    fn on_session(&self, state: &mut State, change: SessionChange<'_>, fx: &mut Vec<Effect>) {
        session::on_session(state, change, fx);
    }

    fn on_tick(&self, state: &mut State, fx: &mut Vec<Effect>) {
        session::on_tick(state, fx);
    }

    fn load(&self, _state: &State, fx: &mut Vec<Effect>) {
        session::load(fx);
    }

    fn rebuild(&self, state: &mut State) {
        let me = state.session.as_ref().map(|s| s.agent.id.clone());
        let chats = &mut state.chats;
        chats.queue.rebuild(&chats.entries, me.as_deref());
    }

    fn topbar(&self, state: &State) -> Option<String> {
        draw::topbar(state)
    }

    fn status(&self, state: &State, t: &Theme) -> Vec<Span<'static>> {
        draw::status(state, t)
    }

    fn hints(&self, state: &State) -> Vec<String> {
        draw::hints(state)
    }

    fn render(&self, state: &State, t: &Theme, f: &mut Frame, area: Rect) {
        draw::render(state, t, f, area);
    }
}
