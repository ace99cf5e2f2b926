//! Render cost at 200×60 with 1,000 chats in the queue and a 10,000-message chat open
//! (budget: 2 ms a frame), plus the queue rebuild that follows every change, and the
//! Tickets view's list frame (a page of 20 of 1,000 tickets; budget: 2 ms).

use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::hint::black_box;

use agent_tui::fixtures::workload;
use agent_tui::ui::render;

fn bench(c: &mut Criterion) {
    let now = time::OffsetDateTime::now_utc();
    let mut state = workload(1_000, 1, 10_000, now);
    state.width = 200;
    let mut term = Terminal::new(TestBackend::new(200, 60)).unwrap_or_else(|e| panic!("{e}"));
    c.bench_function("frame 200x60, 1000 chats, 10000-message chat", |b| {
        b.iter(|| {
            term.draw(|f| render(black_box(&state), f))
                .unwrap_or_else(|e| panic!("{e}"));
        })
    });
    state.chats.chat_scroll.from_bottom = 400;
    c.bench_function("frame 200x60, scrolled 400 lines up", |b| {
        b.iter(|| {
            term.draw(|f| render(black_box(&state), f))
                .unwrap_or_else(|e| panic!("{e}"));
        })
    });
    state.width = 80;
    let mut small = Terminal::new(TestBackend::new(80, 24)).unwrap_or_else(|e| panic!("{e}"));
    c.bench_function("frame 80x24, same workload", |b| {
        b.iter(|| {
            small
                .draw(|f| render(black_box(&state), f))
                .unwrap_or_else(|e| panic!("{e}"));
        })
    });
    c.bench_function("queue rebuild, 1001 chats", |b| {
        b.iter(|| agent_tui::update::rebuild(black_box(&mut state)))
    });
    let mut tickets = agent_tui::fixtures::ticket_workload(1_000, 0, now);
    tickets.width = 200;
    c.bench_function("tickets list frame 200x60, 1000 tickets", |b| {
        b.iter(|| {
            term.draw(|f| render(black_box(&tickets), f))
                .unwrap_or_else(|e| panic!("{e}"));
        })
    });
    let mut open = agent_tui::fixtures::ticket_workload(1_000, 2_000, now);
    open.width = 200;
    open.tickets.focus = agent_tui::state::TicketPane::Detail;
    c.bench_function("tickets list + 2000-entry ticket 200x60", |b| {
        b.iter(|| {
            term.draw(|f| render(black_box(&open), f))
                .unwrap_or_else(|e| panic!("{e}"));
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
