//! Drawing: a pure `render(&State, &mut Frame)`: the bars and overlays here, the
//! body by the active view (`views/`, one module per view).

mod cmdline;
mod help;
mod login;
mod picker;
mod statusbar;
#[cfg(test)]
mod tests;
pub mod text;
pub mod theme;
mod topbar;
pub mod views;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::Span;
use ratatui::widgets::{Block, BorderType, Borders, Clear};

use crate::state::{Mode, State};
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
    crate::views::active(state).render(state, &t, f, body);
    statusbar::render(state, &t, f, status);
    cmdline::render(state, &t, f, cmd);
    match state.mode {
        Mode::Help => help::render(state, &t, f, body),
        Mode::Picker => picker::render(state, &t, f, body),
        _ => {}
    }
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
