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
    SELECT p.id AS id, m.value ->> '$.key' AS k, CAST(m.value ->> '$.value' AS TEXT) AS v
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
    let count: i64 = tx
        .prepare_cached(COUNT_MAPPINGS)?
        .query_row([], |r| r.get(0))?;
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
pub fn remove_mapping(
    tx: &Transaction<'_>,
    key: &MetaKey,
    now_ms: i64,
) -> Result<bool, StoreError> {
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
        .query_row([], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Option<i64>>(4)?))
        })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::GmtTime;
    use crate::store::Store;
    use crate::store::lookup::products;

    const INSERT: &str = "
        INSERT INTO products (id, parent_id, type, status, name, meta_data, date_modified_gmt, raw, synced_at)
        VALUES (?1, ?2, ?3, 'publish', 'P', ?4, '2026-01-01T00:00:00', '{}', 0)";

    fn meta(pairs: &[(&str, serde_json::Value)]) -> String {
        serde_json::Value::Array(
            pairs
                .iter()
                .enumerate()
                .map(|(i, (k, v))| serde_json::json!({"id": i + 1, "key": k, "value": v}))
                .collect(),
        )
        .to_string()
    }

    fn temp_store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("r.db")).unwrap();
        (dir, store)
    }

    async fn add(store: &Store, id: i64, parent: i64, meta_json: String) {
        store
            .write(move |tx| {
                let kind = if parent == 0 { "simple" } else { "variation" };
                tx.execute(INSERT, rusqlite::params![id, parent, kind, meta_json])?;
                Ok(())
            })
            .await
            .unwrap();
    }

    async fn map(store: &Store, key: &str, field: &str, label: &str) -> PutMapping {
        let m = MetaMapping::parse(key, field, label).unwrap();
        store.write(move |tx| put_mapping(tx, &m, 5)).await.unwrap()
    }

    async fn view(store: &Store, id: i64) -> crate::domain::lookup::views::ProductView {
        store
            .read(move |c| products::product(c, id, GmtTime::now()))
            .await
            .unwrap()
            .unwrap()
    }

    async fn run_to_end(store: &Store, batch: usize) -> Vec<ReindexProgress> {
        let mut steps = Vec::new();
        loop {
            let p = store
                .write(move |tx| reindex_batch(tx, batch, 9))
                .await
                .unwrap();
            steps.push(p.clone());
            if p.state != ReindexState::Running {
                return steps;
            }
        }
    }

    #[tokio::test]
    async fn seen_keys_come_with_counts_and_the_commonest_examples() {
        let (_dir, store) = temp_store();
        use serde_json::json;
        add(
            &store,
            1,
            0,
            meta(&[("_brand", json!("Acme")), ("_bin", json!("A-1"))]),
        )
        .await;
        add(
            &store,
            2,
            0,
            meta(&[("_brand", json!("Acme")), ("_bin", json!(""))]),
        )
        .await;
        add(
            &store,
            3,
            0,
            meta(&[("_brand", json!("Zed")), ("_n", json!(12))]),
        )
        .await;
        // A variation counts as well; a value that is an object shows as JSON.
        add(
            &store,
            4,
            3,
            meta(&[("_brand", json!("Bolt")), ("_obj", json!({"a": 1}))]),
        )
        .await;
        add(&store, 5, 0, meta(&[("_brand", json!("Cog"))])).await;

        let keys = store.read(|c| seen_keys(c, 10, 3)).await.unwrap();
        let brand = &keys[0];
        assert_eq!(brand.key, "_brand");
        assert_eq!(brand.count, 5);
        // Most common first, then by value; three at most.
        assert_eq!(brand.examples, ["Acme", "Bolt", "Cog"]);
        let bin = keys.iter().find(|k| k.key == "_bin").unwrap();
        assert_eq!(
            (bin.count, bin.examples.clone()),
            (2, vec!["A-1".to_owned()])
        );
        let n = keys.iter().find(|k| k.key == "_n").unwrap();
        assert_eq!(n.examples, ["12"]);
        let obj = keys.iter().find(|k| k.key == "_obj").unwrap();
        assert_eq!(obj.examples, [r#"{"a":1}"#]);
        // The limit keeps the commonest keys.
        let top = store.read(|c| seen_keys(c, 1, 0)).await.unwrap();
        assert_eq!(top.len(), 1);
        assert!(top[0].examples.is_empty());
    }

    #[tokio::test]
    async fn a_mapping_applies_to_products_written_after_it() {
        let (_dir, store) = temp_store();
        use serde_json::json;
        assert_eq!(map(&store, "_brand", "brand", "").await, PutMapping::Saved);
        assert_eq!(
            map(&store, "_bin", "bin_location", "").await,
            PutMapping::Saved
        );
        assert_eq!(
            map(&store, "_origin", "label", "Origin").await,
            PutMapping::Saved
        );
        assert_eq!(map(&store, "_gtin", "barcode", "").await, PutMapping::Saved);
        assert_eq!(
            map(&store, "_brand", "brand", "").await,
            PutMapping::Unchanged
        );
        // `_ean` is read as a barcode by the configuration already.
        assert_eq!(
            map(&store, "_ean", "barcode", "").await,
            PutMapping::ConfiguredBarcodeKey
        );
        let p = meta(&[
            ("_brand", json!("  Acme ")),
            ("_bin", json!("B-7")),
            ("_origin", json!("Italy")),
            ("_gtin", json!("0123456789012")),
        ]);
        add(&store, 10, 0, p).await;
        let v = view(&store, 10).await;
        assert_eq!(v.mapped.brand.as_deref(), Some("Acme"));
        assert_eq!(v.mapped.bin_location.as_deref(), Some("B-7"));
        assert_eq!(
            v.mapped.labels.get("Origin").map(String::as_str),
            Some("Italy")
        );
        assert_eq!(v.barcodes, ["123456789012"]);
        // An update of the meta data follows, as barcodes do.
        store
            .write(|tx| {
                tx.execute(
                    "UPDATE products SET meta_data = ?1 WHERE id = 10",
                    [meta(&[("_brand", json!("Bolt"))])],
                )?;
                Ok(())
            })
            .await
            .unwrap();
        let v = view(&store, 10).await;
        assert_eq!(v.mapped.brand.as_deref(), Some("Bolt"));
        assert!(v.mapped.labels.is_empty() && v.mapped.bin_location.is_none());
        assert!(v.barcodes.is_empty());
    }

    #[tokio::test]
    async fn a_mapping_change_reindexes_in_batches_and_resumes_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.db");
        let store = Store::open(&path).unwrap();
        use serde_json::json;
        for id in 1..=25 {
            add(&store, id, 0, meta(&[("_brand", json!(format!("B{id}")))])).await;
        }
        // A variation of 1 with a barcode under the key mapped next.
        add(&store, 26, 1, meta(&[("_gtin", json!("777"))])).await;
        assert_eq!(
            store.read(reindex_progress).await.unwrap().state,
            ReindexState::Idle
        );
        assert_eq!(map(&store, "_brand", "brand", "").await, PutMapping::Saved);
        assert_eq!(map(&store, "_gtin", "barcode", "").await, PutMapping::Saved);
        // Nothing is indexed by the mapping itself: the batches do it.
        assert_eq!(view(&store, 1).await.mapped.brand, None);
        let first = store.write(|tx| reindex_batch(tx, 10, 9)).await.unwrap();
        assert_eq!(
            (first.state, first.done, first.total),
            (ReindexState::Running, 10, 26)
        );
        assert_eq!(view(&store, 10).await.mapped.brand.as_deref(), Some("B10"));
        assert_eq!(view(&store, 11).await.mapped.brand, None);
        drop(store);

        // A restart resumes after the last batch committed.
        let store = Store::open(&path).unwrap();
        let p = store.read(reindex_progress).await.unwrap();
        assert_eq!((p.state, p.done), (ReindexState::Running, 10));
        let steps = run_to_end(&store, 10).await;
        let done: Vec<i64> = steps.iter().map(|p| p.done).collect();
        assert_eq!(done, [20, 26]);
        let last = steps.last().unwrap();
        assert_eq!(last.state, ReindexState::Done);
        assert_eq!(last.finished_at, Some(9));
        assert_eq!(last.percent(), 100);
        assert_eq!(view(&store, 25).await.mapped.brand.as_deref(), Some("B25"));
        // The variation answers to the newly mapped barcode, with its parent.
        let page = store
            .read(|c| {
                use crate::domain::lookup::query::*;
                products::search(
                    c,
                    &ProductQuery {
                        lookup: ProductLookup::Barcode("777".to_owned()),
                        category: None,
                        in_stock: None,
                        sort: ProductSort::Relevance,
                        page: PageRequest {
                            page: 1,
                            per_page: 10,
                        },
                    },
                    GmtTime::now(),
                )
            })
            .await
            .unwrap();
        assert_eq!(page.items[0].id, 1);
        // A batch after the end changes nothing.
        let again = store.write(|tx| reindex_batch(tx, 10, 99)).await.unwrap();
        assert_eq!(&again, last);

        // Removing a mapping starts again from the first product.
        let key = MetaKey::parse("_brand").unwrap();
        assert!(
            store
                .write(move |tx| remove_mapping(tx, &key, 20))
                .await
                .unwrap()
        );
        let p = store.read(reindex_progress).await.unwrap();
        assert_eq!(
            (p.state, p.done, p.started_at),
            (ReindexState::Running, 0, Some(20))
        );
        run_to_end(&store, 100).await;
        assert_eq!(view(&store, 25).await.mapped.brand, None);
        assert_eq!(
            store.read(mappings).await.unwrap(),
            [StoredMapping {
                key: "_gtin".into(),
                field: MappedField::Barcode,
                created_at: 5
            }]
        );
    }
}
