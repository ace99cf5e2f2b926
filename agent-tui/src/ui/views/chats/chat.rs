//! The chat pane: a header with the chat's status, the history (visitor, agent,
//! internal note and system lines each with their own marker and rule, timestamps,
//! read receipts, unsent ◷ and failed ✗ items), the typing line and the composer.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use shared::model::{AuthorKind, ChatStatus, Message, MessageKind};
use time::Duration;

use super::composer;
use crate::net::files::file_size;
use crate::state::{ChatEntry, History, OutboxItem, OutboxStatus, Pane, State};
use crate::ui::text::{fmt_time, pad, truncate, wrap};
use crate::ui::{Theme, pane_block};

/// Messages from one author closer than this share one header.
const GROUP_GAP: Duration = Duration::minutes(5);

pub fn render(state: &State, t: &Theme, f: &mut Frame, area: Rect) {
    let focused = state.chats.focus == Pane::Chat;
    let Some(e) = state.chats.open_entry() else {
        let block = pane_block(t, "Chat".into(), focused);
        let inner = block.inner(area);
        f.render_widget(block, area);
        let lines = vec![
            Line::default(),
            Line::from(Span::styled("No chat open.", t.title)),
            Line::default(),
            Line::from(Span::styled("j/k choose a chat in the queue,", t.dim)),
            Line::from(Span::styled("Enter opens it, c claims it,", t.dim)),
            Line::from(Span::styled("? lists every key.", t.dim)),
        ];
        f.render_widget(
            Paragraph::new(lines).alignment(ratatui::layout::Alignment::Center),
            inner,
        );
        return;
    };
    let title = format!("Chat · {}", e.chat.customer.name);
    let block = pane_block(t, title, focused);
    let inner = block.inner(area);
    f.render_widget(block, area);
    if inner.height < 4 {
        return;
    }
    let comp_h = composer::height(state, inner.height);
    let chips = composer::chips_line(state, t, &e.chat.id, inner.width as usize);
    let [head, hist, typing, chips_area, comp] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(u16::from(chips.is_some())),
        Constraint::Length(comp_h),
    ])
    .areas(inner);
    f.render_widget(
        Paragraph::new(header_line(state, t, e, head.width as usize)),
        head,
    );
    render_history(state, t, e, f, hist);
    if e.customer_typing_until.is_some() {
        f.render_widget(
            Paragraph::new(Line::from(Span::styled(
                format!("✎ {} is typing…", truncate(&e.chat.customer.name, 30)),
                t.customer.add_modifier(Modifier::ITALIC),
            ))),
            typing,
        );
    }
    if let Some(line) = chips {
        f.render_widget(Paragraph::new(line), chips_area);
    }
    composer::render(state, t, e, f, comp);
}

fn header_line<'a>(state: &State, t: &Theme, e: &ChatEntry, w: usize) -> Line<'a> {
    let c = &e.chat;
    let dept = state.department_name(&c.department_id).unwrap_or("—");
    let (status, style) = match c.status {
        ChatStatus::Waiting => ("◌ WAITING", t.warn),
        ChatStatus::Active => ("● ACTIVE", t.ok),
        ChatStatus::Closed => ("✓ CLOSED", t.dim),
    };
    let mut parts = vec![dept.to_owned()];
    match (c.status, &c.assignee_id) {
        (ChatStatus::Waiting, _) => {
            if let Some(p) = c.queue_position {
                parts.push(format!("#{p} in queue"));
            }
            parts.push("c claims".into());
        }
        (_, Some(a)) if Some(a.as_str()) == state.my_id() => parts.push("with you".into()),
        (_, Some(a)) => {
            let name = state
                .agent_name(a)
                .map(str::to_owned)
                .or_else(|| c.assignee_name.clone())
                .unwrap_or_else(|| "another agent".into());
            parts.push(format!("with {name}"));
        }
        _ => {}
    }
    if !c.tags.is_empty() {
        parts.push(
            c.tags
                .iter()
                .map(|t| format!("#{t}"))
                .collect::<Vec<_>>()
                .join(" "),
        );
    }
    if c.customer.blocked {
        parts.push("⛔ blocked".into());
    }
    if let Some(r) = &c.resolution
        && c.status == ChatStatus::Closed
    {
        parts.push(format!("resolution: {r}"));
    }
    let rest = truncate(&format!(" · {}", parts.join(" · ")), w.saturating_sub(10));
    Line::from(vec![
        Span::styled(status.to_owned(), style.add_modifier(Modifier::BOLD)),
        Span::styled(rest, t.dim),
    ])
}

fn body_lines<'a>(
    out: &mut Vec<Line<'a>>,
    body: &str,
    w: usize,
    rule: &'static str,
    rule_style: ratatui::style::Style,
    text_style: ratatui::style::Style,
) {
    for l in wrap(body, w.saturating_sub(2).max(1)) {
        out.push(Line::from(vec![
            Span::styled(rule, rule_style),
            Span::styled(l, text_style),
        ]));
    }
}

/// The lines of one message, top to bottom; `grouped` leaves out the header.
fn message_lines<'a>(
    state: &State,
    t: &Theme,
    e: &ChatEntry,
    m: &Message,
    grouped: bool,
    w: usize,
) -> Vec<Line<'a>> {
    let mut out = Vec::new();
    let time = fmt_time(m.created_at, state.now, state.utc_offset);
    if m.kind == MessageKind::Event || m.author.kind == AuthorKind::System {
        for l in wrap(&format!("── {} · {time}", m.body), w) {
            out.push(Line::from(Span::styled(l, t.system)));
        }
        return out;
    }
    let me = state.my_id();
    if m.kind == MessageKind::Note {
        if !grouped {
            out.push(Line::from(vec![
                Span::styled("✎ NOTE ", t.note.add_modifier(Modifier::BOLD)),
                Span::styled(
                    format!("{} · internal · {time}", truncate(&m.author.name, 30)),
                    t.note,
                ),
            ]));
        }
        body_lines(&mut out, &m.body, w, "┊ ", t.note, t.note);
        return out;
    }
    match m.author.kind {
        AuthorKind::Customer => {
            if !grouped {
                out.push(Line::from(vec![
                    Span::styled(
                        format!("● {}", truncate(&m.author.name, 40)),
                        t.customer.add_modifier(Modifier::BOLD),
                    ),
                    Span::styled(format!(" · {time}"), t.dim),
                ]));
            }
            body_lines(&mut out, &m.body, w, "│ ", t.customer, t.base);
        }
        _ => {
            let name = if Some(m.author.id.as_str()) == me {
                "You".to_owned()
            } else {
                truncate(&m.author.name, 40)
            };
            let receipt = if m.seq <= e.chat.customer_read_seq {
                " · ✓✓ read"
            } else {
                " · ✓ sent"
            };
            if !grouped {
                out.push(Line::from(vec![
                    Span::styled(format!("◆ {name}"), t.agent.add_modifier(Modifier::BOLD)),
                    Span::styled(format!(" · {time}{receipt}"), t.dim),
                ]));
            }
            body_lines(&mut out, &m.body, w, "┃ ", t.agent, t.base);
            // Receipts matter per message even when the header is shared.
            if grouped {
                let last = out.len() - 1;
                out[last].spans.push(Span::styled(
                    if m.seq <= e.chat.customer_read_seq {
                        "  ✓✓"
                    } else {
                        "  ✓"
                    },
                    t.dim,
                ));
            }
        }
    }
    // Files are downloaded over REST; here they are named, never opened.
    for a in &m.attachments {
        out.push(Line::from(vec![
            Span::styled("  ⎘ ", t.accent),
            Span::styled(
                truncate(
                    &format!("{} · {}", a.name, human_size(a.size)),
                    w.saturating_sub(4),
                ),
                t.dim,
            ),
        ]));
    }
    out
}

fn human_size(n: u64) -> String {
    match n {
        0..1024 => format!("{n} B"),
        1024..1_048_576 => format!("{:.0} KB", n as f64 / 1024.0),
        _ => format!("{:.1} MB", n as f64 / 1_048_576.0),
    }
}

fn outbox_lines<'a>(state: &State, t: &Theme, o: &OutboxItem, w: usize) -> Vec<Line<'a>> {
    let (mark, style) = match &o.status {
        OutboxStatus::Failed { reason } => (format!("✗ not sent: {reason}"), t.error),
        OutboxStatus::Sending if state.conn.is_online() => ("◷ sending…".to_owned(), t.dim),
        _ => ("◷ pending — sent when back online".to_owned(), t.warn),
    };
    let note = o.kind == MessageKind::Note;
    let mut out = vec![Line::from(vec![
        Span::styled(
            if note { "✎ NOTE You" } else { "◆ You" },
            if note { t.note } else { t.agent }.add_modifier(Modifier::BOLD),
        ),
        Span::styled(" · ", t.dim),
        Span::styled(truncate(&mark, w.saturating_sub(10)), style),
    ])];
    let (rule, rs) = if note {
        ("┊ ", t.note)
    } else {
        ("┆ ", t.dim)
    };
    if !o.body.is_empty() {
        body_lines(&mut out, &o.body, w, rule, rs, t.dim);
    }
    for a in &o.attachments {
        out.push(Line::from(vec![
            Span::styled(rule, rs),
            Span::styled(
                truncate(
                    &format!("📎 {} · {}", a.name, file_size(a.size)),
                    w.saturating_sub(2),
                ),
                t.dim,
            ),
        ]));
    }
    out
}

fn render_history(state: &State, t: &Theme, e: &ChatEntry, f: &mut Frame, area: Rect) {
    let h = area.height as usize;
    let w = area.width as usize;
    if h == 0 || w < 4 {
        return;
    }
    let scroll = state.chats.chat_scroll.from_bottom;
    let need = scroll.saturating_add(h);
    // Newest first, stopping once the window is covered: a 10,000-message chat costs
    // only what is on screen.
    let mut rev: Vec<Line> = Vec::with_capacity(need.min(4096));
    let pending: Vec<&OutboxItem> = state.chats.outbox_for(&e.chat.id).collect();
    for o in pending.iter().rev() {
        let mut ls = outbox_lines(state, t, o, w);
        ls.insert(0, Line::default());
        rev.extend(ls.into_iter().rev());
    }
    let mut iter = e.messages.values().rev().peekable();
    let mut reached_top = true;
    while let Some(m) = iter.next() {
        if rev.len() >= need {
            reached_top = false;
            break;
        }
        let grouped = iter.peek().is_some_and(|prev| {
            prev.author.id == m.author.id
                && prev.author.kind == m.author.kind
                && prev.kind == m.kind
                && m.kind != MessageKind::Event
                && m.created_at - prev.created_at < GROUP_GAP
        });
        let mut ls = message_lines(state, t, e, m, grouped, w);
        if !grouped {
            ls.insert(0, Line::default());
        }
        rev.extend(ls.into_iter().rev());
    }
    if reached_top {
        let top = match e.history {
            History::Loading => Some(("… loading history", t.dim)),
            History::Loaded { complete: false } => Some(("↑ older messages: gg loads them", t.dim)),
            History::Loaded { complete: true } if e.messages.is_empty() && pending.is_empty() => {
                Some(("No messages yet.", t.dim))
            }
            History::NotLoaded => Some(("… loading history", t.dim)),
            _ => None,
        };
        if let Some((text, style)) = top {
            rev.push(Line::from(Span::styled(text, style)));
        }
    }
    let total = rev.len();
    let scroll = scroll.min(total.saturating_sub(h));
    let mut window: Vec<Line> = rev
        .into_iter()
        .skip(scroll)
        .take(h)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    if scroll > 0 {
        let unseen = state.chats.chat_scroll.unseen;
        let text = if unseen > 0 {
            format!("↓ {unseen} new message(s) below — G jumps to them")
        } else {
            "↓ more below — G jumps to the latest".to_owned()
        };
        let marker = Line::from(Span::styled(
            pad(&text, w),
            if unseen > 0 { t.badge } else { t.selected },
        ));
        if window.len() >= h {
            window.pop();
        }
        window.push(marker);
    }
    // Bottom-align short histories, like a chat.
    let top_pad = h.saturating_sub(window.len());
    let mut lines = vec![Line::default(); top_pad];
    lines.extend(window);
    f.render_widget(Paragraph::new(lines), area);
}
