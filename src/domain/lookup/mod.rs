//! Till lookups in the project's own terms: what a till asks (`query`), what
//! it is answered (`views`), and the two rules worked out offline at answer
//! time: the price charged now (`pricing`) and the stock still available
//! (`stock`). No SQL and no wire format here.

pub mod pricing;
pub mod query;
pub mod stock;
pub mod views;
