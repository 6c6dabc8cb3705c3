//! The one security layer every request of the local server passes through,
//! before any handler runs, in this order:
//!
//! 1. **Host** (DNS rebinding): the `Host` must be the listen address,
//!    `localhost`, `127.0.0.1`, `[::1]` or a name in `api.allowed_hosts`;
//!    otherwise 421 `misdirected_request`.
//! 2. **Route**: the matched route must have a row in [`ROUTES`]; a route
//!    registered without one is refused (500 `undeclared_route`), so a new
//!    endpoint cannot be reachable without saying who may call it.
//! 3. **Browser origin**, on state-changing methods (POST, PUT, PATCH,
//!    DELETE) except webhook receivers: `Sec-Fetch-Site` other than
//!    `same-origin` or `none`, or an `Origin` other than the agent's own, is
//!    403 `cross_origin`. (`Origin: null` passes only with `Sec-Fetch-Site:
//!    same-origin`: that is how a browser posts the page's own forms under
//!    `Referrer-Policy: no-referrer`.)
//! 4. **Content type**: a JSON route's body must be `application/json`, a
//!    form's `application/x-www-form-urlencoded` (415
//!    `unsupported_media_type`).
//! 5. **Caller**, per the route's [`Access`]: a bearer token, the
//!    back-office session (plus its CSRF token on state-changing requests),
//!    the pre-login form token, or nothing (webhooks are checked by their
//!    signature in the receiver).
//!
//! Every answer then gets `X-Content-Type-Options: nosniff`, and HTML ones
//! the browser hardening headers (CSP allowing only the agent's own scripts
//! and styles, `frame-ancestors 'none'`, `Referrer-Policy: no-referrer`).

pub mod password;
pub mod session;
pub mod tokens;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ApiError;
use crate::config::ApiConfig;
use crate::store::{Store, access};
use password::Throttle;
use session::{Admin, CSRF_FIELD, CSRF_HEADER, LOGIN_COOKIE, SESSION_COOKIE, Sessions};

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone who passes the Host check (`/healthz`, the page's shell and
    /// assets: the page itself decides between login and status).
    Open,
    /// Product lookups: open on loopback, a token when `api.require_tokens`.
    Catalog,
    /// A till front-end: `Authorization: Bearer <token>`.
    Token,
    /// The logged-in manager: the session cookie, and its CSRF token on
    /// state-changing requests.
    Session,
    /// Either of the two above (what the page reads and its actions).
    TokenOrSession,
    /// A login form before any session: the double-submit form token.
    Visitor,
    /// A webhook receiver: no browser checks, authenticated by the shop's
    /// signature in the handler.
    Webhook,
}

/// What a route's body must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// No body expected (GET, and actions named by their path).
    None,
    /// `application/json`.
    Json,
    /// `application/x-www-form-urlencoded` (the page's forms).
    Form,
    /// Whatever the sender uses (webhooks: JSON deliveries, form pings).
    Raw,
}

/// A method of the route table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
    Patch,
    Delete,
}

impl Verb {
    fn of(m: &Method) -> Option<Verb> {
        match *m {
            Method::GET | Method::HEAD => Some(Verb::Get),
            Method::POST => Some(Verb::Post),
            Method::PATCH => Some(Verb::Patch),
            Method::DELETE => Some(Verb::Delete),
            _ => None,
        }
    }

    /// The method's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
            Verb::Patch => "PATCH",
            Verb::Delete => "DELETE",
        }
    }
}

/// One row of the route table.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub verb: Verb,
    /// The path as registered with the router (`{id}` for a segment).
    pub path: &'static str,
    pub access: Access,
    pub body: BodyKind,
}

const fn row(verb: Verb, path: &'static str, access: Access, body: BodyKind) -> Route {
    Route {
        verb,
        path,
        access,
        body,
    }
}

use Access::*;
use BodyKind::{Form, Json, Raw};
use Verb::{Delete, Get, Patch, Post};

/// Every route of the local server and who may call it. The router's
/// modules register the handlers; this table is the one place that says
/// who reaches them, and a route missing here is refused.
pub const ROUTES: &[Route] = &[
    row(Get, "/healthz", Open, BodyKind::None),
    // Prometheus scrapes with a bearer token; the manager may look too.
    row(Get, "/metrics", TokenOrSession, BodyKind::None),
    // The back-office page and its login.
    row(Get, "/", Open, BodyKind::None),
    row(Get, "/assets/status.js", Open, BodyKind::None),
    row(Get, "/assets/app.css", Open, BodyKind::None),
    row(Get, "/assets/page.js", Open, BodyKind::None),
    row(Get, "/settings", Session, BodyKind::None),
    row(Post, "/settings", Session, Form),
    row(Post, "/instance/activate", Session, Form),
    row(Post, "/instance/deactivate", Session, Form),
    row(Post, "/instance/profile", Session, Form),
    row(Post, "/setup", Session, Form),
    row(Post, "/demo/offline", Session, Form),
    row(Get, "/settings/meta", Session, BodyKind::None),
    row(Post, "/settings/meta", Session, Form),
    row(Post, "/settings/meta/remove", Session, Form),
    row(Get, "/settings/meta/progress", Session, BodyKind::None),
    row(Get, "/queue", Session, BodyKind::None),
    row(Post, "/queue/{id}/retry", Session, Form),
    row(Post, "/queue/{id}/discard", Session, Form),
    row(Get, "/events", Session, BodyKind::None),
    row(Get, "/events.csv", Session, BodyKind::None),
    row(Get, "/reports", Session, BodyKind::None),
    row(Get, "/api/reports/sales", TokenOrSession, BodyKind::None),
    row(Get, "/operations", Session, BodyKind::None),
    row(Get, "/operations/progress", Session, BodyKind::None),
    row(Post, "/operations/pull-all", Session, Form),
    row(Post, "/operations/pull-ids", Session, Form),
    row(Post, "/operations/pull-since", Session, Form),
    row(Post, "/operations/sweep", Session, Form),
    row(Post, "/operations/webhooks/install", Session, Form),
    row(Post, "/operations/webhooks/pause", Session, Form),
    row(Post, "/operations/webhooks/resume", Session, Form),
    row(Post, "/operations/webhooks/remove", Session, Form),
    row(
        Get,
        "/api/meta-mapping/status",
        TokenOrSession,
        BodyKind::None,
    ),
    row(Post, "/login", Visitor, Form),
    row(Post, "/set-password", Visitor, Form),
    row(Post, "/logout", Session, Form),
    row(Get, "/api/sync/status", TokenOrSession, BodyKind::None),
    // Till lookups.
    row(Get, "/api/products", Catalog, BodyKind::None),
    row(Get, "/api/products/{id}", Catalog, BodyKind::None),
    row(
        Get,
        "/api/products/{id}/variations",
        Catalog,
        BodyKind::None,
    ),
    row(Get, "/api/customers", Token, BodyKind::None),
    row(Get, "/api/customers/{id}", Token, BodyKind::None),
    row(Get, "/api/orders", Token, BodyKind::None),
    row(Get, "/api/orders/{id}", Token, BodyKind::None),
    row(Get, "/api/pickups", Token, BodyKind::None),
    // Till writes.
    row(Post, "/api/orders", Token, Json),
    row(Post, "/api/orders/{id}/refunds", Token, Json),
    row(Post, "/api/orders/{id}/complete", Token, Json),
    row(Post, "/api/customers", Token, Json),
    row(Patch, "/api/customers/{id}", Token, Json),
    row(Post, "/api/stock-adjustments", Token, Json),
    // The manager's outbox actions.
    row(Get, "/api/outbox", TokenOrSession, BodyKind::None),
    row(Post, "/api/outbox/{id}/retry", TokenOrSession, Json),
    row(Delete, "/api/outbox/{id}", TokenOrSession, Json),
    // Upkeep: the replica's copy (every customer in it) and the doctor's checks.
    row(Get, "/api/backup", TokenOrSession, BodyKind::None),
    row(Get, "/api/doctor", TokenOrSession, BodyKind::None),
    // The support bundle: status, redacted config, events, versions, checks.
    row(Get, "/api/support-bundle", TokenOrSession, BodyKind::None),
    // Webhook receivers.
    row(Post, super::webhooks::WOOCOMMERCE_PATH, Webhook, Raw),
    row(Post, super::webhooks::SHOPIFY_PATH, Webhook, Raw),
];

/// The row for `verb` on `path`.
pub fn route(verb: Verb, path: &str) -> Option<&'static Route> {
    ROUTES.iter().find(|r| r.verb == verb && r.path == path)
}

/// The largest form body read before its handler.
const MAX_FORM_BYTES: usize = 16 * 1024;

/// The security layer's state, shared by the handlers that log in and out.
#[derive(Clone)]
pub struct Security {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    listen: SocketAddr,
    config: ApiConfig,
    sessions: Sessions,
    throttle: Mutex<Throttle>,
    login_gate: tokio::sync::Mutex<()>,
}

/// Who the security layer let through, as a request extension.
#[derive(Debug, Clone)]
pub enum Caller {
    /// Nobody in particular (an open route).
    Anonymous,
    /// A till front-end, by token name.
    Token(String),
    /// The logged-in manager.
    Admin(Admin),
}

impl Security {
    pub fn new(store: Store, listen: SocketAddr, config: ApiConfig) -> Security {
        Security {
            inner: Arc::new(Inner {
                sessions: Sessions::new(config.session_idle),
                store,
                listen,
                config,
                throttle: Mutex::new(Throttle::default()),
                login_gate: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// The live sessions.
    pub fn sessions(&self) -> &Sessions {
        &self.inner.sessions
    }

    /// The failed-login throttle.
    pub fn throttle(&self) -> std::sync::MutexGuard<'_, Throttle> {
        self.inner
            .throttle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for the turn to check a password: logins run one at a time.
    pub async fn login_turn(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.inner.login_gate.lock().await
    }

    /// Whether cookies get `Secure`.
    pub fn secure_cookies(&self) -> bool {
        self.inner.config.secure_cookies
    }

    /// The replica (for the password).
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The session the request's cookie names, if live.
    pub async fn admin(&self, headers: &HeaderMap) -> Result<Option<Admin>, ApiError> {
        let Some(id) = session::cookie(headers, SESSION_COOKIE) else {
            return Ok(None);
        };
        let set_at = self
            .inner
            .store
            .read(access::admin_password)
            .await?
            .map(|(_, at)| at);
        Ok(self.inner.sessions.resolve(id, set_at))
    }

    fn host_allowed(&self, host: &str) -> bool {
        let name = host_name(host).to_ascii_lowercase();
        let listen_ip = match self.inner.listen {
            SocketAddr::V4(a) => a.ip().to_string(),
            SocketAddr::V6(a) => format!("[{}]", a.ip()),
        };
        matches!(name.as_str(), "localhost" | "127.0.0.1" | "[::1]")
            || name == listen_ip
            || self.inner.config.allowed_hosts.contains(&name)
    }

    async fn token(&self, headers: &HeaderMap) -> Result<Option<String>, ApiError> {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(tokens::bearer)
            .map(str::to_owned);
        let stored = self.inner.store.read(access::token_hashes).await?;
        let name = tokens::find(&stored, presented.as_deref()).map(str::to_owned);
        if let Some(name) = &name {
            let (store, owned) = (self.inner.store.clone(), name.clone());
            // Bookkeeping only: the request does not wait for it.
            tokio::spawn(async move {
                let now = crate::domain::time::unix_millis_now();
                let _ = store
                    .write(move |tx| access::touch_token(tx, &owned, now))
                    .await;
            });
        }
        Ok(name)
    }
}

/// The host part of a `Host` value (`[::1]:8420` → `[::1]`).
fn host_name(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split_inclusive(']').next().unwrap_or(host);
    }
    host.rsplit_once(':').map_or(host, |(h, _)| h)
}

fn state_changing(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn unauthorized(access: Access) -> ApiError {
    ApiError::Unauthorized(
        match access {
            Session => "log in to the back-office first",
            TokenOrSession => "a valid bearer token or a back-office session is required",
            _ => "a valid bearer token is required",
        }
        .to_owned(),
    )
}

/// The layer itself (see the module docs for the order of the checks).
pub async fn guard(
    State(sec): State<Security>,
    matched: Option<MatchedPath>,
    req: Request,
    next: Next,
) -> Response {
    let mut res = match check(&sec, matched, req).await {
        Ok(req) => next.run(req).await,
        Err(refusal) => {
            let unauth = matches!(refusal, ApiError::Unauthorized(_));
            let mut res = refusal.into_response();
            if unauth {
                res.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            res
        }
    };
    harden(res.headers_mut());
    res
}

async fn check(
    sec: &Security,
    matched: Option<MatchedPath>,
    req: Request,
) -> Result<Request, ApiError> {
    // 1. Host.
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(|a| a.to_string()));
    let Some(host) = host.filter(|h| sec.host_allowed(h)) else {
        tracing::warn!("request refused: Host is not one of this agent's names");
        return Err(ApiError::MisdirectedRequest(
            "this agent does not answer to that Host (add it to api.allowed_hosts if it is the till's own name)"
                .to_owned(),
        ));
    };

    // 2. The route's row.
    let Some(matched) = matched else {
        // No route: the fallback answers 404.
        return Ok(req);
    };
    let Some(route) = Verb::of(req.method()).and_then(|v| route(v, matched.as_str())) else {
        if ROUTES.iter().any(|r| r.path == matched.as_str()) {
            // A known path with another method: the router answers 405.
            return Ok(req);
        }
        tracing::error!(
            path = matched.as_str(),
            "route missing from the access table"
        );
        return Err(ApiError::UndeclaredRoute(matched.as_str().to_owned()));
    };

    let method = req.method().clone();
    let changing = state_changing(&method);
    let headers = req.headers();

    // 3. Browser origin.
    if changing && route.access != Webhook {
        let site = headers
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase);
        if site
            .as_deref()
            .is_some_and(|s| s != "same-origin" && s != "none")
        {
            tracing::warn!(path = route.path, "cross-site request refused");
            return Err(ApiError::CrossOrigin(
                "requests from another site may not change anything here".to_owned(),
            ));
        }
        if let Some(origin) = headers.get(header::ORIGIN) {
            let own = origin.to_str().ok().is_some_and(|o| {
                let o = o.to_ascii_lowercase();
                let h = host.to_ascii_lowercase();
                o == format!("http://{h}")
                    || o == format!("https://{h}")
                    // Under `Referrer-Policy: no-referrer` a browser posts
                    // the page's own forms with `Origin: null`; its fetch
                    // metadata still says where the request comes from.
                    || (o == "null" && site.as_deref() == Some("same-origin"))
            });
            if !own {
                tracing::warn!(path = route.path, "cross-origin request refused");
                return Err(ApiError::CrossOrigin(
                    "requests from another origin may not change anything here".to_owned(),
                ));
            }
        }
    }

    // 4. Content type.
    let mime = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    let has_body = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .map_or(headers.contains_key(header::TRANSFER_ENCODING), |n| {
            n.trim() != "0"
        });
    match route.body {
        Json | BodyKind::None
            if changing
                && (has_body || mime.is_some())
                && mime.as_deref() != Some("application/json") =>
        {
            return Err(ApiError::UnsupportedMediaType(
                "the body must be JSON sent as Content-Type: application/json".to_owned(),
            ));
        }
        Form if mime.as_deref() != Some("application/x-www-form-urlencoded") => {
            return Err(ApiError::UnsupportedMediaType(
                "the body must be a form (application/x-www-form-urlencoded)".to_owned(),
            ));
        }
        _ => {}
    }

    // 5. The caller.
    let (caller, req) = match route.access {
        Open | Webhook => (Caller::Anonymous, req),
        Catalog if !sec.inner.config.require_tokens => (Caller::Anonymous, req),
        Catalog | Token => match sec.token(req.headers()).await? {
            Some(name) => (Caller::Token(name), req),
            None => return Err(unauthorized(route.access)),
        },
        TokenOrSession if req.headers().contains_key(header::AUTHORIZATION) => {
            match sec.token(req.headers()).await? {
                Some(name) => (Caller::Token(name), req),
                None => return Err(unauthorized(route.access)),
            }
        }
        Session | TokenOrSession => {
            let Some(admin) = sec.admin(req.headers()).await? else {
                return Err(unauthorized(route.access));
            };
            let req = if changing {
                let (req, sent) = csrf_sent(req, route.body).await?;
                if !sent.is_some_and(|t| session::same_secret(&t, &admin.csrf)) {
                    return Err(ApiError::Csrf);
                }
                req
            } else {
                req
            };
            (Caller::Admin(admin), req)
        }
        Visitor => {
            let expected = session::cookie(req.headers(), LOGIN_COOKIE).map(str::to_owned);
            let (req, sent) = csrf_sent(req, route.body).await?;
            let ok = match (expected, sent) {
                (Some(e), Some(s)) => session::same_secret(&e, &s),
                _ => false,
            };
            if !ok {
                return Err(ApiError::Csrf);
            }
            (Caller::Anonymous, req)
        }
    };
    let mut req = req;
    req.extensions_mut().insert(caller);
    Ok(req)
}

/// The CSRF token a request carries: the header, or a form's field (the
/// body is read and put back for the handler).
async fn csrf_sent(req: Request, body: BodyKind) -> Result<(Request, Option<String>), ApiError> {
    if let Some(t) = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        let t = t.to_owned();
        return Ok((req, Some(t)));
    }
    if body != Form {
        return Ok((req, None));
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| ApiError::TooLarge(MAX_FORM_BYTES))?;
    let field = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
        .ok()
        .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == CSRF_FIELD))
        .map(|(_, v)| v);
    Ok((Request::from_parts(parts, Body::from(bytes)), field))
}

/// The Content-Security-Policy of every HTML answer: the agent's own
/// scripts and styles only, no frames, no plugins, forms back to itself.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Headers on every answer, and the browser hardening ones on HTML.
fn harden(h: &mut HeaderMap) {
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    let html = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if html {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        h.insert(
            "cross-origin-opener-policy",
            HeaderValue::from_static("same-origin"),
        );
        h.insert(
            "cross-origin-resource-policy",
            HeaderValue::from_static("same-origin"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[rstest::rstest]
    #[case::v4("127.0.0.1:8420", "127.0.0.1")]
    #[case::v6("[::1]:8420", "[::1]")]
    #[case::v6_bare("[::1]", "[::1]")]
    #[case::name("localhost", "localhost")]
    #[case::name_port("till.lan:80", "till.lan")]
    fn host_names(#[case] host: &str, #[case] name: &str) {
        assert_eq!(host_name(host), name);
    }

    /// A handler registered without a row in [`ROUTES`] is never reached.
    #[tokio::test]
    async fn a_route_missing_from_the_table_is_refused() {
        use tower::ServiceExt;
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("replica.db")).unwrap();
        let sec = Security::new(
            store,
            "127.0.0.1:8420".parse().unwrap(),
            ApiConfig::default(),
        );
        let reached = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = reached.clone();
        let app = axum::Router::new()
            .route("/healthz", axum::routing::get(|| async { "ok" }))
            .route(
                "/api/new-thing",
                axum::routing::get(move || {
                    flag.store(true, std::sync::atomic::Ordering::SeqCst);
                    async { "reached" }
                }),
            )
            .layer(axum::middleware::from_fn_with_state(sec, guard));
        let get = |path: &str| {
            axum::http::Request::get(path)
                .header(header::HOST, "127.0.0.1:8420")
                .body(Body::empty())
                .unwrap()
        };
        let res = app.clone().oneshot(get("/api/new-thing")).await.unwrap();
        assert_eq!(res.status(), axum::http::StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(res.into_body(), 4096).await.unwrap();
        assert!(String::from_utf8_lossy(&body).contains("undeclared_route"));
        assert!(!reached.load(std::sync::atomic::Ordering::SeqCst));
        // A declared one passes.
        let res = app.oneshot(get("/healthz")).await.unwrap();
        assert_eq!(res.status(), axum::http::StatusCode::OK);
    }

    #[test]
    fn every_row_is_unique_and_writes_say_their_body() {
        for (i, a) in ROUTES.iter().enumerate() {
            for b in &ROUTES[i + 1..] {
                assert!(
                    !(a.verb == b.verb && a.path == b.path),
                    "{} {} listed twice",
                    a.verb.as_str(),
                    a.path
                );
            }
            if a.verb != Verb::Get {
                assert_ne!(a.body, BodyKind::None, "{} {}", a.verb.as_str(), a.path);
            }
        }
    }
}
