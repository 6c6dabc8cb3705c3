//! Filters several collections share: the CRUD controller's arguments,
//! WordPress date queries, post statuses, case-insensitive matching.

use super::params::Params;
use crate::woo::clock::{SITE_OFFSET_SECS, Ts, parse_query_date};
use crate::woo::model::PostStatus;

/// The CRUD controller's arguments, in WooCommerce's order.
macro_rules! crud_args {
    ($orderby:expr $(, $extra:expr)* $(,)?) => {
        &[
            CONTEXT,
            PAGE,
            PER_PAGE,
            arg("search", Check::Str),
            arg("after", Check::Date),
            arg("before", Check::Date),
            arg("modified_after", Check::Date),
            arg("modified_before", Check::Date),
            arg("dates_are_gmt", Check::Bool),
            arg("exclude", Check::None),
            arg("include", Check::None),
            OFFSET,
            ORDER,
            arg("orderby", Check::Enum($orderby)),
            arg("parent", Check::None),
            arg("parent_exclude", Check::None),
            $($extra,)*
        ]
    };
}
pub(crate) use crud_args;

/// `after` / `before` / `modified_*` as WordPress compares them: wall-clock
/// values against the local or GMT column, exclusive.
pub(crate) struct DateFilter {
    after: Option<i64>,
    before: Option<i64>,
    modified_after: Option<i64>,
    modified_before: Option<i64>,
    gmt: bool,
}

impl DateFilter {
    pub(crate) fn from(p: &Params) -> Self {
        let d = |name| p.str(name).and_then(parse_query_date);
        Self {
            after: d("after"),
            before: d("before"),
            modified_after: d("modified_after"),
            modified_before: d("modified_before"),
            gmt: p.bool("dates_are_gmt").unwrap_or(false),
        }
    }

    pub(crate) fn matches(&self, created: Ts, modified: Ts) -> bool {
        let col = |ts: Ts| if self.gmt { ts } else { ts + SITE_OFFSET_SECS };
        self.after.is_none_or(|a| col(created) > a)
            && self.before.is_none_or(|b| col(created) < b)
            && self.modified_after.is_none_or(|a| col(modified) > a)
            && self.modified_before.is_none_or(|b| col(modified) < b)
    }
}

/// The post statuses a query selects (`status`, `include_status`,
/// `exclude_status`); `any` is everything but the trash.
pub(crate) fn statuses(p: &Params) -> Vec<PostStatus> {
    let expand = |s: &str| -> Vec<PostStatus> {
        if s == "any" {
            PostStatus::ALL
                .into_iter()
                .filter(|s| *s != PostStatus::Trash)
                .collect()
        } else {
            PostStatus::parse(s).into_iter().collect()
        }
    };
    let mut set: Vec<PostStatus> = match p.list("include_status") {
        Some(inc) if !inc.is_empty() => inc.iter().flat_map(|s| expand(s)).collect(),
        _ => expand(p.str("status").unwrap_or("any")),
    };
    for ex in p.list("exclude_status").unwrap_or_default() {
        set.retain(|s| s.as_str() != ex);
    }
    set
}

/// SQL `LIKE '%needle%'` under a case-insensitive collation.
pub(crate) fn contains_ci(hay: &str, needle: &str) -> bool {
    hay.to_lowercase().contains(&needle.to_lowercase())
}
