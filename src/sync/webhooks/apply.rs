//! Applying stored deliveries to the replica, in inbox order, through the
//! same guarded upserts as the pull (an older or equal version never
//! replaces what the replica holds).
//!
//! One replica transaction per drained batch: the changes, and each
//! delivery's outcome (applied, stale, duplicate, ignored, failed, waiting
//! for a refetch) in the replica's journal. The outcomes are marked in the
//! inbox file afterwards; the journal covers a stop in between, so a crash
//! never applies a delivery twice or loses one (see [`super::worker`]).

use std::collections::{HashMap, HashSet};

use crate::config::{StoreConfig, StoreKind};
use crate::domain::batch::Records;
use crate::domain::webhooks::{DeliveryState, Instruction, Outcome, VersionKey};
use crate::domain::{Resource, UpstreamId};
use crate::store::deletes::{self, Removed};
use crate::store::inbox::{journal, tombstones};
use crate::store::{StoreError, Tx, WriteStamp, apply, catalog};

/// Parses a delivery's topic and body (the upstream's wire format).
pub type Parser = fn(&str, &[u8]) -> Result<Instruction, String>;

/// The parser for deliveries from a shop of `kind`.
pub fn parser(kind: StoreKind) -> Parser {
    match kind {
        StoreKind::WooCommerce => crate::upstream::woo::webhook::instruction,
        StoreKind::Shopify => crate::upstream::shopify::delivery::instruction,
    }
}

/// The parser for deliveries from the configured store (WooCommerce's when
/// none is configured: the receiver then takes WooCommerce deliveries signed
/// with `webhooks.secret`).
pub fn parser_for_store(store: Option<&StoreConfig>) -> Parser {
    parser(store.map_or(StoreKind::WooCommerce, StoreConfig::kind))
}

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
    /// Whether the version it carries was taken from an earlier delivery
    /// already marked in the inbox ([`crate::store::inbox::seen`]); looked up before the
    /// replica's transaction, as the inbox is another file.
    pub seen_before: bool,
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

impl BatchOutcome {
    /// Counts `outcomes` in.
    pub fn add(&mut self, outcomes: &[Outcome]) {
        for o in outcomes {
            match o.state {
                DeliveryState::Applied => self.applied += 1,
                DeliveryState::Stale => self.stale += 1,
                DeliveryState::Duplicate => self.duplicates += 1,
                DeliveryState::Ignored => self.ignored += 1,
                DeliveryState::Failed => self.failed += 1,
                DeliveryState::Refetch => self.refetch += 1,
                DeliveryState::Pending => {}
            }
        }
    }
}

/// The version a parsed delivery is deduplicated on, if it has one.
pub fn key_of(instruction: &Instruction) -> Option<VersionKey> {
    match instruction {
        Instruction::Delete { resource, id } => Some(VersionKey {
            resource: *resource,
            id: *id,
            modified: None,
        }),
        Instruction::Upsert(records) => version_of(records),
        Instruction::Gone { .. } | Instruction::Ignore { .. } => None,
    }
}

/// Versions taken by earlier deliveries of the batch being applied: they
/// are not marked in the inbox until the batch commits.
#[derive(Default)]
struct Taken {
    versions: HashSet<VersionKey>,
    /// Per object, whether the last delivery taken was a deletion.
    last_was_delete: HashMap<(Resource, UpstreamId), bool>,
}

impl Taken {
    /// [`crate::store::inbox::seen`] over the inbox (`before`) and this batch.
    fn seen(&self, key: &VersionKey, before: bool) -> bool {
        if key.modified.is_none() {
            // This batch's deliveries are later than any in the inbox.
            return self
                .last_was_delete
                .get(&(key.resource, key.id))
                .copied()
                .unwrap_or(before);
        }
        before || self.versions.contains(key)
    }

    fn note(&mut self, key: &VersionKey, state: DeliveryState) {
        if matches!(state, DeliveryState::Applied | DeliveryState::Stale) {
            self.versions.insert(key.clone());
            self.last_was_delete
                .insert((key.resource, key.id), key.modified.is_none());
        }
    }
}

/// Applies parsed deliveries in the replica's transaction `tx` and returns
/// what became of each, in order. The outcomes are also written to the
/// replica's journal in the same transaction (replacing the previous
/// batch's, which the caller has marked); the caller then marks them in the
/// inbox.
pub fn apply_batch(
    tx: &Tx<'_>,
    items: &[Parsed],
    mirror: &Mirror,
    now_ms: i64,
) -> Result<Vec<Outcome>, StoreError> {
    let mut taken = Taken::default();
    let mut outcomes = Vec::with_capacity(items.len());
    for item in items {
        let (state, key, error) = match &item.outcome {
            Err(reason) => (DeliveryState::Failed, None, Some(reason.clone())),
            Ok(Instruction::Ignore { reason }) => {
                (DeliveryState::Ignored, None, Some(reason.clone()))
            }
            Ok(Instruction::Gone { resource, code }) => {
                let key = VersionKey {
                    resource: *resource,
                    id: 0,
                    modified: None,
                };
                (DeliveryState::Refetch, Some(key), Some(code.clone()))
            }
            Ok(Instruction::Delete { resource, id }) => {
                let key = VersionKey {
                    resource: *resource,
                    id: *id,
                    modified: None,
                };
                let state = if taken.seen(&key, item.seen_before) {
                    DeliveryState::Duplicate
                } else {
                    remove(tx, *resource, *id, now_ms)?;
                    DeliveryState::Applied
                };
                (state, Some(key), None)
            }
            Ok(Instruction::Upsert(records)) => match version_of(records) {
                None => (
                    DeliveryState::Failed,
                    None,
                    Some("the delivery holds no object".to_owned()),
                ),
                Some(key) => {
                    let state = if taken.seen(&key, item.seen_before) {
                        DeliveryState::Duplicate
                    } else {
                        write_version(tx, records, &key, mirror, now_ms)?
                    };
                    (state, Some(key), None)
                }
            },
        };
        if let Some(key) = &key {
            taken.note(key, state);
        }
        outcomes.push(Outcome {
            inbox_id: item.inbox_id,
            state,
            key,
            error,
        });
    }
    journal::replace(tx, &outcomes)?;
    Ok(outcomes)
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
        tombstones::record(tx, family, id, modified, now_ms)?;
        // A product's variations leave with it.
        if family == Resource::Products {
            catalog::remove_variations_of(tx, id)?;
        }
    }
    Ok(())
}

fn family(resource: Resource) -> Resource {
    match resource {
        Resource::Variations => Resource::Products,
        other => other,
    }
}

/// `records` with what a delivery carries besides its own object `id` (a
/// Shopify product's variants) kept only where the replica holds it: a
/// delivery creates its own object, and only updates the others. A
/// variant's stock in a product payload is summed over every location,
/// not the till's; a variant whose own version did not move (its product
/// was made active again) is never re-read by a poll, so a row created
/// from the payload would keep that stock for good. One the replica lacks
/// is brought by the sweep, read from the shop with the till's stock.
fn own_or_held(tx: &Tx<'_>, records: &Records, id: UpstreamId) -> Result<Records, StoreError> {
    let (Records::Products(v) | Records::Variations(v)) = records else {
        return Ok(records.clone());
    };
    let mut kept = Vec::with_capacity(v.len());
    for p in v {
        if p.id == id || catalog::holds_product(tx, p.id)? {
            kept.push(p.clone());
        }
    }
    Ok(match records {
        Records::Variations(_) => Records::Variations(kept),
        _ => Records::Products(kept),
    })
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
        && tombstones::covers(tx, family, key.id, modified)?
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
    let records = &own_or_held(tx, records, key.id)?;
    let done = apply::write_records(tx, stamp, records)?;
    if done.written == 0 {
        return Ok(DeliveryState::Stale);
    }
    // A variation of a product the replica does not mirror stays out.
    if let Records::Variations(v) = records {
        let mut left_out = false;
        for variation in v {
            left_out |= catalog::remove_variation_without_parent(tx, variation.id)?;
        }
        if left_out {
            return Ok(DeliveryState::Ignored);
        }
    }
    tombstones::clear(tx, family, key.id)?;
    Ok(DeliveryState::Applied)
}
