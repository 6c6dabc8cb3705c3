//! The till's lookup endpoints: products (barcode, SKU, text), customers,
//! orders for returns, and pickups. Read-only; every answer comes from the
//! replica on a read connection, never from the network.
//!
//! | endpoint | answer |
//! |---|---|
//! | `GET /api/products` | `q`, `sku`, `barcode`, `category`, `in_stock`, `sort`, paging |
//! | `GET /api/products/{id}` | one product with price now, stock, categories |
//! | `GET /api/products/{id}/variations` | its variations, paged |
//! | `GET /api/customers` | `q` (name, email, phone, company), `sort`, paging |
//! | `GET /api/customers/{id}` | addresses and recent orders |
//! | `GET /api/orders` | `q` (number, name, email, phone), `status`, `sort`, paging |
//! | `GET /api/orders/{id}` | lines, refunds, quantity still refundable |
//! | `GET /api/pickups` | orders awaiting collection (config `lookup.pickup_*`) |

mod customers;
mod orders;
mod params;
mod products;

use axum::Router;
use axum::routing::get;

use super::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/products", get(products::list))
        .route("/api/products/{id}", get(products::one))
        .route("/api/products/{id}/variations", get(products::variations))
        .route("/api/customers", get(customers::list))
        .route("/api/customers/{id}", get(customers::one))
        .route("/api/orders", get(orders::list))
        .route("/api/orders/{id}", get(orders::one))
        .route("/api/pickups", get(orders::pickups))
}
