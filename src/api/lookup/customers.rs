//! `GET /api/customers` and `/api/customers/{id}`.

use axum::Json;
use axum::extract::{Path, RawQuery, State};

use super::super::{ApiError, AppState};
use super::params::{Params, bad, path_id};
use crate::domain::lookup::query::{CustomerQuery, CustomerSort, SearchText};
use crate::domain::lookup::views::{CustomerDetail, CustomerSummary, Page};
use crate::store::lookup::customers;

const LIST_PARAMS: &[&str] = &["q", "sort", "page", "per_page"];

pub(super) async fn list(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Page<CustomerSummary>>, ApiError> {
    let mut p = Params::parse(raw.as_deref(), LIST_PARAMS)?;
    let text = p.take("q", SearchText::parse)?;
    let sort = p.take("sort", CustomerSort::parse)?;
    if sort == Some(CustomerSort::Relevance) && text.is_none() {
        return Err(bad("sort", "relevance needs a search text in q"));
    }
    let default_sort = if text.is_some() {
        CustomerSort::Relevance
    } else {
        CustomerSort::Name
    };
    let query = CustomerQuery {
        text,
        sort: sort.unwrap_or(default_sort),
        page: p.page()?,
    };
    let page = state
        .store
        .read(move |c| customers::search(c, &query))
        .await?;
    Ok(Json(page))
}

pub(super) async fn one(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<CustomerDetail>, ApiError> {
    let id = path_id(&id)?;
    Params::parse(raw.as_deref(), &[])?;
    state
        .store
        .read(move |c| customers::customer(c, id))
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("customer {id} is not in the replica")))
}
