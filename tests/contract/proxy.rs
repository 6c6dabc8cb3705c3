//! A fault proxy in front of the real store: it forwards every request and
//! its answer, except that it can let the store process (and commit) a
//! matching request and then drop the connection before any byte of the
//! answer: the ambiguous case the sim's `Reset` fault plays, here with a
//! real shop behind it.
//!
//! hyper serves each connection; dropping the connection future mid-request
//! closes the socket, so no HTTP is parsed or written by hand.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use url::Url;

/// A request the proxy saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    /// Whether its answer was dropped.
    pub dropped: bool,
}

#[derive(Default)]
struct State {
    /// `(method, path suffix)`: the next matching request is forwarded and
    /// its answer dropped.
    drop_next: Vec<(String, String)>,
    seen: Vec<Seen>,
}

/// A running proxy.
pub struct FaultProxy {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// Listens on a loopback port and forwards to `upstream` (TLS not
    /// verified: the store's certificate is self-signed).
    pub async fn spawn(upstream: Url) -> FaultProxy {
        let listener = TcpListener::bind(crate::common::any_port()).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let http = reqwest::Client::builder()
            .danger_accept_invalid_certs(true)
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let base = upstream.as_str().trim_end_matches('/').to_owned();
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (state, http, base) = (shared.clone(), http.clone(), base.clone());
                tokio::spawn(async move {
                    let (cut_tx, cut_rx) = oneshot::channel::<()>();
                    let cut = Arc::new(Mutex::new(Some(cut_tx)));
                    let service = hyper::service::service_fn(move |req| {
                        forward(state.clone(), http.clone(), base.clone(), cut.clone(), req)
                    });
                    let conn = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service);
                    // Dropping the connection closes the socket unanswered.
                    tokio::select! {
                        _ = conn => {}
                        _ = cut_rx => {}
                    }
                });
            }
        });
        FaultProxy { addr, state, task }
    }

    pub fn url(&self) -> Url {
        format!("http://{}", self.addr).parse().unwrap()
    }

    /// The next `method` request whose path ends with `suffix` reaches the
    /// store, and its answer is lost.
    pub fn drop_answer(&self, method: &str, suffix: &str) {
        self.state
            .lock()
            .unwrap()
            .drop_next
            .push((method.to_owned(), suffix.to_owned()));
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn forward(
    state: Arc<Mutex<State>>,
    http: reqwest::Client,
    base: String,
    cut: Arc<Mutex<Option<oneshot::Sender<()>>>>,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(Body::new(body), usize::MAX)
        .await
        .unwrap_or_default();
    let path = parts.uri.path().to_owned();
    let target = format!(
        "{base}{}",
        parts.uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let mut out = http.request(parts.method.clone(), target).body(bytes);
    for (name, value) in &parts.headers {
        if name != hyper::header::HOST && name != hyper::header::CONTENT_LENGTH {
            out = out.header(name, value);
        }
    }
    let drop_it = {
        let mut s = state.lock().unwrap();
        let hit = s
            .drop_next
            .iter()
            .position(|(m, p)| *m == parts.method.as_str() && path.ends_with(p.as_str()));
        if let Some(i) = hit {
            s.drop_next.remove(i);
        }
        s.seen.push(Seen {
            method: parts.method.to_string(),
            path: path.clone(),
            dropped: hit.is_some(),
        });
        hit.is_some()
    };
    let answer = out.send().await;
    if drop_it {
        // The store has answered, so it has committed; the client never
        // hears of it.
        if let Ok(a) = answer {
            let _ = a.bytes().await;
        }
        if let Some(tx) = cut.lock().unwrap().take() {
            let _ = tx.send(());
        }
        return std::future::pending().await;
    }
    let Ok(answer) = answer else {
        return Ok(Response::builder()
            .status(502)
            .body(Body::from("the real store did not answer the proxy"))
            .unwrap());
    };
    let mut res = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if name != hyper::header::CONTENT_LENGTH && name != hyper::header::TRANSFER_ENCODING {
            res = res.header(name, value);
        }
    }
    let body = answer.bytes().await.unwrap_or_default();
    Ok(res.body(Body::from(body)).unwrap())
}
