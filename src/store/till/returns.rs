//! Returns and pickups against an order the till sold (local id) or one
//! mirrored from the shop (upstream id).

use rusqlite::{Connection, OptionalExtension, Transaction, named_params};
use serde::Serialize;
use uuid::Uuid;

use super::resolve_product;
use crate::domain::Resource;
use crate::domain::lookup::views::RiskView;
use crate::domain::orders::{RefundSummary, RiskRecommendation};
use crate::domain::outbox::{OrderRef, Payload, Refusal, Return, ReturnLine};
use crate::domain::till::{CompletionRequest, LineSel, ProductSel, ReturnRequest};
use crate::domain::{Amount, UpstreamId, money};
use crate::store::{StoreError, events, outbox};

const LOCAL_ORDER: &str = "
SELECT o.number_text, o.total, o.outbox_id, e.state, o.upstream_id,
       (SELECT m.risk_recommendation FROM orders m WHERE m.id = o.upstream_id)
FROM local_orders o JOIN outbox e ON e.id = o.outbox_id WHERE o.id = :id";
const LOCAL_ORDER_BY_UPSTREAM: &str = "SELECT id FROM local_orders WHERE upstream_id = :id";
const LOCAL_LINES: &str = "
SELECT line_no, product_id, variation_id, stock_id, quantity, total, upstream_line_id
FROM local_order_lines WHERE order_id = :id ORDER BY line_no";
const REPLICA_ORDER: &str =
    "SELECT number, status, total, refund_summary, risk_recommendation FROM orders WHERE id = :id";
const REPLICA_REFUND_SUMMARY: &str = "SELECT refund_summary FROM orders WHERE id = :id";
const REPLICA_LINES: &str = "
SELECT id, product_id, variation_id, quantity, total, total_tax FROM order_line_items
WHERE order_id = :id ORDER BY id";
/// Units of one line given back by the refunds the replica mirrors (on the
/// shop's order and line item; upstream quantities are negative).
const MIRRORED_RETURNED: &str = "
SELECT COALESCE(SUM(ABS(l.quantity)), 0) FROM refund_line_items l JOIN refunds r ON r.id = l.refund_id
WHERE r.order_id = :order AND l.refunded_item_id = :item";
/// Units of one line given back by this till's returns that the replica
/// does not mirror yet. A return the shop confirmed carries its refund's id
/// (`upstream_id`); once that refund is mirrored it is counted there, not
/// here. Discarded and refused returns give nothing back. A till sale's
/// line is named by its line number, a shop order's by its line item id.
const PENDING_RETURNED: &str = "
SELECT COALESCE(SUM(l.quantity), 0) FROM local_refunds r
JOIN local_refund_lines l ON l.refund_id = r.id
JOIN outbox e ON e.id = r.outbox_id
WHERE ((r.order_local_id = :local AND l.line_ref = :line_no)
       OR (r.order_id = :order AND l.line_ref = :item))
  AND e.state NOT IN ('discarded', 'rejected')
  AND NOT EXISTS (SELECT 1 FROM refunds m WHERE m.id = r.upstream_id)";
const LOCAL_REFUNDED: &str = "
SELECT r.amount FROM local_refunds r JOIN outbox e ON e.id = r.outbox_id
WHERE e.state NOT IN ('discarded', 'rejected')
  AND (r.upstream_id IS NULL OR r.upstream_id NOT IN (SELECT id FROM refunds))
  AND (r.order_local_id = :local OR r.order_id = :upstream)";
const LOCAL_COMPLETION: &str = "
SELECT 1 FROM local_completions c JOIN outbox e ON e.id = c.outbox_id
WHERE e.state <> 'discarded' AND (c.order_local_id = :local OR c.order_id = :upstream)";
const INSERT_REFUND: &str = "
INSERT INTO local_refunds (id, outbox_id, order_local_id, order_id, amount, reason, restock, created_at)
VALUES (:id, :outbox_id, :local, :upstream, :amount, :reason, :restock, :now)";
const INSERT_REFUND_LINE: &str = "
INSERT INTO local_refund_lines (refund_id, line_ref, product_id, variation_id, stock_id, quantity, amount)
VALUES (:id, :line_ref, :product_id, :variation_id, :stock_id, :quantity, :amount)";
const INSERT_COMPLETION: &str = "
INSERT INTO local_completions (id, outbox_id, order_local_id, order_id, created_at,
                               risk_override_by, risk_override_reason)
VALUES (:id, :outbox_id, :local, :upstream, :now, :override_by, :override_reason)";

/// One order line, by every name a return can give it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineKeys {
    /// The shop's order and line item, once the shop has them.
    pub order: Option<UpstreamId>,
    pub item: Option<UpstreamId>,
    /// A till sale (its local id) and the line's number in it.
    pub local: Option<Uuid>,
    pub line_no: Option<i64>,
}

/// Units of a line given back so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Returned {
    /// Every return, each counted once.
    pub total: i64,
    /// Of `total`, this till's returns that the replica does not mirror yet.
    pub pending: i64,
}

/// What has been given back of one line: the shop's refunds mirrored in the
/// replica and this till's returns not mirrored yet. The returns desk shows
/// it and a new return is checked against it, so both agree.
pub fn returned_units(conn: &Connection, line: &LineKeys) -> Result<Returned, StoreError> {
    let mirrored: i64 = match (line.order, line.item) {
        (Some(order), Some(item)) => conn
            .prepare_cached(MIRRORED_RETURNED)?
            .query_row(named_params! { ":order": order, ":item": item }, |r| {
                r.get(0)
            })?,
        _ => 0,
    };
    let pending: i64 = conn.prepare_cached(PENDING_RETURNED)?.query_row(
        named_params! {
            ":local": line.local.map(|u| u.to_string()), ":line_no": line.line_no,
            ":order": line.order, ":item": line.item,
        },
        |r| r.get(0),
    )?;
    Ok(Returned {
        total: mirrored + pending,
        pending,
    })
}

/// What the shop's refunds of `order` add up to, as listed on the order.
fn mirrored_refunds_total(conn: &Connection, order: UpstreamId) -> Result<Amount, StoreError> {
    let summary: Option<String> = conn
        .prepare_cached(REPLICA_REFUND_SUMMARY)?
        .query_row(named_params! { ":id": order }, |r| r.get(0))
        .optional()?;
    Ok(refund_summary_total(summary.as_deref().unwrap_or("[]")))
}

fn refund_summary_total(json: &str) -> Amount {
    serde_json::from_str::<Vec<RefundSummary>>(json)
        .unwrap_or_default()
        .iter()
        .map(|r| r.total.abs())
        .sum()
}

struct OrderLine {
    /// What the till names the line by: the local line number of a sale
    /// asked for by its local id, else the shop's line item id.
    selected_by: Option<UpstreamId>,
    /// What the return records: the local line number of a till sale, or
    /// the shop's line item id.
    line_ref: UpstreamId,
    keys: LineKeys,
    product_id: UpstreamId,
    variation_id: UpstreamId,
    stock_id: UpstreamId,
    /// Units sold on the line.
    quantity: i64,
    /// What one unit cost the customer.
    unit_amount: Amount,
}

struct OrderInfo {
    reference: OrderRef,
    label: String,
    /// The sale's entry, for a local order: returns wait for it.
    sale_entry: Option<Uuid>,
    total: Amount,
    completed: bool,
    lines: Vec<OrderLine>,
    /// The shop's fraud-risk recommendation, once its order is mirrored.
    risk: Option<RiskRecommendation>,
}

/// Parses a path id: a UUID is a till sale, a number an upstream order.
pub fn parse_order_ref(s: &str) -> Option<OrderRef> {
    if let Ok(u) = Uuid::parse_str(s) {
        return Some(OrderRef::Local(u));
    }
    s.parse::<UpstreamId>()
        .ok()
        .filter(|n| *n > 0)
        .map(OrderRef::Upstream)
}

fn order_info(conn: &Connection, r: OrderRef) -> Result<Option<OrderInfo>, StoreError> {
    match r {
        OrderRef::Local(id) => local_order_info(conn, id, LineNames::Local),
        OrderRef::Upstream(id) => {
            let local: Option<String> = conn
                .prepare_cached(LOCAL_ORDER_BY_UPSTREAM)?
                .query_row(named_params! { ":id": id }, |r| r.get(0))
                .optional()?;
            // A sale made here, asked for by the shop's id: the till names
            // its lines as that order shows them (`GET /api/orders/{id}`).
            match local.and_then(|s| Uuid::parse_str(&s).ok()) {
                Some(local) => local_order_info(conn, local, LineNames::Upstream),
                None => replica_order_info(conn, id),
            }
        }
    }
}

/// How a till names the lines of one of its own sales.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineNames {
    /// By line number (the sale asked for by its local id).
    Local,
    /// By the shop's line item id (the sale asked for by the shop's id).
    Upstream,
}

fn local_order_info(
    conn: &Connection,
    id: Uuid,
    names: LineNames,
) -> Result<Option<OrderInfo>, StoreError> {
    let key = id.to_string();
    type Row = (
        String,
        String,
        String,
        String,
        Option<UpstreamId>,
        Option<String>,
    );
    let row: Option<Row> = conn
        .prepare_cached(LOCAL_ORDER)?
        .query_row(named_params! { ":id": key }, |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .optional()?;
    let Some((number, total, entry, state, upstream, risk)) = row else {
        return Ok(None);
    };
    if state == "discarded" {
        return Ok(None);
    }
    let mut stmt = conn.prepare_cached(LOCAL_LINES)?;
    let lines = stmt
        .query_map(named_params! { ":id": key }, |r| {
            let line_no: UpstreamId = r.get(0)?;
            let qty: i64 = r.get(4)?;
            let total: String = r.get(5)?;
            let total: Amount = total.parse().unwrap_or_default();
            let item: Option<UpstreamId> = r.get(6)?;
            Ok(OrderLine {
                selected_by: match names {
                    LineNames::Local => Some(line_no),
                    LineNames::Upstream => item,
                },
                line_ref: line_no,
                keys: LineKeys {
                    order: upstream,
                    item,
                    local: Some(id),
                    line_no: Some(line_no),
                },
                product_id: r.get(1)?,
                variation_id: r.get(2)?,
                stock_id: r.get(3)?,
                quantity: qty,
                unit_amount: total / Amount::from(qty.max(1)),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let completed = has_completion(conn, Some(&key), None)?;
    // Refunds the shop made of the sale's order (at this till and since
    // mirrored, or at the shop) count against what is left to refund.
    let refunded_upstream = match upstream {
        Some(order) => mirrored_refunds_total(conn, order)?,
        None => Amount::ZERO,
    };
    Ok(Some(OrderInfo {
        reference: OrderRef::Local(id),
        label: number,
        sale_entry: Uuid::parse_str(&entry).ok(),
        total: total.parse::<Amount>().unwrap_or_default() - refunded_upstream,
        completed,
        lines,
        risk: risk.as_deref().and_then(RiskRecommendation::parse),
    }))
}

fn replica_order_info(conn: &Connection, id: UpstreamId) -> Result<Option<OrderInfo>, StoreError> {
    type Row = (String, String, String, String, Option<String>);
    let row: Option<Row> = conn
        .prepare_cached(REPLICA_ORDER)?
        .query_row(named_params! { ":id": id }, |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .optional()?;
    let Some((number, status, total, refunds, risk)) = row else {
        return Ok(None);
    };
    let refunded = refund_summary_total(&refunds);
    let mut stmt = conn.prepare_cached(REPLICA_LINES)?;
    let raw = stmt
        .query_map(named_params! { ":id": id }, |r| {
            Ok((
                r.get::<_, UpstreamId>(0)?,
                r.get::<_, UpstreamId>(1)?,
                r.get::<_, UpstreamId>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut lines = Vec::with_capacity(raw.len());
    for (line_id, product_id, variation_id, qty, total, tax) in raw {
        let gross =
            total.parse::<Amount>().unwrap_or_default() + tax.parse::<Amount>().unwrap_or_default();
        let sel = ProductSel::Id {
            product_id,
            variation_id: Some(variation_id),
        };
        let stock_id = match resolve_product(conn, &sel, "line")? {
            Ok(p) => p.stock_id,
            Err(_) => {
                if variation_id != 0 {
                    variation_id
                } else {
                    product_id
                }
            }
        };
        lines.push(OrderLine {
            selected_by: Some(line_id),
            line_ref: line_id,
            keys: LineKeys {
                order: Some(id),
                item: Some(line_id),
                ..LineKeys::default()
            },
            product_id,
            variation_id,
            stock_id,
            quantity: qty,
            unit_amount: gross / Amount::from(qty.max(1)),
        });
    }
    let completed = status == "completed" || has_completion(conn, None, Some(id))?;
    Ok(Some(OrderInfo {
        reference: OrderRef::Upstream(id),
        // Shopify's order name carries its `#` already.
        label: if number.starts_with('#') {
            number
        } else {
            format!("#{number}")
        },
        sale_entry: None,
        total: total.parse::<Amount>().unwrap_or_default() - refunded,
        completed,
        lines,
        risk: risk.as_deref().and_then(RiskRecommendation::parse),
    }))
}

fn has_completion(
    conn: &Connection,
    local: Option<&str>,
    upstream: Option<UpstreamId>,
) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(LOCAL_COMPLETION)?
        .query_row(
            named_params! { ":local": local, ":upstream": upstream },
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

fn keys(r: OrderRef) -> (Option<String>, Option<UpstreamId>) {
    match r {
        OrderRef::Local(id) => (Some(id.to_string()), None),
        OrderRef::Upstream(id) => (None, Some(id)),
    }
}

/// A return or pickup accepted and stored.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeAccepted {
    pub id: Uuid,
    pub outbox_id: Uuid,
    pub order: String,
    pub amount: Option<Amount>,
    /// The shop's fraud-risk recommendation for the order, when it gives
    /// one: a flagged order was let through (investigate, or cancel with
    /// an override) and the till should say so.
    pub risk: Option<RiskView>,
}

/// Records a return against an order and queues its refund.
pub fn record_return(
    tx: &Transaction<'_>,
    order: OrderRef,
    req: &ReturnRequest,
    now_ms: i64,
) -> Result<Result<ChangeAccepted, Refusal>, StoreError> {
    let Some(info) = order_info(tx, order)? else {
        return Ok(Err(Refusal::NotFound("no such order".to_owned())));
    };
    let (local, upstream) = keys(info.reference);
    let mut lines: Vec<(ReturnLine, UpstreamId)> = Vec::new();
    for (i, l) in req.lines.iter().enumerate() {
        let field = format!("lines[{i}]");
        let found = match &l.line {
            LineSel::Line(n) => info.lines.iter().find(|o| o.selected_by == Some(*n)),
            LineSel::Product(sel) => {
                let p = match resolve_product(tx, sel, &field)? {
                    Ok(p) => p,
                    Err(r) => return Ok(Err(r)),
                };
                info.lines
                    .iter()
                    .find(|o| o.product_id == p.product_id && o.variation_id == p.variation_id)
            }
        };
        let Some(line) = found else {
            return Ok(Err(Refusal::invalid(
                field,
                format!("not a line of order {}", info.label),
            )));
        };
        if lines.iter().any(|(r, _)| r.line_ref == line.line_ref) {
            return Ok(Err(Refusal::invalid(
                field,
                "names a line already returned above",
            )));
        }
        let left = line.quantity - returned_units(tx, &line.keys)?.total;
        if l.quantity > left {
            return Ok(Err(Refusal::invalid(
                format!("{field}.quantity"),
                format!("only {left} left to return on this line"),
            )));
        }
        lines.push((
            ReturnLine {
                line_ref: line.line_ref,
                product_id: line.product_id,
                variation_id: line.variation_id,
                quantity: l.quantity,
                amount: money((line.unit_amount * Amount::from(l.quantity)).round_dp(2)),
            },
            line.stock_id,
        ));
    }
    let amount = money(
        req.amount
            .unwrap_or_else(|| lines.iter().map(|(l, _)| l.amount).sum()),
    );
    if amount <= Amount::ZERO {
        return Ok(Err(Refusal::invalid("amount", "must be above zero")));
    }
    let mut stmt = tx.prepare_cached(LOCAL_REFUNDED)?;
    let refunded: Amount = stmt
        .query_map(
            named_params! { ":local": local, ":upstream": upstream },
            |r| r.get::<_, String>(0),
        )?
        .map(|a| a.map(|a| a.parse::<Amount>().unwrap_or_default()))
        .sum::<Result<Amount, _>>()?;
    let left = info.total - refunded;
    if amount > left {
        return Ok(Err(Refusal::invalid(
            "amount",
            format!(
                "{amount} is more than the {left} left to refund on order {}",
                info.label
            ),
        )));
    }
    let local_id = Uuid::new_v4();
    let ret = Return {
        local_id,
        order: info.reference,
        amount,
        reason: req.reason.clone(),
        restock: req.restock,
        lines: lines.iter().map(|(l, _)| l.clone()).collect(),
    };
    let outbox_id = outbox::enqueue(
        tx,
        &Payload::Refund(ret),
        &local_id.to_string(),
        &format!("return of {amount} on {}", info.label),
        info.sale_entry,
        now_ms,
    )?;
    tx.prepare_cached(INSERT_REFUND)?.execute(named_params! {
        ":id": local_id.to_string(), ":outbox_id": outbox_id.to_string(), ":local": local,
        ":upstream": upstream, ":amount": amount.to_string(), ":reason": req.reason,
        ":restock": req.restock, ":now": now_ms,
    })?;
    for (l, stock_id) in &lines {
        tx.prepare_cached(INSERT_REFUND_LINE)?
            .execute(named_params! {
                ":id": local_id.to_string(), ":line_ref": l.line_ref, ":product_id": l.product_id,
                ":variation_id": l.variation_id, ":stock_id": stock_id, ":quantity": l.quantity,
                ":amount": l.amount.to_string(),
            })?;
    }
    Ok(Ok(ChangeAccepted {
        id: local_id,
        outbox_id,
        order: info.label,
        amount: Some(amount),
        risk: info.risk.map(RiskView::of),
    }))
}

/// The event kind of a pickup handed over against the shop's advice.
pub const RISK_OVERRIDE_EVENT: &str = "risk_override";

/// Records a pickup handed over and queues the order's completion. An order
/// the shop recommends cancelling is refused unless `req` carries an
/// override, which is then kept with the completion and written to the
/// event log, in the same transaction.
pub fn record_completion(
    tx: &Transaction<'_>,
    order: OrderRef,
    req: &CompletionRequest,
    now_ms: i64,
) -> Result<Result<ChangeAccepted, Refusal>, StoreError> {
    let Some(info) = order_info(tx, order)? else {
        return Ok(Err(Refusal::NotFound("no such order".to_owned())));
    };
    if info.completed {
        return Ok(Err(Refusal::conflict(
            "already_completed",
            format!("order {} is already completed", info.label),
        )));
    }
    let needs_override = info.risk.is_some_and(RiskRecommendation::needs_override);
    // An override is only kept where it overrides something.
    let risk_override = req.risk_override.as_ref().filter(|_| needs_override);
    if needs_override && risk_override.is_none() {
        return Ok(Err(Refusal::conflict(
            "risk_override_required",
            format!(
                "the shop recommends cancelling order {} (fraud risk); hand it over only with a risk_override saying who decides and why",
                info.label
            ),
        )));
    }
    let (local, upstream) = keys(info.reference);
    let local_id = Uuid::new_v4();
    let outbox_id = outbox::enqueue(
        tx,
        &Payload::Complete {
            local_id,
            order: info.reference,
        },
        &local_id.to_string(),
        &format!("pickup of {}", info.label),
        info.sale_entry,
        now_ms,
    )?;
    tx.prepare_cached(INSERT_COMPLETION)?
        .execute(named_params! {
            ":id": local_id.to_string(), ":outbox_id": outbox_id.to_string(), ":local": local,
            ":upstream": upstream, ":now": now_ms,
            ":override_by": risk_override.map(|o| o.by.as_str()),
            ":override_reason": risk_override.map(|o| o.reason.as_str()),
        })?;
    if let Some(o) = risk_override {
        let message = format!(
            "pickup of {} handed over although the shop recommends cancelling it; decided by {:?} at till {:?}: {}",
            info.label, o.by, req.till, o.reason
        );
        events::append(
            tx,
            now_ms,
            events::Level::Warn,
            RISK_OVERRIDE_EVENT,
            Some(Resource::Orders.as_str()),
            &message,
        )?;
    }
    Ok(Ok(ChangeAccepted {
        id: local_id,
        outbox_id,
        order: info.label,
        amount: None,
        risk: info.risk.map(RiskView::of),
    }))
}

/// Records the shop's id of a refund.
pub fn confirm_refund(
    tx: &Transaction<'_>,
    entry: Uuid,
    local_id: Uuid,
    upstream_id: UpstreamId,
    now_ms: i64,
) -> Result<(), StoreError> {
    tx.prepare_cached("UPDATE local_refunds SET upstream_id = :u WHERE id = :id")?
        .execute(named_params! { ":id": local_id.to_string(), ":u": upstream_id })?;
    outbox::confirm(tx, entry, upstream_id, now_ms)
}
