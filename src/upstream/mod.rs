//! "A remote shop", in the project's terms: the [`Upstream`] trait the sync
//! engine talks to, the queries it can ask, and [`UpstreamError`], classified
//! once at the boundary so callers only ask `is_transient()`.
//!
//! Wire formats live in the submodules; nothing outside `woo/` knows a
//! WooCommerce field name, nothing outside `shopify/` a Shopify one.

pub mod contact;
pub mod retry;
pub mod shop;
pub mod shopify;
pub mod woo;
pub mod writes;

use std::future::Future;
use std::time::Duration;

use secrecy::SecretString;

use crate::domain::batch::{Records, Snapshot};
use crate::domain::webhooks::{Subscription, SubscriptionStatus, Topic};
use crate::domain::{GmtTime, Resource, UpstreamId};

/// A failure talking to the shop, classified.
#[derive(Debug, Clone, thiserror::Error)]
pub enum UpstreamError {
    /// The shop could not be reached, timed out, reset the connection, or
    /// answered 429 or a server error: worth trying again later.
    #[error("shop unreachable or busy: {reason}")]
    Transient {
        reason: String,
        /// How long the shop asked us to wait (`Retry-After`).
        retry_after: Option<Duration>,
    },
    /// The shop refused the API keys (401/403).
    #[error("shop rejected the API keys ({status} {code}): {message}")]
    Auth {
        status: u16,
        code: String,
        message: String,
    },
    /// The object or route does not exist (404).
    #[error("not found on the shop ({code}): {message}")]
    NotFound { code: String, message: String },
    /// The shop refused the request itself (400 and other 4xx, or a 5xx
    /// whose error code says the request is wrong). Retrying will not help.
    #[error("shop refused the request ({status} {code}): {message}")]
    Rejected {
        status: u16,
        code: String,
        message: String,
    },
    /// The shop answered 2xx with a body that is not the JSON expected (a PHP
    /// notice or an HTML page in front of it, or a changed format).
    #[error(
        "shop answered with something that is not the JSON expected ({detail}); it begins: {snippet:?}"
    )]
    Malformed { detail: String, snippet: String },
    /// The shop's TLS certificate was refused (self-signed, expired, for
    /// another name): nothing was sent. Every request fails alike until the
    /// certificate or the configuration changes.
    #[error(
        "the shop's TLS certificate was refused (self-signed or expired): install a valid certificate, or set store.verify_tls = false for a test shop ({reason})"
    )]
    Tls { reason: String },
    /// The shop's host name does not exist (the resolver answered that it
    /// has no such name): nothing was sent. A resolver that could not answer
    /// at all (no network) is [`UpstreamError::Transient`] instead.
    #[error("the shop's name does not resolve: check the store URL ({reason})")]
    NameNotResolved { reason: String },
    /// The HTTP client could not be built (TLS set-up).
    #[error("cannot set up the connection to the shop: {0}")]
    Setup(String),
}

impl UpstreamError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, UpstreamError::Transient { .. })
    }

    /// Whether the shop could not be reached at all (no HTTP answer: refused,
    /// timed out, reset), as opposed to answering 429 or 5xx.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, UpstreamError::Transient { reason, .. } if !reason.starts_with("HTTP "))
    }

    /// How long the shop asked us to wait, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            UpstreamError::Transient { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Whether the error is about credentials (every request will fail alike).
    pub fn is_auth(&self) -> bool {
        matches!(self, UpstreamError::Auth { .. })
    }

    /// Whether every request will fail alike until someone fixes something
    /// outside the agent: the API keys ([`UpstreamError::Auth`]), the shop's
    /// certificate ([`UpstreamError::Tls`]) or the store address
    /// ([`UpstreamError::NameNotResolved`]). Not worth retrying soon (no
    /// in-request retry, a full pull stops), but not a refusal of what was
    /// asked either: the outbox keeps such entries queued and asks again at
    /// a slow pace.
    pub fn needs_fix(&self) -> bool {
        matches!(
            self,
            UpstreamError::Auth { .. }
                | UpstreamError::Tls { .. }
                | UpstreamError::NameNotResolved { .. }
        )
    }

    /// Whether the request certainly never reached the shop because the
    /// connection could not be set up (certificate refused, name unknown).
    pub fn never_sent(&self) -> bool {
        matches!(
            self,
            UpstreamError::Tls { .. } | UpstreamError::NameNotResolved { .. }
        )
    }
}

/// Which part of a paged resource to walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The whole collection.
    All,
    /// The children of one parent (variations of a product, refunds of an
    /// order), for stores without the flat collection.
    Parent(UpstreamId),
}

impl Scope {
    /// The number persisted as the unit of progress (0 for the whole).
    pub fn as_i64(self) -> i64 {
        match self {
            Scope::All => 0,
            Scope::Parent(id) => id,
        }
    }
}

/// Filters on a paged resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Statuses to include (products, orders); empty = the shop's default.
    pub statuses: Vec<String>,
    /// Only objects created after this time (orders, refunds).
    pub created_after: Option<GmtTime>,
    /// Only objects modified after this time (products, variations, orders).
    pub modified_after: Option<GmtTime>,
    /// Only these ids.
    pub include: Vec<UpstreamId>,
}

/// Where a walk of a listing stands: an opaque position that the adapter
/// makes and reads (WooCommerce: a page number; Shopify: a connection's
/// `endCursor`). The engine only persists it, compares it and hands it back.
///
/// The empty cursor, [`Cursor::start`], is every listing's first page, for
/// every kind of shop: a run persisted before cursors existed carries its
/// page 1 as the empty cursor (migration 0011).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Cursor(String);

impl Cursor {
    /// The first page of any listing.
    pub fn start() -> Cursor {
        Cursor(String::new())
    }

    /// A cursor as the adapter wrote it (or as it was persisted).
    pub fn new(text: impl Into<String>) -> Cursor {
        Cursor(text.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_start(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A request for one page, always in stable ascending id order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageQuery {
    pub resource: Resource,
    pub scope: Scope,
    pub filter: Filter,
    /// Which page: [`Cursor::start`] for the first, then what the previous
    /// page's `next` (or [`Upstream::cursors_ahead`]) said.
    pub cursor: Cursor,
    pub per_page: u8,
}

impl PageQuery {
    /// The first page of a listing.
    pub fn first(resource: Resource, scope: Scope, filter: Filter, per_page: u8) -> PageQuery {
        PageQuery {
            resource,
            scope,
            filter,
            cursor: Cursor::start(),
            per_page,
        }
    }

    /// The same listing at `cursor`.
    pub fn at(&self, cursor: Cursor) -> PageQuery {
        PageQuery {
            cursor,
            ..self.clone()
        }
    }
}

/// One page of records and what the shop said about the whole set. The
/// totals are the shop's where it gives them, `None` where it does not.
#[derive(Debug, Clone)]
pub struct Page {
    pub records: Records,
    /// The page after this one; `None` when this one is the last.
    pub next: Option<Cursor>,
    /// How many objects the listing holds.
    pub total_items: Option<u64>,
    /// How many pages the listing has, where the shop says: with it, the
    /// adapter can address every page ahead ([`Upstream::cursors_ahead`]).
    pub total_pages: Option<u32>,
    /// The shop's clock when it answered (`Date`).
    pub server_time: Option<GmtTime>,
}

/// One page of bare ids (a cheap scan).
#[derive(Debug, Clone)]
pub struct IdPage {
    pub ids: Vec<UpstreamId>,
    pub next: Option<Cursor>,
    pub total_items: Option<u64>,
    pub total_pages: Option<u32>,
}

/// One page of `(id, version)` stamps (a cheap comparison listing).
#[derive(Debug, Clone)]
pub struct StampPage {
    pub stamps: Vec<crate::domain::Stamp>,
    /// For variations: each one's parent product, `(variation, parent)`.
    pub parents: Vec<(UpstreamId, UpstreamId)>,
    pub next: Option<Cursor>,
    pub total_items: Option<u64>,
    pub total_pages: Option<u32>,
}

/// A whole resource received in one go (a shop's bulk export), as batches
/// of records in the order the shop streams them.
pub type Export = futures::stream::BoxStream<'static, Result<Records, UpstreamError>>;

/// What the shop's version supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// `GET /variations` lists every variation in one walk (WooCommerce 10.3+).
    pub variations_endpoint: bool,
    /// `GET /refunds` lists every refund in one walk.
    pub refunds_endpoint: bool,
}

/// What a first cheap request tells about the shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    pub capabilities: Capabilities,
    /// The shop's clock (`Date`), the watermark a pull starts from.
    pub server_time: Option<GmtTime>,
}

/// A remote shop, as the sync engine sees it.
pub trait Upstream: Send + Sync + 'static {
    /// Checks the shop answers, reads its clock and finds out what its
    /// version supports.
    fn probe(&self) -> impl Future<Output = Result<Probe, UpstreamError>> + Send;

    /// Fetches a whole small resource.
    fn snapshot(
        &self,
        resource: Resource,
    ) -> impl Future<Output = Result<Snapshot, UpstreamError>> + Send;

    /// Fetches one page of a paged resource.
    fn page(&self, query: &PageQuery) -> impl Future<Output = Result<Page, UpstreamError>> + Send;

    /// The cursors of every page of a listing the shop said has `pages`
    /// pages, first ([`Cursor::start`]) to last, so that they can be fetched
    /// at once. Empty (the default) where pages can only be reached one
    /// from the other, by each page's `next`: the engine then follows it.
    fn cursors_ahead(&self, pages: u32) -> Vec<Cursor> {
        let _ = pages;
        Vec::new()
    }

    /// The resources this kind of shop has and the agent mirrors from it,
    /// in the order a full pull takes them; a pull leaves the others out
    /// (and they are not counted missing). Every resource by default.
    fn resources(&self) -> &'static [Resource] {
        &Resource::ALL
    }

    /// The whole of a paged resource under `filter` as one streamed export,
    /// when the shop offers one for it (a bulk operation) and deems it the
    /// better way; `None` (the default) to have it walked page by page.
    /// A full pull writes the batches as they come; an interrupted export is
    /// asked again as a whole (the adapter may pick up what it still holds).
    fn export(
        &self,
        resource: Resource,
        filter: &Filter,
    ) -> impl Future<Output = Result<Option<Export>, UpstreamError>> + Send {
        let _ = (resource, filter);
        std::future::ready(Ok(None))
    }

    /// Whether a trashed product or order stays listed under the status
    /// `trash` (WooCommerce), so that a poll asks for those trashed since
    /// its cursor. Where it does not, trashed and deleted objects are
    /// learned from [`Upstream::deleted_since`] and the sweep.
    fn lists_trash(&self) -> bool {
        true
    }

    /// Objects of `resource` deleted at or after `since`, each with the
    /// time of its deletion, where the shop keeps a record of deletions
    /// (Shopify's `deletionEvents`, for products); `None` (the default)
    /// where it keeps none, and the id sweep finds them.
    fn deleted_since(
        &self,
        resource: Resource,
        since: GmtTime,
    ) -> impl Future<Output = Result<Option<Vec<crate::domain::Stamp>>, UpstreamError>> + Send {
        let _ = (resource, since);
        std::future::ready(Ok(None))
    }

    /// Fetches one page of ids only.
    fn id_page(
        &self,
        query: &PageQuery,
    ) -> impl Future<Output = Result<IdPage, UpstreamError>> + Send;

    /// Fetches one page of ids with their modification dates.
    fn stamp_page(
        &self,
        query: &PageQuery,
    ) -> impl Future<Output = Result<StampPage, UpstreamError>> + Send;
    /// Fetches one object by id (products, variations, orders, customers);
    /// `None` when the shop says it does not exist.
    fn fetch_one(
        &self,
        resource: Resource,
        id: UpstreamId,
    ) -> impl Future<Output = Result<Option<Records>, UpstreamError>> + Send;
}

/// A change to a webhook subscription.
#[derive(Debug, Default)]
pub struct SubscriptionChange {
    pub status: Option<SubscriptionStatus>,
    pub secret: Option<SecretString>,
    pub name: Option<String>,
}

/// A shop's webhook subscriptions.
pub trait WebhookAdmin: Send + Sync + 'static {
    /// Every subscription on the shop.
    fn list_webhooks(
        &self,
    ) -> impl Future<Output = Result<Vec<Subscription>, UpstreamError>> + Send;

    /// Subscribes `delivery_url` to `topic`, signed with `secret`.
    fn create_webhook(
        &self,
        name: &str,
        topic: Topic,
        delivery_url: &str,
        secret: &SecretString,
    ) -> impl Future<Output = Result<Subscription, UpstreamError>> + Send;

    /// Changes a subscription.
    fn update_webhook(
        &self,
        id: UpstreamId,
        change: &SubscriptionChange,
    ) -> impl Future<Output = Result<Subscription, UpstreamError>> + Send;

    /// Deletes a subscription for good.
    fn delete_webhook(
        &self,
        id: UpstreamId,
    ) -> impl Future<Output = Result<(), UpstreamError>> + Send;
}

/// A header's value as trimmed text; `None` when absent, empty or not
/// visible ASCII. Both shops' webhook deliveries are read through it.
pub(crate) fn header_text<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}
