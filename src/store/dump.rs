//! A canonical dump of the replica: every mirrored object's upstream JSON,
//! ordered by id. Two replicas of the same store dump identically whatever
//! path (resumed pull, uninterrupted pull, deltas) filled them.

use rusqlite::Connection;

use super::StoreError;
use crate::domain::Resource;

fn sql(resource: Resource) -> &'static str {
    match resource {
        Resource::Settings => {
            "SELECT group_id || '/' || id, raw FROM settings ORDER BY group_id, id"
        }
        Resource::Countries => "SELECT code, raw FROM countries ORDER BY code",
        Resource::TaxClasses => "SELECT slug, raw FROM tax_classes ORDER BY slug",
        Resource::TaxRates => "SELECT id, raw FROM tax_rates ORDER BY id",
        Resource::ShippingZones => "SELECT id, raw FROM shipping_zones ORDER BY id",
        Resource::PaymentGateways => "SELECT id, raw FROM payment_gateways ORDER BY id",
        Resource::Categories => "SELECT id, raw FROM categories ORDER BY id",
        Resource::Tags => "SELECT id, raw FROM tags ORDER BY id",
        Resource::Attributes => "SELECT id, raw FROM attributes ORDER BY id",
        Resource::Products => "SELECT id, raw FROM products WHERE type <> 'variation' ORDER BY id",
        Resource::Variations => "SELECT id, raw FROM products WHERE type = 'variation' ORDER BY id",
        Resource::Customers => "SELECT id, raw FROM customers ORDER BY id",
        Resource::Orders => "SELECT id, raw FROM orders ORDER BY id",
        Resource::Refunds => "SELECT id, raw FROM refunds ORDER BY id",
    }
}

/// `(key, raw JSON)` of every object of `resource`, in key order.
pub fn raw_rows(
    conn: &Connection,
    resource: Resource,
) -> Result<Vec<(String, String)>, StoreError> {
    let mut stmt = conn.prepare_cached(sql(resource))?;
    let rows = stmt
        .query_map([], |r| {
            let key: rusqlite::types::Value = r.get(0)?;
            let key = match key {
                rusqlite::types::Value::Integer(i) => i.to_string(),
                rusqlite::types::Value::Text(s) => s,
                other => format!("{other:?}"),
            };
            Ok((key, r.get(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Row counts and one SHA-256 over every row of every table (in table and
/// rowid order), except the access tables (tokens, admin password), which
/// a caller may change without changing what the till holds. Two equal
/// digests mean nothing in the replica or the outbox moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    pub counts: Vec<(String, i64)>,
    pub sha256: String,
}

const ACCESS_TABLES: &[&str] = &["api_tokens", "admin_credentials"];

/// The replica's [`Digest`].
pub fn digest(conn: &Connection) -> Result<Digest, StoreError> {
    use sha2::{Digest as _, Sha256};
    let tables: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut hasher = Sha256::new();
    let mut counts = Vec::new();
    for table in tables {
        if ACCESS_TABLES.contains(&table.as_str()) {
            continue;
        }
        // The table names come from sqlite_master, not from a caller. FTS
        // shadow tables and WITHOUT ROWID tables are read in their own order.
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\""))?;
        let width = stmt.column_count();
        let mut rows = stmt.query([])?;
        let mut n = 0i64;
        hasher.update(table.as_bytes());
        while let Some(row) = rows.next()? {
            n += 1;
            for i in 0..width {
                let v: rusqlite::types::Value = row.get(i)?;
                hasher.update(format!("{v:?}\u{1f}").as_bytes());
            }
            hasher.update(b"\x1e");
        }
        counts.push((table, n));
    }
    Ok(Digest {
        counts,
        sha256: hex::encode(hasher.finalize()),
    })
}
