//! The Knowledge base view on screen: the search line and the hits (title, internal
//! or draft marks, snippet) on the left, the open article on the right with its
//! Markdown rendered for the terminal (headings, lists, emphasis, code, links as
//! text). One pane at a time on a narrow terminal.

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use shared::kb::{ArticleStatus, SNIPPET_CLOSE, SNIPPET_OPEN, Visibility};

use crate::action::Action;
use crate::keys::KeyContext;
use crate::state::{Mode, State, ViewId};
use crate::ui::text::truncate;
use crate::ui::{Theme, pane_block};

/// Below this width the list and the reader take turns.
const TWO_PANES: u16 = 100;

pub fn render(state: &State, t: &Theme, f: &mut Frame, area: Rect) {
    let kb = &state.kb;
    if area.width < TWO_PANES {
        if kb.open.is_some() {
            reader(state, t, f, area);
        } else {
            list(state, t, f, area);
        }
        return;
    }
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(area);
    list(state, t, f, left);
    reader(state, t, f, right);
}

fn list(state: &State, t: &Theme, f: &mut Frame, area: Rect) {
    let kb = &state.kb;
    let block = pane_block(
        t,
        format!("Articles ({})", kb.hits.len()),
        kb.open.is_none(),
    );
    let inner = block.inner(area);
    f.render_widget(block, area);
    let w = inner.width as usize;
    if w < 6 || inner.height == 0 {
        return;
    }
    let searching = state.mode == Mode::Search;
    let mut lines = vec![Line::from(vec![
        Span::styled("/ ", t.accent),
        Span::styled(
            truncate(
                &format!("{}{}", kb.query, if searching { "▏" } else { "" }),
                w - 2,
            ),
            if kb.query.is_empty() && !searching {
                t.dim
            } else {
                t.base
            },
        ),
    ])];
    if kb.query.is_empty() && !searching {
        lines[0] = Line::from(Span::styled(truncate("/ search articles", w), t.dim));
    }
    if kb.hits.is_empty() {
        let text = if kb.loaded {
            "No articles found."
        } else {
            "Loading…"
        };
        lines.push(Line::from(Span::styled(text, t.dim)));
    }
    let rows = (inner.height as usize).saturating_sub(1) / 2;
    let offset = kb.selected.saturating_sub(rows.saturating_sub(1));
    for (i, h) in kb.hits.iter().enumerate().skip(offset).take(rows.max(1)) {
        let sel = i == kb.selected;
        let row = if sel { t.selected } else { t.base };
        let mut marks = String::new();
        if h.article.visibility == Visibility::Internal {
            marks.push_str(" [internal]");
        }
        if h.article.status == ArticleStatus::Draft {
            marks.push_str(" [draft]");
        }
        let marker = if sel { "▶ " } else { "  " };
        let title_w = w.saturating_sub(2 + marks.chars().count());
        lines.push(Line::from(vec![
            Span::styled(marker, row),
            Span::styled(
                truncate(&h.article.title, title_w),
                row.add_modifier(Modifier::BOLD),
            ),
            Span::styled(marks, row.patch(t.warn)),
        ]));
        let mut snippet = vec![Span::styled("  ", row)];
        snippet.extend(highlighted(
            &h.snippet,
            w.saturating_sub(2),
            row.patch(t.dim),
            row.patch(t.accent),
        ));
        lines.push(Line::from(snippet));
    }
    f.render_widget(Paragraph::new(lines), inner);
}

/// A snippet with its `[[…]]` highlights styled, cut to `w` characters.
fn highlighted(s: &str, w: usize, plain: Style, mark: Style) -> Vec<Span<'static>> {
    let cut = truncate(
        &s.replace('\n', " "),
        w + 4 * s.matches(SNIPPET_OPEN).count(),
    );
    let mut out = Vec::new();
    let mut rest = cut.as_str();
    let mut marked = false;
    while !rest.is_empty() {
        let sep = if marked { SNIPPET_CLOSE } else { SNIPPET_OPEN };
        let (piece, next) = match rest.find(sep) {
            Some(i) => (&rest[..i], &rest[i + sep.len()..]),
            None => (rest, ""),
        };
        if !piece.is_empty() {
            out.push(Span::styled(
                piece.to_owned(),
                if marked { mark } else { plain },
            ));
        }
        marked = !marked;
        rest = next;
    }
    out
}

fn reader(state: &State, t: &Theme, f: &mut Frame, area: Rect) {
    let kb = &state.kb;
    let Some(a) = &kb.open else {
        let block = pane_block(t, "Reader".to_owned(), false);
        let inner = block.inner(area);
        f.render_widget(block, area);
        f.render_widget(
            Paragraph::new(Span::styled("Enter opens the selected article.", t.dim)),
            inner,
        );
        return;
    };
    let block = pane_block(t, a.title.clone(), true);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let mut lines = vec![Line::from(Span::styled(
        format!(
            "{} · {} · {} views · {} found it helpful",
            a.visibility.as_str(),
            a.status.as_str(),
            a.views,
            a.helpful_yes
        ),
        t.dim,
    ))];
    lines.push(Line::default());
    lines.extend(markdown(&a.body, t));
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((kb.scroll, 0)),
        inner,
    );
}

/// Markdown as terminal lines: headings bold (and underlined at level 1), list items
/// with bullets or numbers, emphasis, `code` and code blocks in the accent style,
/// links as `text <url>`; raw HTML is shown as text.
pub fn markdown(md: &str, t: &Theme) -> Vec<Line<'static>> {
    let mut lines: Vec<Line<'static>> = Vec::new();
    let mut cur: Vec<Span<'static>> = Vec::new();
    let mut style = t.base;
    let mut styles: Vec<Style> = Vec::new();
    let mut lists: Vec<Option<u64>> = Vec::new();
    let mut link: Option<String> = None;
    let mut in_code = false;
    let flush = |cur: &mut Vec<Span<'static>>, lines: &mut Vec<Line<'static>>| {
        if !cur.is_empty() {
            lines.push(Line::from(std::mem::take(cur)));
        }
    };
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    for ev in Parser::new_ext(md, opts) {
        match ev {
            Event::Start(tag) => {
                styles.push(style);
                match tag {
                    Tag::Heading { level, .. } => {
                        flush(&mut cur, &mut lines);
                        style = t.title.add_modifier(Modifier::BOLD);
                        if level == HeadingLevel::H1 {
                            style = style.add_modifier(Modifier::UNDERLINED);
                        }
                    }
                    Tag::Emphasis => style = style.add_modifier(Modifier::ITALIC),
                    Tag::Strong => style = style.add_modifier(Modifier::BOLD),
                    Tag::Strikethrough => style = style.add_modifier(Modifier::CROSSED_OUT),
                    Tag::BlockQuote(_) => {
                        flush(&mut cur, &mut lines);
                        style = t.dim;
                        cur.push(Span::styled("│ ", t.dim));
                    }
                    Tag::CodeBlock(_) => {
                        flush(&mut cur, &mut lines);
                        in_code = true;
                        style = t.accent;
                    }
                    Tag::List(start) => {
                        flush(&mut cur, &mut lines);
                        lists.push(start);
                    }
                    Tag::Item => {
                        flush(&mut cur, &mut lines);
                        let indent = "  ".repeat(lists.len().saturating_sub(1));
                        let bullet = match lists.last_mut() {
                            Some(Some(n)) => {
                                *n += 1;
                                format!("{indent}{}. ", *n - 1)
                            }
                            _ => format!("{indent}• "),
                        };
                        cur.push(Span::styled(bullet, t.accent));
                    }
                    Tag::Link { dest_url, .. } => {
                        link = Some(dest_url.into_string());
                        style = style.add_modifier(Modifier::UNDERLINED);
                    }
                    Tag::TableCell => cur.push(Span::styled("│ ", t.dim)),
                    _ => {}
                }
            }
            Event::End(end) => {
                style = styles.pop().unwrap_or(t.base);
                match end {
                    TagEnd::Heading(_)
                    | TagEnd::Paragraph
                    | TagEnd::TableRow
                    | TagEnd::TableHead => {
                        flush(&mut cur, &mut lines);
                        if matches!(end, TagEnd::Heading(_) | TagEnd::Paragraph) && lists.is_empty()
                        {
                            lines.push(Line::default());
                        }
                    }
                    TagEnd::BlockQuote(_) | TagEnd::Item => flush(&mut cur, &mut lines),
                    TagEnd::CodeBlock => {
                        in_code = false;
                        flush(&mut cur, &mut lines);
                        lines.push(Line::default());
                    }
                    TagEnd::List(_) => {
                        lists.pop();
                        flush(&mut cur, &mut lines);
                        if lists.is_empty() {
                            lines.push(Line::default());
                        }
                    }
                    TagEnd::Link => {
                        if let Some(url) = link.take() {
                            cur.push(Span::styled(format!(" <{url}>"), t.dim));
                        }
                    }
                    _ => {}
                }
            }
            Event::Text(text) => {
                if in_code {
                    for (i, l) in text.split('\n').enumerate() {
                        if i > 0 {
                            flush(&mut cur, &mut lines);
                        }
                        if !l.is_empty() {
                            cur.push(Span::styled(format!("    {l}"), style));
                        }
                    }
                } else {
                    cur.push(Span::styled(text.into_string(), style));
                }
            }
            Event::Code(code) => cur.push(Span::styled(format!("`{code}`"), t.accent)),
            Event::Html(h) | Event::InlineHtml(h) => cur.push(Span::styled(h.into_string(), t.dim)),
            Event::SoftBreak => cur.push(Span::styled(" ", style)),
            Event::HardBreak => flush(&mut cur, &mut lines),
            Event::Rule => {
                flush(&mut cur, &mut lines);
                lines.push(Line::from(Span::styled("────────", t.dim)));
            }
            Event::TaskListMarker(done) => {
                cur.push(Span::styled(if done { "[x] " } else { "[ ] " }, t.accent));
            }
            _ => {}
        }
    }
    flush(&mut cur, &mut lines);
    while lines.last().is_some_and(|l| l.spans.is_empty()) {
        lines.pop();
    }
    lines
}

/// Key hints for the Knowledge base view.
pub fn hints(state: &State) -> Vec<String> {
    if state.mode == Mode::Search {
        return vec![
            "type to search".into(),
            "Enter open".into(),
            "Esc done".into(),
        ];
    }
    let ctxs = &[KeyContext::View(ViewId::KnowledgeBase), KeyContext::Normal];
    let hint = |a: Action, label: &str| state.keymap.hint(ctxs, a).map(|k| format!("{k} {label}"));
    [
        hint(Action::Search, "search"),
        hint(Action::Open, "read"),
        hint(Action::CopyLink, "copy link"),
        hint(Action::Compose, "share in chat"),
        hint(Action::Help, "help"),
    ]
    .into_iter()
    .flatten()
    .collect()
}
