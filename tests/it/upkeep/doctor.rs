//! `possync doctor` against the simulated shop: a line per check, exit 0
//! when all pass, 1 with the failing check's line otherwise.

use std::path::{Path, PathBuf};

use possync_sim::woo::{Sim, SimHandle};

use super::{possync, stdout};
use crate::common::small_sim;

fn config(dir: &Path, url: &str, key: &str, secret: &str, data_dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("possync.toml");
    std::fs::write(
        &path,
        format!(
            "data_dir = \"{}\"\n\n[store]\nurl = \"{url}\"\nconsumer_key = \"{key}\"\nconsumer_secret = \"{secret}\"\nauth = \"oauth1\"\ntimeout_secs = 5\n",
            data_dir.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    path
}

fn good(sim: &SimHandle, dir: &Path) -> PathBuf {
    config(
        dir,
        &sim.url(),
        sim.consumer_key(),
        sim.consumer_secret(),
        &dir.join("data"),
    )
}

/// Runs `possync --config FILE doctor`; returns the exit code and the
/// line of each check by name.
async fn doctor(config: PathBuf) -> (i32, Vec<(String, String)>) {
    let out = tokio::task::spawn_blocking(move || {
        possync(&["--config", config.to_str().unwrap(), "doctor"], &[])
    })
    .await
    .unwrap();
    let lines = stdout(&out)
        .lines()
        .map(|l| {
            let mut words = l.split_whitespace();
            let verdict = words.next().unwrap_or_default().to_owned();
            let name = words.next().unwrap_or_default().to_owned();
            (name, format!("{verdict} {l}"))
        })
        .collect();
    (out.status.code().unwrap(), lines)
}

fn line<'a>(lines: &'a [(String, String)], name: &str) -> &'a str {
    lines
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, l)| l.as_str())
        .unwrap_or_else(|| panic!("no {name} line in {lines:?}"))
}

#[tokio::test]
async fn a_good_configuration_passes_every_check() {
    let sim = Sim::spawn(small_sim()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (code, lines) = doctor(good(&sim, dir.path())).await;
    assert_eq!(code, 0, "{lines:#?}");
    for name in [
        "config",
        "config_file",
        "data_dir",
        "free_space",
        "schema",
        "shop",
        "clock",
        "keys",
        "webhooks",
    ] {
        assert!(line(&lines, name).starts_with("ok "), "{lines:#?}");
    }
    assert!(line(&lines, "keys").contains("read and write"));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_bad_key_fails_the_keys_check() {
    let sim = Sim::spawn(small_sim()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = config(
        dir.path(),
        &sim.url(),
        "ck_0000000000000000000000000000000000000000",
        sim.consumer_secret(),
        &dir.path().join("data"),
    );
    let (code, lines) = doctor(path).await;
    assert_eq!(code, 1);
    let keys = line(&lines, "keys");
    assert!(keys.starts_with("FAIL "), "{keys}");
    assert!(keys.contains("rejected the API keys"), "{keys}");
    assert!(line(&lines, "data_dir").starts_with("ok "));
    sim.shutdown().await;
}

#[tokio::test]
async fn an_unreachable_shop_fails_the_shop_check() {
    let sim = Sim::spawn(small_sim()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = good(&sim, dir.path());
    sim.shutdown().await;
    let (code, lines) = doctor(path).await;
    assert_eq!(code, 1);
    let shop = line(&lines, "shop");
    assert!(shop.starts_with("FAIL "), "{shop}");
    assert!(shop.contains("unreachable"), "{shop}");
}

#[tokio::test]
async fn an_unwritable_data_dir_and_a_world_readable_config_fail_their_checks() {
    use std::os::unix::fs::PermissionsExt;
    let sim = Sim::spawn(small_sim()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Below a plain file: no user, root included, can create it.
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, b"").unwrap();
    let path = config(
        dir.path(),
        &sim.url(),
        sim.consumer_key(),
        sim.consumer_secret(),
        &blocker.join("data"),
    );
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, lines) = doctor(path).await;
    assert_eq!(code, 1);
    let data_dir = line(&lines, "data_dir");
    assert!(data_dir.starts_with("FAIL "), "{data_dir}");
    assert!(data_dir.contains("cannot create"), "{data_dir}");
    let file = line(&lines, "config_file");
    assert!(
        file.starts_with("FAIL ") && file.contains("chmod 0640"),
        "{file}"
    );
    assert!(line(&lines, "shop").starts_with("ok "));
    sim.shutdown().await;
}

#[tokio::test]
async fn the_page_answers_the_same_checks_as_json() {
    let (t, _) = crate::outbox::till(|_| {}).await;
    let (status, body) = t.get_json("/api/doctor").await;
    assert_eq!(status, 200);
    assert_eq!(body["ok"], true, "{body:#}");
    let names: Vec<&str> = body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"shop") && names.contains(&"keys"),
        "{names:?}"
    );
    assert!(
        !body.to_string().contains(t.sim.consumer_secret()),
        "no secret in the answer"
    );
    t.stop().await;
}

#[tokio::test]
async fn a_subscription_the_shop_disabled_fails_the_webhooks_check() {
    use possync::sync::webhooks::subscriptions;
    use possync::upstream::woo::client::WooClient;
    let (t, _) = crate::outbox::till(|_| {}).await;
    let cfg = crate::common::agent_config(&t.sim, t.dir.path());
    let client = WooClient::new(cfg.store.as_ref().unwrap()).unwrap();
    let url = format!("{}/webhooks/woocommerce", t.app.url());
    subscriptions::install(&client, t.store(), &url)
        .await
        .unwrap();
    let (_, body) = t.get_json("/api/doctor").await;
    let webhooks = |body: &serde_json::Value| {
        body["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "webhooks")
            .unwrap()
            .clone()
    };
    assert_eq!(webhooks(&body)["ok"], true, "{body:#}");
    let hooks = t.sim.snapshot_json(possync_sim::woo::SimResource::Webhooks);
    let id = hooks[0]["id"].as_i64().unwrap();
    assert!(t.sim.set_webhook_status(id, "disabled"));
    let (_, body) = t.get_json("/api/doctor").await;
    let check = webhooks(&body);
    assert_eq!(check["ok"], false, "{body:#}");
    assert_eq!(body["ok"], false);
    let detail = check["detail"].as_str().unwrap();
    assert!(
        detail.contains("disabled") && detail.contains("1 of"),
        "{detail}"
    );
    t.stop().await;
}
