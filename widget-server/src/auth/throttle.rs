//! The sign-in throttle: per-account lockout with attempts reserved before the
//! password is checked, and a bounded slow-down for noisy addresses.
//!
//! An account allows five attempts that are failed or still being checked; the fifth
//! failure within fifteen minutes locks it for five minutes. The budget is taken under
//! the throttle's lock *before* the password is hashed, so concurrent guesses cannot
//! overtake the count. An address is never locked (behind a shared proxy or NAT that
//! would lock out everyone behind it): from its twentieth failure on, its attempts are
//! delayed instead, a little more for each further failure, up to a bound.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use shared::{ApiError, ErrorCode};

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

#[derive(Default)]
pub struct LoginThrottle {
    inner: Mutex<Entries>,
}

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
}

impl Attempt<'_> {
    /// The password was right: the account's failures and lock are cleared.
    pub fn succeeded(mut self) {
        self.settled = true;
        self.throttle
            .settle(&self.account, self.ip, Outcome::Succeeded);
    }

    /// The password was wrong (or the account unknown).
    pub fn failed(mut self) {
        self.settled = true;
        self.throttle
            .settle(&self.account, self.ip, Outcome::Failed);
    }

    /// The server could not check the password (busy, store error): no guess was
    /// made, so nothing is counted.
    pub fn not_checked(mut self) {
        self.settled = true;
        self.throttle
            .settle(&self.account, self.ip, Outcome::NotChecked);
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.settled {
            self.throttle
                .settle(&self.account, self.ip, Outcome::Failed);
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Outcome {
    Succeeded,
    Failed,
    NotChecked,
}

impl LoginThrottle {
    /// Reserves one attempt for `account` (a normalised e-mail) from `ip`, or refuses
    /// with `rate_limited` while the account is locked or its remaining attempts are
    /// all being checked already.
    pub fn reserve(&self, account: &str, ip: Option<IpAddr>) -> Result<Attempt<'_>, ApiError> {
        let now = Instant::now();
        let mut entries = self.inner.lock().map_err(|_| ApiError::internal())?;
        entries.prune(now);
        let a = entries
            .accounts
            .entry(account.to_owned())
            .or_insert_with(|| Account::new(now));
        a.roll(now);
        if let Some(until) = a.locked_until {
            let secs = (until - now).as_secs().max(1);
            return Err(rate_limited(format!(
                "too many failed sign-ins; try again in {secs} seconds"
            )));
        }
        if a.failures + a.pending >= MAX_PER_ACCOUNT {
            return Err(rate_limited(
                "too many sign-in attempts for this account at once; try again in a few seconds"
                    .to_owned(),
            ));
        }
        a.pending += 1;
        Ok(Attempt {
            throttle: self,
            account: account.to_owned(),
            ip,
            settled: false,
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

    /// Failed sign-ins from `ip` in the current window.
    pub fn address_failures(&self, ip: IpAddr) -> u32 {
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
    pub fn is_noisy(&self, ip: Option<IpAddr>) -> bool {
        ip.is_some_and(|ip| self.address_failures(ip) >= QUIET_PER_ADDRESS)
    }

    /// How long an attempt from `ip` waits before its password is checked.
    pub fn delay(&self, ip: Option<IpAddr>) -> Duration {
        let Some(ip) = ip else {
            return Duration::ZERO;
        };
        address_delay(self.address_failures(ip))
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

    #[test]
    fn five_failures_lock_the_account_even_for_the_right_password() {
        let th = LoginThrottle::default();
        for _ in 0..MAX_PER_ACCOUNT - 1 {
            th.reserve("a@b.c", None).unwrap().failed();
            th.reserve("a@b.c", None).unwrap().not_checked();
        }
        th.reserve("a@b.c", None).unwrap().failed();
        assert_eq!(
            code(th.reserve("a@b.c", None)),
            Some(ErrorCode::RateLimited)
        );
        assert!(th.reserve("other@b.c", None).is_ok());
    }

    #[test]
    fn reservations_in_flight_use_up_the_account_budget() {
        let th = LoginThrottle::default();
        let held: Vec<_> = (0..MAX_PER_ACCOUNT)
            .map(|_| th.reserve("a@b.c", None).unwrap())
            .collect();
        let refused = th.reserve("a@b.c", None).err().unwrap();
        assert_eq!(refused.code, ErrorCode::RateLimited);
        assert!(refused.message.contains("at once"), "{}", refused.message);
        // Dropped unsettled: each counts as a failure, and together they lock.
        drop(held);
        let locked = th.reserve("a@b.c", None).err().unwrap();
        assert!(
            locked.message.contains("failed sign-ins"),
            "{}",
            locked.message
        );
    }

    #[test]
    fn a_success_clears_failures_and_unchecked_attempts_cost_nothing() {
        let th = LoginThrottle::default();
        for _ in 0..MAX_PER_ACCOUNT - 1 {
            th.reserve("a@b.c", None).unwrap().failed();
        }
        th.reserve("a@b.c", None).unwrap().succeeded();
        for _ in 0..10 {
            th.reserve("a@b.c", None).unwrap().not_checked();
        }
        for _ in 0..MAX_PER_ACCOUNT - 1 {
            th.reserve("a@b.c", None).unwrap().failed();
        }
        assert!(th.reserve("a@b.c", None).is_ok());
    }

    #[test]
    fn attempts_that_leave_nothing_to_count_are_not_kept() {
        let th = LoginThrottle::default();
        for i in 0..1000 {
            th.reserve(&format!("u{i}@b.c"), None)
                .unwrap()
                .not_checked();
        }
        th.reserve("a@b.c", None).unwrap().succeeded();
        th.reserve("f@b.c", None).unwrap().failed();
        let entries = th.inner.lock().unwrap();
        assert_eq!(entries.accounts.len(), 1);
        assert!(entries.accounts.contains_key("f@b.c"));
    }

    #[test]
    fn a_noisy_address_is_slowed_down_never_locked() {
        let th = LoginThrottle::default();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for i in 0..40 {
            th.reserve(&format!("user{i}@b.c"), Some(ip))
                .unwrap()
                .failed();
        }
        assert_eq!(th.address_failures(ip), 40);
        assert!(th.is_noisy(Some(ip)));
        assert!(th.reserve("fresh@b.c", Some(ip)).is_ok());
        assert_eq!(th.delay(Some(ip)), MAX_ADDRESS_DELAY);
        assert_eq!(th.delay(Some("192.0.2.2".parse().unwrap())), Duration::ZERO);
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
