//! Changes a merchant (or another sales channel) makes to the simulated
//! Shopify store outside the agent: prices, stock at each location,
//! products added, drafted, archived and deleted, customers and orders
//! edited and deleted. Each changes the shop's data the way the shop does
//! (the object's `updatedAt` moves, a deleted product leaves a deletion
//! event, stock is kept per location) and delivers the webhook topics the
//! shop sends for it to their subscribers.
//!
//! Stock: a change of a variant's `available` quantity at any location
//! moves the variant's and its product's `updatedAt` and sends
//! `products/update` as well as `inventory_levels/update` (Shopify staff on
//! the community forum: "products/update does fire … when an order was
//! placed that decremented an inventory count, same with updating in the
//! admin and making an API call to change the inventory level", and the two
//! are "triggered in the exact same second").

use std::sync::{PoisonError, RwLockReadGuard, RwLockWriteGuard};

use serde_json::{Value, json};

use super::ShopifySim;
use super::data::{Store, conn, datetime, gid_number};
use super::webhooks;

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn is(store: &Store, gid: &str, type_name: &str) -> bool {
    store
        .node(gid)
        .is_some_and(|n| n["__typename"] == type_name)
}

/// The next id above every id the shop holds.
fn next_id(store: &Store) -> u64 {
    store
        .nodes
        .keys()
        .filter_map(|g| gid_number(g))
        .max()
        .unwrap_or(0)
        + 1
}

fn fire_product(sim: &ShopifySim, store: &Store, topic: &str, gid: &str) {
    if let Some(payload) = webhooks::product_payload(store, gid) {
        sim.inner.hooks.fire(topic, &payload);
    }
}

fn fire_order(sim: &ShopifySim, store: &Store, topics: &[&str], gid: &str) {
    if let Some(payload) = webhooks::order_payload(store, gid) {
        for topic in topics {
            sim.inner.hooks.fire(topic, &payload);
        }
    }
}

fn fire_customer(sim: &ShopifySim, store: &Store, topic: &str, gid: &str) {
    if let Some(payload) = webhooks::customer_payload(store, gid) {
        sim.inner.hooks.fire(topic, &payload);
    }
}

impl ShopifySim {
    fn write_store(&self) -> RwLockWriteGuard<'_, Store> {
        self.inner
            .store
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn read_store(&self) -> RwLockReadGuard<'_, Store> {
        self.inner
            .store
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The gids of the products with `status` (`ACTIVE`, `DRAFT`,
    /// `ARCHIVED`), in id order.
    pub fn products_with_status(&self, status: &str) -> Vec<String> {
        let store = self.read_store();
        store
            .list("Product")
            .iter()
            .filter(|g| store.node(g).is_some_and(|p| p["status"] == status))
            .cloned()
            .collect()
    }

    /// The gids of the variants of products that have only their default
    /// variant (`default`), or of products with several (`!default`).
    pub fn variant_ids(&self, default: bool) -> Vec<String> {
        let store = self.read_store();
        store
            .list("ProductVariant")
            .iter()
            .filter(|g| {
                store
                    .node(g)
                    .and_then(|v| v["product"]["__ref"].as_str())
                    .and_then(|p| store.node(p))
                    .is_some_and(|p| p["hasOnlyDefaultVariant"] == default)
            })
            .cloned()
            .collect()
    }

    /// The locations' gids, the first (the shop floor) first.
    pub fn location_ids(&self) -> Vec<String> {
        self.read_store().list("Location").to_vec()
    }

    pub fn customer_ids(&self) -> Vec<String> {
        self.read_store().list("Customer").to_vec()
    }

    pub fn order_ids(&self) -> Vec<String> {
        self.read_store().list("Order").to_vec()
    }

    /// A variant's new price (`"12.5"`); `products/update` is sent.
    pub fn set_variant_price(&self, variant: &str, price: &str) -> bool {
        let mut store = self.write_store();
        if !is(&store, variant, "ProductVariant") {
            return false;
        }
        if let Some(v) = store.nodes.get_mut(variant) {
            v["price"] = json!(price);
        }
        let product = touch_variant(&mut store, variant, now());
        fire_product(self, &store, "PRODUCTS_UPDATE", &product);
        true
    }

    /// Sets the `available` quantity of a variant at a location where it
    /// is stocked (`on_hand` moves with it), and its totals with it;
    /// `products/update` and `inventory_levels/update` are sent. `false`
    /// if the variant is not stocked there.
    pub fn set_available(&self, variant: &str, location: &str, quantity: i64) -> bool {
        let mut store = self.write_store();
        let Some(item) = store
            .node(variant)
            .filter(|v| v["__typename"] == "ProductVariant")
            .and_then(|v| v["inventoryItem"]["__ref"].as_str())
            .map(str::to_owned)
        else {
            return false;
        };
        let levels = store.node(&item).map(|i| conn(i, "inventoryLevels"));
        let Some(level) = levels.into_iter().flatten().find(|l| {
            store
                .node(l)
                .is_some_and(|n| n["location"]["__ref"] == location)
        }) else {
            return false;
        };
        let at = now();
        if let Some(l) = store.nodes.get_mut(&level) {
            let q = &mut l["quantities"]["__quantities"];
            let delta = quantity - q["available"].as_i64().unwrap_or(0);
            q["available"] = json!(quantity);
            q["on_hand"] = json!(q["on_hand"].as_i64().unwrap_or(0) + delta);
            l["updatedAt"] = json!(datetime(at));
        }
        // The variant's quantity is its available stock over every
        // location; the product's, its variants'.
        let total: i64 = store
            .node(&item)
            .map(|i| conn(i, "inventoryLevels"))
            .into_iter()
            .flatten()
            .filter_map(|l| store.node(&l))
            .filter_map(|l| l["quantities"]["__quantities"]["available"].as_i64())
            .sum();
        if let Some(v) = store.nodes.get_mut(variant) {
            v["inventoryQuantity"] = json!(total);
            v["availableForSale"] = json!(total > 0 || v["inventoryPolicy"] == "CONTINUE");
        }
        let product = touch_variant(&mut store, variant, at);
        let product_total: i64 = store
            .node(&product)
            .map(|p| conn(p, "variants"))
            .into_iter()
            .flatten()
            .filter_map(|v| store.node(&v))
            .filter_map(|v| v["inventoryQuantity"].as_i64())
            .sum();
        if let Some(p) = store.nodes.get_mut(&product) {
            p["totalInventory"] = json!(product_total);
        }
        fire_product(self, &store, "PRODUCTS_UPDATE", &product);
        self.inner.hooks.fire(
            "INVENTORY_LEVELS_UPDATE",
            &json!({
                "inventory_item_id": gid_number(&item),
                "location_id": gid_number(location),
                "available": quantity,
                "updated_at": datetime(at).replace('Z', "+00:00"),
                "admin_graphql_api_id": level,
            }),
        );
        true
    }

    /// A customer's new first name; `customers/update` is sent.
    pub fn rename_customer(&self, gid: &str, first_name: &str) -> bool {
        let mut store = self.write_store();
        match store.nodes.get_mut(gid) {
            Some(c) if c["__typename"] == "Customer" => {
                let last = c["lastName"].as_str().unwrap_or_default().to_owned();
                c["firstName"] = json!(first_name);
                c["displayName"] = json!(format!("{first_name} {last}").trim());
                c["updatedAt"] = json!(datetime(now()));
            }
            _ => return false,
        }
        fire_customer(self, &store, "CUSTOMERS_UPDATE", gid);
        true
    }

    /// A new customer, as the admin makes one; `customers/create` is sent.
    /// Refused when another customer has the email, as Shopify does.
    pub fn add_customer(&self, email: &str, first: &str, last: &str) -> Result<String, String> {
        let mut store = self.write_store();
        let taken = store.list("Customer").iter().any(|g| {
            store
                .node(g)
                .and_then(|c| c["email"].as_str())
                .is_some_and(|e| e.eq_ignore_ascii_case(email))
        });
        if taken {
            return Err("Email has already been taken".to_owned());
        }
        let id = next_id(&store);
        let g = format!("gid://shopify/Customer/{id}");
        let at = datetime(now());
        store.lists.entry("Customer").or_default().push(g.clone());
        store.nodes.insert(
            g.clone(),
            json!({
                "__typename": "Customer", "id": g, "legacyResourceId": id.to_string(),
                "firstName": first, "lastName": last, "displayName": format!("{first} {last}"),
                "email": email, "phone": null,
                "defaultEmailAddress": {"emailAddress": email, "marketingState": "NOT_SUBSCRIBED"},
                "defaultPhoneNumber": null,
                "state": "DISABLED", "tags": [], "note": null, "numberOfOrders": "0",
                "defaultAddress": null, "verifiedEmail": true, "taxExempt": false,
                "metafields": {}, "createdAt": at, "updatedAt": at,
            }),
        );
        fire_customer(self, &store, "CUSTOMERS_CREATE", &g);
        Ok(g)
    }

    /// Deletes a customer; `customers/delete` is sent. Shopify refuses to
    /// delete a customer who has orders.
    pub fn delete_customer(&self, gid: &str) -> Result<(), String> {
        let mut store = self.write_store();
        if !is(&store, gid, "Customer") {
            return Err("Customer does not exist".to_owned());
        }
        let has_orders = store
            .list("Order")
            .iter()
            .any(|o| store.node(o).is_some_and(|o| o["customer"]["__ref"] == gid));
        if has_orders {
            return Err("Customer can't be deleted because they have orders".to_owned());
        }
        store.nodes.remove(gid);
        for list in store.lists.values_mut() {
            list.retain(|g| g != gid);
        }
        // As the documented payload.
        self.inner.hooks.fire(
            "CUSTOMERS_DELETE",
            &json!({
                "id": gid_number(gid), "tax_exemptions": [], "admin_graphql_api_id": gid,
            }),
        );
        Ok(())
    }

    /// Closes (archives) an order, or opens it again; `orders/updated` is
    /// sent.
    pub fn close_order(&self, gid: &str, close: bool) -> bool {
        self.change_order(gid, &["ORDERS_UPDATED"], |o, at| {
            o["closed"] = json!(close);
            o["closedAt"] = if close { json!(at) } else { Value::Null };
        })
    }

    /// Fulfils an order's lines; `orders/updated` is sent.
    pub fn fulfil_order(&self, gid: &str) -> bool {
        self.change_order(gid, &["ORDERS_UPDATED"], |o, _| {
            o["displayFulfillmentStatus"] = json!("FULFILLED");
        })
    }

    /// A new note on an order; `orders/updated` is sent.
    pub fn set_order_note(&self, gid: &str, note: &str) -> bool {
        self.change_order(gid, &["ORDERS_UPDATED"], |o, _| {
            o["note"] = json!(note);
        })
    }

    /// Cancels an order without a refund; `orders/cancelled` and
    /// `orders/updated` are sent. Refused for an order already cancelled.
    pub fn cancel_order(&self, gid: &str) -> Result<(), String> {
        let cancelled = self
            .read_store()
            .node(gid)
            .is_some_and(|o| !o["cancelledAt"].is_null());
        if cancelled {
            return Err("Order has already been cancelled".to_owned());
        }
        let done = self.change_order(gid, &["ORDERS_CANCELLED", "ORDERS_UPDATED"], |o, at| {
            o["cancelledAt"] = json!(at);
        });
        if done {
            Ok(())
        } else {
            Err("Order does not exist".to_owned())
        }
    }

    /// Deletes an order with its lines and refunds; `orders/delete` is
    /// sent (the id alone, as the documented payload).
    pub fn delete_order(&self, gid: &str) -> bool {
        let mut store = self.write_store();
        let Some(order) = store
            .node(gid)
            .filter(|o| o["__typename"] == "Order")
            .cloned()
        else {
            return false;
        };
        let mut gone = conn(&order, "lineItems");
        for r in order["refunds"].as_array().into_iter().flatten() {
            if let Some(rg) = r["__ref"].as_str() {
                if let Some(refund) = store.node(rg) {
                    gone.extend(conn(refund, "refundLineItems"));
                }
                gone.push(rg.to_owned());
            }
        }
        gone.push(gid.to_owned());
        for g in &gone {
            store.nodes.remove(g);
        }
        for list in store.lists.values_mut() {
            list.retain(|g| !gone.contains(g));
        }
        self.inner
            .hooks
            .fire("ORDERS_DELETE", &json!({ "id": gid_number(gid) }));
        true
    }

    fn change_order(
        &self,
        gid: &str,
        topics: &[&str],
        change: impl FnOnce(&mut Value, &str),
    ) -> bool {
        let mut store = self.write_store();
        let at = datetime(now());
        match store.nodes.get_mut(gid) {
            Some(o) if o["__typename"] == "Order" => {
                change(o, &at);
                o["updatedAt"] = json!(at);
            }
            _ => return false,
        }
        fire_order(self, &store, topics, gid);
        true
    }
}

/// Moves a variant's and its product's `updatedAt` to `at`; the
/// product's gid.
fn touch_variant(store: &mut Store, variant: &str, at: i64) -> String {
    let stamp = json!(datetime(at));
    let mut product = String::new();
    if let Some(v) = store.nodes.get_mut(variant) {
        v["updatedAt"] = stamp.clone();
        product = v["product"]["__ref"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
    }
    if let Some(p) = store.nodes.get_mut(&product) {
        p["updatedAt"] = stamp;
    }
    product
}

#[cfg(test)]
mod tests {
    use super::super::{ShopifyConfig, ShopifySim};

    async fn sim() -> ShopifySim {
        ShopifySim::spawn(ShopifyConfig::default()).await.unwrap()
    }

    #[tokio::test]
    async fn stock_is_set_at_one_location_and_moves_the_variant_and_its_product() {
        let sim = sim().await;
        let variant = sim.variant_ids(false)[0].clone();
        let (till, other) = (sim.location_ids()[0].clone(), sim.location_ids()[1].clone());
        let before = sim.node(&variant).unwrap();
        let product = before["product"]["__ref"].as_str().unwrap().to_owned();
        let elsewhere = sim.available(&variant, &other).unwrap();
        assert!(sim.set_available(&variant, &till, 123));
        assert_eq!(sim.available(&variant, &till), Some(123));
        assert_eq!(sim.available(&variant, &other), Some(elsewhere));
        let after = sim.node(&variant).unwrap();
        assert_eq!(after["inventoryQuantity"], 123 + elsewhere);
        assert!(after["updatedAt"].as_str() > before["updatedAt"].as_str());
        assert_eq!(
            sim.node(&product).unwrap()["updatedAt"],
            after["updatedAt"],
            "its product moved with it"
        );
        assert!(!sim.set_available(&product, &till, 1), "not a variant");
        sim.shutdown().await;
    }

    #[tokio::test]
    async fn products_are_added_archived_and_customers_with_orders_kept() {
        let sim = sim().await;
        let p =
            sim.add_product_with_variants("Campaign mug", "MUG", &[("S", "5.0"), ("M", "6.0")], 4);
        let node = sim.node(&p).unwrap();
        assert_eq!(node["status"], "ACTIVE");
        assert_eq!(node["hasOnlyDefaultVariant"], false);
        assert!(
            sim.variant_ids(false)
                .iter()
                .any(|v| { sim.node(v).unwrap()["product"]["__ref"] == p.as_str() })
        );
        assert!(sim.set_product_status(&p, "ARCHIVED"));
        assert!(sim.products_with_status("ARCHIVED").contains(&p));

        let with_orders = sim
            .customer_ids()
            .into_iter()
            .find(|c| {
                sim.order_ids()
                    .iter()
                    .any(|o| sim.node(o).unwrap()["customer"]["__ref"] == c.as_str())
            })
            .unwrap();
        assert!(sim.delete_customer(&with_orders).is_err());
        assert!(sim.customer_ids().contains(&with_orders));
        let new = sim.add_customer("new@example.com", "New", "One").unwrap();
        assert!(sim.add_customer("NEW@example.com", "Other", "One").is_err());
        assert!(sim.delete_customer(&new).is_ok());
        assert!(!sim.customer_ids().contains(&new));

        let order = sim.order_ids()[0].clone();
        assert!(sim.cancel_order(&order).is_ok());
        assert!(sim.cancel_order(&order).is_err(), "cancelled once");
        assert!(sim.delete_order(&order));
        assert!(sim.node(&order).is_none());
        sim.shutdown().await;
    }
}
