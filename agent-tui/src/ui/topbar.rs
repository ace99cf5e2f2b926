//! The top bar: product, view, notifications, and the agent's own status.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::Theme;
use super::text::width;
use super::theme::{status_style, status_symbol};
use crate::state::State;

pub fn render(state: &State, t: &Theme, f: &mut Frame, area: Rect) {
    let mut left = vec![
        Span::styled(
            " ◆ Agent Panel ",
            t.bar.add_modifier(ratatui::style::Modifier::BOLD),
        ),
        Span::styled("│ Chats ", t.bar),
    ];
    let q = &state.chats.queue;
    if q.filter.is_active() {
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
        left.push(Span::styled(
            format!("│ filter: {} ", parts.join(", ")),
            t.bar,
        ));
    }
    let unseen = state.notifications.unread();
    let notif = if unseen > 0 {
        format!(" ⚑ {unseen} new ")
    } else {
        " ⚑ 0 ".to_owned()
    };
    let mut right = vec![Span::styled(
        notif,
        if unseen > 0 { t.badge } else { t.bar },
    )];
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
    let lw: usize = left.iter().map(|s| width(&s.content)).sum();
    let rw: usize = right.iter().map(|s| width(&s.content)).sum();
    let gap = (area.width as usize).saturating_sub(lw + rw);
    let mut spans = left;
    spans.push(Span::styled(" ".repeat(gap), t.bar));
    spans.extend(right);
    f.render_widget(Paragraph::new(Line::from(spans)).style(t.bar), area);
}
