//! Rate limits per identity — a visitor, an agent, a client address — however many
//! sockets it opens: every socket of one identity draws from the same buckets.
//!
//! Classes: `Send` (messages and chat starts, `--send-rate-limit`/`--send-burst`),
//! `Typing`, `Event` (every other event, ping and sync included), and `NewVisitor`
//! (visitor identities a client address may create, per minute).
//!
//! With Redis (`--redis-url`) the buckets live there, so an identity draws from the same
//! buckets whichever node its sockets are on: one Lua script refills and takes a token
//! atomically, on the Redis clock. Were Redis not to answer, each node falls back to its
//! own buckets until it does.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use shared::{ApiError, ErrorCode};

use crate::Config;
use crate::cluster::Cluster;

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
    cluster: Cluster,
    script: redis::Script,
}

/// Refills the bucket `KEYS[1]` (`ARGV[1]` tokens per second, at most `ARGV[2]`) and
/// takes one token: 1 if there was one, 0 if not.
const TAKE_TOKEN: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1]) or burst
local ts = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate / 1000)
local ok = 0
if tokens >= 1 then
  tokens = tokens - 1
  ok = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return ok
"#;

impl Class {
    fn key(self) -> &'static str {
        match self {
            Class::Send => "send",
            Class::Typing => "typing",
            Class::Event => "event",
            Class::NewVisitor => "visitors",
        }
    }
}

impl Limits {
    /// Buckets kept in this process.
    pub fn new_local(config: &Config) -> Limits {
        Limits::new(config, Cluster::local())
    }

    pub fn new(config: &Config, cluster: Cluster) -> Limits {
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
            cluster,
            script: redis::Script::new(TAKE_TOKEN),
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
    pub async fn check_event(&self, event: &str, who: &str) -> Result<(), ApiError> {
        match Class::of(event) {
            Class::Send => Ok(()),
            class => self.take(class, who).await,
        }
    }

    /// Takes one token of `class` for `who`, or says how to slow down.
    pub async fn take(&self, class: Class, who: &str) -> Result<(), ApiError> {
        let rule = self.rule(class);
        if rule.rate == 0.0 {
            return Ok(());
        }
        if let Some((mut conn, prefix)) = self.cluster.redis() {
            let key = format!("{prefix}:rate:{}:{who}", class.key());
            let took: Result<i64, _> = self
                .script
                .key(key)
                .arg(rule.rate)
                .arg(rule.burst)
                .invoke_async(&mut conn)
                .await;
            match took {
                Ok(1) => return Ok(()),
                Ok(_) => return Err(refused(class, rule.rate)),
                Err(e) => {
                    tracing::warn!(error = %e, "Redis is not answering; rate limits are this node's own");
                }
            }
        }
        self.take_local(class, rule, who)
    }

    fn take_local(&self, class: Class, rule: Rule, who: &str) -> Result<(), ApiError> {
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
        Err(refused(class, rule.rate))
    }
}

fn refused(class: Class, rate: f64) -> ApiError {
    ApiError::new(ErrorCode::RateLimited, refusal(class, rate))
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
        Limits::new_local(&c)
    }

    impl Limits {
        fn take_now(&self, class: Class, who: &str) -> Result<(), ApiError> {
            let rule = self.rule(class);
            if rule.rate == 0.0 {
                return Ok(());
            }
            self.take_local(class, rule, who)
        }
    }

    #[test]
    fn one_identity_shares_its_bucket_and_others_have_their_own() {
        let l = limits(3);
        for _ in 0..3 {
            l.take_now(Class::Send, "c:vera").unwrap();
        }
        let e = l.take_now(Class::Send, "c:vera").unwrap_err();
        assert_eq!(e.code, ErrorCode::RateLimited);
        assert!(e.message.contains("3 messages/s"), "{}", e.message);
        l.take_now(Class::Send, "c:walt").unwrap();
        // Classes are apart: sending fast does not stop a sync.
        l.take_now(Class::Event, "c:vera").unwrap();
    }

    #[test]
    fn rate_zero_is_unlimited() {
        let l = limits(0);
        for _ in 0..1000 {
            l.take_now(Class::Send, "c:vera").unwrap();
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
