//! The queue pane: Waiting / Mine / Closed with counts; each chat on two lines
//! (customer, department, wait time, unread badge; then the last message).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use shared::model::{AuthorKind, ChatStatus, MessageKind};

use crate::state::{ChatEntry, Pane, Section, State};
use crate::ui::text::{fmt_time, fmt_wait, pad, truncate, width};
use crate::ui::{Theme, pane_block};

enum Row<'a> {
    Header(Section),
    Empty(Section),
    Chat(&'a ChatEntry, bool),
    Preview(&'a ChatEntry, bool),
}

pub fn render(state: &State, t: &Theme, f: &mut Frame, area: Rect) {
    let focused = state.chats.focus == Pane::Queue;
    let block = pane_block(t, "Queue".into(), focused);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let h = inner.height as usize;
    let w = inner.width as usize;
    if h == 0 || w < 8 {
        return;
    }
    // Where every row sits, without formatting any: 1,000 chats stay cheap.
    let q = &state.chats.queue;
    let mut selected_line = 0usize;
    let mut total = 0usize;
    for s in Section::ALL {
        total += 1;
        let ids = q.section(s);
        if ids.is_empty() {
            total += 1;
        }
        for id in ids {
            if Some(id) == q.selected.as_ref() {
                selected_line = total;
            }
            total += 2;
        }
    }
    let offset = if selected_line + 2 <= h.saturating_sub(1) {
        0
    } else {
        (selected_line + 3)
            .saturating_sub(h)
            .min(total.saturating_sub(h))
    };
    let mut rows = Vec::with_capacity(h);
    let mut line = 0usize;
    'outer: for s in Section::ALL {
        if line >= offset + h {
            break;
        }
        if line >= offset {
            rows.push(Row::Header(s));
        }
        line += 1;
        let ids = q.section(s);
        if ids.is_empty() {
            if line >= offset && line < offset + h {
                rows.push(Row::Empty(s));
            }
            line += 1;
        }
        // Skip whole chats above the window.
        let skip = if offset > line {
            (offset - line) / 2
        } else {
            0
        };
        line += skip * 2;
        for id in ids.iter().skip(skip) {
            if line >= offset + h {
                break 'outer;
            }
            let Some(e) = state.chats.entries.get(id) else {
                line += 2;
                continue;
            };
            let sel = Some(id) == q.selected.as_ref();
            if line >= offset {
                rows.push(Row::Chat(e, sel));
            }
            if line + 1 >= offset && line + 1 < offset + h {
                rows.push(Row::Preview(e, sel));
            }
            line += 2;
        }
    }
    let lines: Vec<Line> = rows
        .into_iter()
        .take(h)
        .map(|r| row_line(state, t, r, w, focused))
        .collect();
    f.render_widget(Paragraph::new(lines), inner);
}

fn row_line<'a>(state: &State, t: &Theme, r: Row<'_>, w: usize, focused: bool) -> Line<'a> {
    let q = &state.chats.queue;
    match r {
        Row::Header(s) => {
            let idx = match s {
                Section::Waiting => 0,
                Section::Mine => 1,
                Section::Closed => 2,
            };
            let shown = q.section(s).len();
            let total = q.totals[idx];
            let count = if shown == total {
                format!("{total}")
            } else {
                format!("{shown}/{total}")
            };
            let text = format!("▾ {} ({count})", s.title());
            Line::from(Span::styled(pad(&text, w), t.title))
        }
        Row::Empty(s) => {
            let text = match s {
                Section::Waiting => "  nobody is waiting",
                Section::Mine => "  no open chats — c claims",
                Section::Closed => "  none yet",
            };
            Line::from(Span::styled(text.to_owned(), t.dim))
        }
        Row::Chat(e, sel) => {
            let c = &e.chat;
            let marker = match (sel, c.status) {
                (true, _) => "▶",
                (_, ChatStatus::Waiting) => "◌",
                (_, ChatStatus::Active) => "●",
                (_, ChatStatus::Closed) => "✓",
            };
            let open = state.chats.open_chat.as_deref() == Some(c.id.as_str());
            let dept = state.department_name(&c.department_id).unwrap_or("");
            let when = match c.status {
                ChatStatus::Waiting => fmt_wait(state.now - e.waiting_since),
                ChatStatus::Active => fmt_wait(state.now - c.last_message_at),
                ChatStatus::Closed => fmt_time(
                    c.closed_at.unwrap_or(c.last_message_at),
                    state.now,
                    state.utc_offset,
                ),
            };
            let badge = if c.unread_count > 0 {
                format!(" {} ", c.unread_count.min(99))
            } else {
                String::new()
            };
            let blocked = if c.customer.blocked { "⛔" } else { "" };
            let right = format!(" {} {when}", truncate(dept, 10));
            let name_w = w
                .saturating_sub(2 + width(&right) + width(&badge) + width(blocked))
                .max(3);
            let name = pad(
                &format!("{}{}", c.customer.name, if open { " ›" } else { "" }),
                name_w,
            );
            let row_style = if sel {
                if focused {
                    t.selected
                } else {
                    t.selected.remove_modifier(ratatui::style::Modifier::BOLD)
                }
            } else {
                t.base
            };
            let name_style = if c.unread_count > 0 {
                row_style.add_modifier(ratatui::style::Modifier::BOLD)
            } else {
                row_style
            };
            let mut spans = vec![
                Span::styled(
                    format!("{marker} "),
                    row_style.patch(status_style(t, c.status)),
                ),
                Span::styled(name, name_style),
                Span::styled(blocked.to_owned(), row_style),
                Span::styled(right, row_style.patch(t.dim)),
            ];
            if !badge.is_empty() {
                spans.push(Span::styled(badge, t.badge));
            }
            Line::from(spans)
        }
        Row::Preview(e, sel) => {
            let c = &e.chat;
            let text = if e.customer_typing_until.is_some() {
                "✎ typing…".to_owned()
            } else {
                match &c.last_message {
                    Some(m) => {
                        let who = match (m.author.kind, m.kind) {
                            (_, MessageKind::Note) => "note: ",
                            (AuthorKind::Agent, _) => "you: ",
                            (AuthorKind::System, _) => "· ",
                            _ => "",
                        };
                        let who = if m.author.kind == AuthorKind::Agent
                            && Some(m.author.id.as_str()) != state.my_id()
                            && m.kind != MessageKind::Note
                        {
                            "agent: "
                        } else {
                            who
                        };
                        format!("{who}{}", m.body.replace(['\n', '\t'], " "))
                    }
                    None => String::new(),
                }
            };
            let style = if sel { t.selected.patch(t.dim) } else { t.dim };
            Line::from(Span::styled(pad(&format!("  {text}"), w), style))
        }
    }
}

fn status_style(t: &Theme, s: ChatStatus) -> Style {
    match s {
        ChatStatus::Waiting => t.warn,
        ChatStatus::Active => t.ok,
        ChatStatus::Closed => t.dim,
    }
}
