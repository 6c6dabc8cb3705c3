//! Back-office page benchmark (not a timed test; figures go to
//! docs/benchmarks.md). Target: every page answers in under 50 ms on the
//! demo data.
//!
//! The simulated shop of `possync demo` (same seed and sizes: 2,000
//! products, 500 customers, 1,000 orders), answering at once, runs as its
//! own process at nice 10 (in the field the shop is another machine). An
//! agent pulls it in full; then, logged in through the forms as a browser
//! would, every page is asked over loopback, one request at a time with the
//! session cookie: a few warm-up requests, then [`REQUESTS`] measured.
//!
//! Then the same while a full pull runs: fresh agents pull the shop from
//! scratch, and the pages are asked in turn (one request each, round after
//! round) only while a pull is running, a new agent starting whenever a
//! pull ends, until every page has [`DURING_PULL_REQUESTS`] samples.
//!
//! The pages are every `GET` of the access table that the manager's
//! session reaches (`Session`, `TokenOrSession`) without a path parameter,
//! each settings tab, and the status page `/` (open: it shows the login
//! form without a session): a page added to the table is measured without
//! touching this file.
//!
//! `cargo bench --bench backoffice` (`-- --requests N` to change the count).

use std::path::Path;
use std::time::{Duration, Instant};

use possync::api::backoffice::SETTINGS_TABS;
use possync::api::security::{Access, ROUTES, Verb, password};
use possync::config::{Config, StoreConfig};
use possync::store::access;
use possync::sync::engine::InitialPull;
use possync::sync::progress::PullState;
use possync::{App, AppOptions, RunningApp};

/// `possync demo`'s defaults.
const SEED: u64 = 42;
const PRODUCTS: usize = 2_000;
const CUSTOMERS: usize = 500;
const ORDERS: usize = 1_000;

const WARM_UP: usize = 5;
const REQUESTS: usize = 200;
const DURING_PULL_REQUESTS: usize = 100;
const TARGET: Duration = Duration::from_millis(50);

const SHOP_KEY: &str = "ck_bench_backoffice";
const SHOP_SECRET: &str = "cs_bench_backoffice";
const PASSWORD: &str = "bench-manager-secret";

/// The pages and page data a logged-in manager reaches.
fn pages() -> Vec<String> {
    let mut out = vec!["/".to_owned()];
    for r in ROUTES {
        if r.verb != Verb::Get
            || !matches!(r.access, Access::Session | Access::TokenOrSession)
            || r.path.contains('{')
        {
            continue;
        }
        if r.path == "/settings" {
            out.extend(
                SETTINGS_TABS
                    .iter()
                    .map(|(tab, _)| format!("/settings?tab={tab}")),
            );
        } else {
            out.push(r.path.to_owned());
        }
    }
    out
}

/// The simulated store in its own process, at nice 10. Killed on drop.
struct Shop {
    child: std::process::Child,
    url: String,
}

impl Shop {
    fn start() -> Shop {
        use std::io::BufRead;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let mut child = std::process::Command::new("nice")
            .args(["-n", "10", env!("CARGO_BIN_EXE_possync"), "sim"])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--seed", &SEED.to_string()])
            .args(["--products", &PRODUCTS.to_string()])
            .args(["--customers", &CUSTOMERS.to_string()])
            .args(["--orders", &ORDERS.to_string()])
            .args(["--consumer-key", SHOP_KEY, "--consumer-secret", SHOP_SECRET])
            .args(["--latency-ms", "0"])
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

/// An agent on `shop` in `dir`, pulling it in full at once, with the admin
/// password set.
async fn spawn_agent(shop_url: String, dir: std::path::PathBuf) -> RunningApp {
    let store = StoreConfig::oauth1(shop_url.parse().expect("url"), SHOP_KEY, SHOP_SECRET);
    let config = Config::new("127.0.0.1:0".parse().expect("addr"), dir, Some(store));
    let app = App::spawn(
        config,
        AppOptions {
            initial_pull: InitialPull::Always,
        },
    )
    .await
    .expect("agent starts");
    let phc = password::hash(PASSWORD);
    app.store()
        .write(move |tx| access::set_admin_password(tx, &phc, 1))
        .await
        .expect("admin password");
    app
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// The `name=value` pair of the `Set-Cookie` for `name`.
fn cookie(res: &reqwest::Response, name: &str) -> String {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .and_then(|v| v.split(';').next())
        .unwrap_or_else(|| panic!("a {name} cookie"))
        .to_owned()
}

/// Logs in through the forms as a browser would; returns the session's
/// `Cookie` header.
async fn login(http: &reqwest::Client, base: &str) -> String {
    let res = http
        .get(format!("{base}/"))
        .send()
        .await
        .expect("login page");
    assert_eq!(res.status(), 200);
    let login_cookie = cookie(&res, "possync_login");
    let html = res.text().await.expect("login page");
    let marker = "name=\"csrf_token\" value=\"";
    let at = html.find(marker).expect("a csrf_token field") + marker.len();
    let csrf = html[at..].split('"').next().expect("token").to_owned();
    let res = http
        .post(format!("{base}/login"))
        .header("cookie", login_cookie)
        .form(&[("csrf_token", csrf.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), 303, "logged in");
    cookie(&res, "possync_session")
}

/// One request, its body read in full: how long it took.
async fn ask(http: &reqwest::Client, base: &str, session: &str, page: &str) -> Duration {
    let t = Instant::now();
    let res = http
        .get(format!("{base}{page}"))
        .header("cookie", session)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{page}: {e}"));
    assert_eq!(res.status(), 200, "{page}");
    let _ = res.bytes().await.expect("body");
    t.elapsed()
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    ms(sorted[i])
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn table(rows: &[(String, Vec<Duration>)]) {
    println!("| page | n | p50 | p95 | p99 | max | p99 < 50 ms |");
    println!("|---|---|---|---|---|---|---|");
    for (page, lat) in rows {
        let mut v = lat.clone();
        v.sort_unstable();
        if v.is_empty() {
            println!("| `{page}` | 0 | | | | | |");
            continue;
        }
        let p99 = v[((v.len() as f64 * 0.99).ceil() as usize).clamp(1, v.len()) - 1];
        println!(
            "| `{page}` | {} | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms | {} |",
            v.len(),
            pct(&v, 0.50),
            pct(&v, 0.95),
            ms(p99),
            ms(*v.last().expect("a sample")),
            if p99 < TARGET { "yes" } else { "**no**" }
        );
    }
}

fn running(app: &RunningApp) -> bool {
    matches!(app.progress().borrow().state, PullState::Running)
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let requests: usize = args
        .iter()
        .position(|a| a == "--requests")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(REQUESTS);
    let during_requests = DURING_PULL_REQUESTS.min(requests);
    let pages = pages();
    let shop = Shop::start();
    // The agents get their own runtime, apart from the load's.
    let agent_rt = tokio::runtime::Runtime::new().expect("agent runtime");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("load runtime");
    let http = client();
    println!(
        "simulated store (own process, nice 10, no latency): seed {SEED}, {PRODUCTS} products, {CUSTOMERS} customers, {ORDERS} orders; {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    // Idle: the agent has pulled everything.
    let dir = tempfile::tempdir().expect("temp dir");
    let started = Instant::now();
    let app = agent_rt.block_on(spawn_agent(shop.url.clone(), dir.path().to_path_buf()));
    let finished = agent_rt.block_on(app.pull_finished());
    assert_eq!(finished.state, PullState::Completed, "{:?}", finished.error);
    let counts = agent_rt
        .block_on(app.store().read(possync::store::status::counts))
        .expect("counts");
    println!(
        "full pull: {:.1} s; replica: {} products, {} variations, {} customers, {} orders, {} refunds; {:.1} MiB on disk",
        started.elapsed().as_secs_f64(),
        counts.products,
        counts.variations,
        counts.customers,
        counts.orders,
        counts.refunds,
        dir_size(dir.path()) as f64 / 1_048_576.0
    );
    let base = app.url();
    let idle = rt.block_on(async {
        let session = login(&http, &base).await;
        let mut rows = Vec::new();
        for page in &pages {
            for _ in 0..WARM_UP {
                ask(&http, &base, &session, page).await;
            }
            let mut lat = Vec::with_capacity(requests);
            for _ in 0..requests {
                lat.push(ask(&http, &base, &session, page).await);
            }
            rows.push((page.clone(), lat));
        }
        rows
    });
    agent_rt.block_on(app.shutdown());
    drop(dir);
    println!(
        "\nidle agent, replica pulled ({requests} requests a page after {WARM_UP} warm-up, sequential, keep-alive):\n"
    );
    table(&idle);

    // During full pulls: fresh agents, pages asked in turn while one runs.
    let mut during: Vec<(String, Vec<Duration>)> =
        pages.iter().map(|p| (p.clone(), Vec::new())).collect();
    let mut pulls = 0;
    let mut pull_secs = Vec::new();
    while during.iter().any(|(_, v)| v.len() < during_requests) {
        let dir = tempfile::tempdir().expect("temp dir");
        let started = Instant::now();
        let app = agent_rt.block_on(spawn_agent(shop.url.clone(), dir.path().to_path_buf()));
        let base = app.url();
        pulls += 1;
        rt.block_on(async {
            let session = login(&http, &base).await;
            let deadline = Instant::now() + Duration::from_secs(10);
            while !running(&app) && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            'pull: while running(&app) {
                let mut asked = false;
                for (page, lat) in during.iter_mut() {
                    if lat.len() >= during_requests {
                        continue;
                    }
                    if !running(&app) {
                        break 'pull;
                    }
                    let d = ask(&http, &base, &session, page).await;
                    // Counted only if the pull was still running at the end.
                    if running(&app) {
                        lat.push(d);
                    }
                    asked = true;
                }
                if !asked {
                    break;
                }
            }
        });
        let finished = agent_rt.block_on(app.pull_finished());
        if finished.state == PullState::Completed {
            pull_secs.push(started.elapsed().as_secs_f64());
        }
        agent_rt.block_on(app.shutdown());
    }
    println!(
        "\nduring a full pull ({during_requests} requests a page, in turn, over {pulls} pulls from scratch; pulls while measured took {:.1}–{:.1} s):\n",
        pull_secs.iter().cloned().fold(f64::INFINITY, f64::min),
        pull_secs.iter().cloned().fold(0.0, f64::max),
    );
    table(&during);
    drop(shop);
}
