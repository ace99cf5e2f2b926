//! The bounded pool of password checks: each argon2 verification holds about 19 MiB
//! and a core for a moment, so only a few run at once and the rest queue briefly.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use shared::{ApiError, ErrorCode};
use tokio::sync::Semaphore;

/// How long a sign-in waits for a free check before it is answered `rate_limited`.
pub const DEFAULT_CHECK_WAIT: Duration = Duration::from_secs(5);

pub struct PasswordChecks {
    permits: Arc<Semaphore>,
    /// Checks from noisy addresses pass here first: it has one slot fewer than
    /// `permits`, so a flood from a few addresses always leaves a slot for the rest.
    noisy: Arc<Semaphore>,
    wait: Duration,
    stats: Arc<Stats>,
}

#[derive(Default)]
struct Stats {
    in_flight: AtomicUsize,
    peak: AtomicUsize,
    done: AtomicU64,
}

fn busy() -> ApiError {
    ApiError::new(
        ErrorCode::RateLimited,
        "the server is busy checking other sign-ins; try again in a few seconds",
    )
}

impl PasswordChecks {
    /// At most `max` checks at once (at least one); a check waits at most `wait` for
    /// its turn.
    pub fn new(max: usize, wait: Duration) -> PasswordChecks {
        let max = max.max(1);
        PasswordChecks {
            permits: Arc::new(Semaphore::new(max)),
            noisy: Arc::new(Semaphore::new((max - 1).max(1))),
            wait,
            stats: Arc::default(),
        }
    }

    /// Verifies `password` against `hash` off the async workers, or answers
    /// `rate_limited` when no check slot frees up in time. `noisy`: the attempt comes
    /// from an address with many recent failures.
    pub async fn verify(
        &self,
        password: String,
        hash: String,
        noisy: bool,
    ) -> Result<bool, ApiError> {
        let (noisy_permit, permit) = tokio::time::timeout(self.wait, async {
            let noisy_permit = if noisy {
                Some(self.noisy.clone().acquire_owned().await)
            } else {
                None
            };
            (noisy_permit, self.permits.clone().acquire_owned().await)
        })
        .await
        .map_err(|_| busy())?;
        let permit = permit.map_err(|_| busy())?;
        let noisy_permit = noisy_permit.transpose().map_err(|_| busy())?;
        let stats = self.stats.clone();
        // The permits move into the blocking task: a request dropped mid-check must
        // not free its slot while the hash is still running.
        tokio::task::spawn_blocking(move || {
            let _held = (permit, noisy_permit);
            let now = stats.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            stats.peak.fetch_max(now, Ordering::SeqCst);
            let ok = super::verify_password(&password, &hash);
            stats.in_flight.fetch_sub(1, Ordering::SeqCst);
            stats.done.fetch_add(1, Ordering::SeqCst);
            ok
        })
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "password check failed");
            ApiError::internal()
        })
    }

    /// Password checks completed since start.
    pub fn checks_done(&self) -> u64 {
        self.stats.done.load(Ordering::SeqCst)
    }

    /// The most checks that ever ran at the same time.
    pub fn peak_in_flight(&self) -> usize {
        self.stats.peak.load(Ordering::SeqCst)
    }
}

/// The default limit: one check per core, at most eight (≈150 MiB at worst).
pub fn default_max_checks() -> usize {
    std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(4)
        .clamp(1, 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn checks_never_exceed_the_limit_and_excess_is_refused() {
        let checks = Arc::new(PasswordChecks::new(1, Duration::from_millis(1)));
        let hash = super::super::hash_password("a long enough password").unwrap();
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (checks, hash) = (checks.clone(), hash.clone());
                tokio::spawn(async move { checks.verify("wrong".into(), hash, false).await })
            })
            .collect();
        let mut refused = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(ok) => assert!(!ok),
                Err(e) => {
                    assert_eq!(e.code, ErrorCode::RateLimited);
                    refused += 1;
                }
            }
        }
        assert_eq!(checks.peak_in_flight(), 1);
        assert_eq!(checks.checks_done() + refused, 8);
    }
}
