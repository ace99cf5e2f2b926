//! The customer of the open ticket: their fields (editable with `:customer`), their
//! other tickets, and the team's internal notes about them (`:cnote`).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::status_label;
use crate::state::State;
use crate::state::views::tickets::{CustomerCard, TicketPane};
use crate::ui::text::truncate;
use crate::ui::{Theme, pane_block};

pub fn render(state: &State, t: &Theme, f: &mut Frame, area: Rect) {
    let tk = &state.tickets;
    let focused = tk.focus == TicketPane::Customer;
    let block = pane_block(t, "Customer".into(), focused);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let w = inner.width as usize;
    let Some(ticket) = tk.open_ticket() else {
        f.render_widget(
            Paragraph::new(Line::from(Span::styled("No ticket open.", t.dim))),
            inner,
        );
        return;
    };
    let c = &ticket.customer;
    let mut lines = vec![Line::from(Span::styled(truncate(&c.name, w), t.title))];
    let mut kv = |k: &str, v: Option<&str>| {
        lines.push(Line::from(vec![
            Span::styled(format!("{k:<9}"), t.dim),
            Span::styled(
                truncate(
                    v.filter(|v| !v.is_empty()).unwrap_or("—"),
                    w.saturating_sub(9),
                ),
                t.base,
            ),
        ]));
    };
    kv("email", c.email.as_deref());
    kv("phone", c.phone.as_deref());
    kv("location", c.location.as_deref());
    let tags = c.tags.join(", ");
    kv("tags", Some(&tags));
    for (k, v) in &c.custom_fields {
        kv(k, Some(v));
    }
    if c.blocked {
        lines.push(Line::from(Span::styled("⛔ blocked", t.error)));
    }
    if let Some(card) = tk.customers.get(&c.id) {
        customer_card(state, t, card, Some(&ticket.id), w, &mut lines);
    }
    if focused {
        lines.push(Line::default());
        lines.push(Line::from(Span::styled(
            ":customer phone|email|location|name|tags|field … edits · :cnote adds a note",
            t.dim,
        )));
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

/// The customer's tickets (the one shown marked `▸`) and the team's notes about them,
/// numbered for `:cnote rm N`; shared with the Chats view's customer pane.
pub fn customer_card<'a>(
    state: &State,
    t: &Theme,
    card: &CustomerCard,
    here: Option<&str>,
    w: usize,
    lines: &mut Vec<Line<'a>>,
) {
    lines.push(Line::default());
    lines.push(Line::from(Span::styled(
        format!("Tickets ({})", card.tickets.len()),
        t.title,
    )));
    for other in card.tickets.iter().take(8) {
        let mark = if Some(other.id.as_str()) == here {
            "▸"
        } else {
            " "
        };
        let status = other.status.map(status_label).unwrap_or("");
        lines.push(Line::from(Span::styled(
            truncate(
                &format!("{mark}#{} {status} {}", other.number, other.subject),
                w,
            ),
            t.base,
        )));
    }
    lines.push(Line::default());
    lines.push(Line::from(Span::styled(
        format!("Notes ({}) · internal", card.notes.len()),
        t.title,
    )));
    for (i, n) in card.notes.iter().enumerate() {
        lines.push(Line::from(vec![
            Span::styled(format!("{}. ", i + 1), t.dim),
            Span::styled(n.body.replace('\n', " "), t.note),
        ]));
        let when = n
            .created_at
            .map(|at| crate::ui::text::fmt_time(at, state.now, state.utc_offset))
            .unwrap_or_default();
        lines.push(Line::from(Span::styled(
            truncate(&format!("   — {} {when}", n.author_name), w),
            t.dim,
        )));
    }
}
