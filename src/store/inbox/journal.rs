//! The replica's record of the last batch of deliveries applied to it
//! (`webhook_applied`), written in the same transaction as the batch's
//! changes.
//!
//! Replica side. Applying a delivery commits in the replica, and its outcome
//! is marked in the inbox file afterwards, in a transaction of its own: the
//! inbox's writer must never wait for the replica's. If the agent stops
//! between the two commits, the deliveries are still pending in the inbox
//! although their changes are in the replica. Applying them again is not
//! harmless (a deletion carries no version: applied again after a newer
//! version of the object was written, it would remove that). So the outcomes
//! are kept here too, and the worker copies them into the inbox at start
//! ([`entries`]) before it applies anything. Each batch replaces the
//! previous one's entries ([`replace`]); by then those are marked.

use rusqlite::{Connection, Transaction, named_params};

use crate::domain::webhooks::{DeliveryState, Outcome, VersionKey};
use crate::domain::{GmtTime, Resource};
use crate::store::StoreError;

const CLEAR: &str = "DELETE FROM webhook_applied";
const RECORD: &str = "
INSERT INTO webhook_applied (inbox_id, state, resource, object_id, date_modified_gmt, error)
VALUES (:id, :state, :resource, :object_id, :modified, :error)";
const ENTRIES: &str = "
SELECT inbox_id, state, resource, object_id, date_modified_gmt, error
FROM webhook_applied ORDER BY inbox_id";
const HIGHEST: &str = "SELECT MAX(inbox_id) FROM webhook_applied";
const PRESENT: &str =
    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'webhook_applied'";

/// Replaces the previous batch's entries with this batch's outcomes. The
/// caller must have marked the previous batch in the inbox first.
pub fn replace(tx: &Transaction<'_>, outcomes: &[Outcome]) -> Result<(), StoreError> {
    tx.prepare_cached(CLEAR)?.execute([])?;
    let mut stmt = tx.prepare_cached(RECORD)?;
    for o in outcomes {
        let (resource, object_id, modified) = super::version_columns(o);
        stmt.execute(named_params! {
            ":id": o.inbox_id,
            ":state": o.state.as_str(),
            ":resource": resource,
            ":object_id": object_id,
            ":modified": modified,
            ":error": o.error,
        })?;
    }
    Ok(())
}

/// The outcomes of the batch applied last.
pub fn entries(conn: &Connection) -> Result<Vec<Outcome>, StoreError> {
    let mut stmt = conn.prepare_cached(ENTRIES)?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<i64>>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, Option<String>>(5)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows
        .into_iter()
        .filter_map(|(inbox_id, state, resource, object_id, modified, error)| {
            // The CHECK constraint admits only states `parse` knows.
            let state = DeliveryState::parse(&state)?;
            let key = match (resource, object_id) {
                (Some(resource), Some(id)) => Some(VersionKey {
                    resource: resource.parse::<Resource>().ok()?,
                    id,
                    modified: modified.as_deref().and_then(GmtTime::parse),
                }),
                _ => None,
            };
            Some(Outcome {
                inbox_id,
                state,
                key,
                error,
            })
        })
        .collect())
}

/// Forgets every entry: used when the inbox file is new (deleted by hand),
/// as its ids start again from 1 and entries would name other deliveries.
pub(in crate::store) fn forget(conn: &Connection) -> Result<(), StoreError> {
    let present: i64 = conn.query_row(PRESENT, [], |r| r.get(0))?;
    if present > 0 {
        conn.execute(CLEAR, [])?;
    }
    Ok(())
}

/// The highest inbox id the journal names, if any. The inbox file is
/// written with `synchronous=NORMAL`: a power cut can take its last
/// deliveries while the replica (`FULL`) keeps the journal entries that name
/// them. The inbox reserves ids up to this one at open, so a new delivery
/// never takes such an id and is never marked with another's outcome.
pub(in crate::store) fn highest_id(conn: &Connection) -> Result<Option<i64>, StoreError> {
    let present: i64 = conn.query_row(PRESENT, [], |r| r.get(0))?;
    if present == 0 {
        return Ok(None);
    }
    Ok(conn.query_row(HIGHEST, [], |r| r.get(0))?)
}
