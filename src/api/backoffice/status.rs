//! The status page (`/`) and the JSON it polls (`/api/sync/status`).
//!
//! The page is a shell; `status.js` fills it from `/api/sync/status` with
//! `textContent`, so nothing from the shop is ever interpreted as HTML.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::instance::InstanceControls;
use super::{Layout, Manager, login, render, setup};
use crate::api::{ApiError, AppState};
use crate::config::ConfigView;
use crate::domain::outbox::EntryState;
use crate::domain::time::unix_millis_now;
use crate::store::events::{self, Event};
use crate::store::inbox::WebhookStats;
use crate::store::status::{self, Summary};
use crate::store::{outbox, subscriptions};
use crate::sync::operations::OperationsStatus;
use crate::sync::progress::PullProgress;
use crate::upstream::contact::ShopContact;

/// Events shown on the page.
const RECENT_EVENTS: i64 = 30;
/// Failed webhook deliveries listed on the page.
const RECENT_FAILED_DELIVERIES: i64 = 5;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(page))
        .route("/api/sync/status", get(sync_status))
}

#[derive(Template)]
#[template(path = "status.html")]
struct StatusPage {
    layout: Layout,
    instance: InstanceControls,
    /// `possync demo` only: whether its shop is cut off.
    demo_offline: Option<bool>,
}

/// The status page for the logged-in manager; otherwise the login form, or
/// the set-password form when no password is set yet.
async fn page(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let Some(admin) = state.security.admin(&headers).await? else {
        return login::form(&state, None).await;
    };
    let manager = Manager::of(&state, &headers, admin);
    if state.control.current().config.store.is_none() && state.control.editable() {
        return setup::form(&manager, &state);
    }
    let page = StatusPage {
        layout: manager.layout("status", "status"),
        instance: InstanceControls::of(&state, &manager),
        demo_offline: state.demo.as_ref().map(|d| d.offline()),
    };
    render(&manager, StatusCode::OK, &page)
}

/// Everything the status page shows.
#[derive(Serialize)]
struct SyncStatus {
    agent: Agent,
    config: ConfigView,
    pull: PullProgress,
    replica: Summary,
    webhooks: WebhookStats,
    events: Vec<Event>,
    shop: Shop,
    subscriptions: Vec<SubscriptionRow>,
    /// Outbox entries per state (every state, zeros included).
    outbox: BTreeMap<&'static str, i64>,
    offline: OfflineSale,
    errors: Vec<RecentError>,
    operations: OperationsStatus,
}

/// Whether the shop answers, from what the agent's requests saw.
#[derive(Serialize)]
struct Shop {
    /// `None` before the first request.
    reachable: Option<bool>,
    #[serde(flatten)]
    contact: ShopContact,
}

/// A webhook subscription of this agent, as last seen at the shop.
#[derive(Serialize)]
struct SubscriptionRow {
    id: i64,
    topic: String,
    delivery_url: String,
    status: &'static str,
}

/// How the age of the oldest unconfirmed sale compares with the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Countdown {
    /// No sale waits.
    None,
    /// Within the first half of the limit.
    Ok,
    /// Past half of the limit.
    Amber,
    /// Past the limit.
    Red,
}

/// The oldest sale the shop has not confirmed, and its countdown to
/// `till.offline_limit_hours`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct OfflineSale {
    state: Countdown,
    limit_hours: u32,
    /// When it was made (unix ms).
    oldest_at: Option<i64>,
    label: Option<String>,
    age_ms: Option<i64>,
    /// Until the limit; negative once past it.
    remaining_ms: Option<i64>,
}

impl OfflineSale {
    fn of(oldest: Option<(i64, String)>, limit_hours: u32, now: i64) -> OfflineSale {
        let limit_ms = i64::from(limit_hours) * 3_600_000;
        let Some((at, label)) = oldest else {
            return OfflineSale {
                state: Countdown::None,
                limit_hours,
                oldest_at: None,
                label: None,
                age_ms: None,
                remaining_ms: None,
            };
        };
        let age = (now - at).max(0);
        let state = if age >= limit_ms {
            Countdown::Red
        } else if age * 2 >= limit_ms {
            Countdown::Amber
        } else {
            Countdown::Ok
        };
        OfflineSale {
            state,
            limit_hours,
            oldest_at: Some(at),
            label: Some(label),
            age_ms: Some(age),
            remaining_ms: Some(limit_ms - age),
        }
    }
}

/// A recent warning or error, with what to do about it.
#[derive(Debug, Serialize)]
struct RecentError {
    at: i64,
    level: String,
    message: String,
    /// The class of the failure (`keys`, `unreachable`, …).
    class: &'static str,
    advice: &'static str,
}

/// Warnings and errors listed with advice.
const RECENT_ERRORS: usize = 8;

/// The class of a failure and a short advice, from its message (the
/// classified upstream errors and the engine's own sentences).
fn advice(message: &str) -> (&'static str, &'static str) {
    let m = message.to_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| m.contains(n));
    if has(&[
        "rejected the api keys",
        "401",
        "403",
        "woocommerce_rest_cannot",
        "invalid signature",
        "consumer key",
    ]) {
        (
            "keys",
            "Check the consumer key and secret in Settings, and that the key has read/write access in WooCommerce › Settings › Advanced › REST API.",
        )
    } else if has(&["certificate", "tls", "ssl"]) {
        (
            "tls",
            "The shop's certificate is refused: renew it, or set store.verify_tls = false only for a test shop.",
        )
    } else if has(&["http 429", "too many requests", "http 5"]) {
        (
            "busy",
            "The shop is overloaded: the agent waits and retries by itself; lower sync.concurrency if it keeps happening.",
        )
    } else if has(&["unreachable", "timed out", "connection", "dns", "resolve"]) {
        (
            "unreachable",
            "Check this till's internet connection and the store address; sales keep queueing and are sent once the shop answers.",
        )
    } else if has(&["not the json expected", "html", "malformed"]) {
        (
            "malformed",
            "The shop answered with a page instead of JSON: check permalinks are not 'Plain' and that no plugin prints into the REST API.",
        )
    } else if has(&["rejected", "refused", "invalid"]) {
        (
            "rejected",
            "The shop refused a change: open the outbox, fix the cause at the shop (product, stock, customer), then retry or discard it.",
        )
    } else if has(&["disk", "database", "sqlite", "replica"]) {
        (
            "storage",
            "The replica could not be written: check free disk space and run `possync doctor`.",
        )
    } else {
        (
            "other",
            "See the agent's log (journalctl -u possync) for details; `possync doctor` checks the usual causes.",
        )
    }
}

fn recent_errors(events: &[Event]) -> Vec<RecentError> {
    let mut out: Vec<RecentError> = Vec::new();
    for e in events
        .iter()
        .filter(|e| e.level == "error" || e.level == "warn")
    {
        if out.iter().any(|o| o.message == e.message) {
            continue;
        }
        let (class, advice) = advice(&e.message);
        out.push(RecentError {
            at: e.at,
            level: e.level.clone(),
            message: e.message.clone(),
            class,
            advice,
        });
        if out.len() >= RECENT_ERRORS {
            break;
        }
    }
    out
}

#[derive(Serialize)]
struct Agent {
    version: &'static str,
    started_at: i64,
    now: i64,
}

async fn sync_status(State(state): State<AppState>) -> Result<Json<SyncStatus>, ApiError> {
    // The inbox is a file of its own: read beside the replica.
    let replica = state.store.read(|c| {
        Ok((
            status::summary(c)?,
            events::recent(c, RECENT_EVENTS)?,
            outbox::counts(c)?,
            outbox::oldest_unconfirmed_sale(c)?,
            subscriptions::list(c)?,
        ))
    });
    let webhooks = state.store.inbox().stats(RECENT_FAILED_DELIVERIES);
    let ((replica, events, counts, oldest, subs), webhooks) = tokio::try_join!(replica, webhooks)?;
    let now = unix_millis_now();
    let contact = state.contact.snapshot();
    let mut outbox: BTreeMap<&'static str, i64> =
        EntryState::ALL.iter().map(|s| (s.as_str(), 0)).collect();
    for (s, n) in counts {
        outbox.insert(s.as_str(), n);
    }
    Ok(Json(SyncStatus {
        agent: Agent {
            version: env!("CARGO_PKG_VERSION"),
            started_at: state.started_at,
            now,
        },
        config: (*state.config).clone(),
        pull: state.progress.borrow().clone(),
        replica,
        webhooks,
        errors: recent_errors(&events),
        events,
        shop: Shop {
            reachable: contact.reachable(),
            contact,
        },
        subscriptions: subs
            .into_iter()
            .map(|s| SubscriptionRow {
                id: s.id,
                topic: s.topic,
                delivery_url: s.delivery_url,
                status: s.status.as_str(),
            })
            .collect(),
        outbox,
        offline: OfflineSale::of(oldest, state.config.offline_limit_hours, now),
        operations: state.operations.status(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    #[test]
    fn the_countdown_turns_amber_past_half_the_limit_then_red() {
        let sale = |age: i64| Some((10 * HOUR - age, "sale POS1-000001".to_owned()));
        let now = 10 * HOUR;
        assert_eq!(OfflineSale::of(None, 24, now).state, Countdown::None);
        let fresh = OfflineSale::of(sale(HOUR), 24, now);
        assert_eq!(
            (fresh.state, fresh.remaining_ms),
            (Countdown::Ok, Some(23 * HOUR))
        );
        assert_eq!(
            OfflineSale::of(sale(12 * HOUR), 24, now).state,
            Countdown::Amber
        );
        let late = OfflineSale::of(sale(25 * HOUR), 24, now + 16 * HOUR);
        assert_eq!(late.state, Countdown::Red);
        assert!(late.remaining_ms.unwrap() < 0);
    }

    #[test]
    fn errors_get_advice_by_class() {
        assert_eq!(
            advice("products: shop rejected the API keys: woocommerce_rest_cannot_view: x").0,
            "keys"
        );
        assert_eq!(
            advice("the shop is unreachable, queued changes wait: connection refused").0,
            "unreachable"
        );
        assert_eq!(
            advice("orders: shop unreachable or busy: HTTP 503").0,
            "busy"
        );
        assert_eq!(advice("something odd").0, "other");
    }
}
