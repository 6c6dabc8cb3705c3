//! The simulated shop's contents: seeded, deterministic, held as one JSON
//! object per node in the shapes of the captured responses
//! (`graphql-captures/`), resolved field by field by name (`exec.rs`).
//!
//! Links between nodes are `{"__ref": gid}` (one node) and
//! `{"__conn": [gid, …]}` (a connection); an inventory level's quantities
//! by name are `{"__quantities": {"available": n, …}}`.

use std::collections::HashMap;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use crate::words::{ADJECTIVES, CATEGORIES, COLOURS, FIRST_NAMES, LAST_NAMES, SIZES, TAGS};

/// How much of what the generator makes.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    pub products: usize,
    pub customers: usize,
    pub orders: usize,
    pub locations: usize,
}

/// Every node by gid, and each root list in id order.
#[derive(Debug, Default)]
pub struct Store {
    pub nodes: HashMap<String, Value>,
    /// Root type name → gids, ascending id.
    pub lists: HashMap<&'static str, Vec<String>>,
    pub shop: Value,
}

impl Store {
    pub fn node(&self, gid: &str) -> Option<&Value> {
        self.nodes.get(gid)
    }

    pub fn list(&self, type_name: &str) -> &[String] {
        self.lists.get(type_name).map_or(&[], Vec::as_slice)
    }

    /// Removes a product, its variants and their inventory items and
    /// levels, and records a `DeletionEvent` at `now`.
    pub fn delete_product(&mut self, gid: &str, now: i64) -> bool {
        let Some(product) = self.nodes.get(gid).filter(|p| p["__typename"] == "Product") else {
            return false;
        };
        let variants: Vec<String> = product["variants"]["__conn"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        let mut gone = vec![gid.to_owned()];
        for v in variants {
            if let Some(item) = self
                .nodes
                .get(&v)
                .and_then(|n| n["inventoryItem"]["__ref"].as_str())
            {
                let item = item.to_owned();
                if let Some(levels) = self
                    .nodes
                    .get(&item)
                    .and_then(|i| i["inventoryLevels"]["__conn"].as_array())
                {
                    gone.extend(levels.iter().filter_map(|l| l.as_str().map(str::to_owned)));
                }
                gone.push(item);
            }
            gone.push(v);
        }
        for g in &gone {
            self.nodes.remove(g);
        }
        for list in self.lists.values_mut() {
            list.retain(|g| !gone.contains(g));
        }
        for c in self.lists.get("Collection").cloned().unwrap_or_default() {
            if let Some(Value::Array(members)) = self
                .nodes
                .get_mut(&c)
                .and_then(|n| n.pointer_mut("/products/__conn"))
            {
                members.retain(|m| m.as_str() != Some(gid));
            }
        }
        let number = gid_number(gid).unwrap_or(0);
        let event = format!("gid://shopify/DeletionEvent/{number}");
        self.add(
            "DeletionEvent",
            event.clone(),
            json!({
                "__typename": "DeletionEvent", "id": event,
                "occurredAt": datetime(now), "createdAt": datetime(now),
                "subjectId": gid, "subjectType": "PRODUCT",
            }),
        );
        true
    }

    /// A new order for `quantity` of the variant `variant_gid`, paid and
    /// unfulfilled, created at `now`, with its one line; its gid, or `None`
    /// if there is no such variant.
    pub fn place_order(&mut self, variant_gid: &str, quantity: i64, now: i64) -> Option<String> {
        let v = self.nodes.get(variant_gid)?;
        if v["__typename"] != "ProductVariant" {
            return None;
        }
        let product = v["product"].clone();
        let ptitle = product["__ref"]
            .as_str()
            .and_then(|g| self.nodes.get(g))
            .map_or(Value::Null, |p| p["title"].clone());
        let price = v["price"]
            .as_str()
            .and_then(|p| p.parse::<rust_decimal::Decimal>().ok())
            .and_then(|p| {
                rust_decimal::prelude::ToPrimitive::to_i64(&(p * rust_decimal::Decimal::from(100)))
            })
            .unwrap_or(0);
        let (vtitle, sku) = (v["title"].clone(), v["sku"].clone());
        // Above every id the shop holds.
        let next = self
            .nodes
            .keys()
            .filter_map(|g| gid_number(g))
            .max()
            .unwrap_or(0);
        let (lg, g) = (gid("LineItem", next + 1), gid("Order", next + 2));
        let total = price * quantity;
        self.nodes.insert(
            lg.clone(),
            json!({
                "__typename": "LineItem", "id": lg,
                "name": format!("{} - {}", ptitle.as_str().unwrap_or(""), vtitle.as_str().unwrap_or("")),
                "title": ptitle, "variantTitle": vtitle,
                "sku": sku, "quantity": quantity, "currentQuantity": quantity,
                "originalUnitPriceSet": money_bag(price, CURRENCY),
                "originalTotalSet": money_bag(total, CURRENCY),
                "discountedTotalSet": money_bag(total, CURRENCY),
                "taxLines": [{"title": "VAT", "rate": 0.2, "ratePercentage": 20.0,
                              "priceSet": money_bag(total / 6, CURRENCY)}],
                "customAttributes": [], "product": product,
                "variant": {"__ref": variant_gid},
            }),
        );
        let orders = self.list("Order").len();
        self.add(
            "Order",
            g.clone(),
            json!({
                "__typename": "Order", "id": g, "legacyResourceId": (next + 2).to_string(),
                "name": format!("#{}", 1001 + orders), "email": null,
                "createdAt": datetime(now), "updatedAt": datetime(now),
                "processedAt": datetime(now), "cancelledAt": null, "closed": false,
                "closedAt": null, "taxesIncluded": true, "note": null,
                "paymentGatewayNames": ["manual"],
                "billingAddress": null, "shippingAddress": null,
                "totalDiscountsSet": money_bag(0, CURRENCY),
                "totalShippingPriceSet": money_bag(0, CURRENCY),
                "metafields": {},
                "sourceIdentifier": null, "sourceName": "web", "currencyCode": CURRENCY,
                "displayFinancialStatus": "PAID",
                "displayFulfillmentStatus": "UNFULFILLED", "tags": [], "test": false,
                "totalPriceSet": money_bag(total, CURRENCY),
                "currentTotalPriceSet": money_bag(total, CURRENCY),
                "subtotalPriceSet": money_bag(total, CURRENCY),
                "totalTaxSet": money_bag(total / 6, CURRENCY),
                "customer": null,
                "lineItems": {"__conn": [lg]}, "refunds": [],
                "risk": {"recommendation": "ACCEPT",
                         "assessments": [{"riskLevel": "LOW", "facts": []}]},
            }),
        );
        Some(g)
    }

    fn add(&mut self, list: &'static str, gid: String, node: Value) {
        self.lists.entry(list).or_default().push(gid.clone());
        self.nodes.insert(gid, node);
    }
}

/// The numeric id at the end of a gid (`gid://shopify/Product/12` → 12).
/// The gids in a node's connection `field` (`{"__conn": [...]}`).
pub fn conn(node: &Value, field: &str) -> Vec<String> {
    node[field]["__conn"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|g| g.as_str().map(str::to_owned))
        .collect()
}

pub fn gid_number(gid: &str) -> Option<u64> {
    gid.rsplit('/').next()?.split('?').next()?.parse().ok()
}

fn gid(kind: &str, n: u64) -> String {
    format!("gid://shopify/{kind}/{n}")
}

fn money(amount_pence: i64, currency: &str) -> Value {
    // Shopify's Decimal strings drop trailing zeros but keep one decimal ("55.0").
    let mut s = format!("{}.{:02}", amount_pence / 100, amount_pence % 100);
    while s.ends_with('0') && !s.ends_with(".0") {
        s.pop();
    }
    json!({"amount": s, "currencyCode": currency})
}

fn money_bag(amount_pence: i64, currency: &str) -> Value {
    let m = money(amount_pence, currency);
    json!({"shopMoney": m, "presentmentMoney": m})
}

fn address(first: &str, last: &str, n: usize) -> Value {
    json!({
        "firstName": first, "lastName": last, "name": format!("{first} {last}"),
        "company": null, "address1": format!("{} High Street", n % 200 + 1), "address2": null,
        "city": "Leeds", "province": "England", "provinceCode": "ENG", "zip": "LS1 1AA",
        "country": "United Kingdom", "countryCodeV2": "GB", "phone": null,
    })
}

/// Seconds since the epoch as Shopify's UTC `DateTime` (`2026-06-22T22:34:00Z`).
pub fn datetime(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

const CURRENCY: &str = "GBP";
/// 2026-01-01T00:00:00Z: the shop's first day.
const EPOCH: i64 = 1_767_225_600;

pub fn generate(seed: u64, sizes: Sizes, now: i64) -> Store {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut store = Store {
        shop: json!({
            "id": gid("Shop", 1),
            "name": "possync demo shop",
            "email": "shop@example.com",
            "myshopifyDomain": "possync-demo.myshopify.com",
            "currencyCode": CURRENCY,
            "ianaTimezone": "Europe/London",
        }),
        ..Store::default()
    };
    let span = (now - EPOCH).max(86_400);
    let stamp = |rng: &mut ChaCha8Rng| EPOCH + rng.gen_range(0..span);

    // Ids grow like Shopify's (large, increasing, not contiguous).
    let mut next_id = 8_800_000_000_000u64;
    let mut new_id = |rng: &mut ChaCha8Rng| {
        next_id += rng.gen_range(1..5_000);
        next_id
    };

    let mut locations = Vec::new();
    for i in 0..sizes.locations.max(1) {
        let id = new_id(&mut rng);
        let g = gid("Location", id);
        let name = if i == 0 {
            "Shop floor".to_owned()
        } else {
            format!("Warehouse {i}")
        };
        store.add(
            "Location",
            g.clone(),
            json!({
                "__typename": "Location", "id": g, "legacyResourceId": id.to_string(),
                "name": name, "isActive": true, "fulfillsOnlineOrders": i == 0,
                "address": {"address1": "1 High Street", "city": "Leeds", "countryCode": "GB", "zip": "LS1 1AA"},
            }),
        );
        locations.push(g);
    }

    let mut variant_gids = Vec::new();
    let mut collections: Vec<(String, Vec<String>)> = CATEGORIES
        .iter()
        .take(6)
        .map(|c| (c.name.to_owned(), Vec::new()))
        .collect();
    for p in 0..sizes.products {
        let id = new_id(&mut rng);
        let pg = gid("Product", id);
        let cat = &CATEGORIES[rng.gen_range(0..CATEGORIES.len())];
        let noun = cat.nouns[rng.gen_range(0..cat.nouns.len())];
        let title = format!("{} {noun}", ADJECTIVES[rng.gen_range(0..ADJECTIVES.len())]);
        let created = stamp(&mut rng);
        let updated = created + rng.gen_range(0..(now - created).max(1));
        let n_variants = if cat.sizes || cat.colours {
            rng.gen_range(1..=3)
        } else {
            1
        };
        let mut variants = Vec::new();
        let mut option_values: Vec<String> = Vec::new();
        let mut option_name = "Title";
        let mut total = 0i64;
        for v in 0..n_variants {
            let vid = new_id(&mut rng);
            let vg = gid("ProductVariant", vid);
            let iid = new_id(&mut rng);
            let ig = gid("InventoryItem", iid);
            let sku = format!("{}-{:05}-{v}", cat.prefix, p);
            let (size, colour) = (SIZES[v % SIZES.len()].0, COLOURS[v % COLOURS.len()].0);
            let option = if cat.sizes {
                ("Size", size)
            } else {
                ("Colour", colour)
            };
            let vtitle = if n_variants == 1 {
                "Default Title"
            } else {
                option.1
            };
            if n_variants > 1 {
                option_name = option.0;
            }
            option_values.push(vtitle.to_owned());
            let mut levels = Vec::new();
            let mut quantity = 0;
            for loc in &locations {
                let available: i64 = rng.gen_range(0..40);
                quantity += available;
                let lg = format!(
                    "gid://shopify/InventoryLevel/{}?inventory_item_id={iid}",
                    gid_number(loc).unwrap_or(0)
                );
                store.nodes.insert(
                    lg.clone(),
                    json!({
                        "__typename": "InventoryLevel", "id": lg, "isActive": true,
                        "canDeactivate": false, "createdAt": datetime(created),
                        "updatedAt": datetime(updated),
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
            let price = rng.gen_range(cat.price.0..=cat.price.1);
            store.add(
                "InventoryItem",
                ig.clone(),
                json!({
                    "__typename": "InventoryItem", "id": ig, "legacyResourceId": iid.to_string(),
                    "sku": sku, "tracked": true, "requiresShipping": true,
                    "createdAt": datetime(created), "updatedAt": datetime(updated),
                    "variant": {"__ref": vg}, "inventoryLevels": {"__conn": levels},
                }),
            );
            store.add(
                "ProductVariant",
                vg.clone(),
                json!({
                    "__typename": "ProductVariant", "id": vg, "legacyResourceId": vid.to_string(),
                    "title": vtitle, "displayName": format!("{title} - {vtitle}"),
                    "sku": sku, "barcode": format!("50{:011}", vid % 100_000_000_000),
                    "price": money(price, CURRENCY)["amount"], "compareAtPrice": null,
                    "position": v + 1, "inventoryQuantity": quantity, "taxable": true,
                    "inventoryPolicy": "DENY",
                    "availableForSale": quantity > 0,
                    "createdAt": datetime(created), "updatedAt": datetime(updated),
                    "selectedOptions": [{"name": option.0, "value": option.1}],
                    "product": {"__ref": pg}, "inventoryItem": {"__ref": ig},
                }),
            );
            variant_gids.push((vg.clone(), title.clone(), vtitle.to_owned(), sku, price));
            variants.push(vg);
        }
        let status = match rng.gen_range(0..20) {
            0 => "DRAFT",
            1 => "ARCHIVED",
            _ => "ACTIVE",
        };
        let n_tags = rng.gen_range(0..3);
        let mut tags: Vec<&str> = TAGS.choose_multiple(&mut rng, n_tags).copied().collect();
        tags.sort_unstable();
        let c = p % collections.len();
        collections[c].1.push(pg.clone());
        store.add(
            "Product",
            pg.clone(),
            json!({
                "__typename": "Product", "id": pg, "legacyResourceId": id.to_string(),
                "title": title, "handle": format!("{}-{p}", title.to_lowercase().replace(' ', "-")),
                "status": status, "vendor": "possync demo", "productType": cat.name,
                "descriptionHtml": format!("<p>{}</p>", cat.description),
                "tags": tags, "totalInventory": total, "hasOnlyDefaultVariant": n_variants == 1,
                "options": [{"name": option_name, "values": option_values, "position": 1}],
                "createdAt": datetime(created), "updatedAt": datetime(updated),
                "variants": {"__conn": variants},
            }),
        );
    }
    for (i, (name, products)) in collections.into_iter().enumerate() {
        let id = new_id(&mut rng);
        let g = gid("Collection", id);
        let updated = stamp(&mut rng);
        store.add(
            "Collection",
            g.clone(),
            json!({
                "__typename": "Collection", "id": g, "legacyResourceId": id.to_string(),
                "title": name, "handle": format!("collection-{i}"),
                "description": "", "descriptionHtml": "", "updatedAt": datetime(updated),
                "sortOrder": "BEST_SELLING",
                "productsCount": {"count": products.len(), "precision": "EXACT"},
                "products": {"__conn": products},
            }),
        );
    }
    // Products know their collections too.
    for cg in store.list("Collection").to_vec() {
        let members = store.nodes[&cg]["products"]["__conn"].clone();
        for pg in members
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if let Some(p) = store.nodes.get_mut(pg) {
                p["collections"] = json!({"__conn": [cg]});
            }
        }
    }

    let mut customers = Vec::new();
    for c in 0..sizes.customers {
        let id = new_id(&mut rng);
        let g = gid("Customer", id);
        let first = FIRST_NAMES[rng.gen_range(0..FIRST_NAMES.len())];
        let last = LAST_NAMES[rng.gen_range(0..LAST_NAMES.len())];
        let email = format!(
            "{}.{}{c}@example.com",
            first
                .to_lowercase()
                .replace(|ch: char| !ch.is_ascii_alphanumeric(), ""),
            last.to_lowercase()
                .replace(|ch: char| !ch.is_ascii_alphanumeric(), "")
        );
        let phone = format!("+44 7700 9{:05}", c % 100_000);
        let created = stamp(&mut rng);
        let updated = created + rng.gen_range(0..(now - created).max(1));
        store.add(
            "Customer",
            g.clone(),
            json!({
                "__typename": "Customer", "id": g, "legacyResourceId": id.to_string(),
                "firstName": first, "lastName": last, "displayName": format!("{first} {last}"),
                "email": email, "phone": phone,
                "defaultEmailAddress": {"emailAddress": email, "marketingState": "NOT_SUBSCRIBED"},
                "defaultPhoneNumber": {"phoneNumber": phone, "marketingState": "NOT_SUBSCRIBED"},
                "state": "ENABLED", "tags": [], "note": null, "numberOfOrders": "0",
                "defaultAddress": address(first, last, c),
                "verifiedEmail": true, "taxExempt": false,
                "createdAt": datetime(created), "updatedAt": datetime(updated),
            }),
        );
        customers.push(g);
    }

    for o in 0..sizes.orders {
        if variant_gids.is_empty() {
            break;
        }
        let id = new_id(&mut rng);
        let g = gid("Order", id);
        let created = stamp(&mut rng);
        let updated = created + rng.gen_range(0..(now - created).max(1)).min(86_400 * 3);
        let customer = customers.choose(&mut rng).cloned();
        let mut lines = Vec::new();
        let mut total = 0i64;
        for _ in 0..rng.gen_range(1..=3) {
            let (vg, ptitle, vtitle, sku, price) =
                variant_gids.choose(&mut rng).cloned().unwrap_or_default();
            let product = store
                .nodes
                .get(&vg)
                .map_or(Value::Null, |v| v["product"].clone());
            let qty: i64 = rng.gen_range(1..=3);
            total += price * qty;
            let lid = new_id(&mut rng);
            let lg = gid("LineItem", lid);
            store.nodes.insert(
                lg.clone(),
                json!({
                    "__typename": "LineItem", "id": lg, "name": format!("{ptitle} - {vtitle}"),
                    "title": ptitle, "variantTitle": vtitle,
                    "sku": sku, "quantity": qty, "currentQuantity": qty,
                    "originalUnitPriceSet": money_bag(price, CURRENCY),
                    "originalTotalSet": money_bag(price * qty, CURRENCY),
                    "discountedTotalSet": money_bag(price * qty, CURRENCY),
                    "taxLines": [{"title": "VAT", "rate": 0.2, "ratePercentage": 20.0,
                                  "priceSet": money_bag(price * qty / 6, CURRENCY)}],
                    "customAttributes": [], "product": product,
                    "variant": {"__ref": vg},
                }),
            );
            lines.push(lg);
        }
        let refunded = rng.gen_range(0..8) == 0;
        let mut refunds = Vec::new();
        if refunded {
            let rid = new_id(&mut rng);
            let rg = gid("Refund", rid);
            let rli = gid("RefundLineItem", new_id(&mut rng));
            let line = &store.nodes[&lines[0]];
            let amount = line["quantity"].as_i64().unwrap_or(1)
                * (line["originalUnitPriceSet"]["shopMoney"]["amount"]
                    .as_str()
                    .and_then(|a| a.parse::<f64>().ok())
                    .unwrap_or(0.0)
                    * 100.0)
                    .round() as i64;
            store.nodes.insert(
                rli.clone(),
                json!({
                    "__typename": "RefundLineItem", "id": rli, "quantity": line["quantity"],
                    "restockType": "RETURN", "restocked": true,
                    "lineItem": {"__ref": lines[0]}, "subtotalSet": money_bag(amount, CURRENCY),
                    "totalTaxSet": money_bag(amount / 6, CURRENCY),
                }),
            );
            store.nodes.insert(
                rg.clone(),
                json!({
                    "__typename": "Refund", "id": rg, "legacyResourceId": rid.to_string(),
                    "note": "Returned in store", "createdAt": datetime(updated),
                    "processedAt": datetime(updated), "updatedAt": datetime(updated),
                    "totalRefundedSet": money_bag(amount, CURRENCY),
                    "refundLineItems": {"__conn": [rli]}, "order": {"__ref": g},
                }),
            );
            refunds.push(json!({"__ref": rg}));
        }
        // Risk by position, so that even a small shop has every case: in
        // each 25 orders the first is to be cancelled, the next two to be
        // investigated, the fourth has no recommendation, the rest are
        // accepted. The risky ones the shop has held back (unfulfilled,
        // still to be collected), as every fourth order otherwise.
        let (recommendation, level) = match o % 25 {
            0 => ("CANCEL", "HIGH"),
            1 | 2 => ("INVESTIGATE", "MEDIUM"),
            3 => ("NONE", "NONE"),
            _ => ("ACCEPT", "LOW"),
        };
        let fulfilled = o % 25 >= 3 && o % 4 != 0;
        let email = customer
            .as_ref()
            .map_or(Value::Null, |c| store.nodes[c]["email"].clone());
        let billing = customer
            .as_ref()
            .map_or(Value::Null, |c| store.nodes[c]["defaultAddress"].clone());
        store.add(
            "Order",
            g.clone(),
            json!({
                "__typename": "Order", "id": g, "legacyResourceId": id.to_string(),
                "name": format!("#{}", 1001 + o), "email": email,
                "createdAt": datetime(created), "updatedAt": datetime(updated),
                "processedAt": datetime(created), "cancelledAt": null, "closed": false,
                "closedAt": null, "taxesIncluded": true, "note": null,
                "paymentGatewayNames": ["manual"],
                "billingAddress": billing, "shippingAddress": billing,
                "totalDiscountsSet": money_bag(0, CURRENCY),
                "totalShippingPriceSet": money_bag(0, CURRENCY),
                "metafields": {},
                "sourceIdentifier": null, "sourceName": "web", "currencyCode": CURRENCY,
                "displayFinancialStatus": if refunded { "PARTIALLY_REFUNDED" } else { "PAID" },
                "displayFulfillmentStatus": if fulfilled { "FULFILLED" } else { "UNFULFILLED" },
                "tags": [], "test": false,
                "totalPriceSet": money_bag(total, CURRENCY),
                "currentTotalPriceSet": money_bag(total, CURRENCY),
                "subtotalPriceSet": money_bag(total, CURRENCY),
                "totalTaxSet": money_bag(total / 6, CURRENCY),
                "customer": customer.as_ref().map_or(Value::Null, |c| json!({"__ref": c})),
                "lineItems": {"__conn": lines}, "refunds": refunds,
                "risk": {"recommendation": recommendation,
                         "assessments": [{"riskLevel": level, "facts": []}]},
            }),
        );
    }
    store
}
