//! The till's own changes and their local effects: sales, returns, pickups,
//! customers and stock adjustments, each written with its outbox entry in
//! the caller's transaction.
//!
//! Every `record_*` function checks everything first and writes only after
//! the last check: a refusal (`Ok(Err(Refusal))`) leaves the transaction
//! untouched. Checks that depend on other sales (stock) run inside the write
//! transaction, on the single writer, so two tills' requests on this agent
//! cannot both take the last item.

pub mod address;
pub mod customers;
pub mod manage;
pub mod returns;
pub mod sales;
pub mod stock;

use rusqlite::{Connection, OptionalExtension, named_params};

use super::StoreError;
use crate::domain::outbox::Refusal;
use crate::domain::till::ProductSel;
use crate::domain::{Amount, UpstreamId};

const PRODUCT_BY_ID: &str = "
SELECT id, parent_id, type, status, sku, name, price, manage_stock, stock_quantity, backorders
FROM products WHERE id = :id";

const PRODUCT_BY_SKU: &str = "
SELECT id, parent_id, type, status, sku, name, price, manage_stock, stock_quantity, backorders
FROM products WHERE sku = :sku COLLATE NOCASE AND status <> 'trash'
ORDER BY id LIMIT 1";

/// What this till has taken from (or given back to) one stock row that the
/// shop does not know yet. Mirrors the `unconfirmed_stock` view, keyed by
/// the row that holds the stock.
const UNCONFIRMED_FOR_STOCK_ROW: &str = "
SELECT COALESCE(SUM(q), 0) FROM (
    SELECT l.quantity AS q FROM local_order_lines l
    JOIN local_orders o ON o.id = l.order_id JOIN outbox e ON e.id = o.outbox_id
    WHERE l.stock_id = :id AND e.state IN ('queued', 'sending', 'unknown')
    UNION ALL
    SELECT -l.quantity FROM local_refund_lines l
    JOIN local_refunds r ON r.id = l.refund_id JOIN outbox e ON e.id = r.outbox_id
    WHERE l.stock_id = :id AND r.restock = 1 AND e.state IN ('queued', 'sending', 'unknown')
    UNION ALL
    SELECT -a.delta FROM local_stock_adjustments a JOIN outbox e ON e.id = a.outbox_id
    WHERE a.stock_id = :id AND e.state IN ('queued', 'sending', 'unknown')
)";

/// The tax rate a till-priced line is grossed up by, when the shop's prices
/// include tax: the first non-compound rate of the item's class for the
/// shop's base country (WooCommerce prices in-store sales at the base
/// location). A variation whose class is `parent` takes its parent's.
const TAX_RATE: &str = "
WITH item AS (
    SELECT CASE WHEN p.tax_class = 'parent' THEN COALESCE(pp.tax_class, '') ELSE p.tax_class END AS class,
           CASE WHEN p.type = 'variation' THEN COALESCE(pp.tax_status, p.tax_status) ELSE p.tax_status END AS status
    FROM products p LEFT JOIN products pp ON pp.id = p.parent_id AND p.parent_id <> 0
    WHERE p.id = :id
)
SELECT r.rate FROM item, tax_rates r, store_info s
WHERE s.prices_include_tax = 1 AND s.calc_taxes = 1 AND item.status = 'taxable'
  AND r.compound = 0
  AND r.class = CASE WHEN item.class = '' THEN 'standard' ELSE item.class END
  AND r.country IN ('', substr(s.base_location, 1, 2))
ORDER BY r.priority, r.country DESC, r.rate_order
LIMIT 1";

/// What a price stated by the till must be divided by to be the net
/// amount WooCommerce takes for a line's `subtotal`/`total`: `1 + rate`
/// when the shop's prices include tax, else 1.
pub fn net_divisor(conn: &Connection, item_id: UpstreamId) -> Result<Amount, StoreError> {
    let rate: Option<String> = conn
        .prepare_cached(TAX_RATE)?
        .query_row(named_params! { ":id": item_id }, |r| r.get(0))
        .optional()?;
    let rate = rate
        .and_then(|r| r.trim().parse::<Amount>().ok())
        .unwrap_or_default();
    Ok(Amount::ONE + rate / Amount::ONE_HUNDRED)
}

/// A product or variation from the replica, as a sale line needs it.
#[derive(Debug, Clone)]
pub struct Sellable {
    /// The product (the parent, for a variation).
    pub product_id: UpstreamId,
    /// 0 for a simple product.
    pub variation_id: UpstreamId,
    /// The row whose stock a sale takes (the parent, for a variation whose
    /// stock is managed on it).
    pub stock_id: UpstreamId,
    pub sku: Option<String>,
    pub name: String,
    pub price: Option<Amount>,
    /// Whether the shop counts this item's stock.
    pub tracks_stock: bool,
    /// Whether the shop sells it below zero (backorders allowed).
    pub backorders: bool,
}

struct ProductRow {
    id: UpstreamId,
    parent_id: UpstreamId,
    kind: String,
    sku: Option<String>,
    name: String,
    price: Option<String>,
    manage_stock: String,
    backorders: String,
}

fn product_row(
    conn: &Connection,
    sql: &str,
    param: (&str, &dyn rusqlite::ToSql),
) -> Result<Option<ProductRow>, StoreError> {
    Ok(conn
        .prepare_cached(sql)?
        .query_row(&[param], |r| {
            Ok(ProductRow {
                id: r.get(0)?,
                parent_id: r.get(1)?,
                kind: r.get(2)?,
                sku: r.get(4)?,
                name: r.get(5)?,
                price: r.get(6)?,
                manage_stock: r.get(7)?,
                backorders: r.get(9)?,
            })
        })
        .optional()?)
}

/// Finds what `sel` names in the replica. `field` is the request path for
/// error messages.
pub fn resolve_product(
    conn: &Connection,
    sel: &ProductSel,
    field: &str,
) -> Result<Result<Sellable, Refusal>, StoreError> {
    let row = match sel {
        ProductSel::Sku(sku) => match product_row(conn, PRODUCT_BY_SKU, (":sku", sku))? {
            Some(r) => r,
            None => {
                return Ok(Err(Refusal::NotFound(format!(
                    "{field}: no product with SKU {sku:?}"
                ))));
            }
        },
        ProductSel::Id {
            product_id,
            variation_id,
        } => {
            let wanted = variation_id.filter(|v| *v != 0).unwrap_or(*product_id);
            let Some(r) = product_row(conn, PRODUCT_BY_ID, (":id", &wanted))? else {
                return Ok(Err(Refusal::NotFound(format!(
                    "{field}: no product {wanted}"
                ))));
            };
            if variation_id.is_some_and(|v| v != 0) && r.parent_id != *product_id {
                return Ok(Err(Refusal::invalid(
                    format!("{field}.variation_id"),
                    format!("variation {wanted} does not belong to product {product_id}"),
                )));
            }
            r
        }
    };
    if row.kind == "variable" {
        return Ok(Err(Refusal::invalid(
            field,
            format!(
                "{} is a variable product: name one of its variations",
                row.id
            ),
        )));
    }
    let is_variation = row.kind == "variation";
    let stock_id = if is_variation && row.manage_stock == "parent" {
        row.parent_id
    } else {
        row.id
    };
    let parent_backorders = if stock_id != row.id {
        product_row(conn, PRODUCT_BY_ID, (":id", &stock_id))?.map(|p| p.backorders)
    } else {
        None
    };
    Ok(Ok(Sellable {
        product_id: if is_variation { row.parent_id } else { row.id },
        variation_id: if is_variation { row.id } else { 0 },
        stock_id,
        sku: row.sku,
        name: row.name,
        price: row.price.as_deref().and_then(|p| p.parse().ok()),
        tracks_stock: row.manage_stock != "no",
        backorders: parent_backorders.unwrap_or(row.backorders) != "no",
    }))
}

/// Stock the till may sell from the row `stock_id`: the replica's upstream
/// stock minus what this till took that the shop does not know yet. `None`
/// when the shop does not count it.
pub fn available_stock(conn: &Connection, stock_id: UpstreamId) -> Result<Option<i64>, StoreError> {
    let upstream: Option<Option<i64>> = conn
        .prepare_cached("SELECT stock_quantity FROM products WHERE id = :id")?
        .query_row(named_params! { ":id": stock_id }, |r| r.get(0))
        .optional()?;
    let Some(Some(upstream)) = upstream else {
        return Ok(None);
    };
    let taken: i64 = conn
        .prepare_cached(UNCONFIRMED_FOR_STOCK_ROW)?
        .query_row(named_params! { ":id": stock_id }, |r| r.get(0))?;
    Ok(Some(upstream - taken))
}
