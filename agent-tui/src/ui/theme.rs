//! Colours and text styles for the dark, light and high-contrast themes, and the
//! monochrome fallback for `NO_COLOR`. Colour is never the only signal: every
//! status also has a symbol or a word, drawn by the panes.

use ratatui::style::{Color, Modifier, Style};
use shared::model::AgentStatus;

use crate::state::ThemeName;

#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub base: Style,
    pub dim: Style,
    pub title: Style,
    pub border: Style,
    pub border_focus: Style,
    pub selected: Style,
    pub customer: Style,
    pub agent: Style,
    pub note: Style,
    pub system: Style,
    pub ok: Style,
    pub warn: Style,
    pub error: Style,
    pub badge: Style,
    pub bar: Style,
    pub accent: Style,
    pub mode: Style,
}

pub fn theme(name: ThemeName, no_color: bool) -> Theme {
    if no_color {
        return mono();
    }
    match name {
        ThemeName::Dark => dark(),
        ThemeName::Light => light(),
        ThemeName::HighContrast => high_contrast(),
    }
}

fn fg(c: Color) -> Style {
    Style::new().fg(c)
}

fn dark() -> Theme {
    Theme {
        base: Style::new(),
        dim: fg(Color::Gray).add_modifier(Modifier::DIM),
        title: fg(Color::White).add_modifier(Modifier::BOLD),
        border: fg(Color::DarkGray),
        border_focus: fg(Color::Cyan).add_modifier(Modifier::BOLD),
        selected: Style::new()
            .bg(Color::Rgb(40, 52, 72))
            .add_modifier(Modifier::BOLD),
        customer: fg(Color::LightBlue),
        agent: fg(Color::LightGreen),
        note: fg(Color::Yellow).add_modifier(Modifier::ITALIC),
        system: fg(Color::Gray).add_modifier(Modifier::ITALIC),
        ok: fg(Color::Green),
        warn: fg(Color::Yellow),
        error: fg(Color::LightRed).add_modifier(Modifier::BOLD),
        badge: Style::new()
            .fg(Color::Black)
            .bg(Color::LightMagenta)
            .add_modifier(Modifier::BOLD),
        bar: Style::new().fg(Color::White).bg(Color::Rgb(30, 34, 42)),
        accent: fg(Color::Cyan).add_modifier(Modifier::BOLD),
        mode: Style::new()
            .fg(Color::Black)
            .bg(Color::Cyan)
            .add_modifier(Modifier::BOLD),
    }
}

fn light() -> Theme {
    let bg = Color::Rgb(250, 250, 247);
    Theme {
        base: Style::new().fg(Color::Rgb(30, 30, 30)).bg(bg),
        dim: fg(Color::Rgb(110, 110, 110)),
        title: fg(Color::Black).add_modifier(Modifier::BOLD),
        border: fg(Color::Rgb(170, 170, 170)),
        border_focus: fg(Color::Rgb(0, 95, 175)).add_modifier(Modifier::BOLD),
        selected: Style::new()
            .bg(Color::Rgb(215, 230, 250))
            .add_modifier(Modifier::BOLD),
        customer: fg(Color::Rgb(0, 80, 170)),
        agent: fg(Color::Rgb(0, 120, 50)),
        note: fg(Color::Rgb(150, 90, 0)).add_modifier(Modifier::ITALIC),
        system: fg(Color::Rgb(100, 100, 100)).add_modifier(Modifier::ITALIC),
        ok: fg(Color::Rgb(0, 130, 40)),
        warn: fg(Color::Rgb(170, 100, 0)),
        error: fg(Color::Rgb(190, 0, 0)).add_modifier(Modifier::BOLD),
        badge: Style::new()
            .fg(Color::White)
            .bg(Color::Rgb(160, 0, 120))
            .add_modifier(Modifier::BOLD),
        bar: Style::new().fg(Color::Black).bg(Color::Rgb(225, 228, 235)),
        accent: fg(Color::Rgb(0, 95, 175)).add_modifier(Modifier::BOLD),
        mode: Style::new()
            .fg(Color::White)
            .bg(Color::Rgb(0, 95, 175))
            .add_modifier(Modifier::BOLD),
    }
}

fn high_contrast() -> Theme {
    Theme {
        base: Style::new().fg(Color::White).bg(Color::Black),
        dim: fg(Color::White),
        title: fg(Color::White).add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
        border: fg(Color::White),
        border_focus: fg(Color::Yellow).add_modifier(Modifier::BOLD),
        selected: Style::new()
            .fg(Color::Black)
            .bg(Color::Yellow)
            .add_modifier(Modifier::BOLD),
        customer: fg(Color::LightCyan).add_modifier(Modifier::BOLD),
        agent: fg(Color::LightGreen).add_modifier(Modifier::BOLD),
        note: fg(Color::Yellow).add_modifier(Modifier::BOLD | Modifier::ITALIC),
        system: fg(Color::White).add_modifier(Modifier::ITALIC),
        ok: fg(Color::LightGreen).add_modifier(Modifier::BOLD),
        warn: fg(Color::Yellow).add_modifier(Modifier::BOLD),
        error: fg(Color::LightRed).add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
        badge: Style::new()
            .fg(Color::Black)
            .bg(Color::White)
            .add_modifier(Modifier::BOLD),
        bar: Style::new().fg(Color::Black).bg(Color::White),
        accent: fg(Color::Yellow).add_modifier(Modifier::BOLD),
        mode: Style::new()
            .fg(Color::Black)
            .bg(Color::Yellow)
            .add_modifier(Modifier::BOLD),
    }
}

/// `NO_COLOR`: only bold, dim, italic, underline and reverse.
fn mono() -> Theme {
    let m = |x: Modifier| Style::new().add_modifier(x);
    Theme {
        base: Style::new(),
        dim: m(Modifier::DIM),
        title: m(Modifier::BOLD),
        border: Style::new(),
        border_focus: m(Modifier::BOLD),
        selected: m(Modifier::REVERSED),
        customer: Style::new(),
        agent: m(Modifier::BOLD),
        note: m(Modifier::ITALIC),
        system: m(Modifier::DIM | Modifier::ITALIC),
        ok: Style::new(),
        warn: m(Modifier::BOLD),
        error: m(Modifier::BOLD | Modifier::UNDERLINED),
        badge: m(Modifier::REVERSED),
        bar: m(Modifier::REVERSED),
        accent: m(Modifier::BOLD),
        mode: m(Modifier::BOLD | Modifier::REVERSED),
    }
}

/// A one-cell symbol per presence status, always drawn next to its name.
pub fn status_symbol(s: AgentStatus) -> &'static str {
    match s {
        AgentStatus::Online => "●",
        AgentStatus::Away => "◐",
        AgentStatus::Busy => "◉",
        AgentStatus::Dnd => "⊘",
        AgentStatus::InMeeting => "◑",
        AgentStatus::OnLeave => "○",
        AgentStatus::Offline => "○",
    }
}

pub fn status_style(t: &Theme, s: AgentStatus) -> Style {
    match s {
        AgentStatus::Online => t.ok,
        AgentStatus::Away | AgentStatus::InMeeting | AgentStatus::Busy => t.warn,
        AgentStatus::Dnd => t.error,
        AgentStatus::OnLeave | AgentStatus::Offline => t.dim,
    }
}
