//! Sync bookkeeping: full-pull runs and the pages they finished (so a killed
//! pull resumes where it stopped), per-resource outcomes and watermarks, and
//! facts learned about the store.
//!
//! A completed run removes the rows of its resource it did not see, except
//! rows written after it started (by delta sync): only a *completed* pull
//! knows upstream's whole set, so nothing is removed midway.

use rusqlite::{Connection, OptionalExtension, Transaction, named_params};

use super::StoreError;
use super::events::{self, Level};
use crate::domain::{GmtTime, Resource};

const FIND_RUNNING: &str = "
SELECT id, started_at, watermark_gmt
FROM pull_runs WHERE resource = :resource AND params = :params AND state = 'running'
ORDER BY id DESC LIMIT 1";
const ABANDON_RUNNING: &str =
    "UPDATE pull_runs SET state = 'abandoned' WHERE resource = :resource AND state = 'running'";
const INSERT_RUN: &str = "
INSERT INTO pull_runs (resource, params, state, started_at, watermark_gmt, page_size)
VALUES (:resource, :params, 'running', :started_at, :watermark, :page_size)";
const MARK_PAGE: &str = "
INSERT OR REPLACE INTO pull_pages (run_id, scope, cursor, seq, next_cursor, items, reported_items, reported_pages, done_at)
VALUES (:run, :scope, :cursor, :seq, :next, :items, :reported_items, :reported_pages, :now)";
const DONE_PAGES: &str = "
SELECT scope, cursor, seq, next_cursor, items, reported_items, reported_pages FROM pull_pages WHERE run_id = :run";
const COMPLETE_RUN: &str = "
UPDATE pull_runs SET state = 'completed', completed_at = :now, capped = :capped, warning = :warning,
                     total_items = :total
WHERE id = :run";
const UPSERT_RESOURCE_DONE: &str = "
INSERT INTO sync_resources (resource, last_full_pull_run, last_full_pull_at, watermark_gmt,
                            upstream_total, last_warning, last_error, last_error_at)
VALUES (:resource, :run, :now, :watermark, :total, :warning, NULL, NULL)
ON CONFLICT (resource) DO UPDATE SET
    last_full_pull_run = excluded.last_full_pull_run, last_full_pull_at = excluded.last_full_pull_at,
    watermark_gmt = COALESCE(excluded.watermark_gmt, sync_resources.watermark_gmt),
    upstream_total = excluded.upstream_total, last_warning = excluded.last_warning,
    last_error = NULL, last_error_at = NULL";
const UPSERT_RESOURCE_ERROR: &str = "
INSERT INTO sync_resources (resource, last_error, last_error_at) VALUES (:resource, :error, :now)
ON CONFLICT (resource) DO UPDATE SET last_error = excluded.last_error, last_error_at = excluded.last_error_at";
const DISCOUNT_UPSTREAM_TOTAL: &str = "
UPDATE sync_resources SET upstream_total = MAX(upstream_total - :n, 0)
WHERE resource = :resource AND upstream_total IS NOT NULL";
const SELECT_RESOURCES: &str = "
SELECT resource, last_full_pull_run, last_full_pull_at, watermark_gmt, upstream_total,
       last_warning, last_error, last_error_at
FROM sync_resources";
const PULL_NEEDED: &str = "
SELECT EXISTS (SELECT 1 FROM pull_runs WHERE state = 'running')
    OR (SELECT COUNT(*) FROM sync_resources
        WHERE last_full_pull_at IS NOT NULL
          AND resource IN (SELECT value FROM json_each(:resources))) < json_array_length(:resources)";
const GET_CAPABILITY: &str = "SELECT value FROM store_capabilities WHERE name = :name";
const SET_CAPABILITY: &str = "
INSERT INTO store_capabilities (name, value, checked_at) VALUES (:name, :value, :now)
ON CONFLICT (name) DO UPDATE SET value = excluded.value, checked_at = excluded.checked_at";

/// Per-resource SQL for the end of a run: remove unseen rows, count seen ones.
struct RunSql {
    delete_unseen: &'static str,
    count_seen: &'static str,
    ids_seen: &'static str,
    delete_vanished: &'static str,
}

fn run_sql(resource: Resource) -> Option<RunSql> {
    macro_rules! sql {
        ($table:literal, $filter:literal) => {
            RunSql {
                // The rows are found by a subquery: a DELETE's own WHERE
                // scans the table, the subquery can read an index alone.
                delete_unseen: concat!(
                    "DELETE FROM ",
                    $table,
                    " WHERE id IN (SELECT id FROM ",
                    $table,
                    " WHERE ",
                    $filter,
                    " (seen_run IS NULL OR seen_run <> :run) AND synced_at < :started_at)"
                ),
                count_seen: concat!(
                    "SELECT COUNT(*) FROM ",
                    $table,
                    " WHERE ",
                    $filter,
                    " seen_run = :run"
                ),
                ids_seen: concat!(
                    "SELECT id FROM ",
                    $table,
                    " WHERE ",
                    $filter,
                    " seen_run = :run"
                ),
                delete_vanished: concat!(
                    "DELETE FROM ",
                    $table,
                    " WHERE ",
                    $filter,
                    " id = :id AND seen_run = :run"
                ),
            }
        };
    }
    Some(match resource {
        Resource::Products => sql!("products", "type <> 'variation' AND"),
        Resource::Variations => sql!("products", "type = 'variation' AND"),
        Resource::Categories => sql!("categories", ""),
        Resource::Tags => sql!("tags", ""),
        Resource::TaxRates => sql!("tax_rates", ""),
        Resource::Customers => sql!("customers", ""),
        Resource::Orders => sql!("orders", ""),
        Resource::Refunds => sql!("refunds", ""),
        _ => return None,
    })
}

/// A full-pull run as persisted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRun {
    pub id: i64,
    /// Local time the run began (unix ms).
    pub started_at: i64,
    /// Store time taken before the run began.
    pub watermark: Option<GmtTime>,
}

/// The unfinished run of `resource` asked with the same `params`, if any.
pub fn find_running(
    conn: &Connection,
    resource: Resource,
    params: &str,
) -> Result<Option<PullRun>, StoreError> {
    Ok(conn
        .prepare_cached(FIND_RUNNING)?
        .query_row(
            named_params! { ":resource": resource.as_str(), ":params": params },
            |r| {
                Ok(PullRun {
                    id: r.get(0)?,
                    started_at: r.get(1)?,
                    watermark: r
                        .get::<_, Option<String>>(2)?
                        .and_then(|s| GmtTime::parse(&s)),
                })
            },
        )
        .optional()?)
}

/// Starts a new run of `resource`, abandoning any unfinished one.
pub fn start_run(
    tx: &Transaction<'_>,
    resource: Resource,
    params: &str,
    page_size: u8,
    started_at: i64,
    watermark: Option<GmtTime>,
) -> Result<PullRun, StoreError> {
    tx.prepare_cached(ABANDON_RUNNING)?
        .execute(named_params! { ":resource": resource.as_str() })?;
    tx.prepare_cached(INSERT_RUN)?.execute(named_params! {
        ":resource": resource.as_str(),
        ":params": params,
        ":started_at": started_at,
        ":watermark": watermark.map(|w| w.to_string()),
        ":page_size": page_size,
    })?;
    Ok(PullRun {
        id: tx.last_insert_rowid(),
        started_at,
        watermark,
    })
}

/// A page of a run that is fully written, with what the store reported
/// about the whole set when it was fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DonePage {
    /// 0, or the parent id when walked per parent.
    pub scope: i64,
    /// The page's cursor, as the shop's adapter made it ('' for the first).
    pub cursor: String,
    /// The page's place in the walk, 1 for the first.
    pub seq: u32,
    /// The page after it, as the shop said; `None` after the last.
    pub next: Option<String>,
    pub items: usize,
    pub reported_items: Option<u64>,
    pub reported_pages: Option<u32>,
}

/// Marks a page as fully written; call it in the transaction that wrote it.
pub fn mark_page_done(
    tx: &Transaction<'_>,
    run: i64,
    page: &DonePage,
    now_ms: i64,
) -> Result<(), StoreError> {
    tx.prepare_cached(MARK_PAGE)?.execute(named_params! {
        ":run": run,
        ":scope": page.scope,
        ":cursor": page.cursor,
        ":seq": page.seq,
        ":next": page.next,
        ":items": page.items as i64,
        ":reported_items": page.reported_items.map(|n| n as i64),
        ":reported_pages": page.reported_pages,
        ":now": now_ms,
    })?;
    Ok(())
}

/// The pages a run has finished.
pub fn done_pages(conn: &Connection, run: i64) -> Result<Vec<DonePage>, StoreError> {
    let mut stmt = conn.prepare_cached(DONE_PAGES)?;
    let pages = stmt
        .query_map(named_params! { ":run": run }, |r| {
            Ok(DonePage {
                scope: r.get(0)?,
                cursor: r.get(1)?,
                seq: r.get(2)?,
                next: r.get(3)?,
                items: r.get::<_, i64>(4)? as usize,
                reported_items: r.get::<_, Option<i64>>(5)?.map(|n| n as u64),
                reported_pages: r.get(6)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(pages)
}

/// How many distinct rows of `resource` the run has seen so far.
pub fn count_seen(conn: &Connection, resource: Resource, run: i64) -> Result<i64, StoreError> {
    let Some(sql) = run_sql(resource) else {
        return Ok(0);
    };
    Ok(conn
        .prepare_cached(sql.count_seen)?
        .query_row(named_params! { ":run": run }, |r| r.get(0))?)
}

/// The ids of `resource` the run has seen.
pub fn seen_ids(conn: &Connection, resource: Resource, run: i64) -> Result<Vec<i64>, StoreError> {
    let Some(sql) = run_sql(resource) else {
        return Ok(Vec::new());
    };
    let mut stmt = conn.prepare_cached(sql.ids_seen)?;
    let ids = stmt
        .query_map(named_params! { ":run": run }, |r| r.get(0))?
        .collect::<Result<Vec<i64>, _>>()?;
    Ok(ids)
}

/// How a run ended.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// The run stopped at `sync.max_records`: unseen rows are kept.
    pub capped: bool,
    /// What the store reported as the size of the set.
    pub upstream_total: Option<i64>,
    /// A discrepancy worth showing the manager.
    pub warning: Option<String>,
    /// Ids this run saw that a later complete id listing no longer had
    /// (deleted or moved out of the mirrored set while the pull ran).
    pub vanished: Vec<i64>,
}

/// Completes a run: removes rows it did not see (unless capped), records the
/// outcome and the watermark. Returns how many rows were removed.
pub fn complete_run(
    tx: &Transaction<'_>,
    resource: Resource,
    run: &PullRun,
    outcome: &RunOutcome,
    now_ms: i64,
) -> Result<usize, StoreError> {
    let removed = match (run_sql(resource), outcome.capped) {
        (Some(sql), false) => {
            let mut removed = tx
                .prepare_cached(sql.delete_unseen)?
                .execute(named_params! { ":run": run.id, ":started_at": run.started_at })?;
            let mut vanish = tx.prepare_cached(sql.delete_vanished)?;
            for id in &outcome.vanished {
                removed += vanish.execute(named_params! { ":id": id, ":run": run.id })?;
            }
            removed
        }
        _ => 0,
    };
    tx.prepare_cached(COMPLETE_RUN)?.execute(named_params! {
        ":run": run.id, ":now": now_ms, ":capped": outcome.capped, ":warning": outcome.warning,
        ":total": outcome.upstream_total,
    })?;
    record_done(tx, resource, Some(run.id), run.watermark, outcome, now_ms)?;
    Ok(removed)
}

/// Records a finished pull of `resource` (a run, or a whole snapshot).
pub fn record_done(
    tx: &Transaction<'_>,
    resource: Resource,
    run: Option<i64>,
    watermark: Option<GmtTime>,
    outcome: &RunOutcome,
    now_ms: i64,
) -> Result<(), StoreError> {
    tx.prepare_cached(UPSERT_RESOURCE_DONE)?
        .execute(named_params! {
            ":resource": resource.as_str(),
            ":run": run,
            ":now": now_ms,
            ":watermark": watermark.map(|w| w.to_string()),
            ":total": outcome.upstream_total,
            ":warning": outcome.warning,
        })?;
    Ok(())
}

/// Takes `n` objects the last pull counted, but the replica does not
/// mirror, out of the store's recorded total for `resource` (variations of
/// products not mirrored).
pub fn discount_upstream_total(
    tx: &Transaction<'_>,
    resource: Resource,
    n: u64,
) -> Result<(), StoreError> {
    tx.prepare_cached(DISCOUNT_UPSTREAM_TOTAL)?
        .execute(named_params! { ":resource": resource.as_str(), ":n": n as i64 })?;
    Ok(())
}

/// Records the error that stopped syncing `resource`, and says so in the
/// event log (`level`, `kind`).
pub fn record_error(
    tx: &Transaction<'_>,
    resource: Resource,
    level: Level,
    kind: &str,
    error: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    tx.prepare_cached(UPSERT_RESOURCE_ERROR)?.execute(
        named_params! { ":resource": resource.as_str(), ":error": error, ":now": now_ms },
    )?;
    events::append(tx, now_ms, level, kind, Some(resource.as_str()), error)
}

/// The recorded state of one resource.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ResourceState {
    pub resource: Resource,
    pub last_full_pull_run: Option<i64>,
    /// Unix ms.
    pub last_full_pull_at: Option<i64>,
    pub watermark: Option<GmtTime>,
    pub upstream_total: Option<i64>,
    pub last_warning: Option<String>,
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
}

/// Every resource's recorded state, in full-pull order.
pub fn resource_states(conn: &Connection) -> Result<Vec<ResourceState>, StoreError> {
    let mut stmt = conn.prepare_cached(SELECT_RESOURCES)?;
    let mut rows: Vec<ResourceState> = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
            ))
        })?
        .filter_map(|row| {
            let (name, run, at, watermark, total, warning, error, error_at) = match row {
                Ok(v) => v,
                Err(e) => return Some(Err(e)),
            };
            let resource = name.parse::<Resource>().ok()?;
            Some(Ok(ResourceState {
                resource,
                last_full_pull_run: run,
                last_full_pull_at: at,
                watermark: watermark.and_then(|w| GmtTime::parse(&w)),
                upstream_total: total,
                last_warning: warning,
                last_error: error,
                last_error_at: error_at,
            }))
        })
        .collect::<Result<_, _>>()?;
    rows.sort_by_key(|s| s.resource);
    Ok(rows)
}

/// Whether a full pull is due: one of `resources` (what the shop's kind
/// has) was never pulled, or a pull was interrupted.
pub fn pull_needed(conn: &Connection, resources: &[Resource]) -> Result<bool, StoreError> {
    let names: Vec<&str> = resources.iter().map(|r| r.as_str()).collect();
    let names = serde_json::to_string(&names).unwrap_or_else(|_| "[]".to_owned());
    Ok(conn
        .prepare_cached(PULL_NEEDED)?
        .query_row(named_params! { ":resources": names }, |r| r.get(0))?)
}

/// A fact learned about the store, if recorded.
pub fn capability(conn: &Connection, name: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached(GET_CAPABILITY)?
        .query_row(named_params! { ":name": name }, |r| r.get(0))
        .optional()?)
}

/// Records a fact learned about the store.
pub fn set_capability(
    tx: &Transaction<'_>,
    name: &str,
    value: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    tx.prepare_cached(SET_CAPABILITY)?
        .execute(named_params! { ":name": name, ":value": value, ":now": now_ms })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    /// The end of a products or variations run reads the `products_run`
    /// index alone, never the table (whose rows are the shop's JSON).
    #[tokio::test]
    async fn the_end_of_a_catalogue_run_reads_the_run_index_not_the_table() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("replica.db")).unwrap();
        for resource in [Resource::Products, Resource::Variations] {
            let sql = run_sql(resource).unwrap();
            for statement in [sql.count_seen, sql.delete_unseen] {
                let plan = store
                    .read(move |c| {
                        let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {statement}"))?;
                        for name in [":run", ":started_at"] {
                            if let Some(i) = stmt.parameter_index(name)? {
                                stmt.raw_bind_parameter(i, 1)?;
                            }
                        }
                        let mut rows = stmt.raw_query();
                        let mut plan = Vec::new();
                        while let Some(row) = rows.next()? {
                            plan.push(row.get::<_, String>(3)?);
                        }
                        Ok(plan.join("; "))
                    })
                    .await
                    .unwrap();
                assert!(
                    plan.contains("COVERING INDEX products_run"),
                    "{resource}: {statement}\n{plan}"
                );
            }
        }
    }
}
