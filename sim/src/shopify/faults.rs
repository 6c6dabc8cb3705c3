//! Fault injection for the simulated Shopify store: latency on every
//! answer, a seeded share of failing requests, and deterministic rules
//! ("the next n requests get this") for tests.
//!
//! `ServerError`, `ServiceUnavailable`, `TooManyRequests` and `HtmlPage` answer
//! *instead of* the store (nothing runs, no cost is charged); `Truncated`
//! happens *after* the store has answered (and charged the bucket): the
//! body is announced whole and cut halfway; `DropAfterCommit` runs the
//! request (a mutation is committed) and closes the connection before any
//! byte of the answer. Rules can be aimed at the requests whose document
//! names a field (`ShopifySim::inject_on`). The 429 is the captured one
//! (`graphql-errors/rest-429.txt`: `retry-after: 4.0`); the 500 and 503
//! bodies are not from captures.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What can go wrong between a client and the shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShopifyFault {
    /// 500, instead of the shop's answer.
    ServerError,
    /// 503, instead of the shop's answer.
    ServiceUnavailable,
    /// 429 with `retry-after: 4.0`, instead of the shop's answer.
    TooManyRequests,
    /// The shop's answer, its full `Content-Length` announced, the
    /// connection closed after half the body. The request *was* processed.
    Truncated,
    /// The shop processes the request (a mutation is committed), then the
    /// connection drops before any byte of the answer.
    DropAfterCommit,
    /// 200 with an HTML page in place of the shop's answer (a captive
    /// portal or filtering proxy on the till's side), instead of the shop's
    /// answer. Not transient: every request through it gets the page.
    HtmlPage,
}

/// Faults applied from the start.
#[derive(Debug, Clone, Default)]
pub struct ShopifyFaults {
    /// Added before every answer.
    pub latency: Duration,
    /// Probability (0..=1, seeded) that a request gets one of `kinds`.
    pub fail_rate: f64,
    pub kinds: Vec<ShopifyFault>,
}

#[derive(Debug)]
pub struct FaultPlan {
    pub config: ShopifyFaults,
    /// Each rule: the fault, and the text the document must contain.
    rules: Mutex<VecDeque<(ShopifyFault, Option<String>)>>,
    rng: Mutex<ChaCha8Rng>,
    /// Faults handed out so far.
    drawn: AtomicU64,
}

impl FaultPlan {
    pub fn new(config: ShopifyFaults, seed: u64) -> Self {
        Self {
            config,
            rules: Mutex::new(VecDeque::new()),
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(seed ^ 0x5f0f_a017)),
            drawn: AtomicU64::new(0),
        }
    }

    /// The next `times` requests get `fault` (after those already queued).
    pub fn inject(&self, fault: ShopifyFault, times: usize) {
        let mut rules = self.rules.lock().unwrap_or_else(PoisonError::into_inner);
        rules.extend(std::iter::repeat_n((fault, None), times));
    }

    /// Rules not yet spent.
    pub fn pending(&self) -> usize {
        self.rules
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// The next `times` requests whose document contains `field`.
    pub fn inject_on(&self, fault: ShopifyFault, field: &str, times: usize) {
        let mut rules = self.rules.lock().unwrap_or_else(PoisonError::into_inner);
        rules.extend(std::iter::repeat_n((fault, Some(field.to_owned())), times));
    }

    /// Faults handed out so far.
    pub fn drawn(&self) -> u64 {
        self.drawn.load(Ordering::Relaxed)
    }

    /// The fault for this request, if any.
    pub fn draw(&self, document: &str) -> Option<ShopifyFault> {
        let fault = self.choose(document);
        if fault.is_some() {
            self.drawn.fetch_add(1, Ordering::Relaxed);
        }
        fault
    }

    fn choose(&self, document: &str) -> Option<ShopifyFault> {
        {
            let mut rules = self.rules.lock().unwrap_or_else(PoisonError::into_inner);
            let hit = rules
                .iter()
                .position(|(_, on)| on.as_deref().is_none_or(|f| document.contains(f)));
            if let Some(f) = hit.and_then(|i| rules.remove(i)) {
                return Some(f.0);
            }
        }
        if self.config.kinds.is_empty() || self.config.fail_rate <= 0.0 {
            return None;
        }
        let mut rng = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
        if rng.gen_bool(self.config.fail_rate.clamp(0.0, 1.0)) {
            Some(self.config.kinds[rng.gen_range(0..self.config.kinds.len())])
        } else {
            None
        }
    }
}
