//! The project's own types: what a product, customer, order or store setting
//! *is* for a till, independent of any upstream wire format and of SQL.
//!
//! `upstream/` converts wire JSON into these; `store/` writes them; `sync/`
//! moves them between the two. Nothing here knows a WooCommerce field name.

pub mod batch;
pub mod catalog;
pub mod customers;
pub mod orders;
pub mod resource;
pub mod shop;
pub mod time;
pub mod webhooks;

pub use resource::Resource;
pub use time::GmtTime;

use serde::{Deserialize, Serialize};

/// An upstream object id (WooCommerce post, user, term or zone id).
pub type UpstreamId = i64;

/// A decimal amount (price, total, tax) exactly as the shop states it.
pub type Amount = rust_decimal::Decimal;

/// One custom field of an upstream object, kept verbatim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    pub key: String,
    pub value: serde_json::Value,
}

/// An upstream object's full JSON, kept beside the typed columns so that no
/// field is ever lost, even one this version does not model.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RawJson(pub String);

impl RawJson {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
