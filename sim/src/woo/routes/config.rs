//! Configuration endpoints: taxes, shipping, payment gateways, settings,
//! data (countries, currency) and system status.

use serde_json::Value;

use super::list::{CONTEXT, Listed, OFFSET, ORDER, PAGE, PER_PAGE, Paging, descending, directed};
use super::params::{Arg, Check, arg};
use super::{ApiError, Call, Out};
use crate::woo::model::ShippingZone;
use crate::woo::render;

pub(crate) const TAX_ARGS: &[Arg] = &[
    CONTEXT,
    PAGE,
    PER_PAGE,
    OFFSET,
    ORDER,
    arg("orderby", Check::Enum(&["id", "order", "priority"])),
    arg(
        "class",
        Check::Enum(&["standard", "food", "reduced-rate", "zero-rate"]),
    ),
];

pub(crate) fn list_taxes(c: &Call<'_>) -> Result<Out, ApiError> {
    let p = c.params;
    let class = p.str("class");
    let mut rows: Vec<_> = c
        .store
        .tax_rates
        .iter()
        .filter(|r| class.is_none_or(|cl| r.class == cl))
        .collect();
    let desc = descending(p, false);
    rows.sort_by(|a, b| {
        let by_id = a.id.cmp(&b.id);
        let ord = match p.str("orderby").unwrap_or("order") {
            "id" => by_id,
            "priority" => a.priority.cmp(&b.priority).then(by_id),
            _ => a.order.cmp(&b.order).then(by_id),
        };
        directed(ord, desc)
    });
    Ok(Out::List(
        Paging::from(p).cut(rows, |r| render::tax_rate(&c.ctx, r)),
    ))
}

pub(crate) fn get_tax(c: &Call<'_>) -> Result<Out, ApiError> {
    let id: i64 = c.path[0].parse().unwrap_or(0);
    match c.store.tax_rates.iter().find(|r| r.id == id) {
        Some(r) => Ok(Out::Json(render::tax_rate(&c.ctx, r))),
        None => Err(ApiError::not_found(
            "woocommerce_rest_invalid_id",
            "Invalid resource ID.",
        )),
    }
}

pub(crate) fn list_tax_classes(c: &Call<'_>) -> Result<Out, ApiError> {
    let items = c
        .store
        .tax_classes
        .iter()
        .map(|t| render::tax_class(&c.ctx, t))
        .collect();
    Ok(Out::List(Listed::all(items)))
}

fn zone<'a>(c: &'a Call<'_>) -> Result<&'a ShippingZone, ApiError> {
    let id: i64 = c.path[0].parse().unwrap_or(-1);
    c.store.zones.iter().find(|z| z.id == id).ok_or_else(|| {
        ApiError::not_found(
            "woocommerce_rest_shipping_zone_invalid",
            "Resource does not exist.",
        )
    })
}

pub(crate) fn list_zones(c: &Call<'_>) -> Result<Out, ApiError> {
    // The "locations not covered" zone comes first, then the others by order.
    let mut zones: Vec<&ShippingZone> = c.store.zones.iter().collect();
    zones.sort_by_key(|z| (z.id != 0, z.order, z.id));
    Ok(Out::List(Listed::all(
        zones
            .into_iter()
            .map(|z| render::shipping_zone(&c.ctx, z))
            .collect(),
    )))
}

pub(crate) fn get_zone(c: &Call<'_>) -> Result<Out, ApiError> {
    Ok(Out::Json(render::shipping_zone(&c.ctx, zone(c)?)))
}

pub(crate) fn list_zone_locations(c: &Call<'_>) -> Result<Out, ApiError> {
    let z = zone(c)?;
    let items = z
        .locations
        .iter()
        .map(|(code, kind)| render::shipping_location(&c.ctx, z.id, code, kind))
        .collect();
    Ok(Out::List(Listed::all(items)))
}

pub(crate) fn list_zone_methods(c: &Call<'_>) -> Result<Out, ApiError> {
    let z = zone(c)?;
    let items = z
        .methods
        .iter()
        .map(|m| render::shipping_method(&c.ctx, c.store, z.id, m))
        .collect();
    Ok(Out::List(Listed::all(items)))
}

pub(crate) fn get_zone_method(c: &Call<'_>) -> Result<Out, ApiError> {
    let z = zone(c)?;
    let instance: i64 = c.path[1].parse().unwrap_or(0);
    match z.methods.iter().find(|m| m.instance_id == instance) {
        Some(m) => Ok(Out::Json(render::shipping_method(&c.ctx, c.store, z.id, m))),
        None => Err(ApiError::not_found(
            "woocommerce_rest_shipping_zone_method_invalid",
            "Resource does not exist.",
        )),
    }
}

pub(crate) fn list_gateways(c: &Call<'_>) -> Result<Out, ApiError> {
    let items = render::gateways(c.store)
        .iter()
        .map(|g| render::gateway(&c.ctx, c.store, g))
        .collect();
    Ok(Out::List(Listed::all(items)))
}

pub(crate) fn get_gateway(c: &Call<'_>) -> Result<Out, ApiError> {
    let id = c.path[0];
    render::gateways(c.store)
        .iter()
        .find(|g| g.get("id").and_then(Value::as_str) == Some(id))
        .map(|g| Out::Json(render::gateway(&c.ctx, c.store, g)))
        .ok_or_else(|| {
            ApiError::not_found(
                "woocommerce_rest_payment_gateway_invalid",
                "Resource does not exist.",
            )
        })
}

pub(crate) fn list_setting_groups(c: &Call<'_>) -> Result<Out, ApiError> {
    Ok(Out::Json(render::settings_groups(&c.ctx, c.store)))
}

fn group_not_found() -> ApiError {
    ApiError::not_found(
        "rest_setting_setting_group_invalid",
        "Invalid setting group.",
    )
}

pub(crate) fn get_setting_group(c: &Call<'_>) -> Result<Out, ApiError> {
    render::settings_group(&c.ctx, c.store, c.path[0])
        .map(Out::Json)
        .ok_or_else(group_not_found)
}

pub(crate) fn get_setting(c: &Call<'_>) -> Result<Out, ApiError> {
    let group = render::settings_group(&c.ctx, c.store, c.path[0]).ok_or_else(group_not_found)?;
    group
        .as_array()
        .into_iter()
        .flatten()
        .find(|o| o.get("id").and_then(Value::as_str) == Some(c.path[1]))
        .map(|o| Out::Json(o.clone()))
        .ok_or_else(|| ApiError::not_found("rest_setting_setting_invalid", "Invalid setting."))
}

pub(crate) fn list_countries(c: &Call<'_>) -> Result<Out, ApiError> {
    let items = render::countries(c.store)
        .iter()
        .map(|x| render::country(&c.ctx, x))
        .collect();
    Ok(Out::Json(Value::Array(items)))
}

pub(crate) fn get_country(c: &Call<'_>) -> Result<Out, ApiError> {
    let code = c.path[0].to_ascii_uppercase();
    render::countries(c.store)
        .iter()
        .find(|x| x.get("code").and_then(Value::as_str) == Some(code.as_str()))
        .map(|x| Out::Json(render::country(&c.ctx, x)))
        .ok_or_else(|| {
            ApiError::not_found(
                "woocommerce_rest_data_invalid_location",
                "There are no locations matching these parameters.",
            )
        })
}

pub(crate) fn get_current_currency(c: &Call<'_>) -> Result<Out, ApiError> {
    Ok(Out::Json(render::currency_current(&c.ctx, c.store)))
}

pub(crate) fn get_system_status(c: &Call<'_>) -> Result<Out, ApiError> {
    Ok(Out::Json(render::system_status(c.store)))
}
