//! Webhook deliveries, the way WooCommerce makes them: queued when a save
//! fires a topic's hook, one pending delivery per (webhook, resource) so
//! bursts coalesce, the payload built *at delivery time* from the store as
//! it is then, sent by a background worker with WooCommerce's headers and
//! signature, never retried, and the webhook disabled after repeated
//! failures. Loss, duplication, delay and reordering can be injected, with
//! seeded randomness.
//!
//! This module owns the queue and the worker; subscriptions themselves
//! live in the store (`model::Webhook`) and are changed over REST.

mod deliver;

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tokio::sync::{Notify, watch};

pub(crate) use deliver::run;

/// Injected delivery trouble (shared with the simulated Shopify store).
pub use crate::hook_faults::WebhookFaults;

use super::lock;
use super::model::{Store, WebhookStatus};
use super::mutate::{Change, HookEvent, HookResource};

/// Webhook delivery settings of a sim.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// Deliveries waiting at most; more are dropped (and recorded as
    /// [`DeliveryOutcome::Overflow`]).
    pub queue_capacity: usize,
    /// How long one delivery may take (WooCommerce: 60 s).
    pub timeout: Duration,
    /// `woocommerce_max_webhook_delivery_failures` (default 5): a webhook
    /// is disabled on the failure that finds its count already above this,
    /// i.e. the 7th consecutive failure with the default (as captured).
    pub max_failures: u32,
    pub faults: WebhookFaults,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            queue_capacity: 10_000,
            timeout: Duration::from_secs(60),
            max_failures: 5,
            faults: WebhookFaults::default(),
        }
    }
}

/// How one delivery attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// The receiver answered this status (200–302 count as success).
    Status(u16),
    /// No HTTP answer: refused, reset, timed out.
    Failed(String),
    /// Dropped on purpose by [`WebhookFaults::loss`].
    Lost,
    /// Dropped because the queue was full.
    Overflow,
    /// Not sent: the webhook was gone, paused or disabled by then.
    Skipped,
}

/// One delivery as the sim made it.
#[derive(Debug, Clone)]
pub struct DeliveryRecord {
    pub webhook_id: i64,
    /// `None` for the creation ping.
    pub topic: Option<String>,
    pub resource_id: Option<i64>,
    pub url: String,
    /// Request headers in the order sent.
    pub headers: Vec<(String, String)>,
    /// The raw body (what the signature covers).
    pub body: Vec<u8>,
    pub outcome: DeliveryOutcome,
}

/// A queued delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Job {
    Ping { webhook_id: i64 },
    Event { webhook_id: i64, change: Change },
}

impl Job {
    fn webhook_id(&self) -> i64 {
        match self {
            Job::Ping { webhook_id } | Job::Event { webhook_id, .. } => *webhook_id,
        }
    }
}

struct HubState {
    pending: VecDeque<Job>,
    capacity: usize,
    faults: WebhookFaults,
    rng: ChaCha8Rng,
    records: Vec<DeliveryRecord>,
}

/// The delivery queue shared by the REST layer (producer) and the worker.
pub(crate) struct Hub {
    state: Mutex<HubState>,
    notify: Notify,
    /// Deliveries queued or in flight.
    outstanding: watch::Sender<usize>,
    pub(crate) timeout: Duration,
    pub(crate) max_failures: u32,
}

impl Hub {
    pub(crate) fn new(config: &WebhookConfig, seed: u64) -> Self {
        Self {
            state: Mutex::new(HubState {
                pending: VecDeque::new(),
                capacity: config.queue_capacity.max(1),
                faults: config.faults.clone(),
                rng: ChaCha8Rng::seed_from_u64(seed ^ 0x00E8_400C),
                records: Vec::new(),
            }),
            notify: Notify::new(),
            outstanding: watch::channel(0).0,
            timeout: config.timeout,
            max_failures: config.max_failures,
        }
    }

    /// The deliveries a unit of work causes: pings for new webhooks, then
    /// one event per active subscription of each fired topic.
    pub(crate) fn dispatch(&self, store: &Store, changes: &[Change], pings: &[i64]) {
        let mut jobs: Vec<Job> = pings
            .iter()
            .map(|&webhook_id| Job::Ping { webhook_id })
            .collect();
        for change in changes {
            let topic = topic_of(change.resource, change.event);
            jobs.extend(
                store
                    .webhooks
                    .values()
                    .filter(|w| w.status == WebhookStatus::Active && w.topic == topic)
                    .map(|w| Job::Event {
                        webhook_id: w.id,
                        change: *change,
                    }),
            );
        }
        self.enqueue(jobs);
    }

    fn enqueue(&self, jobs: Vec<Job>) {
        if jobs.is_empty() {
            return;
        }
        let mut added = 0;
        {
            let mut s = lock(&self.state);
            for job in jobs {
                // Action Scheduler refuses a second pending action with the
                // same (webhook, resource id): the pending one delivers the
                // state as it will be then.
                let coalesced = matches!(job, Job::Event { webhook_id, change }
                    if s.pending.iter().any(|p| matches!(p, Job::Event { webhook_id: w, change: c }
                        if *w == webhook_id && c.id == change.id && c.resource == change.resource
                            && c.event == change.event)));
                if coalesced {
                    continue;
                }
                if s.pending.len() >= s.capacity {
                    let record = overflow_record(job);
                    s.records.push(record);
                    continue;
                }
                s.pending.push_back(job);
                added += 1;
            }
        }
        if added > 0 {
            self.outstanding.send_modify(|n| *n += added);
            self.notify.notify_one();
        }
    }

    pub(crate) fn set_faults(&self, faults: WebhookFaults) {
        lock(&self.state).faults = faults;
    }

    pub(crate) fn records(&self) -> Vec<DeliveryRecord> {
        lock(&self.state).records.clone()
    }

    pub(crate) fn clear_records(&self) {
        lock(&self.state).records.clear();
    }

    fn record(&self, r: DeliveryRecord) {
        lock(&self.state).records.push(r);
    }

    fn done(&self) {
        self.outstanding.send_modify(|n| *n = n.saturating_sub(1));
    }

    /// Waits until nothing is queued or in flight.
    pub(crate) async fn settled(&self) {
        let mut rx = self.outstanding.subscribe();
        let _ = rx.wait_for(|n| *n == 0).await;
    }
}

fn topic_of(resource: HookResource, event: HookEvent) -> String {
    format!("{}.{}", resource.as_str(), event.as_str())
}

fn overflow_record(job: Job) -> DeliveryRecord {
    let (topic, resource_id) = match job {
        Job::Ping { .. } => (None, None),
        Job::Event { change, .. } => (
            Some(topic_of(change.resource, change.event)),
            Some(change.id),
        ),
    };
    DeliveryRecord {
        webhook_id: job.webhook_id(),
        topic,
        resource_id,
        url: String::new(),
        headers: vec![],
        body: vec![],
        outcome: DeliveryOutcome::Overflow,
    }
}
