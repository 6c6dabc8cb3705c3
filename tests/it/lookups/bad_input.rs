//! Every lookup endpoint refuses bad input with a 400 that names the
//! parameter, and reading it changes nothing.

use possync::domain::Resource;
use possync::store::dump;

use super::pulled_shop;
use crate::common::TestApp;

/// `(request, message)`: each must answer 400 `invalid_parameter` with
/// exactly that message.
const CASES: &[(&str, &str)] = &[
    // Paging, on every listing.
    ("/api/products?per_page=0", "per_page: must be 1..=100"),
    ("/api/products?per_page=101", "per_page: must be 1..=100"),
    ("/api/products?per_page=ten", "per_page: must be 1..=100"),
    ("/api/products?page=0", "page: must be 1..=100000"),
    ("/api/products?page=-1", "page: must be 1..=100000"),
    (
        "/api/products/7/variations?per_page=1000",
        "per_page: must be 1..=100",
    ),
    ("/api/customers?page=x", "page: must be 1..=100000"),
    (
        "/api/orders?per_page=99999999999999999999",
        "per_page: must be 1..=100",
    ),
    ("/api/pickups?per_page=", "per_page: must be 1..=100"),
    // Products.
    ("/api/products?q=", "q: must not be empty"),
    ("/api/products?q=%20%20", "q: must not be empty"),
    ("/api/products?q=--", "q: must contain a letter or a digit"),
    (
        "/api/products?q=a+b+c+d+e+f+g+h+i",
        "q: must be at most 8 words",
    ),
    (
        "/api/products?q=%00abc",
        "q: must not contain control characters",
    ),
    (
        "/api/products?q=%FF%FE",
        "q: must be valid percent-encoded UTF-8",
    ),
    ("/api/products?q=a&q=b", "q: given more than once"),
    (
        "/api/products?barcode=12%2034",
        "barcode: must be letters, digits and dashes only",
    ),
    ("/api/products?barcode=", "barcode: must not be empty"),
    ("/api/products?sku=a&q=b", "sku: cannot be combined with q"),
    (
        "/api/products?barcode=1&sku=b",
        "barcode: cannot be combined with q or sku",
    ),
    (
        "/api/products?category=shoes",
        "category: must be a positive whole number",
    ),
    (
        "/api/products?category=0",
        "category: must be a positive whole number",
    ),
    (
        "/api/products?in_stock=maybe",
        "in_stock: must be true or false",
    ),
    (
        "/api/products?sort=cheapest",
        "sort: must be one of relevance, name, -name, price, -price, id, -id",
    ),
    (
        "/api/products?sort=relevance",
        "sort: relevance needs a search text in q",
    ),
    (
        "/api/products?colour=red",
        "colour: unknown parameter; allowed: q, sku, barcode, category, in_stock, sort, page, per_page",
    ),
    ("/api/products/abc", "id: must be a positive whole number"),
    ("/api/products/-3", "id: must be a positive whole number"),
    (
        "/api/products/1.5/variations",
        "id: must be a positive whole number",
    ),
    (
        "/api/products/99999999999999999999",
        "id: must be a positive whole number",
    ),
    (
        "/api/products/1?verbose=1",
        "verbose: unknown parameter; this endpoint takes none",
    ),
    // Customers.
    (
        "/api/customers?q=%22%22",
        "q: must contain a letter or a digit",
    ),
    (
        "/api/customers?sort=age",
        "sort: must be one of relevance, name, -name, id, -id",
    ),
    (
        "/api/customers?email=a%40b.c",
        "email: unknown parameter; allowed: q, sort, page, per_page",
    ),
    ("/api/customers/zero", "id: must be a positive whole number"),
    // Orders and pickups.
    (
        "/api/orders?status=shipped",
        "status: must be statuses among pending, processing, on-hold, completed, cancelled, refunded, failed",
    ),
    (
        "/api/orders?status=,",
        "status: must name at least one status",
    ),
    (
        "/api/orders?sort=relevance",
        "sort: relevance needs a search text in q",
    ),
    ("/api/orders/0", "id: must be a positive whole number"),
    (
        "/api/pickups?sort=relevance",
        "sort: must be newest or oldest",
    ),
    (
        "/api/pickups?status=completed",
        "status: unknown parameter; allowed: q, sort, page, per_page",
    ),
];

#[tokio::test]
async fn bad_parameters_are_a_400_naming_them_and_change_nothing() {
    let shop = pulled_shop().await;
    let t = &shop.t;
    let before = snapshot(t).await;

    for (path, message) in CASES {
        let (status, body) = t.get_json(path).await;
        assert_eq!(status, 400, "GET {path}: {body}");
        assert_eq!(body["error"]["code"], "invalid_parameter", "GET {path}");
        assert_eq!(body["error"]["message"], *message, "GET {path}");
    }

    // Oversized: a long search, a long SKU, a huge query string.
    let long_q = format!("/api/products?q={}", "a".repeat(101));
    let long_sku = format!("/api/products?sku={}", "S".repeat(101));
    let long_code = format!("/api/products?barcode={}", "1".repeat(65));
    let huge = format!("/api/orders?q=a&{}", "x".repeat(3000));
    for (path, message) in [
        (long_q, "q: must be at most 100 characters"),
        (long_sku, "sku: must be at most 100 characters"),
        (long_code, "barcode: must be at most 64 characters"),
        (huge, "query: the query string must be at most 2048 bytes"),
    ] {
        let (status, body) = t.get_json(&path).await;
        assert_eq!(status, 400, "GET {}: {body}", &path[..40]);
        assert_eq!(body["error"]["message"], message);
    }

    // Wrong method on a lookup: not a silent success.
    let res = t
        .http
        .post(format!("{}/api/products", t.app.url()))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 405);

    assert_eq!(snapshot(t).await, before, "the replica is unchanged");
    shop.t.stop().await;
}

/// Every mirrored object, and the index bookkeeping.
async fn snapshot(t: &TestApp) -> Vec<(String, String)> {
    t.store()
        .read(|c| {
            let mut rows = Vec::new();
            for r in [
                Resource::Products,
                Resource::Variations,
                Resource::Customers,
                Resource::Orders,
            ] {
                rows.extend(dump::raw_rows(c, r)?);
            }
            let n: i64 = c.query_row("SELECT COUNT(*) FROM product_barcodes", [], |r| r.get(0))?;
            rows.push(("barcodes".to_owned(), n.to_string()));
            Ok(rows)
        })
        .await
        .unwrap()
}
