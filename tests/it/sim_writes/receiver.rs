//! A webhook receiver for tests: records every request (headers in order,
//! raw body), answers a chosen status, and can hold answers back until
//! released so that deliveries pile up in the store's queue.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use tokio::sync::{Semaphore, watch};

#[derive(Debug, Clone)]
pub struct Received {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

struct Shared {
    got: Mutex<Vec<Received>>,
    count: watch::Sender<usize>,
    status: AtomicU16,
    /// When set, each answer waits for a permit.
    gate: Option<Semaphore>,
}

pub struct Receiver {
    pub url: String,
    shared: Arc<Shared>,
}

async fn hook(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    s.got.lock().unwrap().push(Received {
        headers: headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect(),
        body: body.to_vec(),
    });
    s.count.send_modify(|n| *n += 1);
    if let Some(gate) = &s.gate {
        gate.acquire().await.expect("gate open").forget();
    }
    StatusCode::from_u16(s.status.load(Ordering::SeqCst)).unwrap()
}

impl Receiver {
    pub async fn start(gated: bool) -> Receiver {
        let shared = Arc::new(Shared {
            got: Mutex::new(Vec::new()),
            count: watch::channel(0).0,
            status: AtomicU16::new(200),
            gate: gated.then(|| Semaphore::new(0)),
        });
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new().fallback(hook).with_state(shared.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver {
            url: format!("http://{addr}/hook"),
            shared,
        }
    }

    pub fn answer(&self, status: u16) {
        self.shared.status.store(status, Ordering::SeqCst);
    }

    /// Lets `n` held answers go.
    pub fn release(&self, n: usize) {
        if let Some(g) = &self.shared.gate {
            g.add_permits(n);
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.got.lock().unwrap().clone()
    }

    /// Waits until at least `n` requests arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        let mut rx = self.shared.count.subscribe();
        tokio::time::timeout(Duration::from_secs(10), rx.wait_for(|c| *c >= n))
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {n} deliveries"))
            .expect("receiver alive");
        self.received()
    }
}
