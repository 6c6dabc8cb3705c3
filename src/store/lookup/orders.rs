//! Order lookups for the returns desk and the pickup counter: search by
//! order number, name, email or phone; one order with its lines, refunds
//! and what each line can still give back.
//!
//! This till's own sales join the search as further sources (a `UNION ALL`
//! feeding the same columns, see [`local_orders`]):
//! by receipt number, and by billing details until the shop confirms them.
//! A line's refundable quantity counts the shop's refunds and this till's
//! returns not mirrored yet, each return once.

use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension, Row, named_params};
use uuid::Uuid;

use super::super::StoreError;
use super::super::till::returns::{LineKeys, returned_units};
use super::customers::address;
use super::index::match_expression;
use super::local_orders::{
    self, LOCAL_BY_NUMBER, LineIds, NOT_SOLD_HERE_BY_NUMBER, SOLD_HERE_BY_NUMBER, UNCONFIRMED_ALL,
    UNCONFIRMED_BY_TEXT,
};
use super::{Param, RANKED_MATCHES, amount, amount_or_zero, bind, json_list, time};
use crate::domain::UpstreamId;
use crate::domain::lookup::query::{OrderKey, OrderQuery, OrderSort};
use crate::domain::lookup::views::{
    FeeLineView, OrderDetail, OrderLineView, OrderSource, OrderSummary, Page, RefundLineView,
    RefundView, RiskView, ShippingLineView,
};
use crate::domain::orders::RiskRecommendation;

/// A summary row (read by [`summary`]), with the sale made here behind an
/// order, if any.
const COLUMNS: &str = "
SELECT o.id, o.number, o.status, o.currency, o.total, o.customer_id,
    trim(COALESCE(b.first_name, '') || ' ' || COALESCE(b.last_name, '')), b.email,
    COALESCE(b.phone, ''), o.date_created_gmt,
    (SELECT COALESCE(SUM(l.quantity), 0) FROM order_line_items l WHERE l.order_id = o.id),
    (SELECT json_group_array(s.method_id) FROM order_shipping_lines s WHERE s.order_id = o.id),
    'upstream', lo.id, lo.number_text, e.state, o.risk_recommendation
FROM orders o LEFT JOIN order_addresses b ON b.order_id = o.id AND b.kind = 'billing'
LEFT JOIN local_orders lo ON lo.rowid = (SELECT x.rowid FROM local_orders x
                                         WHERE x.upstream_id = o.id ORDER BY x.number LIMIT 1)
LEFT JOIN outbox e ON e.id = lo.outbox_id
WHERE 1";
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

// The shop's orders as a source of the merged listing (the columns are
// described in `local_orders`). Over the text index, `oid` is the index's
// rowid, so a broad search still pages straight off the index.
const SHOP_RANKED: &str =
    "SELECT 3 AS tier, f.rank AS score, o.date_created_gmt AS created, f.rowid AS oid, NULL AS lid";
const SHOP_TEXT: &str =
    "SELECT 3 AS tier, 0 AS score, o.date_created_gmt AS created, f.rowid AS oid, NULL AS lid";
const SHOP: &str =
    "SELECT 3 AS tier, 0 AS score, o.date_created_gmt AS created, o.id AS oid, NULL AS lid";
const UNION: &str = "\nUNION ALL";
const BY_RELEVANCE: &str = "\nORDER BY tier, score, created DESC, oid DESC, lid DESC";
/// Broad: this till's matches first, then the shop's newest ids, straight
/// off the index.
const BY_INDEX: &str = "\nORDER BY tier, oid DESC, lid DESC";
const BY_NEWEST: &str = "\nORDER BY created DESC, oid DESC, lid DESC";
const BY_OLDEST: &str = "\nORDER BY created, oid, lid";

const ONE: &str = "
SELECT o.payment_method_title, o.customer_note, o.discount_total, o.shipping_total, o.total_tax,
       o.prices_include_tax, o.date_paid_gmt, o.date_completed_gmt
FROM orders o WHERE o.id = :id";
const ADDRESS: &str = "
SELECT first_name, last_name, company, address_1, address_2, city, state, postcode, country,
       email, phone
FROM order_addresses WHERE order_id = :id AND kind = :kind";
const LINES: &str = "
SELECT l.id, l.name, l.product_id, l.variation_id, l.sku, l.quantity, l.price, l.subtotal,
       l.total, l.total_tax, l.tax_class
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

/// Finds orders: the shop's, and this till's own sales (see the module
/// doc). With `shipping_methods` (pickups) only the shop's orders are
/// picked, by method first; the search text then narrows them.
pub fn search(conn: &Connection, q: &OrderQuery) -> Result<Page<OrderSummary>, StoreError> {
    let s = Search::new(q)?;
    let shop_total = s.count(
        conn,
        &[
            "SELECT COUNT(*)",
            s.from,
            s.and_text,
            FILTERS,
            s.not_sold_here,
        ]
        .concat(),
    )?;
    let local_total = match s.local {
        [] => 0,
        arms => s.count(
            conn,
            &["SELECT COUNT(*) FROM (", &arms.join(UNION), ")"].concat(),
        )?,
    };
    let text_index = s.from == FROM_TEXT;
    let (shop, order) = match q.sort {
        OrderSort::Relevance if text_index && shop_total <= RANKED_MATCHES => {
            (SHOP_RANKED, BY_RELEVANCE)
        }
        OrderSort::Relevance if text_index => (SHOP_TEXT, BY_INDEX),
        _ if text_index => (SHOP_TEXT, order_by_date(q.sort)),
        _ => (SHOP, order_by_date(q.sort)),
    };
    // Only the page's keys are ranked and paged; its rows are read after.
    let mut stmt = conn.prepare_cached(&s.list_sql(shop, order))?;
    let all = s.params();
    let params = bind(&stmt, &all);
    let keys = stmt
        .query_map(params.as_slice(), |r| {
            Ok((
                r.get::<_, Option<UpstreamId>>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut row = conn.prepare_cached(&[COLUMNS, " AND o.id = :id"].concat())?;
    let mut items = Vec::with_capacity(keys.len());
    for key in keys {
        let item = match key {
            (_, Some(sale)) => local_orders::sale_summary(conn, &sale)?,
            (Some(id), None) => row
                .query_row(named_params! { ":id": id }, summary)
                .optional()?,
            (None, None) => None,
        };
        items.extend(item);
    }
    Ok(Page {
        items,
        page: q.page.page,
        per_page: q.page.per_page,
        total: shop_total + local_total,
    })
}

/// A search's parameter values and the sources it merges.
struct Search {
    match_: Option<String>,
    methods: Option<String>,
    statuses: Option<String>,
    number: Option<String>,
    words: Option<String>,
    digits: Option<String>,
    limit: i64,
    offset: i64,
    /// The shop's orders.
    from: &'static str,
    and_text: &'static str,
    not_sold_here: &'static str,
    /// This till's own sales.
    local: &'static [&'static str],
}

impl Search {
    fn new(q: &OrderQuery) -> Result<Search, StoreError> {
        let match_ = q.text.as_ref().map(match_expression);
        let methods = q
            .shipping_methods
            .as_ref()
            .map(serde_json::to_string)
            .transpose()?;
        // Orders awaiting collection are the shop's; the till's sales were
        // handed over when rung up.
        let own_sales = methods.is_none();
        let text = q.text.as_ref().filter(|_| own_sales);
        let (from, and_text) = match (&methods, &match_) {
            (Some(_), Some(_)) => (FROM_METHODS, AND_TEXT),
            (Some(_), None) => (FROM_METHODS, ""),
            (None, Some(_)) => (FROM_TEXT, ""),
            (None, None) => (FROM_ALL, ""),
        };
        let (not_sold_here, local): (&str, &[&str]) = match (own_sales, text) {
            (false, _) => ("", &[]),
            (true, None) => ("", &[UNCONFIRMED_ALL]),
            (true, Some(_)) => (
                NOT_SOLD_HERE_BY_NUMBER,
                &[SOLD_HERE_BY_NUMBER, LOCAL_BY_NUMBER, UNCONFIRMED_BY_TEXT],
            ),
        };
        Ok(Search {
            match_,
            methods,
            statuses: q.statuses.as_ref().map(serde_json::to_string).transpose()?,
            number: text.map(|t| t.raw.clone()),
            words: text.map(|t| serde_json::to_string(&t.words)).transpose()?,
            digits: text.and_then(|t| t.digits.clone()),
            limit: q.page.limit(),
            offset: q.page.offset(),
            from,
            and_text,
            not_sold_here,
            local,
        })
    }

    fn params(&self) -> [Param<'_>; 8] {
        [
            (":match", &self.match_),
            (":methods", &self.methods),
            (":statuses", &self.statuses),
            (":number", &self.number),
            (":words", &self.words),
            (":digits", &self.digits),
            (":limit", &self.limit),
            (":offset", &self.offset),
        ]
    }

    fn count(&self, conn: &Connection, sql: &str) -> Result<i64, StoreError> {
        let mut stmt = conn.prepare_cached(sql)?;
        let all = self.params();
        let params = bind(&stmt, &all);
        Ok(stmt.query_row(params.as_slice(), |r| r.get(0))?)
    }

    /// The page's keys: the shop's orders (selected by `shop`) and this
    /// till's sales, merged in `order`.
    fn list_sql(&self, shop: &str, order: &str) -> String {
        let mut sql = [shop, self.from, self.and_text, FILTERS, self.not_sold_here].concat();
        for arm in self.local {
            sql.push_str(UNION);
            sql.push_str(arm);
        }
        sql.push_str(order);
        sql.push_str(PAGE);
        sql
    }
}

/// The query plan of a broad text search's page, as (id, parent, detail).
#[cfg(test)]
pub(super) fn broad_search_plan(conn: &Connection) -> Result<Vec<(i64, i64, String)>, StoreError> {
    use crate::domain::lookup::query::{PageRequest, SearchText};
    let q = OrderQuery {
        text: Some(SearchText::parse("an").expect("a search")),
        statuses: None,
        shipping_methods: None,
        sort: OrderSort::Relevance,
        page: PageRequest::default(),
    };
    let s = Search::new(&q)?;
    let mut stmt =
        conn.prepare(&["EXPLAIN QUERY PLAN ", &s.list_sql(SHOP_TEXT, BY_INDEX)].concat())?;
    let all = s.params();
    let params = bind(&stmt, &all);
    let rows = stmt
        .query_map(params.as_slice(), |r| Ok((r.get(0)?, r.get(1)?, r.get(3)?)))?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Newest or oldest first (relevance without a text index lists newest).
fn order_by_date(sort: OrderSort) -> &'static str {
    match sort {
        OrderSort::Oldest => BY_OLDEST,
        OrderSort::Relevance | OrderSort::Newest => BY_NEWEST,
    }
}

/// The newest `limit` orders of a customer.
pub fn recent_for_customer(
    conn: &Connection,
    customer: UpstreamId,
    limit: i64,
) -> Result<Vec<OrderSummary>, StoreError> {
    let sql = [
        COLUMNS,
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

/// The order a till names in `/api/orders/{id}`: the shop's order by id
/// (failing that, a receipt number made of digits), or a sale made here by
/// its local id or receipt number, as the till recorded it (see
/// [`local_orders::detail`]).
pub fn find(conn: &Connection, key: &OrderKey) -> Result<Option<OrderDetail>, StoreError> {
    let sale = match key {
        OrderKey::Upstream(id) => match order(conn, *id)? {
            Some(found) => return Ok(Some(found)),
            None => local_orders::by_receipt(conn, &id.to_string())?,
        },
        OrderKey::Local(id) => Some(*id),
        OrderKey::Receipt(number) => local_orders::by_receipt(conn, number)?,
    };
    match sale {
        Some(id) => local_orders::detail(conn, id),
        None => Ok(None),
    }
}

/// One of the shop's orders with its lines, refunds and refundable
/// quantities, and this till's returns of it not mirrored yet.
pub fn order(conn: &Connection, id: UpstreamId) -> Result<Option<OrderDetail>, StoreError> {
    let sql = [COLUMNS, " AND o.id = :id"].concat();
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
            local_refunds: Vec::new(),
        })
    })?;
    let sold = local_orders::sold_here(conn, id)?;
    detail.billing = address(conn, ADDRESS, id, "billing")?;
    detail.shipping = address(conn, ADDRESS, id, "shipping")?;
    let mut lines: Vec<OrderLineView> = conn
        .prepare_cached(LINES)?
        .query_map(p, |r| {
            Ok(OrderLineView {
                id: r.get(0)?,
                name: r.get(1)?,
                product_id: r.get(2)?,
                variation_id: r.get(3)?,
                sku: r.get(4)?,
                quantity: r.get(5)?,
                price: amount(r.get(6)?),
                subtotal: amount_or_zero(r.get(7)?),
                total: amount_or_zero(r.get(8)?),
                total_tax: amount_or_zero(r.get(9)?),
                tax_class: r.get(10)?,
                refunded_quantity: 0,
                pending_refund_quantity: 0,
                refundable_quantity: 0,
            })
        })?
        .collect::<Result<_, _>>()?;
    for line in &mut lines {
        let returned = returned_units(
            conn,
            &LineKeys {
                order: Some(id),
                item: Some(line.id),
                local: sold.as_ref().map(|s| s.id),
                line_no: sold.as_ref().and_then(|s| s.line_no(line.id)),
            },
        )?;
        line.refunded_quantity = returned.total;
        line.pending_refund_quantity = returned.pending;
        line.refundable_quantity = (line.quantity - returned.total).max(0);
    }
    detail.line_items = lines;
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
    detail.local_refunds =
        local_orders::local_refunds(conn, sold.as_ref(), Some(id), LineIds::Upstream)?;
    Ok(Some(detail))
}

/// The shop's refunds of `order` mirrored in the replica.
pub(super) fn refunds(conn: &Connection, order: UpstreamId) -> Result<Vec<RefundView>, StoreError> {
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

/// A summary row: the shop's order (`COLUMNS`) or a sale made here.
pub(super) fn summary(r: &Row<'_>) -> rusqlite::Result<OrderSummary> {
    let source: String = r.get(12)?;
    let local_id: Option<String> = r.get(13)?;
    let state: Option<String> = r.get(15)?;
    let risk: Option<String> = r.get(16)?;
    let bad = |idx: usize, e: Box<dyn std::error::Error + Send + Sync>| {
        rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, e)
    };
    Ok(OrderSummary {
        source: match source.as_str() {
            "local" => OrderSource::Local,
            _ => OrderSource::Upstream,
        },
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
        local_id: local_id
            .map(|s| Uuid::parse_str(&s))
            .transpose()
            .map_err(|e| bad(13, Box::new(e)))?,
        local_number: r.get(14)?,
        sync_state: state
            .map(|s| s.parse())
            .transpose()
            .map_err(|e: String| bad(15, e.into()))?,
        risk: risk
            .map(|s| {
                RiskRecommendation::parse(&s)
                    .map(RiskView::of)
                    .ok_or_else(|| bad(16, format!("unknown risk recommendation {s:?}").into()))
            })
            .transpose()?,
    })
}
