//! Customer lookups: search by name, email, phone or company (prefixes),
//! and one customer with addresses and recent orders.

use rusqlite::{Connection, OptionalExtension, Row, named_params};

use super::super::StoreError;
use super::index::match_expression;
use super::orders::recent_for_customer;
use super::{RANKED_MATCHES, time};
use crate::domain::UpstreamId;
use crate::domain::customers::Address;
use crate::domain::lookup::query::{CustomerQuery, CustomerSort};
use crate::domain::lookup::views::{CustomerDetail, CustomerSummary, Page};

/// How many orders a customer's view lists.
const RECENT_ORDERS: i64 = 10;

const COLUMNS: &str = "
SELECT c.id, c.first_name, c.last_name, c.email, COALESCE(b.phone, ''),
       COALESCE(b.company, ''), COALESCE(b.city, ''), COALESCE(b.postcode, '')";
const FROM_ALL: &str = "
FROM customers c
LEFT JOIN customer_addresses b ON b.customer_id = c.id AND b.kind = 'billing'
WHERE 1";
const FROM_TEXT: &str = "
FROM customer_fts f JOIN customers c ON c.id = f.rowid
LEFT JOIN customer_addresses b ON b.customer_id = c.id AND b.kind = 'billing'
WHERE customer_fts MATCH :match";
const COUNT_ALL: &str = "SELECT COUNT(*) FROM customers";
const COUNT_TEXT: &str = "SELECT COUNT(*) FROM customer_fts WHERE customer_fts MATCH :match";
const PAGE: &str = "\nLIMIT :limit OFFSET :offset";
/// A broad search (see [`RANKED_MATCHES`]) in index order.
const TEXT_IDS_UNRANKED: &str = "
SELECT rowid FROM customer_fts WHERE customer_fts MATCH :match ORDER BY rowid
LIMIT :limit OFFSET :offset";
/// Search by relevance straight from the index (weights in migration 0002).
const TEXT_IDS: &str = "
SELECT rowid FROM customer_fts WHERE customer_fts MATCH :match ORDER BY rank
LIMIT :limit OFFSET :offset";

const ONE: &str = "
SELECT c.username, c.is_paying_customer, c.date_created_gmt FROM customers c WHERE c.id = :id";
const ADDRESS: &str = "
SELECT first_name, last_name, company, address_1, address_2, city, state, postcode, country,
       email, phone
FROM customer_addresses WHERE customer_id = :id AND kind = :kind";
const ORDER_COUNT: &str =
    "SELECT COUNT(*) FROM orders WHERE customer_id = :id AND customer_id <> 0";

fn order_by(sort: CustomerSort, text: bool) -> &'static str {
    match sort {
        CustomerSort::Relevance if text => "\nORDER BY f.rank, c.last_name, c.first_name, c.id",
        CustomerSort::Relevance | CustomerSort::Name => {
            "\nORDER BY c.last_name COLLATE NOCASE, c.first_name COLLATE NOCASE, c.id"
        }
        CustomerSort::NameDesc => {
            "\nORDER BY c.last_name COLLATE NOCASE DESC, c.first_name COLLATE NOCASE DESC, c.id DESC"
        }
        CustomerSort::Id => "\nORDER BY c.id",
        CustomerSort::IdDesc => "\nORDER BY c.id DESC",
    }
}

/// Finds customers. Only ids are ranked and paged; the page's rows are
/// read afterwards.
pub fn search(conn: &Connection, q: &CustomerQuery) -> Result<Page<CustomerSummary>, StoreError> {
    let page = q.page;
    let limits = named_params! { ":limit": page.limit(), ":offset": page.offset() };
    let (ids, total): (Vec<UpstreamId>, i64) = match &q.text {
        None => {
            let sql = ["SELECT c.id", FROM_ALL, order_by(q.sort, false), PAGE].concat();
            let ids = conn
                .prepare_cached(&sql)?
                .query_map(limits, |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            (
                ids,
                conn.prepare_cached(COUNT_ALL)?
                    .query_row([], |r| r.get(0))?,
            )
        }
        Some(text) => {
            let m = match_expression(text);
            let total: i64 = conn
                .prepare_cached(COUNT_TEXT)?
                .query_row(named_params! { ":match": m }, |r| r.get(0))?;
            let sql = match q.sort {
                CustomerSort::Relevance if total <= RANKED_MATCHES => TEXT_IDS.to_owned(),
                CustomerSort::Relevance => TEXT_IDS_UNRANKED.to_owned(),
                other => ["SELECT c.id", FROM_TEXT, order_by(other, true), PAGE].concat(),
            };
            let ids = conn
                .prepare_cached(&sql)?
                .query_map(
                    named_params! { ":match": m, ":limit": page.limit(), ":offset": page.offset() },
                    |r| r.get(0),
                )?
                .collect::<Result<_, _>>()?;
            (ids, total)
        }
    };
    let one = [COLUMNS, FROM_ALL, " AND c.id = :id"].concat();
    let mut stmt = conn.prepare_cached(&one)?;
    let mut items = Vec::with_capacity(ids.len());
    for id in ids {
        items.extend(
            stmt.query_row(named_params! { ":id": id }, summary)
                .optional()?,
        );
    }
    Ok(Page {
        items,
        page: page.page,
        per_page: page.per_page,
        total,
    })
}

/// One customer with both addresses and the newest orders.
pub fn customer(conn: &Connection, id: UpstreamId) -> Result<Option<CustomerDetail>, StoreError> {
    let sql = [COLUMNS, FROM_ALL, " AND c.id = :id"].concat();
    let Some(summary) = conn
        .prepare_cached(&sql)?
        .query_row(named_params! { ":id": id }, summary)
        .optional()?
    else {
        return Ok(None);
    };
    let (username, is_paying_customer, created): (String, bool, Option<String>) = conn
        .prepare_cached(ONE)?
        .query_row(named_params! { ":id": id }, |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    let order_count = conn
        .prepare_cached(ORDER_COUNT)?
        .query_row(named_params! { ":id": id }, |r| r.get(0))?;
    Ok(Some(CustomerDetail {
        summary,
        username,
        is_paying_customer,
        date_created_gmt: time(created),
        billing: address(conn, ADDRESS, id, "billing")?,
        shipping: address(conn, ADDRESS, id, "shipping")?,
        order_count,
        recent_orders: recent_for_customer(conn, id, RECENT_ORDERS)?,
    }))
}

/// An address from a row of `first_name, last_name, company, address_1,
/// address_2, city, state, postcode, country, email, phone`.
pub(in crate::store) fn address_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Address> {
    Ok(Address {
        first_name: r.get(0)?,
        last_name: r.get(1)?,
        company: r.get(2)?,
        address_1: r.get(3)?,
        address_2: r.get(4)?,
        city: r.get(5)?,
        state: r.get(6)?,
        postcode: r.get(7)?,
        country: r.get(8)?,
        email: r.get(9)?,
        phone: r.get(10)?,
    })
}

/// A billing or shipping address with `sql` (customer or order table); an
/// absent row reads as an empty address.
pub(super) fn address(
    conn: &Connection,
    sql: &str,
    owner: UpstreamId,
    kind: &str,
) -> Result<Address, StoreError> {
    let a = conn
        .prepare_cached(sql)?
        .query_row(named_params! { ":id": owner, ":kind": kind }, address_row)
        .optional()?;
    Ok(a.unwrap_or_default())
}

fn summary(r: &Row<'_>) -> rusqlite::Result<CustomerSummary> {
    Ok(CustomerSummary {
        id: r.get(0)?,
        first_name: r.get(1)?,
        last_name: r.get(2)?,
        email: r.get(3)?,
        phone: r.get(4)?,
        company: r.get(5)?,
        city: r.get(6)?,
        postcode: r.get(7)?,
    })
}
