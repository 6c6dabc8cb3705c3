//! `GET /metrics`: a scraper with a token sees the agent's health in
//! Prometheus text; without one it is refused and nothing is read.

use std::time::Duration;

use crate::outbox::{busy, sale, till};

/// The value of the sample `series` (name and labels as rendered).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

#[tokio::test]
async fn a_scrape_with_a_token_shows_the_outbox_latencies_and_replica_size() {
    // Arrange: a pulled replica, a shop that answers 429 so the sale waits.
    let (t, shelf) = till(|_| {}).await;
    busy(&t.sim);
    let (status, body) = t.post_json("/api/orders", sale(shelf.mug, 1)).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = t.get_json("/api/products?sku=TILL-MUG").await;
    assert_eq!(status, 200, "{body}");
    let url = format!("{}/metrics", t.app.url());

    // Without a token: refused, before anything is read.
    let anonymous = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let res = anonymous.get(&url).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 401);
    assert_eq!(
        res.headers()["www-authenticate"].to_str().unwrap(),
        "Bearer"
    );
    let wrong = crate::common::client_with_token("not-a-token");
    assert_eq!(wrong.get(&url).send().await.unwrap().status().as_u16(), 401);

    // Act: a scrape with the till's token.
    let res = t.http.get(&url).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain"),
    );
    let text = res.text().await.unwrap();

    // Assert: the named series, with plausible values.
    let queued = sample(&text, "possync_outbox_entries{state=\"queued\"}").unwrap_or(0.0)
        + sample(&text, "possync_outbox_entries{state=\"sending\"}").unwrap_or(0.0)
        + sample(&text, "possync_outbox_entries{state=\"unknown\"}").unwrap_or(0.0);
    assert!(queued >= 1.0, "outbox depth: {text}");
    assert_eq!(
        sample(&text, "possync_outbox_entries{state=\"confirmed\"}"),
        Some(0.0),
        "{text}"
    );
    let age = sample(&text, "possync_outbox_oldest_unconfirmed_sale_age_seconds")
        .expect("oldest unconfirmed sale");
    assert!((0.0..600.0).contains(&age), "age {age}");
    let lookups = sample(
        &text,
        "possync_lookup_duration_seconds_count{lookup=\"products\"}",
    )
    .expect("lookup histogram");
    assert!(lookups >= 1.0, "{text}");
    assert!(
        text.contains("possync_lookup_duration_seconds_bucket{lookup=\"products\",le=\"0.005\"}")
    );
    let reads = sample(
        &text,
        "possync_upstream_request_duration_seconds_count{kind=\"read\"}",
    )
    .expect("upstream histogram");
    assert!(reads >= 1.0, "{text}");
    let size = sample(&text, "possync_replica_size_bytes").expect("replica size");
    assert!(size > 0.0, "{text}");
    assert!(
        text.contains("possync_webhook_deliveries_total{outcome=\"received\"}"),
        "{text}"
    );
    assert!(text.contains("possync_webhook_deliveries_refused_total"));
    // The pull polled nothing yet, but it swept nothing either: no
    // resource label is invented; those present are resources, not ids.
    for line in text.lines().filter(|l| l.starts_with("possync_")) {
        assert!(!line.contains("http://"), "a URL in a label: {line}");
    }
    t.stop().await;
}
