//! Whether the shop answers: when it last did and when it last could not be
//! reached. Every client of a generation records into one [`Contact`], so
//! the status page can say "reachable" or "unreachable since …" from what
//! the agent actually saw, without asking the shop itself.

use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::domain::time::unix_millis_now;

/// The shared record; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Contact(Arc<Mutex<ShopContact>>);

/// What the agent last saw of the shop.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ShopContact {
    /// The last HTTP answer of any kind (unix ms): the shop was reachable.
    pub last_ok_at: Option<i64>,
    /// The last request that got no answer (unix ms).
    pub last_failure_at: Option<i64>,
    /// Why it got none.
    pub last_failure: Option<String>,
    /// The first failure since the last answer: unreachable since then.
    pub unreachable_since: Option<i64>,
}

impl ShopContact {
    /// `None` before any request; otherwise whether the latest one got an
    /// answer.
    pub fn reachable(&self) -> Option<bool> {
        match (self.last_ok_at, self.last_failure_at) {
            (None, None) => None,
            (Some(_), None) => Some(true),
            (None, Some(_)) => Some(false),
            (Some(ok), Some(failed)) => Some(ok >= failed),
        }
    }
}

impl Contact {
    /// The shop answered (whatever the status: it is reachable).
    pub fn answered(&self) {
        self.answered_at(unix_millis_now());
    }

    /// No answer came back.
    pub fn unreachable(&self, reason: &str) {
        self.unreachable_at(unix_millis_now(), reason);
    }

    fn answered_at(&self, now: i64) {
        let mut c = self.0.lock().unwrap_or_else(|p| p.into_inner());
        c.last_ok_at = Some(now);
        c.unreachable_since = None;
    }

    fn unreachable_at(&self, now: i64, reason: &str) {
        let mut c = self.0.lock().unwrap_or_else(|p| p.into_inner());
        c.last_failure_at = Some(now);
        c.last_failure = Some(reason.to_owned());
        c.unreachable_since.get_or_insert(now);
    }

    /// A copy of the record.
    pub fn snapshot(&self) -> ShopContact {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreachable_since_is_the_first_failure_after_the_last_answer() {
        let c = Contact::default();
        assert_eq!(c.snapshot().reachable(), None);
        c.answered_at(10);
        c.unreachable_at(20, "connection refused");
        c.unreachable_at(30, "timed out");
        let s = c.snapshot();
        assert_eq!(s.reachable(), Some(false));
        assert_eq!(s.unreachable_since, Some(20));
        assert_eq!(s.last_failure.as_deref(), Some("timed out"));
        c.answered_at(40);
        let s = c.snapshot();
        assert_eq!(s.reachable(), Some(true));
        assert_eq!(s.unreachable_since, None);
    }
}
