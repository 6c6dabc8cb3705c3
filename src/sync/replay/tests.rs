//! The entry state machine, driven by a scripted shop: which failure leads
//! to which state, and that an unknown outcome is looked up before any
//! resend. (End-to-end claims are tested against the sim in `tests/it`.)

use std::collections::BTreeMap;
use std::sync::Mutex;

use uuid::Uuid;

use super::send::{Outcome, send_one};
use crate::domain::customers::Customer;
use crate::domain::orders::{Order, Refund};
use crate::domain::outbox::{CustomerFields, EntryState, OutboxEntry, Return, Sale};
use crate::domain::till::{ProductSel, SaleLineRequest, SaleRequest, TillSettings};
use crate::domain::time::unix_millis_now;
use crate::domain::{GmtTime, RawJson, UpstreamId};
use crate::store::till::{customers, sales};
use crate::store::{Store, outbox};
use crate::sync::backoff::RetryPolicy;
use crate::upstream::UpstreamError;
use crate::upstream::writes::{CreatedOrder, StockLevel, UpstreamWrites, WriteFailure};

/// A shop whose answers to `create_*` are scripted, one per call.
#[derive(Default)]
struct Scripted {
    creates: Mutex<Vec<Result<(), WriteFailure>>>,
    /// What a key lookup finds.
    found: Mutex<Option<UpstreamId>>,
    /// What `order_search_lag_left` answers.
    lag_left: Mutex<std::time::Duration>,
    calls: Mutex<Vec<&'static str>>,
}

impl Scripted {
    fn next(&self, call: &'static str) -> Result<(), WriteFailure> {
        self.calls.lock().unwrap().push(call);
        let mut c = self.creates.lock().unwrap();
        if c.is_empty() { Ok(()) } else { c.remove(0) }
    }
    fn calls(&self) -> Vec<&'static str> {
        self.calls.lock().unwrap().clone()
    }
}

fn order(id: UpstreamId) -> CreatedOrder {
    CreatedOrder {
        order: Order {
            id,
            parent_id: 0,
            number: id.to_string(),
            order_key: String::new(),
            status: "completed".into(),
            currency: "GBP".into(),
            prices_include_tax: true,
            customer_id: 0,
            billing: Default::default(),
            shipping: Default::default(),
            payment_method: String::new(),
            payment_method_title: String::new(),
            transaction_id: String::new(),
            created_via: "rest-api".into(),
            customer_note: String::new(),
            discount_total: Default::default(),
            discount_tax: Default::default(),
            shipping_total: Default::default(),
            shipping_tax: Default::default(),
            cart_tax: Default::default(),
            total: "10.00".parse().unwrap(),
            total_tax: Default::default(),
            date_created: None,
            date_modified: GmtTime::now(),
            date_paid: None,
            date_completed: None,
            risk: None,
            meta: Vec::new(),
            line_items: Vec::new(),
            shipping_lines: Vec::new(),
            fee_lines: Vec::new(),
            coupon_lines: Vec::new(),
            tax_lines: Vec::new(),
            refunds: Vec::new(),
            raw: RawJson("{}".into()),
        },
        reduced_stock: Vec::new(),
    }
}

impl UpstreamWrites for Scripted {
    async fn ping(&self) -> Result<(), UpstreamError> {
        Ok(())
    }
    async fn create_order(
        &self,
        _: Uuid,
        _: &Sale,
        _: UpstreamId,
    ) -> Result<CreatedOrder, WriteFailure> {
        self.next("create_order").map(|_| order(501))
    }
    async fn find_order(&self, _: Uuid, _: GmtTime) -> Result<Option<CreatedOrder>, UpstreamError> {
        self.calls.lock().unwrap().push("find_order");
        Ok(self.found.lock().unwrap().map(order))
    }
    fn order_search_lag_left(&self, _: GmtTime) -> std::time::Duration {
        *self.lag_left.lock().unwrap()
    }
    async fn create_refund(
        &self,
        _: Uuid,
        _: UpstreamId,
        _: &Return,
        _: &BTreeMap<UpstreamId, UpstreamId>,
    ) -> Result<Refund, WriteFailure> {
        unimplemented!()
    }
    async fn find_refund(&self, _: Uuid, _: UpstreamId) -> Result<Option<Refund>, UpstreamError> {
        unimplemented!()
    }
    async fn set_order_status(&self, _: UpstreamId, _: &str) -> Result<Order, WriteFailure> {
        unimplemented!()
    }
    async fn create_customer(&self, _: Uuid, _: &CustomerFields) -> Result<Customer, WriteFailure> {
        self.next("create_customer")?;
        unimplemented!()
    }
    async fn find_customer_by_email(&self, _: &str) -> Result<Option<UpstreamId>, UpstreamError> {
        self.calls.lock().unwrap().push("find_customer_by_email");
        Ok(*self.found.lock().unwrap())
    }
    async fn update_customer(&self, _: UpstreamId, _: &CustomerFields) -> Result<(), WriteFailure> {
        unimplemented!()
    }
    async fn stock(&self, _: UpstreamId, _: UpstreamId) -> Result<StockLevel, UpstreamError> {
        unimplemented!()
    }
    async fn set_stock(
        &self,
        _: UpstreamId,
        _: UpstreamId,
        _: i64,
    ) -> Result<StockLevel, WriteFailure> {
        unimplemented!()
    }
}

fn transient(maybe_applied: bool) -> WriteFailure {
    WriteFailure {
        error: UpstreamError::Transient {
            reason: "timed out".into(),
            retry_after: None,
        },
        maybe_applied,
    }
}

fn policy() -> RetryPolicy {
    RetryPolicy::new(
        std::time::Duration::from_millis(100),
        std::time::Duration::from_secs(1),
        std::time::Duration::from_secs(1),
        u32::MAX,
    )
    .unwrap()
}

/// A replica with one product and one queued sale of it.
async fn queued_sale() -> (tempfile::TempDir, Store, Uuid) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("replica.db")).unwrap();
    let id = store
        .write(|tx| {
            tx.execute(
                "INSERT INTO products (id, type, status, name, price, manage_stock, stock_quantity, date_modified_gmt, raw, synced_at)
                 VALUES (7, 'simple', 'publish', 'Mug', '10.00', 'yes', 5, '2026-01-01T00:00:00', '{}', 0)",
                [],
            )?;
            let req = SaleRequest {
                lines: vec![SaleLineRequest {
                    product: ProductSel::Id { product_id: 7, variation_id: None },
                    quantity: 1,
                    unit_price: None,
                    discount: None,
                }],
                customer: None,
                billing: None,
                payment_method: "cash".into(),
                payment_method_title: None,
                paid: true,
                note: String::new(),
            };
            let accepted = sales::record_sale(tx, &req, &TillSettings::default(), unix_millis_now())?
                .expect("accepted");
            Ok(accepted.outbox_id)
        })
        .await
        .unwrap();
    (dir, store, id)
}

async fn load(store: &Store, id: Uuid) -> OutboxEntry {
    store
        .read(move |c| outbox::get(c, id))
        .await
        .unwrap()
        .unwrap()
}

/// Makes an entry due now (skipping its backoff).
async fn due_now(store: &Store, id: Uuid) {
    let e = load(store, id).await;
    store
        .write(move |tx| outbox::set_state(tx, id, e.state, 0, None, unix_millis_now()))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_failure_known_not_to_have_reached_the_shop_requeues_with_a_persisted_delay() {
    let (_dir, store, id) = queued_sale().await;
    let shop = Scripted::default();
    shop.creates.lock().unwrap().push(Err(transient(false)));
    let out = send_one(&shop, &store, &policy(), load(&store, id).await)
        .await
        .unwrap();
    assert!(
        matches!(out, Outcome::Waiting { pause: true, .. }),
        "{out:?}"
    );
    let e = load(&store, id).await;
    assert_eq!((e.state, e.attempts), (EntryState::Queued, 1));
    assert!(e.attempt_started_at.is_some());
}

/// A queued sale whose first send reached the shop, but not its answer:
/// the entry is now of unknown outcome.
async fn answer_lost() -> (tempfile::TempDir, Store, Uuid, Scripted) {
    let (dir, store, id) = queued_sale().await;
    let shop = Scripted::default();
    shop.creates.lock().unwrap().push(Err(transient(true)));
    send_one(&shop, &store, &policy(), load(&store, id).await)
        .await
        .unwrap();
    (dir, store, id, shop)
}

/// Makes the entry due and tries it once.
async fn send_when_due(shop: &Scripted, store: &Store, id: Uuid) -> Outcome {
    due_now(store, id).await;
    send_one(shop, store, &policy(), load(store, id).await)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_ambiguous_failure_is_looked_up_before_any_resend() {
    let (_dir, store, id, shop) = answer_lost().await;
    assert_eq!(load(&store, id).await.state, EntryState::Unknown);

    // The shop did create it: found by key, never sent again.
    *shop.found.lock().unwrap() = Some(501);
    let out = send_when_due(&shop, &store, id).await;
    assert!(matches!(out, Outcome::Confirmed { .. }), "{out:?}");
    let e = load(&store, id).await;
    assert_eq!((e.state, e.upstream_id), (EntryState::Confirmed, Some(501)));
    assert_eq!(shop.calls(), vec!["create_order", "find_order"]);
}

#[tokio::test]
async fn an_unknown_outcome_not_found_at_the_shop_is_sent_again() {
    let (_dir, store, id, shop) = answer_lost().await;
    send_when_due(&shop, &store, id).await;
    assert_eq!(
        shop.calls(),
        vec!["create_order", "find_order", "create_order"]
    );
    let e = load(&store, id).await;
    assert_eq!((e.state, e.attempts), (EntryState::Confirmed, 2));
}

#[tokio::test]
async fn a_miss_while_the_search_may_trail_is_looked_for_again_later_not_sent() {
    let (_dir, store, id, shop) = answer_lost().await;
    // The shop's search may trail the order for 60 s more: not sent again,
    // looked for again in a while, and the rest of the outbox not paused.
    *shop.lag_left.lock().unwrap() = std::time::Duration::from_secs(60);
    due_now(&store, id).await;
    let before = unix_millis_now();
    let out = send_one(&shop, &store, &policy(), load(&store, id).await)
        .await
        .unwrap();
    assert_eq!(
        out,
        Outcome::Waiting {
            pause: false,
            retry_after: None,
            needs_fix: false
        }
    );
    let e = load(&store, id).await;
    assert_eq!(e.state, EntryState::Unknown);
    assert_eq!(e.error_code.as_deref(), Some("searching"));
    let wait = e.next_attempt_at - before;
    assert!(
        (14_000..=16_000).contains(&wait),
        "looked for again in {wait} ms"
    );
    assert_eq!(shop.calls(), vec!["create_order", "find_order"]);

    // Found on a later look: confirmed, never sent twice.
    *shop.found.lock().unwrap() = Some(501);
    send_when_due(&shop, &store, id).await;
    assert_eq!(load(&store, id).await.state, EntryState::Confirmed);
    assert_eq!(
        shop.calls(),
        vec!["create_order", "find_order", "find_order"]
    );
}

#[tokio::test]
async fn a_refusal_is_parked_with_the_shops_code_and_message() {
    let (_dir, store, id) = queued_sale().await;
    let shop = Scripted::default();
    shop.creates
        .lock()
        .unwrap()
        .push(Err(WriteFailure::not_applied(UpstreamError::Rejected {
            status: 500,
            code: "woocommerce_rest_cannot_create_order_refund".into(),
            message: "Invalid refund amount.".into(),
        })));
    let out = send_one(&shop, &store, &policy(), load(&store, id).await)
        .await
        .unwrap();
    assert_eq!(out, Outcome::Rejected);
    let e = load(&store, id).await;
    assert_eq!(e.state, EntryState::Rejected);
    assert_eq!(
        e.error_code.as_deref(),
        Some("woocommerce_rest_cannot_create_order_refund")
    );
    assert_eq!(e.error_message.as_deref(), Some("Invalid refund amount."));
}

#[tokio::test]
async fn a_customer_whose_email_is_registered_resolves_to_that_customer() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("replica.db")).unwrap();
    let accepted = store
        .write(|tx| {
            let fields = CustomerFields {
                email: Some("a@b.example".into()),
                ..CustomerFields::default()
            };
            Ok(customers::record_customer(tx, &fields, unix_millis_now())?.expect("accepted"))
        })
        .await
        .unwrap();
    let shop = Scripted::default();
    shop.creates
        .lock()
        .unwrap()
        .push(Err(WriteFailure::not_applied(UpstreamError::Rejected {
            status: 400,
            code: "registration-error-email-exists".into(),
            message: "An account is already registered".into(),
        })));
    *shop.found.lock().unwrap() = Some(42);
    let id = accepted.outbox_id;
    send_one(&shop, &store, &policy(), load(&store, id).await)
        .await
        .unwrap();
    let e = load(&store, id).await;
    assert_eq!((e.state, e.upstream_id), (EntryState::Confirmed, Some(42)));
    assert_eq!(
        shop.calls(),
        vec!["create_customer", "find_customer_by_email"]
    );
}

#[rstest::rstest]
#[case::certificate_refused(UpstreamError::Tls { reason: "invalid peer certificate: UnknownIssuer".into() })]
#[case::name_unknown(UpstreamError::NameNotResolved { reason: "Name or service not known".into() })]
#[tokio::test]
async fn a_sale_stays_queued_when_the_connection_cannot_be_set_up(#[case] error: UpstreamError) {
    // The request never reached the shop: nothing to look up, nothing to
    // park; the sale waits, queued, and replay probes at the slow pace.
    let (_dir, store, id) = queued_sale().await;
    let shop = Scripted::default();
    shop.creates
        .lock()
        .unwrap()
        .push(Err(WriteFailure::not_applied(error)));
    let out = send_one(&shop, &store, &policy(), load(&store, id).await)
        .await
        .unwrap();
    assert_eq!(
        out,
        Outcome::Waiting {
            pause: true,
            retry_after: None,
            needs_fix: true,
        }
    );
    let e = load(&store, id).await;
    assert_eq!((e.state, e.attempts), (EntryState::Queued, 1));
    assert_eq!(shop.calls(), vec!["create_order"]);
}
