//! Customers and their billing and shipping addresses in the replica.

use rusqlite::{Connection, Transaction, named_params};

use super::catalog::Upserted;
use super::{StoreError, WriteStamp, to_json};
use crate::domain::UpstreamId;
use crate::domain::customers::{Address, Customer};

/// Customers have a modification date upstream but no filter on it; the
/// guard applies when both sides carry one.
const UPSERT_CUSTOMER: &str = "
INSERT INTO customers (id, email, first_name, last_name, username, role, is_paying_customer,
                       meta_data, date_created_gmt, date_modified_gmt, raw, seen_run, synced_at)
VALUES (:id, :email, :first_name, :last_name, :username, :role, :is_paying,
        :meta_data, :date_created, :date_modified, :raw, :run, :now)
ON CONFLICT (id) DO UPDATE SET
    email = excluded.email, first_name = excluded.first_name, last_name = excluded.last_name,
    username = excluded.username, role = excluded.role,
    is_paying_customer = excluded.is_paying_customer, meta_data = excluded.meta_data,
    date_created_gmt = excluded.date_created_gmt, date_modified_gmt = excluded.date_modified_gmt,
    raw = excluded.raw, seen_run = COALESCE(excluded.seen_run, customers.seen_run),
    synced_at = excluded.synced_at
WHERE excluded.date_modified_gmt IS NULL OR customers.date_modified_gmt IS NULL
   OR excluded.date_modified_gmt > customers.date_modified_gmt
   OR (:allow_equal AND excluded.date_modified_gmt = customers.date_modified_gmt)";

const MARK_CUSTOMER_SEEN: &str = "UPDATE customers SET seen_run = :run WHERE id = :id";

const UPSERT_ADDRESS: &str = "
INSERT INTO customer_addresses (customer_id, kind, first_name, last_name, company, address_1,
                                address_2, city, state, postcode, country, email, phone)
VALUES (:owner, :kind, :first_name, :last_name, :company, :address_1,
        :address_2, :city, :state, :postcode, :country, :email, :phone)
ON CONFLICT (customer_id, kind) DO UPDATE SET
    first_name = excluded.first_name, last_name = excluded.last_name, company = excluded.company,
    address_1 = excluded.address_1, address_2 = excluded.address_2, city = excluded.city,
    state = excluded.state, postcode = excluded.postcode, country = excluded.country,
    email = excluded.email, phone = excluded.phone";

const COUNT_CUSTOMERS: &str = "SELECT COUNT(*) FROM customers";

/// Inserts or updates customers with their addresses.
pub fn upsert_customers(
    tx: &Transaction<'_>,
    stamp: WriteStamp,
    customers: &[Customer],
) -> Result<Upserted, StoreError> {
    let mut upsert = tx.prepare_cached(UPSERT_CUSTOMER)?;
    let mut out = Upserted::default();
    for c in customers {
        let changed = upsert.execute(named_params! {
            ":id": c.id,
            ":email": c.email,
            ":first_name": c.first_name,
            ":last_name": c.last_name,
            ":username": c.username,
            ":role": c.role,
            ":is_paying": c.is_paying_customer,
            ":meta_data": to_json(&c.meta)?,
            ":date_created": c.date_created.map(|t| t.to_string()),
            ":date_modified": c.date_modified.map(|t| t.to_string()),
            ":raw": c.raw.as_str(),
            ":run": stamp.run,
            ":now": stamp.now_ms,
            ":allow_equal": stamp.allow_equal,
        })?;
        if changed == 0 {
            out.kept_newer += 1;
            if let Some(run) = stamp.run {
                tx.prepare_cached(MARK_CUSTOMER_SEEN)?
                    .execute(named_params! { ":run": run, ":id": c.id })?;
            }
            continue;
        }
        out.written += 1;
        upsert_address(tx, UPSERT_ADDRESS, c.id, "billing", &c.billing)?;
        upsert_address(tx, UPSERT_ADDRESS, c.id, "shipping", &c.shipping)?;
    }
    Ok(out)
}

/// Writes one address row with `sql` (customer or order address table).
pub(super) fn upsert_address(
    tx: &Transaction<'_>,
    sql: &str,
    owner: UpstreamId,
    kind: &str,
    a: &Address,
) -> Result<(), StoreError> {
    tx.prepare_cached(sql)?.execute(named_params! {
        ":owner": owner,
        ":kind": kind,
        ":first_name": a.first_name,
        ":last_name": a.last_name,
        ":company": a.company,
        ":address_1": a.address_1,
        ":address_2": a.address_2,
        ":city": a.city,
        ":state": a.state,
        ":postcode": a.postcode,
        ":country": a.country,
        ":email": a.email,
        ":phone": a.phone,
    })?;
    Ok(())
}

/// Number of customers.
pub fn count_customers(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row(COUNT_CUSTOMERS, [], |r| r.get(0))?)
}
