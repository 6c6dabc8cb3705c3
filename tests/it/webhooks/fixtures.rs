//! Every real delivery captured from WooCommerce 11.0.1, replayed to the
//! agent over HTTP: accepted byte for byte, refused with one byte changed.

use serde_json::Value;

use super::{Agent, fixtures_dir};

/// A captured delivery: file name, headers in order, raw body.
pub(crate) type Captured = (String, Vec<(String, String)>, Vec<u8>);

pub(crate) fn captured() -> Vec<Captured> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|n| n.strip_suffix(".meta.json").map(str::to_owned))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|n| {
            let meta: Value = serde_json::from_slice(
                &std::fs::read(fixtures_dir().join(format!("{n}.meta.json"))).unwrap(),
            )
            .unwrap();
            let headers = meta["headers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    (
                        p[0].as_str().unwrap().to_owned(),
                        p[1].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            let body = std::fs::read(fixtures_dir().join(format!("{n}.body"))).unwrap();
            (n, headers, body)
        })
        .collect()
}

#[tokio::test]
async fn every_captured_delivery_is_accepted_and_refused_when_one_byte_changes() {
    let agent = Agent::spawn().await;
    let all = captured();
    let dir = &agent.dir;
    assert!(dir.path().join("replica.db").exists());
    assert_eq!(all.len(), 31, "the captured set");

    // One byte changed: the signature no longer matches, or a ping stops
    // being a ping and has no signature at all. Nothing is stored. (A ping
    // carries only `webhook_id=N` and nothing is signed: changing the digit
    // makes another well-formed ping, answered 200 and never stored, so
    // pings are changed in their key.)
    for (name, headers, body) in &all {
        let positions = if name.ends_with("_ping") {
            vec![0, 5, 10]
        } else {
            vec![0, body.len() / 2, body.len() - 1]
        };
        for at in positions {
            let mut changed = body.clone();
            changed[at] ^= 0x01;
            let status = agent.post(headers, changed).await;
            assert_eq!(status, 401, "{name} with byte {at} changed");
        }
    }
    assert_eq!(
        agent.stats().await.received,
        0,
        "refused deliveries are not stored"
    );

    for (name, headers, body) in &all {
        let status = agent.post(headers, body.clone()).await;
        assert_eq!(status, 200, "{name}");
    }
    let stats = agent.settled().await;
    // 11 pings are answered and not stored; 20 events are.
    assert_eq!(stats.received, 20, "{stats:?}");
    assert_eq!(stats.failed, 0, "{stats:?}");
    // The coupon, and the two variations of product 30, whose parent the
    // replica does not hold (a variation follows its parent).
    assert_eq!(stats.ignored, 3, "{stats:?}");
    // 017 repeats 016's order version (same id, same date_modified_gmt).
    assert_eq!(stats.duplicates, 1, "{stats:?}");

    let store = agent.app.store().clone();
    let present = |sql: &'static str| {
        let store = store.clone();
        async move {
            store
                .read(move |c| {
                    Ok(
                        possync::store::dump::raw_rows(c, possync::domain::Resource::Products)?
                            .into_iter()
                            .map(|(k, _)| k)
                            .collect::<Vec<_>>()
                            .contains(&sql.to_owned()),
                    )
                })
                .await
                .unwrap()
        }
    };
    // product.updated of a variation is read as a variation, and kept only
    // with its parent.
    assert!(
        !store
            .read(|c| possync::store::dump::raw_rows(c, possync::domain::Resource::Variations))
            .await
            .unwrap()
            .iter()
            .any(|(k, _)| k == "31")
    );
    assert!(present("13").await, "product 13 applied");
    // Product 54 arrived trashed (created event built after trashing), then deleted.
    assert!(!present("54").await, "a trashed product is not kept");
    let status = agent.status().await;
    assert_eq!(status["webhooks"]["received"], 20, "{status}");
    assert!(status["webhooks"]["last_delivery_at"].as_i64().unwrap() > 0);
    agent.stop().await;
}
