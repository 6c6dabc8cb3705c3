//! Full pull benchmark: 10,000 products with their variations from the
//! simulated store at 50 ms latency per request, at concurrency 1, 4 and 8.
//!
//! Run with `cargo bench --bench full_pull` (add `-- --quick` for 2,000
//! products). The agent runs as its own process (`possync sync --full`), as
//! on a till, so its peak memory is its own; the simulated store runs in this
//! process and counts the requests. Prints one Markdown table row per run,
//! ready for docs/benchmarks.md.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use possync::sim::{FaultConfig, Sim, SimConfig, SimHandle};

const LATENCY: Duration = Duration::from_millis(50);
const PAGE_SIZE: u64 = 100;

struct Run {
    concurrency: usize,
    secs: f64,
    requests: usize,
    products: u64,
    variations: u64,
    peak_mib: f64,
}

fn write_config(sim: &SimHandle, dir: &Path, concurrency: usize) -> std::path::PathBuf {
    let path = dir.join("possync.toml");
    std::fs::write(
        &path,
        format!(
            "data_dir = \"{}\"\n[store]\nurl = \"{}\"\nconsumer_key = \"{}\"\nconsumer_secret = \"{}\"\nauth = \"oauth1\"\n[sync]\npage_size = {PAGE_SIZE}\nconcurrency = {concurrency}\n",
            dir.join("data").display(),
            sim.url(),
            sim.consumer_key(),
            sim.consumer_secret()
        ),
    )
    .expect("write config");
    path
}

/// `pulled in 12.3 s with 230 requests, peak memory 31.2 MiB`
fn parse_summary(stdout: &str) -> (f64, f64) {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("pulled in"))
        .unwrap_or_else(|| panic!("no summary in:\n{stdout}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    let secs = words[2].parse().expect("seconds");
    let mib = words
        .iter()
        .position(|w| *w == "memory")
        .and_then(|i| words.get(i + 1))
        .and_then(|w| w.parse().ok())
        .unwrap_or(f64::NAN);
    (secs, mib)
}

fn count(stdout: &str, resource: &str) -> u64 {
    stdout
        .lines()
        .find_map(|l| {
            let mut w = l.split_whitespace();
            (w.next() == Some(resource)).then(|| w.next()?.parse().ok())?
        })
        .unwrap_or(0)
}

fn pull(rt: &tokio::runtime::Runtime, sim: &SimHandle, concurrency: usize) -> Run {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(sim, dir.path(), concurrency);
    sim.clear_requests();
    let out = rt.block_on(async {
        let config = config.clone();
        tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_possync"))
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
                .expect("run possync")
        })
        .await
        .expect("join")
    });
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "pull failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (secs, peak_mib) = parse_summary(&stdout);
    Run {
        concurrency,
        secs,
        requests: sim.requests().len(),
        products: count(&stdout, "products"),
        variations: count(&stdout, "variations"),
        peak_mib,
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let products = if quick { 2_000 } else { 10_000 };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let sim = rt
        .block_on(Sim::spawn(SimConfig {
            seed: 1,
            products,
            customers: 0,
            orders: 0,
            faults: FaultConfig {
                latency: LATENCY,
                ..FaultConfig::default()
            },
            ..SimConfig::default()
        }))
        .expect("sim starts");
    let counts = sim.counts();
    println!(
        "simulated store: {} products ({} published), {} variations; {} ms per response",
        counts.products,
        counts.products_publish,
        counts.variations,
        LATENCY.as_millis()
    );
    println!();
    println!(
        "| concurrency | rows (products + variations) | requests | pages | floor (s) | wall (s) | wall / floor | rows/s | peak RSS (MiB) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for concurrency in [1, 4, 8] {
        let r = pull(&rt, &sim, concurrency);
        let pages = r.products.div_ceil(PAGE_SIZE) + r.variations.div_ceil(PAGE_SIZE);
        let floor = pages as f64 * LATENCY.as_secs_f64() / r.concurrency as f64;
        let rows = r.products + r.variations;
        println!(
            "| {} | {} + {} | {} | {} | {:.2} | {:.2} | {:.2} | {:.0} | {:.1} |",
            r.concurrency,
            r.products,
            r.variations,
            r.requests,
            pages,
            floor,
            r.secs,
            r.secs / floor,
            rows as f64 / r.secs,
            r.peak_mib
        );
    }
    rt.block_on(sim.shutdown());
}
