//! The Tickets view on screen: the list with every column (overdue by a glyph and a
//! word, unread by a dot), a refused filter's reason, the open ticket's header and
//! timeline (notes framed apart from replies), split marks, and the composer.

use ratatui::style::Modifier;
use time::Duration;

use super::{draw, screen_text};
use crate::state::views::tickets::{CustomerCard, CustomerNote, CustomerTicket, TicketPane};
use crate::state::{Mode, State};
use crate::update::tests::tickets::{with_open_ticket, with_tickets};
use crate::update::tests::{T0, press, type_text};

fn snap(name: &str, s: &State, narrow_focus: TicketPane) {
    let mut wide = s.clone();
    wide.width = 160;
    insta::assert_snapshot!(format!("{name}_160x48"), draw(&wide, 160, 48).backend());
    let mut narrow = s.clone();
    narrow.width = 80;
    narrow.tickets.focus = narrow_focus;
    insta::assert_snapshot!(format!("{name}_80x24"), draw(&narrow, 80, 24).backend());
}

#[test]
fn tickets_list_shows_every_column_overdue_and_unread() {
    let mut s = with_tickets();
    s.tickets.unread.insert("t1004".into());
    press(&mut s, "j");
    snap("tickets_list", &s, TicketPane::List);
    let text = screen_text(&draw(&s, 160, 48));
    for want in [
        "#1005",
        "Projector fan is loud",
        "Kenji Watanabe",
        "◐ pending",
        "‼ urgent",
        "Maya Chen",
        "unassigned",
        "⚠ 3h00 late",
        "filter all (not spam, not merged) · sort updated · page 1/3",
        "Tickets (45)",
    ] {
        assert!(text.contains(want), "{want}: {text}");
    }
    assert!(
        text.contains("▶●#1004"),
        "selection and unread marks: {text}"
    );
}

#[test]
fn a_refused_filter_is_shown_in_the_list() {
    let mut s = with_tickets();
    press(&mut s, ":");
    type_text(&mut s, "filter priority>=extreme");
    press(&mut s, "enter");
    let text = screen_text(&draw(&s, 80, 24));
    assert!(
        text.contains("✗ filter refused: unknown priority"),
        "{text}"
    );
}

#[test]
fn ticket_detail_with_timeline_notes_events_and_marks() {
    let mut s = with_open_ticket();
    let customer = s.tickets.tickets["t1005"].customer.clone();
    super::net(
        &mut s,
        crate::msg::NetEvent::Tickets(crate::msg::TicketReply::CustomerLoaded {
            customer,
            card: CustomerCard {
                tickets: vec![
                    CustomerTicket {
                        id: "t1005".into(),
                        number: 1005,
                        subject: "Projector fan is loud".into(),
                        status: Some(shared::ticket::TicketStatus::Open),
                    },
                    CustomerTicket {
                        id: "t0998".into(),
                        number: 998,
                        subject: "Wall mount screws missing".into(),
                        status: Some(shared::ticket::TicketStatus::Closed),
                    },
                ],
                notes: vec![CustomerNote {
                    id: "n1".into(),
                    body: "Prefers e-mail; runs a home cinema club".into(),
                    author_name: "Priya Natarajan".into(),
                    created_at: Some(T0 - Duration::days(3)),
                }],
            },
        }),
    );
    press(&mut s, "k k k k ␣ j j j j");
    snap("ticket_detail", &s, TicketPane::Detail);
    let text = screen_text(&draw(&s, 160, 48));
    for want in [
        "#1005 Projector fan is loud",
        "Status ○ open",
        "Priority ! high",
        "Due ⚠ 3h00 late (overdue)",
        "Fatima Zahra (customer)",
        "✎ NOTE Sam Rivera (internal)",
        "┃ Known issue with 2.3.1",
        "Priority: medium → high",
        "[x]",
        "r reply · n internal note",
        "Tickets (2)",
        "▸#1005 ○ open Projector fan is loud",
        " #998 ■ closed Wall mount screws",
        "Notes (1) · internal",
        "1. Prefers e-mail",
    ] {
        assert!(text.contains(want), "{want}: {text}");
    }
    // A note is set apart by its frame and style, not by colour alone.
    let t = draw(&s, 160, 48);
    let buf = t.backend().buffer();
    let (x, y) = (0..48u16)
        .flat_map(|y| (0..150u16).map(move |x| (x, y)))
        .find(|&(x, y)| buf[(x, y)].symbol() == "┃" && buf[(x + 2, y)].symbol() == "K")
        .unwrap();
    assert!(buf[(x + 2, y)].modifier.contains(Modifier::ITALIC));
}

#[test]
fn composing_a_note_on_a_ticket() {
    let mut s = with_open_ticket();
    s.now = T0 + Duration::minutes(1);
    press(&mut s, "n");
    type_text(&mut s, "Ask the warehouse for a fan kit");
    assert_eq!(s.mode, Mode::Insert);
    snap("ticket_note", &s, TicketPane::Detail);
    let text = screen_text(&draw(&s, 80, 24));
    assert!(text.contains("NOTE · internal, agents only"), "{text}");
}
