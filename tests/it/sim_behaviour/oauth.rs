//! OAuth 1.0a as the store checks it over plain HTTP.

use possync::upstream::woo::auth::{SignatureMethod, new_nonce};
use possync_sim::woo::SimConfig;

use super::{error_message, spawn};
use crate::sim_client::{Carrier, SimClient, now_unix};

#[tokio::test]
async fn sim_accepts_valid_oauth_in_query_or_header_with_either_hmac() {
    let (_sim, c) = spawn(SimConfig::default()).await;
    assert_eq!(c.get("products", &[("per_page", "1")]).await.status, 200);
    let mut h = c.with_carrier(Carrier::Header);
    assert_eq!(h.get("products", &[("per_page", "1")]).await.status, 200);
    h.method = SignatureMethod::HmacSha1;
    assert_eq!(
        h.get("orders", &[("status", "completed")]).await.status,
        200
    );
}

#[tokio::test]
async fn sim_refuses_a_reused_nonce() {
    let (_sim, c) = spawn(SimConfig::default()).await;
    let (url, _) = c.signed("products", &[("per_page", "1")], now_unix(), &new_nonce());
    assert_eq!(c.send(&url, None).await.status, 200);
    let again = c.send(&url, None).await;
    assert_eq!(again.status, 401);
    assert_eq!(
        error_message(&again),
        "Invalid nonce - nonce has already been used."
    );
}

#[tokio::test]
async fn sim_refuses_timestamps_outside_fifteen_minutes_of_its_clock() {
    let (sim, c) = spawn(SimConfig::default()).await;
    let (url, _) = c.signed("products", &[], now_unix() - 16 * 60, &new_nonce());
    let r = c.send(&url, None).await;
    assert_eq!(r.status, 401);
    assert_eq!(error_message(&r), "Invalid timestamp.");
    assert!(r.header("www-authenticate").is_none());
    // The store's clock decides: an hour ahead, "now" is stale.
    sim.set_clock_offset(3600);
    let r = c.get("products", &[]).await;
    assert_eq!(error_message(&r), "Invalid timestamp.");
    let (url, _) = c.signed("products", &[], now_unix() + 3600, &new_nonce());
    assert_eq!(c.send(&url, None).await.status, 200);
}

#[tokio::test]
async fn sim_refuses_a_wrong_secret_and_partial_oauth() {
    let (sim, c) = spawn(SimConfig::default()).await;
    let mut wrong = SimClient::new(&sim);
    wrong.secret.push('x');
    let r = wrong.get("products", &[]).await;
    assert_eq!(r.status, 401);
    assert_eq!(
        error_message(&r),
        "Invalid signature - provided signature does not match."
    );
    let (url, _) = c.signed("products", &[], now_unix(), &new_nonce());
    let partial = url
        .split('&')
        .filter(|p| !p.starts_with("oauth_signature=") && !p.starts_with("oauth_nonce="))
        .collect::<Vec<_>>()
        .join("&");
    let r = c.send(&partial, None).await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.json()["code"],
        "woocommerce_rest_authentication_missing_parameter"
    );
    assert_eq!(
        error_message(&r),
        "Missing OAuth parameters oauth_nonce, oauth_signature"
    );
}

#[tokio::test]
async fn sim_checks_signatures_against_its_home_url_not_the_reached_address() {
    let (sim, mut c) = spawn(SimConfig {
        home_url: Some("https://shop.example.test:8443".to_owned()),
        ..SimConfig::default()
    })
    .await;
    // Signed for what the reached server is: refused.
    let r = c.get("products", &[]).await;
    assert_eq!(r.status, 401);
    assert_eq!(
        error_message(&r),
        "Invalid signature - provided signature does not match."
    );
    // Signed for the request's scheme with the home URL's host and port.
    c.signing_base = "http://shop.example.test:8443".to_owned();
    let r = c.get("products", &[("per_page", "1")]).await;
    assert_eq!(r.status, 200);
    assert!(
        r.json()[0]["permalink"]
            .as_str()
            .unwrap()
            .starts_with("https://shop.example.test:8443/")
    );
    drop(sim);
}
