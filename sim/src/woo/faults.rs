//! Fault injection: which request fails and how, the error pages proxies
//! and PHP produce (the connection a handler may drop is `crate::net`'s).
//!
//! Faults model what sits in front of WordPress (host error pages, proxies,
//! rate limiters) and what breaks on the way back, so `ServerError`,
//! `BadGateway` and `TooManyRequests` answer *instead of* the store (the
//! request never reaches WooCommerce: no nonce is used, nothing changes),
//! while `HtmlBeforeJson`, `Truncated`, `Reset` and `SlowAnswer` happen
//! *after* the store has processed (and, for a write, committed) the
//! request — the ambiguous case a client must reconcile.

use std::time::Duration;

use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// Faults applied to every request from the start.
#[derive(Debug, Clone, Default)]
pub struct FaultConfig {
    /// Added before every response.
    pub latency: Duration,
    /// Probability (0..=1, seeded) that a request gets one of `kinds`.
    pub fail_rate: f64,
    pub kinds: Vec<FaultKind>,
}

/// What can go wrong between a client and the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// 500 with WordPress's "critical error" HTML page (a PHP fatal), sent
    /// instead of the store's answer.
    ServerError,
    /// 502 or 503 HTML page from a proxy (nginx), instead of the store.
    BadGateway,
    /// 429 with `Retry-After`, from a rate limiter in front of the store.
    TooManyRequests { retry_after_secs: u64 },
    /// The store's real answer (status, headers) whose body starts with PHP
    /// notices in HTML (`display_errors` on) followed by the JSON.
    HtmlBeforeJson,
    /// The store's answer with its full `Content-Length`, but the connection
    /// closes after half the body. The request *was* processed.
    Truncated,
    /// The connection drops before any byte of the response. The request
    /// *was* processed (the ambiguous case).
    Reset,
    /// WordPress's own 404 page (HTML) instead of the store: what a shop
    /// with permalinks set to Plain answers under `/wp-json/`, where no
    /// rewrite rule sends the request to the REST API.
    RestApiNotFound,
    /// A 200 HTML page instead of the store's JSON: a login wall, a "coming
    /// soon" page or a security plugin answering in front of the REST API.
    HtmlPage,
    /// The store processes (and commits) the request at once, then holds
    /// the answer back for `delay_ms`: a client with a shorter timeout
    /// gives up on a write that happened.
    SlowAnswer { delay_ms: u64 },
    /// The store's own JSON error (`{"code","message","data":{"status"}}`)
    /// with `status`, instead of processing the request: what a validation
    /// or fraud-screening plugin answers when it refuses an order. Nothing
    /// changes at the shop; once the rule is spent (the plugin's cause
    /// fixed) the same request goes through.
    Refused {
        status: u16,
        code: String,
        message: String,
    },
}

/// A deterministic fault: the next `times` requests whose path contains
/// `path_contains` (any path when `None`) and whose method is `method`
/// (any when `None`) get `fault`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule {
    pub path_contains: Option<String>,
    /// `POST`, `PUT`, `DELETE`...; compared case-insensitively.
    pub method: Option<String>,
    pub fault: FaultKind,
    pub times: usize,
}

impl FaultRule {
    /// `fault` on the next request, any method, any path.
    pub fn new(fault: FaultKind) -> Self {
        Self {
            path_contains: None,
            method: None,
            fault,
            times: 1,
        }
    }

    /// Only requests whose path contains `path` (e.g. `/wc/v3/orders`).
    pub fn path(mut self, path: &str) -> Self {
        self.path_contains = Some(path.to_owned());
        self
    }

    /// Only requests with this method (e.g. `POST`).
    pub fn method(mut self, method: &str) -> Self {
        self.method = Some(method.to_owned());
        self
    }

    /// The next `n` matching requests (a burst).
    pub fn times(mut self, n: usize) -> Self {
        self.times = n;
        self
    }
}

/// The fault settings of a running sim.
pub(crate) struct FaultState {
    pub latency: Duration,
    pub fail_rate: f64,
    pub kinds: Vec<FaultKind>,
    pub rules: Vec<FaultRule>,
    pub rng: ChaCha8Rng,
}

/// A fault chosen for one request; `alternate` picks 503 over 502.
#[derive(Debug, Clone)]
pub(crate) struct Decision {
    pub kind: FaultKind,
    pub alternate: bool,
}

impl FaultState {
    /// Injected rules first (in order, each for its remaining `times`),
    /// then the random fail rate.
    pub(crate) fn decide(&mut self, method: &str, path: &str) -> Option<Decision> {
        let alternate = self.rng.gen_bool(0.5);
        if let Some(rule) = self.rules.iter_mut().find(|r| {
            r.times > 0
                && r.path_contains.as_deref().is_none_or(|p| path.contains(p))
                && r.method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method))
        }) {
            rule.times -= 1;
            let kind = rule.fault.clone();
            self.rules.retain(|r| r.times > 0);
            return Some(Decision { kind, alternate });
        }
        if self.kinds.is_empty() || self.fail_rate <= 0.0 {
            return None;
        }
        if self.rng.gen_bool(self.fail_rate.clamp(0.0, 1.0)) {
            let kind = self.kinds.choose(&mut self.rng)?.clone();
            return Some(Decision { kind, alternate });
        }
        None
    }
}

/// `true` for faults that answer in place of the store.
pub(crate) fn replaces_store(kind: &FaultKind) -> bool {
    matches!(
        kind,
        FaultKind::ServerError
            | FaultKind::BadGateway
            | FaultKind::TooManyRequests { .. }
            | FaultKind::RestApiNotFound
            | FaultKind::HtmlPage
            | FaultKind::Refused { .. }
    )
}

/// Status, headers and body of a fault page.
pub(crate) fn page(d: &Decision) -> (u16, Vec<(&'static str, String)>, Vec<u8>) {
    let html = "text/html; charset=UTF-8".to_owned();
    match &d.kind {
        FaultKind::ServerError => (
            500,
            vec![("content-type", html)],
            // WordPress's fatal error handler page.
            b"<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n\t<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\" />\n\t<meta name=\"viewport\" content=\"width=device-width\">\n\t<meta name='robots' content='max-image-preview:large, noindex, follow' />\n\t<title>WordPress &rsaquo; Error</title>\n</head>\n<body id=\"error-page\">\n\t<div class=\"wp-die-message\"><p>There has been a critical error on this website.</p><p><a href=\"https://wordpress.org/documentation/article/faq-troubleshooting/\">Learn more about troubleshooting WordPress.</a></p></div></body>\n</html>\n".to_vec(),
        ),
        FaultKind::BadGateway if d.alternate => (
            503,
            vec![("content-type", "text/html".to_owned())],
            b"<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n".to_vec(),
        ),
        FaultKind::BadGateway => (
            502,
            vec![("content-type", "text/html".to_owned())],
            b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n".to_vec(),
        ),
        FaultKind::TooManyRequests { retry_after_secs } => (
            429,
            vec![("content-type", html), ("retry-after", retry_after_secs.to_string())],
            b"<!DOCTYPE html>\n<html><head><title>429 Too Many Requests</title></head><body><h1>Too Many Requests</h1><p>You have sent too many requests in a given amount of time.</p></body></html>\n".to_vec(),
        ),
        FaultKind::RestApiNotFound => (
            404,
            vec![("content-type", html)],
            b"<!DOCTYPE html>\n<html lang=\"en-GB\"><head><meta charset=\"UTF-8\"><title>Page not found</title></head><body class=\"error404\"><h1>Oops! That page can&rsquo;t be found.</h1></body></html>\n".to_vec(),
        ),
        FaultKind::HtmlPage => (
            200,
            vec![("content-type", html)],
            b"<!DOCTYPE html>\n<html lang=\"en-GB\"><head><meta charset=\"UTF-8\"><title>Coming soon</title></head><body class=\"coming-soon\"><h1>Our shop is coming soon</h1><p>Log in to see this site.</p></body></html>\n".to_vec(),
        ),
        FaultKind::Refused {
            status,
            code,
            message,
        } => (
            *status,
            vec![("content-type", "application/json; charset=UTF-8".to_owned())],
            serde_json::json!({"code": code, "message": message, "data": {"status": status}})
                .to_string()
                .into_bytes(),
        ),
        _ => (200, vec![], vec![]),
    }
}

/// What a PHP notice with `display_errors` on puts before the JSON.
pub(crate) const PHP_NOTICE: &[u8] = b"<br />\n<b>Deprecated</b>:  Creation of dynamic property WC_Legacy_Shipping_Helper::$zone is deprecated in <b>/var/www/html/wp-content/plugins/legacy-shipping-helper/includes/class-helper.php</b> on line <b>42</b><br />\n<br />\n<b>Warning</b>:  Undefined array key \"currency\" in <b>/var/www/html/wp-content/plugins/legacy-shipping-helper/includes/class-helper.php</b> on line <b>57</b><br />\n";
