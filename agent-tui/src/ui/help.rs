//! The `?` overlay, generated from the live keymap and the registered commands (global,
//! then per view) so it can never disagree with what the keys do.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::text::pad;
use super::{Theme, centered, clear, overlay_block};
use crate::state::State;
use crate::update::commands;

/// Every help line as plain text, in order (also what the tests read).
pub fn help_lines(state: &State) -> Vec<(String, HelpKind)> {
    let mut out = Vec::new();
    for b in &state.banner {
        out.push((b.clone(), HelpKind::Text));
    }
    if !state.banner.is_empty() {
        out.push((String::new(), HelpKind::Text));
    }
    for (ctx, rows) in state.keymap.help_entries() {
        out.push((ctx.title().to_owned(), HelpKind::Heading));
        for (keys, action) in rows {
            out.push((format!("{keys}\t{}", action.describe()), HelpKind::Binding));
        }
        out.push((String::new(), HelpKind::Text));
    }
    for (scope, list) in commands::scopes() {
        out.push((
            format!("Commands: {scope} (: then Tab completes)"),
            HelpKind::Heading,
        ));
        for c in list {
            out.push((format!("{}\t{}", c.syntax(), c.help), HelpKind::Binding));
        }
        out.push((String::new(), HelpKind::Text));
    }
    out.push(("Sending".into(), HelpKind::Heading));
    let kitty = if state.enhanced_keys {
        "this terminal reports Ctrl+Enter, so it sends"
    } else {
        "this terminal cannot tell Ctrl+Enter from Enter: use Alt+Enter or Ctrl+S"
    };
    out.push((format!("Ctrl+Enter sends — {kitty}."), HelpKind::Text));
    out.push((
        "Enter always inserts a new line in the composer.".into(),
        HelpKind::Text,
    ));
    out.push((
        "Offline, messages wait in the outbox (◷) and go out in order on reconnect.".into(),
        HelpKind::Text,
    ));
    out.push((
        "Search (/): type to filter, ↑/↓ move, Enter opens, Esc clears.".into(),
        HelpKind::Text,
    ));
    out.push((
        "Command line: Tab / Shift+Tab complete, ↑/↓ history, Ctrl+U clears.".into(),
        HelpKind::Text,
    ));
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelpKind {
    Heading,
    Binding,
    Text,
}

pub fn render(state: &State, t: &Theme, f: &mut Frame, area: Rect) {
    let w = area.width.saturating_sub(4).min(100);
    let h = area.height.saturating_sub(2).max(5);
    let rect = centered(area, w, h);
    clear(f, rect, t.base);
    let block = overlay_block(
        t,
        "Help — keys and commands (Esc closes, j/k scroll)".into(),
    );
    let inner = block.inner(rect);
    f.render_widget(block, rect);
    let key_w = 22.min(inner.width as usize / 3);
    let lines: Vec<Line> = help_lines(state)
        .into_iter()
        .map(|(text, kind)| match kind {
            HelpKind::Heading => Line::from(Span::styled(text, t.accent)),
            HelpKind::Binding => {
                let (k, d) = text.split_once('\t').unwrap_or((&text, ""));
                Line::from(vec![
                    Span::styled(format!("  {}", pad(k, key_w)), t.title),
                    Span::styled(format!(" {d}"), t.base),
                ])
            }
            HelpKind::Text => Line::from(Span::styled(format!("  {text}"), t.dim)),
        })
        .collect();
    let max_scroll = lines.len().saturating_sub(inner.height as usize) as u16;
    f.render_widget(
        Paragraph::new(lines).scroll((state.help_scroll.min(max_scroll), 0)),
        inner,
    );
}
