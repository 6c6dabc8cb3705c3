//! The settings page (`/settings?tab=…`): every setting a shop owner tunes,
//! in tabs (Store, Products, Orders, Till, Schedule, Webhooks), each value
//! with where it comes from (default, file, page, environment, flag).
//!
//! A saved form goes through [`Control::save`](crate::app::control::Control::save):
//! the typed text is read as an environment variable's would be
//! ([`config::parse_value`]), the whole configuration is validated by the
//! code that validates `possync.toml` (same messages), saved atomically to
//! the data directory's `settings.toml`, and put in force at once. Only the
//! fields whose text changed are saved, so a value from the file stays the
//! file's until the manager changes it. A value set by the environment or a
//! flag is shown read-only with that reason. Secrets are write-only: the
//! page shows "set" (and the key's last four characters), never the value;
//! an empty secret field keeps the secret.

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use secrecy::ExposeSecret;
use serde::Deserialize;

use super::{Flash, Layout, Manager, field, flash_redirect, read_form, render};
use crate::api::{ApiError, AppState};
use crate::app::control::{SaveError, Saved};
use crate::config::{self, Config, Layered, Origin, Profile, StoreConfig};
use crate::store::shop::{self, GatewayChoice};

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/settings", get(page).post(save))
}

/// The settings tabs, in the order shown.
pub const SETTINGS_TABS: &[(&str, &str)] = &[
    ("store", "Store"),
    ("products", "Products"),
    ("orders", "Orders"),
    ("till", "Till"),
    ("schedule", "Schedule"),
    ("webhooks", "Webhooks"),
];

/// Payment-method rows offered on the Till tab beyond those set.
const SPARE_PAYMENT_ROWS: usize = 2;

/// How a field is typed in.
#[derive(Clone, Copy)]
enum Input {
    Text,
    Number,
    YesNo,
    Choice(&'static [&'static str]),
    /// Comma-separated.
    List,
    /// Write-only.
    Secret,
}

/// One setting on a tab.
struct Spec {
    /// The key within its section (the Store tab's section is the selected
    /// profile's) or the whole dotted key.
    key: &'static str,
    label: &'static str,
    help: &'static str,
    input: Input,
    show: fn(&Config, Option<&StoreConfig>, Origin) -> String,
}

fn list(v: &[String]) -> String {
    v.join(", ")
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_owned()
}

const STORE: &[Spec] = &[
    Spec {
        key: "url",
        label: "Store URL",
        help: "The shop's address, e.g. https://shop.example.com",
        input: Input::Text,
        show: |_, s, _| s.map(StoreConfig::address).unwrap_or_default(),
    },
    Spec {
        key: "consumer_key",
        label: "Consumer key",
        help: "WooCommerce > Settings > Advanced > REST API, a read/write key. Leave empty to keep the key set.",
        input: Input::Secret,
        show: |_, s, _| {
            s.and_then(StoreConfig::woo)
                .map(|s| {
                    let k = s.consumer_key.expose_secret();
                    let tail: String = k
                        .chars()
                        .rev()
                        .take(4)
                        .collect::<Vec<_>>()
                        .into_iter()
                        .rev()
                        .collect();
                    format!("set, ends in …{tail}")
                })
                .unwrap_or_else(|| "not set".to_owned())
        },
    },
    Spec {
        key: "consumer_secret",
        label: "Consumer secret",
        help: "Leave empty to keep the secret set.",
        input: Input::Secret,
        show: |_, s, _| {
            if s.and_then(StoreConfig::woo).is_some() {
                "set"
            } else {
                "not set"
            }
            .to_owned()
        },
    },
    Spec {
        key: "auth",
        label: "Auth mode",
        help: "auto: Basic over https://, OAuth 1.0a over http://",
        input: Input::Choice(&["auto", "basic", "query", "oauth1"]),
        show: |_, s, origin| match (s.and_then(StoreConfig::woo), origin) {
            (Some(s), o) if o != Origin::Default => format!("{:?}", s.auth).to_lowercase(),
            _ => "auto".to_owned(),
        },
    },
    Spec {
        key: "verify_tls",
        label: "Verify TLS",
        help: "Turn off only for a test shop with a self-signed certificate.",
        input: Input::YesNo,
        show: |_, s, _| yes_no(s.is_none_or(|s| s.verify_tls)),
    },
    Spec {
        key: "timeout_secs",
        label: "Timeout (s)",
        help: "How long one request to the shop may take.",
        input: Input::Number,
        show: |_, s, _| s.map(|s| s.timeout.as_secs()).unwrap_or(30).to_string(),
    },
    Spec {
        key: "home_url",
        label: "Home URL (advanced)",
        help: "WordPress' own address, when the agent reaches the shop through another one (a proxy).",
        input: Input::Text,
        show: |_, s, _| {
            s.and_then(StoreConfig::woo)
                .and_then(|s| s.home_url.as_ref().map(|u| u.to_string()))
                .unwrap_or_default()
        },
    },
];

const PRODUCTS: &[Spec] = &[
    Spec {
        key: "sync.product_statuses",
        label: "Product statuses",
        help: "Mirrored statuses, comma-separated: any, publish, private, draft, pending, future.",
        input: Input::List,
        show: |c, _, _| list(&c.sync.product_statuses),
    },
    Spec {
        key: "lookup.barcode_meta_keys",
        label: "Barcode meta keys",
        help: "Product meta keys holding barcodes (besides the GTIN field), e.g. _ean.",
        input: Input::List,
        show: |c, _, _| list(&c.lookup.barcode_meta_keys),
    },
];

const ORDERS: &[Spec] = &[
    Spec {
        key: "sync.order_statuses",
        label: "Order statuses",
        help: "Mirrored statuses, comma-separated: any, pending, processing, on-hold, completed, cancelled, refunded, failed.",
        input: Input::List,
        show: |c, _, _| list(&c.sync.order_statuses),
    },
    Spec {
        key: "sync.order_window_days",
        label: "Order window (days)",
        help: "Orders created within this many days are mirrored; 0 mirrors all.",
        input: Input::Number,
        show: |c, _, _| c.sync.order_window_days.to_string(),
    },
    Spec {
        key: "lookup.pickup_statuses",
        label: "Pickup statuses",
        help: "Statuses of orders waiting to be collected at the shop.",
        input: Input::List,
        show: |c, _, _| list(&c.lookup.pickup_statuses),
    },
    Spec {
        key: "lookup.pickup_shipping_methods",
        label: "Pickup shipping methods",
        help: "Shipping method ids that mean collect at the shop, e.g. local_pickup.",
        input: Input::List,
        show: |c, _, _| list(&c.lookup.pickup_shipping_methods),
    },
];

const TILL: &[Spec] = &[
    Spec {
        key: "till.id",
        label: "Till id",
        help: "Written into every order, so the shop can tell tills apart.",
        input: Input::Text,
        show: |c, _, _| c.till.settings.till_id.clone(),
    },
    Spec {
        key: "till.order_prefix",
        label: "Receipt prefix",
        help: "Local receipt numbers are this prefix and six digits.",
        input: Input::Text,
        show: |c, _, _| c.till.settings.order_prefix.clone(),
    },
    Spec {
        key: "till.order_status",
        label: "Order status",
        help: "The status sales are created with at the shop.",
        input: Input::Choice(&["completed", "processing"]),
        show: |c, _, _| c.till.settings.order_status.clone(),
    },
    Spec {
        key: "till.oversell",
        label: "Oversell policy",
        help: "Selling more than the stock: allow, warn or block.",
        input: Input::Choice(&["allow", "warn", "block"]),
        show: |c, _, _| c.till.settings.oversell.as_str().to_owned(),
    },
    Spec {
        key: "till.offline_limit_hours",
        label: "Offline limit (hours)",
        help: "A sale the shop has not confirmed after this long shows red on the status page (amber past half).",
        input: Input::Number,
        show: |c, _, _| c.till.offline_limit_hours.to_string(),
    },
];

const SCHEDULE: &[Spec] = &[
    Spec {
        key: "schedule.products_secs",
        label: "Products poll (s)",
        help: "",
        input: Input::Number,
        show: |c, _, _| c.sync.schedule.products.as_secs().to_string(),
    },
    Spec {
        key: "schedule.variations_secs",
        label: "Variations poll (s)",
        help: "",
        input: Input::Number,
        show: |c, _, _| c.sync.schedule.variations.as_secs().to_string(),
    },
    Spec {
        key: "schedule.orders_secs",
        label: "Orders poll (s)",
        help: "",
        input: Input::Number,
        show: |c, _, _| c.sync.schedule.orders.as_secs().to_string(),
    },
    Spec {
        key: "schedule.customers_secs",
        label: "Customers sweep (s)",
        help: "",
        input: Input::Number,
        show: |c, _, _| c.sync.schedule.customers.as_secs().to_string(),
    },
    Spec {
        key: "schedule.metadata_secs",
        label: "Shop settings refresh (s)",
        help: "Categories, taxes, shipping, gateways, settings.",
        input: Input::Number,
        show: |c, _, _| c.sync.schedule.metadata.as_secs().to_string(),
    },
    Spec {
        key: "schedule.sweep_secs",
        label: "Deletion and completeness sweep (s)",
        help: "",
        input: Input::Number,
        show: |c, _, _| c.sync.schedule.sweep.as_secs().to_string(),
    },
    Spec {
        key: "schedule.overlap_secs",
        label: "Poll overlap (s)",
        help: "How far before the last change each poll asks again.",
        input: Input::Number,
        show: |c, _, _| c.sync.schedule.overlap.as_secs().to_string(),
    },
    Spec {
        key: "sync.concurrency",
        label: "Requests at once",
        help: "auto (adapts to the shop) or a number from 1 to 16.",
        input: Input::Text,
        show: |c, _, _| match c.sync.concurrency {
            config::AUTO_CONCURRENCY => "auto".to_owned(),
            n => n.to_string(),
        },
    },
    Spec {
        key: "sync.max_concurrency",
        label: "Ceiling of auto",
        help: "",
        input: Input::Number,
        show: |c, _, _| c.sync.max_concurrency.to_string(),
    },
];

const WEBHOOKS: &[Spec] = &[Spec {
    key: "webhooks.secret",
    label: "Delivery secret",
    help: "The secret of a webhook made by hand in WooCommerce. Leave empty to keep it.",
    input: Input::Secret,
    show: |c, _, _| {
        if c.webhooks.secret.is_some() {
            "set"
        } else {
            "not set"
        }
        .to_owned()
    },
}];

fn specs(tab: &str) -> &'static [Spec] {
    match tab {
        "store" => STORE,
        "products" => PRODUCTS,
        "orders" => ORDERS,
        "till" => TILL,
        "schedule" => SCHEDULE,
        "webhooks" => WEBHOOKS,
        _ => &[],
    }
}

/// The dotted key of `spec` on `tab` for `profile`.
fn path_of(tab: &str, spec: &Spec, profile: Profile) -> String {
    if tab == "store" {
        format!("{}.{}", profile.section(), spec.key)
    } else {
        spec.key.to_owned()
    }
}

/// One field as the template draws it.
pub struct Field {
    /// The dotted key, also the form field's name and (with `f-`) its id.
    pub name: String,
    pub label: &'static str,
    pub help: &'static str,
    /// `text`, `number`, `password`, `select`.
    pub kind: &'static str,
    pub value: String,
    pub options: Vec<&'static str>,
    pub origin: &'static str,
    /// Why the field cannot be changed here, if it cannot.
    pub locked: Option<String>,
    /// A secret's state ("set, ends in …abcd", "not set"); never its value.
    pub state: Option<String>,
}

/// A payment-method row on the Till tab.
pub struct PaymentRow {
    pub index: usize,
    pub name: String,
    pub gateway: String,
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    layout: Layout,
    tab: &'static str,
    tabs: &'static [(&'static str, &'static str)],
    fields: Vec<Field>,
    editable: bool,
    profile: &'static str,
    payments: Vec<PaymentRow>,
    payments_locked: Option<String>,
    gateways: Vec<GatewayChoice>,
    listen: String,
    data_dir: String,
}

#[derive(Deserialize)]
struct TabQuery {
    tab: Option<String>,
}

fn tab_id(given: Option<&str>) -> Result<&'static str, ApiError> {
    let given = given.unwrap_or("store");
    SETTINGS_TABS
        .iter()
        .map(|(id, _)| *id)
        .find(|id| *id == given)
        .ok_or_else(|| ApiError::InvalidParameter {
            field: "tab".to_owned(),
            reason: format!(
                "must be one of {} (got {given:?})",
                SETTINGS_TABS
                    .iter()
                    .map(|(id, _)| *id)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
}

fn locked_reason(origin: Origin) -> Option<String> {
    (!origin.page_can_change()).then(|| {
        format!(
            "set by the {}: change it there (it wins over the page)",
            origin.label()
        )
    })
}

fn profile_store(c: &Config) -> Option<&StoreConfig> {
    match c.profile {
        Profile::Live => c.profiles.live.as_ref(),
        Profile::Test => c.profiles.test.as_ref(),
    }
}

/// The tab's fields showing the settings in force, or what the manager
/// typed (`typed`) when a refused form is shown again.
fn fields(tab: &str, layered: &Layered, typed: Option<&[(String, String)]>) -> Vec<Field> {
    let c = &layered.config;
    let store = profile_store(c);
    specs(tab)
        .iter()
        .map(|spec| {
            let name = path_of(tab, spec, c.profile);
            let origin = layered.origin(&name);
            let shown = (spec.show)(c, store, origin);
            let (kind, options) = match spec.input {
                Input::Text | Input::List => ("text", Vec::new()),
                Input::Number => ("number", Vec::new()),
                Input::Secret => ("password", Vec::new()),
                Input::YesNo => ("select", vec!["yes", "no"]),
                Input::Choice(o) => ("select", o.to_vec()),
            };
            let secret = matches!(spec.input, Input::Secret);
            let value = if secret {
                String::new()
            } else {
                typed
                    .and_then(|t| t.iter().find(|(k, _)| *k == name))
                    .map(|(_, v)| v.clone())
                    .unwrap_or_else(|| shown.clone())
            };
            Field {
                label: spec.label,
                help: spec.help,
                kind,
                options,
                origin: origin.label(),
                locked: locked_reason(origin),
                state: secret.then_some(shown),
                value,
                name,
            }
        })
        .collect()
}

fn payment_rows(c: &Config, typed: Option<&[(String, String)]>) -> Vec<PaymentRow> {
    let mut rows: Vec<PaymentRow> = match typed {
        Some(t) => typed_payments(t)
            .into_iter()
            .map(|(name, gateway)| PaymentRow {
                index: 0,
                name,
                gateway,
            })
            .collect(),
        None => c
            .till
            .settings
            .payment_methods
            .iter()
            .map(|(name, m)| PaymentRow {
                index: 0,
                name: name.clone(),
                gateway: m.gateway.clone(),
            })
            .collect(),
    };
    for _ in 0..SPARE_PAYMENT_ROWS {
        rows.push(PaymentRow {
            index: 0,
            name: String::new(),
            gateway: String::new(),
        });
    }
    for (i, r) in rows.iter_mut().enumerate() {
        r.index = i;
    }
    rows
}

/// The payment rows of a posted Till form: `pm_name_N` with `pm_gateway_N`;
/// rows without a name are left out.
fn typed_payments(form: &[(String, String)]) -> Vec<(String, String)> {
    let get = |k: &str| {
        form.iter()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.trim().to_owned())
    };
    (0..)
        .map_while(|i| {
            get(&format!("pm_name_{i}"))
                .map(|n| (n, get(&format!("pm_gateway_{i}")).unwrap_or_default()))
        })
        .filter(|(n, _)| !n.is_empty())
        .collect()
}

async fn page(
    manager: Manager,
    State(state): State<AppState>,
    Query(q): Query<TabQuery>,
) -> Result<Response, ApiError> {
    let tab = tab_id(q.tab.as_deref())?;
    show(&manager, &state, tab, None, None, StatusCode::OK).await
}

async fn show(
    manager: &Manager,
    state: &AppState,
    tab: &'static str,
    typed: Option<&[(String, String)]>,
    flash: Option<Flash>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let layered = state.control.current();
    let gateways = if tab == "till" {
        state.store.read(shop::gateway_choices).await?
    } else {
        Vec::new()
    };
    let c = &layered.config;
    let layout = match flash {
        Some(f) => manager.layout_with("settings", "settings", f),
        None => manager.layout("settings", "settings"),
    };
    let page = SettingsPage {
        layout,
        tab,
        tabs: SETTINGS_TABS,
        fields: fields(tab, &layered, typed),
        editable: state.control.editable(),
        profile: c.profile.as_str(),
        payments: payment_rows(c, typed),
        payments_locked: locked_reason(layered.origin("till.payment_methods")),
        gateways,
        listen: c.listen.to_string(),
        data_dir: c.data_dir.display().to_string(),
    };
    render(manager, status, &page)
}

/// The edits a posted tab makes: each field whose text differs from what
/// the page showed, read as the environment would read it.
fn edits(
    tab: &str,
    layered: &Layered,
    form: &[(String, String)],
) -> Result<Vec<(String, Option<toml::Value>)>, config::ConfigError> {
    let c = &layered.config;
    let store = profile_store(c);
    let mut out = Vec::new();
    for spec in specs(tab) {
        let name = path_of(tab, spec, c.profile);
        let Some((_, raw)) = form.iter().find(|(k, _)| *k == name) else {
            continue;
        };
        let raw = raw.trim();
        let origin = layered.origin(&name);
        let shown = (spec.show)(c, store, origin);
        let value = match spec.input {
            Input::Secret if raw.is_empty() => continue,
            _ if raw == shown => continue,
            Input::Text if raw.is_empty() => None,
            Input::YesNo => Some(config::parse_value(&name, raw)?),
            Input::Choice(options) if !options.contains(&raw) => {
                return Err(config::ConfigError::Invalid {
                    field: name,
                    reason: format!("must be one of {} (got {raw:?})", options.join(", ")),
                });
            }
            _ => Some(config::parse_value(&name, raw)?),
        };
        out.push((name, value));
    }
    if tab == "till" && form.iter().any(|(k, _)| k.starts_with("pm_name_")) {
        let typed = typed_payments(form);
        let current: Vec<(String, String)> = c
            .till
            .settings
            .payment_methods
            .iter()
            .map(|(n, m)| (n.clone(), m.gateway.clone()))
            .collect();
        let mut sorted = typed.clone();
        sorted.sort();
        if sorted != current {
            let mut table = toml::Table::new();
            for (name, gateway) in typed {
                if table.contains_key(&name) {
                    return Err(config::ConfigError::Invalid {
                        field: format!("till.payment_methods.{name}"),
                        reason: "is named twice".to_owned(),
                    });
                }
                table.insert(name, toml::Value::String(gateway));
            }
            out.push((
                "till.payment_methods".to_owned(),
                (!table.is_empty()).then_some(toml::Value::Table(table)),
            ));
        }
    }
    Ok(out)
}

async fn save(
    manager: Manager,
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let form = read_form(&body)?;
    let tab = tab_id(field(&form, "tab"))?;
    let layered = state.control.current();
    let refused = |message: String| Flash::error(message);
    let edits = match edits(tab, &layered, &form) {
        Ok(e) => e,
        Err(e) => {
            return show(
                &manager,
                &state,
                tab,
                Some(&form),
                Some(refused(format!("Not saved: {e}."))),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let to = format!("/settings?tab={tab}");
    match state.control.save(edits).await {
        Ok(Saved::Unchanged) => Ok(flash_redirect(
            &state,
            &to,
            &Flash::info("Nothing changed."),
        )),
        Ok(Saved::Applied) => {
            tracing::info!(tab, "settings saved from the back-office page");
            Ok(flash_redirect(
                &state,
                &to,
                &Flash::ok("Saved. The new settings are in force."),
            ))
        }
        Ok(Saved::RestartNeeded(keys)) => Ok(flash_redirect(
            &state,
            &to,
            &Flash::info(format!(
                "Saved. Restart needed: {} take effect when the agent restarts.",
                keys.join(", ")
            )),
        )),
        Err(e @ (SaveError::Invalid(_) | SaveError::Locked { .. } | SaveError::Fixed)) => {
            show(
                &manager,
                &state,
                tab,
                Some(&form),
                Some(refused(format!("Not saved: {e}."))),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e @ SaveError::NotApplied(_)) => {
            tracing::error!(error = %e, "settings saved but not in force");
            show(
                &manager,
                &state,
                tab,
                None,
                Some(refused(format!("{e}."))),
                StatusCode::INTERNAL_SERVER_ERROR,
            )
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payment_rows_are_read_in_order_and_blank_ones_dropped() {
        let form: Vec<(String, String)> = [
            ("pm_name_0", "cash"),
            ("pm_gateway_0", "cod"),
            ("pm_name_1", ""),
            ("pm_gateway_1", ""),
            ("pm_name_2", " card "),
            ("pm_gateway_2", "stripe"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        assert_eq!(
            typed_payments(&form),
            [
                ("cash".to_owned(), "cod".to_owned()),
                ("card".to_owned(), "stripe".to_owned())
            ]
        );
    }

    #[test]
    fn every_tab_has_fields_and_every_field_a_configuration_key() {
        for (tab, _) in SETTINGS_TABS {
            let specs = specs(tab);
            assert!(!specs.is_empty(), "{tab}");
            for spec in specs {
                for profile in [Profile::Live, Profile::Test] {
                    let path = path_of(tab, spec, profile);
                    // A key the page offers is one the environment can set
                    // too: the same reading, the same messages.
                    let sample = match spec.input {
                        Input::Number => "1",
                        Input::YesNo => "yes",
                        _ => "x",
                    };
                    assert!(
                        config::parse_value(&path, sample).is_ok(),
                        "{path} is not a configuration key"
                    );
                }
            }
        }
    }
}
