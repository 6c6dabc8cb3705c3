//! Settings on the page: saved through the file's validation, in force at
//! once, kept across a restart, read-only when the environment sets them;
//! activation; the two profiles.

use std::time::Duration;

use serde_json::{Value, json};

use super::{Shop, data_dir, sources, staging_sim, store_section};
use crate::common::wait_for;

#[tokio::test]
async fn a_setting_saved_on_the_page_is_in_force_at_once_and_after_a_restart() {
    let shop = Shop::spawn(&[]).await;
    shop.pulled().await;
    let (status, page) = shop.page("/settings?tab=till").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("id=\"o-till.order_prefix\">default<"),
        "{page}"
    );

    let (status, page) = shop
        .post_form(
            "/settings",
            &[
                ("tab", "till"),
                ("till.order_prefix", "T9-"),
                ("till.id", "till-1"),
            ],
        )
        .await;
    assert_eq!(status, 303, "{page}");
    assert!(
        page.contains("Saved. The new settings are in force."),
        "{page}"
    );
    assert!(page.contains("value=\"T9-\""), "{page}");
    assert!(page.contains("id=\"o-till.order_prefix\">page<"), "{page}");
    // The unchanged till id stays the default's, not the page's.
    assert!(page.contains("id=\"o-till.id\">default<"), "{page}");
    // In force without a restart: the next sale takes the new prefix.
    assert_eq!(shop.sell().await["number"], "T9-000001");

    let saved = data_dir(shop.dir.path()).join("settings.toml");
    let text = std::fs::read_to_string(&saved).unwrap();
    assert!(text.contains("order_prefix = \"T9-\""), "{text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&saved).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let shop = shop.restart().await;
    let (_, page) = shop.page("/settings?tab=till").await;
    assert!(page.contains("value=\"T9-\""), "{page}");
    assert_eq!(shop.sell().await["number"], "T9-000002");
    shop.stop().await;
}

#[tokio::test]
async fn a_refused_value_gets_the_files_message_and_changes_nothing() {
    let shop = Shop::spawn(&[]).await;
    let saved = data_dir(shop.dir.path()).join("settings.toml");
    // (tab, fields typed, the message the file would get)
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case] = &[
        (
            "schedule",
            &[("schedule.products_secs", "0")],
            "schedule.products_secs must be between 1 and 604800 (got 0)",
        ),
        (
            "schedule",
            &[("schedule.orders_secs", "soon")],
            "schedule.orders_secs must be a whole number (got &#34;soon&#34;)",
        ),
        (
            "products",
            &[("sync.product_statuses", "published")],
            "sync.product_statuses has unknown status &#34;published&#34;",
        ),
        (
            "till",
            &[("till.order_status", "pending")],
            "till.order_status must be one of completed, processing",
        ),
        (
            "store",
            &[("store.url", "shop.example.com")],
            "store.url must be a URL such as https://shop.example.com",
        ),
        (
            "till",
            &[("pm_name_0", "cash"), ("pm_gateway_0", "")],
            "till.payment_methods.cash must name a payment gateway id",
        ),
    ];
    for (tab, fields, message) in cases {
        let mut form = vec![("tab", *tab)];
        form.extend_from_slice(fields);
        let (status, page) = shop.post_form("/settings", &form).await;
        assert_eq!(status, 422, "{fields:?}: {page}");
        assert!(
            page.contains(message),
            "{fields:?}: {message} not in {page}"
        );
        assert!(!saved.exists(), "{fields:?} saved something");
    }
    let (status, page) = shop.post_form("/settings", &[("tab", "nope")]).await;
    assert_eq!(status, 400, "{page}");
    // An oversized value is refused before anything is read.
    let long = "x".repeat(3000);
    let (status, _) = shop
        .post_form("/settings", &[("tab", "till"), ("till.id", &long)])
        .await;
    assert_eq!(status, 400);
    // Without the CSRF token the form is refused by the security layer.
    let res = shop
        .http
        .post(shop.url("/settings"))
        .header("cookie", &shop.session.cookie)
        .header("origin", shop.app.url())
        .header("sec-fetch-site", "same-origin")
        .form(&[("tab", "till"), ("till.order_prefix", "X-")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(!saved.exists());
    shop.stop().await;
}

#[tokio::test]
async fn a_value_set_in_the_environment_is_read_only_on_the_page() {
    let shop = Shop::spawn(&[("POSSYNC_TILL_ID", "front-desk")]).await;
    let (_, page) = shop.page("/settings?tab=till").await;
    assert!(page.contains("id=\"o-till.id\">environment<"), "{page}");
    assert!(
        page.contains("value=\"front-desk\" aria-describedby=\"h-till.id\" readonly"),
        "{page}"
    );
    assert!(page.contains("Read-only: set by the environment"), "{page}");
    let (status, page) = shop
        .post_form("/settings", &[("tab", "till"), ("till.id", "other")])
        .await;
    assert_eq!(status, 422, "{page}");
    assert!(
        page.contains("till.id is set by the environment and cannot be changed on the page"),
        "{page}"
    );
    assert!(!data_dir(shop.dir.path()).join("settings.toml").exists());
    shop.stop().await;
}

#[tokio::test]
async fn secrets_are_write_only_and_an_empty_secret_field_keeps_the_secret() {
    let shop = Shop::spawn(&[]).await;
    let key = shop.sim.consumer_key().to_owned();
    let secret = shop.sim.consumer_secret().to_owned();
    let (_, page) = shop.page("/settings?tab=store").await;
    assert!(!page.contains(&secret), "the secret is on the page");
    assert!(!page.contains(&key), "the key is on the page");
    let tail = &key[key.len() - 4..];
    assert!(page.contains(&format!("set, ends in …{tail}")), "{page}");
    // Saving the tab with the secret fields empty keeps the keys working.
    let (status, page) = shop
        .post_form(
            "/settings",
            &[
                ("tab", "store"),
                ("store.consumer_key", ""),
                ("store.consumer_secret", ""),
                ("store.timeout_secs", "12"),
            ],
        )
        .await;
    assert_eq!(status, 303, "{page}");
    assert!(!page.contains(&secret));
    shop.pulled().await;
    shop.stop().await;
}

#[tokio::test]
async fn deactivate_stops_polling_and_activate_resumes_while_sales_queue() {
    let shop = Shop::spawn(&[]).await;
    shop.pulled().await;
    let (status, page) = shop.post_form("/instance/deactivate", &[]).await;
    assert_eq!(status, 303, "{page}");
    assert!(page.contains("Deactivated."), "{page}");
    assert!(page.contains("id=\"activate\""), "{page}");
    // No request reaches the shop while deactivated, across several poll
    // intervals (1 s each): measured by the sim's request log.
    let before = shop.shop_gets();
    let sale = shop.sell().await;
    let outbox = sale["outbox_id"].as_str().unwrap().to_owned();
    let quiet_until = std::time::Instant::now() + Duration::from_secs(3);
    wait_for(
        "three poll intervals to pass",
        Duration::from_secs(10),
        || async { (std::time::Instant::now() >= quiet_until).then_some(()) },
    )
    .await;
    assert_eq!(
        shop.shop_gets(),
        before,
        "the shop was polled while deactivated"
    );
    assert!(
        shop.sim.requests_with_method("POST").is_empty(),
        "a sale was sent"
    );

    let (status, page) = shop.post_form("/instance/activate", &[]).await;
    assert_eq!(status, 303, "{page}");
    assert!(page.contains("<strong>Active"), "{page}");
    wait_for("polls to resume", Duration::from_secs(20), || async {
        (shop.shop_gets() > before).then_some(())
    })
    .await;
    // The queued sale reaches the shop once active.
    wait_for(
        "the queued sale to be confirmed",
        Duration::from_secs(30),
        || async {
            let res = shop
                .till
                .get(shop.url("/api/outbox"))
                .send()
                .await
                .ok()?
                .json::<Value>()
                .await
                .ok()?;
            res["entries"]
                .as_array()?
                .iter()
                .any(|e| e["id"] == outbox.as_str() && e["state"] == "confirmed")
                .then_some(())
        },
    )
    .await;
    shop.stop().await;
}

#[tokio::test]
async fn switching_profile_with_an_unconfirmed_sale_is_refused_and_names_it() {
    let live = possync_sim::woo::Sim::spawn(crate::common::small_sim())
        .await
        .unwrap();
    let staging = staging_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{}{}",
        store_section("store", &live),
        store_section("test_store", &staging)
    );
    let src = sources(dir.path(), &text, &[]);
    let shop = Shop::start(live, dir, src).await;
    shop.pulled().await;
    let live_products = shop.sim.product_ids(Some("publish")).len();
    // A sale that cannot reach the shop: the agent is deactivated.
    shop.post_form("/instance/deactivate", &[]).await;
    let sale = shop.sell().await;
    let number = sale["number"].as_str().unwrap().to_owned();
    // Newer changes of other kinds queue after it: the refusal still finds
    // the sale behind them.
    for i in 0..12 {
        let res = shop
            .till
            .post(shop.url("/api/customers"))
            .json(&json!({"first_name": "Ann", "email": format!("ann{i}@example.com")}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    }

    let (status, page) = shop
        .post_form("/instance/profile", &[("profile", "test")])
        .await;
    assert_eq!(status, 303);
    assert!(
        page.contains("Switch refused: 1 sale of this till is not confirmed"),
        "{page}"
    );
    assert!(
        page.contains(&number),
        "the refusal does not name {number}: {page}"
    );
    assert!(!data_dir(shop.dir.path()).join("replica-test.db").exists());

    // Discarded, the sale no longer holds the switch.
    let id = sale["outbox_id"].as_str().unwrap();
    let res = shop
        .till
        .delete(shop.url(&format!("/api/outbox/{id}")))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let (_, page) = shop
        .post_form("/instance/profile", &[("profile", "test")])
        .await;
    assert!(page.contains("Switched to the test profile"), "{page}");
    assert!(page.contains("Test profile: the staging shop"), "{page}");
    // The test profile has its own replica, pulled from the staging shop.
    assert!(data_dir(shop.dir.path()).join("replica-test.db").exists());
    shop.post_form("/instance/activate", &[]).await;
    shop.pulled().await;
    let staging_products = staging.product_ids(Some("publish")).len();
    let res: Value = shop
        .app
        .progress()
        .borrow()
        .resources
        .iter()
        .find(|r| r.resource == possync::domain::Resource::Products)
        .map(|r| json!(r.items_done))
        .unwrap();
    assert_eq!(res, json!(staging_products), "live had {live_products}");
    staging.shutdown().await;
    shop.stop().await;
}
