//! Shopify's Admin API (GraphQL, pinned versions): the client and the
//! pieces it is made of.
//!
//! - [`connection`]: what the client needs (shop URL, version, token or
//!   client credentials, location), converted from the configuration
//! - [`client`]: [`client::ShopifyClient`], POSTs paced to the cost bucket,
//!   retries, token renewal
//! - [`queries`]: every GraphQL document, validated against the schema in tests
//! - [`wire`]: the selected objects and their mapping into our types
//! - [`pages`]: cursor pages, delta searches, product deletions
//! - [`export`]: bulk exports, polled and streamed into record batches
//! - [`writes`]: orders, refunds, stock adjustments and customers from the till
//! - [`replay`]: the outbox replayer's [`UpstreamWrites`](crate::upstream::writes::UpstreamWrites)
//!   over those writes: each made safe to send twice
//! - [`webhook`]: `X-Shopify-*` delivery headers and the HMAC over the raw body
//! - [`delivery`]: the topics taken, and the REST-shaped payloads as instructions
//! - [`webhook_admin`]: `webhookSubscriptions` and its mutations, the subscriptions
//! - [`cost`]: `extensions.cost` and the pacer that keeps under the cost bucket
//! - [`classify`]: a GraphQL answer's errors (`THROTTLED`, `MAX_COST_EXCEEDED`,
//!   a 429, …) into [`UpstreamError`](crate::upstream::UpstreamError)
//! - [`bulk`]: a bulk operation's JSONL, read as a stream of parent groups
//! - [`upstream`]: the sync engine's [`Upstream`](crate::upstream::Upstream) over cursor pages
//! - [`token`]: the client-credentials grant and when to renew its token
//!
//! Like `woo/` for WooCommerce, this is the only place that knows Shopify's
//! field and header names.

pub mod bulk;
pub mod classify;
pub mod client;
pub mod connection;
pub mod cost;
pub mod delivery;
pub mod export;
pub mod pages;
pub mod queries;
pub mod replay;
pub mod token;
pub mod upstream;
pub mod webhook;
pub mod webhook_admin;
pub mod wire;
pub mod writes;

#[cfg(test)]
mod test_shop;
