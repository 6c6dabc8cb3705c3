//! How many requests a shop gets at once (`sync.concurrency`).
//!
//! A real shop has a handful of PHP workers, shared with its own shoppers:
//! past a few requests at once, ours only queue there, no faster, and slow
//! the shop's own pages down. So by default (`"auto"`) every request to the
//! shop goes through one adaptive gate per client, an AIMD limiter driven by
//! latency:
//!
//! - it starts at two requests and, while the shop's answers stay as fast as
//!   the fastest it has seen ([`TOLERANCE`]), doubles the limit each round
//!   (a round: as many answers as the limit) until the first sign of load,
//!   and from then on adds one per round;
//! - it grows only when the limit was what held requests back;
//! - when a round's median latency climbs past [`TOLERANCE`] times the
//!   no-load latency plus [`SLACK`], it cuts the limit by a quarter; on a 429, 503 or a
//!   timeout it halves it at once (once per round);
//! - it never goes below one nor above the configured ceiling
//!   (`sync.max_concurrency`).
//!
//! The no-load latency is the fastest answer seen, let drift up by
//! [`DRIFT`] a round so that a shop that became slower for good (a heavier
//! resource, a busy day) is measured afresh.
//!
//! A pinned number (`sync.concurrency = 4`) makes the gate a fixed one.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// Where `"auto"` starts: two requests at once, which even a one-worker
/// shop answers without harm, and the probe's three route checks in two
/// rounds.
const INITIAL: usize = 2;
/// A round whose median latency is more than this times the no-load
/// latency means requests queue at the shop.
pub const TOLERANCE: f64 = 1.3;
/// ... plus this much: on a fast shop (answers in tens of milliseconds) the
/// till's own CPU, busy writing the pages it gets, delays answers by this
/// order, which is no queue at the shop. A real queue adds a whole service
/// time (hundreds of milliseconds), far above it.
pub const SLACK: Duration = Duration::from_millis(25);
/// How much the no-load latency may rise per round.
pub const DRIFT: f64 = 0.01;
/// The limit is cut to this share when latency climbs.
const LATENCY_BACKOFF: f64 = 0.75;
/// ... and to this share on an overload answer (429, 503, timeout).
const OVERLOAD_BACKOFF: f64 = 0.5;

/// How many requests at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Exactly this many (1 or more).
    Fixed(usize),
    /// Adaptive, from one up to `max`.
    Auto { max: usize },
}

impl Limit {
    /// The most requests in flight this limit ever allows.
    pub fn ceiling(self) -> usize {
        match self {
            Limit::Fixed(n) => n.max(1),
            Limit::Auto { max } => max.max(1),
        }
    }
}

/// How a request that held a slot ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Answered (whatever the status, but an overload one): its latency
    /// counts.
    Answered,
    /// 429, 503 or timed out: the shop is overloaded.
    Overloaded,
    /// Says nothing about the shop's load (cancelled, refused connection).
    Ignored,
}

#[derive(Debug)]
struct State {
    limit: usize,
    in_flight: usize,
    /// Still doubling: no sign of load seen yet.
    slow_start: bool,
    no_load: Option<Duration>,
    round: Vec<Duration>,
    round_overloaded: bool,
    /// A request waited for a slot (or took the last one) this round.
    round_limited: bool,
    /// The peak of `limit` so far, for reports.
    peak: usize,
}

/// A concurrency gate: fixed, or adaptive (see the module docs).
#[derive(Debug)]
pub struct Limiter {
    mode: Limit,
    state: Mutex<State>,
    freed: Notify,
}

/// A slot held for one request; finished with its outcome (dropped
/// unfinished, it is [`Outcome::Ignored`]).
pub struct Slot<'a> {
    limiter: &'a Limiter,
    started: Instant,
    finished: bool,
}

impl Limiter {
    pub fn new(mode: Limit) -> Self {
        let limit = match mode {
            Limit::Fixed(n) => n.max(1),
            Limit::Auto { max } => INITIAL.min(max.max(1)),
        };
        Limiter {
            mode,
            state: Mutex::new(State {
                limit,
                in_flight: 0,
                slow_start: true,
                no_load: None,
                round: Vec::new(),
                round_overloaded: false,
                round_limited: false,
                peak: limit,
            }),
            freed: Notify::new(),
        }
    }

    /// The mode it was made with.
    pub fn mode(&self) -> Limit {
        self.mode
    }

    /// Requests allowed at once now.
    pub fn current(&self) -> usize {
        self.lock().limit
    }

    /// The highest limit reached so far.
    pub fn peak(&self) -> usize {
        self.lock().peak
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Waits for a slot.
    pub async fn acquire(&self) -> Slot<'_> {
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            // Registered before the check, so a release in between wakes it.
            freed.as_mut().enable();
            {
                let mut s = self.lock();
                if s.in_flight < s.limit {
                    s.in_flight += 1;
                    if s.in_flight == s.limit {
                        s.round_limited = true;
                    }
                    return Slot {
                        limiter: self,
                        started: Instant::now(),
                        finished: false,
                    };
                }
                s.round_limited = true;
            }
            freed.await;
        }
    }

    fn release(&self, latency: Duration, outcome: Outcome) {
        {
            let mut s = self.lock();
            s.in_flight = s.in_flight.saturating_sub(1);
            if let Limit::Auto { max } = self.mode {
                s.record(latency, outcome, max.max(1));
            }
        }
        self.freed.notify_waiters();
    }
}

impl State {
    fn record(&mut self, latency: Duration, outcome: Outcome, max: usize) {
        match outcome {
            Outcome::Ignored => return,
            Outcome::Overloaded => {
                // At once, and once per round: the answers of requests sent
                // before the cut say nothing new.
                if !self.round_overloaded {
                    self.round_overloaded = true;
                    self.slow_start = false;
                    self.limit = scaled(self.limit, OVERLOAD_BACKOFF);
                }
            }
            Outcome::Answered => self.round.push(latency),
        }
        if self.round.len() + usize::from(self.round_overloaded) < self.limit {
            return;
        }
        // A round is over.
        if !self.round_overloaded && !self.round.is_empty() {
            self.round.sort_unstable();
            let median = self.round[self.round.len() / 2];
            // The round's fastest answer met no queue (or the shortest):
            // the no-load latency, next to which the median shows a queue.
            let fastest = self.round[0];
            let no_load = match self.no_load {
                Some(n) => fastest.min(n.mul_f64(1.0 + DRIFT)),
                None => fastest,
            };
            self.no_load = Some(no_load);
            if median > no_load.mul_f64(TOLERANCE) + SLACK {
                self.slow_start = false;
                self.limit = scaled(self.limit, LATENCY_BACKOFF);
            } else if self.round_limited {
                self.limit = if self.slow_start {
                    self.limit * 2
                } else {
                    self.limit + 1
                }
                .min(max);
            }
        }
        self.peak = self.peak.max(self.limit);
        self.round.clear();
        self.round_overloaded = false;
        self.round_limited = self.in_flight >= self.limit;
    }
}

/// `limit` times `share`, rounded down, at least one.
fn scaled(limit: usize, share: f64) -> usize {
    ((limit as f64 * share) as usize).max(1)
}

impl Slot<'_> {
    /// Gives the slot back, saying how its request went.
    pub fn finish(mut self, outcome: Outcome) {
        self.finished = true;
        self.limiter.release(self.started.elapsed(), outcome);
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.limiter
                .release(self.started.elapsed(), Outcome::Ignored);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A good real host's answer.
    const BASE: Duration = Duration::from_millis(500);

    /// Feeds `rounds` rounds in which every answer takes `latency(limit)`.
    fn drive(limiter: &Limiter, rounds: usize, mut latency: impl FnMut(usize) -> Duration) {
        for _ in 0..rounds {
            let mut s = limiter.lock();
            let limit = s.limit;
            // The limit held requests back: as many in flight as allowed.
            s.in_flight = limit;
            s.round_limited = true;
            for _ in 0..limit {
                s.in_flight -= 1;
                s.record(latency(limit), Outcome::Answered, max_of(limiter));
            }
        }
    }

    fn max_of(l: &Limiter) -> usize {
        l.mode.ceiling()
    }

    /// A shop with `workers` workers: up to them, a request takes BASE;
    /// beyond, each waits for the others (the mean of a full queue).
    fn shop(workers: usize) -> impl Fn(usize) -> Duration {
        move |in_flight| BASE.mul_f64((in_flight as f64 / workers as f64).max(1.0))
    }

    #[test]
    fn a_flat_shop_is_pulled_at_the_ceiling_after_a_few_rounds() {
        let l = Limiter::new(Limit::Auto { max: 8 });
        assert_eq!(l.current(), 2);
        drive(&l, 2, |_| BASE);
        assert_eq!(l.current(), 8, "doubles while latency stays flat");
        drive(&l, 10, |_| BASE);
        assert_eq!(l.current(), 8, "never above the ceiling");
    }

    #[test]
    fn it_settles_around_the_shops_workers() {
        let l = Limiter::new(Limit::Auto { max: 16 });
        let mut seen = Vec::new();
        for _ in 0..60 {
            drive(&l, 1, shop(4));
            seen.push(l.current());
        }
        let late = &seen[20..];
        assert!(
            late.iter().all(|&n| (3..=6).contains(&n)),
            "a 4-worker shop: {seen:?}"
        );
        assert!(late.contains(&4) || late.contains(&5), "{seen:?}");
    }

    #[test]
    fn a_fast_shops_jitter_is_not_read_as_a_queue() {
        // 50 ms answers, some delayed by up to 40 ms (the till's CPU busy
        // with the pages): no queue at the shop, so the limit climbs.
        let l = Limiter::new(Limit::Auto { max: 8 });
        let mut n = 0u64;
        drive(&l, 6, |_| {
            n += 7;
            Duration::from_millis(50 + n % 41)
        });
        assert_eq!(l.current(), 8);
    }

    #[test]
    fn overload_answers_halve_the_limit_at_once_and_once_per_round() {
        let l = Limiter::new(Limit::Auto { max: 16 });
        drive(&l, 3, |_| BASE);
        assert_eq!(l.current(), 16);
        {
            let mut s = l.lock();
            s.in_flight = 16;
            for _ in 0..5 {
                s.in_flight -= 1;
                s.record(BASE, Outcome::Overloaded, 16);
            }
        }
        assert_eq!(l.current(), 8, "halved once, not five times");
        // Growth afterwards is one per round, not doubling.
        drive(&l, 3, |_| BASE);
        assert!((9..=11).contains(&l.current()), "{}", l.current());
    }

    #[test]
    fn it_does_not_grow_when_the_limit_held_nothing_back() {
        let l = Limiter::new(Limit::Auto { max: 8 });
        {
            let mut s = l.lock();
            for _ in 0..10 {
                s.in_flight = 1;
                s.round_limited = false;
                s.in_flight -= 1;
                s.record(BASE, Outcome::Answered, 8);
                s.round_limited = false;
            }
        }
        assert_eq!(l.current(), 2);
    }

    #[test]
    fn ignored_outcomes_and_a_fixed_limit_change_nothing() {
        let fixed = Limiter::new(Limit::Fixed(3));
        drive(&fixed, 5, |_| BASE * 10);
        assert_eq!(fixed.current(), 3);
        let auto = Limiter::new(Limit::Auto { max: 8 });
        {
            let mut s = auto.lock();
            for _ in 0..10 {
                s.record(BASE * 100, Outcome::Ignored, 8);
            }
        }
        assert_eq!(auto.current(), 2);
    }

    #[tokio::test]
    async fn slots_beyond_the_limit_wait_for_one_to_be_given_back() {
        let l = Limiter::new(Limit::Fixed(2));
        let a = l.acquire().await;
        let _b = l.acquire().await;
        let mut third = Box::pin(l.acquire());
        assert!(
            futures::poll!(third.as_mut()).is_pending(),
            "a third request waits"
        );
        a.finish(Outcome::Answered);
        let _c = third.await;
        assert_eq!(l.lock().in_flight, 2);
    }
}
