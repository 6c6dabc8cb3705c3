use reqwest::header::{HeaderName, HeaderValue};
use rstest::rstest;

use super::*;

fn read(path: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/shopify/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn json(path: &str) -> Value {
    serde_json::from_slice(&read(path)).unwrap()
}

fn bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

fn none() -> HeaderMap {
    HeaderMap::new()
}

fn upstream(r: Result<Answer, Failure>) -> UpstreamError {
    match r {
        Err(Failure::Upstream(e)) => e,
        other => panic!("expected an upstream error, got {other:?}"),
    }
}

fn rejected_code(e: &UpstreamError) -> (&str, &str) {
    match e {
        UpstreamError::Rejected { code, message, .. } => (code, message),
        other => panic!("expected Rejected, got {other:?}"),
    }
}

#[test]
fn throttled_at_http_200_is_transient_with_the_wait_from_the_bucket() {
    // The live shop's answer: 200, no Retry-After (see the headers file).
    let meta = json("graphql-errors/throttled.http200.headers.json");
    assert_eq!(meta["status"], 200);
    assert!(
        meta["absent_headers"]
            .as_array()
            .unwrap()
            .contains(&"retry-after".into())
    );
    let e = upstream(answer(
        200,
        &none(),
        &read("graphql-errors/throttled.http200.json"),
    ));
    assert!(e.is_transient());
    assert!(!e.is_unreachable(), "the shop answered");
    // (862 − 572) / 200
    assert_eq!(e.retry_after(), Some(Duration::from_millis(1450)));
    assert_eq!(
        e.to_string(),
        "shop unreachable or busy: HTTP 200 THROTTLED: Throttled: the query needs 862 cost points, \
         572 of 4000 are available, restoring 200/s"
    );

    let older = upstream(answer(
        200,
        &none(),
        &read("graphql-errors/throttled.community-254776.json"),
    ));
    assert_eq!(older.retry_after(), Some(Duration::from_millis(1720)));
}

#[test]
fn throttled_without_cost_figures_is_still_transient() {
    let mut body = json("graphql-errors/throttled.http200.json");
    body.as_object_mut().unwrap().remove("extensions");
    let e = upstream(answer(200, &none(), &bytes(&body)));
    assert!(e.is_transient());
    assert_eq!(e.retry_after(), None);
}

#[test]
fn max_cost_exceeded_asks_for_a_split_and_is_never_retried() {
    let f = answer(200, &none(), &read("graphql-errors/max_cost_exceeded.json")).unwrap_err();
    match &f {
        Failure::TooCostly {
            cost,
            max_cost,
            message,
        } => {
            assert_eq!((*cost, *max_cost), (1293, 1000));
            assert_eq!(
                message,
                "Query cost is 1293, which exceeds the single query max cost limit (1000)."
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(f.max_cost(), Some(1000));
    assert_eq!(
        f.to_string(),
        "the query would cost 1293 points, above the shop's limit of 1000 for one query"
    );
    let e = UpstreamError::from(f);
    assert!(!e.is_transient());
    assert_eq!(rejected_code(&e).0, "MAX_COST_EXCEEDED");
}

/// Status, headers and body of the captured REST 429.
fn rest_429() -> (u16, HeaderMap, Vec<u8>) {
    let text = String::from_utf8(read("graphql-errors/rest-429.txt")).unwrap();
    let (head, body) = text.split_once("\n\n").unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let mut headers = HeaderMap::new();
    for line in lines {
        let (k, v) = line.split_once(':').unwrap();
        headers.insert(
            HeaderName::try_from(k.trim()).unwrap(),
            HeaderValue::from_str(v.trim()).unwrap(),
        );
    }
    (status, headers, body.trim().as_bytes().to_vec())
}

#[test]
fn a_429_is_transient_with_its_decimal_retry_after() {
    let (status, headers, body) = rest_429();
    assert_eq!(status, 429);
    let e = upstream(answer(status, &headers, &body));
    assert!(e.is_transient());
    assert_eq!(e.retry_after(), Some(Duration::from_secs(4)));
    assert_eq!(
        e.to_string(),
        "shop unreachable or busy: HTTP 429: Exceeded 4 calls per second for api client. \
         Reduce request rates to resume uninterrupted service."
    );
}

#[rstest]
#[case(
    "graphql-errors/inventoryAdjustQuantities-missing-idempotent.2026-04.json",
    "BAD_REQUEST",
    "The @idempotent directive is required for this mutation but was not provided. (at inventoryAdjustQuantities)"
)]
#[case(
    "graphql-errors/inventoryAdjustQuantities-missing-changeFromQuantity.2026-04.json",
    "INVALID_FIELD_ARGUMENTS",
    "InventoryChangeInput must include the following argument: changeFromQuantity. (at inventoryAdjustQuantities)"
)]
fn captured_request_errors_are_refusals_despite_partial_data(
    #[case] file: &str,
    #[case] code: &str,
    #[case] message: &str,
) {
    let response = &json(file)["response"];
    assert!(response["data"].is_object(), "the capture carries data too");
    let e = upstream(answer(200, &none(), &bytes(response)));
    assert!(!e.is_transient());
    assert_eq!(rejected_code(&e), (code, message));
}

#[test]
fn every_captured_bulk_read_validation_case_is_classified() {
    let cases = json("captures/bulk-operations-read-arg-validation.json");
    let mut rejected = Vec::new();
    let mut answered = Vec::new();
    for (name, case) in cases["cases"].as_object().unwrap() {
        let status = u16::try_from(case["status"].as_u64().unwrap()).unwrap();
        match answer(status, &none(), &bytes(&case["response"])) {
            Ok(a) => {
                assert!(a.cost.is_some(), "{name}");
                answered.push(name.as_str());
            }
            Err(f) => {
                let e = UpstreamError::from(f);
                assert!(!e.is_transient(), "{name}");
                let want = case["response"]["errors"][0]["extensions"]["code"]
                    .as_str()
                    .unwrap();
                assert_eq!(rejected_code(&e).0, want, "{name}");
                rejected.push(name.as_str());
            }
        }
    }
    assert_eq!(
        rejected,
        [
            "missingWindow",
            "firstAndLast",
            "invalidCreatedAt",
            "malformedInlineId",
            "nonBulkOperationGid"
        ]
    );
    assert_eq!(
        answered,
        [
            "invalidStatusExpired",
            "invalidStatusUnknown",
            "invalidOperationType"
        ]
    );
}

#[test]
fn a_wrong_type_id_is_a_refusal_not_an_object_that_is_gone() {
    // RESOURCE_NOT_FOUND / NOT_FOUND must never read as "deleted upstream".
    let cases = json("captures/bulk-operations-read-arg-validation.json");
    let e = upstream(answer(
        200,
        &none(),
        &bytes(&cases["cases"]["nonBulkOperationGid"]["response"]),
    ));
    assert!(!matches!(e, UpstreamError::NotFound { .. }));
    assert_eq!(
        rejected_code(&e),
        (
            "RESOURCE_NOT_FOUND",
            "Invalid id: gid://shopify/Product/1 (at bulkOperation)"
        )
    );

    let customers = json("captures/customer-by-identifier.json");
    let e = upstream(answer(
        200,
        &none(),
        &bytes(&customers["customIdMissing"]["payload"]),
    ));
    assert_eq!(rejected_code(&e).0, "NOT_FOUND");
    let e = upstream(answer(
        200,
        &none(),
        &bytes(&customers["emptyIdentifier"]["payload"]),
    ));
    assert_eq!(rejected_code(&e).0, "INVALID_VARIABLE");
}

#[test]
fn answers_with_data_keep_their_data_and_cost() {
    let customers = json("captures/customer-by-identifier.json");
    let a = answer(200, &none(), &bytes(&customers["positiveAndMissing"])).unwrap();
    assert_eq!(a.data["byId"]["email"], "karine.ruby@example.com");
    assert_eq!(a.data["missingEmail"], Value::Null);
    assert_eq!(a.cost.unwrap().requested, 8.0);

    // A mutation's userErrors are data: the caller knows the mutation.
    let busy = json("captures/bulk-operation-run-query-concurrency-limit.json");
    let a = answer(200, &none(), &bytes(&busy["sixthRun"]["response"])).unwrap();
    assert_eq!(
        a.data["bulkOperationRunQuery"]["userErrors"][0]["code"],
        "OPERATION_IN_PROGRESS"
    );
    let mismatch = json("graphql-errors/idempotency-key-parameter-mismatch.2026-04.json");
    assert_eq!(mismatch["http_status"], 200);
    let a = answer(200, &none(), &bytes(&mismatch["response"])).unwrap();
    assert_eq!(
        a.data["locationDeactivate"]["locationDeactivateUserErrors"][0]["code"],
        "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"
    );
}

#[rstest]
#[case(200, br#"{"errors":[{"message":"Access denied for orders field.","extensions":{"code":"ACCESS_DENIED"}}]}"#.as_slice(), "auth")]
#[case(200, br#"{"errors":[{"message":"Internal error","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}"#.as_slice(), "transient")]
#[case(401, br#"{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}"#.as_slice(), "auth")]
#[case(404, b"Not Found".as_slice(), "not found")]
#[case(503, b"<html><body>Service unavailable</body></html>".as_slice(), "transient")]
#[case(402, br#"{"errors":"Unavailable Shop"}"#.as_slice(), "rejected")]
#[case(200, b"<!DOCTYPE html><html>".as_slice(), "malformed")]
#[case(200, br#"{"data":null}"#.as_slice(), "malformed")]
fn other_answers_fall_into_the_shared_classes(
    #[case] status: u16,
    #[case] body: &[u8],
    #[case] class: &str,
) {
    let e = upstream(answer(status, &none(), body));
    let got = match e {
        UpstreamError::Auth { .. } => "auth",
        UpstreamError::Transient { .. } => "transient",
        UpstreamError::NotFound { .. } => "not found",
        UpstreamError::Rejected { .. } => "rejected",
        UpstreamError::Malformed { .. } => "malformed",
        UpstreamError::Setup(_) => "setup",
        UpstreamError::Tls { .. } => "tls",
        UpstreamError::NameNotResolved { .. } => "name",
    };
    assert_eq!(got, class, "{status} {}", String::from_utf8_lossy(body));
}

#[test]
fn retry_after_takes_decimals_and_refuses_nonsense() {
    let h = |v: &'static str| {
        let mut m = HeaderMap::new();
        m.insert(RETRY_AFTER, HeaderValue::from_static(v));
        m
    };
    assert_eq!(retry_after(&h("4.0")), Some(Duration::from_secs(4)));
    assert_eq!(retry_after(&h("1.5")), Some(Duration::from_millis(1500)));
    assert_eq!(retry_after(&h("2")), Some(Duration::from_secs(2)));
    assert_eq!(retry_after(&h("-1")), None);
    assert_eq!(retry_after(&h("soon")), None);
}
