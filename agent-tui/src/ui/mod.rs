//! Drawing: a pure `render(&State, &mut Frame)` that lays out the panes, one file per
//! pane or overlay.

mod canned;
mod chat;
mod cmdline;
mod composer;
mod customer;
mod help;
mod login;
mod picker;
mod queue;
mod statusbar;
#[cfg(test)]
mod tests;
pub mod text;
pub mod theme;
mod topbar;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph};

use crate::state::{Mode, Pane, State};
pub use theme::Theme;

/// Below this width the console shows one pane at a time.
pub const NARROW: u16 = 100;

pub fn render(state: &State, f: &mut Frame) {
    let t = theme::theme(state.theme, state.no_color);
    let area = f.area();
    f.render_widget(Block::new().style(t.base), area);
    if state.mode == Mode::Login {
        login::render(state, &t, f, area);
        return;
    }
    let [top, body, status, cmd] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    topbar::render(state, &t, f, top);
    if area.width < NARROW {
        let [tabs, pane] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(body);
        render_tabs(state, &t, f, tabs);
        render_pane(state, &t, f, pane, state.chats.focus);
    } else {
        let queue_w = if area.width >= 150 { 40 } else { 32 };
        let customer_w = if area.width >= 150 { 36 } else { 28 };
        let [q, c, cu] = Layout::horizontal([
            Constraint::Length(queue_w),
            Constraint::Min(30),
            Constraint::Length(customer_w),
        ])
        .areas(body);
        render_pane(state, &t, f, q, Pane::Queue);
        render_pane(state, &t, f, c, Pane::Chat);
        render_pane(state, &t, f, cu, Pane::Customer);
    }
    statusbar::render(state, &t, f, status);
    cmdline::render(state, &t, f, cmd);
    match state.mode {
        Mode::Help => help::render(state, &t, f, body),
        Mode::Picker => picker::render(state, &t, f, body),
        Mode::Canned => canned::render(state, &t, f, body),
        _ => {}
    }
}

fn render_pane(state: &State, t: &Theme, f: &mut Frame, area: Rect, pane: Pane) {
    match pane {
        Pane::Queue => queue::render(state, t, f, area),
        Pane::Chat => chat::render(state, t, f, area),
        Pane::Customer => customer::render(state, t, f, area),
    }
}

/// The one-pane layout's switcher: which pane shows, and the keys for the others.
fn render_tabs(state: &State, t: &Theme, f: &mut Frame, area: Rect) {
    let mut spans = Vec::new();
    for (i, p) in Pane::ALL.iter().enumerate() {
        let label = format!(" {} {} ", i + 1, p.title());
        if *p == state.chats.focus {
            spans.push(Span::styled(format!("[{}]", label.trim()), t.mode));
        } else {
            spans.push(Span::styled(label, t.dim));
        }
        spans.push(Span::raw(" "));
    }
    let hint = if let Some(e) = state.chats.open_entry() {
        format!(" Tab/h/l switch · chat: {}", e.chat.customer.name)
    } else {
        " Tab/h/l switch".to_owned()
    };
    spans.push(Span::styled(hint, t.dim));
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// A pane's frame: the focused one is drawn with a heavy border and a marker.
pub(crate) fn pane_block<'a>(t: &Theme, title: String, focused: bool) -> Block<'a> {
    let (style, kind, title) = if focused {
        (t.border_focus, BorderType::Thick, format!("▶ {title} "))
    } else {
        (t.border, BorderType::Plain, format!(" {title} "))
    };
    Block::new()
        .borders(Borders::ALL)
        .border_type(kind)
        .border_style(style)
        .title(Span::styled(title, if focused { t.title } else { t.dim }))
}

/// A centred rectangle for overlays.
pub(crate) fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

pub(crate) fn overlay_block<'a>(t: &Theme, title: String) -> Block<'a> {
    Block::new()
        .borders(Borders::ALL)
        .border_type(BorderType::Double)
        .border_style(t.border_focus)
        .title(Span::styled(format!(" {title} "), t.title))
        .style(t.base)
}

pub(crate) fn clear(f: &mut Frame, area: Rect, style: Style) {
    f.render_widget(Clear, area);
    f.render_widget(Block::new().style(style), area);
}
