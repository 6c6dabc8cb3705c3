//! Store-wide data a till needs offline: settings, taxes, shipping, payment
//! gateways, countries.

use serde::{Deserialize, Serialize};

use super::{Amount, RawJson, UpstreamId};

/// The store settings that change how a till computes and shows prices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreInfo {
    /// ISO 4217 code, e.g. `GBP`.
    pub currency: String,
    /// HTML entity or character, e.g. `&pound;`.
    pub currency_symbol: String,
    /// `left`, `right`, `left_space`, `right_space`.
    pub currency_position: String,
    pub prices_include_tax: bool,
    pub price_decimals: u32,
    pub decimal_separator: String,
    pub thousand_separator: String,
    pub calc_taxes: bool,
    /// Whether the store counts stock at all.
    pub manage_stock: bool,
    /// `COUNTRY[:STATE]`, e.g. `GB:LND`.
    pub base_location: String,
}

/// One raw setting, kept for anything a till may later need.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub group: String,
    pub id: String,
    pub value: serde_json::Value,
    pub raw: RawJson,
}

/// A country and its states.
#[derive(Debug, Clone, PartialEq)]
pub struct Country {
    pub code: String,
    pub name: String,
    pub states: Vec<CountryState>,
    pub raw: RawJson,
}

/// A state, county or province.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CountryState {
    pub code: String,
    pub name: String,
}

/// A tax class.
#[derive(Debug, Clone, PartialEq)]
pub struct TaxClass {
    pub slug: String,
    pub name: String,
    pub raw: RawJson,
}

/// A tax rate.
#[derive(Debug, Clone, PartialEq)]
pub struct TaxRate {
    pub id: UpstreamId,
    pub country: String,
    pub state: String,
    pub postcodes: Vec<String>,
    pub cities: Vec<String>,
    /// Percent, e.g. 20.0000.
    pub rate: Amount,
    pub name: String,
    pub priority: i64,
    pub compound: bool,
    pub shipping: bool,
    pub order: i64,
    /// Tax class slug (`standard` for the standard rate).
    pub class: String,
    pub raw: RawJson,
}

/// A shipping zone with its locations and methods.
#[derive(Debug, Clone, PartialEq)]
pub struct ShippingZone {
    pub id: UpstreamId,
    pub name: String,
    pub order: i64,
    pub locations: Vec<ZoneLocation>,
    pub methods: Vec<ShippingMethod>,
    pub raw: RawJson,
}

/// A location (country, state, postcode, continent) a zone covers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZoneLocation {
    pub code: String,
    pub kind: String,
}

/// A shipping method instance in a zone.
#[derive(Debug, Clone, PartialEq)]
pub struct ShippingMethod {
    pub instance_id: UpstreamId,
    /// `flat_rate`, `free_shipping`, `local_pickup`, …
    pub method_id: String,
    pub title: String,
    pub enabled: bool,
    pub order: i64,
    /// Setting id → value.
    pub settings: serde_json::Value,
    pub raw: RawJson,
}

/// A payment gateway.
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentGateway {
    pub id: String,
    pub title: String,
    pub description: String,
    pub enabled: bool,
    pub method_title: String,
    pub order: String,
    pub raw: RawJson,
}
