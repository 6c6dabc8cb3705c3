//! Taxonomies: categories, tags, global attributes and their terms.

use std::collections::HashMap;

use super::filters::contains_ci;
use super::list::{
    CONTEXT, Listed, OFFSET, ORDER, PAGE, PER_PAGE, Paging, descending, directed, include_rank,
};
use super::params::{Arg, Check, arg};
use super::{ApiError, Call, Out};
use crate::woo::model::{PostStatus, Product, Store, Term};
use crate::woo::render;

const TERM_ORDERBY: &[&str] = &[
    "id",
    "include",
    "name",
    "slug",
    "term_group",
    "description",
    "count",
];

pub(crate) const TERM_ARGS: &[Arg] = &[
    CONTEXT,
    PAGE,
    PER_PAGE,
    arg("search", Check::Str),
    arg("exclude", Check::None),
    arg("include", Check::None),
    OFFSET,
    ORDER,
    arg("orderby", Check::Enum(TERM_ORDERBY)),
    arg("hide_empty", Check::Bool),
    arg(
        "product",
        Check::Int {
            min: None,
            max: None,
        },
    ),
    arg("slug", Check::Str),
];

pub(crate) const TERM_ARGS_CATEGORIES: &[Arg] = &[
    CONTEXT,
    PAGE,
    PER_PAGE,
    arg("search", Check::Str),
    arg("exclude", Check::None),
    arg("include", Check::None),
    OFFSET,
    ORDER,
    arg("orderby", Check::Enum(TERM_ORDERBY)),
    arg("hide_empty", Check::Bool),
    arg(
        "parent",
        Check::Int {
            min: None,
            max: None,
        },
    ),
    arg(
        "product",
        Check::Int {
            min: None,
            max: None,
        },
    ),
    arg("slug", Check::Str),
];

/// Published products per term id (WordPress counts only `publish`).
fn term_counts(store: &Store, pick: impl Fn(&Product) -> Vec<i64>) -> HashMap<i64, usize> {
    let mut counts = HashMap::new();
    for p in store
        .products
        .values()
        .filter(|p| p.status == PostStatus::Publish)
    {
        for id in pick(p) {
            *counts.entry(id).or_insert(0) += 1;
        }
    }
    counts
}

/// Shared filtering and ordering of terms (`WC_REST_Terms_Controller`).
fn list_terms<'a, T>(
    c: &Call<'_>,
    terms: Vec<(&'a T, i64, &'a str, &'a str, i64)>,
    counts: &HashMap<i64, usize>,
    product_terms: Option<Vec<i64>>,
    render_one: impl Fn(&'a T, usize) -> serde_json::Value,
) -> Result<Out, ApiError> {
    let p = c.params;
    let include = p.ids("include");
    let exclude = p.ids("exclude");
    let hide_empty = p.bool("hide_empty").unwrap_or(false);
    let parent = p.int("parent");
    let search = p.str("search").filter(|s| !s.is_empty());
    let mut rows: Vec<(&T, i64, &str, &str, i64)> = terms
        .into_iter()
        .filter(|&(_, id, name, slug, parent_id)| {
            let count = counts.get(&id).copied().unwrap_or(0);
            (include.is_empty() || include.contains(&id))
                && !exclude.contains(&id)
                && (!hide_empty || count > 0)
                && parent.is_none_or(|pid| pid == parent_id)
                && p.str("slug").is_none_or(|s| s == slug)
                && search.is_none_or(|s| contains_ci(name, s) || contains_ci(slug, s))
                && product_terms.as_ref().is_none_or(|ids| ids.contains(&id))
        })
        .collect();
    let desc = descending(p, false);
    rows.sort_by(|a, b| {
        let by_id = a.1.cmp(&b.1);
        let ord = match p.str("orderby").unwrap_or("name") {
            "id" => by_id,
            "include" => return include_rank(&include, a.1).cmp(&include_rank(&include, b.1)),
            "slug" => a.3.cmp(b.3).then(by_id),
            "count" => counts.get(&a.1).cmp(&counts.get(&b.1)).then(by_id),
            _ => a.2.to_lowercase().cmp(&b.2.to_lowercase()).then(by_id),
        };
        directed(ord, desc)
    });
    let listed = Paging::from(p).cut(rows, |(t, id, ..)| {
        render_one(t, counts.get(&id).copied().unwrap_or(0))
    });
    Ok(Out::List(listed))
}

fn product_filter(c: &Call<'_>, pick: impl Fn(&Product) -> Vec<i64>) -> Option<Vec<i64>> {
    let id = c.params.int("product")?;
    Some(c.store.products.get(&id).map(pick).unwrap_or_default())
}

fn term_rows(terms: &std::collections::BTreeMap<i64, Term>) -> Vec<(&Term, i64, &str, &str, i64)> {
    terms
        .values()
        .map(|t| (t, t.id, t.name.as_str(), t.slug.as_str(), t.parent))
        .collect()
}

pub(crate) fn list_categories(c: &Call<'_>) -> Result<Out, ApiError> {
    let counts = term_counts(c.store, |p| p.category_ids.clone());
    let product = product_filter(c, |p| p.category_ids.clone());
    list_terms(
        c,
        term_rows(&c.store.categories),
        &counts,
        product,
        |t, n| render::category(&c.ctx, t, n),
    )
}

pub(crate) fn list_tags(c: &Call<'_>) -> Result<Out, ApiError> {
    let counts = term_counts(c.store, |p| p.tag_ids.clone());
    let product = product_filter(c, |p| p.tag_ids.clone());
    list_terms(c, term_rows(&c.store.tags), &counts, product, |t, n| {
        render::tag(&c.ctx, t, n)
    })
}

fn term_not_found() -> ApiError {
    ApiError::not_found("woocommerce_rest_term_invalid", "Resource does not exist.")
}

pub(crate) fn get_category(c: &Call<'_>) -> Result<Out, ApiError> {
    let id: i64 = c.path[0].parse().unwrap_or(0);
    let t = c.store.categories.get(&id).ok_or_else(term_not_found)?;
    let counts = term_counts(c.store, |p| p.category_ids.clone());
    Ok(Out::Json(render::category(
        &c.ctx,
        t,
        counts.get(&id).copied().unwrap_or(0),
    )))
}

pub(crate) fn get_tag(c: &Call<'_>) -> Result<Out, ApiError> {
    let id: i64 = c.path[0].parse().unwrap_or(0);
    let t = c.store.tags.get(&id).ok_or_else(term_not_found)?;
    let counts = term_counts(c.store, |p| p.tag_ids.clone());
    Ok(Out::Json(render::tag(
        &c.ctx,
        t,
        counts.get(&id).copied().unwrap_or(0),
    )))
}

pub(crate) fn list_attributes(c: &Call<'_>) -> Result<Out, ApiError> {
    let mut attrs: Vec<_> = c.store.attributes.iter().collect();
    attrs.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    Ok(Out::List(Listed::all(
        attrs
            .into_iter()
            .map(|a| render::attribute(&c.ctx, a))
            .collect(),
    )))
}

fn attribute_not_found() -> ApiError {
    ApiError::not_found(
        "woocommerce_rest_attribute_invalid",
        "Resource does not exist.",
    )
}

pub(crate) fn get_attribute(c: &Call<'_>) -> Result<Out, ApiError> {
    let id: i64 = c.path[0].parse().unwrap_or(0);
    let a = c
        .store
        .attributes
        .iter()
        .find(|a| a.id == id)
        .ok_or_else(attribute_not_found)?;
    Ok(Out::Json(render::attribute(&c.ctx, a)))
}

fn attribute_term_counts(store: &Store) -> HashMap<i64, usize> {
    term_counts(store, |p| {
        p.attributes
            .iter()
            .flat_map(|a| a.term_ids.iter().copied())
            .collect()
    })
}

pub(crate) fn list_attribute_terms(c: &Call<'_>) -> Result<Out, ApiError> {
    let attr_id: i64 = c.path[0].parse().unwrap_or(0);
    if !c.store.attributes.iter().any(|a| a.id == attr_id) {
        return Err(ApiError::not_found(
            "woocommerce_rest_taxonomy_invalid",
            "Taxonomy does not exist.",
        ));
    }
    let counts = attribute_term_counts(c.store);
    let rows = c
        .store
        .attribute_terms
        .values()
        .filter(|t| t.attribute_id == attr_id)
        .map(|t| (t, t.id, t.name.as_str(), t.slug.as_str(), 0))
        .collect();
    list_terms(c, rows, &counts, None, |t, n| {
        render::attribute_term(&c.ctx, t, n)
    })
}

pub(crate) fn get_attribute_term(c: &Call<'_>) -> Result<Out, ApiError> {
    let attr_id: i64 = c.path[0].parse().unwrap_or(0);
    let id: i64 = c.path[1].parse().unwrap_or(0);
    if !c.store.attributes.iter().any(|a| a.id == attr_id) {
        return Err(ApiError::not_found(
            "woocommerce_rest_taxonomy_invalid",
            "Taxonomy does not exist.",
        ));
    }
    let t = c
        .store
        .attribute_terms
        .get(&id)
        .filter(|t| t.attribute_id == attr_id)
        .ok_or_else(term_not_found)?;
    let counts = attribute_term_counts(c.store);
    Ok(Out::Json(render::attribute_term(
        &c.ctx,
        t,
        counts.get(&id).copied().unwrap_or(0),
    )))
}
