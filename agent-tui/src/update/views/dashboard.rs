//! The Dashboard view: the agent's figures at a glance. It loads when it is brought
//! on screen and on `r` (with every other list), and again a few seconds after chat
//! or ticket pushes arrive while it is shown. `n` starts a new ticket (the Tickets
//! view's `:ticket new`), `q` goes to the queue. Its state is `state.dashboard`.

use ratatui::Frame;
use ratatui::layout::Rect;
use shared::events::ServerEvent;
use time::Duration;

use crate::action::Action;
use crate::effect::{DashboardCmd, Effect};
use crate::msg::DashboardReply;
use crate::state::{Pane, State, ViewId};
use crate::ui::Theme;
use crate::ui::views::dashboard as draw;
use crate::update::open_command;
use crate::views::View;

pub struct Dashboard;

/// Pushes arriving within this long of the first one are folded into one reload.
pub const REFRESH_DEBOUNCE: Duration = Duration::seconds(3);

/// Normal-mode keys of the Dashboard view (`[keymap.dashboard]`).
const KEYS: &[(&str, Action)] = &[
    ("r", Action::Refresh),
    ("n", Action::NewTicket),
    ("q", Action::FocusQueue),
];

impl View for Dashboard {
    fn id(&self) -> ViewId {
        ViewId::Dashboard
    }

    fn keys(&self) -> &'static [(&'static str, Action)] {
        KEYS
    }

    fn on_action(&self, state: &mut State, a: Action, _fx: &mut Vec<Effect>) -> bool {
        match a {
            Action::NewTicket => {
                state.view = ViewId::Tickets;
                open_command(state, "ticket new ");
            }
            Action::FocusQueue => {
                state.view = ViewId::Chats;
                state.chats.focus = Pane::Queue;
            }
            _ => return false,
        }
        true
    }

    fn on_show(&self, state: &mut State, fx: &mut Vec<Effect>) {
        send_load(state, fx);
    }

    fn on_tick(&self, state: &mut State, fx: &mut Vec<Effect>) {
        let Some(at) = state.dashboard.refresh_at else {
            return;
        };
        if state.view != ViewId::Dashboard {
            state.dashboard.refresh_at = None;
        } else if state.now >= at {
            send_load(state, fx);
        }
    }

    /// Every reload (`r`, `Ctrl+R`, sign-in) while the dashboard is shown.
    fn load(&self, state: &State, fx: &mut Vec<Effect>) {
        if state.view == ViewId::Dashboard {
            fx.push(load_cmd(state, state.dashboard.seq).into());
        }
    }

    fn hints(&self, state: &State) -> Vec<String> {
        draw::hints(state)
    }

    fn render(&self, state: &State, t: &Theme, f: &mut Frame, area: Rect) {
        draw::render(state, t, f, area);
    }
}

fn load_cmd(state: &State, seq: u64) -> DashboardCmd {
    DashboardCmd::Load {
        seq,
        today: state.now.date(),
    }
}

/// Sends a load; the answer to the latest one wins.
fn send_load(state: &mut State, fx: &mut Vec<Effect>) {
    state.dashboard.seq += 1;
    state.dashboard.loading = true;
    state.dashboard.refresh_at = None;
    fx.push(load_cmd(state, state.dashboard.seq).into());
}

/// A chat or ticket changed: while the dashboard is shown, load again soon.
pub(crate) fn on_push(state: &mut State, ev: &ServerEvent) {
    let counts = matches!(
        ev,
        ServerEvent::ChatCreated(_)
            | ServerEvent::ChatUpdated(_)
            | ServerEvent::TicketCreated(_)
            | ServerEvent::TicketUpdated(_)
    );
    if counts && state.view == ViewId::Dashboard && state.dashboard.refresh_at.is_none() {
        state.dashboard.refresh_at = Some(state.now + REFRESH_DEBOUNCE);
    }
}

pub(crate) fn on_reply(state: &mut State, r: DashboardReply) {
    let d = &mut state.dashboard;
    match r {
        DashboardReply::Loaded { seq, figures } if seq == d.seq => {
            d.loading = false;
            d.error = None;
            d.figures = Some(*figures);
        }
        DashboardReply::Failed { seq, error } if seq == d.seq => {
            d.loading = false;
            d.error = Some(crate::update::shown(&error));
        }
        _ => {}
    }
}
