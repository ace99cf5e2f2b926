//! The last line: the command line, the search prompt, completions, or the latest
//! message for the agent.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::Theme;
use super::text::{truncate, width};
use crate::keys::seq_to_string;
use crate::state::{FlashLevel, Mode, State};

pub fn render(state: &State, t: &Theme, f: &mut Frame, area: Rect) {
    let w = area.width as usize;
    let line = match state.mode {
        Mode::Command => {
            let cl = &state.command;
            let mut spans = vec![
                Span::styled(":", t.accent),
                Span::raw(cl.input.clone()),
                Span::styled("█", t.accent),
            ];
            // Say which chat a chat command will act on, before Enter.
            let word = cl.input.split_whitespace().next().unwrap_or("");
            let targets_chat =
                crate::update::commands::find(state, word).is_some_and(|c| c.targets_chat);
            if cl.completions.len() <= 1
                && targets_chat
                && let Some(e) = state
                    .chats
                    .target_chat()
                    .and_then(|id| state.chats.entries.get(&id))
            {
                let used = width(&cl.input) + 3;
                spans.push(Span::styled(
                    truncate(
                        &format!("   → {} ({})", e.chat.customer.name, e.chat.status.as_str()),
                        w.saturating_sub(used),
                    ),
                    t.dim,
                ));
            }
            if cl.completions.len() > 1 {
                let used = width(&cl.input) + 3;
                let opts: Vec<String> = cl
                    .completions
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        let word = c.rsplit_once(' ').map_or(c.as_str(), |(_, w)| w);
                        if Some(i) == cl.completion_idx {
                            format!("[{word}]")
                        } else {
                            word.to_owned()
                        }
                    })
                    .collect();
                spans.push(Span::styled(
                    truncate(&format!("  {}", opts.join(" ")), w.saturating_sub(used)),
                    t.dim,
                ));
            }
            Line::from(spans)
        }
        Mode::Search => Line::from(vec![
            Span::styled("/", t.accent),
            Span::raw(state.chats.queue.filter.text.clone()),
            Span::styled("█", t.accent),
            Span::styled(format!("  {} match(es)", state.chats.queue.len()), t.dim),
        ]),
        _ => {
            if !state.pending_keys.is_empty() {
                Line::from(Span::styled(
                    format!("{} …", seq_to_string(&state.pending_keys)),
                    t.dim,
                ))
            } else if let Some(fl) = &state.flash {
                let (icon, style) = match fl.level {
                    FlashLevel::Info => ("ℹ", t.base),
                    FlashLevel::Warn => ("⚠", t.warn),
                    FlashLevel::Error => ("✗", t.error),
                };
                Line::from(Span::styled(
                    truncate(&format!("{icon} {}", fl.text), w),
                    style,
                ))
            } else {
                Line::default()
            }
        }
    };
    f.render_widget(Paragraph::new(line), area);
}
