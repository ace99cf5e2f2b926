//! Rate limits per identity — a visitor, an agent, a client address — however many
//! sockets it opens: every socket of one identity draws from the same buckets.
//!
//! Classes: `Send` (messages and chat starts, `--send-rate-limit`/`--send-burst`),
//! `Typing`, `Event` (every other event, ping and sync included), and `NewVisitor`
//! (visitor identities a client address may create, per minute).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use shared::{ApiError, ErrorCode};

use crate::Config;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    Send,
    Typing,
    Event,
    NewVisitor,
}

impl Class {
    /// The class an event's limit comes from.
    pub fn of(event: &str) -> Class {
        use shared::events as ev;
        match event {
            ev::MESSAGE_SEND | ev::CHAT_START => Class::Send,
            ev::TYPING => Class::Typing,
            _ => Class::Event,
        }
    }
}

/// Every other event: generous for a person, small for a script.
pub const EVENT_RATE: u32 = 30;
pub const EVENT_BURST: u32 = 60;
pub const TYPING_RATE: u32 = 5;
pub const TYPING_BURST: u32 = 10;
/// New visitor identities per client address, per minute.
pub const NEW_VISITORS_PER_MINUTE: u32 = 30;

/// Past this many tracked identities, the idle ones (bucket full again) are forgotten.
const MAX_TRACKED: usize = 100_000;

struct Bucket {
    tokens: f64,
    last: Instant,
}

#[derive(Clone, Copy)]
struct Rule {
    /// Tokens per second; 0 = unlimited.
    rate: f64,
    burst: f64,
}

pub struct Limits {
    buckets: Mutex<HashMap<(Class, String), Bucket>>,
    send: Rule,
    typing: Rule,
    event: Rule,
    new_visitor: Rule,
}

impl Limits {
    pub fn new(config: &Config) -> Limits {
        let rule = |rate: u32, burst: u32| Rule {
            rate: f64::from(rate),
            burst: f64::from(burst.max(rate).max(1)),
        };
        Limits {
            buckets: Mutex::new(HashMap::new()),
            send: rule(config.send_rate_limit, config.send_burst),
            typing: rule(TYPING_RATE, TYPING_BURST),
            event: rule(
                config.event_rate_limit,
                config.event_rate_limit.saturating_mul(2),
            ),
            new_visitor: Rule {
                rate: f64::from(config.new_visitors_per_minute) / 60.0,
                burst: f64::from(config.new_visitors_per_minute.max(1)),
            },
        }
    }

    fn rule(&self, class: Class) -> Rule {
        match class {
            Class::Send => self.send,
            Class::Typing => self.typing,
            Class::Event => self.event,
            Class::NewVisitor => self.new_visitor,
        }
    }

    /// The limit every event passes before its handler runs. Messages and chat starts
    /// are charged by their handlers instead, after validation, so a refused payload
    /// costs nothing.
    pub fn check_event(&self, event: &str, who: &str) -> Result<(), ApiError> {
        match Class::of(event) {
            Class::Send => Ok(()),
            class => self.take(class, who),
        }
    }

    /// Takes one token of `class` for `who`, or says how to slow down.
    pub fn take(&self, class: Class, who: &str) -> Result<(), ApiError> {
        let rule = self.rule(class);
        if rule.rate == 0.0 {
            return Ok(());
        }
        let Ok(mut map) = self.buckets.lock() else {
            return Ok(());
        };
        let now = Instant::now();
        if map.len() >= MAX_TRACKED {
            map.retain(|(c, _), b| {
                let r = self.rule(*c);
                b.tokens + now.duration_since(b.last).as_secs_f64() * r.rate < r.burst
            });
        }
        let b = map.entry((class, who.to_owned())).or_insert(Bucket {
            tokens: rule.burst,
            last: now,
        });
        b.tokens =
            (b.tokens + now.duration_since(b.last).as_secs_f64() * rule.rate).min(rule.burst);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            return Ok(());
        }
        Err(ApiError::new(
            ErrorCode::RateLimited,
            refusal(class, rule.rate),
        ))
    }
}

fn refusal(class: Class, rate: f64) -> String {
    match class {
        Class::Send => {
            format!("you are sending too fast (limit {rate} messages/s); slow down and retry")
        }
        Class::Typing => format!("too many typing signals (limit {rate}/s)"),
        Class::Event => format!("too many requests (limit {rate} events/s); slow down and retry"),
        Class::NewVisitor => "too many new visitors from your address; retry in a minute".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(send: u32) -> Limits {
        let mut c = Config::new("/nonexistent");
        c.send_rate_limit = send;
        c.send_burst = send;
        Limits::new(&c)
    }

    #[test]
    fn one_identity_shares_its_bucket_and_others_have_their_own() {
        let l = limits(3);
        for _ in 0..3 {
            l.take(Class::Send, "c:vera").unwrap();
        }
        let e = l.take(Class::Send, "c:vera").unwrap_err();
        assert_eq!(e.code, ErrorCode::RateLimited);
        assert!(e.message.contains("3 messages/s"), "{}", e.message);
        l.take(Class::Send, "c:walt").unwrap();
        // Classes are apart: sending fast does not stop a sync.
        l.take(Class::Event, "c:vera").unwrap();
    }

    #[test]
    fn rate_zero_is_unlimited() {
        let l = limits(0);
        for _ in 0..1000 {
            l.take(Class::Send, "c:vera").unwrap();
        }
    }

    #[test]
    fn events_are_classed_by_name() {
        assert_eq!(Class::of(shared::events::MESSAGE_SEND), Class::Send);
        assert_eq!(Class::of(shared::events::CHAT_START), Class::Send);
        assert_eq!(Class::of(shared::events::TYPING), Class::Typing);
        assert_eq!(Class::of(shared::events::SYNC), Class::Event);
        assert_eq!(Class::of(shared::events::PING), Class::Event);
    }
}
