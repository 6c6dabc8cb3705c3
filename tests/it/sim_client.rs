//! A small signed client for tests against the simulated store.
//!
//! It signs with possync's own client-side OAuth signer, so these tests also
//! prove that signer and the sim's independent verifier agree.

use possync::upstream::woo::auth::{
    OAuthRequest, SignatureMethod, new_nonce, oauth1_params, percent_encode,
};
use possync_sim::woo::SimHandle;
use reqwest::header::HeaderMap;
use serde_json::Value;

/// Where the OAuth parameters travel.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Carrier {
    /// In the query string, as most clients do over HTTP.
    Query,
    /// In an `Authorization: OAuth ...` header, keeping the query clean.
    Header,
}

pub struct SimClient {
    pub http: reqwest::Client,
    /// Where requests go (`http://127.0.0.1:PORT`).
    pub base: String,
    /// What signatures are computed for (scheme + host + port + path).
    pub signing_base: String,
    pub key: String,
    pub secret: String,
    pub carrier: Carrier,
    pub method: SignatureMethod,
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    pub fn total(&self) -> usize {
        self.header("x-wp-total")
            .and_then(|v| v.parse().ok())
            .expect("X-WP-Total")
    }

    pub fn ids(&self) -> Vec<i64> {
        self.json()
            .as_array()
            .expect("a list")
            .iter()
            .map(|o| o["id"].as_i64().expect("id"))
            .collect()
    }
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("reqwest client")
}

fn encode_query(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

impl SimClient {
    pub fn new(sim: &SimHandle) -> Self {
        Self {
            http: http(),
            base: sim.url(),
            signing_base: sim.url(),
            key: sim.consumer_key().to_owned(),
            secret: sim.consumer_secret().to_owned(),
            carrier: Carrier::Query,
            method: SignatureMethod::HmacSha256,
        }
    }

    pub fn with_carrier(mut self, carrier: Carrier) -> Self {
        self.carrier = carrier;
        self
    }

    /// The URL and `Authorization` header of a signed GET.
    pub fn signed(
        &self,
        route: &str,
        query: &[(&str, &str)],
        timestamp: u64,
        nonce: &str,
    ) -> (String, Option<String>) {
        let path = format!("/wp-json/wc/v3/{route}");
        let query: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let signing_url = format!("{}{path}", self.signing_base);
        let oauth = oauth1_params(&OAuthRequest {
            method: "GET",
            signing_url: &signing_url,
            query: &query,
            consumer_key: &self.key,
            consumer_secret: &self.secret,
            timestamp,
            nonce,
            signature_method: self.method,
        });
        match self.carrier {
            Carrier::Query => {
                let mut all = query;
                all.extend(oauth);
                (format!("{}{path}?{}", self.base, encode_query(&all)), None)
            }
            Carrier::Header => {
                let header = oauth
                    .iter()
                    .map(|(k, v)| format!("{k}=\"{}\"", percent_encode(v)))
                    .collect::<Vec<_>>()
                    .join(", ");
                let url = if query.is_empty() {
                    format!("{}{path}", self.base)
                } else {
                    format!("{}{path}?{}", self.base, encode_query(&query))
                };
                (url, Some(format!("OAuth {header}")))
            }
        }
    }

    pub async fn send(&self, url: &str, authorization: Option<&str>) -> Reply {
        let mut req = self.http.get(url);
        if let Some(a) = authorization {
            req = req.header("Authorization", a);
        }
        let resp = req.send().await.expect("request reaches the sim");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.expect("whole body").to_vec();
        Reply {
            status,
            headers,
            body,
        }
    }

    /// A signed GET of `/wp-json/wc/v3/{route}`, fresh nonce, sim-clock-free
    /// timestamp (the system clock).
    pub async fn get(&self, route: &str, query: &[(&str, &str)]) -> Reply {
        let (url, auth) = self.signed(route, query, now_unix(), &new_nonce());
        self.send(&url, auth.as_deref()).await
    }

    /// A signed request of any method with an optional JSON body (bodies
    /// are not part of an OAuth 1.0a signature). `Err` when no answer came.
    pub async fn try_write(
        &self,
        method: &str,
        route: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Reply, reqwest::Error> {
        let path = format!("/wp-json/wc/v3/{route}");
        let query: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let signing_url = format!("{}{path}", self.signing_base);
        let oauth = oauth1_params(&OAuthRequest {
            method,
            signing_url: &signing_url,
            query: &query,
            consumer_key: &self.key,
            consumer_secret: &self.secret,
            timestamp: now_unix(),
            nonce: &new_nonce(),
            signature_method: self.method,
        });
        let mut all = query;
        all.extend(oauth);
        let url = format!("{}{path}?{}", self.base, encode_query(&all));
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        let mut req = self.http.request(method, &url);
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.bytes().await?.to_vec();
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    /// A signed write that must get an answer.
    pub async fn write(&self, method: &str, route: &str, body: Option<&Value>) -> Reply {
        self.try_write(method, route, &[], body)
            .await
            .unwrap_or_else(|e| panic!("{method} {route}: no answer: {e}"))
    }

    /// A GET without any credentials.
    pub async fn get_anonymous(&self, route: &str, query: &[(&str, &str)]) -> Reply {
        let q: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let url = format!("{}/wp-json/wc/v3/{route}?{}", self.base, encode_query(&q));
        self.send(&url, None).await
    }

    /// Every item of a collection, walking pages of 100.
    pub async fn get_all(&self, route: &str, query: &[(&str, &str)]) -> Vec<Value> {
        let mut out = Vec::new();
        let mut page = 1;
        loop {
            let page_s = page.to_string();
            let mut q = query.to_vec();
            q.push(("per_page", "100"));
            q.push(("page", &page_s));
            let reply = self.get(route, &q).await;
            assert_eq!(
                reply.status,
                200,
                "{route} page {page}: {}",
                String::from_utf8_lossy(&reply.body)
            );
            let pages: usize = reply
                .header("x-wp-totalpages")
                .and_then(|v| v.parse().ok())
                .unwrap_or(1);
            out.extend(reply.json().as_array().expect("a list").iter().cloned());
            if page >= pages {
                return out;
            }
            page += 1;
        }
    }
}

pub fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}
