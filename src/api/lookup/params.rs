//! Strict query-string reading for the lookup endpoints: every parameter is
//! known, given at most once, valid UTF-8 and parsed by a domain parser; any
//! failure is a 400 that names the parameter and says why.

use percent_encoding::percent_decode_str;

use super::super::ApiError;
use crate::domain::lookup::query::{PageRequest, parse_id};

/// The longest query string accepted.
const MAX_QUERY_BYTES: usize = 2048;
/// How much of an offending name is quoted back.
const MAX_ECHO_CHARS: usize = 40;

/// A 400 naming `field`.
pub(super) fn bad(field: &str, reason: impl Into<String>) -> ApiError {
    ApiError::InvalidParameter {
        field: field.to_owned(),
        reason: reason.into(),
    }
}

/// The decoded parameters of one request.
pub(super) struct Params {
    pairs: Vec<(&'static str, String)>,
}

impl Params {
    /// Decodes `raw`, refusing unknown, repeated or undecodable parameters.
    pub(super) fn parse(raw: Option<&str>, allowed: &[&'static str]) -> Result<Params, ApiError> {
        let raw = raw.unwrap_or("");
        if raw.len() > MAX_QUERY_BYTES {
            return Err(bad(
                "query",
                format!("the query string must be at most {MAX_QUERY_BYTES} bytes"),
            ));
        }
        let mut pairs: Vec<(&'static str, String)> = Vec::new();
        for part in raw.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            let name = decode(name).unwrap_or_default();
            let Some(known) = allowed.iter().find(|a| **a == name) else {
                let shown: String = name.chars().take(MAX_ECHO_CHARS).collect();
                let reason = if allowed.is_empty() {
                    "unknown parameter; this endpoint takes none".to_owned()
                } else {
                    format!("unknown parameter; allowed: {}", allowed.join(", "))
                };
                return Err(bad(&shown, reason));
            };
            if pairs.iter().any(|(n, _)| n == known) {
                return Err(bad(known, "given more than once"));
            }
            let value =
                decode(value).ok_or_else(|| bad(known, "must be valid percent-encoded UTF-8"))?;
            pairs.push((known, value));
        }
        Ok(Params { pairs })
    }

    /// The parameter `name` parsed by `parse`, if given.
    pub(super) fn take<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<Option<T>, ApiError> {
        let Some(i) = self.pairs.iter().position(|(n, _)| *n == name) else {
            return Ok(None);
        };
        let (_, value) = self.pairs.swap_remove(i);
        parse(&value).map(Some).map_err(|reason| bad(name, reason))
    }

    /// `page` and `per_page`.
    pub(super) fn page(&mut self) -> Result<PageRequest, ApiError> {
        let d = PageRequest::default();
        Ok(PageRequest {
            page: self
                .take("page", PageRequest::parse_page)?
                .unwrap_or(d.page),
            per_page: self
                .take("per_page", PageRequest::parse_per_page)?
                .unwrap_or(d.per_page),
        })
    }
}

/// `+` is a space in a query string; the rest is percent-decoded.
fn decode(s: &str) -> Option<String> {
    let spaced = s.replace('+', " ");
    percent_decode_str(&spaced)
        .decode_utf8()
        .ok()
        .map(|c| c.into_owned())
}

/// An `{id}` path segment.
pub(super) fn path_id(segment: &str) -> Result<i64, ApiError> {
    parse_id(segment).map_err(|reason| bad("id", reason))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(raw: &str, allowed: &[&'static str]) -> String {
        Params::parse(Some(raw), allowed)
            .err()
            .expect("refused")
            .to_string()
    }

    #[test]
    fn decodes_plus_and_percent() {
        let mut p =
            Params::parse(Some("q=cr%C3%A8me+br%C3%BBl%C3%A9e&page=2"), &["q", "page"]).unwrap();
        assert_eq!(
            p.take("q", |s| Ok::<_, String>(s.to_owned())).unwrap(),
            Some("crème brûlée".to_owned())
        );
        assert_eq!(p.page().unwrap().page, 2);
    }

    #[test]
    fn refuses_unknown_repeated_and_broken_parameters() {
        assert_eq!(
            err("qq=1", &["q", "page"]),
            "qq: unknown parameter; allowed: q, page"
        );
        assert_eq!(err("q=a&q=b", &["q"]), "q: given more than once");
        assert_eq!(
            err("q=%FF", &["q"]),
            "q: must be valid percent-encoded UTF-8"
        );
        assert_eq!(
            err(&format!("q={}", "a".repeat(3000)), &["q"]),
            "query: the query string must be at most 2048 bytes"
        );
        assert_eq!(
            err("x=1", &[]),
            "x: unknown parameter; this endpoint takes none"
        );
    }

    #[test]
    fn page_defaults_and_bounds() {
        let mut p = Params::parse(None, &["page", "per_page"]).unwrap();
        assert_eq!(p.page().unwrap(), PageRequest::default());
        let mut p = Params::parse(Some("per_page=500"), &["page", "per_page"]).unwrap();
        assert_eq!(
            p.page().unwrap_err().to_string(),
            "per_page: must be 1..=100"
        );
    }
}
