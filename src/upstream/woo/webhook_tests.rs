use std::path::PathBuf;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use rstest::rstest;

use super::*;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/woocommerce/webhooks")
}

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

/// (name, headers, body) of every captured delivery.
fn captured() -> Vec<(String, HeaderMap, Vec<u8>)> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|n| n.strip_suffix(".meta.json").map(str::to_owned))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|n| {
            let meta: Value = serde_json::from_slice(
                &std::fs::read(fixtures().join(format!("{n}.meta.json"))).unwrap(),
            )
            .unwrap();
            let mut headers = HeaderMap::new();
            for pair in meta["headers"].as_array().unwrap() {
                headers.append(
                    HeaderName::from_bytes(pair[0].as_str().unwrap().as_bytes()).unwrap(),
                    HeaderValue::from_str(pair[1].as_str().unwrap()).unwrap(),
                );
            }
            let body = std::fs::read(fixtures().join(format!("{n}.body"))).unwrap();
            (n, headers, body)
        })
        .collect()
}

/// The fixtures README: secrets are `realwoo-secret-<topic, '.' → '-'>`.
fn secret_for(name: &str) -> SecretString {
    let topic = name[4..].rsplit_once('_').unwrap().0.replacen('_', "-", 1);
    secret(&format!("realwoo-secret-{topic}"))
}

#[test]
fn every_captured_event_verifies_and_pings_are_recognised() {
    let all = captured();
    assert_eq!(all.len(), 31);
    for (name, headers, body) in all {
        if name.ends_with("_ping") {
            assert!(ping_webhook_id(&headers, &body).is_some(), "{name}");
            assert!(read_headers(&headers).is_err(), "{name}");
            continue;
        }
        let h = read_headers(&headers).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(verify(&body, &h.signature, [&secret_for(&name)]), "{name}");
        assert!(!verify(&body, &h.signature, [&secret("other")]), "{name}");
        let mut changed = body.clone();
        changed[body.len() / 2] ^= 0x01;
        assert!(
            !verify(&changed, &h.signature, [&secret_for(&name)]),
            "{name}"
        );
    }
}

#[test]
fn every_captured_event_parses_into_an_instruction() {
    for (name, headers, body) in captured() {
        if name.ends_with("_ping") {
            continue;
        }
        let h = read_headers(&headers).unwrap();
        let i = instruction(&h.topic, &body).unwrap_or_else(|e| panic!("{name}: {e}"));
        match name.as_str() {
            "014_product_created_event"
            | "022_customer_created_event"
            | "023_customer_updated_event" => {
                assert!(matches!(i, Instruction::Gone { .. }), "{name}: {i:?}")
            }
            "024_coupon_updated_event" => {
                assert!(matches!(i, Instruction::Ignore { .. }), "{name}")
            }
            n if n.contains("_deleted_") => {
                assert!(matches!(i, Instruction::Delete { .. }), "{name}")
            }
            "015_product_updated_event" | "019_product_updated_event" => {
                assert!(
                    matches!(i, Instruction::Upsert(Records::Variations(_))),
                    "{name}: a variation arrives on a product topic"
                )
            }
            _ => assert!(matches!(i, Instruction::Upsert(_)), "{name}: {i:?}"),
        }
    }
}

#[rstest]
#[case::correct_secret("s3cret", "s3cret", true)]
#[case::wrong_secret("s3cret", "other", false)]
#[case::empty_secret("s3cret", "", false)]
#[case::entity_encoded_secret_signs_decoded("a&b", "a&amp;b", true)]
fn verify_table(#[case] signed_with: &str, #[case] known: &str, #[case] ok: bool) {
    let body = br#"{"id":1}"#;
    let sig = BASE64.decode(sign(body, &secret(signed_with))).unwrap();
    assert_eq!(verify(body, &sig, [&secret(known)]), ok);
}

#[rstest]
#[case::form_ping("webhook_id=12", Some(12))]
#[case::trailing_newline("webhook_id=3\n", Some(3))]
#[case::not_a_number("webhook_id=x", None)]
#[case::zero("webhook_id=0", None)]
#[case::json(r#"{"webhook_id":1}"#, None)]
fn ping_table(#[case] body: &str, #[case] id: Option<i64>) {
    assert_eq!(ping_webhook_id(&HeaderMap::new(), body.as_bytes()), id);
}

#[test]
fn a_signed_request_is_never_a_ping() {
    let mut h = HeaderMap::new();
    h.insert(HEADER_SIGNATURE, HeaderValue::from_static("AAAA"));
    assert_eq!(ping_webhook_id(&h, b"webhook_id=1"), None);
}

#[rstest]
#[case::not_json("product.updated", "not json", "not JSON")]
#[case::array("product.updated", "[1,2]", "not a JSON object")]
#[case::wrong_typed_id("product.updated", r#"{"id":"abc","name":"x"}"#, "whole number")]
#[case::deletion_without_id("order.deleted", r#"{"name":"x"}"#, "numeric id")]
fn malformed_payloads_fail_with_a_reason(
    #[case] topic: &str,
    #[case] body: &str,
    #[case] reason: &str,
) {
    let e = instruction(topic, body.as_bytes()).unwrap_err();
    assert!(e.contains(reason), "{e}");
}

#[rstest]
#[case::coupon("coupon.updated")]
#[case::action("action.woocommerce_new_order")]
#[case::published("product.published")]
#[case::garbage("???")]
fn topics_not_mirrored_are_ignored(#[case] topic: &str) {
    assert!(matches!(
        instruction(topic, br#"{"id":1}"#),
        Ok(Instruction::Ignore { .. })
    ));
}

#[test]
fn subscriptions_parse_from_the_captured_list() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/woocommerce/rest");
    let list: Value =
        serde_json::from_slice(&std::fs::read(dir.join("webhooks_list.json")).unwrap()).unwrap();
    let subs = subscriptions(list).unwrap();
    // The capture asked for the default page of 10.
    assert_eq!(subs.len(), 10);
    assert!(subs.iter().all(|s| s.status == SubscriptionStatus::Active));
    let one: Value =
        serde_json::from_slice(&std::fs::read(dir.join("webhook_single.json")).unwrap()).unwrap();
    let s = subscription(one).unwrap();
    assert_eq!(
        (s.id, s.topic.as_str(), s.delivery_url.as_str()),
        (
            2,
            "product.updated",
            "http://127.0.0.1:8080/hook/product.updated"
        )
    );
}

#[test]
fn create_body_matches_the_captured_request() {
    let body = create_body(
        "POS sync product.created",
        "product.created".parse().unwrap(),
        "http://127.0.0.1:8080/hook/product.created",
        &secret("realwoo-secret-product-created"),
    );
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/woocommerce/rest");
    let captured: Value = serde_json::from_slice(
        &std::fs::read(dir.join("webhook_create_product_created.headers.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(body, captured["request"]["json_body"]);
}
