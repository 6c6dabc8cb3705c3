//! The real agent binary, killed with SIGKILL: a sale answered 2xx is found
//! after restart, and sales that were in flight reach the shop exactly once.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::{Value, json};

use super::Shop;
use crate::common::wait_for;
use crate::shops::Kind;

const WITHIN: Duration = Duration::from_secs(60);
/// A sale the agent tried while the line was cut may have reached the
/// shop (the connection closed unanswered). A WooCommerce order is looked
/// up by its key at once; a Shopify order only over the search-lag window
/// from the attempt, since its search trails new orders: this long.
const AFTER_AN_ATTEMPT_IN_DOUBT: Duration =
    Duration::from_secs(possync::upstream::shopify::writes::SEARCH_LAG_WINDOW.as_secs() + 30);

/// `possync run` in its own process.
struct Agent {
    child: Child,
    url: String,
}

impl Agent {
    fn start(config: &Path) -> Agent {
        let mut child = Command::new(env!("CARGO_BIN_EXE_possync"))
            .arg("--config")
            .arg(config)
            .args(["run", "--listen", "127.0.0.1:0"])
            .env("POSSYNC_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the agent starts");
        let (tx, rx) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("possync: status page at ") {
                    let _ = tx.send(rest.trim_end_matches('/').to_owned());
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the agent says where it listens");
        Agent { child, url }
    }

    /// SIGKILL: no shutdown, no flush, nothing.
    fn kill(mut self) {
        kill(Pid::from_raw(self.child.id() as i32), Signal::SIGKILL).unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn get(http: &reqwest::Client, url: String) -> Value {
    http.get(url).send().await.unwrap().json().await.unwrap()
}

async fn pulled(http: &reqwest::Client, agent: &Agent) {
    wait_for("the first pull", WITHIN, || async {
        let s = get(http, format!("{}/api/sync/status", agent.url)).await;
        (s["pull"]["state"] == "completed").then_some(())
    })
    .await;
}

async fn entries(http: &reqwest::Client, agent: &Agent, state: &str) -> Vec<Value> {
    let v = get(
        http,
        format!("{}/api/outbox?state={state}&limit=5000", agent.url),
    )
    .await;
    v["entries"].as_array().cloned().unwrap_or_default()
}

/// A client with a token made by `possync tokens create` on `config`'s
/// replica, as a till's installer would.
fn http(config: &Path) -> reqwest::Client {
    let out = Command::new(env!("CARGO_BIN_EXE_possync"))
        .arg("--config")
        .arg(config)
        .args(["tokens", "create", "--name", "durable-till"])
        .env("POSSYNC_LOG", "warn")
        .output()
        .expect("tokens create runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap();
    crate::common::client_with_token(token.trim())
}

async fn answered_2xx_survives_sigkill(kind: Kind) {
    let shop = Shop::spawn(kind).await;
    let mug = shop.add_product("Kill mug", "KILL-MUG", "4.00", 10);
    let dir = tempfile::tempdir().unwrap();
    let config = shop.write_config(dir.path(), 10, "").await;
    let http = http(&config);
    let agent = Agent::start(&config);
    pulled(&http, &agent).await;

    shop.network().set_offline(true);
    let res = http
        .post(format!("{}/api/orders", agent.url))
        .json(&json!({"lines": [{"product_id": mug, "quantity": 2}], "payment_method": "cash"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    let sale: Value = res.json().await.unwrap();
    agent.kill();

    let agent = Agent::start(&config);
    let found = get(&http, format!("{}/api/outbox", agent.url)).await;
    let entry = found["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == sale["outbox_id"])
        .unwrap_or_else(|| panic!("the sale is gone after SIGKILL: {found}"))
        .clone();
    assert_eq!(entry["payload"]["number"], sale["number"]);

    shop.network().set_offline(false);
    let key = sale["outbox_id"].as_str().unwrap().to_owned();
    wait_for(
        "the sale at the shop",
        AFTER_AN_ATTEMPT_IN_DOUBT,
        || async { (!entries(&http, &agent, "confirmed").await.is_empty()).then_some(()) },
    )
    .await;
    assert_eq!(shop.orders_with_key(&key).len(), 1);
    assert_eq!(shop.stock(mug).await, Some(8));
    agent.kill();
    shop.shutdown().await;
}

crate::both_shops!(
    a_sale_answered_2xx_survives_sigkill_and_reaches_the_shop_after_restart,
    answered_2xx_survives_sigkill,
    flavor = "multi_thread",
    worker_threads = 2
);

async fn in_flight_at_sigkill(kind: Kind) {
    let shop = Shop::spawn(kind).await;
    let mug = shop.add_product("Flight mug", "FLIGHT-MUG", "4.00", 50);
    let dir = tempfile::tempdir().unwrap();
    // Two sales in flight at a time: the others wait for a slot, which
    // no answer frees before the kill.
    let config = shop
        .write_config(dir.path(), 20, "\n[till]\nreplay_concurrency = 2\n")
        .await;
    let http = http(&config);
    let agent = Agent::start(&config);
    pulled(&http, &agent).await;

    // The shop commits each sale at once but answers the two first late:
    // the agent is killed while they are `sending` (the others wait for
    // a slot).
    shop.answer_order_creates_late(2, Duration::from_secs(8));
    let mut keys = Vec::new();
    for _ in 0..6 {
        let res = http
            .post(format!("{}/api/orders", agent.url))
            .json(&json!({"lines": [{"product_id": mug, "quantity": 1}], "payment_method": "cash"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 201);
        let v: Value = res.json().await.unwrap();
        keys.push(v["outbox_id"].as_str().unwrap().to_owned());
    }
    // Killed while two sales are in flight, committed and unanswered (one
    // still on its way to the shop would, on Shopify, be looked for over
    // the client's search-lag window, 120 s from the attempt, before it
    // may be sent again: not what this test is about).
    wait_for("sales in flight, committed at the shop", WITHIN, || async {
        let sending = entries(&http, &agent, "sending").await;
        let committed = sending
            .iter()
            .all(|e| shop.orders_with_key(e["id"].as_str().unwrap()).len() == 1);
        (sending.len() >= 2 && committed).then_some(())
    })
    .await;
    agent.kill();

    let agent = Agent::start(&config);
    wait_for("every sale confirmed", WITHIN, || async {
        (entries(&http, &agent, "confirmed").await.len() == keys.len()).then_some(())
    })
    .await;
    for key in &keys {
        assert_eq!(shop.orders_with_key(key).len(), 1, "key {key}");
    }
    assert_eq!(shop.stock(mug).await, Some(44));
    agent.kill();
    shop.shutdown().await;
}

crate::both_shops!(
    sales_in_flight_at_sigkill_reach_the_shop_exactly_once_after_restart,
    in_flight_at_sigkill,
    flavor = "multi_thread",
    worker_threads = 2
);

#[tokio::test]
async fn the_outbox_command_lists_retries_and_discards() {
    let (t, shelf) = super::till(|_| {}).await;
    super::busy(&t.sim);
    let (_, sold) = t.post_json("/api/orders", super::sale(shelf.gift, 1)).await;
    let id = sold["outbox_id"].as_str().unwrap().to_owned();
    let crate::common::TestApp { app, sim, dir, .. } = t;
    app.shutdown().await;
    let cli = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_possync"))
            .args(args)
            .arg("--data-dir")
            .arg(dir.path())
            .env("POSSYNC_LOG", "error")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, _) = cli(&["outbox", "list"]);
    assert_eq!(code, Some(0));
    assert!(
        out.contains(&id) && out.contains("sale POS1-000001"),
        "{out}"
    );
    let (code, out, err) = cli(&["outbox", "discard", &id]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("discarded"), "{out}");
    let (code, _, err) = cli(&["outbox", "retry", &id]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("only queued, unknown or rejected"), "{err}");
    let (code, out, _) = cli(&["outbox", "list", "--state", "discarded", "--json"]);
    assert_eq!(code, Some(0));
    let listed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(listed[0]["id"], id.as_str());
    let (code, _, err) = cli(&["outbox", "list", "--state", "lost"]);
    assert_eq!(code, Some(2), "{err}");
    sim.shutdown().await;
}
