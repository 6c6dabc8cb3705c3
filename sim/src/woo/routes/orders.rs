//! Orders and refunds.

use super::filters::{DateFilter, contains_ci, crud_args};
use super::list::{
    CONTEXT, Listed, OFFSET, ORDER, PAGE, PER_PAGE, Paging, descending, directed, include_rank,
};
use super::params::{Arg, Check, Params, PhpValue, arg};
use super::{ApiError, Call, Out};
use crate::woo::model::{Order, OrderStatus, Refund};
use crate::woo::render;

const ORDER_STATUSES: &[&str] = &[
    "any",
    "trash",
    "auto-draft",
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "checkout-draft",
];

const CRUD_ORDERBY: &[&str] = &["date", "id", "include", "title", "slug", "modified"];

pub(crate) const ORDER_ARGS: &[Arg] = crud_args!(
    CRUD_ORDERBY,
    arg("status", Check::EnumList(ORDER_STATUSES)),
    arg(
        "customer",
        Check::Int {
            min: None,
            max: None
        }
    ),
    arg(
        "product",
        Check::Int {
            min: None,
            max: None
        }
    ),
    arg(
        "dp",
        Check::Int {
            min: None,
            max: None
        }
    ),
    arg("order_item_display_meta", Check::Bool),
    arg("include_meta", Check::None),
    arg("exclude_meta", Check::None),
    arg("created_via", Check::None),
);

pub(crate) const REFUND_ARGS: &[Arg] = crud_args!(
    CRUD_ORDERBY,
    arg(
        "dp",
        Check::Int {
            min: None,
            max: None
        }
    )
);

/// The HPOS search: the billing and shipping address indexes, item names,
/// and the order number.
fn search_matches(o: &Order, s: &str) -> bool {
    if s.parse::<i64>().is_ok_and(|id| id == o.id) {
        return true;
    }
    let addr = |a: &crate::woo::model::Address| {
        [
            &a.first_name,
            &a.last_name,
            &a.company,
            &a.address_1,
            &a.address_2,
            &a.city,
            &a.state,
            &a.postcode,
            &a.country,
            &a.email,
            &a.phone,
        ]
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ")
    };
    contains_ci(&addr(&o.billing), s)
        || contains_ci(&addr(&o.shipping), s)
        || o.line_items.iter().any(|l| contains_ci(&l.name, s))
}

/// Query parameters as the orders controller leaves them for `Link`:
/// `status` moved to the end as an array, then `dp` and `context` added
/// once an order has been prepared (see `WC_REST_Orders_Controller`).
fn order_link_params(
    p: &Params,
    statuses: &[String],
    rendered_any: bool,
) -> Vec<(String, PhpValue)> {
    let mut out: Vec<(String, PhpValue)> = p
        .list
        .iter()
        .filter(|(k, _)| k != "status")
        .cloned()
        .collect();
    out.push((
        "status".to_owned(),
        PhpValue::Arr(
            statuses
                .iter()
                .enumerate()
                .map(|(i, s)| (i.to_string(), PhpValue::Str(s.clone())))
                .collect(),
        ),
    ));
    if rendered_any {
        add_dp(&mut out);
        if !out.iter().any(|(k, _)| k == "context") {
            out.push(("context".to_owned(), PhpValue::Str("view".to_owned())));
        }
    }
    out
}

/// `$this->request['dp']` is written back (absint) or appended.
fn add_dp(out: &mut Vec<(String, PhpValue)>) {
    match out.iter_mut().find(|(k, _)| k == "dp") {
        Some(slot) => {
            let v = match &slot.1 {
                PhpValue::Str(s) => super::params::php_intval(s).abs(),
                PhpValue::Arr(_) => 0,
            };
            slot.1 = PhpValue::Str(v.to_string());
        }
        None => out.push(("dp".to_owned(), PhpValue::Str("2".to_owned()))),
    }
}

fn crud_sort<T>(rows: &mut [&T], p: &Params, include: &[i64], key: impl Fn(&T) -> (i64, i64, i64)) {
    let desc = descending(p, true);
    rows.sort_by(|a, b| {
        let (ia, ca, ma) = key(a);
        let (ib, cb, mb) = key(b);
        let by_id = ia.cmp(&ib);
        match p.str("orderby").unwrap_or("date") {
            "id" | "title" | "slug" => directed(by_id, desc),
            "include" => include_rank(include, ia).cmp(&include_rank(include, ib)),
            "modified" => directed(ma.cmp(&mb).then(by_id), desc),
            _ => directed(ca.cmp(&cb).then(by_id), desc),
        }
    });
}

pub(crate) fn list_orders(c: &Call<'_>) -> Result<Out, ApiError> {
    let p = c.params;
    let status_list = p
        .list("status")
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| vec!["any".to_owned()]);
    let wanted: Vec<OrderStatus> = if status_list.iter().any(|s| s == "any") {
        OrderStatus::ALL
            .into_iter()
            .filter(|s| *s != OrderStatus::Trash)
            .collect()
    } else {
        status_list
            .iter()
            .filter_map(|s| OrderStatus::parse(s))
            .collect()
    };
    let dates = DateFilter::from(p);
    let include = p.ids("include");
    let exclude = p.ids("exclude");
    let parents = p.ids("parent");
    let parent_exclude = p.ids("parent_exclude");
    let customer = p.int("customer");
    let product = p.int("product").filter(|&id| id != 0);
    let search = p.str("search").filter(|s| !s.is_empty());
    let created_via = p.list("created_via");
    let mut rows: Vec<&Order> = c
        .store
        .orders
        .values()
        .filter(|o| {
            wanted.contains(&o.status)
                && (include.is_empty() || include.contains(&o.id))
                && !exclude.contains(&o.id)
                && (parents.is_empty() || parents.contains(&o.parent_id))
                && !parent_exclude.contains(&o.parent_id)
                && customer.is_none_or(|cid| o.customer_id == cid)
                && product.is_none_or(|pid| o.line_items.iter().any(|l| l.product_id == pid))
                && dates.matches(o.created, o.modified)
                && search.is_none_or(|s| search_matches(o, s))
                && created_via
                    .as_ref()
                    .is_none_or(|v| v.contains(&o.created_via))
        })
        .collect();
    crud_sort(&mut rows, p, &include, |o| (o.id, o.created, o.modified));
    let mut listed = Paging::from(p).cut(rows, |o| render::order(&c.ctx, c.store, o));
    listed.link_params = Some(order_link_params(p, &status_list, !listed.items.is_empty()));
    Ok(Out::List(listed))
}

pub(crate) fn get_order(c: &Call<'_>) -> Result<Out, ApiError> {
    let id: i64 = c.path[0].parse().unwrap_or(0);
    match c.store.orders.get(&id) {
        Some(o) => Ok(Out::Json(render::order(&c.ctx, c.store, o))),
        None => Err(ApiError::not_found(
            "woocommerce_rest_shop_order_invalid_id",
            "Invalid ID.",
        )),
    }
}

fn list_refund_rows(c: &Call<'_>, order_id: Option<i64>, with_parent: bool) -> Listed {
    let p = c.params;
    let dates = DateFilter::from(p);
    let include = p.ids("include");
    let exclude = p.ids("exclude");
    let parents = p.ids("parent");
    let mut rows: Vec<&Refund> = c
        .store
        .refunds
        .values()
        .filter(|r| {
            order_id.is_none_or(|oid| r.parent_id == oid)
                && (include.is_empty() || include.contains(&r.id))
                && !exclude.contains(&r.id)
                && (parents.is_empty() || parents.contains(&r.parent_id))
                && dates.matches(r.created, r.created)
        })
        .collect();
    crud_sort(&mut rows, p, &include, |r| (r.id, r.created, r.created));
    let mut listed = Paging::from(p).cut(rows, |r| render::refund(&c.ctx, c.store, r, with_parent));
    if !listed.items.is_empty() && !p.list.iter().any(|(k, _)| k == "dp") {
        let mut link = p.list.clone();
        add_dp(&mut link);
        listed.link_params = Some(link);
    }
    listed
}

pub(crate) fn list_order_refunds(c: &Call<'_>) -> Result<Out, ApiError> {
    let order_id: i64 = c.path[0].parse().unwrap_or(0);
    Ok(Out::List(list_refund_rows(c, Some(order_id), false)))
}

pub(crate) fn list_refunds(c: &Call<'_>) -> Result<Out, ApiError> {
    Ok(Out::List(list_refund_rows(c, None, true)))
}

pub(crate) fn get_order_refund(c: &Call<'_>) -> Result<Out, ApiError> {
    let order_id: i64 = c.path[0].parse().unwrap_or(0);
    let id: i64 = c.path[1].parse().unwrap_or(0);
    let refund = c.store.refunds.get(&id).ok_or_else(|| {
        ApiError::not_found(
            "woocommerce_rest_shop_order_refund_invalid_id",
            "Invalid ID.",
        )
    })?;
    if !c.store.orders.contains_key(&order_id) {
        return Err(ApiError::not_found(
            "woocommerce_rest_invalid_order_id",
            "Invalid order ID.",
        ));
    }
    if refund.parent_id != order_id {
        return Err(ApiError::not_found(
            "woocommerce_rest_invalid_order_refund_id",
            "Invalid order refund ID.",
        ));
    }
    Ok(Out::Json(render::refund(&c.ctx, c.store, refund, false)))
}
