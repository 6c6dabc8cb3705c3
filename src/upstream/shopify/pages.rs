//! Cursor pages: one page of a resource given an opaque cursor (Shopify's
//! `endCursor`, kept by the caller), with the records in our terms and
//! where the walk goes on.
//!
//! Deltas are searches on `updated_at` from a watermark, quoted, in UTC and
//! inclusive (`updated_at:>='2026-01-01T00:00:00Z'`): an unquoted timestamp
//! is split at its colons into other terms without an error. Pages are
//! sorted by update time (variants, which cannot be, by id). A cursor
//! carries its search, but the search is sent again with every page, as
//! Shopify accepts. Cursors are not reusable across runs: a new run starts
//! from a watermark.
//!
//! A page whose query would cost more than the shop allows for one query
//! (`MAX_COST_EXCEEDED`) is asked again with half as many items.

use serde::Deserialize;
use serde_json::{Value, json};

use super::classify::Failure;
use super::client::ShopifyClient;
use super::connection::LocationRef;
use super::queries;
use super::wire::{self, read_node};
use crate::domain::batch::Records;
use crate::domain::{GmtTime, Resource, UpstreamId};
use crate::upstream::UpstreamError;

/// The most items Shopify returns in one page.
pub const MAX_PAGE: u16 = 250;

/// Search terms, quoted and in UTC.
pub mod search {
    use crate::domain::GmtTime;

    fn term(field: &str, since: GmtTime) -> String {
        format!("{field}:>='{since}Z'")
    }

    /// Changed at or after `since`.
    pub fn updated_since(since: GmtTime) -> String {
        term("updated_at", since)
    }

    /// Created at or after `since` (the order window).
    pub fn created_since(since: GmtTime) -> String {
        term("created_at", since)
    }

    /// Deleted at or after `since` (`deletionEvents`).
    pub fn occurred_since(since: GmtTime) -> String {
        term("occurred_at", since)
    }

    /// Both terms (Shopify's search joins terms with AND).
    pub fn and(a: &str, b: &str) -> String {
        match (a.is_empty(), b.is_empty()) {
            (true, _) => b.to_owned(),
            (_, true) => a.to_owned(),
            _ => format!("{a} {b}"),
        }
    }
}

/// One page of records.
#[derive(Debug, Clone)]
pub struct CursorPage {
    pub records: Records,
    /// Where the next page starts; `None` on an empty page.
    pub end_cursor: Option<String>,
    pub has_next_page: bool,
    /// How many items were asked for (less than requested after a split).
    pub first: u16,
}

/// Product ids deleted, with when.
#[derive(Debug, Clone)]
pub struct DeletionPage {
    pub deleted: Vec<(UpstreamId, GmtTime)>,
    pub end_cursor: Option<String>,
    pub has_next_page: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageInfo {
    has_next_page: bool,
    end_cursor: Option<String>,
}

/// The connection under `data.{root}`: its nodes and page info.
fn connection(data: &Value, root: &str) -> Result<(Vec<Value>, PageInfo), UpstreamError> {
    let malformed = |detail: String| UpstreamError::Malformed {
        detail,
        snippet: String::new(),
    };
    let conn = data
        .get(root)
        .filter(|c| c.is_object())
        .ok_or_else(|| malformed(format!("no {root} connection in the answer")))?;
    let nodes = match (conn.get("nodes"), conn.get("edges")) {
        (Some(Value::Array(n)), _) => n.clone(),
        (None, Some(Value::Array(edges))) => edges
            .iter()
            .map(|e| e.get("node").cloned().unwrap_or(Value::Null))
            .collect(),
        _ => return Err(malformed(format!("{root}: neither nodes nor edges"))),
    };
    let info = PageInfo::deserialize(conn.get("pageInfo").unwrap_or(&Value::Null))
        .map_err(|e| malformed(format!("{root}.pageInfo: {e}")))?;
    Ok((nodes, info))
}

/// The nodes of a nested connection (`{ nodes: [...] }`), empty when absent.
fn nested_nodes(node: &Value, field: &str) -> Vec<Value> {
    node.get(field)
        .and_then(|c| c.get("nodes"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// The number of each `{ id }` node in a nested connection.
fn nested_ids(node: &Value, field: &str, kind: &str) -> Result<Vec<UpstreamId>, UpstreamError> {
    nested_nodes(node, field)
        .iter()
        .map(|n| wire::gid_number(n.get("id").and_then(Value::as_str).unwrap_or(""), kind))
        .collect()
}

/// Reads a page's nodes into records.
pub fn records(resource: Resource, nodes: &[Value]) -> Result<Records, UpstreamError> {
    Ok(match resource {
        Resource::Products => Records::Products(
            nodes
                .iter()
                .map(|n| {
                    let (p, raw) = read_node::<wire::WireProduct>(n, "product")?;
                    let variants = nested_nodes(n, "variants");
                    let first = variants
                        .first()
                        .map(|v| read_node::<wire::WireVariant>(v, "variant"))
                        .transpose()?;
                    let default = first
                        .as_ref()
                        .map(|(v, _)| v)
                        .filter(|v| p.has_only_default_variant.unwrap_or_else(|| v.is_default()));
                    wire::product(
                        &p,
                        raw,
                        nested_ids(n, "collections", "Collection")?,
                        default,
                    )
                })
                .collect::<Result<_, _>>()?,
        ),
        // A simple product's default variant is the product itself.
        Resource::Variations => Records::Variations(
            nodes
                .iter()
                .map(|n| read_node::<wire::WireVariant>(n, "variant"))
                .filter(|r| !matches!(r, Ok((v, _)) if v.is_default()))
                .map(|r| r.and_then(|(v, raw)| wire::variation(&v, raw, None)))
                .collect::<Result<_, _>>()?,
        ),
        Resource::Categories => Records::Categories(
            nodes
                .iter()
                .map(|n| {
                    let (c, raw) = read_node::<wire::WireCollection>(n, "collection")?;
                    wire::category(&c, raw)
                })
                .collect::<Result<_, _>>()?,
        ),
        Resource::Customers => Records::Customers(
            nodes
                .iter()
                .map(|n| {
                    let (c, raw) = read_node::<wire::WireCustomer>(n, "customer")?;
                    wire::customer(&c, raw)
                })
                .collect::<Result<_, _>>()?,
        ),
        Resource::Orders => Records::Orders(
            nodes
                .iter()
                .map(|n| {
                    let (o, raw) = read_node::<wire::WireOrder>(n, "order")?;
                    wire::order(&o, raw, None)
                })
                .collect::<Result<_, _>>()?,
        ),
        Resource::Refunds => {
            let mut out = Vec::new();
            for n in nodes {
                let order_id =
                    wire::gid_number(n.get("id").and_then(Value::as_str).unwrap_or(""), "Order")?;
                for r in n
                    .get("refunds")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let (w, raw) = read_node::<wire::WireRefund>(r, "refund")?;
                    out.push(wire::refund(order_id, &w, raw)?);
                }
            }
            Records::Refunds(out)
        }
        other => {
            return Err(UpstreamError::Setup(format!(
                "{other} is not walked by cursor on Shopify"
            )));
        }
    })
}

/// The root field each resource is read from.
fn root(resource: Resource) -> &'static str {
    match resource {
        Resource::Variations => "productVariants",
        Resource::Categories => "collections",
        Resource::Customers => "customers",
        Resource::Orders | Resource::Refunds => "orders",
        _ => "products",
    }
}

impl ShopifyClient {
    /// The configured location's id, looked up by name once.
    pub async fn location_id(&self) -> Result<UpstreamId, UpstreamError> {
        self.location_cell()
            .get_or_try_init(|| async {
                match self.location() {
                    LocationRef::Id(id) => Ok(*id),
                    LocationRef::Name(name) => self.find_location(name).await,
                    LocationRef::Primary => self.primary_location().await,
                }
            })
            .await
            .copied()
    }

    async fn primary_location(&self) -> Result<UpstreamId, UpstreamError> {
        let answer = self
            .query(queries::PRIMARY_LOCATION, json!({}))
            .await
            .map_err(UpstreamError::from)?;
        match answer.data.get("location").and_then(|l| l.get("id")) {
            Some(Value::String(id)) => wire::gid_number(id, "Location"),
            _ => Err(UpstreamError::Rejected {
                status: 200,
                code: "location_not_found".to_owned(),
                message: "the shop names no primary location: set store.location".to_owned(),
            }),
        }
    }

    async fn find_location(&self, name: &str) -> Result<UpstreamId, UpstreamError> {
        let mut after: Option<String> = None;
        let mut names = Vec::new();
        loop {
            let answer = self
                .query(queries::LOCATIONS, json!({ "after": after }))
                .await
                .map_err(UpstreamError::from)?;
            let (nodes, info) = connection(&answer.data, "locations")?;
            for n in &nodes {
                let here = n.get("name").and_then(Value::as_str).unwrap_or("");
                if here.trim() == name.trim() {
                    let id = n.get("id").and_then(Value::as_str).unwrap_or("");
                    return wire::gid_number(id, "Location");
                }
                names.push(here.to_owned());
            }
            if !info.has_next_page || info.end_cursor.is_none() {
                return Err(UpstreamError::Rejected {
                    status: 200,
                    code: "location_not_found".to_owned(),
                    message: format!(
                        "the shop has no active location named {name:?} (it has: {})",
                        names.join(", ")
                    ),
                });
            }
            after = info.end_cursor;
        }
    }

    /// The document for one page of `resource`.
    async fn page_document(&self, resource: Resource) -> Result<String, UpstreamError> {
        Ok(match resource {
            Resource::Products => queries::products_page(self.location_id().await?),
            Resource::Variations => queries::variants_page(self.location_id().await?),
            Resource::Categories => queries::collections_page(),
            Resource::Customers => queries::customers_page(),
            Resource::Orders => queries::orders_page(),
            Resource::Refunds => queries::refunds_page(),
            other => {
                return Err(UpstreamError::Setup(format!(
                    "{other} is not walked by cursor on Shopify"
                )));
            }
        })
    }

    /// One page of `resource` of at most `first` items after `cursor`
    /// (`None`: from the start), restricted by `search` (see [`search`]).
    /// A [`Failure::TooCostly`] is left to the caller.
    pub async fn page_once(
        &self,
        resource: Resource,
        cursor: Option<&str>,
        first: u16,
        search: Option<&str>,
    ) -> Result<CursorPage, Failure> {
        if first == 0 || first > MAX_PAGE {
            return Err(UpstreamError::Setup(format!(
                "a page holds 1 to {MAX_PAGE} items, not {first}"
            ))
            .into());
        }
        let document = self.page_document(resource).await?;
        let answer = self
            .query(
                &document,
                json!({ "first": first, "after": cursor, "query": search }),
            )
            .await?;
        let (mut nodes, info) = connection(&answer.data, root(resource))?;
        // A nested connection longer than its page is read to its end, and
        // the node completed before it is mapped (and kept whole as raw).
        let rest = match resource {
            Resource::Products => Some((
                "collections",
                "product",
                queries::PRODUCT_COLLECTIONS_REST.to_owned(),
            )),
            Resource::Orders => Some(("lineItems", "order", queries::order_lines_rest())),
            _ => None,
        };
        if let Some((field, root_field, document)) = rest {
            for node in &mut nodes {
                self.complete_nested(node, field, root_field, &document)
                    .await?;
            }
        }
        Ok(CursorPage {
            records: records(resource, &nodes)?,
            end_cursor: info.end_cursor,
            has_next_page: info.has_next_page,
            first,
        })
    }

    /// One product by id with every variant (a variation record each,
    /// unless it has only the default variant) and its stock at the
    /// configured location; `None` when the shop has no such product.
    pub async fn product_by_id(&self, id: UpstreamId) -> Result<Option<Records>, UpstreamError> {
        let location = self.location_id().await?;
        let answer = self
            .query(
                &queries::product_by_id(location),
                json!({ "id": wire::gid("Product", id) }),
            )
            .await
            .map_err(UpstreamError::from)?;
        let mut node = match answer.data.get("product") {
            Some(Value::Object(_)) => answer.data["product"].clone(),
            _ => return Ok(None),
        };
        self.complete_nested(
            &mut node,
            "collections",
            "product",
            queries::PRODUCT_COLLECTIONS_REST,
        )
        .await?;
        self.complete_nested(
            &mut node,
            "variants",
            "product",
            &queries::product_variants_rest(location),
        )
        .await?;
        let Records::Products(mut out) = records(Resource::Products, std::slice::from_ref(&node))?
        else {
            unreachable!("a products page maps to products");
        };
        let parent = out.first().map_or(id, |p| p.id);
        for v in nested_nodes(&node, "variants") {
            let (v, raw) = read_node::<wire::WireVariant>(&v, "variant")?;
            if !v.is_default() {
                out.push(wire::variation(&v, raw, Some(parent))?);
            }
        }
        Ok(Some(Records::Products(out)))
    }

    /// Reads the rest of `node.{field}` (a nested connection whose page
    /// said there is more) with `document`, asking `{root_field}(id:)`.
    async fn complete_nested(
        &self,
        node: &mut Value,
        field: &str,
        root_field: &str,
        document: &str,
    ) -> Result<(), UpstreamError> {
        let more = |conn: &Value| -> Option<String> {
            let info = conn.get("pageInfo")?;
            if info.get("hasNextPage")?.as_bool()? {
                info.get("endCursor")?.as_str().map(str::to_owned)
            } else {
                None
            }
        };
        let Some(mut after) = node.get(field).and_then(more) else {
            return Ok(());
        };
        let id = node
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        loop {
            let answer = self
                .query(document, json!({ "id": id, "after": after }))
                .await
                .map_err(UpstreamError::from)?;
            let conn = answer.data[root_field][field].clone();
            let (extra, _) = connection(&answer.data[root_field], field).map_err(|e| {
                UpstreamError::Malformed {
                    detail: format!("the rest of {id}'s {field}: {e}"),
                    snippet: String::new(),
                }
            })?;
            if let Some(list) = node[field]["nodes"].as_array_mut() {
                list.extend(extra);
            }
            match more(&conn) {
                Some(next) => after = next,
                None => {
                    node[field]["pageInfo"] = json!({ "hasNextPage": false, "endCursor": null });
                    return Ok(());
                }
            }
        }
    }

    /// [`ShopifyClient::page_once`], asking for half as many items each
    /// time the query would cost too much, down to one.
    pub async fn page(
        &self,
        resource: Resource,
        cursor: Option<&str>,
        first: u16,
        search: Option<&str>,
    ) -> Result<CursorPage, UpstreamError> {
        let mut first = first;
        loop {
            match self.page_once(resource, cursor, first, search).await {
                Err(Failure::TooCostly { cost, max_cost, .. }) if first > 1 => {
                    tracing::debug!(%resource, first, cost, max_cost, "page too costly, halving");
                    first /= 2;
                }
                other => return other.map_err(UpstreamError::from),
            }
        }
    }

    /// Products deleted at or after `since`, a page after `cursor`.
    pub async fn product_deletions(
        &self,
        since: GmtTime,
        cursor: Option<&str>,
        first: u16,
    ) -> Result<DeletionPage, UpstreamError> {
        let answer = self
            .query(
                queries::PRODUCT_DELETIONS_PAGE,
                json!({
                    "first": first.clamp(1, MAX_PAGE),
                    "after": cursor,
                    "query": search::occurred_since(since),
                }),
            )
            .await?;
        let (nodes, info) = connection(&answer.data, "deletionEvents")?;
        let deleted = nodes
            .iter()
            .filter(|n| n.get("subjectType").and_then(Value::as_str) == Some("PRODUCT"))
            .map(|n| {
                let id = wire::gid_number(
                    n.get("subjectId").and_then(Value::as_str).unwrap_or(""),
                    "Product",
                )?;
                let at = n.get("occurredAt").and_then(Value::as_str).unwrap_or("");
                let at = GmtTime::parse(at).ok_or_else(|| UpstreamError::Malformed {
                    detail: format!("deletion of {id}: occurredAt {at:?} is not a date-time"),
                    snippet: String::new(),
                })?;
                Ok((id, at))
            })
            .collect::<Result<_, UpstreamError>>()?;
        Ok(DeletionPage {
            deleted,
            end_cursor: info.end_cursor,
            has_next_page: info.has_next_page,
        })
    }
}

#[cfg(test)]
#[path = "pages_tests.rs"]
mod tests;
