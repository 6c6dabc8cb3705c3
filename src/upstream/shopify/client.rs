//! `ShopifyClient`: GraphQL over HTTP to a shop's Admin API.
//!
//! One POST per document to `{shop}/admin/api/{version}/graphql.json` with
//! `X-Shopify-Access-Token`. Every answer goes through
//! [`classify::answer`]; its `extensions.cost` feeds a [`Pacer`], so a
//! query waits before it is sent when the bucket would not hold it, instead
//! of running into `THROTTLED`.
//!
//! Retries:
//! - `THROTTLED` (HTTP 200) and 429 mean the query never ran: retried for
//!   reads and writes alike, after the wait the bucket gives (`THROTTLED`)
//!   or the shop's `Retry-After` (429).
//! - Other transient failures (timeouts, resets, 5xx) are retried for reads
//!   only, with the shared policy; a write's outcome is then unknown and
//!   the outbox decides.
//! - A 401 with client credentials renews the token once and tries again
//!   (the request was refused, so this holds for writes too).
//! - `MAX_COST_EXCEEDED` is never retried here: it comes back as
//!   [`Failure::TooCostly`] for the caller to ask for less.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::classify::{self, Answer, Failure};
use super::connection::{LocationRef, ShopifyAuth, ShopifyConnection};
use super::cost::{self, Pacer};
use super::export::{EXPORT_THRESHOLD, Polling};
use super::token;
use crate::telemetry::metrics::{self, UpstreamKind};
use crate::upstream::UpstreamError;
use crate::upstream::contact::Contact;
use crate::upstream::retry::RetryPolicy;
use crate::upstream::woo::classify::transport;

/// The header carrying the Admin API token.
pub const ACCESS_TOKEN_HEADER: &str = "X-Shopify-Access-Token";

/// How many `THROTTLED` answers in a row one request sits out before giving
/// up (each waits for the bucket, so this is minutes on a busy shop).
const MAX_THROTTLED: u32 = 20;

/// Whether a request may be sent again after an unknown outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A query: sending it twice changes nothing.
    Read,
    /// A mutation: sent again only when the shop said it did not run it.
    Write,
}

/// The token in use and when to renew it.
#[derive(Default)]
struct TokenState {
    token: Option<SecretString>,
    refresh_at: Option<Instant>,
    /// When the token stops working, if the shop said.
    expires_at: Option<Instant>,
    /// Bumped on each new token, so a 401 renews only the token it failed with.
    generation: u64,
}

enum Auth {
    Static(SecretString),
    Credentials {
        client_id: String,
        client_secret: SecretString,
        /// Held across a renewal: one token request in flight at a time.
        state: tokio::sync::Mutex<TokenState>,
    },
}

/// A Shopify shop, reached over HTTP.
pub struct ShopifyClient {
    http: reqwest::Client,
    /// For bulk export files: a time limit on each read, not on the whole.
    download: reqwest::Client,
    graphql_url: String,
    token_url: String,
    auth: Auth,
    location: LocationRef,
    /// The location's id once resolved (from its name, or as configured).
    location_id: tokio::sync::OnceCell<crate::domain::UpstreamId>,
    pacer: Mutex<Pacer>,
    /// The last requested cost seen per document: what the next send
    /// of the same document is expected to reserve.
    expected: Mutex<HashMap<u64, f64>>,
    retry: RetryPolicy,
    requests: AtomicU64,
    tokens_requested: AtomicU64,
    /// Query cost points the shop charged (`actualQueryCost`), summed.
    points_used: AtomicU64,
    /// Objects a resource must count, at least, to be exported in bulk.
    export_threshold: u64,
    /// How a bulk export is polled.
    polling: Polling,
    contact: Contact,
    /// What the writes remember (the shop's currency, default variants).
    pub(super) write_cache: super::writes::WriteCache,
    /// How long a sale's order is looked for by its key before it is taken
    /// to be missing ([`super::writes::SEARCH_LAG_WINDOW`] unless set).
    pub(super) search_lag_window: Duration,
}

impl std::fmt::Debug for ShopifyClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShopifyClient")
            .field("graphql_url", &self.graphql_url)
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

impl ShopifyClient {
    /// A client for the shop `conn` names.
    pub fn new(conn: ShopifyConnection) -> Result<Self, UpstreamError> {
        let http = reqwest::Client::builder()
            .timeout(conn.timeout)
            .connect_timeout(conn.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("possync/", env!("CARGO_PKG_VERSION")))
            .pool_max_idle_per_host(32)
            .danger_accept_invalid_certs(!conn.verify_tls)
            .build()
            .map_err(|e| UpstreamError::Setup(e.without_url().to_string()))?;
        // A bulk export's file may take longer than any one request to
        // arrive: no limit on the whole, only on each wait for more.
        let download = reqwest::Client::builder()
            .read_timeout(conn.timeout)
            .connect_timeout(conn.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("possync/", env!("CARGO_PKG_VERSION")))
            .danger_accept_invalid_certs(!conn.verify_tls)
            .build()
            .map_err(|e| UpstreamError::Setup(e.without_url().to_string()))?;
        let (graphql_url, token_url) = (conn.graphql_url(), conn.token_url());
        let auth = match conn.auth {
            ShopifyAuth::Token(t) => Auth::Static(t),
            ShopifyAuth::ClientCredentials {
                client_id,
                client_secret,
            } => Auth::Credentials {
                client_id,
                client_secret,
                state: tokio::sync::Mutex::new(TokenState::default()),
            },
        };
        let location_id = tokio::sync::OnceCell::new();
        if let LocationRef::Id(id) = conn.location {
            let _ = location_id.set(id);
        }
        Ok(ShopifyClient {
            http,
            download,
            graphql_url,
            token_url,
            auth,
            location: conn.location,
            location_id,
            pacer: Mutex::new(Pacer::new()),
            expected: Mutex::new(HashMap::new()),
            retry: RetryPolicy::in_request(),
            requests: AtomicU64::new(0),
            tokens_requested: AtomicU64::new(0),
            points_used: AtomicU64::new(0),
            export_threshold: EXPORT_THRESHOLD,
            polling: Polling::default(),
            contact: Contact::default(),
            write_cache: super::writes::WriteCache::default(),
            search_lag_window: super::writes::SEARCH_LAG_WINDOW,
        })
    }

    /// How long an unknown sale is looked for before it may be sent again:
    /// a shop whose search is known to catch up sooner (a simulated one)
    /// may say so; shorter than the real index lag risks a second order.
    pub fn with_search_lag_window(mut self, window: Duration) -> Self {
        self.search_lag_window = window;
        self
    }

    /// Records answers and unreachable requests into `contact`.
    pub fn with_contact(mut self, contact: Contact) -> Self {
        self.contact = contact;
        self
    }

    /// Uses another in-request retry policy (tests shorten it).
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Exports in bulk a resource that counts at least `threshold` objects
    /// (the default is [`EXPORT_THRESHOLD`]; 0 exports everything in bulk,
    /// `u64::MAX` nothing): benchmarks and tests compare the two ways.
    pub fn with_export_threshold(mut self, threshold: u64) -> Self {
        self.export_threshold = threshold;
        self
    }

    /// Polls bulk exports at another pace (tests shorten it).
    pub fn with_polling(mut self, polling: Polling) -> Self {
        self.polling = polling;
        self
    }

    pub(super) fn export_threshold(&self) -> u64 {
        self.export_threshold
    }

    pub(super) fn polling(&self) -> Polling {
        self.polling
    }

    /// Query cost points the shop has charged so far (its
    /// `actualQueryCost`, summed over every answer).
    pub fn points_used(&self) -> u64 {
        self.points_used.load(Ordering::Relaxed)
    }

    /// GraphQL requests sent so far (retries included).
    pub fn requests_sent(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Client-credentials tokens asked for so far.
    pub fn tokens_requested(&self) -> u64 {
        self.tokens_requested.load(Ordering::Relaxed)
    }

    /// The cost bucket as it should stand now, once an answer reported one.
    pub fn bucket(&self) -> Option<cost::Bucket> {
        lock(&self.pacer).bucket(Instant::now())
    }

    /// The HTTP client for downloads that carry no token (a bulk
    /// operation's signed result URL), limited per read, not as a whole.
    pub(super) fn download(&self) -> &reqwest::Client {
        &self.download
    }

    /// The configured location.
    pub(super) fn location(&self) -> &LocationRef {
        &self.location
    }

    pub(super) fn location_cell(&self) -> &tokio::sync::OnceCell<crate::domain::UpstreamId> {
        &self.location_id
    }

    /// A query, retried as reads are.
    pub async fn query(&self, document: &str, variables: Value) -> Result<Answer, Failure> {
        self.request(document, variables, Kind::Read).await
    }

    /// Sends `document` with `variables`, waiting for the cost bucket first
    /// and retrying what `kind` allows.
    pub async fn request(
        &self,
        document: &str,
        variables: Value,
        kind: Kind,
    ) -> Result<Answer, Failure> {
        let key = doc_key(document);
        let body = json!({ "query": document, "variables": variables });
        let mut attempt = 0u32;
        let mut throttled = 0u32;
        let mut renewed = false;
        loop {
            self.pace(key).await;
            let (token, generation) = self.token().await?;
            let started = Instant::now();
            let (status, out) = self.send_once(key, &body, &token).await;
            let metric_kind = match kind {
                Kind::Read => UpstreamKind::Read,
                Kind::Write => UpstreamKind::Write,
            };
            let err = match &out {
                Err(Failure::Upstream(e)) => Some(e.clone()),
                Err(f @ Failure::TooCostly { .. }) => Some(UpstreamError::from(f.clone())),
                Ok(_) => None,
            };
            metrics::record_upstream(metric_kind, started.elapsed(), err.as_ref());
            let Err(Failure::Upstream(e)) = &out else {
                return out;
            };
            match (status, e) {
                // Refused before running: a token that expired early.
                (Some(401), UpstreamError::Auth { .. })
                    if matches!(self.auth, Auth::Credentials { .. }) && !renewed =>
                {
                    renewed = true;
                    self.renew(generation).await?;
                }
                // THROTTLED: the pacer has the bucket and the cost now and
                // waits exactly as long as it takes to refill.
                (Some(200), e) if is_throttled(e) && throttled < MAX_THROTTLED => {
                    throttled += 1;
                    tracing::debug!(
                        throttled,
                        wait_ms = e.retry_after().map(|d| d.as_millis() as u64),
                        "THROTTLED, waiting for the cost bucket"
                    );
                    if e.retry_after().is_none() {
                        // No cost figures came with it: back off blindly.
                        tokio::time::sleep(self.retry.next_delay(throttled - 1, None)).await;
                    }
                }
                // 429: not run either; wait as the shop asked.
                (Some(429), e) if attempt + 1 < self.retry.max_attempts() => {
                    if e.retry_after()
                        .is_some_and(|w| w > self.retry.max_retry_after())
                    {
                        return out;
                    }
                    let delay = self.retry.next_delay(attempt, e.retry_after());
                    tracing::debug!(
                        attempt,
                        delay_ms = delay.as_millis() as u64,
                        "429, retrying"
                    );
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                (_, e)
                    if kind == Kind::Read
                        && e.is_transient()
                        && attempt + 1 < self.retry.max_attempts() =>
                {
                    if e.retry_after()
                        .is_some_and(|w| w > self.retry.max_retry_after())
                    {
                        return out;
                    }
                    let delay = self.retry.next_delay(attempt, e.retry_after());
                    tracing::debug!(attempt, delay_ms = delay.as_millis() as u64, error = %e, "retrying query");
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                _ => return out,
            }
        }
    }

    /// Waits until the bucket should hold what this document reserved last time.
    async fn pace(&self, key: u64) {
        let expected = lock(&self.expected).get(&key).copied().unwrap_or(0.0);
        let wait = lock(&self.pacer).wait_before(expected, Instant::now());
        if !wait.is_zero() {
            tracing::debug!(
                wait_ms = wait.as_millis() as u64,
                expected,
                "pacing to the cost bucket"
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// One POST; the HTTP status when there was an answer.
    async fn send_once(
        &self,
        key: u64,
        body: &Value,
        token: &SecretString,
    ) -> (Option<u16>, Result<Answer, Failure>) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let answered = async {
            let response = self
                .http
                .post(&self.graphql_url)
                .header(ACCESS_TOKEN_HEADER, token.expose_secret())
                .json(body)
                .send()
                .await?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let bytes = response.bytes().await?;
            Ok::<_, reqwest::Error>((status, headers, bytes))
        }
        .await;
        let (status, headers, bytes) = match answered {
            Ok(a) => a,
            Err(e) => {
                let e = transport(e);
                if e.is_unreachable() {
                    self.contact.unreachable(&e.to_string());
                }
                return (None, Err(e.into()));
            }
        };
        self.contact.answered();
        let out = classify::answer(status, &headers, &bytes);
        let reading = match &out {
            Ok(a) => a.cost,
            // A throttled answer carries the bucket too.
            Err(_) if status == 200 => serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|v| cost::read(&v).ok().flatten()),
            Err(_) => None,
        };
        if let Some(c) = reading {
            if let Some(actual) = c.actual {
                self.points_used
                    .fetch_add(actual.max(0.0).round() as u64, Ordering::Relaxed);
            }
            lock(&self.pacer).observe(&c, Instant::now());
            lock(&self.expected).insert(key, c.requested);
        }
        (Some(status), out)
    }

    /// The token to send, renewed first when it is due.
    async fn token(&self) -> Result<(SecretString, u64), UpstreamError> {
        match &self.auth {
            Auth::Static(t) => Ok((t.clone(), 0)),
            Auth::Credentials { state, .. } => {
                let mut s = state.lock().await;
                let now = Instant::now();
                let due = s.refresh_at.is_some_and(|at| now >= at);
                if s.token.is_none() || due {
                    let still_valid = s.token.is_some() && s.expires_at.is_none_or(|end| now < end);
                    match self.fetch_token(&mut s).await {
                        Ok(()) => {}
                        // Renewal is early on purpose: the current token
                        // serves until it ends, and renewal is tried again
                        // with the next request.
                        Err(e) if still_valid => {
                            tracing::warn!(error = %e, "could not renew the Admin API token yet");
                        }
                        Err(e) => return Err(e),
                    }
                }
                let token = s.token.clone().expect("a token was just fetched");
                Ok((token, s.generation))
            }
        }
    }

    /// Renews the token that failed (`generation`), unless another request
    /// already did.
    async fn renew(&self, generation: u64) -> Result<(), UpstreamError> {
        if let Auth::Credentials { state, .. } = &self.auth {
            let mut s = state.lock().await;
            if s.generation == generation {
                self.fetch_token(&mut s).await?;
            }
        }
        Ok(())
    }

    async fn fetch_token(&self, s: &mut TokenState) -> Result<(), UpstreamError> {
        let Auth::Credentials {
            client_id,
            client_secret,
            ..
        } = &self.auth
        else {
            return Ok(());
        };
        self.tokens_requested.fetch_add(1, Ordering::Relaxed);
        let requested_at = Instant::now();
        let response = self
            .http
            .post(&self.token_url)
            .json(&token::request_body(client_id, client_secret))
            .send()
            .await
            .map_err(transport)?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.map_err(transport)?;
        self.contact.answered();
        if !(200..300).contains(&status) {
            // The grant answers 400 `invalid_client` for wrong credentials:
            // as for any refused key, every request will fail alike.
            return Err(match classify::status_error(status, &headers, &bytes) {
                UpstreamError::Rejected {
                    status,
                    code,
                    message,
                } => UpstreamError::Auth {
                    status,
                    code,
                    message,
                },
                other => other,
            });
        }
        let t = token::read_token(&bytes)?;
        s.refresh_at = t.refresh_at(requested_at);
        s.expires_at = t.expires_in.map(|life| requested_at + life);
        s.token = Some(t.access_token);
        s.generation += 1;
        tracing::debug!(generation = s.generation, "new Admin API token");
        Ok(())
    }
}

/// `THROTTLED` at HTTP 200, as [`classify::answer`] reports it.
pub fn is_throttled(e: &UpstreamError) -> bool {
    matches!(e, UpstreamError::Transient { reason, .. } if reason.starts_with("HTTP 200 THROTTLED"))
}

fn doc_key(document: &str) -> u64 {
    let mut h = DefaultHasher::new();
    document.hash(&mut h);
    h.finish()
}

/// A poisoned lock only means another task panicked while holding plain data.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
