//! What the replica holds, for `possync status` and the status page.

use rusqlite::Connection;
use serde::Serialize;

use super::StoreError;
use super::sync_state::{ResourceState, resource_states};
use crate::domain::shop::StoreInfo;

const COUNTS: &str = "
SELECT
  (SELECT COUNT(*) FROM products WHERE type <> 'variation'),
  (SELECT COUNT(*) FROM products WHERE type = 'variation'),
  (SELECT COUNT(*) FROM categories),
  (SELECT COUNT(*) FROM tags),
  (SELECT COUNT(*) FROM attributes),
  (SELECT COUNT(*) FROM customers),
  (SELECT COUNT(*) FROM orders),
  (SELECT COUNT(*) FROM refunds),
  (SELECT COUNT(*) FROM tax_rates),
  (SELECT COUNT(*) FROM tax_classes),
  (SELECT COUNT(*) FROM shipping_zones),
  (SELECT COUNT(*) FROM payment_gateways),
  (SELECT COUNT(*) FROM countries),
  (SELECT COUNT(*) FROM settings)";

/// Row counts of the replica, by resource.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Counts {
    pub products: i64,
    pub variations: i64,
    pub categories: i64,
    pub tags: i64,
    pub attributes: i64,
    pub customers: i64,
    pub orders: i64,
    pub refunds: i64,
    pub tax_rates: i64,
    pub tax_classes: i64,
    pub shipping_zones: i64,
    pub payment_gateways: i64,
    pub countries: i64,
    pub settings: i64,
}

impl Counts {
    /// The count that belongs to a resource name, for the per-resource table.
    pub fn get(&self, resource: &str) -> Option<i64> {
        Some(match resource {
            "products" => self.products,
            "variations" => self.variations,
            "categories" => self.categories,
            "tags" => self.tags,
            "attributes" => self.attributes,
            "customers" => self.customers,
            "orders" => self.orders,
            "refunds" => self.refunds,
            "tax_rates" => self.tax_rates,
            "tax_classes" => self.tax_classes,
            "shipping_zones" => self.shipping_zones,
            "payment_gateways" => self.payment_gateways,
            "countries" => self.countries,
            "settings" => self.settings,
            _ => return None,
        })
    }
}

/// Everything `status` shows.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub counts: Counts,
    pub store: Option<StoreInfo>,
    pub resources: Vec<ResourceState>,
    /// Delta cursors and the last completeness sweep, per resource.
    pub freshness: Vec<super::delta::Freshness>,
}

/// Row counts.
pub fn counts(conn: &Connection) -> Result<Counts, StoreError> {
    Ok(conn.query_row(COUNTS, [], |r| {
        Ok(Counts {
            products: r.get(0)?,
            variations: r.get(1)?,
            categories: r.get(2)?,
            tags: r.get(3)?,
            attributes: r.get(4)?,
            customers: r.get(5)?,
            orders: r.get(6)?,
            refunds: r.get(7)?,
            tax_rates: r.get(8)?,
            tax_classes: r.get(9)?,
            shipping_zones: r.get(10)?,
            payment_gateways: r.get(11)?,
            countries: r.get(12)?,
            settings: r.get(13)?,
        })
    })?)
}

/// Counts, store information and per-resource sync state.
pub fn summary(conn: &Connection) -> Result<Summary, StoreError> {
    Ok(Summary {
        counts: counts(conn)?,
        store: super::shop::store_info(conn)?,
        resources: resource_states(conn)?,
        freshness: super::delta::freshness(conn)?,
    })
}
