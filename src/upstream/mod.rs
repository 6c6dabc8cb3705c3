//! Remote shops, in the project's terms.
pub mod woo;
