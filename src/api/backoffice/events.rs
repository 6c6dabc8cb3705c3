//! The events log (`/events`): the bounded `events` table the sync writes
//! (pulls, refusals, warnings), filtered by level and kind and paged newest
//! first, and its export as CSV (`/events.csv`, same filters, every
//! matching event kept). Messages carry text from the shop: askama escapes
//! them on the page, the `csv` crate quotes them in the file.

use askama::Template;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::listing::{self, PAGE_ROWS, bad};
use super::{Layout, Manager, render};
use crate::api::{ApiError, AppState};
use crate::store::events::{self, Event, EventFilter, Level, MAX_EVENTS};
use crate::store::paging::Cursor;

const PAGE: &str = "/events";

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(PAGE, get(page))
        .route("/events.csv", get(export))
}

/// An option of a filter select.
struct Choice {
    value: String,
    text: String,
    selected: bool,
}

struct Row {
    when: String,
    level: String,
    kind: String,
    resource: String,
    message: String,
}

#[derive(Template)]
#[template(path = "events.html")]
struct EventsPage {
    layout: Layout,
    levels: Vec<Choice>,
    kinds: Vec<Choice>,
    rows: Vec<Row>,
    csv: String,
    older: Option<String>,
    newer: Option<String>,
}

/// The filter named by `level` and `kind` (a kind is a word the sync
/// writes: letters, digits, `_`, `.` and `-`).
fn filter(params: &[(&'static str, String)]) -> Result<EventFilter, ApiError> {
    let level = listing::get(params, "level")
        .map(|l| l.parse::<Level>().map_err(|e| bad("level", e)))
        .transpose()?;
    let kind = listing::get(params, "kind")
        .map(|k| {
            if k.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
            {
                Ok(k.to_owned())
            } else {
                Err(bad(
                    "kind",
                    format!("unknown kind {k:?}: letters, digits, _ . - only"),
                ))
            }
        })
        .transpose()?;
    Ok(EventFilter { level, kind })
}

fn pairs(f: &EventFilter) -> Vec<(&'static str, Option<String>)> {
    vec![
        ("level", f.level.map(|l| l.as_str().to_owned())),
        ("kind", f.kind.clone()),
    ]
}

/// `GET /events?level=&kind=&before=|after=`.
async fn page(
    manager: Manager,
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let params = listing::params(query.as_deref(), &["level", "kind", "before", "after"])?;
    let f = filter(&params)?;
    let cursor = listing::cursor(&params)?;
    let read = f.clone();
    let (found, known) = state
        .store
        .read(move |c| {
            Ok((
                events::page(c, &read, cursor, PAGE_ROWS)?,
                events::kinds(c)?,
            ))
        })
        .await?;
    let at = |key: &'static str, id: i64| {
        let mut p = pairs(&f);
        p.push((key, Some(id.to_string())));
        listing::link(PAGE, &p)
    };
    let mut levels = vec![Choice {
        value: String::new(),
        text: "Any level".to_owned(),
        selected: f.level.is_none(),
    }];
    levels.extend(Level::ALL.map(|l| Choice {
        value: l.as_str().to_owned(),
        text: l.as_str().to_owned(),
        selected: f.level == Some(l),
    }));
    let mut kinds = vec![Choice {
        value: String::new(),
        text: "Any kind".to_owned(),
        selected: f.kind.is_none(),
    }];
    kinds.extend(known.into_iter().map(|k| Choice {
        selected: f.kind.as_deref() == Some(k.as_str()),
        text: k.clone(),
        value: k,
    }));
    let page = EventsPage {
        layout: manager.layout("events", "events"),
        levels,
        kinds,
        csv: listing::link("/events.csv", &pairs(&f)),
        older: found.older.map(|n| at("before", n)),
        newer: found.newer.map(|n| at("after", n)),
        rows: found
            .rows
            .into_iter()
            .map(|e| Row {
                when: listing::when(e.at),
                level: e.level,
                kind: e.kind,
                resource: e.resource.unwrap_or_default(),
                message: e.message,
            })
            .collect(),
    };
    render(&manager, StatusCode::OK, &page)
}

/// The CSV of `events`: a header row, then one row each, newest first.
fn to_csv(events: &[Event]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["id", "time_utc", "level", "kind", "resource", "message"])?;
    for e in events {
        w.write_record([
            e.id.to_string().as_str(),
            &listing::when(e.at),
            &e.level,
            &e.kind,
            e.resource.as_deref().unwrap_or_default(),
            &e.message,
        ])?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

/// `GET /events.csv?level=&kind=`: every kept event matching, as a file.
async fn export(
    _manager: Manager,
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let params = listing::params(query.as_deref(), &["level", "kind"])?;
    let f = filter(&params)?;
    let found = state
        .store
        .read(move |c| events::page(c, &f, Cursor::Newest, MAX_EVENTS))
        .await?;
    let body = to_csv(&found.rows).map_err(|e| {
        tracing::error!(error = %e, "the events export could not be written");
        ApiError::Busy("the export could not be written".to_owned())
    })?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"possync-events.csv\"",
            ),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_with_commas_quotes_and_newlines_stay_one_field() {
        let e = Event {
            id: 7,
            at: 0,
            level: "warn".to_owned(),
            kind: "replay".to_owned(),
            resource: None,
            message: "shop said \"no\", twice\nthen yes".to_owned(),
        };
        let text = String::from_utf8(to_csv(&[e]).unwrap()).unwrap();
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let row = r.records().next().unwrap().unwrap();
        assert_eq!(&row[5], "shop said \"no\", twice\nthen yes");
        assert_eq!(&r.headers().unwrap()[0], "id");
    }
}
