//! Full pull benchmark. The simulated store (`possync sim`) and the agent
//! (`possync sync --full`, or `possync run` where lookups are measured) each
//! run as their own process, as on a till; the bench only starts them, reads
//! what they print, times the shop's storefront and asks the agent's API.
//!
//! `cargo bench --bench full_pull [-- PART… [--quick] [--baseline BIN]]`
//!
//! Parts (all by default):
//! - `floor`: 10,000 products (+ variations) at 50 ms per request, fixed
//!   concurrency 1, 4 and 8 and `auto`: wall against the floor
//!   (`pages × latency / concurrency`), the replica writer's busy share,
//!   peak RSS; then one pull at 8 under `possync run` while barcodes are
//!   looked up over its API (p50/p99 during the pull);
//! - `lookups`: only the barcode lookups during a pull of `floor`;
//! - `server`: a 4-worker shop at 500 ms a request (2,000 products), fixed
//!   1, 2, 4, 8, 16 and `auto`, with a probe fetching the storefront every
//!   100 ms (100 ms of a worker each): its latency and the server's queue;
//! - `latency`: 10,000 products at 500 ms per request, concurrency 4 and
//!   `auto`, against the floor;
//! - `small`: 25 products (and customers, orders, refunds: every list one
//!   page) at 100 ms per request, every resource, against its critical path;
//! - `shopify`: 10,000 products with their variants from the simulated
//!   Shopify (`possync sim --shop shopify`) at 50 ms per request, pulled by
//!   bulk export and by cursor pages: wall, requests, cost points the shop
//!   charged, peak RSS of the agent. The agent is this bench run again in
//!   a process of its own (`possync sync --full` does not speak Shopify
//!   yet), pulling through the library as `possync` does.
//!
//! `--baseline BIN` runs each `floor` setting with that possync binary too
//! (an older build), alternating with this one: before and after in one
//! run. `--quick` pulls 2,000 products in `floor`, `latency` and `shopify`;
//! `--products N` pulls N.
//! Prints Markdown rows ready for docs/benchmarks.md.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const PAGE_SIZE: u64 = 100;
const THIS: &str = env!("CARGO_BIN_EXE_possync");

/// A `possync sim` process.
struct SimProc {
    child: Child,
    lines: mpsc::Receiver<String>,
    url: String,
    key: String,
    secret: String,
    products: u64,
    variations: u64,
}

fn spawn_sim(args: &[String]) -> SimProc {
    let mut child = Command::new(THIS)
        .arg("sim")
        .args(["--listen", "127.0.0.1:0", "--seed", "1"])
        .args(args)
        .env_remove("POSSYNC_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start possync sim");
    let out = child.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let (mut url, mut key, mut secret) = (String::new(), String::new(), String::new());
    let (mut products, mut variations) = (0, 0);
    loop {
        let line = lines
            .recv_timeout(Duration::from_secs(120))
            .expect("the sim starts");
        if let Some(u) = line.strip_prefix("simulated WooCommerce store at ") {
            url = u.trim().to_owned();
        } else if let Some(k) = line.trim().strip_prefix("consumer key:") {
            key = k.trim().to_owned();
        } else if let Some(s) = line.trim().strip_prefix("consumer secret:") {
            secret = s.trim().to_owned();
        } else if line.contains(" products, ") && line.contains(" variations, ") {
            let w: Vec<&str> = line.split_whitespace().collect();
            products = w[0].parse().unwrap_or(0);
            variations = w[2].parse().unwrap_or(0);
        } else if line.starts_with("point possync at it") {
            break;
        }
    }
    SimProc {
        child,
        lines,
        url,
        key,
        secret,
        products,
        variations,
    }
}

fn interrupt(child: &Child) {
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
}

impl SimProc {
    /// Stops the sim; returns its closing line about the server's queue.
    fn stop(mut self) -> String {
        interrupt(&self.child);
        let _ = self.child.wait();
        self.lines
            .try_iter()
            .find(|l| l.starts_with("server:"))
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Setting {
    Fixed(usize),
    Auto,
}

impl Setting {
    fn toml(self) -> String {
        match self {
            Setting::Fixed(n) => n.to_string(),
            Setting::Auto => "\"auto\"".to_owned(),
        }
    }
    /// The most requests at once: the pinned number, or `auto`'s default
    /// ceiling (`sync.max_concurrency` = 8).
    fn ceiling(self) -> usize {
        match self {
            Setting::Fixed(n) => n,
            Setting::Auto => 8,
        }
    }
    fn label(self) -> String {
        match self {
            Setting::Fixed(n) => n.to_string(),
            Setting::Auto => "auto".to_owned(),
        }
    }
}

fn write_config(sim: &SimProc, dir: &Path, setting: Setting, extra: &str) -> PathBuf {
    let path = dir.join("possync.toml");
    std::fs::write(
        &path,
        format!(
            "data_dir = \"{}\"\n{extra}[store]\nurl = \"{}\"\nconsumer_key = \"{}\"\nconsumer_secret = \"{}\"\nauth = \"oauth1\"\ntimeout_secs = 120\n[sync]\npage_size = {PAGE_SIZE}\nconcurrency = {}\norder_window_days = 0\n",
            dir.join("data").display(),
            sim.url,
            sim.key,
            sim.secret,
            setting.toml()
        ),
    )
    .expect("write config");
    path
}

/// What one `sync --full` printed.
#[derive(Debug, Default)]
struct Pulled {
    secs: f64,
    requests: u64,
    peak_mib: f64,
    writer_busy: Option<f64>,
    limit: String,
}

fn parse_pulled(stdout: &str) -> Pulled {
    let mut p = Pulled::default();
    for line in stdout.lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        if line.starts_with("pulled in") {
            p.secs = w[2].parse().unwrap_or(f64::NAN);
            p.requests = w[5].parse().unwrap_or(0);
            p.peak_mib = w
                .iter()
                .position(|x| *x == "memory")
                .and_then(|i| w.get(i + 1))
                .and_then(|x| x.parse().ok())
                .unwrap_or(f64::NAN);
        } else if line.starts_with("replica writer busy") {
            p.writer_busy = w[3].parse().ok();
        } else if let Some(rest) = line.strip_prefix("requests at once: ") {
            p.limit = rest.to_owned();
        }
    }
    p
}

fn sync_full(bin: &str, sim: &SimProc, setting: Setting, resources: Option<&str>) -> Pulled {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(sim, dir.path(), setting, "");
    let mut cmd = Command::new(bin);
    cmd.args(["sync", "--full", "--quiet"]);
    if let Some(r) = resources {
        cmd.args(["--resources", r]);
    }
    let out = cmd
        .arg("--config")
        .arg(&config)
        .env_remove("POSSYNC_LOG")
        .output()
        .expect("run possync");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "pull failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    parse_pulled(&stdout)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(|a, b| a.total_cmp(b));
    v
}

/// Fetches `url` every `every` until `stop` is set; latencies in ms.
fn probe(
    rt: &tokio::runtime::Runtime,
    url: String,
    every: Duration,
) -> (
    std::sync::Arc<std::sync::atomic::AtomicBool>,
    tokio::task::JoinHandle<Vec<f64>>,
) {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    let task = rt.spawn(async move {
        let http = reqwest::Client::new();
        let mut out = Vec::new();
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while !flag.load(std::sync::atomic::Ordering::Relaxed) {
            tick.tick().await;
            let started = Instant::now();
            if let Ok(r) = http.get(&url).send().await {
                let _ = r.bytes().await;
                out.push(started.elapsed().as_secs_f64() * 1000.0);
            }
        }
        out
    });
    (stop, task)
}

fn floor_secs(products: u64, variations: u64, latency: Duration, concurrency: usize) -> (u64, f64) {
    let pages = products.div_ceil(PAGE_SIZE) + variations.div_ceil(PAGE_SIZE);
    (
        pages,
        pages as f64 * latency.as_secs_f64() / concurrency as f64,
    )
}

/// Products and variations a `products,variations` pull of this sim
/// mirrors, read from one pull's output.
fn counts_of(bin: &str, sim: &SimProc) -> (u64, u64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(sim, dir.path(), Setting::Fixed(8), "");
    let out = Command::new(bin)
        .args([
            "sync",
            "--full",
            "--quiet",
            "--resources",
            "products,variations",
            "--config",
        ])
        .arg(&config)
        .env_remove("POSSYNC_LOG")
        .output()
        .expect("run possync");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let count = |name: &str| {
        stdout
            .lines()
            .find_map(|l| {
                let mut w = l.split_whitespace();
                (w.next() == Some(name)).then(|| w.next()?.parse().ok())?
            })
            .unwrap_or(0)
    };
    (count("products"), count("variations"))
}

/// A simulated shop of `products` products (no customers, no orders)
/// answering each request after `latency`.
fn catalog_sim(products: usize, latency: Duration) -> SimProc {
    spawn_sim(&[
        "--products".into(),
        products.to_string(),
        "--customers".into(),
        "0".into(),
        "--orders".into(),
        "0".into(),
        "--latency-ms".into(),
        latency.as_millis().to_string(),
    ])
}

fn part_floor(rt: &tokio::runtime::Runtime, products: usize, baseline: Option<&str>) {
    let latency = Duration::from_millis(50);
    let sim = catalog_sim(products, latency);
    let (p, v) = counts_of(THIS, &sim);
    println!(
        "## floor: {} products ({p} mirrored) and {} variations ({v} mirrored), {} ms per request\n",
        sim.products,
        sim.variations,
        latency.as_millis()
    );
    println!(
        "| build | concurrency | requests | pages | floor (s) | wall (s) | wall / floor | writer busy (s) | writer busy share | peak RSS (MiB) | limit |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    let settings = [
        Setting::Fixed(1),
        Setting::Fixed(4),
        Setting::Fixed(8),
        Setting::Auto,
    ];
    for setting in settings {
        let mut builds: Vec<(&str, &str)> = Vec::new();
        if let Some(b) = baseline
            && setting != Setting::Auto
        {
            builds.push(("before", b));
        }
        builds.push(("after", THIS));
        for (label, bin) in builds {
            let r = sync_full(bin, &sim, setting, Some("products,variations"));
            let conc = setting.ceiling();
            let (pages, floor) = floor_secs(p, v, latency, conc);
            let busy = r.writer_busy;
            println!(
                "| {label} | {} | {} | {pages} | {floor:.2} | {:.2} | {:.2} | {} | {} | {:.1} | {} |",
                setting.label(),
                r.requests,
                r.secs,
                r.secs / floor,
                busy.map_or("—".to_owned(), |b| format!("{b:.2}")),
                busy.map_or("—".to_owned(), |b| format!("{:.0} %", 100.0 * b / r.secs)),
                r.peak_mib,
                if r.limit.is_empty() { "—" } else { &r.limit },
            );
        }
    }
    lookups_during_pull(rt, &sim);
    sim.stop();
}

/// One pull at concurrency 8 under `possync run`, with barcode lookups over
/// its API until the pull is over.
fn lookups_during_pull(rt: &tokio::runtime::Runtime, sim: &SimProc) {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = write_config(
        sim,
        dir.path(),
        Setting::Fixed(8),
        &format!("listen = \"127.0.0.1:{port}\"\n"),
    );
    // The local API wants a bearer token, as a till's front-end has.
    let minted = Command::new(THIS)
        .args(["tokens", "create", "--name", "bench", "--config"])
        .arg(&config)
        .env_remove("POSSYNC_LOG")
        .output()
        .expect("possync tokens create");
    assert!(minted.status.success(), "{minted:?}");
    let token = String::from_utf8_lossy(&minted.stdout).trim().to_owned();
    let mut agent = Command::new(THIS)
        .args(["run", "--config"])
        .arg(&config)
        .env_remove("POSSYNC_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start possync run");
    let base = format!("http://127.0.0.1:{port}");
    let (lat, pulled_secs) = rt.block_on(async {
        let http = reqwest::Client::new();
        let started = Instant::now();
        let state = |body: &serde_json::Value| body["pull"]["state"].as_str().map(str::to_owned);
        // Barcodes of the first products in.
        let mut barcodes: Vec<String> = Vec::new();
        while barcodes.is_empty() && started.elapsed() < Duration::from_secs(120) {
            if let Ok(r) = http
                .get(format!("{base}/api/products?per_page=100"))
                .bearer_auth(&token)
                .send()
                .await
                && let Ok(body) = r.json::<serde_json::Value>().await
            {
                barcodes = body["items"]
                    .as_array()
                    .map(|items| {
                        items
                            .iter()
                            .filter_map(|i| i["barcodes"][0].as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let mut lat = Vec::new();
        let mut i = 0;
        loop {
            let code = &barcodes[i % barcodes.len()];
            i += 1;
            let t = Instant::now();
            let r = http
                .get(format!("{base}/api/products?barcode={code}"))
                .bearer_auth(&token)
                .send()
                .await
                .expect("lookup");
            assert_eq!(r.status(), 200);
            let _ = r.bytes().await;
            lat.push(t.elapsed().as_secs_f64() * 1000.0);
            if i % 20 == 0 {
                let answer = http
                    .get(format!("{base}/api/sync/status"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .expect("status");
                assert_eq!(answer.status(), 200, "the pull's status");
                let body: serde_json::Value = answer.json().await.expect("status json");
                if state(&body).as_deref() != Some("running") {
                    break;
                }
            }
        }
        (lat, started.elapsed().as_secs_f64())
    });
    interrupt(&agent);
    let _ = agent.wait();
    let lat = sorted(lat);
    println!(
        "\nbarcode lookups during a pull at concurrency 8 (`possync run`, every resource, {pulled_secs:.1} s): n = {}, p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms\n",
        lat.len(),
        percentile(&lat, 0.5),
        percentile(&lat, 0.9),
        percentile(&lat, 0.99),
        lat.last().copied().unwrap_or(f64::NAN)
    );
}

fn part_server(rt: &tokio::runtime::Runtime) {
    let (workers, service_ms, front_ms, products) = (4, 500, 100, 2_000);
    println!(
        "## server model: {workers} workers, {service_ms} ms per REST request, {front_ms} ms per storefront page; {products} products\n"
    );
    let args = || {
        vec![
            "--products".to_owned(),
            products.to_string(),
            "--customers".into(),
            "0".into(),
            "--orders".into(),
            "0".into(),
            "--workers".into(),
            workers.to_string(),
            "--service-ms".into(),
            service_ms.to_string(),
            "--front-page-ms".into(),
            front_ms.to_string(),
        ]
    };
    // The storefront alone.
    {
        let sim = spawn_sim(&args());
        let (stop, task) = probe(rt, format!("{}/", sim.url), Duration::from_millis(100));
        std::thread::sleep(Duration::from_secs(3));
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let idle = sorted(rt.block_on(task).unwrap());
        println!(
            "storefront with no pull: p50 {:.0} ms, p95 {:.0} ms (n = {})\n",
            percentile(&idle, 0.5),
            percentile(&idle, 0.95),
            idle.len()
        );
        sim.stop();
    }
    println!(
        "| concurrency | requests | wall (s) | wall / best fixed | storefront p50 (ms) | storefront p95 (ms) | limit | server queue |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut rows = Vec::new();
    for setting in [
        Setting::Fixed(1),
        Setting::Fixed(2),
        Setting::Fixed(4),
        Setting::Fixed(8),
        Setting::Fixed(16),
        Setting::Auto,
    ] {
        let sim = spawn_sim(&args());
        let (stop, task) = probe(rt, format!("{}/", sim.url), Duration::from_millis(100));
        let r = sync_full(THIS, &sim, setting, Some("products,variations"));
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let lat = sorted(rt.block_on(task).unwrap());
        let queue = sim.stop();
        rows.push((setting, r, lat, queue));
    }
    let best = rows
        .iter()
        .filter(|r| r.0 != Setting::Auto)
        .map(|r| r.1.secs)
        .fold(f64::INFINITY, f64::min);
    for (setting, r, lat, queue) in rows {
        println!(
            "| {} | {} | {:.2} | {:.2} | {:.0} | {:.0} | {} | {} |",
            setting.label(),
            r.requests,
            r.secs,
            r.secs / best,
            percentile(&lat, 0.5),
            percentile(&lat, 0.95),
            r.limit,
            queue.trim_start_matches("server: ")
        );
    }
    println!();
}

fn part_latency(products: usize) {
    let latency = Duration::from_millis(500);
    let sim = catalog_sim(products, latency);
    println!("## real-host latency: {products} products, 500 ms per request\n");
    println!("| concurrency | requests | pages | floor (s) | wall (s) | wall / floor | limit |");
    println!("|---|---|---|---|---|---|---|");
    for setting in [Setting::Fixed(4), Setting::Auto] {
        let dir_counts = sync_full(THIS, &sim, setting, Some("products,variations"));
        // The pages asked: every request but the probe's three.
        let conc = setting.ceiling();
        let pages = dir_counts.requests.saturating_sub(3);
        let floor = pages as f64 * latency.as_secs_f64() / conc as f64;
        println!(
            "| {} | {} | {pages} | {floor:.2} | {:.2} | {:.2} | {} |",
            setting.label(),
            dir_counts.requests,
            dir_counts.secs,
            dir_counts.secs / floor,
            dir_counts.limit
        );
    }
    println!();
    sim.stop();
}

fn part_small() {
    let latency = Duration::from_millis(100);
    let sim = spawn_sim(&[
        "--products".into(),
        "25".into(),
        "--customers".into(),
        "25".into(),
        "--orders".into(),
        "25".into(),
        "--latency-ms".into(),
        latency.as_millis().to_string(),
    ]);
    // Every list of this shop fits one page, so the longest chain of
    // requests that wait for one another is: the probe (its three route
    // checks at once), then a shipping zone's locations and methods after
    // the zone list, or an attribute's terms after the attribute list, or
    // the variations' page after the products', or the refunds' after the
    // orders'; three round trips.
    let chain = 3.0;
    let critical = chain * latency.as_secs_f64();
    println!(
        "## small shop: {} products, {} variations, 25 customers, 25 orders; {} ms per request; every resource\n",
        sim.products,
        sim.variations,
        latency.as_millis()
    );
    println!(
        "critical path: {chain} round trips = {critical:.2} s (probe; zone list → its locations and methods; products → variations; orders → refunds)\n"
    );
    println!(
        "| concurrency | requests | wall (s) | wall / critical path | rounds bound (s) | wall / bound | limit |"
    );
    println!("|---|---|---|---|---|---|---|");
    for setting in [Setting::Fixed(8), Setting::Fixed(16), Setting::Auto] {
        let r = sync_full(THIS, &sim, setting, None);
        // At most `concurrency` requests at once: the probe's round, then
        // the others in rounds of that many (auto: at its ceiling of 8).
        let conc = setting.ceiling() as u64;
        let rounds = 1 + r.requests.saturating_sub(3).div_ceil(conc);
        let bound = (rounds as f64 * latency.as_secs_f64()).max(critical);
        println!(
            "| {} | {} | {:.2} | {:.2} | {bound:.2} | {:.2} | {} |",
            setting.label(),
            r.requests,
            r.secs,
            r.secs / critical,
            r.secs / bound,
            r.limit
        );
    }
    println!();
    sim.stop();
}

/// A `possync sim --shop shopify` process.
struct ShopifyProc {
    child: Child,
    url: String,
    token: String,
    products: u64,
    variants: u64,
}

fn spawn_shopify_sim(products: usize, latency: Duration) -> ShopifyProc {
    let mut child = Command::new(THIS)
        .args(["sim", "--shop", "shopify", "--listen", "127.0.0.1:0"])
        .args(["--seed", "1", "--customers", "0", "--orders", "0"])
        .args(["--products", &products.to_string()])
        .args(["--latency-ms", &latency.as_millis().to_string()])
        .env_remove("POSSYNC_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start possync sim --shop shopify");
    let out = BufReader::new(child.stdout.take().unwrap());
    let (mut url, mut token) = (String::new(), String::new());
    let (mut products, mut variants) = (0, 0);
    for line in out.lines().map_while(Result::ok) {
        if let Some(u) = line.strip_prefix("simulated Shopify store at ") {
            url = u.trim().to_owned();
        } else if let Some(t) = line
            .trim()
            .strip_prefix("access token (X-Shopify-Access-Token):")
        {
            token = t.trim().to_owned();
        } else if line.contains(" products, ") && line.contains(" variants, ") {
            let w: Vec<&str> = line.split_whitespace().collect();
            products = w[0].parse().unwrap_or(0);
            variants = w[2].parse().unwrap_or(0);
        } else if line.starts_with("Ctrl-C stops it") {
            break;
        }
    }
    ShopifyProc {
        child,
        url,
        token,
        products,
        variants,
    }
}

/// The first location of the simulated shop: the till's.
fn shopify_location(rt: &tokio::runtime::Runtime, sim: &ShopifyProc) -> i64 {
    rt.block_on(async {
        let answer: serde_json::Value = reqwest::Client::new()
            .post(format!(
                "{}/admin/api/{SHOPIFY_VERSION}/graphql.json",
                sim.url
            ))
            .header("X-Shopify-Access-Token", &sim.token)
            .json(&serde_json::json!({ "query": "{ locations(first: 1) { nodes { id } } }" }))
            .send()
            .await
            .expect("ask the sim")
            .json()
            .await
            .expect("the sim answers JSON");
        let id = answer["data"]["locations"]["nodes"][0]["id"]
            .as_str()
            .expect("a location");
        id.rsplit('/').next().unwrap().parse().unwrap()
    })
}

const SHOPIFY_VERSION: &str = "2026-04";
/// Set in the agent process this bench starts: `bulk` or `paged`.
const AGENT_MODE: &str = "FULL_PULL_SHOPIFY_AGENT";

/// What one Shopify agent run printed.
#[derive(Debug, Default)]
struct ShopifyPulled {
    secs: f64,
    requests: u64,
    points: u64,
    peak_kib: u64,
    products: u64,
    variations: u64,
}

/// Runs the agent for `mode` in its own process, against `sim`.
fn shopify_pull(sim: &ShopifyProc, location: i64, mode: &str) -> ShopifyPulled {
    let out = Command::new(std::env::current_exe().expect("this bench"))
        .env(AGENT_MODE, mode)
        .env("POSSYNC_STORE_KIND", "shopify")
        .env("POSSYNC_STORE_SHOP", "possync-bench.myshopify.com")
        .env("POSSYNC_STORE_ACCESS_TOKEN", &sim.token)
        .env("POSSYNC_STORE_API_VERSION", SHOPIFY_VERSION)
        .env("POSSYNC_STORE_LOCATION", location.to_string())
        .env("POSSYNC_STORE_ADMIN_URL", &sim.url)
        .env_remove("POSSYNC_LOG")
        .output()
        .expect("run the agent");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{mode} pull failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut p = ShopifyPulled::default();
    for line in stdout.lines() {
        if let Some((k, v)) = line.split_once('=') {
            let n = v.trim().parse::<f64>().unwrap_or(f64::NAN);
            match k.trim() {
                "secs" => p.secs = n,
                "requests" => p.requests = n as u64,
                "points" => p.points = n as u64,
                "peak_kib" => p.peak_kib = n as u64,
                "products" => p.products = n as u64,
                "variations" => p.variations = n as u64,
                _ => {}
            }
        }
    }
    p
}

/// The agent's side: a full pull of products and variations from the
/// shop the environment names, by bulk export (`bulk`) or cursor pages
/// (`paged`), printing what it measured as `key=value` lines.
fn shopify_agent(mode: &str) {
    use possync::config::Config;
    use possync::domain::Resource;
    use possync::store::{Store, dump};
    use possync::sync::progress::PullProgress;
    use possync::sync::pull::{self, PullOptions};
    use possync::upstream::shopify::client::ShopifyClient;
    use possync::upstream::shopify::connection::ShopifyConnection;

    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("possync.toml");
    std::fs::write(&file, "").expect("config");
    let env: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| k.starts_with("POSSYNC_"))
        .collect();
    let config = Config::load(Some(&file), env, &[]).expect("config");
    let conn = ShopifyConnection::from_config(config.store().expect("store")).expect("shop");
    let threshold = match mode {
        "bulk" => 0,
        _ => u64::MAX,
    };
    let client = ShopifyClient::new(conn)
        .expect("client")
        .with_export_threshold(threshold);
    let store = Store::open(&dir.path().join("replica.db")).expect("replica");
    let opts = PullOptions {
        // A Shopify page holds up to 250; a costly one is split by the client.
        page_size: 250,
        concurrency: 4,
        product_statuses: vec!["any".to_owned()],
        order_statuses: Vec::new(),
        order_window_days: 0,
        max_records: 0,
        resources: vec![Resource::Products, Resource::Variations],
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let started = Instant::now();
    let (tx, _rx) = tokio::sync::watch::channel(PullProgress::default());
    rt.block_on(pull::run(
        &client,
        &store,
        &opts,
        &tx,
        &tokio_util::sync::CancellationToken::new(),
    ))
    .expect("pull");
    let secs = started.elapsed().as_secs_f64();
    let count = |r: Resource| {
        rt.block_on(store.read(move |c| dump::raw_rows(c, r)))
            .expect("read the replica")
            .len()
    };
    let peak_kib = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .unwrap_or(0);
    println!("secs={secs}");
    println!("requests={}", client.requests_sent());
    println!("points={}", client.points_used());
    println!("peak_kib={peak_kib}");
    println!("products={}", count(Resource::Products));
    println!("variations={}", count(Resource::Variations));
}

fn part_shopify(rt: &tokio::runtime::Runtime, products: usize) {
    let latency = Duration::from_millis(50);
    let sim = spawn_shopify_sim(products, latency);
    let location = shopify_location(rt, &sim);
    println!(
        "## Shopify: {} products, {} variants, {} ms per request (cost bucket 2,000 points, 100 a second)\n",
        sim.products,
        sim.variants,
        latency.as_millis()
    );
    println!(
        "| way | wall (s) | requests | cost points | peak RSS (MiB) | products | variations |"
    );
    println!("|---|---|---|---|---|---|---|");
    for mode in ["bulk", "paged"] {
        let r = shopify_pull(&sim, location, mode);
        println!(
            "| {mode} | {:.2} | {} | {} | {:.1} | {} | {} |",
            r.secs,
            r.requests,
            r.points,
            r.peak_kib as f64 / 1024.0,
            r.products,
            r.variations
        );
    }
    println!();
    let mut child = sim.child;
    interrupt(&child);
    let _ = child.wait();
}

fn main() {
    if let Ok(mode) = std::env::var(AGENT_MODE) {
        shopify_agent(&mode);
        return;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let baseline = args
        .iter()
        .position(|a| a == "--baseline")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let parts: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| ["floor", "lookups", "server", "latency", "small", "shopify"].contains(a))
        .collect();
    let all = parts.is_empty();
    let want = |p: &str| all || parts.contains(&p);
    let products = args
        .iter()
        .position(|a| a == "--products")
        .and_then(|i| args.get(i + 1))
        .map(|n| n.parse().expect("--products takes a number"))
        .unwrap_or(if quick { 2_000 } else { 10_000 });
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    if want("floor") {
        part_floor(&rt, products, baseline.as_deref());
    }
    if parts.contains(&"lookups") && !parts.contains(&"floor") {
        let sim = catalog_sim(products, Duration::from_millis(50));
        lookups_during_pull(&rt, &sim);
        sim.stop();
    }
    if want("server") {
        part_server(&rt);
    }
    if want("latency") {
        part_latency(products);
    }
    if want("small") {
        part_small();
    }
    if want("shopify") {
        part_shopify(&rt, products);
    }
}
