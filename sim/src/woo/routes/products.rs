//! Products and variations: the products endpoint (which also finds
//! variations by SKU), per-product and flat variation lists.

use rust_decimal::Decimal;

use super::filters::{DateFilter, contains_ci, crud_args, statuses};
use super::list::{
    CONTEXT, OFFSET, ORDER, PAGE, PER_PAGE, Paging, descending, directed, include_rank,
};
use super::params::{Arg, Check, Params, arg};
use super::{ApiError, Call, Out};
use crate::woo::clock::Ts;
use crate::woo::model::{PostStatus, Product, ProductType, Store, Variation};
use crate::woo::render;

const POST_STATUSES: &[&str] = &[
    "any", "future", "trash", "draft", "pending", "private", "publish",
];
const TYPES: &[&str] = &["simple", "grouped", "external", "variable"];

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

/// A row of the products endpoint: products, plus variations when `sku=`
/// asks for them.
enum Row<'a> {
    P(&'a Product),
    V(&'a Variation),
}

impl<'a> Row<'a> {
    fn id(&self) -> i64 {
        match self {
            Row::P(p) => p.id,
            Row::V(v) => v.id,
        }
    }

    fn created(&self) -> Ts {
        match self {
            Row::P(p) => p.created,
            Row::V(v) => v.created,
        }
    }

    fn modified(&self) -> Ts {
        match self {
            Row::P(p) => p.modified,
            Row::V(v) => v.modified,
        }
    }

    /// Title and slug; a variation's own post title is not modelled.
    fn title(&self) -> (&'a str, &'a str) {
        match self {
            Row::P(p) => (&p.name, &p.slug),
            Row::V(_) => ("", ""),
        }
    }

    fn menu_order(&self) -> i64 {
        match self {
            Row::P(p) => p.menu_order,
            Row::V(v) => v.menu_order,
        }
    }

    fn total_sales(&self) -> i64 {
        match self {
            Row::P(p) => p.total_sales,
            Row::V(v) => v.total_sales,
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
    // Read once per request, not once per candidate row.
    let slug = p.str("slug");
    let featured = p.bool("featured");
    let sale = p.bool("on_sale");
    let stock_status = p.str("stock_status");
    let is_virtual = p.bool("virtual");
    let downloadable = p.bool("downloadable");
    let priced = min_price.is_some() || max_price.is_some();

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
                // A variable product's price walks its children: only when asked.
                let price = if priced {
                    product_price(store, x, now)
                } else {
                    None
                };
                types
                    .as_ref()
                    .is_none_or(|t| t.iter().any(|t| t == x.kind.as_str()))
                    && !exclude_types.iter().any(|t| t == x.kind.as_str())
                    && slug.is_none_or(|s| s == x.slug)
                    && featured.is_none_or(|f| f == x.featured)
                    && sale.is_none_or(|f| f == on_sale(store, x, now))
                    && stock_status.is_none_or(|s| s == x.stock.status.as_str())
                    && is_virtual.is_none_or(|f| f == x.is_virtual)
                    && downloadable.is_none_or(|f| f == x.downloadable)
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
                    && sale.is_none_or(|f| f == v.pricing.on_sale(now))
                    && stock_status.is_none_or(|s| s == v.stock.status.as_str())
                    && tax_class.is_none_or(|t| t == v.tax_class)
                    && search.is_none()
            }
        }
    });

    let desc = descending(p, true);
    let orderby = p.str("orderby").unwrap_or("date");
    if orderby == "price" {
        // The active price of a variable product is its cheapest child:
        // compute it once per row, not per comparison.
        rows.sort_by_cached_key(|r| {
            let price = match r {
                Row::P(x) => product_price(store, x, now),
                Row::V(v) => v.pricing.active(now),
            };
            (price, r.id())
        });
        if desc {
            rows.reverse();
        }
    } else {
        rows.sort_by(|a, b| {
            let by_id = a.id().cmp(&b.id());
            match orderby {
                "id" => directed(by_id, desc),
                "include" | "post__in" => {
                    include_rank(&include, a.id()).cmp(&include_rank(&include, b.id()))
                }
                "title" => directed(a.title().0.cmp(b.title().0).then(by_id), desc),
                "slug" => directed(a.title().1.cmp(b.title().1).then(by_id), desc),
                "modified" => directed(a.modified().cmp(&b.modified()).then(by_id), desc),
                // WooCommerce sorts these best first whatever `order` says.
                "popularity" | "sales" | "rating" => {
                    b.total_sales().cmp(&a.total_sales()).then(by_id.reverse())
                }
                "menu_order" => a
                    .menu_order()
                    .cmp(&b.menu_order())
                    .then(a.title().0.cmp(b.title().0)),
                _ => directed(a.created().cmp(&b.created()).then(by_id), desc),
            }
        });
    }
    let edit = p.str("context") == Some("edit");
    let listed = Paging::from(p).cut(rows, |row| match row {
        Row::P(x) if edit => render::product_edit(&c.ctx, store, x),
        Row::P(x) => render::product(&c.ctx, store, x),
        Row::V(v) => render::variation_as_product(&c.ctx, store, v),
    });
    Ok(Out::List(listed))
}

pub(crate) fn get_product(c: &Call<'_>) -> Result<Out, ApiError> {
    let id: i64 = c.path[0].parse().unwrap_or(0);
    // Variations are posts too, but `/products/{id}` answers only products.
    match c.store.products.get(&id) {
        Some(p) if c.params.str("context") == Some("edit") => {
            Ok(Out::Json(render::product_edit(&c.ctx, c.store, p)))
        }
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
    let search_sku = p.str("search_sku");
    let sale = p.bool("on_sale");
    let stock_status = p.str("stock_status");
    let priced = min_price.is_some() || max_price.is_some();
    let mut rows: Vec<&Variation> = store
        .variations
        .values()
        .filter(|v| parent.is_none_or(|pid| v.parent_id == pid))
        .filter(|v| {
            let price = if priced { v.pricing.active(now) } else { None };
            statuses.contains(&v.status)
                && (include.is_empty() || include.contains(&v.id))
                && !exclude.contains(&v.id)
                && (parents.is_empty() || parents.contains(&v.parent_id))
                && dates.matches(v.created, v.modified)
                && skus.as_ref().is_none_or(|s| s.contains(&v.sku))
                && search_sku.is_none_or(|s| contains_ci(&v.sku, s))
                && sale.is_none_or(|f| f == v.pricing.on_sale(now))
                && stock_status.is_none_or(|s| s == v.stock.status.as_str())
                && tax_class.is_none_or(|t| t == v.tax_class)
                && min_price.is_none_or(|m| price.is_some_and(|pr| pr >= m))
                && max_price.is_none_or(|m| price.is_some_and(|pr| pr <= m))
        })
        .collect();
    let desc = descending(p, true);
    let orderby = p.str("orderby").unwrap_or("date");
    rows.sort_by(|a, b| {
        let by_id = a.id.cmp(&b.id);
        match orderby {
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
