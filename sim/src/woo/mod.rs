//! A simulated WooCommerce 11.0.1 store: an in-process HTTP server speaking
//! `/wp-json/wc/v3` like the captured real store (`tests/fixtures/woocommerce`),
//! with seeded deterministic data, OAuth 1.0a checks and fault injection.
//! Used by `possync demo`, integration tests and benchmarks.
//!
//! This module owns the fake upstream only. It must not use possync's own
//! client code (`upstream::woo`): the sim and the client are two independent
//! readings of WooCommerce that meet on the wire. Where they disagree, real
//! WooCommerce behaviour wins here, however inconvenient for a client.
//!
//! # Layout
//! - `mod.rs`: configuration, spawn, the HTTP layer, `SimHandle`
//! - `data/`: seeded generation; `model.rs`: typed state; `mutate.rs`: changes
//! - `render/`: typed state → WooCommerce JSON; `json.rs`: PHP byte layout
//! - `routes/`: endpoints, arguments, paging, errors; `auth.rs`: OAuth
//! - `faults.rs`: latency, error pages, truncation, resets; `pricing.rs`: totals
//! - `server.rs`: the web server's workers, service times and queue
//! - `routes/writes/`: REST writes; `webhooks/`: subscriptions' deliveries
//! - `handle.rs`: what tests may ask of a running sim beyond HTTP

mod auth;
mod clock;
mod data;
mod faults;
mod handle;
mod http;
mod json;
mod model;
mod mutate;
mod pricing;
mod render;
mod routes;
mod server;
mod webhooks;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use axum::Router;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use self::auth::KeyPermissions;
use self::auth::{ApiKey, KeyRing};
use self::clock::{DAY_SECS, SimClock, system_now};
use self::faults::FaultState;
pub use self::faults::{FaultConfig, FaultKind, FaultRule};
use self::model::{OrderStatus, PostStatus, Store};
use self::mutate::Tx;
pub use self::server::{ServerModel, ServerStats};
pub use crate::net::NetworkSwitch;
use crate::net::{ConnKill, SimListener};

pub use self::handle::SimResource;
pub use self::webhooks::{DeliveryOutcome, DeliveryRecord, WebhookConfig, WebhookFaults};

/// How a sim is built.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Where to listen; tests use `127.0.0.1:0`.
    pub listen: SocketAddr,
    /// Same seed (and sizes, and day) → same store.
    pub seed: u64,
    /// Parent products (simple, variable, grouped, external); variations
    /// come on top.
    pub products: usize,
    pub customers: usize,
    pub orders: usize,
    pub consumer_key: String,
    pub consumer_secret: String,
    /// The home URL WordPress believes it has. OAuth signatures are checked
    /// against the request's scheme + this URL's host, port and path
    /// (WooCommerce rebuilds the signed URL from `get_home_url`, see the
    /// fixtures README "OAuth 1.0a detail"). Links and permalinks use it too.
    /// `None` = the address the sim is reached at.
    pub home_url: Option<String>,
    /// `true` = WooCommerce >= 10.3, where `GET /variations` lists all
    /// variations; `false` = an older store: that route answers 404
    /// `rest_no_route`.
    pub variations_endpoint: bool,
    /// `true` = `GET /refunds` exists (flat refunds list); `false` = 404
    /// `rest_no_route`.
    pub refunds_endpoint: bool,
    pub faults: FaultConfig,
    /// The web server's workers and service times (default: unlimited,
    /// instant).
    pub server: ServerModel,
    /// Webhook delivery settings (queue, timeout, auto-disable, faults).
    pub webhooks: WebhookConfig,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: 1,
            products: 40,
            customers: 15,
            orders: 30,
            // Shaped like real keys (`ck_`/`cs_` + 40 hex digits).
            consumer_key: "ck_0123456789abcdef0123456789abcdef01234567".to_owned(),
            consumer_secret: "cs_fedcba9876543210fedcba9876543210fedcba98".to_owned(),
            home_url: None,
            variations_endpoint: true,
            refunds_endpoint: true,
            faults: FaultConfig::default(),
            server: ServerModel::default(),
            webhooks: WebhookConfig::default(),
        }
    }
}

/// One request as the sim saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    pub method: String,
    /// Percent-decoded path, e.g. `/wp-json/wc/v3/products`.
    pub path: String,
    /// Decoded query pairs, in order (OAuth parameters included).
    pub query: Vec<(String, String)>,
    /// The status sent, or the store's status when a `Truncated` fault cut
    /// the body; 0 when a `Reset` fault sent nothing.
    pub status: u16,
    pub fault: Option<FaultKind>,
}

/// Everything in the store, all statuses included.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimCounts {
    pub products: usize,
    pub products_publish: usize,
    pub products_draft: usize,
    pub products_pending: usize,
    pub products_private: usize,
    pub products_trash: usize,
    pub products_simple: usize,
    pub products_variable: usize,
    pub variations: usize,
    pub variations_trash: usize,
    /// Users with the `customer` role.
    pub customers: usize,
    /// All users, the administrator included.
    pub users: usize,
    pub orders: usize,
    pub orders_trash: usize,
    pub orders_processing: usize,
    pub orders_completed: usize,
    pub refunds: usize,
    pub categories: usize,
    pub tags: usize,
    pub attributes: usize,
    pub attribute_terms: usize,
    pub tax_rates: usize,
    pub shipping_zones: usize,
}

/// The store as the REST layer sees it.
pub(crate) struct Shop {
    pub store: RwLock<Store>,
    pub clock: SimClock,
    /// Home URL without a trailing slash.
    pub home: String,
    pub keys: Mutex<KeyRing>,
    pub variations_endpoint: bool,
    pub refunds_endpoint: bool,
    /// Webhook deliveries waiting or in flight.
    pub hooks: webhooks::Hub,
}

pub(crate) struct Inner {
    shop: Shop,
    faults: Mutex<FaultState>,
    requests: Mutex<Vec<RecordedRequest>>,
    server: server::Server,
    /// The shop's network is down (see [`SimHandle::set_offline`]).
    offline: Arc<std::sync::atomic::AtomicBool>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding a sim lock is a sim bug already reported by the
    // panicking test; keep serving rather than cascade.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Starts simulated stores.
pub struct Sim;

impl Sim {
    /// Generates the store, binds `config.listen` and serves in a tokio task.
    pub async fn spawn(config: SimConfig) -> std::io::Result<SimHandle> {
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let home = config
            .home_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"))
            .trim_end_matches('/')
            .to_owned();
        // Dates are laid out before the start of today (UTC), so the same
        // seed gives the same JSON all day long.
        let now = system_now();
        let anchor = now - now.rem_euclid(DAY_SECS);
        let sizes = data::Sizes {
            seed: config.seed,
            products: config.products,
            customers: config.customers,
            orders: config.orders,
        };
        // Generating a large store takes tens of milliseconds: off the
        // runtime's worker, like any other blocking work.
        let home_for_data = home.clone();
        let store =
            tokio::task::spawn_blocking(move || data::generate(sizes, &home_for_data, anchor))
                .await
                .map_err(std::io::Error::other)?;
        let inner = Arc::new(Inner {
            shop: Shop {
                store: RwLock::new(store),
                clock: SimClock::default(),
                home,
                keys: Mutex::new(KeyRing {
                    keys: vec![ApiKey {
                        consumer_key: config.consumer_key.clone(),
                        consumer_secret: config.consumer_secret.clone(),
                        permissions: KeyPermissions::ReadWrite,
                        nonces: HashMap::new(),
                    }],
                }),
                variations_endpoint: config.variations_endpoint,
                refunds_endpoint: config.refunds_endpoint,
                hooks: webhooks::Hub::new(&config.webhooks, config.seed),
            },
            faults: Mutex::new(FaultState {
                latency: config.faults.latency,
                fail_rate: config.faults.fail_rate,
                kinds: config.faults.kinds.clone(),
                rules: Vec::new(),
                rng: ChaCha8Rng::seed_from_u64(config.seed ^ 0xFA17_FA17),
            }),
            requests: Mutex::new(Vec::new()),
            server: server::Server::new(config.server.clone()),
            offline: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        });
        let app = Router::new()
            .fallback(http::serve)
            .with_state(inner.clone());
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let offline = inner.offline.clone();
        let task = tokio::spawn(async move {
            let service = app.into_make_service_with_connect_info::<ConnKill>();
            let _ = axum::serve(SimListener { listener, offline }, service)
                .with_graceful_shutdown(async {
                    let _ = stop_rx.await;
                })
                .await;
        });
        let hooks_stop = CancellationToken::new();
        tokio::spawn(webhooks::run(inner.clone(), hooks_stop.clone()));
        Ok(SimHandle {
            inner,
            addr,
            consumer_key: config.consumer_key,
            consumer_secret: config.consumer_secret,
            stop: Some(stop_tx),
            task: Some(task),
            hooks_stop,
        })
    }
}

/// A running sim. Dropping it stops the server (without waiting).
pub struct SimHandle {
    inner: Arc<Inner>,
    addr: SocketAddr,
    consumer_key: String,
    consumer_secret: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    /// Stops the webhook delivery worker.
    hooks_stop: CancellationToken,
}

impl SimHandle {
    /// The store's base URL as reached (`http://127.0.0.1:PORT`); the REST
    /// API is under `/wp-json/wc/v3`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn consumer_key(&self) -> &str {
        &self.consumer_key
    }

    pub fn consumer_secret(&self) -> &str {
        &self.consumer_secret
    }

    /// Makes another API key with `permissions` (as a shop owner does in
    /// WooCommerce → Settings → Advanced → REST API); returns its consumer
    /// key and secret, shaped like real ones.
    pub fn add_key(&self, permissions: KeyPermissions) -> (String, String) {
        let mut ring = lock(&self.inner.shop.keys);
        let n = ring.keys.len();
        let key = ApiKey {
            consumer_key: format!("ck_{n:040x}"),
            consumer_secret: format!("cs_{:040x}", n + 0xc0ffee),
            permissions,
            nonces: HashMap::new(),
        };
        let pair = (key.consumer_key.clone(), key.consumer_secret.clone());
        ring.keys.push(key);
        pair
    }

    /// The shop's name, as its REST API index gives it.
    pub fn shop_name(&self) -> &'static str {
        routes::SHOP_NAME
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.inner.requests).clone()
    }

    pub fn clear_requests(&self) {
        lock(&self.inner.requests).clear();
    }

    /// Cuts the shop off the network (`true`) or brings it back: while
    /// offline every connection is closed before a request is read, so
    /// nothing reaches the store, as when a shop's internet is down.
    pub fn set_offline(&self, offline: bool) {
        self.inner
            .offline
            .store(offline, std::sync::atomic::Ordering::SeqCst);
    }

    /// A handle on the shop's network alone, to cut it off from elsewhere
    /// (the demo's page switch).
    pub fn network(&self) -> NetworkSwitch {
        NetworkSwitch(self.inner.offline.clone())
    }

    /// Whether the shop is cut off ([`SimHandle::set_offline`]).
    pub fn is_offline(&self) -> bool {
        self.inner.offline.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn set_latency(&self, d: Duration) {
        lock(&self.inner.faults).latency = d;
    }

    /// Changes the server model for requests arriving from now on.
    pub fn set_server(&self, model: ServerModel) {
        self.inner.server.set(model);
    }

    /// How deep the server's queue got since the start or the last
    /// [`SimHandle::reset_server_stats`].
    pub fn server_stats(&self) -> ServerStats {
        self.inner.server.stats()
    }

    pub fn reset_server_stats(&self) {
        self.inner.server.reset_stats();
    }

    pub fn set_fail_rate(&self, rate: f64, kinds: Vec<FaultKind>) {
        let mut f = lock(&self.inner.faults);
        f.fail_rate = rate;
        f.kinds = kinds;
    }

    /// The next `rule.times` matching requests get the fault, before any
    /// random fault.
    pub fn inject(&self, rule: FaultRule) {
        lock(&self.inner.faults).rules.push(rule);
    }

    /// The store's clock = system clock + `secs` (dates it stamps, the
    /// OAuth timestamp window).
    pub fn set_clock_offset(&self, secs: i64) {
        self.inner.shop.clock.set_offset(secs);
    }

    /// One unit of work on the store at the store's clock; the webhooks it
    /// fires are queued as a REST request's would be.
    fn write<R>(&self, f: impl FnOnce(&mut Tx<'_>) -> R) -> R {
        let now = self.inner.shop.clock.now();
        let mut store = self
            .inner
            .shop
            .store
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let mut tx = Tx::new(&mut store, now);
        let out = f(&mut tx);
        let (changes, pings) = (tx.changes, tx.pings);
        self.inner.shop.hooks.dispatch(&store, &changes, &pings);
        out
    }

    fn read<R>(&self, f: impl FnOnce(&Store) -> R) -> R {
        let store = self
            .inner
            .shop
            .store
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        f(&store)
    }

    pub fn counts(&self) -> SimCounts {
        self.read(mutate::counts)
    }

    /// Adds a published simple product; `stock: None` leaves stock
    /// unmanaged. Returns its id.
    pub fn add_simple_product(
        &self,
        name: &str,
        sku: &str,
        price: &str,
        stock: Option<i64>,
    ) -> i64 {
        self.write(|tx| mutate::add_simple_product(tx, name, sku, price, stock))
    }

    /// Sets the stock of a product or variation (managing it from now on).
    pub fn set_product_stock(&self, id: i64, qty: i64) {
        self.write(|tx| mutate::set_stock(tx, id, qty));
    }

    /// Sets the regular price of a product or variation.
    pub fn set_product_price(&self, id: i64, regular: &str) {
        self.write(|tx| mutate::set_price(tx, id, regular));
    }

    /// Moves a product (and its variations) to the trash, firing
    /// `product.deleted`.
    pub fn trash_product(&self, id: i64) {
        self.write(|tx| mutate::trash_product(tx, id));
    }

    /// Deletes a product permanently, with its variations (no webhook).
    pub fn delete_product(&self, id: i64) {
        self.write(|tx| mutate::delete_product(tx, id));
    }

    /// Product ids, ascending; `status` filters by `post_status`
    /// (`publish`, `draft`, `trash`...), `None` = all.
    pub fn product_ids(&self, status: Option<&str>) -> Vec<i64> {
        let wanted = status.and_then(PostStatus::parse);
        self.read(|s| {
            s.products
                .values()
                .filter(|p| status.is_none() || Some(p.status) == wanted)
                .map(|p| p.id)
                .collect()
        })
    }

    /// Variation ids, ascending, optionally of one parent.
    pub fn variation_ids(&self, parent: Option<i64>) -> Vec<i64> {
        self.read(|s| {
            s.variations
                .values()
                .filter(|v| parent.is_none_or(|p| v.parent_id == p))
                .map(|v| v.id)
                .collect()
        })
    }

    /// Ids of users with the `customer` role, ascending.
    pub fn customer_ids(&self) -> Vec<i64> {
        self.read(|s| {
            s.customers
                .values()
                .filter(|c| c.role == "customer")
                .map(|c| c.id)
                .collect()
        })
    }

    /// Order ids, ascending; `status` as WooCommerce names it
    /// (`processing`, `on-hold`, `trash`...), `None` = all.
    pub fn order_ids(&self, status: Option<&str>) -> Vec<i64> {
        let wanted = status.and_then(OrderStatus::parse);
        self.read(|s| {
            s.orders
                .values()
                .filter(|o| status.is_none() || Some(o.status) == wanted)
                .map(|o| o.id)
                .collect()
        })
    }

    /// Refund ids, ascending.
    pub fn refund_ids(&self) -> Vec<i64> {
        self.read(|s| s.refunds.keys().copied().collect())
    }

    /// Stops accepting, lets in-flight requests finish, and waits.
    pub async fn shutdown(mut self) {
        self.hooks_stop.cancel();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.hooks_stop.cancel();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
