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
//! | `GET /api/orders` | `q` (number, name, email, phone; this till's receipt number, whole or its beginning, any case), `status`, `sort`, paging; the shop's orders and this till's own sales |
//! | `GET /api/orders/{id}` | the shop's order id, or a sale's local id or receipt number: lines, refunds, this till's returns not mirrored yet, quantity still refundable |
//! | `GET /api/pickups` | orders awaiting collection (config `lookup.pickup_*`) |
//!
//! An order in a listing says where it comes from. `"source": "upstream"`
//! is the shop's order as mirrored; when it was sold at this till it also
//! carries `local_id`, `local_number` (the receipt number, which finds it)
//! and `sync_state` (`confirmed`). `"source": "local"` is a sale as this
//! till recorded it, while the replica holds no shop order for it: one the
//! shop has not confirmed (listed, and found by receipt number or billing
//! name, email or phone), with `id` `null`, its receipt number as `number`
//! and `sync_state` `queued`, `sending`, `unknown` or `rejected`; or one
//! whose order is outside the mirrored window (found by receipt number
//! only), with the shop's `id`. A discarded sale is not listed, and no sale
//! is listed twice. In relevance order the receipt-number matches come
//! first (the whole number before longer ones), then the unconfirmed sales
//! found by billing details, then the shop's orders by text.
//!
//! `GET /api/orders/{local id or receipt number}` is the sale as the till
//! recorded it, its lines numbered as `POST /api/orders/{local id}/refunds`
//! takes them; `GET /api/orders/{id}` is the shop's order, with the shop's
//! line ids, which a return posted to that id takes. Each line's
//! `refunded_quantity` counts the shop's mirrored refunds and this till's
//! returns not mirrored yet (`pending_refund_quantity`, listed under
//! `local_refunds`), each return once; `refundable_quantity` is what is
//! left.

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
        .route_layer(axum::middleware::from_fn(super::metrics::time_lookup))
}
