//! Customers and their addresses.

use serde::{Deserialize, Serialize};

use super::{GmtTime, Meta, RawJson, UpstreamId};

/// A postal address with contact details (billing or shipping).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Address {
    pub first_name: String,
    pub last_name: String,
    pub company: String,
    pub address_1: String,
    pub address_2: String,
    pub city: String,
    pub state: String,
    pub postcode: String,
    pub country: String,
    /// Billing addresses carry an email; shipping addresses do not.
    pub email: Option<String>,
    pub phone: String,
}

/// A registered customer.
#[derive(Debug, Clone, PartialEq)]
pub struct Customer {
    pub id: UpstreamId,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub username: String,
    pub role: String,
    pub is_paying_customer: bool,
    pub billing: Address,
    pub shipping: Address,
    pub meta: Vec<Meta>,
    pub date_created: Option<GmtTime>,
    /// Customers have no modified filter upstream, but the field exists.
    pub date_modified: Option<GmtTime>,
    pub raw: RawJson,
}
