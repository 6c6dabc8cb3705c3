//! Exactly once against the real store: the answer to a sale is lost after
//! the shop committed it (the fault proxy drops the connection), and the
//! agent finds the order by its key instead of creating a second one.

use possync::domain::GmtTime;
use serde_json::json;

use crate::proxy::FaultProxy;
use crate::pull::pulled_agent;
use crate::shop::{Shop, run_id};
use crate::writes::{confirmed, create_product, uuid};

#[tokio::test]
async fn a_sale_whose_answer_is_lost_after_commit_creates_one_order_on_the_real_store() {
    let Some(shop) = Shop::take("exactly once").await else {
        return;
    };
    let run = run_id();
    let started = GmtTime::from_unix(GmtTime::now().unix() - 60);
    let product = create_product(&shop, &run, "once", "10.00", Some(20)).await;
    let proxy = FaultProxy::spawn(shop.url.clone()).await;
    let t = pulled_agent(&shop, |c| {
        let s = c.store.as_mut().unwrap().woo_mut().unwrap();
        s.url = proxy.url();
    })
    .await;

    proxy.drop_answer("POST", "/wc/v3/orders");
    let (status, sold) = t
        .post_json(
            "/api/orders",
            json!({"lines": [{"product_id": product, "quantity": 2}], "payment_method": "cod"}),
        )
        .await;
    assert_eq!(status, 201, "{sold}");
    let key = uuid(&sold["outbox_id"]);
    let e = confirmed(&t, key, "the sale whose answer was lost").await;

    let posts: Vec<_> = proxy
        .seen()
        .into_iter()
        .filter(|s| s.method == "POST" && s.path.ends_with("/wc/v3/orders"))
        .collect();
    assert_eq!(
        posts.len(),
        1,
        "looked up by key, not sent again: {posts:?}"
    );
    assert!(posts[0].dropped, "the answer was dropped");
    // The shop holds one order with the key, and took the stock once.
    let recent = shop
        .get(&format!(
            "orders?after={started}&dates_are_gmt=true&per_page=100&_fields=id,meta_data"
        ))
        .await;
    let with_key: Vec<i64> = recent
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| {
            o["meta_data"].as_array().is_some_and(|m| {
                m.iter()
                    .any(|m| m["key"] == "possync_key" && m["value"] == key.to_string())
            })
        })
        .filter_map(|o| o["id"].as_i64())
        .collect();
    assert_eq!(with_key, vec![e.upstream_id.unwrap()]);
    assert_eq!(shop.stock(&format!("products/{product}")).await, Some(18));
    crate::shop::say(&format!(
        "contract exactly once: {} requests through the fault proxy",
        proxy.seen().len()
    ));

    t.stop().await;
    for id in with_key {
        shop.delete(&format!("orders/{id}")).await;
    }
    shop.delete(&format!("products/{product}")).await;
}
