use std::time::Duration;

use serde_json::json;

use super::*;
use crate::upstream::shopify::test_shop::{Reply, TestShop, fixture, fixture_json, quick_retry};

fn client(shop: &TestShop) -> ShopifyClient {
    ShopifyClient::new(shop.connection())
        .unwrap()
        .with_retry(quick_retry())
}

fn credentials(shop: &TestShop) -> ShopifyClient {
    let mut conn = shop.connection();
    conn.auth = ShopifyAuth::ClientCredentials {
        client_id: "cid".to_owned(),
        client_secret: SecretString::from("csecret".to_owned()),
    };
    ShopifyClient::new(conn).unwrap().with_retry(quick_retry())
}

/// A captured answer with data and cost.
fn orders_answer() -> Reply {
    Reply::json(&fixture_json("captures/order-catalog-count-read.json")["response"])
}

/// `HTTP/1.1 429 …`, headers, blank line, body: the REST 429 as captured.
fn http_text(path: &str) -> Reply {
    let text = String::from_utf8(fixture(path)).unwrap();
    let (head, body) = text.split_once("\n\n").unwrap();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let mut reply = Reply::status(status, body.trim().as_bytes().to_vec());
    for l in lines {
        let (k, v) = l.split_once(':').unwrap();
        reply = reply.header(k.trim(), v.trim());
    }
    reply
}

fn token_answer(token: &str, expires_in: u64) -> Reply {
    Reply::json(&json!({"access_token": token, "scope": "read_products", "expires_in": expires_in}))
}

#[tokio::test]
async fn a_query_goes_to_the_pinned_version_with_the_token_and_reads_cost() {
    let shop = TestShop::start().await;
    shop.then(orders_answer());
    let c = client(&shop);
    let a = c
        .query(
            "query Q($n: Int!) { orders(first: $n) { nodes { id } } }",
            json!({"n": 2}),
        )
        .await
        .unwrap();
    assert_eq!(
        a.data["recent"]["nodes"][0]["id"],
        "gid://shopify/Order/8837991727410"
    );
    let seen = shop.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path, "/admin/api/2026-04/graphql.json");
    assert_eq!(seen[0].header("x-shopify-access-token"), Some("shpat_test"));
    assert_eq!(seen[0].body["variables"], json!({"n": 2}));
    assert!(
        seen[0].body["query"]
            .as_str()
            .unwrap()
            .contains("orders(first: $n)")
    );
    let bucket = c.bucket().unwrap();
    assert_eq!(bucket.maximum, 2000.0);
    assert_eq!(bucket.restore_rate, 100.0);
}

#[tokio::test]
async fn throttled_at_200_waits_for_the_bucket_then_succeeds() {
    let shop = TestShop::start().await;
    // requested 862, available 572, restoring 200/s: 1.45 s.
    shop.then(Reply::ok(fixture("graphql-errors/throttled.http200.json")))
        .then(orders_answer());
    let c = client(&shop);
    c.query("{ shop { id } }", json!({})).await.unwrap();
    let seen = shop.seen();
    assert_eq!(seen.len(), 2);
    let gap = seen[1].at - seen[0].at;
    assert!(gap >= Duration::from_millis(1400), "{gap:?}");
    assert!(gap < Duration::from_secs(5), "{gap:?}");
}

#[tokio::test]
async fn a_query_waits_for_the_bucket_to_hold_what_it_cost_last_time() {
    let shop = TestShop::start().await;
    // The captured answer (requested 69 points) with the bucket left at 9
    // points: the same query again needs (69 − 9) / 100 = 0.6 s of refill.
    let mut low = fixture_json("captures/order-catalog-count-read.json")["response"].clone();
    low["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] = json!(9);
    shop.then(Reply::json(&low))
        .then(orders_answer())
        .then(orders_answer());
    let c = client(&shop);
    let doc = "query Q { orders(first: 1) { nodes { id } } }";
    c.query(doc, json!({})).await.unwrap();
    c.query(doc, json!({})).await.unwrap();
    let seen = shop.seen();
    let gap = seen[1].at - seen[0].at;
    assert!(gap >= Duration::from_millis(550), "{gap:?}");
    // The bucket is full again (1928 left): the third goes at once.
    c.query(doc, json!({})).await.unwrap();
    let gap = shop.seen()[2].at - shop.seen()[1].at;
    assert!(gap < Duration::from_millis(500), "{gap:?}");
}

#[tokio::test]
async fn a_write_is_sent_again_after_throttled_but_not_after_a_server_error() {
    let shop = TestShop::start().await;
    shop.then(Reply::ok(fixture("graphql-errors/throttled.http200.json")))
        .then(orders_answer());
    let c = client(&shop);
    c.request("mutation { x }", json!({}), Kind::Write)
        .await
        .unwrap();
    assert_eq!(shop.seen().len(), 2, "THROTTLED: the mutation never ran");

    let shop = TestShop::start().await;
    shop.then(Reply::status(503, "busy")).then(orders_answer());
    let c = client(&shop);
    let e = c
        .request("mutation { x }", json!({}), Kind::Write)
        .await
        .unwrap_err();
    assert!(
        matches!(e, Failure::Upstream(ref u) if u.is_transient()),
        "{e:?}"
    );
    assert_eq!(shop.seen().len(), 1, "a 503 may have run it: not resent");

    // The same 503 on a read is retried.
    let shop = TestShop::start().await;
    shop.then(Reply::status(503, "busy")).then(orders_answer());
    client(&shop).query("{ x }", json!({})).await.unwrap();
    assert_eq!(shop.seen().len(), 2);
}

#[tokio::test]
async fn a_429_waits_its_decimal_retry_after() {
    let shop = TestShop::start().await;
    shop.then(http_text("graphql-errors/rest-429.txt"))
        .then(orders_answer());
    let c = client(&shop);
    c.query("{ x }", json!({})).await.unwrap();
    let seen = shop.seen();
    assert_eq!(seen.len(), 2);
    // retry-after: 4.0
    let gap = seen[1].at - seen[0].at;
    assert!(gap >= Duration::from_millis(3900), "{gap:?}");
}

#[tokio::test]
async fn max_cost_exceeded_is_a_typed_failure_sent_once() {
    let shop = TestShop::start().await;
    shop.then(Reply::ok(fixture("graphql-errors/max_cost_exceeded.json")))
        .then(orders_answer());
    let e = client(&shop).query("{ x }", json!({})).await.unwrap_err();
    match e {
        Failure::TooCostly { cost, max_cost, .. } => {
            assert_eq!((cost, max_cost), (1293, 1000));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(shop.seen().len(), 1);
    assert_eq!(shop.unused(), 1);
}

#[tokio::test]
async fn client_credentials_fetch_one_token_for_concurrent_requests() {
    let shop = TestShop::start().await;
    shop.then_token(token_answer("tok-1", 86399));
    for _ in 0..5 {
        shop.then(orders_answer());
    }
    let c = credentials(&shop);
    let all = futures::future::join_all((0..5).map(|_| c.query("{ x }", json!({})))).await;
    assert!(all.iter().all(Result::is_ok), "{all:?}");
    assert_eq!(c.tokens_requested(), 1);
    let seen = shop.seen();
    let grant = seen
        .iter()
        .find(|s| s.path == "/admin/oauth/access_token")
        .unwrap();
    assert_eq!(
        grant.body,
        json!({"client_id":"cid","client_secret":"csecret","grant_type":"client_credentials"})
    );
    assert!(
        seen.iter()
            .filter(|s| s.path.ends_with("graphql.json"))
            .all(|s| s.header("x-shopify-access-token") == Some("tok-1"))
    );
}

#[tokio::test]
async fn a_token_is_renewed_when_due() {
    let shop = TestShop::start().await;
    // 30 s of life: due at once (renewed at least a minute early).
    shop.then_token(token_answer("tok-short", 30))
        .then_token(token_answer("tok-next", 86399));
    shop.then(orders_answer()).then(orders_answer());
    let c = credentials(&shop);
    c.query("{ x }", json!({})).await.unwrap();
    c.query("{ x }", json!({})).await.unwrap();
    let used: Vec<_> = shop
        .seen()
        .iter()
        .filter(|s| s.path.ends_with("graphql.json"))
        .map(|s| s.header("x-shopify-access-token").unwrap().to_owned())
        .collect();
    assert_eq!(used, ["tok-short", "tok-next"]);
    assert_eq!(c.tokens_requested(), 2);
}

#[tokio::test]
async fn a_failed_early_renewal_keeps_the_token_that_still_works() {
    let shop = TestShop::start().await;
    // Due for renewal at once, but valid for 30 s more.
    shop.then_token(token_answer("tok-short", 30))
        .then_token(Reply::status(503, "busy"))
        .then_token(token_answer("tok-next", 86399));
    for _ in 0..3 {
        shop.then(orders_answer());
    }
    let c = credentials(&shop);
    for _ in 0..3 {
        c.query("{ x }", json!({})).await.unwrap();
    }
    let used: Vec<_> = shop
        .seen()
        .iter()
        .filter(|s| s.path.ends_with("graphql.json"))
        .map(|s| s.header("x-shopify-access-token").unwrap().to_owned())
        .collect();
    assert_eq!(used, ["tok-short", "tok-short", "tok-next"]);
    assert_eq!(c.tokens_requested(), 3);
}

#[tokio::test]
async fn a_401_renews_the_token_once() {
    let shop = TestShop::start().await;
    let unauthorized = || {
        Reply::status(
            401,
            r#"{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}"#,
        )
    };
    shop.then_token(token_answer("tok-old", 86399))
        .then_token(token_answer("tok-new", 86399));
    shop.then(unauthorized()).then(orders_answer());
    let c = credentials(&shop);
    c.query("{ x }", json!({})).await.unwrap();
    assert_eq!(c.tokens_requested(), 2);

    // Refused again with the new token: the keys are wrong, said once.
    let shop = TestShop::start().await;
    shop.then_token(token_answer("tok-a", 86399))
        .then_token(token_answer("tok-b", 86399));
    shop.then(unauthorized())
        .then(unauthorized())
        .then(orders_answer());
    let c = credentials(&shop);
    let e = c.query("{ x }", json!({})).await.unwrap_err();
    assert!(
        matches!(
            e,
            Failure::Upstream(UpstreamError::Auth { status: 401, .. })
        ),
        "{e:?}"
    );
    assert_eq!(c.tokens_requested(), 2);
    assert_eq!(shop.unused(), 1);

    // A static token is not renewed.
    let shop = TestShop::start().await;
    shop.then(unauthorized()).then(orders_answer());
    let e = client(&shop).query("{ x }", json!({})).await.unwrap_err();
    assert!(
        matches!(e, Failure::Upstream(UpstreamError::Auth { .. })),
        "{e:?}"
    );
    assert_eq!(shop.seen().len(), 1);
}

#[tokio::test]
async fn a_refused_grant_is_an_auth_error_without_the_secret() {
    let shop = TestShop::start().await;
    shop.then_token(Reply::status(
        400,
        r#"{"error":"invalid_client","error_description":"Client credentials are invalid"}"#,
    ));
    let e = credentials(&shop)
        .query("{ x }", json!({}))
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(!text.contains("csecret"), "{text}");
    assert!(
        matches!(
            e,
            Failure::Upstream(UpstreamError::Auth { status: 400, .. })
        ),
        "{e:?}"
    );
    assert_eq!(shop.unused(), 0);
    assert!(
        shop.seen()
            .iter()
            .all(|s| !s.path.ends_with("graphql.json"))
    );
}

#[test]
fn debug_output_has_no_secret() {
    let conn = ShopifyConnection {
        shop_url: url::Url::parse("https://name.myshopify.com").unwrap(),
        api_version: "2026-04".into(),
        auth: ShopifyAuth::ClientCredentials {
            client_id: "cid".into(),
            client_secret: SecretString::from("visible_nowhere".to_owned()),
        },
        location: LocationRef::Name("Shop floor".into()),
        timeout: Duration::from_secs(5),
        verify_tls: true,
    };
    assert_eq!(
        conn.graphql_url(),
        "https://name.myshopify.com/admin/api/2026-04/graphql.json"
    );
    assert!(!format!("{conn:?}").contains("visible_nowhere"));
    let c = ShopifyClient::new(conn).unwrap();
    assert!(!format!("{c:?}").contains("visible_nowhere"));
}
