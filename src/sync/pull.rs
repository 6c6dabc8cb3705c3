//! The full pull: every mirrored resource, in dependency order.
//!
//! Small resources are fetched whole and replaced in one transaction. Paged
//! resources are walked in stable id order by an opaque cursor the shop's
//! adapter makes and reads (the engine knows no page numbers): where the
//! first page comes with the shop's count of pages, the adapter addresses
//! every page ahead and the rest are fetched `concurrency` at a time;
//! otherwise each page's `next` is followed. One writer writes each page
//! together with the mark that it is done (kept by cursor, with the page's
//! `next`); pages that arrive while a write runs share the next transaction
//! (one commit and one index flush for several pages). A pull killed at any
//! moment thus resumes from the pages it had not finished. Memory holds at
//! most the pages in flight. A shop that offers a whole resource as one
//! streamed export (a bulk operation) has it written batch by batch through
//! the same writer instead ([`Upstream::export`]), each batch marked done
//! with the export's position, from which a killed run goes on.
//!
//! Store metadata and taxonomies (settings, countries, taxes, shipping,
//! gateways, categories, tags, attributes) read nothing the others write:
//! they are asked all at once, within the same request slots, and the
//! catalog starts at the same time (products link their categories by id;
//! the search documents naming them are re-indexed when one arrives).
//!
//! Products, variations, customers, orders and refunds (when each is listed
//! whole) are pulled as three relays side by side: products then
//! variations; customers; orders then refunds. In a relay the next one
//! starts its first page as soon as the one before has started its last, so
//! no round trip waits for a resource's first page alone, and the writer is
//! not left idle while one resource's tail is written and the next one's
//! first page is on its way. All share the `concurrency` request slots
//! (`sync::slots`): the catalog and metadata first, customers and orders in
//! the slots they leave idle, so a large catalog is in as soon as it can
//! be and a small shop's lists are asked at once. Resources that read what
//! an earlier one wrote (children walked per parent) wait for it to end.
//!
//! On a replica without products (a first pull), the catalog's name-search
//! documents are built once, when products and variations are in (see
//! `store::lookup::index`).
//!
//! Nothing is removed midway. When a resource's walk completes, the distinct
//! rows seen are counted against the shop's count, where it gives one; a
//! shortfall (pages shift when the store changes during a pull) is repaired
//! with a cheap id scan, any remaining difference is reported, and only then
//! are rows the pull did not see removed.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use futures::{StreamExt, stream};
use tokio::sync::{mpsc, watch};

use super::slots::{Priority, Slot, Slots};
use tokio_util::sync::CancellationToken;

use super::progress::{ProgressTx, PullProgress, PullState, StepState, update};
use super::{SyncError, cancellable, upstream_failed};
use crate::config::SyncConfig;
use crate::domain::time::unix_millis_now;
use crate::domain::{GmtTime, Resource};
use crate::store::events::{self, Level};
use crate::store::lookup::index;
use crate::store::sync_state::{self, DonePage, PullRun, RunOutcome};
use crate::store::{Store, WriteStamp, apply, catalog, orders};
use crate::upstream::{
    Capabilities, Cursor, Export, ExportBatch, Filter, Page, PageQuery, Scope, Upstream,
};

/// Pages written in one transaction at most.
const WRITE_BATCH: usize = 8;
/// Ids asked per request when repairing a shortfall (WooCommerce's maximum).
const REPAIR_PAGE: u8 = 100;
const SECONDS_PER_DAY: i64 = 86_400;

/// A fetched page on its way to the replica, with the mark that says so.
struct Fetched {
    records: crate::domain::batch::Records,
    done: DonePage,
}

impl Fetched {
    /// The page at `cursor`, `seq`th of its walk; `keep`: the records of the
    /// page within `sync.max_records`.
    fn new(scope: i64, cursor: Cursor, seq: u32, mut page: Page, keep: Option<usize>) -> Self {
        if let Some(k) = keep {
            page.records.truncate(k);
        }
        Fetched {
            done: DonePage {
                scope,
                cursor: cursor.into_string(),
                seq,
                next: page.next.map(Cursor::into_string),
                items: page.records.len(),
                reported_items: page.total_items,
                reported_pages: page.total_pages,
            },
            records: page.records,
        }
    }
}

/// What a full pull fetches and how hard it pulls.
#[derive(Debug, Clone)]
pub struct PullOptions {
    pub page_size: u8,
    pub concurrency: usize,
    pub product_statuses: Vec<String>,
    pub order_statuses: Vec<String>,
    /// Orders created within this many days; 0 = all.
    pub order_window_days: u32,
    /// At most this many records per resource; 0 = all.
    pub max_records: u64,
    /// The resources to pull, in order.
    pub resources: Vec<Resource>,
}

impl PullOptions {
    /// Every resource, with the configured limits.
    pub fn from_config(sync: &SyncConfig) -> Self {
        PullOptions {
            page_size: sync.page_size,
            // Adaptive: the client's gate holds the requests beyond its
            // current limit; the pull fans out to the ceiling.
            concurrency: sync.limit().ceiling(),
            product_statuses: sync.product_statuses.clone(),
            order_statuses: sync.order_statuses.clone(),
            order_window_days: sync.order_window_days,
            max_records: sync.max_records,
            resources: Resource::ALL.to_vec(),
        }
    }

    /// Orders created before this, counted back from `from`, are outside
    /// the mirrored window; `None` when all orders are mirrored.
    pub fn order_window_start(&self, from: GmtTime) -> Option<GmtTime> {
        (self.order_window_days > 0)
            .then(|| from.plus_secs(-(i64::from(self.order_window_days) * SECONDS_PER_DAY)))
    }
}

/// What a completed resource pull did.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceReport {
    pub resource: Resource,
    /// Records written.
    pub items: u64,
    /// Rows removed because the store no longer lists them.
    pub removed: u64,
    /// Whether an unfinished run was resumed.
    pub resumed: bool,
    pub warning: Option<String>,
}

/// What a full pull did.
#[derive(Debug, Clone, Default)]
pub struct PullReport {
    pub resources: Vec<ResourceReport>,
}

/// Runs a full pull, publishing progress on `progress`. Resources that fail
/// are reported and the others still pulled, except when the shop refuses
/// the keys (every request would fail alike) or `token` is cancelled.
pub async fn run<U: Upstream>(
    upstream: &U,
    store: &Store,
    opts: &PullOptions,
    progress: &ProgressTx,
    token: &CancellationToken,
) -> Result<PullReport, SyncError> {
    // Only what this kind of shop has (a Shopify shop has no tax classes).
    let opts = &PullOptions {
        resources: opts
            .resources
            .iter()
            .copied()
            .filter(|r| upstream.resources().contains(r))
            .collect(),
        ..opts.clone()
    };
    progress.send_replace(PullProgress::starting(&opts.resources));
    let outcome = run_inner(upstream, store, opts, progress, token).await;
    progress.send_modify(|p| {
        p.finished_at = Some(unix_millis_now());
        p.state = match &outcome {
            Ok(_) => PullState::Completed,
            Err(SyncError::Cancelled) => PullState::Cancelled,
            Err(e) => {
                p.error = Some(e.to_string());
                PullState::Failed
            }
        };
    });
    outcome
}

async fn run_inner<U: Upstream>(
    upstream: &U,
    store: &Store,
    opts: &PullOptions,
    progress: &ProgressTx,
    token: &CancellationToken,
) -> Result<PullReport, SyncError> {
    let probe = cancellable(token, upstream.probe())
        .await?
        .map_err(|source| SyncError::Upstream {
            resource: Resource::Products,
            source,
        })?;
    let caps = probe.capabilities;
    store
        .write(move |tx| {
            let now = unix_millis_now();
            sync_state::set_capability(
                tx,
                "variations_endpoint",
                &caps.variations_endpoint.to_string(),
                now,
            )?;
            sync_state::set_capability(
                tx,
                "refunds_endpoint",
                &caps.refunds_endpoint.to_string(),
                now,
            )?;
            Ok(())
        })
        .await?;
    let pull = Pull {
        upstream,
        store,
        opts,
        progress,
        token,
        caps,
        watermark: probe.server_time.unwrap_or_else(GmtTime::now),
        slots: Slots::new(opts.concurrency),
    };
    let mut report = PullReport::default();
    let mut failures: Vec<String> = Vec::new();
    // The metadata stage: small resources that read nothing the others
    // write, asked all at once within the request slots. The rest start at
    // the same time: nothing they write needs the metadata (a product's
    // categories are linked by id; the search documents that name them are
    // marked for re-indexing when a category arrives or is renamed).
    let (meta, rest): (Vec<Resource>, Vec<Resource>) =
        opts.resources.iter().partition(|&&r| is_metadata(r));
    // Keys or certificate refused, name unknown (or the pull was cancelled):
    // nothing more starts.
    let stop = AtomicBool::new(false);
    let (pull, stop) = (&pull, &stop);
    let metadata = futures::future::join_all(meta.iter().map(|&resource| async move {
        // Nothing follows a metadata resource in a relay.
        let (tail, _) = watch::channel(false);
        let outcome = pull.pull_one(resource, &tail, None).await;
        if outcome.as_ref().is_err_and(SyncError::needs_fix) {
            stop.store(true, Ordering::Relaxed);
        }
        outcome
    }));
    let later = async move {
        let mut outcomes = Vec::new();
        let mut rest = rest.as_slice();
        while let Some(&first) = rest.first() {
            if token.is_cancelled() || stop.load(Ordering::Relaxed) {
                break;
            }
            // A run of resources that may overlap is pulled as relays side
            // by side (the catalog; customers; orders and their refunds);
            // any other resource on its own.
            let len = if pull.overlaps(first) {
                rest.iter().take_while(|&&r| pull.overlaps(r)).count()
            } else {
                1
            };
            let (group, after) = rest.split_at(len);
            rest = after;
            let group_outcomes = pull.relays(group).await;
            if group_outcomes.iter().any(|o| {
                matches!(o, Err(SyncError::Cancelled))
                    || o.as_ref().is_err_and(SyncError::needs_fix)
            }) {
                stop.store(true, Ordering::Relaxed);
            }
            outcomes.extend(group_outcomes);
        }
        outcomes
    };
    let (meta_outcomes, later_outcomes) = tokio::join!(metadata, later);
    for outcome in meta_outcomes.into_iter().chain(later_outcomes) {
        match outcome {
            Ok(r) => report.resources.push(r),
            Err(SyncError::Cancelled) => return Err(SyncError::Cancelled),
            Err(e) if e.needs_fix() => return Err(e),
            Err(e) => failures.push(e.to_string()),
        }
    }
    // Cancelled once every resource had ended (a settings save or a stop
    // at that moment): the bookkeeping below is local and short, and left
    // undone it would leave a complete replica reported as a cancelled
    // pull that nothing resumes (every resource is recorded done).
    if token.is_cancelled() && report.resources.len() + failures.len() < opts.resources.len() {
        return Err(SyncError::Cancelled);
    }
    // A pull of other resources, or one whose catalog failed, still ends a
    // deferral left by an earlier one: the index then holds what the
    // replica holds.
    pull.build_search_index().await?;
    if failures.is_empty() {
        // A variation follows its parent: with every page written, those
        // whose parent is not mirrored (draft, private, trashed) leave.
        if opts
            .resources
            .iter()
            .any(|r| matches!(r, Resource::Products | Resource::Variations))
        {
            // The shop's count of variations then means the same thing.
            let pruned = store
                .write(|tx| {
                    let n = catalog::prune_orphan_variations(tx)? as u64;
                    sync_state::discount_upstream_total(tx, Resource::Variations, n)?;
                    Ok(n)
                })
                .await?;
            if let Some(r) = report
                .resources
                .iter_mut()
                .find(|r| r.resource == Resource::Variations)
            {
                r.removed += pruned;
            }
            if pruned > 0 {
                tracing::info!(pruned, "variations of products not mirrored left out");
            }
        }
        Ok(report)
    } else {
        Err(SyncError::Incomplete {
            summary: failures.join("; "),
        })
    }
}

/// Store metadata and taxonomies: small, fetched whole or in a few pages,
/// and independent of one another.
fn is_metadata(resource: Resource) -> bool {
    matches!(
        resource,
        Resource::Settings
            | Resource::Countries
            | Resource::TaxClasses
            | Resource::TaxRates
            | Resource::ShippingZones
            | Resource::PaymentGateways
            | Resource::Categories
            | Resource::Tags
            | Resource::Attributes
    )
}

/// What products link to: they go before the catalog.
/// Customers, orders and refunds: pulled beside the catalog, in the request
/// slots it leaves idle.
fn is_people(resource: Resource) -> bool {
    matches!(
        resource,
        Resource::Customers | Resource::Orders | Resource::Refunds
    )
}

/// Products and variations: what the product search documents are made of.
fn is_catalog(resource: Resource) -> bool {
    matches!(resource, Resource::Products | Resource::Variations)
}

/// How a paged resource is walked on this store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Walk {
    /// One collection for the whole set.
    All,
    /// One collection per parent (older stores without `/variations` or
    /// `/refunds`).
    PerParent,
}

/// How a walk ended.
/// What the completeness check concluded.
#[derive(Default)]
struct Completeness {
    /// The store's count of the set, freshest known.
    total: Option<u64>,
    warning: Option<String>,
    vanished: Vec<i64>,
}

/// A fresh listing of the store's ids.
struct IdScan {
    listed: u64,
    vanished: Vec<i64>,
}

struct Walked {
    /// What the store last said the set holds (summed over parents).
    reported_total: Option<u64>,
    /// Whether `max_records` stopped it.
    capped: bool,
    /// Whether the store's count changed during the walk.
    shifted: bool,
}

struct Pull<'a, U> {
    upstream: &'a U,
    store: &'a Store,
    opts: &'a PullOptions,
    progress: &'a ProgressTx,
    token: &'a CancellationToken,
    caps: Capabilities,
    /// The store's clock before the pull began; seeds delta polling.
    watermark: GmtTime,
    /// Requests in flight, over every resource pulled at once
    /// (`sync.concurrency`).
    slots: Slots,
}

/// Tells the next resource of a relay that this one has started its last
/// page: the fetch slots it frees from then on are the next one's.
type Tail = watch::Sender<bool>;

impl<U: Upstream> Pull<'_, U> {
    /// Whether `resource` may be walked while the one before it finishes:
    /// a paged resource listed whole, which reads nothing the others write.
    /// (Children listed per parent wait for their parents; refunds listed
    /// whole need no order.)
    fn overlaps(&self, resource: Resource) -> bool {
        matches!(
            resource,
            Resource::Products
                | Resource::Variations
                | Resource::Customers
                | Resource::Orders
                | Resource::Refunds
        ) && self.walk_mode(resource) == Walk::All
    }

    /// Pulls `group` as relays side by side, one per chain of resources
    /// that follow one another (products then variations; customers;
    /// orders then refunds), sharing the request slots. Outcomes come back
    /// in the group's order.
    async fn relays(&self, group: &[Resource]) -> Vec<Result<ResourceReport, SyncError>> {
        let chain_of = |r: Resource| match r {
            Resource::Customers => 1,
            Resource::Orders | Resource::Refunds => 2,
            _ => 0,
        };
        let chains: Vec<Vec<Resource>> = (0..3)
            .map(|c| {
                group
                    .iter()
                    .copied()
                    .filter(|&r| chain_of(r) == c)
                    .collect()
            })
            .filter(|c: &Vec<Resource>| !c.is_empty())
            .collect();
        let ran = futures::future::join_all(chains.iter().map(|c| self.relay(c))).await;
        let mut by_resource: HashMap<Resource, Result<ResourceReport, SyncError>> = chains
            .iter()
            .flatten()
            .copied()
            .zip(ran.into_iter().flatten())
            .collect();
        group.iter().filter_map(|r| by_resource.remove(r)).collect()
    }

    /// Pulls `group` in its order, each resource starting as soon as the
    /// one before has started its last page (or ended), so that the
    /// fetch slots and the writer never wait for a resource's tail and
    /// first page. Outcomes come back in the group's order.
    async fn relay(&self, group: &[Resource]) -> Vec<Result<ResourceReport, SyncError>> {
        let mut before: Option<watch::Receiver<bool>> = None;
        // Keys the shop refused: the ones after would be refused alike.
        let refused = AtomicBool::new(false);
        let refused = &refused;
        // The catalog's legs still running: the last one to end builds the
        // name-search index a first pull deferred, without waiting for the
        // customers and orders behind it.
        let catalog_legs = AtomicUsize::new(group.iter().filter(|&&r| is_catalog(r)).count());
        let catalog_legs = &catalog_legs;
        let legs = group.iter().map(|&resource| {
            let (tail, next) = watch::channel(false);
            let wait = before.replace(next);
            async move {
                if let Some(mut wait) = wait {
                    // Closed (the one before ended, or failed) also lets it go.
                    let _ = wait.wait_for(|&reached| reached).await;
                }
                if refused.load(Ordering::Relaxed) {
                    // Reported after the refusal, which ends the pull.
                    return Err(SyncError::Cancelled);
                }
                let result = self.pull_one(resource, &tail, None).await;
                if result.as_ref().is_err_and(SyncError::needs_fix) {
                    refused.store(true, Ordering::Relaxed);
                }
                if is_catalog(resource)
                    && catalog_legs.fetch_sub(1, Ordering::AcqRel) == 1
                    && !matches!(result, Err(SyncError::Cancelled))
                    && let Err(e) = self.build_search_index().await
                {
                    // The end of the pull tries again.
                    tracing::warn!(error = %e, "cannot build the name-search index yet");
                }
                // Only now may the next one go (it reads `refused`).
                drop(tail);
                result
            }
        });
        futures::future::join_all(legs).await
    }

    /// Builds the name-search documents a first pull deferred (nothing
    /// when none were).
    async fn build_search_index(&self) -> Result<(), SyncError> {
        let started = Instant::now();
        let built = self.store.write(index::build_deferred).await?;
        if built {
            tracing::info!(
                elapsed_ms = started.elapsed().as_millis() as u64,
                "name-search index built"
            );
        }
        Ok(())
    }

    /// Pulls one resource and records how it went (progress, events).
    /// `wait`: in a relay, the one before's [`Tail`], awaited before the
    /// pages after the first.
    async fn pull_one(
        &self,
        resource: Resource,
        tail: &Tail,
        wait: Option<watch::Receiver<bool>>,
    ) -> Result<ResourceReport, SyncError> {
        if self.token.is_cancelled() {
            return Err(SyncError::Cancelled);
        }
        update(self.progress, resource, |r| {
            r.state = StepState::Running;
            r.started_at.get_or_insert_with(unix_millis_now);
        });
        let started = Instant::now();
        let result = if resource.is_paged() {
            self.paged(resource, tail, wait).await
        } else {
            self.snapshot(resource).await
        };
        match &result {
            Ok(r) => {
                tracing::info!(
                    resource = %resource,
                    items = r.items,
                    removed = r.removed,
                    resumed = r.resumed,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "pulled"
                );
                update(self.progress, resource, |p| {
                    p.state = StepState::Done;
                    p.removed = r.removed;
                    p.message.clone_from(&r.warning);
                });
            }
            Err(SyncError::Cancelled) => {}
            Err(e) => {
                let message = e.to_string();
                tracing::warn!(resource = %resource, error = %e, "pull failed");
                update(self.progress, resource, |p| {
                    p.state = StepState::Failed;
                    p.message = Some(message.clone());
                });
                self.store
                    .write(move |tx| {
                        let now = unix_millis_now();
                        let kind = "pull_failed";
                        sync_state::record_error(tx, resource, Level::Error, kind, &message, now)
                    })
                    .await?;
            }
        }
        result
    }

    async fn snapshot(&self, resource: Resource) -> Result<ResourceReport, SyncError> {
        let snapshot = cancellable(self.token, self.upstream.snapshot(resource))
            .await?
            .map_err(upstream_failed(resource))?;
        let n = snapshot.len() as u64;
        self.store
            .write(move |tx| {
                let now = unix_millis_now();
                apply::write_snapshot(tx, now, &snapshot)?;
                let outcome = RunOutcome {
                    capped: false,
                    upstream_total: Some(n as i64),
                    warning: None,
                    vanished: Vec::new(),
                };
                sync_state::record_done(tx, resource, None, None, &outcome, now)
            })
            .await?;
        update(self.progress, resource, |p| {
            p.pages_done = 1;
            p.pages_total = Some(1);
            p.items_done = n;
            p.items_total = Some(n);
        });
        Ok(ResourceReport {
            resource,
            items: n,
            removed: 0,
            resumed: false,
            warning: None,
        })
    }

    fn walk_mode(&self, resource: Resource) -> Walk {
        match resource {
            Resource::Variations if !self.caps.variations_endpoint => Walk::PerParent,
            Resource::Refunds if !self.caps.refunds_endpoint => Walk::PerParent,
            _ => Walk::All,
        }
    }

    /// Identifies what a run asks for, so that only a run asked the same way
    /// is resumed.
    fn fingerprint(&self, resource: Resource, walk: Walk) -> String {
        let o = self.opts;
        let (statuses, window) = match resource {
            Resource::Products => (o.product_statuses.join(","), 0),
            Resource::Orders => (o.order_statuses.join(","), o.order_window_days),
            Resource::Refunds => (String::new(), o.order_window_days),
            _ => (String::new(), 0),
        };
        format!(
            "v1;per_page={};statuses={statuses};window_days={window};max={};walk={walk:?}",
            o.page_size, o.max_records
        )
    }

    /// The filter of a run; the order window is counted from when the run
    /// began, so a resumed run asks exactly what it asked before.
    fn filter(&self, resource: Resource, run: &PullRun) -> Filter {
        let o = self.opts;
        let window_start = o.order_window_start(GmtTime::from_unix(run.started_at / 1000));
        match resource {
            Resource::Products => Filter {
                statuses: o.product_statuses.clone(),
                ..Filter::default()
            },
            Resource::Orders => Filter {
                statuses: o.order_statuses.clone(),
                created_after: window_start,
                ..Filter::default()
            },
            Resource::Refunds => Filter {
                created_after: window_start,
                ..Filter::default()
            },
            _ => Filter::default(),
        }
    }

    async fn paged(
        &self,
        resource: Resource,
        tail: &Tail,
        wait: Option<watch::Receiver<bool>>,
    ) -> Result<ResourceReport, SyncError> {
        let walk = self.walk_mode(resource);
        let params = self.fingerprint(resource, walk);
        let found = {
            let params = params.clone();
            self.store
                .read(move |c| sync_state::find_running(c, resource, &params))
                .await?
        };
        let resumed = found.is_some();
        let run = match found {
            Some(run) => run,
            None => {
                let (page_size, watermark) = (self.opts.page_size, self.watermark);
                self.store
                    .write(move |tx| {
                        let now = unix_millis_now();
                        // A first pull of the catalog: the name-search
                        // documents are built once it is in.
                        if is_catalog(resource) && index::defer_if_empty(tx, now)? {
                            tracing::info!("first pull: the name-search index is built at the end");
                        }
                        sync_state::start_run(
                            tx,
                            resource,
                            &params,
                            page_size,
                            now,
                            Some(watermark),
                        )
                    })
                    .await?
            }
        };
        let done = self
            .store
            .read(move |c| sync_state::done_pages(c, run.id))
            .await?;
        if resumed {
            tracing::info!(resource = %resource, run = run.id, pages_done = done.len(), "resuming an unfinished pull");
        }
        update(self.progress, resource, |p| {
            p.pages_done = done.len() as u64;
            p.items_done = done.iter().map(|d| d.items as u64).sum();
        });
        let filter = self.filter(resource, &run);
        // A shop that offers the resource as one export sends it so;
        // otherwise it is walked page by page. A run begun before a restart
        // hands back where it stood: an export goes on from there, a walk
        // begun by pages goes on by pages.
        let last = done
            .iter()
            .filter(|d| d.scope == 0)
            .max_by_key(|d| d.seq)
            .map(|d| Cursor::new(d.cursor.clone()));
        let export = match walk {
            Walk::All => cancellable(
                self.token,
                self.upstream.export(resource, &filter, last.as_ref()),
            )
            .await?
            .map_err(upstream_failed(resource))?,
            Walk::PerParent => None,
        };
        let walked = match (walk, export) {
            (Walk::All, Some(export)) => {
                self.walk_export(resource, &run, export, &done, tail)
                    .await?
            }
            (Walk::All, None) => {
                self.walk_all(resource, &run, &filter, &done, tail, wait)
                    .await?
            }
            (Walk::PerParent, _) => self.walk_parents(resource, &run, &filter, &done).await?,
        };
        let checked = self
            .check_completeness(resource, &run, &filter, walk, &walked)
            .await?;
        let warning = checked.warning.clone();
        let outcome = RunOutcome {
            capped: walked.capped,
            upstream_total: checked.total.map(|n| n as i64),
            warning: checked.warning,
            vanished: checked.vanished,
        };
        let finished = run.clone();
        let (removed, items) = self
            .store
            .write(move |tx| {
                let now = unix_millis_now();
                let removed = sync_state::complete_run(tx, resource, &finished, &outcome, now)?;
                let items = sync_state::count_seen(tx, resource, finished.id)?;
                if let Some(w) = &outcome.warning {
                    events::append(
                        tx,
                        now,
                        Level::Warn,
                        "pull_incomplete",
                        Some(resource.as_str()),
                        w,
                    )?;
                }
                let message = format!("{resource}: {items} pulled, {removed} removed");
                events::append(
                    tx,
                    now,
                    Level::Info,
                    "pull_done",
                    Some(resource.as_str()),
                    &message,
                )?;
                Ok((removed, items))
            })
            .await?;
        Ok(ResourceReport {
            resource,
            items: items as u64,
            removed: removed as u64,
            resumed,
            warning,
        })
    }

    /// One of the pull's request slots, held for one request: customers
    /// and orders take the ones the catalog and metadata leave idle.
    async fn slot(&self, resource: Resource) -> Result<Slot<'_>, SyncError> {
        let priority = if is_people(resource) {
            Priority::Spare
        } else {
            Priority::First
        };
        tokio::select! {
            biased;
            _ = self.token.cancelled() => Err(SyncError::Cancelled),
            slot = self.slots.acquire(priority) => Ok(slot),
        }
    }

    async fn fetch(
        &self,
        resource: Resource,
        scope: Scope,
        filter: &Filter,
        cursor: Cursor,
        per_page: u8,
    ) -> Result<Page, SyncError> {
        let query = PageQuery {
            resource,
            scope,
            filter: filter.clone(),
            cursor,
            per_page,
        };
        let _slot = self.slot(resource).await?;
        cancellable(self.token, self.upstream.page(&query))
            .await?
            .map_err(upstream_failed(resource))
    }

    /// Writes one page and marks it done, in one transaction.
    async fn write_page(
        &self,
        run: &PullRun,
        scope: i64,
        cursor: Cursor,
        seq: u32,
        page: Page,
        keep: Option<usize>,
    ) -> Result<(), SyncError> {
        self.write_pages(run, vec![Fetched::new(scope, cursor, seq, page, keep)])
            .await
    }

    /// Writes pages and marks them done, all in one transaction (one
    /// commit, one index flush for the lot).
    async fn write_pages(&self, run: &PullRun, pages: Vec<Fetched>) -> Result<(), SyncError> {
        let run_id = run.id;
        let written: Vec<(Resource, DonePage)> = pages
            .iter()
            .map(|f| (f.records.resource(), f.done.clone()))
            .collect();
        // A page lost to a power cut is asked for again: no fsync per batch.
        self.store
            .write_resumable(move |tx| {
                let now = unix_millis_now();
                let stamp = WriteStamp {
                    run: Some(run_id),
                    now_ms: now,
                    allow_equal: true,
                };
                for f in &pages {
                    apply::write_records(tx, stamp, &f.records)?;
                    sync_state::mark_page_done(tx, run_id, &f.done, now)?;
                }
                Ok(())
            })
            .await?;
        for (resource, done) in written {
            update(self.progress, resource, |p| {
                p.pages_done += 1;
                p.items_done += done.items as u64;
                if done.scope == 0 {
                    p.items_total = done.reported_items.or(p.items_total);
                    p.pages_total = done.reported_pages.map(u64::from).or(p.pages_total);
                }
            });
        }
        Ok(())
    }

    /// Writes the pages sent to it as they come: whatever queued up while
    /// the previous write ran goes in the next transaction, so pages fetched
    /// faster than they commit share commits. Ends when the queue closes,
    /// or at the first failed write (dropping the queue stops the walk).
    async fn page_writer(
        &self,
        run: &PullRun,
        mut pages: mpsc::Receiver<Fetched>,
    ) -> Result<(), SyncError> {
        let mut batch = Vec::with_capacity(WRITE_BATCH);
        while pages.recv_many(&mut batch, WRITE_BATCH).await > 0 {
            self.write_pages(run, std::mem::take(&mut batch)).await?;
        }
        Ok(())
    }

    /// Walks one collection. The first page gives the count; where the
    /// shop also says how many pages there are, the adapter addresses them
    /// all ([`Upstream::cursors_ahead`]) and the rest are fetched in
    /// parallel, the plan growing if the set grows while it is walked;
    /// otherwise each page's `next` is followed, one after the other.
    async fn walk_all(
        &self,
        resource: Resource,
        run: &PullRun,
        filter: &Filter,
        done: &[DonePage],
        tail: &Tail,
        wait: Option<watch::Receiver<bool>>,
    ) -> Result<Walked, SyncError> {
        let per_page = self.opts.page_size;
        let max = self.opts.max_records;
        let cap_pages =
            (max > 0).then(|| u32::try_from(max.div_ceil(u64::from(per_page))).unwrap_or(u32::MAX));
        let keep_on = |seq: u32| -> Option<usize> {
            (max > 0).then(|| {
                let before = u64::from(seq - 1) * u64::from(per_page);
                usize::try_from(max.saturating_sub(before)).unwrap_or(usize::MAX)
            })
        };
        let done_map: HashMap<&str, &DonePage> = done
            .iter()
            .filter(|d| d.scope == 0)
            .map(|d| (d.cursor.as_str(), d))
            .collect();
        // Every count the store reported: more than one means the set changed
        // while it was walked, and offsets may have skipped an object.
        let mut totals: HashSet<Option<u64>> = done
            .iter()
            .filter(|d| d.scope == 0)
            .map(|d| d.reported_items)
            .collect();
        // The latest report (items, pages): from the furthest page already
        // written, if any.
        let mut reported = done
            .iter()
            .filter(|d| d.scope == 0)
            .max_by_key(|d| d.seq)
            .map(|d| (d.reported_items, d.reported_pages));
        // Where the first page says the walk goes on, for a walk that
        // follows `next`.
        let mut after_first: Option<Cursor> = done_map
            .get("")
            .and_then(|d| d.next.clone().map(Cursor::new));
        // Fetched pages go to one writer and the fetches go on: pages that
        // queue up while a write runs share the next transaction. The queue
        // holds `concurrency` pages, so memory stays bounded.
        let (to_writer, writer_rx) = mpsc::channel::<Fetched>(self.opts.concurrency.max(1));
        // Whether `max_records` left objects out of a walk that follows
        // `next` (no count to compare the cap with).
        let mut cut = false;
        let walk = {
            let (reported, totals, done_map, after_first, cut) = (
                &mut reported,
                &mut totals,
                &done_map,
                &mut after_first,
                &mut cut,
            );
            async move {
                let write = |cursor: Cursor, seq: u32, page: Page| {
                    let to_writer = &to_writer;
                    async move {
                        let fetched = Fetched::new(0, cursor, seq, page, keep_on(seq));
                        // Refused only once the writer has stopped on an
                        // error, which it reports itself.
                        to_writer
                            .send(fetched)
                            .await
                            .map_err(|_| SyncError::Cancelled)
                    }
                };
                // The first page gives the count.
                if !done_map.contains_key("") {
                    let page = self
                        .fetch(resource, Scope::All, filter, Cursor::start(), per_page)
                        .await?;
                    *reported = Some((page.total_items, page.total_pages));
                    totals.insert(page.total_items);
                    after_first.clone_from(&page.next);
                    *cut |= keep_on(1).is_some_and(|k| page.records.len() > k);
                    write(Cursor::start(), 1, page).await?;
                }
                if let Some(mut wait) = wait {
                    // Closed (the one before ended, or failed) also lets it go.
                    let _ = wait.wait_for(|&reached| reached).await;
                }
                // Pages planned so far, counted from the first.
                let mut planned = 1u32;
                // Only a shop that says how many pages there are lets them
                // be addressed ahead.
                while let Some(mut last) = reported.and_then(|r| r.1) {
                    if let Some(cap) = cap_pages {
                        last = last.min(cap);
                    }
                    if last <= planned {
                        break;
                    }
                    let ahead = self.upstream.cursors_ahead(last);
                    if ahead.is_empty() {
                        break;
                    }
                    let pages: Vec<(u32, Cursor)> = (1u32..)
                        .zip(ahead)
                        .skip(planned as usize)
                        .filter(|(_, c)| !done_map.contains_key(c.as_str()))
                        .collect();
                    planned = last;
                    let final_seq = pages.last().map(|(seq, _)| *seq);
                    let mut results = stream::iter(pages)
                        .map(|(seq, cursor)| {
                            // The last page is starting: the slots freed
                            // from now on are the next resource's.
                            if Some(seq) == final_seq {
                                tail.send_replace(true);
                            }
                            async move {
                                let page = self
                                    .fetch(resource, Scope::All, filter, cursor.clone(), per_page)
                                    .await?;
                                let report = (page.total_items, page.total_pages);
                                write(cursor, seq, page).await?;
                                Ok::<_, SyncError>(report)
                            }
                        })
                        .buffer_unordered(self.opts.concurrency);
                    loop {
                        let next = tokio::select! {
                            biased;
                            _ = self.token.cancelled() => return Err(SyncError::Cancelled),
                            next = results.next() => next,
                        };
                        let Some(result) = next else { break };
                        let (total_items, total_pages) = result?;
                        if total_pages.is_some() {
                            *reported = Some((total_items, total_pages));
                            totals.insert(total_items);
                        }
                    }
                }
                if planned > 1 {
                    return Ok(());
                }
                // A shop without a page count: follow `next` from the
                // first page, skipping (but reading on from) pages done
                // before a restart.
                let mut cursor = after_first.take();
                let mut seq = 1u32;
                while let Some(at) = cursor {
                    seq += 1;
                    if cap_pages.is_some_and(|cap| seq > cap) {
                        // More to read: the cap left it out.
                        *cut = true;
                        break;
                    }
                    if let Some(d) = done_map.get(at.as_str()) {
                        cursor = d.next.clone().map(Cursor::new);
                        continue;
                    }
                    let page = self
                        .fetch(resource, Scope::All, filter, at.clone(), per_page)
                        .await?;
                    cursor = page.next.clone().filter(|_| !page.records.is_empty());
                    if cursor.is_none() {
                        // The last page: the next resource may start.
                        tail.send_replace(true);
                    }
                    *reported = Some((page.total_items, page.total_pages));
                    totals.insert(page.total_items);
                    *cut |= keep_on(seq).is_some_and(|k| page.records.len() > k);
                    write(at, seq, page).await?;
                }
                Ok::<_, SyncError>(())
            }
        };
        // The writer ends once the walk is over (its queue closes) and
        // every page handed over is written, also when the walk failed.
        let (walked, written) = tokio::join!(walk, self.page_writer(run, writer_rx));
        written?;
        walked?;
        let reported_total = reported.and_then(|r| r.0);
        Ok(Walked {
            reported_total,
            capped: max > 0 && (reported_total.is_some_and(|t| t > max) || cut),
            shifted: totals.len() > 1,
        })
    }

    /// Receives a whole resource as the shop's streamed export and writes
    /// its batches as they come, through the same writer as pages, each
    /// with the export's position ([`ExportBatch::at`]) as its mark: a
    /// restarted run hands the last one back to the adapter, which goes on
    /// from there. Memory holds the batches queued for the writer. The
    /// shop gives no count to check against: what the export holds is the
    /// set.
    async fn walk_export(
        &self,
        resource: Resource,
        run: &PullRun,
        mut export: Export<'_>,
        done: &[DonePage],
        tail: &Tail,
    ) -> Result<Walked, SyncError> {
        // One download, not the fetch slots: the next resource may start.
        tail.send_replace(true);
        let max = self.opts.max_records;
        let (to_writer, writer_rx) = mpsc::channel::<Fetched>(self.opts.concurrency.max(1));
        let read = async move {
            let mut seq = done.iter().map(|d| d.seq).max().unwrap_or(0);
            let mut items: u64 = done.iter().map(|d| d.items as u64).sum();
            loop {
                let next = tokio::select! {
                    biased;
                    _ = self.token.cancelled() => return Err(SyncError::Cancelled),
                    next = export.next() => next,
                };
                let Some(batch) = next else { break };
                let ExportBatch {
                    records,
                    at,
                    total_items,
                    note,
                } = batch.map_err(upstream_failed(resource))?;
                update(self.progress, resource, |p| {
                    p.message = note;
                    p.items_total = total_items.or(p.items_total);
                });
                // A step that only reports: nothing to write.
                let Some(at) = at else { continue };
                let keep = (max > 0)
                    .then(|| usize::try_from(max.saturating_sub(items)).unwrap_or(usize::MAX));
                if keep == Some(0) {
                    return Ok(true);
                }
                seq += 1;
                let page = Page {
                    records,
                    next: None,
                    total_items: None,
                    total_pages: None,
                    server_time: None,
                };
                let fetched = Fetched::new(0, at, seq, page, keep);
                items += fetched.done.items as u64;
                to_writer
                    .send(fetched)
                    .await
                    .map_err(|_| SyncError::Cancelled)?;
            }
            Ok(false)
        };
        let (capped, written) = tokio::join!(read, self.page_writer(run, writer_rx));
        written?;
        Ok(Walked {
            reported_total: None,
            capped: capped?,
            shifted: false,
        })
    }

    /// Walks the children of every parent (older stores), `concurrency`
    /// parents at a time.
    async fn walk_parents(
        &self,
        resource: Resource,
        run: &PullRun,
        filter: &Filter,
        done: &[DonePage],
    ) -> Result<Walked, SyncError> {
        let parents = match resource {
            Resource::Variations => self.store.read(catalog::variable_product_ids).await?,
            _ => self.store.read(orders::order_ids_with_refunds).await?,
        };
        let mut by_parent: HashMap<i64, Vec<DonePage>> = HashMap::new();
        for d in done {
            by_parent.entry(d.scope).or_default().push(d.clone());
        }
        update(self.progress, resource, |p| {
            p.pages_total = Some(parents.len() as u64)
        });
        let mut walks = stream::iter(parents)
            .map(|parent| {
                let done = by_parent.remove(&parent).unwrap_or_default();
                async move { self.walk_parent(resource, run, filter, parent, done).await }
            })
            .buffer_unordered(self.opts.concurrency);
        let mut total = 0u64;
        loop {
            let next = tokio::select! {
                biased;
                _ = self.token.cancelled() => return Err(SyncError::Cancelled),
                next = walks.next() => next,
            };
            let Some(result) = next else { break };
            total += result?;
        }
        Ok(Walked {
            reported_total: Some(total),
            capped: false,
            shifted: false,
        })
    }

    /// Walks one parent's children; returns how many the store reported.
    async fn walk_parent(
        &self,
        resource: Resource,
        run: &PullRun,
        filter: &Filter,
        parent: i64,
        done: Vec<DonePage>,
    ) -> Result<u64, SyncError> {
        let per_page = self.opts.page_size;
        let mut reported_items = done
            .iter()
            .max_by_key(|d| d.seq)
            .and_then(|d| d.reported_items)
            .unwrap_or(0);
        let by_cursor: HashMap<&str, &DonePage> =
            done.iter().map(|d| (d.cursor.as_str(), d)).collect();
        let mut cursor = Some(Cursor::start());
        let mut seq = 0u32;
        while let Some(at) = cursor {
            seq += 1;
            cursor = match by_cursor.get(at.as_str()) {
                Some(d) => d.next.clone().map(Cursor::new),
                None => {
                    let page = self
                        .fetch(
                            resource,
                            Scope::Parent(parent),
                            filter,
                            at.clone(),
                            per_page,
                        )
                        .await?;
                    reported_items = page.total_items.unwrap_or(page.records.len() as u64);
                    let next = page.next.clone();
                    self.write_page(run, parent, at, seq, page, None).await?;
                    next
                }
            };
        }
        Ok(reported_items)
    }

    /// Compares the distinct rows seen with the store's count. When they
    /// differ and the resource can be listed by id, a fresh id scan settles
    /// it: objects the run missed (the list shifted under it) are fetched,
    /// objects it saw that are gone now are marked to be removed with the
    /// unseen ones. Whatever is still off is described for the manager.
    async fn check_completeness(
        &self,
        resource: Resource,
        run: &PullRun,
        filter: &Filter,
        walk: Walk,
        walked: &Walked,
    ) -> Result<Completeness, SyncError> {
        let Some(mut total) = walked.reported_total else {
            // No count to check the walk against (cursor pages, an
            // export): what the shop's deletion log says went since the
            // run began goes too, though the walk read it first.
            return Ok(Completeness {
                total: None,
                warning: walked.capped.then(|| {
                    format!(
                        "stopped at sync.max_records = {}; rows beyond are not mirrored",
                        self.opts.max_records
                    )
                }),
                vanished: self.deleted_during(resource, run).await?,
            });
        };
        if walked.capped {
            return Ok(Completeness {
                total: Some(total),
                warning: Some(format!(
                    "stopped at sync.max_records = {} of the {total} the store lists; rows beyond are not mirrored",
                    self.opts.max_records
                )),
                vanished: Vec::new(),
            });
        }
        let run_id = run.id;
        let count = || {
            self.store
                .read(move |c| sync_state::count_seen(c, resource, run_id))
        };
        let mut seen = count().await? as u64;
        let repairable = walk == Walk::All
            && matches!(
                resource,
                Resource::Products
                    | Resource::Variations
                    | Resource::Customers
                    | Resource::Orders
                    | Resource::Categories
                    | Resource::Tags
            );
        let mut vanished = Vec::new();
        if (seen != total || walked.shifted) && repairable {
            tracing::info!(resource = %resource, seen, total, "pulled count differs from the store's; scanning ids");
            let scan = self.repair(resource, run, filter).await?;
            total = scan.listed;
            vanished = scan.vanished;
            seen = (count().await? as u64).saturating_sub(vanished.len() as u64);
        }
        Ok(Completeness {
            total: Some(total),
            warning: (seen != total).then(|| {
                format!(
                    "the store lists {total} but {seen} were pulled (the store changed during the pull, or a plugin hides some from listing)"
                )
            }),
            vanished,
        })
    }

    /// The ids of `resource` the shop records as deleted since `run`
    /// began (its watermark), where it keeps such a record
    /// ([`Upstream::deleted_since`]); none where it does not.
    async fn deleted_during(
        &self,
        resource: Resource,
        run: &PullRun,
    ) -> Result<Vec<i64>, SyncError> {
        let Some(since) = run.watermark else {
            return Ok(Vec::new());
        };
        let slot = self.slot(resource).await?;
        let deleted = cancellable(self.token, self.upstream.deleted_since(resource, since))
            .await?
            .map_err(upstream_failed(resource))?;
        drop(slot);
        let mut ids: Vec<i64> = deleted.into_iter().flatten().map(|s| s.id).collect();
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }

    /// Lists the store's ids afresh; fetches, by id, every object the run
    /// missed and reports those it saw that the store no longer lists.
    async fn repair(
        &self,
        resource: Resource,
        run: &PullRun,
        filter: &Filter,
    ) -> Result<IdScan, SyncError> {
        let mut listed: Vec<i64> = Vec::new();
        let mut query = PageQuery::first(resource, Scope::All, filter.clone(), REPAIR_PAGE);
        loop {
            let slot = self.slot(resource).await?;
            let ids = cancellable(self.token, self.upstream.id_page(&query))
                .await?
                .map_err(upstream_failed(resource))?;
            drop(slot);
            let n = ids.ids.len();
            listed.extend(ids.ids);
            match ids.next {
                Some(next) if n > 0 => query.cursor = next,
                _ => break,
            }
        }
        let run_id = run.id;
        let seen: HashSet<i64> = self
            .store
            .read(move |c| sync_state::seen_ids(c, resource, run_id))
            .await?
            .into_iter()
            .collect();
        let listed_set: HashSet<i64> = listed.iter().copied().collect();
        let mut vanished: Vec<i64> = seen
            .iter()
            .copied()
            .filter(|id| !listed_set.contains(id))
            .collect();
        vanished.sort_unstable();
        let missing: Vec<i64> = listed.into_iter().filter(|id| !seen.contains(id)).collect();
        for chunk in missing.chunks(usize::from(REPAIR_PAGE)) {
            let by_id = Filter {
                include: chunk.to_vec(),
                ..filter.clone()
            };
            let page = self
                .fetch(resource, Scope::All, &by_id, Cursor::start(), REPAIR_PAGE)
                .await?;
            let records = page.records;
            let stamp_run = run.id;
            self.store
                .write(move |tx| {
                    let stamp = WriteStamp {
                        run: Some(stamp_run),
                        now_ms: unix_millis_now(),
                        allow_equal: true,
                    };
                    apply::write_records(tx, stamp, &records).map(|_| ())
                })
                .await?;
        }
        Ok(IdScan {
            listed: listed_set.len() as u64,
            vanished,
        })
    }
}
