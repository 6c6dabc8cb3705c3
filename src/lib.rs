//! possync: an offline-first sync agent for point-of-sale terminals.
pub mod config;
pub mod domain;
pub mod sim;
pub mod store;
pub mod sync;
pub mod upstream;
