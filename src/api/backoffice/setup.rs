//! The set-up form: what a new till shows its manager until a store is set
//! up. Store URL, consumer key and secret, auth mode (auto), verify TLS and,
//! under "advanced", the home URL. "Test connection" says what it found
//! (shop name, WooCommerce version, currency, whether the key can read and
//! write; nothing is changed in the shop) or, for each failure, a sentence
//! a shop owner understands ([`ConnectionFailure::sentence`]). "Save and
//! connect" tests again, saves the settings through the one validation
//! (see [`settings`](super::settings)) and puts them in force: the first
//! pull starts, and the status page shows its progress.
//!
//! The typed key and secret are never written back into the page: after a
//! test they are kept for this session only, so "Save" after "Test" needs
//! them not typed again, and a wrong secret can be typed again alone.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;

use super::{Flash, Layout, Manager, flash_redirect, read_form, render};
use crate::api::{ApiError, AppState};
use crate::app::control::SaveError;
use crate::config::ConfigError;
use crate::upstream::woo::probe::{ConnectionReport, test_connection};

/// How long typed keys are kept for a session after a test.
const KEEP_TYPED_KEYS: Duration = Duration::from_secs(15 * 60);

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/setup", post(submit))
}

/// What the manager typed, secrets included (kept in memory only).
#[derive(Clone, Default)]
struct Typed {
    url: String,
    consumer_key: String,
    consumer_secret: String,
    auth: String,
    verify_tls: String,
    home_url: String,
}

/// Keys typed before a test, per session (by its CSRF token).
fn kept() -> &'static Mutex<HashMap<String, (Typed, Instant)>> {
    static KEPT: OnceLock<Mutex<HashMap<String, (Typed, Instant)>>> = OnceLock::new();
    KEPT.get_or_init(Default::default)
}

fn keep(session: &str, typed: &Typed) {
    let mut k = kept().lock().unwrap_or_else(|p| p.into_inner());
    k.retain(|_, (_, at)| at.elapsed() < KEEP_TYPED_KEYS);
    k.insert(session.to_owned(), (typed.clone(), Instant::now()));
}

fn kept_for(session: &str) -> Option<Typed> {
    let k = kept().lock().unwrap_or_else(|p| p.into_inner());
    k.get(session)
        .filter(|(_, at)| at.elapsed() < KEEP_TYPED_KEYS)
        .map(|(t, _)| t.clone())
}

fn forget(session: &str) {
    kept()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(session);
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    layout: Layout,
    url: String,
    auth: String,
    verify_tls: String,
    home_url: String,
    /// The key and secret of the last test are kept.
    keys_kept: bool,
    report: Option<ConnectionReport>,
    profile: &'static str,
}

/// The set-up form, for the status page when no store is set up.
pub(super) fn form(manager: &Manager, state: &AppState) -> Result<Response, ApiError> {
    let profile = state.control.current().config.profile.as_str();
    let page = SetupPage {
        layout: manager.layout("set up", "status"),
        url: String::new(),
        auth: "auto".to_owned(),
        verify_tls: "yes".to_owned(),
        home_url: String::new(),
        keys_kept: false,
        report: None,
        profile,
    };
    render(manager, StatusCode::OK, &page)
}

fn read(body: &Bytes) -> Result<(String, Typed), ApiError> {
    let form = read_form(body)?;
    let get = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    Ok((
        get("action"),
        Typed {
            url: get("url"),
            consumer_key: get("consumer_key"),
            consumer_secret: get("consumer_secret"),
            auth: get("auth"),
            verify_tls: get("verify_tls"),
            home_url: get("home_url"),
        },
    ))
}

/// The settings edits of a set-up form for the profile in use.
fn edits(section: &str, t: &Typed) -> Vec<(String, Option<toml::Value>)> {
    let s = |v: &str| (!v.is_empty()).then(|| toml::Value::String(v.to_owned()));
    vec![
        (format!("{section}.url"), s(&t.url)),
        (format!("{section}.consumer_key"), s(&t.consumer_key)),
        (format!("{section}.consumer_secret"), s(&t.consumer_secret)),
        (
            format!("{section}.auth"),
            s(&t.auth).filter(|v| v.as_str() != Some("auto")),
        ),
        (
            format!("{section}.verify_tls"),
            (t.verify_tls == "no").then_some(toml::Value::Boolean(false)),
        ),
        (format!("{section}.home_url"), s(&t.home_url)),
    ]
}

async fn submit(
    manager: Manager,
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (action, mut typed) = read(&body)?;
    let session = manager.admin.csrf.clone();
    // A field left empty takes what the last test of this session used.
    if let Some(k) = kept_for(&session) {
        if typed.consumer_key.is_empty() {
            typed.consumer_key = k.consumer_key;
        }
        if typed.consumer_secret.is_empty() {
            typed.consumer_secret = k.consumer_secret;
        }
    }
    let profile = state.control.current().config.profile;
    let edits = edits(profile.section(), &typed);
    let again = |report: Option<ConnectionReport>, flash: Flash, status: StatusCode| {
        let kept = kept_for(&session).is_some();
        let page = SetupPage {
            layout: manager.layout_with("set up", "status", flash),
            url: typed.url.clone(),
            auth: if typed.auth.is_empty() {
                "auto".to_owned()
            } else {
                typed.auth.clone()
            },
            verify_tls: if typed.verify_tls == "no" {
                "no"
            } else {
                "yes"
            }
            .to_owned(),
            home_url: typed.home_url.clone(),
            keys_kept: kept,
            report,
            profile: profile.as_str(),
        };
        render(&manager, status, &page)
    };
    // The one validation: the same messages as the file would get.
    let candidate = match state.control.check(&edits) {
        Ok(c) => c,
        Err(e) => {
            return again(
                None,
                Flash::error(format!("Not saved: {e}.")),
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    let Some(store) = candidate.config.store.clone() else {
        return again(
            None,
            Flash::error(format!(
                "Not saved: {}.",
                ConfigError::Missing {
                    field: format!("{}.url", profile.section()),
                    hint: "type the shop's address".to_owned()
                }
            )),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    let report = test_connection(&store).await;
    tracing::info!(
        ok = report.ok,
        failure = ?report.failure,
        "store connection tested from the set-up form"
    );
    if !report.ok {
        keep(&session, &typed);
        let sentence = report.message.clone().unwrap_or_default();
        return again(
            Some(report),
            Flash::error(format!("Not connected: {sentence}.")),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    if action != "save" {
        keep(&session, &typed);
        return again(
            Some(report),
            Flash::ok("Connection works. Save to start the first pull."),
            StatusCode::OK,
        );
    }
    if let Some(version) = &report.woocommerce_version {
        crate::support::record_shop_version(&state.store, version).await;
    }
    match state.control.save(edits).await {
        Ok(_) => {
            forget(&session);
            let name = report.shop_name.clone().unwrap_or_else(|| store.address());
            tracing::info!("store set up from the back-office page: the first pull starts");
            Ok(flash_redirect(
                &state,
                "/",
                &Flash::ok(format!(
                    "Connected to {name}. The first pull has started: its progress shows below."
                )),
            ))
        }
        Err(e @ (SaveError::Invalid(_) | SaveError::Locked { .. } | SaveError::Fixed)) => again(
            Some(report),
            Flash::error(format!("Not saved: {e}.")),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e @ SaveError::NotApplied(_)) => again(
            Some(report),
            Flash::error(format!("{e}.")),
            StatusCode::INTERNAL_SERVER_ERROR,
        ),
    }
}
