//! The one retry delay policy: exponential growth, full jitter, a cap, and
//! the shop's `Retry-After` honoured (within reason). The only file that
//! names the `backoff` crate, so the policy can change in one place.
//!
//! Full jitter (a uniform delay between zero and the exponential ceiling)
//! keeps many tills that lost the same connection from retrying in lockstep.

use std::time::Duration;

use backoff::backoff::Backoff as _;

/// A validated retry policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    base: Duration,
    cap: Duration,
    max_retry_after: Duration,
    max_attempts: u32,
}

impl RetryPolicy {
    /// `base` is the ceiling of the first delay, doubling per attempt up to
    /// `cap`; a shop's `Retry-After` is obeyed up to `max_retry_after`.
    pub fn new(
        base: Duration,
        cap: Duration,
        max_retry_after: Duration,
        max_attempts: u32,
    ) -> Result<Self, String> {
        if base.is_zero() {
            return Err("retry base delay must be above zero".to_owned());
        }
        if cap < base {
            return Err(format!(
                "retry cap {cap:?} is below the base delay {base:?}"
            ));
        }
        if max_attempts == 0 {
            return Err("at least one attempt is needed".to_owned());
        }
        Ok(RetryPolicy {
            base,
            cap,
            max_retry_after,
            max_attempts,
        })
    }

    /// For idempotent GETs inside one request: a few quick tries.
    pub fn in_request() -> Self {
        RetryPolicy {
            base: Duration::from_millis(250),
            cap: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(30),
            max_attempts: 4,
        }
    }

    /// How many attempts in total (first try included).
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The longest `Retry-After` obeyed.
    pub fn max_retry_after(&self) -> Duration {
        self.max_retry_after
    }

    /// The exponential ceiling for `attempt` (0-based): `base · 2^attempt`,
    /// saturating at `cap`.
    fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// The delay before retry number `attempt` (0-based): uniform in
    /// `[0, ceiling]`, but never shorter than what the shop asked for with
    /// `Retry-After` (itself capped at `max_retry_after`).
    pub fn next_delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let ceiling = self.ceiling(attempt);
        // With a randomization factor of 1 the crate draws uniformly from
        // [0, 2 · interval]; an interval of half the ceiling is full jitter.
        let half = ceiling / 2;
        let mut b = backoff::ExponentialBackoff {
            current_interval: half,
            initial_interval: half,
            randomization_factor: 1.0,
            multiplier: 1.0,
            max_interval: ceiling,
            max_elapsed_time: None,
            ..backoff::ExponentialBackoff::default()
        };
        let jittered = b.next_backoff().unwrap_or(ceiling).min(ceiling);
        match retry_after {
            Some(asked) => jittered.max(asked.min(self.max_retry_after)),
            None => jittered,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy::new(
            Duration::from_millis(100),
            Duration::from_secs(10),
            Duration::from_secs(60),
            5,
        )
        .unwrap()
    }

    #[test]
    fn delays_stay_between_zero_and_the_exponential_ceiling() {
        let p = policy();
        for attempt in 0..64 {
            let ceiling = p.ceiling(attempt);
            for _ in 0..200 {
                let d = p.next_delay(attempt, None);
                assert!(
                    d <= ceiling && ceiling <= p.cap,
                    "{attempt}: {d:?} > {ceiling:?}"
                );
            }
        }
        assert_eq!(p.ceiling(0), Duration::from_millis(100));
        assert_eq!(p.ceiling(3), Duration::from_millis(800));
        assert_eq!(p.ceiling(40), Duration::from_secs(10));
    }

    #[test]
    fn delays_are_spread_not_in_lockstep() {
        let p = policy();
        let draws: std::collections::HashSet<Duration> =
            (0..50).map(|_| p.next_delay(6, None)).collect();
        assert!(draws.len() > 10, "{draws:?}");
    }

    #[test]
    fn retry_after_is_honoured_up_to_its_cap() {
        let p = policy();
        for _ in 0..100 {
            assert!(p.next_delay(0, Some(Duration::from_secs(5))) >= Duration::from_secs(5));
            assert!(p.next_delay(0, Some(Duration::from_secs(3600))) <= Duration::from_secs(60));
        }
    }

    #[test]
    fn invalid_parameters_are_refused() {
        assert!(
            RetryPolicy::new(Duration::ZERO, Duration::from_secs(1), Duration::ZERO, 1).is_err()
        );
        assert!(
            RetryPolicy::new(
                Duration::from_secs(2),
                Duration::from_secs(1),
                Duration::ZERO,
                1
            )
            .is_err()
        );
        assert!(
            RetryPolicy::new(
                Duration::from_secs(1),
                Duration::from_secs(1),
                Duration::ZERO,
                0
            )
            .is_err()
        );
    }
}
