//! Webhook subscriptions made by `possync webhooks install`, with their
//! signing secrets. Secrets leave this module only as [`SecretString`]s.

use rusqlite::{Connection, Transaction, named_params};
use secrecy::{ExposeSecret, SecretString};

use super::StoreError;
use crate::domain::UpstreamId;
use crate::domain::webhooks::SubscriptionStatus;

const UPSERT: &str = "
INSERT INTO webhook_subscriptions (id, topic, delivery_url, secret, status, created_at, checked_at)
VALUES (:id, :topic, :url, :secret, :status, :now, :now)
ON CONFLICT (id) DO UPDATE SET
    topic = excluded.topic, delivery_url = excluded.delivery_url, secret = excluded.secret,
    status = excluded.status, checked_at = excluded.checked_at";
const DELETE_TARGET: &str =
    "DELETE FROM webhook_subscriptions WHERE delivery_url = :url AND topic = :topic AND id <> :id";
const SET_STATUS: &str =
    "UPDATE webhook_subscriptions SET status = :status, checked_at = :now WHERE id = :id";
const DELETE: &str = "DELETE FROM webhook_subscriptions WHERE id = :id";
const LIST: &str =
    "SELECT id, topic, delivery_url, secret, status FROM webhook_subscriptions ORDER BY id";
const SECRETS: &str = "SELECT DISTINCT secret FROM webhook_subscriptions";

/// A subscription this agent made.
pub struct LocalSubscription {
    pub id: UpstreamId,
    pub topic: String,
    pub delivery_url: String,
    pub secret: SecretString,
    /// The status last seen upstream.
    pub status: SubscriptionStatus,
}

impl std::fmt::Debug for LocalSubscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalSubscription")
            .field("id", &self.id)
            .field("topic", &self.topic)
            .field("delivery_url", &self.delivery_url)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// Records (or replaces) a subscription.
pub fn save(tx: &Transaction<'_>, sub: &LocalSubscription, now_ms: i64) -> Result<(), StoreError> {
    // One subscription per (url, topic): an older record for the same
    // target (removed upstream by hand, then reinstalled) is replaced.
    tx.prepare_cached(DELETE_TARGET)?.execute(named_params! {
        ":url": sub.delivery_url, ":topic": sub.topic, ":id": sub.id,
    })?;
    tx.prepare_cached(UPSERT)?.execute(named_params! {
        ":id": sub.id,
        ":topic": sub.topic,
        ":url": sub.delivery_url,
        ":secret": sub.secret.expose_secret(),
        ":status": sub.status.as_str(),
        ":now": now_ms,
    })?;
    Ok(())
}

/// Updates the status last seen upstream.
pub fn set_status(
    tx: &Transaction<'_>,
    id: UpstreamId,
    status: SubscriptionStatus,
    now_ms: i64,
) -> Result<(), StoreError> {
    tx.prepare_cached(SET_STATUS)?.execute(named_params! {
        ":id": id, ":status": status.as_str(), ":now": now_ms,
    })?;
    Ok(())
}

/// Forgets a subscription.
pub fn delete(tx: &Transaction<'_>, id: UpstreamId) -> Result<(), StoreError> {
    tx.prepare_cached(DELETE)?
        .execute(named_params! { ":id": id })?;
    Ok(())
}

/// Every subscription this agent made.
pub fn list(conn: &Connection) -> Result<Vec<LocalSubscription>, StoreError> {
    let mut stmt = conn.prepare_cached(LIST)?;
    let rows = stmt
        .query_map([], |r| {
            Ok(LocalSubscription {
                id: r.get(0)?,
                topic: r.get(1)?,
                delivery_url: r.get(2)?,
                secret: SecretString::from(r.get::<_, String>(3)?),
                status: SubscriptionStatus::parse(&r.get::<_, String>(4)?),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The distinct secrets deliveries may be signed with.
pub fn secrets(conn: &Connection) -> Result<Vec<SecretString>, StoreError> {
    let mut stmt = conn.prepare_cached(SECRETS)?;
    let rows = stmt
        .query_map([], |r| Ok(SecretString::from(r.get::<_, String>(0)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}
