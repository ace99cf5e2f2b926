//! The fate of every message the load generator sends: when it left, whether it was
//! acked, failed, and reached its intended recipient — the basis of `lost`.

use std::sync::Mutex;

use serde::Serialize;

const ACKED: u8 = 1;
const DELIVERED: u8 = 2;
const FAILED: u8 = 4;

#[derive(Debug, Clone, Copy)]
struct Slot {
    /// Nanoseconds since the run's base instant, when the frame was handed to the socket.
    sent_ns: u64,
    flags: u8,
}

/// One slot list per sender (visitor or agent); each sender numbers its messages
/// 0, 1, 2, … so a message is found by index without hashing.
pub struct Tracker {
    senders: Vec<Mutex<Vec<Slot>>>,
    /// Senders below this index are visitors; the rest are agents.
    visitors: u32,
}

/// What [`Tracker::deliver`] learned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    pub sent_ns: u64,
    /// This is the first delivery to the intended recipient.
    pub first: bool,
}

/// Totals for one direction (visitor → agent or agent → visitor).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub sent: u64,
    pub acked: u64,
    pub failed: u64,
    pub delivered: u64,
    /// Acked but never delivered to the intended recipient.
    pub lost: u64,
    /// Neither acked nor failed (no answer at all).
    pub unacked: u64,
}

impl Tracker {
    pub fn new(visitors: u32, agents: u32) -> Self {
        let n = (visitors + agents) as usize;
        Self {
            senders: (0..n).map(|_| Mutex::new(Vec::new())).collect(),
            visitors,
        }
    }

    pub fn is_visitor(&self, sender: u32) -> bool {
        sender < self.visitors
    }

    fn with<R>(&self, sender: u32, f: impl FnOnce(&mut Vec<Slot>) -> R) -> Option<R> {
        let m = self.senders.get(sender as usize)?;
        // A poisoned lock only means another task panicked mid-update; the slots are
        // plain data and still usable for the report.
        let mut g = m.lock().unwrap_or_else(|p| p.into_inner());
        Some(f(&mut g))
    }

    /// Registers the next message of `sender` and returns its number.
    pub fn send(&self, sender: u32, sent_ns: u64) -> Option<u32> {
        self.with(sender, |v| {
            v.push(Slot { sent_ns, flags: 0 });
            (v.len() - 1) as u32
        })
    }

    /// Marks an ack; returns the send time the first time only.
    pub fn ack(&self, sender: u32, n: u32) -> Option<u64> {
        self.with(sender, |v| {
            let s = v.get_mut(n as usize)?;
            if s.flags & (ACKED | FAILED) != 0 {
                return None;
            }
            s.flags |= ACKED;
            Some(s.sent_ns)
        })
        .flatten()
    }

    /// Marks a refused send; returns whether this was news.
    pub fn fail(&self, sender: u32, n: u32) -> bool {
        self.with(sender, |v| match v.get_mut(n as usize) {
            Some(s) if s.flags & (ACKED | FAILED) == 0 => {
                s.flags |= FAILED;
                true
            }
            _ => false,
        })
        .unwrap_or(false)
    }

    /// A recipient saw the message; `intended` marks it delivered.
    pub fn deliver(&self, sender: u32, n: u32, intended: bool) -> Option<Delivery> {
        self.with(sender, |v| {
            let s = v.get_mut(n as usize)?;
            let first = intended && s.flags & DELIVERED == 0;
            if intended {
                s.flags |= DELIVERED;
            }
            Some(Delivery {
                sent_ns: s.sent_ns,
                first,
            })
        })
        .flatten()
    }

    /// (visitor → agent, agent → visitor) totals.
    pub fn tally(&self) -> (Tally, Tally) {
        let mut out = (Tally::default(), Tally::default());
        for (i, m) in self.senders.iter().enumerate() {
            let t = if (i as u32) < self.visitors {
                &mut out.0
            } else {
                &mut out.1
            };
            let g = m.lock().unwrap_or_else(|p| p.into_inner());
            for s in g.iter() {
                t.sent += 1;
                let acked = s.flags & ACKED != 0;
                let delivered = s.flags & DELIVERED != 0;
                t.acked += u64::from(acked);
                t.failed += u64::from(s.flags & FAILED != 0);
                t.delivered += u64::from(delivered);
                t.lost += u64::from(acked && !delivered);
                t.unacked += u64::from(s.flags & (ACKED | FAILED) == 0);
            }
        }
        out
    }

    /// The numbers of the acked messages of one sender (for storage verification).
    pub fn acked_numbers(&self, sender: u32) -> Vec<u32> {
        self.with(sender, |v| {
            v.iter()
                .enumerate()
                .filter(|(_, s)| s.flags & ACKED != 0)
                .map(|(i, _)| i as u32)
                .collect()
        })
        .unwrap_or_default()
    }

    pub fn senders(&self) -> u32 {
        self.senders.len() as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lost_is_acked_but_not_delivered() {
        let t = Tracker::new(2, 1);
        let a = t.send(0, 10).unwrap();
        let b = t.send(0, 20).unwrap();
        let c = t.send(1, 30).unwrap();
        let d = t.send(1, 40).unwrap();
        assert_eq!((a, b, c, d), (0, 1, 0, 1));
        assert_eq!(t.ack(0, a), Some(10));
        assert_eq!(t.ack(0, a), None, "second ack is not news");
        assert_eq!(t.ack(0, b), Some(20));
        assert!(t.fail(1, c));
        assert!(!t.fail(1, c));
        // Delivery to a bystander (fan-out) gives the time but does not count.
        assert_eq!(
            t.deliver(0, a, false),
            Some(Delivery {
                sent_ns: 10,
                first: false
            })
        );
        assert_eq!(
            t.deliver(0, a, true),
            Some(Delivery {
                sent_ns: 10,
                first: true
            })
        );
        assert!(!t.deliver(0, a, true).unwrap().first);
        assert_eq!(t.deliver(0, 99, true), None);
        assert_eq!(t.deliver(7, 0, true), None);
        let (v, r) = t.tally();
        assert_eq!(
            v,
            Tally {
                sent: 4,
                acked: 2,
                failed: 1,
                delivered: 1,
                lost: 1,
                unacked: 1
            }
        );
        assert_eq!(r, Tally::default());
        assert_eq!(t.acked_numbers(0), vec![0, 1]);
    }

    #[test]
    fn agents_are_tallied_as_replies() {
        let t = Tracker::new(1, 2);
        assert!(t.is_visitor(0));
        assert!(!t.is_visitor(1));
        let n = t.send(2, 5).unwrap();
        assert_eq!(t.ack(2, n), Some(5));
        t.deliver(2, n, true);
        let (v, r) = t.tally();
        assert_eq!(v.sent, 0);
        assert_eq!((r.sent, r.acked, r.delivered, r.lost), (1, 1, 1, 0));
    }
}
