//! The top bar: product, the view tabs (the active one in brackets, bold and
//! underlined; counts such as unread notifications), what the view adds (the queue
//! filter), and the agent's own status.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::Theme;
use super::text::width;
use super::theme::{status_style, status_symbol};
use crate::state::State;
use crate::views;

pub fn render(state: &State, t: &Theme, f: &mut Frame, area: Rect) {
    let right = me_spans(state, t);
    let rw: usize = right.iter().map(|s| width(&s.content)).sum();
    let mut left = tabs(state, t, false);
    if left.iter().map(|s| width(&s.content)).sum::<usize>() + rw > area.width as usize {
        // Short of room: the other views by their short names.
        left = tabs(state, t, true);
    }
    let lw: usize = left.iter().map(|s| width(&s.content)).sum();
    let gap = (area.width as usize).saturating_sub(lw + rw);
    let mut spans = left;
    spans.push(Span::styled(" ".repeat(gap), t.bar));
    spans.extend(right);
    f.render_widget(Paragraph::new(Line::from(spans)).style(t.bar), area);
}

fn tabs<'a>(state: &'a State, t: &Theme, short: bool) -> Vec<Span<'a>> {
    let mut left = vec![
        Span::styled(" ◆ Agent Panel ", t.bar.add_modifier(Modifier::BOLD)),
        Span::styled("│ ", t.bar),
    ];
    for v in views::all() {
        let title = if short && v.id() != state.view {
            v.id().short_title()
        } else {
            v.id().title()
        };
        if v.id() == state.view {
            left.push(Span::styled(
                format!("[{title}]"),
                t.bar.add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            ));
        } else {
            left.push(Span::styled(title, t.bar));
        }
        if let Some(n) = v.badge(state).filter(|n| *n > 0) {
            left.push(Span::styled(format!(" ⚑{n}"), t.badge));
        }
        left.push(Span::styled(" ", t.bar));
    }
    if let Some(extra) = views::active(state).topbar(state) {
        left.push(Span::styled(format!("│ {extra} "), t.bar));
    }
    left
}

fn me_spans<'a>(state: &'a State, t: &Theme) -> Vec<Span<'a>> {
    let mut right = Vec::new();
    if let Some(me) = state.me() {
        right.push(Span::styled(format!(" {} ", me.name), t.bar));
        right.push(Span::styled(
            format!(
                "{} {} ",
                status_symbol(me.status),
                me.status.as_str().replace('_', " ")
            ),
            t.bar.patch(status_style(t, me.status)),
        ));
    }
    right
}
