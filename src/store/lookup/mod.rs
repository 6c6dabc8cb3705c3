//! Till lookups over the replica: products by barcode, SKU or text,
//! customers, orders (the shop's and this till's own sales) and pickups;
//! and the search indexes behind them ([`index`]), kept in step with every
//! write.
//!
//! Reads only (apart from `index`): each function takes a `&Connection`
//! from the read pool, so lookups run beside sync writes (WAL) and never
//! wait for them.

pub mod customers;
pub mod index;
pub mod local_orders;
pub mod orders;
pub mod products;

use rusqlite::Row;

/// Most matches a search ranks by relevance. Scoring costs every match,
/// and a broader search (a two-letter prefix over a large catalog) is
/// listed in index order instead: its first page comes straight off the
/// index, and the till narrows it by typing more.
pub const RANKED_MATCHES: i64 = 1_000;
use rusqlite::types::Type;
use serde::de::DeserializeOwned;

use crate::domain::{Amount, GmtTime};

/// A decimal text column (written by this crate from a `Decimal`).
fn amount(text: Option<String>) -> Option<Amount> {
    text.and_then(|s| s.parse().ok())
}

/// A required decimal text column; a malformed one reads as zero.
fn amount_or_zero(text: String) -> Amount {
    text.parse().unwrap_or_default()
}

/// A `YYYY-MM-DDTHH:MM:SS` column.
fn time(text: Option<String>) -> Option<GmtTime> {
    text.as_deref().and_then(GmtTime::parse)
}

/// A JSON array column, read into typed items.
fn json_list<T: DeserializeOwned>(r: &Row<'_>, idx: usize) -> rusqlite::Result<Vec<T>> {
    let text: Option<String> = r.get(idx)?;
    match text {
        None => Ok(Vec::new()),
        Some(t) => serde_json::from_str(&t)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, Box::new(e))),
    }
}

/// A named parameter and its value.
type Param<'a> = (&'a str, &'a dyn rusqlite::ToSql);

/// The parameters of `all` that `stmt` names: a statement assembled from
/// fragments binds only the parameters its fragments use.
fn bind<'a>(stmt: &rusqlite::Statement<'_>, all: &[Param<'a>]) -> Vec<Param<'a>> {
    all.iter()
        .filter(|(name, _)| stmt.parameter_index(name).ok().flatten().is_some())
        .copied()
        .collect()
}
