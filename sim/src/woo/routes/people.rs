//! Customers: WordPress users, filtered by role (`customer` unless told
//! otherwise). There is no date filter here: WooCommerce ignores
//! `modified_after` and friends on this endpoint, so the sim does too.

use super::filters::contains_ci;
use super::list::{
    CONTEXT, OFFSET, ORDER, PAGE, PER_PAGE, Paging, descending, directed, include_rank,
};
use super::params::{Arg, Check, arg};
use super::{ApiError, Call, Out};
use crate::woo::model::Customer;
use crate::woo::render;

pub(crate) const CUSTOMER_ARGS: &[Arg] = &[
    CONTEXT,
    PAGE,
    PER_PAGE,
    arg("search", Check::Str),
    arg("exclude", Check::None),
    arg("include", Check::None),
    OFFSET,
    ORDER,
    arg(
        "orderby",
        Check::Enum(&["id", "include", "name", "registered_date"]),
    ),
    arg("email", Check::Email),
    arg(
        "role",
        Check::Enum(&[
            "all",
            "administrator",
            "editor",
            "author",
            "contributor",
            "subscriber",
            "customer",
            "shop_manager",
        ]),
    ),
];

pub(crate) fn list_customers(c: &Call<'_>) -> Result<Out, ApiError> {
    let p = c.params;
    let role = p.str("role").unwrap_or("customer");
    let include = p.ids("include");
    let exclude = p.ids("exclude");
    let email = p.str("email");
    let search = p.str("search").filter(|s| !s.is_empty());
    let mut rows: Vec<&Customer> = c
        .store
        .customers
        .values()
        .filter(|u| {
            (role == "all" || u.role == role)
                && (include.is_empty() || include.contains(&u.id))
                && !exclude.contains(&u.id)
                && email.is_none_or(|e| u.email.eq_ignore_ascii_case(e))
                && search.is_none_or(|s| {
                    let s = s.trim_matches('*');
                    contains_ci(&u.username, s)
                        || contains_ci(&u.email, s)
                        || contains_ci(&u.display_name, s)
                })
        })
        .collect();
    let desc = descending(p, false);
    rows.sort_by(|a, b| {
        let by_id = a.id.cmp(&b.id);
        match p.str("orderby").unwrap_or("name") {
            "id" => directed(by_id, desc),
            "include" => include_rank(&include, a.id).cmp(&include_rank(&include, b.id)),
            "registered_date" => directed(a.created.cmp(&b.created).then(by_id), desc),
            _ => directed(a.display_name.cmp(&b.display_name).then(by_id), desc),
        }
    });
    Ok(Out::List(
        Paging::from(p).cut(rows, |u| render::customer(&c.ctx, u)),
    ))
}

pub(crate) fn get_customer(c: &Call<'_>) -> Result<Out, ApiError> {
    let id: i64 = c.path[0].parse().unwrap_or(0);
    match c.store.customers.get(&id) {
        Some(u) => Ok(Out::Json(render::customer(&c.ctx, u))),
        None => Err(unknown_user()),
    }
}

/// An unknown customer id on the single-customer routes, as WooCommerce's
/// permission check answers it (`Users::get_user_in_current_site`).
pub(crate) fn unknown_user() -> ApiError {
    ApiError::not_found("wc_user_invalid_id", "Invalid user ID.")
}
