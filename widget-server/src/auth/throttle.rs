//! The sign-in throttle: per-account lockout with attempts reserved before the
//! password is checked, and a bounded slow-down for noisy addresses.
//!
//! An account allows five attempts that are failed or still being checked; the fifth
//! failure within fifteen minutes locks it for five minutes. The budget is taken under
//! the throttle's lock *before* the password is hashed, so concurrent guesses cannot
//! overtake the count. An address is never locked (behind a shared proxy or NAT that
//! would lock out everyone behind it): from its twentieth failure on, its attempts are
//! delayed instead, a little more for each further failure, up to a bound.
//!
//! With Redis (`--redis-url`) the counts are kept there, so that they hold across
//! nodes: a Lua script reserves an attempt (checking the lock and the budget, then
//! holding a ticket) and another settles it, each atomic on the Redis clock. A ticket
//! whose node died before settling it lapses after [`HOLD`]. While Redis does not
//! answer, sign-ins are refused as `unavailable` rather than left unthrottled.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use shared::{ApiError, ErrorCode};

use crate::cluster::{Cluster, unavailable};

pub const WINDOW: Duration = Duration::from_secs(15 * 60);
pub const LOCKOUT: Duration = Duration::from_secs(5 * 60);
pub const MAX_PER_ACCOUNT: u32 = 5;
/// Failures from one address before its attempts are slowed down.
pub const QUIET_PER_ADDRESS: u32 = 20;
/// The added delay per failure from the twentieth on.
pub const ADDRESS_DELAY_STEP: Duration = Duration::from_millis(250);
pub const MAX_ADDRESS_DELAY: Duration = Duration::from_secs(5);
/// Past this many tracked accounts and addresses, stale entries are dropped.
const PRUNE_ABOVE: usize = 100_000;
/// How long a reserved attempt counts against its account in Redis if the node that
/// reserved it never settles it (it died during the check).
pub const HOLD: Duration = Duration::from_secs(60);

pub struct LoginThrottle {
    inner: Mutex<Entries>,
    cluster: Cluster,
    reserve_script: redis::Script,
    settle_script: redis::Script,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        LoginThrottle::new(Cluster::local())
    }
}

/// KEYS: the account's hash, its tickets. ARGV: ticket, window ms, max, hold ms.
/// Returns {0, 0} reserved, {1, ms} locked for ms more, {2, 0} budget in use.
const RESERVE: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window, max, hold = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local a = redis.call('HMGET', KEYS[1], 'failures', 'window_start', 'locked_until')
local failures = tonumber(a[1]) or 0
local ws = tonumber(a[2]) or now
local locked = tonumber(a[3]) or 0
if locked > now then
  return {1, locked - now}
end
if now - ws > window then
  failures = 0
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local pending = redis.call('ZCARD', KEYS[2])
if failures + pending >= max then
  return {2, 0}
end
redis.call('ZADD', KEYS[2], now + hold, ARGV[1])
redis.call('PEXPIRE', KEYS[2], hold)
return {0, 0}
"#;

/// KEYS: the account's hash, its tickets, the address counter. ARGV: ticket, outcome
/// (ok, fail, skip), window ms, lockout ms, max, whether the address counts (1/0).
const SETTLE: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window, lockout, max = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
redis.call('ZREM', KEYS[2], ARGV[1])
if ARGV[2] == 'ok' then
  redis.call('DEL', KEYS[1])
  return 0
end
if ARGV[2] ~= 'fail' then
  return 0
end
local a = redis.call('HMGET', KEYS[1], 'failures', 'window_start')
local failures = tonumber(a[1]) or 0
local ws = tonumber(a[2]) or now
if now - ws > window then
  failures = 0
  ws = now
end
failures = failures + 1
if failures >= max then
  redis.call('HSET', KEYS[1], 'failures', 0, 'window_start', now, 'locked_until', now + lockout)
else
  redis.call('HSET', KEYS[1], 'failures', failures, 'window_start', ws)
end
redis.call('PEXPIRE', KEYS[1], window + lockout)
if ARGV[6] == '1' then
  if redis.call('INCR', KEYS[3]) == 1 then
    redis.call('PEXPIRE', KEYS[3], window)
  end
end
return 0
"#;

#[derive(Default)]
struct Entries {
    accounts: HashMap<String, Account>,
    addresses: HashMap<IpAddr, Address>,
}

struct Account {
    failures: u32,
    /// Attempts reserved and not yet decided.
    pending: u32,
    window_start: Instant,
    locked_until: Option<Instant>,
}

struct Address {
    failures: u32,
    window_start: Instant,
}

impl Account {
    fn new(now: Instant) -> Account {
        Account {
            failures: 0,
            pending: 0,
            window_start: now,
            locked_until: None,
        }
    }

    fn roll(&mut self, now: Instant) {
        if self.locked_until.is_some_and(|u| u <= now) {
            self.locked_until = None;
        }
        if now.duration_since(self.window_start) > WINDOW {
            self.failures = 0;
            self.window_start = now;
        }
    }

    fn stale(&self, now: Instant) -> bool {
        self.pending == 0
            && self.locked_until.is_none_or(|u| u <= now)
            && now.duration_since(self.window_start) > WINDOW
    }
}

impl Address {
    fn roll(&mut self, now: Instant) {
        if now.duration_since(self.window_start) > WINDOW {
            self.failures = 0;
            self.window_start = now;
        }
    }
}

impl Entries {
    fn prune(&mut self, now: Instant) {
        if self.accounts.len() + self.addresses.len() > PRUNE_ABOVE {
            self.accounts.retain(|_, a| !a.stale(now));
            self.addresses
                .retain(|_, a| now.duration_since(a.window_start) <= WINDOW);
        }
    }
}

fn rate_limited(message: String) -> ApiError {
    ApiError::new(ErrorCode::RateLimited, message)
}

/// One reserved sign-in attempt. It counts as a failure unless it is settled as
/// [`Attempt::succeeded`] or [`Attempt::not_checked`]: an attempt dropped half-way (the
/// client hung up while its password was being hashed) stays counted.
#[must_use = "an attempt counts as failed unless settled"]
pub struct Attempt<'a> {
    throttle: &'a LoginThrottle,
    account: String,
    ip: Option<IpAddr>,
    settled: bool,
    /// The ticket held in Redis, when the counts are kept there.
    ticket: Option<String>,
}

impl Attempt<'_> {
    /// The password was right: the account's failures and lock are cleared.
    pub async fn succeeded(mut self) {
        self.settle(Outcome::Succeeded).await;
    }

    /// The password was wrong (or the account unknown).
    pub async fn failed(mut self) {
        self.settle(Outcome::Failed).await;
    }

    /// The server could not check the password (busy, store error): no guess was
    /// made, so nothing is counted.
    pub async fn not_checked(mut self) {
        self.settle(Outcome::NotChecked).await;
    }

    async fn settle(&mut self, outcome: Outcome) {
        self.settled = true;
        match self.ticket.take() {
            Some(ticket) => {
                if let Some((mut conn, prefix)) = self.throttle.cluster.redis() {
                    let keys = Keys::new(prefix, &self.account, self.ip);
                    let r = keys
                        .settle(&self.throttle.settle_script, &ticket, outcome, &mut conn)
                        .await;
                    if let Err(e) = r {
                        tracing::warn!(error = %e, "could not settle a sign-in attempt in Redis");
                    }
                }
            }
            None => self.throttle.settle(&self.account, self.ip, outcome),
        }
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        match (self.ticket.take(), self.throttle.cluster.redis()) {
            (Some(ticket), Some((mut conn, prefix))) => {
                let keys = Keys::new(prefix, &self.account, self.ip);
                let script = self.throttle.settle_script.clone();
                tokio::spawn(async move {
                    let r = keys
                        .settle(&script, &ticket, Outcome::Failed, &mut conn)
                        .await;
                    if let Err(e) = r {
                        tracing::warn!(error = %e, "could not settle a sign-in attempt in Redis");
                    }
                });
            }
            _ => self
                .throttle
                .settle(&self.account, self.ip, Outcome::Failed),
        }
    }
}

/// The Redis keys of one attempt.
struct Keys {
    account: String,
    tickets: String,
    address: Option<String>,
}

impl Keys {
    fn new(prefix: &str, account: &str, ip: Option<IpAddr>) -> Keys {
        Keys {
            account: format!("{prefix}:login:account:{account}"),
            tickets: format!("{prefix}:login:held:{account}"),
            address: ip.map(|ip| address_key(prefix, ip)),
        }
    }

    async fn settle(
        &self,
        script: &redis::Script,
        ticket: &str,
        outcome: Outcome,
        conn: &mut redis::aio::ConnectionManager,
    ) -> redis::RedisResult<()> {
        let outcome = match outcome {
            Outcome::Succeeded => "ok",
            Outcome::Failed => "fail",
            Outcome::NotChecked => "skip",
        };
        let _: i64 = script
            .key(&self.account)
            .key(&self.tickets)
            .key(self.address.as_deref().unwrap_or(&self.account))
            .arg(ticket)
            .arg(outcome)
            .arg(WINDOW.as_millis() as u64)
            .arg(LOCKOUT.as_millis() as u64)
            .arg(MAX_PER_ACCOUNT)
            .arg(if self.address.is_some() { "1" } else { "0" })
            .invoke_async(conn)
            .await?;
        Ok(())
    }
}

fn address_key(prefix: &str, ip: IpAddr) -> String {
    format!("{prefix}:login:address:{ip}")
}

fn locked_for(secs: u64) -> ApiError {
    rate_limited(format!(
        "too many failed sign-ins; try again in {secs} seconds"
    ))
}

fn budget_in_use() -> ApiError {
    rate_limited(
        "too many sign-in attempts for this account at once; try again in a few seconds".to_owned(),
    )
}

#[derive(Clone, Copy, PartialEq)]
enum Outcome {
    Succeeded,
    Failed,
    NotChecked,
}

impl LoginThrottle {
    /// A throttle whose counts live in Redis when `cluster` has it, in this process if not.
    pub fn new(cluster: Cluster) -> LoginThrottle {
        LoginThrottle {
            inner: Mutex::default(),
            cluster,
            reserve_script: redis::Script::new(RESERVE),
            settle_script: redis::Script::new(SETTLE),
        }
    }

    /// Reserves one attempt for `account` (a normalised e-mail) from `ip`, or refuses
    /// with `rate_limited` while the account is locked or its remaining attempts are
    /// all being checked already (`unavailable` when the counts are in Redis and it
    /// does not answer).
    pub async fn reserve(
        &self,
        account: &str,
        ip: Option<IpAddr>,
    ) -> Result<Attempt<'_>, ApiError> {
        let Some((mut conn, prefix)) = self.cluster.redis() else {
            return self.reserve_local(account, ip);
        };
        let keys = Keys::new(prefix, account, ip);
        let ticket = uuid::Uuid::new_v4().to_string();
        let (code, ms): (i64, i64) = self
            .reserve_script
            .key(&keys.account)
            .key(&keys.tickets)
            .arg(&ticket)
            .arg(WINDOW.as_millis() as u64)
            .arg(MAX_PER_ACCOUNT)
            .arg(HOLD.as_millis() as u64)
            .invoke_async(&mut conn)
            .await
            .map_err(|e| unavailable(&e))?;
        match code {
            0 => Ok(Attempt {
                throttle: self,
                account: account.to_owned(),
                ip,
                settled: false,
                ticket: Some(ticket),
            }),
            1 => Err(locked_for((ms.max(0) as u64).div_ceil(1000).max(1))),
            _ => Err(budget_in_use()),
        }
    }

    fn reserve_local(&self, account: &str, ip: Option<IpAddr>) -> Result<Attempt<'_>, ApiError> {
        let now = Instant::now();
        let mut entries = self.inner.lock().map_err(|_| ApiError::internal())?;
        entries.prune(now);
        let a = entries
            .accounts
            .entry(account.to_owned())
            .or_insert_with(|| Account::new(now));
        a.roll(now);
        if let Some(until) = a.locked_until {
            return Err(locked_for((until - now).as_secs().max(1)));
        }
        if a.failures + a.pending >= MAX_PER_ACCOUNT {
            return Err(budget_in_use());
        }
        a.pending += 1;
        Ok(Attempt {
            throttle: self,
            account: account.to_owned(),
            ip,
            settled: false,
            ticket: None,
        })
    }

    fn settle(&self, account: &str, ip: Option<IpAddr>, outcome: Outcome) {
        let Ok(mut entries) = self.inner.lock() else {
            return;
        };
        let now = Instant::now();
        if let Some(a) = entries.accounts.get_mut(account) {
            a.pending = a.pending.saturating_sub(1);
            a.roll(now);
            match outcome {
                Outcome::Succeeded => {
                    a.failures = 0;
                    a.locked_until = None;
                }
                Outcome::Failed => {
                    a.failures += 1;
                    if a.failures >= MAX_PER_ACCOUNT {
                        a.locked_until = Some(now + LOCKOUT);
                        a.failures = 0;
                        a.window_start = now;
                    }
                }
                Outcome::NotChecked => {}
            }
            // Nothing left to remember: drop it, so that attempts which cost the
            // attacker nothing (refused as busy) cannot fill the map either.
            if a.pending == 0 && a.failures == 0 && a.locked_until.is_none() {
                entries.accounts.remove(account);
            }
        }
        if outcome == Outcome::Failed
            && let Some(ip) = ip
        {
            let addr = entries.addresses.entry(ip).or_insert(Address {
                failures: 0,
                window_start: now,
            });
            addr.roll(now);
            addr.failures = addr.failures.saturating_add(1);
        }
    }

    /// Failed sign-ins from `ip` in the current window (as far as Redis, if it holds
    /// them, answers: an address it cannot count is not slowed down).
    pub async fn address_failures(&self, ip: IpAddr) -> u32 {
        if let Some((mut conn, prefix)) = self.cluster.redis() {
            let n: redis::RedisResult<Option<u32>> = redis::cmd("GET")
                .arg(address_key(prefix, ip))
                .query_async(&mut conn)
                .await;
            return match n {
                Ok(n) => n.unwrap_or(0),
                Err(e) => {
                    tracing::warn!(error = %e, "Redis is not answering");
                    0
                }
            };
        }
        self.local_address_failures(ip)
    }

    fn local_address_failures(&self, ip: IpAddr) -> u32 {
        let now = Instant::now();
        self.inner
            .lock()
            .ok()
            .and_then(|e| {
                e.addresses
                    .get(&ip)
                    .filter(|a| now.duration_since(a.window_start) <= WINDOW)
                    .map(|a| a.failures)
            })
            .unwrap_or(0)
    }

    /// Whether `ip` has failed often enough to be slowed down.
    pub async fn is_noisy(&self, ip: Option<IpAddr>) -> bool {
        match ip {
            Some(ip) => self.address_failures(ip).await >= QUIET_PER_ADDRESS,
            None => false,
        }
    }

    /// How long an attempt from `ip` waits before its password is checked.
    pub async fn delay(&self, ip: Option<IpAddr>) -> Duration {
        let Some(ip) = ip else {
            return Duration::ZERO;
        };
        address_delay(self.address_failures(ip).await)
    }
}

/// Nothing below the quiet allowance, then one step more per failure, bounded.
pub fn address_delay(failures: u32) -> Duration {
    if failures < QUIET_PER_ADDRESS {
        return Duration::ZERO;
    }
    ADDRESS_DELAY_STEP
        .saturating_mul(failures - QUIET_PER_ADDRESS + 1)
        .min(MAX_ADDRESS_DELAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(r: Result<Attempt<'_>, ApiError>) -> Option<ErrorCode> {
        r.err().map(|e| e.code)
    }

    #[tokio::test]
    async fn five_failures_lock_the_account_even_for_the_right_password() {
        let th = LoginThrottle::default();
        for _ in 0..MAX_PER_ACCOUNT - 1 {
            th.reserve("a@b.c", None).await.unwrap().failed().await;
            th.reserve("a@b.c", None).await.unwrap().not_checked().await;
        }
        th.reserve("a@b.c", None).await.unwrap().failed().await;
        assert_eq!(
            code(th.reserve("a@b.c", None).await),
            Some(ErrorCode::RateLimited)
        );
        assert!(th.reserve("other@b.c", None).await.is_ok());
    }

    #[tokio::test]
    async fn reservations_in_flight_use_up_the_account_budget() {
        let th = LoginThrottle::default();
        let mut held = Vec::new();
        for _ in 0..MAX_PER_ACCOUNT {
            held.push(th.reserve("a@b.c", None).await.unwrap());
        }
        let refused = th.reserve("a@b.c", None).await.err().unwrap();
        assert_eq!(refused.code, ErrorCode::RateLimited);
        assert!(refused.message.contains("at once"), "{}", refused.message);
        // Dropped unsettled: each counts as a failure, and together they lock.
        drop(held);
        let locked = th.reserve("a@b.c", None).await.err().unwrap();
        assert!(
            locked.message.contains("failed sign-ins"),
            "{}",
            locked.message
        );
    }

    #[tokio::test]
    async fn a_success_clears_failures_and_unchecked_attempts_cost_nothing() {
        let th = LoginThrottle::default();
        for _ in 0..MAX_PER_ACCOUNT - 1 {
            th.reserve("a@b.c", None).await.unwrap().failed().await;
        }
        th.reserve("a@b.c", None).await.unwrap().succeeded().await;
        for _ in 0..10 {
            th.reserve("a@b.c", None).await.unwrap().not_checked().await;
        }
        for _ in 0..MAX_PER_ACCOUNT - 1 {
            th.reserve("a@b.c", None).await.unwrap().failed().await;
        }
        assert!(th.reserve("a@b.c", None).await.is_ok());
    }

    #[tokio::test]
    async fn attempts_that_leave_nothing_to_count_are_not_kept() {
        let th = LoginThrottle::default();
        for i in 0..1000 {
            th.reserve(&format!("u{i}@b.c"), None)
                .await
                .unwrap()
                .not_checked()
                .await;
        }
        th.reserve("a@b.c", None).await.unwrap().succeeded().await;
        th.reserve("f@b.c", None).await.unwrap().failed().await;
        let entries = th.inner.lock().unwrap();
        assert_eq!(entries.accounts.len(), 1);
        assert!(entries.accounts.contains_key("f@b.c"));
    }

    #[tokio::test]
    async fn a_noisy_address_is_slowed_down_never_locked() {
        let th = LoginThrottle::default();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for i in 0..40 {
            th.reserve(&format!("user{i}@b.c"), Some(ip))
                .await
                .unwrap()
                .failed()
                .await;
        }
        assert_eq!(th.address_failures(ip).await, 40);
        assert!(th.is_noisy(Some(ip)).await);
        assert!(th.reserve("fresh@b.c", Some(ip)).await.is_ok());
        assert_eq!(th.delay(Some(ip)).await, MAX_ADDRESS_DELAY);
        assert_eq!(
            th.delay(Some("192.0.2.2".parse().unwrap())).await,
            Duration::ZERO
        );
    }

    #[test]
    fn the_address_delay_grows_and_is_bounded() {
        assert_eq!(address_delay(0), Duration::ZERO);
        assert_eq!(address_delay(QUIET_PER_ADDRESS - 1), Duration::ZERO);
        assert_eq!(address_delay(QUIET_PER_ADDRESS), ADDRESS_DELAY_STEP);
        assert_eq!(address_delay(QUIET_PER_ADDRESS + 1), ADDRESS_DELAY_STEP * 2);
        assert_eq!(address_delay(u32::MAX), MAX_ADDRESS_DELAY);
    }
}
