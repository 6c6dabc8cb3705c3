//! Faults as a client sees them: error pages, rate limits, broken bodies,
//! dropped connections, latency.

use std::time::{Duration, Instant};

use possync::upstream::woo::auth::new_nonce;
use possync_sim::woo::{FaultKind, FaultRule, SimConfig};
use serde_json::Value;

use super::{error_message, spawn};
use crate::sim_client::now_unix;

#[tokio::test]
async fn sim_faults_are_observable_at_the_client() {
    let (sim, c) = spawn(SimConfig::default()).await;
    let inject = |fault: FaultKind| {
        sim.inject(FaultRule {
            path_contains: Some("/products".to_owned()),
            method: None,
            fault,
            times: 1,
        })
    };

    inject(FaultKind::ServerError);
    let r = c.get("products", &[]).await;
    assert_eq!(r.status, 500);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(String::from_utf8_lossy(&r.body).contains("critical error"));

    inject(FaultKind::BadGateway);
    let r = c.get("products", &[]).await;
    assert!(r.status == 502 || r.status == 503, "{}", r.status);
    assert!(String::from_utf8_lossy(&r.body).contains("nginx"));

    inject(FaultKind::TooManyRequests {
        retry_after_secs: 7,
    });
    let r = c.get("products", &[]).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after").as_deref(), Some("7"));

    inject(FaultKind::HtmlBeforeJson);
    let r = c.get("products", &[("per_page", "2")]).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/json; charset=UTF-8")
    );
    assert!(
        serde_json::from_slice::<Value>(&r.body).is_err(),
        "not parseable as JSON"
    );
    let text = String::from_utf8_lossy(&r.body);
    let json_start = text.find("[{").expect("the real JSON follows the notice");
    assert!(text.starts_with("<br />"));
    assert!(serde_json::from_str::<Value>(&text[json_start..]).is_ok());

    inject(FaultKind::Truncated);
    let (url, _) = c.signed("products", &[], now_unix(), &new_nonce());
    let resp = c.http.get(&url).send().await.expect("headers arrive");
    assert_eq!(resp.status().as_u16(), 200);
    assert!(resp.bytes().await.is_err(), "the body is cut short");

    inject(FaultKind::Reset);
    let (url, _) = c.signed("products", &[], now_unix(), &new_nonce());
    assert!(c.http.get(&url).send().await.is_err(), "no response at all");

    // The next request is served normally, and each fault was recorded.
    assert_eq!(c.get("products", &[]).await.status, 200);
    let faults: Vec<Option<FaultKind>> = sim.requests().into_iter().map(|r| r.fault).collect();
    assert_eq!(
        faults,
        vec![
            Some(FaultKind::ServerError),
            Some(FaultKind::BadGateway),
            Some(FaultKind::TooManyRequests {
                retry_after_secs: 7
            }),
            Some(FaultKind::HtmlBeforeJson),
            Some(FaultKind::Truncated),
            Some(FaultKind::Reset),
            None,
        ]
    );
    let statuses: Vec<u16> = sim.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses[4..], [200, 0, 200]);
}

#[tokio::test]
async fn sim_faults_before_the_store_leave_the_nonce_unused_and_after_it_use_it() {
    let (sim, c) = spawn(SimConfig::default()).await;
    sim.inject(FaultRule {
        path_contains: None,
        method: None,
        fault: FaultKind::BadGateway,
        times: 1,
    });
    let (url, _) = c.signed("products", &[], now_unix(), &new_nonce());
    assert!(c.send(&url, None).await.status >= 502);
    assert_eq!(
        c.send(&url, None).await.status,
        200,
        "the proxy error never reached the store"
    );
    sim.inject(FaultRule {
        path_contains: None,
        method: None,
        fault: FaultKind::Reset,
        times: 1,
    });
    let (url, _) = c.signed("products", &[], now_unix(), &new_nonce());
    assert!(c.http.get(&url).send().await.is_err());
    let r = c.send(&url, None).await;
    assert_eq!(
        error_message(&r),
        "Invalid nonce - nonce has already been used.",
        "the store had processed it"
    );
}

#[tokio::test]
async fn sim_fail_rate_and_latency_apply_to_every_request() {
    let (sim, c) = spawn(SimConfig::default()).await;
    sim.set_fail_rate(
        1.0,
        vec![FaultKind::TooManyRequests {
            retry_after_secs: 1,
        }],
    );
    assert_eq!(c.get("products", &[]).await.status, 429);
    sim.set_fail_rate(0.0, vec![]);
    assert_eq!(c.get("products", &[]).await.status, 200);
    sim.set_latency(Duration::from_millis(150));
    let started = Instant::now();
    assert_eq!(c.get("products", &[]).await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(150));
}
