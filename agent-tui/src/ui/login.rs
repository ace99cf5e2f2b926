//! The sign-in screen: server, e-mail, hidden password, remember me, and the
//! server's answer shown in place.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::text::{pad, truncate};
use super::{Theme, centered, overlay_block};
use crate::state::{LoginField, State};

pub fn render(state: &State, t: &Theme, f: &mut Frame, area: Rect) {
    let rect = centered(area, 64, 16);
    let block = overlay_block(t, "Agent Panel — sign in".into());
    let inner = block.inner(rect);
    f.render_widget(block, rect);
    let l = &state.login;
    let fw = (inner.width as usize).saturating_sub(14).max(8);
    let field = |name: &str, value: String, which: LoginField| {
        let active = l.field == which;
        let marker = if active { "▶ " } else { "  " };
        let shown = if active {
            format!("{}█", truncate(&value, fw.saturating_sub(1)))
        } else {
            truncate(&value, fw)
        };
        Line::from(vec![
            Span::styled(
                format!("{marker}{name:<10}"),
                if active { t.accent } else { t.dim },
            ),
            Span::styled(
                pad(&shown, fw),
                if active {
                    t.selected
                } else {
                    t.base.add_modifier(Modifier::UNDERLINED)
                },
            ),
        ])
    };
    let masked = "•".repeat(l.password.chars().count());
    let remember_active = l.field == LoginField::Remember;
    let mut lines = vec![
        Line::from(Span::styled("Sign in with your agent account.", t.dim)),
        Line::default(),
        field("Server", l.server.clone(), LoginField::Server),
        Line::default(),
        field("E-mail", l.email.clone(), LoginField::Email),
        Line::default(),
        field("Password", masked, LoginField::Password),
        Line::default(),
        Line::from(vec![
            Span::styled(if remember_active { "▶ " } else { "  " }, t.accent),
            Span::styled(
                format!(
                    "[{}] Remember me for 30 days",
                    if l.remember { "x" } else { " " }
                ),
                if remember_active { t.selected } else { t.base },
            ),
        ]),
        Line::default(),
    ];
    if l.busy {
        lines.push(Line::from(Span::styled("◌ signing in…", t.warn)));
    } else if let Some(e) = &l.error {
        lines.push(Line::from(Span::styled(format!("✗ {e}"), t.error)));
    } else {
        lines.push(Line::default());
    }
    lines.push(Line::from(Span::styled(
        "Tab next field · Space toggles · Enter signs in · Ctrl+C quits",
        t.dim,
    )));
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
