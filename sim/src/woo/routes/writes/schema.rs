//! Argument checks for writes, as `WP_REST_Request::has_valid_params` runs
//! them: the route's `args` are read from the `OPTIONS` answers captured
//! from a real WooCommerce 11.0.1 (`tests/fixtures/woocommerce/rest/
//! options_schema_*.json`), not from a list of our own, and each present
//! argument goes through a port of WordPress'
//! `rest_validate_value_from_schema` (`wp-includes/rest-api.php`, WordPress
//! 7.1): types with PHP's loose rules (`"5"` is an integer, `"1"` a
//! boolean, `"a,b"` an array, a number is *not* a string), `enum`, `format`
//! (`email` by `is_email()`, `date-time`; WordPress checks `uri` only when
//! sanitizing), `minimum`/`maximum`, nested `properties` and `items`.
//! Missing required arguments come first (`rest_missing_callback_param`),
//! then every invalid one in one `rest_invalid_param`, in the order of the
//! route's args, with `data.params` and `data.details` as WordPress builds
//! them.

use std::sync::LazyLock;

use serde_json::{Map, Value, json};

use crate::woo::routes::ApiError;

/// A write route whose captured `OPTIONS` answer holds its args.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    Products,
    Product,
    Variations,
    Variation,
    Customers,
    Customer,
    Orders,
    Order,
    Refunds,
    Refund,
    Webhooks,
    Webhook,
}

macro_rules! capture {
    ($name:literal) => {
        include_str!(concat!(
            "../../../../../tests/fixtures/woocommerce/rest/options_schema_",
            $name,
            ".json"
        ))
    };
}

const ROUTES: &[(Route, &str)] = &[
    (Route::Products, capture!("products")),
    (Route::Product, capture!("product_item")),
    (Route::Variations, capture!("variations")),
    (Route::Variation, capture!("variation_item")),
    (Route::Customers, capture!("customers")),
    (Route::Customer, capture!("customer_item")),
    (Route::Orders, capture!("orders")),
    (Route::Order, capture!("order_item")),
    (Route::Refunds, capture!("refunds")),
    (Route::Refund, capture!("refund_item")),
    (Route::Webhooks, capture!("webhooks")),
    (Route::Webhook, capture!("webhook_item")),
];

/// The captures, parsed once: per route, its endpoints' methods and args.
/// One endpoint of a route: the methods it answers and their args.
type Endpoint = (Vec<String>, Map<String, Value>);

static SCHEMAS: LazyLock<Vec<(Route, Vec<Endpoint>)>> = LazyLock::new(|| {
    ROUTES
        .iter()
        .map(|(route, text)| {
            let options: Value =
                serde_json::from_str(text).expect("a captured OPTIONS answer is JSON");
            let endpoints = options["endpoints"]
                .as_array()
                .expect("an OPTIONS answer lists endpoints")
                .iter()
                .map(|e| {
                    let methods = e["methods"]
                        .as_array()
                        .map(|m| {
                            m.iter()
                                .filter_map(|x| x.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default();
                    let args = e["args"].as_object().cloned().unwrap_or_default();
                    (methods, args)
                })
                .collect();
            (*route, endpoints)
        })
        .collect()
});

/// The args `route` declares for `method` (empty when it declares none).
fn args_for(route: Route, method: &str) -> Map<String, Value> {
    SCHEMAS
        .iter()
        .find(|(r, _)| *r == route)
        .and_then(|(_, endpoints)| {
            endpoints
                .iter()
                .find(|(methods, _)| methods.iter().any(|m| m == method))
                .map(|(_, args)| args.clone())
        })
        .unwrap_or_default()
}

/// `has_valid_params` for a write to `route` with `method`.
pub(crate) fn check(
    route: Route,
    method: &str,
    input: &Map<String, Value>,
) -> Result<(), ApiError> {
    check_args(&args_for(route, method), input)
}

/// Required args first, then each present, non-null arg's value.
pub(crate) fn check_args(
    args: &Map<String, Value>,
    input: &Map<String, Value>,
) -> Result<(), ApiError> {
    let present = |k: &str| input.get(k).is_some_and(|v| !v.is_null());
    let missing: Vec<&str> = args
        .iter()
        .filter(|(k, a)| a.get("required") == Some(&Value::Bool(true)) && !present(k))
        .map(|(k, _)| k.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(ApiError::with_data(
            400,
            "rest_missing_callback_param",
            format!("Missing parameter(s): {}", missing.join(", ")),
            json!({ "status": 400, "params": missing }),
        ));
    }
    let mut params = Map::new();
    let mut details = Map::new();
    for (name, schema) in args {
        let Some(v) = input.get(name).filter(|v| !v.is_null()) else {
            continue;
        };
        if let Err(e) = validate(v, schema, name) {
            params.insert(name.clone(), Value::from(e.message.clone()));
            details.insert(
                name.clone(),
                json!({ "code": e.code, "message": e.message, "data": e.data }),
            );
        }
    }
    if params.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = params.keys().map(String::as_str).collect();
    Err(ApiError::with_data(
        400,
        "rest_invalid_param",
        format!("Invalid parameter(s): {}", names.join(", ")),
        json!({ "status": 400, "params": params, "details": details }),
    ))
}

/// A `WP_Error` from validation.
#[derive(Debug, PartialEq)]
pub(crate) struct Invalid {
    pub code: &'static str,
    pub message: String,
    /// `array( 'param' => … )` for type errors, else nothing (`null`).
    pub data: Value,
}

fn invalid(code: &'static str, message: String) -> Invalid {
    Invalid {
        code,
        message,
        data: Value::Null,
    }
}

fn invalid_type(param: &str, ty: &str) -> Invalid {
    Invalid {
        code: "rest_invalid_type",
        message: format!("{param} is not of type {ty}."),
        data: json!({ "param": param }),
    }
}

/// PHP `is_numeric`: numbers, and strings PHP reads as one (leading and
/// trailing whitespace allowed, no hex).
fn is_numeric(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => {
            let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
            let t = t.trim_end_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
            let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
            let shape_ok = !digits.is_empty()
                && digits
                    .chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
                && digits
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_digit() || c == '.');
            if !shape_ok {
                return None;
            }
            t.parse::<f64>().ok().filter(|f| f.is_finite())
        }
        _ => None,
    }
}

/// `rest_is_integer`.
fn is_integer(v: &Value) -> bool {
    match v {
        Value::Number(n) if n.is_i64() || n.is_u64() => true,
        Value::String(s) => {
            let t = s.trim_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
            let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
            (!digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()))
                || is_numeric(v).is_some_and(|f| f.floor() == f)
        }
        _ => is_numeric(v).is_some_and(|f| f.floor() == f),
    }
}

/// `rest_is_boolean`.
fn is_boolean(v: &Value) -> bool {
    match v {
        Value::Bool(_) => true,
        Value::String(s) => matches!(s.to_lowercase().as_str(), "false" | "true" | "0" | "1"),
        Value::Number(n) => n.as_i64().is_some_and(|i| i == 0 || i == 1) && !n.is_f64(),
        _ => false,
    }
}

/// Whether a JSON object key becomes an integer key of a PHP array.
fn is_php_int_key(k: &str) -> bool {
    k == "0"
        || (k
            .strip_prefix('-')
            .unwrap_or(k)
            .starts_with(|c: char| ('1'..='9').contains(&c))
            && k.strip_prefix('-')
                .unwrap_or(k)
                .chars()
                .all(|c| c.is_ascii_digit())
            && k.parse::<i64>().is_ok())
}

/// `wp_parse_list` on a scalar: split on whitespace and commas.
fn parse_list(v: &Value) -> Vec<Value> {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "1".to_owned(),
        Value::Bool(false) => String::new(),
        other => other.to_string(),
    };
    s.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|p| !p.is_empty())
        .map(|p| Value::String(p.to_owned()))
        .collect()
}

/// `rest_is_array` then `rest_sanitize_array`: the items, or `None`.
fn as_array(v: &Value) -> Option<Vec<Value>> {
    match v {
        Value::Array(items) => Some(items.clone()),
        // A JSON object is a PHP array; it is a list only with integer keys.
        Value::Object(map) if map.keys().all(|k| is_php_int_key(k)) => {
            Some(map.values().cloned().collect())
        }
        Value::Object(_) | Value::Null => None,
        scalar => Some(parse_list(scalar)),
    }
}

/// `rest_is_object` then `rest_sanitize_object`: the properties, or `None`.
fn as_object(v: &Value) -> Option<Vec<(String, Value)>> {
    match v {
        Value::String(s) if s.is_empty() => Some(Vec::new()),
        Value::Object(map) => Some(map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
        Value::Array(items) => Some(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| (i.to_string(), v.clone()))
                .collect(),
        ),
        _ => None,
    }
}

/// `rest_get_best_type_for_value`: an empty string is a string if it may
/// be; otherwise the first listed type the value passes.
fn best_type<'t>(v: &Value, types: &[&'t str]) -> Option<&'t str> {
    if v.as_str() == Some("") && types.contains(&"string") {
        return types.iter().copied().find(|t| *t == "string");
    }
    types.iter().copied().find(|t| match *t {
        "array" => as_array(v).is_some(),
        "object" => as_object(v).is_some(),
        "integer" => is_integer(v),
        "number" => is_numeric(v).is_some(),
        "boolean" => is_boolean(v),
        "string" => v.is_string(),
        "null" => v.is_null(),
        _ => false,
    })
}

/// WordPress' list format (`wp_sprintf_l`): "a", "a and b", "a, b, and c".
fn sprintf_l(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [a, b] => format!("{a} and {b}"),
        [init @ .., last] => format!("{}, and {last}", init.join(", ")),
    }
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "1".to_owned(),
        Value::Bool(false) | Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `rest_validate_enum`, comparing the value as the schema's type reads it.
fn check_enum(v: &Value, ty: &str, options: &[Value], param: &str) -> Result<(), Invalid> {
    let equal = |o: &Value| match ty {
        "integer" | "number" => is_numeric(v).is_some() && is_numeric(v) == is_numeric(o),
        "boolean" => is_boolean(v) && v.as_bool() == o.as_bool(),
        _ => scalar_text(v) == scalar_text(o) && !v.is_object() && !v.is_array(),
    };
    if options.iter().any(equal) {
        return Ok(());
    }
    let listed: Vec<String> = options
        .iter()
        .map(|o| match o {
            Value::String(s) => s.clone(),
            other if !other.is_object() && !other.is_array() => scalar_text(other),
            other => other.to_string(),
        })
        .collect();
    let message = if let [only] = listed.as_slice() {
        format!("{param} is not {only}.")
    } else {
        format!("{param} is not one of {}.", sprintf_l(&listed))
    };
    Err(invalid("rest_not_in_enum", message))
}

/// `rest_parse_date`'s shape: RFC 3339 with an optional offset.
fn is_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    if b.len() < 19
        || !digits(0..4)
        || b[4] != b'-'
        || !digits(5..7)
        || b[7] != b'-'
        || !digits(8..10)
        || !matches!(b[10], b'T' | b't' | b' ')
        || !digits(11..13)
        || b[13] != b':'
        || !digits(14..16)
        || b[16] != b':'
        || !digits(17..19)
    {
        return false;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    let offset_ok = match rest {
        "" | "Z" => true,
        o if o.starts_with(['+', '-']) => {
            let o = &o.as_bytes()[1..];
            let two = |x: &[u8]| x.len() == 2 && x.iter().all(u8::is_ascii_digit);
            (o.len() == 2 && two(o))
                || (o.len() == 5 && two(&o[..2]) && o[2] == b':' && two(&o[3..]))
        }
        _ => false,
    };
    offset_ok
        && chrono::NaiveDateTime::parse_from_str(
            &s[..19].replace(['t', ' '], "T"),
            "%Y-%m-%dT%H:%M:%S",
        )
        .is_ok()
}

/// `rest_validate_value_from_schema($value, $args, $param)`.
pub(crate) fn validate(v: &Value, schema: &Value, param: &str) -> Result<(), Invalid> {
    let declared: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        // No type: WordPress warns and accepts.
        _ => return Ok(()),
    };
    let ty = if let Some(Value::Array(_)) = schema.get("type") {
        match best_type(v, &declared) {
            Some(t) => t,
            None => return Err(invalid_type(param, &declared.join(","))),
        }
    } else {
        declared[0]
    };
    match ty {
        "null" if !v.is_null() => return Err(invalid_type(param, "null")),
        "boolean" if !is_boolean(v) => return Err(invalid_type(param, "boolean")),
        "object" => {
            let Some(props) = as_object(v) else {
                return Err(invalid_type(param, "object"));
            };
            validate_object(&props, schema, param)?;
        }
        "array" => {
            let Some(items) = as_array(v) else {
                return Err(invalid_type(param, "array"));
            };
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    validate(item, item_schema, &format!("{param}[{i}]"))?;
                }
            }
        }
        "number" | "integer" => {
            let Some(f) = is_numeric(v) else {
                return Err(invalid_type(param, ty));
            };
            check_bounds(f, schema, param)?;
            if ty == "integer" && !is_integer(v) {
                return Err(invalid_type(param, "integer"));
            }
        }
        "string" if !v.is_string() => return Err(invalid_type(param, "string")),
        _ => {}
    }
    if let Some(Value::Array(options)) = schema.get("enum")
        && !options.is_empty()
    {
        check_enum(v, ty, options, param)?;
    }
    if ty == "string"
        && let (Some(format), Some(s)) = (schema.get("format").and_then(Value::as_str), v.as_str())
    {
        match format {
            "email" if !is_email(s) => {
                return Err(invalid(
                    "rest_invalid_email",
                    "Invalid email address.".to_owned(),
                ));
            }
            "date-time" if !is_date_time(s) => {
                return Err(invalid("rest_invalid_date", "Invalid date.".to_owned()));
            }
            _ => {}
        }
    }
    Ok(())
}

/// `rest_validate_object_value_from_schema`: required properties (draft 4
/// list or draft 3 flags), then each given property that has a schema.
fn validate_object(props: &[(String, Value)], schema: &Value, param: &str) -> Result<(), Invalid> {
    let has = |name: &str| props.iter().any(|(k, _)| k == name);
    let required: Vec<String> = match schema.get("required") {
        Some(Value::Array(names)) => names
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => schema
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| {
                p.iter()
                    .filter(|(_, s)| s.get("required") == Some(&Value::Bool(true)))
                    .map(|(k, _)| k.clone())
                    .collect()
            })
            .unwrap_or_default(),
    };
    if let Some(name) = required.iter().find(|n| !has(n)) {
        return Err(invalid(
            "rest_property_required",
            format!("{name} is a required property of {param}."),
        ));
    }
    let properties = schema.get("properties").and_then(Value::as_object);
    for (name, value) in props {
        if let Some(s) = properties.and_then(|p| p.get(name)) {
            validate(value, s, &format!("{param}[{name}]"))?;
            continue;
        }
        match schema.get("additionalProperties") {
            Some(Value::Bool(false)) => {
                return Err(invalid(
                    "rest_additional_properties_forbidden",
                    format!("{name} is not a valid property of Object."),
                ));
            }
            Some(s @ Value::Object(_)) => validate(value, s, &format!("{param}[{name}]"))?,
            _ => {}
        }
    }
    Ok(())
}

/// `minimum`/`maximum` (inclusive; the captures use no exclusive bounds).
fn check_bounds(f: f64, schema: &Value, param: &str) -> Result<(), Invalid> {
    let min = schema.get("minimum").and_then(Value::as_f64);
    let max = schema.get("maximum").and_then(Value::as_f64);
    let out = |message: String| Err(invalid("rest_out_of_bounds", message));
    match (min, max) {
        (Some(lo), Some(hi)) if f < lo || f > hi => out(format!(
            "{param} must be between {} (inclusive) and {} (inclusive)",
            lo as i64, hi as i64
        )),
        (Some(lo), None) if f < lo => out(format!(
            "{param} must be greater than or equal to {}",
            lo as i64
        )),
        (None, Some(hi)) if f > hi => out(format!(
            "{param} must be less than or equal to {}",
            hi as i64
        )),
        _ => Ok(()),
    }
}

/// WordPress' `is_email()` (`wp-includes/formatting.php`, WordPress 7.1),
/// step by step. PHP's `$` also matches before a final newline, so the
/// local part may end in one `\n`, as in WordPress.
pub(crate) fn is_email(email: &str) -> bool {
    if email.len() < 6 {
        return false;
    }
    // An `@` after the first character.
    let Some(at) = email.get(1..).and_then(|s| s.find('@')).map(|i| i + 1) else {
        return false;
    };
    let (local, domain) = (&email[..at], &email[at + 1..]);
    let local_chars = local.strip_suffix('\n').unwrap_or(local);
    if local_chars.is_empty()
        || !local_chars
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c))
    {
        return false;
    }
    if domain.contains("..") {
        return false;
    }
    const TRIM: &[char] = &[' ', '\t', '\n', '\r', '\0', '\x0b'];
    let mut trim_dot = TRIM.to_vec();
    trim_dot.push('.');
    if domain.trim_matches(trim_dot.as_slice()) != domain {
        return false;
    }
    let subs: Vec<&str> = domain.split('.').collect();
    if subs.len() < 2 {
        return false;
    }
    let mut trim_hyphen = TRIM.to_vec();
    trim_hyphen.push('-');
    subs.iter().all(|sub| {
        let chars = sub.strip_suffix('\n').unwrap_or(sub);
        sub.trim_matches(trim_hyphen.as_slice()) == *sub
            && !chars.is_empty()
            && chars.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    })
}

#[cfg(test)]
#[path = "schema_tests.rs"]
mod tests;
