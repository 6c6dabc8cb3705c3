//! The kinds of upstream data the replica mirrors.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A resource the agent mirrors, in the order a full pull takes them: store
/// metadata first, then taxonomies, then products, their variations,
/// customers, orders and refunds (which need what comes before them to make
/// sense at the till).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resource {
    /// Store settings: currency, tax display, decimals, stock management.
    Settings,
    /// Countries and their states.
    Countries,
    /// Tax classes (standard, reduced rate, …).
    TaxClasses,
    /// Tax rates.
    TaxRates,
    /// Shipping zones with their locations and methods.
    ShippingZones,
    /// Payment gateways.
    PaymentGateways,
    /// Product categories (a tree).
    Categories,
    /// Product tags.
    Tags,
    /// Global product attributes with their terms.
    Attributes,
    /// Products (simple, variable, grouped, external).
    Products,
    /// Variations of variable products.
    Variations,
    /// Registered customers.
    Customers,
    /// Orders inside the configured statuses and age window.
    Orders,
    /// Refunds of orders.
    Refunds,
}

impl Resource {
    /// Every resource, in full-pull order.
    pub const ALL: [Resource; 14] = [
        Resource::Settings,
        Resource::Countries,
        Resource::TaxClasses,
        Resource::TaxRates,
        Resource::ShippingZones,
        Resource::PaymentGateways,
        Resource::Categories,
        Resource::Tags,
        Resource::Attributes,
        Resource::Products,
        Resource::Variations,
        Resource::Customers,
        Resource::Orders,
        Resource::Refunds,
    ];

    /// The stable name used in the database, logs, the API and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Settings => "settings",
            Resource::Countries => "countries",
            Resource::TaxClasses => "tax_classes",
            Resource::TaxRates => "tax_rates",
            Resource::ShippingZones => "shipping_zones",
            Resource::PaymentGateways => "payment_gateways",
            Resource::Categories => "categories",
            Resource::Tags => "tags",
            Resource::Attributes => "attributes",
            Resource::Products => "products",
            Resource::Variations => "variations",
            Resource::Customers => "customers",
            Resource::Orders => "orders",
            Resource::Refunds => "refunds",
        }
    }

    /// Whether the resource is paged through (large sets, pulled page by page
    /// with persisted progress) rather than fetched whole in one go.
    pub fn is_paged(self) -> bool {
        matches!(
            self,
            Resource::TaxRates
                | Resource::Categories
                | Resource::Tags
                | Resource::Products
                | Resource::Variations
                | Resource::Customers
                | Resource::Orders
                | Resource::Refunds
        )
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Resource {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Resource::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown resource {s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for r in Resource::ALL {
            assert_eq!(r.as_str().parse::<Resource>(), Ok(r));
        }
        assert!("nope".parse::<Resource>().is_err());
    }
}
