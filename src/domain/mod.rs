//! The project's own types: what a product, customer, order or store setting
//! *is* for a till, independent of any upstream wire format and of SQL.
//!
//! `upstream/` converts wire JSON into these; `store/` writes them; `sync/`
//! moves them between the two. Nothing here knows a WooCommerce field name.

pub mod batch;
pub mod catalog;
pub mod customers;
pub mod lookup;
pub mod meta_mapping;
pub mod orders;
pub mod outbox;
pub mod resource;
pub mod shop;
pub mod till;
pub mod time;
pub mod webhooks;

pub use resource::Resource;
pub use time::GmtTime;

use serde::{Deserialize, Serialize};

/// An upstream object id (WooCommerce post, user, term or zone id).
pub type UpstreamId = i64;

/// One object's identity and version: what a cheap listing
/// (`_fields=id,date_modified_gmt`) tells, and what the replica compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Stamp {
    pub id: UpstreamId,
    /// `date_modified_gmt` (refunds: their creation date); `None` when the
    /// store leaves it empty.
    pub modified: Option<GmtTime>,
}

/// A decimal amount (price, total, tax) exactly as the shop states it.
pub type Amount = rust_decimal::Decimal;

/// An amount as a till shows money: at least two decimals (`10.00`), more
/// only when it has them.
pub fn money(a: Amount) -> Amount {
    let mut a = a.normalize();
    if a.scale() < 2 {
        a.rescale(2);
    }
    a
}

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
