//! Till lookup benchmark (not a timed test; figures go to docs/benchmarks.md).
//!
//! Seeds a replica with 100,000 products (50,000 variable, with 200,000
//! variations), 100,000 customers and 200,000 orders through the store's own
//! write path, starts the real agent binary (`possync run`) on it, and asks
//! over HTTP on loopback, one request at a time: barcode lookups, name
//! searches and customer searches. Then it makes the agent pull a simulated
//! shop into the same replica and asks the same while the pull runs.
//!
//! `cargo bench --bench lookups`; `LOOKUP_BENCH_DIR=DIR` keeps (and reuses)
//! the seeded replica.

mod seed;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use possync::store::Store;
use possync_sim::woo::{Sim, SimConfig};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const REQUESTS: usize = 3_000;
const DURING_PULL_REQUESTS: usize = 1_500;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    // The agent binary this build made, copied before anything else can
    // rebuild the shared target directory under it.
    let bin_dir = tempfile::tempdir().unwrap();
    let bin = bin_dir.path().join("possync");
    std::fs::copy(env!("CARGO_BIN_EXE_possync"), &bin).unwrap();
    let kept = std::env::var_os("LOOKUP_BENCH_DIR").map(std::path::PathBuf::from);
    let temp = tempfile::tempdir().unwrap();
    let dir = kept.clone().unwrap_or_else(|| temp.path().to_path_buf());
    let db = dir.join("replica.db");
    let reuse = db.exists();
    let store = Store::open(&db).unwrap();
    let known = if reuse {
        eprintln!("reusing {}", db.display());
        known_from(&store).await
    } else {
        eprintln!("seeding {}", db.display());
        seed::seed(&store).await
    };
    store
        .write(|tx| {
            tx.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
            Ok(())
        })
        .await
        .ok();
    // The till's front-end token (customer and order lookups need one).
    let token =
        possync::api::security::tokens::create(&store, &format!("bench-{}", uuid::Uuid::new_v4()))
            .await
            .unwrap()
            .unwrap();
    drop(store);
    println!(
        "database: {:.1} MiB on disk",
        dir_size(&dir) as f64 / 1048576.0
    );

    // The agent, as a till runs it, pointed at a simulated shop it has
    // already "pulled" (the seeded replica says so), so it only serves.
    let sim = Sim::spawn(SimConfig {
        products: 10_000,
        customers: 5_000,
        orders: 10_000,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let mut agent = Agent::start(&bin, &dir, &sim);
    let mut auth = reqwest::header::HeaderMap::new();
    auth.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().unwrap(),
    );
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .default_headers(auth)
        .build()
        .unwrap();
    agent.wait_ready(&http).await;
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let queries = Queries::new(&known, &mut rng);
    println!("\nidle agent ({REQUESTS} requests each, sequential, keep-alive)");
    for (label, paths) in queries.sets() {
        let lat = measure(&http, &agent.url, &paths[..REQUESTS.min(paths.len())], None).await;
        report(label, &lat);
    }
    println!("agent RSS: {}", agent.rss());

    // Now a full pull of the simulated shop while the same lookups run, on
    // a copy (the pull ends by removing what the shop does not list, which
    // is all of the seeded catalog).
    agent.stop();
    let copy = temp.path().join("pull");
    std::fs::create_dir_all(&copy).unwrap();
    std::fs::copy(&db, copy.join("replica.db")).unwrap();
    let dir = copy;
    let db = dir.join("replica.db");
    let store = Store::open(&db).unwrap();
    store
        .write(|tx| {
            tx.execute("DELETE FROM sync_resources", [])?;
            Ok(())
        })
        .await
        .unwrap();
    drop(store);
    let mut agent = Agent::start(&bin, &dir, &sim);
    agent.wait_ready(&http).await;
    let pulling = Pulling(&http, agent.url.clone());
    println!("\nduring a full pull of a 10,000-product shop");
    for (label, paths) in queries.sets() {
        if !pulling.running().await {
            break;
        }
        let n = DURING_PULL_REQUESTS.min(paths.len());
        let lat = measure(&http, &agent.url, &paths[..n], Some(&pulling)).await;
        report(label, &lat);
    }
    println!("agent RSS during the pull: {}", agent.rss());
    let started = Instant::now();
    while pulling.running().await {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!("pull finished {:.1?} after the lookups", started.elapsed());
    println!("agent RSS after the pull: {}", agent.rss());
    agent.stop();
    sim.shutdown().await;
    drop(temp);
    drop(bin_dir);
}

/// The lookups a till makes, prepared up front.
struct Queries {
    barcode: Vec<String>,
    sku: Vec<String>,
    name: Vec<String>,
    customer: Vec<String>,
}

impl Queries {
    fn new(known: &seed::Known, rng: &mut ChaCha8Rng) -> Queries {
        let n = REQUESTS;
        let barcode = (0..n)
            .map(|_| {
                format!(
                    "/api/products?barcode={}",
                    known.barcodes.choose(rng).unwrap()
                )
            })
            .collect();
        let sku = (0..n)
            .map(|_| {
                format!(
                    "/api/products?sku={}",
                    known.skus.choose(rng).unwrap().to_lowercase()
                )
            })
            .collect();
        // What a cashier types: a word and the start of another.
        let name = (0..n)
            .map(|_| {
                let a = seed::ADJECTIVES.choose(rng).unwrap().to_lowercase();
                let m = seed::NOUNS.choose(rng).unwrap().to_lowercase();
                let cut = rng.gen_range(2..=m.len());
                let q = if rng.gen_bool(0.5) {
                    format!("{a}+{}", &m[..cut])
                } else {
                    m[..cut.max(3).min(m.len())].to_owned()
                };
                format!("/api/products?q={}", urlenc(&q))
            })
            .collect();
        let customer = (0..n)
            .map(|i| {
                let q = match i % 3 {
                    0 => {
                        let l = seed::LAST.choose(rng).unwrap();
                        let f = seed::FIRST.choose(rng).unwrap();
                        format!("{} {}", f, &l[..3])
                    }
                    1 => format!("{}.", seed::FIRST.choose(rng).unwrap().to_lowercase()),
                    _ => known.phones.choose(rng).unwrap().clone(),
                };
                format!("/api/customers?q={}", urlenc(&q))
            })
            .collect();
        Queries {
            barcode,
            sku,
            name,
            customer,
        }
    }

    fn sets(&self) -> [(&'static str, &Vec<String>); 4] {
        [
            ("barcode lookup", &self.barcode),
            ("sku lookup", &self.sku),
            ("name search", &self.name),
            ("customer search", &self.customer),
        ]
    }
}

fn urlenc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

struct Pulling<'a>(&'a reqwest::Client, String);

impl Pulling<'_> {
    async fn running(&self) -> bool {
        let Ok(res) = self
            .0
            .get(format!("{}/api/sync/status", self.1))
            .send()
            .await
        else {
            return false;
        };
        let body: serde_json::Value = res.json().await.unwrap_or_default();
        body["pull"]["state"] == "running"
    }
}

/// Latencies of `paths`, asked one after another. With `during`, stops when
/// the pull is over (checked every 100 requests).
async fn measure(
    http: &reqwest::Client,
    base: &str,
    paths: &[String],
    during: Option<&Pulling<'_>>,
) -> Vec<Duration> {
    let mut out = Vec::with_capacity(paths.len());
    for (i, p) in paths.iter().enumerate() {
        if i % 100 == 0
            && i > 0
            && let Some(d) = during
            && !d.running().await
        {
            break;
        }
        let t = Instant::now();
        let res = http.get(format!("{base}{p}")).send().await.unwrap();
        assert!(res.status().is_success(), "{p}: {}", res.status());
        let _ = res.bytes().await.unwrap();
        out.push(t.elapsed());
    }
    out
}

fn report(label: &str, lat: &[Duration]) {
    let mut v = lat.to_vec();
    v.sort_unstable();
    if v.is_empty() {
        println!("  {label:<16} (no samples)");
        return;
    }
    let pct = |p: f64| v[((v.len() as f64 * p) as usize).min(v.len() - 1)];
    println!(
        "  {label:<16} n={:<5} p50 {:>7.2} ms  p90 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms",
        v.len(),
        ms(pct(0.50)),
        ms(pct(0.90)),
        ms(pct(0.99)),
        ms(*v.last().unwrap())
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
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

/// The bench's own seeded facts when the replica is reused.
async fn known_from(store: &Store) -> seed::Known {
    store
        .read(|c| {
            let col = |sql: &str| -> Result<Vec<String>, possync::store::StoreError> {
                let mut s = c.prepare(sql)?;
                let v = s.query_map([], |r| r.get(0))?.collect::<Result<Vec<String>, _>>()?;
                Ok(v)
            };
            Ok(seed::Known {
                barcodes: col("SELECT global_unique_id FROM products WHERE global_unique_id IS NOT NULL")?,
                skus: col("SELECT sku FROM products WHERE sku IS NOT NULL")?,
                phones: col("SELECT phone FROM customer_addresses WHERE kind = 'billing' AND customer_id % 50 = 1")?,
            })
        })
        .await
        .unwrap()
}

/// The agent binary, run as a till runs it.
/// The longest schedule interval, in seconds.
const WEEK: &str = "604800";

struct Agent {
    child: Child,
    url: String,
}

impl Agent {
    fn start(bin: &Path, dir: &Path, sim: &possync_sim::woo::SimHandle) -> Agent {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(bin)
            .arg("run")
            .current_dir(dir)
            .env_remove("LOOKUP_BENCH_DIR")
            .env("POSSYNC_LISTEN", format!("127.0.0.1:{port}"))
            .env("POSSYNC_DATA_DIR", dir)
            .env("POSSYNC_STORE_URL", sim.url())
            .env("POSSYNC_STORE_CONSUMER_KEY", sim.consumer_key())
            .env("POSSYNC_STORE_CONSUMER_SECRET", sim.consumer_secret())
            .env("POSSYNC_SYNC_ORDER_WINDOW_DAYS", "0")
            // The seeded catalog is not the simulated shop's: no delta job
            // (a sweep would remove it) may run while lookups are measured.
            .env("POSSYNC_SCHEDULE_PRODUCTS_SECS", WEEK)
            .env("POSSYNC_SCHEDULE_VARIATIONS_SECS", WEEK)
            .env("POSSYNC_SCHEDULE_ORDERS_SECS", WEEK)
            .env("POSSYNC_SCHEDULE_CUSTOMERS_SECS", WEEK)
            .env("POSSYNC_SCHEDULE_METADATA_SECS", WEEK)
            .env("POSSYNC_SCHEDULE_SWEEP_SECS", WEEK)
            .env("POSSYNC_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("the possync binary starts");
        Agent {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    async fn wait_ready(&mut self, http: &reqwest::Client) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            if let Ok(r) = http.get(format!("{}/healthz", self.url)).send().await
                && r.status().is_success()
            {
                return;
            }
            assert!(self.child.try_wait().unwrap().is_none(), "the agent exited");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the agent did not answer /healthz within 2 minutes");
    }

    /// Resident set size now and at its peak, from /proc.
    fn rss(&self) -> String {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .map(|l| l[name.len()..].trim().to_owned())
                .unwrap_or_else(|| "?".to_owned())
        };
        format!("{} (peak {})", field("VmRSS:"), field("VmHWM:"))
    }

    fn stop(&mut self) {
        // SIGTERM, so the agent shuts down as under systemd.
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let _ = self.child.wait();
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
