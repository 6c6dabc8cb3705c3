//! The task that drains the inbox: woken after each stored batch, it
//! parses deliveries off the async runtime, applies them in one replica
//! transaction per batch, records the outcomes in the inbox file, and
//! settles deliveries whose object was gone by asking the shop (when one is
//! configured).
//!
//! The inbox is a file of its own (see [`crate::store::inbox`]), so a batch
//! takes two commits: the replica's (the changes, plus the outcomes in the
//! replica's journal) and then the inbox's (the outcomes, the totals). The
//! replica's transaction may wait behind full-pull pages; the inbox's is
//! small and never holds the inbox's writer for long, so deliveries keep
//! being stored meanwhile. A stop between the two commits leaves deliveries
//! pending in the inbox whose changes are in the replica; [`recover`] copies
//! their outcomes from the journal before anything else is applied, so none
//! is applied twice. A stop before the replica's commit loses nothing: the
//! deliveries are still pending and are applied at the next start.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::apply::{self, BatchOutcome, Mirror, Parsed, Parser};
use super::refetch;
use crate::domain::time::unix_millis_now;
use crate::domain::webhooks::Outcome;
use crate::store::inbox::{self, journal};
use crate::store::{Store, StoreError};
use crate::upstream::Upstream;

/// Deliveries parsed and applied per transaction.
const BATCH: i64 = 256;
/// How soon a refetch that failed (shop unreachable) is tried again.
const REFETCH_RETRY: Duration = Duration::from_secs(60);

/// Marks in the inbox the outcomes the replica's journal holds for
/// deliveries the inbox still has as pending (the agent stopped between the
/// two commits of a batch). Returns how many deliveries it marked.
pub async fn recover(store: &Store) -> Result<usize, StoreError> {
    let entries = store.read(journal::entries).await?;
    if entries.is_empty() {
        return Ok(0);
    }
    let ids: Vec<i64> = entries.iter().map(|o| o.inbox_id).collect();
    let unmarked = store
        .inbox()
        .read(move |c| inbox::any_pending(c, &ids))
        .await?;
    if !unmarked {
        return Ok(0);
    }
    let marked = store
        .inbox()
        .write(move |tx| inbox::mark(tx, &entries, unix_millis_now()))
        .await?;
    if marked > 0 {
        tracing::info!(
            deliveries = marked,
            "webhook deliveries applied before a stop were marked as such"
        );
    }
    Ok(marked)
}

/// Applies every pending delivery now; returns what was done.
pub async fn drain(
    store: &Store,
    parse: Parser,
    mirror: &Mirror,
) -> Result<BatchOutcome, StoreError> {
    // The journal must hold only marked outcomes before a batch replaces it.
    recover(store).await?;
    let mut total = BatchOutcome::default();
    let mut after = 0;
    loop {
        let Some(outcomes) = apply_next(store, parse, mirror, after).await? else {
            return Ok(total);
        };
        after = outcomes.last().map_or(after, |o| o.inbox_id);
        total.add(&outcomes);
        mark(store, outcomes).await?;
    }
}

/// The replica's half of a batch: parses the next pending deliveries after
/// inbox id `after` and applies them in one replica transaction, outcomes
/// in its journal included. `None` when nothing is pending. The outcomes
/// must then be [`mark`]ed before the next batch (or [`recover`]ed).
pub async fn apply_next(
    store: &Store,
    parse: Parser,
    mirror: &Mirror,
    after: i64,
) -> Result<Option<Vec<Outcome>>, StoreError> {
    // Parsing is CPU work: off the runtime's workers, on the inbox's read
    // connection that also tells which versions were taken before.
    let parsed: Vec<Parsed> = store
        .inbox()
        .read(move |c| {
            inbox::pending(c, after, BATCH)?
                .into_iter()
                .map(|item| {
                    let outcome = parse(&item.topic, &item.body);
                    let seen_before = match outcome.as_ref().ok().and_then(apply::key_of) {
                        Some(key) => inbox::seen(c, item.id, &key)?,
                        None => false,
                    };
                    Ok(Parsed {
                        inbox_id: item.id,
                        outcome,
                        seen_before,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()
        })
        .await?;
    if parsed.is_empty() {
        return Ok(None);
    }
    let mirror = mirror.clone();
    let outcomes = store
        .write(move |tx| apply::apply_batch(tx, &parsed, &mirror, unix_millis_now()))
        .await?;
    Ok(Some(outcomes))
}

/// The inbox's half of a batch: records the outcomes (and the totals) in
/// the inbox file, in a small transaction of its own.
pub async fn mark(store: &Store, outcomes: Vec<Outcome>) -> Result<(), StoreError> {
    store
        .inbox()
        .write(move |tx| {
            inbox::mark(tx, &outcomes, unix_millis_now())?;
            inbox::prune(tx)
        })
        .await
}

/// Runs until `token` is cancelled: drains the inbox each time a batch is
/// stored (and once at start, for deliveries stored before a restart).
pub async fn run<U: Upstream>(
    store: Store,
    upstream: Option<U>,
    parse: Parser,
    mirror: Mirror,
    token: CancellationToken,
) {
    let inbox = store.inbox().clone();
    let mut refetch_due = true;
    loop {
        match drain(&store, parse, &mirror).await {
            Ok(done) if done != BatchOutcome::default() => {
                tracing::debug!(?done, "webhook deliveries applied");
                refetch_due |= done.refetch > 0;
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "cannot apply webhook deliveries"),
        }
        if refetch_due && let Some(up) = &upstream {
            refetch_due = !refetch::settle(up, &store, &mirror).await;
        }
        let wait = if refetch_due {
            REFETCH_RETRY
        } else {
            Duration::MAX
        };
        tokio::select! {
            _ = token.cancelled() => return,
            _ = inbox.stored().notified() => {}
            _ = tokio::time::sleep(wait.min(Duration::from_secs(3600))) => {}
        }
    }
}
