//! The sales report (`/reports`, `GET /api/reports/sales`): its confirmed
//! totals equal the sums of the orders the shop has for the same sales, a
//! sale the shop does not have yet is counted apart, and a bad span is
//! refused naming its parameter.

use std::str::FromStr;
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use possync::domain::outbox::EntryState;
use possync::store::outbox;
use possync_sim::woo::{FaultKind, Sim};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{Shop, sources, store_section};
use crate::common::{small_sim, wait_for};

fn dec(v: &Value) -> Decimal {
    match v {
        Value::String(s) => Decimal::from_str(s).unwrap_or_else(|_| panic!("not an amount: {v}")),
        Value::Number(n) => Decimal::from_str(&n.to_string()).unwrap(),
        _ => panic!("not an amount: {v}"),
    }
}

pub(super) fn uuid(v: &Value) -> Uuid {
    Uuid::parse_str(v.as_str().unwrap_or_default()).unwrap_or_else(|_| panic!("not a uuid: {v}"))
}

/// A shop selling a mug (10.00, standard rate 20%) and tea (5.25, reduced
/// rate 5%), prices including tax, and an agent that has pulled them.
pub(super) async fn shop() -> (Shop, i64, i64) {
    let sim = Sim::spawn(small_sim()).await.unwrap();
    let mug = sim.add_simple_product("Report mug", "REP-MUG", "10.00", Some(50));
    let tea = sim.add_simple_product("Report tea", "REP-TEA", "5.25", None);
    sim.update_product(tea, json!({"tax_class": "reduced-rate"}))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sources = sources(dir.path(), &store_section("store", &sim), &[]);
    let shop = Shop::start(sim, dir, sources).await;
    shop.pulled().await;
    (shop, mug, tea)
}

impl Shop {
    pub(super) async fn till_post(&self, path: &str, body: Value) -> Value {
        let res = self
            .till
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 201, "{path}");
        res.json().await.unwrap()
    }

    async fn entry_state(&self, id: Uuid) -> EntryState {
        self.app
            .store()
            .read(move |c| outbox::get(c, id))
            .await
            .unwrap()
            .expect("entry exists")
            .state
    }

    pub(super) async fn confirmed(&self, id: Uuid) {
        wait_for(
            &format!("entry {id} to be confirmed"),
            Duration::from_secs(30),
            || async { (self.entry_state(id).await == EntryState::Confirmed).then_some(()) },
        )
        .await;
    }

    pub(super) async fn report(&self, query: &str) -> (u16, Value) {
        let res = self
            .till
            .get(self.url(&format!("/api/reports/sales{query}")))
            .send()
            .await
            .unwrap();
        (res.status().as_u16(), res.json().await.unwrap())
    }
}

/// A span of three UTC days around now, so a test crossing midnight still
/// sees its sales.
pub(super) fn around_today() -> String {
    let today = Utc::now().date_naive();
    format!(
        "?from={}&to={}",
        today - TimeDelta::days(1),
        today + TimeDelta::days(1)
    )
}

#[tokio::test]
async fn the_confirmed_totals_equal_the_shops_orders_and_the_rest_is_apart() {
    let (shop, mug, tea) = shop().await;

    let s1 = shop
        .till_post(
            "/api/orders",
            json!({"lines": [{"product_id": mug, "quantity": 2}], "payment_method": "cash"}),
        )
        .await;
    let s2 = shop
        .till_post(
            "/api/orders",
            json!({"lines": [
                {"product_id": mug, "quantity": 1, "unit_price": "12.00", "discount": "2.40"},
                {"product_id": tea, "quantity": 2}
            ], "payment_method": "card", "payment_method_title": "Card"}),
        )
        .await;
    let s3 = shop
        .till_post(
            "/api/orders",
            json!({"lines": [{"sku": "REP-TEA", "quantity": 1}], "payment_method": "card", "payment_method_title": "Card"}),
        )
        .await;
    for s in [&s1, &s2, &s3] {
        shop.confirmed(uuid(&s["outbox_id"])).await;
    }
    let refund = shop
        .till_post(
            &format!("/api/orders/{}/refunds", s1["id"].as_str().unwrap()),
            json!({"lines": [{"line_id": 1, "quantity": 1}], "reason": "chipped"}),
        )
        .await;
    shop.confirmed(uuid(&refund["outbox_id"])).await;

    // The shop is now unreachable: the next sale stays on this till.
    shop.sim.set_fail_rate(
        1.0,
        vec![FaultKind::TooManyRequests {
            retry_after_secs: 600,
        }],
    );
    let s4 = shop
        .till_post(
            "/api/orders",
            json!({"lines": [{"product_id": mug, "quantity": 1}], "payment_method": "cash"}),
        )
        .await;
    assert_ne!(
        shop.entry_state(uuid(&s4["outbox_id"])).await,
        EntryState::Confirmed
    );

    let (status, report) = shop.report(&around_today()).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["time_zone"], "UTC");
    assert!(
        report["starts_at"]
            .as_str()
            .unwrap()
            .ends_with("T00:00:00Z")
    );
    assert!(
        report["ends_before"]
            .as_str()
            .unwrap()
            .ends_with("T00:00:00Z")
    );
    assert_eq!(report["currency"], "GBP");

    // The orders at the shop for this till's sales.
    let orders: Vec<Value> = shop
        .sim
        .orders_with_meta("possync_key")
        .into_iter()
        .map(|(id, _)| shop.sim.order(id).expect("the order is at the shop"))
        .collect();
    assert_eq!(orders.len(), 3, "the unconfirmed sale is not at the shop");
    let sum = |f: &dyn Fn(&Value) -> Decimal| orders.iter().map(f).sum::<Decimal>();
    let shop_total = sum(&|o| dec(&o["total"]));
    let shop_tax = sum(&|o| dec(&o["total_tax"]));
    let shop_discounts = sum(&|o| {
        o["line_items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                dec(&l["subtotal"]) + dec(&l["subtotal_tax"])
                    - dec(&l["total"])
                    - dec(&l["total_tax"])
            })
            .sum::<Decimal>()
            + dec(&o["discount_total"])
            + dec(&o["discount_tax"])
    });
    let shop_refunds = sum(&|o| {
        o["refunds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| -dec(&r["total"]))
            .sum::<Decimal>()
    });

    let c = &report["confirmed"];
    assert_eq!(c["sales"], 3, "{c}");
    assert_eq!(dec(&c["sales_total"]), shop_total, "{c}");
    assert_eq!(dec(&c["tax"]), shop_tax, "{c}");
    assert_eq!(dec(&c["discounts"]), shop_discounts, "{c}");
    assert_eq!(dec(&c["refunds"]), shop_refunds, "{c}");
    assert_eq!(c["refund_count"], 1);
    assert_eq!(dec(&c["net"]), shop_total - shop_refunds);
    assert_eq!(
        dec(&c["gross"]) - dec(&c["discounts"]),
        dec(&c["sales_total"])
    );
    // The figures themselves, worked by hand: 20.00 + (9.60 + 10.50) + 5.25.
    assert_eq!(c["sales_total"], "45.35");
    assert_eq!(c["discounts"], "2.40");
    assert_eq!(c["refunds"], "10.00");
    // Amounts are decimal strings.
    assert!(c["tax"].is_string() && c["net"].is_string());

    // Per payment method: the shop's orders by method.
    for p in c["by_payment_method"].as_array().unwrap() {
        let method = p["payment_method"].as_str().unwrap();
        let of: Vec<&Value> = orders
            .iter()
            .filter(|o| o["payment_method"] == method)
            .collect();
        assert_eq!(p["sales"], of.len(), "{p}");
        let total: Decimal = of.iter().map(|o| dec(&o["total"])).sum();
        let tax: Decimal = of.iter().map(|o| dec(&o["total_tax"])).sum();
        assert_eq!(dec(&p["sales_total"]), total, "{p}");
        assert_eq!(dec(&p["tax"]), tax, "{p}");
    }
    assert_eq!(c["by_payment_method"].as_array().unwrap().len(), 2);

    // Per tax rate: the shop's tax lines by rate.
    let rates = c["by_tax_rate"].as_array().unwrap();
    assert_eq!(rates.len(), 2, "{c}");
    for r in rates {
        let id = r["rate_id"].as_i64().unwrap();
        let shop_rate_tax: Decimal = orders
            .iter()
            .flat_map(|o| o["tax_lines"].as_array().unwrap().iter())
            .filter(|t| t["rate_id"].as_i64() == Some(id))
            .map(|t| dec(&t["tax_total"]))
            .sum();
        assert_eq!(dec(&r["tax"]), shop_rate_tax, "{r}");
    }
    let rate_sum: Decimal = rates.iter().map(|r| dec(&r["tax"])).sum();
    assert_eq!(rate_sum, shop_tax);

    // The sale still on this till: counted apart, its tax estimated.
    let u = &report["unconfirmed"];
    assert_eq!(u["sales"], 1, "{u}");
    assert_eq!(u["sales_total"], "10.00");
    assert_eq!(u["tax"], "1.67");
    assert_eq!(u["refunds"], "0.00");
    assert_eq!(u["by_payment_method"][0]["payment_method"], "cash");
    assert_eq!(u["by_tax_rate"][0]["taxable"], "10.00");
    let all = &report["all"];
    assert_eq!(all["sales"], 4);
    assert_eq!(dec(&all["sales_total"]), shop_total + Decimal::from(10));
    assert_eq!(
        dec(&all["net"]),
        shop_total + Decimal::from(10) - shop_refunds
    );

    // A day before the sales has nothing.
    let long_ago = "?from=2001-02-03";
    let (status, empty) = shop.report(long_ago).await;
    assert_eq!(status, 200);
    assert_eq!(empty["from"], "2001-02-03");
    assert_eq!(empty["to"], "2001-02-03");
    assert_eq!(empty["starts_at"], "2001-02-03T00:00:00Z");
    assert_eq!(empty["ends_before"], "2001-02-04T00:00:00Z");
    assert_eq!(empty["all"]["sales"], 0);
    assert_eq!(empty["all"]["net"], "0.00");

    // The page shows the same figures, printable.
    let (status, page) = shop.page(&format!("/reports{}", around_today())).await;
    assert_eq!(status, 200);
    assert!(page.contains(r#"aria-current="page""#) && page.contains("id=\"tab-reports\""));
    assert!(
        page.contains(r#"data-field="sales_total" data-part="confirmed">45.35<"#),
        "{page}"
    );
    assert!(page.contains(r#"data-field="tax" data-part="unconfirmed">1.67<"#));
    assert!(page.contains("UTC"));
    let css = shop
        .http
        .get(shop.url("/assets/app.css"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(css.contains("@media print"));

    shop.sim.set_fail_rate(0.0, Vec::new());
    shop.stop().await;
}

#[tokio::test]
async fn a_bad_span_is_refused_naming_its_parameter() {
    let sim = Sim::spawn(small_sim()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sources = sources(dir.path(), &store_section("store", &sim), &[]);
    let shop = Shop::start(sim, dir, sources).await;
    for (query, field) in [
        ("?from=2024-13-01", "from"),
        ("?from=24-01-01", "from"),
        ("?from=today", "from"),
        ("?from=2024-01-01&to=2024-02-30", "to"),
        ("?from=2024-03-02&to=2024-03-01", "to"),
        ("?from=2023-01-01&to=2024-01-02", "to"),
    ] {
        let (status, body) = shop.report(query).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["error"]["code"], "invalid_parameter", "{query}");
        assert_eq!(body["error"]["field"], field, "{query}: {body}");
    }
    // 366 days is the longest span.
    let (status, body) = shop.report("?from=2023-01-01&to=2024-01-01").await;
    assert_eq!(status, 200, "{body}");
    // The page says so too, with a 400.
    let (status, page) = shop.page("/reports?from=2024-03-02&to=2024-03-01").await;
    assert_eq!(status, 400);
    assert!(page.contains("id=\"report-error\""), "{page}");
    // Without a token or session: refused.
    let res = shop
        .http
        .get(shop.url("/api/reports/sales"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
    shop.stop().await;
}
