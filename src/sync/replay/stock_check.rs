//! After sales are confirmed: read back the stock of what they sold, so the
//! replica follows the shop, and report an oversell (the shop's stock went
//! below zero because tills sold the same items offline) to the manager.
//!
//! Products are read a page (up to 100) at a time with `include=`;
//! variations one by one, as not every store lists them in one walk.

use std::collections::BTreeSet;

use crate::domain::batch::Records;
use crate::domain::till::ProductSel;
use crate::domain::time::unix_millis_now;
use crate::domain::{Resource, UpstreamId};
use crate::store::events::{self, Level};
use crate::store::till::{resolve_product, stock};
use crate::store::{Store, StoreError};
use crate::upstream::writes::UpstreamWrites;
use crate::upstream::{Cursor, Filter, PageQuery, Scope, Upstream, UpstreamError};

/// Products read per request.
const PER_PAGE: usize = 100;

/// A stock row to read: the product or variation holding the stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Row {
    product_id: UpstreamId,
    variation_id: UpstreamId,
}

/// Reads the stock of the touched (product, variation) pairs, writes it to
/// the replica and records an oversell event for any below zero. Returns
/// the number of requests made.
pub async fn refresh<U: Upstream + UpstreamWrites>(
    upstream: &U,
    store: &Store,
    touched: BTreeSet<(UpstreamId, UpstreamId)>,
) -> Result<usize, CheckError> {
    let pairs: Vec<(UpstreamId, UpstreamId)> = touched.into_iter().collect();
    let rows: BTreeSet<Row> = store
        .read(move |conn| {
            let mut rows = BTreeSet::new();
            for (product_id, variation_id) in pairs {
                let sel = ProductSel::Id {
                    product_id,
                    variation_id: Some(variation_id),
                };
                let Ok(item) = resolve_product(conn, &sel, "line")? else {
                    continue;
                };
                if !item.tracks_stock {
                    continue;
                }
                let on_variation = item.variation_id != 0 && item.stock_id == item.variation_id;
                rows.insert(Row {
                    product_id: if on_variation {
                        item.product_id
                    } else {
                        item.stock_id
                    },
                    variation_id: if on_variation { item.variation_id } else { 0 },
                });
            }
            Ok(rows)
        })
        .await?;
    let mut levels: Vec<(UpstreamId, i64)> = Vec::new();
    let mut requests = 0;
    let products: Vec<UpstreamId> = rows
        .iter()
        .filter(|r| r.variation_id == 0)
        .map(|r| r.product_id)
        .collect();
    for chunk in products.chunks(PER_PAGE) {
        let page = upstream
            .page(&PageQuery {
                resource: Resource::Products,
                scope: Scope::All,
                filter: Filter {
                    include: chunk.to_vec(),
                    statuses: vec!["any".to_owned()],
                    ..Filter::default()
                },
                cursor: Cursor::start(),
                per_page: PER_PAGE as u8,
            })
            .await?;
        requests += 1;
        if let Records::Products(list) = page.records {
            levels.extend(
                list.iter()
                    .filter_map(|p| p.stock_quantity.map(|q| (p.id, q))),
            );
        }
    }
    for r in rows.iter().filter(|r| r.variation_id != 0) {
        let level = upstream.stock(r.product_id, r.variation_id).await?;
        requests += 1;
        if let Some(q) = level.quantity {
            levels.push((r.variation_id, q));
        }
    }
    store
        .write(move |tx| {
            let now = unix_millis_now();
            for (id, qty) in &levels {
                stock::set_replica_stock(tx, *id, *qty)?;
                if *qty < 0 {
                    events::append(
                        tx,
                        now,
                        Level::Warn,
                        "oversell",
                        Some("products"),
                        &format!("product {id} is at {qty} in the shop: more was sold than it had in stock"),
                    )?;
                }
            }
            Ok(())
        })
        .await?;
    Ok(requests)
}

/// Why a stock check failed (it is retried with the next confirmations).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
}
