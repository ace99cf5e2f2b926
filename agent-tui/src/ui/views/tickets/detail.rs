//! The open ticket on screen: its header fields, the timeline (replies, internal
//! notes framed `┃ NOTE` and in their own style, event lines), the cursor and the
//! split marks, replies on their way, and the composer under it.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Paragraph};
use shared::model::AuthorKind;
use shared::ticket::{EntryKind, LinkKind, Ticket, TicketEntry};

use super::list::{due_text, overdue};
use super::{priority_label, priority_style, status_label};
use crate::state::views::tickets::TicketPane;
use crate::state::{ComposeKind, Mode, State};
use crate::ui::text::{fmt_time, truncate, wrap};
use crate::ui::views::chats::composer::send_keys;
use crate::ui::{Theme, pane_block};

pub fn render(state: &State, t: &Theme, f: &mut Frame, area: Rect) {
    let tk = &state.tickets;
    let focused = tk.focus == TicketPane::Detail;
    let Some(ticket) = tk.open_ticket() else {
        let block = pane_block(t, "Ticket".into(), focused);
        let inner = block.inner(area);
        f.render_widget(block, area);
        f.render_widget(
            Paragraph::new(Line::from(Span::styled(
                "Enter on a row opens the ticket here.",
                t.dim,
            ))),
            inner,
        );
        return;
    };
    let title = format!("{} {}", ticket.label(), ticket.subject);
    let block = pane_block(
        t,
        truncate(&title, area.width.saturating_sub(6) as usize),
        focused,
    );
    let inner = block.inner(area);
    f.render_widget(block, area);
    let w = inner.width as usize;
    if w < 10 || inner.height < 4 {
        return;
    }
    let head = header(state, t, ticket, w);
    let composer_h = composer_height(state, inner.height);
    let [h_area, tl_area, c_area] = Layout::vertical([
        Constraint::Length(head.len() as u16),
        Constraint::Min(1),
        Constraint::Length(composer_h),
    ])
    .areas(inner);
    f.render_widget(Paragraph::new(head), h_area);
    timeline(state, t, f, tl_area);
    composer(state, t, ticket, f, c_area);
}

fn field<'a>(name: &str, value: String, style: Style, t: &Theme) -> [Span<'a>; 2] {
    [
        Span::styled(format!("{name} "), t.dim),
        Span::styled(format!("{value}   "), style),
    ]
}

fn header<'a>(state: &State, t: &Theme, tk: &Ticket, w: usize) -> Vec<Line<'a>> {
    let assignee = tk
        .assignee_id
        .as_ref()
        .map(|id| state.agent_name(id).unwrap_or("someone").to_owned())
        .unwrap_or_else(|| "unassigned".into());
    let dept = state
        .department_name(&tk.department_id)
        .unwrap_or(&tk.department_id)
        .to_owned();
    let mut one = Vec::new();
    one.extend(field("Status", status_label(tk.status).into(), t.title, t));
    one.extend(field(
        "Priority",
        priority_label(tk.priority).trim().into(),
        priority_style(t, tk.priority),
        t,
    ));
    one.extend(field("Dept", dept, t.base, t));
    one.extend(field("Assignee", assignee, t.base, t));
    let mut two = Vec::new();
    let due_style = if overdue(tk, state.now) {
        t.error
    } else {
        t.base
    };
    let due = match tk.due_at {
        Some(_) if overdue(tk, state.now) => format!("{} (overdue)", due_text(state, tk)),
        _ => due_text(state, tk),
    };
    two.extend(field("Due", due, due_style, t));
    let tags = if tk.tags.is_empty() {
        "—".to_owned()
    } else {
        tk.tags.join(", ")
    };
    two.extend(field("Tags", tags, t.accent, t));
    two.extend(field("Source", tk.source.as_str().into(), t.base, t));
    two.extend(field(
        "Opened",
        fmt_time(tk.created_at, state.now, state.utc_offset),
        t.base,
        t,
    ));
    let mut lines = vec![Line::from(one), Line::from(two)];
    let mut three = Vec::new();
    let label_of = |id: &str| {
        state
            .tickets
            .tickets
            .get(id)
            .map(Ticket::label)
            .unwrap_or_else(|| "a ticket".into())
    };
    if !tk.links.is_empty() {
        let links: Vec<String> = tk
            .links
            .iter()
            .map(|l| {
                let kind = match l.kind {
                    LinkKind::Related => "related",
                    LinkKind::DuplicateOf => "duplicate of",
                    LinkKind::SplitFrom => "split from",
                };
                format!("{kind} {}", label_of(&l.ticket_id))
            })
            .collect();
        three.extend(field("Links", links.join(", "), t.base, t));
    }
    if let Some(m) = &tk.merged_into {
        three.extend(field("Merged into", label_of(m), t.warn, t));
    }
    if tk.spam {
        three.extend(field("Spam", "yes (hidden from lists)".into(), t.warn, t));
    }
    if let Some(r) = &tk.resolution {
        three.extend(field("Resolution", r.replace('\n', " "), t.ok, t));
    }
    if !three.is_empty() {
        lines.push(Line::from(three));
    }
    lines.push(Line::from(Span::styled("─".repeat(w), t.border)));
    lines
}

fn author_style(t: &Theme, e: &TicketEntry) -> Style {
    match (e.kind, e.author.kind) {
        (EntryKind::Note, _) => t.note,
        (EntryKind::Event, _) | (_, AuthorKind::System) => t.system,
        (_, AuthorKind::Customer) => t.customer,
        (_, AuthorKind::Agent) => t.agent,
    }
}

/// The lines of one entry (its first line carries the cursor and the mark).
fn entry_lines<'a>(
    state: &State,
    t: &Theme,
    e: &TicketEntry,
    cursor: bool,
    marked: bool,
    w: usize,
) -> Vec<Line<'a>> {
    let pointer = if cursor { "▶" } else { " " };
    let mark = if !state.tickets.marked.is_empty() || marked {
        if marked { "[x] " } else { "[ ] " }
    } else {
        ""
    };
    let when = fmt_time(e.created_at, state.now, state.utc_offset);
    let style = author_style(t, e);
    let sel = if cursor { t.selected } else { t.base };
    match e.kind {
        EntryKind::Event => {
            let text = format!("{when} · {} — {}", e.body.replace('\n', " "), e.author.name);
            vec![Line::from(vec![
                Span::styled(format!("{pointer} {mark}"), sel),
                Span::styled(truncate(&text, w.saturating_sub(2 + mark.len())), style),
            ])]
        }
        EntryKind::Reply | EntryKind::Note => {
            let note = e.kind == EntryKind::Note;
            let who = if note {
                format!("✎ NOTE {} (internal)", e.author.name)
            } else if e.author.kind == AuthorKind::Customer {
                format!("{} (customer)", e.author.name)
            } else {
                format!("{} → customer", e.author.name)
            };
            let mut out = vec![Line::from(vec![
                Span::styled(format!("{pointer} {mark}"), sel),
                Span::styled(format!("{when} "), t.dim),
                Span::styled(who, style.add_modifier(Modifier::BOLD)),
            ])];
            let bar = if note { "  ┃ " } else { "    " };
            let body_style = if note { t.note } else { t.base };
            for l in wrap(&e.body, w.saturating_sub(bar.chars().count())) {
                out.push(Line::from(vec![
                    Span::styled(bar, t.note),
                    Span::styled(l, body_style),
                ]));
            }
            for a in &e.attachments {
                out.push(Line::from(Span::styled(
                    truncate(&format!("{bar}📎 {}", a.name), w),
                    t.dim,
                )));
            }
            out
        }
    }
}

fn timeline(state: &State, t: &Theme, f: &mut Frame, area: Rect) {
    let tk = &state.tickets;
    let w = area.width as usize;
    let h = area.height as usize;
    let entries = tk.open_entries();
    let loaded = tk
        .open
        .as_ref()
        .and_then(|id| tk.timelines.get(id))
        .is_some_and(|tl| tl.loaded);
    let mut lines: Vec<Line> = Vec::new();
    if entries.is_empty() {
        let text = if loaded {
            "No entries yet."
        } else {
            "Loading the timeline…"
        };
        lines.push(Line::from(Span::styled(text, t.dim)));
    }
    let cursor = tk.cursor.min(entries.len().saturating_sub(1));
    let focused = tk.focus == TicketPane::Detail;
    let (mut cur_start, mut cur_end) = (0, 0);
    // Every entry takes at least a line: only the `h` entries on either side of the
    // cursor can show, so a long timeline costs no more than a short one.
    let first = cursor.saturating_sub(h);
    let last = (cursor + h + 1).min(entries.len());
    for (i, e) in entries.iter().enumerate().take(last).skip(first) {
        let is_cur = focused && i == cursor;
        if is_cur {
            cur_start = lines.len();
        }
        lines.extend(entry_lines(
            state,
            t,
            e,
            is_cur,
            tk.marked.contains(&e.id),
            w,
        ));
        if is_cur {
            cur_end = lines.len();
        }
    }
    let open = tk.open.as_deref().unwrap_or_default();
    let pending = tk.pending.iter().filter(|p| p.ticket_id == open);
    for p in pending.filter(|_| last == entries.len()) {
        let (glyph, style) = match &p.failed {
            Some(why) => (format!("✗ not sent: {why}"), t.error),
            None => ("◷ sending…".to_owned(), t.dim),
        };
        let kind = if p.kind == EntryKind::Note {
            "note"
        } else {
            "reply"
        };
        lines.push(Line::from(Span::styled(
            truncate(&format!("  {glyph} ({kind})"), w),
            style,
        )));
        for l in wrap(&p.body, w.saturating_sub(4)) {
            lines.push(Line::from(Span::styled(format!("    {l}"), t.dim)));
        }
        if !focused || cursor + 1 >= entries.len() {
            cur_end = lines.len();
        }
    }
    if !focused {
        cur_end = lines.len();
        cur_start = cur_end.saturating_sub(1);
    }
    let total = lines.len();
    let mut offset = cur_end.saturating_sub(h).min(total.saturating_sub(h));
    if cur_start < offset {
        offset = cur_start;
    }
    let shown: Vec<Line> = lines.into_iter().skip(offset).take(h).collect();
    f.render_widget(Paragraph::new(shown), area);
}

fn composer_height(state: &State, avail: u16) -> u16 {
    let lines = state.tickets.composer.textarea.lines().len() as u16;
    (lines + 2).clamp(3, 8).min((avail / 2).max(3))
}

fn composer(state: &State, t: &Theme, tk: &Ticket, f: &mut Frame, area: Rect) {
    let c = &state.tickets.composer;
    let insert = matches!(state.mode, Mode::Insert | Mode::Canned)
        && state.tickets.focus == TicketPane::Detail;
    let (label, style, border) = match c.kind {
        ComposeKind::Reply => (
            format!(" ✍ REPLY to {} ", truncate(&tk.customer.name, 24)),
            t.agent,
            BorderType::Rounded,
        ),
        ComposeKind::Note => (
            " ✎ NOTE · internal, agents only ".to_owned(),
            t.note,
            BorderType::Double,
        ),
    };
    let right = if insert {
        format!(" {} send · esc done ", send_keys(state))
    } else {
        String::new()
    };
    let block = Block::new()
        .borders(Borders::ALL)
        .border_type(border)
        .border_style(if insert {
            style.add_modifier(Modifier::BOLD)
        } else {
            t.border
        })
        .title(Span::styled(label, style.add_modifier(Modifier::BOLD)))
        .title_bottom(Line::from(Span::styled(right, t.dim)).right_aligned());
    let inner = block.inner(area);
    f.render_widget(block, area);
    if c.is_empty() && c.textarea.lines().len() <= 1 {
        let hint = if insert {
            match c.kind {
                ComposeKind::Reply => "Type a reply · / canned responses · Enter = new line",
                ComposeKind::Note => "Type a note for the team · the customer never sees it",
            }
        } else {
            "r reply · n internal note · : commands"
        };
        let mut spans = Vec::new();
        if insert {
            spans.push(Span::styled("█", t.accent));
        }
        spans.push(Span::styled(hint, t.dim));
        f.render_widget(Paragraph::new(Line::from(spans)), inner);
        return;
    }
    f.render_widget(&c.textarea, inner);
}
