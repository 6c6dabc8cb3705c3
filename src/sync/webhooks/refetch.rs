//! Settling deliveries that need the shop asked.
//!
//! - A delivery that names its object but does not carry all of it
//!   ([`Instruction::Fetch`](crate::domain::webhooks::Instruction::Fetch)):
//!   the object is fetched by id and written through the same guard as a
//!   pull; one the shop no longer has is removed.
//! - A delivery whose object was gone when the shop built it: its payload
//!   is the shop's REST error and does not say which object it was about.
//!   So the replica asks: it lists the ids the shop still has for that
//!   resource (cheap, ids only), and re-fetches by id each object it holds
//!   that the list lacks; one the shop no longer has is removed, one it
//!   still has is written back through the same guard.

use std::collections::{BTreeMap, HashSet};

use super::apply::{self, Mirror};
use crate::domain::time::unix_millis_now;
use crate::domain::{Resource, UpstreamId};
use crate::store::events::{self, Level};
use crate::store::{Store, deletes, inbox};
use crate::sync::SyncError;
use crate::upstream::{Filter, PageQuery, Scope, Upstream};

/// Ids asked per page.
const ID_PAGE: u8 = 100;
/// Objects re-fetched one by one per check at most; the deletion sweep
/// covers anything beyond.
const MAX_REFETCH: usize = 100;

/// Settles every waiting delivery. Returns `false` when something must be
/// tried again later (the shop failed).
pub async fn settle<U: Upstream>(upstream: &U, store: &Store, mirror: &Mirror) -> bool {
    let waiting = match store.inbox().read(inbox::refetch_waiting).await {
        Ok(w) => w,
        Err(e) => {
            tracing::error!(error = %e, "cannot read the webhook inbox");
            return false;
        }
    };
    let mut named: BTreeMap<(Resource, UpstreamId), Vec<i64>> = BTreeMap::new();
    let mut by_resource: BTreeMap<Resource, Vec<i64>> = BTreeMap::new();
    for w in waiting {
        match w.object {
            Some(object) => named.entry((w.resource, object)).or_default().push(w.id),
            None => by_resource.entry(w.resource).or_default().push(w.id),
        }
    }
    let mut all_done = fetch_named(upstream, store, mirror, named).await;
    for (resource, ids) in by_resource {
        match check(upstream, store, resource, mirror).await {
            Ok(removed) => {
                let n = ids.len();
                // The marks first, the event after: a stop in between loses
                // the event line, never repeats the check's claim.
                let written = async {
                    store
                        .inbox()
                        .write(move |tx| inbox::mark_refetched(tx, &ids, unix_millis_now()))
                        .await?;
                    store
                        .write(move |tx| {
                            events::append(
                                tx,
                                unix_millis_now(),
                                Level::Info,
                                "webhook_refetch",
                                Some(resource.as_str()),
                                &format!(
                                    "{n} webhook deliveries named {resource} gone upstream; checked the shop and removed {removed}"
                                ),
                            )
                        })
                        .await
                }
                .await;
                if let Err(e) = written {
                    tracing::error!(error = %e, "cannot record a webhook refetch");
                    all_done = false;
                }
            }
            Err(e) => {
                tracing::warn!(%resource, error = %e, "webhook refetch failed; will retry");
                all_done = false;
            }
        }
    }
    all_done
}

/// Fetches each named object once, however many deliveries named it, and
/// writes it (or removes it, when the shop no longer has it); then marks
/// its deliveries settled. Stops at the first failure: the rest wait for
/// the next try, and an unreachable shop is not asked once per object.
async fn fetch_named<U: Upstream>(
    upstream: &U,
    store: &Store,
    mirror: &Mirror,
    named: BTreeMap<(Resource, UpstreamId), Vec<i64>>,
) -> bool {
    for ((resource, id), deliveries) in named {
        let found = match upstream.fetch_one(resource, id).await {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(%resource, id, error = %e, "fetching a delivered object failed; will retry");
                return false;
            }
        };
        let mirror = mirror.clone();
        let written = store
            .write(move |tx| {
                let now = unix_millis_now();
                match found {
                    None => apply::remove(tx, resource, id, now),
                    Some(records) => {
                        if let Some(key) = apply::version_of(&records) {
                            apply::write_version(tx, &records, &key, &mirror, now)?;
                        }
                        Ok(())
                    }
                }
            })
            .await;
        let marked = match written {
            Ok(()) => {
                store
                    .inbox()
                    .write(move |tx| inbox::mark_refetched(tx, &deliveries, unix_millis_now()))
                    .await
            }
            Err(e) => Err(e),
        };
        if let Err(e) = marked {
            tracing::error!(%resource, id, error = %e, "cannot record a fetched delivery");
            return false;
        }
    }
    true
}

/// Compares ids with the shop and re-fetches the ones it lacks; returns how
/// many objects were removed.
async fn check<U: Upstream>(
    upstream: &U,
    store: &Store,
    resource: Resource,
    mirror: &Mirror,
) -> Result<usize, SyncError> {
    let local = store.read(move |c| deletes::ids(c, resource)).await?;
    if local.is_empty() {
        return Ok(0);
    }
    let remote = upstream_ids(upstream, resource, mirror).await?;
    let missing: Vec<UpstreamId> = local
        .into_iter()
        .filter(|id| !remote.contains(id))
        .take(MAX_REFETCH)
        .collect();
    let mut removed = 0;
    for id in missing {
        let found = upstream
            .fetch_one(resource, id)
            .await
            .map_err(|source| SyncError::Upstream { resource, source })?;
        let mirror = mirror.clone();
        let gone = store
            .write(move |tx| {
                let now = unix_millis_now();
                match found {
                    None => {
                        apply::remove(tx, resource, id, now)?;
                        Ok(true)
                    }
                    Some(records) => {
                        let Some(key) = apply::version_of(&records) else {
                            return Ok(false);
                        };
                        let kept = mirror.keeps(&records);
                        apply::write_version(tx, &records, &key, &mirror, now)?;
                        Ok(!kept)
                    }
                }
            })
            .await?;
        removed += usize::from(gone);
    }
    Ok(removed)
}

async fn upstream_ids<U: Upstream>(
    upstream: &U,
    resource: Resource,
    mirror: &Mirror,
) -> Result<HashSet<UpstreamId>, SyncError> {
    let statuses = match resource {
        Resource::Products => mirror.product_statuses.clone(),
        Resource::Orders => mirror.order_statuses.clone(),
        _ => Vec::new(),
    };
    let mut ids = HashSet::new();
    let mut query = PageQuery::first(
        resource,
        Scope::All,
        Filter {
            statuses,
            ..Filter::default()
        },
        ID_PAGE,
    );
    loop {
        let got = upstream
            .id_page(&query)
            .await
            .map_err(|source| SyncError::Upstream { resource, source })?;
        let n = got.ids.len();
        ids.extend(got.ids);
        match got.next {
            Some(next) if n > 0 => query.cursor = next,
            _ => return Ok(ids),
        }
    }
}
