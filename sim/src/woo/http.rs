//! The HTTP layer of the sim: reads the request, applies latency and the
//! fault decision, waits for a worker of the server model (`server`), asks
//! the store (`routes::respond`), records the request and shapes the
//! response (PHP notice prefix, truncation, reset).

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use super::clock::http_date;
use super::faults;
use super::routes::params::{parse_php_query, urldecode};
use super::routes::{HttpRequest, respond};
use super::{FaultKind, Inner, RecordedRequest, lock};
use crate::net::ConnKill;

/// Body size accepted for form-encoded and JSON requests.
const MAX_BODY_BYTES: usize = 8 << 20;

/// How long a truncated response stalls before its connection drops.
const TRUNCATE_PAUSE: Duration = Duration::from_millis(10);

/// The HTTP layer: latency, fault decision, the store, recording.
pub(super) async fn serve(
    State(inner): State<Arc<Inner>>,
    ConnectInfo(conn): ConnectInfo<ConnKill>,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let method = parts.method.as_str().to_owned();
    let raw_path = parts.uri.path().to_owned();
    let raw_query = parts.uri.query().unwrap_or("").to_owned();
    let (latency, decision) = {
        let mut f = lock(&inner.faults);
        let decision = f.decide(&method, &raw_path);
        (f.latency, decision)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let is_form = content_type.starts_with("application/x-www-form-urlencoded");
    let is_json = content_type.starts_with("application/json");
    let bytes = if is_form || is_json {
        axum::body::to_bytes(body, MAX_BODY_BYTES)
            .await
            .unwrap_or_default()
    } else {
        Bytes::new()
    };
    let form = if is_form {
        parse_php_query(&String::from_utf8_lossy(&bytes))
    } else {
        Vec::new()
    };
    // WordPress parses a JSON body only when there is one; an empty body
    // is no parameters, not an error.
    let json = (is_json && !bytes.iter().all(u8::is_ascii_whitespace))
        .then(|| serde_json::from_slice::<serde_json::Value>(&bytes).map_err(|_| ()));
    let authorization = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (status, headers, body) = match &decision {
        Some(d) if faults::replaces_store(&d.kind) => faults::page(d),
        _ => {
            // The request waits for one of the server's workers and holds
            // it for its service time (see `server`).
            let front_page = method == "GET" && raw_path == "/";
            let reply = inner
                .server
                .run(front_page, || {
                    respond(
                        &inner.shop,
                        &HttpRequest {
                            method: &method,
                            raw_path: &raw_path,
                            raw_query: &raw_query,
                            authorization: authorization.as_deref(),
                            form,
                            json,
                            trusted: false,
                        },
                    )
                })
                .await;
            (reply.status, reply.headers, reply.body)
        }
    };
    let fault = decision.map(|d| d.kind);
    let recorded_status = if fault == Some(FaultKind::Reset) {
        0
    } else {
        status
    };
    // The store has answered (and committed); the answer is held back.
    if let Some(FaultKind::SlowAnswer { delay_ms }) = &fault {
        tokio::time::sleep(Duration::from_millis(*delay_ms)).await;
    }
    lock(&inner.requests).push(RecordedRequest {
        method,
        path: urldecode(&raw_path.replace('+', "%2B")),
        query: url::form_urlencoded::parse(raw_query.as_bytes())
            .into_owned()
            .collect(),
        status: recorded_status,
        fault: fault.clone(),
    });
    build_response(&inner, status, headers, body, fault.as_ref(), &conn)
}

fn build_response(
    inner: &Inner,
    status: u16,
    headers: Vec<(&'static str, String)>,
    mut body: Vec<u8>,
    fault: Option<&FaultKind>,
    conn: &ConnKill,
) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&http_date(inner.shop.clock.now())) {
        h.insert(header::DATE, v);
    }
    for (name, value) in headers {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.append(name, v);
        }
    }
    match fault {
        Some(FaultKind::HtmlBeforeJson) => {
            let mut with_notice = faults::PHP_NOTICE.to_vec();
            with_notice.append(&mut body);
            *response.body_mut() = Body::from(with_notice);
        }
        Some(FaultKind::Truncated) => {
            // Announce the whole body, send half, then fail the stream so
            // hyper aborts the connection mid-body.
            let full = body.len();
            let half = Bytes::from(body[..full / 2].to_vec());
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(full));
            // The pause lets hyper flush the head and the first half before
            // the failing chunk makes it drop the connection.
            let failure = futures::stream::once(async {
                tokio::time::sleep(TRUNCATE_PAUSE).await;
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    "truncated by fault injection",
                ))
            });
            let stream = futures::StreamExt::chain(
                futures::stream::iter([Ok::<_, std::io::Error>(half)]),
                failure,
            );
            *response.body_mut() = Body::from_stream(stream);
        }
        Some(FaultKind::Reset) => {
            conn.kill();
        }
        _ => *response.body_mut() = Body::from(body),
    }
    response
}
