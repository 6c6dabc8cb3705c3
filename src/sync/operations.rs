//! Operations a manager starts by hand from the back-office page: pull
//! everything, pull given ids of a resource, pull what changed since a
//! date, run the completeness sweep now.
//!
//! They reuse the engine's own steps (`pull::run`, `Delta::fetch_ids`,
//! `Delta::poll_since`, `Delta::sweep`) with the generation's client and
//! replica. One runs at a time, in the background, on the generation's
//! tracker and under a child of its token: a settings reload or shutdown
//! stops it at the next unit of work, like every sync task. Each ends with
//! a line in the event log. This module parses what the page sends, so a
//! refused input starts nothing.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::SyncError;
use super::delta::{Delta, DeltaReport};
use super::progress::{ProgressTx, PullState};
use super::pull::{self, PullOptions};
use super::sweep::SWEPT;
use crate::domain::time::unix_millis_now;
use crate::domain::{GmtTime, Resource, UpstreamId};
use crate::store::Store;
use crate::store::events::{self, Level};
use crate::upstream::{Filter, Upstream};

/// Most ids one pull-by-ids asks for (one page of the shop's largest).
pub const MAX_IDS: usize = 100;

/// The resources that can be pulled by id, with their form names.
pub const BY_ID: [Resource; 4] = [
    Resource::Products,
    Resource::Variations,
    Resource::Customers,
    Resource::Orders,
];

/// The resources "changed since" polls with a modified filter (customers
/// have none: they are compared by stamps instead).
const SINCE_POLLED: [Resource; 3] = [Resource::Products, Resource::Variations, Resource::Orders];

/// One operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// A full pull (resumes an interrupted one).
    PullAll,
    /// These objects, fetched by id and written through the guard.
    PullIds {
        resource: Resource,
        ids: Vec<UpstreamId>,
    },
    /// What the shop modified after `since`.
    PullSince { since: GmtTime },
    /// The deletion and completeness sweep of every mirrored resource.
    Sweep,
}

impl Operation {
    /// How the page and the event log name it.
    pub fn describe(&self) -> String {
        match self {
            Operation::PullAll => "pull everything".to_owned(),
            Operation::PullIds { resource, ids } => {
                let list: Vec<String> = ids.iter().map(i64::to_string).collect();
                format!("pull {resource} {}", list.join(", "))
            }
            Operation::PullSince { since } => format!("pull changes since {since} GMT"),
            Operation::Sweep => "completeness sweep".to_owned(),
        }
    }

    /// A pull by ids from the form's resource name and id list (commas,
    /// spaces or new lines between ids).
    pub fn parse_ids(resource: &str, ids: &str) -> Result<Operation, String> {
        let resource = BY_ID
            .into_iter()
            .find(|r| r.to_string() == resource.trim())
            .ok_or_else(|| {
                let known: Vec<String> = BY_ID.iter().map(Resource::to_string).collect();
                format!(
                    "resource must be one of {} (got {:?})",
                    known.join(", "),
                    resource.trim()
                )
            })?;
        let mut out: Vec<UpstreamId> = Vec::new();
        for word in ids
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|w| !w.is_empty())
        {
            let id: UpstreamId = word
                .parse()
                .ok()
                .filter(|n: &i64| *n > 0)
                .ok_or_else(|| format!("ids must be positive whole numbers (got {word:?})"))?;
            if !out.contains(&id) {
                out.push(id);
            }
        }
        if out.is_empty() {
            return Err("ids must name at least one id".to_owned());
        }
        if out.len() > MAX_IDS {
            return Err(format!(
                "ids may name at most {MAX_IDS} at once (got {})",
                out.len()
            ));
        }
        Ok(Operation::PullIds { resource, ids: out })
    }

    /// A pull of changes since `date` (`YYYY-MM-DD`, `YYYY-MM-DDTHH:MM` or
    /// with seconds, read as GMT), which must not be after `now`.
    pub fn parse_since(date: &str, now: GmtTime) -> Result<Operation, String> {
        let d = date.trim();
        let since = GmtTime::parse(d)
            .or_else(|| GmtTime::parse(&format!("{d}:00")))
            .or_else(|| GmtTime::parse(&format!("{d}T00:00:00")))
            .ok_or_else(|| format!("since must be a date such as 2026-01-31 (got {d:?})"))?;
        if since > now {
            return Err(format!("since must not be in the future (got {since})"));
        }
        Ok(Operation::PullSince { since })
    }
}

/// The operation running now.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RunningOperation {
    pub name: String,
    /// Unix ms.
    pub started_at: i64,
    /// What it is doing (a resource, a step).
    pub step: String,
    pub steps_done: usize,
    pub steps_total: usize,
    /// Objects fetched so far.
    pub fetched: u64,
}

/// How the last operation ended.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FinishedOperation {
    pub name: String,
    pub started_at: i64,
    pub finished_at: i64,
    pub ok: bool,
    /// The sentence the event log got.
    pub message: String,
}

/// What the page shows of the operations.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct OperationsStatus {
    pub running: Option<RunningOperation>,
    pub last: Option<FinishedOperation>,
    /// Why no operation can start in this generation (deactivated, no
    /// store).
    pub unavailable: Option<String>,
}

/// Why an operation was not started.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Nothing can run in this generation.
    #[error("no operation can run: {0}")]
    Unavailable(String),
    /// One is running; it is named.
    #[error("{0} is running; wait for it to finish")]
    Busy(String),
}

/// What an operation works with: the generation's client and replica.
pub struct Context<U> {
    pub upstream: Arc<U>,
    pub store: Store,
    pub opts: PullOptions,
    pub overlap: Duration,
    /// The full-pull progress the status page shows.
    pub progress: ProgressTx,
}

struct Inner<U> {
    context: Result<Context<U>, String>,
    status: Mutex<OperationsStatus>,
    tracker: TaskTracker,
    token: CancellationToken,
}

/// The generation's operations runner; cheap to clone.
pub struct Operations<U> {
    inner: Arc<Inner<U>>,
}

impl<U> Clone for Operations<U> {
    fn clone(&self) -> Self {
        Operations {
            inner: self.inner.clone(),
        }
    }
}

impl<U: Upstream> Operations<U> {
    /// A runner whose operations run on `tracker` under `token`.
    pub fn new(context: Context<U>, tracker: TaskTracker, token: CancellationToken) -> Self {
        Self::with(Ok(context), tracker, token)
    }

    /// A runner that refuses every operation with `reason`.
    pub fn unavailable(reason: impl Into<String>) -> Self {
        Self::with(
            Err(reason.into()),
            TaskTracker::new(),
            CancellationToken::new(),
        )
    }

    fn with(
        context: Result<Context<U>, String>,
        tracker: TaskTracker,
        token: CancellationToken,
    ) -> Self {
        let status = OperationsStatus {
            unavailable: context.as_ref().err().cloned(),
            ..OperationsStatus::default()
        };
        Operations {
            inner: Arc::new(Inner {
                context,
                status: Mutex::new(status),
                tracker,
                token,
            }),
        }
    }

    /// The client, for the webhook actions of the page (`None` with the
    /// reason when this generation has none).
    pub fn upstream(&self) -> Result<&Arc<U>, &str> {
        self.inner
            .context
            .as_ref()
            .map(|c| &c.upstream)
            .map_err(String::as_str)
    }

    /// What is running and how the last one ended.
    pub fn status(&self) -> OperationsStatus {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, OperationsStatus> {
        self.inner.status.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts `op` in the background; returns its name.
    pub fn start(&self, op: Operation) -> Result<String, Refusal> {
        let context = self
            .inner
            .context
            .as_ref()
            .map_err(|reason| Refusal::Unavailable(reason.clone()))?;
        let name = op.describe();
        {
            let mut status = self.lock();
            if let Some(running) = &status.running {
                return Err(Refusal::Busy(running.name.clone()));
            }
            // The agent's own full pull (at start, or resumed) counts too.
            if context.progress.borrow().state == PullState::Running {
                return Err(Refusal::Busy("the full pull".to_owned()));
            }
            status.running = Some(RunningOperation {
                name: name.clone(),
                started_at: unix_millis_now(),
                step: "starting".to_owned(),
                steps_done: 0,
                steps_total: 0,
                fetched: 0,
            });
        }
        let this = self.clone();
        let token = self.inner.token.child_token();
        self.inner
            .tracker
            .spawn(async move { this.run(op, token).await });
        Ok(name)
    }

    fn step(&self, step: impl Into<String>, done: usize, total: usize, fetched: u64) {
        if let Some(r) = self.lock().running.as_mut() {
            r.step = step.into();
            r.steps_done = done;
            r.steps_total = total;
            r.fetched = fetched;
        }
    }

    async fn run(&self, op: Operation, token: CancellationToken) {
        let Ok(context) = self.inner.context.as_ref() else {
            return;
        };
        let name = op.describe();
        let outcome = self.execute(context, op, &token).await;
        let (level, ok, message) = match outcome {
            Ok(r) => (
                Level::Info,
                true,
                format!("{name}: done, {} fetched, {} removed", r.fetched, r.removed),
            ),
            Err(SyncError::Cancelled) => (
                Level::Warn,
                false,
                format!("{name}: stopped by a settings change or shutdown"),
            ),
            Err(e) => (Level::Error, false, format!("{name} failed: {e}")),
        };
        let logged = message.clone();
        let _ = context
            .store
            .write(move |tx| {
                events::append(tx, unix_millis_now(), level, "operation", None, &logged)
            })
            .await;
        let mut status = self.lock();
        let started_at = status
            .running
            .take()
            .map_or_else(unix_millis_now, |r| r.started_at);
        status.last = Some(FinishedOperation {
            name,
            started_at,
            finished_at: unix_millis_now(),
            ok,
            message,
        });
    }

    async fn execute(
        &self,
        c: &Context<U>,
        op: Operation,
        token: &CancellationToken,
    ) -> Result<DeltaReport, SyncError> {
        let d = Delta {
            upstream: c.upstream.as_ref(),
            store: &c.store,
            opts: &c.opts,
            overlap: c.overlap,
            token,
        };
        let mut total = DeltaReport::default();
        match op {
            Operation::PullAll => {
                self.step("pulling every resource", 0, 1, 0);
                let report =
                    pull::run(c.upstream.as_ref(), &c.store, &c.opts, &c.progress, token).await?;
                for r in report.resources {
                    total.fetched += r.items;
                    total.removed += r.removed;
                }
            }
            Operation::PullIds { resource, ids } => {
                self.step(resource.to_string(), 0, 1, 0);
                total.fetched = d.fetch_ids(resource, &Filter::default(), &ids).await?;
            }
            Operation::PullSince { since } => {
                let steps = SINCE_POLLED.len() + 1;
                for (i, r) in SINCE_POLLED.into_iter().enumerate() {
                    self.step(r.to_string(), i, steps, total.fetched);
                    let one = d.poll_since(r, since).await?;
                    total.fetched += one.fetched;
                    total.removed += one.removed;
                }
                self.step(
                    Resource::Customers.to_string(),
                    steps - 1,
                    steps,
                    total.fetched,
                );
                let one = d.sweep_customers().await?;
                total.fetched += one.fetched;
                total.removed += one.removed;
            }
            Operation::Sweep => {
                for (i, r) in SWEPT.into_iter().enumerate() {
                    if token.is_cancelled() {
                        return Err(SyncError::Cancelled);
                    }
                    self.step(r.to_string(), i, SWEPT.len(), total.fetched);
                    let one = d.sweep(r).await?;
                    total.fetched += one.fetched;
                    total.removed += one.removed;
                }
            }
        }
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_read_from_commas_spaces_and_lines() {
        let op = Operation::parse_ids("products", "12, 7\n12 30").unwrap();
        assert_eq!(
            op,
            Operation::PullIds {
                resource: Resource::Products,
                ids: vec![12, 7, 30]
            }
        );
    }

    #[test]
    fn bad_ids_and_resources_are_refused_with_the_reason() {
        let e = Operation::parse_ids("coupons", "1").unwrap_err();
        assert!(
            e.starts_with("resource must be one of products, variations, customers, orders"),
            "{e}"
        );
        let e = Operation::parse_ids("orders", "1, x2").unwrap_err();
        assert_eq!(e, "ids must be positive whole numbers (got \"x2\")");
        assert!(Operation::parse_ids("orders", " ").is_err());
        let many: Vec<String> = (1..=101).map(|i| i.to_string()).collect();
        let e = Operation::parse_ids("orders", &many.join(",")).unwrap_err();
        assert_eq!(e, "ids may name at most 100 at once (got 101)");
    }

    #[test]
    fn since_reads_a_date_or_a_time_and_refuses_the_future() {
        let now = GmtTime::parse("2026-03-01T12:00:00").unwrap();
        let at = |s: &str| match Operation::parse_since(s, now) {
            Ok(Operation::PullSince { since }) => since.to_string(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            at("2026-02-01"),
            GmtTime::parse("2026-02-01T00:00:00").unwrap().to_string()
        );
        assert_eq!(
            at("2026-02-01T10:30"),
            GmtTime::parse("2026-02-01T10:30:00").unwrap().to_string()
        );
        assert!(
            Operation::parse_since("yesterday", now)
                .unwrap_err()
                .starts_with("since must be a date")
        );
        assert!(
            Operation::parse_since("2026-04-01", now)
                .unwrap_err()
                .contains("future")
        );
    }
}
