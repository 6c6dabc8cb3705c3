//! Addresses checked against the shop's own lists of countries and states
//! (mirrored from the shop): a till that types `UK` for `GB` hears it at
//! once, instead of the shop taxing the sale as sold abroad. Before the
//! lists are mirrored nothing is refused on these grounds.

use rusqlite::{Connection, named_params};

use crate::domain::customers::Address;
use crate::domain::outbox::Refusal;
use crate::store::StoreError;

const COUNTRY: &str = "
SELECT EXISTS (SELECT 1 FROM countries WHERE code = :code), (SELECT COUNT(*) FROM countries)";
const STATE: &str = "
SELECT EXISTS (SELECT 1 FROM country_states WHERE country_code = :country
               AND (code = :state COLLATE NOCASE OR name = :state COLLATE NOCASE)),
       (SELECT COUNT(*) FROM country_states WHERE country_code = :country)";

/// Refuses an address whose country the shop does not list, or whose state
/// is neither a code nor a name the shop lists for that country (where it
/// lists states for it: the shop takes any text otherwise).
pub fn check(
    conn: &Connection,
    field: &str,
    a: &Address,
) -> Result<Result<(), Refusal>, StoreError> {
    if a.country.is_empty() {
        return Ok(Ok(()));
    }
    let (known, listed): (bool, i64) = conn
        .prepare_cached(COUNTRY)?
        .query_row(named_params! { ":code": a.country }, |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    if listed > 0 && !known {
        return Ok(Err(Refusal::invalid(
            format!("{field}.country"),
            format!(
                "{:?} is not a country code the shop knows (e.g. GB, DE, US)",
                a.country
            ),
        )));
    }
    if a.state.is_empty() {
        return Ok(Ok(()));
    }
    let (known, listed): (bool, i64) = conn.prepare_cached(STATE)?.query_row(
        named_params! { ":country": a.country, ":state": a.state },
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if listed > 0 && !known {
        return Ok(Err(Refusal::invalid(
            format!("{field}.state"),
            format!(
                "{:?} is not a state the shop lists for {} (give the state code the shop uses, or leave it out)",
                a.state, a.country
            ),
        )));
    }
    Ok(Ok(()))
}
