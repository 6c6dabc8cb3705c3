//! Webhooks, in the project's terms: deliveries are hints that an object
//! changed. Verified deliveries are stored raw in the inbox, a database file
//! of its own with its own writer ([`crate::store::inbox`]), applied in
//! order by a worker through the same date guard as the pull ([`apply`],
//! [`worker`]), and objects gone by delivery time are settled by asking the
//! shop ([`refetch`]). [`subscriptions`] installs and watches the agent's
//! subscriptions; [`secrets`] holds what deliveries are signed with.
//!
//! Polling stays the source of truth: a lost delivery is only a delay.

pub mod apply;
pub mod refetch;
pub mod secrets;
pub mod subscriptions;
pub mod worker;

pub use subscriptions::check_subscriptions;

use crate::store::StoreError;
use crate::upstream::UpstreamError;

/// Why a webhook operation failed.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// The shop failed or refused.
    #[error("webhook subscriptions: {0}")]
    Upstream(#[from] UpstreamError),
    /// The replica could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
}
