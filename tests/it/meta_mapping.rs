//! The meta-mapping page end to end: a manager maps a product meta key of
//! the simulated shop to the brand and another to a label, the catalog is
//! re-indexed in the background, and a till lookup answers with both.
//! Refused input answers 4xx with the reason and leaves the mappings as
//! they were.

use std::time::Duration;

use possync::api::security::password;
use possync::store::{access, meta};
use serde_json::{Value, json};

use crate::common::{TestApp, assert_completed, small_sim, wait_for};
use crate::security::{PASSWORD, Session, bare_client, login_at};

/// A form's fields, as posted.
type Fields<'a> = &'a [(&'a str, &'a str)];

/// Posts the mapping form as the page does; returns the status and body.
async fn post_form(
    http: &reqwest::Client,
    url: &str,
    session: &Session,
    fields: &[(&str, &str)],
) -> (u16, String) {
    let res = http
        .post(url)
        .header("cookie", &session.cookie)
        .form(fields)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test]
async fn mapped_brand_and_label_reach_till_lookups_after_the_reindex() {
    // Arrange: a product carrying a brand, an origin and a note with markup.
    let sim = possync_sim::woo::Sim::spawn(small_sim())
        .await
        .expect("sim starts");
    let id = sim.add_simple_product("Copper Kettle", "KET-CU-1", "39.00", Some(4));
    sim.update_product(
        id,
        json!({"meta_data": [
            {"key": "_brand", "value": "Acme Kitchen"},
            {"key": "_origin", "value": "Italy"},
            {"key": "_note", "value": "<b>fragile</b>"},
        ]}),
    )
    .expect("the sim takes the meta data");
    let t = TestApp::spawn_with_sim(sim, |_| {}).await;
    assert_completed(&t.pulled().await);
    let phc = password::hash(PASSWORD);
    t.store()
        .write(move |tx| access::set_admin_password(tx, &phc, 1))
        .await
        .unwrap();
    let http = bare_client();
    let base = t.app.url();
    let session = login_at(&http, &base).await;
    let page_url = format!("{base}/settings/meta");

    // The page lists the keys seen, with counts and escaped examples.
    let page = http
        .get(&page_url)
        .header("cookie", &session.cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("<code>_brand</code>"), "{page}");
    assert!(page.contains("<code>Acme Kitchen</code>"), "{page}");
    assert!(page.contains("&#60;b&#62;fragile") || page.contains("&lt;b&gt;fragile"));
    assert!(!page.contains("<b>fragile</b>"));
    assert!(page.contains(r#"<label for="map-key">"#), "{page}");
    assert!(page.contains(r#"data-live="/settings/meta/progress""#));

    // Act: map the brand.
    let csrf = session.csrf.clone();
    let (status, _) = post_form(
        &http,
        &page_url,
        &session,
        &[
            ("csrf_token", &csrf),
            ("meta_key", "_brand"),
            ("field", "brand"),
            ("label", ""),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let before = t.store().read(meta::mappings).await.unwrap();
    assert_eq!(before.len(), 1);

    // Refused input: the reason, a 4xx, and no change.
    let long_key = "k".repeat(101);
    let long_label = "L".repeat(41);
    let cases: [(Fields, u16, &str); 6] = [
        (
            &[("meta_key", "_origin"), ("field", "colour"), ("label", "")],
            422,
            "Field must be one of barcode, brand, bin_location, label",
        ),
        (
            &[("meta_key", "  "), ("field", "brand"), ("label", "")],
            422,
            "Meta key has a key that is empty",
        ),
        (
            &[("meta_key", "_origin"), ("field", "label"), ("label", "")],
            422,
            "a label mapping needs a label name",
        ),
        (
            &[("meta_key", &long_key), ("field", "brand"), ("label", "")],
            422,
            "longer than 100 characters",
        ),
        (
            &[
                ("meta_key", "_origin"),
                ("field", "label"),
                ("label", &long_label),
            ],
            422,
            "must be at most 40 characters",
        ),
        (
            &[("meta_key", "_ean"), ("field", "barcode"), ("label", "")],
            409,
            "possync.toml lists it in lookup.barcode_meta_keys",
        ),
    ];
    for (fields, expected, message) in cases {
        let mut with_csrf = vec![("csrf_token", csrf.as_str())];
        with_csrf.extend_from_slice(fields);
        let (status, body) = post_form(&http, &page_url, &session, &with_csrf).await;
        assert_eq!(status, expected, "{fields:?}: {body}");
        assert!(body.contains(message), "{fields:?}: {message} in {body}");
        assert_eq!(t.store().read(meta::mappings).await.unwrap(), before);
    }
    // Without the CSRF token, the security layer refuses it.
    let (status, body) = post_form(
        &http,
        &page_url,
        &session,
        &[("meta_key", "_origin"), ("field", "brand")],
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("CSRF"), "{body}");
    // Removing a key that is not mapped here.
    let (status, body) = post_form(
        &http,
        &format!("{base}/settings/meta/remove"),
        &session,
        &[("csrf_token", &csrf), ("meta_key", "_nothing")],
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert!(
        body.contains("_nothing is not mapped on this page"),
        "{body}"
    );
    assert_eq!(t.store().read(meta::mappings).await.unwrap(), before);

    // Map the origin to a label.
    let (status, _) = post_form(
        &http,
        &page_url,
        &session,
        &[
            ("csrf_token", &csrf),
            ("meta_key", "_origin"),
            ("field", "label"),
            ("label", "Origin"),
        ],
    )
    .await;
    assert_eq!(status, 303);

    // The re-index ends (its JSON status says so).
    let status_url = "/api/meta-mapping/status";
    let done = wait_for("the re-index to end", Duration::from_secs(30), || async {
        let (code, body) = t.get_json(status_url).await;
        assert_eq!(code, 200, "{body}");
        (body["reindex"]["state"] == "done").then_some(body)
    })
    .await;
    assert_eq!(done["reindex"]["done"], done["reindex"]["total"]);
    let sources: Vec<(String, String)> = done["mappings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["meta_key"].as_str().unwrap().to_owned(),
                m["source"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for pair in [("_ean", "config"), ("_brand", "page"), ("_origin", "page")] {
        assert!(
            sources.contains(&(pair.0.to_owned(), pair.1.to_owned())),
            "{sources:?}"
        );
    }
    // The page's live line says so too.
    let line = http
        .get(format!("{base}/settings/meta/progress"))
        .header("cookie", &session.cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(line.contains("up to date"), "{line}");

    // Assert: the till's lookups carry the brand and the label.
    let (code, by_sku) = t.get_json("/api/products?sku=KET-CU-1").await;
    assert_eq!(code, 200);
    let item: &Value = &by_sku["items"][0];
    assert_eq!(item["id"], id);
    assert_eq!(item["brand"], "Acme Kitchen");
    assert_eq!(item["labels"]["Origin"], "Italy");
    let (_, one) = t.get_json(&format!("/api/products/{id}")).await;
    assert_eq!(one["brand"], "Acme Kitchen");
    assert_eq!(one["labels"], json!({"Origin": "Italy"}));
    // A product without the keys has neither.
    let (_, others) = t.get_json("/api/products?per_page=5").await;
    let other = others["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] != id)
        .unwrap();
    assert!(other.get("brand").is_none() && other.get("labels").is_none());
}
