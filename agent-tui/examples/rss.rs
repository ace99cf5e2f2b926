//! Resident memory with 50 open chats of 1,000 messages each (budget: 50 MiB), after
//! drawing a frame. Linux only (reads /proc/self/status).

use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn main() -> anyhow::Result<()> {
    let before = rss_kib().unwrap_or(0);
    let now = time::OffsetDateTime::now_utc();
    let mut state = agent_tui::fixtures::workload(0, 50, 1_000, now);
    state.width = 200;
    let mut term = Terminal::new(TestBackend::new(200, 60))?;
    term.draw(|f| agent_tui::ui::render(&state, f))?;
    let after = rss_kib().unwrap_or(0);
    let msgs: usize = state.chats.entries.values().map(|e| e.messages.len()).sum();
    println!(
        "chats: {}, messages: {msgs}, RSS before: {:.1} MiB, after: {:.1} MiB",
        state.chats.entries.len(),
        before as f64 / 1024.0,
        after as f64 / 1024.0
    );
    Ok(())
}
