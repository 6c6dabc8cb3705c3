//! What the list pages (queue, events) share: their query string read
//! strictly (a parameter unknown, repeated, oversized or malformed is a
//! 400 naming it, and nothing is read), keyset cursors, and times as a
//! person reads them.

use crate::api::ApiError;
use crate::domain::time::GmtTime;
use crate::store::paging::Cursor;

/// Rows per page.
pub(super) const PAGE_ROWS: i64 = 50;
/// Longest query string taken.
const MAX_QUERY_BYTES: usize = 1024;
/// Longest value of one parameter.
const MAX_VALUE_CHARS: usize = 64;

pub(super) fn bad(field: &str, reason: impl Into<String>) -> ApiError {
    ApiError::InvalidParameter {
        field: field.to_owned(),
        reason: reason.into(),
    }
}

/// The parameters of `raw` (an empty value counts as absent), each once,
/// each one of `allowed`.
pub(super) fn params(
    raw: Option<&str>,
    allowed: &[&'static str],
) -> Result<Vec<(&'static str, String)>, ApiError> {
    let raw = raw.unwrap_or_default();
    if raw.len() > MAX_QUERY_BYTES {
        return Err(bad(
            "query",
            format!("is longer than {MAX_QUERY_BYTES} bytes"),
        ));
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw)
        .map_err(|e| bad("query", format!("cannot be read: {e}")))?;
    let mut out: Vec<(&'static str, String)> = Vec::new();
    for (k, v) in pairs {
        let Some(name) = allowed.iter().find(|a| **a == k) else {
            return Err(bad(
                &k,
                format!(
                    "is not a parameter of this page (one of {})",
                    allowed.join(", ")
                ),
            ));
        };
        if v.chars().count() > MAX_VALUE_CHARS {
            return Err(bad(
                name,
                format!("is longer than {MAX_VALUE_CHARS} characters"),
            ));
        }
        if out.iter().any(|(n, _)| n == name) {
            return Err(bad(name, "is given more than once"));
        }
        if !v.is_empty() {
            out.push((name, v));
        }
    }
    Ok(out)
}

/// The value of `name` in `params`.
pub(super) fn get<'a>(params: &'a [(&'static str, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.as_str())
}

/// The page asked for by `before` / `after` (a sequence number each).
pub(super) fn cursor(params: &[(&'static str, String)]) -> Result<Cursor, ApiError> {
    let number = |name: &'static str| -> Result<Option<i64>, ApiError> {
        get(params, name)
            .map(|v| {
                v.parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| bad(name, format!("must be a whole number (got {v:?})")))
            })
            .transpose()
    };
    match (number("before")?, number("after")?) {
        (Some(_), Some(_)) => Err(bad("after", "cannot be given with before")),
        (Some(n), None) => Ok(Cursor::Before(n)),
        (None, Some(n)) => Ok(Cursor::After(n)),
        (None, None) => Ok(Cursor::Newest),
    }
}

/// `path?name=value&…` with the non-empty values, URL-encoded.
pub(super) fn link(path: &str, pairs: &[(&str, Option<String>)]) -> String {
    let set: Vec<(&str, &str)> = pairs
        .iter()
        .filter_map(|(k, v)| v.as_deref().map(|v| (*k, v)))
        .collect();
    if set.is_empty() {
        return path.to_owned();
    }
    format!(
        "{path}?{}",
        serde_urlencoded::to_string(set).unwrap_or_default()
    )
}

/// A moment (unix ms) as UTC text, `2025-01-31 09:30:00 UTC`.
pub(super) fn when(ms: i64) -> String {
    format!("{} UTC", GmtTime::from_unix(ms.div_euclid(1000))).replacen('T', " ", 1)
}

/// How far `at_ms` is from `now_ms`: `now`, `in 5 min`, `3 h ago`.
pub(super) fn relative(at_ms: i64, now_ms: i64) -> String {
    let d = (at_ms - now_ms) / 1000;
    let s = d.unsigned_abs();
    if s < 1 {
        return "now".to_owned();
    }
    let span = match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        3600..86_400 => format!("{} h", s / 3600),
        _ => format!("{} d", s / 86_400),
    };
    if d > 0 {
        format!("in {span}")
    } else {
        format!("{span} ago")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_a_person_says_them() {
        assert_eq!(relative(1_000, 1_500), "now");
        assert_eq!(relative(65_000, 0), "in 1 min");
        assert_eq!(relative(0, 7_200_000), "2 h ago");
        assert_eq!(when(0), "1970-01-01 00:00:00 UTC");
    }

    #[test]
    fn a_bad_parameter_is_named() {
        let field = |r: Result<Vec<(&str, String)>, ApiError>| match r {
            Err(ApiError::InvalidParameter { field, .. }) => field,
            other => panic!("{:?}", other.map(|_| ())),
        };
        assert_eq!(field(params(Some("colour=red"), &["state"])), "colour");
        assert_eq!(field(params(Some("state=a&state=b"), &["state"])), "state");
        let long = format!("state={}", "q".repeat(65));
        assert_eq!(field(params(Some(&long), &["state"])), "state");
        let p = params(Some("before=x"), &["before"]).unwrap();
        assert!(
            matches!(cursor(&p), Err(ApiError::InvalidParameter { field, .. }) if field == "before")
        );
        let p = params(Some("state=&before=7"), &["state", "before"]).unwrap();
        assert_eq!(cursor(&p).unwrap(), Cursor::Before(7));
    }
}
