//! WooCommerce REST v3: authentication, pagination, error classification and
//! the JSON wire format. The only module that knows WooCommerce field names.
pub mod auth;
pub mod check;
pub mod classify;
pub mod client;
pub mod paging;
pub mod probe;
pub mod webhook;
pub mod webhook_admin;
pub mod wire;
pub mod writes;
