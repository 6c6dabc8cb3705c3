//! Changes to the store, the way WooCommerce's CRUD classes make them: each
//! save stamps `date_modified` with the store's clock and records the
//! webhook-relevant event (`product.updated`, `order.created`, ...) it
//! would fire. Used by the REST write endpoints and by `SimHandle`.
//!
//! Owns state transitions only: no JSON shapes (that is `render/`), no
//! argument validation (that is `routes/writes`).

mod catalog;
mod customers;
pub(crate) mod input;
mod orders;
mod products;
mod refunds;
mod stock;
mod variations;

use super::SimCounts;
use super::clock::Ts;
use super::model::{OrderStatus, PostStatus, ProductType, Store};

pub(crate) use catalog::{
    add_simple_product, delete_product, restore_product, set_price, set_stock, trash_product,
};
pub(crate) use customers::{create_customer, delete_customer, update_customer};
pub(crate) use orders::{create_order, delete_order, trash_order, update_order};
pub(crate) use products::{create_product, update_product};
pub(crate) use refunds::{create_refund, delete_refund};
pub(crate) use variations::{create_variation, delete_variation, update_variation};

/// The resource part of a webhook topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HookResource {
    Product,
    Order,
    Customer,
}

impl HookResource {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            HookResource::Product => "product",
            HookResource::Order => "order",
            HookResource::Customer => "customer",
        }
    }
}

/// The event part of a webhook topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HookEvent {
    Created,
    Updated,
    Deleted,
    Restored,
}

impl HookEvent {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            HookEvent::Created => "created",
            HookEvent::Updated => "updated",
            HookEvent::Deleted => "deleted",
            HookEvent::Restored => "restored",
        }
    }
}

/// Something a webhook may be told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Change {
    pub resource: HookResource,
    pub event: HookEvent,
    pub id: i64,
}

/// One unit of work on the store (a REST request, a handle call): the
/// store, the store's clock, and the events fired so far. WooCommerce
/// queues one delivery per (webhook, resource) while one is pending, so
/// repeated saves of one object in one request collapse into one event.
pub(crate) struct Tx<'a> {
    pub store: &'a mut Store,
    pub now: Ts,
    pub changes: Vec<Change>,
    /// Webhooks created active in this unit: each gets its ping.
    pub pings: Vec<i64>,
}

impl<'a> Tx<'a> {
    pub(crate) fn new(store: &'a mut Store, now: Ts) -> Self {
        Self {
            store,
            now,
            changes: Vec::new(),
            pings: Vec::new(),
        }
    }

    pub(crate) fn emit(&mut self, resource: HookResource, event: HookEvent, id: i64) {
        let c = Change {
            resource,
            event,
            id,
        };
        if !self.changes.contains(&c) {
            self.changes.push(c);
        }
    }
}

/// Counts of everything, trash included.
pub(crate) fn counts(store: &Store) -> SimCounts {
    let products_with = |s: PostStatus| store.products.values().filter(|p| p.status == s).count();
    let orders_with = |s: OrderStatus| store.orders.values().filter(|o| o.status == s).count();
    SimCounts {
        products: store.products.len(),
        products_publish: products_with(PostStatus::Publish),
        products_draft: products_with(PostStatus::Draft),
        products_pending: products_with(PostStatus::Pending),
        products_private: products_with(PostStatus::Private),
        products_trash: products_with(PostStatus::Trash),
        products_simple: store
            .products
            .values()
            .filter(|p| p.kind == ProductType::Simple)
            .count(),
        products_variable: store
            .products
            .values()
            .filter(|p| p.kind == ProductType::Variable)
            .count(),
        variations: store.variations.len(),
        variations_trash: store
            .variations
            .values()
            .filter(|v| v.status == PostStatus::Trash)
            .count(),
        customers: store
            .customers
            .values()
            .filter(|c| c.role == "customer")
            .count(),
        users: store.customers.len(),
        orders: store.orders.len(),
        orders_trash: orders_with(OrderStatus::Trash),
        orders_processing: orders_with(OrderStatus::Processing),
        orders_completed: orders_with(OrderStatus::Completed),
        refunds: store.refunds.len(),
        categories: store.categories.len(),
        tags: store.tags.len(),
        attributes: store.attributes.len(),
        attribute_terms: store.attribute_terms.len(),
        tax_rates: store.tax_rates.len(),
        shipping_zones: store.zones.len(),
    }
}
