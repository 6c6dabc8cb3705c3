//! Catalogue endpoints: products, variations, categories, tags, attributes
//! and attribute terms.

use std::collections::HashMap;

use rust_decimal::Decimal;

use super::list::{
    CONTEXT, Listed, OFFSET, ORDER, PAGE, PER_PAGE, Paging, descending, directed, include_rank,
};
use super::params::{Arg, Check, Params, arg};
use super::{ApiError, Call, Out};
use crate::sim::clock::{SITE_OFFSET_SECS, Ts, parse_query_date};
use crate::sim::model::{PostStatus, Product, ProductType, Store, Term, Variation};
use crate::sim::render;

const POST_STATUSES: &[&str] = &[
    "any", "future", "trash", "draft", "pending", "private", "publish",
];
const TYPES: &[&str] = &["simple", "grouped", "external", "variable"];

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

pub(crate) const PRODUCT_ARGS: &[Arg] = crud_args!(
    &[
        "date",
        "id",
        "include",
        "title",
        "slug",
        "modified",
        "popularity",
        "rating",
        "post__in",
        "price",
        "sales",
        "menu_order",
        "random",
        "popularity",
        "rating",
        "menu_order",
        "price",
        "popularity",
        "rating",
    ],
    arg("brand", Check::Str),
    arg("slug", Check::Str),
    arg("status", Check::Enum(POST_STATUSES)),
    arg("type", Check::Enum(TYPES)),
    arg("sku", Check::Str),
    arg("featured", Check::Bool),
    arg("category", Check::Str),
    arg("tag", Check::Str),
    arg("shipping_class", Check::Str),
    arg("attribute", Check::Str),
    arg("attribute_term", Check::Str),
    arg(
        "tax_class",
        Check::Enum(&["standard", "food", "reduced-rate", "zero-rate"])
    ),
    arg("on_sale", Check::Bool),
    arg("min_price", Check::Str),
    arg("max_price", Check::Str),
    arg(
        "stock_status",
        Check::Enum(&["instock", "outofstock", "onbackorder"])
    ),
    arg("search_sku", Check::Str),
    arg("search_name_or_sku", Check::Str),
    arg("include_status", Check::EnumList(POST_STATUSES)),
    arg(
        "exclude_status",
        Check::EnumList(&["future", "trash", "draft", "pending", "private", "publish"])
    ),
    arg("include_types", Check::EnumList(TYPES)),
    arg("exclude_types", Check::EnumList(TYPES)),
    arg("downloadable", Check::Bool),
    arg("virtual", Check::Bool),
);

pub(crate) const VARIATION_ARGS: &[Arg] = crud_args!(
    &[
        "date",
        "id",
        "include",
        "title",
        "slug",
        "modified",
        "menu_order"
    ],
    arg("slug", Check::Str),
    arg("status", Check::Enum(POST_STATUSES)),
    arg("sku", Check::Str),
    arg(
        "tax_class",
        Check::Enum(&["standard", "food", "reduced-rate", "zero-rate"])
    ),
    arg("on_sale", Check::Bool),
    arg("min_price", Check::Str),
    arg("max_price", Check::Str),
    arg(
        "stock_status",
        Check::Enum(&["instock", "outofstock", "onbackorder"])
    ),
    arg("search_sku", Check::Str),
);

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

/// `sku=`: exact, comma-separated; with several SKUs the whole string is
/// tried too (WooCommerce adds it to the `IN` list).
fn sku_set(p: &Params) -> Option<Vec<String>> {
    let raw = p.str("sku").filter(|s| !s.is_empty())?;
    let mut skus: Vec<String> = raw.split(',').map(str::to_owned).collect();
    if skus.len() > 1 {
        skus.push(raw.to_owned());
    }
    Some(skus)
}

fn price_bounds(p: &Params) -> (Option<Decimal>, Option<Decimal>) {
    let d = |name| p.str(name).and_then(|s| s.parse::<Decimal>().ok());
    (d("min_price"), d("max_price"))
}

fn contains_ci(hay: &str, needle: &str) -> bool {
    hay.to_lowercase().contains(&needle.to_lowercase())
}

/// A row of the products endpoint: products, plus variations when `sku=`
/// asks for them.
enum Row<'a> {
    P(&'a Product),
    V(&'a Variation),
}

impl Row<'_> {
    fn id(&self) -> i64 {
        match self {
            Row::P(p) => p.id,
            Row::V(v) => v.id,
        }
    }
}

fn product_price(store: &Store, p: &Product, now: Ts) -> Option<Decimal> {
    match p.kind {
        ProductType::Variable => p
            .variation_ids
            .iter()
            .filter_map(|id| store.variations.get(id))
            .filter(|v| v.status == PostStatus::Publish)
            .filter_map(|v| v.pricing.active(now))
            .min(),
        _ => p.pricing.active(now),
    }
}

fn on_sale(store: &Store, p: &Product, now: Ts) -> bool {
    match p.kind {
        ProductType::Variable => p
            .variation_ids
            .iter()
            .filter_map(|id| store.variations.get(id))
            .any(|v| v.status == PostStatus::Publish && v.pricing.on_sale(now)),
        _ => p.pricing.on_sale(now),
    }
}

pub(crate) fn list_products(c: &Call<'_>) -> Result<Out, ApiError> {
    let (p, store, now) = (c.params, c.store, c.ctx.now);
    let statuses = statuses(p);
    let dates = DateFilter::from(p);
    let include = p.ids("include");
    let exclude = p.ids("exclude");
    let parents = p.ids("parent");
    let parent_exclude = p.ids("parent_exclude");
    let skus = sku_set(p);
    let (min_price, max_price) = price_bounds(p);
    let category = p.str("category").and_then(|s| s.parse::<i64>().ok());
    let tag = p.str("tag").and_then(|s| s.parse::<i64>().ok());
    let tax_class = p
        .str("tax_class")
        .map(|c| if c == "standard" { "" } else { c });
    let search = p.str("search").filter(|s| !s.is_empty());
    let search_sku = p.str("search_sku").filter(|s| !s.is_empty());
    let types: Option<Vec<String>> = p
        .str("type")
        .map(|t| vec![t.to_owned()])
        .or_else(|| p.list("include_types"));
    let exclude_types = p.list("exclude_types").unwrap_or_default();

    let mut rows: Vec<Row<'_>> = store.products.values().map(Row::P).collect();
    if skus.is_some() {
        rows.extend(store.variations.values().map(Row::V));
    }
    rows.retain(|row| {
        let (id, status, created, modified, sku, parent) = match row {
            Row::P(x) => (x.id, x.status, x.created, x.modified, x.sku.as_str(), 0),
            Row::V(v) => (
                v.id,
                v.status,
                v.created,
                v.modified,
                v.sku.as_str(),
                v.parent_id,
            ),
        };
        if !statuses.contains(&status)
            || (!include.is_empty() && !include.contains(&id))
            || exclude.contains(&id)
            || (!parents.is_empty() && !parents.contains(&parent))
            || parent_exclude.contains(&parent)
            || !dates.matches(created, modified)
            || skus.as_ref().is_some_and(|s| !s.iter().any(|k| k == sku))
            || search_sku.is_some_and(|s| !contains_ci(sku, s))
        {
            return false;
        }
        match row {
            Row::P(x) => {
                let price = product_price(store, x, now);
                types
                    .as_ref()
                    .is_none_or(|t| t.iter().any(|t| t == x.kind.as_str()))
                    && !exclude_types.iter().any(|t| t == x.kind.as_str())
                    && p.str("slug").is_none_or(|s| s == x.slug)
                    && p.bool("featured").is_none_or(|f| f == x.featured)
                    && p.bool("on_sale")
                        .is_none_or(|f| f == on_sale(store, x, now))
                    && p.str("stock_status")
                        .is_none_or(|s| s == x.stock.status.as_str())
                    && p.bool("virtual").is_none_or(|f| f == x.is_virtual)
                    && p.bool("downloadable").is_none_or(|f| f == x.downloadable)
                    && tax_class.is_none_or(|t| t == x.tax_class)
                    && category.is_none_or(|cat| x.category_ids.contains(&cat))
                    && tag.is_none_or(|t| x.tag_ids.contains(&t))
                    && min_price.is_none_or(|m| price.is_some_and(|pr| pr >= m))
                    && max_price.is_none_or(|m| price.is_some_and(|pr| pr <= m))
                    && search.is_none_or(|s| {
                        s.split_whitespace().all(|w| {
                            contains_ci(&x.name, w)
                                || contains_ci(&x.description, w)
                                || contains_ci(&x.short_description, w)
                        })
                    })
            }
            Row::V(v) => {
                // Variations carry no product type, category or tag terms.
                types.is_none()
                    && category.is_none()
                    && tag.is_none()
                    && p.bool("on_sale")
                        .is_none_or(|f| f == v.pricing.on_sale(now))
                    && p.str("stock_status")
                        .is_none_or(|s| s == v.stock.status.as_str())
                    && tax_class.is_none_or(|t| t == v.tax_class)
                    && search.is_none()
            }
        }
    });

    let desc = descending(p, true);
    let orderby = p.str("orderby").unwrap_or("date");
    let key = |row: &Row<'_>| -> (Ts, Ts, String, i64) {
        match row {
            Row::P(x) => (x.created, x.modified, x.name.clone(), x.menu_order),
            Row::V(v) => (v.created, v.modified, String::new(), v.menu_order),
        }
    };
    rows.sort_by(|a, b| {
        let (ka, kb) = (key(a), key(b));
        let by_id = a.id().cmp(&b.id());
        match orderby {
            "id" => directed(by_id, desc),
            "include" | "post__in" => {
                include_rank(&include, a.id()).cmp(&include_rank(&include, b.id()))
            }
            "title" => directed(ka.2.cmp(&kb.2).then(by_id), desc),
            "slug" => {
                let slug = |r: &Row<'_>| match r {
                    Row::P(x) => x.slug.clone(),
                    Row::V(_) => String::new(),
                };
                directed(slug(a).cmp(&slug(b)).then(by_id), desc)
            }
            "modified" => directed(ka.1.cmp(&kb.1).then(by_id), desc),
            "price" => {
                let price = |r: &Row<'_>| match r {
                    Row::P(x) => product_price(store, x, now),
                    Row::V(v) => v.pricing.active(now),
                };
                directed(price(a).cmp(&price(b)).then(by_id), desc)
            }
            "popularity" | "sales" | "rating" => {
                let sales = |r: &Row<'_>| match r {
                    Row::P(x) => x.total_sales,
                    Row::V(v) => v.total_sales,
                };
                sales(b).cmp(&sales(a)).then(by_id.reverse())
            }
            "menu_order" => ka.3.cmp(&kb.3).then(ka.2.cmp(&kb.2)),
            _ => directed(ka.0.cmp(&kb.0).then(by_id), desc),
        }
    });
    let listed = Paging::from(p).cut(rows, |row| match row {
        Row::P(x) => render::product(&c.ctx, store, x),
        Row::V(v) => render::variation_as_product(&c.ctx, store, v),
    });
    Ok(Out::List(listed))
}

pub(crate) fn get_product(c: &Call<'_>) -> Result<Out, ApiError> {
    let id: i64 = c.path[0].parse().unwrap_or(0);
    // Variations are posts too, but `/products/{id}` answers only products.
    match c.store.products.get(&id) {
        Some(p) => Ok(Out::Json(render::product(&c.ctx, c.store, p))),
        None => Err(ApiError::not_found(
            "woocommerce_rest_product_invalid_id",
            "Invalid ID.",
        )),
    }
}

fn list_variations(c: &Call<'_>, parent: Option<i64>) -> Result<Out, ApiError> {
    let (p, store, now) = (c.params, c.store, c.ctx.now);
    let statuses = statuses(p);
    let dates = DateFilter::from(p);
    let include = p.ids("include");
    let exclude = p.ids("exclude");
    let parents = p.ids("parent");
    let skus = sku_set(p);
    let (min_price, max_price) = price_bounds(p);
    let tax_class = p
        .str("tax_class")
        .map(|c| if c == "standard" { "" } else { c });
    let mut rows: Vec<&Variation> = store
        .variations
        .values()
        .filter(|v| parent.is_none_or(|pid| v.parent_id == pid))
        .filter(|v| {
            let price = v.pricing.active(now);
            statuses.contains(&v.status)
                && (include.is_empty() || include.contains(&v.id))
                && !exclude.contains(&v.id)
                && (parents.is_empty() || parents.contains(&v.parent_id))
                && dates.matches(v.created, v.modified)
                && skus.as_ref().is_none_or(|s| s.contains(&v.sku))
                && p.str("search_sku").is_none_or(|s| contains_ci(&v.sku, s))
                && p.bool("on_sale")
                    .is_none_or(|f| f == v.pricing.on_sale(now))
                && p.str("stock_status")
                    .is_none_or(|s| s == v.stock.status.as_str())
                && tax_class.is_none_or(|t| t == v.tax_class)
                && min_price.is_none_or(|m| price.is_some_and(|pr| pr >= m))
                && max_price.is_none_or(|m| price.is_some_and(|pr| pr <= m))
        })
        .collect();
    let desc = descending(p, true);
    rows.sort_by(|a, b| {
        let by_id = a.id.cmp(&b.id);
        match p.str("orderby").unwrap_or("date") {
            "id" | "title" | "slug" => directed(by_id, desc),
            "include" => include_rank(&include, a.id).cmp(&include_rank(&include, b.id)),
            "modified" => directed(a.modified.cmp(&b.modified).then(by_id), desc),
            "menu_order" => directed(a.menu_order.cmp(&b.menu_order).then(by_id), desc),
            _ => directed(a.created.cmp(&b.created).then(by_id), desc),
        }
    });
    Ok(Out::List(
        Paging::from(p).cut(rows, |v| render::variation(&c.ctx, store, v)),
    ))
}

pub(crate) fn list_product_variations(c: &Call<'_>) -> Result<Out, ApiError> {
    let parent: i64 = c.path[0].parse().unwrap_or(0);
    list_variations(c, Some(parent))
}

pub(crate) fn list_all_variations(c: &Call<'_>) -> Result<Out, ApiError> {
    list_variations(c, None)
}

pub(crate) fn get_variation(c: &Call<'_>) -> Result<Out, ApiError> {
    let parent: i64 = c.path[0].parse().unwrap_or(0);
    let id: i64 = c.path[1].parse().unwrap_or(0);
    match c
        .store
        .variations
        .get(&id)
        .filter(|v| v.parent_id == parent)
    {
        Some(v) => Ok(Out::Json(render::variation(&c.ctx, c.store, v))),
        None => Err(ApiError::not_found(
            "woocommerce_rest_product_variation_invalid_id",
            "Invalid ID.",
        )),
    }
}

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
