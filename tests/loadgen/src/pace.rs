//! Open-loop pacing: how many sends are due at a given moment for a target rate, so
//! that load is spread evenly in time (no per-second bursts) and a late tick catches
//! up exactly instead of drifting.

use std::time::Duration;

/// Counts sends due since the start of a window at `rate` per second.
#[derive(Debug, Clone)]
pub struct Pacer {
    rate: f64,
    issued: u64,
}

impl Pacer {
    pub fn new(rate: f64) -> Self {
        Self {
            rate: rate.max(0.0),
            issued: 0,
        }
    }

    /// Sends due now that `elapsed` has passed since the window opened; each call
    /// returns only the ones not yet handed out.
    pub fn due(&mut self, elapsed: Duration) -> u64 {
        let target = (elapsed.as_secs_f64() * self.rate).floor() as u64;
        let n = target.saturating_sub(self.issued);
        self.issued = self.issued.max(target);
        n
    }

    #[cfg(test)]
    pub fn issued(&self) -> u64 {
        self.issued
    }

    /// The tick period: one send per tick at low rates, never below 1 ms (the timer's
    /// resolution), so at 20,000/s each tick hands out about 20 sends to 20 sockets.
    pub fn tick(&self) -> Duration {
        if self.rate <= 0.0 {
            return Duration::from_millis(100);
        }
        Duration::from_secs_f64((1.0 / self.rate).clamp(0.001, 0.1))
    }
}

/// Round-robin over the sockets that can send, so every visitor sends at about
/// `rate / visitors` per second.
#[derive(Debug, Clone, Default)]
pub struct RoundRobin {
    next: usize,
}

impl RoundRobin {
    pub fn pick(&mut self, len: usize) -> Option<usize> {
        if len == 0 {
            return None;
        }
        let i = self.next % len;
        self.next = (i + 1) % len;
        Some(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_counts_are_exact_and_never_repeat() {
        let mut p = Pacer::new(1000.0);
        assert_eq!(p.due(Duration::from_millis(0)), 0);
        assert_eq!(p.due(Duration::from_millis(1)), 1);
        assert_eq!(p.due(Duration::from_micros(1500)), 0);
        assert_eq!(p.due(Duration::from_millis(10)), 9);
        // A late tick catches up in one go.
        assert_eq!(p.due(Duration::from_millis(250)), 240);
        // Time going "backwards" (a stale reading) hands out nothing.
        assert_eq!(p.due(Duration::from_millis(200)), 0);
        assert_eq!(p.due(Duration::from_secs(1)), 750);
        assert_eq!(p.issued(), 1000);
    }

    #[test]
    fn fractional_rates_accumulate() {
        let mut p = Pacer::new(2.5);
        let total: u64 = (1..=40)
            .map(|i| p.due(Duration::from_millis(100 * i)))
            .sum();
        assert_eq!(total, 10);
    }

    #[test]
    fn tick_is_bounded() {
        assert_eq!(Pacer::new(20_000.0).tick(), Duration::from_millis(1));
        assert_eq!(Pacer::new(1.0).tick(), Duration::from_millis(100));
        assert_eq!(Pacer::new(200.0).tick(), Duration::from_millis(5));
        assert_eq!(Pacer::new(0.0).tick(), Duration::from_millis(100));
    }

    #[test]
    fn round_robin_cycles() {
        let mut r = RoundRobin::default();
        let picks: Vec<_> = (0..7).filter_map(|_| r.pick(3)).collect();
        assert_eq!(picks, vec![0, 1, 2, 0, 1, 2, 0]);
        assert_eq!(r.pick(0), None);
        // The set shrinking does not index out of range.
        assert_eq!(r.pick(1), Some(0));
    }
}
