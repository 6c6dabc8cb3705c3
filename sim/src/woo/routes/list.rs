//! Collections: paging (`page`, `per_page`, `offset`), ordering helpers, the
//! `Link` header WooCommerce builds, and `_fields` trimming.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::params::{Arg, Check, Params, PhpValue, arg, urlencode};

pub(crate) const CONTEXT: Arg = arg("context", Check::Enum(&["view", "edit"]));
pub(crate) const PAGE: Arg = arg(
    "page",
    Check::Int {
        min: Some(1),
        max: None,
    },
);
pub(crate) const PER_PAGE: Arg = arg(
    "per_page",
    Check::Int {
        min: Some(1),
        max: Some(100),
    },
);
pub(crate) const OFFSET: Arg = arg(
    "offset",
    Check::Int {
        min: None,
        max: None,
    },
);
pub(crate) const ORDER: Arg = arg("order", Check::Enum(&["asc", "desc"]));

/// Single-object routes only take `context`.
pub(crate) const SINGLE_ARGS: &[Arg] = &[CONTEXT];

/// A page of a collection, ready for headers.
pub(crate) struct Listed {
    pub items: Vec<Value>,
    pub total: usize,
    pub pages: usize,
    /// `None` for collections WooCommerce does not paginate (zones,
    /// gateways, tax classes...): no `Link`, `X-WP-TotalPages` 1 (0 if empty).
    pub page: Option<i64>,
    /// Query parameters the `Link` URLs carry, when the controller changed
    /// them (orders add `status`, `dp`, `context`); else the request's.
    pub link_params: Option<Vec<(String, PhpValue)>>,
}

impl Listed {
    /// Everything, unpaginated.
    pub(crate) fn all(items: Vec<Value>) -> Self {
        let total = items.len();
        Self {
            items,
            total,
            pages: usize::from(total > 0),
            page: None,
            link_params: None,
        }
    }
}

/// `page`, `per_page` and `offset` after sanitizing (`absint`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Paging {
    pub page: i64,
    pub per_page: i64,
    pub offset: Option<i64>,
}

impl Paging {
    pub(crate) fn from(params: &Params) -> Self {
        Self {
            page: params.int("page").map_or(1, i64::abs).max(1),
            per_page: params.int("per_page").map_or(10, i64::abs).max(1),
            offset: params.int("offset").map(i64::abs),
        }
    }

    /// Cuts one page out of the matching items; `X-WP-TotalPages` is
    /// `ceil(total / per_page)`, so an empty result has 0 pages.
    pub(crate) fn cut<T>(&self, items: Vec<T>, render: impl FnMut(T) -> Value) -> Listed {
        let total = items.len();
        let per = self.per_page as usize;
        let start = match self.offset {
            Some(o) => o as usize,
            None => (self.page as usize - 1).saturating_mul(per),
        };
        let page_items: Vec<Value> = items
            .into_iter()
            .skip(start)
            .take(per)
            .map(render)
            .collect();
        Listed {
            items: page_items,
            total,
            pages: total.div_ceil(per),
            page: Some(self.page),
            link_params: None,
        }
    }
}

/// Sort direction from `order`, with the endpoint's default.
pub(crate) fn descending(params: &Params, default_desc: bool) -> bool {
    match params.str("order") {
        Some("asc") => false,
        Some("desc") => true,
        _ => default_desc,
    }
}

/// Applies a direction to an ordering.
pub(crate) fn directed(ord: Ordering, desc: bool) -> Ordering {
    if desc { ord.reverse() } else { ord }
}

/// Position in `include` for `orderby=include`.
pub(crate) fn include_rank(include: &[i64], id: i64) -> usize {
    include.iter().position(|&i| i == id).unwrap_or(usize::MAX)
}

fn build_query(params: &[(String, PhpValue)], prefix: Option<&str>, out: &mut Vec<String>) {
    for (k, v) in params {
        let key = match prefix {
            Some(p) => format!("{p}%5B{k}%5D"),
            None => k.clone(),
        };
        match v {
            PhpValue::Str(s) => out.push(format!("{key}={}", urlencode(s))),
            PhpValue::Arr(items) => build_query(items, Some(&key), out),
        }
    }
}

/// `add_query_arg( urlencode_deep( $request->get_query_params() ), rest_url( route ) )`
/// with `page` set (replaced in place or appended).
fn page_url(home: &str, route: &str, params: &[(String, PhpValue)], page: i64) -> String {
    let mut params = params.to_vec();
    match params.iter_mut().find(|(k, _)| k == "page") {
        Some(slot) => slot.1 = PhpValue::Str(page.to_string()),
        None => params.push(("page".to_owned(), PhpValue::Str(page.to_string()))),
    }
    let mut parts = Vec::new();
    build_query(&params, None, &mut parts);
    format!("{home}/wp-json/{route}?{}", parts.join("&"))
}

/// The `rel="prev"` / `rel="next"` header, or `None` when the page has
/// neither (the caller then sends WordPress's discovery link).
pub(crate) fn link_header(
    home: &str,
    route: &str,
    listed: &Listed,
    params: &Params,
) -> Option<String> {
    let page = listed.page?;
    let pages = listed.pages as i64;
    let link_params = listed.link_params.as_deref().unwrap_or(&params.list);
    let mut links = Vec::new();
    if page > 1 {
        let prev = (page - 1).min(pages);
        links.push(format!(
            "<{}>; rel=\"prev\"",
            page_url(home, route, link_params, prev)
        ));
    }
    if pages > page {
        links.push(format!(
            "<{}>; rel=\"next\"",
            page_url(home, route, link_params, page + 1)
        ));
    }
    (!links.is_empty()).then(|| links.join(", "))
}

/// The `_fields` hierarchy (`a`, `b.c`), or `None` when absent or empty.
pub(crate) fn parse_fields(params: &Params) -> Option<Map<String, Value>> {
    let fields = params.list("_fields")?;
    if fields.is_empty() {
        return None;
    }
    let mut tree = Map::new();
    'fields: for f in fields {
        let parts: Vec<&str> = f.trim().split('.').collect();
        let mut node = &mut tree;
        for p in &parts[..parts.len() - 1] {
            let entry = node
                .entry((*p).to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            match entry {
                // The parent is already wholly included.
                Value::Bool(true) => continue 'fields,
                Value::Object(m) => node = m,
                _ => continue 'fields,
            }
        }
        node.insert(parts[parts.len() - 1].to_owned(), Value::Bool(true));
    }
    Some(tree)
}

/// `_rest_array_intersect_key_recursive`.
fn intersect(value: Value, tree: &Map<String, Value>) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter_map(|(k, v)| match tree.get(&k) {
                    Some(Value::Object(sub)) => Some((k, intersect(v, sub))),
                    Some(_) => Some((k, v)),
                    None => None,
                })
                .collect(),
        ),
        other => other,
    }
}

/// `rest_filter_response_fields`. A list's items are trimmed whole,
/// `_links` included (WordPress embeds them before filtering); a single
/// object's `_links` are added back after filtering, as `response_to_data`
/// does. Unrequested fields go, `id` included.
pub(crate) fn filter_fields(data: Value, fields: Option<&Map<String, Value>>) -> Value {
    let Some(tree) = fields else {
        return data;
    };
    match data {
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|i| intersect(i, tree)).collect())
        }
        Value::Object(mut map) => {
            let links = map.shift_remove("_links");
            let mut trimmed = intersect(Value::Object(map), tree);
            if let (Some(l), Value::Object(m)) = (links, &mut trimmed) {
                m.insert("_links".to_owned(), l);
            }
            trimmed
        }
        other => other,
    }
}
