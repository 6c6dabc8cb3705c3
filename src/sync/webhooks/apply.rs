//! Applying stored deliveries to the replica, in inbox order, through the
//! same guarded upserts as the pull (an older or equal version never
//! replaces what the replica holds).
//!
//! One transaction per drained batch: each delivery's outcome (applied,
//! stale, duplicate, ignored, failed, waiting for a refetch) is recorded
//! with its effect, so a crash never applies a delivery twice or loses one.

use crate::domain::batch::Records;
use crate::domain::webhooks::{DeliveryState, Instruction, VersionKey};
use crate::domain::{Resource, UpstreamId};
use crate::store::deletes::{self, Removed};
use crate::store::{StoreError, Tx, WriteStamp, apply, inbox};

/// Parses a delivery's topic and body (the upstream's wire format).
pub type Parser = fn(&str, &[u8]) -> Result<Instruction, String>;

/// Which objects the replica mirrors; others are removed when a delivery
/// shows them (trashed, or moved to a status not mirrored).
#[derive(Debug, Clone, Default)]
pub struct Mirror {
    /// Product statuses mirrored; empty or `any` = every status but trash.
    pub product_statuses: Vec<String>,
    /// Order statuses mirrored; empty or `any` = every status but trash.
    pub order_statuses: Vec<String>,
}

fn status_mirrored(status: &str, mirrored: &[String]) -> bool {
    status != "trash" && (mirrored.is_empty() || mirrored.iter().any(|s| s == "any" || s == status))
}

impl Mirror {
    /// Whether the one object in `records` belongs in the replica.
    pub fn keeps(&self, records: &Records) -> bool {
        match records {
            Records::Products(v) => v
                .iter()
                .all(|p| status_mirrored(&p.status, &self.product_statuses)),
            Records::Variations(v) => v.iter().all(|p| p.status != "trash"),
            Records::Orders(v) => v
                .iter()
                .all(|o| status_mirrored(&o.status, &self.order_statuses)),
            _ => true,
        }
    }
}

/// The id and version of the single object in `records`.
pub fn version_of(records: &Records) -> Option<VersionKey> {
    let (id, modified) = match records {
        Records::Products(v) | Records::Variations(v) => {
            v.first().map(|p| (p.id, Some(p.date_modified)))?
        }
        Records::Orders(v) => v.first().map(|o| (o.id, Some(o.date_modified)))?,
        Records::Customers(v) => v.first().map(|c| (c.id, c.date_modified))?,
        _ => return None,
    };
    Some(VersionKey {
        resource: records.resource(),
        id,
        modified,
    })
}

/// One parsed delivery.
pub struct Parsed {
    pub inbox_id: i64,
    pub outcome: Result<Instruction, String>,
}

/// What a batch did, for logs and tests.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BatchOutcome {
    pub applied: usize,
    pub stale: usize,
    pub duplicates: usize,
    pub ignored: usize,
    pub failed: usize,
    pub refetch: usize,
}

/// Applies parsed deliveries in one transaction.
pub fn apply_batch(
    tx: &Tx<'_>,
    items: &[Parsed],
    mirror: &Mirror,
    now_ms: i64,
) -> Result<BatchOutcome, StoreError> {
    let mut out = BatchOutcome::default();
    for item in items {
        let state = match &item.outcome {
            Err(reason) => {
                inbox::mark(
                    tx,
                    item.inbox_id,
                    DeliveryState::Failed,
                    None,
                    Some(reason),
                    now_ms,
                )?;
                DeliveryState::Failed
            }
            Ok(Instruction::Ignore { reason }) => {
                inbox::mark(
                    tx,
                    item.inbox_id,
                    DeliveryState::Ignored,
                    None,
                    Some(reason),
                    now_ms,
                )?;
                DeliveryState::Ignored
            }
            Ok(Instruction::Gone { resource, code }) => {
                let key = VersionKey {
                    resource: *resource,
                    id: 0,
                    modified: None,
                };
                inbox::mark(
                    tx,
                    item.inbox_id,
                    DeliveryState::Refetch,
                    Some(&key),
                    Some(code),
                    now_ms,
                )?;
                DeliveryState::Refetch
            }
            Ok(Instruction::Delete { resource, id }) => {
                delete_one(tx, item.inbox_id, *resource, *id, now_ms)?
            }
            Ok(Instruction::Upsert(records)) => {
                upsert_one(tx, item.inbox_id, records, mirror, now_ms)?
            }
        };
        match state {
            DeliveryState::Applied => out.applied += 1,
            DeliveryState::Stale => out.stale += 1,
            DeliveryState::Duplicate => out.duplicates += 1,
            DeliveryState::Ignored => out.ignored += 1,
            DeliveryState::Failed => out.failed += 1,
            DeliveryState::Refetch => out.refetch += 1,
            DeliveryState::Pending => {}
        }
    }
    inbox::prune(tx)?;
    Ok(out)
}

fn delete_one(
    tx: &Tx<'_>,
    inbox_id: i64,
    resource: Resource,
    id: UpstreamId,
    now_ms: i64,
) -> Result<DeliveryState, StoreError> {
    let key = VersionKey {
        resource,
        id,
        modified: None,
    };
    let state = if inbox::seen(tx, inbox_id, &key)? {
        DeliveryState::Duplicate
    } else {
        remove(tx, resource, id, now_ms)?;
        DeliveryState::Applied
    };
    inbox::mark(tx, inbox_id, state, Some(&key), None, now_ms)?;
    Ok(state)
}

/// Removes an object and remembers the version it had.
pub fn remove(
    tx: &Tx<'_>,
    resource: Resource,
    id: UpstreamId,
    now_ms: i64,
) -> Result<(), StoreError> {
    if let Removed::Was(Some(modified)) = deletes::remove(tx, resource, id)? {
        // Products and variations share one id space and one table.
        let family = family(resource);
        inbox::tombstone(tx, family, id, modified, now_ms)?;
    }
    Ok(())
}

fn family(resource: Resource) -> Resource {
    match resource {
        Resource::Variations => Resource::Products,
        other => other,
    }
}

fn upsert_one(
    tx: &Tx<'_>,
    inbox_id: i64,
    records: &Records,
    mirror: &Mirror,
    now_ms: i64,
) -> Result<DeliveryState, StoreError> {
    let Some(key) = version_of(records) else {
        let reason = "the delivery holds no object";
        inbox::mark(
            tx,
            inbox_id,
            DeliveryState::Failed,
            None,
            Some(reason),
            now_ms,
        )?;
        return Ok(DeliveryState::Failed);
    };
    let state = if inbox::seen(tx, inbox_id, &key)? {
        DeliveryState::Duplicate
    } else {
        write_version(tx, records, &key, mirror, now_ms)?
    };
    inbox::mark(tx, inbox_id, state, Some(&key), None, now_ms)?;
    Ok(state)
}

/// Writes one object version (or removes it when it left the mirrored set),
/// guarded: returns `Stale` when the replica already has it or newer.
pub fn write_version(
    tx: &Tx<'_>,
    records: &Records,
    key: &VersionKey,
    mirror: &Mirror,
    now_ms: i64,
) -> Result<DeliveryState, StoreError> {
    let family = family(key.resource);
    if let Some(modified) = key.modified
        && inbox::tombstoned(tx, family, key.id, modified)?
    {
        return Ok(DeliveryState::Stale);
    }
    if !mirror.keeps(records) {
        remove(tx, family, key.id, now_ms)?;
        return Ok(DeliveryState::Applied);
    }
    let stamp = WriteStamp {
        run: None,
        now_ms,
        allow_equal: false,
    };
    let done = apply::write_records(tx, stamp, records)?;
    if done.written == 0 {
        return Ok(DeliveryState::Stale);
    }
    inbox::clear_tombstone(tx, family, key.id)?;
    Ok(DeliveryState::Applied)
}
