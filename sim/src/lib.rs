//! Simulated online stores for possync's demo, tests and benchmarks.
//!
//! - [`woo`]: a WooCommerce 11.0.1 store speaking `/wp-json/wc/v3`
//! - [`shopify`]: a Shopify store speaking the Admin GraphQL API, every
//!   document validated against the real schema of its API version
//! - [`WebhookFaults`]: webhook deliveries lost, repeated, held back or
//!   reordered, the same for both
//!
//! This crate does not depend on the agent: a simulated store and the
//! agent's client are two independent readings of a shop's API that meet
//! only on the wire, and sharing a type between them would let one reading
//! silently become the other.

mod hook_faults;
mod net;
pub mod shopify;
pub mod woo;

pub use hook_faults::WebhookFaults;
pub use net::NetworkSwitch;

mod words;
