//! The webhook inbox: every verified delivery, stored raw before it is
//! parsed, then marked with what became of it. Deduplication is on the
//! version a delivery carries (resource, id, date_modified_gmt). WooCommerce's
//! delivery id is not unique, so it is never a key; Shopify's webhook id is
//! one per delivery and kept across its retries, so a retry of a delivery
//! still in the inbox is turned away before it is stored
//! ([`Inbox::store_once`]).
//!
//! # Its own database file
//!
//! The inbox is not in the replica. It is a second SQLite file beside it
//! (`replica.db` → `replica.inbox.db`, mode 0600, WAL, `synchronous=NORMAL`)
//! with its own writer thread ([`Inbox`]). The shop waits for the answer to
//! a delivery, and the answer is sent once the delivery is committed; in the
//! replica that commit queued behind whatever the replica's writer was in (a
//! full-pull page, a batch of applied deliveries, a WAL checkpoint),
//! hundreds of milliseconds during a pull. Here it waits for nothing but
//! other deliveries (group commit) and, at most, one small outcome write.
//!
//! A committed delivery survives a crash or kill of the agent. It does not
//! wait for an fsync, which takes 20-250 ms while the replica writes a pull,
//! so a power cut can lose the last deliveries. That is the one thing
//! traded: a delivery is a hint, and polling (the source of truth) brings
//! the same change within a cycle, a deletion within a sweep, as for any
//! delivery the shop could not make. The replica's journal (below) may then
//! name deliveries the inbox lost; their ids are reserved when the inbox
//! opens, so no new delivery takes one. Checkpoints of the inbox file (which
//! do fsync) run on a thread of their own, off the commit path, and rarely:
//! the commit after each one restarts the WAL and syncs its header.
//!
//! Applying crosses the two files, so it takes two transactions (see
//! `sync::webhooks::worker`): the changes go into the replica together with
//! a [`journal`] of the outcomes, then the outcomes are marked here. A stop
//! between the two is repaired from the journal at the next start, so no
//! delivery is applied twice. Tombstones of deleted objects stay in the
//! replica ([`tombstones`]), read in the same transaction as the changes.
//!
//! The functions in this file run on the inbox file's connections; those in
//! [`journal`] and [`tombstones`] on the replica's. Running totals live in
//! `webhook_counters`, so pruning old rows does not change what the status
//! page reports.

pub(super) mod db;
pub mod journal;
mod schema;
#[cfg(test)]
mod tests;
pub mod tombstones;

use rusqlite::{Connection, OptionalExtension, Transaction, named_params};
use serde::Serialize;

pub use db::{Inbox, IngestError, Stored};
pub use schema::INBOX_SCHEMA_VERSION;

use super::StoreError;
use crate::domain::webhooks::{DeliveryState, Outcome, ReceivedDelivery, VersionKey};
use crate::domain::{Resource, UpstreamId};

/// Processed rows kept for deduplication and inspection.
pub const KEEP_PROCESSED: i64 = 50_000;

const INSERT: &str = "
INSERT INTO webhook_inbox (received_at, topic, webhook_id, delivery_id, body)
VALUES (:at, :topic, :webhook_id, :delivery_id, :body)";
const BUMP: &str = "UPDATE webhook_counters SET value = value + :n WHERE name = :name";
const LAST_RECEIVED: &str =
    "UPDATE webhook_counters SET value = MAX(value, :at) WHERE name = 'last_received_at'";
const PENDING: &str = "
SELECT id, topic, body FROM webhook_inbox
WHERE state = 'pending' AND id > :after ORDER BY id LIMIT :limit";
// Only a pending row takes an outcome: marking again (after a stop between
// the replica's commit and this one) changes nothing and counts nothing.
const MARK: &str = "
UPDATE webhook_inbox SET state = :state, resource = :resource, object_id = :object_id,
    date_modified_gmt = :modified, error = :error, processed_at = :now
WHERE id = :id AND state = 'pending'";
const MARK_REFETCHED: &str = "
UPDATE webhook_inbox SET state = 'applied', processed_at = :now WHERE id = :id AND state = 'refetch'";
const SEEN_VERSION: &str = "
SELECT 1 FROM webhook_inbox
WHERE resource = :resource AND object_id = :object_id AND date_modified_gmt IS :modified
  AND state IN ('applied', 'stale') AND id <> :id
LIMIT 1";
const LAST_APPLIED_WAS_DELETE: &str = "
SELECT date_modified_gmt IS NULL FROM webhook_inbox
WHERE resource = :resource AND object_id = :object_id AND state IN ('applied', 'stale') AND id <> :id
ORDER BY id DESC LIMIT 1";
const IS_PENDING: &str = "SELECT 1 FROM webhook_inbox WHERE id = :id AND state = 'pending'";
const REFETCH_WAITING: &str = "
SELECT id, resource, object_id FROM webhook_inbox WHERE state = 'refetch' ORDER BY id";
const PRUNE: &str = "
DELETE FROM webhook_inbox
WHERE state NOT IN ('pending', 'refetch') AND id <= (SELECT MAX(id) FROM webhook_inbox) - :keep";
// Deliveries stored once carry a unique id; they are the shops' whose
// topics are `resource/event` (WooCommerce's are `resource.event`, and its
// delivery ids repeat).
const RECENT_UNIQUE_IDS: &str = "
SELECT delivery_id FROM webhook_inbox
WHERE delivery_id IS NOT NULL AND instr(topic, '/') > 0 ORDER BY id DESC LIMIT :limit";
const COUNTERS: &str = "SELECT name, value FROM webhook_counters";
const COUNT_WAITING: &str = "
SELECT COUNT(*) FILTER (WHERE state = 'pending'), COUNT(*) FILTER (WHERE state = 'refetch')
FROM webhook_inbox WHERE state IN ('pending', 'refetch')";
const RECENT_FAILURES: &str = "
SELECT id, received_at, topic, error FROM webhook_inbox
WHERE state = 'failed' ORDER BY id DESC LIMIT :limit";

/// A stored delivery waiting to be applied.
#[derive(Debug, Clone)]
pub struct InboxItem {
    pub id: i64,
    pub topic: String,
    pub body: Vec<u8>,
}

/// Webhook totals for the status page.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct WebhookStats {
    /// Verified deliveries stored.
    pub received: i64,
    /// Written to the replica.
    pub applied: i64,
    /// Older than (or as new as) what the replica held.
    pub stale: i64,
    /// The same version of the same object, delivered again.
    pub duplicates: i64,
    /// About objects the replica does not mirror.
    pub ignored: i64,
    /// Objects gone upstream, settled by asking the shop.
    pub refetched: i64,
    /// Signed but not understood.
    pub failed: i64,
    /// Stored and not yet applied.
    pub waiting: i64,
    /// Naming an object gone upstream, waiting for the shop to be asked.
    pub awaiting_refetch: i64,
    /// When the last delivery arrived (unix ms).
    pub last_delivery_at: Option<i64>,
    /// The latest failures, newest first.
    pub recent_failures: Vec<FailedDelivery>,
}

/// A delivery kept as failed, with the reason.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FailedDelivery {
    pub id: i64,
    pub received_at: i64,
    pub topic: String,
    pub error: Option<String>,
}

fn counter(state: DeliveryState) -> Option<&'static str> {
    Some(match state {
        DeliveryState::Applied => "applied",
        DeliveryState::Stale => "stale",
        DeliveryState::Duplicate => "duplicates",
        DeliveryState::Ignored => "ignored",
        DeliveryState::Failed => "failed",
        DeliveryState::Pending | DeliveryState::Refetch => return None,
    })
}

/// Stores verified deliveries, in order. Run by the inbox's writer thread,
/// one transaction per batch of deliveries.
fn insert(tx: &Transaction<'_>, deliveries: &[ReceivedDelivery]) -> Result<(), StoreError> {
    let mut stmt = tx.prepare_cached(INSERT)?;
    let mut last = 0;
    for d in deliveries {
        stmt.execute(named_params! {
            ":at": d.received_at,
            ":topic": d.topic,
            ":webhook_id": d.webhook_id,
            ":delivery_id": d.delivery_id,
            ":body": d.body,
        })?;
        last = last.max(d.received_at);
    }
    bump(tx, "received", deliveries.len() as i64)?;
    tx.prepare_cached(LAST_RECEIVED)?
        .execute(named_params! { ":at": last })?;
    Ok(())
}

/// Counts retries of stored deliveries turned away at the door.
fn count_duplicates(tx: &Transaction<'_>, n: usize) -> Result<(), StoreError> {
    bump(tx, "duplicates", n as i64)
}

/// The ids of the latest `limit` deliveries stored once, oldest first.
fn recent_unique_ids(conn: &Connection, limit: i64) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare_cached(RECENT_UNIQUE_IDS)?;
    let mut ids = stmt
        .query_map(named_params! { ":limit": limit }, |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    ids.reverse();
    Ok(ids)
}

fn bump(tx: &Transaction<'_>, name: &str, n: i64) -> Result<(), StoreError> {
    if n != 0 {
        tx.prepare_cached(BUMP)?
            .execute(named_params! { ":n": n, ":name": name })?;
    }
    Ok(())
}

/// Deliveries waiting to be applied, oldest first, after inbox id `after`.
pub fn pending(conn: &Connection, after: i64, limit: i64) -> Result<Vec<InboxItem>, StoreError> {
    let mut stmt = conn.prepare_cached(PENDING)?;
    let rows = stmt
        .query_map(named_params! { ":after": after, ":limit": limit }, |r| {
            Ok(InboxItem {
                id: r.get(0)?,
                topic: r.get(1)?,
                body: r.get(2)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Whether any of the deliveries `ids` is still pending.
pub fn any_pending(conn: &Connection, ids: &[i64]) -> Result<bool, StoreError> {
    let mut stmt = conn.prepare_cached(IS_PENDING)?;
    for id in ids {
        if stmt.exists(named_params! { ":id": id })? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The columns (`resource`, `object_id`, `date_modified_gmt`) of the
/// version an outcome carries, as the inbox and the replica's journal store
/// it.
pub(in crate::store) fn version_columns(
    o: &Outcome,
) -> (Option<&'static str>, Option<i64>, Option<String>) {
    let key = o.key.as_ref();
    (
        key.map(|k| k.resource.as_str()),
        key.map(|k| k.id),
        key.and_then(|k| k.modified).map(|t| t.to_string()),
    )
}

/// Records what became of deliveries, with the versions they carried.
/// Deliveries no longer pending (already marked) are left as they are, so
/// marking the same outcomes twice counts them once. Returns how many rows
/// took their outcome.
pub fn mark(tx: &Transaction<'_>, outcomes: &[Outcome], now_ms: i64) -> Result<usize, StoreError> {
    let mut stmt = tx.prepare_cached(MARK)?;
    let mut counted: Vec<(&'static str, i64)> = Vec::new();
    let mut changed = 0;
    for o in outcomes {
        let (resource, object_id, modified) = version_columns(o);
        let n = stmt.execute(named_params! {
            ":id": o.inbox_id,
            ":state": o.state.as_str(),
            ":resource": resource,
            ":object_id": object_id,
            ":modified": modified,
            ":error": o.error,
            ":now": now_ms,
        })?;
        changed += n;
        if let Some(name) = counter(o.state).filter(|_| n > 0) {
            match counted.iter_mut().find(|(c, _)| *c == name) {
                Some((_, total)) => *total += 1,
                None => counted.push((name, 1)),
            }
        }
    }
    for (name, n) in counted {
        bump(tx, name, n)?;
    }
    Ok(changed)
}

/// Marks deliveries waiting for a refetch as settled.
pub fn mark_refetched(tx: &Transaction<'_>, ids: &[i64], now_ms: i64) -> Result<(), StoreError> {
    let mut stmt = tx.prepare_cached(MARK_REFETCHED)?;
    let mut settled = 0;
    for id in ids {
        settled += stmt.execute(named_params! { ":id": id, ":now": now_ms })?;
    }
    bump(tx, "refetched", settled as i64)
}

/// Whether this version of this object was already taken from an earlier
/// delivery (inbox row `id` excluded). A deletion counts as seen when the
/// last delivery applied for the object was a deletion too.
pub fn seen(conn: &Connection, id: i64, key: &VersionKey) -> Result<bool, StoreError> {
    if key.modified.is_none() {
        let last: Option<bool> = conn
            .prepare_cached(LAST_APPLIED_WAS_DELETE)?
            .query_row(
                named_params! { ":resource": key.resource.as_str(), ":object_id": key.id, ":id": id },
                |r| r.get(0),
            )
            .optional()?;
        return Ok(last == Some(true));
    }
    let params = named_params! {
        ":resource": key.resource.as_str(), ":object_id": key.id, ":id": id,
        ":modified": key.modified.map(|t| t.to_string()),
    };
    Ok(conn
        .prepare_cached(SEEN_VERSION)?
        .query_row(params, |_| Ok(()))
        .optional()?
        .is_some())
}

/// A delivery waiting for a refetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefetchWaiting {
    /// The inbox row.
    pub id: i64,
    pub resource: Resource,
    /// The object to fetch; `None` when the delivery did not say which
    /// (the object was gone when the shop built it).
    pub object: Option<UpstreamId>,
}

/// Deliveries waiting for a refetch, oldest first.
pub fn refetch_waiting(conn: &Connection) -> Result<Vec<RefetchWaiting>, StoreError> {
    let mut stmt = conn.prepare_cached(REFETCH_WAITING)?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<i64>>(2)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, resource, object)| {
            Some(RefetchWaiting {
                id,
                resource: resource?.parse().ok()?,
                object: object.filter(|o| *o > 0),
            })
        })
        .collect())
}

/// Drops the oldest processed rows beyond [`KEEP_PROCESSED`].
pub fn prune(tx: &Transaction<'_>) -> Result<(), StoreError> {
    tx.prepare_cached(PRUNE)?
        .execute(named_params! { ":keep": KEEP_PROCESSED })?;
    Ok(())
}

/// Totals, waiting count, last delivery time and the latest failures.
pub fn stats(conn: &Connection, failures: i64) -> Result<WebhookStats, StoreError> {
    // One snapshot: totals and waiting rows change together when a batch
    // is marked, and must not be read on either side of that commit.
    let snapshot = conn.unchecked_transaction()?;
    let out = stats_in(&snapshot, failures)?;
    snapshot.commit()?;
    Ok(out)
}

fn stats_in(conn: &Connection, failures: i64) -> Result<WebhookStats, StoreError> {
    let mut out = WebhookStats::default();
    let mut stmt = conn.prepare_cached(COUNTERS)?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    for (name, value) in rows {
        match name.as_str() {
            "received" => out.received = value,
            "applied" => out.applied = value,
            "stale" => out.stale = value,
            "duplicates" => out.duplicates = value,
            "ignored" => out.ignored = value,
            "refetched" => out.refetched = value,
            "failed" => out.failed = value,
            "last_received_at" => out.last_delivery_at = (value > 0).then_some(value),
            _ => {}
        }
    }
    (out.waiting, out.awaiting_refetch) =
        conn.query_row(COUNT_WAITING, [], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let mut stmt = conn.prepare_cached(RECENT_FAILURES)?;
    out.recent_failures = stmt
        .query_map(named_params! { ":limit": failures }, |r| {
            Ok(FailedDelivery {
                id: r.get(0)?,
                received_at: r.get(1)?,
                topic: r.get(2)?,
                error: r.get(3)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(out)
}
