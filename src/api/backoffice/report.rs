//! The till's sales report: the page `/reports` (printable) and its JSON,
//! `GET /api/reports/sales?from=YYYY-MM-DD&to=YYYY-MM-DD`.
//!
//! Days are **UTC** days: `from` starts at `00:00:00Z` of its day and the
//! span ends at `00:00:00Z` of the day after `to` (exclusive), so a day is
//! the same 24 hours whichever machine or time zone the till is in, and the
//! answer names both instants. `to` defaults to `from`, `from` to today
//! (UTC); a span covers at most [`MAX_DAYS`] days. What is summed and how
//! is in [`crate::store::report`].

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::{Layout, Manager, render};
use crate::api::{ApiError, AppState};
use crate::store::report::{self, ByPayment, ByTaxRate, Part, SalesReport, Totals};

/// The page's path.
const PAGE: &str = "/reports";
/// The longest span a report covers, in days.
pub const MAX_DAYS: i64 = 366;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(PAGE, get(page))
        .route("/api/reports/sales", get(sales_json))
}

/// The query string, as typed.
#[derive(Debug, Default, Deserialize)]
pub struct SpanQuery {
    from: Option<String>,
    to: Option<String>,
}

/// A span of whole UTC days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Span {
    /// `[from 00:00Z, day after to 00:00Z)` in unix milliseconds.
    fn millis(self) -> (i64, i64) {
        (start_ms(self.from), start_ms(self.to + TimeDelta::days(1)))
    }
}

fn start_ms(day: NaiveDate) -> i64 {
    day.and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc()
        .timestamp_millis()
}

fn rfc3339(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn bad(field: &str, reason: impl Into<String>) -> ApiError {
    ApiError::InvalidParameter {
        field: field.to_owned(),
        reason: reason.into(),
    }
}

fn date(field: &str, raw: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .ok()
        .filter(|_| raw.trim().len() == 10)
        .ok_or_else(|| bad(field, format!("{raw:?} is not a date as YYYY-MM-DD")))
}

/// The span `q` asks for; `today` fills what it leaves out.
pub fn span(q: &SpanQuery, today: NaiveDate) -> Result<Span, ApiError> {
    let from = match q.from.as_deref().filter(|s| !s.is_empty()) {
        Some(raw) => date("from", raw)?,
        None => today,
    };
    let to = match q.to.as_deref().filter(|s| !s.is_empty()) {
        Some(raw) => date("to", raw)?,
        None => from,
    };
    if to < from {
        return Err(bad("to", format!("{to} is before from ({from})")));
    }
    let days = (to - from).num_days() + 1;
    if days > MAX_DAYS {
        return Err(bad(
            "to",
            format!("the span is {days} days; a report covers at most {MAX_DAYS}"),
        ));
    }
    Ok(Span { from, to })
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// The JSON answer.
#[derive(Debug, Serialize)]
struct SalesJson {
    /// The first day (UTC), `YYYY-MM-DD`.
    from: String,
    /// The last day (UTC), included.
    to: String,
    /// The first instant counted.
    starts_at: String,
    /// The first instant not counted (midnight UTC after `to`).
    ends_before: String,
    time_zone: &'static str,
    #[serde(flatten)]
    report: SalesReport,
}

async fn read(state: &AppState, span: Span) -> Result<SalesReport, ApiError> {
    let (from, until) = span.millis();
    Ok(state
        .store
        .read(move |c| report::sales_report(c, from, until))
        .await?)
}

type QueryResult = Result<Query<SpanQuery>, axum::extract::rejection::QueryRejection>;

async fn sales_json(
    State(state): State<AppState>,
    query: QueryResult,
) -> Result<Json<SalesJson>, ApiError> {
    let Query(q) = query.map_err(|e| bad("query", e.body_text()))?;
    let span = span(&q, today())?;
    let report = read(&state, span).await?;
    let (from, until) = span.millis();
    Ok(Json(SalesJson {
        from: span.from.to_string(),
        to: span.to.to_string(),
        starts_at: rfc3339(from),
        ends_before: rfc3339(until),
        time_zone: "UTC",
        report,
    }))
}

/// One column of the totals table.
struct Column {
    id: &'static str,
    label: &'static str,
    totals: Totals,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    layout: Layout,
    from: String,
    to: String,
    starts_at: String,
    ends_before: String,
    currency: String,
    /// The refusal of a bad span, shown instead of the report.
    error: Option<String>,
    columns: Vec<Column>,
    confirmed: Part,
    unconfirmed: Part,
}

impl ReportPage {
    fn payments(&self) -> Vec<(&'static str, &ByPayment)> {
        let c = self
            .confirmed
            .by_payment_method
            .iter()
            .map(|p| ("Confirmed", p));
        let u = self
            .unconfirmed
            .by_payment_method
            .iter()
            .map(|p| ("On this till only", p));
        c.chain(u).collect()
    }

    fn rates(&self) -> Vec<(&'static str, &ByTaxRate)> {
        let c = self.confirmed.by_tax_rate.iter().map(|p| ("Confirmed", p));
        let u = self
            .unconfirmed
            .by_tax_rate
            .iter()
            .map(|p| ("On this till only (estimated)", p));
        c.chain(u).collect()
    }
}

async fn page(
    manager: Manager,
    State(state): State<AppState>,
    query: QueryResult,
) -> Result<Response, ApiError> {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let layout = manager.layout("Reports", "reports");
    let mut page = ReportPage {
        layout,
        from: q.from.clone().unwrap_or_default(),
        to: q.to.clone().unwrap_or_default(),
        starts_at: String::new(),
        ends_before: String::new(),
        currency: String::new(),
        error: None,
        columns: Vec::new(),
        confirmed: Part::default(),
        unconfirmed: Part::default(),
    };
    let span = match span(&q, today()) {
        Ok(s) => s,
        Err(e) => {
            page.error = Some(e.to_string());
            return render(&manager, StatusCode::BAD_REQUEST, &page);
        }
    };
    let report = read(&state, span).await?;
    let (from, until) = span.millis();
    page.from = span.from.to_string();
    page.to = span.to.to_string();
    page.starts_at = rfc3339(from);
    page.ends_before = rfc3339(until);
    page.currency = report.currency;
    page.columns = vec![
        Column {
            id: "confirmed",
            label: "Confirmed by the shop",
            totals: report.confirmed.totals.clone(),
        },
        Column {
            id: "unconfirmed",
            label: "On this till only",
            totals: report.unconfirmed.totals.clone(),
        },
        Column {
            id: "all",
            label: "All",
            totals: report.all,
        },
    ];
    page.confirmed = report.confirmed;
    page.unconfirmed = report.unconfirmed;
    render(&manager, StatusCode::OK, &page)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(from: Option<&str>, to: Option<&str>) -> SpanQuery {
        SpanQuery {
            from: from.map(str::to_owned),
            to: to.map(str::to_owned),
        }
    }

    fn field(e: ApiError) -> String {
        match e {
            ApiError::InvalidParameter { field, .. } => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_span_is_whole_utc_days_and_bad_ones_name_their_parameter() {
        let today = NaiveDate::from_ymd_opt(2024, 3, 31).unwrap();
        let s = span(&q(None, None), today).unwrap();
        assert_eq!((s.from, s.to), (today, today));
        let (a, b) = s.millis();
        assert_eq!(rfc3339(a), "2024-03-31T00:00:00Z");
        assert_eq!(rfc3339(b), "2024-04-01T00:00:00Z");
        let s = span(&q(Some("2024-01-01"), Some("2024-12-31")), today).unwrap();
        assert_eq!((s.to - s.from).num_days(), 365);
        assert_eq!(
            field(span(&q(Some("2024-1-1"), None), today).unwrap_err()),
            "from"
        );
        assert_eq!(
            field(span(&q(Some("yesterday"), None), today).unwrap_err()),
            "from"
        );
        assert_eq!(
            field(span(&q(None, Some("2024-02-30")), today).unwrap_err()),
            "to"
        );
        assert_eq!(
            field(span(&q(Some("2024-03-02"), Some("2024-03-01")), today).unwrap_err()),
            "to"
        );
        assert_eq!(
            field(span(&q(Some("2023-01-01"), Some("2024-01-02")), today).unwrap_err()),
            "to"
        );
    }
}
