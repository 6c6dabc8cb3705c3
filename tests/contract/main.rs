//! The contract suite: the real agent against a real WooCommerce store.
//!
//! Set `POSSYNC_CONTRACT_STORE="URL CK CS"` (the line
//! `../shared/realstore/up.sh` prints) to run it; without it every test
//! says on one line that it was skipped and why, and passes. Every request
//! the suite makes on its own is also made against the simulated store
//! (`differential`), so a place where the sim is more lenient than the real
//! shop is a failing test with both answers, not a surprise in a shop.
//!
//! Tests share one real store, so they take turns ([`shop::Shop::take`]);
//! each makes its own uniquely named objects and removes them.

#[path = "../it/common/mod.rs"]
mod common;

mod check;
mod differential;
mod errors;
mod exactly_once;
mod proxy;
mod pull;
mod shop;
mod webhooks;
mod writes;
