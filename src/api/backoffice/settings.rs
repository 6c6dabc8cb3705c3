//! The settings page (`/settings`): the settings in force, grouped as the
//! configuration file groups them. Secrets show only whether they are set.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;

use super::{Layout, Manager, render};
use crate::api::{ApiError, AppState};
use crate::config::ConfigView;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/settings", get(page))
}

/// One section of the page.
struct Group {
    id: &'static str,
    title: &'static str,
    values: Vec<(&'static str, String)>,
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    layout: Layout,
    groups: Vec<Group>,
}

fn set_or_not(set: bool) -> String {
    if set { "set" } else { "not set" }.to_owned()
}

fn or_none(value: &Option<String>) -> String {
    value.clone().unwrap_or_else(|| "—".to_owned())
}

fn groups(c: &ConfigView) -> Vec<Group> {
    let mut payments: Vec<String> = c
        .till
        .payment_methods
        .iter()
        .map(|(till, shop)| format!("{till} → {shop:?}"))
        .collect();
    if payments.is_empty() {
        payments.push("none (till names pass as given)".to_owned());
    }
    vec![
        Group {
            id: "store",
            title: "Store",
            values: vec![
                ("Store URL", or_none(&c.store_url)),
                ("Home URL", or_none(&c.home_url)),
                ("Auth mode", or_none(&c.auth)),
                ("Consumer key", set_or_not(c.consumer_key_set)),
                ("Consumer secret", set_or_not(c.consumer_secret_set)),
            ],
        },
        Group {
            id: "products",
            title: "Products",
            values: vec![("Statuses", c.product_statuses.join(", "))],
        },
        Group {
            id: "orders",
            title: "Orders",
            values: vec![
                ("Statuses", c.order_statuses.join(", ")),
                ("Window (days)", c.order_window_days.to_string()),
            ],
        },
        Group {
            id: "till",
            title: "Till",
            values: vec![
                ("Till id", c.till.till_id.clone()),
                ("Receipt prefix", c.till.order_prefix.clone()),
                ("Order status", c.till.order_status.clone()),
                ("Oversell", format!("{:?}", c.till.oversell)),
                ("Payment methods", payments.join("; ")),
            ],
        },
        Group {
            id: "sync",
            title: "Sync",
            values: vec![
                ("Page size", c.page_size.to_string()),
                ("Concurrency", c.concurrency.clone()),
                ("Concurrency ceiling", c.max_concurrency.to_string()),
                ("Replay concurrency", c.replay_concurrency.to_string()),
                ("Record cap", c.max_records.to_string()),
            ],
        },
        Group {
            id: "webhooks",
            title: "Webhooks",
            values: vec![("Delivery secret", set_or_not(c.webhook_secret_set))],
        },
        Group {
            id: "agent",
            title: "Agent",
            values: vec![
                ("Listen address", c.listen.clone()),
                ("Data directory", c.data_dir.clone()),
            ],
        },
    ]
}

async fn page(manager: Manager, State(state): State<AppState>) -> Result<Response, ApiError> {
    let page = SettingsPage {
        layout: manager.layout("settings", "settings"),
        groups: groups(&state.config),
    };
    render(&manager, StatusCode::OK, &page)
}
