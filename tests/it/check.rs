//! `possync check --writes`: refused on a production profile (the default)
//! with one clear line and no request that writes; on a staging profile, the
//! round trip against the simulated store, each step reported, nothing left.

use std::process::Output;

use possync_sim::woo::Sim;

use crate::cli::{possync, write_config};
use crate::common::small_sim;

async fn run(mut cmd: std::process::Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn check_writes_is_refused_on_a_production_profile_and_runs_on_staging() {
    let sim = Sim::spawn(small_sim()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(&sim, dir.path(), "");

    let mut cmd = possync();
    cmd.arg("--config").arg(&config).args(["check", "--writes"]);
    let refused = run(cmd).await;
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.contains("refused")
            && stderr.contains("production")
            && stderr.contains("store.mode = \"staging\""),
        "{stderr}"
    );
    assert!(
        sim.requests().iter().all(|r| r.method == "GET"
                || r.method == "OPTIONS"
                // The connection test's write-permission check, refused
                // at routing: no handler ran.
                || (r.method == "POST"
                    && r.path.ends_with("/system_status")
                    && r.status == 404)),
        "nothing written on a production profile"
    );

    let mut cmd = possync();
    cmd.arg("--config")
        .arg(&config)
        .env("POSSYNC_STORE_MODE", "staging")
        .args(["check", "--writes"]);
    let out = run(cmd).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let steps: Vec<&str> = stdout.lines().filter(|l| l.starts_with('[')).collect();
    assert_eq!(steps.len(), 7, "{stdout}");
    assert!(steps.iter().all(|l| l.contains("] ok ")), "{stdout}");
    let writes: Vec<String> = sim
        .requests()
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| {
            format!(
                "{} {}",
                r.method,
                r.path.trim_start_matches("/wp-json/wc/v3/")
            )
        })
        .map(|s| s.chars().filter(|c| !c.is_ascii_digit()).collect())
        .collect();
    assert_eq!(
        writes,
        [
            "POST system_status",
            "POST products",
            "POST orders",
            "POST orders//refunds",
            "DELETE orders/",
            "DELETE products/"
        ],
        "{stdout}"
    );
    let (_, left) = sim.call(
        "GET",
        "products?search=possync%20write%20check&status=any",
        serde_json::Value::Null,
    );
    assert_eq!(left, serde_json::json!([]), "the test product is gone");
    sim.shutdown().await;
}
