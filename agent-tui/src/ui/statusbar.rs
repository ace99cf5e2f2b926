//! The status bar: connection and latency, queue counts, unsent messages, the mode,
//! and key hints for what the agent is doing now.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::Theme;
use super::text::{truncate, width};
use crate::action::Action;
use crate::keys::KeyContext;
use crate::state::{ConnState, Mode, Pane, State};

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

fn hint(state: &State, ctx: KeyContext, a: Action, label: &str) -> Option<String> {
    state.keymap.hint(ctx, a).map(|k| format!("{k} {label}"))
}

pub fn hints(state: &State) -> Vec<String> {
    let n = KeyContext::Normal;
    let list: Vec<Option<String>> = match state.mode {
        Mode::Insert => {
            let send = if state.enhanced_keys {
                hint(state, KeyContext::Insert, Action::Send, "send")
            } else {
                Some("alt-enter/ctrl-s send".into())
            };
            vec![
                send,
                Some("enter newline".into()),
                hint(state, KeyContext::Insert, Action::ToggleNote, "reply⇄note"),
                hint(state, KeyContext::Insert, Action::Normal, "done"),
            ]
        }
        Mode::Command => vec![
            Some("tab complete".into()),
            Some("enter run".into()),
            Some("esc cancel".into()),
        ],
        Mode::Search => vec![
            Some("type to filter".into()),
            Some("↑/↓ move".into()),
            Some("enter open".into()),
            Some("esc clear".into()),
        ],
        Mode::Picker => vec![
            Some("type to filter".into()),
            Some("↑/↓ move".into()),
            Some("enter choose".into()),
            Some("esc cancel".into()),
        ],
        Mode::Canned => {
            let browsing = state
                .chats
                .canned_picker
                .as_ref()
                .is_some_and(|p| p.browsing);
            let ctx = if browsing {
                KeyContext::CannedBrowse
            } else {
                KeyContext::Canned
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
        Mode::Help => vec![Some("j/k scroll".into()), Some("esc close".into())],
        Mode::Login => vec![],
        Mode::Normal => match state.chats.focus {
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

pub fn render(state: &State, t: &Theme, f: &mut Frame, area: Rect) {
    let conn = conn_label(state);
    let conn_style = match state.conn.state {
        ConnState::Connected => t.bar.patch(t.ok),
        ConnState::Connecting { .. } => t.bar.patch(t.warn),
        _ => t.bar.patch(t.error),
    };
    let waiting = state.chats.queue.totals[0];
    let mine = state.chats.queue.totals[1];
    let unsent = state.chats.outbox.iter().filter(|o| !o.is_failed()).count();
    let failed = state.chats.outbox.iter().filter(|o| o.is_failed()).count();
    let mut left = vec![
        Span::styled(format!(" {conn} "), conn_style),
        Span::styled(format!("│ waiting {waiting} · mine {mine} "), t.bar),
    ];
    if unsent > 0 {
        left.push(Span::styled(
            format!("│ ◷ {unsent} unsent "),
            t.bar.patch(t.warn),
        ));
    }
    if failed > 0 {
        left.push(Span::styled(
            format!("│ ✗ {failed} failed "),
            t.bar.patch(t.error),
        ));
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
