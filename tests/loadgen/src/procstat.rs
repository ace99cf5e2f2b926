//! Resident memory and CPU time of a process, read from /proc/PID/status and
//! /proc/PID/stat, sampled in the background while a scenario runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

/// Clock ticks per second in /proc/PID/stat. Linux fixes USER_HZ at 100 for the
/// user-visible interface on every architecture it ships, whatever the kernel's HZ.
const TICKS_PER_SEC: f64 = 100.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Snapshot {
    pub rss_kib: u64,
    pub hwm_kib: u64,
    /// utime + stime, in clock ticks.
    pub cpu_ticks: u64,
}

/// `VmRSS` and `VmHWM` (KiB) from the text of /proc/PID/status.
pub fn parse_status(text: &str) -> (u64, u64) {
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// utime + stime from the text of /proc/PID/stat. The command name may contain
/// spaces and parentheses, so fields are counted after the last `)`.
pub fn parse_stat(text: &str) -> Option<u64> {
    let after = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = after.split_whitespace().collect();
    // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    Some(utime + stime)
}

pub fn snapshot(pid: u32) -> std::io::Result<Snapshot> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let (rss_kib, hwm_kib) = parse_status(&status);
    Ok(Snapshot {
        rss_kib,
        hwm_kib,
        cpu_ticks: parse_stat(&stat).unwrap_or(0),
    })
}

/// What a process used over a window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Usage {
    pub pid: u32,
    pub rss_start_kib: u64,
    pub rss_peak_kib: u64,
    pub rss_end_kib: u64,
    /// CPU time over wall time, in percent of one core (200 = both cores busy).
    pub cpu_pct: f64,
    pub seconds: f64,
}

/// Samples one process every 250 ms until finished.
pub struct Watch {
    pid: u32,
    start: Instant,
    first: Snapshot,
    peak: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Watch {
    pub fn start(pid: u32) -> std::io::Result<Self> {
        let first = snapshot(pid)?;
        let peak = Arc::new(AtomicU64::new(first.rss_kib));
        let p = Arc::clone(&peak);
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(250));
            // Bounded by `finish` (abort) and by the process ending.
            loop {
                tick.tick().await;
                match snapshot(pid) {
                    Ok(s) => {
                        p.fetch_max(s.rss_kib, Ordering::Relaxed);
                    }
                    Err(_) => break,
                }
            }
        });
        Ok(Self {
            pid,
            start: Instant::now(),
            first,
            peak,
            task,
        })
    }

    pub fn finish(self) -> Usage {
        self.task.abort();
        let last = snapshot(self.pid).unwrap_or(self.first);
        let seconds = self.start.elapsed().as_secs_f64();
        let ticks = last.cpu_ticks.saturating_sub(self.first.cpu_ticks) as f64;
        Usage {
            pid: self.pid,
            rss_start_kib: self.first.rss_kib,
            rss_peak_kib: self.peak.load(Ordering::Relaxed).max(last.rss_kib),
            rss_end_kib: last.rss_kib,
            cpu_pct: if seconds > 0.0 {
                100.0 * ticks / TICKS_PER_SEC / seconds
            } else {
                0.0
            },
            seconds,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_and_stat() {
        let status = "Name:\twidget-server\nVmHWM:\t  20480 kB\nVmRSS:\t  10240 kB\nThreads:\t3\n";
        assert_eq!(parse_status(status), (10240, 20480));
        assert_eq!(parse_status("Name: x\n"), (0, 0));
        let stat = "4242 (widget (srv) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 123 45 0 0 20 0 3 0 1000 0 0";
        assert_eq!(parse_stat(stat), Some(168));
        assert_eq!(parse_stat("garbage"), None);
    }

    #[tokio::test]
    async fn watches_this_process() {
        let w = Watch::start(std::process::id()).unwrap();
        // Burn a little CPU so the figure is not trivially zero.
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        assert_ne!(x, 1);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let u = w.finish();
        assert!(u.rss_peak_kib > 0);
        assert!(u.rss_peak_kib >= u.rss_end_kib);
        assert!(u.seconds > 0.2);
    }
}
