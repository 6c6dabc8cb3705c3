//! Shopify's search syntax (`query:` on list fields), the subset the sim
//! models: `field:value`, `field:>value` (also `>=`, `<`, `<=`), quoted
//! values (`updated_at:>='2026-01-01T00:00:00Z'`), `-field:value` to
//! negate, and bare words matched against the title or name. Terms are
//! ANDed. A filter the sim does not know is ignored, as Shopify ignores an
//! unknown one (it adds a warning the sim does not give).

use serde_json::Value;

use super::data::gid_number;

#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    negate: bool,
    field: Option<String>,
    op: Op,
    value: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Gt,
    Ge,
    Lt,
    Le,
}

/// Splits a search string into terms (quotes keep spaces and colons).
pub fn parse(q: &str) -> Vec<Term> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    for ch in q.chars() {
        match (quote, ch) {
            (Some(qc), c) if c == qc => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => quote = Some(ch),
            (None, c) if c.is_whitespace() => {
                if !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
            }
            (None, c) => cur.push(c),
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
        .into_iter()
        .filter(|w| !matches!(w.as_str(), "AND" | "and"))
        .map(|w| {
            let (negate, w) = match w.strip_prefix('-') {
                Some(rest) => (true, rest.to_owned()),
                None => (false, w),
            };
            match w.split_once(':') {
                Some((field, rest)) => {
                    let (op, value) =
                        [(">=", Op::Ge), ("<=", Op::Le), (">", Op::Gt), ("<", Op::Lt)]
                            .into_iter()
                            .find_map(|(p, op)| rest.strip_prefix(p).map(|v| (op, v)))
                            .unwrap_or((Op::Eq, rest));
                    Term {
                        negate,
                        field: Some(field.to_lowercase()),
                        op,
                        value: value.to_owned(),
                    }
                }
                None => Term {
                    negate,
                    field: None,
                    op: Op::Eq,
                    value: w,
                },
            }
        })
        .collect()
}

fn timestamp(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|d| d.timestamp())
        .ok()
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc().timestamp())
        })
}

fn compare<T: PartialOrd>(a: T, op: Op, b: T) -> bool {
    match op {
        Op::Eq => a == b,
        Op::Gt => a > b,
        Op::Ge => a >= b,
        Op::Lt => a < b,
        Op::Le => a <= b,
    }
}

/// Whether `node` matches `t`; `None` for a filter the sim does not know.
fn term_matches(node: &Value, t: &Term) -> Option<bool> {
    let text = |key: &str| node[key].as_str().unwrap_or_default().to_lowercase();
    let wanted = t.value.to_lowercase();
    let Some(field) = t.field.as_deref() else {
        let hay = format!("{} {}", text("title"), text("name"));
        return Some(hay.contains(&wanted));
    };
    let time_field = match field {
        "updated_at" => Some("updatedAt"),
        "created_at" => Some("createdAt"),
        "processed_at" => Some("processedAt"),
        "occurred_at" => Some("occurredAt"),
        _ => None,
    };
    if let Some(key) = time_field {
        // A time this kind of node does not have: not one of its filters.
        node.get(key)?;
        let (Some(have), Some(want)) =
            (node[key].as_str().and_then(timestamp), timestamp(&t.value))
        else {
            return Some(false);
        };
        return Some(compare(have, t.op, want));
    }
    Some(match field {
        "id" => {
            let have = node["id"].as_str().and_then(gid_number);
            let want = t.value.parse::<u64>().ok();
            matches!((have, want), (Some(h), Some(w)) if compare(h, t.op, w))
        }
        "status" => text("status") == wanted,
        "source_identifier" => node["sourceIdentifier"].as_str() == Some(t.value.as_str()),
        "email" => text("email") == wanted,
        "name" => text("name") == wanted || text("name") == format!("#{wanted}"),
        "title" => text("title").contains(&wanted),
        "vendor" => text("vendor") == wanted,
        "product_type" => text("productType") == wanted,
        "tag" => node["tags"].as_array().is_some_and(|tags| {
            tags.iter()
                .any(|x| x.as_str().map(str::to_lowercase) == Some(wanted.clone()))
        }),
        // Unknown filters are ignored, negated or not.
        _ => return None,
    })
}

pub fn matches(node: &Value, terms: &[Term]) -> bool {
    terms
        .iter()
        .all(|t| term_matches(node, t).is_none_or(|m| m != t.negate))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn quoted_times_are_compared_inclusively_and_unknown_filters_ignored() {
        let node = json!({"id": "gid://shopify/Order/7", "updatedAt": "2026-03-01T10:00:00Z",
                          "name": "#1001", "sourceIdentifier": "till-1:42"});
        let yes = |q: &str| matches(&node, &parse(q));
        assert!(yes("updated_at:>='2026-03-01T10:00:00Z'"));
        assert!(!yes("updated_at:>'2026-03-01T10:00:00Z'"));
        assert!(yes("updated_at:>=2026-03-01"));
        assert!(!yes("updated_at:<=2026-03-01"));
        assert!(yes("source_identifier:'till-1:42'"));
        assert!(!yes("source_identifier:'till-1:4'"));
        assert!(yes("name:1001 id:>6"));
        assert!(!yes("-name:1001"));
        assert!(yes("risk_level:high"));
        assert!(yes("-risk_level:high"));
    }
}
