//! The Dashboard view: opening it loads the figures, `r` and pushes load them again
//! (pushes debounced), stale answers are dropped, failures are shown, and `n` / `q`
//! lead to a new ticket and the queue.

use shared::report::{CsatStat, Period, SeriesPoint, Summary, TimeStat};
use shared::ticket::{TicketPriority, TicketStatus};
use time::macros::date;

use super::tickets::ticket;
use super::*;
use crate::effect::DashboardCmd;
use crate::msg::DashboardReply;
use crate::state::views::dashboard::Figures;
use crate::update::views::dashboard::REFRESH_DEBOUNCE;

fn summary(chats: u64, frt: Option<f64>, art: Option<f64>, csat: Option<f64>) -> Summary {
    Summary {
        period: Period {
            from: "2026-03-12T00:00:00Z".into(),
            to: "2026-03-13T00:00:00Z".into(),
            tz: "UTC".into(),
        },
        chats_handled: chats,
        tickets_handled: 2,
        first_response_s: TimeStat {
            avg: frt,
            count: chats,
            ..TimeStat::default()
        },
        response_s: TimeStat {
            avg: art,
            count: chats * 3,
            ..TimeStat::default()
        },
        resolution_s: TimeStat::default(),
        csat: CsatStat {
            rated: 4,
            score_pct: csat,
            breakdown: Default::default(),
        },
    }
}

/// Today's and the week's figures, a 14-day series ending on T0's day, two pending
/// tickets.
pub fn figures() -> Figures {
    let counts = [3, 0, 5, 2, 1, 0, 0, 4, 6, 2, 3, 1, 0, 7];
    let first = date!(2026 - 02 - 27);
    Figures {
        today: summary(7, Some(41.3), Some(95.0), Some(80.0)),
        week: summary(19, Some(52.0), None, Some(75.5)),
        series: counts
            .iter()
            .enumerate()
            .map(|(i, &c)| SeriesPoint {
                bucket: (first + Duration::days(i as i64)).to_string(),
                value: Some(c as f64),
                count: c,
            })
            .collect(),
        open_tickets: 4,
        pending: vec![
            ticket(
                12,
                "Refund for order 1182",
                TicketStatus::Pending,
                TicketPriority::High,
            ),
            ticket(
                9,
                "Projector lamp warranty",
                TicketStatus::Pending,
                TicketPriority::Low,
            ),
        ],
        pending_total: 2,
    }
}

fn loads(fx: &[Effect]) -> Vec<u64> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Net(NetCmd::Dashboard(DashboardCmd::Load { seq, today })) => {
                assert_eq!(*today, date!(2026 - 03 - 12));
                Some(*seq)
            }
            _ => None,
        })
        .collect()
}

fn loaded(s: &mut State, seq: u64) -> Vec<Effect> {
    net(
        s,
        NetEvent::Dashboard(DashboardReply::Loaded {
            seq,
            figures: Box::new(figures()),
        }),
    )
}

#[test]
fn opening_the_dashboard_loads_its_figures_and_the_answer_fills_it() {
    let mut s = three_chats();
    assert_eq!(
        s.view,
        ViewId::Chats,
        "the Chats view stays the first screen"
    );
    let fx = press(&mut s, "g d");
    assert_eq!(s.view, ViewId::Dashboard);
    assert_eq!(loads(&fx), [1]);
    assert!(s.dashboard.loading);
    // Going to the view already shown loads nothing more.
    assert!(loads(&press(&mut s, "g d")).is_empty());
    loaded(&mut s, 1);
    assert!(!s.dashboard.loading);
    assert_eq!(s.dashboard.figures, Some(figures()));
    // The period queries: today, the 7 days before, 14 days ending today.
    let [today, week, series] = crate::net::dashboard::periods(date!(2026 - 03 - 12));
    assert_eq!(
        today,
        [
            ("from", "2026-03-12".to_owned()),
            ("to", "2026-03-12".into())
        ]
    );
    assert_eq!(
        week,
        [
            ("from", "2026-03-05".to_owned()),
            ("to", "2026-03-11".into())
        ]
    );
    assert!(series.contains(&("from", "2026-02-27".into())));
    assert!(series.contains(&("to", "2026-03-12".into())));
    assert!(series.contains(&("bucket", "day".into())));
}

#[test]
fn r_reloads_and_only_the_latest_answer_counts() {
    let mut s = three_chats();
    press(&mut s, "g d");
    let fx = press(&mut s, "r");
    assert_eq!(loads(&fx), [1], "r reloads with the other lists");
    // Leave and come back: a new load; the answer to the old one is dropped.
    press(&mut s, "g c");
    let fx = update(&mut s, Msg::Action(Action::Refresh));
    assert!(loads(&fx).is_empty(), "not shown: not loaded");
    assert_eq!(loads(&press(&mut s, "g d")), [2]);
    loaded(&mut s, 1);
    assert_eq!(s.dashboard.figures, None);
    assert!(s.dashboard.loading);
    net(
        &mut s,
        NetEvent::Dashboard(DashboardReply::Failed {
            seq: 2,
            error: "server error\u{1b}[31m".into(),
        }),
    );
    assert!(!s.dashboard.loading);
    let e = s.dashboard.error.clone().unwrap();
    assert!(
        e.starts_with("server error") && !e.contains('\u{1b}'),
        "{e}"
    );
    assert_eq!((s.mode, s.view), (Mode::Normal, ViewId::Dashboard));
    assert_eq!(loads(&press(&mut s, "r")), [2]);
    loaded(&mut s, 2);
    assert_eq!(s.dashboard.error, None);
    assert_eq!(s.dashboard.figures, Some(figures()));
}

fn chat_push(s: &mut State, id: i64) -> Vec<Effect> {
    let c = chat("c9", "Grace Hopper", ChatStatus::Waiting, None);
    net(
        s,
        NetEvent::Push(ServerEvent::ChatCreated(ChatEvent {
            event_id: id,
            chat: c,
        })),
    )
}

#[test]
fn pushes_while_shown_reload_once_after_the_debounce() {
    let mut s = three_chats();
    chat_push(&mut s, 100);
    assert_eq!(s.dashboard.refresh_at, None, "not shown: nothing planned");
    press(&mut s, "g d");
    loaded(&mut s, 1);
    assert!(loads(&chat_push(&mut s, 101)).is_empty());
    assert_eq!(s.dashboard.refresh_at, Some(T0 + REFRESH_DEBOUNCE));
    let fx = update(&mut s, Msg::Tick(T0 + Duration::seconds(1)));
    assert!(loads(&fx).is_empty());
    chat_push(&mut s, 102);
    assert_eq!(s.dashboard.refresh_at, Some(T0 + REFRESH_DEBOUNCE));
    let fx = update(&mut s, Msg::Tick(T0 + REFRESH_DEBOUNCE));
    assert_eq!(loads(&fx), [2], "one reload for both pushes");
    assert_eq!(s.dashboard.refresh_at, None);
    let fx = update(&mut s, Msg::Tick(T0 + Duration::seconds(10)));
    assert!(loads(&fx).is_empty());
    // A push just before leaving the view plans nothing once it is gone.
    s.now = T0 + Duration::seconds(20);
    chat_push(&mut s, 103);
    press(&mut s, "g c");
    let fx = update(&mut s, Msg::Tick(T0 + Duration::seconds(30)));
    assert!(loads(&fx).is_empty());
    assert_eq!(s.dashboard.refresh_at, None);
}

#[test]
fn n_starts_a_new_ticket_and_q_goes_to_the_queue() {
    let mut s = three_chats();
    press(&mut s, "g d");
    press(&mut s, "n");
    assert_eq!(s.view, ViewId::Tickets);
    assert_eq!(s.mode, Mode::Command);
    assert_eq!(s.command.input, "ticket new ");
    press(&mut s, "esc");
    assert_eq!(s.mode, Mode::Normal);
    press(&mut s, "g d");
    s.chats.focus = Pane::Chat;
    press(&mut s, "q");
    assert_eq!(s.view, ViewId::Chats);
    assert_eq!(s.chats.focus, Pane::Queue);
    assert!(!s.quit, "q in the dashboard does not quit");
}
