//! Writes a page or snapshot of upstream data with the right table family.

use rusqlite::Transaction;

use super::catalog::{self, Upserted};
use super::{StoreError, WriteStamp, customers, orders, shop};
use crate::domain::batch::{Records, Snapshot};

/// Writes one page of records.
pub fn write_records(
    tx: &Transaction<'_>,
    stamp: WriteStamp,
    records: &Records,
) -> Result<Upserted, StoreError> {
    match records {
        Records::Products(v) | Records::Variations(v) => catalog::upsert_products(tx, stamp, v),
        Records::Categories(v) => catalog::upsert_categories(tx, stamp, v),
        Records::Tags(v) => catalog::upsert_tags(tx, stamp, v),
        Records::TaxRates(v) => shop::upsert_tax_rates(tx, stamp, v),
        Records::Customers(v) => customers::upsert_customers(tx, stamp, v),
        Records::Orders(v) => orders::upsert_orders(tx, stamp, v),
        Records::Refunds(v) => orders::upsert_refunds(tx, stamp, v),
    }
}

/// Replaces a whole small resource with a snapshot.
pub fn write_snapshot(
    tx: &Transaction<'_>,
    now_ms: i64,
    snapshot: &Snapshot,
) -> Result<(), StoreError> {
    match snapshot {
        Snapshot::Settings { info, settings } => shop::replace_settings(tx, now_ms, info, settings),
        Snapshot::Countries(v) => shop::replace_countries(tx, v),
        Snapshot::TaxClasses(v) => shop::replace_tax_classes(tx, v),
        Snapshot::ShippingZones(v) => shop::replace_shipping_zones(tx, v),
        Snapshot::PaymentGateways(v) => shop::replace_payment_gateways(tx, v),
        Snapshot::Attributes(v) => catalog::replace_attributes(tx, now_ms, v),
    }
}
