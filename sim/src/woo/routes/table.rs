//! The route table: every `/wc/v3` route the sim knows, the methods
//! WooCommerce registers on it, its arguments and its handler.

use super::list::SINGLE_ARGS;
use super::params::Arg;
use super::writes::{self, WriteHandler, webhooks::WEBHOOK_ARGS};
use super::{ApiError, Call, Out, config, orders, people, products, terms};
use Kind::{Collection, CrudItem, Item};

pub(super) type Handler = fn(&Call<'_>) -> Result<Out, ApiError>;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Collection,
    Item,
    /// An item whose permission check only runs when the object exists
    /// (WooCommerce's CRUD controllers), so a missing id is a 404 even
    /// without credentials.
    CrudItem,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Gate {
    Always,
    VariationsEndpoint,
    RefundsEndpoint,
}

pub(super) struct Route {
    /// Segments after `wc/v3/`; `{id}` matches digits, `{code}` a slug.
    pub(super) pattern: &'static str,
    pub(super) methods: &'static [&'static str],
    pub(super) kind: Kind,
    pub(super) gate: Gate,
    pub(super) args: &'static [Arg],
    /// The `GET` handler.
    pub(super) handler: Option<Handler>,
    /// The handler of every other method the route has.
    pub(super) write: Option<WriteHandler>,
}

const COLLECTION: &[&str] = &["GET", "POST"];
const ITEM: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];
const BATCH: &[&str] = &["POST", "PUT", "PATCH"];
const GET: &[&str] = &["GET"];

const fn route(
    pattern: &'static str,
    methods: &'static [&'static str],
    kind: Kind,
    args: &'static [Arg],
    handler: Handler,
) -> Route {
    Route {
        pattern,
        methods,
        kind,
        gate: Gate::Always,
        args,
        handler: Some(handler),
        write: None,
    }
}

const fn writable(r: Route, write: WriteHandler) -> Route {
    Route {
        write: Some(write),
        ..r
    }
}

const fn batch(pattern: &'static str) -> Route {
    Route {
        pattern,
        methods: BATCH,
        kind: Kind::Collection,
        gate: Gate::Always,
        args: &[],
        handler: None,
        write: None,
    }
}

/// Every route, in WordPress registration order (first match wins).
#[rustfmt::skip]
static ROUTES: &[Route] = &[
    writable(route("products", COLLECTION, Collection, products::PRODUCT_ARGS, products::list_products), writes::products_collection),
    writable(batch("products/batch"), writes::products_batch),
    route("products/categories", COLLECTION, Collection, terms::TERM_ARGS_CATEGORIES, terms::list_categories),
    route("products/categories/{id}", ITEM, Item, SINGLE_ARGS, terms::get_category),
    route("products/tags", COLLECTION, Collection, terms::TERM_ARGS, terms::list_tags),
    route("products/tags/{id}", ITEM, Item, SINGLE_ARGS, terms::get_tag),
    route("products/attributes", COLLECTION, Collection, SINGLE_ARGS, terms::list_attributes),
    route("products/attributes/{id}", ITEM, Item, SINGLE_ARGS, terms::get_attribute),
    route("products/attributes/{id}/terms", COLLECTION, Collection, terms::TERM_ARGS, terms::list_attribute_terms),
    route("products/attributes/{id}/terms/{id}", ITEM, Item, SINGLE_ARGS, terms::get_attribute_term),
    writable(route("products/{id}", ITEM, CrudItem, SINGLE_ARGS, products::get_product), writes::product_item),
    writable(route("products/{id}/variations", COLLECTION, Collection, products::VARIATION_ARGS, products::list_product_variations), writes::variations_collection),
    writable(batch("products/{id}/variations/batch"), writes::variations_batch),
    writable(route("products/{id}/variations/{id}", ITEM, CrudItem, SINGLE_ARGS, products::get_variation), writes::variation_item),
    Route { gate: Gate::VariationsEndpoint, ..route("variations", GET, Collection, products::VARIATION_ARGS, products::list_all_variations) },
    writable(route("customers", COLLECTION, Collection, people::CUSTOMER_ARGS, people::list_customers), writes::customers_collection),
    writable(batch("customers/batch"), writes::customers_batch),
    writable(route("customers/{id}", ITEM, Item, SINGLE_ARGS, people::get_customer), writes::customer_item),
    writable(route("orders", COLLECTION, Collection, orders::ORDER_ARGS, orders::list_orders), writes::orders_collection),
    writable(batch("orders/batch"), writes::orders_batch),
    writable(route("orders/{id}", ITEM, Item, SINGLE_ARGS, orders::get_order), writes::order_item),
    writable(route("orders/{id}/refunds", COLLECTION, Collection, orders::REFUND_ARGS, orders::list_order_refunds), writes::refunds_collection),
    writable(route("orders/{id}/refunds/{id}", &["GET", "DELETE"], Item, SINGLE_ARGS, orders::get_order_refund), writes::refund_item),
    Route { gate: Gate::RefundsEndpoint, ..route("refunds", GET, Collection, orders::REFUND_ARGS, orders::list_refunds) },
    route("taxes", COLLECTION, Collection, config::TAX_ARGS, config::list_taxes),
    batch("taxes/batch"),
    route("taxes/classes", COLLECTION, Collection, SINGLE_ARGS, config::list_tax_classes),
    route("taxes/{id}", ITEM, Item, SINGLE_ARGS, config::get_tax),
    route("shipping/zones", COLLECTION, Collection, SINGLE_ARGS, config::list_zones),
    route("shipping/zones/{id}", ITEM, Item, SINGLE_ARGS, config::get_zone),
    route("shipping/zones/{id}/locations", &["GET", "POST", "PUT", "PATCH"], Collection, SINGLE_ARGS, config::list_zone_locations),
    route("shipping/zones/{id}/methods", COLLECTION, Collection, SINGLE_ARGS, config::list_zone_methods),
    route("shipping/zones/{id}/methods/{id}", ITEM, Item, SINGLE_ARGS, config::get_zone_method),
    route("payment_gateways", GET, Collection, SINGLE_ARGS, config::list_gateways),
    route("payment_gateways/{code}", &["GET", "POST", "PUT", "PATCH"], Item, SINGLE_ARGS, config::get_gateway),
    route("settings", GET, Collection, SINGLE_ARGS, config::list_setting_groups),
    route("settings/{code}", GET, Collection, SINGLE_ARGS, config::get_setting_group),
    batch("settings/{code}/batch"),
    route("settings/{code}/{code}", &["GET", "POST", "PUT", "PATCH"], Item, SINGLE_ARGS, config::get_setting),
    route("data/countries", GET, Collection, SINGLE_ARGS, config::list_countries),
    route("data/countries/{code}", GET, Item, SINGLE_ARGS, config::get_country),
    route("data/currencies/current", GET, Item, SINGLE_ARGS, config::get_current_currency),
    route("system_status", GET, Item, SINGLE_ARGS, config::get_system_status),
    writable(route("webhooks", COLLECTION, Collection, WEBHOOK_ARGS, writes::list_webhooks), writes::webhooks_collection),
    writable(batch("webhooks/batch"), writes::webhooks_batch),
    writable(route("webhooks/{id}", ITEM, Item, SINGLE_ARGS, writes::get_webhook), writes::webhook_item),
];

pub(super) fn routes() -> &'static [Route] {
    ROUTES
}

/// Matches `wc/v3/...` segments against a pattern, case-insensitively for
/// the literal parts (WordPress matches routes with `@...@i`).
pub(super) fn match_route<'r>(pattern: &str, segments: &[&'r str]) -> Option<Vec<&'r str>> {
    let parts: Vec<&str> = pattern.split('/').collect();
    if parts.len() != segments.len() {
        return None;
    }
    let mut captured = Vec::new();
    for (p, s) in parts.iter().zip(segments) {
        match *p {
            "{id}" if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => captured.push(*s),
            "{code}"
                if !s.is_empty()
                    && s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') =>
            {
                captured.push(*s)
            }
            lit if !lit.starts_with('{') && lit.eq_ignore_ascii_case(s) => {}
            _ => return None,
        }
    }
    Some(captured)
}
