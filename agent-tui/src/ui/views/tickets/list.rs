//! The ticket list on screen: the filter, sort and page line (and why a filter was
//! refused), then one row per ticket — number, subject, customer, status, priority,
//! assignee, due date (`⚠` when overdue), last update — with unread marked `●`.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use shared::ticket::{Ticket, TicketStatus};
use time::OffsetDateTime;

use super::{priority_label, priority_style, status_label};
use crate::state::State;
use crate::state::views::tickets::TicketPane;
use crate::ui::text::{fmt_time, fmt_wait, truncate};
use crate::ui::{Theme, pane_block};

/// Whether a ticket is late: due in the past and still someone's to act on.
pub fn overdue(t: &Ticket, now: OffsetDateTime) -> bool {
    matches!(t.status, TicketStatus::Open | TicketStatus::Pending)
        && t.due_at.is_some_and(|d| d < now)
}

/// `⚠ 3h late`, or the due time.
pub fn due_text(state: &State, t: &Ticket) -> String {
    match t.due_at {
        None => "—".into(),
        Some(d) if overdue(t, state.now) => format!("⚠ {} late", fmt_wait(state.now - d)),
        Some(d) => fmt_time(d, state.now, state.utc_offset),
    }
}

/// A cell: the text cut to the column, then one space before the next column.
fn pad(s: &str, w: usize) -> String {
    if w == 0 {
        return String::new();
    }
    format!("{} ", crate::ui::text::pad(s, w - 1))
}

struct Cols {
    number: usize,
    subject: usize,
    customer: usize,
    status: usize,
    priority: usize,
    assignee: usize,
    due: usize,
    updated: usize,
}

fn columns(w: usize) -> Cols {
    // Two columns of marks (selection, unread) come first.
    let wide = w >= 120;
    let mut c = Cols {
        number: 7,
        subject: 0,
        customer: if wide { 20 } else { 13 },
        status: 11,
        priority: 9,
        assignee: if wide { 16 } else { 0 },
        due: if wide { 14 } else { 13 },
        updated: if wide { 13 } else { 0 },
    };
    let fixed = 2 + c.number + c.customer + c.status + c.priority + c.assignee + c.due + c.updated;
    c.subject = w.saturating_sub(fixed).max(8);
    c
}

pub fn render(state: &State, t: &Theme, f: &mut Frame, area: Rect) {
    let tk = &state.tickets;
    let focused = tk.focus == TicketPane::List;
    let title = if tk.total > 0 {
        format!("Tickets ({})", tk.total)
    } else {
        "Tickets".to_owned()
    };
    let block = pane_block(t, title, focused);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let w = inner.width as usize;
    let h = inner.height as usize;
    if h == 0 || w < 20 {
        return;
    }
    let mut lines: Vec<Line> = Vec::with_capacity(h);
    // The line that says what the list shows.
    let filter = if tk.filter_text.is_empty() {
        "all (not spam, not merged)".to_owned()
    } else {
        tk.filter_text.clone()
    };
    let mut head = vec![
        Span::styled("filter ", t.dim),
        Span::styled(filter, t.accent),
        Span::styled(format!(" · sort {}", tk.query.sort.as_str()), t.dim),
        Span::styled(
            format!(" · page {}/{}", tk.query.page.max(1), tk.pages()),
            t.dim,
        ),
    ];
    if !tk.query.search.is_empty() {
        head.push(Span::styled(
            format!(" · search “{}”", tk.query.search),
            t.dim,
        ));
    }
    if state.mode == crate::state::Mode::Search || !tk.search_input.is_empty() {
        head.push(Span::styled(" / ", t.accent));
        head.push(Span::raw(tk.search_input.clone()));
        if state.mode == crate::state::Mode::Search {
            head.push(Span::styled("█", t.accent));
        }
    }
    if tk.loading {
        head.push(Span::styled(" · loading…", t.dim));
    }
    lines.push(Line::from(head));
    if let Some(e) = &tk.filter_error {
        lines.push(Line::from(Span::styled(
            truncate(&format!("✗ filter refused: {e}"), w),
            t.error,
        )));
    }
    let c = columns(w);
    let mut header = format!(
        "  {}{}{}{}{}",
        pad("#", c.number),
        pad("Subject", c.subject),
        pad("Customer", c.customer),
        pad("Status", c.status),
        pad("Priority", c.priority),
    );
    if c.assignee > 0 {
        header.push_str(&pad("Assignee", c.assignee));
    }
    header.push_str(&pad("Due", c.due));
    if c.updated > 0 {
        header.push_str(&pad("Updated", c.updated));
    }
    lines.push(Line::from(Span::styled(
        header,
        t.dim.add_modifier(Modifier::BOLD),
    )));
    let rows = tk.rows();
    if rows.is_empty() {
        let text = if tk.loading {
            "Loading tickets…"
        } else if tk.query.filter.is_empty() && tk.query.search.is_empty() {
            "No tickets yet. :ticket new <email> <subject> opens one; :ticket in a chat turns it into one."
        } else {
            "No ticket matches. Esc clears the search, then the filter."
        };
        lines.push(Line::from(Span::styled(truncate(text, w), t.dim)));
        f.render_widget(Paragraph::new(lines), inner);
        return;
    }
    let room = h.saturating_sub(lines.len()).max(1);
    let sel = tk
        .selected
        .as_ref()
        .and_then(|id| rows.iter().position(|t| &t.id == id))
        .unwrap_or(0);
    let offset = sel.saturating_sub(room - 1);
    for (i, tkt) in rows.iter().enumerate().skip(offset).take(room) {
        lines.push(row(state, t, tkt, i == sel, &c));
    }
    f.render_widget(Paragraph::new(lines), inner);
}

fn row<'a>(state: &State, t: &Theme, tk: &Ticket, selected: bool, c: &Cols) -> Line<'a> {
    let base = if selected { t.selected } else { t.base };
    let unread = state.tickets.unread.contains(&tk.id);
    let mut spans = Vec::with_capacity(12);
    spans.push(Span::styled(if selected { "▶" } else { " " }, base));
    spans.push(Span::styled(
        if unread { "●" } else { " " },
        base.patch(t.badge),
    ));
    spans.push(Span::styled(pad(&tk.label(), c.number), base.patch(t.dim)));
    let subj_style = if unread {
        base.add_modifier(Modifier::BOLD)
    } else {
        base
    };
    spans.push(Span::styled(pad(&tk.subject, c.subject), subj_style));
    spans.push(Span::styled(pad(&tk.customer.name, c.customer), base));
    spans.push(Span::styled(pad(status_label(tk.status), c.status), base));
    spans.push(Span::styled(
        pad(priority_label(tk.priority), c.priority),
        base.patch(priority_style(t, tk.priority)),
    ));
    if c.assignee > 0 {
        let who = match &tk.assignee_id {
            Some(id) => state.agent_name(id).unwrap_or("someone").to_owned(),
            None => "unassigned".to_owned(),
        };
        let style = if tk.assignee_id.is_none() {
            base.patch(t.dim)
        } else {
            base
        };
        spans.push(Span::styled(pad(&who, c.assignee), style));
    }
    let late = overdue(tk, state.now);
    spans.push(Span::styled(
        pad(&due_text(state, tk), c.due),
        if late { base.patch(t.error) } else { base },
    ));
    if c.updated > 0 {
        spans.push(Span::styled(
            pad(
                &fmt_time(tk.updated_at, state.now, state.utc_offset),
                c.updated,
            ),
            base.patch(t.dim),
        ));
    }
    Line::from(spans)
}
