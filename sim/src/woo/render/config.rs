//! Store configuration: tax rates and classes, shipping zones, locations and
//! methods, payment gateways, settings, countries, currency, system status.
//!
//! Option descriptors (labels, tips, option lists) are static assets taken
//! from the captured store; values come from the typed store.

use serde_json::{Map, Value, json};

use super::{ALLOW_EDIT, ALLOW_GET, ALLOW_ITEM, Ctx, Links, Obj};
use crate::woo::model::{ShippingMethod, ShippingZone, Store, TaxClass, TaxRate};

pub(crate) fn tax_rate(ctx: &Ctx<'_>, r: &TaxRate) -> Value {
    Obj::new()
        .set("id", r.id)
        .set("country", r.country.as_str())
        .set("state", r.state.as_str())
        // The single fields show the last location row, as WooCommerce does.
        .set("postcode", r.postcodes.last().map_or("", String::as_str))
        .set("city", r.cities.last().map_or("", String::as_str))
        .set("rate", format!("{:.4}", r.rate))
        .set("name", r.name.as_str())
        .set("priority", r.priority)
        .set("compound", r.compound)
        .set("shipping", r.shipping)
        .set("order", r.order)
        .set("class", r.class.as_str())
        .set("postcodes", r.postcodes.clone())
        .set("cities", r.cities.clone())
        .set(
            "_links",
            Links::new()
                .self_(ctx.rest(&format!("wc/v3/taxes/{}", r.id)), ALLOW_ITEM)
                .link("collection", ctx.rest("wc/v3/taxes"))
                .build(),
        )
        .build()
}

pub(crate) fn tax_class(ctx: &Ctx<'_>, c: &TaxClass) -> Value {
    Obj::new()
        .set("slug", c.slug.as_str())
        .set("name", c.name.as_str())
        .set(
            "_links",
            Links::new()
                .link("collection", ctx.rest("wc/v3/taxes/classes"))
                .build(),
        )
        .build()
}

pub(crate) fn shipping_zone(ctx: &Ctx<'_>, z: &ShippingZone) -> Value {
    let base = format!("wc/v3/shipping/zones/{}", z.id);
    Obj::new()
        .set("id", z.id)
        .set("name", z.name.as_str())
        .set("order", z.order)
        .set(
            "_links",
            Links::new()
                .self_(ctx.rest(&base), ALLOW_ITEM)
                .link("collection", ctx.rest("wc/v3/shipping/zones"))
                .link("describedby", ctx.rest(&format!("{base}/locations")))
                .build(),
        )
        .build()
}

pub(crate) fn shipping_location(ctx: &Ctx<'_>, zone_id: i64, code: &str, kind: &str) -> Value {
    let base = format!("wc/v3/shipping/zones/{zone_id}");
    Obj::new()
        .set("code", code)
        .set("type", kind)
        .set(
            "_links",
            Links::new()
                .link("collection", ctx.rest(&format!("{base}/locations")))
                .link("describes", ctx.rest(&base))
                .build(),
        )
        .build()
}

pub(crate) fn shipping_method(
    ctx: &Ctx<'_>,
    store: &Store,
    zone_id: i64,
    m: &ShippingMethod,
) -> Value {
    let template = store.config.shipping_methods.get(&m.method_id);
    let text = |key: &str| {
        template
            .and_then(|t| t.get(key))
            .cloned()
            .unwrap_or(Value::from(""))
    };
    let mut settings = template
        .and_then(|t| t.get("settings"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut set_value = |id: &str, value: &str| {
        if let Some(Value::Object(s)) = settings.get_mut(id) {
            s.insert("value".to_owned(), Value::from(value));
        }
    };
    set_value("title", &m.title);
    for (id, value) in &m.settings {
        set_value(id, value);
    }
    let base = format!("wc/v3/shipping/zones/{zone_id}");
    Obj::new()
        .set("id", m.instance_id)
        .set("instance_id", m.instance_id)
        .set("title", m.title.as_str())
        .set("order", m.order)
        .set("enabled", m.enabled)
        .set("method_id", m.method_id.as_str())
        .set("method_title", text("method_title"))
        .set("method_description", text("method_description"))
        .set("settings", Value::Object(settings))
        .set(
            "_links",
            Links::new()
                .self_(
                    ctx.rest(&format!("{base}/methods/{}", m.instance_id)),
                    ALLOW_ITEM,
                )
                .link("collection", ctx.rest(&format!("{base}/methods")))
                .link("describes", ctx.rest(&base))
                .build(),
        )
        .build()
}

fn with_links(mut v: Value, links: Value) -> Value {
    if let Value::Object(m) = &mut v {
        m.insert("_links".to_owned(), links);
    }
    v
}

pub(crate) fn gateway(ctx: &Ctx<'_>, store: &Store, g: &Value) -> Value {
    let id = g.get("id").and_then(Value::as_str).unwrap_or("");
    let mut g = g.clone();
    if let Value::Object(m) = &mut g {
        m.insert(
            "enabled".to_owned(),
            Value::from(store.enabled_gateways.iter().any(|e| e == id)),
        );
    }
    with_links(
        g,
        Links::new()
            .self_(
                ctx.rest(&format!("wc/v3/payment_gateways/{id}")),
                ALLOW_EDIT,
            )
            .link("collection", ctx.rest("wc/v3/payment_gateways"))
            .build(),
    )
}

pub(crate) fn gateways(store: &Store) -> &[Value] {
    store.config.gateways.as_array().map_or(&[], Vec::as_slice)
}

pub(crate) fn settings_groups(ctx: &Ctx<'_>, store: &Store) -> Value {
    let groups = store
        .config
        .settings
        .get("groups")
        .and_then(Value::as_array);
    Value::Array(
        groups
            .into_iter()
            .flatten()
            .map(|g| {
                let id = g.get("id").and_then(Value::as_str).unwrap_or("");
                let href = ctx.rest(&format!("wc/v3/settings/{id}"));
                with_links(g.clone(), json!({ "options": [{ "href": href }] }))
            })
            .collect(),
    )
}

/// The typed value behind a setting id, where the store models it.
fn setting_value(store: &Store, id: &str) -> Option<String> {
    let s = &store.settings;
    let yes_no = |b: bool| if b { "yes" } else { "no" }.to_owned();
    Some(match id {
        "woocommerce_store_address" => s.store_address.clone(),
        "woocommerce_store_city" => s.store_city.clone(),
        "woocommerce_store_postcode" => s.store_postcode.clone(),
        "woocommerce_default_country" => s.default_country.clone(),
        "woocommerce_currency" => s.currency.clone(),
        "woocommerce_price_num_decimals" => s.price_decimals.to_string(),
        "woocommerce_calc_taxes" => yes_no(s.calc_taxes),
        "woocommerce_prices_include_tax" => yes_no(s.prices_include_tax),
        "woocommerce_manage_stock" => yes_no(s.manage_stock),
        _ => return None,
    })
}

/// The options of one settings group, or `None` for a group the sim does
/// not serve.
pub(crate) fn settings_group(ctx: &Ctx<'_>, store: &Store, group: &str) -> Option<Value> {
    let options = store.config.settings.get(group)?.as_array()?;
    Some(Value::Array(
        options
            .iter()
            .map(|opt| {
                let id = opt.get("id").and_then(Value::as_str).unwrap_or("");
                let mut opt = opt.clone();
                if let (Some(value), Value::Object(m)) = (setting_value(store, id), &mut opt) {
                    m.insert("value".to_owned(), Value::from(value));
                }
                let links = Links::new()
                    .self_(
                        ctx.rest(&format!("wc/v3/settings/{group}/{id}")),
                        ALLOW_EDIT,
                    )
                    .link("collection", ctx.rest(&format!("wc/v3/settings/{group}")))
                    .build();
                with_links(opt, links)
            })
            .collect(),
    ))
}

pub(crate) fn country(ctx: &Ctx<'_>, c: &Value) -> Value {
    let code = c
        .get("code")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_ascii_lowercase();
    with_links(
        c.clone(),
        Links::new()
            .self_(ctx.rest(&format!("wc/v3/data/countries/{code}")), ALLOW_GET)
            .link("collection", ctx.rest("wc/v3/data/countries"))
            .build(),
    )
}

pub(crate) fn countries(store: &Store) -> &[Value] {
    store.config.countries.as_array().map_or(&[], Vec::as_slice)
}

pub(crate) fn currency_current(ctx: &Ctx<'_>, store: &Store) -> Value {
    let s = &store.settings;
    let name = match s.currency.as_str() {
        "GBP" => "Pound sterling",
        "EUR" => "Euro",
        "USD" => "United States (US) dollar",
        other => other,
    };
    Obj::new()
        .set("code", s.currency.as_str())
        .set("name", name)
        .set("symbol", s.currency_symbol_html.as_str())
        .set(
            "_links",
            Links::new()
                .self_(
                    ctx.rest(&format!("wc/v3/data/currencies/{}", s.currency)),
                    ALLOW_GET,
                )
                .link("collection", ctx.rest("wc/v3/data/currencies"))
                .build(),
        )
        .build()
}

pub(crate) fn system_status(store: &Store) -> Value {
    let mut v = store.config.system_status.clone();
    if let Some(Value::Object(settings)) = v.get_mut("settings") {
        let s = &store.settings;
        let patch: Map<String, Value> = [
            ("currency", Value::from(s.currency.as_str())),
            (
                "currency_symbol",
                Value::from(s.currency_symbol_html.as_str()),
            ),
            ("number_of_decimals", Value::from(s.price_decimals)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        settings.extend(patch);
    }
    v
}
