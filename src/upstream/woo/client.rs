//! `WooClient`: HTTP to a WooCommerce store's REST v3 API.
//!
//! Every GET is idempotent, so transient failures are retried here a few
//! times with the shared delay policy (`sync::backoff`), re-signing each
//! attempt (an OAuth nonce may never be reused). Writes are never retried in
//! memory: the outbox owns that. Lists are always asked in stable ascending
//! id order so that pages do not shift under concurrent edits.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{DATE, HeaderMap};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use url::Url;

use super::auth::{self, AuthMode, OAuthRequest, SignatureMethod};
use super::classify;
use super::paging::{PageInfo, cursor_of, next_after, page_info, page_of};
use super::wire;
use crate::config::StoreConfig;
use crate::domain::batch::{Records, Snapshot};
use crate::domain::{GmtTime, Resource};
use crate::sync::limit::{Limit, Limiter, Outcome};
use crate::telemetry::metrics::{self, UpstreamKind};
use crate::upstream::contact::Contact;
use crate::upstream::retry::RetryPolicy;
use crate::upstream::{
    Capabilities, Cursor, Filter, IdPage, Page, PageQuery, Probe, Scope, StampPage, Upstream,
    UpstreamError,
};

/// The REST namespace, below the shop's address.
pub const REST_PREFIX: &str = "/wp-json/wc/v3";

/// Page size used for small lists fetched whole (terms of one attribute).
const SMALL_LIST_PAGE: u8 = 100;

/// One successful answer, its body read as `B`.
#[derive(Debug)]
pub(super) struct Answered<B> {
    pub(super) body: B,
    pub(super) info: PageInfo,
    pub(super) server_time: Option<GmtTime>,
}

/// An answer whose body is parsed JSON.
pub(super) type Answer = Answered<Value>;

/// A WooCommerce store, reached over HTTP.
pub struct WooClient {
    http: reqwest::Client,
    /// `https://shop.example.com/wp-json/wc/v3`
    api_base: String,
    /// The URL OAuth signatures are made for: the request's scheme with the
    /// home URL's host, port and path.
    signing_base: String,
    auth: AuthMode,
    key: SecretString,
    secret: SecretString,
    retry: RetryPolicy,
    requests: AtomicU64,
    /// Requests in flight to the shop, over everything this client asks.
    limiter: Limiter,
    /// Where answers and unreachable requests are recorded.
    contact: Contact,
}

impl std::fmt::Debug for WooClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WooClient")
            .field("api_base", &self.api_base)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

impl WooClient {
    /// A client for the configured store, which must be a WooCommerce one.
    pub fn new(cfg: &StoreConfig) -> Result<Self, UpstreamError> {
        let woo = cfg.woo().ok_or_else(|| {
            UpstreamError::Setup(format!(
                "the store is a {} shop, not a WooCommerce one",
                cfg.kind().as_str()
            ))
        })?;
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .connect_timeout(cfg.timeout.min(Duration::from_secs(10)))
            .danger_accept_invalid_certs(!cfg.verify_tls)
            .user_agent(concat!("possync/", env!("CARGO_PKG_VERSION")))
            .pool_max_idle_per_host(32)
            .build()
            .map_err(|e| UpstreamError::Setup(e.without_url().to_string()))?;
        Ok(WooClient {
            http,
            api_base: format!("{}{REST_PREFIX}", trim_slash(&woo.url)),
            signing_base: format!(
                "{}{REST_PREFIX}",
                signing_origin(&woo.url, woo.home_url.as_ref())
            ),
            auth: woo.auth,
            key: woo.consumer_key.clone(),
            secret: woo.consumer_secret.clone(),
            retry: RetryPolicy::in_request(),
            requests: AtomicU64::new(0),
            // No gate of its own unless asked: callers bound their requests.
            limiter: Limiter::new(Limit::Fixed(UNGATED)),
            contact: Contact::default(),
        })
    }

    /// Records answers and unreachable requests into `contact` (shared with
    /// the generation's other clients and the status page).
    pub fn with_contact(mut self, contact: Contact) -> Self {
        self.contact = contact;
        self
    }

    /// Records an HTTP answer.
    pub(super) fn contact_answered(&self) {
        self.contact.answered();
    }

    /// Records how a request went: any HTTP answer means the shop is
    /// reachable.
    pub(super) fn note<T>(&self, outcome: &Result<T, UpstreamError>) {
        match outcome {
            Err(e) if e.is_unreachable() => self.contact.unreachable(&e.to_string()),
            _ => self.contact.answered(),
        }
    }

    /// Gates every request of this client with `limit` (see
    /// [`crate::sync::limit`]).
    pub fn with_limit(mut self, limit: Limit) -> Self {
        self.limiter = Limiter::new(limit);
        self
    }

    /// The gate requests go through.
    pub fn limiter(&self) -> &Limiter {
        &self.limiter
    }

    /// Uses another in-request retry policy (tests shorten it).
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// HTTP requests sent so far (retries included).
    pub fn requests_sent(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// GET with retries of transient failures.
    pub(super) async fn get(
        &self,
        path: &str,
        query: &[(String, String)],
    ) -> Result<Answer, UpstreamError> {
        self.get_as(path, query, classify::json_body).await
    }

    /// [`WooClient::get`] with the body read by `read` (pages are read
    /// straight into records, see `records`).
    pub(super) async fn get_as<B>(
        &self,
        path: &str,
        query: &[(String, String)],
        read: impl Fn(&[u8]) -> Result<B, UpstreamError>,
    ) -> Result<Answered<B>, UpstreamError> {
        let mut attempt = 0;
        loop {
            match self.get_once(path, query, &read).await {
                Err(e) if e.is_transient() && attempt + 1 < self.retry.max_attempts() => {
                    if e.retry_after()
                        .is_some_and(|w| w > self.retry.max_retry_after())
                    {
                        return Err(e);
                    }
                    let delay = self.retry.next_delay(attempt, e.retry_after());
                    tracing::debug!(path, attempt, delay_ms = delay.as_millis() as u64, error = %e, "retrying GET");
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// A request to `path` with `query`, authenticated the configured way.
    /// OAuth signs each request afresh: a nonce may never be reused.
    pub(super) fn authorized(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(String, String)],
    ) -> reqwest::RequestBuilder {
        let url = format!("{}/{path}", self.api_base);
        let request = self.http.request(method.clone(), &url);
        match self.auth {
            AuthMode::Basic => request
                .query(query)
                .basic_auth(self.key.expose_secret(), Some(self.secret.expose_secret())),
            AuthMode::Query => {
                let mut q = query.to_vec();
                q.push((
                    "consumer_key".to_owned(),
                    self.key.expose_secret().to_owned(),
                ));
                q.push((
                    "consumer_secret".to_owned(),
                    self.secret.expose_secret().to_owned(),
                ));
                request.query(&q)
            }
            AuthMode::OAuth1 => {
                let signing_url = format!("{}/{path}", self.signing_base);
                let nonce = auth::new_nonce();
                let oauth = auth::oauth1_params(&OAuthRequest {
                    method: method.as_str(),
                    signing_url: &signing_url,
                    query,
                    consumer_key: self.key.expose_secret(),
                    consumer_secret: self.secret.expose_secret(),
                    timestamp: u64::try_from(GmtTime::now().unix()).unwrap_or(0),
                    nonce: &nonce,
                    signature_method: SignatureMethod::HmacSha256,
                });
                let mut q = query.to_vec();
                q.extend(oauth);
                request.query(&q)
            }
        }
    }

    /// Counts a request about to be sent.
    pub(super) fn count_request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    async fn get_once<B>(
        &self,
        path: &str,
        query: &[(String, String)],
        read: &impl Fn(&[u8]) -> Result<B, UpstreamError>,
    ) -> Result<Answered<B>, UpstreamError> {
        let request = self.authorized(reqwest::Method::GET, path, query);
        self.answer(request, read).await
    }

    /// One GET of `path` below the shop's address (e.g. `wp-json/`, the
    /// REST API's index), without credentials and without retries: outside
    /// `wc/` WordPress would try API keys as an application password.
    pub(super) async fn get_site(
        &self,
        path: &str,
        query: &[(String, String)],
    ) -> Result<Answer, UpstreamError> {
        let site = self
            .api_base
            .strip_suffix(REST_PREFIX)
            .unwrap_or(&self.api_base);
        let request = self.http.get(format!("{site}/{path}")).query(query);
        self.answer(request, &classify::json_body).await
    }

    /// Sends `request` and classifies what came back.
    async fn answer<B>(
        &self,
        request: reqwest::RequestBuilder,
        read: &impl Fn(&[u8]) -> Result<B, UpstreamError>,
    ) -> Result<Answered<B>, UpstreamError> {
        let slot = self.limiter.acquire().await;
        self.requests.fetch_add(1, Ordering::Relaxed);
        // Timed from the send (the limiter's wait is ours, not the shop's).
        let started = std::time::Instant::now();
        let out = self.classified(slot, request, read).await;
        metrics::record_upstream(UpstreamKind::Read, started.elapsed(), out.as_ref().err());
        out
    }

    /// [`WooClient::answer`] once the limiter let the request go.
    async fn classified<B>(
        &self,
        slot: crate::sync::limit::Slot<'_>,
        request: reqwest::RequestBuilder,
        read: &impl Fn(&[u8]) -> Result<B, UpstreamError>,
    ) -> Result<Answered<B>, UpstreamError> {
        let answered = async {
            let response = request.send().await?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = response.bytes().await?;
            Ok::<_, reqwest::Error>((status, headers, body))
        }
        .await;
        slot.finish(load_signal(answered.as_ref().map(|a| a.0)));
        let answered = answered.map_err(classify::transport);
        self.note(&answered);
        let (status, headers, body) = answered?;
        if !status.is_success() {
            return Err(classify::status_error(status.as_u16(), &headers, &body));
        }
        if status == StatusCode::NO_CONTENT {
            return Err(UpstreamError::Malformed {
                detail: "the shop answered 204 with no body".to_owned(),
                snippet: String::new(),
            });
        }
        Ok(Answered {
            body: read(&body)?,
            info: page_info(&headers),
            server_time: server_time(&headers),
        })
    }

    /// Fetches every page of a small list (terms of an attribute).
    async fn get_all(&self, path: &str) -> Result<Vec<Value>, UpstreamError> {
        let mut out = Vec::new();
        let mut page = 1u32;
        loop {
            let query = vec![
                ("per_page".to_owned(), SMALL_LIST_PAGE.to_string()),
                ("page".to_owned(), page.to_string()),
            ];
            let answer = self.get(path, &query).await?;
            let Value::Array(items) = answer.body else {
                return Err(UpstreamError::Malformed {
                    detail: format!("expected a list from {path}"),
                    snippet: classify::snippet(answer.body.to_string().as_bytes()),
                });
            };
            let n = items.len();
            out.extend(items);
            let last = answer.info.total_pages.unwrap_or(1);
            if n == 0 || page >= last {
                return Ok(out);
            }
            page += 1;
        }
    }

    /// Whether a collection route exists on this store, and the store's
    /// clock when it answered.
    async fn has_route(&self, path: &str) -> Result<(bool, Option<GmtTime>), UpstreamError> {
        let query = vec![
            ("per_page".to_owned(), "1".to_owned()),
            ("_fields".to_owned(), "id".to_owned()),
        ];
        match self.get(path, &query).await {
            Ok(answer) => Ok((true, answer.server_time)),
            Err(UpstreamError::NotFound { code, .. }) if code == "rest_no_route" => {
                Ok((false, None))
            }
            Err(e) => Err(e),
        }
    }

    async fn settings_snapshot(&self) -> Result<Snapshot, UpstreamError> {
        // Small independent requests: asked together.
        let groups =
            futures::future::try_join_all(wire::SETTING_GROUPS.iter().map(|group| async move {
                let answer = self.get(&format!("settings/{group}"), &[]).await?;
                wire::settings(answer.body, group)
            }));
        let (groups, currency) = tokio::try_join!(groups, async {
            wire::currency(self.get("data/currencies/current", &[]).await?.body)
        })?;
        let settings: Vec<_> = groups.into_iter().flatten().collect();
        let info = wire::store_info(&settings, currency);
        Ok(Snapshot::Settings { info, settings })
    }

    async fn zones_snapshot(&self) -> Result<Snapshot, UpstreamError> {
        let mut zones = wire::shipping_zones(self.get("shipping/zones", &[]).await?.body)?;
        // Each zone's locations and methods: independent, asked together.
        futures::future::try_join_all(zones.iter_mut().map(|z| async move {
            let (locations_path, methods_path) = (
                format!("shipping/zones/{}/locations", z.id),
                format!("shipping/zones/{}/methods", z.id),
            );
            let (locations, methods) =
                tokio::try_join!(self.get(&locations_path, &[]), self.get(&methods_path, &[]),)?;
            z.locations = wire::zone_locations(locations.body)?;
            z.methods = wire::shipping_methods(methods.body)?;
            Ok::<_, UpstreamError>(())
        }))
        .await?;
        Ok(Snapshot::ShippingZones(zones))
    }

    async fn attributes_snapshot(&self) -> Result<Snapshot, UpstreamError> {
        let mut attributes = wire::attributes(self.get("products/attributes", &[]).await?.body)?;
        // Each attribute's terms: independent, asked together.
        futures::future::try_join_all(attributes.iter_mut().map(|a| async move {
            let terms = self
                .get_all(&format!("products/attributes/{}/terms", a.id))
                .await?;
            a.terms = wire::attribute_terms(Value::Array(terms))?;
            Ok::<_, UpstreamError>(())
        }))
        .await?;
        Ok(Snapshot::Attributes(attributes))
    }
}

/// Requests at once when no gate is set: more than any caller sends.
const UNGATED: usize = 1 << 16;

/// What an answer says about the shop's load: 429, 503 and timeouts are
/// overload; a refused connection or a cut stream says nothing, and
/// neither does another 5xx: a proxy's 502 or 504 while the shop is down
/// comes back in a millisecond, and taken as the shop's no-load latency it
/// would make every real answer afterwards look like a queue.
pub(super) fn load_signal(answer: Result<StatusCode, &reqwest::Error>) -> Outcome {
    match answer {
        Ok(s) if s == StatusCode::TOO_MANY_REQUESTS || s == StatusCode::SERVICE_UNAVAILABLE => {
            Outcome::Overloaded
        }
        Ok(s) if s.is_server_error() => Outcome::Ignored,
        Ok(_) => Outcome::Answered,
        Err(e) if e.is_timeout() => Outcome::Overloaded,
        Err(_) => Outcome::Ignored,
    }
}

fn trim_slash(url: &Url) -> String {
    url.as_str().trim_end_matches('/').to_owned()
}

/// WooCommerce checks OAuth signatures against the request's scheme with the
/// home URL's host, port and path; normally that is the URL called.
fn signing_origin(url: &Url, home: Option<&Url>) -> String {
    let Some(home) = home else {
        return trim_slash(url);
    };
    let mut signing = home.clone();
    // The scheme is the one the request arrives with; set_scheme only fails
    // between special and non-special schemes, and both are http(s).
    let _ = signing.set_scheme(url.scheme());
    // Changing the scheme drops a port equal to the new default; keep an
    // explicit one.
    if home.port().is_some() {
        let _ = signing.set_port(home.port());
    }
    trim_slash(&signing)
}

fn server_time(headers: &HeaderMap) -> Option<GmtTime> {
    headers
        .get(DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(GmtTime::parse_http_date)
}

/// The REST path of a resource's collection.
fn collection_path(resource: Resource, scope: Scope) -> Result<String, UpstreamError> {
    Ok(match (resource, scope) {
        (Resource::Products, _) => "products".to_owned(),
        (Resource::Variations, Scope::All) => "variations".to_owned(),
        (Resource::Variations, Scope::Parent(id)) => format!("products/{id}/variations"),
        (Resource::Categories, _) => "products/categories".to_owned(),
        (Resource::Tags, _) => "products/tags".to_owned(),
        (Resource::TaxRates, _) => "taxes".to_owned(),
        (Resource::Customers, _) => "customers".to_owned(),
        (Resource::Orders, _) => "orders".to_owned(),
        (Resource::Refunds, Scope::All) => "refunds".to_owned(),
        (Resource::Refunds, Scope::Parent(id)) => format!("orders/{id}/refunds"),
        (other, _) => {
            return Err(UpstreamError::Setup(format!(
                "{other} is not a paged resource"
            )));
        }
    })
}

/// Query parameters for one page: stable id order, the filters each
/// resource supports (per WooCommerce's collection params), GMT dates.
/// `page` is the page `q.cursor` names.
fn page_params(q: &PageQuery, page: u32) -> Vec<(String, String)> {
    let mut p: Vec<(String, String)> = vec![
        ("per_page".to_owned(), q.per_page.to_string()),
        ("page".to_owned(), page.to_string()),
        ("orderby".to_owned(), "id".to_owned()),
        ("order".to_owned(), "asc".to_owned()),
    ];
    let f: &Filter = &q.filter;
    let statuses: Vec<&str> = f
        .statuses
        .iter()
        .map(String::as_str)
        .filter(|s| *s != "any")
        .collect();
    match q.resource {
        // Products take one `status`; several need `include_status`.
        Resource::Products if statuses.len() == 1 => {
            p.push(("status".to_owned(), statuses[0].to_owned()))
        }
        Resource::Products if statuses.len() > 1 => {
            p.push(("include_status".to_owned(), statuses.join(",")))
        }
        Resource::Orders if !statuses.is_empty() => {
            p.push(("status".to_owned(), statuses.join(",")))
        }
        _ => {}
    }
    let dated = matches!(
        q.resource,
        Resource::Products | Resource::Variations | Resource::Orders | Resource::Refunds
    );
    if dated && (f.created_after.is_some() || f.modified_after.is_some()) {
        if let Some(t) = f.created_after {
            p.push(("after".to_owned(), t.to_string()));
        }
        if let Some(t) = f.modified_after {
            p.push(("modified_after".to_owned(), t.to_string()));
        }
        p.push(("dates_are_gmt".to_owned(), "true".to_owned()));
    }
    if !f.include.is_empty() {
        let ids: Vec<String> = f.include.iter().map(i64::to_string).collect();
        p.push(("include".to_owned(), ids.join(",")));
    }
    p
}

/// A page's records, read from its body. The large resources are read
/// straight from the bytes; the rest through a parsed tree.
fn records(resource: Resource, scope: Scope, body: &[u8]) -> Result<Records, UpstreamError> {
    let tree = || classify::json_body(body);
    Ok(match resource {
        Resource::Products => Records::Products(wire::products_body(body)?),
        Resource::Variations => Records::Variations(wire::variations_body(body)?),
        Resource::Customers => Records::Customers(wire::customers_body(body)?),
        Resource::Orders => Records::Orders(wire::orders_body(body)?),
        Resource::Categories => Records::Categories(wire::categories(tree()?)?),
        Resource::Tags => Records::Tags(wire::tags(tree()?)?),
        Resource::TaxRates => Records::TaxRates(wire::tax_rates(tree()?)?),
        Resource::Refunds => {
            let parent = match scope {
                Scope::Parent(id) => Some(id),
                Scope::All => None,
            };
            Records::Refunds(wire::refunds(tree()?, parent)?)
        }
        other => {
            return Err(UpstreamError::Setup(format!(
                "{other} is not a paged resource"
            )));
        }
    })
}

impl Upstream for WooClient {
    async fn probe(&self) -> Result<Probe, UpstreamError> {
        // Products exist on every store: its answer proves the keys work and
        // gives the clock before anything else is read.
        // Asked together: one round trip instead of three.
        let ((_, server_time), (variations_endpoint, _), (refunds_endpoint, _)) = tokio::try_join!(
            self.has_route("products"),
            self.has_route("variations"),
            self.has_route("refunds"),
        )?;
        Ok(Probe {
            capabilities: Capabilities {
                variations_endpoint,
                refunds_endpoint,
            },
            server_time,
        })
    }

    async fn snapshot(&self, resource: Resource) -> Result<Snapshot, UpstreamError> {
        match resource {
            Resource::Settings => self.settings_snapshot().await,
            Resource::Countries => Ok(Snapshot::Countries(wire::countries(
                self.get("data/countries", &[]).await?.body,
            )?)),
            Resource::TaxClasses => Ok(Snapshot::TaxClasses(wire::tax_classes(
                self.get("taxes/classes", &[]).await?.body,
            )?)),
            Resource::ShippingZones => self.zones_snapshot().await,
            Resource::PaymentGateways => Ok(Snapshot::PaymentGateways(wire::payment_gateways(
                self.get("payment_gateways", &[]).await?.body,
            )?)),
            Resource::Attributes => self.attributes_snapshot().await,
            other => Err(UpstreamError::Setup(format!(
                "{other} is not fetched whole"
            ))),
        }
    }

    async fn page(&self, query: &PageQuery) -> Result<Page, UpstreamError> {
        let path = collection_path(query.resource, query.scope)?;
        let page = page_of(&query.cursor)?;
        let answer = self
            .get_as(&path, &page_params(query, page), |body| Ok(body.to_vec()))
            .await?;
        // A page of 100 products is a few milliseconds of parsing: on the
        // blocking pool, so the runtime's threads stay free for the till's
        // lookups while a pull runs.
        let (resource, scope) = (query.resource, query.scope);
        let body = answer.body;
        let records = tokio::task::spawn_blocking(move || records(resource, scope, &body))
            .await
            .map_err(|e| UpstreamError::Setup(format!("parsing a page of {resource}: {e}")))??;
        Ok(Page {
            records,
            next: next_after(page, answer.info.total_pages),
            total_items: answer.info.total_items,
            total_pages: answer.info.total_pages,
            server_time: answer.server_time,
        })
    }

    async fn id_page(&self, query: &PageQuery) -> Result<IdPage, UpstreamError> {
        let path = collection_path(query.resource, query.scope)?;
        let page = page_of(&query.cursor)?;
        let mut params = page_params(query, page);
        params.push(("_fields".to_owned(), "id".to_owned()));
        let answer = self.get(&path, &params).await?;
        let ids = match &answer.body {
            Value::Array(items) => items
                .iter()
                .map(|v| v.get("id").and_then(Value::as_i64))
                .collect::<Option<Vec<i64>>>(),
            _ => None,
        }
        .ok_or_else(|| UpstreamError::Malformed {
            detail: format!("expected a list of ids from {path}"),
            snippet: classify::snippet(answer.body.to_string().as_bytes()),
        })?;
        Ok(IdPage {
            ids,
            next: next_after(page, answer.info.total_pages),
            total_items: answer.info.total_items,
            total_pages: answer.info.total_pages,
        })
    }

    async fn stamp_page(&self, query: &PageQuery) -> Result<StampPage, UpstreamError> {
        let path = collection_path(query.resource, query.scope)?;
        // Refunds are never modified: their creation date is their version.
        let date = match query.resource {
            Resource::Refunds => "date_created_gmt",
            _ => "date_modified_gmt",
        };
        // A variation is mirrored only with its parent: list whose it is.
        let parent = if query.resource == Resource::Variations {
            ",parent_id"
        } else {
            ""
        };
        let page = page_of(&query.cursor)?;
        let mut params = page_params(query, page);
        params.push(("_fields".to_owned(), format!("id,{date}{parent}")));
        let answer = self.get(&path, &params).await?;
        let stamps = wire::stamps(&answer.body, date).ok_or_else(|| UpstreamError::Malformed {
            detail: format!("expected a list of ids and {date} from {path}"),
            snippet: classify::snippet(answer.body.to_string().as_bytes()),
        })?;
        let parents = if parent.is_empty() {
            Vec::new()
        } else {
            wire::parents(&answer.body)
        };
        Ok(StampPage {
            stamps,
            parents,
            next: next_after(page, answer.info.total_pages),
            total_items: answer.info.total_items,
            total_pages: answer.info.total_pages,
        })
    }

    /// `X-WP-TotalPages` says how many: every page is addressed ahead.
    fn cursors_ahead(&self, pages: u32) -> Vec<Cursor> {
        (1..=pages.max(1)).map(cursor_of).collect()
    }

    async fn fetch_one(
        &self,
        resource: Resource,
        id: crate::domain::UpstreamId,
    ) -> Result<Option<Records>, UpstreamError> {
        let path = super::webhook::object_path(resource, id)
            .ok_or_else(|| UpstreamError::Setup(format!("{resource} is not fetched one by one")))?;
        match self.get(&path, &[]).await {
            Ok(answer) => super::webhook::object(resource, answer.body).map(Some),
            // An unknown route is a broken store, not a missing object.
            Err(UpstreamError::NotFound { code, .. }) if code != "rest_no_route" => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_shops_own_answers_say_how_loaded_it_is() {
        use crate::sync::limit::Outcome;
        let signal = |code: u16| load_signal(Ok(StatusCode::from_u16(code).unwrap()));
        assert_eq!(signal(200), Outcome::Answered);
        assert_eq!(signal(404), Outcome::Answered);
        assert_eq!(signal(429), Outcome::Overloaded);
        assert_eq!(signal(503), Outcome::Overloaded);
        // A proxy answering for a shop that is down.
        assert_eq!(signal(502), Outcome::Ignored);
        assert_eq!(signal(504), Outcome::Ignored);
        assert_eq!(signal(500), Outcome::Ignored);
    }

    fn query(resource: Resource, filter: Filter) -> PageQuery {
        PageQuery {
            resource,
            scope: Scope::All,
            filter,
            cursor: cursor_of(2),
            per_page: 50,
        }
    }

    /// The parameters of `q`, at the page its cursor names.
    fn page_params(q: &PageQuery) -> Vec<(String, String)> {
        super::page_params(q, page_of(&q.cursor).unwrap())
    }

    fn has(p: &[(String, String)], k: &str, v: &str) -> bool {
        p.iter().any(|(a, b)| a == k && b == v)
    }

    #[test]
    fn lists_are_asked_in_stable_id_order() {
        let p = page_params(&query(Resource::Customers, Filter::default()));
        assert!(has(&p, "orderby", "id") && has(&p, "order", "asc"));
        assert!(has(&p, "per_page", "50") && has(&p, "page", "2"));
    }

    #[test]
    fn product_statuses_use_status_or_include_status() {
        let one = Filter {
            statuses: vec!["publish".into()],
            ..Filter::default()
        };
        assert!(has(
            &page_params(&query(Resource::Products, one)),
            "status",
            "publish"
        ));
        let two = Filter {
            statuses: vec!["publish".into(), "private".into()],
            ..Filter::default()
        };
        assert!(has(
            &page_params(&query(Resource::Products, two)),
            "include_status",
            "publish,private"
        ));
        let any = Filter {
            statuses: vec!["any".into()],
            ..Filter::default()
        };
        assert!(
            !page_params(&query(Resource::Products, any))
                .iter()
                .any(|(k, _)| k.contains("status"))
        );
    }

    #[test]
    fn order_window_and_statuses() {
        let f = Filter {
            statuses: vec!["processing".into(), "completed".into()],
            created_after: GmtTime::parse("2026-08-01T00:00:00"),
            ..Filter::default()
        };
        let p = page_params(&query(Resource::Orders, f));
        assert!(has(&p, "status", "processing,completed"));
        assert!(has(&p, "after", "2026-08-01T00:00:00"));
        assert!(has(&p, "dates_are_gmt", "true"));
    }

    #[test]
    fn signing_url_uses_request_scheme_with_home_host() {
        let called = Url::parse("http://127.0.0.1:8088").unwrap();
        let home = Url::parse("https://127.0.0.1:8443/").unwrap();
        assert_eq!(
            signing_origin(&called, Some(&home)),
            "http://127.0.0.1:8443"
        );
        assert_eq!(signing_origin(&called, None), "http://127.0.0.1:8088");
        let sub = Url::parse("https://www.shop.example/store").unwrap();
        let via = Url::parse("http://10.0.0.5:8080").unwrap();
        assert_eq!(
            signing_origin(&via, Some(&sub)),
            "http://www.shop.example/store"
        );
    }

    #[test]
    fn debug_output_has_no_secret() {
        let cfg = StoreConfig {
            timeout: Duration::from_secs(5),
            ..StoreConfig::woocommerce(crate::config::WooSettings {
                url: Url::parse("https://shop.example").unwrap(),
                home_url: None,
                consumer_key: SecretString::from("ck_visible_nowhere".to_owned()),
                consumer_secret: SecretString::from("cs_visible_nowhere".to_owned()),
                auth: AuthMode::Basic,
            })
        };
        let c = WooClient::new(&cfg).unwrap();
        let s = format!("{c:?}");
        assert!(!s.contains("visible_nowhere"), "{s}");
    }
}
