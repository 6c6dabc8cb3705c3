//! What the replayer records once the shop answered: the confirmation with
//! the upstream ids, the shop's objects mirrored into the replica, and the
//! events a manager must see (stock the shop did not take, totals that
//! differ, a stock count that moved under an adjustment, a parked entry).

use uuid::Uuid;

use super::send::Outcome;
use crate::domain::UpstreamId;
use crate::domain::orders::Order;
use crate::domain::outbox::{OutboxEntry, Return, Sale, StockAdjustment};
use crate::domain::time::unix_millis_now;
use crate::store::events::{self, Level};
use crate::store::till::{customers, returns, sales, stock};
use crate::store::{Store, StoreError, WriteStamp, orders, outbox};
use crate::upstream::writes::CreatedOrder;

fn stamp(now_ms: i64) -> WriteStamp {
    WriteStamp {
        run: None,
        now_ms,
        allow_equal: false,
    }
}

/// The sale's order exists upstream.
pub async fn sale_created(
    store: &Store,
    entry: &OutboxEntry,
    sale: &Sale,
    created: CreatedOrder,
) -> Result<Outcome, StoreError> {
    let order = created.order;
    // The shop keeps the lines in the order sent; match by position, and by
    // product where a line was merged or dropped.
    let mut lines = Vec::with_capacity(sale.lines.len());
    let mut notes = Vec::new();
    for (i, l) in sale.lines.iter().enumerate() {
        let by_position = order
            .line_items
            .get(i)
            .filter(|u| u.product_id == l.product_id && u.variation_id == l.variation_id);
        let found = by_position.map(|u| (i, u)).or_else(|| {
            order
                .line_items
                .iter()
                .enumerate()
                .find(|(_, u)| u.product_id == l.product_id && u.variation_id == l.variation_id)
        });
        match found {
            Some((j, u)) => {
                let reduced = created.reduced_stock.get(j).copied().flatten();
                lines.push((l.line_no, u.id, reduced));
            }
            None => notes.push(format!(
                "line {} ({}) is missing upstream",
                l.line_no, l.name
            )),
        }
    }
    let confirmation = sales::OrderConfirmation {
        upstream_id: order.id,
        number: order.number.clone(),
        total: order.total,
        lines,
    };
    if order.total != sale.total {
        notes.push(format!(
            "the shop's total {} differs from the till's {}",
            order.total, sale.total
        ));
    }
    let stock: Vec<(UpstreamId, UpstreamId)> = sale
        .lines
        .iter()
        .map(|l| (l.product_id, l.variation_id))
        .collect();
    let not_reduced: Vec<u32> = confirmation
        .lines
        .iter()
        .filter(|(_, _, r)| r.is_none())
        .map(|(n, _, _)| *n)
        .collect();
    let (id, local, number) = (entry.id, sale.local_id, sale.number.clone());
    store
        .write(move |tx| {
            let now = unix_millis_now();
            sales::confirm_sale(tx, id, local, &confirmation, now)?;
            orders::upsert_orders(tx, stamp(now), std::slice::from_ref(&order))?;
            for line_no in &not_reduced {
                if sales::line_tracks_stock(tx, local, *line_no)? {
                    events::append(
                        tx,
                        now,
                        Level::Warn,
                        "stock_not_reduced",
                        Some("orders"),
                        &format!(
                            "{number}: the shop did not take stock for line {line_no} (order #{})",
                            order.number
                        ),
                    )?;
                }
            }
            for note in &notes {
                events::append(
                    tx,
                    now,
                    Level::Warn,
                    "sale_differs",
                    Some("orders"),
                    &format!("{number} (order #{}): {note}", order.number),
                )?;
            }
            Ok(())
        })
        .await?;
    tracing::info!(number = %sale.number, "sale confirmed");
    Ok(Outcome::Confirmed { stock })
}

/// The return's refund exists upstream.
pub async fn refund_created(
    store: &Store,
    entry: &OutboxEntry,
    ret: &Return,
    refund_id: UpstreamId,
) -> Result<Outcome, StoreError> {
    let (id, local) = (entry.id, ret.local_id);
    store
        .write(move |tx| returns::confirm_refund(tx, id, local, refund_id, unix_millis_now()))
        .await?;
    let stock = if ret.restock {
        ret.lines
            .iter()
            .map(|l| (l.product_id, l.variation_id))
            .collect()
    } else {
        Vec::new()
    };
    Ok(Outcome::Confirmed { stock })
}

/// An order's status was set.
pub async fn order_updated(
    store: &Store,
    entry: &OutboxEntry,
    order: Order,
) -> Result<Outcome, StoreError> {
    let id = entry.id;
    store
        .write(move |tx| {
            let now = unix_millis_now();
            orders::upsert_orders(tx, stamp(now), std::slice::from_ref(&order))?;
            outbox::confirm(tx, id, order.id, now)
        })
        .await?;
    Ok(Outcome::Confirmed { stock: Vec::new() })
}

/// The customer exists upstream (created now, or found by email).
pub async fn customer_created(
    store: &Store,
    entry: &OutboxEntry,
    local_id: Uuid,
    upstream_id: UpstreamId,
) -> Result<Outcome, StoreError> {
    let id = entry.id;
    store
        .write(move |tx| {
            customers::confirm_customer(tx, id, local_id, upstream_id, unix_millis_now())
        })
        .await?;
    Ok(Outcome::Confirmed { stock: Vec::new() })
}

/// An idempotent change (customer details) went through.
pub async fn confirmed(
    store: &Store,
    entry: &OutboxEntry,
    upstream_id: UpstreamId,
) -> Result<Outcome, StoreError> {
    let id = entry.id;
    store
        .write(move |tx| outbox::confirm(tx, id, upstream_id, unix_millis_now()))
        .await?;
    Ok(Outcome::Confirmed { stock: Vec::new() })
}

/// A stock adjustment was set and read back. A read-back other than what
/// was set means someone else changed the stock meanwhile: reported.
pub async fn adjustment_done(
    store: &Store,
    entry: &OutboxEntry,
    adj: &StockAdjustment,
    before: i64,
    set_to: i64,
    after: i64,
) -> Result<Outcome, StoreError> {
    let (id, local) = (entry.id, adj.local_id);
    let stock_id = if adj.variation_id != 0 {
        adj.variation_id
    } else {
        adj.product_id
    };
    let label = entry.label.clone();
    store
        .write(move |tx| {
            let now = unix_millis_now();
            stock::confirm_adjustment(tx, id, local, stock_id, before, set_to, after, now)?;
            if after != set_to {
                events::append(
                    tx,
                    now,
                    Level::Warn,
                    "stock_changed",
                    Some("products"),
                    &format!("{label}: read {before}, set {set_to}, read back {after}: the stock changed at the same time elsewhere"),
                )?;
            }
            Ok(())
        })
        .await?;
    Ok(Outcome::Confirmed { stock: Vec::new() })
}

/// Parks an entry for the manager with the shop's code and message.
pub async fn park(
    store: &Store,
    entry: &OutboxEntry,
    code: &str,
    message: &str,
) -> Result<(), StoreError> {
    let (id, code, message, label) = (
        entry.id,
        code.to_owned(),
        message.to_owned(),
        entry.label.clone(),
    );
    store
        .write(move |tx| {
            let now = unix_millis_now();
            outbox::set_state(
                tx,
                id,
                crate::domain::outbox::EntryState::Rejected,
                now,
                Some((&code, &message)),
                now,
            )?;
            events::append(
                tx,
                now,
                Level::Error,
                "outbox_rejected",
                None,
                &format!("{label} refused by the shop ({code}): {message}"),
            )
        })
        .await
}
