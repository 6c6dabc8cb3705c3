//! Turns what Shopify's Admin GraphQL endpoint answered into usable data or
//! an [`UpstreamError`], once, so callers only ask whether to try again.
//!
//! GraphQL reports most failures with **HTTP 200** and top-level `errors`:
//!
//! - `THROTTLED` (200, no `Retry-After`): transient, with the wait worked
//!   out from the bucket in `extensions.cost`: `(requested − available) /
//!   restoreRate`.
//! - `MAX_COST_EXCEEDED`: the query itself is too big (over 1000 points
//!   requested); retrying never helps, the caller must ask for less. This is
//!   [`Failure::TooCostly`], kept apart so a pager can halve its page.
//! - `ACCESS_DENIED`: the token lacks a scope, [`UpstreamError::Auth`].
//! - `INTERNAL_SERVER_ERROR`: transient.
//! - anything else (`BAD_REQUEST`, `INVALID_VARIABLE`, schema validation
//!   codes such as `argumentLiteralsIncompatible`, and also `NOT_FOUND` /
//!   `RESOURCE_NOT_FOUND`, which Shopify uses for a malformed or wrong-type
//!   id, not for an object that is gone: those come back as `null` data) is
//!   [`UpstreamError::Rejected`] with the code and message.
//!
//! An answer with any top-level error is a failure as a whole, even when it
//! also carries partial `data`: the sync engine never stores half a page.
//! Mutation `userErrors` are inside `data` and left to the caller, which
//! knows the mutation. HTTP statuses other than 2xx (a 429 with a decimal
//! `Retry-After: 4.0`, 401/403, 404, 5xx) are classified as for any shop.

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde_json::Value;

use super::cost::{self, QueryCost};
use crate::domain::GmtTime;
use crate::upstream::UpstreamError;

/// How much of an unexpected body an error quotes.
const SNIPPET_CHARS: usize = 160;

/// A GraphQL answer without errors.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The `data` object.
    pub data: Value,
    /// `extensions.cost`, when the shop sent it.
    pub cost: Option<QueryCost>,
    /// The shop's clock when it answered (`Date`), when it sent one.
    pub server_time: Option<GmtTime>,
}

/// Why an answer carries no usable data.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Failure {
    /// The query's requested cost is above the single-query limit: split it
    /// (fewer items per page, fewer nested connections).
    #[error(
        "the query would cost {cost} points, above the shop's limit of {max_cost} for one query"
    )]
    TooCostly {
        cost: u64,
        max_cost: u64,
        message: String,
    },
    /// Anything else, classified as for any shop.
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
}

impl Failure {
    /// The cost to stay under when splitting, for [`Failure::TooCostly`].
    pub fn max_cost(&self) -> Option<u64> {
        match self {
            Failure::TooCostly { max_cost, .. } => Some(*max_cost),
            Failure::Upstream(_) => None,
        }
    }
}

/// For callers that cannot split: a too-costly query is a refused request.
impl From<Failure> for UpstreamError {
    fn from(f: Failure) -> Self {
        match f {
            Failure::TooCostly { message, .. } => UpstreamError::Rejected {
                status: 200,
                code: "MAX_COST_EXCEEDED".to_owned(),
                message,
            },
            Failure::Upstream(e) => e,
        }
    }
}

/// Classifies one HTTP answer from the GraphQL endpoint.
pub fn answer(status: u16, headers: &HeaderMap, body: &[u8]) -> Result<Answer, Failure> {
    if !(200..300).contains(&status) {
        return Err(status_error(status, headers, body).into());
    }
    let v: Value = serde_json::from_slice(body).map_err(|e| UpstreamError::Malformed {
        detail: format!("not JSON: {e}"),
        snippet: snippet(body),
    })?;
    let malformed = |detail: String| UpstreamError::Malformed {
        detail,
        snippet: snippet(body),
    };
    let cost = cost::read(&v).map_err(malformed)?;
    if let Some(errors) = v.get("errors") {
        return Err(graphql_errors(status, errors, cost.as_ref()));
    }
    match v.get("data") {
        Some(data @ Value::Object(_)) => Ok(Answer {
            data: data.clone(),
            cost,
            server_time: headers
                .get(reqwest::header::DATE)
                .and_then(|v| v.to_str().ok())
                .and_then(GmtTime::parse_http_date),
        }),
        _ => Err(malformed("neither data nor errors".to_owned()).into()),
    }
}

/// The `code` and `message` of one entry of `errors`.
fn code_and_message(e: &Value) -> (Option<&str>, String) {
    let code = e
        .get("extensions")
        .and_then(|x| x.get("code"))
        .and_then(Value::as_str);
    let message = e
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim();
    let path: Vec<String> = e
        .get("path")
        .and_then(Value::as_array)
        .map(|p| {
            p.iter()
                .map(|s| s.as_str().map_or_else(|| s.to_string(), str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let message = if path.is_empty() {
        message.to_owned()
    } else {
        format!("{message} (at {})", path.join("."))
    };
    (code, message)
}

fn graphql_errors(status: u16, errors: &Value, cost: Option<&QueryCost>) -> Failure {
    // `"errors": "…"` (a bare string) as well as the list of objects.
    let list: Vec<Value> = match errors {
        Value::Array(a) if !a.is_empty() => a.clone(),
        Value::String(s) => vec![serde_json::json!({ "message": s })],
        other => vec![serde_json::json!({ "message": other.to_string() })],
    };
    let found = |wanted: &str| list.iter().find(|e| code_and_message(e).0 == Some(wanted));
    if let Some(e) = found("THROTTLED") {
        let (_, message) = code_and_message(e);
        let (reason, retry_after) = match cost {
            Some(c) => (
                format!(
                    "{message}: the query needs {} cost points, {} of {} are available, restoring {}/s",
                    c.requested, c.bucket.available, c.bucket.maximum, c.bucket.restore_rate
                ),
                Some(c.bucket.wait_for(c.requested)),
            ),
            None => (format!("{message} (no cost figures sent)"), None),
        };
        return UpstreamError::Transient {
            reason: format!("HTTP {status} THROTTLED: {reason}"),
            retry_after,
        }
        .into();
    }
    if let Some(e) = found("MAX_COST_EXCEEDED") {
        let ext = &e["extensions"];
        let (_, message) = code_and_message(e);
        return Failure::TooCostly {
            cost: ext["cost"].as_u64().unwrap_or(0),
            max_cost: ext["maxCost"].as_u64().unwrap_or(1000),
            message: first_paragraph(&message),
        };
    }
    let (code, message) = code_and_message(&list[0]);
    let code = code.unwrap_or("GRAPHQL_ERROR").to_owned();
    let message = match list.len() {
        1 => message,
        n => format!("{message} (and {} more)", n - 1),
    };
    match code.as_str() {
        "ACCESS_DENIED" => UpstreamError::Auth {
            status,
            code,
            message,
        },
        "INTERNAL_SERVER_ERROR" => UpstreamError::Transient {
            reason: format!("HTTP {status} {code}: {message}"),
            retry_after: None,
        },
        _ => UpstreamError::Rejected {
            status,
            code,
            message,
        },
    }
    .into()
}

/// Shopify's long messages go on with a paragraph of advice.
fn first_paragraph(s: &str) -> String {
    s.split("\n\n").next().unwrap_or(s).trim().to_owned()
}

/// The error for a non-2xx answer.
pub fn status_error(status: u16, headers: &HeaderMap, body: &[u8]) -> UpstreamError {
    let parsed = serde_json::from_slice::<Value>(body).ok();
    let message = parsed
        .as_ref()
        .and_then(|v| v.get("errors"))
        .map(|e| match e {
            Value::String(s) => s.clone(),
            Value::Array(a) => a.first().map(|x| code_and_message(x).1).unwrap_or_default(),
            other => other.to_string(),
        })
        .unwrap_or_else(|| snippet(body));
    let code = format!("http_{status}");
    match status {
        401 | 403 => UpstreamError::Auth {
            status,
            code,
            message,
        },
        404 => UpstreamError::NotFound { code, message },
        408 | 425 | 429 | 500..=599 => UpstreamError::Transient {
            reason: format!("HTTP {status}: {message}"),
            retry_after: retry_after(headers),
        },
        _ => UpstreamError::Rejected {
            status,
            code,
            message,
        },
    }
}

/// `Retry-After` in seconds, which Shopify sends as a decimal (`4.0`), or as
/// an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let at = GmtTime::parse_http_date(value)?;
    let wait = at.unix() - GmtTime::now().unix();
    Some(Duration::from_secs(u64::try_from(wait).unwrap_or(0)))
}

/// The start of a body, on one line, for an error message.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out: String = one_line.chars().take(SNIPPET_CHARS).collect();
    if one_line.chars().count() > SNIPPET_CHARS {
        out.push('…');
    }
    out
}

#[cfg(test)]
#[path = "classify_tests.rs"]
mod tests;
