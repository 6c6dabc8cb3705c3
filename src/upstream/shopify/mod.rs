//! Shopify's Admin API on the wire (GraphQL, pinned versions): the pieces
//! that stand on their own before a Shopify client exists.
//!
//! - [`webhook`]: `X-Shopify-*` delivery headers and the HMAC over the raw body
//! - [`cost`]: `extensions.cost` and the pacer that keeps under the cost bucket
//! - [`classify`]: a GraphQL answer's errors (`THROTTLED`, `MAX_COST_EXCEEDED`,
//!   a 429, …) into [`UpstreamError`](crate::upstream::UpstreamError)
//! - [`bulk`]: a bulk operation's JSONL, read as a stream of parent groups
//! - [`token`]: the client-credentials grant and when to renew its token
//!
//! Like `woo/` for WooCommerce, this is the only place that knows Shopify's
//! field and header names.

pub mod bulk;
pub mod classify;
pub mod client;
pub mod connection;
pub mod cost;
pub mod export;
pub mod pages;
pub mod queries;
pub mod token;
pub mod webhook;
pub mod wire;
pub mod writes;

#[cfg(test)]
mod test_shop;
