//! The back-office admin password: argon2id (the `argon2` crate's defaults)
//! as a PHC string, and the throttle that slows guessing down.

use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password accepted (argon2 takes any length; a bound keeps a
/// hostile form cheap).
pub const MAX_PASSWORD_CHARS: usize = 1024;
/// Failed logins in a row before the next attempt must wait; each failure
/// after doubles the wait.
pub const FREE_ATTEMPTS: u32 = 5;
/// The longest wait between two attempts.
pub const MAX_LOGIN_DELAY: Duration = Duration::from_secs(300);

/// Checks a new password's length.
pub fn check_new(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(format!(
            "the password must have at least {MIN_PASSWORD_CHARS} characters"
        ));
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(format!(
            "the password must have at most {MAX_PASSWORD_CHARS} characters"
        ));
    }
    Ok(())
}

/// The PHC string stored for `password` (a fresh random salt). CPU- and
/// memory-heavy by design: call it off the async runtime.
pub fn hash(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        // Only fails on parameters out of range, and the defaults are not.
        .map(|h| h.to_string())
        .unwrap_or_default()
}

/// Whether `password` matches the stored PHC string (constant time inside
/// the crate). A malformed stored string matches nothing.
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Failed logins in a row and when the next attempt is taken. One throttle
/// for the agent: the page is reached from the till itself, so a per-address
/// count would be one count anyway.
#[derive(Debug, Default)]
pub struct Throttle {
    failures: u32,
    not_before: Option<Instant>,
}

impl Throttle {
    /// `Err(wait)` while an attempt must not be checked yet.
    pub fn check(&self, now: Instant) -> Result<(), Duration> {
        match self.not_before {
            Some(t) if t > now => Err(t - now),
            _ => Ok(()),
        }
    }

    /// Records a failure; returns the failures in a row.
    pub fn failed(&mut self, now: Instant) -> u32 {
        self.failures = self.failures.saturating_add(1);
        self.not_before = delay_after(self.failures).map(|d| now + d);
        self.failures
    }

    /// A success starts the count again.
    pub fn succeeded(&mut self) {
        *self = Throttle::default();
    }
}

/// The wait after `failures` failed logins in a row: none after the first
/// four, then 1 s after the fifth, 2 s, 4 s … up to [`MAX_LOGIN_DELAY`].
pub fn delay_after(failures: u32) -> Option<Duration> {
    let over = failures.checked_sub(FREE_ATTEMPTS)?;
    let secs = 1u64.checked_shl(over).unwrap_or(u64::MAX);
    Some(Duration::from_secs(secs).min(MAX_LOGIN_DELAY))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let phc = hash("correct horse battery");
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(verify("correct horse battery", &phc));
        assert!(!verify("correct horse batterz", &phc));
        assert!(!verify("correct horse battery", "not a phc string"));
        assert_ne!(phc, hash("correct horse battery"), "salted");
    }

    #[rstest::rstest]
    #[case::first(1, None)]
    #[case::fourth(4, None)]
    #[case::fifth(5, Some(1))]
    #[case::sixth(6, Some(2))]
    #[case::tenth(10, Some(32))]
    #[case::capped(14, Some(300))]
    #[case::far(200, Some(300))]
    fn the_delay_grows_after_five_failures(#[case] failures: u32, #[case] secs: Option<u64>) {
        assert_eq!(delay_after(failures), secs.map(Duration::from_secs));
    }

    #[test]
    fn the_throttle_refuses_until_the_delay_is_over_and_resets_on_success() {
        let t0 = Instant::now();
        let mut t = Throttle::default();
        for _ in 1..FREE_ATTEMPTS {
            t.failed(t0);
            assert_eq!(t.check(t0), Ok(()));
        }
        assert_eq!(t.failed(t0), FREE_ATTEMPTS);
        assert_eq!(t.check(t0), Err(Duration::from_secs(1)));
        assert_eq!(t.check(t0 + Duration::from_secs(1)), Ok(()));
        t.succeeded();
        t.failed(t0);
        assert_eq!(t.check(t0), Ok(()));
    }

    #[rstest::rstest]
    #[case::short("123456789", false)]
    #[case::ten("1234567890", true)]
    #[case::unicode("ééééééééééé", true)]
    fn new_password_length(#[case] p: &str, #[case] ok: bool) {
        assert_eq!(check_new(p).is_ok(), ok);
    }
}
