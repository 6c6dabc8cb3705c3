//! Removing single mirrored objects (a trashed product, a deleted customer)
//! and listing the ids held, for the checks that find objects gone upstream.
//! Child rows (lines, addresses, category links) cascade.

use rusqlite::{Connection, OptionalExtension, Transaction, named_params};

use super::StoreError;
use crate::domain::{GmtTime, Resource, UpstreamId};

const DELETE_VARIATION: &str =
    "DELETE FROM products WHERE id = :id AND type = 'variation' RETURNING date_modified_gmt";
/// A product topic does not say whether the id is a variation.
const DELETE_ANY_PRODUCT: &str = "DELETE FROM products WHERE id = :id RETURNING date_modified_gmt";
const DELETE_ORDER: &str = "DELETE FROM orders WHERE id = :id RETURNING date_modified_gmt";
const DELETE_CUSTOMER: &str = "DELETE FROM customers WHERE id = :id RETURNING date_modified_gmt";

const PRODUCT_VERSION: &str = "SELECT date_modified_gmt FROM products WHERE id = :id";
const ORDER_VERSION: &str = "SELECT date_modified_gmt FROM orders WHERE id = :id";
const CUSTOMER_VERSION: &str = "SELECT date_modified_gmt FROM customers WHERE id = :id";

const PRODUCT_IDS: &str = "SELECT id FROM products WHERE type <> 'variation' ORDER BY id";
const VARIATION_IDS: &str = "SELECT id FROM products WHERE type = 'variation' ORDER BY id";
const ORDER_IDS: &str = "SELECT id FROM orders ORDER BY id";
const CUSTOMER_IDS: &str = "SELECT id FROM customers ORDER BY id";

/// What a removal found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removed {
    /// The replica held no such object.
    Absent,
    /// The object was removed; it was at this version (if it had one).
    Was(Option<GmtTime>),
}

/// Removes one object. `Resource::Products` removes a product or a
/// variation with that id (a product topic covers both).
pub fn remove(
    tx: &Transaction<'_>,
    resource: Resource,
    id: UpstreamId,
) -> Result<Removed, StoreError> {
    let sql = match resource {
        Resource::Products => DELETE_ANY_PRODUCT,
        Resource::Variations => DELETE_VARIATION,
        Resource::Orders => DELETE_ORDER,
        Resource::Customers => DELETE_CUSTOMER,
        _ => return Ok(Removed::Absent),
    };
    let found: Option<Option<String>> = tx
        .prepare_cached(sql)?
        .query_row(named_params! { ":id": id }, |r| r.get(0))
        .optional()?;
    Ok(match found {
        None => Removed::Absent,
        Some(date) => Removed::Was(date.as_deref().and_then(GmtTime::parse)),
    })
}

/// The version the replica holds of one object: `None` when it holds no
/// such object, or one without a version. `Resource::Products` covers
/// products and variations (one id space).
pub fn held_version(
    conn: &Connection,
    resource: Resource,
    id: UpstreamId,
) -> Result<Option<GmtTime>, StoreError> {
    let sql = match resource {
        Resource::Products | Resource::Variations => PRODUCT_VERSION,
        Resource::Orders => ORDER_VERSION,
        Resource::Customers => CUSTOMER_VERSION,
        _ => return Ok(None),
    };
    let found: Option<Option<String>> = conn
        .prepare_cached(sql)?
        .query_row(named_params! { ":id": id }, |r| r.get(0))
        .optional()?;
    Ok(found.flatten().as_deref().and_then(GmtTime::parse))
}

/// The ids held for a resource, ascending.
pub fn ids(conn: &Connection, resource: Resource) -> Result<Vec<UpstreamId>, StoreError> {
    let sql = match resource {
        Resource::Products => PRODUCT_IDS,
        Resource::Variations => VARIATION_IDS,
        Resource::Orders => ORDER_IDS,
        Resource::Customers => CUSTOMER_IDS,
        _ => return Ok(Vec::new()),
    };
    let mut stmt = conn.prepare_cached(sql)?;
    let ids = stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<Vec<UpstreamId>, _>>()?;
    Ok(ids)
}
