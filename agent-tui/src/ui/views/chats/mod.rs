//! The Chats view on screen: queue | chat | customer side by side, or one at a time
//! below 100 columns, the canned-response picker over them, and what the view adds
//! to the top bar (the filter) and the status bar (counts, unsent, key hints).

pub(crate) mod canned;
mod chat;
pub(crate) mod composer;
mod customer;
mod queue;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::action::Action;
use crate::keys::KeyContext;
use crate::state::{Mode, Pane, State, ViewId};
use crate::ui::{NARROW, Theme};

pub fn render(state: &State, t: &Theme, f: &mut Frame, body: Rect) {
    if body.width < NARROW {
        let [tabs, pane] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(body);
        render_tabs(state, t, f, tabs);
        render_pane(state, t, f, pane, state.chats.focus);
    } else {
        let queue_w = if body.width >= 150 { 40 } else { 32 };
        let customer_w = if body.width >= 150 { 36 } else { 28 };
        let [q, c, cu] = Layout::horizontal([
            Constraint::Length(queue_w),
            Constraint::Min(30),
            Constraint::Length(customer_w),
        ])
        .areas(body);
        render_pane(state, t, f, q, Pane::Queue);
        render_pane(state, t, f, c, Pane::Chat);
        render_pane(state, t, f, cu, Pane::Customer);
    }
    if state.mode == Mode::Canned {
        canned::render(state, t, f, body);
    }
}

fn render_pane(state: &State, t: &Theme, f: &mut Frame, area: Rect, pane: Pane) {
    match pane {
        Pane::Queue => queue::render(state, t, f, area),
        Pane::Chat => chat::render(state, t, f, area),
        Pane::Customer => customer::render(state, t, f, area),
    }
}

/// The one-pane layout's switcher: which pane shows, and the keys for the others.
fn render_tabs(state: &State, t: &Theme, f: &mut Frame, area: Rect) {
    let mut spans = Vec::new();
    for (i, p) in Pane::ALL.iter().enumerate() {
        let label = format!(" {} {} ", i + 1, p.title());
        if *p == state.chats.focus {
            spans.push(Span::styled(format!("[{}]", label.trim()), t.mode));
        } else {
            spans.push(Span::styled(label, t.dim));
        }
        spans.push(Span::raw(" "));
    }
    let hint = if let Some(e) = state.chats.open_entry() {
        format!(" Tab/h/l switch · chat: {}", e.chat.customer.name)
    } else {
        " Tab/h/l switch".to_owned()
    };
    spans.push(Span::styled(hint, t.dim));
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The active search and filters, for the top bar.
pub fn topbar(state: &State) -> Option<String> {
    let q = &state.chats.queue;
    if !q.filter.is_active() {
        return None;
    }
    let mut parts = Vec::new();
    if !q.filter.text.is_empty() {
        parts.push(format!("“{}”", q.filter.text));
    }
    if let Some(d) = &q.filter.department {
        parts.push(state.department_name(d).unwrap_or(d).to_owned());
    }
    if q.filter.unread_only {
        parts.push("unread".into());
    }
    Some(format!("filter: {}", parts.join(", ")))
}

/// Queue counts and unsent messages, for the status bar (shown in every view).
pub fn status(state: &State, t: &Theme) -> Vec<Span<'static>> {
    let waiting = state.chats.queue.totals[0];
    let mine = state.chats.queue.totals[1];
    let unsent = state.chats.outbox.iter().filter(|o| !o.is_failed()).count();
    let failed = state.chats.outbox.iter().filter(|o| o.is_failed()).count();
    let mut out = vec![Span::styled(
        format!("│ waiting {waiting} · mine {mine} "),
        t.bar,
    )];
    if unsent > 0 {
        out.push(Span::styled(
            format!("│ ◷ {unsent} unsent "),
            t.bar.patch(t.warn),
        ));
    }
    if failed > 0 {
        out.push(Span::styled(
            format!("│ ✗ {failed} failed "),
            t.bar.patch(t.error),
        ));
    }
    out
}

fn hint(state: &State, ctxs: &[KeyContext], a: Action, label: &str) -> Option<String> {
    state.keymap.hint(ctxs, a).map(|k| format!("{k} {label}"))
}

/// Key hints for what the agent is doing in this view now.
pub fn hints(state: &State) -> Vec<String> {
    let n = &[KeyContext::View(ViewId::Chats), KeyContext::Normal];
    let list: Vec<Option<String>> = match state.mode {
        Mode::Insert => {
            let i = &[KeyContext::Insert];
            let send = if state.enhanced_keys {
                hint(state, i, Action::Send, "send")
            } else {
                Some("alt-enter/ctrl-s send".into())
            };
            vec![
                send,
                Some("enter newline".into()),
                hint(state, i, Action::ToggleNote, "reply⇄note"),
                hint(state, i, Action::Normal, "done"),
            ]
        }
        Mode::Search => vec![
            Some("type to filter".into()),
            Some("↑/↓ move".into()),
            Some("enter open".into()),
            Some("esc clear".into()),
        ],
        Mode::Canned => {
            let browsing = state
                .chats
                .canned_picker
                .as_ref()
                .is_some_and(|p| p.browsing);
            let ctx = if browsing {
                &[KeyContext::CannedBrowse]
            } else {
                &[KeyContext::Canned]
            };
            vec![
                (!browsing).then(|| "type to search".to_owned()),
                hint(
                    state,
                    ctx,
                    Action::CannedBrowse,
                    if browsing { "search" } else { "browse j/k" },
                ),
                Some("↑/↓ move".into()),
                hint(state, ctx, Action::Open, "insert"),
                hint(state, ctx, Action::Normal, "cancel"),
            ]
        }
        _ => match state.chats.focus {
            Pane::Queue => vec![
                hint(state, n, Action::Open, "open"),
                hint(state, n, Action::Claim, "claim"),
                hint(state, n, Action::Search, "search"),
                hint(state, n, Action::CommandLine, "cmd"),
                hint(state, n, Action::Help, "help"),
            ],
            Pane::Chat => vec![
                hint(state, n, Action::Compose, "reply"),
                hint(state, n, Action::ComposeNote, "note"),
                hint(state, n, Action::Claim, "claim"),
                hint(state, n, Action::Transfer, "transfer"),
                hint(state, n, Action::Close, "close"),
                hint(state, n, Action::Help, "help"),
            ],
            Pane::Customer => vec![
                hint(state, n, Action::MoveDown, "scroll"),
                hint(state, n, Action::FocusLeft, "back"),
                hint(state, n, Action::Help, "help"),
            ],
        },
    };
    list.into_iter().flatten().collect()
}
