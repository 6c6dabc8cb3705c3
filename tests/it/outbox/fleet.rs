//! Three tills sell from the same stock while the shop is unreachable, then
//! come back together: every sale reaches the shop exactly once and the
//! shop's stock is what it had minus what was sold.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use possync::domain::outbox::EntryState;
use possync::store::outbox;
use possync::sync::engine::InitialPull;
use possync::{App, AppOptions, RunningApp};

use crate::common::{assert_completed, wait_for};
use crate::shops::{Kind, ShopSize, TestShop};

const TILLS: usize = 3;
const SALES: usize = 1000;
const INITIAL: i64 = 5000;

async fn sell(
    (app, token): (&RunningApp, &str),
    http: &reqwest::Client,
    n: usize,
    products: [i64; 2],
) -> Vec<String> {
    let mut keys = Vec::with_capacity(n);
    for i in 0..n {
        let body = serde_json::json!({
            "lines": [{"product_id": products[i % 2], "quantity": 1 + (i % 3) as i64}],
            "payment_method": "cash",
        });
        let res = http
            .post(format!("{}/api/orders", app.url()))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 201);
        let v: serde_json::Value = res.json().await.unwrap();
        keys.push(v["outbox_id"].as_str().unwrap().to_owned());
    }
    keys
}

async fn confirmed(app: &RunningApp) -> i64 {
    app.store()
        .read(outbox::counts)
        .await
        .unwrap()
        .into_iter()
        .filter(|(s, _)| *s == EntryState::Confirmed)
        .map(|(_, n)| n)
        .sum()
}

async fn three_tills(kind: Kind) {
    let shop = TestShop::spawn(kind, ShopSize::small()).await;
    let products = [
        shop.add_product("Fleet tea", "FLEET-TEA", "2.00", INITIAL),
        shop.add_product("Fleet cup", "FLEET-CUP", "3.00", INITIAL),
    ];
    let mut dirs = Vec::new();
    let mut apps = Vec::new();
    for i in 0..TILLS {
        let dir = tempfile::tempdir().unwrap();
        let mut config = shop.agent_config(dir.path()).await;
        config.till.settings.till_id = format!("till-{i}");
        config.till.settings.order_prefix = format!("T{i}-");
        let app = App::spawn(
            config,
            AppOptions {
                initial_pull: InitialPull::Always,
            },
        )
        .await
        .unwrap();
        dirs.push(dir);
        apps.push(app);
    }
    let mut tokens = Vec::new();
    for app in &apps {
        tokens.push(crate::common::create_token(app, "fleet-till").await);
    }
    for app in &apps {
        assert_completed(
            &tokio::time::timeout(Duration::from_secs(60), app.pull_finished())
                .await
                .unwrap(),
        );
    }

    shop.network().set_offline(true);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let shares: Vec<usize> = (0..TILLS)
        .map(|i| SALES / TILLS + usize::from(i < SALES % TILLS))
        .collect();
    let sold = futures::future::join_all(
        apps.iter()
            .zip(&tokens)
            .zip(&shares)
            .map(|((app, token), n)| sell((app, token), &http, *n, products)),
    )
    .await;
    let keys: Vec<String> = sold.into_iter().flatten().collect();
    assert_eq!(keys.len(), SALES);

    shop.network().set_offline(false);
    let back = Instant::now();
    wait_for("every sale confirmed", Duration::from_secs(240), || async {
        let mut total = 0;
        for app in &apps {
            total += confirmed(app).await;
        }
        (total == SALES as i64).then_some(())
    })
    .await;
    eprintln!(
        "{kind:?}: {SALES} sales from {TILLS} tills confirmed {:?} after the shop came back",
        back.elapsed()
    );

    let upstream = shop.orders_by_key();
    assert_eq!(upstream.len(), SALES, "exactly one order per sale");
    let upstream_keys: HashSet<String> = upstream.into_iter().map(|(_, k)| k).collect();
    assert_eq!(upstream_keys.len(), SALES, "no key twice");
    assert_eq!(upstream_keys, keys.into_iter().collect::<HashSet<_>>());
    let sold_of = |p: usize| -> i64 {
        shares
            .iter()
            .map(|n| {
                (0..*n)
                    .filter(|i| i % 2 == p)
                    .map(|i| 1 + (i % 3) as i64)
                    .sum::<i64>()
            })
            .sum()
    };
    assert_eq!(shop.stock(products[0]).await, Some(INITIAL - sold_of(0)));
    assert_eq!(shop.stock(products[1]).await, Some(INITIAL - sold_of(1)));
    for app in apps {
        app.shutdown().await;
    }
    shop.shutdown().await;
}

crate::both_shops!(
    three_tills_selling_offline_from_the_same_stock_book_every_sale_once,
    three_tills,
    flavor = "multi_thread",
    worker_threads = 4
);
