//! This till's own sales at the returns desk: found by receipt number (or,
//! until the shop confirms them, by billing name, email or phone) beside the
//! shop's orders, and shown with their lines and returns.
//!
//! One sale is listed once. While the replica holds its shop order, that
//! order stands for it (carrying the receipt number); otherwise the till's
//! own record does. Reads only.

use rusqlite::{Connection, OptionalExtension, named_params};
use uuid::Uuid;

use super::super::StoreError;
use super::super::till::returns::{LineKeys, returned_units};
use super::amount_or_zero;
use super::index::digits;
use super::orders::{refunds, summary};
use crate::domain::customers::Address;
use crate::domain::lookup::views::{
    LocalRefundLineView, LocalRefundView, OrderDetail, OrderLineView, OrderSummary,
};
use crate::domain::{Amount, GmtTime, UpstreamId};

/// A receipt number typed at the till matches a sale's number whole or by
/// its beginning, in any case, through `local_orders_number_nocase`
/// (`U+10FFFF` sorts after anything that can follow the typed text).
macro_rules! number_matches {
    () => {
        "lo.number_text COLLATE NOCASE >= :number
     AND lo.number_text COLLATE NOCASE < :number || char(1114111)"
    };
}

/// When the till rang the sale up, in the replica's date format.
macro_rules! sold_at_gmt {
    () => {
        "strftime('%Y-%m-%dT%H:%M:%S', lo.sold_at / 1000, 'unixepoch')"
    };
}

/// The status a sale made here has for the till: completed once handed
/// over here, else the one it is sent with (`e` is the sale's entry).
macro_rules! local_status {
    () => {
        "CASE WHEN EXISTS (SELECT 1 FROM local_completions c JOIN outbox ce ON ce.id = c.outbox_id
                  WHERE c.order_local_id = lo.id AND ce.state <> 'discarded')
     THEN 'completed' ELSE COALESCE(e.payload ->> '$.status', '') END"
    };
}

macro_rules! local_status_filter {
    () => {
        concat!(
            "
AND (:statuses IS NULL OR ",
            local_status!(),
            " IN (SELECT value FROM json_each(:statuses)))"
        )
    };
}

/// Billing name, email and phone of a sale, lower case (ASCII).
macro_rules! billing_text {
    () => {
        "lower(concat_ws(' ', lo.billing ->> '$.first_name', lo.billing ->> '$.last_name',
                     lo.billing ->> '$.email', lo.billing ->> '$.phone'))"
    };
}

// Each source of a merged order listing yields the same five columns:
// tier (receipt number exact 0, receipt number prefix 1, billing details 2,
// the shop's orders by text 3), score (text relevance, lower first),
// created (GMT text), oid (the shop's order id) and lid (this till's sale
// id, set for a row shown from the till's record).

/// Leaves out of the shop's orders listed by text those sold here whose
/// receipt number matches: [`SOLD_HERE_BY_NUMBER`] lists them, first.
pub(super) const NOT_SOLD_HERE_BY_NUMBER: &str = concat!(
    "
AND o.id NOT IN (SELECT lo.upstream_id FROM local_orders lo
                 WHERE lo.upstream_id IS NOT NULL AND ",
    number_matches!(),
    ")"
);

/// Mirrored orders sold here, by receipt number.
pub(super) const SOLD_HERE_BY_NUMBER: &str = concat!(
    "
SELECT CASE WHEN EXISTS (SELECT 1 FROM local_orders x WHERE x.upstream_id = o.id
                         AND x.number_text = :number COLLATE NOCASE) THEN 0 ELSE 1 END,
       0, o.date_created_gmt, o.id, NULL
FROM orders o
WHERE o.id IN (SELECT lo.upstream_id FROM local_orders lo
               WHERE lo.upstream_id IS NOT NULL AND ",
    number_matches!(),
    ")
AND (:statuses IS NULL OR o.status IN (SELECT value FROM json_each(:statuses)))"
);

/// Sales made here whose shop order the replica does not hold (not
/// confirmed yet, or outside the mirrored window), by receipt number.
pub(super) const LOCAL_BY_NUMBER: &str = concat!(
    "
SELECT CASE WHEN lo.number_text = :number COLLATE NOCASE THEN 0 ELSE 1 END,
       0, ",
    sold_at_gmt!(),
    ", lo.upstream_id, lo.id
FROM local_orders lo JOIN outbox e ON e.id = lo.outbox_id
WHERE ",
    number_matches!(),
    "
AND e.state <> 'discarded'
AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = lo.upstream_id)",
    local_status_filter!()
);

/// Sales the shop has not confirmed, by billing details: every word of the
/// search within the name, email or phone, or the phone's digits (the
/// receipt-number matches are listed by [`LOCAL_BY_NUMBER`]). Only these
/// few are scanned; a confirmed sale is found through its shop order.
pub(super) const UNCONFIRMED_BY_TEXT: &str = concat!(
    "
SELECT 2, 0, ",
    sold_at_gmt!(),
    ", NULL, lo.id
FROM local_orders lo JOIN outbox e ON e.id = lo.outbox_id
WHERE lo.upstream_id IS NULL AND e.state <> 'discarded'
AND NOT (",
    number_matches!(),
    ")
AND (NOT EXISTS (SELECT 1 FROM json_each(:words) w WHERE instr(",
    billing_text!(),
    ", w.value) = 0)
     OR instr(",
    digits!("COALESCE(lo.billing ->> '$.phone', '')"),
    ", :digits) > 0)",
    local_status_filter!()
);

/// Sales the shop has not confirmed, when nothing is searched.
pub(super) const UNCONFIRMED_ALL: &str = concat!(
    "
SELECT 2, 0, ",
    sold_at_gmt!(),
    ", NULL, lo.id
FROM local_orders lo JOIN outbox e ON e.id = lo.outbox_id
WHERE lo.upstream_id IS NULL AND e.state <> 'discarded'",
    local_status_filter!()
);

/// A sale as a listing shows it (the columns of `orders::summary`).
const SUMMARY: &str = concat!(
    "
SELECT lo.upstream_id, COALESCE(lo.upstream_number, lo.number_text),
    COALESCE((SELECT o.status FROM orders o WHERE o.id = lo.upstream_id), ",
    local_status!(),
    "),
    COALESCE((SELECT currency FROM store_info WHERE singleton = 1), ''), lo.total, lo.customer_id,
    trim(COALESCE(lo.billing ->> '$.first_name', '') || ' ' || COALESCE(lo.billing ->> '$.last_name', '')),
    NULLIF(lo.billing ->> '$.email', ''), COALESCE(lo.billing ->> '$.phone', ''), ",
    sold_at_gmt!(),
    ",
    (SELECT COALESCE(SUM(l.quantity), 0) FROM local_order_lines l WHERE l.order_id = lo.id),
    '[]', 'local', lo.id, lo.number_text, e.state,
    (SELECT o.risk_recommendation FROM orders o WHERE o.id = lo.upstream_id)
FROM local_orders lo JOIN outbox e ON e.id = lo.outbox_id
WHERE lo.id = :id AND e.state <> 'discarded'"
);

const BY_RECEIPT: &str = "
SELECT id FROM local_orders WHERE number_text = :number COLLATE NOCASE ORDER BY number LIMIT 1";

const BY_UPSTREAM: &str = "
SELECT id FROM local_orders WHERE upstream_id = :id ORDER BY number LIMIT 1";

const ONE: &str = "
SELECT lo.payment_method_title, lo.note, lo.paid, lo.sold_at, lo.billing, lo.upstream_id,
       COALESCE((SELECT prices_include_tax FROM store_info WHERE singleton = 1), 0)
FROM local_orders lo WHERE lo.id = :id";

const LINES: &str = "
SELECT line_no, name, product_id, variation_id, sku, quantity, unit_price, discount, total,
       upstream_line_id
FROM local_order_lines WHERE order_id = :id ORDER BY line_no";

/// This till's returns of an order (named by its sale here or by the
/// shop's id) that the replica does not show among its refunds yet.
const REFUNDS: &str = "
SELECT r.id, r.upstream_id, r.amount, r.reason, r.restock, r.created_at, e.state,
       r.order_local_id IS NOT NULL
FROM local_refunds r JOIN outbox e ON e.id = r.outbox_id
WHERE (r.order_local_id = :local OR r.order_id = :order)
  AND e.state <> 'discarded'
  AND NOT EXISTS (SELECT 1 FROM refunds m WHERE m.id = r.upstream_id)
ORDER BY r.created_at, r.id";

const REFUND_LINES: &str = "
SELECT line_ref, product_id, variation_id, quantity, amount FROM local_refund_lines
WHERE refund_id = :id ORDER BY line_ref";

/// A sale made at this till: its id and, per line number, the shop's line
/// item once the shop has the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SoldHere {
    pub id: Uuid,
    pub lines: Vec<(UpstreamId, Option<UpstreamId>)>,
}

impl SoldHere {
    fn read(conn: &Connection, id: Uuid) -> Result<SoldHere, StoreError> {
        let lines = conn
            .prepare_cached(
                "SELECT line_no, upstream_line_id FROM local_order_lines WHERE order_id = :id",
            )?
            .query_map(named_params! { ":id": id.to_string() }, |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<Result<_, _>>()?;
        Ok(SoldHere { id, lines })
    }

    /// The line number of the shop's line item `item`.
    pub fn line_no(&self, item: UpstreamId) -> Option<UpstreamId> {
        self.lines
            .iter()
            .find(|(_, i)| *i == Some(item))
            .map(|(n, _)| *n)
    }

    /// The shop's line item of line number `line_no`.
    pub fn item(&self, line_no: UpstreamId) -> Option<UpstreamId> {
        self.lines
            .iter()
            .find(|(n, _)| *n == line_no)
            .and_then(|(_, i)| *i)
    }
}

/// How a view names an order's lines: a sale's own view by line number,
/// the shop's order by line item id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LineIds {
    Local,
    Upstream,
}

/// The sale made here that became the shop's order `upstream`, if any.
pub(super) fn sold_here(
    conn: &Connection,
    upstream: UpstreamId,
) -> Result<Option<SoldHere>, StoreError> {
    let id: Option<String> = conn
        .prepare_cached(BY_UPSTREAM)?
        .query_row(named_params! { ":id": upstream }, |r| r.get(0))
        .optional()?;
    match id.and_then(|s| Uuid::parse_str(&s).ok()) {
        Some(id) => Ok(Some(SoldHere::read(conn, id)?)),
        None => Ok(None),
    }
}

/// The sale with receipt number `number` (whole, any case).
pub fn by_receipt(conn: &Connection, number: &str) -> Result<Option<Uuid>, StoreError> {
    let id: Option<String> = conn
        .prepare_cached(BY_RECEIPT)?
        .query_row(named_params! { ":number": number }, |r| r.get(0))
        .optional()?;
    Ok(id.and_then(|s| Uuid::parse_str(&s).ok()))
}

/// A sale made here as a listing shows it; `None` if unknown or discarded.
pub(super) fn sale_summary(
    conn: &Connection,
    id: &str,
) -> Result<Option<OrderSummary>, StoreError> {
    Ok(conn
        .prepare_cached(SUMMARY)?
        .query_row(named_params! { ":id": id }, summary)
        .optional()?)
}

/// A sale made here as the till recorded it, with its lines (numbered as
/// `POST /api/orders/{local id}/refunds` takes them), what each can still
/// give back, the shop's refunds once mirrored, and this till's returns not
/// mirrored yet. `None` if unknown or discarded.
pub fn detail(conn: &Connection, id: Uuid) -> Result<Option<OrderDetail>, StoreError> {
    let key = id.to_string();
    let Some(summary) = sale_summary(conn, &key)? else {
        return Ok(None);
    };
    let (title, note, paid, sold_at, billing, upstream, prices_include_tax) = conn
        .prepare_cached(ONE)?
        .query_row(named_params! { ":id": key }, |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, bool>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, Option<UpstreamId>>(5)?,
                r.get::<_, bool>(6)?,
            ))
        })?;
    let billing: Address = billing
        .as_deref()
        .and_then(|b| serde_json::from_str(b).ok())
        .unwrap_or_default();
    struct Line {
        view: OrderLineView,
        discount: Amount,
        item: Option<UpstreamId>,
    }
    let rows = conn
        .prepare_cached(LINES)?
        .query_map(named_params! { ":id": key }, |r| {
            let quantity: i64 = r.get(5)?;
            let unit_price = amount_or_zero(r.get(6)?);
            Ok(Line {
                view: OrderLineView {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    product_id: r.get(2)?,
                    variation_id: r.get(3)?,
                    sku: r.get(4)?,
                    quantity,
                    price: Some(unit_price),
                    subtotal: unit_price * Amount::from(quantity),
                    total: amount_or_zero(r.get(8)?),
                    total_tax: Amount::ZERO,
                    tax_class: String::new(),
                    refunded_quantity: 0,
                    pending_refund_quantity: 0,
                    refundable_quantity: quantity,
                },
                discount: amount_or_zero(r.get(7)?),
                item: r.get(9)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut line_items = Vec::with_capacity(rows.len());
    let mut discount_total = Amount::ZERO;
    for Line {
        mut view,
        discount,
        item,
    } in rows
    {
        let returned = returned_units(
            conn,
            &LineKeys {
                order: upstream,
                item,
                local: Some(id),
                line_no: Some(view.id),
            },
        )?;
        view.refunded_quantity = returned.total;
        view.pending_refund_quantity = returned.pending;
        view.refundable_quantity = (view.quantity - returned.total).max(0);
        discount_total += discount;
        line_items.push(view);
    }
    let sold = SoldHere::read(conn, id)?;
    let mut mirrored = match upstream {
        Some(order) => refunds(conn, order)?,
        None => Vec::new(),
    };
    // The shop's refund lines name its line items; this view names lines
    // by number.
    for line in mirrored.iter_mut().flat_map(|r| r.lines.iter_mut()) {
        line.refunded_item_id = line.refunded_item_id.and_then(|i| sold.line_no(i));
    }
    Ok(Some(OrderDetail {
        summary,
        payment_method_title: title,
        customer_note: note,
        discount_total,
        shipping_total: Amount::ZERO,
        // The shop works the tax out when it creates the order.
        total_tax: Amount::ZERO,
        prices_include_tax,
        date_paid_gmt: paid.then(|| GmtTime::from_unix(sold_at.div_euclid(1000))),
        date_completed_gmt: None,
        billing,
        shipping: Address::default(),
        line_items,
        shipping_lines: Vec::new(),
        fee_lines: Vec::new(),
        coupon_codes: Vec::new(),
        refunds: mirrored,
        local_refunds: local_refunds(conn, Some(&sold), upstream, LineIds::Local)?,
    }))
}

/// This till's returns of an order not mirrored yet, their lines named as
/// the view names them (`ids`).
pub(super) fn local_refunds(
    conn: &Connection,
    sold: Option<&SoldHere>,
    order: Option<UpstreamId>,
    ids: LineIds,
) -> Result<Vec<LocalRefundView>, StoreError> {
    let local = sold.map(|s| s.id.to_string());
    let mut out: Vec<(LocalRefundView, bool)> = conn
        .prepare_cached(REFUNDS)?
        .query_map(named_params! { ":local": local, ":order": order }, |r| {
            let id: String = r.get(0)?;
            let state: String = r.get(6)?;
            let created_at: i64 = r.get(5)?;
            Ok((
                LocalRefundView {
                    id: Uuid::parse_str(&id).map_err(|e| {
                        rusqlite::Error::FromSqlConversionFailure(
                            0,
                            rusqlite::types::Type::Text,
                            Box::new(e),
                        )
                    })?,
                    upstream_id: r.get(1)?,
                    amount: amount_or_zero(r.get(2)?),
                    reason: r.get(3)?,
                    restock: r.get(4)?,
                    date_created_gmt: Some(GmtTime::from_unix(created_at.div_euclid(1000))),
                    sync_state: state.parse().map_err(|e: String| {
                        rusqlite::Error::FromSqlConversionFailure(
                            6,
                            rusqlite::types::Type::Text,
                            e.into(),
                        )
                    })?,
                    lines: Vec::new(),
                },
                r.get::<_, bool>(7)?,
            ))
        })?
        .collect::<Result<_, _>>()?;
    let mut lines = conn.prepare_cached(REFUND_LINES)?;
    for (refund, of_sale) in &mut out {
        // A return of a sale made here names the line by number; one of a
        // shop order, by line item.
        let of_sale = *of_sale;
        refund.lines = lines
            .query_map(named_params! { ":id": refund.id.to_string() }, |r| {
                let line_ref: UpstreamId = r.get(0)?;
                let line_id = match (ids, of_sale) {
                    (LineIds::Local, true) | (LineIds::Upstream, false) => Some(line_ref),
                    (LineIds::Upstream, true) => sold.and_then(|s| s.item(line_ref)),
                    (LineIds::Local, false) => sold.and_then(|s| s.line_no(line_ref)),
                };
                Ok(LocalRefundLineView {
                    line_id,
                    product_id: r.get(1)?,
                    variation_id: r.get(2)?,
                    quantity: r.get(3)?,
                    amount: amount_or_zero(r.get(4)?),
                })
            })?
            .collect::<Result<_, _>>()?;
    }
    Ok(out.into_iter().map(|(r, _)| r).collect())
}

#[cfg(test)]
#[path = "local_orders_tests.rs"]
mod tests;
