//! Webhook ingest benchmark: signed product deliveries (2 KB, the captured
//! WooCommerce shape) posted to the agent's receiver while the agent runs a
//! full pull of a 10,000-product simulated store answering each page in
//! 50 ms, as in the full-pull benchmark (`-- --latency-ms 0`: a store with
//! no latency at all, the pull then as CPU- and write-heavy as it gets).
//!
//! Two phases, each with a fresh agent and pull:
//! - *paced*: 2,000 deliveries/s offered (open loop), ack latency measured;
//! - *flat out*: 64 deliveries in flight (closed loop), the sustained rate.
//!
//! Run with `cargo bench --bench webhooks` (add `-- --quick` for 2,000
//! products, `-- --no-pull` for the receiver alone). The simulated store
//! runs as its own process at nice 10 (standing in for the shop's own
//! machine); the agent and the load share this process, on separate async
//! runtimes. All share the machine's cores.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use possync::config::{Config, StoreConfig, SyncConfig, WebhooksConfig};
use possync::sync::engine::InitialPull;
use possync::sync::progress::PullState;
use possync::upstream::woo::webhook;
use possync::{App, AppOptions, RunningApp};
use secrecy::SecretString;
use serde_json::Value;

const SECRET: &str = "bench-webhook-secret";
const PACED_RATE: u64 = 2_000;
const IN_FLIGHT: usize = 64;
const MAX_PHASE: Duration = Duration::from_secs(10);
/// Enough deliveries for the longest phase at the highest rate expected.
const PREPARED: u64 = 40_000;

fn template() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/woocommerce/webhooks/012_product_updated_event.body"
    );
    serde_json::from_slice(&std::fs::read(path).expect("fixture")).expect("json")
}

/// A distinct signed delivery: (signature, body).
fn delivery(template: &Value, n: u64) -> (String, Vec<u8>) {
    let mut v = template.clone();
    v["id"] = Value::from(2_000_000 + n);
    v["sku"] = Value::from(format!("BENCH-{n}"));
    let body = serde_json::to_vec(&v).expect("json");
    let sig = webhook::sign(&body, &SecretString::from(SECRET.to_owned()));
    (sig, body)
}

const SHOP_KEY: &str = "ck_bench_webhooks";
const SHOP_SECRET: &str = "cs_bench_webhooks";

/// The simulated store in its own process, at a lower CPU priority (nice
/// 10): in the field the shop is another machine, so its rendering must
/// not take the agent's share of this one. Killed on drop.
struct Shop {
    child: std::process::Child,
    url: String,
}

impl Shop {
    fn start(products: usize, latency_ms: u64) -> Shop {
        use std::io::BufRead;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let mut child = std::process::Command::new("nice")
            .args(["-n", "10", env!("CARGO_BIN_EXE_possync"), "sim"])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--products", &products.to_string(), "--seed", "1"])
            .args(["--customers", "0", "--orders", "0"])
            .args(["--consumer-key", SHOP_KEY, "--consumer-secret", SHOP_SECRET])
            .args(["--latency-ms", &latency_ms.to_string()])
            .env_remove("POSSYNC_LOG")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("start the simulated store");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = std::io::BufReader::new(stdout).lines();
        let mut banner = Vec::new();
        let url = loop {
            let line = lines
                .next()
                .unwrap_or_else(|| panic!("the sim stopped: {banner:?}"))
                .expect("sim output");
            if let Some(url) = line.strip_prefix("simulated WooCommerce store at ") {
                break url.trim().to_owned();
            }
            banner.push(line);
        };
        // Keep draining its output so it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Shop { child, url }
    }
}

impl Drop for Shop {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn spawn_agent(shop: &Shop, dir: &std::path::Path, pull: bool) -> RunningApp {
    let store = StoreConfig::oauth1(shop.url.parse().expect("url"), SHOP_KEY, SHOP_SECRET);
    let config = Config {
        sync: SyncConfig {
            page_size: 100,
            concurrency: 4,
            ..SyncConfig::default()
        },
        webhooks: WebhooksConfig {
            secret: Some(SecretString::from(SECRET.to_owned())),
        },
        ..Config::new(
            "127.0.0.1:0".parse().expect("addr"),
            dir.to_path_buf(),
            Some(store),
        )
    };
    App::spawn(
        config,
        AppOptions {
            initial_pull: if pull {
                InitialPull::Always
            } else {
                InitialPull::Never
            },
        },
    )
    .await
    .expect("agent starts")
}

/// Whether the load goes on: while the pull runs (or, without a pull, for
/// a fixed time).
fn pulling(app: &RunningApp) -> bool {
    matches!(app.progress().borrow().state, PullState::Running)
        || matches!(app.progress().borrow().state, PullState::Idle)
}

async fn post(http: &reqwest::Client, url: &str, sig: String, body: Vec<u8>) -> (u16, Duration) {
    let started = Instant::now();
    let status = http
        .post(url)
        .header("Content-Type", "application/json")
        .header("X-WC-Webhook-Topic", "product.updated")
        .header("X-WC-Webhook-Resource", "product")
        .header("X-WC-Webhook-Event", "updated")
        .header("X-WC-Webhook-Signature", sig)
        .header("X-WC-Webhook-ID", "1")
        .body(body)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0);
    (status, started.elapsed())
}

struct Phase {
    sent: usize,
    ok: usize,
    secs: f64,
    latencies: Vec<Duration>,
    pull_overlap: bool,
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

/// Deliveries made before a phase starts, so that building and signing
/// them is not load on the machine while it is measured.
type Prepared = Arc<Vec<(String, Vec<u8>)>>;

fn prepare(n: u64) -> Prepared {
    let tpl = template();
    Arc::new((0..n).map(|i| delivery(&tpl, i)).collect())
}

async fn paced(app: &RunningApp, http: reqwest::Client, prepared: Prepared) -> Phase {
    let url = format!("{}/webhooks/woocommerce", app.url());
    let results = Arc::new(Mutex::new(Vec::new()));
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let per_tick = PACED_RATE / 1000;
    let started = Instant::now();
    let mut n = 0u64;
    let mut tasks = Vec::new();
    while pulling(app) && started.elapsed() < MAX_PHASE {
        tick.tick().await;
        for _ in 0..per_tick {
            let Some((sig, body)) = prepared.get(n as usize).cloned() else {
                break;
            };
            n += 1;
            let (http, url, results) = (http.clone(), url.clone(), Arc::clone(&results));
            tasks.push(tokio::spawn(async move {
                let r = post(&http, &url, sig, body).await;
                results.lock().expect("lock").push(r);
            }));
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let pull_overlap = pulling(app);
    futures::future::join_all(tasks).await;
    finish(results, secs, pull_overlap)
}

async fn flat_out(app: &RunningApp, http: reqwest::Client, prepared: Prepared) -> Phase {
    let url = format!("{}/webhooks/woocommerce", app.url());
    let results = Arc::new(Mutex::new(Vec::new()));
    let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let started = Instant::now();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let workers: Vec<_> = (0..IN_FLIGHT)
        .map(|_| {
            let (http, url, prepared, results, next, stop) = (
                http.clone(),
                url.clone(),
                Arc::clone(&prepared),
                Arc::clone(&results),
                Arc::clone(&next),
                Arc::clone(&stop),
            );
            tokio::spawn(async move {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some((sig, body)) = prepared.get(n as usize).cloned() else {
                        break;
                    };
                    let r = post(&http, &url, sig, body).await;
                    results.lock().expect("lock").push(r);
                }
            })
        })
        .collect();
    while pulling(app) && started.elapsed() < MAX_PHASE {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pull_overlap = pulling(app);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let secs = started.elapsed().as_secs_f64();
    futures::future::join_all(workers).await;
    finish(results, secs, pull_overlap)
}

fn finish(results: Arc<Mutex<Vec<(u16, Duration)>>>, secs: f64, pull_overlap: bool) -> Phase {
    let results = std::mem::take(&mut *results.lock().expect("lock"));
    let ok = results.iter().filter(|(s, _)| *s == 200).count();
    let mut latencies: Vec<Duration> = results.iter().map(|(_, d)| *d).collect();
    latencies.sort();
    Phase {
        sent: results.len(),
        ok,
        secs,
        latencies,
        pull_overlap,
    }
}

fn row(name: &str, p: &Phase, pull_secs: f64) {
    println!(
        "| {name} | {} | {} | {:.1} | {:.0} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1}{} |",
        p.sent,
        p.ok,
        p.secs,
        p.ok as f64 / p.secs,
        pct(&p.latencies, 0.50),
        pct(&p.latencies, 0.99),
        pct(&p.latencies, 0.999),
        p.latencies
            .last()
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0),
        pull_secs,
        if p.pull_overlap {
            " (still pulling at the end)"
        } else {
            ""
        },
    );
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let products = if quick { 2_000 } else { 10_000 };
    let args: Vec<String> = std::env::args().collect();
    let latency_ms: u64 = args
        .iter()
        .position(|a| a == "--latency-ms")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let shop = Shop::start(products, latency_ms);
    println!(
        "simulated store (own process, nice 10): {products} products, {latency_ms} ms per response; {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!();
    println!(
        "| phase | sent | 200 | during pull (s) | acked/s | p50 ms | p99 ms | p99.9 ms | max ms | full pull (s) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let no_pull = std::env::args().any(|a| a == "--no-pull");
    for name in ["paced 2,000/s", "flat out, 64 in flight"] {
        let dir = tempfile::tempdir().expect("temp dir");
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(IN_FLIGHT)
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        let prepared = prepare(PREPARED);
        // The agent gets its own runtime, apart from the load's.
        let agent_rt = tokio::runtime::Runtime::new().expect("agent runtime");
        let app = agent_rt.block_on(spawn_agent(&shop, dir.path(), !no_pull));
        let started = Instant::now();
        let phase = rt.block_on(async {
            if name.starts_with("paced") {
                paced(&app, http, prepared).await
            } else {
                flat_out(&app, http, prepared).await
            }
        });
        let phase = agent_rt.block_on(async {
            if !no_pull {
                app.pull_finished().await;
            }
            let pull_secs = started.elapsed().as_secs_f64();
            app.shutdown().await;
            (phase, pull_secs)
        });
        row(name, &phase.0, phase.1);
    }
    drop(shop);
}
