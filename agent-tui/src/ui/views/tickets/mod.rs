//! The Tickets view on screen: the list above the open ticket and its customer
//! (or one pane at a time below 100 columns), the canned-response picker over the
//! composer, and what the view adds to the bars (filter, key hints).

mod customer;
pub use customer::customer_card;
mod detail;
pub mod list;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use shared::ticket::{TicketPriority, TicketStatus};

use crate::action::Action;
use crate::keys::KeyContext;
use crate::state::views::tickets::TicketPane;
use crate::state::{Mode, State, ViewId};
use crate::ui::{NARROW, Theme};

pub fn render(state: &State, t: &Theme, f: &mut Frame, body: Rect) {
    let focus = state.tickets.focus;
    if body.width < NARROW {
        let [tabs, pane] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(body);
        render_tabs(state, t, f, tabs);
        render_pane(state, t, f, pane, focus);
    } else {
        // The list shrinks while a ticket is read, and keeps 20 rows otherwise.
        let list_h = if focus == TicketPane::List || state.tickets.open.is_none() {
            (crate::state::views::tickets::PER_PAGE as u16 + 5).min(body.height * 3 / 5)
        } else {
            (body.height / 3).max(8)
        };
        let [top, bottom] =
            Layout::vertical([Constraint::Length(list_h), Constraint::Min(6)]).areas(body);
        let customer_w = if body.width >= 150 { 40 } else { 30 };
        let [d, c] =
            Layout::horizontal([Constraint::Min(40), Constraint::Length(customer_w)]).areas(bottom);
        render_pane(state, t, f, top, TicketPane::List);
        render_pane(state, t, f, d, TicketPane::Detail);
        render_pane(state, t, f, c, TicketPane::Customer);
    }
    if state.mode == Mode::Canned {
        crate::ui::views::chats::canned::render(state, t, f, body);
    }
}

fn render_pane(state: &State, t: &Theme, f: &mut Frame, area: Rect, pane: TicketPane) {
    match pane {
        TicketPane::List => list::render(state, t, f, area),
        TicketPane::Detail => detail::render(state, t, f, area),
        TicketPane::Customer => customer::render(state, t, f, area),
    }
}

fn render_tabs(state: &State, t: &Theme, f: &mut Frame, area: Rect) {
    let mut spans = Vec::new();
    for (i, p) in TicketPane::ALL.iter().enumerate() {
        let label = format!(" {} {} ", i + 1, p.title());
        if *p == state.tickets.focus {
            spans.push(Span::styled(format!("[{}]", label.trim()), t.mode));
        } else {
            spans.push(Span::styled(label, t.dim));
        }
        spans.push(Span::raw(" "));
    }
    let hint = match state.tickets.open_ticket() {
        Some(tk) => format!(" Tab/h/l switch · {}", tk.label()),
        None => " Tab/h/l switch".to_owned(),
    };
    spans.push(Span::styled(hint, t.dim));
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// A status in a word with its symbol (never colour alone).
pub fn status_label(s: TicketStatus) -> &'static str {
    match s {
        TicketStatus::Open => "○ open",
        TicketStatus::Pending => "◐ pending",
        TicketStatus::Resolved => "✓ resolved",
        TicketStatus::Closed => "■ closed",
    }
}

pub fn priority_label(p: TicketPriority) -> &'static str {
    match p {
        TicketPriority::Low => "  low",
        TicketPriority::Medium => "  medium",
        TicketPriority::High => "! high",
        TicketPriority::Urgent => "‼ urgent",
    }
}

pub fn priority_style(t: &Theme, p: TicketPriority) -> ratatui::style::Style {
    match p {
        TicketPriority::Low => t.dim,
        TicketPriority::Medium => t.base,
        TicketPriority::High => t.warn,
        TicketPriority::Urgent => t.error,
    }
}

/// The filter and search, for the top bar.
pub fn topbar(state: &State) -> Option<String> {
    let tk = &state.tickets;
    let mut parts = Vec::new();
    if !tk.filter_text.is_empty() {
        parts.push(format!("filter: {}", tk.filter_text));
    }
    if !tk.query.search.is_empty() {
        parts.push(format!("search: {}", tk.query.search));
    }
    if parts.is_empty() {
        None
    } else {
        Some(parts.join(" · "))
    }
}

pub fn hints(state: &State) -> Vec<String> {
    let ctxs = &[KeyContext::View(ViewId::Tickets), KeyContext::Normal];
    let hint = |a: Action, label: &str| state.keymap.hint(ctxs, a).map(|k| format!("{k} {label}"));
    let list = [
        hint(Action::Open, "open"),
        hint(Action::Search, "search"),
        hint(Action::EditFilter, "filter"),
        hint(Action::CycleSort, "sort"),
        hint(Action::NextPage, "next page"),
        hint(Action::Help, "help"),
    ];
    let detail = [
        hint(Action::Compose, "reply"),
        hint(Action::ComposeNote, "note"),
        hint(Action::SetTicketStatus, "status"),
        hint(Action::SetPriority, "priority"),
        hint(Action::Assign, "assign"),
        hint(Action::Close, "close"),
        hint(Action::MarkEntry, "mark"),
        hint(Action::Help, "help"),
    ];
    match state.tickets.focus {
        TicketPane::List => list.into_iter().flatten().collect(),
        _ => detail.into_iter().flatten().collect(),
    }
}
