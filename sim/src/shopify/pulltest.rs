//! What a merchant does to the catalog between two pulls, and the knobs a
//! pull's tests turn: a product's status, price or collections changed in
//! the admin, a product added; the bulk operations asked for; result files
//! served slowly (a throttled download, to stop a reader midway).
//!
//! Every change is made as the shop makes it: `updatedAt` moves where
//! Shopify moves it, inventory is kept per location, and `products/*`
//! deliveries go to their subscribers as [`ShopifySim::rename_product`]
//! sends them.

use std::sync::PoisonError;
use std::time::Duration;

use axum::body::{Body, Bytes};
use serde_json::{Value, json};

use super::ShopifySim;
use super::data::{conn, datetime, gid_number};
use super::webhooks;

impl ShopifySim {
    /// Sets a product's `status` (`ACTIVE`, `DRAFT`, `ARCHIVED`) as the
    /// admin does: `updatedAt` now, `products/update` delivered. `false` if
    /// there is no such product.
    pub fn set_product_status(&self, gid: &str, status: &str) -> bool {
        self.edit_product(gid, |p, _| p["status"] = json!(status))
    }

    /// Sets the price of every variant of a product (`"12.34"`), as a bulk
    /// variant update in the admin does: the variants' and the product's
    /// `updatedAt` now, `products/update` delivered.
    pub fn set_product_price(&self, gid: &str, price: &str) -> bool {
        self.edit_product(gid, |p, nodes| {
            let now = p["updatedAt"].clone();
            for v in conn(p, "variants") {
                if let Some(v) = nodes.get_mut(&v) {
                    v["price"] = json!(price);
                    v["updatedAt"] = now.clone();
                }
            }
        })
    }

    /// Makes `collections` the only ones holding a product (a merchant
    /// moving it in the admin): both sides of the membership and each
    /// collection's `productsCount` change. `false` if the product or a
    /// collection is unknown.
    pub fn set_product_collections(&self, gid: &str, collections: &[String]) -> bool {
        let mut store = self
            .inner
            .store
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let known = |g: &str, kind: &str| store.node(g).is_some_and(|n| n["__typename"] == kind);
        if !known(gid, "Product") || !collections.iter().all(|c| known(c, "Collection")) {
            return false;
        }
        for c in store.list("Collection").to_vec() {
            let Some(node) = store.nodes.get_mut(&c) else {
                continue;
            };
            let mut members = conn(node, "products");
            members.retain(|m| m != gid);
            if collections.contains(&c) {
                members.push(gid.to_owned());
                members.sort_by_key(|m| gid_number(m));
            }
            node["productsCount"] = json!({"count": members.len(), "precision": "EXACT"});
            node["products"] = json!({ "__conn": members });
        }
        if let Some(p) = store.nodes.get_mut(gid) {
            p["collections"] = json!({ "__conn": collections });
        }
        true
    }

    /// The collections holding a product, as gids.
    pub fn product_collections(&self, gid: &str) -> Vec<String> {
        self.node(gid)
            .map_or_else(Vec::new, |p| conn(&p, "collections"))
    }

    /// Every collection's gid, in id order.
    pub fn collection_ids(&self) -> Vec<String> {
        let store = self
            .inner
            .store
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        store.list("Collection").to_vec()
    }

    /// The query of every bulk operation started so far, in order.
    pub fn bulk_operation_queries(&self) -> Vec<String> {
        self.inner
            .bulk
            .ops
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|o| o.query.clone())
            .collect()
    }

    /// Result files are sent a line at a time, `per_line` apart, from now
    /// on (`Duration::ZERO`: whole, at once): a slow link to the storage
    /// the shop's files are served from.
    pub fn throttle_bulk_files(&self, per_line: Duration) {
        *self
            .inner
            .bulk_throttle
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = per_line;
    }

    /// Faults drawn so far, by rule or by `fail_rate`.
    pub fn faults_drawn(&self) -> u64 {
        self.inner.faults.drawn()
    }

    /// Changes a product with `edit` (given the product, its `updatedAt`
    /// already now, and every node), then delivers `products/update`.
    fn edit_product(
        &self,
        gid: &str,
        edit: impl FnOnce(&mut Value, &mut std::collections::HashMap<String, Value>),
    ) -> bool {
        let mut store = self
            .inner
            .store
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(mut p) = store
            .nodes
            .get(gid)
            .filter(|p| p["__typename"] == "Product")
            .cloned()
        else {
            return false;
        };
        p["updatedAt"] = json!(datetime(chrono::Utc::now().timestamp()));
        edit(&mut p, &mut store.nodes);
        store.nodes.insert(gid.to_owned(), p);
        if let Some(payload) = webhooks::product_payload(&store, gid) {
            self.inner.hooks.fire("PRODUCTS_UPDATE", &payload);
        }
        true
    }
}

/// A result file sent a line at a time, `per_line` apart.
pub(super) fn throttled(bytes: std::sync::Arc<Vec<u8>>, per_line: Duration) -> Body {
    let stream = futures::stream::unfold(0usize, move |at| {
        let bytes = bytes.clone();
        async move {
            if at >= bytes.len() {
                return None;
            }
            tokio::time::sleep(per_line).await;
            let end = bytes[at..]
                .iter()
                .position(|b| *b == b'\n')
                .map_or(bytes.len(), |i| at + i + 1);
            let line = Bytes::copy_from_slice(&bytes[at..end]);
            Some((Ok::<_, std::io::Error>(line), end))
        }
    });
    Body::from_stream(stream)
}
