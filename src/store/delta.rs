//! What delta polling and completeness sweeps need from the replica: the
//! cursor per resource, the local `(id, date_modified_gmt)` stamps to compare
//! with the store's, removal of objects the store no longer has, and the
//! last sweep's verdict.

use rusqlite::{Connection, OptionalExtension, Transaction, named_params};

use super::StoreError;
use crate::domain::{GmtTime, Resource, Stamp, UpstreamId};

/// `(id, date_modified_gmt)` of every local object of a resource (refunds:
/// their creation date, as they are never modified).
fn stamps_sql(resource: Resource) -> Option<&'static str> {
    Some(match resource {
        Resource::Products => {
            "SELECT id, date_modified_gmt FROM products WHERE type <> 'variation' ORDER BY id"
        }
        Resource::Variations => {
            "SELECT id, date_modified_gmt FROM products WHERE type = 'variation' ORDER BY id"
        }
        Resource::Customers => "SELECT id, date_modified_gmt FROM customers ORDER BY id",
        Resource::Orders => "SELECT id, date_modified_gmt FROM orders ORDER BY id",
        Resource::Refunds => "SELECT id, date_created_gmt FROM refunds ORDER BY id",
        _ => return None,
    })
}

fn delete_sql(resource: Resource) -> Option<&'static str> {
    Some(match resource {
        Resource::Products => "DELETE FROM products WHERE id = :id AND type <> 'variation'",
        Resource::Variations => "DELETE FROM products WHERE id = :id AND type = 'variation'",
        Resource::Customers => "DELETE FROM customers WHERE id = :id",
        Resource::Orders => "DELETE FROM orders WHERE id = :id",
        Resource::Refunds => "DELETE FROM refunds WHERE id = :id",
        Resource::Categories => "DELETE FROM categories WHERE id = :id",
        Resource::Tags => "DELETE FROM tags WHERE id = :id",
        Resource::TaxRates => "DELETE FROM tax_rates WHERE id = :id",
        _ => return None,
    })
}

/// Every local object of `resource` with its version, ascending by id.
pub fn local_stamps(conn: &Connection, resource: Resource) -> Result<Vec<Stamp>, StoreError> {
    let Some(sql) = stamps_sql(resource) else {
        return Ok(Vec::new());
    };
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt
        .query_map([], |r| {
            Ok(Stamp {
                id: r.get(0)?,
                modified: r
                    .get::<_, Option<String>>(1)?
                    .and_then(|s| GmtTime::parse(&s)),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Removes these objects of `resource` (and, through foreign keys, their
/// lines, addresses and links). Returns how many were there.
pub fn delete_ids(
    tx: &Transaction<'_>,
    resource: Resource,
    ids: &[UpstreamId],
) -> Result<usize, StoreError> {
    let Some(sql) = delete_sql(resource) else {
        return Ok(0);
    };
    let mut stmt = tx.prepare_cached(sql)?;
    let mut removed = 0;
    for id in ids {
        removed += stmt.execute(named_params! { ":id": id })?;
    }
    // A parent product takes its variations with it, as upstream does.
    if resource == Resource::Products {
        let mut children =
            tx.prepare_cached("DELETE FROM products WHERE parent_id = :id AND type = 'variation'")?;
        for id in ids {
            children.execute(named_params! { ":id": id })?;
        }
    }
    Ok(removed)
}

/// Removes the children of `parent` (variations of a product, refunds of
/// an order) that are not in `keep`. Returns how many were removed.
pub fn prune_children(
    tx: &Transaction<'_>,
    resource: Resource,
    parent: UpstreamId,
    keep: &[UpstreamId],
) -> Result<usize, StoreError> {
    let sql = match resource {
        Resource::Variations => {
            "SELECT id FROM products WHERE parent_id = :parent AND type = 'variation'"
        }
        Resource::Refunds => "SELECT id FROM refunds WHERE order_id = :parent",
        _ => return Ok(0),
    };
    let mut stmt = tx.prepare_cached(sql)?;
    let local = stmt
        .query_map(named_params! { ":parent": parent }, |r| r.get::<_, i64>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    let gone: Vec<i64> = local.into_iter().filter(|id| !keep.contains(id)).collect();
    delete_ids(tx, resource, &gone)
}

/// Where polling of `resource` starts: the cursor, else the watermark the
/// full pull took before it began.
pub fn cursor(conn: &Connection, resource: Resource) -> Result<Option<GmtTime>, StoreError> {
    let found: Option<Option<String>> = conn
        .prepare_cached(
            "SELECT COALESCE(cursor_gmt, watermark_gmt) FROM sync_resources WHERE resource = :r",
        )?
        .query_row(named_params! { ":r": resource.as_str() }, |r| r.get(0))
        .optional()?;
    Ok(found.flatten().and_then(|s| GmtTime::parse(&s)))
}

/// Moves the cursor forward (never back) and records when the poll ended.
pub fn advance_cursor(
    tx: &Transaction<'_>,
    resource: Resource,
    to: Option<GmtTime>,
    now_ms: i64,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO sync_resources (resource, cursor_gmt, last_poll_at) VALUES (:r, :c, :now)
         ON CONFLICT (resource) DO UPDATE SET
           cursor_gmt = CASE
             WHEN :c IS NULL THEN sync_resources.cursor_gmt
             WHEN COALESCE(sync_resources.cursor_gmt, sync_resources.watermark_gmt) IS NULL THEN :c
             WHEN :c > COALESCE(sync_resources.cursor_gmt, sync_resources.watermark_gmt) THEN :c
             ELSE COALESCE(sync_resources.cursor_gmt, sync_resources.watermark_gmt) END,
           last_poll_at = :now",
    )?
    .execute(named_params! {
        ":r": resource.as_str(),
        ":c": to.map(|t| t.to_string()),
        ":now": now_ms,
    })?;
    Ok(())
}

/// What a completeness sweep found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweepVerdict {
    pub upstream: i64,
    pub local: i64,
    /// Local objects carrying the store's exact version.
    pub matching: i64,
}

/// Records a sweep's verdict.
pub fn record_sweep(
    tx: &Transaction<'_>,
    resource: Resource,
    verdict: SweepVerdict,
    now_ms: i64,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO sync_resources (resource, sweep_upstream, sweep_local, sweep_matching, verified_at, last_poll_at)
         VALUES (:r, :up, :local, :matching, :now, :now)
         ON CONFLICT (resource) DO UPDATE SET
           sweep_upstream = :up, sweep_local = :local, sweep_matching = :matching,
           verified_at = :now, last_poll_at = :now",
    )?
    .execute(named_params! {
        ":r": resource.as_str(),
        ":up": verdict.upstream,
        ":local": verdict.local,
        ":matching": verdict.matching,
        ":now": now_ms,
    })?;
    Ok(())
}

/// How fresh and complete one resource is.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Freshness {
    pub resource: Resource,
    pub cursor: Option<GmtTime>,
    /// Unix ms.
    pub last_poll_at: Option<i64>,
    pub upstream_count: Option<i64>,
    pub local_count: Option<i64>,
    /// Share of the store's objects present locally at the store's version,
    /// at the last sweep.
    pub complete_pct: Option<f64>,
    /// Unix ms of the last completeness sweep.
    pub verified_at: Option<i64>,
}

/// Every resource that has been polled or swept.
pub fn freshness(conn: &Connection) -> Result<Vec<Freshness>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT resource, COALESCE(cursor_gmt, watermark_gmt), last_poll_at, sweep_upstream,
                sweep_local, sweep_matching, verified_at
         FROM sync_resources",
    )?;
    let mut rows: Vec<Freshness> = stmt
        .query_map([], |r| {
            let upstream: Option<i64> = r.get(3)?;
            let matching: Option<i64> = r.get(5)?;
            Ok((
                r.get::<_, String>(0)?,
                Freshness {
                    resource: Resource::Products,
                    cursor: r
                        .get::<_, Option<String>>(1)?
                        .and_then(|s| GmtTime::parse(&s)),
                    last_poll_at: r.get(2)?,
                    upstream_count: upstream,
                    local_count: r.get(4)?,
                    complete_pct: match (upstream, matching) {
                        (Some(0), Some(_)) => Some(100.0),
                        (Some(u), Some(m)) => Some((m as f64 * 100.0 / u as f64).min(100.0)),
                        _ => None,
                    },
                    verified_at: r.get(6)?,
                },
            ))
        })?
        .filter_map(|row| match row {
            Ok((name, mut f)) => name.parse::<Resource>().ok().map(|r| {
                f.resource = r;
                Ok(f)
            }),
            Err(e) => Some(Err(e)),
        })
        .collect::<Result<_, _>>()?;
    rows.sort_by_key(|f| f.resource);
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[tokio::test]
    async fn the_cursor_only_moves_forward_and_starts_at_the_watermark() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("r.db")).unwrap();
        let t = |s: &str| GmtTime::parse(s).unwrap();
        let r = Resource::Products;
        assert_eq!(store.read(move |c| cursor(c, r)).await.unwrap(), None);
        store
            .write(move |tx| {
                tx.execute(
                    "INSERT INTO sync_resources (resource, watermark_gmt) VALUES ('products', '2026-01-01T00:00:00')",
                    [],
                )?;
                Ok(())
            })
            .await
            .unwrap();
        assert_eq!(
            store.read(move |c| cursor(c, r)).await.unwrap(),
            Some(t("2026-01-01T00:00:00"))
        );
        for (to, expect) in [
            (Some("2026-01-02T00:00:00"), "2026-01-02T00:00:00"),
            (Some("2025-12-31T00:00:00"), "2026-01-02T00:00:00"),
            (None, "2026-01-02T00:00:00"),
        ] {
            let to = to.map(t);
            store
                .write(move |tx| advance_cursor(tx, r, to, 1))
                .await
                .unwrap();
            assert_eq!(
                store.read(move |c| cursor(c, r)).await.unwrap(),
                Some(t(expect))
            );
        }
    }
}
