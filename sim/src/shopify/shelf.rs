//! Products put on the shelf as a merchant adds them in the admin: a
//! product with its default variant or its variants, each variant's
//! inventory item, and a level at every location, in the shapes the
//! generated data has (`data.rs`); and the orders that carry a source
//! identifier, as an app's orders do.

use std::sync::PoisonError;

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::data::datetime;
use super::{ShopifySim, webhooks};

/// Shopify's Decimal string: trailing zeros dropped, one decimal kept
/// (`"2.00"` → `"2.0"`, `"2.50"` → `"2.5"`).
fn price_string(price: Decimal) -> String {
    let s = price.round_dp(2).normalize().to_string();
    if s.contains('.') { s } else { format!("{s}.0") }
}

impl ShopifySim {
    /// Adds an ACTIVE product sold through its one default variant, at
    /// `price` (e.g. `"2.00"`), its inventory tracked with `stock`
    /// available at the primary location (and none at the others);
    /// `products/create` is delivered to its subscribers. Returns the
    /// product's gid. Panics on a price that is not a decimal number.
    pub fn add_product(&self, title: &str, sku: &str, price: &str, stock: i64) -> String {
        self.add_product_stocked(
            title,
            sku,
            &[("", price)],
            |i| if i == 0 { stock } else { 0 },
        )
    }

    /// Adds an ACTIVE product: one default variant when `variants` holds
    /// one `(size, price)`, else one variant per entry (SKU `{sku}-{n}`),
    /// each tracked with `available` at every location; `products/create`
    /// is delivered. Returns the product's gid.
    pub fn add_product_with_variants(
        &self,
        title: &str,
        sku: &str,
        variants: &[(&str, &str)],
        available: i64,
    ) -> String {
        self.add_product_stocked(title, sku, variants, |_| available)
    }

    /// The product, its variants, their inventory items and a level at
    /// every location (`stock(n)` available at the n-th), in the shapes the
    /// generated data has; ids from the write counter, past every id held.
    fn add_product_stocked(
        &self,
        title: &str,
        sku: &str,
        variants: &[(&str, &str)],
        stock: impl Fn(usize) -> i64,
    ) -> String {
        let now = datetime(chrono::Utc::now().timestamp());
        let mut store = self
            .inner
            .store
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let mut writes = self
            .inner
            .writes
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let pid = writes.id();
        let pg = format!("gid://shopify/Product/{pid}");
        let locations = store.list("Location").to_vec();
        let only_default = variants.len() <= 1;
        let (mut variant_gids, mut values, mut total) = (Vec::new(), Vec::new(), 0);
        for (n, (size, price)) in variants.iter().enumerate() {
            let price: Decimal = price
                .parse()
                .unwrap_or_else(|e| panic!("price {price:?}: {e}"));
            let (vid, iid) = (writes.id(), writes.id());
            let vg = format!("gid://shopify/ProductVariant/{vid}");
            let ig = format!("gid://shopify/InventoryItem/{iid}");
            let vtitle = if only_default { "Default Title" } else { size };
            let option = if only_default { "Title" } else { "Size" };
            let vsku = if only_default {
                sku.to_owned()
            } else {
                format!("{sku}-{n}")
            };
            values.push(vtitle.to_owned());
            let mut levels = Vec::new();
            let mut quantity = 0;
            for (i, loc) in locations.iter().enumerate() {
                let available = stock(i);
                quantity += available;
                let location_number = loc.rsplit('/').next().unwrap_or("0");
                let lg = format!(
                    "gid://shopify/InventoryLevel/{location_number}?inventory_item_id={iid}"
                );
                store.nodes.insert(
                    lg.clone(),
                    json!({
                        "__typename": "InventoryLevel", "id": lg, "isActive": true,
                        "canDeactivate": false, "createdAt": now, "updatedAt": now,
                        "location": {"__ref": loc}, "item": {"__ref": ig},
                        "quantities": {"__quantities": {
                            "available": available, "on_hand": available, "committed": 0,
                            "incoming": 0, "reserved": 0, "damaged": 0,
                            "quality_control": 0, "safety_stock": 0,
                        }},
                    }),
                );
                levels.push(lg);
            }
            total += quantity;
            store
                .lists
                .entry("InventoryItem")
                .or_default()
                .push(ig.clone());
            store.nodes.insert(
                ig.clone(),
                json!({
                    "__typename": "InventoryItem", "id": ig, "legacyResourceId": iid.to_string(),
                    "sku": vsku, "tracked": true, "requiresShipping": true,
                    "createdAt": now, "updatedAt": now,
                    "variant": {"__ref": vg}, "inventoryLevels": {"__conn": levels},
                }),
            );
            store
                .lists
                .entry("ProductVariant")
                .or_default()
                .push(vg.clone());
            store.nodes.insert(
                vg.clone(),
                json!({
                    "__typename": "ProductVariant", "id": vg, "legacyResourceId": vid.to_string(),
                    "title": vtitle, "displayName": format!("{title} - {vtitle}"),
                    "sku": vsku, "barcode": format!("50{:011}", vid % 100_000_000_000),
                    "price": price_string(price), "compareAtPrice": null,
                    "position": n + 1, "inventoryQuantity": quantity, "taxable": true,
                    "inventoryPolicy": "DENY", "availableForSale": quantity > 0,
                    "createdAt": now, "updatedAt": now,
                    "selectedOptions": [{"name": option, "value": vtitle}],
                    "product": {"__ref": pg}, "inventoryItem": {"__ref": ig},
                }),
            );
            variant_gids.push(vg);
        }
        drop(writes);
        store.lists.entry("Product").or_default().push(pg.clone());
        store.nodes.insert(
            pg.clone(),
            json!({
                "__typename": "Product", "id": pg, "legacyResourceId": pid.to_string(),
                "title": title,
                "handle": format!("{}-{pid}", title.to_lowercase().replace(' ', "-")),
                "status": "ACTIVE", "vendor": "possync demo", "productType": "",
                "descriptionHtml": "", "tags": Value::Array(Vec::new()),
                "totalInventory": total, "hasOnlyDefaultVariant": only_default,
                "options": [{
                    "name": if only_default { "Title" } else { "Size" },
                    "values": values, "position": 1,
                }],
                "createdAt": now, "updatedAt": now,
                "variants": {"__conn": variant_gids},
                "collections": {"__conn": []},
            }),
        );
        if let Some(payload) = webhooks::product_payload(&store, &pg) {
            self.inner.hooks.fire("PRODUCTS_CREATE", &payload);
        }
        pg
    }

    /// Every order carrying a `sourceIdentifier` (an app's orders), as
    /// (gid, identifier), in id order; search lag does not hide any.
    pub fn orders_by_source(&self) -> Vec<(String, String)> {
        let store = self
            .inner
            .store
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        store
            .list("Order")
            .iter()
            .filter_map(|g| {
                let source = store.node(g)?["sourceIdentifier"].as_str()?;
                Some((g.clone(), source.to_owned()))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shopify::ShopifyConfig;

    #[tokio::test]
    async fn an_added_product_is_stocked_at_the_primary_location_only() {
        let sim = ShopifySim::spawn(ShopifyConfig::default()).await.unwrap();
        let before = sim.counts();
        let pg = sim.add_product("Shelf tea", "SHELF-TEA", "2.50", 7);
        let after = sim.counts();
        assert_eq!(after.products, before.products + 1);
        assert_eq!(after.variants, before.variants + 1);
        let product = sim.node(&pg).unwrap();
        assert_eq!(product["hasOnlyDefaultVariant"], true);
        assert_eq!(product["totalInventory"], 7);
        let vg = product["variants"]["__conn"][0]
            .as_str()
            .unwrap()
            .to_owned();
        let variant = sim.node(&vg).unwrap();
        assert_eq!(variant["price"], "2.5");
        assert_eq!(variant["sku"], "SHELF-TEA");
        let locations = sim.inner.store.read().unwrap().list("Location").to_vec();
        assert_eq!(sim.available(&vg, &locations[0]), Some(7));
        assert_eq!(sim.available(&vg, &locations[1]), Some(0));
        // Ids grow past every id the shop held.
        let max_before = sim
            .product_ids()
            .iter()
            .filter(|g| **g != pg)
            .filter_map(|g| super::super::data::gid_number(g))
            .max()
            .unwrap();
        assert!(super::super::data::gid_number(&pg).unwrap() > max_before);
        sim.shutdown().await;
    }

    #[test]
    fn prices_are_written_as_shopify_writes_them() {
        assert_eq!(price_string("2.00".parse().unwrap()), "2.0");
        assert_eq!(price_string("2.50".parse().unwrap()), "2.5");
        assert_eq!(price_string("12.34".parse().unwrap()), "12.34");
        assert_eq!(price_string("3".parse().unwrap()), "3.0");
    }
}
