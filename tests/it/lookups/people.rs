//! Customers, the returns desk and the pickup counter.

use super::{fact, ids, ok, pulled_shop};

#[tokio::test]
async fn customers_are_found_by_name_email_phone_and_company() {
    let shop = pulled_shop().await;
    let t = &shop.t;
    let c = fact(
        t,
        "SELECT c.id, c.last_name, c.email, b.phone FROM customers c
         JOIN customer_addresses b ON b.customer_id = c.id AND b.kind = 'billing'
         WHERE b.phone LIKE '+44 %' ORDER BY c.id LIMIT 1",
    )
    .await;
    let id: i64 = c[0].parse().unwrap();
    let (last, email, phone) = (&c[1], &c[2], &c[3]);

    let by_name = ok(
        t,
        &format!(
            "/api/customers?q={}&per_page=100",
            &last[..3].to_uppercase()
        ),
    )
    .await;
    assert!(ids(&by_name).contains(&id), "{by_name}");
    let prefix = &email[..email.find('@').unwrap() + 3];
    let by_email = ok(t, &format!("/api/customers?q={}", urlencode(prefix))).await;
    assert_eq!(ids(&by_email)[0], id);
    // The phone as stored, in national form (trunk 0), and its last digits.
    let national = format!("0{}", phone.trim_start_matches("+44 "));
    let last_digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let last_digits = &last_digits[last_digits.len() - 7..];
    for q in [phone.as_str(), national.as_str(), last_digits] {
        let page = ok(
            t,
            &format!("/api/customers?q={}&per_page=100", urlencode(q)),
        )
        .await;
        assert!(
            ids(&page).contains(&id),
            "{q:?} did not find customer {id}: {page}"
        );
    }
    let company = fact(
        t,
        "SELECT customer_id, company FROM customer_addresses
         WHERE kind = 'billing' AND company <> '' ORDER BY customer_id LIMIT 1",
    )
    .await;
    if !company.is_empty() {
        let page = ok(
            t,
            &format!("/api/customers?q={}&per_page=100", urlencode(&company[1])),
        )
        .await;
        assert!(ids(&page).contains(&company[0].parse().unwrap()));
    }

    let all = ok(t, "/api/customers?per_page=1").await;
    assert_eq!(
        all["total"],
        fact(t, "SELECT COUNT(*) FROM customers").await[0]
            .parse::<i64>()
            .unwrap()
    );
    shop.t.stop().await;
}

#[tokio::test]
async fn a_customer_shows_addresses_and_recent_orders() {
    let shop = pulled_shop().await;
    let t = &shop.t;
    let c = fact(
        t,
        "SELECT customer_id, COUNT(*) FROM orders WHERE customer_id <> 0
         GROUP BY customer_id ORDER BY COUNT(*) DESC, customer_id LIMIT 1",
    )
    .await;
    let body = ok(t, &format!("/api/customers/{}", c[0])).await;
    assert_eq!(body["order_count"], c[1].parse::<i64>().unwrap());
    let recent = body["recent_orders"].as_array().unwrap();
    assert!(!recent.is_empty() && recent.len() <= 10);
    let dates: Vec<&str> = recent
        .iter()
        .map(|o| o["date_created_gmt"].as_str().unwrap())
        .collect();
    assert!(
        dates.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {dates:?}"
    );
    assert!(recent.iter().all(|o| o["customer_id"] == body["id"]));
    assert!(
        body["billing"]["country"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    assert!(body["shipping"].is_object());

    let (status, body) = t.get_json("/api/customers/987654321").await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (404, &serde_json::json!("not_found"))
    );
    shop.t.stop().await;
}

#[tokio::test]
async fn orders_are_found_by_number_email_and_phone_with_what_is_refundable() {
    let shop = pulled_shop().await;
    let t = &shop.t;
    let o = fact(
        t,
        "SELECT o.id, o.number, b.email, b.phone FROM orders o
         JOIN order_addresses b ON b.order_id = o.id AND b.kind = 'billing'
         WHERE b.phone <> '' AND b.email <> '' ORDER BY o.id LIMIT 1",
    )
    .await;
    let id: i64 = o[0].parse().unwrap();
    let by_number = ok(t, &format!("/api/orders?q={}", o[1])).await;
    assert_eq!(
        ids(&by_number)[0],
        id,
        "the order with that number comes first"
    );
    for q in [o[2].as_str(), o[3].as_str()] {
        let page = ok(t, &format!("/api/orders?q={}&per_page=100", urlencode(q))).await;
        assert!(ids(&page).contains(&id), "{q:?} did not find order {id}");
    }

    // An order with a refund: per line, what was refunded and what is left.
    let r = fact(
        t,
        "SELECT r.order_id, rl.refunded_item_id, ABS(rl.quantity), l.quantity
         FROM refunds r JOIN refund_line_items rl ON rl.refund_id = r.id
         JOIN order_line_items l ON l.order_id = r.order_id AND l.id = rl.refunded_item_id
         ORDER BY r.id LIMIT 1",
    )
    .await;
    let body = ok(t, &format!("/api/orders/{}", r[0])).await;
    let line = body["line_items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"].as_i64() == r[1].parse().ok())
        .expect("the refunded line");
    let (refunded, bought): (i64, i64) = (r[2].parse().unwrap(), r[3].parse().unwrap());
    assert!(line["refunded_quantity"].as_i64().unwrap() >= refunded);
    assert_eq!(
        line["refundable_quantity"].as_i64().unwrap(),
        (bought - line["refunded_quantity"].as_i64().unwrap()).max(0)
    );
    assert!(!body["refunds"].as_array().unwrap().is_empty());
    assert!(body["refunds"][0]["lines"].is_array());
    assert!(body["billing"]["email"].is_string());

    // Status filter.
    let done = ok(t, "/api/orders?status=completed&per_page=100").await;
    assert!(
        done["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["status"] == "completed")
    );
    shop.t.stop().await;
}

#[tokio::test]
async fn pickups_list_orders_awaiting_collection_and_are_searchable() {
    let shop = pulled_shop().await;
    let t = &shop.t;
    let page = ok(t, "/api/pickups?per_page=100").await;
    let items = page["items"].as_array().unwrap();
    let expected = fact(
        t,
        "SELECT COUNT(DISTINCT o.id) FROM orders o JOIN order_shipping_lines s ON s.order_id = o.id
         WHERE o.status = 'processing' AND s.method_id IN ('local_pickup', 'pickup_location')",
    )
    .await;
    assert_eq!(page["total"], expected[0].parse::<i64>().unwrap());
    assert!(!items.is_empty(), "the sim has orders to collect");
    for o in items {
        assert_eq!(o["status"], "processing");
        assert!(
            o["shipping_methods"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m == "local_pickup")
        );
    }
    let dates: Vec<&str> = items
        .iter()
        .map(|o| o["date_created_gmt"].as_str().unwrap())
        .collect();
    assert!(dates.windows(2).all(|w| w[0] <= w[1]), "oldest first");

    // Searchable by number and name; an order not for pickup is not listed.
    let first = &items[0];
    let by_number = ok(
        t,
        &format!("/api/pickups?q={}", first["number"].as_str().unwrap()),
    )
    .await;
    assert_eq!(ids(&by_number)[0], first["id"].as_i64().unwrap());
    let name = first["billing_name"].as_str().unwrap();
    let by_name = ok(
        t,
        &format!("/api/pickups?q={}&per_page=100", urlencode(name)),
    )
    .await;
    assert!(ids(&by_name).contains(&first["id"].as_i64().unwrap()));
    let other = fact(
        t,
        "SELECT number FROM orders o WHERE NOT EXISTS (SELECT 1 FROM order_shipping_lines s
           WHERE s.order_id = o.id AND s.method_id = 'local_pickup') ORDER BY id LIMIT 1",
    )
    .await;
    let page = ok(t, &format!("/api/pickups?q={}", other[0])).await;
    assert!(
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["number"] != other[0].as_str())
    );
    shop.t.stop().await;
}

/// Percent-encodes a query value.
fn urlencode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}
