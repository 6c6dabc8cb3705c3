//! A simulated Shopify store: the Admin GraphQL API
//! (`POST /admin/api/{version}/graphql.json`, `X-Shopify-Access-Token`)
//! for API versions 2026-01, 2026-04 and 2026-07, over seeded,
//! deterministic data.
//!
//! Every document received is parsed and validated against the real Admin
//! schema of the version asked for (`schema.rs`), so a query that would
//! fail at Shopify fails here, with Shopify's error body. A valid one is
//! executed over the store's JSON nodes (`exec.rs`), in the shapes of the
//! captured responses, with `extensions.cost` and a throttle bucket
//! (`cost.rs`). Bulk operations write JSONL served at their `url`
//! (`bulk.rs`).
//!
//! Like the simulated WooCommerce store beside it, this module shares no
//! types with the agent's client: the two meet on the wire only.
//!
//! # Layout
//! - `mod.rs`: configuration, spawn, the HTTP endpoint
//! - `schema.rs`: API versions, the vendored schemas, validation errors
//! - `data.rs`: seeded generation; `exec.rs`: field resolution, connections
//! - `search.rs`: the `query:` search syntax; `cost.rs`: cost and throttling
//! - `bulk.rs`: `bulkOperationRunQuery`, polling, the JSONL file
//! - `mutations.rs`: orders, refunds, inventory and customers written, with
//!   `@idempotent` keys and the order search's lag
//! - `webhooks.rs`: subscriptions, and signed deliveries when data changes
//! - `campaign.rs`: a merchant's changes outside the agent (prices, stock
//!   per location, products, customers and orders), each with its webhooks
//! - `pulltest.rs`: a merchant's catalog edits and the knobs a pull's tests
//!   turn (bulk operations asked for, result files served slowly)
//! - `shelf.rs`: products added as a merchant adds them in the admin

mod bulk;
mod campaign;
mod cost;
mod data;
mod exec;
mod faults;
mod mutations;
mod pulltest;
mod schema;
mod search;
mod shelf;
mod webhooks;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use apollo_compiler::executable::OperationType;
use apollo_compiler::resolvers::Execution;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use self::cost::{BucketConfig, MAX_QUERY_COST};
pub use self::data::Sizes;
pub use self::faults::{ShopifyFault, ShopifyFaults};
pub use self::schema::ApiVersion;
pub use self::webhooks::SentDelivery;
pub use crate::hook_faults::WebhookFaults;

use self::cost::Bucket;
use self::data::Store;
use crate::net::ConnKill;

/// How a simulated Shopify store is built.
#[derive(Debug, Clone)]
pub struct ShopifyConfig {
    /// Where to listen; tests use `127.0.0.1:0`.
    pub listen: SocketAddr,
    /// Same seed and sizes → same shop.
    pub seed: u64,
    pub sizes: Sizes,
    /// The Admin API access token requests must carry.
    pub access_token: String,
    pub bucket: BucketConfig,
    /// How long a bulk operation runs before it is COMPLETED (it is also
    /// seen RUNNING by at least one poll).
    pub bulk_run_time: Duration,
    pub faults: ShopifyFaults,
    /// "Now" for the generated timestamps (seconds since the epoch), so
    /// that a seed gives the same shop whatever the day; `None` = now.
    pub now: Option<i64>,
    /// The shop's `name.myshopify.com` (`X-Shopify-Shop-Domain`).
    pub shop_domain: String,
    /// The app's client secret deliveries are signed with.
    pub webhook_secret: String,
    /// The API version deliveries are serialised in (set for the app, not
    /// per subscription).
    pub webhook_api_version: ApiVersion,
    /// Keep every GraphQL request's `query` and `variables` for
    /// [`ShopifySim::graphql_log`] (tests; off, it grows without bound).
    pub record_requests: bool,
    /// How long an order created through `orderCreate` stays invisible to
    /// `orders(query:)`: Shopify's search index trails its writes by an
    /// unpublished delay (observed as "not found right after"), so the
    /// default is a few seconds.
    pub search_lag: Duration,
}

impl Default for ShopifyConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: 1,
            sizes: Sizes {
                products: 40,
                customers: 15,
                orders: 30,
                locations: 2,
            },
            // Shaped like an Admin API token (`shpat_` + 32 hex digits).
            access_token: "shpat_0123456789abcdef0123456789abcdef".to_owned(),
            bucket: BucketConfig::default(),
            bulk_run_time: Duration::from_millis(200),
            faults: ShopifyFaults::default(),
            now: None,
            shop_domain: "possync-sim.myshopify.com".to_owned(),
            webhook_secret: "possync-sim-app-client-secret".to_owned(),
            webhook_api_version: ApiVersion::V2026_04,
            record_requests: false,
            search_lag: Duration::from_secs(3),
        }
    }
}

struct Inner {
    store: RwLock<Store>,
    bulk: bulk::BulkOps,
    bucket: Mutex<Bucket>,
    access_token: String,
    faults: faults::FaultPlan,
    requests: AtomicU64,
    throttled: AtomicU64,
    hooks: webhooks::Hooks,
    /// The shop's network is down (see [`ShopifySim::network`]).
    network: crate::net::NetworkSwitch,
    /// Requests kept when `record_requests` is set.
    log: Option<Mutex<Vec<LoggedRequest>>>,
    writes: Mutex<mutations::WriteState>,
    search_lag: Duration,
    /// Result files are sent a line at a time this far apart (zero: whole).
    bulk_throttle: Mutex<Duration>,
}

/// One GraphQL request as the store received it.
#[derive(Debug, Clone)]
pub struct LoggedRequest {
    pub query: String,
    pub variables: Value,
}

/// A running simulated Shopify store.
pub struct ShopifySim {
    addr: SocketAddr,
    inner: Arc<Inner>,
    cancel: CancellationToken,
    task: JoinHandle<()>,
}

/// Counts of what the store holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShopifyCounts {
    pub products: usize,
    pub variants: usize,
    pub customers: usize,
    pub orders: usize,
    pub locations: usize,
}

impl ShopifySim {
    pub async fn spawn(config: ShopifyConfig) -> std::io::Result<Self> {
        let now = config.now.unwrap_or_else(|| chrono::Utc::now().timestamp());
        let store = data::generate(config.seed, config.sizes, now);
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let inner = Arc::new(Inner {
            store: RwLock::new(store),
            bulk: bulk::BulkOps {
                ops: Mutex::new(Vec::new()),
                run_time: config.bulk_run_time,
                base_url: format!("http://{addr}"),
                fail_next: std::sync::atomic::AtomicUsize::new(0),
            },
            bucket: Mutex::new(Bucket::new(config.bucket)),
            access_token: config.access_token,
            faults: faults::FaultPlan::new(config.faults, config.seed),
            requests: AtomicU64::new(0),
            throttled: AtomicU64::new(0),
            hooks: webhooks::Hooks::new(
                config.webhook_secret,
                config.shop_domain,
                config.webhook_api_version.as_str(),
                config.seed,
            ),
            network: crate::net::NetworkSwitch::default(),
            log: config.record_requests.then(|| Mutex::new(Vec::new())),
            writes: Mutex::new(mutations::WriteState::default()),
            search_lag: config.search_lag,
            bulk_throttle: Mutex::new(Duration::ZERO),
        });
        let app = Router::new()
            .route("/admin/api/{version}/graphql.json", post(graphql))
            .route("/bulk/{file}", get(bulk_file))
            .with_state(inner.clone());
        let cancel = CancellationToken::new();
        let stop = cancel.clone();
        let offline = inner.network.0.clone();
        let task = tokio::spawn(async move {
            // A handler can drop its connection without an answer
            // (`DropAfterCommit`); the whole network can be cut.
            let listener = crate::net::SimListener { listener, offline };
            let service = app.into_make_service_with_connect_info::<ConnKill>();
            let _ = axum::serve(listener, service)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await;
        });
        Ok(Self {
            addr,
            inner,
            cancel,
            task,
        })
    }

    /// The shop's network switch: while offline, every connection is
    /// closed before a request is read, as a cut line looks to a client.
    pub fn network(&self) -> crate::net::NetworkSwitch {
        self.inner.network.clone()
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The GraphQL endpoint of `version`.
    pub fn graphql_url(&self, version: ApiVersion) -> String {
        format!("{}/admin/api/{}/graphql.json", self.url(), version.as_str())
    }

    pub fn access_token(&self) -> &str {
        &self.inner.access_token
    }

    pub fn counts(&self) -> ShopifyCounts {
        let store = self
            .inner
            .store
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        ShopifyCounts {
            products: store.list("Product").len(),
            variants: store.list("ProductVariant").len(),
            customers: store.list("Customer").len(),
            orders: store.list("Order").len(),
            locations: store.list("Location").len(),
        }
    }

    /// Every product's gid, in id order.
    pub fn product_ids(&self) -> Vec<String> {
        let store = self
            .inner
            .store
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        store.list("Product").to_vec()
    }

    /// Every GraphQL request received since the start or the last
    /// [`ShopifySim::clear_log`], when `record_requests` is set.
    pub fn graphql_log(&self) -> Vec<LoggedRequest> {
        self.inner.log.as_ref().map_or_else(Vec::new, |l| {
            l.lock().unwrap_or_else(PoisonError::into_inner).clone()
        })
    }

    pub fn clear_log(&self) {
        if let Some(l) = &self.inner.log {
            l.lock().unwrap_or_else(PoisonError::into_inner).clear();
        }
    }

    /// GraphQL requests answered (any outcome) and of them, throttled.
    pub fn requests(&self) -> (u64, u64) {
        (
            self.inner.requests.load(Ordering::Relaxed),
            self.inner.throttled.load(Ordering::Relaxed),
        )
    }

    /// Changes a product as a merchant would in the admin: a new title and
    /// `updatedAt` now; `products/update` is delivered to its subscribers.
    /// `false` if there is no such product.
    pub fn rename_product(&self, gid: &str, title: &str) -> bool {
        let mut store = self
            .inner
            .store
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let now = data::datetime(chrono::Utc::now().timestamp());
        match store.nodes.get_mut(gid) {
            Some(p) if p["__typename"] == "Product" => {
                p["title"] = json!(title);
                p["updatedAt"] = json!(now);
            }
            _ => return false,
        }
        if let Some(payload) = webhooks::product_payload(&store, gid) {
            self.inner.hooks.fire("PRODUCTS_UPDATE", &payload);
        }
        true
    }

    /// Places an order for `quantity` of a variant, as a sale on the online
    /// store would; `orders/create` is delivered to its subscribers. The
    /// new order's gid, or `None` if there is no such variant.
    pub fn place_order(&self, variant_gid: &str, quantity: i64) -> Option<String> {
        let mut store = self
            .inner
            .store
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let gid = store.place_order(variant_gid, quantity, chrono::Utc::now().timestamp())?;
        if let Some(payload) = webhooks::order_payload(&store, &gid) {
            self.inner.hooks.fire("ORDERS_CREATE", &payload);
        }
        Some(gid)
    }

    /// The next `n` webhook deliveries are each sent twice, with the same
    /// `X-Shopify-Webhook-Id` (a retry after an answer that was lost).
    pub fn deliver_twice(&self, n: usize) {
        self.inner.hooks.deliver_twice(n);
    }

    /// Every webhook delivery attempt so far, in order.
    pub fn webhook_deliveries(&self) -> Vec<SentDelivery> {
        self.inner.hooks.sent()
    }

    /// Deliveries from now on are lost, sent twice, held back or sent out
    /// of order as `faults` draws (seeded by the shop's seed).
    pub fn set_webhook_faults(&self, faults: WebhookFaults) {
        self.inner.hooks.set_faults(faults);
    }

    /// Deliveries the faults lost (never sent).
    pub fn webhook_deliveries_lost(&self) -> usize {
        self.inner.hooks.lost()
    }

    /// Waits until no webhook delivery is queued, held back or being
    /// retried.
    pub async fn deliveries_settled(&self) {
        self.inner.hooks.settled().await;
    }

    /// The shop's `name.myshopify.com`.
    pub fn shop_domain(&self) -> String {
        self.inner.hooks.shop_domain().to_owned()
    }

    /// Deletes a product with its variants and inventory items, and records
    /// it in `deletionEvents`; `products/delete` is delivered to its
    /// subscribers. `false` if there is no such product.
    pub fn delete_product(&self, gid: &str) -> bool {
        let mut store = self
            .inner
            .store
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let deleted = store.delete_product(gid, chrono::Utc::now().timestamp());
        if deleted {
            // As the documented payload: the id alone.
            let id = data::gid_number(gid).unwrap_or(0);
            self.inner
                .hooks
                .fire("PRODUCTS_DELETE", &json!({ "id": id }));
        }
        deleted
    }

    /// The next `times` GraphQL requests get `fault`.
    /// Bulk query operations started so far (every `bulkOperationRunQuery`
    /// that created one).
    pub fn bulk_operations_started(&self) -> usize {
        self.inner.bulk.started()
    }

    /// The next `n` bulk operations started fail (FAILED,
    /// `INTERNAL_SERVER_ERROR`) instead of completing.
    pub fn fail_next_bulk_operations(&self, n: usize) {
        self.inner
            .bulk
            .fail_next
            .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    }

    /// Every finished bulk operation expires: EXPIRED when polled, its
    /// result link refused (403). Returns how many did.
    pub fn expire_bulk_operations(&self) -> usize {
        self.inner.bulk.expire()
    }

    pub fn inject(&self, fault: ShopifyFault, times: usize) {
        self.inner.faults.inject(fault, times);
    }

    /// The next `times` GraphQL requests whose document contains `field`
    /// (e.g. `"orderCreate("`) get `fault`; other requests pass.
    pub fn inject_on(&self, fault: ShopifyFault, field: &str, times: usize) {
        self.inner.faults.inject_on(fault, field, times);
    }

    /// Injected faults not yet spent (a rule aimed at a document that was
    /// never sent stays pending).
    pub fn faults_pending(&self) -> usize {
        self.inner.faults.pending()
    }

    /// A node as the store holds it (objects it points to as
    /// `{"__ref": gid}`), e.g. to check what a write did.
    pub fn node(&self, gid: &str) -> Option<Value> {
        let store = self
            .inner
            .store
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        store.node(gid).cloned()
    }

    /// The gids of the orders carrying `source` as `sourceIdentifier`,
    /// whether search sees them yet or not.
    pub fn orders_with_source(&self, source: &str) -> Vec<String> {
        self.orders_by_source()
            .into_iter()
            .filter_map(|(gid, s)| (s == source).then_some(gid))
            .collect()
    }

    /// The `available` quantity of a variant at a location, if stocked there.
    pub fn available(&self, variant: &str, location: &str) -> Option<i64> {
        let store = self
            .inner
            .store
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let item = store.node(variant)?["inventoryItem"]["__ref"].as_str()?;
        store.node(item)?["inventoryLevels"]["__conn"]
            .as_array()?
            .iter()
            .filter_map(Value::as_str)
            .filter_map(|l| store.node(l))
            .find(|l| l["location"]["__ref"] == location)
            .and_then(|l| l["quantities"]["__quantities"]["available"].as_i64())
    }

    pub async fn shutdown(self) {
        self.cancel.cancel();
        let _ = self.task.await;
    }
}

fn json_response(status: StatusCode, version: Option<ApiVersion>, body: &Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    let headers = resp.headers_mut();
    headers.insert(
        "content-type",
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    if let Some(v) = version {
        headers.insert(
            "x-shopify-api-version",
            HeaderValue::from_static(v.as_str()),
        );
    }
    resp
}

async fn graphql(
    State(inner): State<Arc<Inner>>,
    ConnectInfo(conn): ConnectInfo<ConnKill>,
    Path(version): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    inner.requests.fetch_add(1, Ordering::Relaxed);
    let latency = inner.faults.config.latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    // An API version Shopify does not serve: 404 (no capture of its exact
    // body; Shopify's REST "Not Found" shape).
    let Some(version) = ApiVersion::parse(&version) else {
        return json_response(StatusCode::NOT_FOUND, None, &json!({"errors": "Not Found"}));
    };
    let token = headers
        .get("x-shopify-access-token")
        .and_then(|v| v.to_str().ok());
    if token != Some(inner.access_token.as_str()) {
        return json_response(
            StatusCode::UNAUTHORIZED,
            Some(version),
            &json!({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}),
        );
    }
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let Some(query) = request.get("query").and_then(Value::as_str) else {
        return json_response(
            StatusCode::BAD_REQUEST,
            Some(version),
            &json!({"errors": {"query": "Required parameter missing or invalid"}}),
        );
    };
    if let Some(log) = &inner.log {
        log.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(LoggedRequest {
                query: query.to_owned(),
                variables: request.get("variables").cloned().unwrap_or(Value::Null),
            });
    }
    let fault = inner.faults.draw(query);
    match fault {
        Some(ShopifyFault::ServerError) => {
            return json_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                Some(version),
                &json!({"errors": "Internal Server Error"}),
            );
        }
        Some(ShopifyFault::ServiceUnavailable) => {
            return json_response(
                StatusCode::SERVICE_UNAVAILABLE,
                Some(version),
                &json!({"errors": "Service Unavailable"}),
            );
        }
        Some(ShopifyFault::TooManyRequests) => {
            let mut resp = json_response(
                StatusCode::TOO_MANY_REQUESTS,
                Some(version),
                &json!({"errors": "Exceeded 4 calls per second for api client. Reduce request rates to resume uninterrupted service."}),
            );
            resp.headers_mut()
                .insert("retry-after", HeaderValue::from_static("4.0"));
            return resp;
        }
        Some(ShopifyFault::HtmlPage) => {
            let mut resp = (StatusCode::OK, HTML_PAGE).into_response();
            resp.headers_mut().insert(
                "content-type",
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            return resp;
        }
        Some(ShopifyFault::Truncated | ShopifyFault::DropAfterCommit) | None => {}
    }
    let variables = request.get("variables").cloned().unwrap_or(json!({}));
    let operation_name = request.get("operationName").and_then(Value::as_str);
    let (status, body) = answer(&inner, version, query, &variables, operation_name);
    if body["errors"][0]["extensions"]["code"] == "THROTTLED" {
        inner.throttled.fetch_add(1, Ordering::Relaxed);
    }
    if fault == Some(ShopifyFault::DropAfterCommit) {
        conn.kill();
    }
    let mut resp = json_response(status, Some(version), &body);
    if fault == Some(ShopifyFault::Truncated) {
        truncate(&mut resp, body.to_string().into_bytes());
    }
    resp
}

/// What a captive portal or filtering proxy between the till and the shop
/// answers in place of the API (not from a capture).
const HTML_PAGE: &str = "<!DOCTYPE html>\n<html><head><title>Network login</title></head><body><p>Sign in to use this network.</p></body></html>\n";

/// Announces `body` whole, sends half, then fails the stream so the
/// connection is dropped mid-body.
fn truncate(resp: &mut Response, body: Vec<u8>) {
    let full = body.len();
    let half = Bytes::from(body[..full / 2].to_vec());
    resp.headers_mut()
        .insert("content-length", HeaderValue::from(full));
    let failure = futures::stream::once(async {
        // Lets the head and the first half reach the client first.
        tokio::time::sleep(Duration::from_millis(20)).await;
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "truncated by fault injection",
        ))
    });
    let stream = futures::StreamExt::chain(
        futures::stream::iter([Ok::<_, std::io::Error>(half)]),
        failure,
    );
    *resp.body_mut() = axum::body::Body::from_stream(stream);
}

/// A bulk operation's result file (`{n}.jsonl`), once it is complete.
async fn bulk_file(State(inner): State<Arc<Inner>>, Path(file): Path<String>) -> Response {
    let file = file
        .strip_suffix(".jsonl")
        .and_then(|n| n.parse::<u64>().ok())
        .map(|n| inner.bulk.file(n));
    match file.unwrap_or(bulk::File::Missing) {
        bulk::File::Ready(bytes) => {
            let per_line = *inner
                .bulk_throttle
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let mut resp = if per_line.is_zero() {
                (StatusCode::OK, bytes.as_ref().clone()).into_response()
            } else {
                (StatusCode::OK, pulltest::throttled(bytes, per_line)).into_response()
            };
            resp.headers_mut().insert(
                "content-type",
                HeaderValue::from_static("application/jsonl"),
            );
            resp
        }
        // A signed storage link past its expiry is refused (the body is
        // not from a capture).
        bulk::File::Expired => (StatusCode::FORBIDDEN, "").into_response(),
        bulk::File::Missing => (StatusCode::NOT_FOUND, "").into_response(),
    }
}

/// The body (and status) for one GraphQL request.
fn answer(
    inner: &Inner,
    version: ApiVersion,
    query: &str,
    variables: &Value,
    operation_name: Option<&str>,
) -> (StatusCode, Value) {
    let doc = match schema::validate(version, query) {
        Ok(doc) => doc,
        Err(errors) => return (StatusCode::OK, json!({"errors": errors})),
    };
    let op = match doc.operations.get(operation_name) {
        Ok(op) => op,
        Err(e) => {
            return (
                StatusCode::OK,
                json!({"errors": [{"message": e.message().to_string()}]}),
            );
        }
    };
    let schema = version.schema();
    let requested = cost::operation_cost(schema, &doc, op, variables, None);
    if requested > MAX_QUERY_COST {
        return (
            StatusCode::OK,
            json!({"errors": [{
                "message": format!(
                    "Query cost is {requested}, which exceeds the single query max cost limit ({MAX_QUERY_COST}).\n\nSee https://shopify.dev/docs/api/usage/rate-limits for more information on how the\ncost of a query is calculated.\n\nTo query larger amounts of data with fewer limits, bulk operations should be used instead.\nSee https://shopify.dev/docs/api/usage/bulk-operations/queries for usage details.\n"
                ),
                "extensions": {
                    "code": "MAX_COST_EXCEEDED",
                    "cost": requested,
                    "maxCost": MAX_QUERY_COST,
                    "documentation": "https://shopify.dev/api/usage/rate-limits",
                }
            }]}),
        );
    }
    {
        let mut bucket = inner.bucket.lock().unwrap_or_else(PoisonError::into_inner);
        if !bucket.admits(requested) {
            return (
                StatusCode::OK,
                json!({
                    "errors": [{
                        "message": "Throttled",
                        "extensions": {
                            "code": "THROTTLED",
                            "documentation": "https://shopify.dev/api/usage/rate-limits",
                        }
                    }],
                    "extensions": {"cost": bucket.extension(requested, None)},
                }),
            );
        }
    }
    let vars = exec::variables(variables);
    let mutation = op.operation_type == OperationType::Mutation;
    let now_ms = chrono::Utc::now().timestamp_millis();
    // A mutation holds the store for writing while it applies and reads
    // back its payload; a query shares it.
    let mut applied = std::collections::HashMap::new();
    let write_guard;
    let read_guard;
    let store: &Store = if mutation {
        let coerced = match apollo_compiler::request::coerce_variable_values(schema, op, &vars) {
            Ok(c) => c,
            Err(e) => {
                return (
                    StatusCode::OK,
                    json!({"errors": [{"message": e.message().to_string(), "extensions": {"code": "INVALID_VARIABLE"}}]}),
                );
            }
        };
        let coerced = match serde_json::to_value(&*coerced) {
            Ok(Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        };
        let mut guard = inner.store.write().unwrap_or_else(PoisonError::into_inner);
        let mut writes = inner.writes.lock().unwrap_or_else(PoisonError::into_inner);
        applied = mutations::apply_all(
            &mut guard,
            &mut writes,
            op,
            &mutations::MutationCx {
                version,
                now_ms,
                search_lag_ms: i64::try_from(inner.search_lag.as_millis()).unwrap_or(i64::MAX / 2),
                variables: &coerced,
            },
        );
        write_guard = guard;
        &write_guard
    } else {
        read_guard = inner.store.read().unwrap_or_else(PoisonError::into_inner);
        &read_guard
    };
    let result = {
        let cx = exec::Cx {
            store,
            bulk: false,
            ops: Some(&inner.bulk),
            version,
            now: now_ms / 1000,
            applied: Some(&applied),
            hooks: Some(&inner.hooks),
        };
        let root = match op.operation_type {
            OperationType::Mutation => exec::Obj::MutationRoot(cx),
            _ => exec::Obj::Root(cx),
        };
        Execution::new(schema, &doc)
            .operation(op)
            .raw_variable_values(&vars)
            .execute_sync(&root)
    };
    let response = match result {
        Ok(r) => r,
        // Variables that do not fit their declared types.
        Err(e) => {
            return (
                StatusCode::OK,
                json!({"errors": [{"message": e.message().to_string(), "extensions": {"code": "INVALID_VARIABLE"}}]}),
            );
        }
    };
    let mut body = serde_json::to_value(&response).unwrap_or(Value::Null);
    let top_errors: Vec<Value> = applied
        .values()
        .filter_map(|a| match a {
            mutations::Applied::Error(e) => Some(e.clone()),
            mutations::Applied::Payload(_) => None,
        })
        .collect();
    if !top_errors.is_empty() {
        let mut errors = body["errors"].as_array().cloned().unwrap_or_default();
        errors.extend(top_errors);
        body["errors"] = Value::Array(errors);
    }
    let actual = cost::operation_cost(schema, &doc, op, variables, Some(&body["data"]));
    let mut bucket = inner.bucket.lock().unwrap_or_else(PoisonError::into_inner);
    bucket.charge(actual);
    body["extensions"] = json!({"cost": bucket.extension(requested, Some(actual))});
    (StatusCode::OK, body)
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod webhook_tests;
#[cfg(test)]
mod write_tests;
