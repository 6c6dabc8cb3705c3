//! Orders (with their lines and addresses) and refunds in the replica.

use rusqlite::{Connection, Transaction, named_params};

use super::catalog::Upserted;
use super::customers::upsert_address;
use super::{StoreError, WriteStamp, to_json};
use crate::domain::orders::{Order, Refund};

const UPSERT_ORDER: &str = "
INSERT INTO orders (id, parent_id, number, order_key, status, currency, prices_include_tax,
                    customer_id, payment_method, payment_method_title, transaction_id, created_via,
                    customer_note, discount_total, discount_tax, shipping_total, shipping_tax,
                    cart_tax, total, total_tax, date_created_gmt, date_modified_gmt, date_paid_gmt,
                    date_completed_gmt, risk_recommendation, refund_summary, meta_data, raw,
                    seen_run, synced_at)
VALUES (:id, :parent_id, :number, :order_key, :status, :currency, :prices_include_tax,
        :customer_id, :payment_method, :payment_method_title, :transaction_id, :created_via,
        :customer_note, :discount_total, :discount_tax, :shipping_total, :shipping_tax,
        :cart_tax, :total, :total_tax, :date_created, :date_modified, :date_paid,
        :date_completed, :risk, :refund_summary, :meta_data, :raw, :run, :now)
ON CONFLICT (id) DO UPDATE SET
    parent_id = excluded.parent_id, number = excluded.number, order_key = excluded.order_key,
    status = excluded.status, currency = excluded.currency,
    prices_include_tax = excluded.prices_include_tax, customer_id = excluded.customer_id,
    payment_method = excluded.payment_method, payment_method_title = excluded.payment_method_title,
    transaction_id = excluded.transaction_id, created_via = excluded.created_via,
    customer_note = excluded.customer_note, discount_total = excluded.discount_total,
    discount_tax = excluded.discount_tax, shipping_total = excluded.shipping_total,
    shipping_tax = excluded.shipping_tax, cart_tax = excluded.cart_tax, total = excluded.total,
    total_tax = excluded.total_tax, date_created_gmt = excluded.date_created_gmt,
    date_modified_gmt = excluded.date_modified_gmt, date_paid_gmt = excluded.date_paid_gmt,
    date_completed_gmt = excluded.date_completed_gmt,
    risk_recommendation = excluded.risk_recommendation, refund_summary = excluded.refund_summary,
    meta_data = excluded.meta_data,
    raw = excluded.raw, seen_run = COALESCE(excluded.seen_run, orders.seen_run),
    synced_at = excluded.synced_at
WHERE excluded.date_modified_gmt > orders.date_modified_gmt
   OR (:allow_equal AND excluded.date_modified_gmt = orders.date_modified_gmt)";

const MARK_ORDER_SEEN: &str = "UPDATE orders SET seen_run = :run WHERE id = :id";

const UPSERT_ORDER_ADDRESS: &str = "
INSERT INTO order_addresses (order_id, kind, first_name, last_name, company, address_1,
                             address_2, city, state, postcode, country, email, phone)
VALUES (:owner, :kind, :first_name, :last_name, :company, :address_1,
        :address_2, :city, :state, :postcode, :country, :email, :phone)
ON CONFLICT (order_id, kind) DO UPDATE SET
    first_name = excluded.first_name, last_name = excluded.last_name, company = excluded.company,
    address_1 = excluded.address_1, address_2 = excluded.address_2, city = excluded.city,
    state = excluded.state, postcode = excluded.postcode, country = excluded.country,
    email = excluded.email, phone = excluded.phone";

const DELETE_LINE_ITEMS: &str = "DELETE FROM order_line_items WHERE order_id = :id";
const DELETE_SHIPPING_LINES: &str = "DELETE FROM order_shipping_lines WHERE order_id = :id";
const DELETE_FEE_LINES: &str = "DELETE FROM order_fee_lines WHERE order_id = :id";
const DELETE_COUPON_LINES: &str = "DELETE FROM order_coupon_lines WHERE order_id = :id";
const DELETE_TAX_LINES: &str = "DELETE FROM order_tax_lines WHERE order_id = :id";

const INSERT_LINE_ITEM: &str = "
INSERT INTO order_line_items (order_id, id, name, product_id, variation_id, quantity, sku,
                              global_unique_id, tax_class, price, subtotal, subtotal_tax, total,
                              total_tax, meta_data)
VALUES (:order_id, :id, :name, :product_id, :variation_id, :quantity, :sku,
        :global_unique_id, :tax_class, :price, :subtotal, :subtotal_tax, :total,
        :total_tax, :meta_data)";
const INSERT_SHIPPING_LINE: &str = "
INSERT INTO order_shipping_lines (order_id, id, method_id, method_title, instance_id, total,
                                  total_tax, meta_data)
VALUES (:order_id, :id, :method_id, :method_title, :instance_id, :total, :total_tax, :meta_data)";
const INSERT_FEE_LINE: &str = "
INSERT INTO order_fee_lines (order_id, id, name, tax_class, tax_status, total, total_tax, meta_data)
VALUES (:order_id, :id, :name, :tax_class, :tax_status, :total, :total_tax, :meta_data)";
const INSERT_COUPON_LINE: &str = "
INSERT INTO order_coupon_lines (order_id, id, code, discount, discount_tax)
VALUES (:order_id, :id, :code, :discount, :discount_tax)";
const INSERT_TAX_LINE: &str = "
INSERT INTO order_tax_lines (order_id, id, rate_code, rate_id, label, compound, tax_total,
                             shipping_tax_total)
VALUES (:order_id, :id, :rate_code, :rate_id, :label, :compound, :tax_total, :shipping_tax_total)";

const UPSERT_REFUND: &str = "
INSERT INTO refunds (id, order_id, amount, reason, refunded_payment, date_created_gmt, meta_data,
                     raw, seen_run, synced_at)
VALUES (:id, :order_id, :amount, :reason, :refunded_payment, :date_created, :meta_data,
        :raw, :run, :now)
ON CONFLICT (id) DO UPDATE SET
    order_id = excluded.order_id, amount = excluded.amount, reason = excluded.reason,
    refunded_payment = excluded.refunded_payment, date_created_gmt = excluded.date_created_gmt,
    meta_data = excluded.meta_data, raw = excluded.raw,
    seen_run = COALESCE(excluded.seen_run, refunds.seen_run), synced_at = excluded.synced_at";
const DELETE_REFUND_LINES: &str = "DELETE FROM refund_line_items WHERE refund_id = :id";
const INSERT_REFUND_LINE: &str = "
INSERT INTO refund_line_items (refund_id, id, refunded_item_id, product_id, variation_id,
                               quantity, subtotal, total, total_tax)
VALUES (:refund_id, :id, :refunded_item_id, :product_id, :variation_id,
        :quantity, :subtotal, :total, :total_tax)";

const COUNT_ORDERS: &str = "SELECT COUNT(*) FROM orders";
const ORDERS_WITH_REFUNDS: &str = "SELECT id FROM orders WHERE refund_summary <> '[]' ORDER BY id";
const COUNT_REFUNDS: &str = "SELECT COUNT(*) FROM refunds";

/// Inserts or updates orders with every line and address, each only if it is
/// newer than the replica's copy.
pub fn upsert_orders(
    tx: &Transaction<'_>,
    stamp: WriteStamp,
    orders: &[Order],
) -> Result<Upserted, StoreError> {
    let mut upsert = tx.prepare_cached(UPSERT_ORDER)?;
    let mut out = Upserted::default();
    for o in orders {
        let changed = upsert.execute(named_params! {
            ":id": o.id,
            ":parent_id": o.parent_id,
            ":number": o.number,
            ":order_key": o.order_key,
            ":status": o.status,
            ":currency": o.currency,
            ":prices_include_tax": o.prices_include_tax,
            ":customer_id": o.customer_id,
            ":payment_method": o.payment_method,
            ":payment_method_title": o.payment_method_title,
            ":transaction_id": o.transaction_id,
            ":created_via": o.created_via,
            ":customer_note": o.customer_note,
            ":discount_total": o.discount_total.to_string(),
            ":discount_tax": o.discount_tax.to_string(),
            ":shipping_total": o.shipping_total.to_string(),
            ":shipping_tax": o.shipping_tax.to_string(),
            ":cart_tax": o.cart_tax.to_string(),
            ":total": o.total.to_string(),
            ":total_tax": o.total_tax.to_string(),
            ":date_created": o.date_created.map(|t| t.to_string()),
            ":date_modified": o.date_modified.to_string(),
            ":date_paid": o.date_paid.map(|t| t.to_string()),
            ":date_completed": o.date_completed.map(|t| t.to_string()),
            ":risk": o.risk.map(|r| r.as_str()),
            ":refund_summary": to_json(&o.refunds)?,
            ":meta_data": to_json(&o.meta)?,
            ":raw": o.raw.as_str(),
            ":run": stamp.run,
            ":now": stamp.now_ms,
            ":allow_equal": stamp.allow_equal,
        })?;
        if changed == 0 {
            out.kept_newer += 1;
            if let Some(run) = stamp.run {
                tx.prepare_cached(MARK_ORDER_SEEN)?
                    .execute(named_params! { ":run": run, ":id": o.id })?;
            }
            continue;
        }
        out.written += 1;
        upsert_address(tx, UPSERT_ORDER_ADDRESS, o.id, "billing", &o.billing)?;
        upsert_address(tx, UPSERT_ORDER_ADDRESS, o.id, "shipping", &o.shipping)?;
        replace_lines(tx, o)?;
    }
    Ok(out)
}

fn replace_lines(tx: &Transaction<'_>, o: &Order) -> Result<(), StoreError> {
    for sql in [
        DELETE_LINE_ITEMS,
        DELETE_SHIPPING_LINES,
        DELETE_FEE_LINES,
        DELETE_COUPON_LINES,
        DELETE_TAX_LINES,
    ] {
        tx.prepare_cached(sql)?
            .execute(named_params! { ":id": o.id })?;
    }
    let mut stmt = tx.prepare_cached(INSERT_LINE_ITEM)?;
    for l in &o.line_items {
        stmt.execute(named_params! {
            ":order_id": o.id,
            ":id": l.id,
            ":name": l.name,
            ":product_id": l.product_id,
            ":variation_id": l.variation_id,
            ":quantity": l.quantity,
            ":sku": l.sku,
            ":global_unique_id": l.global_unique_id,
            ":tax_class": l.tax_class,
            ":price": l.price.map(|d| d.to_string()),
            ":subtotal": l.subtotal.to_string(),
            ":subtotal_tax": l.subtotal_tax.to_string(),
            ":total": l.total.to_string(),
            ":total_tax": l.total_tax.to_string(),
            ":meta_data": to_json(&l.meta)?,
        })?;
    }
    let mut stmt = tx.prepare_cached(INSERT_SHIPPING_LINE)?;
    for l in &o.shipping_lines {
        stmt.execute(named_params! {
            ":order_id": o.id,
            ":id": l.id,
            ":method_id": l.method_id,
            ":method_title": l.method_title,
            ":instance_id": l.instance_id,
            ":total": l.total.to_string(),
            ":total_tax": l.total_tax.to_string(),
            ":meta_data": to_json(&l.meta)?,
        })?;
    }
    let mut stmt = tx.prepare_cached(INSERT_FEE_LINE)?;
    for l in &o.fee_lines {
        stmt.execute(named_params! {
            ":order_id": o.id,
            ":id": l.id,
            ":name": l.name,
            ":tax_class": l.tax_class,
            ":tax_status": l.tax_status,
            ":total": l.total.to_string(),
            ":total_tax": l.total_tax.to_string(),
            ":meta_data": to_json(&l.meta)?,
        })?;
    }
    let mut stmt = tx.prepare_cached(INSERT_COUPON_LINE)?;
    for l in &o.coupon_lines {
        stmt.execute(named_params! {
            ":order_id": o.id,
            ":id": l.id,
            ":code": l.code,
            ":discount": l.discount.to_string(),
            ":discount_tax": l.discount_tax.to_string(),
        })?;
    }
    let mut stmt = tx.prepare_cached(INSERT_TAX_LINE)?;
    for l in &o.tax_lines {
        stmt.execute(named_params! {
            ":order_id": o.id,
            ":id": l.id,
            ":rate_code": l.rate_code,
            ":rate_id": l.rate_id,
            ":label": l.label,
            ":compound": l.compound,
            ":tax_total": l.tax_total.to_string(),
            ":shipping_tax_total": l.shipping_tax_total.to_string(),
        })?;
    }
    Ok(())
}

/// Inserts or updates refunds with their lines (refunds are not edited
/// upstream, only created or deleted, so the latest read wins).
pub fn upsert_refunds(
    tx: &Transaction<'_>,
    stamp: WriteStamp,
    refunds: &[Refund],
) -> Result<Upserted, StoreError> {
    let mut upsert = tx.prepare_cached(UPSERT_REFUND)?;
    for r in refunds {
        upsert.execute(named_params! {
            ":id": r.id,
            ":order_id": r.order_id,
            ":amount": r.amount.to_string(),
            ":reason": r.reason,
            ":refunded_payment": r.refunded_payment,
            ":date_created": r.date_created.map(|t| t.to_string()),
            ":meta_data": to_json(&r.meta)?,
            ":raw": r.raw.as_str(),
            ":run": stamp.run,
            ":now": stamp.now_ms,
        })?;
        tx.prepare_cached(DELETE_REFUND_LINES)?
            .execute(named_params! { ":id": r.id })?;
        let mut line = tx.prepare_cached(INSERT_REFUND_LINE)?;
        for l in &r.line_items {
            line.execute(named_params! {
                ":refund_id": r.id,
                ":id": l.id,
                ":refunded_item_id": l.refunded_item_id,
                ":product_id": l.product_id,
                ":variation_id": l.variation_id,
                ":quantity": l.quantity,
                ":subtotal": l.subtotal.to_string(),
                ":total": l.total.to_string(),
                ":total_tax": l.total_tax.to_string(),
            })?;
        }
    }
    Ok(Upserted {
        written: refunds.len(),
        kept_newer: 0,
    })
}

/// Number of orders.
pub fn count_orders(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row(COUNT_ORDERS, [], |r| r.get(0))?)
}

/// Ids of orders that list refunds: the parents whose refunds an older
/// store (without `GET /refunds`) must be asked for one by one.
pub fn order_ids_with_refunds(conn: &Connection) -> Result<Vec<i64>, StoreError> {
    let mut stmt = conn.prepare_cached(ORDERS_WITH_REFUNDS)?;
    let ids = stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<Vec<i64>, _>>()?;
    Ok(ids)
}

/// Number of refunds.
pub fn count_refunds(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row(COUNT_REFUNDS, [], |r| r.get(0))?)
}
