//! The till's writes and their replay: the local write API, durability,
//! exactly-once replay under faults, dependency order, manager controls.

mod api;
mod durable;
mod fleet;
mod replay;

use std::time::Duration;

use possync::Config;
use possync::domain::outbox::{EntryState, OutboxEntry};
use possync::store::outbox;
use possync_sim::woo::{FaultKind, Sim, SimHandle};
use serde_json::Value;
use uuid::Uuid;

use crate::common::{TestApp, assert_completed, small_sim, wait_for};

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
