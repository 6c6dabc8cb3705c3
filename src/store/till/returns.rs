//! Returns and pickups against an order the till sold (local id) or one
//! mirrored from the shop (upstream id).

use rusqlite::{Connection, OptionalExtension, Transaction, named_params};
use serde::Serialize;
use uuid::Uuid;

use super::resolve_product;
use crate::domain::orders::RefundSummary;
use crate::domain::outbox::{OrderRef, Payload, Refusal, Return, ReturnLine};
use crate::domain::till::{LineSel, ProductSel, ReturnRequest};
use crate::domain::{Amount, UpstreamId, money};
use crate::store::{StoreError, outbox};

const LOCAL_ORDER: &str = "
SELECT o.number_text, o.total, o.outbox_id, e.state FROM local_orders o
JOIN outbox e ON e.id = o.outbox_id WHERE o.id = :id";
const LOCAL_ORDER_BY_UPSTREAM: &str = "SELECT id FROM local_orders WHERE upstream_id = :id";
const LOCAL_LINES: &str = "
SELECT line_no, product_id, variation_id, stock_id, quantity, total FROM local_order_lines
WHERE order_id = :id ORDER BY line_no";
const REPLICA_ORDER: &str =
    "SELECT number, status, total, refund_summary FROM orders WHERE id = :id";
const REPLICA_LINES: &str = "
SELECT id, product_id, variation_id, quantity, total, total_tax FROM order_line_items
WHERE order_id = :id ORDER BY id";
const REPLICA_RETURNED: &str = "
SELECT COALESCE(SUM(-l.quantity), 0) FROM refund_line_items l JOIN refunds r ON r.id = l.refund_id
WHERE r.order_id = :order AND l.refunded_item_id = :line";
/// Returns made at this till on one order line, discarded and refused ones
/// aside, and those the replica already mirrors back (counted there).
const LOCAL_RETURNED: &str = "
SELECT COALESCE(SUM(l.quantity), 0) FROM local_refund_lines l JOIN local_refunds r ON r.id = l.refund_id
JOIN outbox e ON e.id = r.outbox_id
WHERE e.state NOT IN ('discarded', 'rejected') AND l.line_ref = :line
  AND (r.upstream_id IS NULL OR r.upstream_id NOT IN (SELECT id FROM refunds))
  AND (r.order_local_id = :local OR r.order_id = :upstream)";
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
INSERT INTO local_completions (id, outbox_id, order_local_id, order_id, created_at)
VALUES (:id, :outbox_id, :local, :upstream, :now)";

struct OrderLine {
    line_ref: UpstreamId,
    product_id: UpstreamId,
    variation_id: UpstreamId,
    stock_id: UpstreamId,
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
        OrderRef::Local(id) => local_order_info(conn, id),
        OrderRef::Upstream(id) => {
            let local: Option<String> = conn
                .prepare_cached(LOCAL_ORDER_BY_UPSTREAM)?
                .query_row(named_params! { ":id": id }, |r| r.get(0))
                .optional()?;
            match local.and_then(|s| Uuid::parse_str(&s).ok()) {
                Some(local) => local_order_info(conn, local),
                None => replica_order_info(conn, id),
            }
        }
    }
}

fn local_order_info(conn: &Connection, id: Uuid) -> Result<Option<OrderInfo>, StoreError> {
    let key = id.to_string();
    let row: Option<(String, String, String, String)> = conn
        .prepare_cached(LOCAL_ORDER)?
        .query_row(named_params! { ":id": key }, |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let Some((number, total, entry, state)) = row else {
        return Ok(None);
    };
    if state == "discarded" {
        return Ok(None);
    }
    let mut stmt = conn.prepare_cached(LOCAL_LINES)?;
    let lines = stmt
        .query_map(named_params! { ":id": key }, |r| {
            let qty: i64 = r.get(4)?;
            let total: String = r.get(5)?;
            let total: Amount = total.parse().unwrap_or_default();
            Ok(OrderLine {
                line_ref: r.get(0)?,
                product_id: r.get(1)?,
                variation_id: r.get(2)?,
                stock_id: r.get(3)?,
                quantity: qty,
                unit_amount: total / Amount::from(qty.max(1)),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let completed = has_completion(conn, Some(&key), None)?;
    Ok(Some(OrderInfo {
        reference: OrderRef::Local(id),
        label: number,
        sale_entry: Uuid::parse_str(&entry).ok(),
        total: total.parse().unwrap_or_default(),
        completed,
        lines,
    }))
}

fn replica_order_info(conn: &Connection, id: UpstreamId) -> Result<Option<OrderInfo>, StoreError> {
    let row: Option<(String, String, String, String)> = conn
        .prepare_cached(REPLICA_ORDER)?
        .query_row(named_params! { ":id": id }, |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let Some((number, status, total, refunds)) = row else {
        return Ok(None);
    };
    let refunded: Amount = serde_json::from_str::<Vec<RefundSummary>>(&refunds)
        .unwrap_or_default()
        .iter()
        .map(|r| r.total.abs())
        .sum();
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
        let returned: i64 = conn
            .prepare_cached(REPLICA_RETURNED)?
            .query_row(named_params! { ":order": id, ":line": line_id }, |r| {
                r.get(0)
            })?;
        lines.push(OrderLine {
            line_ref: line_id,
            product_id,
            variation_id,
            stock_id,
            quantity: qty - returned,
            unit_amount: gross / Amount::from(qty.max(1)),
        });
    }
    let completed = status == "completed" || has_completion(conn, None, Some(id))?;
    Ok(Some(OrderInfo {
        reference: OrderRef::Upstream(id),
        label: format!("#{number}"),
        sale_entry: None,
        total: total.parse::<Amount>().unwrap_or_default() - refunded,
        completed,
        lines,
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
            LineSel::Line(n) => info.lines.iter().find(|o| o.line_ref == *n),
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
        let pending: i64 = tx.prepare_cached(LOCAL_RETURNED)?.query_row(
            named_params! { ":line": line.line_ref, ":local": local, ":upstream": upstream },
            |r| r.get(0),
        )?;
        let left = line.quantity - pending;
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
    }))
}

/// Records a pickup handed over and queues the order's completion.
pub fn record_completion(
    tx: &Transaction<'_>,
    order: OrderRef,
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
        })?;
    Ok(Ok(ChangeAccepted {
        id: local_id,
        outbox_id,
        order: info.label,
        amount: None,
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
