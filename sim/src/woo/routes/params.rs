//! Query parameters the way PHP and WordPress see them: `$_GET` parsing
//! (`a[]=1`, `a[x]=1`, last value wins, `.` and spaces in names become `_`),
//! and `rest_validate_request_arg` with WordPress's exact error messages.

use serde_json::{Map, Value, json};

use super::ApiError;
use crate::woo::clock::parse_query_date;

/// A `$_GET` value: a string or a (nested) array with string keys.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PhpValue {
    Str(String),
    Arr(Vec<(String, PhpValue)>),
}

/// PHP `urldecode`: `+` is a space, `%XX` a byte; invalid UTF-8 is replaced.
pub(crate) fn urldecode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len()
                && bytes[i + 1].is_ascii_hexdigit()
                && bytes[i + 2].is_ascii_hexdigit() =>
            {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("00");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(0));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// PHP `urlencode`: alphanumerics and `-_.` stay, space becomes `+`.
pub(crate) fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn set_path(map: &mut Vec<(String, PhpValue)>, path: &[Option<String>], value: String) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let key = match first {
        Some(k) => k.clone(),
        None => {
            // `[]`: the next integer index.
            let next = map
                .iter()
                .filter_map(|(k, _)| k.parse::<i64>().ok())
                .max()
                .map_or(0, |m| m + 1);
            next.to_string()
        }
    };
    if rest.is_empty() {
        match map.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = PhpValue::Str(value),
            None => map.push((key, PhpValue::Str(value))),
        }
        return;
    }
    let idx = match map.iter().position(|(k, _)| *k == key) {
        Some(i) => {
            if !matches!(map[i].1, PhpValue::Arr(_)) {
                map[i].1 = PhpValue::Arr(Vec::new());
            }
            i
        }
        None => {
            map.push((key, PhpValue::Arr(Vec::new())));
            map.len() - 1
        }
    };
    if let PhpValue::Arr(inner) = &mut map[idx].1 {
        set_path(inner, rest, value);
    }
}

/// `parse_str` / `$_GET`.
pub(crate) fn parse_php_query(raw: &str) -> Vec<(String, PhpValue)> {
    let mut out: Vec<(String, PhpValue)> = Vec::new();
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let key = urldecode(k);
        let key = key.trim_start_matches(' ');
        if key.is_empty() {
            continue;
        }
        let value = urldecode(v);
        // Base name up to the first `[` that has a closing `]`.
        let (base, mut brackets) = match key.find('[') {
            Some(i) if key[i..].contains(']') => (&key[..i], &key[i..]),
            _ => (key, ""),
        };
        if base.is_empty() {
            continue;
        }
        let base: String = base
            .chars()
            .map(|c| {
                if c == ' ' || c == '.' || c == '[' {
                    '_'
                } else {
                    c
                }
            })
            .collect();
        let mut path = vec![Some(base)];
        while let Some(stripped) = brackets.strip_prefix('[') {
            let Some(end) = stripped.find(']') else { break };
            let seg = &stripped[..end];
            path.push(if seg.is_empty() {
                None
            } else {
                Some(seg.to_owned())
            });
            brackets = &stripped[end + 1..];
        }
        set_path(&mut out, &path, value);
    }
    out
}

/// The request's query parameters, in order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Params {
    pub list: Vec<(String, PhpValue)>,
}

impl Params {
    pub(crate) fn get(&self, name: &str) -> Option<&PhpValue> {
        self.list.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// A scalar parameter (arrays read as absent).
    pub(crate) fn str(&self, name: &str) -> Option<&str> {
        match self.get(name)? {
            PhpValue::Str(s) => Some(s),
            PhpValue::Arr(_) => None,
        }
    }

    /// `wp_parse_list`: an array, or a string split on commas and spaces.
    pub(crate) fn list(&self, name: &str) -> Option<Vec<String>> {
        Some(match self.get(name)? {
            PhpValue::Str(s) => s
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect(),
            PhpValue::Arr(items) => items
                .iter()
                .filter_map(|(_, v)| match v {
                    PhpValue::Str(s) => Some(s.clone()),
                    PhpValue::Arr(_) => None,
                })
                .collect(),
        })
    }

    /// `wp_parse_id_list`: every item through `absint`, duplicates removed.
    pub(crate) fn ids(&self, name: &str) -> Vec<i64> {
        let mut out: Vec<i64> = Vec::new();
        for item in self.list(name).unwrap_or_default() {
            let id = php_intval(&item).abs();
            if !out.contains(&id) {
                out.push(id);
            }
        }
        out
    }

    pub(crate) fn int(&self, name: &str) -> Option<i64> {
        self.str(name).map(php_intval)
    }

    /// `rest_sanitize_boolean`.
    pub(crate) fn bool(&self, name: &str) -> Option<bool> {
        self.str(name)
            .map(|s| !matches!(s.to_ascii_lowercase().as_str(), "" | "false" | "0"))
    }
}

/// PHP `intval` of a numeric string: leading integer part, 0 otherwise.
pub(crate) fn php_intval(s: &str) -> i64 {
    let t = s.trim_start();
    let (sign, digits) = match t.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, t.strip_prefix('+').unwrap_or(t)),
    };
    if let Ok(f) = t.trim_end().parse::<f64>()
        && f.is_finite()
    {
        return f.trunc() as i64;
    }
    let n: String = digits.chars().take_while(char::is_ascii_digit).collect();
    sign * n.parse::<i64>().unwrap_or(0)
}

/// How WordPress validates one collection argument.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Check {
    /// No `validate_callback` (ids lists, free strings with sanitizing only).
    None,
    Str,
    Int {
        min: Option<i64>,
        max: Option<i64>,
    },
    Bool,
    Date,
    Email,
    Enum(&'static [&'static str]),
    EnumList(&'static [&'static str]),
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Arg {
    pub name: &'static str,
    pub check: Check,
}

pub(crate) const fn arg(name: &'static str, check: Check) -> Arg {
    Arg { name, check }
}

/// `wp_sprintf_l`: "a", "a and b", "a, b, and c".
fn sprintf_l(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [a, b] => format!("{a} and {b}"),
        [init @ .., last] => format!("{}, and {last}", init.join(", ")),
    }
}

fn is_integer(s: &str) -> Option<f64> {
    let f: f64 = s.trim().parse().ok()?;
    (f.is_finite() && f.round() == f).then_some(f)
}

/// One parameter's error: `(code, message)`.
fn validate_one(name: &str, check: Check, value: &PhpValue) -> Option<(&'static str, String)> {
    let scalar = match value {
        PhpValue::Str(s) => Some(s.as_str()),
        PhpValue::Arr(_) => None,
    };
    let not_type = |t: &str| Some(("rest_invalid_type", format!("{name} is not of type {t}.")));
    match check {
        Check::None => None,
        Check::Str => scalar.is_none().then(|| {
            (
                "rest_invalid_type",
                format!("{name} is not of type string."),
            )
        }),
        Check::Int { min, max } => {
            let Some(v) = scalar.and_then(is_integer) else {
                return not_type("integer");
            };
            match (min, max) {
                (Some(lo), Some(hi)) if v < lo as f64 || v > hi as f64 => Some((
                    "rest_out_of_bounds",
                    format!("{name} must be between {lo} (inclusive) and {hi} (inclusive)"),
                )),
                (Some(lo), None) if v < lo as f64 => Some((
                    "rest_out_of_bounds",
                    format!("{name} must be greater than or equal to {lo}"),
                )),
                (None, Some(hi)) if v > hi as f64 => Some((
                    "rest_out_of_bounds",
                    format!("{name} must be less than or equal to {hi}"),
                )),
                _ => None,
            }
        }
        Check::Bool => match scalar.map(str::to_ascii_lowercase).as_deref() {
            Some("true" | "false" | "1" | "0") => None,
            _ => not_type("boolean"),
        },
        Check::Date => match scalar {
            Some(s) if parse_query_date(s).is_some() => None,
            Some(_) => Some(("rest_invalid_date", "Invalid date.".to_owned())),
            None => not_type("string"),
        },
        Check::Email => match scalar {
            Some(s) if is_email(s) => None,
            Some(_) => Some(("rest_invalid_email", "Invalid email address.".to_owned())),
            None => not_type("string"),
        },
        Check::Enum(options) => match scalar {
            Some(s) if options.contains(&s) => None,
            Some(_) => Some((
                "rest_not_in_enum",
                format!("{name} is not one of {}.", sprintf_l(options)),
            )),
            None => not_type("string"),
        },
        Check::EnumList(options) => {
            let items: Vec<String> = match value {
                PhpValue::Str(s) => s
                    .split(|c: char| c == ',' || c.is_whitespace())
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned)
                    .collect(),
                PhpValue::Arr(a) => a
                    .iter()
                    .map(|(_, v)| match v {
                        PhpValue::Str(s) => s.clone(),
                        PhpValue::Arr(_) => String::new(),
                    })
                    .collect(),
            };
            items
                .iter()
                .enumerate()
                .find(|(_, it)| !options.contains(&it.as_str()))
                .map(|(i, _)| {
                    (
                        "rest_not_in_enum",
                        format!("{name}[{i}] is not one of {}.", sprintf_l(options)),
                    )
                })
        }
    }
}

/// WordPress `is_email`, enough of it: local@domain.tld, no spaces.
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

/// `WP_REST_Request::has_valid_params`: every present argument, in
/// definition order, into one `rest_invalid_param` error.
pub(crate) fn validate(args: &[Arg], params: &Params) -> Result<(), ApiError> {
    let mut messages = Map::new();
    let mut details = Map::new();
    for a in args {
        let Some(value) = params.get(a.name) else {
            continue;
        };
        if let Some((code, message)) = validate_one(a.name, a.check, value) {
            messages.insert(a.name.to_owned(), Value::from(message.clone()));
            details.insert(
                a.name.to_owned(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> PhpValue {
        PhpValue::Str(v.to_owned())
    }

    #[test]
    fn parses_like_php_get() {
        let q = parse_php_query("a=1&b%5B%5D=x&b[]=y&c[k]=v&a=2&d.e=3&f+g=4&h");
        assert_eq!(q[0], ("a".to_owned(), s("2")));
        assert_eq!(
            q[1],
            (
                "b".to_owned(),
                PhpValue::Arr(vec![("0".to_owned(), s("x")), ("1".to_owned(), s("y"))])
            )
        );
        assert_eq!(
            q[2],
            (
                "c".to_owned(),
                PhpValue::Arr(vec![("k".to_owned(), s("v"))])
            )
        );
        assert_eq!(q[3], ("d_e".to_owned(), s("3")));
        assert_eq!(q[4], ("f_g".to_owned(), s("4")));
        assert_eq!(q[5], ("h".to_owned(), s("")));
    }

    #[test]
    fn enum_messages_use_wordpress_list_format() {
        assert_eq!(sprintf_l(&["asc", "desc"]), "asc and desc");
        assert_eq!(sprintf_l(&["a", "b", "c"]), "a, b, and c");
    }

    #[test]
    fn urlencode_matches_php() {
        assert_eq!(urlencode("id,sku a~b"), "id%2Csku+a%7Eb");
        assert_eq!(urldecode("a%2Cb+c%zz"), "a,b c%zz");
    }
}
