//! The Queue and Events tabs over real HTTP: filters and keyset paging,
//! a sale the shop refused retried from the page once the cause is gone,
//! a queued sale discarded with its stock given back, a refused discard
//! that changes nothing, the events export, and bad parameters named.

use std::time::Duration;

use possync::domain::outbox::{EntryState, OutboxEntry};
use possync::store::events::{self, Level};
use possync::store::outbox;
use possync_sim::woo::{FaultKind, FaultRule, Sim, SimHandle};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{Shop, sources, store_section};
use crate::common::{small_sim, wait_for};

pub const WITHIN: Duration = Duration::from_secs(30);

/// The code the shop's order-screening plugin refuses a sale with.
pub const REFUSAL_CODE: &str = "pos_order_held";

/// A shop with a mug (10.00, 20 in stock) and an agent that has pulled it.
pub async fn shelf_shop() -> (Shop, i64) {
    let sim = Sim::spawn(small_sim()).await.unwrap();
    let mug = sim.add_simple_product("Queue mug", "QUEUE-MUG", "10.00", Some(20));
    let dir = tempfile::tempdir().unwrap();
    let src = sources(dir.path(), &store_section("store", &sim), &[]);
    let shop = Shop::start(sim, dir, src).await;
    shop.pulled().await;
    (shop, mug)
}

/// The shop's screening plugin refuses the next order posted to it.
pub fn refuse_next_sale(sim: &SimHandle) {
    sim.inject(
        FaultRule::new(FaultKind::Refused {
            status: 400,
            code: REFUSAL_CODE.to_owned(),
            message: "Orders from this terminal are held for review.".to_owned(),
        })
        .path("/wc/v3/orders")
        .method("POST"),
    );
}

/// Rings up `qty` of `product` (for `customer`, an upstream id); returns
/// the outbox id and the receipt number.
pub async fn sell(shop: &Shop, product: i64, qty: i64, customer: Option<i64>) -> (Uuid, String) {
    let mut body =
        json!({"lines": [{"product_id": product, "quantity": qty}], "payment_method": "cash"});
    if let Some(c) = customer {
        body["customer_id"] = json!(c);
    }
    let res = shop
        .till
        .post(shop.url("/api/orders"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    let v: Value = res.json().await.unwrap();
    (
        Uuid::parse_str(v["outbox_id"].as_str().unwrap()).unwrap(),
        v["number"].as_str().unwrap().to_owned(),
    )
}

pub async fn entry(shop: &Shop, id: Uuid) -> OutboxEntry {
    shop.app
        .store()
        .read(move |c| outbox::get(c, id))
        .await
        .unwrap()
        .expect("the entry exists")
}

pub async fn wait_state(shop: &Shop, id: Uuid, state: EntryState) -> OutboxEntry {
    wait_for(&format!("entry {id} to be {state}"), WITHIN, || async {
        let e = entry(shop, id).await;
        (e.state == state).then_some(e)
    })
    .await
}

/// What the till can sell of `product`, as a lookup answers.
pub async fn available(shop: &Shop, product: i64) -> i64 {
    let v: Value = shop
        .till
        .get(shop.url(&format!("/api/products/{product}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["stock"]["available"].as_i64().unwrap()
}

/// No replay: what the till sells stays queued.
async fn deactivate(shop: &Shop) {
    let (status, page) = shop.post_form("/instance/deactivate", &[]).await;
    assert_eq!(status, 303, "{page}");
}

/// The `seq` of every row of a queue page, in page order.
fn seqs(html: &str) -> Vec<i64> {
    html.split("<tr id=\"entry-")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().parse().unwrap())
        .collect()
}

/// The target of the link `id` (`older`, `newer`), unescaped.
fn link(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let start = html[..at].rfind("href=\"")? + 6;
    let end = start + html[start..].find('"')?;
    Some(html[start..end].replace("&#38;", "&"))
}

/// The row of entry `seq`.
fn row(html: &str, seq: i64) -> &str {
    let start = html
        .find(&format!("<tr id=\"entry-{seq}\""))
        .unwrap_or_else(|| panic!("no row {seq} in {html}"));
    let end = start + html[start..].find("</tr>").unwrap();
    &html[start..end]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_is_filtered_by_state_and_kind_and_paged_stably() {
    let (shop, mug) = shelf_shop().await;
    deactivate(&shop).await;
    let customer = shop.sim.customer_ids()[0];
    let named = shop.sim.customer(customer).unwrap();
    let name = format!(
        "{} {}",
        named["first_name"].as_str().unwrap(),
        named["last_name"].as_str().unwrap()
    );
    let (with_customer, number) = sell(&shop, mug, 2, Some(customer)).await;
    let res = shop
        .till
        .post(shop.url("/api/customers"))
        .json(&json!({"email": "queue.page@example.com", "first_name": "Queue"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    for _ in 0..51 {
        sell(&shop, mug, 1, None).await;
    }
    let first = entry(&shop, with_customer).await.seq;

    // A sale's row shows its receipt, total and customer.
    let (status, all_sales) = shop.page("/queue?kind=sale").await;
    assert_eq!(status, 200);
    let (_, oldest_sales) = shop
        .page(&link(&all_sales, "older").expect("an older page"))
        .await;
    let sale_row = row(&oldest_sales, first);
    assert!(sale_row.contains(&number), "{sale_row}");
    assert!(sale_row.contains("20.00"), "{sale_row}");
    assert!(sale_row.contains(&name), "{sale_row}");
    assert!(sale_row.contains(">queued<"), "{sale_row}");

    // Kind: only the customer; state: none confirmed.
    let (_, customers) = shop.page("/queue?kind=customer_create").await;
    assert_eq!(seqs(&customers), vec![first + 1]);
    assert!(customers.contains("New customer"));
    let (_, confirmed) = shop.page("/queue?state=confirmed&kind=sale").await;
    assert!(seqs(&confirmed).is_empty());
    assert!(confirmed.contains("No entry matches."));

    // Paging: 50 newest, then the rest; sales arriving meanwhile shift nothing.
    let (_, page1) = shop.page("/queue?state=queued").await;
    let p1 = seqs(&page1);
    assert_eq!(p1.len(), 50);
    assert!(p1.windows(2).all(|w| w[0] > w[1]), "newest first: {p1:?}");
    assert!(link(&page1, "newer").is_none());
    let older = link(&page1, "older").expect("an older page");
    assert!(older.contains("state=queued"), "{older}");
    sell(&shop, mug, 1, None).await;
    sell(&shop, mug, 1, None).await;
    let (_, page2) = shop.page(&older).await;
    let p2 = seqs(&page2);
    assert_eq!(p2, (first..first + 3).rev().collect::<Vec<_>>());
    assert!(link(&page2, "older").is_none());
    let (_, back) = shop.page(&link(&page2, "newer").unwrap()).await;
    assert_eq!(seqs(&back), p1, "the same page as before the new sales");
    assert!(link(&back, "newer").is_some(), "the new sales are above it");
    shop.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_sale_is_retried_from_the_page_once_the_cause_is_fixed() {
    let (shop, mug) = shelf_shop().await;
    refuse_next_sale(&shop.sim);
    let (id, number) = sell(&shop, mug, 1, None).await;
    let parked = wait_state(&shop, id, EntryState::Rejected).await;

    let (_, rejected) = shop.page("/queue?state=rejected").await;
    let r = row(&rejected, parked.seq);
    assert!(r.contains(&number), "{r}");
    assert!(r.contains(REFUSAL_CODE), "{r}");
    assert!(r.contains("held for review"), "{r}");
    assert!(r.contains(&format!("/queue/{id}/retry")), "{r}");

    // The plugin's rule is lifted (the injected refusal is spent): retry.
    let (status, page) = shop
        .post_form(&format!("/queue/{id}/retry"), &[("state", "rejected")])
        .await;
    assert_eq!(status, 303);
    assert!(page.contains("is queued again"), "{page}");
    let sent = wait_state(&shop, id, EntryState::Confirmed).await;
    assert!(sent.upstream_id.is_some());
    let (_, confirmed) = shop.page("/queue?state=confirmed").await;
    assert!(seqs(&confirmed).contains(&sent.seq));

    // Discarding what the shop has is refused, with the store's reason.
    let (status, page) = shop.post_form(&format!("/queue/{id}/discard"), &[]).await;
    assert_eq!(status, 303);
    assert!(
        page.contains("Refused: entry")
            && page.contains("only queued or rejected entries can be discarded"),
        "{page}"
    );
    assert!(page.contains("Nothing was changed."));
    assert_eq!(entry(&shop, id).await.state, EntryState::Confirmed);
    shop.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discarding_a_queued_sale_from_the_page_gives_its_stock_back() {
    let (shop, mug) = shelf_shop().await;
    deactivate(&shop).await;
    assert_eq!(available(&shop, mug).await, 20);
    let (id, number) = sell(&shop, mug, 3, None).await;
    assert_eq!(available(&shop, mug).await, 17);

    let (_, page) = shop.page("/queue").await;
    let seq = entry(&shop, id).await.seq;
    let r = row(&page, seq);
    assert!(
        r.contains("data-confirm=\"Discard sale") && r.contains("its stock is given back"),
        "the confirmation says what a discard reverses: {r}"
    );
    let (status, page) = shop.post_form(&format!("/queue/{id}/discard"), &[]).await;
    assert_eq!(status, 303);
    assert!(page.contains(&format!("Discarded sale {number}")), "{page}");
    assert!(page.contains("its stock is given back"), "{page}");
    assert_eq!(entry(&shop, id).await.state, EntryState::Discarded);
    assert_eq!(available(&shop, mug).await, 20);
    shop.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_events_log_is_filtered_paged_and_exported_as_csv() {
    let (shop, _) = shelf_shop().await;
    shop.app
        .store()
        .write(|tx| {
            for i in 0..55 {
                events::append(
                    tx,
                    i,
                    Level::Warn,
                    "queue_test",
                    Some("orders"),
                    &format!("warning {i}"),
                )?;
            }
            events::append(
                tx,
                60,
                Level::Error,
                "queue_test",
                None,
                "<script>alert(1)</script>, \"quoted\"",
            )?;
            events::append(tx, 61, Level::Info, "queue_test", None, "an info line")?;
            Ok(())
        })
        .await
        .unwrap();

    let (status, page) = shop.page("/events?level=warn&kind=queue_test").await;
    assert_eq!(status, 200);
    assert_eq!(page.matches("<tr class=\"level-warn\">").count(), 50);
    assert!(page.contains("warning 54") && !page.contains("warning 4<"));
    assert!(!page.contains("an info line"));
    let (_, older) = shop.page(&link(&page, "older").unwrap()).await;
    assert_eq!(older.matches("<tr class=\"level-warn\">").count(), 5);
    assert!(older.contains("warning 0<"));

    let (_, errors) = shop.page("/events?level=error").await;
    assert!(errors.contains("&#60;script&#62;alert(1)&#60;/script&#62;"));
    assert!(!errors.contains("<script>alert"));

    let res = shop
        .http
        .get(shop.url("/events.csv?level=warn&kind=queue_test"))
        .header("cookie", &shop.session.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let body = res.text().await.unwrap();
    let mut lines = body.lines();
    assert_eq!(
        lines.next(),
        Some("id,time_utc,level,kind,resource,message")
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 55);
    assert!(rows.iter().all(|r| r.contains(",warn,queue_test,orders,")));
    assert!(rows[0].ends_with(",warning 54"));

    let (_, csv) = shop.page("/events.csv?level=error&kind=queue_test").await;
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let only: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(only.len(), 1);
    assert_eq!(&only[0][5], "<script>alert(1)</script>, \"quoted\"");
    shop.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_list_parameters_are_refused_naming_them() {
    let (shop, mug) = shelf_shop().await;
    deactivate(&shop).await;
    let (id, _) = sell(&shop, mug, 1, None).await;
    let long = "q".repeat(65);
    for (path, field) in [
        ("/queue?state=lost".to_owned(), "state"),
        ("/queue?kind=gift".to_owned(), "kind"),
        ("/queue?before=abc".to_owned(), "before"),
        ("/queue?after=-1".to_owned(), "after"),
        ("/queue?before=3&after=1".to_owned(), "after"),
        (format!("/queue?state={long}"), "state"),
        ("/queue?colour=red".to_owned(), "colour"),
        ("/queue?state=queued&state=rejected".to_owned(), "state"),
        ("/events?level=loud".to_owned(), "level"),
        ("/events?kind=%3Cb%3E".to_owned(), "kind"),
        ("/events?before=1e3".to_owned(), "before"),
        ("/events.csv?level=x".to_owned(), "level"),
        ("/events.csv?before=3".to_owned(), "before"),
        (format!("/events?{}", "kind=a&".repeat(200)), "query"),
    ] {
        let (status, body) = shop.page(&path).await;
        assert_eq!(status, 400, "{path}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["error"]["code"], "invalid_parameter", "{path}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains(field),
            "{path} names {field}: {body}"
        );
    }
    assert_eq!(
        entry(&shop, id).await.state,
        EntryState::Queued,
        "nothing changed"
    );
    shop.stop().await;
}
