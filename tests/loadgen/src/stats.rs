//! Latency histograms and event counters shared by every socket task, and the
//! latency summaries that reports carry.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use hdrhistogram::Histogram;
use serde::Serialize;

/// Latencies are recorded in microseconds, from 1 µs to 10 minutes.
const MAX_US: u64 = 600_000_000;

/// Which latency a sample belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lat {
    /// Visitor `message:send` → its ack.
    Ack,
    /// Visitor send → an agent's `message:new` (every recipient of a fan-out).
    Delivery,
    /// Agent reply → its ack.
    ReplyAck,
    /// Agent reply → the visitor's `message:new`.
    ReplyDelivery,
}

struct Hists {
    ack: Histogram<u64>,
    delivery: Histogram<u64>,
    reply_ack: Histogram<u64>,
    reply_delivery: Histogram<u64>,
}

impl Hists {
    fn new() -> Result<Self, hdrhistogram::CreationError> {
        let h = || Histogram::<u64>::new_with_bounds(1, MAX_US, 3);
        Ok(Self {
            ack: h()?,
            delivery: h()?,
            reply_ack: h()?,
            reply_delivery: h()?,
        })
    }
    fn get(&mut self, which: Lat) -> &mut Histogram<u64> {
        match which {
            Lat::Ack => &mut self.ack,
            Lat::Delivery => &mut self.delivery,
            Lat::ReplyAck => &mut self.reply_ack,
            Lat::ReplyDelivery => &mut self.reply_delivery,
        }
    }
}

/// Counters and histograms of the whole run; one instance shared by all tasks.
pub struct Stats {
    hists: Mutex<Hists>,
    errors: Mutex<BTreeMap<String, u64>>,
    /// Every `message:new` that reached one of our agents (counts fan-out copies).
    pub deliveries: AtomicU64,
    /// Sends the scheduler wanted but a socket could not take (too many unacked).
    pub skipped: AtomicU64,
    /// Acked loads (both directions), for windowed throughput.
    pub acked: AtomicU64,
    /// Resolved loads (acked or failed), to know when the run has drained.
    pub resolved: AtomicU64,
    pub sent: AtomicU64,
    /// First deliveries to the intended recipient, to know when the run has drained.
    pub delivered: AtomicU64,
    /// Visitor messages only (the rate the scenarios are about).
    pub visitor_sent: AtomicU64,
    pub visitor_acked: AtomicU64,
}

/// A latency distribution in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct LatSummary {
    pub count: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

impl LatSummary {
    fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Self::default();
        }
        let ms = |us: u64| us as f64 / 1000.0;
        Self {
            count: h.len(),
            p50_ms: ms(h.value_at_quantile(0.50)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            p999_ms: ms(h.value_at_quantile(0.999)),
            max_ms: ms(h.max()),
            mean_ms: h.mean() / 1000.0,
        }
    }
}

/// The four latency summaries at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Latencies {
    pub ack: LatSummary,
    pub delivery: LatSummary,
    pub reply_ack: LatSummary,
    pub reply_delivery: LatSummary,
}

impl Stats {
    pub fn new() -> anyhow::Result<Self> {
        Ok(Self {
            hists: Mutex::new(Hists::new()?),
            errors: Mutex::new(BTreeMap::new()),
            deliveries: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
            acked: AtomicU64::new(0),
            resolved: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            visitor_sent: AtomicU64::new(0),
            visitor_acked: AtomicU64::new(0),
        })
    }

    pub fn record(&self, which: Lat, micros: u64) {
        let mut h = self.hists.lock().unwrap_or_else(|p| p.into_inner());
        h.get(which).saturating_record(micros.clamp(1, MAX_US));
    }

    /// Counts an error under a short key such as `rate_limited` or `connect:refused`.
    pub fn error(&self, key: impl Into<String>) {
        let mut e = self.errors.lock().unwrap_or_else(|p| p.into_inner());
        *e.entry(key.into()).or_insert(0) += 1;
    }

    pub fn errors(&self) -> BTreeMap<String, u64> {
        self.errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn error_total(&self) -> u64 {
        self.errors().values().sum()
    }

    pub fn latencies(&self) -> Latencies {
        let h = self.hists.lock().unwrap_or_else(|p| p.into_inner());
        Latencies {
            ack: LatSummary::of(&h.ack),
            delivery: LatSummary::of(&h.delivery),
            reply_ack: LatSummary::of(&h.reply_ack),
            reply_delivery: LatSummary::of(&h.reply_delivery),
        }
    }

    /// Starts a new measurement window (warm-up over, or the next ramp step).
    pub fn reset_latencies(&self) {
        let mut h = self.hists.lock().unwrap_or_else(|p| p.into_inner());
        h.ack.reset();
        h.delivery.reset();
        h.reply_ack.reset();
        h.reply_delivery.reset();
    }

    pub fn load(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }

    pub fn bump(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_are_in_milliseconds_and_reset_per_window() {
        let s = Stats::new().unwrap();
        for us in 1..=1000 {
            s.record(Lat::Delivery, us * 10);
        }
        s.record(Lat::Ack, 2_500);
        let l = s.latencies();
        assert_eq!(l.delivery.count, 1000);
        assert!((l.delivery.p50_ms - 5.0).abs() < 0.01, "{:?}", l.delivery);
        assert!((l.delivery.p99_ms - 9.9).abs() < 0.02, "{:?}", l.delivery);
        assert!((l.delivery.max_ms - 10.0).abs() < 0.01, "{:?}", l.delivery);
        assert!((l.ack.p50_ms - 2.5).abs() < 0.01);
        assert_eq!(l.reply_ack, LatSummary::default());
        s.reset_latencies();
        assert_eq!(s.latencies().delivery.count, 0);
        // Out-of-range samples are clamped, not dropped.
        s.record(Lat::Ack, 0);
        s.record(Lat::Ack, u64::MAX);
        assert_eq!(s.latencies().ack.count, 2);
    }

    #[test]
    fn errors_are_counted_by_key() {
        let s = Stats::new().unwrap();
        s.error("rate_limited");
        s.error("rate_limited");
        s.error("connect:unauthorized");
        assert_eq!(s.errors().get("rate_limited"), Some(&2));
        assert_eq!(s.error_total(), 3);
    }
}
