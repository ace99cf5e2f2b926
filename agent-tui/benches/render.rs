//! Render cost at 200×60 with 1,000 chats in the queue and a 10,000-message chat open
//! (budget: 2 ms a frame), plus the queue rebuild that follows every change.

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
}

criterion_group!(benches, bench);
criterion_main!(benches);
