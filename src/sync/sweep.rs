//! The deletion and completeness sweep.
//!
//! Permanent deletes leave no trace upstream (no tombstone, no webhook), and
//! polls only see what changed. So, every few hours, each mirrored resource
//! is listed cheaply as `(id, date_modified_gmt)` stamps under the mirror's
//! own filter (statuses, order window) and compared with the replica:
//! objects are grouped into id buckets and a digest of each bucket is
//! compared first, so only buckets that differ are examined object by
//! object. Objects missing or stale locally are fetched by id; local objects
//! the store no longer lists are removed. The verdict (the store's count,
//! ours, how many match exactly) is recorded and shown as completeness.

use std::collections::{BTreeMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};

use super::SyncError;
use super::delta::{Delta, DeltaReport, diff_stamps};
use crate::domain::time::unix_millis_now;
use crate::domain::{Resource, Stamp, UpstreamId};
use crate::store::delta::{self as store_delta, SweepVerdict};
use crate::store::{catalog, deletes};
use crate::upstream::{Filter, Scope, Upstream};

/// Ids per digest bucket.
const BUCKET: i64 = 1_000;

/// The resources the sweep verifies, in order.
pub const SWEPT: [Resource; 5] = [
    Resource::Products,
    Resource::Variations,
    Resource::Customers,
    Resource::Orders,
    Resource::Refunds,
];

/// The resources whose own job re-reads, on every run, whatever the shop
/// modified within the overlap before its cursor (the cursor polls list it
/// whole; the customers job re-fetches it by id). Two saves in one second
/// share a stamp, so a matching stamp of a recent object proves nothing,
/// but for these the next run of their job settles it: the sweep trusts the
/// stamp and does not fetch again what a poll just wrote.
const POLLED: [Resource; 4] = [
    Resource::Products,
    Resource::Variations,
    Resource::Orders,
    Resource::Customers,
];

/// A digest of each id bucket of a stamp set.
pub fn bucket_digests(stamps: &[Stamp]) -> BTreeMap<i64, u64> {
    let mut sorted: Vec<&Stamp> = stamps.iter().collect();
    sorted.sort_unstable_by_key(|s| s.id);
    let mut out: BTreeMap<i64, DefaultHasher> = BTreeMap::new();
    for s in sorted {
        let h = out.entry(s.id.div_euclid(BUCKET)).or_default();
        s.id.hash(h);
        s.modified.map(|m| m.unix()).hash(h);
    }
    out.into_iter().map(|(k, h)| (k, h.finish())).collect()
}

/// The buckets whose digests differ (present on one side only included).
pub fn differing_buckets(local: &[Stamp], upstream: &[Stamp]) -> HashSet<i64> {
    let (a, b) = (bucket_digests(local), bucket_digests(upstream));
    a.keys()
        .chain(b.keys())
        .filter(|k| a.get(k) != b.get(k))
        .copied()
        .collect()
}

impl<U: Upstream> Delta<'_, U> {
    /// Verifies one resource against the store and repairs the difference.
    pub async fn sweep(&self, resource: Resource) -> Result<DeltaReport, SyncError> {
        let Some((upstream, filter)) = self.upstream_stamps(resource).await? else {
            return Ok(DeltaReport::default());
        };
        let local = self
            .store
            .read(move |c| store_delta::local_stamps(c, resource))
            .await?;
        let buckets = differing_buckets(&local, &upstream);
        let in_buckets = |v: &[Stamp]| -> Vec<Stamp> {
            v.iter()
                .filter(|s| buckets.contains(&s.id.div_euclid(BUCKET)))
                .copied()
                .collect()
        };
        let mut diff = diff_stamps(&in_buckets(&local), &in_buckets(&upstream));
        if !POLLED.contains(&resource) {
            diff.changed = self.with_recent(resource, diff.changed, &upstream).await?;
        }
        let fetched = if diff.changed.is_empty() {
            0
        } else if resource == Resource::Variations || resource == Resource::Refunds {
            // Children are fetched through the flat lists by id.
            self.fetch_ids(resource, &Filter::default(), &diff.changed)
                .await?
        } else {
            self.fetch_ids(resource, &filter, &diff.changed).await?
        };
        let gone = diff.gone.clone();
        let removed = self
            .store
            .write(move |tx| store_delta::delete_ids(tx, resource, &gone))
            .await? as u64;

        // The verdict, on what the replica holds now.
        let after = self
            .store
            .read(move |c| store_delta::local_stamps(c, resource))
            .await?;
        let verdict = SweepVerdict {
            upstream: upstream.len() as i64,
            local: after.len() as i64,
            matching: diff_stamps(&after, &upstream).matching as i64,
        };
        self.store
            .write(move |tx| store_delta::record_sweep(tx, resource, verdict, unix_millis_now()))
            .await?;
        if fetched > 0 || removed > 0 {
            tracing::info!(resource = %resource, fetched, removed, "sweep repaired the replica");
        }
        Ok(DeltaReport {
            fetched,
            removed,
            cursor: None,
        })
    }

    /// What the store lists for the mirror of `resource`, and the filter
    /// it was listed with; `None` when this store cannot list it flat.
    async fn upstream_stamps(
        &self,
        resource: Resource,
    ) -> Result<Option<(Vec<Stamp>, Filter)>, SyncError> {
        let filter = match resource {
            Resource::Products => Filter {
                statuses: self.opts.product_statuses.clone(),
                ..Filter::default()
            },
            Resource::Orders => Filter {
                statuses: self.opts.order_statuses.clone(),
                created_after: self.window_start(),
                ..Filter::default()
            },
            Resource::Refunds => Filter {
                created_after: self.window_start(),
                ..Filter::default()
            },
            _ => Filter::default(),
        };
        let flat = match resource {
            Resource::Variations => self.capability("variations_endpoint").await?,
            Resource::Refunds => self.capability("refunds_endpoint").await?,
            _ => true,
        };
        if flat {
            let (mut stamps, parents) = self
                .stamps_and_parents(resource, Scope::All, &filter)
                .await?;
            if resource == Resource::Variations {
                // A variation is mirrored only while its parent is: the
                // others are not missing, and do not count.
                let mirrored: HashSet<UpstreamId> = self
                    .store
                    .read(|c| deletes::ids(c, Resource::Products))
                    .await?
                    .into_iter()
                    .collect();
                stamps.retain(|s| parents.get(&s.id).is_none_or(|p| mirrored.contains(p)));
            }
            return Ok(Some((stamps, filter)));
        }
        if resource != Resource::Variations {
            // Refunds on older stores follow their orders' polls.
            return Ok(None);
        }
        let parents: Vec<UpstreamId> = self.store.read(catalog::variable_product_ids).await?;
        let mut all = Vec::new();
        for parent in parents {
            all.extend(
                self.stamps(resource, Scope::Parent(parent), &Filter::default())
                    .await?,
            );
        }
        Ok(Some((all, filter)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::GmtTime;

    fn s(id: i64, m: &str) -> Stamp {
        Stamp {
            id,
            modified: GmtTime::parse(m),
        }
    }

    #[test]
    fn only_buckets_that_differ_are_examined() {
        let t = "2026-01-01T00:00:00";
        let local = vec![s(1, t), s(2, t), s(1500, t), s(2500, t)];
        let mut upstream = local.clone();
        assert!(differing_buckets(&local, &upstream).is_empty());
        upstream[2] = s(1500, "2026-01-02T00:00:00");
        upstream.push(s(3100, t));
        upstream.retain(|x| x.id != 2500);
        let mut b: Vec<i64> = differing_buckets(&local, &upstream).into_iter().collect();
        b.sort_unstable();
        assert_eq!(b, vec![1, 2, 3]);
    }

    #[test]
    fn digests_do_not_depend_on_listing_order() {
        let t = "2026-01-01T00:00:00";
        let a = vec![s(3, t), s(1, t), s(2, t)];
        let b = vec![s(1, t), s(2, t), s(3, t)];
        assert_eq!(bucket_digests(&a), bucket_digests(&b));
    }
}
