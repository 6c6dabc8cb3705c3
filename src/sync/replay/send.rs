//! Sending one outbox entry: settle an unknown outcome by looking the key up,
//! map local ids to upstream ids, mark the attempt, send, and record the
//! result. Every state change is one committed write, so a crash between
//! any two steps leaves the entry in a state that says what to do next.

use std::collections::BTreeMap;
use std::time::Duration;

use uuid::Uuid;

use super::effects;
use crate::domain::outbox::{
    CustomerRef, EntryState, OrderRef, OutboxEntry, Payload, Return, Sale, StockAdjustment,
};
use crate::domain::time::unix_millis_now;
use crate::domain::{GmtTime, UpstreamId};
use crate::store::till::{customers, sales};
use crate::store::{Store, StoreError, outbox};
use crate::sync::backoff::RetryPolicy;
use crate::upstream::UpstreamError;
use crate::upstream::writes::{LOOKUP_MARGIN, UpstreamWrites, WriteFailure};

/// WooCommerce's answer to a customer email already registered.
const EMAIL_EXISTS: &str = "registration-error-email-exists";

/// How one attempt at an entry ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The shop has it; these stock rows (product, variation) changed.
    Confirmed {
        stock: Vec<(UpstreamId, UpstreamId)>,
    },
    /// Not done; tried again later. `pause` when the shop looks unreachable
    /// or asked us to slow down (with how long, if it said).
    Waiting {
        pause: bool,
        retry_after: Option<Duration>,
        /// Nothing can work until the keys, the certificate or the store
        /// address is fixed: the pause probes slowly.
        needs_fix: bool,
    },
    /// Parked for the manager.
    Rejected,
    /// No longer waiting (discarded meanwhile): nothing done.
    Skipped,
}

/// Tries one entry once.
#[tracing::instrument(skip_all, fields(outbox_id = %entry.id, kind = entry.kind.as_str(), attempt = entry.attempts))]
pub async fn send_one<U: UpstreamWrites>(
    upstream: &U,
    store: &Store,
    policy: &RetryPolicy,
    entry: OutboxEntry,
) -> Result<Outcome, StoreError> {
    if entry.state == EntryState::Unknown {
        match settle(upstream, store, &entry).await {
            Ok(Some(outcome)) => return Ok(outcome),
            Ok(None) => tracing::info!("not found at the shop: sending again"),
            Err(e) => return wait(store, policy, &entry, EntryState::Unknown, &e).await,
        }
    }
    let id = entry.id;
    let started = unix_millis_now();
    if !store
        .write(move |tx| outbox::mark_sending(tx, id, started))
        .await?
    {
        return Ok(Outcome::Skipped);
    }
    let result = match &entry.payload {
        Payload::Sale(sale) => send_sale(upstream, store, &entry, sale).await,
        Payload::Refund(ret) => send_refund(upstream, store, &entry, ret).await,
        Payload::Complete { order, .. } => send_complete(upstream, store, &entry, *order).await,
        Payload::CustomerCreate { local_id, fields } => {
            match upstream.create_customer(id, fields).await {
                Ok(c) => effects::customer_created(store, &entry, *local_id, c.id)
                    .await
                    .map_err(store_failure),
                Err(f) if is_code(&f.error, EMAIL_EXISTS) => {
                    let email = fields.email.clone().unwrap_or_default();
                    match upstream.find_customer_by_email(&email).await {
                        Ok(Some(found)) => {
                            effects::customer_created(store, &entry, *local_id, found)
                                .await
                                .map_err(store_failure)
                        }
                        Ok(None) => Err(f),
                        Err(e) => Err(WriteFailure::not_applied(e)),
                    }
                }
                Err(f) => Err(f),
            }
        }
        Payload::CustomerUpdate {
            customer, fields, ..
        } => match customer_id(store, *customer).await? {
            Some(cid) => match upstream.update_customer(cid, fields).await {
                Ok(()) => effects::confirmed(store, &entry, cid)
                    .await
                    .map_err(store_failure),
                Err(f) => Err(f),
            },
            None => Err(missing_dependency("the customer")),
        },
        Payload::StockAdjust(adj) => send_adjustment(upstream, store, &entry, adj).await,
    };
    match result {
        Ok(outcome) => Ok(outcome),
        Err(f) => failed(store, policy, &entry, f).await,
    }
}

fn is_code(e: &UpstreamError, wanted: &str) -> bool {
    matches!(e, UpstreamError::Rejected { code, .. } if code == wanted)
}

fn missing_dependency(what: &str) -> WriteFailure {
    WriteFailure::not_applied(UpstreamError::Transient {
        reason: format!("{what} is not at the shop yet"),
        retry_after: None,
    })
}

async fn customer_id(store: &Store, c: CustomerRef) -> Result<Option<UpstreamId>, StoreError> {
    match c {
        CustomerRef::Upstream(id) => Ok(Some(id)),
        CustomerRef::Local(local) => {
            store
                .read(move |conn| customers::upstream_customer_id(conn, local))
                .await
        }
    }
}

/// The upstream order and its line ids (local line number or upstream line
/// id → upstream line id).
async fn order_target(
    store: &Store,
    order: OrderRef,
    refs: Vec<UpstreamId>,
) -> Result<Option<(UpstreamId, BTreeMap<UpstreamId, UpstreamId>)>, StoreError> {
    match order {
        OrderRef::Upstream(id) => Ok(Some((id, refs.into_iter().map(|r| (r, r)).collect()))),
        OrderRef::Local(local) => {
            let found = store
                .read(move |conn| sales::upstream_order(conn, local))
                .await?;
            Ok(found.map(|o| {
                let lines = o
                    .lines
                    .into_iter()
                    .map(|(n, id)| (UpstreamId::from(n), id))
                    .collect();
                (o.id, lines)
            }))
        }
    }
}

async fn send_sale<U: UpstreamWrites>(
    upstream: &U,
    store: &Store,
    entry: &OutboxEntry,
    sale: &Sale,
) -> Result<Outcome, WriteFailure> {
    let customer = match sale.customer {
        None => 0,
        Some(c) => match customer_id(store, c).await.map_err(store_failure)? {
            Some(id) => id,
            None => return Err(missing_dependency("the sale's customer")),
        },
    };
    let created = upstream.create_order(entry.id, sale, customer).await?;
    effects::sale_created(store, entry, sale, created)
        .await
        .map_err(store_failure)
}

async fn send_refund<U: UpstreamWrites>(
    upstream: &U,
    store: &Store,
    entry: &OutboxEntry,
    ret: &Return,
) -> Result<Outcome, WriteFailure> {
    let refs = ret.lines.iter().map(|l| l.line_ref).collect();
    let Some((order_id, lines)) = order_target(store, ret.order, refs)
        .await
        .map_err(store_failure)?
    else {
        return Err(missing_dependency("the returned sale"));
    };
    let refund = upstream
        .create_refund(entry.id, order_id, ret, &lines)
        .await?;
    effects::refund_created(store, entry, ret, refund.id)
        .await
        .map_err(store_failure)
}

async fn send_complete<U: UpstreamWrites>(
    upstream: &U,
    store: &Store,
    entry: &OutboxEntry,
    order: OrderRef,
) -> Result<Outcome, WriteFailure> {
    let Some((order_id, _)) = order_target(store, order, Vec::new())
        .await
        .map_err(store_failure)?
    else {
        return Err(missing_dependency("the sale picked up"));
    };
    let updated = upstream.set_order_status(order_id, "completed").await?;
    effects::order_updated(store, entry, updated)
        .await
        .map_err(store_failure)
}

/// Read, set `read + delta`, read back. What was read and set is persisted
/// before the write, so an unknown outcome can be settled by re-reading.
async fn send_adjustment<U: UpstreamWrites>(
    upstream: &U,
    store: &Store,
    entry: &OutboxEntry,
    adj: &StockAdjustment,
) -> Result<Outcome, WriteFailure> {
    let before = upstream
        .stock(adj.product_id, adj.variation_id)
        .await?
        .quantity
        .unwrap_or(0);
    let target = before + adj.delta;
    let mut noted = adj.clone();
    noted.read_before = Some(before);
    noted.set_to = Some(target);
    let id = entry.id;
    let payload = Payload::StockAdjust(noted.clone());
    store
        .write(move |tx| outbox::set_payload(tx, id, &payload, unix_millis_now()))
        .await
        .map_err(store_failure)?;
    upstream
        .set_stock(adj.product_id, adj.variation_id, target)
        .await?;
    let after = upstream
        .stock(adj.product_id, adj.variation_id)
        .await
        .map_err(|e| WriteFailure {
            error: e,
            maybe_applied: true,
        })?
        .quantity
        .unwrap_or(0);
    effects::adjustment_done(store, entry, &noted, before, target, after)
        .await
        .map_err(store_failure)
}

/// Settles an attempt whose outcome is unknown: `Some` if the shop turned
/// out to have it (or it cannot be decided), `None` if it must be sent.
async fn settle<U: UpstreamWrites>(
    upstream: &U,
    store: &Store,
    entry: &OutboxEntry,
) -> Result<Option<Outcome>, UpstreamError> {
    let began = entry.attempt_started_at.unwrap_or(entry.created_at);
    let since = GmtTime::from_unix(began / 1000).minus(LOOKUP_MARGIN);
    let as_store = |e: StoreError| UpstreamError::Transient {
        reason: format!("local replica: {e}"),
        retry_after: None,
    };
    match &entry.payload {
        Payload::Sale(sale) => match upstream.find_order(entry.id, since).await? {
            Some(created) => effects::sale_created(store, entry, sale, created)
                .await
                .map(Some)
                .map_err(as_store),
            None => match upstream.order_search_lag_left(since) {
                left if left.is_zero() => Ok(None),
                left => search_again(store, entry, left)
                    .await
                    .map(Some)
                    .map_err(as_store),
            },
        },
        Payload::Refund(ret) => {
            let target = order_target(store, ret.order, Vec::new())
                .await
                .map_err(as_store)?;
            let Some((order_id, _)) = target else {
                return Ok(None);
            };
            match upstream.find_refund(entry.id, order_id).await? {
                Some(r) => effects::refund_created(store, entry, ret, r.id)
                    .await
                    .map(Some)
                    .map_err(as_store),
                None => Ok(None),
            }
        }
        Payload::CustomerCreate { local_id, fields } => {
            let email = fields.email.clone().unwrap_or_default();
            match upstream.find_customer_by_email(&email).await? {
                Some(id) => effects::customer_created(store, entry, *local_id, id)
                    .await
                    .map(Some)
                    .map_err(as_store),
                None => Ok(None),
            }
        }
        // Absolute writes: sending again is harmless.
        Payload::Complete { .. } | Payload::CustomerUpdate { .. } => Ok(None),
        Payload::StockAdjust(adj) => {
            let (Some(before), Some(set_to)) = (adj.read_before, adj.set_to) else {
                return Ok(None);
            };
            let now = upstream
                .stock(adj.product_id, adj.variation_id)
                .await?
                .quantity
                .unwrap_or(0);
            if now == set_to {
                effects::adjustment_done(store, entry, adj, before, set_to, now)
                    .await
                    .map(Some)
                    .map_err(as_store)
            } else if now == before {
                Ok(None)
            } else {
                let message = format!(
                    "the shop's stock moved from {before} to {now} while this adjustment (to {set_to}) was in doubt; check the count, then retry or discard"
                );
                effects::park(store, entry, "stock_changed_meanwhile", &message)
                    .await
                    .map(|_| Some(Outcome::Rejected))
                    .map_err(as_store)
            }
        }
    }
}

fn store_failure(e: StoreError) -> WriteFailure {
    // The shop answered, but the replica could not record it: treat it as
    // unknown, so the next attempt looks the key up before sending.
    WriteFailure {
        error: UpstreamError::Transient {
            reason: format!("local replica: {e}"),
            retry_after: None,
        },
        maybe_applied: true,
    }
}

/// Records a failed attempt: waiting again (queued or unknown) or parked.
async fn failed(
    store: &Store,
    policy: &RetryPolicy,
    entry: &OutboxEntry,
    f: WriteFailure,
) -> Result<Outcome, StoreError> {
    let e = &f.error;
    // Keys refused, certificate refused, name unknown: the shop never
    // looked at the entry, so it waits, queued, for the fix (replay then
    // probes at the slow pace, see `Pause`); it is never parked for that.
    if e.is_transient()
        || e.needs_fix()
        || (f.maybe_applied && matches!(e, UpstreamError::Malformed { .. }))
    {
        let state = if f.maybe_applied {
            EntryState::Unknown
        } else {
            EntryState::Queued
        };
        let mut attempted = entry.clone();
        attempted.attempts += 1;
        return wait(store, policy, &attempted, state, e).await;
    }
    let (code, message) = match e {
        UpstreamError::Rejected { code, message, .. }
        | UpstreamError::NotFound { code, message } => (code.clone(), message.clone()),
        other => ("failed".to_owned(), other.to_string()),
    };
    tracing::warn!(code, message, "the shop refused it: parked");
    effects::park(store, entry, &code, &message).await?;
    Ok(Outcome::Rejected)
}

/// A sale not found while the shop's search may still trail it: looked
/// for again later (never sent meanwhile), without pausing the rest.
async fn search_again(
    store: &Store,
    entry: &OutboxEntry,
    left: Duration,
) -> Result<Outcome, StoreError> {
    let delay = (left / 4)
        .clamp(SEARCH_AGAIN_MIN, SEARCH_AGAIN_MAX)
        .min(left);
    let message = format!(
        "not found yet; the shop's order search may trail a new order for {}s more, so it is looked for again before any resend",
        left.as_secs()
    );
    tracing::info!(
        delay_ms = delay.as_millis() as u64,
        "sale not found yet: looking again later"
    );
    reschedule(
        store,
        entry,
        EntryState::Unknown,
        delay,
        ("searching", message),
    )
    .await?;
    Ok(Outcome::Waiting {
        pause: false,
        retry_after: None,
        needs_fix: false,
    })
}

/// Puts the entry back in `state`, due again in `delay`, with `error`
/// (code, message) as its last error.
async fn reschedule(
    store: &Store,
    entry: &OutboxEntry,
    state: EntryState,
    delay: Duration,
    (code, message): (&'static str, String),
) -> Result<(), StoreError> {
    let now = unix_millis_now();
    let next = now + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX / 2);
    let id: Uuid = entry.id;
    store
        .write(move |tx| outbox::set_state(tx, id, state, next, Some((code, &message)), now))
        .await
}

/// Bounds of the pause between two searches for a sale.
const SEARCH_AGAIN_MIN: Duration = Duration::from_millis(500);
const SEARCH_AGAIN_MAX: Duration = Duration::from_secs(15);

async fn wait(
    store: &Store,
    policy: &RetryPolicy,
    entry: &OutboxEntry,
    state: EntryState,
    e: &UpstreamError,
) -> Result<Outcome, StoreError> {
    let delay = policy.next_delay(entry.attempts.saturating_sub(1), e.retry_after());
    tracing::info!(state = state.as_str(), delay_ms = delay.as_millis() as u64, error = %e, "will try again");
    reschedule(store, entry, state, delay, ("retrying", e.to_string())).await?;
    Ok(Outcome::Waiting {
        pause: true,
        retry_after: e.retry_after(),
        needs_fix: e.needs_fix(),
    })
}
