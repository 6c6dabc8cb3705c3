//! The `possync` binary as a user runs it: help, errors and exit codes,
//! `sync --full`, `status`, and what never shows in its output.

use std::path::Path;
use std::process::Output;

use possync_sim::woo::{Sim, SimHandle};
use serde_json::Value;

use crate::common::small_sim;
use crate::shops::{Kind, ShopSize, TestShop};

pub use crate::common::possync;

/// Writes a configuration for `sim` into `dir` and returns its path.
pub fn write_config(sim: &SimHandle, dir: &Path, sync: &str) -> std::path::PathBuf {
    let path = dir.join("possync.toml");
    let text = crate::shops::woo_config_text(sim, dir, &crate::shops::StoreFile::default(), sync);
    std::fs::write(&path, text).unwrap();
    path
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn help_lists_every_command() {
    let out = possync().arg("--help").output().unwrap();
    assert!(out.status.success());
    let (stdout, _) = text(&out);
    for cmd in ["demo", "run", "sync", "status", "sim"] {
        assert!(
            stdout.lines().any(|l| l.trim_start().starts_with(cmd)),
            "{cmd} missing from:\n{stdout}"
        );
    }
}

#[test]
fn bad_usage_exits_2() {
    let out = possync().arg("sync").output().unwrap();
    assert_eq!(out.status.code(), Some(2), "sync without --full");
    let out = possync().arg("frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_bad_config_value_exits_2_with_one_line_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("possync.toml");
    std::fs::write(
        &path,
        "[store]\nurl = \"https://shop.example\"\nconsumer_key = \"ck_a\"\nconsumer_secret = \"cs_topsecret\"\n[sync]\npage_size = 500\n",
    )
    .unwrap();
    let out = possync()
        .args(["status", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let (stdout, stderr) = text(&out);
    assert!(stdout.is_empty());
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains("sync.page_size"), "{stderr}");
    assert!(!stderr.contains("cs_topsecret"));

    // An environment override is validated the same way.
    let out = possync()
        .args(["status", "--config"])
        .arg(&path)
        .env("POSSYNC_SYNC_PAGE_SIZE", "abc")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let (_, stderr) = text(&out);
    assert!(stderr.contains("POSSYNC_SYNC_PAGE_SIZE"), "{stderr}");

    let out = possync()
        .args(["status", "--config"])
        .arg(dir.path().join("missing.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("missing.toml"), "{}", text(&out).1);
}

crate::both_shops!(
    sync_full_then_status_and_no_secret_in_any_output,
    sync_full_then_status
);

/// `possync sync --full`, then `possync status` (JSON and table), against a
/// shop of `kind`: what the shop holds is counted, no secret is shown.
async fn sync_full_then_status(kind: Kind) {
    let shop = TestShop::spawn(kind, ShopSize::small()).await;
    let dir = tempfile::tempdir().unwrap();
    let config = shop.write_config(dir.path(), "page_size = 20").await;
    let secret = shop.secret();

    let sync = {
        let config = config.clone();
        tokio::task::spawn_blocking(move || {
            possync()
                .args(["sync", "--full", "--config"])
                .arg(&config)
                .env("POSSYNC_LOG", "debug")
                .output()
                .unwrap()
        })
        .await
        .unwrap()
    };
    let (stdout, stderr) = text(&sync);
    assert!(sync.status.success(), "{kind:?}: {stdout}\n{stderr}");
    assert!(
        !stdout.contains(&secret) && !stderr.contains(&secret),
        "{kind:?}"
    );
    assert!(
        !stderr.contains("oauth_signature="),
        "{kind:?}: no signed URL is logged"
    );
    let products = shop.active_product_ids().await.len();
    assert!(products > 0, "{kind:?}");
    assert!(
        stdout.contains("products") && stdout.contains(&products.to_string()),
        "{kind:?}: summary per resource:\n{stdout}"
    );

    let status = possync()
        .args(["status", "--json", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(status.status.success(), "{kind:?}: {}", text(&status).1);
    let json: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(json["counts"]["products"], products, "{kind:?}");
    assert_eq!(
        json["counts"]["customers"],
        shop.customer_count(),
        "{kind:?}"
    );
    let products_row = json["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resource"] == "products")
        .unwrap();
    assert!(products_row["last_full_pull_at"].is_number(), "{kind:?}");

    let table = possync()
        .args(["status", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let (stdout, _) = text(&table);
    assert!(table.status.success(), "{kind:?}");
    assert!(
        stdout.contains("products") && stdout.contains(&products.to_string()),
        "{kind:?}: {stdout}"
    );
    assert!(!stdout.contains(&secret), "{kind:?}");
    shop.shutdown().await;
}

#[tokio::test]
async fn an_unreachable_store_fails_with_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let sim = Sim::spawn(small_sim()).await.unwrap();
    let config = write_config(&sim, dir.path(), "");
    // Nothing listens there any more.
    sim.shutdown().await;
    let out = tokio::task::spawn_blocking(move || {
        possync()
            .args([
                "sync",
                "--full",
                "--quiet",
                "--resources",
                "products",
                "--config",
            ])
            .arg(&config)
            .env("POSSYNC_STORE_TIMEOUT_SECS", "2")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let (_, stderr) = text(&out);
    let last = stderr.trim().lines().last().unwrap_or_default();
    assert!(
        last.starts_with("possync:") || last.starts_with("error"),
        "{stderr}"
    );
}

#[tokio::test]
async fn sync_delta_needs_a_full_pull_first_then_runs_each_job() {
    let sim = Sim::spawn(small_sim()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(&sim, dir.path(), "");
    let run = |args: &'static [&'static str]| {
        let config = config.clone();
        tokio::task::spawn_blocking(move || {
            possync()
                .args(args)
                .arg("--config")
                .arg(&config)
                .output()
                .unwrap()
        })
    };
    let early = run(&["sync", "--delta"]).await.unwrap();
    assert_eq!(early.status.code(), Some(2));
    assert!(text(&early).1.contains("sync --full"), "{}", text(&early).1);

    assert!(
        run(&["sync", "--full", "--quiet"])
            .await
            .unwrap()
            .status
            .success()
    );
    let ids = sim.product_ids(Some("publish"));
    sim.trash_product(ids[0]);
    let delta = run(&["sync", "--delta"]).await.unwrap();
    let (stdout, stderr) = text(&delta);
    assert!(delta.status.success(), "{stdout}\n{stderr}");
    for job in [
        "metadata refresh",
        "poll products",
        "poll orders",
        "customer sweep",
        "completeness sweep",
    ] {
        assert!(stdout.contains(job), "{job} missing:\n{stdout}");
    }
    let products_line = stdout
        .lines()
        .find(|l| l.starts_with("poll products"))
        .unwrap();
    assert!(products_line.contains("1 removed"), "{products_line}");

    let only = run(&["sync", "--delta", "--jobs", "sweep"]).await.unwrap();
    let (stdout, _) = text(&only);
    assert!(only.status.success());
    assert!(stdout.contains("completeness sweep") && !stdout.contains("poll products"));

    let status = possync()
        .args(["status", "--json", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&status.stdout).unwrap();
    let products = json["freshness"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["resource"] == "products")
        .unwrap()
        .clone();
    assert_eq!(products["complete_pct"], 100.0, "{products}");
    sim.shutdown().await;
}

#[tokio::test]
async fn sim_serves_a_shopify_store_and_refuses_woocommerce_flags_for_it() {
    use std::io::BufRead as _;

    let out = possync()
        .args(["sim", "--shop", "shopify", "--workers", "4"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).1.contains("--workers not for --shop shopify"),
        "{out:?}"
    );
    let out = possync()
        .args(["sim", "--search-lag-ms", "10"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out)
            .1
            .contains("--search-lag-ms not for --shop woocommerce"),
        "{out:?}"
    );

    let mut child = possync()
        .args([
            "sim",
            "--shop",
            "shopify",
            "--listen",
            "127.0.0.1:0",
            "--products",
            "12",
        ])
        .args(["--access-token", "shpat_cli_test", "--search-lag-ms", "0"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut endpoint = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(url) = line.trim().strip_prefix("Admin GraphQL 2026-04: ") {
            endpoint = Some(url.to_owned());
        }
        if line.contains("Ctrl-C") {
            break;
        }
    }
    let endpoint = endpoint.expect("the 2026-04 endpoint is printed");
    let body: Value = reqwest::Client::new()
        .post(&endpoint)
        .header("X-Shopify-Access-Token", "shpat_cli_test")
        .json(&serde_json::json!({"query": "{ products(first: 50) { nodes { id } } }"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["data"]["products"]["nodes"].as_array().unwrap().len(),
        12,
        "{body}"
    );
    assert!(body["extensions"]["cost"]["throttleStatus"].is_object());

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    assert!(child.wait().unwrap().success());
    assert!(
        rest.iter()
            .any(|l| l == "served 1 GraphQL requests, 0 of them throttled"),
        "{rest:?}"
    );
}
