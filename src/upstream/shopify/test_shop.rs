//! A scripted shop on loopback for the client's tests: real HTTP, answering
//! each GraphQL POST with the next scripted reply (captured fixture bodies),
//! recording what it was sent. Not a simulated store: it knows nothing of
//! Shopify beyond the routes.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use secrecy::SecretString;
use serde_json::Value;
use url::Url;

use super::connection::{LocationRef, ShopifyAuth, ShopifyConnection};
use crate::upstream::retry::RetryPolicy;

/// One reply.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn ok(body: impl Into<Vec<u8>>) -> Self {
        Reply {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.into(),
        }
    }

    pub fn json(v: &Value) -> Self {
        Reply::ok(serde_json::to_vec(v).unwrap())
    }

    pub fn status(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Reply {
            status,
            ..Reply::ok(body)
        }
    }

    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.into(), v.into()));
        self
    }
}

/// A request the shop received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Value,
    pub at: Instant,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

#[derive(Default)]
struct Script {
    graphql: VecDeque<Reply>,
    token: VecDeque<Reply>,
    seen: Vec<Seen>,
    /// Files served at `/files/{name}`, sent in chunks of `chunk` bytes.
    files: HashMap<String, Vec<u8>>,
    /// How many times each file was fetched.
    fetched: HashMap<String, usize>,
    /// Files sent in two parts, the second only once the gate opens.
    gated: HashMap<String, Gated>,
}

/// A file's first part, its held-back rest and the gate that releases it.
type Gated = (Vec<u8>, Vec<u8>, Arc<tokio::sync::Notify>);

#[derive(Clone, Default)]
pub struct TestShop {
    script: Arc<Mutex<Script>>,
    pub addr: Option<SocketAddr>,
}

/// The bytes of a fixture under `tests/fixtures/shopify/`.
pub fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/shopify/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn fixture_json(path: &str) -> Value {
    serde_json::from_slice(&fixture(path)).unwrap()
}

impl TestShop {
    pub async fn start() -> TestShop {
        let mut shop = TestShop::default();
        let app = Router::new()
            .route("/admin/api/{version}/graphql.json", post(graphql))
            .route("/admin/oauth/access_token", post(token))
            .route("/files/{name}", get(file))
            .with_state(shop.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        shop.addr = Some(listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        shop
    }

    pub fn url(&self) -> Url {
        Url::parse(&format!("http://{}", self.addr.unwrap())).unwrap()
    }

    pub fn then(&self, reply: Reply) -> &Self {
        self.script.lock().unwrap().graphql.push_back(reply);
        self
    }

    pub fn then_token(&self, reply: Reply) -> &Self {
        self.script.lock().unwrap().token.push_back(reply);
        self
    }

    pub fn serve_file(&self, name: &str, bytes: Vec<u8>) {
        self.script
            .lock()
            .unwrap()
            .files
            .insert(name.to_owned(), bytes);
    }

    /// Serves `first`, then holds the response open until the returned
    /// gate is notified, then sends `rest`.
    pub fn serve_gated(
        &self,
        name: &str,
        first: Vec<u8>,
        rest: Vec<u8>,
    ) -> Arc<tokio::sync::Notify> {
        let gate = Arc::new(tokio::sync::Notify::new());
        self.script
            .lock()
            .unwrap()
            .gated
            .insert(name.to_owned(), (first, rest, gate.clone()));
        gate
    }

    pub fn fetched(&self, name: &str) -> usize {
        self.script
            .lock()
            .unwrap()
            .fetched
            .get(name)
            .copied()
            .unwrap_or(0)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.script.lock().unwrap().seen.clone()
    }

    /// GraphQL replies not yet sent.
    pub fn unused(&self) -> usize {
        self.script.lock().unwrap().graphql.len()
    }

    /// A connection to this shop with a fixed token.
    pub fn connection(&self) -> ShopifyConnection {
        ShopifyConnection {
            shop_url: self.url(),
            api_version: "2026-04".to_owned(),
            auth: ShopifyAuth::Token(SecretString::from("shpat_test".to_owned())),
            location: LocationRef::Id(1),
            timeout: Duration::from_secs(5),
            verify_tls: true,
        }
    }
}

/// Fast retries for tests.
pub fn quick_retry() -> RetryPolicy {
    RetryPolicy::new(
        Duration::from_millis(5),
        Duration::from_millis(20),
        Duration::from_secs(10),
        4,
    )
    .unwrap()
}

fn respond(r: Option<Reply>) -> Response {
    let r = r.unwrap_or_else(|| Reply::status(500, "the test script has no reply left"));
    let mut b = Response::builder().status(StatusCode::from_u16(r.status).unwrap());
    for (k, v) in &r.headers {
        b = b.header(k, v);
    }
    b.body(Body::from(r.body)).unwrap()
}

fn record(shop: &TestShop, path: String, headers: HeaderMap, body: &Bytes) {
    let body = serde_json::from_slice(body).unwrap_or(Value::Null);
    shop.script.lock().unwrap().seen.push(Seen {
        path,
        headers,
        body,
        at: Instant::now(),
    });
}

async fn graphql(
    State(shop): State<TestShop>,
    Path(version): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    record(
        &shop,
        format!("/admin/api/{version}/graphql.json"),
        headers,
        &body,
    );
    let next = shop.script.lock().unwrap().graphql.pop_front();
    respond(next)
}

async fn token(State(shop): State<TestShop>, headers: HeaderMap, body: Bytes) -> Response {
    record(&shop, "/admin/oauth/access_token".into(), headers, &body);
    let next = shop.script.lock().unwrap().token.pop_front();
    respond(next)
}

/// Streams a file in small chunks, so a reader sees it arrive in pieces.
async fn file(State(shop): State<TestShop>, Path(name): Path<String>) -> Response {
    let (bytes, gated) = {
        let mut s = shop.script.lock().unwrap();
        *s.fetched.entry(name.clone()).or_default() += 1;
        (s.files.get(&name).cloned(), s.gated.get(&name).cloned())
    };
    if let Some((first, rest, gate)) = gated {
        let parts = futures::stream::unfold(0u8, move |step| {
            let (first, rest, gate) = (first.clone(), rest.clone(), gate.clone());
            async move {
                match step {
                    0 => Some((Ok::<_, std::io::Error>(Bytes::from(first)), 1)),
                    1 => {
                        gate.notified().await;
                        Some((Ok(Bytes::from(rest)), 2))
                    }
                    _ => None,
                }
            }
        });
        return Response::builder()
            .status(200)
            .header("content-type", "application/jsonl")
            .body(Body::from_stream(parts))
            .unwrap();
    }
    let Some(bytes) = bytes else {
        return respond(Some(Reply::status(404, "no such file")));
    };
    let chunks: Vec<Result<Bytes, std::io::Error>> = bytes
        .chunks(64)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    Response::builder()
        .status(200)
        .header("content-type", "application/jsonl")
        .body(Body::from_stream(futures::stream::iter(chunks)))
        .unwrap()
}
