//! The real store under test, reached with plain REST calls for arranging
//! and checking; the simulated store reached the same way over HTTP; and an
//! agent configured for the real store.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use possync::config::{Config, StoreConfig, StoreMode, SyncConfig};
use possync::domain::GmtTime;
use possync::upstream::woo::auth::{self, AuthMode, OAuthRequest, SignatureMethod};
use possync_sim::woo::SimHandle;
use reqwest::Method;
use serde_json::Value;
use tokio::sync::{Mutex, MutexGuard};
use url::Url;

/// The environment variable naming the real store.
pub const STORE_ENV: &str = "POSSYNC_CONTRACT_STORE";
/// An optional read-only key of the same store, `CK CS`.
pub const READ_ONLY_ENV: &str = "POSSYNC_CONTRACT_READ_ONLY_KEY";
/// The REST namespace.
const REST: &str = "/wp-json/wc/v3";

/// Contract tests take turns on the one real store: a test counting what
/// the store holds must not see another test's objects come and go.
static TURN: Mutex<()> = Mutex::const_new(());

/// Writes one line to the terminal, past the test harness's capture, so a
/// skipped test is visible in a plain `cargo test`.
pub fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// A store's answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub total: Option<u64>,
}

impl Reply {
    /// The WordPress error code, when the answer is an error.
    pub fn code(&self) -> Option<&str> {
        self.body.get("code").and_then(Value::as_str)
    }

    /// The top-level keys of an object, or of a list's first item.
    pub fn keys(&self) -> BTreeSet<String> {
        let obj = match &self.body {
            Value::Array(items) => items.first(),
            other => Some(other),
        };
        obj.and_then(Value::as_object)
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    }

    pub fn id(&self) -> i64 {
        self.body["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("no id in {} {}", self.status, self.body))
    }

    /// Panics with the answer unless the status is `want`.
    pub fn expect(self, want: u16, what: &str) -> Self {
        assert_eq!(self.status, want, "{what}: {}", self.body);
        self
    }
}

/// Credentials for one shop.
#[derive(Debug, Clone)]
pub struct Keys {
    pub key: String,
    pub secret: String,
}

/// The real WooCommerce store.
pub struct Shop {
    pub url: Url,
    pub keys: Keys,
    /// A read-only key, when one was given.
    pub read_only: Option<Keys>,
    http: reqwest::Client,
    _turn: MutexGuard<'static, ()>,
}

impl Shop {
    /// The store named by [`STORE_ENV`], once it is this test's turn; `None`
    /// (after saying so) when none is given.
    pub async fn take(test: &str) -> Option<Shop> {
        let Some(line) = std::env::var(STORE_ENV)
            .ok()
            .filter(|v| !v.trim().is_empty())
        else {
            say(&format!(
                "contract {test}: SKIPPED: {STORE_ENV} is not set (\"URL CK CS\" of a real WooCommerce store, e.g. from ../shared/realstore/up.sh)"
            ));
            return None;
        };
        let mut parts = line.split_whitespace();
        let (Some(url), Some(key), Some(secret)) = (parts.next(), parts.next(), parts.next())
        else {
            panic!(
                "{STORE_ENV} must be \"URL CK CS\" (got {} words)",
                line.split_whitespace().count()
            );
        };
        let read_only = std::env::var(READ_ONLY_ENV).ok().and_then(|v| {
            let mut p = v.split_whitespace();
            Some(Keys {
                key: p.next()?.to_owned(),
                secret: p.next()?.to_owned(),
            })
        });
        let turn = TURN.lock().await;
        Some(Shop {
            url: url.parse().expect("the store URL parses"),
            keys: Keys {
                key: key.to_owned(),
                secret: secret.to_owned(),
            },
            read_only,
            http: reqwest::Client::builder()
                // The store's certificate is self-signed.
                .danger_accept_invalid_certs(true)
                // Tells the suite's own requests apart in the store's log.
                .user_agent("possync-contract-suite")
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
            _turn: turn,
        })
    }

    /// A REST call with the read/write key.
    pub async fn rest(&self, method: Method, route: &str, body: Option<Value>) -> Reply {
        self.rest_as(&self.keys, method, route, body).await
    }

    /// A REST call with `keys` (Basic over HTTPS, as the agent does).
    pub async fn rest_as(
        &self,
        keys: &Keys,
        method: Method,
        route: &str,
        body: Option<Value>,
    ) -> Reply {
        let url = format!("{}{REST}/{route}", self.url.as_str().trim_end_matches('/'));
        let mut req = self
            .http
            .request(method, url)
            .basic_auth(&keys.key, Some(&keys.secret));
        if let Some(b) = body {
            req = req.json(&b);
        }
        reply(req.send().await.expect("the real store answers")).await
    }

    pub async fn get(&self, route: &str) -> Value {
        self.rest(Method::GET, route, None)
            .await
            .expect(200, route)
            .body
    }

    /// Every id of a list (all pages of 100), checked against the count the
    /// store gives for it (`X-WP-Total`).
    pub async fn ids(&self, route: &str) -> Vec<i64> {
        let sep = if route.contains('?') { '&' } else { '?' };
        let mut out = Vec::new();
        let mut total = None;
        for page in 1.. {
            let r = self
                .rest(
                    Method::GET,
                    &format!("{route}{sep}per_page=100&page={page}&_fields=id"),
                    None,
                )
                .await
                .expect(200, route);
            total = total.or(r.total);
            let items = r.body.as_array().cloned().unwrap_or_default();
            out.extend(items.iter().filter_map(|i| i["id"].as_i64()));
            if items.len() < 100 {
                break;
            }
        }
        assert_eq!(
            Some(out.len() as u64),
            total,
            "{route}: listed vs X-WP-Total"
        );
        out.sort_unstable();
        out
    }

    /// Deletes for good, ignoring what is already gone.
    pub async fn delete(&self, route: &str) {
        let sep = if route.contains('?') { '&' } else { '?' };
        let r = self
            .rest(Method::DELETE, &format!("{route}{sep}force=true"), None)
            .await;
        assert!(
            r.status == 200 || r.status == 404,
            "cleaning up {route}: {} {}",
            r.status,
            r.body
        );
    }

    /// A product's stock as the shop counts it.
    pub async fn stock(&self, route: &str) -> Option<i64> {
        self.get(&format!("{route}?_fields=id,stock_quantity"))
            .await["stock_quantity"]
            .as_i64()
    }

    /// An agent configuration for this store with its data in `dir`.
    pub fn store_config(&self) -> StoreConfig {
        let mut store = StoreConfig {
            verify_tls: false,
            timeout: Duration::from_secs(30),
            mode: StoreMode::Staging,
            ..StoreConfig::oauth1(self.url.clone(), &self.keys.key, &self.keys.secret)
        };
        if let Some(woo) = store.woo_mut() {
            woo.auth = AuthMode::Basic;
        }
        store
    }

    /// Points an agent configuration (made for the sim) at this store.
    pub fn point(&self, c: &mut Config) {
        c.store = Some(self.store_config());
        c.sync = SyncConfig {
            page_size: 100,
            concurrency: 2,
            order_window_days: 0,
            ..SyncConfig::default()
        };
    }

    /// `POSSYNC_*` variables configuring the CLI for this store.
    pub fn cli_env(&self, dir: &Path) -> Vec<(&'static str, String)> {
        vec![
            ("POSSYNC_STORE_URL", self.url.to_string()),
            ("POSSYNC_STORE_CONSUMER_KEY", self.keys.key.clone()),
            ("POSSYNC_STORE_CONSUMER_SECRET", self.keys.secret.clone()),
            ("POSSYNC_STORE_VERIFY_TLS", "false".to_owned()),
            ("POSSYNC_DATA_DIR", dir.display().to_string()),
        ]
    }
}

async fn reply(res: reqwest::Response) -> Reply {
    let status = res.status().as_u16();
    let total = res
        .headers()
        .get("x-wp-total")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let bytes = res.bytes().await.unwrap_or_default();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    Reply {
        status,
        body,
        total,
    }
}

/// The simulated store, reached over HTTP with OAuth 1.0a as a client
/// reaches a shop on plain HTTP.
pub struct SimRest {
    base: String,
    pub keys: Keys,
    http: reqwest::Client,
}

impl SimRest {
    pub fn new(sim: &SimHandle) -> SimRest {
        SimRest {
            base: sim.url(),
            keys: Keys {
                key: sim.consumer_key().to_owned(),
                secret: sim.consumer_secret().to_owned(),
            },
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
        }
    }

    pub async fn rest(&self, method: Method, route: &str, body: Option<Value>) -> Reply {
        self.rest_as(&self.keys, method, route, body).await
    }

    pub async fn rest_as(
        &self,
        keys: &Keys,
        method: Method,
        route: &str,
        body: Option<Value>,
    ) -> Reply {
        let (path, query) = route.split_once('?').unwrap_or((route, ""));
        let query: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let signing_url = format!("{}{REST}/{path}", self.base);
        let nonce = auth::new_nonce();
        let oauth = auth::oauth1_params(&OAuthRequest {
            method: method.as_str(),
            signing_url: &signing_url,
            query: &query,
            consumer_key: &keys.key,
            consumer_secret: &keys.secret,
            timestamp: u64::try_from(GmtTime::now().unix()).unwrap_or(0),
            nonce: &nonce,
            signature_method: SignatureMethod::HmacSha256,
        });
        let mut all = query;
        all.extend(oauth);
        let mut req = self.http.request(method, &signing_url).query(&all);
        if let Some(b) = body {
            req = req.json(&b);
        }
        reply(req.send().await.expect("the sim answers")).await
    }
}

/// A short id for this run, put in names and emails.
pub fn run_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..10].to_owned()
}
