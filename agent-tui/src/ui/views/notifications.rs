//! The Notifications view on screen: every notification, newest first, two lines
//! each (read state in words, time, title; then the text and the chat it is about),
//! the selected one marked with `▶`.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use shared::model::Role;

use crate::action::Action;
use crate::keys::KeyContext;
use crate::state::{NotificationEntry, State, ViewId};
use crate::ui::text::{fmt_time, pad, truncate, width};
use crate::ui::{Theme, pane_block};

pub fn render(state: &State, t: &Theme, f: &mut Frame, area: Rect) {
    let n = &state.notifications;
    let unread = n.unread();
    let title = match (n.items.len(), unread) {
        (0, _) => "Notifications".to_owned(),
        (total, 0) => format!("Notifications ({total})"),
        (total, u) => format!("Notifications ({total}, {u} new)"),
    };
    let block = pane_block(t, title, true);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let w = inner.width as usize;
    let mut h = inner.height as usize;
    if h == 0 || w < 8 {
        return;
    }
    let mut lines = Vec::with_capacity(h);
    // The protocol sends supervisors and admins every agent's notifications.
    if state.me().is_some_and(|a| a.role != Role::Agent) {
        lines.push(Line::from(Span::styled(
            truncate(
                "As a supervisor you also receive your team's notifications.",
                w,
            ),
            t.dim,
        )));
        h = h.saturating_sub(1);
    }
    if n.items.is_empty() {
        let me = state
            .me()
            .map(|a| a.name.split(' ').next().unwrap_or("you").to_owned())
            .unwrap_or_else(|| "you".into());
        lines.push(Line::default());
        lines.push(Line::from(Span::styled(
            format!(
                "No notifications yet. Mentions of you in notes (@{me}) and chats \
                 transferred to you show up here."
            ),
            t.dim,
        )));
        f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), inner);
        return;
    }
    let sel = n.selected_index();
    // Two lines an entry; keep the selected one in the window.
    let rows = (h / 2).max(1);
    let offset = sel.saturating_sub(rows - 1);
    for (i, e) in n.newest_first().enumerate().skip(offset).take(rows) {
        let [a, b] = entry_lines(state, t, e, i == sel, w);
        lines.push(a);
        lines.push(b);
    }
    f.render_widget(Paragraph::new(lines), inner);
}

fn entry_lines<'a>(
    state: &State,
    t: &Theme,
    e: &NotificationEntry,
    selected: bool,
    w: usize,
) -> [Line<'a>; 2] {
    let row = if selected { t.selected } else { t.base };
    let marker = if selected { "▶ " } else { "  " };
    let (word, word_style) = if e.seen {
        ("  read ", row.patch(t.dim))
    } else {
        ("● new  ", row.patch(t.badge))
    };
    let when = fmt_time(e.at, state.now, state.utc_offset);
    let kind = match e.notification.kind.as_str() {
        "mention" => "mention",
        "chat_assigned" => "assigned",
        _ => "notice",
    };
    let head = format!("{when} · {kind} · ");
    let title_w = w.saturating_sub(width(marker) + width(word) + width(&head));
    let title = pad(&e.notification.title, title_w);
    let title_style = if e.seen {
        row
    } else {
        row.add_modifier(Modifier::BOLD)
    };
    let first = Line::from(vec![
        Span::styled(marker, row),
        Span::styled(word, word_style),
        Span::styled(head, row.patch(t.dim)),
        Span::styled(title, title_style),
    ]);
    let chat = e
        .notification
        .chat_id
        .as_ref()
        .map(|id| match state.chats.entries.get(id) {
            Some(c) => format!(" · chat with {}", c.chat.customer.name),
            None => " · a chat".to_owned(),
        })
        .unwrap_or_default();
    let indent = "         ";
    let body_w = w.saturating_sub(width(indent) + width(&chat));
    let body = truncate(&e.notification.body.replace('\n', " "), body_w);
    let gap = w.saturating_sub(width(indent) + width(&body) + width(&chat));
    let second = Line::from(vec![
        Span::styled(indent, row),
        Span::styled(body, row),
        Span::styled(" ".repeat(gap), row),
        Span::styled(chat, row.patch(t.dim)),
    ]);
    [first, second]
}

/// Key hints for the Notifications view.
pub fn hints(state: &State) -> Vec<String> {
    let ctxs = &[KeyContext::View(ViewId::Notifications), KeyContext::Normal];
    let hint = |a: Action, label: &str| state.keymap.hint(ctxs, a).map(|k| format!("{k} {label}"));
    [
        hint(Action::Open, "open chat"),
        hint(Action::ToggleRead, "read/unread"),
        hint(Action::MarkAllRead, "all read"),
        hint(Action::GoTo(ViewId::Chats), "chats"),
        hint(Action::Help, "help"),
    ]
    .into_iter()
    .flatten()
    .collect()
}
