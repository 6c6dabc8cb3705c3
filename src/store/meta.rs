//! Meta mapping in the replica: the mappings the manager made on the
//! back-office page (upstream meta key → barcode, brand, bin location or a
//! named label), the meta keys the mirrored products and variations carry,
//! and the re-index a mapping change starts.
//!
//! The mapped values themselves are indexed by
//! [`lookup::index::flush`](super::lookup::index::flush) like barcodes: at
//! every product write, in the writer's transaction, so a product that
//! arrives by pull, poll or webhook carries its fields at once. A mapping
//! change re-indexes the products already there in batches
//! ([`reindex_batch`]), one short transaction each, with the position
//! committed with its batch: lookups answer meanwhile, other writes take
//! turns with the batches, and a restart resumes where the last batch ended.

use rusqlite::{Connection, OptionalExtension, Transaction, named_params};

use super::StoreError;
use crate::domain::meta_mapping::{
    MAX_MAPPINGS, MappedField, MetaKey, MetaMapping, ReindexProgress, ReindexState,
};

const MAPPINGS: &str =
    "SELECT meta_key, field, label, created_at FROM meta_mappings ORDER BY meta_key";
const COUNT_MAPPINGS: &str = "SELECT COUNT(*) FROM meta_mappings";
const MAPPING_EXISTS: &str = "SELECT EXISTS (SELECT 1 FROM meta_mappings WHERE meta_key = :key)";
const IS_CONFIG_BARCODE_KEY: &str =
    "SELECT EXISTS (SELECT 1 FROM lookup_barcode_keys WHERE meta_key = :key)";
const PUT_MAPPING: &str = "
INSERT INTO meta_mappings (meta_key, field, label, created_at)
VALUES (:key, :field, :label, :now)
ON CONFLICT (meta_key) DO UPDATE SET
    field = excluded.field, label = excluded.label, created_at = excluded.created_at
WHERE meta_mappings.field IS NOT excluded.field OR meta_mappings.label IS NOT excluded.label";
const DELETE_MAPPING: &str = "DELETE FROM meta_mappings WHERE meta_key = :key";

/// The meta key/value pairs of every product and variation; values as
/// text (an array or object as its JSON).
macro_rules! key_values {
    () => {
        "WITH kv AS (
    SELECT p.id AS id, m.value ->> '$.key' AS k, m.value ->> '$.value' AS v
    FROM products p, json_each(p.meta_data) m
    WHERE json_type(m.value, '$.key') = 'text')"
    };
}
const SEEN_KEYS: &str = concat!(
    key_values!(),
    "
SELECT k, COUNT(DISTINCT id) AS n FROM kv GROUP BY k ORDER BY n DESC, k LIMIT :limit"
);
/// The most common non-blank values of every key.
const SEEN_EXAMPLES: &str = concat!(
    key_values!(),
    "
SELECT k, v FROM (
    SELECT k, v, row_number() OVER (PARTITION BY k ORDER BY n DESC, v) AS rank FROM (
        SELECT k, v, COUNT(*) AS n FROM kv WHERE trim(v) <> '' GROUP BY k, v))
WHERE rank <= :examples ORDER BY k, rank"
);

const START_REINDEX: &str = "
INSERT INTO meta_reindex (id, after_id, done, total, started_at, finished_at)
VALUES (1, -1, 0, (SELECT COUNT(*) FROM products), :now, NULL)
ON CONFLICT (id) DO UPDATE SET
    after_id = -1, done = 0, total = excluded.total, started_at = excluded.started_at,
    finished_at = NULL";
const REINDEX: &str =
    "SELECT after_id, done, total, started_at, finished_at FROM meta_reindex WHERE id = 1";
const NEXT_BATCH: &str =
    "SELECT id, parent_id FROM products WHERE id > :after ORDER BY id LIMIT :limit";
const MARK_DIRTY: &str = "INSERT OR IGNORE INTO search_dirty (kind, id) VALUES ('product', :id)";
const ADVANCE: &str = "
UPDATE meta_reindex SET after_id = :after, done = done + :n,
    total = max(total, done + :n),
    finished_at = CASE WHEN :finished THEN :now END
WHERE id = 1";

/// A mapping as stored, with when it was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMapping {
    pub key: String,
    pub field: MappedField,
    /// When it was made or last changed (unix ms).
    pub created_at: i64,
}

/// A meta key the mirrored products and variations carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenKey {
    pub key: String,
    /// Products and variations that have it.
    pub count: i64,
    /// Its most common non-blank values, most common first (as stored: an
    /// array or object value as JSON text).
    pub examples: Vec<String>,
}

/// What [`put_mapping`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutMapping {
    /// The mapping was added or changed; a re-index started.
    Saved,
    /// The key was already mapped so; nothing changed.
    Unchanged,
    /// The page keeps at most [`MAX_MAPPINGS`]; nothing changed.
    TooMany,
    /// A barcode mapping of a key `lookup.barcode_meta_keys` already reads
    /// as a barcode; nothing changed.
    ConfiguredBarcodeKey,
}

/// The mappings, by key.
pub fn mappings(conn: &Connection) -> Result<Vec<StoredMapping>, StoreError> {
    let mut stmt = conn.prepare_cached(MAPPINGS)?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    // The table's CHECKs admit only what `from_stored` reads.
    Ok(rows
        .into_iter()
        .filter_map(|(key, field, label, created_at)| {
            MappedField::from_stored(&field, &label).map(|field| StoredMapping {
                key,
                field,
                created_at,
            })
        })
        .collect())
}

/// Adds `mapping`, or changes the mapping of its key, and starts a
/// re-index when anything changed.
pub fn put_mapping(
    tx: &Transaction<'_>,
    mapping: &MetaMapping,
    now_ms: i64,
) -> Result<PutMapping, StoreError> {
    let key = mapping.key.as_str();
    if mapping.field == MappedField::Barcode
        && tx
            .prepare_cached(IS_CONFIG_BARCODE_KEY)?
            .query_row(named_params! { ":key": key }, |r| r.get::<_, bool>(0))?
    {
        return Ok(PutMapping::ConfiguredBarcodeKey);
    }
    let exists: bool = tx
        .prepare_cached(MAPPING_EXISTS)?
        .query_row(named_params! { ":key": key }, |r| r.get(0))?;
    let count: i64 = tx.prepare_cached(COUNT_MAPPINGS)?.query_row([], |r| r.get(0))?;
    if !exists && count >= i64::try_from(MAX_MAPPINGS).unwrap_or(i64::MAX) {
        return Ok(PutMapping::TooMany);
    }
    let changed = tx.prepare_cached(PUT_MAPPING)?.execute(named_params! {
        ":key": key,
        ":field": mapping.field.name(),
        ":label": mapping.field.label(),
        ":now": now_ms,
    })?;
    if changed == 0 {
        return Ok(PutMapping::Unchanged);
    }
    start_reindex(tx, now_ms)?;
    Ok(PutMapping::Saved)
}

/// Removes the mapping of `key`; says whether there was one (and then
/// starts a re-index).
pub fn remove_mapping(tx: &Transaction<'_>, key: &MetaKey, now_ms: i64) -> Result<bool, StoreError> {
    let removed = tx
        .prepare_cached(DELETE_MAPPING)?
        .execute(named_params! { ":key": key.as_str() })?
        > 0;
    if removed {
        start_reindex(tx, now_ms)?;
    }
    Ok(removed)
}

/// The meta keys of the mirrored products and variations, the most common
/// first (at most `limit`), each with up to `examples` example values.
/// Reads every product's meta: for the page, not for a till lookup.
pub fn seen_keys(conn: &Connection, limit: i64, examples: i64) -> Result<Vec<SeenKey>, StoreError> {
    let mut keys: Vec<SeenKey> = conn
        .prepare_cached(SEEN_KEYS)?
        .query_map(named_params! { ":limit": limit }, |r| {
            Ok(SeenKey {
                key: r.get(0)?,
                count: r.get(1)?,
                examples: Vec::new(),
            })
        })?
        .collect::<Result<_, _>>()?;
    if keys.is_empty() || examples <= 0 {
        return Ok(keys);
    }
    let mut stmt = conn.prepare_cached(SEEN_EXAMPLES)?;
    let mut rows = stmt.query(named_params! { ":examples": examples })?;
    let mut by_key: std::collections::HashMap<String, Vec<String>> =
        std::collections::HashMap::new();
    while let Some(r) = rows.next()? {
        let k: String = r.get(0)?;
        let v: Option<String> = r.get(1)?;
        if let Some(v) = v {
            by_key.entry(k).or_default().push(v);
        }
    }
    for k in &mut keys {
        k.examples = by_key.remove(&k.key).unwrap_or_default();
    }
    Ok(keys)
}

/// Starts (or starts again, from the first product) the re-index of every
/// product and variation with the mappings in force.
pub fn start_reindex(tx: &Transaction<'_>, now_ms: i64) -> Result<(), StoreError> {
    tx.prepare_cached(START_REINDEX)?
        .execute(named_params! { ":now": now_ms })?;
    Ok(())
}

/// Where the re-index is.
pub fn reindex_progress(conn: &Connection) -> Result<ReindexProgress, StoreError> {
    let row = conn
        .prepare_cached(REINDEX)?
        .query_row([], |r| {
            Ok((
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, Option<i64>>(4)?,
            ))
        })
        .optional()?;
    Ok(match row {
        None => ReindexProgress::default(),
        Some((done, total, started_at, finished_at)) => ReindexProgress {
            state: if finished_at.is_some() {
                ReindexState::Done
            } else {
                ReindexState::Running
            },
            done,
            total,
            started_at: Some(started_at),
            finished_at,
        },
    })
}

/// Re-indexes the next `batch` products and variations after the last one
/// done (by the flush that ends the caller's transaction: they are marked
/// for it, with the parents of the variations among them, whose search
/// documents fold in their variations' barcodes) and records how far it
/// got. Returns the progress; a re-index that is not running is left
/// alone.
pub fn reindex_batch(
    tx: &Transaction<'_>,
    batch: usize,
    now_ms: i64,
) -> Result<ReindexProgress, StoreError> {
    let Some((after, finished)) = tx
        .prepare_cached(REINDEX)?
        .query_row([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Option<i64>>(4)?)))
        .optional()?
    else {
        return reindex_progress(tx);
    };
    if finished.is_some() {
        return reindex_progress(tx);
    }
    let limit = i64::try_from(batch.max(1)).unwrap_or(i64::MAX);
    let rows: Vec<(i64, i64)> = tx
        .prepare_cached(NEXT_BATCH)?
        .query_map(named_params! { ":after": after, ":limit": limit }, |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut mark = tx.prepare_cached(MARK_DIRTY)?;
    for (id, parent) in &rows {
        mark.execute(named_params! { ":id": id })?;
        if *parent != 0 {
            mark.execute(named_params! { ":id": parent })?;
        }
    }
    let n = i64::try_from(rows.len()).unwrap_or(i64::MAX);
    let last = rows.last().map_or(after, |(id, _)| *id);
    tx.prepare_cached(ADVANCE)?.execute(named_params! {
        ":after": last,
        ":n": n,
        ":finished": n < limit,
        ":now": now_ms,
    })?;
    reindex_progress(tx)
}
