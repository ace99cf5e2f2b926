//! The status bar: connection and latency, what each view counts (queue, unsent
//! messages), the mode, and key hints for what the agent is doing now.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::Theme;
use super::text::{truncate, width};
use crate::state::{ConnState, Mode, State};
use crate::views;

pub fn conn_label(state: &State) -> String {
    match &state.conn.state {
        ConnState::Idle => "○ not connected".into(),
        ConnState::Connecting { attempt } if *attempt <= 1 => "◌ connecting…".into(),
        ConnState::Connecting { attempt } => format!("◌ reconnecting (try {attempt})"),
        ConnState::Connected => match state.conn.rtt_ms {
            Some(ms) => format!("● online {ms} ms"),
            None => "● online".into(),
        },
        ConnState::Offline { retry_at, .. } => match retry_at {
            Some(at) if *at > state.now => {
                let s = (*at - state.now).whole_seconds().max(1);
                format!("✗ offline · retry in {s}s")
            }
            _ => "✗ offline".into(),
        },
        ConnState::AuthFailed(_) => "⚠ signed out".into(),
    }
}

/// Key hints for the overlays here, else for what the active view is doing.
pub fn hints(state: &State) -> Vec<String> {
    let fixed: &[&str] = match state.mode {
        Mode::Command => &["tab complete", "enter run", "esc cancel"],
        Mode::Picker => &["type to filter", "↑/↓ move", "enter choose", "esc cancel"],
        Mode::Help => &["j/k scroll", "esc close"],
        Mode::Login => &[],
        _ => return views::active(state).hints(state),
    };
    fixed.iter().map(|s| (*s).to_owned()).collect()
}

pub fn render(state: &State, t: &Theme, f: &mut Frame, area: Rect) {
    let conn = conn_label(state);
    let conn_style = match state.conn.state {
        ConnState::Connected => t.bar.patch(t.ok),
        ConnState::Connecting { .. } => t.bar.patch(t.warn),
        _ => t.bar.patch(t.error),
    };
    let mut left = vec![Span::styled(format!(" {conn} "), conn_style)];
    // Every view's counts, whichever is shown: the queue matters everywhere.
    for v in views::all() {
        left.extend(v.status(state, t));
    }
    let mode = Span::styled(format!(" {} ", state.mode.label()), t.mode);
    let used: usize = left.iter().map(|s| width(&s.content)).sum::<usize>() + width(&mode.content);
    let room = (area.width as usize).saturating_sub(used + 1);
    let hint_text = truncate(&format!(" {}", hints(state).join(" · ")), room);
    let gap = room.saturating_sub(width(&hint_text));
    let mut spans = left;
    spans.push(Span::styled(hint_text, t.bar));
    spans.push(Span::styled(" ".repeat(gap + 1), t.bar));
    spans.push(mode);
    f.render_widget(Paragraph::new(Line::from(spans)).style(t.bar), area);
}
