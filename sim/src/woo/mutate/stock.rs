//! Stock an order takes and gives back (`wc-stock-functions.php`):
//! per-line `_reduced_stock` meta, the order's "stock reduced" flag,
//! restocking refunded items. A variation that does not manage its own
//! stock uses its parent's, as `get_stock_managed_by_id()` does.

use super::Tx;
use super::catalog::touched;
use crate::woo::data::item_meta;
use crate::woo::model::{LineItem, Order, OrderStatus};

/// The id whose stock a line moves, if any manages stock.
fn stock_holder(tx: &Tx<'_>, line: &LineItem) -> Option<i64> {
    if line.variation_id != 0
        && let Some(v) = tx.store.variations.get(&line.variation_id)
    {
        if v.stock.manage {
            return Some(v.id);
        }
        return tx
            .store
            .products
            .get(&v.parent_id)
            .filter(|p| p.stock.manage)
            .map(|p| p.id);
    }
    tx.store
        .products
        .get(&line.product_id)
        .filter(|p| p.stock.manage)
        .map(|p| p.id)
}

/// `wc_update_product_stock( $id, $qty, 'increase' | 'decrease' )`: a save,
/// so `date_modified` moves and `product.updated` fires.
pub(crate) fn adjust(tx: &mut Tx<'_>, id: i64, delta: i64) {
    let stock = match (
        tx.store.products.get_mut(&id),
        tx.store.variations.get_mut(&id),
    ) {
        (Some(p), _) => &mut p.stock,
        (None, Some(v)) => &mut v.stock,
        (None, None) => return,
    };
    stock.quantity = Some(stock.quantity.unwrap_or(0) + delta);
    stock.refresh_status();
    touched(tx, id);
}

/// Statuses in which an order holds its stock.
pub(crate) fn holds_stock(s: OrderStatus) -> bool {
    matches!(
        s,
        OrderStatus::Processing | OrderStatus::Completed | OrderStatus::OnHold
    )
}

/// `wc_maybe_reduce_stock_levels` (+ `wc_update_total_sales_counts`): once
/// per order, each managed line takes its quantity and is marked.
pub(crate) fn reduce(tx: &mut Tx<'_>, order: &mut Order) {
    if order.stock_reduced || !tx.store.settings.manage_stock {
        return;
    }
    for i in 0..order.line_items.len() {
        let (pid, vid, qty) = {
            let l = &order.line_items[i];
            (l.product_id, l.variation_id, l.quantity)
        };
        // Sales counts are a direct meta write: no save, no webhook.
        if let Some(p) = tx.store.products.get_mut(&pid) {
            p.total_sales += qty;
        }
        if let Some(v) = tx.store.variations.get_mut(&vid) {
            v.total_sales += qty;
        }
        let already = order.line_items[i]
            .meta
            .iter()
            .any(|m| m.key == "_reduced_stock");
        let Some(holder) = stock_holder(tx, &order.line_items[i]) else {
            continue;
        };
        if already {
            continue;
        }
        adjust(tx, holder, -qty);
        let q = qty.to_string();
        let m = item_meta(
            &mut tx.store.ids.item_meta,
            "_reduced_stock",
            &q,
            "_reduced_stock",
            &q,
        );
        order.line_items[i].meta.push(m);
    }
    order.stock_reduced = true;
}

/// `wc_maybe_increase_stock_levels` (cancelled, pending): every line marked
/// `_reduced_stock` gives it back and loses the mark.
pub(crate) fn restore(tx: &mut Tx<'_>, order: &mut Order) {
    if !order.stock_reduced {
        return;
    }
    for i in 0..order.line_items.len() {
        let reduced: i64 = order.line_items[i]
            .meta
            .iter()
            .find(|m| m.key == "_reduced_stock")
            .and_then(|m| m.value.parse().ok())
            .unwrap_or(0);
        if reduced == 0 {
            continue;
        }
        if let Some(holder) = stock_holder(tx, &order.line_items[i]) {
            adjust(tx, holder, reduced);
        }
        order.line_items[i]
            .meta
            .retain(|m| m.key != "_reduced_stock");
    }
    order.stock_reduced = false;
}

/// `wc_restock_refunded_items` for one order line: its stock back, and the
/// running `_restock_refunded_items` count on the line.
pub(crate) fn restock_line(tx: &mut Tx<'_>, line: &mut LineItem, qty: i64) {
    if qty <= 0 || !tx.store.settings.manage_stock {
        return;
    }
    let Some(holder) = stock_holder(tx, line) else {
        return;
    };
    adjust(tx, holder, qty);
    let key = "_restock_refunded_items";
    match line.meta.iter_mut().find(|m| m.key == key) {
        Some(m) => {
            let n = m.value.parse::<i64>().unwrap_or(0) + qty;
            m.value = n.to_string();
            m.display_value = n.to_string();
        }
        None => {
            let q = qty.to_string();
            let m = item_meta(&mut tx.store.ids.item_meta, key, &q, key, &q);
            line.meta.push(m);
        }
    }
}
