//! Stock a till may still sell: upstream stock minus this till's own sales
//! that upstream has not confirmed yet (they are already counted locally but
//! not yet in the shop's figure).

use serde::Serialize;

use crate::domain::catalog::ManageStock;

/// The stock fields of a product or variation as mirrored, with the
/// unconfirmed local sales of the same stock.
#[derive(Debug, Clone, PartialEq)]
pub struct StockFacts {
    pub manage_stock: ManageStock,
    /// The counted stock: the row's own, or its parent's when the parent
    /// manages it.
    pub quantity: Option<i64>,
    /// `instock`, `outofstock` or `onbackorder`, as upstream last said.
    pub status: String,
    /// `no`, `notify` or `yes`.
    pub backorders: String,
    /// Units this till sold that upstream has not confirmed.
    pub unconfirmed: i64,
}

/// What the till shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StockView {
    /// Whether stock is counted (by this row or its parent).
    pub managed: bool,
    /// `"parent"` when the parent product's stock is the one counted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managed_by: Option<&'static str>,
    /// Upstream's figure.
    pub quantity: Option<i64>,
    pub unconfirmed_sales: i64,
    /// `quantity - unconfirmed_sales`; absent when stock is not counted.
    pub available: Option<i64>,
    /// `instock`, `outofstock` or `onbackorder`, after this till's sales.
    pub status: String,
    pub backorders: String,
}

impl StockFacts {
    /// The view after subtracting unconfirmed sales. When stock is counted,
    /// the status follows the available quantity as WooCommerce would set it;
    /// otherwise upstream's status stands.
    pub fn view(&self) -> StockView {
        let managed = self.manage_stock != ManageStock::No;
        let available = self
            .quantity
            .filter(|_| managed)
            .map(|q| q.saturating_sub(self.unconfirmed));
        let status = match available {
            Some(n) if n > 0 => "instock".to_owned(),
            Some(_) if self.backorders != "no" => "onbackorder".to_owned(),
            Some(_) => "outofstock".to_owned(),
            None => self.status.clone(),
        };
        StockView {
            managed,
            managed_by: (self.manage_stock == ManageStock::Parent).then_some("parent"),
            quantity: self.quantity,
            unconfirmed_sales: self.unconfirmed,
            available,
            status,
            backorders: self.backorders.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn facts(manage: ManageStock, qty: Option<i64>, backorders: &str, sold: i64) -> StockFacts {
        StockFacts {
            manage_stock: manage,
            quantity: qty,
            status: "instock".to_owned(),
            backorders: backorders.to_owned(),
            unconfirmed: sold,
        }
    }

    #[rstest]
    #[case::counted_minus_local_sales(
        facts(ManageStock::Yes, Some(5), "no", 2),
        Some(3),
        "instock"
    )]
    #[case::sold_out_locally(facts(ManageStock::Yes, Some(2), "no", 2), Some(0), "outofstock")]
    #[case::backorders_allowed(
        facts(ManageStock::Yes, Some(1), "notify", 3),
        Some(-2),
        "onbackorder"
    )]
    #[case::parent_counts(facts(ManageStock::Parent, Some(4), "no", 1), Some(3), "instock")]
    #[case::not_counted_keeps_upstream_status(
        facts(ManageStock::No, None, "no", 7),
        None,
        "instock"
    )]
    fn available_stock_subtracts_unconfirmed_sales(
        #[case] f: StockFacts,
        #[case] available: Option<i64>,
        #[case] status: &str,
    ) {
        let v = f.view();
        assert_eq!(v.available, available);
        assert_eq!(v.status, status);
    }
}
