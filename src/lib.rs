//! possync: an offline-first sync agent for point-of-sale terminals.
pub mod domain;
pub mod sim;
pub mod upstream;
