//! The back-office page: server-rendered HTML behind the admin login (see
//! [`login`]), one module per page, every asset embedded in the binary.
//!
//! Templates are [askama](https://docs.rs/askama) files under
//! `src/api/backoffice/templates/`, checked and compiled with the crate: a
//! template naming a field its page does not have fails the build, and
//! every `{{ value }}` is HTML-escaped. Each page extends `base.html`, which
//! draws the tabs ([`TABS`]), the instance banner ([`Banner`]), the flash
//! messages ([`Flash`]) and loads `/assets/page.js` (live fragments,
//! confirmations, JSON posts with the CSRF token; see the file). Forms put
//! `{% include "csrf_field.html" %}` inside them.
//!
//! # Adding a page
//!
//! 1. A template `templates/<page>.html` that starts with
//!    `{% extends "base.html" %}` and fills `{% block content %}` (and
//!    `{% block scripts %}` for a script of its own).
//! 2. A module `<page>.rs` here with a `#[derive(Template)]` struct holding
//!    `layout: Layout` plus what the page shows, a handler taking a
//!    [`Manager`] (the logged-in manager, or a redirect to the login) that
//!    ends in [`render`], and a `routes()` merged in this module's `routes()`. A
//!    form's handler answers with [`flash_redirect`] (post/redirect/get), or
//!    renders the page again with a [`Flash`] and a 4xx status when the input
//!    is refused.
//! 3. A row per route in [`crate::api::security::ROUTES`]: `Session` for
//!    pages and their forms (`BodyKind::Form`) and fragments, `Open` only for
//!    assets. A route without its row is refused, and the route-table test
//!    fails.
//! 4. A tab in [`TABS`] if the page has one; an asset in [`ASSETS`] (and its
//!    row) if it brings a file.
//!
//! A page reads the replica through `state.store.read(..)` like every
//! handler; a live part is a fragment route answering a small template
//! (no `extends`) that an element with `data-live="/path"` polls.

pub mod demo;
mod events;
mod instance;
mod listing;
pub mod login;
mod meta;
mod operations;
mod queue;
mod report;
mod settings;
mod setup;
mod status;

/// The settings page's tabs (`/settings?tab=ID`), as `(id, label)`.
pub use settings::SETTINGS_TABS;

use askama::Template;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::security::Caller;
use super::security::session::{self, Admin};
use super::{ApiError, AppState};

/// One tab of the page's navigation.
#[derive(Debug, Clone, Copy)]
pub struct Tab {
    /// The page's id: `Layout::active` names it, and the link's id is
    /// `tab-<id>`.
    pub id: &'static str,
    pub path: &'static str,
    pub label: &'static str,
}

/// The tabs, in the order shown.
pub const TABS: &[Tab] = &[
    Tab {
        id: "status",
        path: "/",
        label: "Status",
    },
    Tab {
        id: "settings",
        path: "/settings",
        label: "Settings",
    },
    Tab {
        id: "meta",
        path: "/settings/meta",
        label: "Meta mapping",
    },
    Tab {
        id: "queue",
        path: "/queue",
        label: "Queue",
    },
    Tab {
        id: "events",
        path: "/events",
        label: "Events",
    },
    Tab {
        id: "reports",
        path: "/reports",
        label: "Reports",
    },
    Tab {
        id: "operations",
        path: "/operations",
        label: "Operations",
    },
];

/// A file the agent serves itself (no CDN, no external font).
pub struct Asset {
    pub path: &'static str,
    pub content_type: &'static str,
    pub body: &'static str,
}

/// Every asset of the page; each has its row (`Open`) in `ROUTES`.
pub const ASSETS: &[Asset] = &[
    Asset {
        path: "/assets/app.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("assets/app.css"),
    },
    Asset {
        path: "/assets/page.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("assets/page.js"),
    },
    Asset {
        path: "/assets/status.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("assets/status.js"),
    },
];

pub(super) fn routes() -> Router<AppState> {
    let mut router = Router::new();
    for asset in ASSETS {
        router = router.route(
            asset.path,
            get(move || async move {
                (
                    [
                        (header::CONTENT_TYPE, asset.content_type),
                        (header::CACHE_CONTROL, "no-cache"),
                    ],
                    asset.body,
                )
            }),
        );
    }
    router
        .merge(status::routes())
        .merge(settings::routes())
        .merge(instance::routes())
        .merge(setup::routes())
        .merge(demo::routes())
        .merge(meta::routes())
        .merge(queue::routes())
        .merge(events::routes())
        .merge(report::routes())
        .merge(operations::routes())
        .merge(login::routes())
}

/// How a banner or a flash message looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// All is well (green).
    Ok,
    /// Needs attention (yellow).
    Warn,
    /// Stopped or refused (red).
    Off,
    /// Plain information.
    Info,
}

impl Tone {
    /// The CSS class.
    pub fn class(&self) -> &'static str {
        match self {
            Tone::Ok => "ok",
            Tone::Warn => "warn",
            Tone::Off => "error off",
            Tone::Info => "info",
        }
    }

    /// The ARIA role: refusals are announced at once.
    pub fn role(&self) -> &'static str {
        match self {
            Tone::Off => "alert",
            _ => "status",
        }
    }

    pub fn code(self) -> char {
        match self {
            Tone::Ok => 'o',
            Tone::Warn => 'w',
            Tone::Off => 'e',
            Tone::Info => 'i',
        }
    }

    fn from_code(c: char) -> Option<Tone> {
        Some(match c {
            'o' => Tone::Ok,
            'w' => Tone::Warn,
            'e' => Tone::Off,
            'i' => Tone::Info,
            _ => return None,
        })
    }
}

/// The coloured line under the header saying what state the instance is in
/// and why.
#[derive(Debug, Clone)]
pub struct Banner {
    pub kind: Tone,
    pub title: String,
    pub reason: String,
}

/// A message shown once at the top of the page (after a form).
#[derive(Debug, Clone)]
pub struct Flash {
    pub kind: Tone,
    pub text: String,
}

impl Flash {
    pub fn ok(text: impl Into<String>) -> Flash {
        Flash {
            kind: Tone::Ok,
            text: text.into(),
        }
    }

    pub fn info(text: impl Into<String>) -> Flash {
        Flash {
            kind: Tone::Info,
            text: text.into(),
        }
    }

    pub fn error(text: impl Into<String>) -> Flash {
        Flash {
            kind: Tone::Off,
            text: text.into(),
        }
    }
}

/// What `base.html` draws around every page.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The `<title>` after "possync · ".
    pub title: String,
    /// The [`Tab::id`] shown as current.
    pub active: &'static str,
    /// The session's CSRF token, for `csrf_field.html` and `page.js`.
    pub csrf: String,
    pub banner: Option<Banner>,
    pub flash: Vec<Flash>,
}

impl Layout {
    /// The navigation (a method, so templates reach the constant).
    pub fn tabs(&self) -> &'static [Tab] {
        TABS
    }
}

/// The cookie carrying a flash message across a redirect.
const FLASH_COOKIE: &str = "possync_flash";

/// The logged-in manager, as a handler argument. Without a live session
/// the request is sent to `/`, which shows the login form.
pub struct Manager {
    pub admin: Admin,
    flash: Option<Flash>,
    secure: bool,
    banner: Option<Banner>,
}

impl Manager {
    /// The layout of a page titled `title` under tab `active`.
    pub fn layout(&self, title: &str, active: &'static str) -> Layout {
        Layout {
            title: title.to_owned(),
            active,
            csrf: self.admin.csrf.clone(),
            banner: self.banner.clone(),
            flash: self.flash.iter().cloned().collect(),
        }
    }

    /// The same layout with `flash` shown too (a refused form rendered
    /// again).
    pub fn layout_with(&self, title: &str, active: &'static str, flash: Flash) -> Layout {
        let mut layout = self.layout(title, active);
        layout.flash.push(flash);
        layout
    }
}

impl Manager {
    /// The page context of `admin`, whose session `headers` carry.
    fn of(state: &AppState, headers: &HeaderMap, admin: Admin) -> Manager {
        Manager {
            admin,
            flash: read_flash(headers),
            secure: state.security.secure_cookies(),
            banner: instance_banner(state),
        }
    }
}

impl FromRequestParts<AppState> for Manager {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let admin = match parts.extensions.get::<Caller>() {
            Some(Caller::Admin(admin)) => Some(admin.clone()),
            _ => state
                .security
                .admin(&parts.headers)
                .await
                .map_err(IntoResponse::into_response)?,
        };
        admin
            .map(|admin| Self::of(state, &parts.headers, admin))
            .ok_or_else(|| Redirect::to("/").into_response())
    }
}

/// The instance's state, for the banner.
fn instance_banner(state: &AppState) -> Option<Banner> {
    Some(instance::banner(
        &state.control.current().config,
        &state.progress.borrow(),
    ))
}

fn read_flash(headers: &HeaderMap) -> Option<Flash> {
    let raw = session::cookie(headers, FLASH_COOKIE)?;
    let mut chars = raw.chars();
    let kind = Tone::from_code(chars.next()?)?;
    let text = URL_SAFE_NO_PAD.decode(chars.as_str()).ok()?;
    Some(Flash {
        kind,
        text: String::from_utf8(text).ok()?,
    })
}

/// A redirect to `to` that shows `flash` there once.
pub fn flash_redirect(state: &AppState, to: &str, flash: &Flash) -> Response {
    let value = format!(
        "{}{}",
        flash.kind.code(),
        URL_SAFE_NO_PAD.encode(flash.text.as_bytes())
    );
    let mut res = Redirect::to(to).into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        session::set_cookie(
            FLASH_COOKIE,
            &value,
            state.security.secure_cookies(),
            Some(60),
        ),
    );
    res
}

/// The page `page` for `manager`, with `status`; a flash message read from
/// its cookie is cleared, so it shows once.
pub fn render<T: Template>(
    manager: &Manager,
    status: StatusCode,
    page: &T,
) -> Result<Response, ApiError> {
    let body = page.render().map_err(|e| {
        tracing::error!(error = %e, "a back-office page could not be rendered");
        ApiError::Busy("the page could not be rendered".to_owned())
    })?;
    let mut res = (status, html(body)).into_response();
    if manager.flash.is_some() {
        res.headers_mut().append(
            header::SET_COOKIE,
            session::clear_cookie(FLASH_COOKIE, manager.secure),
        );
    }
    Ok(res)
}

/// The longest text a back-office form field accepts.
const MAX_FIELD_CHARS: usize = 2048;

/// Reads a posted back-office form as its name/value pairs, in order;
/// refuses an unreadable body (400) and a field over [`MAX_FIELD_CHARS`]
/// (400, naming it) before a handler looks at anything.
pub(super) fn read_form(body: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|e| ApiError::BadRequest(format!("the form could not be read: {e}")))?;
    if let Some((k, _)) = form
        .iter()
        .find(|(_, v)| v.chars().count() > MAX_FIELD_CHARS)
    {
        return Err(ApiError::InvalidParameter {
            field: k.clone(),
            reason: format!("must be at most {MAX_FIELD_CHARS} characters"),
        });
    }
    Ok(form)
}

/// The value of field `name` in a read form, if given.
pub(super) fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// An HTML answer that is never cached.
pub(super) fn html(body: String) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flash_message_survives_its_cookie() {
        let flash = Flash::error("Wrong secret; <b>check</b> it");
        let value = format!(
            "{}{}",
            flash.kind.code(),
            URL_SAFE_NO_PAD.encode(flash.text.as_bytes())
        );
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            format!("{FLASH_COOKIE}={value}").parse().unwrap(),
        );
        let back = read_flash(&h).unwrap();
        assert_eq!(back.kind, Tone::Off);
        assert_eq!(back.text, flash.text);
        h.insert(
            header::COOKIE,
            format!("{FLASH_COOKIE}=zzz").parse().unwrap(),
        );
        assert!(read_flash(&h).is_none());
    }

    #[test]
    fn every_tab_and_asset_has_its_row() {
        use crate::api::security::{Access, Verb, route};
        for tab in TABS {
            assert!(route(Verb::Get, tab.path).is_some(), "{}", tab.path);
        }
        for asset in ASSETS {
            let row = route(Verb::Get, asset.path).expect(asset.path);
            assert_eq!(row.access, Access::Open, "{}", asset.path);
        }
    }
}
