//! The sync engine's view of a Shopify shop: [`Upstream`] over cursor pages.
//!
//! A listing is walked by Shopify's `endCursor`, the engine's opaque
//! [`Cursor`]; Shopify gives no count of items or pages, so the totals are
//! `None` and no page can be addressed ahead. Filters the search cannot
//! express exactly (several statuses, a set of ids, orders in the till's
//! status words) are applied to each page's records; a page left empty by
//! that is not handed over while the listing goes on (the engine reads an
//! empty page as the end), the walk reads on to the next non-empty one.
//!
//! Resources Shopify has no equivalent for answer honestly: tax classes
//! and global attributes do not exist there (an empty snapshot), tags are
//! plain words on products with no ids (an empty listing); countries,
//! shipping zones, payment gateways and store settings are not read from
//! Shopify yet and say so ([`UpstreamError::Setup`]).

use std::collections::HashSet;

use serde_json::{Value, json};

use super::client::ShopifyClient;
#[cfg(doc)]
use super::export::EXPORT_THRESHOLD;
use super::export::{ExportRun, Position};
use super::pages::{MAX_PAGE, search};
use super::queries;
use super::wire;
use crate::domain::batch::{Records, Snapshot};
use crate::domain::{GmtTime, Resource, Stamp, UpstreamId};
use crate::upstream::{
    Capabilities, Cursor, Export, Filter, IdPage, Page, PageQuery, Probe, StampPage, Upstream,
    UpstreamError,
};

fn malformed(detail: String) -> UpstreamError {
    UpstreamError::Malformed {
        detail,
        snippet: String::new(),
    }
}

fn not_read(resource: Resource) -> UpstreamError {
    UpstreamError::Setup(format!(
        "{resource} are not read from a Shopify shop yet: leave them out of the pull"
    ))
}

/// A product status in the till's words as Shopify's search value.
fn product_status_term(status: &str) -> Option<&'static str> {
    match status {
        "publish" => Some("active"),
        "draft" => Some("draft"),
        "private" => Some("archived"),
        _ => None,
    }
}

/// The search a page of `resource` is asked with: what Shopify's search
/// can say of `filter` (the rest is applied to the records, see [`keep`]).
pub(super) fn search_for(resource: Resource, filter: &Filter) -> Option<String> {
    let mut q = String::new();
    if let Some(since) = filter.modified_after {
        q = search::and(&q, &search::updated_since(since));
    }
    if let Some(since) = filter.created_after {
        q = search::and(&q, &search::created_since(since));
    }
    if resource == Resource::Products
        && let [one] = filter.statuses.as_slice()
        && let Some(term) = product_status_term(one)
    {
        q = search::and(&q, &format!("status:{term}"));
    }
    if let (Some(lo), Some(hi)) = (filter.include.iter().min(), filter.include.iter().max()) {
        let range = format!("id:>={lo} id:<={hi}");
        q = search::and(&q, &range);
    }
    (!q.is_empty()).then_some(q)
}

/// Drops the records `filter` excludes that the search could not.
pub(super) fn keep(records: &mut Records, filter: &Filter) {
    let statuses: HashSet<&str> = filter.statuses.iter().map(String::as_str).collect();
    let ids: HashSet<UpstreamId> = filter.include.iter().copied().collect();
    // Empty or `any`: every status.
    let any = statuses.is_empty() || statuses.contains("any");
    let wanted_status = |s: &str| any || statuses.contains(s);
    let wanted_id = |id: UpstreamId| ids.is_empty() || ids.contains(&id);
    match records {
        Records::Products(v) => v.retain(|p| wanted_status(&p.status) && wanted_id(p.id)),
        Records::Orders(v) => v.retain(|o| wanted_status(&o.status) && wanted_id(o.id)),
        Records::Variations(v) => v.retain(|p| wanted_id(p.id)),
        Records::Customers(v) => v.retain(|c| wanted_id(c.id)),
        Records::Categories(v) => v.retain(|c| wanted_id(c.id)),
        Records::Refunds(v) => v.retain(|r| wanted_id(r.id)),
        Records::Tags(_) | Records::TaxRates(_) => {}
    }
}

/// Appends `more` to `into` (both of the same resource).
fn extend(into: &mut Records, more: Records) {
    match (into, more) {
        (Records::Products(a), Records::Products(b))
        | (Records::Variations(a), Records::Variations(b)) => a.extend(b),
        (Records::Categories(a), Records::Categories(b)) => a.extend(b),
        (Records::Customers(a), Records::Customers(b)) => a.extend(b),
        (Records::Orders(a), Records::Orders(b)) => a.extend(b),
        (Records::Refunds(a), Records::Refunds(b)) => a.extend(b),
        (Records::Tags(a), Records::Tags(b)) => a.extend(b),
        (Records::TaxRates(a), Records::TaxRates(b)) => a.extend(b),
        _ => {}
    }
}

fn page_size(per_page: u8) -> u16 {
    u16::from(per_page).clamp(1, MAX_PAGE)
}

fn start(cursor: &Cursor) -> Option<String> {
    (!cursor.is_start()).then(|| cursor.as_str().to_owned())
}

/// The stamps of one page of nodes: `(stamp, parent)` per object kept,
/// products and orders only in `statuses` (the till's words; empty or
/// `any`: every status).
fn stamps(
    resource: Resource,
    nodes: &[Value],
    statuses: &[String],
) -> Result<Vec<(Stamp, Option<UpstreamId>)>, UpstreamError> {
    let any = statuses.is_empty() || statuses.iter().any(|s| s == "any");
    let wanted = |status: Option<String>| any || status.is_none_or(|s| statuses.contains(&s));
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let time = |v: &Value, k: &str| -> Result<Option<GmtTime>, UpstreamError> {
        let s = text(v, k);
        if s.is_empty() {
            return Ok(None);
        }
        GmtTime::parse(&s)
            .map(Some)
            .ok_or_else(|| malformed(format!("{k} {s:?} is not a date-time")))
    };
    let kind = match resource {
        Resource::Products => "Product",
        Resource::Variations => "ProductVariant",
        Resource::Categories => "Collection",
        Resource::Customers => "Customer",
        Resource::Orders => "Order",
        Resource::Refunds => "Refund",
        other => return Err(not_read(other)),
    };
    let mut out = Vec::new();
    for n in nodes {
        match resource {
            Resource::Refunds => {
                for r in n
                    .get("refunds")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let id = wire::gid_number(&text(r, "id"), kind)?;
                    out.push((
                        Stamp {
                            id,
                            modified: time(r, "createdAt")?,
                        },
                        None,
                    ));
                }
            }
            Resource::Variations => {
                let product = n.get("product").unwrap_or(&Value::Null);
                let default = match product
                    .get("hasOnlyDefaultVariant")
                    .and_then(Value::as_bool)
                {
                    Some(only) => only,
                    None => text(n, "title") == wire::DEFAULT_VARIANT_TITLE,
                };
                // A default variant is its product, not a variation.
                if default {
                    continue;
                }
                let id = wire::gid_number(&text(n, "id"), kind)?;
                let parent = wire::gid_number(&text(product, "id"), "Product")?;
                out.push((
                    Stamp {
                        id,
                        modified: time(n, "updatedAt")?,
                    },
                    Some(parent),
                ));
            }
            _ => {
                let id = wire::gid_number(&text(n, "id"), kind)?;
                let status = match resource {
                    Resource::Products => Some(wire::product_status(&text(n, "status"))),
                    Resource::Orders => Some(wire::order_status_of(
                        n.get("cancelledAt").is_some_and(|v| !v.is_null()),
                        &text(n, "displayFinancialStatus"),
                        &text(n, "displayFulfillmentStatus"),
                        n.get("closedAt").is_some_and(|v| !v.is_null()),
                    )),
                    _ => None,
                };
                if !wanted(status) {
                    continue;
                }
                out.push((
                    Stamp {
                        id,
                        modified: time(n, "updatedAt")?,
                    },
                    None,
                ));
            }
        }
    }
    Ok(out)
}

impl ShopifyClient {
    /// One page as the engine asks it: filtered, and never empty while the
    /// listing goes on. Asked for a set of ids, the whole matching range is
    /// read (the engine asks only the first page for those).
    async fn engine_page(&self, query: &PageQuery) -> Result<Page, UpstreamError> {
        let resource = query.resource;
        if resource == Resource::Tags {
            // Tags are words on products, without ids: nothing to list.
            return Ok(Page {
                records: Records::Tags(Vec::new()),
                next: None,
                total_items: None,
                total_pages: None,
                server_time: None,
            });
        }
        let q = search_for(resource, &query.filter);
        let first = page_size(query.per_page);
        let whole = !query.filter.include.is_empty();
        let mut cursor = start(&query.cursor);
        let mut records: Option<Records> = None;
        loop {
            let page = self
                .page(resource, cursor.as_deref(), first, q.as_deref())
                .await?;
            let mut got = page.records;
            keep(&mut got, &query.filter);
            match &mut records {
                Some(r) => extend(r, got),
                None => records = Some(got),
            }
            let next = page.end_cursor.filter(|_| page.has_next_page);
            let empty = records.as_ref().is_none_or(Records::is_empty);
            match next {
                Some(n) if whole || empty => cursor = Some(n),
                next => {
                    return Ok(Page {
                        records: records.unwrap_or(Records::Tags(Vec::new())),
                        next: next.map(Cursor::new),
                        total_items: None,
                        total_pages: None,
                        server_time: None,
                    });
                }
            }
        }
    }

    /// One page of stamps (with variants' parents).
    async fn stamps_at(&self, query: &PageQuery) -> Result<StampPage, UpstreamError> {
        let resource = query.resource;
        if resource == Resource::Tags {
            return Ok(StampPage {
                stamps: Vec::new(),
                parents: Vec::new(),
                next: None,
                total_items: None,
                total_pages: None,
            });
        }
        let document = queries::stamps_page(resource).ok_or_else(|| not_read(resource))?;
        let root = match resource {
            Resource::Variations => "productVariants",
            Resource::Categories => "collections",
            Resource::Customers => "customers",
            Resource::Orders | Resource::Refunds => "orders",
            _ => "products",
        };
        // Only the time filters and the id range are searched; the statuses
        // are applied to each node (several cannot be searched at once).
        let q = search_for(
            resource,
            &Filter {
                statuses: Vec::new(),
                ..query.filter.clone()
            },
        );
        let ids: HashSet<UpstreamId> = query.filter.include.iter().copied().collect();
        let mut out = StampPage {
            stamps: Vec::new(),
            parents: Vec::new(),
            next: None,
            total_items: None,
            total_pages: None,
        };
        // A page left empty by the filters (drafts only; default variants
        // only, which are their products) is not handed over while the
        // listing goes on: the engine reads an empty page as the end, and a
        // sweep would take everything after it for deleted.
        let mut cursor = start(&query.cursor);
        loop {
            let answer = self
                .query(
                    &document,
                    json!({
                        "first": page_size(query.per_page),
                        "after": cursor,
                        "query": q,
                    }),
                )
                .await?;
            let conn = answer
                .data
                .get(root)
                .ok_or_else(|| malformed(format!("no {root} connection in the answer")))?;
            let nodes = conn
                .get("nodes")
                .and_then(Value::as_array)
                .ok_or_else(|| malformed(format!("{root}: no nodes")))?;
            let info = conn.get("pageInfo").unwrap_or(&Value::Null);
            let has_next = info
                .get("hasNextPage")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let next = info
                .get("endCursor")
                .and_then(Value::as_str)
                .filter(|_| has_next)
                .map(str::to_owned);
            for (stamp, parent) in stamps(resource, nodes, &query.filter.statuses)? {
                if !ids.is_empty() && !ids.contains(&stamp.id) {
                    continue;
                }
                if let Some(p) = parent {
                    out.parents.push((stamp.id, p));
                }
                out.stamps.push(stamp);
            }
            match next {
                Some(n) if out.stamps.is_empty() => cursor = Some(n),
                next => {
                    out.next = next.map(Cursor::new);
                    return Ok(out);
                }
            }
        }
    }
}

/// What a Shopify shop has that the agent mirrors, in pull order. Tax
/// classes, global attributes and tags with ids do not exist there;
/// countries, shipping zones, payment gateways, tax rates and the store
/// settings are not read from Shopify (see the module's note).
pub(crate) const MIRRORED: [Resource; 6] = [
    Resource::Categories,
    Resource::Products,
    Resource::Variations,
    Resource::Customers,
    Resource::Orders,
    Resource::Refunds,
];

impl Upstream for ShopifyClient {
    fn resources(&self) -> &'static [Resource] {
        &MIRRORED
    }

    async fn probe(&self) -> Result<Probe, UpstreamError> {
        let answer = self.query(queries::SHOP_PROBE, json!({})).await?;
        if !answer.data.get("shop").is_some_and(Value::is_object) {
            return Err(malformed("no shop in the answer".to_owned()));
        }
        // A location that does not exist fails every stock read: say so now.
        self.location_id().await?;
        Ok(Probe {
            // Variants and orders' refunds are listed flat.
            capabilities: Capabilities {
                variations_endpoint: true,
                refunds_endpoint: true,
            },
            server_time: answer.server_time,
        })
    }

    async fn snapshot(&self, resource: Resource) -> Result<Snapshot, UpstreamError> {
        match resource {
            // Shopify has neither: taxes follow the shop's regions, options
            // belong to each product.
            Resource::TaxClasses => Ok(Snapshot::TaxClasses(Vec::new())),
            Resource::Attributes => Ok(Snapshot::Attributes(Vec::new())),
            other => Err(not_read(other)),
        }
    }

    async fn page(&self, query: &PageQuery) -> Result<Page, UpstreamError> {
        self.engine_page(query).await
    }

    /// A bulk export for a resource that counts at least the client's
    /// threshold ([`EXPORT_THRESHOLD`]) under `filter`; `None` for a small
    /// one (cursor pages are done before an export would be ready), for a
    /// set of ids, for refunds (no export holds their lines) and for a run
    /// begun by pages. A run begun by an export goes on with it: the
    /// operation it started is asked about again and its file read from
    /// where the run stopped; one that failed, expired or whose file is gone
    /// is replaced by a new export.
    async fn export(
        &self,
        resource: Resource,
        filter: &Filter,
        resume: Option<&Cursor>,
    ) -> Result<Option<Export<'_>>, UpstreamError> {
        let Some(what) = queries::Export::of(resource) else {
            return Ok(None);
        };
        if !filter.include.is_empty() {
            return Ok(None);
        }
        let search = search_for(resource, filter);
        let from = match resume {
            Some(at) => match Position::parse(at) {
                Some(p) => Some(p),
                // Begun by pages: go on by pages.
                None => return Ok(None),
            },
            None => {
                if !self.worth_exporting(what, search.as_deref()).await? {
                    return Ok(None);
                }
                None
            }
        };
        Ok(Some(
            ExportRun::new(self, what, search, filter.clone(), from).stream(),
        ))
    }

    async fn id_page(&self, query: &PageQuery) -> Result<IdPage, UpstreamError> {
        let page = self.stamps_at(query).await?;
        Ok(IdPage {
            ids: page.stamps.iter().map(|s| s.id).collect(),
            next: page.next,
            total_items: None,
            total_pages: None,
        })
    }

    async fn stamp_page(&self, query: &PageQuery) -> Result<StampPage, UpstreamError> {
        self.stamps_at(query).await
    }

    /// A deleted product leaves Shopify's listings at once (archived ones
    /// stay, with their status): there is no trash to ask for.
    fn lists_trash(&self) -> bool {
        false
    }

    /// Products from `deletionEvents`, each at its `occurredAt`. Shopify
    /// records deletions of products and collections only; the rest are
    /// found by the id sweep.
    async fn deleted_since(
        &self,
        resource: Resource,
        since: GmtTime,
    ) -> Result<Option<Vec<Stamp>>, UpstreamError> {
        if resource != Resource::Products {
            return Ok(None);
        }
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = self
                .product_deletions(since, cursor.as_deref(), MAX_PAGE)
                .await?;
            out.extend(page.deleted.into_iter().map(|(id, at)| Stamp {
                id,
                modified: Some(at),
            }));
            match page.end_cursor.filter(|_| page.has_next_page) {
                Some(next) => cursor = Some(next),
                None => return Ok(Some(out)),
            }
        }
    }

    async fn fetch_one(
        &self,
        resource: Resource,
        id: UpstreamId,
    ) -> Result<Option<Records>, UpstreamError> {
        if !matches!(
            resource,
            Resource::Products
                | Resource::Variations
                | Resource::Categories
                | Resource::Customers
                | Resource::Orders
        ) {
            return Err(UpstreamError::Setup(format!(
                "{resource} cannot be fetched one by one from a Shopify shop"
            )));
        }
        // Straight by id: the search index trails a new product.
        if resource == Resource::Products {
            return self.product_by_id(id).await;
        }
        let q = format!("id:{id}");
        let page = ShopifyClient::page(self, resource, None, 1, Some(&q)).await?;
        let mut records = page.records;
        keep(
            &mut records,
            &Filter {
                include: vec![id],
                ..Filter::default()
            },
        );
        Ok((!records.is_empty()).then_some(records))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(statuses: &[&str], include: &[UpstreamId]) -> Filter {
        Filter {
            statuses: statuses.iter().map(|s| (*s).to_owned()).collect(),
            include: include.to_vec(),
            ..Filter::default()
        }
    }

    #[test]
    fn the_search_says_what_shopify_can_filter() {
        assert_eq!(search_for(Resource::Products, &Filter::default()), None);
        assert_eq!(
            search_for(Resource::Products, &filter(&["publish"], &[])).as_deref(),
            Some("status:active")
        );
        // Several statuses are applied to the records, not searched.
        assert_eq!(
            search_for(Resource::Products, &filter(&["publish", "draft"], &[])),
            None
        );
        // Order statuses are the till's words: not a Shopify search.
        assert_eq!(
            search_for(Resource::Orders, &filter(&["completed"], &[])),
            None
        );
        let since = GmtTime::parse("2026-06-24T14:40:33").unwrap();
        let f = Filter {
            created_after: Some(since),
            ..filter(&[], &[30, 10, 20])
        };
        assert_eq!(
            search_for(Resource::Orders, &f).as_deref(),
            Some("created_at:>='2026-06-24T14:40:33Z' id:>=10 id:<=30")
        );
    }
}
