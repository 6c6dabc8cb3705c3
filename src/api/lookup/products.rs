//! `GET /api/products`, `/api/products/{id}`, `/api/products/{id}/variations`.

use axum::Json;
use axum::extract::{Path, RawQuery, State};

use super::super::{ApiError, AppState};
use super::params::{Params, bad, path_id};
use crate::domain::GmtTime;
use crate::domain::lookup::query::{
    ProductLookup, ProductQuery, ProductSort, SearchText, parse_barcode, parse_bool, parse_id,
    parse_sku,
};
use crate::domain::lookup::views::{Page, ProductView};
use crate::store::lookup::{index, products};

const LIST_PARAMS: &[&str] = &[
    "q", "sku", "barcode", "category", "in_stock", "sort", "page", "per_page",
];
const PAGE_PARAMS: &[&str] = &["page", "per_page"];

pub(super) async fn list(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Page<ProductView>>, ApiError> {
    let query = parse_list(raw.as_deref())?;
    let now = GmtTime::now();
    let text = matches!(query.lookup, ProductLookup::Text(_));
    let page = state
        .store
        .read(move |c| {
            // During a first pull the name-search index is built at its end:
            // a text search says so rather than answer from part of it.
            if text && index::deferred(c)? {
                return Ok(None);
            }
            products::search(c, &query, now).map(Some)
        })
        .await?;
    page.map(Json).ok_or(ApiError::IndexBuilding)
}

fn parse_list(raw: Option<&str>) -> Result<ProductQuery, ApiError> {
    let mut p = Params::parse(raw, LIST_PARAMS)?;
    let text = p.take("q", SearchText::parse)?;
    let sku = p.take("sku", parse_sku)?;
    let barcode = p.take("barcode", parse_barcode)?;
    let lookup = match (text, sku, barcode) {
        (None, None, None) => ProductLookup::All,
        (Some(t), None, None) => ProductLookup::Text(t),
        (None, Some(s), None) => ProductLookup::Sku(s),
        (None, None, Some(b)) => ProductLookup::Barcode(b),
        (Some(_), Some(_), _) => return Err(bad("sku", "cannot be combined with q")),
        (_, _, Some(_)) => return Err(bad("barcode", "cannot be combined with q or sku")),
    };
    let texty = matches!(lookup, ProductLookup::Text(_));
    let sort = p.take("sort", ProductSort::parse)?;
    if sort == Some(ProductSort::Relevance) && !texty {
        return Err(bad("sort", "relevance needs a search text in q"));
    }
    let default_sort = if texty {
        ProductSort::Relevance
    } else {
        ProductSort::Name
    };
    Ok(ProductQuery {
        lookup,
        category: p.take("category", parse_id)?,
        in_stock: p.take("in_stock", parse_bool)?,
        sort: sort.unwrap_or(default_sort),
        page: p.page()?,
    })
}

pub(super) async fn one(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<ProductView>, ApiError> {
    let id = path_id(&id)?;
    Params::parse(raw.as_deref(), &[])?;
    let now = GmtTime::now();
    state
        .store
        .read(move |c| products::product(c, id, now))
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("product {id} is not in the replica")))
}

pub(super) async fn variations(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Page<ProductView>>, ApiError> {
    let id = path_id(&id)?;
    let page = Params::parse(raw.as_deref(), PAGE_PARAMS)?.page()?;
    let now = GmtTime::now();
    state
        .store
        .read(move |c| products::variations(c, id, page, now))
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("product {id} is not in the replica")))
}
