//! Every route of the access table × every way a caller can be wrong:
//! the answer's status and error code, and the replica and outbox (row
//! counts and a content digest) unchanged after each request.

use std::time::Duration;

use possync::api::security::{Access, BodyKind, ROUTES, Route, Verb};
use serde_json::{Value, json};

use super::{Guarded, LoginForm, Session};

/// One way a request can be wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    NoToken,
    WrongToken,
    RevokedToken,
    CrossOrigin,
    CrossSiteFetch,
    WrongHost,
    WrongContentType,
    NoSession,
    ExpiredSession,
    MissingCsrf,
}

const CASES: [Case; 10] = [
    Case::NoToken,
    Case::WrongToken,
    Case::RevokedToken,
    Case::CrossOrigin,
    Case::CrossSiteFetch,
    Case::WrongHost,
    Case::WrongContentType,
    Case::NoSession,
    Case::ExpiredSession,
    Case::MissingCsrf,
];

/// What a refused request must get: status and error code. `None`: the
/// case does not apply to the route (e.g. a wrong token on an open route).
fn expected(route: &Route, case: Case) -> Option<(u16, &'static str)> {
    let changing = route.verb != Verb::Get;
    let browser_checked = changing && route.access != Access::Webhook;
    let token_route = matches!(route.access, Access::Token | Access::TokenOrSession);
    let session_route = matches!(route.access, Access::Session | Access::TokenOrSession);
    match case {
        Case::WrongHost => Some((421, "misdirected_request")),
        Case::NoToken | Case::WrongToken | Case::RevokedToken if token_route => {
            Some((401, "unauthorized"))
        }
        Case::CrossOrigin | Case::CrossSiteFetch if browser_checked => Some((403, "cross_origin")),
        Case::WrongContentType
            if matches!(route.body, BodyKind::Json | BodyKind::Form) && changing =>
        {
            Some((415, "unsupported_media_type"))
        }
        Case::NoSession if session_route => Some((401, "unauthorized")),
        Case::NoSession if route.access == Access::Visitor => Some((403, "csrf_token_invalid")),
        Case::ExpiredSession if session_route => Some((401, "unauthorized")),
        Case::MissingCsrf if changing && (session_route || route.access == Access::Visitor) => {
            Some((403, "csrf_token_invalid"))
        }
        _ => None,
    }
}

/// The route's path with its segments filled in.
fn concrete(path: &str) -> String {
    path.replace("{id}", "3f7c2a1e-0000-4000-8000-000000000001")
        .replace(
            "/api/products/3f7c2a1e-0000-4000-8000-000000000001",
            "/api/products/1",
        )
}

/// Credentials a legitimate caller of `route` sends.
struct Legit<'a> {
    token: &'a str,
    session: &'a Session,
    login: &'a LoginForm,
}

/// Builds the request for `route` as a legitimate caller would, then spoils
/// it as `case` says.
fn request(g: &Guarded, route: &Route, case: Case, legit: &Legit<'_>) -> reqwest::RequestBuilder {
    let method = reqwest::Method::from_bytes(route.verb.as_str().as_bytes()).unwrap();
    let mut req = g.bare.request(method, g.url(&concrete(route.path)));
    let changing = route.verb != Verb::Get;

    // Who the caller is.
    let session_instead = route.access == Access::Session
        || (route.access == Access::TokenOrSession
            && matches!(
                case,
                Case::NoSession | Case::ExpiredSession | Case::MissingCsrf
            ));
    let use_token = !session_instead
        && matches!(
            route.access,
            Access::Token | Access::TokenOrSession | Access::Catalog
        );
    if use_token {
        match case {
            Case::NoToken => {}
            Case::WrongToken => {
                req = req.bearer_auth("pst_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG")
            }
            Case::RevokedToken => req = req.bearer_auth(&g.revoked),
            _ => req = req.bearer_auth(legit.token),
        }
    }
    let mut form: Vec<(&str, String)> = Vec::new();
    if session_instead && case != Case::NoSession {
        req = req.header("cookie", &legit.session.cookie);
        if changing && case != Case::MissingCsrf {
            req = req.header("x-csrf-token", &legit.session.csrf);
            form.push(("csrf_token", legit.session.csrf.clone()));
        }
    }
    if route.access == Access::Visitor {
        if case != Case::NoSession {
            req = req.header("cookie", &legit.login.cookie);
        }
        if case != Case::MissingCsrf {
            form.push(("csrf_token", legit.login.csrf.clone()));
        }
        form.push(("password", "not the password".to_owned()));
    }

    // Where it comes from.
    match case {
        Case::CrossOrigin => req = req.header("origin", "http://evil.example"),
        Case::CrossSiteFetch => req = req.header("sec-fetch-site", "cross-site"),
        Case::WrongHost => req = req.header("host", "evil.example.com"),
        _ => {}
    }

    // What it carries.
    if case == Case::WrongContentType {
        return req
            .header("content-type", "text/plain")
            .body(json!({"name": "Eve", "email": "eve@example.com"}).to_string());
    }
    match route.body {
        BodyKind::Json if changing => req.json(&json!({})),
        BodyKind::Form => req.form(&form),
        BodyKind::Raw => req.header("content-type", "application/json").body("{}"),
        _ => req,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_refuses_every_bad_caller_and_writes_nothing() {
    let g = Guarded::spawn(|_| {}).await;
    // Sessions on this agent expire at once: any request after login is
    // one on an expired session.
    let expiring = Guarded::spawn(|c| c.api.session_idle = Duration::ZERO).await;
    let session = g.login().await;
    let stale = expiring.login().await;
    let login = LoginForm::get(&g.bare, &g.url("/")).await;
    let stale_login = LoginForm::get(&expiring.bare, &expiring.url("/")).await;

    let before = (g.digest().await, expiring.digest().await);
    let mut checked = 0;
    let mut failures = Vec::new();
    for route in ROUTES {
        for case in CASES {
            let Some((status, code)) = expected(route, case) else {
                continue;
            };
            let (agent, legit) = if case == Case::ExpiredSession {
                (
                    &expiring,
                    Legit {
                        token: &expiring.token,
                        session: &stale,
                        login: &stale_login,
                    },
                )
            } else {
                (
                    &g,
                    Legit {
                        token: &g.token,
                        session: &session,
                        login: &login,
                    },
                )
            };
            let res = request(agent, route, case, &legit).send().await.unwrap();
            let got = res.status().as_u16();
            let nosniff = res
                .headers()
                .get("x-content-type-options")
                .is_some_and(|v| v == "nosniff");
            let body: Value = res.json().await.unwrap_or(Value::Null);
            let got_code = body["error"]["code"].as_str().unwrap_or("").to_owned();
            if got != status || got_code != code || !nosniff {
                failures.push(format!(
                    "{} {} {case:?}: expected {status} {code}, got {got} {got_code} (nosniff {nosniff}) {body}",
                    route.verb.as_str(),
                    route.path
                ));
            }
            let now = (g.digest().await, expiring.digest().await);
            if now != before {
                failures.push(format!(
                    "{} {} {case:?}: the replica changed",
                    route.verb.as_str(),
                    route.path
                ));
            }
            checked += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Every route has at least the wrong-Host row; most have several.
    assert!(checked > ROUTES.len() * 2, "{checked} requests checked");

    // The digest sees a write: the same request with the token, from the
    // agent's own origin, as JSON, is taken.
    let res = g
        .bare
        .post(g.url("/api/customers"))
        .bearer_auth(&g.token)
        .header("origin", g.app.url())
        .header("sec-fetch-site", "same-origin")
        .json(&json!({"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let after = g.digest().await;
    assert_ne!(after, before.0, "a real write moves the digest");
    let customers = |d: &possync::store::dump::Digest, table: &str| {
        d.counts.iter().find(|(t, _)| t == table).map(|(_, n)| *n)
    };
    assert_eq!(
        customers(&after, "outbox").unwrap(),
        customers(&before.0, "outbox").unwrap() + 1
    );
}

#[tokio::test]
async fn every_row_of_the_table_names_a_served_route() {
    let g = Guarded::spawn(|_| {}).await;
    let session = g.login().await;
    for route in ROUTES {
        let method = reqwest::Method::from_bytes(route.verb.as_str().as_bytes()).unwrap();
        let mut req = g
            .bare
            .request(method, g.url(&concrete(route.path)))
            .bearer_auth(&g.token)
            .header("cookie", &session.cookie)
            .header("x-csrf-token", &session.csrf);
        if route.body == BodyKind::Form {
            req = req.form(&[("csrf_token", session.csrf.as_str()), ("password", "x")]);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        assert!(
            status != 405 && body["error"]["message"] != "no such endpoint",
            "{} {} is in the table but not served: {status} {body}",
            route.verb.as_str(),
            route.path
        );
        assert_ne!(body["error"]["code"], "undeclared_route");
    }
}

#[tokio::test]
async fn the_same_401_for_a_missing_wrong_or_revoked_token() {
    let g = Guarded::spawn(|_| {}).await;
    let url = g.url("/api/customers");
    let answer = |req: reqwest::RequestBuilder| async move {
        let res = req.send().await.unwrap();
        (
            res.status().as_u16(),
            res.headers()
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap().to_owned()),
            res.text().await.unwrap(),
        )
    };
    let missing = answer(g.bare.get(&url)).await;
    let wrong = answer(g.bare.get(&url).bearer_auth("pst_nope")).await;
    let revoked = answer(g.bare.get(&url).bearer_auth(&g.revoked)).await;
    let basic = answer(g.bare.get(&url).basic_auth("till", Some(&g.token))).await;
    assert_eq!(missing.0, 401);
    assert_eq!(missing.1.as_deref(), Some("Bearer"));
    assert_eq!(wrong, missing);
    assert_eq!(revoked, missing);
    assert_eq!(basic, missing);
    let ok = g.bare.get(&url).bearer_auth(&g.token).send().await.unwrap();
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn html_answers_carry_the_browser_hardening_headers_and_json_is_never_sniffed() {
    let g = Guarded::spawn(|_| {}).await;
    let session = g.login().await;
    for path in ["/", "/login-does-not-exist"] {
        let res = g.bare.get(g.url(path)).send().await.unwrap();
        assert_eq!(res.headers()["x-content-type-options"], "nosniff", "{path}");
    }
    let page = g
        .bare
        .get(g.url("/"))
        .header("cookie", &session.cookie)
        .send()
        .await
        .unwrap();
    let h = page.headers();
    assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("style-src 'self'"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["x-content-type-options"], "nosniff");
    let html = page.text().await.unwrap();
    assert!(
        !html.contains("<script>") && !html.contains("<style>"),
        "no inline code"
    );
    for (path, kind) in [
        ("/api/products", "application/json"),
        ("/assets/status.js", "text/javascript"),
        ("/assets/app.css", "text/css"),
        ("/healthz", "application/json"),
    ] {
        let res = g.with_token().get(g.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind),
            "{path}"
        );
        assert_eq!(res.headers()["x-content-type-options"], "nosniff", "{path}");
    }
}

#[tokio::test]
async fn product_lookups_need_a_token_when_tokens_are_required() {
    let g = Guarded::spawn(|c| c.api.require_tokens = true).await;
    assert_eq!(
        g.bare
            .get(g.url("/api/products"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        g.with_token()
            .get(g.url("/api/products"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        g.bare.get(g.url("/healthz")).send().await.unwrap().status(),
        200
    );
    let open = Guarded::spawn(|_| {}).await;
    assert_eq!(
        open.bare
            .get(open.url("/api/products"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn allowed_hosts_and_the_loopback_names_pass_the_host_check() {
    let g = Guarded::spawn(|c| c.api.allowed_hosts = vec!["till-3.shop.lan".to_owned()]).await;
    let port = g.app.addr().port();
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
        "till-3.shop.lan".to_owned(),
        format!("TILL-3.shop.lan:{port}"),
    ] {
        let res = g
            .bare
            .get(g.url("/healthz"))
            .header("host", &host)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{host}");
    }
    for host in [
        "evil.example.com",
        "till-3.shop.lan.evil.example",
        "127.0.0.2",
    ] {
        let res = g
            .bare
            .get(g.url("/healthz"))
            .header("host", host)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 421, "{host}");
    }
}

#[tokio::test]
async fn a_null_origin_passes_only_with_same_origin_fetch_metadata() {
    // Under `Referrer-Policy: no-referrer` a browser posts the page's own
    // forms with `Origin: null`; a sandboxed frame elsewhere sends the same
    // Origin with `Sec-Fetch-Site: cross-site`.
    let g = Guarded::spawn(|_| {}).await;
    let before = g.digest().await;
    let post = |site: Option<&'static str>| {
        let mut req = g
            .bare
            .post(g.url("/api/customers"))
            .bearer_auth(&g.token)
            .header("origin", "null")
            .json(&json!({}));
        if let Some(site) = site {
            req = req.header("sec-fetch-site", site);
        }
        req.send()
    };
    assert_eq!(post(None).await.unwrap().status(), 403);
    assert_eq!(post(Some("cross-site")).await.unwrap().status(), 403);
    assert_eq!(post(Some("same-site")).await.unwrap().status(), 403);
    // Past the origin check: the empty body is then a precise 422.
    assert_eq!(post(Some("same-origin")).await.unwrap().status(), 422);
    assert_eq!(g.digest().await, before);
}
