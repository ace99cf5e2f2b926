//! The customer pane: who the visitor is (contact, location, tags, custom fields) and
//! the chats they had before.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use shared::model::ChatStatus;

use crate::state::{Pane, State};
use crate::ui::text::fmt_time;
use crate::ui::{Theme, pane_block};

pub fn render(state: &State, t: &Theme, f: &mut Frame, area: Rect) {
    let focused = state.chats.focus == Pane::Customer;
    let block = pane_block(t, "Customer".into(), focused);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let Some(e) = state.chats.open_entry() else {
        f.render_widget(
            Paragraph::new(Line::from(Span::styled(
                "Open a chat to see the customer.",
                t.dim,
            )))
            .wrap(Wrap { trim: true }),
            inner,
        );
        return;
    };
    let profile = state.directory.customers.get(&e.chat.customer.id);
    let c = profile.map_or(&e.chat.customer, |p| &p.customer);
    let label = |k: &str| Span::styled(format!("{k:<9}"), t.dim);
    let val = |v: Option<&String>| match v {
        Some(v) if !v.is_empty() => Span::styled(v.clone(), t.base),
        _ => Span::styled("—", t.dim),
    };
    let mut lines = vec![Line::from(Span::styled(
        c.name.clone(),
        t.title.add_modifier(Modifier::BOLD),
    ))];
    if c.blocked {
        lines.push(Line::from(Span::styled("⛔ BLOCKED", t.error)));
    }
    lines.push(Line::from(vec![label("Email"), val(c.email.as_ref())]));
    lines.push(Line::from(vec![label("Phone"), val(c.phone.as_ref())]));
    lines.push(Line::from(vec![
        label("Location"),
        val(c.location.as_ref()),
    ]));
    let tags = if c.tags.is_empty() {
        None
    } else {
        Some(
            c.tags
                .iter()
                .map(|t| format!("#{t}"))
                .collect::<Vec<_>>()
                .join(" "),
        )
    };
    lines.push(Line::from(vec![label("Tags"), val(tags.as_ref())]));
    lines.push(Line::from(vec![
        label("Since"),
        Span::styled(fmt_time(c.created_at, state.now, state.utc_offset), t.base),
    ]));
    if !c.custom_fields.is_empty() {
        lines.push(Line::default());
        lines.push(Line::from(Span::styled("Details", t.title)));
        for (k, v) in &c.custom_fields {
            lines.push(Line::from(vec![
                Span::styled(format!("{k}: "), t.dim),
                Span::styled(v.clone(), t.base),
            ]));
        }
    }
    lines.push(Line::default());
    match profile {
        None => lines.push(Line::from(Span::styled("Previous chats: loading…", t.dim))),
        Some(p) => {
            let prev: Vec<_> = p
                .previous_chats
                .iter()
                .filter(|s| s.id != e.chat.id)
                .collect();
            lines.push(Line::from(Span::styled(
                format!("Previous chats ({})", prev.len()),
                t.title,
            )));
            if prev.is_empty() {
                lines.push(Line::from(Span::styled("  first conversation", t.dim)));
            }
            for s in prev {
                let status = match s.status {
                    ChatStatus::Waiting => "◌ waiting",
                    ChatStatus::Active => "● active",
                    ChatStatus::Closed => "✓ closed",
                };
                let rating = s
                    .rating
                    .as_ref()
                    .map(|r| format!(" · ★{}", r.score))
                    .unwrap_or_default();
                lines.push(Line::from(vec![
                    Span::styled(
                        format!("  {} ", fmt_time(s.created_at, state.now, state.utc_offset)),
                        t.base,
                    ),
                    Span::styled(format!("{status} · {} msg{rating}", s.message_count), t.dim),
                ]));
            }
        }
    }
    if let Some(card) = state.tickets.customers.get(&c.id) {
        crate::ui::views::tickets::customer_card(
            state,
            t,
            card,
            None,
            inner.width as usize,
            &mut lines,
        );
    }
    if let Some(r) = &e.chat.rating {
        lines.push(Line::default());
        lines.push(Line::from(vec![
            label("Rating"),
            Span::styled(format!("★{} of 5", r.score), t.base),
        ]));
        if let Some(cm) = &r.comment {
            lines.push(Line::from(Span::styled(format!("“{cm}”"), t.dim)));
        }
    }
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((state.chats.customer_scroll.min(200), 0)),
        inner,
    );
}
