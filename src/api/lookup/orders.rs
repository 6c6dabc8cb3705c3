//! `GET /api/orders`, `/api/orders/{id}` (returns desk) and `/api/pickups`.
//! Orders are the shop's (mirrored) and this till's own sales (see
//! `store::lookup::local_orders`).

use axum::Json;
use axum::extract::{Path, RawQuery, State};

use super::super::{ApiError, AppState};
use super::params::{Params, bad};
use crate::config::ORDER_STATUSES;
use crate::domain::lookup::query::{OrderKey, OrderQuery, OrderSort, SearchText};
use crate::domain::lookup::views::{OrderDetail, OrderSummary, Page};
use crate::store::lookup::orders;

const LIST_PARAMS: &[&str] = &["q", "status", "sort", "page", "per_page"];
const PICKUP_PARAMS: &[&str] = &["q", "sort", "page", "per_page"];

/// A comma-separated list of order statuses.
fn parse_statuses(s: &str) -> Result<Vec<String>, String> {
    let list: Vec<String> = s
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let known = &ORDER_STATUSES[1..];
    match list.iter().find(|s| !known.contains(&s.as_str())) {
        _ if list.is_empty() => Err("must name at least one status".to_owned()),
        Some(_) => Err(format!("must be statuses among {}", known.join(", "))),
        None => Ok(list),
    }
}

pub(super) async fn list(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Page<OrderSummary>>, ApiError> {
    let mut p = Params::parse(raw.as_deref(), LIST_PARAMS)?;
    let text = p.take("q", SearchText::parse)?;
    let statuses = p.take("status", parse_statuses)?;
    let sort = p.take("sort", OrderSort::parse)?;
    if sort == Some(OrderSort::Relevance) && text.is_none() {
        return Err(bad("sort", "relevance needs a search text in q"));
    }
    let default_sort = if text.is_some() {
        OrderSort::Relevance
    } else {
        OrderSort::Newest
    };
    let query = OrderQuery {
        text,
        statuses,
        shipping_methods: None,
        sort: sort.unwrap_or(default_sort),
        page: p.page()?,
    };
    let page = state.store.read(move |c| orders::search(c, &query)).await?;
    Ok(Json(page))
}

/// Orders awaiting collection at this shop: the configured statuses and
/// pickup shipping methods, oldest first unless asked otherwise.
pub(super) async fn pickups(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Page<OrderSummary>>, ApiError> {
    let mut p = Params::parse(raw.as_deref(), PICKUP_PARAMS)?;
    let text = p.take("q", SearchText::parse)?;
    let sort = p.take("sort", OrderSort::parse)?;
    if sort == Some(OrderSort::Relevance) {
        return Err(bad("sort", "must be newest or oldest"));
    }
    let query = OrderQuery {
        text,
        statuses: Some(state.lookup.pickup_statuses.clone()),
        shipping_methods: Some(state.lookup.pickup_shipping_methods.clone()),
        sort: sort.unwrap_or(OrderSort::Oldest),
        page: p.page()?,
    };
    let page = state.store.read(move |c| orders::search(c, &query)).await?;
    Ok(Json(page))
}

pub(super) async fn one(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<OrderDetail>, ApiError> {
    let key = OrderKey::parse(&id).map_err(|reason| bad("id", reason))?;
    Params::parse(raw.as_deref(), &[])?;
    let missing = match &key {
        OrderKey::Upstream(id) => format!("order {id} is not in the replica"),
        OrderKey::Local(id) => format!("no sale {id} at this till"),
        OrderKey::Receipt(n) => format!("no sale with receipt number {n:?} at this till"),
    };
    state
        .store
        .read(move |c| orders::find(c, &key))
        .await?
        .map(Json)
        .ok_or(ApiError::NotFound(missing))
}
