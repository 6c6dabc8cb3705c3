//! Sales rung up at the till: the local order, its lines, the stock they
//! take (through `unconfirmed_stock`), and the outbox entry; and what the
//! replayer writes back once the shop has the order.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, Transaction, named_params};
use serde::Serialize;
use uuid::Uuid;

use super::customers::{self, ResolvedCustomer};
use super::{available_stock, net_divisor, resolve_product};
use crate::domain::outbox::{Payload, Refusal, Sale, SaleLine};
use crate::domain::till::{OversellPolicy, SaleRequest, TillSettings};
use crate::domain::{Amount, UpstreamId, money};
use crate::store::{StoreError, outbox, to_json};

const NEXT_NUMBER: &str = "SELECT COALESCE(MAX(number), 0) + 1 FROM local_orders";

const INSERT_ORDER: &str = "
INSERT INTO local_orders (id, number, number_text, outbox_id, customer_id, customer_local_id,
                          billing, payment_method, payment_method_title, paid, note, total, sold_at)
VALUES (:id, :number, :number_text, :outbox_id, :customer_id, :customer_local_id,
        :billing, :payment_method, :payment_method_title, :paid, :note, :total, :sold_at)";

const INSERT_LINE: &str = "
INSERT INTO local_order_lines (order_id, line_no, product_id, variation_id, stock_id, sku, name,
                               quantity, unit_price, discount, total)
VALUES (:order_id, :line_no, :product_id, :variation_id, :stock_id, :sku, :name,
        :quantity, :unit_price, :discount, :total)";

/// The shop's base location (`GB:LND`): an in-store sale is taxed there.
const BASE_LOCATION: &str = "SELECT base_location FROM store_info WHERE singleton = 1";

const GATEWAY_TITLE: &str = "SELECT title FROM payment_gateways WHERE id = :id";

const CONFIRM_ORDER: &str = "
UPDATE local_orders SET upstream_id = :upstream_id, upstream_number = :number, upstream_total = :total
WHERE id = :id";
const CONFIRM_LINE: &str = "
UPDATE local_order_lines SET upstream_line_id = :line_id WHERE order_id = :id AND line_no = :line_no";
/// Until the replica re-reads the product, it shows the stock the shop had
/// before this sale; the sale leaves `unconfirmed_stock` on confirmation, so
/// the replica takes what the shop reduced, keeping the till's count steady.
const TAKE_REDUCED_STOCK: &str = "
UPDATE products SET stock_quantity = stock_quantity - :qty
WHERE id = :id AND stock_quantity IS NOT NULL";
const LINE_STOCK_ROW: &str =
    "SELECT stock_id FROM local_order_lines WHERE order_id = :id AND line_no = :line_no";

/// A line that takes more than the till believes is in stock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StockWarning {
    pub line: u32,
    pub product_id: UpstreamId,
    pub variation_id: UpstreamId,
    pub available: i64,
    pub requested: i64,
}

/// A sale accepted and stored.
#[derive(Debug, Clone, Serialize)]
pub struct SaleAccepted {
    pub id: Uuid,
    pub number: String,
    pub outbox_id: Uuid,
    pub total: Amount,
    pub lines: Vec<SaleLine>,
    pub warnings: Vec<StockWarning>,
}

/// Records a sale and its outbox entry, or refuses it without writing.
pub fn record_sale(
    tx: &Transaction<'_>,
    req: &SaleRequest,
    till: &TillSettings,
    now_ms: i64,
) -> Result<Result<SaleAccepted, Refusal>, StoreError> {
    if req.lines.is_empty() {
        return Ok(Err(Refusal::invalid(
            "lines",
            "a sale needs at least one line",
        )));
    }
    if let Some(b) = &req.billing
        && let Err(r) = super::address::check(tx, "billing", b)?
    {
        return Ok(Err(r));
    }
    let customer = match &req.customer {
        None => ResolvedCustomer::default(),
        Some(c) => match customers::resolve(tx, c, "customer_id")? {
            Ok(c) => c,
            Err(r) => return Ok(Err(r)),
        },
    };
    let mut lines = Vec::with_capacity(req.lines.len());
    let mut stock_rows = Vec::with_capacity(req.lines.len());
    let mut wanted: BTreeMap<UpstreamId, (i64, usize)> = BTreeMap::new();
    let mut total = Amount::ZERO;
    for (i, l) in req.lines.iter().enumerate() {
        let field = format!("lines[{i}]");
        let item = match resolve_product(tx, &l.product, &field)? {
            Ok(p) => p,
            Err(r) => return Ok(Err(r)),
        };
        let Some(unit_price) = l.unit_price.or(item.price) else {
            return Ok(Err(Refusal::invalid(
                format!("{field}.unit_price"),
                "the product has no price in the replica: give one",
            )));
        };
        let gross = unit_price * Amount::from(l.quantity);
        let discount = l.discount.unwrap_or(Amount::ZERO);
        if discount > gross {
            return Ok(Err(Refusal::invalid(
                format!("{field}.discount"),
                format!("{discount} is more than the line's {gross}"),
            )));
        }
        if item.tracks_stock && !item.backorders {
            let e = wanted.entry(item.stock_id).or_insert((0, i));
            e.0 += l.quantity;
        }
        let line_total = gross - discount;
        total += line_total;
        let priced_by_till = l.unit_price.is_some() || !discount.is_zero();
        let item_row = if item.variation_id != 0 {
            item.variation_id
        } else {
            item.product_id
        };
        let divisor = if priced_by_till {
            net_divisor(tx, item_row)?
        } else {
            Amount::ONE
        };
        stock_rows.push(item.stock_id);
        lines.push(SaleLine {
            line_no: u32::try_from(i + 1).unwrap_or(u32::MAX),
            product_id: item.product_id,
            variation_id: item.variation_id,
            sku: item.sku,
            name: item.name,
            quantity: l.quantity,
            unit_price: money(unit_price),
            discount: money(discount),
            total: money(line_total),
            priced_by_till,
            net_divisor: divisor,
        });
    }
    let mut warnings = Vec::new();
    for (stock_id, (qty, first_line)) in &wanted {
        let Some(available) = available_stock(tx, *stock_id)? else {
            continue;
        };
        if available >= *qty {
            continue;
        }
        let line = &lines[*first_line];
        warnings.push(StockWarning {
            line: line.line_no,
            product_id: line.product_id,
            variation_id: line.variation_id,
            available,
            requested: *qty,
        });
    }
    if till.oversell == OversellPolicy::Block && !warnings.is_empty() {
        let w = &warnings[0];
        return Ok(Err(Refusal::conflict(
            "insufficient_stock",
            format!(
                "lines[{}]: {} in stock at this till, {} asked",
                w.line - 1,
                w.available,
                w.requested
            ),
        )));
    }
    if till.oversell == OversellPolicy::Allow {
        warnings.clear();
    }

    // Every check passed: write.
    let (payment_method, mapped_title) = match till.payment_methods.get(&req.payment_method) {
        Some(m) => (
            m.gateway.clone(),
            Some(m.title.clone()).filter(|t| !t.is_empty()),
        ),
        None => (req.payment_method.clone(), None),
    };
    let payment_method_title = match req.payment_method_title.clone().or(mapped_title) {
        Some(t) => t,
        None => tx
            .prepare_cached(GATEWAY_TITLE)?
            .query_row(named_params! { ":id": payment_method }, |r| r.get(0))
            .optional()?
            .unwrap_or_else(|| payment_method.clone()),
    };
    let total = money(total);
    // WooCommerce taxes an order by its customer's address; a sale with no
    // billing details happened in the shop, so it carries the shop's
    // location, and the shop's tax matches what the till charged.
    let billing = match &req.billing {
        Some(b) => Some(b.clone()),
        None => {
            let base: Option<String> = tx
                .prepare_cached(BASE_LOCATION)?
                .query_row([], |r| r.get(0))
                .optional()?;
            base.filter(|b| !b.is_empty()).map(|b| {
                let (country, state) = b.split_once(':').unwrap_or((b.as_str(), ""));
                crate::domain::customers::Address {
                    country: country.to_owned(),
                    state: state.to_owned(),
                    ..Default::default()
                }
            })
        }
    };
    let number: i64 = tx
        .prepare_cached(NEXT_NUMBER)?
        .query_row([], |r| r.get(0))?;
    let number_text = format!("{}{number:06}", till.order_prefix);
    let local_id = Uuid::new_v4();
    let sale = Sale {
        local_id,
        number: number_text.clone(),
        till_id: till.till_id.clone(),
        sold_at: now_ms,
        status: till.order_status.clone(),
        paid: req.paid,
        customer: customer.as_ref(),
        billing,
        payment_method,
        payment_method_title,
        note: req.note.clone(),
        lines: lines.clone(),
        total,
    };
    let outbox_id = outbox::enqueue(
        tx,
        &Payload::Sale(sale.clone()),
        &local_id.to_string(),
        &format!("sale {number_text}"),
        customer.waits_for,
        now_ms,
    )?;
    tx.prepare_cached(INSERT_ORDER)?.execute(named_params! {
        ":id": local_id.to_string(),
        ":number": number,
        ":number_text": number_text,
        ":outbox_id": outbox_id.to_string(),
        ":customer_id": customer.upstream_id.unwrap_or(0),
        ":customer_local_id": customer.local_id.map(|u| u.to_string()),
        ":billing": sale.billing.as_ref().map(to_json).transpose()?,
        ":payment_method": sale.payment_method,
        ":payment_method_title": sale.payment_method_title,
        ":paid": sale.paid,
        ":note": sale.note,
        ":total": total.to_string(),
        ":sold_at": now_ms,
    })?;
    let mut insert_line = tx.prepare_cached(INSERT_LINE)?;
    for (l, stock_id) in lines.iter().zip(&stock_rows) {
        insert_line.execute(named_params! {
            ":order_id": local_id.to_string(),
            ":line_no": l.line_no,
            ":product_id": l.product_id,
            ":variation_id": l.variation_id,
            ":stock_id": stock_id,
            ":sku": l.sku,
            ":name": l.name,
            ":quantity": l.quantity,
            ":unit_price": l.unit_price.to_string(),
            ":discount": l.discount.to_string(),
            ":total": l.total.to_string(),
        })?;
    }
    Ok(Ok(SaleAccepted {
        id: local_id,
        number: number_text,
        outbox_id,
        total,
        lines,
        warnings,
    }))
}

/// What the shop answered for a created order, in the till's terms.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderConfirmation {
    pub upstream_id: UpstreamId,
    pub number: String,
    pub total: Amount,
    /// Per local line (in order): the upstream line id and the stock the shop
    /// reduced for it, if it said.
    pub lines: Vec<(u32, UpstreamId, Option<i64>)>,
}

/// Records that the shop created the sale's order.
pub fn confirm_sale(
    tx: &Transaction<'_>,
    entry: Uuid,
    local_id: Uuid,
    c: &OrderConfirmation,
    now_ms: i64,
) -> Result<(), StoreError> {
    let id = local_id.to_string();
    tx.prepare_cached(CONFIRM_ORDER)?.execute(named_params! {
        ":id": id, ":upstream_id": c.upstream_id, ":number": c.number, ":total": c.total.to_string(),
    })?;
    for (line_no, line_id, reduced) in &c.lines {
        tx.prepare_cached(CONFIRM_LINE)?.execute(named_params! {
            ":id": id, ":line_no": line_no, ":line_id": line_id,
        })?;
        if let Some(qty) = reduced.filter(|q| *q != 0) {
            let stock_id: Option<UpstreamId> = tx
                .prepare_cached(LINE_STOCK_ROW)?
                .query_row(named_params! { ":id": id, ":line_no": line_no }, |r| {
                    r.get(0)
                })
                .optional()?;
            if let Some(stock_id) = stock_id {
                tx.prepare_cached(TAKE_REDUCED_STOCK)?
                    .execute(named_params! { ":id": stock_id, ":qty": qty })?;
            }
        }
    }
    outbox::confirm(tx, entry, c.upstream_id, now_ms)
}

/// A local sale once the shop has it: its order id and line ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamOrder {
    pub id: UpstreamId,
    /// local line number → upstream line item id.
    pub lines: BTreeMap<u32, UpstreamId>,
}

/// The upstream order of a local sale, once confirmed.
pub fn upstream_order(
    conn: &Connection,
    local_id: Uuid,
) -> Result<Option<UpstreamOrder>, StoreError> {
    let id = local_id.to_string();
    let upstream: Option<Option<UpstreamId>> = conn
        .prepare_cached("SELECT upstream_id FROM local_orders WHERE id = :id")?
        .query_row(named_params! { ":id": id }, |r| r.get(0))
        .optional()?;
    let Some(Some(upstream)) = upstream else {
        return Ok(None);
    };
    let mut stmt = conn.prepare_cached(
        "SELECT line_no, upstream_line_id FROM local_order_lines WHERE order_id = :id AND upstream_line_id IS NOT NULL",
    )?;
    let lines = stmt
        .query_map(named_params! { ":id": id }, |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<BTreeMap<u32, UpstreamId>, _>>()?;
    Ok(Some(UpstreamOrder {
        id: upstream,
        lines,
    }))
}

/// Whether the shop counts the stock a line of a local sale takes.
pub fn line_tracks_stock(
    conn: &Connection,
    local_id: Uuid,
    line_no: u32,
) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT p.manage_stock <> 'no' FROM local_order_lines l JOIN products p ON p.id = l.stock_id
             WHERE l.order_id = :id AND l.line_no = :line_no",
        )?
        .query_row(named_params! { ":id": local_id.to_string(), ":line_no": line_no }, |r| r.get(0))
        .optional()?
        .unwrap_or(false))
}

/// A local sale by its till number (`POS1-000123`) or id, for tests and the CLI.
pub fn local_order_id_by_number(
    conn: &Connection,
    number: &str,
) -> Result<Option<Uuid>, StoreError> {
    let id: Option<String> = conn
        .prepare_cached("SELECT id FROM local_orders WHERE number_text = :n")?
        .query_row(named_params! { ":n": number }, |r| r.get(0))
        .optional()?;
    Ok(id.and_then(|s| Uuid::parse_str(&s).ok()))
}
