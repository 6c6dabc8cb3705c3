//! The agent's Prometheus metrics: one process-wide recorder, the names of
//! the series, and the few helpers the recording sites call.
//!
//! Latencies and errors are recorded where they happen (the WooCommerce
//! client's sends, the till lookup routes) through the `metrics` facade;
//! what the replica holds (outbox depth, freshness, webhook totals, file
//! size) is set from the replica when `/metrics` is scraped, so it is never
//! stale and costs nothing between scrapes.
//!
//! The recorder is installed once per process, on first use: tests start
//! many agents in one process, and a second `install` would fail. Every
//! agent in the process then shares the one registry. Labels are bounded
//! (states, resources, error classes, route names): never an id or a URL.

use std::sync::OnceLock;
use std::time::Duration;

use ::metrics::{Unit, counter, describe_counter, describe_gauge, describe_histogram, histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::upstream::UpstreamError;

/// Outbox entries by state (gauge, label `state`).
pub const OUTBOX_ENTRIES: &str = "possync_outbox_entries";
/// Age of the oldest sale the shop has not confirmed (gauge, seconds; 0
/// when none waits).
pub const OLDEST_UNCONFIRMED_SALE: &str = "possync_outbox_oldest_unconfirmed_sale_age_seconds";
/// Last successful poll of a resource (gauge, unix seconds, label `resource`).
pub const LAST_POLL: &str = "possync_last_poll_timestamp_seconds";
/// Share of the shop's objects present locally at the last sweep (gauge,
/// percent, label `resource`).
pub const COMPLETENESS: &str = "possync_completeness_percent";
/// Webhook deliveries by outcome, from the inbox's totals (counter, label
/// `outcome`: received, applied, stale, duplicate, ignored, failed).
pub const WEBHOOK_DELIVERIES: &str = "possync_webhook_deliveries_total";
/// Webhook deliveries refused (bad or missing signature) since the process
/// started (counter).
pub const WEBHOOK_REFUSED: &str = "possync_webhook_deliveries_refused_total";
/// Requests to the shop (histogram, seconds, label `kind`: read, write,
/// webhook_admin).
pub const UPSTREAM_LATENCY: &str = "possync_upstream_request_duration_seconds";
/// Failed requests to the shop (counter, labels `kind` and `class`, the
/// [`UpstreamError`] variant in snake_case).
pub const UPSTREAM_ERRORS: &str = "possync_upstream_errors_total";
/// Till lookups (histogram, seconds, label `lookup`: the route's name).
pub const LOOKUP_LATENCY: &str = "possync_lookup_duration_seconds";
/// The replica's size on disk, its WAL included (gauge, bytes).
pub const REPLICA_SIZE: &str = "possync_replica_size_bytes";

/// Histogram buckets, in seconds: a till lookup takes milliseconds, a slow
/// shop tens of seconds.
const BUCKETS_SECONDS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// The process's recorder handle, installing the recorder on first call.
/// When another recorder was installed first (an embedding program), the
/// handle renders only what it has: nothing recorded through the facade.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new();
        // Explicit buckets: without them the exporter renders summaries,
        // which cannot be aggregated across tills.
        let builder = builder
            .set_buckets(BUCKETS_SECONDS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if ::metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed: /metrics shows only its own");
        } else {
            describe();
        }
        handle
    })
}

fn describe() {
    describe_gauge!(OUTBOX_ENTRIES, "Outbox entries by state");
    describe_gauge!(
        OLDEST_UNCONFIRMED_SALE,
        Unit::Seconds,
        "Age of the oldest sale the shop has not confirmed (0 when none waits)"
    );
    describe_gauge!(
        LAST_POLL,
        Unit::Seconds,
        "Last successful poll of a resource (unix time)"
    );
    describe_gauge!(
        COMPLETENESS,
        Unit::Percent,
        "Share of the shop's objects present locally at the last sweep"
    );
    describe_counter!(
        WEBHOOK_DELIVERIES,
        "Verified webhook deliveries, by outcome (the inbox's totals)"
    );
    describe_counter!(
        WEBHOOK_REFUSED,
        "Webhook deliveries refused for their signature since the agent started"
    );
    describe_histogram!(UPSTREAM_LATENCY, Unit::Seconds, "Requests to the shop");
    describe_counter!(UPSTREAM_ERRORS, "Failed requests to the shop, by class");
    describe_histogram!(LOOKUP_LATENCY, Unit::Seconds, "Till lookups");
    describe_gauge!(
        REPLICA_SIZE,
        Unit::Bytes,
        "The replica's size on disk, WAL included"
    );
}

/// What kind of request went to the shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamKind {
    /// A GET (pages, single objects, the site index).
    Read,
    /// A till change sent upstream (order, refund, customer, stock).
    Write,
    /// A webhook subscription created, changed or deleted.
    WebhookAdmin,
}

impl UpstreamKind {
    fn as_str(self) -> &'static str {
        match self {
            UpstreamKind::Read => "read",
            UpstreamKind::Write => "write",
            UpstreamKind::WebhookAdmin => "webhook_admin",
        }
    }
}

/// Records one request to the shop: how long it took and, if it failed,
/// its class.
pub fn record_upstream(kind: UpstreamKind, took: Duration, error: Option<&UpstreamError>) {
    histogram!(UPSTREAM_LATENCY, "kind" => kind.as_str()).record(took.as_secs_f64());
    if let Some(e) = error {
        counter!(UPSTREAM_ERRORS, "kind" => kind.as_str(), "class" => error_class(e)).increment(1);
    }
}

/// The error's variant in snake_case: its class, whatever the status.
pub fn error_class(e: &UpstreamError) -> &'static str {
    match e {
        UpstreamError::Transient { .. } => "transient",
        UpstreamError::Auth { .. } => "auth",
        UpstreamError::NotFound { .. } => "not_found",
        UpstreamError::Rejected { .. } => "rejected",
        UpstreamError::Malformed { .. } => "malformed",
        UpstreamError::Tls { .. } => "tls",
        UpstreamError::NameNotResolved { .. } => "name_not_resolved",
        UpstreamError::Setup(_) => "setup",
    }
}

/// Records one till lookup, by route name.
pub fn record_lookup(lookup: &'static str, took: Duration) {
    histogram!(LOOKUP_LATENCY, "lookup" => lookup).record(took.as_secs_f64());
}

/// Counts a webhook delivery refused for its signature.
pub fn webhook_refused() {
    counter!(WEBHOOK_REFUSED).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[rstest::rstest]
    #[case::transient(UpstreamError::Transient { reason: "x".into(), retry_after: None }, "transient")]
    #[case::auth(UpstreamError::Auth { status: 401, code: "c".into(), message: "m".into() }, "auth")]
    #[case::rejected_is_rejected_whatever_the_status(UpstreamError::Rejected { status: 500, code: "c".into(), message: "m".into() }, "rejected")]
    #[case::name(UpstreamError::NameNotResolved { reason: "x".into() }, "name_not_resolved")]
    fn error_classes_are_the_variant_names(#[case] e: UpstreamError, #[case] class: &str) {
        assert_eq!(error_class(&e), class);
    }

    #[test]
    fn the_recorder_installs_once_and_renders_histograms() {
        let a = handle() as *const PrometheusHandle;
        let b = handle() as *const PrometheusHandle;
        assert_eq!(a, b);
        record_lookup("products", Duration::from_millis(3));
        let text = handle().render();
        assert!(
            text.contains("possync_lookup_duration_seconds_bucket{lookup=\"products\""),
            "{text}"
        );
    }
}
