//! The admin login: the set-password form on first visit, the login form,
//! logout. The forms carry a CSRF token (checked by `api::security` before
//! these handlers run); the password is hashed with argon2 off the runtime,
//! failed logins are slowed down ([`Throttle`](crate::api::security::password::Throttle))
//! and logged without the password.

use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use serde::Deserialize;

use super::html;
use crate::api::security::password;
use crate::api::security::session::{self, LOGIN_COOKIE, SESSION_COOKIE};
use crate::api::{ApiError, AppState};
use crate::domain::time::unix_millis_now;
use crate::store::access;

const FORM: &str = include_str!("assets/login.html");

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", post(login))
        .route("/set-password", post(set_password))
        .route("/logout", post(logout))
}

#[derive(Deserialize)]
struct PasswordForm {
    password: String,
    #[serde(default)]
    confirm: Option<String>,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The login form (or the set-password form when none is set), with a fresh
/// pre-login CSRF token in a cookie and in the form, and `error` shown.
pub(super) async fn form(state: &AppState, error: Option<String>) -> Result<Response, ApiError> {
    let set = state
        .security
        .store()
        .read(access::admin_password)
        .await?
        .is_some();
    Ok(render(state, set, error, StatusCode::OK))
}

fn render(
    state: &AppState,
    password_set: bool,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let csrf = session::random_token();
    let page = if password_set {
        FORM.replace("{{title}}", "log in")
            .replace("{{action}}", "/login")
            .replace("{{intro}}", "The back-office is for the shop's manager.")
            .replace("{{autocomplete}}", "current-password")
            .replace("{{confirm}}", "")
            .replace("{{button}}", "Log in")
    } else {
        FORM.replace("{{title}}", "set the admin password")
            .replace("{{action}}", "/set-password")
            .replace(
                "{{intro}}",
                &format!(
                    "No admin password is set yet. Choose one of at least {} characters; it guards the back-office of this till.",
                    password::MIN_PASSWORD_CHARS
                ),
            )
            .replace("{{autocomplete}}", "new-password")
            .replace(
                "{{confirm}}",
                "<label for=\"confirm\">Repeat it</label>\n  <input type=\"password\" id=\"confirm\" name=\"confirm\" autocomplete=\"new-password\" required>",
            )
            .replace("{{button}}", "Set password")
    };
    let page = page
        .replace("{{error}}", &escape(error.as_deref().unwrap_or("")))
        .replace("{{csrf}}", &csrf);
    let mut res = (status, html(page)).into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        session::set_cookie(LOGIN_COOKIE, &csrf, state.security.secure_cookies(), None),
    );
    res
}

fn parse(body: &Bytes) -> Result<PasswordForm, ApiError> {
    serde_urlencoded::from_bytes(body)
        .map_err(|e| ApiError::BadRequest(format!("the form could not be read: {e}")))
}

/// Opens a session and sends the browser to the page.
fn logged_in(state: &AppState, password_set_at: i64) -> Response {
    let (id, _) = state.security.sessions().open(password_set_at);
    let secure = state.security.secure_cookies();
    let mut res = Redirect::to("/").into_response();
    let h = res.headers_mut();
    h.append(
        header::SET_COOKIE,
        session::set_cookie(SESSION_COOKIE, &id, secure, None),
    );
    h.append(
        header::SET_COOKIE,
        session::clear_cookie(LOGIN_COOKIE, secure),
    );
    res
}

async fn set_password(State(state): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let form = parse(&body)?;
    if state
        .security
        .store()
        .read(access::admin_password)
        .await?
        .is_some()
    {
        return Ok(render(
            &state,
            true,
            Some("An admin password is already set: log in with it (or reset it with `possync admin set-password`).".to_owned()),
            StatusCode::CONFLICT,
        ));
    }
    if let Err(reason) = password::check_new(&form.password) {
        return Ok(render(
            &state,
            false,
            Some(reason),
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    if form.confirm.as_deref() != Some(form.password.as_str()) {
        return Ok(render(
            &state,
            false,
            Some("the two passwords differ".to_owned()),
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    let phc = tokio::task::spawn_blocking(move || password::hash(&form.password))
        .await
        .map_err(|_| ApiError::Busy("the password could not be hashed".to_owned()))?;
    let now = unix_millis_now();
    let set = state
        .security
        .store()
        .write(move |tx| access::set_first_admin_password(tx, &phc, now))
        .await?;
    if !set {
        return Ok(render(
            &state,
            true,
            Some("An admin password was set meanwhile: log in with it.".to_owned()),
            StatusCode::CONFLICT,
        ));
    }
    tracing::info!("back-office admin password set on first visit");
    Ok(logged_in(&state, now))
}

async fn login(State(state): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let form = parse(&body)?;
    // One attempt at a time: the delay cannot be dodged by guessing in
    // parallel.
    let _turn = state.security.login_turn().await;
    if let Err(wait) = state.security.throttle().check(Instant::now()) {
        let secs = wait.as_secs().max(1);
        tracing::warn!(
            retry_after_secs = secs,
            "back-office login refused: too many failed attempts"
        );
        let mut res = render(
            &state,
            true,
            Some(format!("Too many failed logins: try again in {secs} s.")),
            StatusCode::TOO_MANY_REQUESTS,
        );
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        return Ok(res);
    }
    let Some((phc, set_at)) = state.security.store().read(access::admin_password).await? else {
        return form_again(&state).await;
    };
    let ok = tokio::task::spawn_blocking(move || password::verify(&form.password, &phc))
        .await
        .unwrap_or(false);
    if !ok {
        let failures = state.security.throttle().failed(Instant::now());
        tracing::warn!(failures, "back-office login failed: wrong password");
        return Ok(render(
            &state,
            true,
            Some("Wrong password.".to_owned()),
            StatusCode::UNAUTHORIZED,
        ));
    }
    state.security.throttle().succeeded();
    tracing::info!("back-office login");
    Ok(logged_in(&state, set_at))
}

async fn form_again(state: &AppState) -> Result<Response, ApiError> {
    form(state, None).await
}

async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(id) = session::cookie(&headers, SESSION_COOKIE) {
        state.security.sessions().end(id);
    }
    tracing::info!("back-office logout");
    let mut res = Redirect::to("/").into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        session::clear_cookie(SESSION_COOKIE, state.security.secure_cookies()),
    );
    res
}
