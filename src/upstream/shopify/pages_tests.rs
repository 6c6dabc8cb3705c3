use serde_json::json;

use super::*;
use crate::upstream::shopify::client::ShopifyClient;
use crate::upstream::shopify::test_shop::{Reply, TestShop, fixture, fixture_json, quick_retry};

fn client(shop: &TestShop) -> ShopifyClient {
    ShopifyClient::new(shop.connection())
        .unwrap()
        .with_retry(quick_retry())
}

/// A captured answer whose connection was asked under an alias, with the
/// alias renamed to the field our document asks (the only change).
fn renamed(path: &str, at: &[&str], alias: &str, field: &str) -> Reply {
    let mut v = fixture_json(path);
    for k in at {
        v = v[*k].clone();
    }
    let conn = v["data"][alias].clone();
    let mut data = serde_json::Map::new();
    data.insert(field.to_owned(), conn);
    Reply::json(&json!({"data": data, "extensions": v["extensions"]}))
}

#[test]
fn search_terms_are_quoted_inclusive_utc() {
    let t = GmtTime::parse("2026-06-24T14:40:33").unwrap();
    assert_eq!(
        search::updated_since(t),
        "updated_at:>='2026-06-24T14:40:33Z'"
    );
    assert_eq!(
        search::created_since(t),
        "created_at:>='2026-06-24T14:40:33Z'"
    );
    assert_eq!(
        search::occurred_since(t),
        "occurred_at:>='2026-06-24T14:40:33Z'"
    );
    assert_eq!(search::and("a:1", "b:2"), "a:1 b:2");
    assert_eq!(search::and("", "b:2"), "b:2");
    assert_eq!(search::and("a:1", ""), "a:1");
}

#[tokio::test]
async fn a_products_page_sends_cursor_size_and_search_and_returns_the_end_cursor() {
    let shop = TestShop::start().await;
    shop.then(renamed(
        "captures/products-common-search-filters.json",
        &["response"],
        "statusProducts",
        "products",
    ));
    let c = client(&shop);
    let since = GmtTime::parse("2026-06-01T00:00:00").unwrap();
    let q = search::updated_since(since);
    let page = c
        .page(Resource::Products, Some("abc"), 5, Some(&q))
        .await
        .unwrap();
    let Records::Products(products) = &page.records else {
        panic!("{:?}", page.records)
    };
    assert_eq!(products.len(), 5);
    assert_eq!(products[0].id, 9899728634162);
    assert_eq!(products[0].name, "Test Product - 5640");
    assert!(page.has_next_page);
    assert_eq!(
        page.end_cursor.as_deref(),
        Some(
            "eyJsYXN0X2lkIjo5ODk5NzA0NTE2OTE0LCJsYXN0X3ZhbHVlIjoiMjAyNi0wNi0yNCAxNDo0MDozMi4wMDAwMDAifQ=="
        )
    );
    let sent = &shop.seen()[0].body;
    assert_eq!(
        sent["variables"],
        json!({"first": 5, "after": "abc", "query": "updated_at:>='2026-06-01T00:00:00Z'"})
    );
    let doc = sent["query"].as_str().unwrap();
    assert!(doc.contains("sortKey: UPDATED_AT"), "{doc}");
    // The configured location's stock (id 1 in the test connection).
    assert!(doc.contains("gid://shopify/Location/1"), "{doc}");
}

#[tokio::test]
async fn a_too_costly_page_is_asked_again_with_half_the_items() {
    let shop = TestShop::start().await;
    shop.then(Reply::ok(fixture("graphql-errors/max_cost_exceeded.json")))
        .then(Reply::ok(fixture("graphql-errors/max_cost_exceeded.json")))
        .then(renamed(
            "captures/products-common-search-filters.json",
            &["response"],
            "statusProducts",
            "products",
        ));
    let page = client(&shop)
        .page(Resource::Products, None, 250, None)
        .await
        .unwrap();
    assert_eq!(page.first, 62);
    let firsts: Vec<_> = shop
        .seen()
        .iter()
        .map(|s| s.body["variables"]["first"].as_u64().unwrap())
        .collect();
    assert_eq!(firsts, [250, 125, 62]);
}

#[tokio::test]
async fn a_query_too_costly_even_for_one_item_is_refused() {
    let shop = TestShop::start().await;
    for _ in 0..2 {
        shop.then(Reply::ok(fixture("graphql-errors/max_cost_exceeded.json")));
    }
    let e = client(&shop)
        .page(Resource::Customers, None, 2, None)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, UpstreamError::Rejected { code, .. } if code == "MAX_COST_EXCEEDED"),
        "{e:?}"
    );
    assert_eq!(shop.seen().len(), 2);
}

#[tokio::test]
async fn customers_and_orders_pages_read_captured_answers() {
    let shop = TestShop::start().await;
    let customers = fixture_json("captures/customers-search.json");
    shop.then(Reply::json(
        &json!({"data": customers["data"], "extensions": customers["extensions"]}),
    ));
    shop.then(renamed(
        "captures/order-catalog-count-read.json",
        &["response"],
        "recent",
        "orders",
    ));
    let c = client(&shop);
    let page = c.page(Resource::Customers, None, 2, None).await.unwrap();
    let Records::Customers(cs) = &page.records else {
        panic!()
    };
    assert_eq!(cs.len(), 2);
    assert_eq!(cs[0].id, 10885440995634);
    assert!(page.has_next_page);
    let page = c.page(Resource::Orders, None, 1, None).await.unwrap();
    let Records::Orders(os) = &page.records else {
        panic!()
    };
    assert_eq!(os[0].number, "#1494");
    assert_eq!(os[0].status, "processing");
    assert!(page.has_next_page);
    let doc = shop.seen()[1].body["query"].as_str().unwrap().to_owned();
    assert!(
        doc.contains("orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT)")
    );
}

#[tokio::test]
async fn a_variations_page_leaves_default_variants_out() {
    let shop = TestShop::start().await;
    let line = String::from_utf8(fixture("bulk/root-count-run.result.jsonl")).unwrap();
    // The captured variant line ("Default Title"), as a productVariants
    // page would list it, and a sized variant beside it.
    let mut nodes = Vec::new();
    for l in line.lines() {
        let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
        if v["id"].as_str().unwrap().contains("ProductVariant") {
            v.as_object_mut().unwrap().remove("__parentId");
            nodes.push(v);
        }
    }
    assert!(!nodes.is_empty());
    let mut sized = nodes[0].clone();
    sized["title"] = json!("Large");
    sized["updatedAt"] = json!("2026-07-19T12:41:45Z");
    sized["product"] = json!({"id": "gid://shopify/Product/5", "hasOnlyDefaultVariant": false});
    nodes.push(sized);
    shop.then(Reply::json(&json!({"data": {"productVariants": {
        "nodes": nodes,
        "pageInfo": {"hasNextPage": false, "endCursor": "c1"}
    }}})));
    let page = client(&shop)
        .page(Resource::Variations, None, 10, None)
        .await
        .unwrap();
    let Records::Variations(vs) = &page.records else {
        panic!()
    };
    assert_eq!(vs.len(), 1, "{vs:?}");
    assert_eq!(vs[0].name, "Large");
    assert_eq!(vs[0].parent_id, 5);
    assert!(!page.has_next_page);
}

#[tokio::test]
async fn a_location_is_found_by_name_once() {
    let shop = TestShop::start().await;
    // The location of the captured inventory read.
    let locations = json!({"data": {"locations": {
        "nodes": [{"id": "gid://shopify/Location/113884102962", "name": "HAR-2332 Probe Destination 1783701294047", "isActive": true}],
        "pageInfo": {"hasNextPage": false, "endCursor": null}
    }}});
    shop.then(Reply::json(&locations));
    let mut conn = shop.connection();
    conn.location = LocationRef::Name("HAR-2332 Probe Destination 1783701294047".into());
    let c = ShopifyClient::new(conn).unwrap();
    assert_eq!(c.location_id().await.unwrap(), 113884102962);
    assert_eq!(c.location_id().await.unwrap(), 113884102962);
    assert_eq!(shop.seen().len(), 1);

    shop.then(Reply::json(&locations));
    let mut conn = shop.connection();
    conn.location = LocationRef::Name("Back room".into());
    let e = ShopifyClient::new(conn)
        .unwrap()
        .location_id()
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("\"Back room\"") && text.contains("HAR-2332"),
        "{text}"
    );
}

#[tokio::test]
async fn without_a_configured_location_the_primary_one_is_asked_once() {
    let shop = TestShop::start().await;
    // Shaped after the schema's `location(id: ID)`: no id, the primary one.
    shop.then(Reply::json(
        &json!({"data": {"location": {"id": "gid://shopify/Location/113884102962"}}}),
    ));
    let mut conn = shop.connection();
    conn.location = LocationRef::Primary;
    let c = ShopifyClient::new(conn).unwrap();
    assert_eq!(c.location_id().await.unwrap(), 113884102962);
    assert_eq!(c.location_id().await.unwrap(), 113884102962);
    let seen = shop.seen();
    assert_eq!(seen.len(), 1);
    assert!(
        seen[0].body["query"]
            .as_str()
            .is_some_and(|q| q.contains("location { id }")),
        "{:?}",
        seen[0].body
    );

    shop.then(Reply::json(&json!({"data": {"location": null}})));
    let mut conn = shop.connection();
    conn.location = LocationRef::Primary;
    let e = ShopifyClient::new(conn)
        .unwrap()
        .location_id()
        .await
        .unwrap_err();
    assert!(e.to_string().contains("set store.location"), "{e}");
}

#[tokio::test]
async fn product_deletions_read_ids_and_times() {
    let shop = TestShop::start().await;
    // Shaped after the schema's DeletionEvent (no capture of this query).
    shop.then(Reply::json(&json!({"data": {"deletionEvents": {
        "nodes": [{"occurredAt": "2026-06-24T14:41:00Z", "subjectId": "gid://shopify/Product/9899728634162", "subjectType": "PRODUCT"}],
        "pageInfo": {"hasNextPage": false, "endCursor": "d1"}
    }}})));
    let since = GmtTime::parse("2026-06-24T00:00:00").unwrap();
    let page = client(&shop)
        .product_deletions(since, None, 100)
        .await
        .unwrap();
    assert_eq!(page.deleted.len(), 1);
    assert_eq!(page.deleted[0].0, 9899728634162);
    assert_eq!(page.deleted[0].1.to_string(), "2026-06-24T14:41:00");
    let sent = &shop.seen()[0].body["variables"];
    assert_eq!(sent["query"], "occurred_at:>='2026-06-24T00:00:00Z'");
}

#[tokio::test]
async fn a_page_size_out_of_range_is_refused_before_sending() {
    let shop = TestShop::start().await;
    let c = client(&shop);
    for first in [0, 251] {
        let e = c
            .page(Resource::Products, None, first, None)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("1 to 250"), "{e}");
    }
    assert!(shop.seen().is_empty());
}

#[tokio::test]
async fn an_order_with_more_lines_than_a_page_is_read_to_its_end() {
    let shop = TestShop::start().await;
    let mut order = fixture_json("captures/order-catalog-count-read.json")["response"]["data"]
        ["seedCatalog"]["nodes"][0]
        .clone();
    let line = fixture_json("captures/order-create-line-item-fields.json")["downstreamRead"]
        ["response"]["data"]["order"]["lineItems"]["nodes"][0]
        .clone();
    let mut second = line.clone();
    second["id"] = json!("gid://shopify/LineItem/19312607822131");
    order["lineItems"] =
        json!({"nodes": [line], "pageInfo": {"hasNextPage": true, "endCursor": "L1"}});
    shop.then(Reply::json(&json!({"data": {"orders": {
        "nodes": [order],
        "pageInfo": {"hasNextPage": false, "endCursor": "O1"}
    }}})));
    shop.then(Reply::json(&json!({"data": {"order": {"lineItems": {
        "nodes": [second],
        "pageInfo": {"hasNextPage": false, "endCursor": "L2"}
    }}}})));
    let page = client(&shop)
        .page(Resource::Orders, None, 10, None)
        .await
        .unwrap();
    let Records::Orders(os) = &page.records else {
        panic!()
    };
    let ids: Vec<_> = os[0].line_items.iter().map(|l| l.id).collect();
    assert_eq!(ids, [19312607822130, 19312607822131]);
    assert!(
        os[0].raw.as_str().contains("19312607822131"),
        "raw keeps every line"
    );
    let follow = &shop.seen()[1].body;
    assert!(
        follow["query"]
            .as_str()
            .unwrap()
            .starts_with("query OrderLinesRest")
    );
    assert_eq!(
        follow["variables"],
        json!({"id": "gid://shopify/Order/8837991727410", "after": "L1"})
    );
}
