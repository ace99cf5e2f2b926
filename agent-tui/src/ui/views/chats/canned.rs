//! The canned-response picker: the search line, the matching responses (scope and
//! category in words) and a preview of the selected one with its variables filled in.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use shared::canned::CannedScope;

use crate::state::State;
use crate::ui::text::{pad, truncate, width, wrap};
use crate::ui::{Theme, centered, clear, overlay_block};

pub fn render(state: &State, t: &Theme, f: &mut Frame, area: Rect) {
    let Some(p) = &state.chats.canned_picker else {
        return;
    };
    let visible = state.canned_visible();
    let w = area.width.saturating_sub(2).min(100);
    let h = area.height.saturating_sub(1).max(8);
    let rect = centered(area, w, h);
    clear(f, rect, t.base);
    let block = overlay_block(t, "Canned responses".into());
    let inner = block.inner(rect);
    f.render_widget(block, rect);
    let iw = inner.width as usize;
    let ih = inner.height as usize;

    let count = format!("  {} of {}", visible.len(), state.chats.canned.len());
    let mut lines = vec![if p.browsing {
        Line::from(vec![
            Span::styled("/ ", t.dim),
            Span::styled(p.query.clone(), t.dim),
            Span::styled(count, t.dim),
            Span::styled("  browsing: j/k move, Tab searches", t.dim),
        ])
    } else {
        Line::from(vec![
            Span::styled("/ ", t.accent),
            Span::raw(p.query.clone()),
            Span::styled("█", t.accent),
            Span::styled(count, t.dim),
        ])
    }];

    if state.chats.canned.is_empty() {
        lines.push(Line::from(Span::styled(
            "  No canned responses yet. Write one in the composer, then",
            t.dim,
        )));
        lines.push(Line::from(Span::styled(
            "  :canned add <shortcut> <title…> saves it.",
            t.dim,
        )));
        f.render_widget(Paragraph::new(lines), inner);
        return;
    }

    // The list takes up to half of the space; the preview gets the rest.
    let rows = visible.len().clamp(1, (ih.saturating_sub(3) / 2).max(1));
    if visible.is_empty() {
        lines.push(Line::from(Span::styled("  nothing matches", t.dim)));
    }
    let offset = p.selected.saturating_sub(rows.saturating_sub(1));
    let me = state.my_id().unwrap_or_default();
    for (i, c) in visible.iter().enumerate().skip(offset).take(rows) {
        let sel = i == p.selected;
        let style = if sel { t.selected } else { t.base };
        let marker = if sel { "▶ " } else { "  " };
        let scope = match c.scope {
            CannedScope::Team => "team",
            CannedScope::Personal if c.owner_id == me => "mine",
            CannedScope::Personal => "personal",
        };
        let tail = match &c.category {
            Some(cat) => format!(" {scope} · {cat}"),
            None => format!(" {scope}"),
        };
        let tail = truncate(&tail, iw / 3);
        let key_w = 18.min(iw / 3);
        let key = pad(&format!("{marker}/{}", c.shortcut), key_w);
        let title_w = iw.saturating_sub(key_w + width(&tail));
        let title = pad(&format!(" {}", c.title), title_w);
        lines.push(Line::from(vec![
            Span::styled(key, style.patch(t.accent)),
            Span::styled(title, style),
            Span::styled(tail, style.patch(t.dim)),
        ]));
    }
    for _ in visible.len().max(1)..rows {
        lines.push(Line::from(""));
    }

    let Some(sel) = visible.get(p.selected) else {
        f.render_widget(Paragraph::new(lines), inner);
        return;
    };
    let who = state
        .chats
        .open_entry()
        .map(|e| format!(" Preview for {} ", e.chat.customer.name))
        .unwrap_or_else(|| " Preview ".to_owned());
    let rule = format!("──{}", truncate(&who, iw.saturating_sub(2)));
    let rule_w = width(&rule);
    lines.push(Line::from(Span::styled(
        format!("{rule}{}", "─".repeat(iw.saturating_sub(rule_w))),
        t.border,
    )));
    let room = ih.saturating_sub(lines.len());
    let preview = wrap(&state.canned_text(sel), iw.saturating_sub(1));
    let cut = preview.len() > room;
    for (i, l) in preview.into_iter().take(room).enumerate() {
        let l = if cut && i + 1 == room {
            format!("{} …", truncate(&l, iw.saturating_sub(3)))
        } else {
            l
        };
        lines.push(Line::from(Span::raw(format!(" {l}"))));
    }
    f.render_widget(Paragraph::new(lines), inner);
}
