//! The till's writes and their replay: the local write API, durability,
//! exactly-once replay under faults, dependency order, manager controls.

mod api;
mod durable;
mod fleet;
mod line;
mod replay;

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::time::Duration;

use possync::config::StoreSettings;
use possync::domain::outbox::{EntryState, OutboxEntry};
use possync::store::{Store, outbox};
use possync::sync::engine::InitialPull;
use possync::{App, AppOptions, Config, RunningApp};
use possync_sim::woo::{FaultKind, FaultRule, Sim, SimHandle};
use serde_json::Value;
use uuid::Uuid;

use self::line::SlowLine;
use crate::common::{TestApp, assert_completed, small_sim, wait_for};
use crate::shops::{Kind, ShopSize, StoreFile, TestShop};

/// A shop of either kind for the outbox tests, whose answers to order
/// creates can be made late: WooCommerce's sim does that itself (a slow
/// answer), Shopify's is reached through a [`SlowLine`] that holds them.
pub struct Shop {
    shop: TestShop,
    line: Option<SlowLine>,
}

impl Deref for Shop {
    type Target = TestShop;
    fn deref(&self) -> &TestShop {
        &self.shop
    }
}

impl Shop {
    /// A small shop of `kind` (the seed and sizes of `small_sim`).
    pub async fn spawn(kind: Kind) -> Shop {
        let shop = TestShop::spawn(kind, ShopSize::small()).await;
        let line = match &shop {
            TestShop::WooCommerce(_) => None,
            TestShop::Shopify(sim) => Some(SlowLine::start(&sim.url()).await),
        };
        Shop { shop, line }
    }

    /// The in-process agent's configuration (see
    /// [`TestShop::agent_config`]), reaching the shop through the line.
    pub async fn agent_config(&self, dir: &Path) -> Config {
        let mut config = self.shop.agent_config(dir).await;
        if let (Some(line), Some(store)) = (&self.line, config.store.as_mut())
            && let StoreSettings::Shopify(s) = &mut store.settings
        {
            s.admin_url = Some(line.url().parse().unwrap());
        }
        config
    }

    /// `possync.toml` for the `possync` binary (see
    /// [`TestShop::write_config_with`]), reaching the shop through the
    /// line, `rest` written after the `[sync]` section's own lines (keys of
    /// `[sync]`, then other sections).
    pub async fn write_config(&self, dir: &Path, timeout_secs: u64, rest: &str) -> PathBuf {
        let store = StoreFile {
            timeout_secs,
            address: self.line.as_ref().map(SlowLine::url),
        };
        self.shop.write_config_with(dir, &store, rest).await
    }

    /// The shop commits each of the next `times` order creates at once,
    /// and its answer reaches the till `delay` later.
    pub fn answer_order_creates_late(&self, times: usize, delay: Duration) {
        match (&self.shop, &self.line) {
            (TestShop::WooCommerce(sim), _) => sim.inject(
                FaultRule::new(FaultKind::SlowAnswer {
                    delay_ms: delay.as_millis() as u64,
                })
                .path("/wc/v3/orders")
                .method("POST")
                .times(times),
            ),
            (TestShop::Shopify(_), Some(line)) => line.hold_answers("orderCreate(", times, delay),
            (TestShop::Shopify(_), None) => unreachable!("a Shopify shop has its line"),
        }
    }

    pub async fn shutdown(self) {
        drop(self.line);
        self.shop.shutdown().await;
    }
}

/// An in-process agent on a [`Shop`] of either kind, which has pulled it,
/// and a client with a token, as a till front-end has.
pub struct AnyTill {
    pub app: RunningApp,
    pub shop: Shop,
    _dir: tempfile::TempDir,
    http: reqwest::Client,
}

impl AnyTill {
    pub async fn start(shop: Shop, tweak: impl FnOnce(&mut Config)) -> AnyTill {
        let dir = tempfile::tempdir().unwrap();
        let mut config = shop.agent_config(dir.path()).await;
        tweak(&mut config);
        let app = App::spawn(
            config,
            AppOptions {
                initial_pull: InitialPull::Always,
            },
        )
        .await
        .expect("agent starts");
        let token = crate::common::create_token(&app, crate::common::TEST_TOKEN_NAME).await;
        assert_completed(
            &tokio::time::timeout(Duration::from_secs(60), app.pull_finished())
                .await
                .expect("the pull ends within a minute"),
        );
        AnyTill {
            app,
            shop,
            _dir: dir,
            http: crate::common::client_with_token(&token),
        }
    }

    pub fn store(&self) -> &Store {
        self.app.store()
    }

    pub async fn post_json(&self, path: &str, body: Value) -> (u16, Value) {
        let res = self
            .http
            .post(format!("{}{path}", self.app.url()))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// Waits until the entry reaches `state`.
    pub async fn wait_state(&self, id: Uuid, state: EntryState, within: Duration) -> OutboxEntry {
        let store = self.store();
        wait_for(&format!("entry {id} to be {state}"), within, || async {
            let e = store
                .read(move |c| outbox::get(c, id))
                .await
                .unwrap()
                .expect("entry exists");
            (e.state == state).then_some(e)
        })
        .await
    }

    pub async fn stop(self) {
        self.app.shutdown().await;
        self.shop.shutdown().await;
    }
}

/// Products every outbox test sells from.
pub struct Shelf {
    /// 10.00, 20 in stock.
    pub mug: i64,
    /// 15.00, 5 in stock.
    pub cap: i64,
    /// 25.00, stock not counted.
    pub gift: i64,
}

/// A sim with the shelf, and an agent that has pulled it.
pub async fn till(tweak: impl FnOnce(&mut Config)) -> (TestApp, Shelf) {
    let sim = Sim::spawn(small_sim()).await.expect("sim starts");
    let shelf = Shelf {
        mug: sim.add_simple_product("Till mug", "TILL-MUG", "10.00", Some(20)),
        cap: sim.add_simple_product("Till cap", "TILL-CAP", "15.00", Some(5)),
        gift: sim.add_simple_product("Gift wrap", "TILL-GIFT", "25.00", None),
    };
    let t = TestApp::spawn_with_sim(sim, tweak).await;
    assert_completed(&t.pulled().await);
    (t, shelf)
}

/// Every request to the shop fails as if its proxy had no upstream.
pub fn offline(sim: &SimHandle) {
    sim.set_fail_rate(1.0, vec![FaultKind::BadGateway]);
}

/// The shop answers 429 with a long Retry-After: entries stay queued.
pub fn busy(sim: &SimHandle) {
    sim.set_fail_rate(
        1.0,
        vec![FaultKind::TooManyRequests {
            retry_after_secs: 600,
        }],
    );
}

pub fn online(sim: &SimHandle) {
    sim.set_fail_rate(0.0, Vec::new());
}

pub async fn entry(t: &TestApp, id: Uuid) -> OutboxEntry {
    t.store()
        .read(move |c| outbox::get(c, id))
        .await
        .unwrap()
        .expect("entry exists")
}

/// Waits until the entry reaches `state`.
pub async fn wait_state(t: &TestApp, id: Uuid, state: EntryState, within: Duration) -> OutboxEntry {
    wait_for(&format!("entry {id} to be {state}"), within, || async {
        let e = entry(t, id).await;
        (e.state == state).then_some(e)
    })
    .await
}

pub fn uuid(v: &Value) -> Uuid {
    Uuid::parse_str(v.as_str().unwrap_or_default()).unwrap_or_else(|_| panic!("not a uuid: {v}"))
}

/// A one-line cash sale of `qty` of `product`.
pub fn sale(product: i64, qty: i64) -> Value {
    serde_json::json!({
        "lines": [{"product_id": product, "quantity": qty}],
        "payment_method": "cash",
    })
}

/// Stock at the till (replica minus unconfirmed), through the view.
pub async fn unconfirmed(t: &TestApp, product: i64) -> i64 {
    t.store()
        .read(move |c| {
            Ok(c.query_row(
                "SELECT COALESCE(SUM(quantity), 0) FROM unconfirmed_stock WHERE product_id = ?1 AND variation_id = 0",
                [product],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap()
}
