//! The picker overlay (transfer target, status, notifications): a filter line and a
//! list where each entry carries its status in words, not colour alone.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::text::{pad, truncate, width};
use super::{Theme, centered, clear, overlay_block};
use crate::state::State;

pub fn render(state: &State, t: &Theme, f: &mut Frame, area: Rect) {
    let Some(p) = &state.picker else {
        return;
    };
    let visible = p.visible();
    let w = area.width.saturating_sub(4).min(76);
    let h = (visible.len() as u16 + 4).clamp(6, area.height.saturating_sub(2).max(6));
    let rect = centered(area, w, h);
    clear(f, rect, t.base);
    let block = overlay_block(t, p.title.clone());
    let inner = block.inner(rect);
    f.render_widget(block, rect);
    let iw = inner.width as usize;
    let mut lines = vec![Line::from(vec![
        Span::styled("› ", t.accent),
        Span::raw(p.query.clone()),
        Span::styled("█", t.accent),
        Span::styled(format!("  {} of {}", visible.len(), p.items.len()), t.dim),
    ])];
    let rows = (inner.height as usize).saturating_sub(1);
    if visible.is_empty() {
        lines.push(Line::from(Span::styled("  nothing matches", t.dim)));
    }
    let offset = p.selected.saturating_sub(rows.saturating_sub(1));
    for (i, it) in visible.iter().enumerate().skip(offset).take(rows) {
        let sel = i == p.selected;
        let style = if sel { t.selected } else { t.base };
        let marker = if sel { "▶ " } else { "  " };
        let badge = it
            .badge
            .clone()
            .map(|b| format!(" [{b}]"))
            .unwrap_or_default();
        let label_w = (iw / 2).max(12);
        let label = pad(&format!("{marker}{}", it.label), label_w.min(iw));
        let rest_w = iw.saturating_sub(width(&label));
        let rest = truncate(&format!("{badge} {}", it.detail), rest_w);
        let pad_w = rest_w.saturating_sub(width(&rest));
        lines.push(Line::from(vec![
            Span::styled(label, style),
            Span::styled(rest, style.patch(t.dim)),
            Span::styled(" ".repeat(pad_w), style),
        ]));
    }
    f.render_widget(Paragraph::new(lines), inner);
}
