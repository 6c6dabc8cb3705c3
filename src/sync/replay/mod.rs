//! The outbox replayer: sends what the till did, in dependency order (a
//! customer before the order naming it, an order before its refund or
//! pickup: an entry is only due once what it depends on is confirmed), up
//! to `concurrency` entries at once.
//!
//! Failures are classified once (`send`): a refusal parks the entry; a
//! transient failure reschedules it with the shared backoff (persisted in
//! the entry, so it survives restarts) and pauses replay. While paused, the
//! shop is probed with short jittered delays (at most `PROBE_CAP`), so
//! replay resumes within seconds of the shop coming back; entries that
//! waited out the outage are then due at once.

mod effects;
pub mod send;
mod stock_check;
#[cfg(test)]
mod tests;

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use self::send::Outcome;
use super::backoff::RetryPolicy;
use crate::domain::UpstreamId;
use crate::domain::time::unix_millis_now;
use crate::store::events::{self, Level};
use crate::store::{Store, StoreError, outbox};
use crate::upstream::Upstream;
use crate::upstream::writes::UpstreamWrites;

/// First retry of an entry after a transient failure; doubles per attempt.
const ENTRY_RETRY_BASE: Duration = Duration::from_secs(1);
/// Longest wait between two attempts at one entry.
const ENTRY_RETRY_CAP: Duration = Duration::from_secs(300);
/// Longest `Retry-After` obeyed.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(600);
/// Probes of an unreachable shop: first delay ceiling, and the cap that
/// bounds how long after the shop's return replay resumes.
const PROBE_BASE: Duration = Duration::from_millis(250);
const PROBE_CAP: Duration = Duration::from_secs(4);
/// Probes while nothing can work until someone fixes something (API keys
/// refused, the shop's certificate refused, its name unknown: see
/// `UpstreamError::needs_fix`): no point hammering it.
const SLOW_PROBE_CAP: Duration = Duration::from_secs(60);
/// With nothing due, look again at least this often (an entry retried from
/// the command line, in another process, wakes no one).
const IDLE_RECHECK: Duration = Duration::from_secs(2);
/// On shutdown, sends in flight get this long to finish and record their
/// outcome (within the app's own shutdown grace).
const IN_FLIGHT_GRACE: Duration = Duration::from_secs(10);
/// Distinct stock rows touched by confirmations before sending holds back
/// for a read-back; otherwise stock is read back when replay goes idle.
const STOCK_CHECK_BATCH: usize = 100;

/// How the replayer runs.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// Entries in flight at once.
    pub concurrency: usize,
    pub entry_retry: RetryPolicy,
}

impl ReplayOptions {
    pub fn new(concurrency: usize) -> Self {
        ReplayOptions {
            concurrency: concurrency.max(1),
            entry_retry: RetryPolicy::new(
                ENTRY_RETRY_BASE,
                ENTRY_RETRY_CAP,
                MAX_RETRY_AFTER,
                u32::MAX,
            )
            .expect("constant retry policy is valid"),
        }
    }
}

/// Wakes the replayer when the till queues something.
#[derive(Debug, Clone, Default)]
pub struct ReplayWaker(Arc<Notify>);

impl ReplayWaker {
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

/// Runs until `token` is cancelled. Sends in flight then get
/// `IN_FLIGHT_GRACE` to finish; any still running are dropped mid-request
/// and stay `sending`, to be looked up at next start.
pub async fn run<U: Upstream + UpstreamWrites>(
    upstream: Arc<U>,
    store: Store,
    opts: ReplayOptions,
    waker: ReplayWaker,
    token: CancellationToken,
) {
    match store
        .write(|tx| outbox::recover_in_flight(tx, unix_millis_now()))
        .await
    {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            entries = n,
            "entries were in flight when the agent stopped: they will be looked up before any resend"
        ),
        Err(e) => tracing::error!(error = %e, "cannot recover in-flight outbox entries"),
    }
    let mut r = Replayer {
        upstream,
        store,
        opts,
        in_flight: HashSet::new(),
        tasks: JoinSet::new(),
        paused: None,
        touched: BTreeSet::new(),
    };
    r.run(&waker, &token).await;
    let drain = async { while r.tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(IN_FLIGHT_GRACE, drain).await.is_err() {
        tracing::warn!(
            "outbox sends still in flight at shutdown: they will be looked up at next start"
        );
    }
}

impl<U: Upstream + UpstreamWrites> Replayer<U> {
    async fn run(&mut self, waker: &ReplayWaker, token: &CancellationToken) {
        let r = self;
        loop {
            if token.is_cancelled() {
                return;
            }
            if let Some(pause) = r.paused {
                tokio::select! {
                    _ = token.cancelled() => return,
                    Some(done) = r.tasks.join_next(), if !r.tasks.is_empty() => r.finished(done),
                    _ = tokio::time::sleep(pause.delay()) => r.probe().await,
                }
                continue;
            }
            if let Err(e) = r.fill().await {
                tracing::error!(error = %e, "cannot read the outbox");
            }
            if r.tasks.is_empty() {
                if r.touched.is_empty() {
                    let wait = r.idle_wait().await;
                    tokio::select! {
                        _ = token.cancelled() => return,
                        _ = waker.0.notified() => {}
                        _ = tokio::time::sleep(wait) => {}
                    }
                } else {
                    r.check_stock().await;
                }
                continue;
            }
            tokio::select! {
                _ = token.cancelled() => return,
                Some(done) = r.tasks.join_next() => r.finished(done),
                _ = waker.0.notified() => {}
            }
        }
    }
}

/// Why replay is paused and how the shop is probed.
#[derive(Debug, Clone, Copy)]
struct Pause {
    probes: u32,
    /// A probe failed: the shop was really down (not one entry failing).
    outage: bool,
    /// The last failure needs a fix outside the agent: probe slowly.
    needs_fix: bool,
    /// The shop asked to wait this long (unix ms) before the next request.
    not_before: i64,
}

impl Pause {
    fn delay(&self) -> Duration {
        let cap = if self.needs_fix {
            SLOW_PROBE_CAP
        } else {
            PROBE_CAP
        };
        let policy = RetryPolicy::new(PROBE_BASE, cap, MAX_RETRY_AFTER, u32::MAX)
            .expect("constant probe policy is valid");
        let asked = self.not_before - unix_millis_now();
        let asked = Duration::from_millis(u64::try_from(asked).unwrap_or(0));
        // Never zero: a near-zero draw would hammer a shop that just failed.
        policy
            .next_delay(self.probes, Some(asked))
            .max(PROBE_BASE / 2)
    }
}

struct Replayer<U> {
    upstream: Arc<U>,
    store: Store,
    opts: ReplayOptions,
    in_flight: HashSet<Uuid>,
    tasks: JoinSet<(Uuid, Result<Outcome, StoreError>)>,
    paused: Option<Pause>,
    /// Stock rows of confirmed sales and returns, to read back.
    touched: BTreeSet<(UpstreamId, UpstreamId)>,
}

impl<U: Upstream + UpstreamWrites> Replayer<U> {
    /// Starts due entries up to the concurrency limit. Holds back while a
    /// stock check is due, so it reads a quiet shop.
    async fn fill(&mut self) -> Result<(), StoreError> {
        let free = self.opts.concurrency.saturating_sub(self.tasks.len());
        if free == 0 || self.touched.len() >= STOCK_CHECK_BATCH {
            return Ok(());
        }
        let limit = i64::try_from(free + self.in_flight.len()).unwrap_or(i64::MAX);
        let now = unix_millis_now();
        let due = self
            .store
            .read(move |conn| outbox::due(conn, now, limit))
            .await?;
        for entry in due {
            if self.tasks.len() >= self.opts.concurrency {
                break;
            }
            if !self.in_flight.insert(entry.id) {
                continue;
            }
            let (upstream, store, policy) = (
                Arc::clone(&self.upstream),
                self.store.clone(),
                self.opts.entry_retry,
            );
            self.tasks.spawn(async move {
                let id = entry.id;
                (id, send::send_one(&*upstream, &store, &policy, entry).await)
            });
        }
        Ok(())
    }

    fn finished(
        &mut self,
        done: Result<(Uuid, Result<Outcome, StoreError>), tokio::task::JoinError>,
    ) {
        let (id, outcome) = match done {
            Ok(v) => v,
            Err(e) => {
                tracing::error!(error = %e, "an outbox send task failed");
                self.in_flight.clear();
                return;
            }
        };
        self.in_flight.remove(&id);
        match outcome {
            Ok(Outcome::Confirmed { stock }) => self.touched.extend(stock),
            Ok(Outcome::Waiting {
                pause: true,
                retry_after,
                needs_fix,
            }) => {
                let not_before = retry_after.map_or(0, |d| {
                    unix_millis_now() + i64::try_from(d.as_millis()).unwrap_or(0)
                });
                let p = self.paused.get_or_insert(Pause {
                    probes: 0,
                    outage: false,
                    needs_fix,
                    not_before,
                });
                p.not_before = p.not_before.max(not_before);
                p.needs_fix |= needs_fix;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::error!(outbox_id = %id, error = %e, "cannot record an outbox attempt")
            }
        }
    }

    /// Asks the shop whether it answers; resumes replay if it does.
    async fn probe(&mut self) {
        let Some(mut pause) = self.paused else {
            return;
        };
        match self.upstream.ping().await {
            Ok(()) => {
                self.paused = None;
                if pause.outage {
                    tracing::info!("the shop answers again: resuming replay");
                    let _ = self
                        .store
                        .write(|tx| {
                            let now = unix_millis_now();
                            outbox::release_waiting(tx, now)?;
                            events::append(
                                tx,
                                now,
                                Level::Info,
                                "shop_reachable",
                                None,
                                "the shop answers again: sending queued changes",
                            )
                        })
                        .await;
                }
            }
            Err(e) => {
                if !pause.outage {
                    tracing::warn!(error = %e, "the shop is unreachable: replay paused");
                    let message = format!("the shop is unreachable, queued changes wait: {e}");
                    let _ = self
                        .store
                        .write(move |tx| {
                            events::append(
                                tx,
                                unix_millis_now(),
                                Level::Warn,
                                "shop_unreachable",
                                None,
                                &message,
                            )
                        })
                        .await;
                }
                pause.outage = true;
                pause.needs_fix = e.needs_fix();
                pause.probes = pause.probes.saturating_add(1);
                if let Some(d) = e.retry_after() {
                    pause.not_before =
                        unix_millis_now() + i64::try_from(d.as_millis()).unwrap_or(0);
                }
                self.paused = Some(pause);
            }
        }
    }

    /// How long to sleep with nothing to send.
    async fn idle_wait(&self) -> Duration {
        let next = self.store.read(outbox::next_due_at).await.ok().flatten();
        match next {
            Some(at) => {
                let ms = (at - unix_millis_now()).clamp(0, IDLE_RECHECK.as_millis() as i64);
                Duration::from_millis(u64::try_from(ms).unwrap_or(0))
            }
            None => IDLE_RECHECK,
        }
    }

    async fn check_stock(&mut self) {
        let touched = std::mem::take(&mut self.touched);
        match stock_check::refresh(&*self.upstream, &self.store, touched.clone()).await {
            Ok(requests) => tracing::debug!(requests, "stock read back"),
            Err(e) => {
                // Not worth holding sales back for: the next poll corrects
                // the replica. Logged, and dropped.
                tracing::warn!(error = %e, "cannot read back stock after replay");
            }
        }
    }
}
