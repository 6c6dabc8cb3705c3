//! `GET /metrics`: the agent's health in Prometheus text format, behind a
//! bearer token like the API (a scraper sends `Authorization: Bearer`).
//!
//! Latencies and error counts are recorded where they happen (see
//! [`crate::telemetry::metrics`]); what the replica holds is read here, at
//! scrape time, in one read of the replica and one of the inbox, and set
//! on the gauges before the text is rendered.

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics::{counter, gauge};

use super::{ApiError, AppState};
use crate::domain::outbox::EntryState;
use crate::domain::time::unix_millis_now;
use crate::store::{delta, diagnostics, outbox};
use crate::telemetry::metrics::{self as names, handle};

/// The exposition format's content type.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/metrics", get(scrape))
}

async fn scrape(State(state): State<AppState>) -> Result<Response, ApiError> {
    let handle = handle();
    let replica = state.store.read(|c| {
        let states = outbox::counts(c)?;
        let oldest = outbox::oldest_unconfirmed_sale_at(c)?;
        let freshness = delta::freshness(c)?;
        Ok((states, oldest, freshness))
    });
    let path = state.store.path().to_path_buf();
    let size = tokio::task::spawn_blocking(move || diagnostics::file_bytes(&path));
    let webhooks = state.store.inbox().stats(0);
    let ((states, oldest, freshness), webhooks) = tokio::try_join!(replica, webhooks)?;
    let size = size.await.unwrap_or(0);

    for s in EntryState::ALL {
        let n = states
            .iter()
            .find(|(st, _)| *st == s)
            .map_or(0, |(_, n)| *n);
        gauge!(names::OUTBOX_ENTRIES, "state" => s.as_str()).set(n as f64);
    }
    let age_ms = oldest.map_or(0, |at| (unix_millis_now() - at).max(0));
    gauge!(names::OLDEST_UNCONFIRMED_SALE).set(age_ms as f64 / 1000.0);
    for f in &freshness {
        let resource = f.resource.as_str();
        if let Some(at) = f.last_poll_at {
            gauge!(names::LAST_POLL, "resource" => resource).set((at / 1000) as f64);
        }
        if let Some(pct) = f.complete_pct {
            gauge!(names::COMPLETENESS, "resource" => resource).set(pct);
        }
    }
    for (outcome, n) in [
        ("received", webhooks.received),
        ("applied", webhooks.applied),
        ("stale", webhooks.stale),
        ("duplicate", webhooks.duplicates),
        ("ignored", webhooks.ignored),
        ("failed", webhooks.failed),
    ] {
        counter!(names::WEBHOOK_DELIVERIES, "outcome" => outcome).absolute(n.max(0) as u64);
    }
    // Registered at zero, so the series exists before the first refusal.
    counter!(names::WEBHOOK_REFUSED).increment(0);
    gauge!(names::REPLICA_SIZE).set(size as f64);

    Ok((
        [
            (header::CONTENT_TYPE, CONTENT_TYPE),
            (header::CACHE_CONTROL, "no-store"),
        ],
        handle.render(),
    )
        .into_response())
}

/// Times every till lookup, labelled by the route's name (never its path
/// with an id in it).
pub(super) async fn time_lookup(
    matched: Option<MatchedPath>,
    req: Request,
    next: Next,
) -> Response {
    let lookup = matched
        .as_ref()
        .map_or("other", |m| lookup_name(m.as_str()));
    let started = std::time::Instant::now();
    let res = next.run(req).await;
    names::record_lookup(lookup, started.elapsed());
    res
}

fn lookup_name(route: &str) -> &'static str {
    match route {
        "/api/products" => "products",
        "/api/products/{id}" => "product",
        "/api/products/{id}/variations" => "variations",
        "/api/customers" => "customers",
        "/api/customers/{id}" => "customer",
        "/api/orders" => "orders",
        "/api/orders/{id}" => "order",
        "/api/pickups" => "pickups",
        _ => "other",
    }
}
