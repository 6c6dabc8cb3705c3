//! Store-wide data in the replica: settings, countries, taxes, shipping and
//! payment gateways. Small sets, replaced whole from a snapshot in one
//! transaction (tax rates, which can be many, are paged like products).

use rusqlite::{Connection, OptionalExtension, Transaction, named_params};

use super::catalog::Upserted;
use super::{StoreError, WriteStamp, to_json};
use crate::domain::shop::{
    Country, PaymentGateway, Setting, ShippingZone, StoreInfo, TaxClass, TaxRate,
};

const DELETE_SETTINGS: &str = "DELETE FROM settings";
const INSERT_SETTING: &str =
    "INSERT OR REPLACE INTO settings (group_id, id, value, raw) VALUES (:group, :id, :value, :raw)";
const UPSERT_STORE_INFO: &str = "
INSERT INTO store_info (singleton, currency, currency_symbol, currency_position, prices_include_tax,
                        price_decimals, decimal_separator, thousand_separator, calc_taxes,
                        manage_stock, base_location, updated_at)
VALUES (1, :currency, :symbol, :position, :prices_include_tax, :decimals, :decimal_sep,
        :thousand_sep, :calc_taxes, :manage_stock, :base_location, :now)
ON CONFLICT (singleton) DO UPDATE SET
    currency = excluded.currency, currency_symbol = excluded.currency_symbol,
    currency_position = excluded.currency_position,
    prices_include_tax = excluded.prices_include_tax, price_decimals = excluded.price_decimals,
    decimal_separator = excluded.decimal_separator,
    thousand_separator = excluded.thousand_separator, calc_taxes = excluded.calc_taxes,
    manage_stock = excluded.manage_stock, base_location = excluded.base_location,
    updated_at = excluded.updated_at";
const SELECT_STORE_INFO: &str = "
SELECT currency, currency_symbol, currency_position, prices_include_tax, price_decimals,
       decimal_separator, thousand_separator, calc_taxes, manage_stock, base_location
FROM store_info WHERE singleton = 1";

const DELETE_COUNTRIES: &str = "DELETE FROM countries";
const INSERT_COUNTRY: &str = "INSERT INTO countries (code, name, raw) VALUES (:code, :name, :raw)";
const INSERT_STATE: &str = "INSERT OR REPLACE INTO country_states (country_code, code, name) VALUES (:country, :code, :name)";

const DELETE_TAX_CLASSES: &str = "DELETE FROM tax_classes";
const INSERT_TAX_CLASS: &str =
    "INSERT OR REPLACE INTO tax_classes (slug, name, raw) VALUES (:slug, :name, :raw)";

const UPSERT_TAX_RATE: &str = "
INSERT INTO tax_rates (id, country, state, postcodes, cities, rate, name, priority, compound,
                       shipping, rate_order, class, raw, seen_run, synced_at)
VALUES (:id, :country, :state, :postcodes, :cities, :rate, :name, :priority, :compound,
        :shipping, :order, :class, :raw, :run, :now)
ON CONFLICT (id) DO UPDATE SET
    country = excluded.country, state = excluded.state, postcodes = excluded.postcodes,
    cities = excluded.cities, rate = excluded.rate, name = excluded.name,
    priority = excluded.priority, compound = excluded.compound, shipping = excluded.shipping,
    rate_order = excluded.rate_order, class = excluded.class, raw = excluded.raw,
    seen_run = COALESCE(excluded.seen_run, tax_rates.seen_run), synced_at = excluded.synced_at";

const DELETE_ZONES: &str = "DELETE FROM shipping_zones";
const INSERT_ZONE: &str =
    "INSERT INTO shipping_zones (id, name, zone_order, raw) VALUES (:id, :name, :order, :raw)";
const INSERT_ZONE_LOCATION: &str = "
INSERT OR IGNORE INTO shipping_zone_locations (zone_id, code, kind) VALUES (:zone, :code, :kind)";
const INSERT_METHOD: &str = "
INSERT OR REPLACE INTO shipping_methods (zone_id, instance_id, method_id, title, enabled,
                                         method_order, settings, raw)
VALUES (:zone, :instance_id, :method_id, :title, :enabled, :order, :settings, :raw)";

const DELETE_GATEWAYS: &str = "DELETE FROM payment_gateways";
const INSERT_GATEWAY: &str = "
INSERT OR REPLACE INTO payment_gateways (id, title, description, enabled, method_title,
                                         gateway_order, raw)
VALUES (:id, :title, :description, :enabled, :method_title, :order, :raw)";

/// Replaces the raw settings and the store information derived from them.
pub fn replace_settings(
    tx: &Transaction<'_>,
    now_ms: i64,
    info: &StoreInfo,
    settings: &[Setting],
) -> Result<(), StoreError> {
    tx.execute(DELETE_SETTINGS, [])?;
    let mut stmt = tx.prepare_cached(INSERT_SETTING)?;
    for s in settings {
        stmt.execute(named_params! {
            ":group": s.group,
            ":id": s.id,
            ":value": to_json(&s.value)?,
            ":raw": s.raw.as_str(),
        })?;
    }
    tx.prepare_cached(UPSERT_STORE_INFO)?
        .execute(named_params! {
            ":currency": info.currency,
            ":symbol": info.currency_symbol,
            ":position": info.currency_position,
            ":prices_include_tax": info.prices_include_tax,
            ":decimals": info.price_decimals,
            ":decimal_sep": info.decimal_separator,
            ":thousand_sep": info.thousand_separator,
            ":calc_taxes": info.calc_taxes,
            ":manage_stock": info.manage_stock,
            ":base_location": info.base_location,
            ":now": now_ms,
        })?;
    Ok(())
}

/// The store information, once settings have been pulled.
pub fn store_info(conn: &Connection) -> Result<Option<StoreInfo>, StoreError> {
    Ok(conn
        .prepare_cached(SELECT_STORE_INFO)?
        .query_row([], |r| {
            Ok(StoreInfo {
                currency: r.get(0)?,
                currency_symbol: r.get(1)?,
                currency_position: r.get(2)?,
                prices_include_tax: r.get(3)?,
                price_decimals: r.get(4)?,
                decimal_separator: r.get(5)?,
                thousand_separator: r.get(6)?,
                calc_taxes: r.get(7)?,
                manage_stock: r.get(8)?,
                base_location: r.get(9)?,
            })
        })
        .optional()?)
}

/// Replaces countries and their states.
pub fn replace_countries(tx: &Transaction<'_>, countries: &[Country]) -> Result<(), StoreError> {
    tx.execute(DELETE_COUNTRIES, [])?;
    let mut country = tx.prepare_cached(INSERT_COUNTRY)?;
    let mut state = tx.prepare_cached(INSERT_STATE)?;
    for c in countries {
        country
            .execute(named_params! { ":code": c.code, ":name": c.name, ":raw": c.raw.as_str() })?;
        for s in &c.states {
            state
                .execute(named_params! { ":country": c.code, ":code": s.code, ":name": s.name })?;
        }
    }
    Ok(())
}

/// Replaces the tax classes.
pub fn replace_tax_classes(tx: &Transaction<'_>, classes: &[TaxClass]) -> Result<(), StoreError> {
    tx.execute(DELETE_TAX_CLASSES, [])?;
    let mut stmt = tx.prepare_cached(INSERT_TAX_CLASS)?;
    for c in classes {
        stmt.execute(named_params! { ":slug": c.slug, ":name": c.name, ":raw": c.raw.as_str() })?;
    }
    Ok(())
}

/// Inserts or updates tax rates (a paged resource).
pub fn upsert_tax_rates(
    tx: &Transaction<'_>,
    stamp: WriteStamp,
    rates: &[TaxRate],
) -> Result<Upserted, StoreError> {
    let mut stmt = tx.prepare_cached(UPSERT_TAX_RATE)?;
    for t in rates {
        stmt.execute(named_params! {
            ":id": t.id,
            ":country": t.country,
            ":state": t.state,
            ":postcodes": to_json(&t.postcodes)?,
            ":cities": to_json(&t.cities)?,
            ":rate": t.rate.to_string(),
            ":name": t.name,
            ":priority": t.priority,
            ":compound": t.compound,
            ":shipping": t.shipping,
            ":order": t.order,
            ":class": t.class,
            ":raw": t.raw.as_str(),
            ":run": stamp.run,
            ":now": stamp.now_ms,
        })?;
    }
    Ok(Upserted {
        written: rates.len(),
        kept_newer: 0,
    })
}

/// Replaces shipping zones with their locations and methods.
pub fn replace_shipping_zones(
    tx: &Transaction<'_>,
    zones: &[ShippingZone],
) -> Result<(), StoreError> {
    tx.execute(DELETE_ZONES, [])?;
    let mut zone = tx.prepare_cached(INSERT_ZONE)?;
    let mut location = tx.prepare_cached(INSERT_ZONE_LOCATION)?;
    let mut method = tx.prepare_cached(INSERT_METHOD)?;
    for z in zones {
        zone.execute(named_params! { ":id": z.id, ":name": z.name, ":order": z.order, ":raw": z.raw.as_str() })?;
        for l in &z.locations {
            location.execute(named_params! { ":zone": z.id, ":code": l.code, ":kind": l.kind })?;
        }
        for m in &z.methods {
            method.execute(named_params! {
                ":zone": z.id,
                ":instance_id": m.instance_id,
                ":method_id": m.method_id,
                ":title": m.title,
                ":enabled": m.enabled,
                ":order": m.order,
                ":settings": to_json(&m.settings)?,
                ":raw": m.raw.as_str(),
            })?;
        }
    }
    Ok(())
}

/// A payment gateway as the page offers it for a till payment method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayChoice {
    pub id: String,
    pub title: String,
    pub enabled: bool,
}

/// The mirrored payment gateways, enabled ones first, in the shop's order.
pub fn gateway_choices(conn: &rusqlite::Connection) -> Result<Vec<GatewayChoice>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, title, enabled FROM payment_gateways ORDER BY enabled DESC, \"order\", id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(GatewayChoice {
            id: r.get(0)?,
            title: r.get(1)?,
            enabled: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Replaces the payment gateways.
pub fn replace_payment_gateways(
    tx: &Transaction<'_>,
    gateways: &[PaymentGateway],
) -> Result<(), StoreError> {
    tx.execute(DELETE_GATEWAYS, [])?;
    let mut stmt = tx.prepare_cached(INSERT_GATEWAY)?;
    for g in gateways {
        stmt.execute(named_params! {
            ":id": g.id,
            ":title": g.title,
            ":description": g.description,
            ":enabled": g.enabled,
            ":method_title": g.method_title,
            ":order": g.order,
            ":raw": g.raw.as_str(),
        })?;
    }
    Ok(())
}
