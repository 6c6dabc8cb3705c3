//! Containers that carry one page or one snapshot of upstream data between
//! `upstream/`, `sync/` and `store/`.

use super::Resource;
use super::catalog::{Attribute, Category, Product, Tag};
use super::customers::Customer;
use super::orders::{Order, Refund};
use super::shop::{Country, PaymentGateway, Setting, ShippingZone, StoreInfo, TaxClass, TaxRate};

/// One page of a paged resource.
#[derive(Debug, Clone, PartialEq)]
pub enum Records {
    Products(Vec<Product>),
    Variations(Vec<Product>),
    Categories(Vec<Category>),
    Tags(Vec<Tag>),
    TaxRates(Vec<TaxRate>),
    Customers(Vec<Customer>),
    Orders(Vec<Order>),
    Refunds(Vec<Refund>),
}

impl Records {
    /// Number of records.
    pub fn len(&self) -> usize {
        match self {
            Records::Products(v) | Records::Variations(v) => v.len(),
            Records::Categories(v) => v.len(),
            Records::Tags(v) => v.len(),
            Records::TaxRates(v) => v.len(),
            Records::Customers(v) => v.len(),
            Records::Orders(v) => v.len(),
            Records::Refunds(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The resource these records belong to.
    pub fn resource(&self) -> Resource {
        match self {
            Records::Products(_) => Resource::Products,
            Records::Variations(_) => Resource::Variations,
            Records::Categories(_) => Resource::Categories,
            Records::Tags(_) => Resource::Tags,
            Records::TaxRates(_) => Resource::TaxRates,
            Records::Customers(_) => Resource::Customers,
            Records::Orders(_) => Resource::Orders,
            Records::Refunds(_) => Resource::Refunds,
        }
    }

    /// Keeps the first `n` records (for `sync.max_records`).
    pub fn truncate(&mut self, n: usize) {
        match self {
            Records::Products(v) | Records::Variations(v) => v.truncate(n),
            Records::Categories(v) => v.truncate(n),
            Records::Tags(v) => v.truncate(n),
            Records::TaxRates(v) => v.truncate(n),
            Records::Customers(v) => v.truncate(n),
            Records::Orders(v) => v.truncate(n),
            Records::Refunds(v) => v.truncate(n),
        }
    }
}

/// A whole small resource, fetched in one go and replaced in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum Snapshot {
    Settings {
        info: StoreInfo,
        settings: Vec<Setting>,
    },
    Countries(Vec<Country>),
    TaxClasses(Vec<TaxClass>),
    ShippingZones(Vec<ShippingZone>),
    PaymentGateways(Vec<PaymentGateway>),
    Attributes(Vec<Attribute>),
}

impl Snapshot {
    /// Number of top-level items.
    pub fn len(&self) -> usize {
        match self {
            Snapshot::Settings { settings, .. } => settings.len(),
            Snapshot::Countries(v) => v.len(),
            Snapshot::TaxClasses(v) => v.len(),
            Snapshot::ShippingZones(v) => v.len(),
            Snapshot::PaymentGateways(v) => v.len(),
            Snapshot::Attributes(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
