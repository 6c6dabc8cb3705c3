//! Objects removed by a deletion delivery, with the version they had, so a
//! late delivery of that version (or an older one) does not bring them back.
//!
//! Replica side: these run on the replica's transaction, beside the removal
//! and the guarded upserts they protect, not on the inbox file.

use rusqlite::{OptionalExtension, Transaction, named_params};

use crate::domain::{GmtTime, Resource, UpstreamId};
use crate::store::StoreError;

const RECORD: &str = "
INSERT INTO webhook_tombstones (resource, object_id, date_modified_gmt, deleted_at)
VALUES (:resource, :object_id, :modified, :now)
ON CONFLICT (resource, object_id) DO UPDATE SET
    date_modified_gmt = MAX(date_modified_gmt, excluded.date_modified_gmt),
    deleted_at = excluded.deleted_at";
const COVERS: &str = "
SELECT 1 FROM webhook_tombstones
WHERE resource = :resource AND object_id = :object_id AND date_modified_gmt >= :modified";
const CLEAR: &str =
    "DELETE FROM webhook_tombstones WHERE resource = :resource AND object_id = :object_id";

/// Remembers that `id` was removed at version `modified`.
pub fn record(
    tx: &Transaction<'_>,
    resource: Resource,
    id: UpstreamId,
    modified: GmtTime,
    now_ms: i64,
) -> Result<(), StoreError> {
    tx.prepare_cached(RECORD)?.execute(named_params! {
        ":resource": resource.as_str(), ":object_id": id,
        ":modified": modified.to_string(), ":now": now_ms,
    })?;
    Ok(())
}

/// Whether a removal recorded for `id` is at least as new as `modified`.
pub fn covers(
    tx: &Transaction<'_>,
    resource: Resource,
    id: UpstreamId,
    modified: GmtTime,
) -> Result<bool, StoreError> {
    Ok(tx
        .prepare_cached(COVERS)?
        .query_row(
            named_params! {
                ":resource": resource.as_str(), ":object_id": id, ":modified": modified.to_string(),
            },
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// Forgets a removal (a newer version of the object came back).
pub fn clear(tx: &Transaction<'_>, resource: Resource, id: UpstreamId) -> Result<(), StoreError> {
    tx.prepare_cached(CLEAR)?
        .execute(named_params! { ":resource": resource.as_str(), ":object_id": id })?;
    Ok(())
}
