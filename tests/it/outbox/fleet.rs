//! Three tills sell from the same stock while the shop is unreachable, then
//! come back together: every sale reaches the shop exactly once and the
//! shop's stock is what it had minus what was sold.

use std::collections::HashSet;
use std::time::Duration;

use possync::domain::outbox::EntryState;
use possync::store::outbox;
use possync::sync::engine::InitialPull;
use possync::{App, AppOptions, RunningApp};
use possync_sim::woo::Sim;

use super::{offline, online};
use crate::common::{agent_config, assert_completed, small_sim, wait_for};

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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_tills_selling_offline_from_the_same_stock_book_every_sale_once() {
    let sim = Sim::spawn(small_sim()).await.unwrap();
    let products = [
        sim.add_simple_product("Fleet tea", "FLEET-TEA", "2.00", Some(INITIAL)),
        sim.add_simple_product("Fleet cup", "FLEET-CUP", "3.00", Some(INITIAL)),
    ];
    let mut dirs = Vec::new();
    let mut apps = Vec::new();
    for i in 0..TILLS {
        let dir = tempfile::tempdir().unwrap();
        let mut config = agent_config(&sim, dir.path());
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

    offline(&sim);
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

    online(&sim);
    wait_for("every sale confirmed", Duration::from_secs(240), || async {
        let mut total = 0;
        for app in &apps {
            total += confirmed(app).await;
        }
        (total == SALES as i64).then_some(())
    })
    .await;

    let upstream = sim.orders_with_meta("possync_key");
    assert_eq!(upstream.len(), SALES, "exactly one order per sale");
    let upstream_keys: HashSet<String> = upstream
        .iter()
        .map(|(_, v)| v.as_str().unwrap().to_owned())
        .collect();
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
    assert_eq!(sim.product_stock(products[0]), Some(INITIAL - sold_of(0)));
    assert_eq!(sim.product_stock(products[1]), Some(INITIAL - sold_of(1)));
    for app in apps {
        app.shutdown().await;
    }
}
