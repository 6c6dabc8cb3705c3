//! Every kind of write the agent makes, accepted by the real store, and
//! what the store then holds is what the agent expected: totals, stock,
//! `possync_key` meta, the customer link.

use std::str::FromStr;
use std::time::Duration;

use possync::domain::outbox::{EntryState, OutboxEntry};
use possync::domain::till::PaymentMapping;
use possync::store::outbox;
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::{TestApp, wait_for};
use crate::pull::pulled_agent;
use crate::shop::{Shop, run_id};

/// How long one queued change may take to reach the real store.
const REPLAY_WITHIN: Duration = Duration::from_secs(60);

/// Creates a published simple product hidden from the shop's catalogue.
pub async fn create_product(
    shop: &Shop,
    run: &str,
    label: &str,
    price: &str,
    stock: Option<i64>,
) -> i64 {
    let mut body = json!({
        "name": format!("possync contract {run} {label}"),
        "type": "simple",
        "status": "publish",
        "catalog_visibility": "hidden",
        "sku": format!("CT-{run}-{}", label.to_uppercase().replace(' ', "-")),
        "regular_price": price,
    });
    match stock {
        Some(n) => {
            body["manage_stock"] = json!(true);
            body["stock_quantity"] = json!(n);
        }
        None => body["manage_stock"] = json!(false),
    }
    shop.rest(Method::POST, "products", Some(body))
        .await
        .expect(201, "create a test product")
        .id()
}

/// Removes test products an interrupted earlier run left behind.
pub async fn remove_leftovers(shop: &Shop) {
    let list = shop
        .get("products?search=possync%20contract&status=any&per_page=100&_fields=id,name")
        .await;
    for p in list.as_array().cloned().unwrap_or_default() {
        if p["name"]
            .as_str()
            .unwrap_or_default()
            .starts_with("possync contract ")
        {
            shop.delete(&format!("products/{}", p["id"])).await;
        }
    }
}

pub fn uuid(v: &Value) -> Uuid {
    Uuid::parse_str(v.as_str().unwrap_or_default()).unwrap_or_else(|_| panic!("not a uuid: {v}"))
}

pub async fn entry(t: &TestApp, id: Uuid) -> OutboxEntry {
    t.store()
        .read(move |c| outbox::get(c, id))
        .await
        .unwrap()
        .expect("entry exists")
}

/// Waits until the entry is settled: confirmed, rejected, or stuck behind
/// a change it depends on that the shop rejected.
pub async fn settled(t: &TestApp, id: Uuid, what: &str) -> OutboxEntry {
    wait_for(&format!("{what} to settle"), REPLAY_WITHIN, || async {
        let e = entry(t, id).await;
        if matches!(e.state, EntryState::Confirmed | EntryState::Rejected) {
            return Some(e);
        }
        match e.depends_on {
            Some(d) if entry(t, d).await.state == EntryState::Rejected => Some(e),
            _ => None,
        }
    })
    .await
}

/// Waits until the entry is confirmed, failing at once (with the store's
/// answer) when it is rejected.
pub async fn confirmed(t: &TestApp, id: Uuid, what: &str) -> OutboxEntry {
    let e = settled(t, id, what).await;
    assert_eq!(
        e.state,
        EntryState::Confirmed,
        "{what} was refused by the real store: {:?} {:?}",
        e.error_code,
        e.error_message
    );
    e
}

fn dec(v: &Value) -> Decimal {
    match v {
        Value::String(s) => Decimal::from_str(s).unwrap_or_else(|_| panic!("not an amount: {v}")),
        Value::Number(n) => Decimal::from_str(&n.to_string()).unwrap(),
        other => panic!("not an amount: {other}"),
    }
}

fn meta(order: &Value, key: &str) -> Option<Value> {
    order["meta_data"]
        .as_array()?
        .iter()
        .find(|m| m["key"] == key)
        .map(|m| m["value"].clone())
}

/// A sale the till answered, and where it went.
struct Sold {
    what: &'static str,
    answer: Value,
    customer: i64,
    gateway: &'static str,
}

#[tokio::test]
async fn every_kind_of_write_is_accepted_and_the_shop_holds_what_the_agent_expected() {
    let Some(shop) = Shop::take("writes").await else {
        return;
    };
    remove_leftovers(&shop).await;
    let run = run_id();
    // Arrange: the run's own products, and a pickup order waiting.
    let mug = create_product(&shop, &run, "mug", "10.00", Some(20)).await;
    let gift = create_product(&shop, &run, "gift", "5.00", None).await;
    let shirt = shop
        .rest(
            Method::POST,
            "products",
            Some(json!({
                "name": format!("possync contract {run} shirt"), "type": "variable",
                "status": "publish", "catalog_visibility": "hidden",
                "attributes": [{"name": "Size", "options": ["S", "M"], "variation": true, "visible": true}],
            })),
        )
        .await
        .expect(201, "variable product")
        .id();
    let small = shop
        .rest(
            Method::POST,
            &format!("products/{shirt}/variations"),
            Some(json!({
                "regular_price": "12.00", "sku": format!("CT-{run}-SHIRT-S"),
                "manage_stock": true, "stock_quantity": 10,
                "attributes": [{"name": "Size", "option": "S"}],
            })),
        )
        .await
        .expect(201, "variation")
        .id();
    let pickup = shop
        .rest(
            Method::POST,
            "orders",
            Some(json!({
                "status": "processing",
                "billing": {"first_name": "Pick", "last_name": "Up", "email": format!("ct-{run}-pickup@possync.test")},
                "line_items": [{"product_id": gift, "quantity": 1}],
                "shipping_lines": [{"method_id": "local_pickup", "method_title": "Local pickup", "total": "0.00"}],
            })),
        )
        .await
        .expect(201, "pickup order")
        .id();

    let t = pulled_agent(&shop, |c| {
        for (till, gateway, title) in [
            ("cash", "cod", "Cash"),
            ("transfer", "bacs", "Bank transfer"),
        ] {
            c.till.settings.payment_methods.insert(
                till.to_owned(),
                PaymentMapping {
                    gateway: gateway.to_owned(),
                    title: title.to_owned(),
                },
            );
        }
    })
    .await;

    // Registered at the shop after the pull: the till does not know it.
    let existing_email = format!("ct-{run}-known@possync.test");
    let existing = shop
        .rest(
            Method::POST,
            "customers",
            Some(json!({"email": existing_email, "first_name": "Known"})),
        )
        .await
        .expect(201, "a customer registered at the shop")
        .body;

    // Customers: a new one, and one whose email the shop already has.
    let email = format!("ct-{run}@possync.test");
    let (status, made) = t
        .post_json(
            "/api/customers",
            json!({"email": email, "first_name": "Contract", "last_name": "Customer"}),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    let (status, again) = t
        .post_json("/api/customers", json!({"email": existing["email"]}))
        .await;
    assert_eq!(status, 201, "{again}");

    // Sales.
    let mut sales = Vec::new();
    let sell = async |what: &'static str, body: Value| {
        let (status, answer) = t.post_json("/api/orders", body).await;
        assert_eq!(status, 201, "{what}: {answer}");
        answer
    };
    let a = sell(
        "anonymous sale",
        json!({"lines": [{"product_id": mug, "quantity": 2}], "payment_method": "cash"}),
    )
    .await;
    sales.push(Sold {
        what: "anonymous sale",
        answer: a,
        customer: 0,
        gateway: "cod",
    });
    let b = sell("sale with a customer", json!({"lines": [{"product_id": mug, "quantity": 1}], "customer_id": made["id"], "payment_method": "transfer"})).await;
    sales.push(Sold {
        what: "sale with a customer",
        answer: b,
        customer: -1,
        gateway: "bacs",
    });
    let c = sell("variation line", json!({"lines": [{"product_id": shirt, "variation_id": small, "quantity": 1}], "payment_method": "cash"})).await;
    sales.push(Sold {
        what: "variation line",
        answer: c,
        customer: 0,
        gateway: "cod",
    });
    let d = sell("till-priced line with discount", json!({"lines": [{"product_id": mug, "quantity": 2, "unit_price": "9.00", "discount": "1.00"}], "payment_method": "cash"})).await;
    sales.push(Sold {
        what: "till-priced line with discount",
        answer: d,
        customer: 0,
        gateway: "cod",
    });
    let e = sell("billing without an email", json!({"lines": [{"product_id": mug, "quantity": 1}], "billing": {"first_name": "Walk", "last_name": "In", "postcode": "SW1A 1AA", "country": "GB"}, "payment_method": "cash"})).await;
    sales.push(Sold {
        what: "billing without an email",
        answer: e,
        customer: 0,
        gateway: "cod",
    });
    let f = sell("billing with an email", json!({"lines": [{"product_id": gift, "quantity": 1}], "billing": {"first_name": "Mail", "last_name": "Able", "email": format!("ct-{run}-bill@possync.test"), "country": "GB"}, "payment_method": "card"})).await;
    sales.push(Sold {
        what: "billing with an email",
        answer: f,
        customer: 0,
        gateway: "card",
    });

    let customer = confirmed(&t, uuid(&made["outbox_id"]), "the new customer").await;
    let customer_id = customer.upstream_id.unwrap();
    let resolved = confirmed(&t, uuid(&again["outbox_id"]), "the existing email").await;
    assert_eq!(
        resolved.upstream_id,
        existing["id"].as_i64(),
        "resolved to the registered customer"
    );
    let c = shop.get(&format!("customers/{customer_id}")).await;
    assert_eq!(
        (c["email"].as_str(), c["first_name"].as_str()),
        (Some(email.as_str()), Some("Contract"))
    );

    let mut orders = vec![pickup];
    // The shop's order for each confirmed sale, by what it was.
    let mut by_what = std::collections::BTreeMap::new();
    let mut failures = Vec::new();
    for s in &sales {
        let id = uuid(&s.answer["outbox_id"]);
        let e = settled(&t, id, s.what).await;
        if e.state != EntryState::Confirmed {
            failures.push(format!(
                "{}: refused {:?} {:?}",
                s.what, e.error_code, e.error_message
            ));
            continue;
        }
        let order_id = e.upstream_id.unwrap();
        orders.push(order_id);
        by_what.insert(s.what, order_id);
        let o = shop.get(&format!("orders/{order_id}")).await;
        let want_customer = if s.customer == -1 {
            customer_id
        } else {
            s.customer
        };
        let checks = [
            (
                "total",
                dec(&o["total"]) == dec(&s.answer["total"]),
                format!("{} vs till {}", o["total"], s.answer["total"]),
            ),
            (
                "status",
                o["status"] == "completed",
                o["status"].to_string(),
            ),
            (
                "possync_key",
                meta(&o, "possync_key") == Some(json!(id.to_string())),
                format!("{:?}", meta(&o, "possync_key")),
            ),
            (
                "customer",
                o["customer_id"].as_i64() == Some(want_customer),
                o["customer_id"].to_string(),
            ),
            (
                "payment",
                o["payment_method"] == s.gateway,
                o["payment_method"].to_string(),
            ),
        ];
        for (field, ok, got) in checks {
            if !ok {
                failures.push(format!("{}: {field} {got}", s.what));
            }
        }
    }

    // Returns (by line with restock; by amount without) and the pickup.
    let mut more = Vec::new();
    let first = sales[0].answer["id"].as_str().unwrap().to_owned();
    let (status, by_line) = t
        .post_json(&format!("/api/orders/{first}/refunds"), json!({"lines": [{"line_id": 1, "quantity": 1}], "reason": "contract", "restock": true}))
        .await;
    assert_eq!(status, 201, "{by_line}");
    more.push(("refund by line", by_line));
    let fourth = sales[3].answer["id"].as_str().unwrap().to_owned();
    let (status, by_amount) = t
        .post_json(
            &format!("/api/orders/{fourth}/refunds"),
            json!({"amount": "5.00", "reason": "contract", "restock": false}),
        )
        .await;
    assert_eq!(status, 201, "{by_amount}");
    more.push(("refund by amount", by_amount));
    let (status, handed) = t
        .post_json(&format!("/api/orders/{pickup}/complete"), json!({}))
        .await;
    assert_eq!(status, 201, "{handed}");
    more.push(("pickup completion", handed));
    let (status, updated) = t
        .send(
            "PATCH",
            &format!("/api/customers/{}", made["id"].as_str().unwrap()),
            Some(json!({"last_name": "Updated"})),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    for (what, answer) in &more {
        let e = settled(&t, uuid(&answer["outbox_id"]), what).await;
        if e.state != EntryState::Confirmed {
            failures.push(format!(
                "{what}: {} {:?} {:?}",
                e.state, e.error_code, e.error_message
            ));
        }
    }
    if let Some(order) = by_what.get("till-priced line with discount") {
        let refunds = shop.get(&format!("orders/{order}/refunds")).await;
        let amounts: Vec<_> = refunds
            .as_array()
            .unwrap()
            .iter()
            .map(|r| dec(&r["amount"]))
            .collect();
        if amounts != [Decimal::new(500, 2)] {
            failures.push(format!("refund by amount: the shop holds {amounts:?}"));
        }
    }
    let p = shop.get(&format!("orders/{pickup}")).await;
    if p["status"] != "completed" {
        failures.push(format!("pickup: status {}", p["status"]));
    }
    wait_for(
        "the customer update to reach the shop",
        REPLAY_WITHIN,
        || async {
            let c = shop.get(&format!("customers/{customer_id}")).await;
            (c["last_name"] == "Updated").then_some(())
        },
    )
    .await;

    // A stock adjustment, once every sale has taken its stock.
    let (status, adj) = t
        .post_json(
            "/api/stock-adjustments",
            json!({"product_id": mug, "delta": 3, "reason": "counted"}),
        )
        .await;
    assert_eq!(status, 201, "{adj}");
    let adjusted = settled(&t, uuid(&adj["outbox_id"]), "the stock adjustment").await;
    if adjusted.state != EntryState::Confirmed {
        failures.push(format!(
            "stock adjustment: refused {:?}",
            adjusted.error_message
        ));
    }
    // 20 − 2 − 1 − 2 − 1 sold, + 1 restocked, + 3 counted.
    let mug_stock = shop.stock(&format!("products/{mug}")).await;
    if failures.is_empty() && mug_stock != Some(18) {
        failures.push(format!("mug stock at the shop {mug_stock:?}, expected 18"));
    }
    let shirt_stock = shop
        .stock(&format!("products/{shirt}/variations/{small}"))
        .await;
    if by_what.contains_key("variation line") && shirt_stock != Some(9) {
        failures.push(format!(
            "variation stock at the shop {shirt_stock:?}, expected 9"
        ));
    }

    // Leave the store as it was.
    t.stop().await;
    for id in orders {
        shop.delete(&format!("orders/{id}")).await;
    }
    for c in [customer_id, existing["id"].as_i64().unwrap()] {
        shop.delete(&format!("customers/{c}?reassign=0")).await;
    }
    for p in [mug, gift, shirt] {
        shop.delete(&format!("products/{p}")).await;
    }
    assert!(
        failures.is_empty(),
        "the real store disagrees:\n{}",
        failures.join("\n")
    );
}
