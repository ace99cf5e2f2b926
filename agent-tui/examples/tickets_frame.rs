//! Frame time of the Tickets view: the list (a page of 20 of 1,000 known tickets)
//! and the list with a ticket of 2,000 entries open, at 200×60 and 80×24 (budget:
//! 2 ms a list frame). `cargo run --release -p agent-tui --example tickets_frame`.

use std::time::{Duration, Instant};

use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn measure(name: &str, state: &agent_tui::state::State, w: u16, h: u16) -> anyhow::Result<()> {
    let mut term = Terminal::new(TestBackend::new(w, h))?;
    for _ in 0..20 {
        term.draw(|f| agent_tui::ui::render(state, f))?;
    }
    let mut times: Vec<Duration> = Vec::with_capacity(500);
    for _ in 0..500 {
        let t = Instant::now();
        term.draw(|f| agent_tui::ui::render(state, f))?;
        times.push(t.elapsed());
    }
    times.sort();
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    let p99 = times[times.len() * 99 / 100];
    println!("{name:<44} mean {mean:>9.2?}  p99 {p99:>9.2?}");
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let now = time::OffsetDateTime::now_utc();
    // Baselines on the same machine and load: the empty Notifications view (the cost
    // of drawing and diffing a frame at all) and the Chats view's benchmark workload.
    let mut empty = agent_tui::fixtures::ticket_workload(0, 0, now);
    empty.view = agent_tui::state::ViewId::Notifications;
    empty.width = 200;
    measure("baseline: empty view 200x60", &empty, 200, 60)?;
    let mut chats = agent_tui::fixtures::workload(1_000, 1, 10_000, now);
    chats.width = 200;
    measure("baseline: chats 200x60, 1,000 chats", &chats, 200, 60)?;
    let mut list = agent_tui::fixtures::ticket_workload(1_000, 0, now);
    list.width = 200;
    measure("list 200x60, 1,000 tickets", &list, 200, 60)?;
    list.width = 80;
    measure("list 80x24, 1,000 tickets", &list, 80, 24)?;
    let mut open = agent_tui::fixtures::ticket_workload(1_000, 2_000, now);
    open.width = 200;
    open.tickets.focus = agent_tui::state::TicketPane::Detail;
    measure("list + ticket of 2,000 entries 200x60", &open, 200, 60)?;
    Ok(())
}
