//! The configured shop, whatever its kind: [`Shop`] holds the client of a
//! WooCommerce or a Shopify shop and is what the app hands to the sync
//! engine, the replayer, the webhook worker and the command line. Each
//! trait is answered by the client of the shop's kind; nothing here knows
//! a wire name.

use std::collections::BTreeMap;
use std::time::Duration;

use secrecy::SecretString;
use uuid::Uuid;

use super::contact::Contact;
use super::shopify::client::ShopifyClient;
use super::shopify::connection::ShopifyConnection;
use super::woo::client::WooClient;
use super::writes::{CreatedOrder, StockLevel, UpstreamWrites, WriteFailure};
use super::{
    Cursor, Export, Filter, IdPage, Page, PageQuery, Probe, StampPage, SubscriptionChange,
    Upstream, UpstreamError, WebhookAdmin,
};
use crate::config::{StoreConfig, StoreKind};
use crate::domain::batch::{Records, Snapshot};
use crate::domain::customers::Customer;
use crate::domain::orders::{Order, Refund};
use crate::domain::outbox::{CustomerFields, Return, Sale};
use crate::domain::webhooks::{Subscription, Topic};
use crate::domain::{GmtTime, Resource, UpstreamId};
use crate::sync::limit::Limit;

/// The resources a shop of `kind` has and the agent mirrors, in pull
/// order (what [`Upstream::resources`] says of its client).
pub fn mirrored(kind: StoreKind) -> &'static [Resource] {
    match kind {
        StoreKind::WooCommerce => &Resource::ALL,
        StoreKind::Shopify => &super::shopify::upstream::MIRRORED,
    }
}

/// A client of the configured shop.
// One per task of a generation, so the few hundred bytes the larger
// variant takes are not worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Shop {
    WooCommerce(WooClient),
    Shopify(ShopifyClient),
}

/// Runs `$body` with `$c` bound to the client, whatever the shop's kind.
macro_rules! each {
    ($shop:expr, $c:ident => $body:expr) => {
        match $shop {
            Shop::WooCommerce($c) => $body,
            Shop::Shopify($c) => $body,
        }
    };
}

impl Shop {
    /// A client for the configured store.
    pub fn connect(cfg: &StoreConfig) -> Result<Shop, UpstreamError> {
        Ok(match cfg.kind() {
            StoreKind::WooCommerce => Shop::WooCommerce(WooClient::new(cfg)?),
            StoreKind::Shopify => {
                Shop::Shopify(ShopifyClient::new(ShopifyConnection::from_config(cfg)?)?)
            }
        })
    }

    /// The kind of shop this client talks to.
    pub fn kind(&self) -> StoreKind {
        match self {
            Shop::WooCommerce(_) => StoreKind::WooCommerce,
            Shop::Shopify(_) => StoreKind::Shopify,
        }
    }

    /// Gates the client's requests with `limit` (see [`crate::sync::limit`]).
    /// A Shopify shop is paced by its cost bucket instead, whatever the
    /// limit: Shopify says how much it can take, in points per second.
    pub fn with_limit(self, limit: Limit) -> Shop {
        match self {
            Shop::WooCommerce(c) => Shop::WooCommerce(c.with_limit(limit)),
            shopify @ Shop::Shopify(_) => shopify,
        }
    }

    /// Records answers and unreachable requests into `contact`.
    pub fn with_contact(self, contact: Contact) -> Shop {
        match self {
            Shop::WooCommerce(c) => Shop::WooCommerce(c.with_contact(contact)),
            Shop::Shopify(c) => Shop::Shopify(c.with_contact(contact)),
        }
    }

    /// Requests sent so far (retries included).
    pub fn requests_sent(&self) -> u64 {
        each!(self, c => c.requests_sent())
    }
}

impl Upstream for Shop {
    async fn probe(&self) -> Result<Probe, UpstreamError> {
        each!(self, c => Upstream::probe(c).await)
    }

    async fn snapshot(&self, resource: Resource) -> Result<Snapshot, UpstreamError> {
        each!(self, c => Upstream::snapshot(c, resource).await)
    }

    async fn page(&self, query: &PageQuery) -> Result<Page, UpstreamError> {
        each!(self, c => Upstream::page(c, query).await)
    }

    fn cursors_ahead(&self, pages: u32) -> Vec<super::Cursor> {
        each!(self, c => Upstream::cursors_ahead(c, pages))
    }

    fn resources(&self) -> &'static [Resource] {
        each!(self, c => Upstream::resources(c))
    }

    async fn export(
        &self,
        resource: Resource,
        filter: &Filter,
        resume: Option<&Cursor>,
    ) -> Result<Option<Export<'_>>, UpstreamError> {
        each!(self, c => Upstream::export(c, resource, filter, resume).await)
    }

    fn lists_trash(&self) -> bool {
        each!(self, c => Upstream::lists_trash(c))
    }

    async fn deleted_since(
        &self,
        resource: Resource,
        since: GmtTime,
    ) -> Result<Option<Vec<crate::domain::Stamp>>, UpstreamError> {
        each!(self, c => Upstream::deleted_since(c, resource, since).await)
    }

    async fn id_page(&self, query: &PageQuery) -> Result<IdPage, UpstreamError> {
        each!(self, c => Upstream::id_page(c, query).await)
    }

    async fn stamp_page(&self, query: &PageQuery) -> Result<StampPage, UpstreamError> {
        each!(self, c => Upstream::stamp_page(c, query).await)
    }

    async fn fetch_one(
        &self,
        resource: Resource,
        id: UpstreamId,
    ) -> Result<Option<Records>, UpstreamError> {
        each!(self, c => Upstream::fetch_one(c, resource, id).await)
    }
}

impl UpstreamWrites for Shop {
    async fn ping(&self) -> Result<(), UpstreamError> {
        each!(self, c => UpstreamWrites::ping(c).await)
    }

    async fn create_order(
        &self,
        key: Uuid,
        sale: &Sale,
        customer_id: UpstreamId,
    ) -> Result<CreatedOrder, WriteFailure> {
        each!(self, c => UpstreamWrites::create_order(c, key, sale, customer_id).await)
    }

    async fn find_order(
        &self,
        key: Uuid,
        since: GmtTime,
    ) -> Result<Option<CreatedOrder>, UpstreamError> {
        each!(self, c => UpstreamWrites::find_order(c, key, since).await)
    }

    fn order_search_lag_left(&self, since: GmtTime) -> Duration {
        each!(self, c => UpstreamWrites::order_search_lag_left(c, since))
    }

    async fn create_refund(
        &self,
        key: Uuid,
        order_id: UpstreamId,
        ret: &Return,
        lines: &BTreeMap<UpstreamId, UpstreamId>,
    ) -> Result<Refund, WriteFailure> {
        each!(self, c => UpstreamWrites::create_refund(c, key, order_id, ret, lines).await)
    }

    async fn find_refund(
        &self,
        key: Uuid,
        order_id: UpstreamId,
    ) -> Result<Option<Refund>, UpstreamError> {
        each!(self, c => UpstreamWrites::find_refund(c, key, order_id).await)
    }

    async fn set_order_status(
        &self,
        order_id: UpstreamId,
        status: &str,
    ) -> Result<Order, WriteFailure> {
        each!(self, c => UpstreamWrites::set_order_status(c, order_id, status).await)
    }

    async fn create_customer(
        &self,
        key: Uuid,
        fields: &CustomerFields,
    ) -> Result<Customer, WriteFailure> {
        each!(self, c => UpstreamWrites::create_customer(c, key, fields).await)
    }

    async fn find_customer_by_email(
        &self,
        email: &str,
    ) -> Result<Option<UpstreamId>, UpstreamError> {
        each!(self, c => UpstreamWrites::find_customer_by_email(c, email).await)
    }

    async fn update_customer(
        &self,
        id: UpstreamId,
        fields: &CustomerFields,
    ) -> Result<(), WriteFailure> {
        each!(self, c => UpstreamWrites::update_customer(c, id, fields).await)
    }

    async fn stock(
        &self,
        product_id: UpstreamId,
        variation_id: UpstreamId,
    ) -> Result<StockLevel, UpstreamError> {
        each!(self, c => UpstreamWrites::stock(c, product_id, variation_id).await)
    }

    async fn set_stock(
        &self,
        product_id: UpstreamId,
        variation_id: UpstreamId,
        quantity: i64,
    ) -> Result<StockLevel, WriteFailure> {
        each!(self, c => UpstreamWrites::set_stock(c, product_id, variation_id, quantity).await)
    }
}

impl WebhookAdmin for Shop {
    async fn list_webhooks(&self) -> Result<Vec<Subscription>, UpstreamError> {
        each!(self, c => WebhookAdmin::list_webhooks(c).await)
    }

    async fn create_webhook(
        &self,
        name: &str,
        topic: Topic,
        delivery_url: &str,
        secret: &SecretString,
    ) -> Result<Subscription, UpstreamError> {
        each!(self, c => WebhookAdmin::create_webhook(c, name, topic, delivery_url, secret).await)
    }

    async fn update_webhook(
        &self,
        id: UpstreamId,
        change: &SubscriptionChange,
    ) -> Result<Subscription, UpstreamError> {
        each!(self, c => WebhookAdmin::update_webhook(c, id, change).await)
    }

    async fn delete_webhook(&self, id: UpstreamId) -> Result<(), UpstreamError> {
        each!(self, c => WebhookAdmin::delete_webhook(c, id).await)
    }
}
