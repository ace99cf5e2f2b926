//! The Dashboard view on screen: tiles with the agent's figures (chats, tickets,
//! resolved today, first response, response and CSAT today against the last 7
//! days), the recent chats and pending tickets on the left, and the 14-day chart of
//! chats closed per day on the right, its numbers also written out. Every figure is
//! text; colour only repeats what the text says.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Bar, BarChart, BarGroup, Paragraph, Wrap};
use shared::report::Summary;

use crate::action::Action;
use crate::keys::KeyContext;
use crate::state::views::dashboard::Figures;
use crate::state::{State, ViewId};
use crate::ui::text::{fmt_time, truncate, wrap};
use crate::ui::{Theme, pane_block};

/// From this width the six tiles sit in one row; below, in two.
const ONE_ROW: u16 = 120;
/// Lines per list (recent chats, pending tickets) at most.
const LIST_ROWS: usize = 10;

pub fn render(state: &State, t: &Theme, f: &mut Frame, area: Rect) {
    let rows: u16 = if area.width >= ONE_ROW { 1 } else { 2 };
    let [tiles_area, body] =
        Layout::vertical([Constraint::Length(4 * rows), Constraint::Min(0)]).areas(area);
    tiles(state, t, f, tiles_area, rows);
    let right_pct = if area.width >= ONE_ROW { 50 } else { 55 };
    let [left, right] = Layout::horizontal([
        Constraint::Percentage(100 - right_pct),
        Constraint::Percentage(right_pct),
    ])
    .areas(body);
    let [recent_area, pending_area] =
        Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(left);
    recent(state, t, f, recent_area);
    pending(state, t, f, pending_area);
    chart(state, t, f, right);
}

/// Seconds as `41s`, `3m05s`, `1h12`; a dash when there was nothing to measure.
pub fn fmt_secs(s: Option<f64>) -> String {
    let Some(s) = s.filter(|s| s.is_finite() && *s >= 0.0) else {
        return "—".into();
    };
    let s = s.round() as u64;
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{}h{:02}", s / 3600, (s % 3600) / 60)
    }
}

pub fn fmt_pct(p: Option<f64>) -> String {
    match p.filter(|p| p.is_finite()) {
        Some(p) => format!("{p:.1}%"),
        None => "—".into(),
    }
}

/// The six tiles: each a title and two lines of text.
pub fn tile_texts(state: &State) -> Vec<(&'static str, [String; 2])> {
    let q = &state.chats.queue;
    let fig = state.dashboard.figures.as_ref();
    let n = |v: Option<String>| v.unwrap_or_else(|| "…".into());
    let pair = |label: &str, f: &dyn Fn(&Summary) -> String| -> [String; 2] {
        [
            format!("today  {}", n(fig.map(|x| f(&x.today)))),
            format!("7 days {}", n(fig.map(|x| f(&x.week)))),
        ]
        .map(|s| format!("{label}{s}"))
    };
    vec![
        (
            "Chats",
            [
                format!("active  {}", q.totals[1]),
                format!("waiting {}", q.totals[0]),
            ],
        ),
        (
            "My tickets",
            [
                format!("open    {}", n(fig.map(|x| x.open_tickets.to_string()))),
                format!("pending {}", n(fig.map(|x| x.pending_total.to_string()))),
            ],
        ),
        (
            "Resolved today",
            [
                format!(
                    "chats   {}",
                    n(fig.map(|x| x.today.chats_handled.to_string()))
                ),
                format!(
                    "tickets {}",
                    n(fig.map(|x| x.today.tickets_handled.to_string()))
                ),
            ],
        ),
        (
            "First response",
            pair("", &|s: &Summary| fmt_secs(s.first_response_s.avg)),
        ),
        (
            "Avg response",
            pair("", &|s: &Summary| fmt_secs(s.response_s.avg)),
        ),
        ("CSAT", pair("", &|s: &Summary| fmt_pct(s.csat.score_pct))),
    ]
}

fn tiles(state: &State, t: &Theme, f: &mut Frame, area: Rect, rows: u16) {
    let texts = tile_texts(state);
    let per_row = texts.len().div_ceil(rows as usize);
    let row_areas = Layout::vertical(vec![Constraint::Length(4); rows as usize]).split(area);
    for (r, chunk) in texts.chunks(per_row).enumerate() {
        let Some(row) = row_areas.get(r) else { break };
        let cells = Layout::horizontal(vec![Constraint::Ratio(1, chunk.len() as u32); chunk.len()])
            .split(*row);
        for ((title, lines), cell) in chunk.iter().zip(cells.iter()) {
            let block = pane_block(t, (*title).to_owned(), false);
            let w = block.inner(*cell).width as usize;
            let text: Vec<Line> = lines
                .iter()
                .map(|l| Line::from(Span::styled(truncate(l, w), t.base)))
                .collect();
            f.render_widget(Paragraph::new(text).block(block), *cell);
        }
    }
}

fn recent(state: &State, t: &Theme, f: &mut Frame, area: Rect) {
    let mut chats: Vec<_> = state.chats.entries.values().map(|e| &e.chat).collect();
    chats.sort_by(|a, b| {
        b.last_message_at
            .cmp(&a.last_message_at)
            .then_with(|| a.id.cmp(&b.id))
    });
    let block = pane_block(t, "Recent chats".into(), false);
    let w = block.inner(area).width as usize;
    let mut lines: Vec<Line> = chats
        .iter()
        .take(LIST_ROWS)
        .map(|c| {
            let when = fmt_time(c.last_message_at, state.now, state.utc_offset);
            let head = format!("{:<7} {when} ", c.status.as_str());
            let name = truncate(&c.customer.name, w.saturating_sub(head.chars().count()));
            Line::from(vec![Span::styled(head, t.dim), Span::styled(name, t.base)])
        })
        .collect();
    if lines.is_empty() {
        lines.push(Line::from(Span::styled("No chats loaded.", t.dim)));
    }
    f.render_widget(Paragraph::new(lines).block(block), area);
}

fn pending(state: &State, t: &Theme, f: &mut Frame, area: Rect) {
    let fig = state.dashboard.figures.as_ref();
    let title = match fig {
        Some(x) => format!("Pending tickets ({})", x.pending_total),
        None => "Pending tickets".into(),
    };
    let block = pane_block(t, title, false);
    let w = block.inner(area).width as usize;
    let mut lines: Vec<Line> = fig
        .map(|x| x.pending.as_slice())
        .unwrap_or_default()
        .iter()
        .take(LIST_ROWS)
        .map(|tk| {
            let head = format!("#{} ", tk.number);
            let subject = truncate(&tk.subject, w.saturating_sub(head.chars().count()));
            Line::from(vec![
                Span::styled(head, t.accent),
                Span::styled(subject, t.base),
            ])
        })
        .collect();
    if lines.is_empty() {
        let text = if fig.is_some() {
            "No pending tickets."
        } else {
            "Loading…"
        };
        lines.push(Line::from(Span::styled(text, t.dim)));
    }
    f.render_widget(Paragraph::new(lines).block(block), area);
}

/// The chart's numbers as text: `total 12 · today 3` and every day's count.
pub fn chart_text(fig: &Figures) -> [String; 2] {
    let total: u64 = fig.series.iter().map(|p| p.count).sum();
    let today = fig.series.last().map(|p| p.count).unwrap_or(0);
    let days: Vec<String> = fig
        .series
        .iter()
        .map(|p| format!("{} {}", day_label(&p.bucket), p.count))
        .collect();
    [format!("total {total} · today {today}"), days.join(" · ")]
}

/// `2026-03-05` → `05`.
fn day_label(bucket: &str) -> &str {
    bucket.get(8..10).unwrap_or(bucket)
}

fn chart(state: &State, t: &Theme, f: &mut Frame, area: Rect) {
    let d = &state.dashboard;
    let mut title = "Chats closed per day (14 days)".to_owned();
    if d.loading {
        title.push_str(" · loading…");
    }
    let block = pane_block(t, title, false);
    let inner = block.inner(area);
    f.render_widget(block, area);
    if inner.width < 4 || inner.height == 0 {
        return;
    }
    let Some(fig) = &d.figures else {
        let text = match &d.error {
            Some(e) => format!("The figures did not load: {e}"),
            None => "Loading…".into(),
        };
        f.render_widget(
            Paragraph::new(Span::styled(text, t.dim)).wrap(Wrap { trim: true }),
            inner,
        );
        return;
    };
    let [summary, days] = chart_text(fig);
    let mut texts = vec![(summary, t.base)];
    if let Some(e) = &d.error {
        texts.push((format!("Not refreshed: {e}"), t.warn));
    }
    texts.push((days, t.dim));
    let w = inner.width as usize;
    let mut lines = Vec::new();
    for (s, style) in &texts {
        for l in wrap(s, w) {
            lines.push(Line::from(Span::styled(l, *style)));
        }
    }
    let text_rows = lines.len().min(inner.height.saturating_sub(3) as usize) as u16;
    let [bars_area, text_area] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(text_rows)]).areas(inner);
    let n = fig.series.len().max(1) as u16;
    let bar_width = ((inner.width + 1) / n).saturating_sub(1).clamp(1, 6);
    let bars: Vec<Bar> = fig
        .series
        .iter()
        .map(|p| {
            Bar::default()
                .value(p.count)
                .label(Line::from(day_label(&p.bucket).to_owned()))
                .text_value(p.count.to_string())
                .style(t.accent)
                .value_style(t.bar)
        })
        .collect();
    let chart = BarChart::default()
        .data(BarGroup::default().bars(&bars))
        .bar_width(bar_width)
        .bar_gap(1)
        .label_style(t.dim);
    f.render_widget(chart, bars_area);
    f.render_widget(Paragraph::new(lines), text_area);
}

pub fn hints(state: &State) -> Vec<String> {
    let ctxs = &[KeyContext::View(ViewId::Dashboard), KeyContext::Normal];
    let hint = |a: Action, label: &str| state.keymap.hint(ctxs, a).map(|k| format!("{k} {label}"));
    [
        hint(Action::Refresh, "refresh"),
        hint(Action::NewTicket, "new ticket"),
        hint(Action::FocusQueue, "queue"),
        hint(Action::Help, "help"),
    ]
    .into_iter()
    .flatten()
    .collect()
}
