//! Turns what WooCommerce (or the web server, proxy or network in front of
//! it) answered into an [`UpstreamError`], once, so that callers only ask
//! whether to try again.

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};

use crate::domain::GmtTime;
use crate::upstream::UpstreamError;

/// How much of an unexpected body an error quotes.
const SNIPPET_CHARS: usize = 160;

/// WooCommerce's error body: `{"code", "message", "data": {"status"}}`.
#[derive(Debug, serde::Deserialize)]
struct WooErrorBody {
    code: String,
    #[serde(default)]
    message: String,
}

/// The error for a non-2xx answer.
pub fn status_error(status: u16, headers: &HeaderMap, body: &[u8]) -> UpstreamError {
    let parsed = serde_json::from_slice::<WooErrorBody>(body).ok();
    let (code, message) = match &parsed {
        Some(e) => (e.code.clone(), e.message.clone()),
        None => (format!("http_{status}"), snippet(body)),
    };
    match status {
        401 | 403 => UpstreamError::Auth {
            status,
            code,
            message,
        },
        404 => UpstreamError::NotFound { code, message },
        408 | 425 | 429 => UpstreamError::Transient {
            reason: format!("HTTP {status} {code}: {message}"),
            retry_after: retry_after(headers),
        },
        500..=599 if parsed.is_some() && is_deliberate_refusal(&code) => UpstreamError::Rejected {
            status,
            code,
            message,
        },
        500..=599 => UpstreamError::Transient {
            reason: format!("HTTP {status} {code}: {message}"),
            retry_after: retry_after(headers),
        },
        _ => UpstreamError::Rejected {
            status,
            code,
            message,
        },
    }
}

/// A 5xx carrying one of WooCommerce's own REST error codes is the
/// application refusing the request (e.g. a refund above what remains
/// answers 500 `woocommerce_rest_cannot_create_order_refund`, trashing a
/// customer 501 `woocommerce_rest_trash_not_supported`): retrying cannot
/// help. A host error page or WordPress's `internal_server_error` (a PHP
/// fatal) is not, and may pass.
fn is_deliberate_refusal(code: &str) -> bool {
    code.starts_with("woocommerce_rest_") || code.starts_with("rest_")
}

/// Parses a 2xx body as JSON, or says clearly what came instead.
pub fn json_body(body: &[u8]) -> Result<serde_json::Value, UpstreamError> {
    serde_json::from_slice(body).map_err(|e| UpstreamError::Malformed {
        detail: describe_non_json(body, &e),
        snippet: snippet(body),
    })
}

fn describe_non_json(body: &[u8], e: &serde_json::Error) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(512)]).to_ascii_lowercase();
    let trimmed = text.trim_start();
    if body.is_empty() {
        "the body is empty".to_owned()
    } else if trimmed.starts_with("<br")
        || text.contains("<b>notice</b>")
        || text.contains("<b>warning</b>")
        || text.contains("<b>deprecated</b>")
    {
        "a PHP notice or warning is printed before the JSON; a plugin or theme writes output into REST responses".to_owned()
    } else if trimmed.starts_with('<') {
        "an HTML page came instead of JSON; a security plugin, maintenance mode or a proxy may be answering".to_owned()
    } else {
        format!("invalid JSON: {e}")
    }
}

/// The first characters of a body, on one line, for error messages.
pub fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let mut out: String = one_line.chars().take(SNIPPET_CHARS).collect();
    if one_line.chars().count() > SNIPPET_CHARS {
        out.push('…');
    }
    out
}

/// `Retry-After` in seconds or as an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = GmtTime::parse_http_date(value)?;
    let wait = at.unix() - GmtTime::now().unix();
    Some(Duration::from_secs(u64::try_from(wait).unwrap_or(0)))
}

/// What WooCommerce's refusal of a request's credentials says about the
/// keys, for a person setting them up (see `probe`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRefusal {
    /// The shop has no such consumer key (OAuth: "Consumer key is
    /// invalid."), or saw no credentials it knows: over Basic an unknown
    /// key is not an error of its own, the request just goes on logged out
    /// and the route answers 401 `woocommerce_rest_cannot_*`.
    UnknownKey,
    /// The key exists but the secret does not match it ("Consumer secret is
    /// invalid." over Basic, "Invalid signature - provided signature does
    /// not match." over OAuth, where the secret is the signing key).
    WrongSecret,
    /// The key may not read (a write-only key on GET).
    NoReadPermission,
    /// The key may not write (a read-only key on POST, PUT, PATCH, DELETE).
    NoWritePermission,
    /// OAuth timestamp outside the shop's ±15 minutes: this machine's clock.
    ClockOff,
    /// The key's user is logged in but lacks the capability (403).
    UserNotAllowed,
    /// Some other refusal (another plugin's, a translated message).
    Other,
}

/// Reads a refusal of the keys (`UpstreamError::Auth`) from WooCommerce's
/// code and English message (`class-wc-rest-authentication.php`). A shop
/// in another language translates the messages: those refusals are
/// [`KeyRefusal::Other`], the shop's own words kept in the error.
pub fn key_refusal(err: &UpstreamError) -> Option<KeyRefusal> {
    let UpstreamError::Auth {
        status,
        code,
        message,
    } = err
    else {
        return None;
    };
    let refusal = match code.as_str() {
        "woocommerce_rest_authentication_error" => match message.trim() {
            "Consumer key is invalid." => KeyRefusal::UnknownKey,
            "Consumer secret is invalid."
            | "Invalid signature - provided signature does not match." => KeyRefusal::WrongSecret,
            "The API key provided does not have read permissions." => KeyRefusal::NoReadPermission,
            "The API key provided does not have write permissions." => {
                KeyRefusal::NoWritePermission
            }
            "Invalid timestamp." => KeyRefusal::ClockOff,
            _ => KeyRefusal::Other,
        },
        c if c.starts_with("woocommerce_rest_cannot_") && *status == 401 => KeyRefusal::UnknownKey,
        c if c.starts_with("woocommerce_rest_cannot_") => KeyRefusal::UserNotAllowed,
        _ => KeyRefusal::Other,
    };
    Some(refusal)
}

/// How [`transport`]'s reason begins when the connection could not be
/// made: nothing of the request was sent.
pub const CANNOT_CONNECT: &str = "cannot connect";

/// A transport failure (connect, timeout, reset, truncated body). The URL is
/// dropped from the error first: with query-string auth it holds the key.
///
/// Two connection failures are told apart from the rest because retrying
/// cannot help: a shop certificate rustls refused ([`UpstreamError::Tls`])
/// and a host name the resolver says does not exist
/// ([`UpstreamError::NameNotResolved`]). Both are recognised in the error's
/// source chain, never from the URL.
pub fn transport(err: reqwest::Error) -> UpstreamError {
    let err = err.without_url();
    let kind = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        CANNOT_CONNECT
    } else if err.is_body() || err.is_decode() {
        "the answer was cut off"
    } else {
        "connection failed"
    };
    let mut reason = format!("{kind}: {err}");
    let mut certificate = None;
    let mut lookup = None;
    let mut source = std::error::Error::source(&err);
    while let Some(s) = source {
        reason.push_str(": ");
        reason.push_str(&s.to_string());
        certificate = certificate.or_else(|| refused_certificate(s));
        lookup = lookup.or_else(|| name_lookup(s));
        source = s.source();
    }
    if let Some(reason) = certificate {
        return UpstreamError::Tls { reason };
    }
    match lookup {
        Some(NameLookup::NoSuchName(reason)) => UpstreamError::NameNotResolved { reason },
        // No answer from the resolver (no network, resolver down): the
        // name may well exist; an offline till is the everyday case.
        Some(NameLookup::NoAnswer) | None => UpstreamError::Transient {
            reason,
            retry_after: None,
        },
    }
}

/// rustls's verdict on the shop's certificate, when it refused it. rustls
/// travels inside `io::Error`s (reqwest wraps tokio-rustls's in another),
/// whose `source()` skips what they wrap: their `get_ref()` holds it.
fn refused_certificate(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut inner = e;
    let tls = loop {
        if let Some(tls) = inner.downcast_ref::<rustls::Error>() {
            break tls;
        }
        inner = inner.downcast_ref::<std::io::Error>()?.get_ref()?;
    };
    matches!(
        tls,
        rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented
    )
    .then(|| tls.to_string())
}

/// What a failed host-name lookup said.
enum NameLookup {
    /// The resolver answered: no such name.
    NoSuchName(String),
    /// The resolver gave no answer (`EAI_AGAIN`).
    NoAnswer,
}

/// The system resolver's failure, as the standard library words it
/// (`failed to lookup address information: <gai_strerror text>`, an
/// `io::Error` with no kind to match on). The `getaddrinfo` texts of
/// `EAI_NONAME` and `EAI_NODATA` (glibc, musl, BSD/macOS) mean the name
/// does not exist; `EAI_AGAIN` ("Temporary failure in name resolution")
/// means no answer came.
fn name_lookup(e: &(dyn std::error::Error + 'static)) -> Option<NameLookup> {
    let io = e.downcast_ref::<std::io::Error>()?;
    let text = io.to_string();
    let detail = text.strip_prefix("failed to lookup address information: ")?;
    const NO_SUCH_NAME: [&str; 4] = [
        "Name or service not known",
        "No address associated with hostname",
        "Name does not resolve",
        "nodename nor servname provided, or not known",
    ];
    Some(if NO_SUCH_NAME.iter().any(|m| detail.contains(m)) {
        NameLookup::NoSuchName(detail.to_owned())
    } else {
        NameLookup::NoAnswer
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/tests/fixtures/woocommerce/rest/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[rstest::rstest]
    #[case::unknown_key(401, "err_401_bad_key", "auth", "woocommerce_rest_cannot_view")]
    #[case::bad_secret(
        401,
        "err_401_bad_secret",
        "auth",
        "woocommerce_rest_authentication_error"
    )]
    #[case::no_auth(401, "err_401_no_auth", "auth", "woocommerce_rest_cannot_view")]
    #[case::unknown_product(
        404,
        "err_404_unknown_product",
        "not_found",
        "woocommerce_rest_product_invalid_id"
    )]
    #[case::unknown_route(404, "err_404_unknown_route", "not_found", "rest_no_route")]
    #[case::per_page(400, "err_400_per_page_101", "rejected", "rest_invalid_param")]
    #[case::duplicate_sku(400, "err_400_duplicate_sku", "rejected", "product_invalid_sku")]
    #[case::customer_trash(
        501,
        "delete_customer_noforce_error",
        "rejected",
        "woocommerce_rest_trash_not_supported"
    )]
    fn captured_errors_are_classified(
        #[case] status: u16,
        #[case] file: &str,
        #[case] kind: &str,
        #[case] code: &str,
    ) {
        let e = status_error(status, &HeaderMap::new(), &fixture(file));
        let (got_kind, got_code) = match &e {
            UpstreamError::Auth { code, .. } => ("auth", code.as_str()),
            UpstreamError::NotFound { code, .. } => ("not_found", code.as_str()),
            UpstreamError::Rejected { code, .. } => ("rejected", code.as_str()),
            other => panic!("unexpected {other:?}"),
        };
        assert_eq!((got_kind, got_code), (kind, code));
        assert!(!e.is_transient());
    }

    #[rstest::rstest]
    #[case::unknown_key_basic("err_401_bad_key", KeyRefusal::UnknownKey)]
    #[case::wrong_secret_basic("err_401_bad_secret", KeyRefusal::WrongSecret)]
    fn captured_key_refusals_are_read(#[case] file: &str, #[case] expected: KeyRefusal) {
        let e = status_error(401, &HeaderMap::new(), &fixture(file));
        assert_eq!(key_refusal(&e), Some(expected));
    }

    #[rstest::rstest]
    #[case("Consumer key is invalid.", KeyRefusal::UnknownKey)]
    #[case(
        "Invalid signature - provided signature does not match.",
        KeyRefusal::WrongSecret
    )]
    #[case(
        "The API key provided does not have write permissions.",
        KeyRefusal::NoWritePermission
    )]
    #[case(
        "The API key provided does not have read permissions.",
        KeyRefusal::NoReadPermission
    )]
    #[case("Invalid timestamp.", KeyRefusal::ClockOff)]
    #[case("Der Consumer-Key ist ungültig.", KeyRefusal::Other)]
    fn oauth_and_permission_refusals_are_read(#[case] message: &str, #[case] expected: KeyRefusal) {
        let body = serde_json::json!({
            "code": "woocommerce_rest_authentication_error",
            "message": message,
            "data": {"status": 401},
        });
        let e = status_error(401, &HeaderMap::new(), body.to_string().as_bytes());
        assert_eq!(key_refusal(&e), Some(expected));
        assert_eq!(
            key_refusal(&status_error(500, &HeaderMap::new(), b"")),
            None
        );
    }

    #[test]
    fn only_a_resolver_that_answered_means_the_name_does_not_exist() {
        let gai = |text: &str| {
            std::io::Error::other(format!("failed to lookup address information: {text}"))
        };
        for text in [
            "Name or service not known",
            "No address associated with hostname",
            "Name does not resolve",
        ] {
            assert!(
                matches!(name_lookup(&gai(text)), Some(NameLookup::NoSuchName(_))),
                "{text}"
            );
        }
        // No network, resolver down: the name may exist.
        assert!(matches!(
            name_lookup(&gai("Temporary failure in name resolution")),
            Some(NameLookup::NoAnswer)
        ));
        assert!(name_lookup(&std::io::Error::other("connection refused")).is_none());
    }

    #[test]
    fn refund_above_remaining_is_permanent_despite_500() {
        let body = br#"{"code":"woocommerce_rest_cannot_create_order_refund","message":"Invalid refund amount.","data":{"status":500}}"#;
        let e = status_error(500, &HeaderMap::new(), body);
        assert!(
            matches!(e, UpstreamError::Rejected { status: 500, .. }),
            "{e:?}"
        );
        assert!(e.to_string().contains("Invalid refund amount."));
    }

    #[rstest::rstest]
    #[case::html_500(500, "<html><body><h1>500 Internal Server Error</h1></body></html>")]
    #[case::wp_fatal(500, r#"{"code":"internal_server_error","message":"There has been a critical error on this website.","data":{"status":500}}"#)]
    #[case::bad_gateway(502, "<html><head><title>502 Bad Gateway</title></head></html>")]
    #[case::unavailable(503, "")]
    #[case::too_many(429, "Too Many Requests")]
    fn server_trouble_is_transient(#[case] status: u16, #[case] body: &str) {
        let e = status_error(status, &HeaderMap::new(), body.as_bytes());
        assert!(e.is_transient(), "{e:?}");
    }

    #[test]
    fn retry_after_seconds_and_dates_are_honoured() {
        let e = status_error(429, &headers(&[("retry-after", "7")]), b"");
        assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
        let later = GmtTime::now().plus_secs(30);
        let date = chrono::DateTime::from_timestamp(later.unix(), 0)
            .unwrap()
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string();
        let wait = retry_after(&headers(&[("retry-after", &date)])).unwrap();
        assert!((28..=30).contains(&wait.as_secs()), "{wait:?}");
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")])), None);
    }

    #[test]
    fn php_notice_before_json_is_a_clear_error_quoting_the_start() {
        let body = b"<br />\n<b>Notice</b>:  Undefined index: foo in <b>/var/www/html/wp-content/plugins/x.php</b> on line <b>12</b><br />\n[{\"id\":1}]";
        let e = json_body(body).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("PHP notice"), "{text}");
        assert!(text.contains("Notice"), "{text}");
        assert!(!e.is_transient());
    }

    #[test]
    fn html_page_instead_of_json_is_named() {
        let e = json_body(b"<!DOCTYPE html><html><title>Maintenance</title>").unwrap_err();
        assert!(
            e.to_string().contains("an HTML page came instead of JSON"),
            "{e}"
        );
        assert!(e.to_string().contains("<!DOCTYPE html>"), "{e}");
    }

    #[test]
    fn snippets_are_short_and_on_one_line() {
        let long = "x\n".repeat(500);
        let s = snippet(long.as_bytes());
        assert!(!s.contains('\n'));
        assert!(s.chars().count() <= SNIPPET_CHARS + 1);
    }
}
