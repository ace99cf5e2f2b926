//! The Dashboard view: tiles, recent chats, pending tickets and the 14-day chart with
//! its numbers as text; before the first answer and after a failed one.

use super::{busy, draw, screen_text, snap};
use crate::state::{Pane, ViewId};
use crate::update::tests::dashboard::figures;

#[test]
fn dashboard_shows_every_figure_as_text() {
    let mut s = busy();
    s.view = ViewId::Dashboard;
    s.dashboard.figures = Some(figures());
    snap("dashboard", &s, Pane::Queue);
    for (w, h) in [(80, 24), (160, 48)] {
        let mut s = s.clone();
        s.width = w;
        let text = screen_text(&draw(&s, w, h));
        for want in [
            "waiting 3",
            "open    4",
            "pending 2",
            "chats   7",
            "today  41s",
            "7 days 52s",
            "today  1m35s",
            "7 days —",
            "today  80.0%",
            "7 days 75.5%",
            "#12 Refund",
            "total 34 · today 7",
            "27 3 · 28 0",
        ] {
            assert!(text.contains(want), "{w}x{h}: {want:?} missing in\n{text}");
        }
    }
}

#[test]
fn dashboard_before_the_figures_and_after_a_failure() {
    let mut s = busy();
    s.view = ViewId::Dashboard;
    s.dashboard.loading = true;
    s.width = 80;
    let text = screen_text(&draw(&s, 80, 24));
    assert!(text.contains("open    …"), "{text}");
    assert!(text.contains("Loading…"), "{text}");
    s.dashboard.loading = false;
    s.dashboard.error = Some("502 bad gateway".into());
    let text = screen_text(&draw(&s, 80, 24));
    assert!(text.contains("did not load: 502 bad gateway"), "{text}");
    s.dashboard.figures = Some(figures());
    let text = screen_text(&draw(&s, 80, 24));
    assert!(text.contains("Not refreshed: 502 bad"), "{text}");
}
