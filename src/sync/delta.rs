//! Delta sync after the first full pull: what changed since the cursor.
//!
//! - **Cursor polls** (products, variations, orders): `modified_after =
//!   cursor − overlap` in GMT, stable id order, every page written through
//!   the `date_modified_gmt` guard, and the cursor moved only to the newest
//!   modification fully written, so a crash or failure mid-poll loses
//!   nothing. The overlap re-reads the edge: `modified_after` is exclusive
//!   at one-second resolution, the shop's clock is not ours, and a slow
//!   writer can stamp a row before it becomes visible.
//! - Objects that left the mirrored set (a product unpublished, an order
//!   cancelled when cancelled orders are not mirrored, anything trashed) are
//!   removed as the poll sees them.
//! - Refunds follow their order: a refund changes its order, so the refunds
//!   of each changed order are re-read.
//! - **Customers** have no modified filter: a cheap stamp listing
//!   (`id, date_modified_gmt`) is compared with ours and only the changed
//!   ones are fetched.
//! - **Metadata** (categories, tags, attributes, taxes, shipping, gateways,
//!   settings) is small: refreshed whole, which replaces and diffs it.

use std::collections::HashMap;

use futures::{StreamExt, stream};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::progress::PullProgress;
use super::pull::{self, PullOptions};
use super::{SyncError, cancellable, upstream_failed};
use crate::domain::batch::Records;
use crate::domain::time::unix_millis_now;
use crate::domain::{GmtTime, Resource, Stamp, UpstreamId};
use crate::store::{Store, WriteStamp, apply, catalog, delta, sync_state};
use crate::upstream::{Cursor, Filter, Page, PageQuery, Scope, Upstream};

/// Largest page WooCommerce serves; deltas and sweeps always use it.
pub(super) const PAGE: u8 = 100;

/// The small resources refreshed whole by the metadata job.
pub const METADATA: [Resource; 9] = [
    Resource::Settings,
    Resource::Countries,
    Resource::TaxClasses,
    Resource::TaxRates,
    Resource::ShippingZones,
    Resource::PaymentGateways,
    Resource::Categories,
    Resource::Tags,
    Resource::Attributes,
];

/// What one poll or sweep did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeltaReport {
    /// Objects fetched and written (the guard may have kept a newer copy).
    pub fetched: u64,
    /// Objects removed locally.
    pub removed: u64,
    /// The cursor after the poll.
    pub cursor: Option<GmtTime>,
}

/// Everything a delta job needs.
pub struct Delta<'a, U> {
    pub upstream: &'a U,
    pub store: &'a Store,
    pub opts: &'a PullOptions,
    pub overlap: std::time::Duration,
    pub token: &'a CancellationToken,
}

impl<U: Upstream> Delta<'_, U> {
    /// Whether the store has the flat list named `name` (recorded by the
    /// full pull's probe; assumed until it says otherwise).
    pub(super) async fn capability(&self, name: &'static str) -> Result<bool, SyncError> {
        let known = self
            .store
            .read(move |c| sync_state::capability(c, name))
            .await?;
        Ok(known.as_deref() != Some("false"))
    }

    /// The statuses mirrored for `resource`, empty when all are.
    fn mirrored_statuses(&self, resource: Resource) -> Vec<String> {
        let wanted = match resource {
            Resource::Products => &self.opts.product_statuses,
            Resource::Orders => &self.opts.order_statuses,
            _ => return Vec::new(),
        };
        if wanted.iter().any(|s| s == "any") {
            Vec::new()
        } else {
            wanted.clone()
        }
    }

    /// Orders created before this are outside the mirrored window.
    pub(super) fn window_start(&self) -> Option<GmtTime> {
        self.opts.order_window_start(GmtTime::now())
    }

    /// Polls one resource with a modified filter (products, variations,
    /// orders). On stores without `GET /variations`, variations follow their
    /// changed parents instead; refunds follow their changed orders.
    pub async fn poll(&self, resource: Resource) -> Result<DeltaReport, SyncError> {
        if resource == Resource::Variations && !self.capability("variations_endpoint").await? {
            // Saving a variation saves its parent: the products poll re-reads
            // the variations of every changed variable product.
            return Ok(DeltaReport::default());
        }
        let Some(cursor) = self.store.read(move |c| delta::cursor(c, resource)).await? else {
            // Never pulled: the full pull comes first.
            return Ok(DeltaReport::default());
        };
        self.poll_since(resource, cursor.minus(self.overlap)).await
    }

    /// Reads what the shop modified after `since` (a poll from a chosen
    /// point: the back-office's "pull what changed since"). The cursor only
    /// ever moves forward, so an early `since` re-reads without harm.
    pub async fn poll_since(
        &self,
        resource: Resource,
        since: GmtTime,
    ) -> Result<DeltaReport, SyncError> {
        if resource == Resource::Variations && !self.capability("variations_endpoint").await? {
            return Ok(DeltaReport::default());
        }
        let mut report = DeltaReport::default();
        let mut newest: Option<GmtTime> = None;
        let mut changed_parents: Vec<UpstreamId> = Vec::new();
        let statuses = self.mirrored_statuses(resource);
        let filter = Filter {
            modified_after: Some(since),
            created_after: (resource == Resource::Orders)
                .then(|| self.window_start())
                .flatten(),
            ..Filter::default()
        };
        let mut cursor = Cursor::start();
        loop {
            let page = self.page(resource, Scope::All, &filter, cursor).await?;
            let next = page.next.clone();
            let n = page.records.len();
            for stamp in stamps_of(&page.records) {
                newest = newest.max(stamp.modified);
            }
            changed_parents.extend(parents_to_follow(&page.records));
            let (keep, gone) = split_by_status(page.records, &statuses);
            report.fetched += keep.len() as u64;
            report.removed += self.write(keep, gone).await?;
            match next {
                Some(next) if n > 0 => cursor = next,
                _ => break,
            }
        }
        // Trashed objects drop out of the default listing: ask for them
        // where the shop lists them, and for the deletions it records.
        let mut removed: Vec<Stamp> = Vec::new();
        if matches!(resource, Resource::Products | Resource::Orders) && self.upstream.lists_trash()
        {
            removed.extend(self.trashed_since(resource, since).await?);
        }
        let deleted = cancellable(self.token, self.upstream.deleted_since(resource, since))
            .await?
            .map_err(upstream_failed(resource))?;
        removed.extend(deleted.into_iter().flatten());
        if !removed.is_empty() {
            for s in &removed {
                newest = newest.max(s.modified);
            }
            let ids: Vec<UpstreamId> = removed.iter().map(|s| s.id).collect();
            report.removed += self
                .store
                .write(move |tx| delta::delete_ids(tx, resource, &ids))
                .await? as u64;
        }
        match resource {
            Resource::Products if !self.capability("variations_endpoint").await? => {
                report.removed += self
                    .refresh_children(Resource::Variations, &changed_parents)
                    .await?;
            }
            Resource::Orders => {
                report.removed += self
                    .refresh_children(Resource::Refunds, &changed_parents)
                    .await?;
            }
            _ => {}
        }
        self.store
            .write(move |tx| delta::advance_cursor(tx, resource, newest, unix_millis_now()))
            .await?;
        report.cursor = self.store.read(move |c| delta::cursor(c, resource)).await?;
        Ok(report)
    }

    /// One page of `resource`, at the largest page size.
    async fn page(
        &self,
        resource: Resource,
        scope: Scope,
        filter: &Filter,
        cursor: Cursor,
    ) -> Result<Page, SyncError> {
        let query = PageQuery {
            resource,
            scope,
            filter: filter.clone(),
            cursor,
            per_page: PAGE,
        };
        cancellable(self.token, self.upstream.page(&query))
            .await?
            .map_err(upstream_failed(resource))
    }

    /// Writes fetched objects through the guard and removes those that
    /// left the mirrored set, in one transaction. Returns how many were
    /// removed.
    async fn write(&self, keep: Records, gone: Vec<UpstreamId>) -> Result<u64, SyncError> {
        let resource = keep.resource();
        let removed = self
            .store
            .write(move |tx| {
                let stamp = WriteStamp {
                    run: None,
                    now_ms: unix_millis_now(),
                    // A fresh read of the store is at least as new as what we
                    // hold when the dates tie (two saves in one second).
                    allow_equal: true,
                };
                if !keep.is_empty() {
                    apply::write_records(tx, stamp, &keep)?;
                }
                let mut removed = delta::delete_ids(tx, resource, &gone)?;
                if matches!(resource, Resource::Products | Resource::Variations) {
                    removed += catalog::prune_orphan_variations(tx)?;
                }
                Ok(removed)
            })
            .await?;
        Ok(removed as u64)
    }

    async fn trashed_since(
        &self,
        resource: Resource,
        since: GmtTime,
    ) -> Result<Vec<Stamp>, SyncError> {
        let filter = Filter {
            statuses: vec!["trash".to_owned()],
            modified_after: Some(since),
            ..Filter::default()
        };
        self.stamps(resource, Scope::All, &filter).await
    }

    /// Every stamp the store lists for `resource` under `filter`: the first
    /// page, then the rest `concurrency` at a time where the shop's page
    /// count lets them be addressed ahead, else by following `next`.
    pub(super) async fn stamps(
        &self,
        resource: Resource,
        scope: Scope,
        filter: &Filter,
    ) -> Result<Vec<Stamp>, SyncError> {
        Ok(self.stamps_and_parents(resource, scope, filter).await?.0)
    }

    /// [`Self::stamps`], with each variation's parent product.
    pub(super) async fn stamps_and_parents(
        &self,
        resource: Resource,
        scope: Scope,
        filter: &Filter,
    ) -> Result<(Vec<Stamp>, HashMap<UpstreamId, UpstreamId>), SyncError> {
        let query = PageQuery::first(resource, scope, filter.clone(), PAGE);
        let first = cancellable(self.token, self.upstream.stamp_page(&query))
            .await?
            .map_err(upstream_failed(resource))?;
        let mut parents: HashMap<UpstreamId, UpstreamId> = first.parents.into_iter().collect();
        let mut out = first.stamps;
        // Where the shop says how many pages there are, the rest are asked
        // `concurrency` at a time; otherwise one after the other.
        let ahead: Vec<Cursor> = match first.total_pages {
            Some(pages) => self.upstream.cursors_ahead(pages),
            None => Vec::new(),
        };
        if ahead.is_empty() {
            let mut next = first.next;
            while let Some(cursor) = next {
                let page = cancellable(self.token, self.upstream.stamp_page(&query.at(cursor)))
                    .await?
                    .map_err(upstream_failed(resource))?;
                next = page.next.filter(|_| !page.stamps.is_empty());
                parents.extend(page.parents);
                out.extend(page.stamps);
            }
        }
        let mut rest = stream::iter(ahead.into_iter().skip(1))
            .map(|cursor| {
                let q = query.at(cursor);
                async move { self.upstream.stamp_page(&q).await }
            })
            .buffer_unordered(self.opts.concurrency.max(1));
        loop {
            let next = tokio::select! {
                biased;
                _ = self.token.cancelled() => return Err(SyncError::Cancelled),
                next = rest.next() => next,
            };
            let Some(page) = next else { break };
            let page = page.map_err(upstream_failed(resource))?;
            parents.extend(page.parents);
            out.extend(page.stamps);
        }
        // A set that grew during the listing may repeat an id across pages.
        out.sort_unstable_by_key(|s| s.id);
        out.dedup_by_key(|s| s.id);
        Ok((out, parents))
    }

    /// Fetches these objects by id and writes them; ids the store no longer
    /// lists under the mirror's filter are left to the caller.
    pub async fn fetch_ids(
        &self,
        resource: Resource,
        filter: &Filter,
        ids: &[UpstreamId],
    ) -> Result<u64, SyncError> {
        let statuses = self.mirrored_statuses(resource);
        let mut fetched = 0;
        for chunk in ids.chunks(usize::from(PAGE)) {
            let by_id = Filter {
                include: chunk.to_vec(),
                ..filter.clone()
            };
            let page = self
                .page(resource, Scope::All, &by_id, Cursor::start())
                .await?;
            let (keep, gone) = split_by_status(page.records, &statuses);
            fetched += keep.len() as u64;
            self.write(keep, gone).await?;
        }
        Ok(fetched)
    }

    /// Re-reads the children (variations or refunds) of each parent and
    /// removes local children the store no longer has. Returns how many
    /// were removed.
    async fn refresh_children(
        &self,
        resource: Resource,
        parents: &[UpstreamId],
    ) -> Result<u64, SyncError> {
        let mut removed = 0;
        for &parent in parents {
            let mut seen: Vec<UpstreamId> = Vec::new();
            let mut cursor = Cursor::start();
            loop {
                let page = self
                    .page(resource, Scope::Parent(parent), &Filter::default(), cursor)
                    .await?;
                let n = page.records.len();
                seen.extend(stamps_of(&page.records).iter().map(|s| s.id));
                self.write(page.records, Vec::new()).await?;
                match page.next {
                    Some(next) if n > 0 => cursor = next,
                    _ => break,
                }
            }
            removed += self
                .store
                .write(move |tx| delta::prune_children(tx, resource, parent, &seen))
                .await? as u64;
        }
        Ok(removed)
    }

    /// Customers: compare stamps, fetch only what changed, remove what is
    /// gone.
    pub async fn sweep_customers(&self) -> Result<DeltaReport, SyncError> {
        let resource = Resource::Customers;
        let upstream = self
            .stamps(resource, Scope::All, &Filter::default())
            .await?;
        let local = self
            .store
            .read(move |c| delta::local_stamps(c, resource))
            .await?;
        let mut diff = diff_stamps(&local, &upstream);
        diff.changed = self.with_recent(resource, diff.changed, &upstream).await?;
        let fetched = self
            .fetch_ids(resource, &Filter::default(), &diff.changed)
            .await?;
        let gone = diff.gone;
        let removed = self
            .store
            .write(move |tx| delta::delete_ids(tx, resource, &gone))
            .await? as u64;
        let newest = upstream.iter().filter_map(|s| s.modified).max();
        self.store
            .write(move |tx| delta::advance_cursor(tx, resource, newest, unix_millis_now()))
            .await?;
        Ok(DeltaReport {
            fetched,
            removed,
            cursor: None,
        })
    }

    /// Adds to `changed` every object the store modified within the overlap
    /// before the resource's cursor or later: two saves in the same second
    /// share one stamp, so a matching stamp proves nothing for them.
    pub(super) async fn with_recent(
        &self,
        resource: Resource,
        mut changed: Vec<UpstreamId>,
        upstream: &[Stamp],
    ) -> Result<Vec<UpstreamId>, SyncError> {
        if let Some(cursor) = self.store.read(move |c| delta::cursor(c, resource)).await? {
            let since = cursor.minus(self.overlap);
            changed.extend(
                upstream
                    .iter()
                    .filter(|s| s.modified.is_some_and(|m| m >= since))
                    .map(|s| s.id),
            );
            changed.sort_unstable();
            changed.dedup();
        }
        Ok(changed)
    }

    /// Refreshes the small resources whole (which also removes what the
    /// store dropped).
    pub async fn refresh_metadata(&self) -> Result<DeltaReport, SyncError> {
        let opts = PullOptions {
            resources: METADATA.to_vec(),
            ..self.opts.clone()
        };
        // Not the full pull's progress: the status page keeps showing that.
        let (tx, _rx) = watch::channel(PullProgress::default());
        let report = pull::run(self.upstream, self.store, &opts, &tx, self.token).await?;
        Ok(DeltaReport {
            fetched: report.resources.iter().map(|r| r.items).sum(),
            removed: report.resources.iter().map(|r| r.removed).sum(),
            cursor: None,
        })
    }
}

/// `(id, version)` of each record.
pub(super) fn stamps_of(records: &Records) -> Vec<Stamp> {
    match records {
        Records::Products(v) | Records::Variations(v) => v
            .iter()
            .map(|p| Stamp {
                id: p.id,
                modified: Some(p.date_modified),
            })
            .collect(),
        Records::Orders(v) => v
            .iter()
            .map(|o| Stamp {
                id: o.id,
                modified: Some(o.date_modified),
            })
            .collect(),
        Records::Customers(v) => v
            .iter()
            .map(|c| Stamp {
                id: c.id,
                modified: c.date_modified,
            })
            .collect(),
        Records::Refunds(v) => v
            .iter()
            .map(|r| Stamp {
                id: r.id,
                modified: r.date_created,
            })
            .collect(),
        Records::Categories(v) => v
            .iter()
            .map(|c| Stamp {
                id: c.id,
                modified: None,
            })
            .collect(),
        Records::Tags(v) => v
            .iter()
            .map(|t| Stamp {
                id: t.id,
                modified: None,
            })
            .collect(),
        Records::TaxRates(v) => v
            .iter()
            .map(|t| Stamp {
                id: t.id,
                modified: None,
            })
            .collect(),
    }
}

/// Parents whose children must be re-read: variable products (on stores
/// without `GET /variations`) and orders (for their refunds).
fn parents_to_follow(records: &Records) -> Vec<UpstreamId> {
    match records {
        Records::Products(v) => v
            .iter()
            .filter(|p| p.kind == crate::domain::catalog::ProductKind::Variable)
            .map(|p| p.id)
            .collect(),
        Records::Orders(v) => v.iter().map(|o| o.id).collect(),
        _ => Vec::new(),
    }
}

/// Splits fetched records into those in the mirrored set and the ids of
/// those that left it (by status). `statuses` empty = all mirrored.
pub(super) fn split_by_status(records: Records, statuses: &[String]) -> (Records, Vec<UpstreamId>) {
    let keep = |s: &str| statuses.is_empty() || statuses.iter().any(|w| w == s);
    match records {
        Records::Products(v) => {
            let (k, g): (Vec<_>, Vec<_>) = v.into_iter().partition(|p| keep(&p.status));
            (Records::Products(k), g.iter().map(|p| p.id).collect())
        }
        Records::Orders(v) => {
            let (k, g): (Vec<_>, Vec<_>) = v.into_iter().partition(|o| keep(&o.status));
            (Records::Orders(k), g.iter().map(|o| o.id).collect())
        }
        other => (other, Vec::new()),
    }
}

/// How a local stamp set differs from the store's.
#[derive(Debug, Default, PartialEq)]
pub(super) struct StampDiff {
    /// New upstream, or at another version upstream.
    pub changed: Vec<UpstreamId>,
    /// Local only.
    pub gone: Vec<UpstreamId>,
    /// Present on both sides at the same version.
    pub matching: u64,
}

pub(super) fn diff_stamps(local: &[Stamp], upstream: &[Stamp]) -> StampDiff {
    let mine: HashMap<UpstreamId, Option<GmtTime>> =
        local.iter().map(|s| (s.id, s.modified)).collect();
    let theirs: HashMap<UpstreamId, Option<GmtTime>> =
        upstream.iter().map(|s| (s.id, s.modified)).collect();
    let mut diff = StampDiff::default();
    for s in upstream {
        match mine.get(&s.id) {
            Some(m) if *m == s.modified && s.modified.is_some() => diff.matching += 1,
            _ => diff.changed.push(s.id),
        }
    }
    diff.gone = local
        .iter()
        .filter(|s| !theirs.contains_key(&s.id))
        .map(|s| s.id)
        .collect();
    diff.changed.sort_unstable();
    diff.changed.dedup();
    diff.gone.sort_unstable();
    diff
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(id: i64, m: Option<&str>) -> Stamp {
        Stamp {
            id,
            modified: m.and_then(GmtTime::parse),
        }
    }

    #[test]
    fn stamps_diff_into_changed_gone_and_matching() {
        let local = [
            s(1, Some("2026-01-01T00:00:00")),
            s(2, Some("2026-01-01T00:00:00")),
            s(3, Some("2026-01-01T00:00:00")),
            s(5, None),
        ];
        let upstream = [
            s(1, Some("2026-01-01T00:00:00")),
            s(2, Some("2026-01-02T00:00:00")),
            s(4, Some("2026-01-01T00:00:00")),
            s(5, None),
        ];
        let d = diff_stamps(&local, &upstream);
        // An unknown version is never taken as matching: it is re-read.
        assert_eq!(d.changed, vec![2, 4, 5]);
        assert_eq!(d.gone, vec![3]);
        assert_eq!(d.matching, 1);
    }
}
