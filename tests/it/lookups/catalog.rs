//! Products at the till: barcode, SKU, text, filters, price now, stock.

use super::{fact, ids, ok, pulled_shop};

#[tokio::test]
async fn products_are_found_by_name_sku_and_barcode() {
    let shop = pulled_shop().await;
    let t = &shop.t;

    // Accent- and case-insensitive, prefixes of every word.
    let page = ok(t, "/api/products?q=creme+BRU").await;
    assert_eq!(ids(&page), [shop.torch]);
    assert_eq!(page["total"], 1);
    assert_eq!(page["items"][0]["name"], "Crème Brûlée Torch");
    assert_eq!(page["items"][0]["price"], "12.50");

    // SKU: exact, any case; a part of it is not a SKU match.
    let page = ok(t, "/api/products?sku=crb-torch-1").await;
    assert_eq!(ids(&page), [shop.torch]);
    let page = ok(t, "/api/products?sku=crb-torch").await;
    assert_eq!(page["total"], 0);
    assert_eq!(page["items"], serde_json::json!([]));
    // ... but a part of a SKU is found by the text search.
    let page = ok(t, "/api/products?q=crb-tor").await;
    assert_eq!(ids(&page), [shop.torch]);

    // Barcode from global_unique_id, scanned with a leading zero too.
    let row = fact(
        t,
        "SELECT id, global_unique_id FROM products
         WHERE parent_id = 0 AND global_unique_id <> '' ORDER BY id LIMIT 1",
    )
    .await;
    let page = ok(t, &format!("/api/products?barcode={}", row[1])).await;
    assert_eq!(ids(&page), [row[0].parse::<i64>().unwrap()]);
    let page = ok(t, &format!("/api/products?barcode=0{}", row[1])).await;
    assert_eq!(ids(&page), [row[0].parse::<i64>().unwrap()]);

    // Barcode from a configured meta key (`_ean` by default).
    let row = fact(
        t,
        "SELECT p.id, m.value ->> '$.value' FROM products p, json_each(p.meta_data) m
         WHERE p.parent_id = 0 AND m.value ->> '$.key' = '_ean'
           AND (p.global_unique_id IS NULL OR p.global_unique_id <> m.value ->> '$.value')
         ORDER BY p.id LIMIT 1",
    )
    .await;
    let page = ok(t, &format!("/api/products?barcode={}", row[1])).await;
    assert_eq!(ids(&page), [row[0].parse::<i64>().unwrap()]);
    // The text search knows barcodes too.
    let page = ok(t, &format!("/api/products?q={}", row[1])).await;
    assert!(ids(&page).contains(&row[0].parse::<i64>().unwrap()));

    let page = ok(t, "/api/products?barcode=0000000000000").await;
    assert_eq!(page["total"], 0);
    t_stop(shop).await;
}

#[tokio::test]
async fn a_variation_found_by_its_own_code_comes_with_its_parent() {
    let shop = pulled_shop().await;
    let t = &shop.t;
    let row = fact(
        t,
        "SELECT id, parent_id, sku FROM products
         WHERE type = 'variation' AND sku IS NOT NULL ORDER BY id LIMIT 1",
    )
    .await;
    let (variation, parent) = (
        row[0].parse::<i64>().unwrap(),
        row[1].parse::<i64>().unwrap(),
    );
    let page = ok(t, &format!("/api/products?sku={}", row[2].to_lowercase())).await;
    assert_eq!(ids(&page), [parent]);
    let item = &page["items"][0];
    assert_eq!(item["type"], "variable");
    assert_eq!(item["matched_variations"][0]["id"], variation);
    assert_eq!(item["matched_variations"][0]["parent_id"], parent);
    assert_eq!(item["matched_variations"][0]["sku"], row[2].as_str());

    let row = fact(
        t,
        "SELECT id, parent_id, global_unique_id FROM products
         WHERE type = 'variation' AND global_unique_id <> '' ORDER BY id LIMIT 1",
    )
    .await;
    let page = ok(t, &format!("/api/products?barcode={}", row[2])).await;
    assert_eq!(ids(&page), [row[1].parse::<i64>().unwrap()]);
    assert_eq!(
        page["items"][0]["matched_variations"][0]["id"],
        row[0].parse::<i64>().unwrap()
    );
    t_stop(shop).await;
}

#[tokio::test]
async fn a_product_shows_its_price_now_stock_and_variations() {
    let shop = pulled_shop().await;
    let t = &shop.t;

    let torch = ok(t, &format!("/api/products/{}", shop.torch)).await;
    assert_eq!(torch["stock"]["managed"], true);
    assert_eq!(torch["stock"]["quantity"], 7);
    assert_eq!(torch["stock"]["available"], 7);
    assert_eq!(torch["stock"]["unconfirmed_sales"], 0);
    assert_eq!(torch["stock"]["status"], "instock");
    assert_eq!(torch["tax_status"], "taxable");
    assert!(torch["categories"].is_array());

    // A sale scheduled for later is not charged yet; one running now is.
    let later = fact(
        t,
        "SELECT id, regular_price, sale_price FROM products
         WHERE sale_price IS NOT NULL AND date_on_sale_from_gmt > strftime('%Y-%m-%dT%H:%M:%S', 'now')
         ORDER BY id LIMIT 1",
    )
    .await;
    let p = ok(t, &format!("/api/products/{}", later[0])).await;
    assert_eq!(p["price"], later[1].as_str());
    assert_eq!(p["sale_price"], later[2].as_str());
    assert_eq!(p["on_sale"], false);
    let running = fact(
        t,
        "SELECT id, sale_price FROM products
         WHERE sale_price IS NOT NULL AND date_on_sale_from_gmt <= strftime('%Y-%m-%dT%H:%M:%S', 'now')
           AND date_on_sale_to_gmt >= strftime('%Y-%m-%dT%H:%M:%S', 'now')
         ORDER BY id LIMIT 1",
    )
    .await;
    let p = ok(t, &format!("/api/products/{}", running[0])).await;
    assert_eq!(
        (p["price"].as_str(), p["on_sale"].as_bool()),
        (Some(running[1].as_str()), Some(true))
    );

    // A variable product: its variations, paged, and the range of their prices.
    let parent = fact(
        t,
        "SELECT p.id, COUNT(v.id) FROM products p JOIN products v ON v.parent_id = p.id
         WHERE p.type = 'variable' GROUP BY p.id HAVING COUNT(v.id) >= 2 ORDER BY p.id LIMIT 1",
    )
    .await;
    let count: i64 = parent[1].parse().unwrap();
    let p = ok(t, &format!("/api/products/{}", parent[0])).await;
    assert_eq!(p["variation_count"], count);
    let min = p["price_range"]["min"]
        .as_str()
        .unwrap()
        .parse::<f64>()
        .unwrap();
    let page = ok(
        t,
        &format!("/api/products/{}/variations?per_page=1&page=2", parent[0]),
    )
    .await;
    assert_eq!(page["total"], count);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["type"], "variation");
    let all = ok(
        t,
        &format!("/api/products/{}/variations?per_page=100", parent[0]),
    )
    .await;
    let cheapest = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v["price"].as_str()?.parse::<f64>().ok())
        .fold(f64::INFINITY, f64::min);
    assert_eq!(cheapest, min);
    assert!(
        all["items"][0]["attributes"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    );

    let (status, body) = t.get_json("/api/products/987654321").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
    t_stop(shop).await;
}

#[tokio::test]
async fn available_stock_subtracts_this_tills_unconfirmed_sales() {
    let shop = pulled_shop().await;
    let t = &shop.t;
    // What the outbox migration will do: give the view rows. Here, two
    // torches sold at this till and not yet confirmed upstream.
    let torch = shop.torch;
    t.store()
        .write(move |tx| {
            tx.execute_batch(&format!(
                "DROP VIEW unconfirmed_stock;
                 CREATE VIEW unconfirmed_stock (product_id, variation_id, quantity) AS
                 SELECT {torch}, NULL, 2"
            ))?;
            Ok(())
        })
        .await
        .unwrap();
    let p = ok(t, &format!("/api/products/{torch}")).await;
    assert_eq!(p["stock"]["quantity"], 7);
    assert_eq!(p["stock"]["unconfirmed_sales"], 2);
    assert_eq!(p["stock"]["available"], 5);
    t_stop(shop).await;
}

#[tokio::test]
async fn filters_sorts_and_pages_agree_with_the_totals() {
    let shop = pulled_shop().await;
    let t = &shop.t;
    let all = ok(t, "/api/products?per_page=100").await;
    let total = all["total"].as_i64().unwrap();
    let parents = fact(
        t,
        "SELECT COUNT(*) FROM products WHERE parent_id = 0 AND type <> 'variation'",
    )
    .await;
    assert_eq!(total, parents[0].parse::<i64>().unwrap());

    // Pages tile the listing without gaps or repeats.
    let mut seen = Vec::new();
    for page in 1..=(total + 6) / 7 {
        let p = ok(t, &format!("/api/products?sort=id&per_page=7&page={page}")).await;
        assert_eq!(p["page"], page);
        assert_eq!(p["per_page"], 7);
        seen.extend(ids(&p));
    }
    let mut sorted = seen.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(seen, sorted);
    assert_eq!(seen.len() as i64, total);

    // Stock filter splits the catalog.
    let yes = ok(t, "/api/products?in_stock=true").await["total"]
        .as_i64()
        .unwrap();
    let no = ok(t, "/api/products?in_stock=false").await["total"]
        .as_i64()
        .unwrap();
    assert_eq!(yes + no, total);
    assert!(no > 0 && yes > 0, "{yes} in stock, {no} out");

    // A category includes its subcategories.
    let cat = fact(
        t,
        "SELECT c.id FROM categories c WHERE c.parent_id = 0
           AND EXISTS (SELECT 1 FROM categories s WHERE s.parent_id = c.id)
         ORDER BY c.id LIMIT 1",
    )
    .await;
    let page = ok(
        t,
        &format!("/api/products?category={}&per_page=100", cat[0]),
    )
    .await;
    let expected = fact(
        t,
        "SELECT COUNT(DISTINCT pc.product_id) FROM product_categories pc
         JOIN categories c ON c.id = pc.category_id
         JOIN products p ON p.id = pc.product_id AND p.parent_id = 0
         WHERE c.id = (SELECT c.id FROM categories c WHERE c.parent_id = 0
                         AND EXISTS (SELECT 1 FROM categories s WHERE s.parent_id = c.id)
                       ORDER BY c.id LIMIT 1)
            OR c.parent_id = (SELECT c.id FROM categories c WHERE c.parent_id = 0
                         AND EXISTS (SELECT 1 FROM categories s WHERE s.parent_id = c.id)
                       ORDER BY c.id LIMIT 1)",
    )
    .await;
    assert_eq!(
        page["total"].as_i64().unwrap(),
        expected[0].parse::<i64>().unwrap()
    );

    // Price order is by the price charged now.
    let p = ok(t, "/api/products?sort=-price&per_page=20").await;
    let prices: Vec<f64> = p["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["price"].as_str()?.parse().ok())
        .collect();
    assert!(prices.windows(2).all(|w| w[0] >= w[1]), "{prices:?}");
    t_stop(shop).await;
}

#[tokio::test]
async fn the_index_follows_renames_and_deletions() {
    let shop = pulled_shop().await;
    let t = &shop.t;
    let torch = shop.torch;
    t.store()
        .write(move |tx| {
            tx.execute(
                "UPDATE products SET name = 'Blowtorch Deluxe' WHERE id = ?1",
                [torch],
            )?;
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(ok(t, "/api/products?q=creme+brulee").await["total"], 0);
    assert_eq!(ids(&ok(t, "/api/products?q=blowt").await), [torch]);

    t.store()
        .write(move |tx| {
            tx.execute("DELETE FROM products WHERE id = ?1", [torch])?;
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(ok(t, "/api/products?q=blowt").await["total"], 0);
    assert_eq!(ok(t, "/api/products?sku=CRB-Torch-1").await["total"], 0);
    // Nothing is left waiting to be indexed.
    assert_eq!(fact(t, "SELECT COUNT(*) FROM search_dirty").await, ["0"]);
    t_stop(shop).await;
}

async fn t_stop(shop: super::Shop) {
    shop.t.stop().await;
}
