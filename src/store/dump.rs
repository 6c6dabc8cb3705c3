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
