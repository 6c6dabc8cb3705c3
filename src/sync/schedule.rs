//! The timetable of `possync run` after the first pull: cursor polls,
//! the customer sweep, the metadata refresh and the completeness sweep, each
//! on its own jittered interval.
//!
//! Jobs run one at a time; a job that overruns only delays the next (its
//! next run is counted from when it ended), so nothing piles up. When the
//! shop fails with 429/5xx, everything waits with exponential backoff (its
//! `Retry-After` honoured). When the shop cannot be reached at all, a cheap
//! probe is tried every few seconds and work resumes as soon as it answers.
//! Last run times are kept in the replica, so a restart does not reset a
//! six-hourly sweep.

use std::time::Duration;

use rand::Rng;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::SyncError;
use super::backoff::RetryPolicy;
use super::delta::{Delta, DeltaReport, METADATA};
use super::pull::PullOptions;
use super::sweep::SWEPT;
use crate::config::Schedule;
use crate::domain::Resource;
use crate::domain::time::unix_millis_now;
use crate::store::events::Level;
use crate::store::{Store, delta as store_delta, sync_state};
use crate::upstream::{Upstream, UpstreamError};

/// While the shop is unreachable, how often the probe is tried.
const PROBE_EVERY: Duration = Duration::from_secs(3);
/// First and longest wait after a 429/5xx.
const BUSY_BASE: Duration = Duration::from_secs(2);
const BUSY_CAP: Duration = Duration::from_secs(300);

/// One kind of scheduled work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// A cursor poll of products, variations or orders.
    Poll(Resource),
    Customers,
    Metadata,
    /// Deletion and completeness sweep of every mirrored resource.
    Sweep,
}

impl Job {
    /// Every job, in the order one `sync --delta` cycle runs them.
    pub const ALL: [Job; 6] = [
        Job::Metadata,
        Job::Poll(Resource::Products),
        Job::Poll(Resource::Variations),
        Job::Poll(Resource::Orders),
        Job::Customers,
        Job::Sweep,
    ];

    fn interval(self, s: &Schedule) -> Duration {
        match self {
            Job::Poll(Resource::Products) => s.products,
            Job::Poll(Resource::Variations) => s.variations,
            Job::Poll(_) => s.orders,
            Job::Customers => s.customers,
            Job::Metadata => s.metadata,
            Job::Sweep => s.sweep,
        }
    }

    /// The resource whose state records this job's last run.
    fn marker(self) -> Resource {
        match self {
            Job::Poll(r) => r,
            Job::Customers => Resource::Customers,
            Job::Metadata => METADATA[0],
            Job::Sweep => SWEPT[0],
        }
    }

    /// The short name used on the command line (`sync --delta --jobs`).
    pub fn key(self) -> &'static str {
        match self {
            Job::Poll(Resource::Products) => "products",
            Job::Poll(Resource::Variations) => "variations",
            Job::Poll(_) => "orders",
            Job::Customers => "customers",
            Job::Metadata => "metadata",
            Job::Sweep => "sweep",
        }
    }

    pub fn name(self) -> String {
        match self {
            Job::Poll(r) => format!("poll {r}"),
            Job::Customers => "customer sweep".to_owned(),
            Job::Metadata => "metadata refresh".to_owned(),
            Job::Sweep => "completeness sweep".to_owned(),
        }
    }
}

impl std::str::FromStr for Job {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Job::ALL.into_iter().find(|j| j.key() == s).ok_or_else(|| {
            let known: Vec<&str> = Job::ALL.iter().map(|j| j.key()).collect();
            format!("unknown job {s:?}; jobs are {}", known.join(", "))
        })
    }
}

/// `d` moved by up to ± `jitter` of itself.
fn jittered(d: Duration, jitter: f64) -> Duration {
    if jitter <= 0.0 {
        return d;
    }
    let f = rand::thread_rng().gen_range(1.0 - jitter..=1.0 + jitter);
    d.mul_f64(f)
}

/// Runs one job to its end.
pub async fn run_job<U: Upstream>(d: &Delta<'_, U>, job: Job) -> Result<DeltaReport, SyncError> {
    match job {
        Job::Poll(r) => d.poll(r).await,
        Job::Customers => d.sweep_customers().await,
        Job::Metadata => d.refresh_metadata().await,
        Job::Sweep => {
            let mut total = DeltaReport::default();
            for r in SWEPT {
                let one = d.sweep(r).await?;
                total.fetched += one.fetched;
                total.removed += one.removed;
            }
            Ok(total)
        }
    }
}

/// When each job last ran (unix ms), from the replica. A completed full
/// pull counts as a run of every job over its resource.
async fn last_runs(store: &Store) -> Result<Vec<Option<i64>>, SyncError> {
    let fresh = store.read(store_delta::freshness).await?;
    let states = store.read(sync_state::resource_states).await?;
    Ok(Job::ALL
        .iter()
        .map(|job| {
            let r = job.marker();
            let pulled = states
                .iter()
                .find(|s| s.resource == r)
                .and_then(|s| s.last_full_pull_at);
            let own = fresh
                .iter()
                .find(|f| f.resource == r)
                .and_then(|f| match job {
                    Job::Sweep => f.verified_at,
                    _ => f.last_poll_at,
                });
            own.max(pulled)
        })
        .collect())
}

/// Runs the timetable until `token` is cancelled.
pub async fn run<U: Upstream>(
    upstream: &U,
    store: &Store,
    opts: &PullOptions,
    schedule: &Schedule,
    token: &CancellationToken,
) {
    let d = Delta {
        upstream,
        store,
        opts,
        overlap: schedule.overlap,
        token,
    };
    let now_ms = unix_millis_now();
    let start = Instant::now();
    let last = last_runs(store).await.unwrap_or_default();
    let mut due: Vec<Instant> = Job::ALL
        .iter()
        .enumerate()
        .map(|(i, job)| {
            let interval = job.interval(schedule);
            let elapsed = last
                .get(i)
                .copied()
                .flatten()
                .map(|at| Duration::from_millis((now_ms - at).max(0) as u64));
            match elapsed {
                Some(e) if e < interval => start + jittered(interval - e, schedule.jitter),
                // Never ran, or overdue: soon, spread a little.
                _ => start + jittered(Duration::from_secs(1), 0.5),
            }
        })
        .collect();
    let busy = RetryPolicy::new(BUSY_BASE, BUSY_CAP, BUSY_CAP, u32::MAX)
        .expect("constant retry policy is valid");
    let mut failures = 0u32;
    loop {
        let (i, when) = due
            .iter()
            .copied()
            .enumerate()
            .min_by_key(|(_, t)| *t)
            .expect("jobs exist");
        tokio::select! {
            _ = token.cancelled() => return,
            _ = tokio::time::sleep_until(when) => {}
        }
        let job = Job::ALL[i];
        let started = Instant::now();
        match run_job(&d, job).await {
            Ok(report) => {
                failures = 0;
                if report.fetched > 0 || report.removed > 0 {
                    tracing::info!(job = %job.name(), fetched = report.fetched, removed = report.removed,
                        elapsed_ms = started.elapsed().as_millis() as u64, "delta applied");
                } else {
                    tracing::debug!(job = %job.name(), "nothing changed");
                }
                due[i] = Instant::now() + jittered(job.interval(schedule), schedule.jitter);
            }
            Err(SyncError::Cancelled) => return,
            Err(SyncError::Upstream { resource, source }) if source.is_transient() => {
                record_failure(store, resource, &source).await;
                if !wait_for_shop(upstream, &source, &busy, &mut failures, token).await {
                    return;
                }
                // Everything that came due while waiting runs now, once.
            }
            Err(e) => {
                tracing::warn!(job = %job.name(), error = %e, "scheduled sync failed; will try again at its next interval");
                if let SyncError::Upstream { resource, source } = &e {
                    record_failure(store, *resource, source).await;
                }
                due[i] = Instant::now() + jittered(job.interval(schedule), schedule.jitter);
            }
        }
    }
}

/// Waits until the shop is worth asking again. Returns `false` on shutdown.
async fn wait_for_shop<U: Upstream>(
    upstream: &U,
    first: &UpstreamError,
    busy: &RetryPolicy,
    failures: &mut u32,
    token: &CancellationToken,
) -> bool {
    let mut error = first.clone();
    loop {
        let delay = if error.is_unreachable() {
            PROBE_EVERY
        } else {
            busy.next_delay(*failures, error.retry_after())
        };
        *failures = failures.saturating_add(1);
        tracing::warn!(error = %error, retry_in_ms = delay.as_millis() as u64, "shop unavailable; sync paused");
        tokio::select! {
            _ = token.cancelled() => return false,
            _ = tokio::time::sleep(delay) => {}
        }
        let probed = tokio::select! {
            _ = token.cancelled() => return false,
            p = upstream.probe() => p,
        };
        match probed {
            Ok(_) => {
                tracing::info!("shop reachable again; sync resumed");
                return true;
            }
            Err(e) if e.is_transient() => error = e,
            // Keys refused or the like: the jobs report it themselves.
            Err(_) => return true,
        }
    }
}

async fn record_failure(store: &Store, resource: Resource, error: &UpstreamError) {
    let message = error.to_string();
    let _ = store
        .write(move |tx| {
            let now = unix_millis_now();
            sync_state::record_error(tx, resource, Level::Warn, "sync_failed", &message, now)
        })
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_its_share() {
        let d = Duration::from_secs(100);
        for _ in 0..1000 {
            let j = jittered(d, 0.1);
            assert!(
                j >= Duration::from_secs(90) && j <= Duration::from_secs(110),
                "{j:?}"
            );
        }
        assert_eq!(jittered(d, 0.0), d);
    }

    #[test]
    fn every_job_has_its_own_interval() {
        let s = Schedule::default();
        assert_eq!(
            Job::Poll(Resource::Orders).interval(&s),
            Duration::from_secs(30)
        );
        assert_eq!(Job::Customers.interval(&s), Duration::from_secs(300));
        assert_eq!(Job::Metadata.interval(&s), Duration::from_secs(3600));
        assert_eq!(Job::Sweep.interval(&s), Duration::from_secs(21_600));
    }
}
