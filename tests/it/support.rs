//! The support bundle: every file a helper needs, and no secret in any of
//! them, from the API and from `possync support-bundle`.

use std::io::Read;

use base64::Engine;
use possync::domain::webhooks::SubscriptionStatus;
use possync::store::{access, subscriptions};
use secrecy::SecretString;

use crate::cli::{possync, write_config};
use crate::common::{TestApp, small_sim};

const WEBHOOK_SECRET: &str = "whsec-configured-0123456789";
const STORED_SECRET: &str = "whsec-stored-subscription-9876543210";
const PASSWORD_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g";

/// Every file of a `.tar.gz`, by name, decompressed.
fn unpack(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    tar.entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let mut body = Vec::new();
            e.read_to_end(&mut body).unwrap();
            (e.path().unwrap().display().to_string(), body)
        })
        .collect()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn the_support_bundle_holds_status_config_events_and_versions_and_no_secret() {
    // Arrange: an agent with every kind of secret it can hold.
    let t = TestApp::spawn(small_sim(), |c| {
        c.webhooks.secret = Some(SecretString::from(WEBHOOK_SECRET));
    })
    .await;
    t.pulled().await;
    t.store()
        .write(|tx| {
            subscriptions::save(
                tx,
                &subscriptions::LocalSubscription {
                    id: 41,
                    topic: "product.updated".to_owned(),
                    delivery_url: "http://till.example/webhooks/woocommerce".to_owned(),
                    secret: SecretString::from(STORED_SECRET),
                    status: SubscriptionStatus::Active,
                },
                0,
            )?;
            access::set_admin_password(tx, PASSWORD_HASH, 0)
        })
        .await
        .unwrap();
    let hashes = t.store().read(access::token_hashes).await.unwrap();
    assert!(!hashes.is_empty());

    // Act
    let res = t
        .http
        .get(format!("{}/api/support-bundle", t.app.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["content-type"], "application/gzip");
    let files = unpack(&res.bytes().await.unwrap());

    // Assert: the files, with what they should say.
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, possync::support::FILES);
    let file = |name: &str| {
        String::from_utf8(files.iter().find(|(n, _)| n == name).unwrap().1.clone()).unwrap()
    };
    let status: serde_json::Value = serde_json::from_str(&file("status.json")).unwrap();
    assert_eq!(status["agent"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(status["replica"]["counts"]["products"].as_i64().unwrap() > 0);
    assert_eq!(status["pull"]["state"], "completed");
    let config: toml::Table = file("config.toml").parse().unwrap();
    assert_eq!(config["store"]["consumer_key"].as_str(), Some("redacted"));
    assert_eq!(
        config["store"]["consumer_secret"].as_str(),
        Some("redacted")
    );
    assert_eq!(config["webhooks"]["secret"].as_str(), Some("redacted"));
    let events = file("events.jsonl");
    assert!(!events.is_empty());
    for line in events.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap();
    }
    let versions: serde_json::Value = serde_json::from_str(&file("versions.json")).unwrap();
    assert_eq!(versions["agent"], env!("CARGO_PKG_VERSION"));
    // Learned from the shop (the simulated store is a WooCommerce 11.0.1).
    assert_eq!(versions["woocommerce"], "11.0.1");
    assert_eq!(
        versions["replica_schema"].as_i64(),
        Some(possync::store::SCHEMA_VERSION as i64)
    );
    assert!(versions["inbox_schema"].as_i64().unwrap() > 0);
    assert!(file("integrity.txt").contains("ok"));

    // No secret, in any file, in any usual spelling.
    let mut needles: Vec<Vec<u8>> = vec![
        t.sim.consumer_key().as_bytes().to_vec(),
        t.sim.consumer_secret().as_bytes().to_vec(),
        WEBHOOK_SECRET.as_bytes().to_vec(),
        STORED_SECRET.as_bytes().to_vec(),
        PASSWORD_HASH.as_bytes().to_vec(),
        t.token.as_bytes().to_vec(),
    ];
    for (_, hash) in &hashes {
        needles.push(hash.to_vec());
        needles.push(hex::encode(hash).into_bytes());
        needles.push(
            base64::engine::general_purpose::STANDARD
                .encode(hash)
                .into_bytes(),
        );
    }
    for (name, body) in &files {
        for needle in &needles {
            assert!(
                !contains(body, needle),
                "{name} holds a secret ({})",
                String::from_utf8_lossy(needle)
            );
        }
    }
    t.stop().await;
}

#[tokio::test]
async fn the_support_bundle_is_refused_without_a_token_or_session() {
    let t = TestApp::spawn(small_sim(), |_| {}).await;
    let anonymous = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap();
    let res = anonymous
        .get(format!("{}/api/support-bundle", t.app.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
    t.stop().await;
}

#[tokio::test]
async fn possync_support_bundle_writes_an_archive_listing_its_files() {
    let sim = possync_sim::woo::Sim::spawn(small_sim()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(&sim, dir.path(), "");
    let out_path = dir.path().join("bundle.tar.gz");
    let (config2, out2) = (config.clone(), out_path.clone());
    let (sync, bundle) = tokio::task::spawn_blocking(move || {
        let sync = possync()
            .args(["sync", "--full", "--quiet", "--config"])
            .arg(&config2)
            .output()
            .unwrap();
        let bundle = possync()
            .args(["support-bundle", "--config"])
            .arg(&config2)
            .arg(&out2)
            .output()
            .unwrap();
        (sync, bundle)
    })
    .await
    .unwrap();
    assert!(
        sync.status.success(),
        "{}",
        String::from_utf8_lossy(&sync.stderr)
    );
    let stdout = String::from_utf8_lossy(&bundle.stdout);
    assert!(
        bundle.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&bundle.stderr)
    );
    assert!(stdout.contains("secrets redacted"), "{stdout}");
    let files = unpack(&std::fs::read(&out_path).unwrap());
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, possync::support::FILES);
    for (name, body) in &files {
        assert!(!contains(body, sim.consumer_secret().as_bytes()), "{name}");
        assert!(!contains(body, sim.consumer_key().as_bytes()), "{name}");
    }
    sim.shutdown().await;
}
