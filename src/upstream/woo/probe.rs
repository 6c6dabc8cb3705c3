//! "Test connection": what a shop owner setting the agent up needs to know
//! about the configured shop (its name, WooCommerce version and currency,
//! whether the key can read and write), or the one reason it cannot work,
//! in a sentence they can act on. Nothing in the shop is changed.
//!
//! Four requests, asked together so the answer comes within one round trip
//! (and always within the store timeout), none retried:
//! - `GET /wp-json/?_fields=name`: WordPress's public index, the shop's
//!   name; sent without credentials (outside `wc/` WordPress would try the
//!   key as an application password).
//! - `GET wc/v3/products?per_page=1&_fields=id`: the key can read what the
//!   agent mirrors.
//! - `GET wc/v3/system_status?_fields=environment.version,settings.currency`:
//!   version and currency; any key whose user manages the shop may read it,
//!   and with `_fields` WooCommerce computes only those two fields (no
//!   remote checks).
//! - `POST wc/v3/system_status` with no parameters: whether the key can
//!   write. WooCommerce checks the key's permission for the method on
//!   `rest_pre_dispatch`, before any route is matched
//!   (`WC_REST_Authentication::check_permissions`): a read-only key is
//!   refused there ("does not have write permissions"); a key that may
//!   write passes, and the request then ends at routing, 404
//!   `rest_no_route`, because `system_status` has no POST handler. No
//!   handler runs for either, so nothing can change.
//!
//! Each failure is read from the errors [`classify`] made
//! ([`UpstreamError`] classes and [`classify::key_refusal`]), never from
//! the text of a page.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde::Serialize;
use serde_json::{Value, json};

use super::classify::{self, KeyRefusal};
use super::client::{Answer, WooClient};
use crate::config::StoreConfig;
use crate::upstream::UpstreamError;
use crate::upstream::retry::RetryPolicy;
use crate::upstream::writes::WriteFailure;

/// Why the agent cannot work with the configured shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionFailure {
    /// The shop's host name does not exist.
    NameNotResolved,
    /// The shop's TLS certificate was refused.
    TlsRefused,
    /// No connection: refused, timed out, reset, no network.
    Unreachable,
    /// Nothing answers under `/wp-json/` (a 404 there).
    NoRestApi,
    /// A web page came where the REST API's JSON should be.
    HtmlPage,
    /// WordPress's REST API answers, WooCommerce's routes do not.
    NoWooCommerce,
    /// The shop does not know the consumer key.
    WrongKey,
    /// The consumer secret does not match the key.
    WrongSecret,
    /// The key may read but not write.
    ReadOnlyKey,
    /// The key may write but not read.
    WriteOnlyKey,
    /// OAuth refused this machine's clock.
    ClockOff,
    /// The key's user may not manage the shop.
    NotAllowed,
    /// The shop answered 5xx or 429.
    ShopError,
    /// Anything else; the report's `detail` says what came.
    Unexpected,
}

impl ConnectionFailure {
    /// What is wrong and what to do, for the shop owner: one lower-case
    /// sentence.
    pub fn sentence(self) -> &'static str {
        match self {
            ConnectionFailure::NameNotResolved => {
                "the shop's name does not resolve: check the store URL"
            }
            ConnectionFailure::TlsRefused => {
                "the shop's TLS certificate was refused (self-signed or expired): install a valid certificate, or set store.verify_tls = false for a test shop"
            }
            ConnectionFailure::Unreachable => {
                "the shop cannot be reached (connection refused or timed out): check the store URL, that the shop is online, and this till's internet connection"
            }
            ConnectionFailure::NoRestApi => {
                "the shop's REST API cannot be reached at /wp-json/: permalinks set to Plain, or a security plugin blocks the REST API; choose any other permalink setting (Settings → Permalinks) or let /wp-json/ through the plugin"
            }
            ConnectionFailure::HtmlPage => {
                "the shop answered with a web page instead of data: a login wall, a coming-soon or maintenance page, or a security plugin stands in front of the REST API; let /wp-json/ through"
            }
            ConnectionFailure::NoWooCommerce => {
                "the shop's WordPress answers but its WooCommerce REST API is missing: check that WooCommerce is active and that the store URL is the shop's"
            }
            ConnectionFailure::WrongKey => {
                "the shop does not know this consumer key: copy it again from WooCommerce → Settings → Advanced → REST API"
            }
            ConnectionFailure::WrongSecret => {
                "the consumer secret does not match the key: copy the secret again (WooCommerce shows it only once; if it is lost, make a new key)"
            }
            ConnectionFailure::ReadOnlyKey => {
                "the key can read but not write, so sales cannot reach the shop: give the key Read/Write permission in WooCommerce → Settings → Advanced → REST API"
            }
            ConnectionFailure::WriteOnlyKey => {
                "the key can write but not read, so the shop cannot be mirrored: give the key Read/Write permission in WooCommerce → Settings → Advanced → REST API"
            }
            ConnectionFailure::ClockOff => {
                "this till's clock is more than 15 minutes off the shop's: set the till's date and time"
            }
            ConnectionFailure::NotAllowed => {
                "the key's user may not manage the shop: make the key for an administrator or a shop manager"
            }
            ConnectionFailure::ShopError => {
                "the shop answered with a server error or asked to slow down: try again in a few minutes, and if it persists check the shop's error log"
            }
            ConnectionFailure::Unexpected => {
                "the shop answered in a way the agent does not understand: see the detail"
            }
        }
    }
}

/// What a connection test found. Serialises as the back office's JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ConnectionReport {
    /// The agent can read and write with these settings.
    pub ok: bool,
    /// The shop's name (WordPress's site title), when its index answered.
    pub shop_name: Option<String>,
    pub woocommerce_version: Option<String>,
    /// ISO 4217, e.g. `GBP`.
    pub currency: Option<String>,
    /// Whether the key can read; `None` when it could not be found out.
    pub can_read: Option<bool>,
    /// Whether the key can write; `None` when it could not be found out.
    pub can_write: Option<bool>,
    /// Why the agent cannot work; `None` when `ok`.
    pub failure: Option<ConnectionFailure>,
    /// `failure`'s sentence.
    pub message: Option<String>,
    /// What the shop or the network said, for someone who knows the
    /// technique (never a URL or a secret).
    pub detail: Option<String>,
    /// How long the test took.
    pub elapsed_ms: u64,
}

impl ConnectionReport {
    fn fail(&mut self, failure: ConnectionFailure, detail: impl ToString) {
        self.ok = false;
        self.failure = Some(failure);
        self.message = Some(failure.sentence().to_owned());
        self.detail = Some(detail.to_string());
    }
}

/// Tests the configured shop and says what it found, within
/// `store.timeout`; changes nothing in the shop (see the module's doc).
pub async fn test_connection(store: &StoreConfig) -> ConnectionReport {
    let started = Instant::now();
    let mut report = ConnectionReport::default();
    match WooClient::new(store) {
        Err(e) => report.fail(ConnectionFailure::Unexpected, e),
        Ok(client) => {
            // One attempt each: a test answers now, it does not wait out a
            // busy shop.
            let client = client.with_retry(
                RetryPolicy::new(
                    Duration::from_millis(1),
                    Duration::from_millis(1),
                    Duration::ZERO,
                    1,
                )
                .expect("a one-attempt policy is valid"),
            );
            let (name, one_product, version) = (
                query(&[("_fields", "name")]),
                query(&[("per_page", "1"), ("_fields", "id")]),
                query(&[("_fields", "environment.version,settings.currency")]),
            );
            let no_body = json!({});
            let asked = async {
                tokio::join!(
                    client.get_site("wp-json/", &name),
                    client.get("products", &one_product),
                    client.get("system_status", &version),
                    client.send_with_query(Method::POST, "system_status", &[], &no_body),
                )
            };
            match tokio::time::timeout(store.timeout, asked).await {
                Ok((index, read, status, write)) => {
                    read_answers(&mut report, index, read, status, write)
                }
                Err(_) => report.fail(
                    ConnectionFailure::Unreachable,
                    format!("no answer within {} s", store.timeout.as_secs_f64()),
                ),
            }
        }
    }
    report.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    report
}

fn query(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn text(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The report from the four answers (see the module's doc).
fn read_answers(
    report: &mut ConnectionReport,
    index: Result<Answer, UpstreamError>,
    read: Result<Answer, UpstreamError>,
    status: Result<Answer, UpstreamError>,
    write: Result<Value, WriteFailure>,
) {
    if let Ok(index) = &index {
        report.shop_name = text(&index.body, "/name");
    }
    if let Ok(status) = &status {
        report.woocommerce_version = text(&status.body, "/environment/version");
        report.currency = text(&status.body, "/settings/currency");
    }
    report.can_write = match &write {
        // Past the permission check: refused at routing, or (should a
        // later WooCommerce take POSTs there) answered.
        Ok(_) => Some(true),
        Err(WriteFailure {
            error: UpstreamError::NotFound { code, .. },
            ..
        }) if code == "rest_no_route" => Some(true),
        Err(f) => match classify::key_refusal(&f.error) {
            Some(KeyRefusal::NoWritePermission) => Some(false),
            _ => None,
        },
    };
    match read {
        Ok(_) => report.can_read = Some(true),
        Err(e) => {
            let failure = read_failure(report, &e, &index);
            return report.fail(failure, e);
        }
    }
    match (&write, report.can_write) {
        (_, Some(true)) => report.ok = true,
        (Err(f), Some(false)) => report.fail(ConnectionFailure::ReadOnlyKey, &f.error),
        (Err(f), None) if f.error.is_transient() && !f.error.is_unreachable() => {
            report.fail(ConnectionFailure::ShopError, &f.error)
        }
        (Err(f), None) => report.fail(ConnectionFailure::Unexpected, &f.error),
        (Ok(_), _) => report.ok = true,
    }
}

/// Why the read failed, with the index's answer to tell a missing REST API
/// from a missing WooCommerce.
fn read_failure(
    report: &mut ConnectionReport,
    e: &UpstreamError,
    index: &Result<Answer, UpstreamError>,
) -> ConnectionFailure {
    match e {
        UpstreamError::NameNotResolved { .. } => ConnectionFailure::NameNotResolved,
        UpstreamError::Tls { .. } => ConnectionFailure::TlsRefused,
        UpstreamError::Transient { .. } if e.is_unreachable() => ConnectionFailure::Unreachable,
        UpstreamError::Transient { .. } => ConnectionFailure::ShopError,
        UpstreamError::Auth { .. } => match classify::key_refusal(e) {
            Some(KeyRefusal::UnknownKey) => ConnectionFailure::WrongKey,
            Some(KeyRefusal::WrongSecret) => ConnectionFailure::WrongSecret,
            Some(KeyRefusal::ClockOff) => ConnectionFailure::ClockOff,
            Some(KeyRefusal::UserNotAllowed) => ConnectionFailure::NotAllowed,
            Some(KeyRefusal::NoReadPermission) => {
                report.can_read = Some(false);
                if report.can_write == Some(true) {
                    ConnectionFailure::WriteOnlyKey
                } else {
                    ConnectionFailure::Unexpected
                }
            }
            Some(KeyRefusal::NoWritePermission | KeyRefusal::Other) | None => {
                ConnectionFailure::Unexpected
            }
        },
        // A 404 or a page where WooCommerce's JSON should be: the index
        // tells whether WordPress's REST API is there at all.
        UpstreamError::NotFound { .. } | UpstreamError::Malformed { .. } => match index {
            Ok(_) => match e {
                UpstreamError::NotFound { .. } => ConnectionFailure::NoWooCommerce,
                _ => ConnectionFailure::HtmlPage,
            },
            Err(UpstreamError::NotFound { .. }) => ConnectionFailure::NoRestApi,
            Err(UpstreamError::Malformed { .. }) => ConnectionFailure::HtmlPage,
            Err(_) => ConnectionFailure::NoRestApi,
        },
        UpstreamError::Rejected { .. } | UpstreamError::Setup(_) => ConnectionFailure::Unexpected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sentence_is_one_lower_case_sentence_without_a_period() {
        use ConnectionFailure::*;
        for f in [
            NameNotResolved,
            TlsRefused,
            Unreachable,
            NoRestApi,
            HtmlPage,
            NoWooCommerce,
            WrongKey,
            WrongSecret,
            ReadOnlyKey,
            WriteOnlyKey,
            ClockOff,
            NotAllowed,
            ShopError,
            Unexpected,
        ] {
            let s = f.sentence();
            assert!(s.starts_with(|c: char| c.is_lowercase()), "{s}");
            assert!(!s.ends_with('.'), "{s}");
        }
    }

    #[test]
    fn the_report_serialises_with_snake_case_failure_codes() {
        let mut r = ConnectionReport::default();
        r.fail(
            ConnectionFailure::TlsRefused,
            "invalid peer certificate: UnknownIssuer",
        );
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["failure"], "tls_refused");
        assert_eq!(v["message"], ConnectionFailure::TlsRefused.sentence());
        assert_eq!(v["ok"], false);
        assert_eq!(v["can_write"], Value::Null);
    }
}
