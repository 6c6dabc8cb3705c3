//! Outbox benchmark (figures go to docs/benchmarks.md, "## Outbox"):
//!
//! 1. accept latency of `POST /api/orders` over loopback HTTP, each sale
//!    committed with `synchronous=FULL` before the answer (p50/p99);
//! 2. replay of 10,000 sales queued while the shop was unreachable, against
//!    the simulated store answering with 50 ms latency: wall time from the
//!    shop's return to the last confirmation, and requests made.
//!
//! `cargo bench --bench outbox` (`OUTBOX_BENCH_SALES`, `OUTBOX_BENCH_CONCURRENCY`
//! and `OUTBOX_BENCH_LATENCY_MS` change the sizes).
//!
//! `cargo bench --bench outbox -- server`: instead, the replay against a
//! shop with 4 PHP workers and 500 ms a request (the sim's server model),
//! `sync.concurrency` pinned at 16 against `"auto"` (up to
//! `till.replay_concurrency` = 16), while a probe fetches the shop's
//! storefront every 100 ms (100 ms of a worker): the replay's wall time and
//! what the shop's own shoppers meet meanwhile.

use std::path::Path;
use std::time::{Duration, Instant};

use possync::config::{Config, StoreConfig, TillConfig};
use possync::domain::outbox::EntryState;
use possync::store::outbox;
use possync::sync::engine::InitialPull;
use possync::{App, AppOptions, RunningApp};
use possync_sim::woo::{FaultKind, Sim, SimConfig, SimHandle};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let sales = env_or("OUTBOX_BENCH_SALES", 10_000) as usize;
    let concurrency = env_or("OUTBOX_BENCH_CONCURRENCY", 8) as usize;
    let latency = Duration::from_millis(env_or("OUTBOX_BENCH_LATENCY_MS", 50));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if std::env::args().skip(1).any(|a| a == "server") {
        let sales = env_or("OUTBOX_BENCH_SALES", 200) as usize;
        println!(
            "| sync.concurrency | sales | replay wall (s) | storefront p50 (ms) | storefront p95 (ms) | server queue |"
        );
        println!("|---|---|---|---|---|---|");
        for pinned in [Some(16), None] {
            rt.block_on(replay_under_workers(sales, pinned));
        }
        return;
    }
    rt.block_on(run(sales, concurrency, latency));
}

/// Queues `sales` while the shop is unreachable, then lets it back as a
/// 4-worker shop at 500 ms a request and times the replay, with a probe on
/// the storefront meanwhile. `pinned`: `sync.concurrency` (None = auto).
async fn replay_under_workers(sales: usize, pinned: Option<usize>) {
    use possync_sim::woo::ServerModel;
    let sim = Sim::spawn(SimConfig {
        seed: 12,
        products: 50,
        customers: 10,
        orders: 10,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let product = sim.add_simple_product("Bench", "BENCH-1", "3.50", Some(1_000_000));
    let dir = tempfile::tempdir().unwrap();
    let mut config = agent_config(&sim, dir.path(), 16);
    config.sync.concurrency = pinned.unwrap_or(possync::config::AUTO_CONCURRENCY);
    config.sync.max_concurrency = 16;
    let app = pulled_agent(config).await;
    sim.set_fail_rate(1.0, vec![FaultKind::BadGateway]);
    let token = possync::api::security::tokens::create(app.store(), "bench-till")
        .await
        .unwrap()
        .unwrap();
    let http = reqwest::Client::new();
    let url = format!("{}/api/orders", app.url());
    for _ in 0..sales {
        let body = serde_json::json!({
            "lines": [{"product_id": product, "quantity": 1}],
            "payment_method": "cash",
        });
        let res = http
            .post(&url)
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 201);
    }
    sim.set_server(ServerModel {
        workers: 4,
        service: Duration::from_millis(500),
        front_page: Duration::from_millis(100),
    });
    sim.reset_server_stats();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let probe = {
        let (stop, front) = (stop.clone(), format!("{}/", sim.url()));
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut out = Vec::new();
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                tick.tick().await;
                let t = Instant::now();
                if let Ok(r) = http.get(&front).send().await {
                    let _ = r.bytes().await;
                    out.push(t.elapsed());
                }
            }
            out
        })
    };
    sim.set_fail_rate(0.0, Vec::new());
    let back = Instant::now();
    all_confirmed(&app, sales).await;
    let wall = back.elapsed();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut front = probe.await.unwrap();
    front.sort();
    let q = sim.server_stats();
    println!(
        "| {} | {sales} | {:.1} | {:.0} | {:.0} | at most {} waiting, mean wait {:.0} ms, longest {:.0} ms |",
        pinned.map_or("auto".to_owned(), |n| n.to_string()),
        wall.as_secs_f64(),
        percentile(&front, 0.5).as_secs_f64() * 1e3,
        percentile(&front, 0.95).as_secs_f64() * 1e3,
        q.peak_queued,
        q.mean_wait_ms,
        q.max_wait_ms,
    );
    app.shutdown().await;
}

/// The agent's configuration for the simulated shop `sim`, its data in `dir`.
fn agent_config(sim: &SimHandle, dir: &Path, replay_concurrency: usize) -> Config {
    let store = StoreConfig::oauth1(
        sim.url().parse().unwrap(),
        sim.consumer_key(),
        sim.consumer_secret(),
    );
    Config {
        till: TillConfig {
            replay_concurrency,
            ..TillConfig::default()
        },
        ..Config::new(
            "127.0.0.1:0".parse().unwrap(),
            dir.to_path_buf(),
            Some(store),
        )
    }
}

/// The agent started on `config`, its first full pull done.
async fn pulled_agent(config: Config) -> RunningApp {
    let app = App::spawn(
        config,
        AppOptions {
            initial_pull: InitialPull::Always,
        },
    )
    .await
    .unwrap();
    app.pull_finished().await;
    app
}

/// Waits until the shop has confirmed all `sales`; none may be refused.
async fn all_confirmed(app: &RunningApp, sales: usize) {
    let count = |counts: &[(EntryState, i64)], state: EntryState| -> i64 {
        counts
            .iter()
            .filter(|(s, _)| *s == state)
            .map(|(_, n)| n)
            .sum()
    };
    loop {
        let counts = app.store().read(outbox::counts).await.unwrap();
        if count(&counts, EntryState::Confirmed) as usize == sales {
            return;
        }
        assert_eq!(
            count(&counts, EntryState::Rejected),
            0,
            "some sales were refused: {counts:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn run(sales: usize, concurrency: usize, latency: Duration) {
    let sim = Sim::spawn(SimConfig {
        seed: 11,
        products: 200,
        customers: 50,
        orders: 100,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let products: Vec<i64> = (0..20)
        .map(|i| {
            sim.add_simple_product(
                &format!("Bench {i}"),
                &format!("BENCH-{i}"),
                "3.50",
                Some(1_000_000),
            )
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let app = pulled_agent(agent_config(&sim, dir.path(), concurrency)).await;

    // The shop is unreachable (its proxy answers 502): every sale queues.
    sim.set_fail_rate(1.0, vec![FaultKind::BadGateway]);
    let token = possync::api::security::tokens::create(app.store(), "bench-till")
        .await
        .unwrap()
        .unwrap();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let url = format!("{}/api/orders", app.url());
    let mut latencies = Vec::with_capacity(sales);
    let accept_started = Instant::now();
    for i in 0..sales {
        let body = serde_json::json!({
            "lines": [{"product_id": products[i % products.len()], "quantity": 1 + (i % 3)}],
            "payment_method": "cash",
        });
        let t = Instant::now();
        let res = http
            .post(&url)
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 201);
        let _ = res.bytes().await.unwrap();
        latencies.push(t.elapsed());
    }
    let accept_total = accept_started.elapsed();
    latencies.sort();
    println!(
        "accept: {sales} sales over loopback HTTP in {:.1} s",
        accept_total.as_secs_f64()
    );
    println!(
        "accept latency: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().unwrap().as_secs_f64() * 1e3,
    );

    // The shop comes back, answering each request after `latency`.
    sim.set_latency(latency);
    sim.clear_requests();
    sim.set_fail_rate(0.0, Vec::new());
    let back = Instant::now();
    all_confirmed(&app, sales).await;
    let replay = back.elapsed();
    let requests = sim.requests();
    let by = |m: &str| requests.iter().filter(|r| r.method == m).count();
    let orders_created = requests
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/orders"))
        .count();
    println!(
        "replay: {sales} sales at {} ms store latency, concurrency {concurrency}: {:.1} s ({:.0} sales/s)",
        latency.as_millis(),
        replay.as_secs_f64(),
        sales as f64 / replay.as_secs_f64()
    );
    println!(
        "replay requests: {} in all ({} POST /orders, {} GET, {} other)",
        requests.len(),
        orders_created,
        by("GET"),
        requests.len() - by("GET") - orders_created
    );
    let upstream = sim.orders_with_meta("possync_key");
    println!("orders with a possync key at the shop: {}", upstream.len());
    app.shutdown().await;
}
