//! WooCommerce REST v3.
pub mod auth;
