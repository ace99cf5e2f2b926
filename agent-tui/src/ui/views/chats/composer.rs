//! The composer under the chat: a multi-line editor whose frame always says whether
//! the text goes to the visitor (REPLY) or stays with the team (NOTE).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Paragraph};

use crate::action::Action;
use crate::keys::KeyContext;
use crate::net::files::file_size;
use crate::state::{ChatEntry, ComposeKind, Mode, State};
use crate::ui::Theme;
use crate::ui::text::{truncate, width};

/// Rows for the composer: its text plus the frame, between 3 and 8, and never more
/// than half the pane.
pub fn height(state: &State, avail: u16) -> u16 {
    let lines = state.chats.composer.textarea.lines().len() as u16;
    (lines + 2).clamp(3, 8).min((avail / 2).max(3))
}

/// The files staged for (and uploading to) the open chat's next message, as one
/// line of chips above the composer; `None` when there are none.
pub fn chips_line(state: &State, t: &Theme, chat_id: &str, w: usize) -> Option<Line<'static>> {
    let staged = state.chats.composer.staged_for(chat_id);
    let uploading: Vec<&str> = state.chats.composer.uploading_for(chat_id).collect();
    if staged.is_empty() && uploading.is_empty() {
        return None;
    }
    let mut spans = Vec::new();
    let mut used = 0;
    let mut push = |spans: &mut Vec<Span<'static>>, text: String, style| {
        used += width(&text);
        spans.push(Span::styled(text, style));
    };
    for a in staged {
        push(&mut spans, "📎 ".into(), t.accent);
        push(
            &mut spans,
            format!("{} {}  ", truncate(&a.name, 30), file_size(a.size)),
            t.base,
        );
    }
    for p in uploading {
        let name = p.rsplit(['/', '\\']).next().unwrap_or(p);
        push(
            &mut spans,
            format!("⇡ {} uploading…  ", truncate(name, 30)),
            t.dim,
        );
    }
    let hint = ":detach removes";
    if used + width(hint) <= w {
        spans.push(Span::styled(hint, t.dim));
    }
    Some(Line::from(spans))
}

pub fn send_keys(state: &State) -> String {
    let keys = state.keymap.keys_for(KeyContext::Insert, Action::Send);
    if keys.is_empty() {
        return ":reply".into();
    }
    keys.join(" / ")
}

pub fn render(state: &State, t: &Theme, e: &ChatEntry, f: &mut Frame, area: Rect) {
    let insert = state.mode == Mode::Insert;
    let kind = state.chats.composer.kind;
    let (label, style, border) = match kind {
        ComposeKind::Reply => (
            format!(" ✍ REPLY to {} ", truncate(&e.chat.customer.name, 24)),
            t.agent,
            BorderType::Rounded,
        ),
        ComposeKind::Note => (
            " ✎ NOTE · internal, agents only ".to_owned(),
            t.note,
            BorderType::Double,
        ),
    };
    let border_style = if insert {
        style.add_modifier(Modifier::BOLD)
    } else {
        t.border
    };
    let right = if insert {
        format!(" {} send · esc done ", send_keys(state))
    } else {
        String::new()
    };
    let block = Block::new()
        .borders(Borders::ALL)
        .border_type(border)
        .border_style(border_style)
        .title(Span::styled(label, style.add_modifier(Modifier::BOLD)))
        .title_bottom(Line::from(Span::styled(right, t.dim)).right_aligned());
    let inner = block.inner(area);
    f.render_widget(block, area);
    if state.chats.composer.is_empty() && state.chats.composer.textarea.lines().len() <= 1 {
        let hint = if insert {
            match kind {
                ComposeKind::Reply => "Type a reply · Enter = new line".to_owned(),
                ComposeKind::Note => {
                    "Type a note for the team · the visitor never sees it".to_owned()
                }
            }
        } else {
            "i reply · n internal note".to_owned()
        };
        let mut spans = Vec::new();
        if insert {
            spans.push(Span::styled("█", t.accent));
        }
        spans.push(Span::styled(hint, t.dim));
        f.render_widget(Paragraph::new(Line::from(spans)), inner);
        return;
    }
    f.render_widget(&state.chats.composer.textarea, inner);
}
