//! The Notifications view: the list of what the server told the agent (mentions,
//! chats transferred to them), j/k to move, Enter to open the chat one is about
//! (marking it read), and read marks. Its state is `state.notifications`.

use ratatui::Frame;
use ratatui::layout::Rect;
use shared::model::Notification;

use crate::action::Action;
use crate::effect::Effect;
use crate::state::{FlashLevel, Pane, State, ViewId};
use crate::ui::Theme;
use crate::ui::views::notifications as draw;
use crate::update::commands::{Command, words};
use crate::update::views::chats;
use crate::update::{PAGE, flash};
use crate::views::View;

pub struct Notifications;

/// Normal-mode keys of the Notifications view (`[keymap.notifications]`).
const KEYS: &[(&str, Action)] = &[
    ("enter", Action::Open),
    ("m", Action::ToggleRead),
    ("M", Action::MarkAllRead),
];

const COMMANDS: &[Command] = &[
    Command::new(
        "read",
        "[all]",
        "mark the selected notification read (all: every one)",
        |s, rest, _| match rest {
            "all" => mark_all_read(s),
            _ => set_read(s, true),
        },
    )
    .completes(|_, arg| (String::new(), words(arg, ["all"]))),
    Command::new(
        "unread",
        "",
        "mark the selected notification unread",
        |s, _, _| set_read(s, false),
    ),
];

impl View for Notifications {
    fn id(&self) -> ViewId {
        ViewId::Notifications
    }

    fn keys(&self) -> &'static [(&'static str, Action)] {
        KEYS
    }

    fn commands(&self) -> &'static [Command] {
        COMMANDS
    }

    fn on_action(&self, state: &mut State, a: Action, fx: &mut Vec<Effect>) -> bool {
        let n = state.notifications.items.len();
        let cur = state.notifications.selected_index();
        let last = n.saturating_sub(1);
        let to = match a {
            Action::MoveDown => (cur + 1).min(last),
            Action::MoveUp => cur.saturating_sub(1),
            Action::PageDown => (cur + PAGE).min(last),
            Action::PageUp => cur.saturating_sub(PAGE),
            Action::Top => 0,
            Action::Bottom => last,
            Action::Open => {
                open(state, fx);
                return true;
            }
            Action::ToggleRead => {
                let seen = state.notifications.selected_entry().is_some_and(|e| e.seen);
                set_read(state, !seen);
                return true;
            }
            Action::MarkAllRead => {
                mark_all_read(state);
                return true;
            }
            _ => return false,
        };
        state.notifications.select_index(to);
        true
    }

    fn badge(&self, state: &State) -> Option<usize> {
        Some(state.notifications.unread())
    }

    fn hints(&self, state: &State) -> Vec<String> {
        draw::hints(state)
    }

    fn render(&self, state: &State, t: &Theme, f: &mut Frame, area: Rect) {
        draw::render(state, t, f, area);
    }
}

/// A pushed (or synced) notification: it rings, and waits in the list unread.
pub(crate) fn on_push(state: &mut State, n: Notification, fx: &mut Vec<Effect>) {
    fx.push(Effect::Bell);
    fx.push(Effect::Notify {
        title: n.title.clone(),
        body: n.body.clone(),
    });
    let now = state.now;
    state.notifications.push(n, now);
}

fn set_read(state: &mut State, seen: bool) {
    let Some(id) = state.notifications.selected_entry().map(|e| e.id) else {
        flash(state, FlashLevel::Info, "No notifications");
        return;
    };
    if let Some(e) = state.notifications.items.iter_mut().find(|e| e.id == id) {
        e.seen = seen;
    }
}

fn mark_all_read(state: &mut State) {
    for e in &mut state.notifications.items {
        e.seen = true;
    }
    flash(state, FlashLevel::Info, "Every notification is marked read");
}

/// Enter: the notification is read, and its chat opens in the Chats view.
fn open(state: &mut State, fx: &mut Vec<Effect>) {
    let Some(e) = state.notifications.selected_entry() else {
        flash(state, FlashLevel::Info, "No notifications");
        return;
    };
    let (id, chat) = (e.id, e.notification.chat_id.clone());
    if let Some(e) = state.notifications.items.iter_mut().find(|e| e.id == id) {
        e.seen = true;
    }
    match chat.filter(|c| !c.is_empty()) {
        Some(chat_id) => {
            state.view = ViewId::Chats;
            chats::open_chat(state, &chat_id, fx);
            state.chats.focus = Pane::Chat;
        }
        None => flash(
            state,
            FlashLevel::Info,
            "This notification is not about a chat",
        ),
    }
}
