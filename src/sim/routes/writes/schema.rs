//! Argument checks for writes, as `WP_REST_Request::has_valid_params` runs
//! them over the item schema's writable fields: JSON types with
//! WordPress's loose rules (`"5"` is an integer, `"1"` a boolean, a number
//! is *not* a string), enums, e-mail format, required fields.

use serde_json::{Map, Value, json};

use crate::sim::routes::ApiError;

#[derive(Debug, Clone, Copy)]
pub(crate) enum Ty {
    Str,
    Int,
    Bool,
    Arr,
    Obj,
    Email,
    Enum(&'static [&'static str]),
    /// `mixed`, `date-time` (not a JSON schema type: WordPress skips it).
    Any,
}

pub(crate) type Field = (&'static str, Ty);

fn is_numeric(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

/// WordPress's list format: "a", "a and b", "a, b, and c".
fn sprintf_l(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [a, b] => format!("{a} and {b}"),
        [init @ .., last] => format!("{}, and {last}", init.join(", ")),
    }
}

fn check_one(name: &str, ty: Ty, v: &Value) -> Option<(&'static str, String)> {
    let not = |t: &str| Some(("rest_invalid_type", format!("{name} is not of type {t}.")));
    match ty {
        Ty::Any => None,
        Ty::Str if v.is_string() => None,
        Ty::Str => not("string"),
        Ty::Int => match is_numeric(v) {
            Some(f) if f.round() == f => None,
            _ => not("integer"),
        },
        Ty::Bool => match v {
            Value::Bool(_) => None,
            Value::Number(n) if n.as_i64().is_some_and(|i| i == 0 || i == 1) => None,
            Value::String(s) if matches!(s.as_str(), "true" | "false" | "1" | "0" | "") => None,
            _ => not("boolean"),
        },
        Ty::Arr => match v {
            Value::Array(_) | Value::String(_) | Value::Number(_) | Value::Bool(_) => None,
            _ => not("array"),
        },
        Ty::Obj => match v {
            Value::Object(_) | Value::Array(_) => None,
            Value::String(s) if s.is_empty() => None,
            _ => not("object"),
        },
        Ty::Email => match v.as_str() {
            None => not("string"),
            Some(s) if is_email(s) => None,
            Some(_) => Some(("rest_invalid_email", "Invalid email address.".to_owned())),
        },
        Ty::Enum(options) => match v.as_str() {
            None => not("string"),
            Some(s) if options.contains(&s) => None,
            Some(_) => Some((
                "rest_not_in_enum",
                format!("{name} is not one of {}.", sprintf_l(options)),
            )),
        },
    }
}

/// WordPress `is_email`, enough of it.
fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    s.len() >= 6
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
}

/// Missing required fields first (`rest_missing_callback_param`), then
/// every present field's type, all in one `rest_invalid_param`.
pub(crate) fn check(
    fields: &[Field],
    required: &[&str],
    input: &Map<String, Value>,
) -> Result<(), ApiError> {
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|r| !input.contains_key(*r))
        .collect();
    if !missing.is_empty() {
        return Err(ApiError::with_data(
            400,
            "rest_missing_callback_param",
            format!("Missing parameter(s): {}", missing.join(", ")),
            json!({ "status": 400, "params": missing }),
        ));
    }
    let mut messages = Map::new();
    let mut details = Map::new();
    for (name, ty) in fields {
        let Some(v) = input.get(*name) else { continue };
        if let Some((code, message)) = check_one(name, *ty, v) {
            messages.insert((*name).to_owned(), Value::from(message.clone()));
            details.insert(
                (*name).to_owned(),
                json!({ "code": code, "message": message, "data": null }),
            );
        }
    }
    if messages.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = messages.keys().map(String::as_str).collect();
    Err(ApiError::with_data(
        400,
        "rest_invalid_param",
        format!("Invalid parameter(s): {}", names.join(", ")),
        json!({ "status": 400, "params": messages, "details": details }),
    ))
}

const POST_STATUS: &[&str] = &["draft", "pending", "private", "publish", "future"];
const STOCK_STATUS: &[&str] = &["instock", "outofstock", "onbackorder"];
const BACKORDERS: &[&str] = &["no", "notify", "yes"];
const TAX_STATUS: &[&str] = &["taxable", "shipping", "none"];

pub(crate) const PRODUCT: &[Field] = &[
    ("name", Ty::Str),
    ("slug", Ty::Str),
    (
        "type",
        Ty::Enum(&["simple", "grouped", "external", "variable"]),
    ),
    ("status", Ty::Enum(POST_STATUS)),
    ("featured", Ty::Bool),
    (
        "catalog_visibility",
        Ty::Enum(&["visible", "catalog", "search", "hidden"]),
    ),
    ("description", Ty::Str),
    ("short_description", Ty::Str),
    ("sku", Ty::Str),
    ("global_unique_id", Ty::Str),
    ("regular_price", Ty::Str),
    ("sale_price", Ty::Str),
    ("date_on_sale_from", Ty::Any),
    ("date_on_sale_to", Ty::Any),
    ("virtual", Ty::Bool),
    ("downloadable", Ty::Bool),
    ("external_url", Ty::Str),
    ("button_text", Ty::Str),
    ("tax_status", Ty::Enum(TAX_STATUS)),
    ("tax_class", Ty::Str),
    ("manage_stock", Ty::Bool),
    ("stock_quantity", Ty::Int),
    ("stock_status", Ty::Enum(STOCK_STATUS)),
    ("backorders", Ty::Enum(BACKORDERS)),
    ("low_stock_amount", Ty::Any),
    ("sold_individually", Ty::Bool),
    ("weight", Ty::Str),
    ("dimensions", Ty::Obj),
    ("shipping_class", Ty::Str),
    ("reviews_allowed", Ty::Bool),
    ("upsell_ids", Ty::Arr),
    ("cross_sell_ids", Ty::Arr),
    ("parent_id", Ty::Int),
    ("purchase_note", Ty::Str),
    ("categories", Ty::Arr),
    ("tags", Ty::Arr),
    ("images", Ty::Arr),
    ("attributes", Ty::Arr),
    ("default_attributes", Ty::Arr),
    ("menu_order", Ty::Int),
    ("meta_data", Ty::Arr),
];

pub(crate) const VARIATION: &[Field] = &[
    ("description", Ty::Str),
    ("sku", Ty::Str),
    ("global_unique_id", Ty::Str),
    ("regular_price", Ty::Str),
    ("sale_price", Ty::Str),
    (
        "status",
        Ty::Enum(&["draft", "pending", "private", "publish"]),
    ),
    ("virtual", Ty::Bool),
    ("downloadable", Ty::Bool),
    ("tax_status", Ty::Enum(TAX_STATUS)),
    ("tax_class", Ty::Str),
    ("manage_stock", Ty::Any),
    ("stock_quantity", Ty::Int),
    ("stock_status", Ty::Enum(STOCK_STATUS)),
    ("backorders", Ty::Enum(BACKORDERS)),
    ("low_stock_amount", Ty::Any),
    ("weight", Ty::Str),
    ("dimensions", Ty::Obj),
    ("image", Ty::Obj),
    ("attributes", Ty::Arr),
    ("menu_order", Ty::Int),
    ("meta_data", Ty::Arr),
];

pub(crate) const CUSTOMER: &[Field] = &[
    ("email", Ty::Email),
    ("first_name", Ty::Str),
    ("last_name", Ty::Str),
    ("username", Ty::Str),
    ("password", Ty::Str),
    ("billing", Ty::Obj),
    ("shipping", Ty::Obj),
    ("meta_data", Ty::Arr),
];

pub(crate) const ORDER: &[Field] = &[
    ("parent_id", Ty::Int),
    (
        "status",
        Ty::Enum(&[
            "pending",
            "processing",
            "on-hold",
            "completed",
            "cancelled",
            "refunded",
            "failed",
            "checkout-draft",
        ]),
    ),
    ("currency", Ty::Str),
    ("customer_id", Ty::Int),
    ("customer_note", Ty::Str),
    ("billing", Ty::Obj),
    ("shipping", Ty::Obj),
    ("payment_method", Ty::Str),
    ("payment_method_title", Ty::Str),
    ("transaction_id", Ty::Str),
    ("meta_data", Ty::Arr),
    ("line_items", Ty::Arr),
    ("shipping_lines", Ty::Arr),
    ("fee_lines", Ty::Arr),
    ("coupon_lines", Ty::Arr),
    ("set_paid", Ty::Bool),
];

pub(crate) const REFUND: &[Field] = &[
    ("amount", Ty::Str),
    ("reason", Ty::Str),
    ("refunded_by", Ty::Int),
    ("meta_data", Ty::Arr),
    ("line_items", Ty::Arr),
    ("api_refund", Ty::Bool),
    ("api_restock", Ty::Bool),
];

pub(crate) const WEBHOOK: &[Field] = &[
    ("name", Ty::Str),
    ("status", Ty::Enum(&["active", "paused", "disabled"])),
    ("topic", Ty::Str),
    ("secret", Ty::Str),
    ("delivery_url", Ty::Str),
];

pub(crate) const DELETE: &[Field] = &[("force", Ty::Bool)];

pub(crate) const DELETE_CUSTOMER: &[Field] = &[("force", Ty::Bool), ("reassign", Ty::Int)];

#[cfg(test)]
mod tests {
    use super::*;

    fn input(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn wordpress_type_rules() {
        assert!(
            check(
                PRODUCT,
                &[],
                &input(json!({"stock_quantity": "5", "featured": "1"}))
            )
            .is_ok()
        );
        let e = check(
            PRODUCT,
            &[],
            &input(json!({"stock_quantity": "lots", "regular_price": 5, "type": "box"})),
        )
        .unwrap_err();
        assert_eq!(e.code, "rest_invalid_param");
        assert_eq!(
            e.message,
            "Invalid parameter(s): type, regular_price, stock_quantity"
        );
        assert_eq!(
            e.data["params"]["regular_price"],
            "regular_price is not of type string."
        );
        assert_eq!(
            e.data["params"]["type"],
            "type is not one of simple, grouped, external, and variable."
        );
    }

    #[test]
    fn required_fields_come_first() {
        let e = check(CUSTOMER, &["email"], &input(json!({"first_name": 3}))).unwrap_err();
        assert_eq!(e.code, "rest_missing_callback_param");
        assert_eq!(e.data["params"], json!(["email"]));
    }
}
