//! Delta sync benchmark: what keeping a 10,000-product replica current
//! costs, at 50 ms of latency per request.
//!
//! Run with `cargo bench --bench delta` (`-- --quick` for 2,000 products).
//! The simulated store runs in this process and counts requests; the agent
//! runs as its own process (`possync sync --delta --jobs …`), whose CPU time
//! is read from the kernel's accounting of finished children. Prints
//! Markdown rows for docs/benchmarks.md.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use nix::sys::resource::{UsageWho, getrusage};
use possync_sim::woo::{FaultConfig, Sim, SimConfig, SimHandle};

const LATENCY: Duration = Duration::from_millis(50);

fn write_config(sim: &SimHandle, dir: &Path) -> std::path::PathBuf {
    let path = dir.join("possync.toml");
    std::fs::write(
        &path,
        format!(
            "data_dir = \"{}\"\n[store]\nurl = \"{}\"\nconsumer_key = \"{}\"\nconsumer_secret = \"{}\"\nauth = \"oauth1\"\n[sync]\nconcurrency = 8\norder_window_days = 0\n",
            dir.join("data").display(),
            sim.url(),
            sim.consumer_key(),
            sim.consumer_secret()
        ),
    )
    .expect("write config");
    path
}

fn children_cpu() -> Duration {
    let u = getrusage(UsageWho::RUSAGE_CHILDREN).expect("getrusage");
    let t = |tv: nix::sys::time::TimeVal| {
        Duration::from_secs(tv.tv_sec() as u64) + Duration::from_micros(tv.tv_usec() as u64)
    };
    t(u.user_time()) + t(u.system_time())
}

struct Measured {
    wall: Duration,
    cpu: Duration,
    requests: usize,
    stdout: String,
}

fn possync(
    rt: &tokio::runtime::Runtime,
    sim: &SimHandle,
    config: &Path,
    args: &[&str],
) -> Measured {
    sim.clear_requests();
    let cpu_before = children_cpu();
    let started = Instant::now();
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    let config = config.to_path_buf();
    let out = rt.block_on(async move {
        tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_possync"))
                .args(&args)
                .arg("--config")
                .arg(&config)
                .env_remove("POSSYNC_LOG")
                .output()
                .expect("run possync")
        })
        .await
        .expect("join")
    });
    let wall = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "possync failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Measured {
        wall,
        cpu: children_cpu() - cpu_before,
        requests: sim.requests().len(),
        stdout,
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let products = if quick { 2_000 } else { 10_000 };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let sim = rt
        .block_on(Sim::spawn(SimConfig {
            seed: 3,
            products,
            customers: 1_000,
            orders: 1_000,
            faults: FaultConfig::default(),
            ..SimConfig::default()
        }))
        .expect("sim starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(&sim, dir.path());
    let c = sim.counts();
    println!(
        "simulated store: {} products ({} published), {} variations, {} customers, {} orders; {} ms per response",
        c.products,
        c.products_publish,
        c.variations,
        c.customers,
        c.orders,
        LATENCY.as_millis()
    );
    possync(&rt, &sim, &config, &["sync", "--full", "--quiet"]);
    sim.set_latency(LATENCY);

    println!();
    println!("| run | requests | wall (s) | agent CPU (s) |");
    println!("|---|---|---|---|");
    let runs: [(&str, &[&str]); 4] = [
        (
            "idle poll cycle (products, variations, orders, customers)",
            &[
                "sync",
                "--delta",
                "--jobs",
                "products,variations,orders,customers",
            ],
        ),
        (
            "metadata refresh",
            &["sync", "--delta", "--jobs", "metadata"],
        ),
        (
            "completeness sweep (all mirrored resources)",
            &["sync", "--delta", "--jobs", "sweep"],
        ),
        ("whole delta cycle", &["sync", "--delta"]),
    ];
    for (name, args) in runs {
        let m = possync(&rt, &sim, &config, args);
        println!(
            "| {name} | {} | {:.2} | {:.2} |",
            m.requests,
            m.wall.as_secs_f64(),
            m.cpu.as_secs_f64()
        );
        if name.starts_with("completeness") {
            let products = sim
                .requests()
                .iter()
                .filter(|r| r.path.ends_with("/wc/v3/products"))
                .count();
            eprintln!("  of which product listing requests: {products}");
            eprintln!("{}", m.stdout.trim());
        }
    }

    // A busy minute: 200 products changed, then one poll cycle.
    let ids = sim.product_ids(Some("publish"));
    for id in ids.iter().take(200) {
        sim.set_product_stock(*id, 42);
    }
    let m = possync(
        &rt,
        &sim,
        &config,
        &[
            "sync",
            "--delta",
            "--jobs",
            "products,variations,orders,customers",
        ],
    );
    println!(
        "| poll cycle after 200 product changes | {} | {:.2} | {:.2} |",
        m.requests,
        m.wall.as_secs_f64(),
        m.cpu.as_secs_f64()
    );
    rt.block_on(sim.shutdown());
}
