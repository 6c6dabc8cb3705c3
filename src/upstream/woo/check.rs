//! The shop-side objects of `possync check --writes`: a hidden test product
//! to sell, and the force deletes that remove the check's order and product
//! again. Only ever used on a profile marked `store.mode = "staging"`.

use reqwest::Method;
use serde_json::{Value, json};

use super::client::WooClient;
use crate::domain::UpstreamId;
use crate::upstream::UpstreamError;
use crate::upstream::writes::WriteFailure;

/// Meta key marking the objects a write check made, so a manager can find
/// any left behind by an interrupted check.
pub const CHECK_META: &str = "possync_check";

/// The `POST /products` body of a check's test product: private and hidden
/// from the catalogue, so no customer of the shop can see or buy it.
pub fn test_product_body(name: &str, sku: &str, price: &str, stock: i64, run: &str) -> Value {
    json!({
        "name": name,
        "type": "simple",
        "status": "private",
        "catalog_visibility": "hidden",
        "sku": sku,
        "regular_price": price,
        "manage_stock": true,
        "stock_quantity": stock,
        "meta_data": [{"key": CHECK_META, "value": run}],
    })
}

fn force() -> Vec<(String, String)> {
    vec![("force".to_owned(), "true".to_owned())]
}

impl WooClient {
    /// Creates the check's hidden test product; returns its id.
    pub async fn create_test_product(
        &self,
        name: &str,
        sku: &str,
        price: &str,
        stock: i64,
        run: &str,
    ) -> Result<UpstreamId, WriteFailure> {
        let body = self
            .send(
                Method::POST,
                "products",
                &test_product_body(name, sku, price, stock, run),
            )
            .await?;
        body.get("id")
            .and_then(Value::as_i64)
            .ok_or_else(|| WriteFailure {
                error: UpstreamError::Malformed {
                    detail: "the created product has no id".to_owned(),
                    snippet: super::classify::snippet(body.to_string().as_bytes()),
                },
                maybe_applied: true,
            })
    }

    /// Deletes a product for good (not to the trash).
    pub async fn delete_product(&self, id: UpstreamId) -> Result<(), WriteFailure> {
        self.send_with_query(
            Method::DELETE,
            &format!("products/{id}"),
            &force(),
            &json!({}),
        )
        .await
        .map(|_| ())
    }

    /// Deletes an order for good (not to the trash).
    pub async fn delete_order(&self, id: UpstreamId) -> Result<(), WriteFailure> {
        self.send_with_query(
            Method::DELETE,
            &format!("orders/{id}"),
            &force(),
            &json!({}),
        )
        .await
        .map(|_| ())
    }
}
