//! The instance's state and the manager's switches: the coloured banner on
//! every page (not set up / deactivated / active, with the reason and the
//! profile), activate and deactivate, and the switch between the live and
//! the test profile.
//!
//! Deactivated means no polls, no pulls, no replay and no webhook applied;
//! lookups answer and sales are accepted and queued, to be sent once the
//! agent is active again. Each profile has its own replica file, so a
//! switch never mixes one shop's data with the other's; a switch while
//! sales of this till are not yet confirmed by the shop is refused, naming
//! them, until they are confirmed or discarded.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use serde::Deserialize;

use super::{Banner, Flash, Manager, Tone, field, flash_redirect, read_form};
use crate::api::{ApiError, AppState};
use crate::app::control::SaveError;
use crate::config::{Config, Profile};
use crate::store::outbox;
use crate::sync::progress::{PullProgress, PullState};

/// Unconfirmed sales listed in a refused switch.
const LISTED: usize = 10;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/instance/activate", post(activate))
        .route("/instance/deactivate", post(deactivate))
        .route("/instance/profile", post(switch_profile))
}

/// The banner for the settings in force and the last pull: not set up,
/// deactivated, or active, and then connected (the keys work: the last
/// pull completed), pulling, or not connected with the reason.
pub(super) fn banner(config: &Config, pull: &PullProgress) -> Banner {
    let profile = match config.profile {
        Profile::Live => String::new(),
        Profile::Test => " Test profile: the staging shop, its own replica.".to_owned(),
    };
    match (&config.store, config.active) {
        (None, _) => Banner {
            kind: Tone::Warn,
            title: "Not set up.".to_owned(),
            reason: format!(
                "No store is set up yet: this till serves what its replica holds and syncs nothing.{profile}"
            ),
        },
        (Some(s), false) => Banner {
            kind: Tone::Off,
            title: "Deactivated.".to_owned(),
            reason: format!(
                "No polls and no replay with {}: lookups answer and sales are queued until the agent is activated.{profile}",
                s.address()
            ),
        },
        (Some(s), true) => match pull.state {
            PullState::Failed => Banner {
                kind: Tone::Off,
                title: "Active, not connected.".to_owned(),
                reason: format!(
                    "The last pull from {} failed: {}. Sales are kept and sent once the shop answers.{profile}",
                    s.address(),
                    pull.error.as_deref().unwrap_or("see the events below")
                ),
            },
            PullState::Running => Banner {
                kind: Tone::Ok,
                title: "Active, pulling.".to_owned(),
                reason: format!(
                    "Pulling the catalogue from {}; progress below.{profile}",
                    s.address()
                ),
            },
            _ => Banner {
                kind: Tone::Ok,
                title: "Active.".to_owned(),
                reason: format!(
                    "Connected to {}: syncing and sending this till's sales.{profile}",
                    s.address()
                ),
            },
        },
    }
}

/// The instance switches drawn on the status page (`instance.html`).
pub(super) struct InstanceControls {
    pub csrf: String,
    pub active: bool,
    pub has_store: bool,
    pub profile: &'static str,
    pub has_test: bool,
    pub editable: bool,
}

impl InstanceControls {
    pub(super) fn of(state: &AppState, manager: &Manager) -> InstanceControls {
        let c = &state.control.current().config;
        InstanceControls {
            csrf: manager.admin.csrf.clone(),
            active: c.active,
            has_store: c.store.is_some(),
            profile: c.profile.as_str(),
            has_test: c.profiles.test.is_some(),
            editable: state.control.editable(),
        }
    }
}

async fn set_active(state: &AppState, active: bool) -> Result<Response, ApiError> {
    let edits = vec![(
        "agent.active".to_owned(),
        Some(toml::Value::Boolean(active)),
    )];
    Ok(match state.control.save(edits).await {
        Ok(_) => {
            tracing::info!(active, "instance switched from the back-office page");
            let text = if active {
                "Activated: syncing and sending sales again."
            } else {
                "Deactivated: no polls and no replay; sales are queued."
            };
            flash_redirect(state, "/", &Flash::ok(text))
        }
        Err(e) => refused(state, e),
    })
}

fn refused(state: &AppState, e: SaveError) -> Response {
    flash_redirect(state, "/", &Flash::error(format!("Refused: {e}.")))
}

async fn activate(_m: Manager, State(state): State<AppState>) -> Result<Response, ApiError> {
    set_active(&state, true).await
}

async fn deactivate(_m: Manager, State(state): State<AppState>) -> Result<Response, ApiError> {
    set_active(&state, false).await
}

#[derive(Deserialize)]
struct ProfileForm {
    profile: String,
}

async fn switch_profile(
    _m: Manager,
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let form = read_form(&body)?;
    let form = ProfileForm {
        profile: field(&form, "profile").unwrap_or_default().to_owned(),
    };
    let Some(to) = Profile::parse(&form.profile) else {
        return Ok(flash_redirect(
            &state,
            "/",
            &Flash::error(format!(
                "Refused: profile must be live or test (got {:?}).",
                form.profile
            )),
        ));
    };
    if to == state.control.current().config.profile {
        return Ok(flash_redirect(
            &state,
            "/",
            &Flash::info(format!("The {} profile is already in use.", to.as_str())),
        ));
    }
    // The sales of the profile in use must reach its shop first: after a
    // switch nothing would send them.
    let waiting = state.store.read(outbox::unconfirmed_sales).await?;
    let mut sales: Vec<String> = waiting
        .iter()
        .take(LISTED)
        .map(|(label, s)| format!("{label} ({})", s.as_str()))
        .collect();
    if waiting.len() > LISTED {
        sales.push(format!("and {} more", waiting.len() - LISTED));
    }
    if !sales.is_empty() {
        tracing::warn!(
            unconfirmed = waiting.len(),
            "profile switch refused: sales not yet confirmed by the shop"
        );
        return Ok(flash_redirect(
            &state,
            "/",
            &Flash::error(format!(
                "Switch refused: {} sale{} of this till {} not confirmed by the shop yet: {}. Let them reach the shop, or discard them, then switch.",
                waiting.len(),
                if waiting.len() == 1 { "" } else { "s" },
                if waiting.len() == 1 { "is" } else { "are" },
                sales.join(", ")
            )),
        ));
    }
    let edits = vec![(
        "agent.profile".to_owned(),
        Some(toml::Value::String(to.as_str().to_owned())),
    )];
    Ok(match state.control.save(edits).await {
        Ok(_) => {
            tracing::info!(
                profile = to.as_str(),
                "profile switched from the back-office page"
            );
            flash_redirect(
                &state,
                "/",
                &Flash::ok(format!(
                    "Switched to the {} profile: its own replica is in use.",
                    to.as_str()
                )),
            )
        }
        Err(e) => refused(&state, e),
    })
}
