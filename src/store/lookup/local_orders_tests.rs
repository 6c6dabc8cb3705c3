//! The returns desk over the shop's orders and this till's own sales, on a
//! real replica file: which source lists a sale, paging across both, and
//! each return counted once in what a line can still give back.

use rusqlite::types::Value;
use uuid::Uuid;

use super::super::orders::{find, search};
use crate::domain::lookup::query::{OrderKey, OrderQuery, OrderSort, PageRequest, SearchText};
use crate::domain::lookup::views::{OrderDetail, OrderSource, OrderSummary, Page};
use crate::domain::outbox::EntryState;
use crate::store::Store;

struct Replica {
    _dir: tempfile::TempDir,
    store: Store,
}

impl Replica {
    fn open() -> Replica {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("replica.db")).unwrap();
        Replica { _dir: dir, store }
    }

    async fn exec(&self, sql: &'static str, values: Vec<Value>) {
        self.store
            .write(move |tx| {
                tx.execute(sql, rusqlite::params_from_iter(values))?;
                Ok(())
            })
            .await
            .unwrap();
    }

    /// A mirrored shop order with a billing address.
    async fn shop_order(&self, id: i64, created: &str, email: &str) {
        self.exec(
            "INSERT INTO orders (id, number, status, total, date_created_gmt, date_modified_gmt,
                                 raw, synced_at)
             VALUES (?1, ?1, 'processing', '30.00', ?2, ?2, '{}', 0)",
            vec![id.into(), created.to_owned().into()],
        )
        .await;
        self.exec(
            "INSERT INTO order_addresses (order_id, kind, first_name, last_name, email, phone)
             VALUES (?1, 'billing', 'Shop', 'Buyer', ?2, '')",
            vec![id.into(), email.to_owned().into()],
        )
        .await;
    }

    async fn shop_line(&self, order: i64, item: i64, qty: i64) {
        self.exec(
            "INSERT INTO order_line_items (order_id, id, name, product_id, quantity, subtotal,
                                           subtotal_tax, total, total_tax)
             VALUES (?1, ?2, 'Mug', 7, ?3, '10', '0', '10', '0')",
            vec![order.into(), item.into(), qty.into()],
        )
        .await;
    }

    /// A refund the replica mirrors, returning `qty` of line `item`.
    async fn shop_refund(&self, id: i64, order: i64, item: i64, qty: i64) {
        self.exec(
            "INSERT INTO refunds (id, order_id, amount, raw, synced_at) VALUES (?1, ?2, '10', '{}', 0)",
            vec![id.into(), order.into()],
        )
        .await;
        self.exec(
            "INSERT INTO refund_line_items (refund_id, id, refunded_item_id, product_id, quantity,
                                            subtotal, total, total_tax)
             VALUES (?1, 1, ?2, 7, -?3, '-10', '-10', '0')",
            vec![id.into(), item.into(), qty.into()],
        )
        .await;
    }

    async fn entry(&self, kind: &'static str, state: EntryState, payload: &str) -> String {
        let id = Uuid::new_v4().to_string();
        self.exec(
            "INSERT INTO outbox (id, seq, kind, subject, label, state, payload, next_attempt_at,
                                 created_at, updated_at)
             VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM outbox), ?2, 's', 'l', ?3, ?4,
                     0, 0, 0)",
            vec![
                id.clone().into(),
                kind.to_owned().into(),
                state.as_str().to_owned().into(),
                payload.to_owned().into(),
            ],
        )
        .await;
        id
    }

    /// A sale rung up here: receipt `T9-00000{n}`, one line of `qty` mugs.
    async fn sale(&self, n: i64, sold_at_secs: i64, s: Sold) -> Uuid {
        let entry = self
            .entry("sale", s.state, r#"{"kind":"sale","status":"completed"}"#)
            .await;
        let id = Uuid::new_v4();
        self.exec(
            "INSERT INTO local_orders (id, number, number_text, outbox_id, billing, paid, total,
                                       sold_at, upstream_id, upstream_number)
             VALUES (?1, ?2, printf('T9-%06d', ?2), ?3, ?4, 1, '20.00', ?5, ?6, ?6)",
            vec![
                id.to_string().into(),
                n.into(),
                entry.into(),
                s.billing.to_owned().into(),
                (sold_at_secs * 1000).into(),
                s.upstream.into(),
            ],
        )
        .await;
        self.exec(
            "INSERT INTO local_order_lines (order_id, line_no, product_id, stock_id, name, quantity,
                                            unit_price, total, upstream_line_id)
             VALUES (?1, 1, 7, 7, 'Mug', ?2, '10.00', '20.00', ?3)",
            vec![id.to_string().into(), s.qty.into(), s.upstream_line.into()],
        )
        .await;
        id
    }

    /// A return made here of `qty` of line `line_ref` (a line number of a
    /// sale made here, or the shop's line item of an order).
    async fn local_return(&self, of: Of, line_ref: i64, qty: i64, r: Ret) -> Uuid {
        let entry = self.entry("refund", r.state, "{}").await;
        let (sale, order) = match of {
            Of::Sale(u) => (Value::from(u.to_string()), Value::Null),
            Of::Order(o) => (Value::Null, Value::from(o)),
        };
        let id = Uuid::new_v4();
        self.exec(
            "INSERT INTO local_refunds (id, outbox_id, order_local_id, order_id, amount, restock,
                                        created_at, upstream_id)
             VALUES (?1, ?2, ?3, ?4, '10.00', 1, (SELECT COUNT(*) * 1000 FROM local_refunds), ?5)",
            vec![
                id.to_string().into(),
                entry.into(),
                sale,
                order,
                r.upstream.into(),
            ],
        )
        .await;
        self.exec(
            "INSERT INTO local_refund_lines (refund_id, line_ref, product_id, stock_id, quantity,
                                             amount)
             VALUES (?1, ?2, 7, 7, ?3, '10.00')",
            vec![id.to_string().into(), line_ref.into(), qty.into()],
        )
        .await;
        id
    }

    async fn search(
        &self,
        q: Option<&str>,
        sort: OrderSort,
        page: u32,
        per_page: u32,
    ) -> Page<OrderSummary> {
        let query = OrderQuery {
            text: q.map(|q| SearchText::parse(q).unwrap()),
            statuses: None,
            shipping_methods: None,
            sort,
            page: PageRequest { page, per_page },
        };
        self.query(query).await
    }

    async fn query(&self, query: OrderQuery) -> Page<OrderSummary> {
        self.store.read(move |c| search(c, &query)).await.unwrap()
    }

    async fn find(&self, key: OrderKey) -> Option<OrderDetail> {
        self.store.read(move |c| find(c, &key)).await.unwrap()
    }
}

#[derive(Clone, Copy)]
struct Sold {
    state: EntryState,
    upstream: Option<i64>,
    upstream_line: Option<i64>,
    qty: i64,
    billing: &'static str,
}

/// A billing address as a sale stores it (every field).
const ADA: &str = r#"{"first_name":"Ada","last_name":"Byron","company":"","address_1":"","address_2":"","city":"","state":"","postcode":"","country":"GB","email":"ada@example.com","phone":"+44 20 7946 0018"}"#;

impl Default for Sold {
    fn default() -> Self {
        Sold {
            state: EntryState::Queued,
            upstream: None,
            upstream_line: None,
            qty: 2,
            billing: ADA,
        }
    }
}

#[derive(Clone, Copy)]
enum Of {
    Sale(Uuid),
    Order(i64),
}

#[derive(Clone, Copy)]
struct Ret {
    state: EntryState,
    upstream: Option<i64>,
}

const QUEUED: Ret = Ret {
    state: EntryState::Queued,
    upstream: None,
};

/// Sources and keys of a page, in order.
fn keys(page: &Page<OrderSummary>) -> Vec<(OrderSource, Option<i64>, Option<String>)> {
    page.items
        .iter()
        .map(|o| (o.source, o.id, o.local_number.clone()))
        .collect()
}

fn local(number: &str) -> (OrderSource, Option<i64>, Option<String>) {
    (OrderSource::Local, None, Some(number.to_owned()))
}

#[tokio::test]
async fn a_receipt_number_finds_a_sale_whole_by_its_beginning_and_in_any_case_exact_first() {
    let r = Replica::open();
    for n in [1, 10, 11] {
        r.sale(n, 1_700_000_000 + n, Sold::default()).await;
    }
    // Past a million sales the numbers grow a digit: T9-000001 is then
    // the beginning of a newer one.
    let later = r.sale(12, 1_700_000_012, Sold::default()).await;
    r.exec(
        "UPDATE local_orders SET number_text = 'T9-0000012' WHERE id = ?1",
        vec![later.to_string().into()],
    )
    .await;
    r.shop_order(500, "2026-01-01T10:00:00", "t9@example.com")
        .await;

    let exact = r
        .search(Some("t9-000010"), OrderSort::Relevance, 1, 20)
        .await;
    assert_eq!(keys(&exact), vec![local("T9-000010")]);
    assert_eq!(exact.total, 1);

    let prefix = r
        .search(Some("T9-00001"), OrderSort::Relevance, 1, 20)
        .await;
    assert_eq!(
        keys(&prefix),
        vec![local("T9-000011"), local("T9-000010")],
        "newest first among prefix matches"
    );
    let word = r
        .search(Some("t9-000001"), OrderSort::Relevance, 1, 20)
        .await;
    assert_eq!(
        keys(&word),
        vec![local("T9-000001"), local("T9-0000012")],
        "the whole number before a newer one it begins"
    );
    assert_eq!(word.items[0].sync_state, Some(EntryState::Queued));
    assert_eq!(word.items[0].number, "T9-000001");
    assert_eq!(word.items[0].status, "completed");
    assert_eq!(word.items[0].item_count, 2);
    assert_eq!(word.items[0].email.as_deref(), Some("ada@example.com"));

    let none = r.search(Some("T8-0000"), OrderSort::Relevance, 1, 20).await;
    assert_eq!(none.total, 0);
}

#[tokio::test]
async fn a_sale_the_shop_has_is_listed_once_as_its_order_and_still_found_by_its_receipt_number() {
    let r = Replica::open();
    let sold = r
        .sale(
            1,
            1_700_000_000,
            Sold {
                state: EntryState::Confirmed,
                upstream: Some(900),
                upstream_line: Some(9001),
                billing: r#"{"email":"web@example.com"}"#,
                ..Sold::default()
            },
        )
        .await;
    r.shop_order(900, "2026-01-02T10:00:00", "web@example.com")
        .await;
    r.shop_order(901, "2026-01-01T10:00:00", "other@example.com")
        .await;

    let by_number = r
        .search(Some("t9-000001"), OrderSort::Relevance, 1, 20)
        .await;
    assert_eq!(by_number.total, 1);
    let o = &by_number.items[0];
    assert_eq!(
        (o.source, o.id, o.local_id, o.local_number.as_deref()),
        (
            OrderSource::Upstream,
            Some(900),
            Some(sold),
            Some("T9-000001")
        )
    );
    assert_eq!(o.sync_state, Some(EntryState::Confirmed));

    // The shop's own index finds it by email: once, not again as a sale.
    let by_email = r
        .search(Some("web@example.com"), OrderSort::Relevance, 1, 20)
        .await;
    assert_eq!(keys(&by_email).len(), 1);
    assert_eq!(by_email.items[0].id, Some(900));

    // Found both by the shop's text index and by the receipt number of the
    // sale behind it: still once.
    r.exec(
        "UPDATE order_addresses SET email = 't9-000001@example.com' WHERE order_id = 900",
        vec![],
    )
    .await;
    let both = r
        .search(Some("T9-000001"), OrderSort::Relevance, 1, 20)
        .await;
    assert_eq!((both.total, both.items.len()), (1, 1), "{:?}", keys(&both));

    let all = r.search(None, OrderSort::Newest, 1, 20).await;
    assert_eq!(all.total, 2);
    assert_eq!(
        all.items.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![Some(900), Some(901)]
    );
    assert_eq!(all.items[1].local_id, None, "not sold here");
}

#[tokio::test]
async fn a_confirmed_sale_outside_the_mirrored_window_is_found_by_its_receipt_number_only() {
    let r = Replica::open();
    r.sale(
        1,
        1_600_000_000,
        Sold {
            state: EntryState::Confirmed,
            upstream: Some(77),
            upstream_line: Some(7701),
            ..Sold::default()
        },
    )
    .await;

    let found = r
        .search(Some("T9-000001"), OrderSort::Relevance, 1, 20)
        .await;
    assert_eq!(
        keys(&found),
        vec![(OrderSource::Local, Some(77), Some("T9-000001".to_owned()))]
    );
    assert_eq!(
        found.items[0].number, "77",
        "the shop's number once it has one"
    );
    assert_eq!(
        r.search(Some("ada"), OrderSort::Relevance, 1, 20)
            .await
            .total,
        0
    );
    assert_eq!(r.search(None, OrderSort::Newest, 1, 20).await.total, 0);
}

#[tokio::test]
async fn unconfirmed_sales_are_found_by_billing_name_email_and_phone() {
    let r = Replica::open();
    r.sale(1, 1_700_000_000, Sold::default()).await;
    r.sale(
        2,
        1_700_000_001,
        Sold {
            billing: r#"{"first_name":"Grace","email":"grace@example.com","phone":""}"#,
            ..Sold::default()
        },
    )
    .await;
    r.sale(
        3,
        1_700_000_002,
        Sold {
            billing: "null",
            ..Sold::default()
        },
    )
    .await;

    for q in [
        "ada",
        "Ada Byron",
        "ada@example.com",
        "020 7946 0018",
        "7946",
    ] {
        let page = r.search(Some(q), OrderSort::Relevance, 1, 20).await;
        assert_eq!(keys(&page), vec![local("T9-000001")], "{q:?}");
    }
    let grace = r.search(Some("grace"), OrderSort::Relevance, 1, 20).await;
    assert_eq!(keys(&grace), vec![local("T9-000002")]);
    assert_eq!(
        r.search(Some("lovelace"), OrderSort::Relevance, 1, 20)
            .await
            .total,
        0
    );
}

#[tokio::test]
async fn discarded_sales_are_neither_listed_nor_shown() {
    let r = Replica::open();
    let gone = r
        .sale(
            1,
            1_700_000_000,
            Sold {
                state: EntryState::Discarded,
                ..Sold::default()
            },
        )
        .await;
    r.sale(
        2,
        1_700_000_001,
        Sold {
            state: EntryState::Rejected,
            ..Sold::default()
        },
    )
    .await;
    let all = r.search(None, OrderSort::Newest, 1, 20).await;
    assert_eq!(keys(&all), vec![local("T9-000002")], "a parked sale stays");
    assert_eq!(all.items[0].sync_state, Some(EntryState::Rejected));
    assert_eq!(
        r.search(Some("T9-000001"), OrderSort::Relevance, 1, 20)
            .await
            .total,
        0
    );
    assert!(r.find(OrderKey::Local(gone)).await.is_none());
    assert!(
        r.find(OrderKey::Receipt("T9-000001".into()))
            .await
            .is_none()
    );
}

#[tokio::test]
async fn pages_and_total_run_across_both_sources_in_date_order() {
    let r = Replica::open();
    // Shop orders on days 1, 3, 5; sales here on days 2 and 4 (2026-01).
    for (id, day) in [(101, 1), (103, 3), (105, 5)] {
        r.shop_order(id, &format!("2026-01-0{day}T12:00:00"), "x@example.com")
            .await;
    }
    let day = |d: i64| 1_767_225_600 + (d - 1) * 86_400 + 43_200;
    r.sale(2, day(2), Sold::default()).await;
    r.sale(4, day(4), Sold::default()).await;

    let mut newest = Vec::new();
    for page in 1..=3 {
        let p = r.search(None, OrderSort::Newest, page, 2).await;
        assert_eq!(p.total, 5);
        newest.extend(keys(&p));
    }
    let up = |id| (OrderSource::Upstream, Some(id), None);
    assert_eq!(
        newest,
        vec![
            up(105),
            local("T9-000004"),
            up(103),
            local("T9-000002"),
            up(101)
        ]
    );
    let oldest = r.search(None, OrderSort::Oldest, 2, 2).await;
    assert_eq!(keys(&oldest), vec![up(103), local("T9-000004")]);

    // Status filter: the sales here are sent as completed.
    let mut q = OrderQuery {
        text: None,
        statuses: Some(vec!["processing".to_owned()]),
        shipping_methods: None,
        sort: OrderSort::Newest,
        page: PageRequest::default(),
    };
    assert_eq!(r.query(q.clone()).await.total, 3);
    q.statuses = Some(vec!["completed".to_owned()]);
    assert_eq!(
        keys(&r.query(q.clone()).await),
        vec![local("T9-000004"), local("T9-000002")]
    );
    // Pickups are the shop's orders only.
    q.statuses = None;
    q.shipping_methods = Some(vec!["local_pickup".to_owned()]);
    assert_eq!(r.query(q).await.total, 0);
}

#[tokio::test]
async fn a_sale_here_shows_its_lines_numbered_with_what_is_left_to_return() {
    let r = Replica::open();
    let sale = r
        .sale(
            1,
            1_700_000_000,
            Sold {
                qty: 3,
                ..Sold::default()
            },
        )
        .await;
    r.local_return(Of::Sale(sale), 1, 1, QUEUED).await;
    r.local_return(
        Of::Sale(sale),
        1,
        1,
        Ret {
            state: EntryState::Rejected,
            upstream: None,
        },
    )
    .await;
    r.local_return(
        Of::Sale(sale),
        1,
        1,
        Ret {
            state: EntryState::Discarded,
            upstream: None,
        },
    )
    .await;

    for key in [OrderKey::Local(sale), OrderKey::Receipt("t9-000001".into())] {
        let d = r.find(key).await.expect("found");
        assert_eq!(d.summary.source, OrderSource::Local);
        assert_eq!(d.summary.local_id, Some(sale));
        let line = &d.line_items[0];
        assert_eq!(
            (
                line.id,
                line.quantity,
                line.refunded_quantity,
                line.pending_refund_quantity,
                line.refundable_quantity
            ),
            (1, 3, 1, 1, 2),
            "the refused and the discarded returns give nothing back"
        );
        assert_eq!(d.billing.first_name, "Ada");
        assert!(d.refunds.is_empty());
        let states: Vec<EntryState> = d.local_refunds.iter().map(|r| r.sync_state).collect();
        assert_eq!(states, vec![EntryState::Queued, EntryState::Rejected]);
        assert_eq!(d.local_refunds[0].lines[0].line_id, Some(1));
    }
    assert!(
        r.find(OrderKey::Receipt("T9-000002".into()))
            .await
            .is_none()
    );
}

#[tokio::test]
async fn a_return_here_of_a_shop_order_counts_once_before_and_after_its_refund_is_mirrored() {
    let r = Replica::open();
    r.shop_order(300, "2026-01-01T10:00:00", "x@example.com")
        .await;
    r.shop_line(300, 3001, 4).await;
    r.shop_line(300, 3002, 1).await;
    // Refunded at the shop: 1 of line 3001.
    r.shop_refund(40, 300, 3001, 1).await;
    // Returned here: 2 of line 3001, not yet at the shop.
    let ret = r.local_return(Of::Order(300), 3001, 2, QUEUED).await;

    let line = |d: &OrderDetail| {
        let l = d.line_items.iter().find(|l| l.id == 3001).unwrap().clone();
        (
            l.refunded_quantity,
            l.pending_refund_quantity,
            l.refundable_quantity,
        )
    };
    let d = r.find(OrderKey::Upstream(300)).await.unwrap();
    assert_eq!(line(&d), (3, 2, 1));
    assert_eq!(d.local_refunds.len(), 1);
    assert_eq!(d.local_refunds[0].lines[0].line_id, Some(3001));
    assert_eq!(
        d.line_items[1].refundable_quantity, 1,
        "the other line is untouched"
    );

    // The shop confirmed it: still only counted here until mirrored.
    r.exec(
        "UPDATE local_refunds SET upstream_id = 41 WHERE id = ?1",
        vec![ret.to_string().into()],
    )
    .await;
    assert_eq!(
        line(&r.find(OrderKey::Upstream(300)).await.unwrap()),
        (3, 2, 1)
    );

    // Mirrored: counted among the shop's refunds, not twice.
    r.shop_refund(41, 300, 3001, 2).await;
    let d = r.find(OrderKey::Upstream(300)).await.unwrap();
    assert_eq!(line(&d), (3, 0, 1));
    assert!(d.local_refunds.is_empty());
    assert_eq!(d.refunds.len(), 2);
}

#[tokio::test]
async fn a_sale_here_the_shop_has_counts_its_returns_once_whichever_way_it_is_asked_for() {
    let r = Replica::open();
    let sale = r
        .sale(
            1,
            1_700_000_000,
            Sold {
                state: EntryState::Confirmed,
                upstream: Some(900),
                upstream_line: Some(9001),
                qty: 3,
                ..Sold::default()
            },
        )
        .await;
    r.shop_order(900, "2026-01-02T10:00:00", "ada@example.com")
        .await;
    r.shop_line(900, 9001, 3).await;
    // Returned here by line number; the shop has not confirmed it.
    let ret = r.local_return(Of::Sale(sale), 1, 1, QUEUED).await;

    let shop = r.find(OrderKey::Upstream(900)).await.unwrap();
    assert_eq!(shop.summary.source, OrderSource::Upstream);
    assert_eq!(shop.summary.local_number.as_deref(), Some("T9-000001"));
    let l = &shop.line_items[0];
    assert_eq!(
        (
            l.id,
            l.refunded_quantity,
            l.pending_refund_quantity,
            l.refundable_quantity
        ),
        (9001, 1, 1, 2)
    );
    assert_eq!(
        shop.local_refunds[0].lines[0].line_id,
        Some(9001),
        "named as the shop's order names its line"
    );
    let own = r.find(OrderKey::Local(sale)).await.unwrap();
    assert_eq!(own.summary.source, OrderSource::Local);
    assert_eq!(own.summary.id, Some(900));
    let l = &own.line_items[0];
    assert_eq!(
        (l.id, l.refunded_quantity, l.refundable_quantity),
        (1, 1, 2)
    );

    // Confirmed and mirrored: once, among the shop's refunds, in both views.
    r.exec(
        "UPDATE local_refunds SET upstream_id = 50 WHERE id = ?1",
        vec![ret.to_string().into()],
    )
    .await;
    r.shop_refund(50, 900, 9001, 1).await;
    let shop = r.find(OrderKey::Upstream(900)).await.unwrap();
    let l = &shop.line_items[0];
    assert_eq!(
        (
            l.refunded_quantity,
            l.pending_refund_quantity,
            l.refundable_quantity
        ),
        (1, 0, 2)
    );
    assert!(shop.local_refunds.is_empty());
    let own = r.find(OrderKey::Local(sale)).await.unwrap();
    let l = &own.line_items[0];
    assert_eq!(
        (
            l.refunded_quantity,
            l.pending_refund_quantity,
            l.refundable_quantity
        ),
        (1, 0, 2)
    );
    assert_eq!(
        own.refunds[0].lines[0].refunded_item_id,
        Some(1),
        "the sale's own view names the line by number"
    );
}

#[tokio::test]
async fn an_order_number_that_is_not_mirrored_falls_back_to_a_receipt_number_of_digits() {
    let r = Replica::open();
    let sale = r.sale(1234567, 1_700_000_000, Sold::default()).await;
    r.exec(
        "UPDATE local_orders SET number_text = '1234567' WHERE id = ?1",
        vec![sale.to_string().into()],
    )
    .await;
    let d = r.find(OrderKey::Upstream(1234567)).await.expect("the sale");
    assert_eq!(d.summary.local_id, Some(sale));
    assert!(r.find(OrderKey::Upstream(7654321)).await.is_none());
}

/// A broad search over many orders lists the shop's newest ids straight
/// off the text index even with this till's sales merged in: only the
/// till's few rows are sorted.
#[test]
fn a_broad_search_still_pages_off_the_text_index() {
    let r = Replica::open();
    let plan = r
        .store
        .read_blocking(super::super::orders::broad_search_plan)
        .unwrap();
    let fts = plan
        .iter()
        .find(|(_, _, d)| d.starts_with("SCAN f VIRTUAL TABLE"))
        .unwrap_or_else(|| panic!("no text index scan in {plan:#?}"));
    let siblings: Vec<&String> = plan
        .iter()
        .filter(|(_, parent, _)| *parent == fts.1)
        .map(|(_, _, d)| d)
        .collect();
    assert!(
        !siblings.iter().any(|d| d.contains("TEMP B-TREE")),
        "the shop's matches are sorted: {plan:#?}"
    );
    assert!(
        plan.iter()
            .any(|(_, _, d)| d.contains("local_orders_number_nocase")),
        "receipt numbers are looked up through their index: {plan:#?}"
    );
}
