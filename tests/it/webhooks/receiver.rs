//! Bad input at the receiver: refused with nothing written, or kept as a
//! failed delivery when it is signed but not understood.

use super::{Agent, HAND_SECRET, signed_headers};

fn without(headers: Vec<(String, String)>, name: &str) -> Vec<(String, String)> {
    headers
        .into_iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case(name))
        .collect()
}

const BODY: &[u8] = br#"{"id":77,"name":"x","type":"simple","status":"publish","date_modified_gmt":"2026-01-01T10:00:00"}"#;

#[tokio::test]
async fn unsigned_wrongly_signed_or_topicless_deliveries_are_refused_and_not_stored() {
    let agent = Agent::spawn().await;
    let signed = signed_headers("product.updated", BODY, HAND_SECRET);

    let unsigned = without(signed.clone(), "X-WC-Webhook-Signature");
    assert_eq!(agent.post(&unsigned, BODY.to_vec()).await, 401);

    let wrong = signed_headers("product.updated", BODY, "not-the-secret");
    assert_eq!(agent.post(&wrong, BODY.to_vec()).await, 401);

    let garbage = without(signed.clone(), "X-WC-Webhook-Signature")
        .into_iter()
        .chain([(
            "X-WC-Webhook-Signature".to_owned(),
            "%%% not base64".to_owned(),
        )])
        .collect::<Vec<_>>();
    assert_eq!(agent.post(&garbage, BODY.to_vec()).await, 401);

    let no_topic = without(signed.clone(), "X-WC-Webhook-Topic");
    assert_eq!(agent.post(&no_topic, BODY.to_vec()).await, 401);

    assert_eq!(
        agent.post(&[], BODY.to_vec()).await,
        401,
        "no headers at all"
    );

    let stats = agent.stats().await;
    assert_eq!(stats.received, 0, "{stats:?}");
    // The same delivery, correctly signed, is taken.
    assert_eq!(agent.post(&signed, BODY.to_vec()).await, 200);
    assert_eq!(agent.settled().await.applied, 1);
    agent.stop().await;
}

#[tokio::test]
async fn a_body_over_two_mib_is_413_and_two_mib_exactly_is_taken() {
    let agent = Agent::spawn().await;
    let limit = 2 * 1024 * 1024;
    let over = vec![b' '; limit + 1];
    let h = signed_headers("product.updated", &over, HAND_SECRET);
    assert_eq!(agent.post(&h, over).await, 413);
    assert_eq!(agent.stats().await.received, 0);

    let exact = vec![b' '; limit];
    let h = signed_headers("product.updated", &exact, HAND_SECRET);
    assert_eq!(agent.post(&h, exact).await, 200);
    assert_eq!(agent.settled().await.failed, 1, "blank is not JSON");
    agent.stop().await;
}

#[tokio::test]
async fn signed_but_malformed_deliveries_are_kept_as_failed_and_shown_in_status() {
    let agent = Agent::spawn().await;
    for (topic, body) in [
        ("product.updated", &b"this is not json"[..]),
        (
            "order.updated",
            br#"{"id":"not-a-number","status":"processing"}"#,
        ),
        ("customer.deleted", br#"{"name":"no id"}"#),
    ] {
        assert_eq!(agent.deliver(topic, body).await, 200, "{topic}");
    }
    // A topic the replica does not mirror: taken and ignored.
    assert_eq!(agent.deliver("coupon.updated", br#"{"id":5}"#).await, 200);
    assert_eq!(
        agent
            .deliver("action.woocommerce_something", br#"{"action":"x"}"#)
            .await,
        200
    );
    let stats = agent.settled().await;
    assert_eq!(
        (stats.received, stats.failed, stats.ignored),
        (5, 3, 2),
        "{stats:?}"
    );

    let status = agent.status().await;
    let w = &status["webhooks"];
    assert_eq!(w["failed"], 3, "{w}");
    let reasons: Vec<&str> = w["recent_failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["error"].as_str().unwrap())
        .collect();
    assert!(
        reasons.iter().any(|r| r.contains("not JSON")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("whole number")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("numeric id")),
        "{reasons:?}"
    );
    agent.stop().await;
}

#[tokio::test]
async fn the_form_encoded_ping_is_answered_200_and_not_stored() {
    let agent = Agent::spawn().await;
    let h = vec![(
        "Content-Type".to_owned(),
        "application/x-www-form-urlencoded".to_owned(),
    )];
    assert_eq!(agent.post(&h, b"webhook_id=42".to_vec()).await, 200);
    assert_eq!(agent.stats().await.received, 0);
    agent.stop().await;
}
