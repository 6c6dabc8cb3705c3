//! Order lookups for the returns desk and the pickup counter: search by
//! order number, name, email or phone; one order with its lines, refunds
//! and what each line can still give back.
//!
//! Seam for this till's own sales (the outbox, issue 5): a sale recorded
//! here but not yet confirmed upstream has a local receipt number and no
//! upstream order. Finding it by receipt number belongs in [`search`] as a
//! second source (a `UNION ALL` over the local sales table feeding the same
//! [`OrderSummary`] columns), and its returns in the refundable quantities
//! of [`order`]; both are marked below.

use rusqlite::{Connection, OptionalExtension, Row, named_params};

use super::super::StoreError;
use super::customers::address;
use super::index::match_expression;
use super::{RANKED_MATCHES, amount, amount_or_zero, bind, json_list, time};
use crate::domain::UpstreamId;
use crate::domain::lookup::query::{OrderQuery, OrderSort};
use crate::domain::lookup::views::{
    FeeLineView, OrderDetail, OrderLineView, OrderSummary, Page, RefundLineView, RefundView,
    ShippingLineView,
};

const COLUMNS: &str = "
SELECT o.id, o.number, o.status, o.currency, o.total, o.customer_id,
    trim(COALESCE(b.first_name, '') || ' ' || COALESCE(b.last_name, '')), b.email,
    COALESCE(b.phone, ''), o.date_created_gmt,
    (SELECT COALESCE(SUM(l.quantity), 0) FROM order_line_items l WHERE l.order_id = o.id),
    (SELECT json_group_array(s.method_id) FROM order_shipping_lines s WHERE s.order_id = o.id)";
const FROM_ALL: &str = "
FROM orders o LEFT JOIN order_addresses b ON b.order_id = o.id AND b.kind = 'billing'
WHERE 1";
const FROM_TEXT: &str = "
FROM order_fts f JOIN orders o ON o.id = f.rowid
LEFT JOIN order_addresses b ON b.order_id = o.id AND b.kind = 'billing'
WHERE order_fts MATCH :match";
/// Orders with a shipping line of one of `:methods` (the pickup counter),
/// found through the shipping-method index rather than a scan of orders.
const FROM_METHODS: &str = "
FROM orders o LEFT JOIN order_addresses b ON b.order_id = o.id AND b.kind = 'billing'
WHERE o.id IN (SELECT s.order_id FROM order_shipping_lines s
               WHERE s.method_id IN (SELECT value FROM json_each(:methods)))";
const AND_TEXT: &str = "
AND o.id IN (SELECT rowid FROM order_fts WHERE order_fts MATCH :match)";
const FILTERS: &str = "
AND (:statuses IS NULL OR o.status IN (SELECT value FROM json_each(:statuses)))";
const PAGE: &str = "\nLIMIT :limit OFFSET :offset";
const NEWEST: &str = "\nORDER BY o.date_created_gmt DESC, o.id DESC";
const OLDEST: &str = "\nORDER BY o.date_created_gmt, o.id";
const RELEVANCE: &str = "\nORDER BY f.rank, o.date_created_gmt DESC, o.id DESC";

const ONE: &str = "
SELECT o.payment_method_title, o.customer_note, o.discount_total, o.shipping_total, o.total_tax,
       o.prices_include_tax, o.date_paid_gmt, o.date_completed_gmt
FROM orders o WHERE o.id = :id";
const ADDRESS: &str = "
SELECT first_name, last_name, company, address_1, address_2, city, state, postcode, country,
       email, phone
FROM order_addresses WHERE order_id = :id AND kind = :kind";
/// Refunded units per line, from the refunds mirrored for the order (the
/// refund lines carry negative quantities upstream).
// Seam (issue 5): add this till's unconfirmed returns of the line here.
const LINES: &str = "
SELECT l.id, l.name, l.product_id, l.variation_id, l.sku, l.quantity, l.price, l.subtotal,
       l.total, l.total_tax, l.tax_class,
       COALESCE((SELECT SUM(ABS(rl.quantity)) FROM refund_line_items rl
                 JOIN refunds r ON r.id = rl.refund_id
                 WHERE r.order_id = l.order_id AND rl.refunded_item_id = l.id), 0)
FROM order_line_items l WHERE l.order_id = :id ORDER BY l.id";
const SHIPPING_LINES: &str = "
SELECT id, method_id, method_title, total, total_tax FROM order_shipping_lines
WHERE order_id = :id ORDER BY id";
const FEE_LINES: &str = "
SELECT id, name, total, total_tax FROM order_fee_lines WHERE order_id = :id ORDER BY id";
const COUPONS: &str = "SELECT code FROM order_coupon_lines WHERE order_id = :id ORDER BY id";
const REFUNDS: &str = "
SELECT id, amount, reason, date_created_gmt FROM refunds WHERE order_id = :id ORDER BY id";
const REFUND_LINES: &str = "
SELECT refunded_item_id, product_id, variation_id, ABS(quantity), total
FROM refund_line_items WHERE refund_id = :id ORDER BY id";

/// Finds orders. With `shipping_methods` (pickups) the orders are picked by
/// method first; the search text then narrows them.
// Seam (issue 5): this till's own sales, by local receipt number, join here.
pub fn search(conn: &Connection, q: &OrderQuery) -> Result<Page<OrderSummary>, StoreError> {
    let match_ = q.text.as_ref().map(match_expression);
    let methods = q
        .shipping_methods
        .as_ref()
        .map(serde_json::to_string)
        .transpose()?;
    let statuses = q.statuses.as_ref().map(serde_json::to_string).transpose()?;
    let (from, and_text) = match (&methods, &match_) {
        (Some(_), Some(_)) => (FROM_METHODS, AND_TEXT),
        (Some(_), None) => (FROM_METHODS, ""),
        (None, Some(_)) => (FROM_TEXT, ""),
        (None, None) => (FROM_ALL, ""),
    };
    let count_sql = ["SELECT COUNT(*)", from, and_text, FILTERS].concat();
    let all: [(&str, &dyn rusqlite::ToSql); 5] = [
        (":match", &match_),
        (":methods", &methods),
        (":statuses", &statuses),
        (":limit", &q.page.limit()),
        (":offset", &q.page.offset()),
    ];
    let mut count = conn.prepare_cached(&count_sql)?;
    let params = bind(&count, &all);
    let total: i64 = count.query_row(params.as_slice(), |r| r.get(0))?;
    let order = match q.sort {
        OrderSort::Relevance if from == FROM_TEXT && total <= RANKED_MATCHES => RELEVANCE,
        // Broad: newest ids first, straight off the index.
        OrderSort::Relevance if from == FROM_TEXT => "\nORDER BY f.rowid DESC",
        OrderSort::Relevance | OrderSort::Newest => NEWEST,
        OrderSort::Oldest => OLDEST,
    };
    // Only ids are ranked and paged; the page's rows are read afterwards.
    let list_sql = ["SELECT o.id", from, and_text, FILTERS, order, PAGE].concat();
    let mut stmt = conn.prepare_cached(&list_sql)?;
    let params = bind(&stmt, &all);
    let ids = stmt
        .query_map(params.as_slice(), |r| r.get::<_, UpstreamId>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    let one = [COLUMNS, FROM_ALL, " AND o.id = :id"].concat();
    let mut row = conn.prepare_cached(&one)?;
    let mut items = Vec::with_capacity(ids.len());
    for id in ids {
        items.extend(
            row.query_row(named_params! { ":id": id }, summary)
                .optional()?,
        );
    }
    Ok(Page {
        items,
        page: q.page.page,
        per_page: q.page.per_page,
        total,
    })
}

/// The newest `limit` orders of a customer.
pub fn recent_for_customer(
    conn: &Connection,
    customer: UpstreamId,
    limit: i64,
) -> Result<Vec<OrderSummary>, StoreError> {
    let sql = [
        COLUMNS,
        FROM_ALL,
        " AND o.customer_id = :id AND o.customer_id <> 0",
        NEWEST,
        " LIMIT :limit",
    ]
    .concat();
    let items = conn
        .prepare_cached(&sql)?
        .query_map(named_params! { ":id": customer, ":limit": limit }, summary)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(items)
}

/// One order with its lines, refunds and refundable quantities.
pub fn order(conn: &Connection, id: UpstreamId) -> Result<Option<OrderDetail>, StoreError> {
    let sql = [COLUMNS, FROM_ALL, " AND o.id = :id"].concat();
    let Some(summary) = conn
        .prepare_cached(&sql)?
        .query_row(named_params! { ":id": id }, summary)
        .optional()?
    else {
        return Ok(None);
    };
    let p = named_params! { ":id": id };
    let mut detail = conn.prepare_cached(ONE)?.query_row(p, |r| {
        Ok(OrderDetail {
            summary,
            payment_method_title: r.get(0)?,
            customer_note: r.get(1)?,
            discount_total: amount_or_zero(r.get(2)?),
            shipping_total: amount_or_zero(r.get(3)?),
            total_tax: amount_or_zero(r.get(4)?),
            prices_include_tax: r.get(5)?,
            date_paid_gmt: time(r.get(6)?),
            date_completed_gmt: time(r.get(7)?),
            billing: Default::default(),
            shipping: Default::default(),
            line_items: Vec::new(),
            shipping_lines: Vec::new(),
            fee_lines: Vec::new(),
            coupon_codes: Vec::new(),
            refunds: Vec::new(),
        })
    })?;
    detail.billing = address(conn, ADDRESS, id, "billing")?;
    detail.shipping = address(conn, ADDRESS, id, "shipping")?;
    detail.line_items = conn
        .prepare_cached(LINES)?
        .query_map(p, |r| {
            let quantity: i64 = r.get(5)?;
            let refunded: i64 = r.get(11)?;
            Ok(OrderLineView {
                id: r.get(0)?,
                name: r.get(1)?,
                product_id: r.get(2)?,
                variation_id: r.get(3)?,
                sku: r.get(4)?,
                quantity,
                price: amount(r.get(6)?),
                subtotal: amount_or_zero(r.get(7)?),
                total: amount_or_zero(r.get(8)?),
                total_tax: amount_or_zero(r.get(9)?),
                tax_class: r.get(10)?,
                refunded_quantity: refunded,
                refundable_quantity: (quantity - refunded).max(0),
            })
        })?
        .collect::<Result<_, _>>()?;
    detail.shipping_lines = conn
        .prepare_cached(SHIPPING_LINES)?
        .query_map(p, |r| {
            Ok(ShippingLineView {
                id: r.get(0)?,
                method_id: r.get(1)?,
                method_title: r.get(2)?,
                total: amount_or_zero(r.get(3)?),
                total_tax: amount_or_zero(r.get(4)?),
            })
        })?
        .collect::<Result<_, _>>()?;
    detail.fee_lines = conn
        .prepare_cached(FEE_LINES)?
        .query_map(p, |r| {
            Ok(FeeLineView {
                id: r.get(0)?,
                name: r.get(1)?,
                total: amount_or_zero(r.get(2)?),
                total_tax: amount_or_zero(r.get(3)?),
            })
        })?
        .collect::<Result<_, _>>()?;
    detail.coupon_codes = conn
        .prepare_cached(COUPONS)?
        .query_map(p, |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    detail.refunds = refunds(conn, id)?;
    Ok(Some(detail))
}

fn refunds(conn: &Connection, order: UpstreamId) -> Result<Vec<RefundView>, StoreError> {
    let mut out: Vec<RefundView> = conn
        .prepare_cached(REFUNDS)?
        .query_map(named_params! { ":id": order }, |r| {
            Ok(RefundView {
                id: r.get(0)?,
                amount: amount_or_zero(r.get(1)?),
                reason: r.get(2)?,
                date_created_gmt: time(r.get(3)?),
                lines: Vec::new(),
            })
        })?
        .collect::<Result<_, _>>()?;
    let mut lines = conn.prepare_cached(REFUND_LINES)?;
    for refund in &mut out {
        refund.lines = lines
            .query_map(named_params! { ":id": refund.id }, |r| {
                Ok(RefundLineView {
                    refunded_item_id: r.get(0)?,
                    product_id: r.get(1)?,
                    variation_id: r.get(2)?,
                    quantity: r.get(3)?,
                    total: amount_or_zero(r.get(4)?),
                })
            })?
            .collect::<Result<_, _>>()?;
    }
    Ok(out)
}

fn summary(r: &Row<'_>) -> rusqlite::Result<OrderSummary> {
    Ok(OrderSummary {
        id: r.get(0)?,
        number: r.get(1)?,
        status: r.get(2)?,
        currency: r.get(3)?,
        total: amount_or_zero(r.get(4)?),
        customer_id: r.get(5)?,
        billing_name: r.get(6)?,
        email: r.get(7)?,
        phone: r.get(8)?,
        date_created_gmt: time(r.get(9)?),
        item_count: r.get(10)?,
        shipping_methods: json_list(r, 11)?,
    })
}
