//! The agent's sync task: runs the full pull when the replica needs one (and
//! keeps retrying, with backoff, while the shop is unreachable), then runs
//! the delta timetable (`schedule`) and, beside it, the hourly check of the
//! webhook subscriptions, until shutdown.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::SyncError;
use super::backoff::RetryPolicy;
use super::progress::ProgressTx;
use super::pull::{self, PullOptions};
use super::schedule;
use super::webhooks::subscriptions::{CHECK_EVERY, watch_subscriptions};
use crate::config::Schedule;
use crate::store::{Store, sync_state};
use crate::upstream::{Upstream, WebhookAdmin};

/// Delay before the first retry of a failed pull; doubles up to the cap.
const PULL_RETRY_BASE: Duration = Duration::from_secs(5);
/// Longest wait between two attempts at a failed pull.
const PULL_RETRY_CAP: Duration = Duration::from_secs(300);

/// When the agent runs a full pull at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitialPull {
    /// Never (the replica is served as it is).
    Never,
    /// When some resource was never pulled or a pull was interrupted.
    IfNeeded,
    /// Always.
    Always,
}

/// Runs until `token` is cancelled: the full pull when needed, then the
/// delta timetable (not when `initial` is `Never`: the replica is then
/// served as it is).
pub async fn run<U: Upstream + WebhookAdmin>(
    upstream: U,
    store: Store,
    opts: PullOptions,
    schedule: Schedule,
    progress: ProgressTx,
    token: CancellationToken,
    initial: InitialPull,
) {
    let needed = match initial {
        InitialPull::Never => false,
        InitialPull::Always => true,
        InitialPull::IfNeeded => {
            let resources = upstream.resources();
            store
                .read(move |c| sync_state::pull_needed(c, resources))
                .await
                .unwrap_or(true)
        }
    };
    if needed {
        pull_until_done(&upstream, &store, &opts, &progress, &token).await;
    }
    if initial == InitialPull::Never {
        token.cancelled().await;
        return;
    }
    // A subscription the shop disabled is re-enabled within the hour.
    tokio::join!(
        schedule::run(&upstream, &store, &opts, &schedule, &token),
        watch_subscriptions(&upstream, &store, CHECK_EVERY, &token),
    );
}

/// Retries the full pull until it completes or shutdown is asked. Finished
/// pages are kept between attempts, so each retry resumes.
async fn pull_until_done<U: Upstream>(
    upstream: &U,
    store: &Store,
    opts: &PullOptions,
    progress: &ProgressTx,
    token: &CancellationToken,
) {
    let policy = RetryPolicy::new(PULL_RETRY_BASE, PULL_RETRY_CAP, PULL_RETRY_CAP, u32::MAX)
        .expect("constant retry policy is valid");
    let mut attempt = 0u32;
    loop {
        match pull::run(upstream, store, opts, progress, token).await {
            Ok(_) => return,
            Err(SyncError::Cancelled) => return,
            Err(e) => {
                // A full-jitter draw can be near zero; never hammer a shop
                // that just failed.
                let delay = policy.next_delay(attempt, None).max(PULL_RETRY_BASE);
                tracing::warn!(error = %e, retry_in_s = delay.as_secs(), "full pull failed; will retry");
                tokio::select! {
                    _ = token.cancelled() => return,
                    _ = tokio::time::sleep(delay) => {}
                }
                attempt = attempt.saturating_add(1);
            }
        }
    }
}
