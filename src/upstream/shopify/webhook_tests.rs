use std::path::PathBuf;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use rstest::rstest;
use serde_json::Value;

use super::*;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/shopify/webhooks/hmac")
}

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

/// One known-answer vector: its name, headers, raw body, secret, and whether
/// the header's HMAC is the body's under that secret.
struct Vector {
    name: String,
    headers: HeaderMap,
    body: Vec<u8>,
    secret: SecretString,
    expected: Vec<u8>,
    should_pass: bool,
}

fn vectors() -> Vec<Vector> {
    let all: Value =
        serde_json::from_slice(&std::fs::read(fixtures().join("vectors.json")).unwrap()).unwrap();
    all["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let mut headers = HeaderMap::new();
            for (k, val) in v["headers"].as_object().unwrap() {
                headers.insert(
                    HeaderName::try_from(k.as_str()).unwrap(),
                    HeaderValue::from_str(val.as_str().unwrap()).unwrap(),
                );
            }
            let body = std::fs::read(fixtures().join(v["body_file"].as_str().unwrap())).unwrap();
            assert_eq!(body.len() as u64, v["body_len"].as_u64().unwrap());
            Vector {
                name: v["name"].as_str().unwrap().to_owned(),
                headers,
                body,
                secret: secret(v["secret"].as_str().unwrap()),
                expected: hex::decode(v["expected_hmac_hex"].as_str().unwrap()).unwrap(),
                should_pass: !v["expected_result"]
                    .as_str()
                    .is_some_and(|r| r.starts_with("REJECT")),
            }
        })
        .collect()
}

fn hmac_header(h: &HeaderMap) -> Vec<u8> {
    BASE64
        .decode(h.get(HEADER_HMAC).unwrap().to_str().unwrap())
        .unwrap()
}

#[test]
fn every_vector_verifies_as_labelled() {
    let vectors = vectors();
    assert_eq!(vectors.len(), 5);
    assert_eq!(vectors.iter().filter(|v| !v.should_pass).count(), 1);
    for v in &vectors {
        let hmac = hmac_header(&v.headers);
        assert_eq!(hmac, v.expected, "{}: header and hex agree", v.name);
        assert_eq!(
            verify(&v.body, &hmac, [&v.secret]),
            v.should_pass,
            "{}",
            v.name
        );
        if v.should_pass {
            assert_eq!(
                sign(&v.body, &v.secret),
                v.headers.get(HEADER_HMAC).unwrap().to_str().unwrap(),
                "{}",
                v.name
            );
        }
    }
}

#[test]
fn a_tampered_body_fails_every_vector() {
    for v in vectors().into_iter().filter(|v| v.should_pass) {
        let hmac = hmac_header(&v.headers);
        // One flipped bit anywhere, a dropped last byte, an added newline.
        for i in [0, v.body.len() / 2, v.body.len() - 1] {
            let mut body = v.body.clone();
            body[i] ^= 0x01;
            assert!(!verify(&body, &hmac, [&v.secret]), "{} byte {i}", v.name);
        }
        assert!(!verify(&v.body[..v.body.len() - 1], &hmac, [&v.secret]));
        let mut longer = v.body.clone();
        longer.push(b'\n');
        assert!(!verify(&longer, &hmac, [&v.secret]), "{}", v.name);
        // A tampered signature fails too, and so does a truncated one.
        let mut bad = hmac.clone();
        bad[31] ^= 0x80;
        assert!(!verify(&v.body, &bad, [&v.secret]), "{}", v.name);
        assert!(!verify(&v.body, &hmac[..16], [&v.secret]), "{}", v.name);
    }
}

#[test]
fn the_same_json_reserialised_signs_differently() {
    let vectors = vectors();
    let by = |n: &str| vectors.iter().find(|v| v.name == n).unwrap();
    let compact = by("products-update-compact");
    let pretty = by("products-update-pretty-trailing-newline");
    let a: Value = serde_json::from_slice(&compact.body).unwrap();
    let b: Value = serde_json::from_slice(&pretty.body).unwrap();
    assert_eq!(a, b, "the two bodies are one JSON value");
    assert!(!verify(
        &pretty.body,
        &hmac_header(&compact.headers),
        [&compact.secret]
    ));
}

#[test]
fn an_old_and_a_new_secret_are_both_accepted_while_rotating() {
    let v = vectors()
        .into_iter()
        .find(|v| v.name == "products-update-compact")
        .unwrap();
    let hmac = hmac_header(&v.headers);
    let rotated = secret("hush-client-secret-0002");
    assert!(!verify(&v.body, &hmac, [&rotated]));
    assert!(verify(&v.body, &hmac, [&rotated, &v.secret]));
    assert!(!verify(&v.body, &hmac, []));
}

#[test]
fn full_headers_are_read_into_our_type() {
    let v = vectors()
        .into_iter()
        .find(|v| v.name == "products-update-compact")
        .unwrap();
    let h = read_headers(&v.headers).unwrap();
    assert_eq!(h.hmac, v.expected);
    assert_eq!(h.topic, "products/update");
    assert_eq!(h.shop_domain, "example-shop.myshopify.com");
    assert_eq!(h.webhook_id, "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043");
    assert_eq!(h.api_version, "2026-04");
    // Nanoseconds are dropped, not rounded.
    assert_eq!(h.triggered_at, GmtTime::parse("2026-04-01T14:00:00"));
    assert_eq!(
        h.event_id.as_deref(),
        Some("98880550-7158-44d4-b7cd-2c97c8a091b5")
    );
    assert_eq!(h.name.as_deref(), Some("pos-sync"));

    let utf8 = vectors()
        .into_iter()
        .find(|v| v.name == "orders-create-utf8")
        .unwrap();
    let h = read_headers(&utf8.headers).unwrap();
    assert_eq!(h.topic, "orders/create");
    assert_eq!(h.name, None);
    assert_eq!(h.triggered_at, GmtTime::parse("2026-04-01T14:05:00"));
}

#[test]
fn the_minimal_sqlpage_delivery_is_refused_for_its_missing_shop() {
    let v = vectors()
        .into_iter()
        .find(|v| v.name == "sqlpage-known-answer")
        .unwrap();
    assert_eq!(
        read_headers(&v.headers),
        Err(HeaderError::Missing("X-Shopify-Shop-Domain"))
    );
}

fn complete() -> HeaderMap {
    vectors()
        .into_iter()
        .find(|v| v.name == "products-update-compact")
        .unwrap()
        .headers
}

#[rstest]
#[case(HEADER_HMAC, "X-Shopify-Hmac-Sha256")]
#[case(HEADER_TOPIC, "X-Shopify-Topic")]
#[case(HEADER_SHOP_DOMAIN, "X-Shopify-Shop-Domain")]
#[case(HEADER_WEBHOOK_ID, "X-Shopify-Webhook-Id")]
#[case(HEADER_API_VERSION, "X-Shopify-API-Version")]
fn each_required_header_missing_or_blank_is_named(
    #[case] header: &'static str,
    #[case] shown: &'static str,
) {
    let mut h = complete();
    h.remove(header);
    assert_eq!(read_headers(&h), Err(HeaderError::Missing(shown)));
    h.insert(header, HeaderValue::from_static("  "));
    assert_eq!(read_headers(&h), Err(HeaderError::Missing(shown)));
}

#[test]
fn optional_headers_may_be_absent() {
    let mut h = complete();
    for name in [HEADER_TRIGGERED_AT, HEADER_EVENT_ID, HEADER_NAME] {
        h.remove(name);
    }
    let d = read_headers(&h).unwrap();
    assert_eq!((d.triggered_at, d.event_id, d.name), (None, None, None));
}

#[rstest]
#[case(HEADER_HMAC, "not base64!", "X-Shopify-Hmac-Sha256")]
// Valid base64, but 16 bytes: not an HMAC-SHA256.
#[case(HEADER_HMAC, "AAAAAAAAAAAAAAAAAAAAAA==", "X-Shopify-Hmac-Sha256")]
#[case(HEADER_TOPIC, "products", "X-Shopify-Topic")]
#[case(HEADER_SHOP_DOMAIN, "example-shop.com", "X-Shopify-Shop-Domain")]
#[case(HEADER_SHOP_DOMAIN, "a.b.myshopify.com", "X-Shopify-Shop-Domain")]
#[case(HEADER_SHOP_DOMAIN, ".myshopify.com", "X-Shopify-Shop-Domain")]
#[case(HEADER_API_VERSION, "2026-13", "X-Shopify-API-Version")]
#[case(HEADER_API_VERSION, "v1", "X-Shopify-API-Version")]
#[case(HEADER_TRIGGERED_AT, "2026-04-01 14:00:00", "X-Shopify-Triggered-At")]
#[case(HEADER_TRIGGERED_AT, "yesterday", "X-Shopify-Triggered-At")]
fn malformed_headers_are_named_with_their_value(
    #[case] header: &'static str,
    #[case] value: &'static str,
    #[case] shown: &'static str,
) {
    let mut h = complete();
    h.insert(header, HeaderValue::from_static(value));
    match read_headers(&h) {
        Err(HeaderError::Malformed {
            header: named, got, ..
        }) => {
            assert_eq!(named, shown);
            let want = if header == HEADER_SHOP_DOMAIN {
                value.to_ascii_lowercase()
            } else {
                value.to_owned()
            };
            assert_eq!(got, want);
        }
        other => panic!("{value:?} in {shown}: {other:?}"),
    }
}

#[test]
fn the_shop_domain_is_compared_lower_cased_and_unstable_is_a_version() {
    let mut h = complete();
    h.insert(
        HEADER_SHOP_DOMAIN,
        HeaderValue::from_static("Example-Shop.MyShopify.com"),
    );
    h.insert(HEADER_API_VERSION, HeaderValue::from_static("unstable"));
    let d = read_headers(&h).unwrap();
    assert_eq!(d.shop_domain, "example-shop.myshopify.com");
    assert_eq!(d.api_version, "unstable");
}

#[test]
fn error_messages_say_which_header_and_what_was_expected() {
    let mut h = complete();
    h.insert(HEADER_API_VERSION, HeaderValue::from_static("2026-13"));
    assert_eq!(
        read_headers(&h).unwrap_err().to_string(),
        "the delivery's X-Shopify-API-Version header is not an API version like 2026-04 (got \"2026-13\")"
    );
    h.remove(HEADER_WEBHOOK_ID);
    assert_eq!(
        read_headers(&h).unwrap_err().to_string(),
        "the delivery has no X-Shopify-Webhook-Id header"
    );
}
