//! The store's configuration: options, tax classes and rates, shipping zones,
//! payment gateways and the static catalogues served from `assets/`.
//!
//! Mirrors the captured store (GBP, prices include tax, base GB:LND, GB and
//! US rates with a compound NYC rate, UK zone with flat/free/pickup) plus a
//! Europe zone so generated EU customers can be shipped to.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::Value;

use crate::woo::model::{Settings, ShippingMethod, ShippingZone, StaticConfig, TaxClass, TaxRate};

const SETTINGS_JSON: &str = include_str!("../assets/settings.json");
const GATEWAYS_JSON: &str = include_str!("../assets/payment_gateways.json");
const SHIPPING_METHODS_JSON: &str = include_str!("../assets/shipping_methods.json");
const COUNTRIES_JSON: &str = include_str!("../assets/countries.json");
const SYSTEM_STATUS_JSON: &str = include_str!("../assets/system_status.json");

fn asset(text: &str, home: &str) -> Value {
    // The assets are ours and checked by tests: a parse failure is a bug.
    serde_json::from_str(&text.replace("{{home}}", home)).expect("sim asset is valid JSON")
}

pub(crate) fn static_config(home: &str) -> StaticConfig {
    StaticConfig {
        settings: asset(SETTINGS_JSON, home),
        gateways: asset(GATEWAYS_JSON, home),
        shipping_methods: asset(SHIPPING_METHODS_JSON, home),
        countries: asset(COUNTRIES_JSON, home),
        system_status: asset(SYSTEM_STATUS_JSON, home),
    }
}

pub(crate) fn settings() -> Settings {
    Settings {
        currency: "GBP".to_owned(),
        currency_symbol_html: "&pound;".to_owned(),
        currency_symbol: "£".to_owned(),
        price_decimals: 2,
        prices_include_tax: true,
        calc_taxes: true,
        manage_stock: true,
        default_country: "GB:LND".to_owned(),
        store_address: "1 Test Street".to_owned(),
        store_city: "London".to_owned(),
        store_postcode: "SW1A 1AA".to_owned(),
    }
}

/// The order the captured store lists them in (`standard` first).
pub(crate) fn tax_classes() -> Vec<TaxClass> {
    [
        ("standard", "Standard rate"),
        ("food", "Food"),
        ("reduced-rate", "Reduced rate"),
        ("zero-rate", "Zero rate"),
    ]
    .into_iter()
    .map(|(slug, name)| TaxClass {
        slug: slug.to_owned(),
        name: name.to_owned(),
    })
    .collect()
}

/// Tax rate ids come from their own table, starting at 1.
pub(crate) fn tax_rates() -> Vec<TaxRate> {
    let rate =
        |id, country: &str, state: &str, pc: &[&str], cities: &[&str], pct: &str, name: &str| {
            TaxRate {
                id,
                country: country.to_owned(),
                state: state.to_owned(),
                postcodes: pc.iter().map(|s| (*s).to_owned()).collect(),
                cities: cities.iter().map(|s| (*s).to_owned()).collect(),
                rate: Decimal::from_str(pct).expect("literal rate"),
                name: name.to_owned(),
                priority: 1,
                compound: false,
                shipping: true,
                order: 0,
                class: "standard".to_owned(),
            }
        };
    let mut rates = vec![
        TaxRate {
            order: 1,
            ..rate(1, "GB", "", &[], &[], "20", "VAT")
        },
        TaxRate {
            class: "reduced-rate".to_owned(),
            ..rate(2, "GB", "", &[], &[], "5", "VAT (reduced)")
        },
        TaxRate {
            class: "food".to_owned(),
            shipping: false,
            ..rate(3, "GB", "", &[], &[], "0", "VAT (zero)")
        },
        TaxRate {
            shipping: false,
            ..rate(
                4,
                "US",
                "CA",
                &["90210", "94*"],
                &["BEVERLY HILLS", "SAN FRANCISCO"],
                "7.25",
                "CA State Tax",
            )
        },
        rate(5, "US", "NY", &[], &[], "4", "NY State Tax"),
        TaxRate {
            priority: 2,
            compound: true,
            ..rate(6, "US", "NY", &[], &["NEW YORK"], "4.5", "NYC Tax")
        },
        TaxRate {
            class: "zero-rate".to_owned(),
            shipping: false,
            ..rate(7, "GB", "", &[], &[], "0", "VAT (zero-rated)")
        },
    ];
    rates.sort_by_key(|r| (r.order, r.id));
    rates
}

fn method(
    instance_id: i64,
    method_id: &str,
    title: &str,
    settings: &[(&str, &str)],
) -> ShippingMethod {
    ShippingMethod {
        instance_id,
        method_id: method_id.to_owned(),
        title: title.to_owned(),
        order: instance_id,
        enabled: true,
        settings: settings
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

pub(crate) fn shipping_zones() -> Vec<ShippingZone> {
    vec![
        ShippingZone {
            id: 0,
            name: "Locations not covered by your other zones".to_owned(),
            order: 0,
            locations: vec![],
            methods: vec![],
        },
        ShippingZone {
            id: 1,
            name: "United Kingdom".to_owned(),
            order: 1,
            locations: vec![("GB".to_owned(), "country".to_owned())],
            methods: vec![
                method(
                    1,
                    "flat_rate",
                    "Standard delivery",
                    &[("tax_status", "taxable"), ("cost", "4.99")],
                ),
                method(
                    2,
                    "free_shipping",
                    "Free delivery over \u{a3}50",
                    &[
                        ("requires", "min_amount"),
                        ("min_amount", "50"),
                        ("ignore_discounts", "no"),
                    ],
                ),
                method(
                    3,
                    "local_pickup",
                    "Collect in store",
                    &[("tax_status", "taxable"), ("cost", "0")],
                ),
            ],
        },
        ShippingZone {
            id: 2,
            name: "USA (CA, NY)".to_owned(),
            order: 2,
            locations: vec![
                ("US:CA".to_owned(), "state".to_owned()),
                ("US:NY".to_owned(), "state".to_owned()),
            ],
            methods: vec![method(
                4,
                "flat_rate",
                "International",
                &[("tax_status", "taxable"), ("cost", "19.99")],
            )],
        },
        ShippingZone {
            id: 3,
            name: "Europe".to_owned(),
            order: 3,
            locations: vec![
                ("DE".to_owned(), "country".to_owned()),
                ("FR".to_owned(), "country".to_owned()),
                ("IE".to_owned(), "country".to_owned()),
            ],
            methods: vec![method(
                5,
                "flat_rate",
                "Europe delivery",
                &[("tax_status", "taxable"), ("cost", "9.99")],
            )],
        },
    ]
}

/// Gateways that take orders; the captured store's three offline gateways.
pub(crate) fn enabled_gateways() -> Vec<String> {
    vec!["bacs".to_owned(), "cheque".to_owned(), "cod".to_owned()]
}

/// `(id, title)` of a gateway, as orders record it.
pub(crate) const GATEWAY_TITLES: [(&str, &str); 3] = [
    ("bacs", "Direct bank transfer"),
    ("cheque", "Check payments"),
    ("cod", "Cash on delivery"),
];
