//! Manual stock adjustments (counted, damaged, received) and what the
//! replayer learns about stock from the shop.

use rusqlite::{Transaction, named_params};
use serde::Serialize;
use uuid::Uuid;

use super::{available_stock, resolve_product};
use crate::domain::UpstreamId;
use crate::domain::outbox::{Payload, Refusal, StockAdjustment};
use crate::domain::till::AdjustmentRequest;
use crate::store::{StoreError, outbox};

const INSERT: &str = "
INSERT INTO local_stock_adjustments (id, outbox_id, product_id, variation_id, stock_id, delta, reason, created_at)
VALUES (:id, :outbox_id, :product_id, :variation_id, :stock_id, :delta, :reason, :now)";
const RECORD_RESULT: &str = "
UPDATE local_stock_adjustments SET read_before = :before, set_to = :set_to, read_back = :after
WHERE id = :id";
/// The shop's stock as just read; the replica's row follows it.
const SET_REPLICA_STOCK: &str = "UPDATE products SET stock_quantity = :qty WHERE id = :id";

/// An adjustment accepted and stored.
#[derive(Debug, Clone, Serialize)]
pub struct AdjustmentAccepted {
    pub id: Uuid,
    pub outbox_id: Uuid,
    pub product_id: UpstreamId,
    pub variation_id: UpstreamId,
    pub delta: i64,
    /// Stock at the till after the change.
    pub available: Option<i64>,
}

/// Records a stock adjustment and queues it.
pub fn record_adjustment(
    tx: &Transaction<'_>,
    req: &AdjustmentRequest,
    now_ms: i64,
) -> Result<Result<AdjustmentAccepted, Refusal>, StoreError> {
    let item = match resolve_product(tx, &req.product, "product")? {
        Ok(p) => p,
        Err(r) => return Ok(Err(r)),
    };
    if !item.tracks_stock {
        return Ok(Err(Refusal::invalid(
            "product_id",
            "the shop does not count this product's stock",
        )));
    }
    // A variation whose stock lives on its parent is adjusted on the parent.
    let (product_id, variation_id) = if item.stock_id == item.variation_id || item.variation_id == 0
    {
        (item.product_id, item.variation_id)
    } else {
        (item.stock_id, 0)
    };
    let local_id = Uuid::new_v4();
    let adj = StockAdjustment {
        local_id,
        product_id,
        variation_id,
        delta: req.delta,
        reason: req.reason.clone(),
        read_before: None,
        set_to: None,
    };
    let label = format!(
        "stock {:+} on {}",
        req.delta,
        item.sku
            .clone()
            .unwrap_or_else(|| item.stock_id.to_string())
    );
    let outbox_id = outbox::enqueue(
        tx,
        &Payload::StockAdjust(adj),
        &local_id.to_string(),
        &label,
        None,
        now_ms,
    )?;
    tx.prepare_cached(INSERT)?.execute(named_params! {
        ":id": local_id.to_string(), ":outbox_id": outbox_id.to_string(),
        ":product_id": product_id, ":variation_id": variation_id, ":stock_id": item.stock_id,
        ":delta": req.delta, ":reason": req.reason, ":now": now_ms,
    })?;
    Ok(Ok(AdjustmentAccepted {
        id: local_id,
        outbox_id,
        product_id,
        variation_id,
        delta: req.delta,
        available: available_stock(tx, item.stock_id)?,
    }))
}

/// Records what an adjustment found, set and read back, and confirms it.
#[allow(clippy::too_many_arguments)]
pub fn confirm_adjustment(
    tx: &Transaction<'_>,
    entry: Uuid,
    local_id: Uuid,
    stock_id: UpstreamId,
    before: i64,
    set_to: i64,
    after: i64,
    now_ms: i64,
) -> Result<(), StoreError> {
    tx.prepare_cached(RECORD_RESULT)?.execute(named_params! {
        ":id": local_id.to_string(), ":before": before, ":set_to": set_to, ":after": after,
    })?;
    set_replica_stock(tx, stock_id, after)?;
    outbox::confirm(tx, entry, stock_id, now_ms)
}

/// Sets a product's stock in the replica to what the shop just said.
pub fn set_replica_stock(tx: &Transaction<'_>, id: UpstreamId, qty: i64) -> Result<(), StoreError> {
    tx.prepare_cached(SET_REPLICA_STOCK)?
        .execute(named_params! { ":id": id, ":qty": qty })?;
    Ok(())
}
