//! The export flow against the captured run (mutation answer, polls,
//! terminal operation, JSONL file), served over loopback. The captured
//! operation's `url` points at Shopify's storage; the tests point it at the
//! loopback shop, the only change made to those answers.

use serde_json::json;

use super::*;
use crate::upstream::shopify::test_shop::{Reply, TestShop, fixture, fixture_json, quick_retry};

fn fast() -> Polling {
    Polling {
        first: Duration::from_millis(5),
        max: Duration::from_millis(20),
        timeout: Duration::from_secs(10),
    }
}

fn client(shop: &TestShop) -> ShopifyClient {
    ShopifyClient::new(shop.connection())
        .unwrap()
        .with_retry(quick_retry())
}

fn flow() -> Value {
    fixture_json("bulk/root-count-run.flow.json")
}

/// A poll answer for the captured terminal operation, `url` on loopback.
fn terminal(shop: &TestShop, file: &str, status: &str, error: Option<&str>) -> Reply {
    let mut op = flow()["terminalOperation"].clone();
    op["url"] = json!(format!("{}files/{file}", shop.url()));
    op["status"] = json!(status);
    op["errorCode"] = json!(error);
    let mut answer = flow()["status_polls"][1]["response"].clone();
    answer["data"]["bulkOperation"] = op;
    Reply::json(&answer)
}

/// The captured file with the two fields our selection adds to its
/// product line (the capture's query did not ask them).
fn products_file() -> Vec<u8> {
    let text = String::from_utf8(fixture("bulk/root-count-run.result.jsonl")).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let mut product: Value = serde_json::from_str(&lines[0]).unwrap();
    product["updatedAt"] = json!("2026-07-19T12:41:45Z");
    product["hasOnlyDefaultVariant"] = json!(true);
    lines[0] = product.to_string();
    (lines.join("\n") + "\n").into_bytes()
}

#[tokio::test]
async fn an_export_runs_polls_and_streams_the_file_into_records() {
    let shop = TestShop::start().await;
    let f = flow();
    shop.then(Reply::json(&f["bulkOperationRunQuery_response"]))
        .then(Reply::json(&f["status_polls"][0]["response"]))
        .then(terminal(&shop, "products.jsonl", "COMPLETED", None));
    shop.serve_file("products.jsonl", products_file());
    let c = client(&shop);
    let op = c
        .run_export(
            Export::Products,
            Some("updated_at:>='2026-07-01T00:00:00Z'"),
            fast(),
        )
        .await
        .unwrap();
    assert_eq!(op.id, "gid://shopify/BulkOperation/8066670100786");
    assert_eq!(op.status, BulkStatus::Completed);
    assert_eq!((op.object_count, op.root_object_count), (4, 1));
    assert_eq!(op.file_size, Some(679));

    let seen = shop.seen();
    assert_eq!(seen.len(), 3);
    let run = seen[0].body["query"].as_str().unwrap();
    assert!(run.contains("groupObjects: true"), "{run}");
    let text = seen[0].body["variables"]["query"].as_str().unwrap();
    assert!(
        text.starts_with("{ products(query: \"updated_at:>='2026-07-01T00:00:00Z'\")"),
        "{text}"
    );
    assert!(text.contains("gid://shopify/Location/1"));
    assert_eq!(
        seen[1].body["variables"]["id"],
        "gid://shopify/BulkOperation/8066670100786"
    );

    let mut reader = c
        .open_export(Export::Products, op.url.as_deref().unwrap(), 0)
        .await
        .unwrap();
    let batch = reader.next_batch(100).await.unwrap().unwrap();
    let Records::Products(products) = &batch else {
        panic!("{batch:?}")
    };
    assert_eq!(products.len(), 1);
    let p = &products[0];
    assert_eq!(p.id, 10243914727730);
    assert_eq!(p.kind, crate::domain::catalog::ProductKind::Simple);
    assert_eq!(
        p.sku.as_deref(),
        Some("bulk-variant-bulk-root-mrrsb7hi-1xi0i")
    );
    assert!(reader.next_batch(100).await.unwrap().is_none());
    assert_eq!(reader.roots_read(), 1);
    assert_eq!(shop.fetched("products.jsonl"), 1);
}

#[tokio::test]
async fn the_captured_file_as_is_lacks_our_version_field_and_says_so() {
    let shop = TestShop::start().await;
    shop.serve_file("raw.jsonl", fixture("bulk/root-count-run.result.jsonl"));
    let c = client(&shop);
    let mut reader = c
        .open_export(
            Export::Products,
            &format!("{}files/raw.jsonl", shop.url()),
            0,
        )
        .await
        .unwrap();
    let e = reader.next_batch(10).await.unwrap_err();
    assert!(e.to_string().contains("updatedAt"), "{e}");
}

#[tokio::test]
async fn operation_in_progress_waits_for_a_running_export_to_end() {
    let shop = TestShop::start().await;
    let busy = fixture_json("captures/bulk-operation-run-query-concurrency-limit.json");
    let f = flow();
    shop.then(Reply::json(&busy["sixthRun"]["response"]))
        // The first operation it names: still running, then done.
        .then(Reply::json(&f["status_polls"][0]["response"]))
        .then(terminal(&shop, "x", "COMPLETED", None))
        .then(Reply::json(&f["bulkOperationRunQuery_response"]));
    let c = client(&shop);
    let op = c
        .start_bulk("{ products { edges { node { id } } } }", fast())
        .await
        .unwrap();
    assert_eq!(op.status, BulkStatus::Created);
    let seen = shop.seen();
    assert_eq!(seen.len(), 4);
    assert_eq!(
        seen[1].body["variables"]["id"],
        "gid://shopify/BulkOperation/7933223797042"
    );
    assert_eq!(shop.unused(), 0);
}

#[test]
fn the_in_progress_message_names_its_operations() {
    let busy = fixture_json("captures/bulk-operation-run-query-concurrency-limit.json");
    let message =
        busy["sixthRun"]["response"]["data"]["bulkOperationRunQuery"]["userErrors"][0]["message"]
            .as_str()
            .unwrap();
    let ids = ids_in(message);
    assert_eq!(ids.len(), 5);
    assert_eq!(ids[4], "gid://shopify/BulkOperation/7933223928114");
}

#[tokio::test]
async fn a_failed_or_expired_export_is_an_error_by_kind() {
    let shop = TestShop::start().await;
    shop.then(terminal(&shop, "x", "FAILED", Some("ACCESS_DENIED")))
        .then(terminal(&shop, "x", "EXPIRED", None))
        .then(terminal(&shop, "x", "FAILED", Some("TIMEOUT")));
    let c = client(&shop);
    let id = "gid://shopify/BulkOperation/8066670100786";
    let e = c.wait_bulk(id, fast()).await.unwrap_err();
    assert!(e.is_auth(), "{e:?}");
    let e = c.wait_bulk(id, fast()).await.unwrap_err();
    assert!(e.is_transient() && e.to_string().contains("Expired"), "{e}");
    let e = c.wait_bulk(id, fast()).await.unwrap_err();
    assert!(e.is_transient() && e.to_string().contains("TIMEOUT"), "{e}");
}

#[tokio::test]
async fn a_refused_export_query_is_rejected_with_the_shops_message() {
    let shop = TestShop::start().await;
    let v = fixture_json("captures/bulk-operation-run-query-validators.json");
    shop.then(Reply::json(&v["validations"]["sixConnections"]["response"]));
    let e = client(&shop).start_bulk("{ x }", fast()).await.unwrap_err();
    assert!(
        matches!(&e, UpstreamError::Rejected { message, .. } if message.contains("more than 5 connections")),
        "{e:?}"
    );
}

#[tokio::test]
async fn a_download_resumes_past_the_stored_groups_and_an_expired_link_is_gone() {
    let shop = TestShop::start().await;
    let mut file = products_file();
    // A second product after the captured one.
    let second = String::from_utf8(products_file())
        .unwrap()
        .replace("10243914727730", "10243914727731")
        .replace("51487966167346", "51487966167347");
    file.extend_from_slice(second.as_bytes());
    shop.serve_file("two.jsonl", file);
    let c = client(&shop);
    let url = format!("{}files/two.jsonl", shop.url());
    let mut reader = c.open_export(Export::Products, &url, 1).await.unwrap();
    assert_eq!(reader.roots_read(), 1);
    let batch = reader.next_batch(10).await.unwrap().unwrap();
    let Records::Products(ps) = &batch else {
        panic!()
    };
    assert_eq!(
        ps.iter().map(|p| p.id).collect::<Vec<_>>(),
        [10243914727731]
    );
    assert_eq!(reader.roots_read(), 2);

    let e = c
        .open_export(Export::Products, &format!("{}files/missing", shop.url()), 0)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, UpstreamError::NotFound { code, .. } if code == "bulk_result_gone"),
        "{e:?}"
    );
}

#[test]
fn orders_group_their_lines() {
    let line = fixture_json("captures/order-create-line-item-fields.json")["downstreamRead"]
        ["response"]["data"]["order"]["lineItems"]["nodes"][0]
        .clone();
    let order = fixture_json("captures/order-catalog-count-read.json")["response"]["data"]
        ["seedCatalog"]["nodes"][0]
        .clone();
    let group = Group {
        root: order.as_object().unwrap().clone(),
        children: vec![super::super::bulk::Child {
            parent_id: "gid://shopify/Order/8837991727410".into(),
            object: line.as_object().unwrap().clone(),
        }],
    };
    // Read as the page of orders holding the same order.
    let node = page_node(Export::Orders, &group);
    let records = pages::records(crate::domain::Resource::Orders, &[node]).unwrap();
    let Records::Orders(os) = &records else {
        panic!()
    };
    assert_eq!(os[0].line_items.len(), 1);
    assert_eq!(os[0].line_items[0].quantity, 2);
}

#[tokio::test]
async fn records_arrive_while_the_file_is_still_downloading() {
    let shop = TestShop::start().await;
    let first = String::from_utf8(products_file()).unwrap();
    let second = first
        .replace("10243914727730", "10243914727731")
        .replace("51487966167346", "51487966167347");
    let (second_root, second_rest) = second.split_at(second.find('\n').unwrap() + 1);
    // The first product and the second's root line; the rest is held back.
    let gate = shop.serve_gated(
        "slow.jsonl",
        format!("{first}{second_root}").into_bytes(),
        second_rest.as_bytes().to_vec(),
    );
    let c = client(&shop);
    let url = format!("{}files/slow.jsonl", shop.url());
    let mut reader = tokio::time::timeout(
        Duration::from_secs(10),
        c.open_export(Export::Products, &url, 0),
    )
    .await
    .expect("the file is opened before it has all arrived")
    .unwrap();
    let batch = tokio::time::timeout(Duration::from_secs(10), reader.next_batch(1))
        .await
        .expect("the first product is read before the rest of the file is sent")
        .unwrap()
        .unwrap();
    let Records::Products(ps) = &batch else {
        panic!()
    };
    assert_eq!(ps[0].id, 10243914727730);
    gate.notify_one();
    let batch = reader.next_batch(1).await.unwrap().unwrap();
    let Records::Products(ps) = &batch else {
        panic!()
    };
    assert_eq!(ps[0].id, 10243914727731);
    assert!(reader.next_batch(1).await.unwrap().is_none());
}

#[test]
fn an_export_position_reads_back_and_a_page_cursor_is_not_one() {
    let p = Position {
        operation: "gid://shopify/BulkOperation/8066670100786".to_owned(),
        roots: 750,
    };
    let c = p.cursor();
    assert_eq!(
        c.as_str(),
        "bulk;gid://shopify/BulkOperation/8066670100786;750"
    );
    assert_eq!(Position::parse(&c), Some(p));
    // A page's endCursor, the first page, and what is not ours.
    for other in [
        "eyJsYXN0X2lkIjoxLCJsYXN0X3ZhbHVlIjoxfQ==",
        "",
        "bulk;gid://shopify/Product/1;3",
        "bulk;gid://shopify/BulkOperation/1;many",
    ] {
        assert_eq!(Position::parse(&Cursor::new(other)), None, "{other:?}");
    }
}

#[test]
fn a_product_group_is_read_as_its_page_reads_it() {
    let text = String::from_utf8(products_file()).unwrap();
    let mut reader_lines = text.lines();
    let root: Map<String, Value> = serde_json::from_str(reader_lines.next().unwrap()).unwrap();
    let children: Vec<super::super::bulk::Child> = reader_lines
        .map(|l| {
            let mut o: Map<String, Value> = serde_json::from_str(l).unwrap();
            let parent = o.remove("__parentId").unwrap();
            super::super::bulk::Child {
                parent_id: parent.as_str().unwrap().to_owned(),
                object: o,
            }
        })
        .collect();
    let group = Group { root, children };
    let node = page_node(Export::Products, &group);
    // The page's shape: nested lists under `nodes`, one variant at most.
    assert_eq!(node["variants"]["nodes"].as_array().unwrap().len(), 1);
    assert!(node["collections"]["nodes"].is_array());
    let Records::Products(ps) = pages::records(crate::domain::Resource::Products, &[node]).unwrap()
    else {
        panic!()
    };
    assert_eq!(
        ps[0].sku.as_deref(),
        Some("bulk-variant-bulk-root-mrrsb7hi-1xi0i")
    );
}
