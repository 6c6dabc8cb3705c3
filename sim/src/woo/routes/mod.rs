//! The REST surface: route matching, the order WordPress checks things in
//! (authentication, route, arguments, permission, handler), error bodies and
//! response headers. Handlers live in the sibling files by resource.
//!
//! Everything here is synchronous and holds the store's read lock only while
//! a response is built; the HTTP layer (`mod.rs`) adds latency and faults.

mod config;
mod filters;
pub(crate) mod list;
mod orders;
pub(crate) mod params;
mod people;
mod products;
mod table;
mod terms;
pub(crate) mod writes;

use serde_json::{Value, json};

use self::list::{Listed, filter_fields, link_header, parse_fields};
use self::params::{Params, PhpValue, parse_php_query, urldecode};
use self::table::{Gate, Kind, match_route, routes};
use self::writes::{WriteCall, merge_params};
use super::Shop;
use super::auth::{self, AuthRequest, Caller, KeyPermissions};
use super::json::to_php_json;
use super::model::Store;
use super::mutate::Tx;
use super::render::Ctx;

/// A WordPress REST error: `{"code","message","data"}`. Small on purpose
/// (boxed data): it travels in every handler's `Result`.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    pub data: Box<Value>,
}

impl ApiError {
    pub(crate) fn new(status: u16, code: &'static str, message: String) -> Self {
        Self {
            status,
            code,
            message,
            data: Box::new(json!({ "status": status })),
        }
    }

    pub(crate) fn with_data(status: u16, code: &'static str, message: String, data: Value) -> Self {
        Self {
            status,
            code,
            message,
            data: Box::new(data),
        }
    }

    pub(crate) fn not_found(code: &'static str, message: &str) -> Self {
        Self::new(404, code, message.to_owned())
    }

    pub(crate) fn body(&self) -> Value {
        json!({ "code": self.code, "message": self.message, "data": *self.data })
    }
}

/// What a handler produces.
pub(crate) enum Out {
    /// One object, or a plain list without paging headers.
    Json(Value),
    /// A collection with `X-WP-Total` / `X-WP-TotalPages` (and `Link`).
    List(Listed),
}

/// A handler's view of the request.
pub(crate) struct Call<'a> {
    pub ctx: Ctx<'a>,
    pub store: &'a Store,
    pub params: &'a Params,
    /// Captured path parameters, in order.
    pub path: Vec<&'a str>,
}

/// An HTTP request as the REST layer needs it.
pub(crate) struct HttpRequest<'a> {
    pub method: &'a str,
    /// The path as sent (percent-encoded).
    pub raw_path: &'a str,
    pub raw_query: &'a str,
    pub authorization: Option<&'a str>,
    /// `application/x-www-form-urlencoded` body parameters (`$_POST`).
    pub form: Vec<(String, PhpValue)>,
    /// An `application/json` body: parsed, or `Err` when it is not JSON.
    pub json: Option<Result<Value, ()>>,
    /// In-process calls from `SimHandle`: authenticated as the key's owner
    /// without OAuth (no nonce, no signature).
    pub trusted: bool,
}

/// A finished response, before faults and latency.
pub(crate) struct HttpReply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

const JSON_TYPE: &str = "application/json; charset=UTF-8";

fn no_route() -> ApiError {
    ApiError::not_found(
        "rest_no_route",
        "No route was found matching the URL and request method.",
    )
}

/// Headers every REST response carries, in the order WordPress sends them.
struct Headers {
    link: String,
    totals: Option<(usize, usize)>,
    location: Option<String>,
    allow: Option<&'static [&'static str]>,
    authenticated: bool,
    method_is_get: bool,
}

impl Headers {
    fn into_vec(self) -> Vec<(&'static str, String)> {
        let mut h = vec![
            ("x-robots-tag", "noindex".to_owned()),
            ("link", self.link),
            ("x-content-type-options", "nosniff".to_owned()),
            (
                "access-control-expose-headers",
                "X-WP-Total, X-WP-TotalPages, Link".to_owned(),
            ),
            (
                "access-control-allow-headers",
                "Authorization, X-WP-Nonce, Content-Disposition, Content-MD5, Content-Type"
                    .to_owned(),
            ),
        ];
        if let Some((total, pages)) = self.totals {
            h.push(("x-wp-total", total.to_string()));
            h.push(("x-wp-totalpages", pages.to_string()));
        }
        if let Some(l) = self.location {
            h.push(("location", l));
        }
        // Allow lists the methods the *current user* may use: none for a
        // logged-out request (see `rest_send_allow_header`).
        if let Some(methods) = self.allow.filter(|_| self.authenticated) {
            h.push(("allow", methods.join(", ")));
        }
        if self.authenticated {
            h.push(("expires", "Wed, 11 Jan 1984 05:00:00 GMT".to_owned()));
            h.push((
                "cache-control",
                "no-cache, must-revalidate, max-age=0, no-store, private".to_owned(),
            ));
        } else if self.method_is_get {
            h.push(("vary", "Origin".to_owned()));
        }
        h.push(("content-type", JSON_TYPE.to_owned()));
        h
    }
}

/// The shop's name (WordPress's `blogname`) as the index gives it.
pub(crate) const SHOP_NAME: &str = "possync simulated shop";

/// `WP_REST_Server::get_index()`, for a logged-out caller. No captured
/// fixture holds it: the fields are those the PHP source lists, with this
/// sim's values (its site offset is a fixed UTC+01:00, see `clock`).
/// `routes` is left empty here: WordPress describes every route of every
/// namespace there, which no client of the sim reads.
fn index(home: &str) -> Value {
    json!({
        "name": SHOP_NAME,
        "description": "A WooCommerce store simulated for possync",
        "url": home,
        "home": home,
        "gmt_offset": crate::woo::clock::SITE_OFFSET_SECS / 3600,
        "timezone_string": "",
        "page_for_posts": 0,
        "page_on_front": 0,
        "show_on_front": "posts",
        "namespaces": ["oembed/1.0", "wc/v1", "wc/v2", "wc/v3", "wc/store/v1", "wp/v2", "wp-site-health/v1"],
        "authentication": [],
        "routes": {},
        "_links": {"help": [{"href": "https://developer.wordpress.org/rest-api/"}]},
    })
}

/// A WordPress 404 page for anything outside the REST API.
fn html_not_found() -> HttpReply {
    HttpReply {
        status: 404,
        headers: vec![("content-type", "text/html; charset=UTF-8".to_owned())],
        body: b"<!DOCTYPE html>\n<html lang=\"en-GB\"><head><meta charset=\"UTF-8\"><title>Page not found</title></head><body class=\"error404\"><h1>Oops! That page can&rsquo;t be found.</h1></body></html>\n".to_vec(),
    }
}

/// The shop's front page, what a shopper loads first (the server model
/// gives it its own service time).
fn storefront() -> HttpReply {
    HttpReply {
        status: 200,
        headers: vec![("content-type", "text/html; charset=UTF-8".to_owned())],
        body: b"<!DOCTYPE html>\n<html lang=\"en-GB\"><head><meta charset=\"UTF-8\"><title>Shop</title></head><body class=\"home\"><h1>Shop</h1></body></html>\n".to_vec(),
    }
}

/// The permission error of a write without credentials.
fn write_denied(kind: Kind, pattern: &str, method: &str) -> ApiError {
    let (code, message) = if pattern.ends_with("batch") {
        (
            "woocommerce_rest_cannot_batch",
            "Sorry, you are not allowed to batch manipulate this resource.",
        )
    } else if kind == Kind::Collection {
        (
            "woocommerce_rest_cannot_create",
            "Sorry, you are not allowed to create resources.",
        )
    } else if method == "DELETE" {
        (
            "woocommerce_rest_cannot_delete",
            "Sorry, you are not allowed to delete this resource.",
        )
    } else {
        (
            "woocommerce_rest_cannot_edit",
            "Sorry, you are not allowed to edit this resource.",
        )
    };
    ApiError::new(401, code, message.to_owned())
}

/// Serves one request against the shop.
pub(crate) fn respond(shop: &Shop, req: &HttpRequest<'_>) -> HttpReply {
    let now = shop.clock.now();
    let query = parse_php_query(req.raw_query);
    let rest_route = match req.raw_path.strip_prefix("/wp-json") {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => {
            Some(urldecode(&rest.replace('+', "%2B")))
        }
        _ if matches!(req.raw_path, "/" | "/index.php") => query
            .iter()
            .find(|(k, _)| k == "rest_route")
            .and_then(|(_, v)| match v {
                PhpValue::Str(s) => Some(s.clone()),
                PhpValue::Arr(_) => None,
            }),
        _ => None,
    };
    let Some(route_path) = rest_route else {
        if req.raw_path == "/" && req.method == "GET" {
            return storefront();
        }
        return html_not_found();
    };
    let trimmed = route_path.trim_matches('/').to_owned();
    let method_is_get = req.method == "GET";
    let discovery = format!("<{}/wp-json/>; rel=\"https://api.w.org/\"", shop.home);
    let error_reply =
        |e: ApiError, authenticated: bool, allow: Option<&'static [&'static str]>| HttpReply {
            status: e.status,
            headers: Headers {
                link: discovery.clone(),
                totals: None,
                location: None,
                allow,
                authenticated,
                method_is_get,
            }
            .into_vec(),
            body: to_php_json(&e.body()),
        };

    // 1. Authentication (`rest_authentication_errors`), for wc/ routes only.
    let caller = if req.trusted {
        Caller::Key(KeyPermissions::ReadWrite)
    } else if trimmed.starts_with("wc/") || trimmed.starts_with("wc-") {
        let auth_req = AuthRequest {
            method: req.method,
            raw_path: req.raw_path,
            query: &query,
            form: &req.form,
            authorization: req.authorization,
        };
        let mut keys = shop
            .keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match auth::authenticate(&auth_req, &mut keys, &shop.home, now) {
            Ok(c) => c,
            Err(e) => return error_reply(e, false, None),
        }
    } else {
        Caller::Anonymous
    };
    let authenticated = matches!(caller, Caller::Key(_));
    // The key's own permissions (`rest_pre_dispatch`), before any route.
    if let Caller::Key(permissions) = caller
        && let Err(e) = auth::check_permissions(req.method, permissions)
    {
        return error_reply(e, false, None);
    }

    // The API's index (`GET /wp-json/`): public, any permalinks.
    if trimmed.is_empty() && matches!(req.method, "GET" | "HEAD") {
        let params = Params { list: query };
        let data = filter_fields(index(&shop.home), parse_fields(&params).as_ref());
        return HttpReply {
            status: 200,
            headers: Headers {
                link: discovery.clone(),
                totals: None,
                location: None,
                allow: Some(&["GET"]),
                authenticated,
                method_is_get,
            }
            .into_vec(),
            body: if req.method == "HEAD" {
                Vec::new()
            } else {
                to_php_json(&data)
            },
        };
    }

    // 2. Route.
    // WordPress matches routes case-insensitively (`@^...$@i`).
    let rest = match trimmed.get(..6) {
        Some(prefix) if prefix.eq_ignore_ascii_case("wc/v3/") => Some(&trimmed[6..]),
        _ => trimmed.eq_ignore_ascii_case("wc/v3").then_some(""),
    };
    let Some(rest) = rest else {
        return error_reply(no_route(), authenticated, None);
    };
    let segments: Vec<&str> = rest.split('/').collect();
    let matched = routes()
        .iter()
        .find_map(|r| match_route(r.pattern, &segments).map(|c| (r, c)));
    let Some((route, captured)) = matched else {
        return error_reply(no_route(), authenticated, None);
    };
    let gated = match route.gate {
        Gate::Always => true,
        Gate::VariationsEndpoint => shop.variations_endpoint,
        Gate::RefundsEndpoint => shop.refunds_endpoint,
    };
    let method = if req.method == "HEAD" {
        "GET"
    } else {
        req.method
    };
    if !gated || !route.methods.contains(&method) {
        return error_reply(no_route(), authenticated, None);
    }
    if method != "GET" {
        let Some(write) = route.write else {
            let e = ApiError::new(
                501,
                "possync_sim_not_implemented",
                format!(
                    "The simulated store does not implement {} {} yet.",
                    req.method, route.pattern
                ),
            );
            return error_reply(e, authenticated, Some(route.methods));
        };
        if !authenticated {
            return error_reply(write_denied(route.kind, route.pattern, method), false, None);
        }
        let input = match &req.json {
            Some(Err(())) => {
                let e = ApiError::with_data(
                    400,
                    "rest_invalid_json",
                    "Invalid JSON body passed.".to_owned(),
                    json!({ "status": 400, "json_error_code": 4, "json_error_message": "Syntax error" }),
                );
                return error_reply(e, true, Some(route.methods));
            }
            Some(Ok(v)) => merge_params(&query, &req.form, Some(v)),
            None => merge_params(&query, &req.form, None),
        };
        let params = Params {
            list: query.clone(),
        };
        let mut store = shop
            .store
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut call = WriteCall {
            tx: Tx::new(&mut store, now),
            ctx: Ctx {
                home: &shop.home,
                now,
            },
            method,
            path: captured,
            input,
        };
        let result = write(&mut call);
        let (changes, pings) = (call.tx.changes, call.tx.pings);
        // Deliveries are queued with the request's commit, whatever
        // happens to the answer afterwards.
        shop.hooks.dispatch(&store, &changes, &pings);
        drop(store);
        let out = match result {
            Ok(out) => out,
            Err(e) => return error_reply(e, true, Some(route.methods)),
        };
        let fields = parse_fields(&params);
        return HttpReply {
            status: out.status,
            headers: Headers {
                link: discovery.clone(),
                totals: None,
                location: out.location,
                allow: Some(route.methods),
                authenticated: true,
                method_is_get,
            }
            .into_vec(),
            body: to_php_json(&filter_fields(out.body, fields.as_ref())),
        };
    }
    let Some(handler) = route.handler else {
        return error_reply(no_route(), authenticated, None);
    };

    // 3. Arguments, before any permission check (`respond_to_request`).
    let params = Params { list: query };
    if let Err(e) = params::validate(route.args, &params) {
        return error_reply(e, authenticated, Some(route.methods));
    }

    // 4. Permission and handler.
    let store = shop
        .store
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let call = Call {
        ctx: Ctx {
            home: &shop.home,
            now,
        },
        store: &store,
        params: &params,
        path: captured,
    };
    let denied = |kind: Kind| {
        let message = if kind == Kind::Collection {
            "Sorry, you cannot list resources."
        } else {
            "Sorry, you cannot view this resource."
        };
        ApiError::new(401, "woocommerce_rest_cannot_view", message.to_owned())
    };
    let result = match (authenticated, route.kind) {
        (true, _) => handler(&call),
        (false, Kind::CrudItem) => match handler(&call) {
            Err(e) if e.status == 404 => Err(e),
            _ => Err(denied(Kind::Item)),
        },
        (false, kind) => Err(denied(kind)),
    };
    let out = match result {
        Ok(out) => out,
        Err(e) => return error_reply(e, authenticated, Some(route.methods)),
    };
    drop(store);

    // 5. `_fields`, headers, body.
    let fields = parse_fields(&params);
    let (data, totals, link) = match out {
        Out::Json(v) => (filter_fields(v, fields.as_ref()), None, discovery.clone()),
        Out::List(listed) => {
            let link = link_header(&shop.home, &trimmed, &listed, &params)
                .unwrap_or_else(|| discovery.clone());
            let totals = Some((listed.total, listed.pages));
            (
                filter_fields(Value::Array(listed.items), fields.as_ref()),
                totals,
                link,
            )
        }
    };
    let body = if req.method == "HEAD" {
        Vec::new()
    } else {
        to_php_json(&data)
    };
    HttpReply {
        status: 200,
        headers: Headers {
            link,
            totals,
            location: None,
            allow: Some(route.methods),
            authenticated,
            method_is_get,
        }
        .into_vec(),
        body,
    }
}
