//! The agent's webhook subscriptions on the shop: install (idempotent:
//! existing ones are found by delivery URL and topic), list, pause, resume,
//! remove, and the periodic check that re-enables a subscription the shop
//! disabled after failed deliveries.

use crate::config::StoreKind;
use std::time::Duration;

use rand::RngCore;
use secrecy::SecretString;
use serde::Serialize;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use super::WebhookError;
use crate::domain::UpstreamId;
use crate::domain::time::unix_millis_now;
use crate::domain::webhooks::{Subscription, SubscriptionStatus, Topic};
use crate::store::events::{self, Level};
use crate::store::subscriptions::{self, LocalSubscription};
use crate::store::{Store, StoreError};
use crate::upstream::{SubscriptionChange, UpstreamError, WebhookAdmin};

/// How often the agent checks its subscriptions are still delivering.
pub const CHECK_EVERY: Duration = Duration::from_secs(3600);

/// What `install` did for one topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Installed {
    Created,
    /// Existed; reused with its secret, name or status set.
    Updated,
    /// Existed, active, with a secret this agent holds: reused as it is.
    Unchanged,
    /// The shop refused to create it (e.g. a topic it has no delivery hook
    /// for); the other topics are installed all the same.
    Refused {
        code: String,
        message: String,
    },
}

impl Installed {
    /// How `webhooks install` reports it.
    pub fn describe(&self) -> String {
        match self {
            Installed::Created => "created".to_owned(),
            Installed::Updated => "reused (re-enabled or given a new secret)".to_owned(),
            Installed::Unchanged => "reused".to_owned(),
            Installed::Refused { code, message } => {
                format!("could not create: the shop refused it ({code}: {message})")
            }
        }
    }
}

/// One subscription as `webhooks list` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct SubscriptionView {
    pub id: UpstreamId,
    pub topic: String,
    pub delivery_url: String,
    /// `None` when the shop no longer has it.
    pub upstream_status: Option<SubscriptionStatus>,
}

/// The delivery URL for the public base URL the shop reaches this agent
/// at (the receiver's path appended), or why `public_url` cannot be one.
/// The CLI and the back-office page both read it here.
pub fn delivery_url(public_url: &str) -> Result<String, String> {
    delivery_url_for(public_url, StoreKind::WooCommerce)
}

/// [`delivery_url`] for a shop of `kind`: each kind has its receiver.
pub fn delivery_url_for(public_url: &str, kind: StoreKind) -> Result<String, String> {
    let url = url::Url::parse(public_url.trim())
        .map_err(|e| format!("the public URL must be a URL ({e})"))?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err("the public URL must start with https:// or http://".to_owned());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("the public URL must not carry a query or fragment".to_owned());
    }
    Ok(format!(
        "{}{}",
        url.as_str().trim_end_matches('/'),
        match kind {
            StoreKind::WooCommerce => crate::api::webhooks::WOOCOMMERCE_PATH,
            StoreKind::Shopify => crate::api::webhooks::SHOPIFY_PATH,
        }
    ))
}

/// Whether WordPress delivers to `public_url`'s port without the shop
/// allowing it (80, 443 and 8080 only, by default).
pub fn port_delivered_by_default(public_url: &str) -> bool {
    url::Url::parse(public_url.trim())
        .ok()
        .and_then(|u| u.port())
        .is_none_or(|p| [80, 443, 8080].contains(&p))
}

/// A new random signing secret (256 bits, hex: no characters WordPress
/// would decode as HTML entities).
fn new_secret() -> SecretString {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    SecretString::from(hex::encode(bytes))
}

fn name_for(topic: Topic) -> String {
    format!("possync {topic}")
}

async fn local(store: &Store) -> Result<Vec<LocalSubscription>, StoreError> {
    store.read(subscriptions::list).await
}

async fn save(store: &Store, sub: LocalSubscription) -> Result<(), StoreError> {
    store
        .write(move |tx| subscriptions::save(tx, &sub, unix_millis_now()))
        .await
}

/// Creates or updates one subscription per [`Topic::subscribed`] topic for
/// `delivery_url`.
pub async fn install<A: WebhookAdmin>(
    admin: &A,
    store: &Store,
    delivery_url: &str,
) -> Result<Vec<(Topic, Installed)>, WebhookError> {
    install_topics(admin, store, delivery_url, &Topic::subscribed()).await
}

/// Creates or updates one subscription per topic. A topic the shop refuses
/// (4xx) is reported and skipped; a shop that cannot be reached or refuses
/// the keys stops the install, and a re-run completes it (existing
/// subscriptions are found by delivery URL and topic, and reused).
pub async fn install_topics<A: WebhookAdmin>(
    admin: &A,
    store: &Store,
    delivery_url: &str,
    topics: &[Topic],
) -> Result<Vec<(Topic, Installed)>, WebhookError> {
    let upstream = admin.list_webhooks().await?;
    let known = local(store).await?;
    let mut out = Vec::new();
    for &topic in topics {
        let topic_name = topic.to_string();
        let existing = upstream
            .iter()
            .find(|s| s.delivery_url == delivery_url && s.topic == topic_name);
        let held = existing.and_then(|e| known.iter().find(|k| k.id == e.id));
        let (sub, secret, what) = match (existing, held) {
            (Some(e), Some(h)) if e.status == SubscriptionStatus::Active => {
                (e.clone(), h.secret.clone(), Installed::Unchanged)
            }
            (Some(e), Some(h)) => {
                let change = SubscriptionChange {
                    status: Some(SubscriptionStatus::Active),
                    ..SubscriptionChange::default()
                };
                (
                    admin.update_webhook(e.id, &change).await?,
                    h.secret.clone(),
                    Installed::Updated,
                )
            }
            // Made by someone else, or its secret was lost: give it ours.
            (Some(e), None) => {
                let secret = new_secret();
                let change = SubscriptionChange {
                    status: Some(SubscriptionStatus::Active),
                    secret: Some(secret.clone()),
                    name: Some(name_for(topic)),
                };
                (
                    admin.update_webhook(e.id, &change).await?,
                    secret,
                    Installed::Updated,
                )
            }
            (None, _) => {
                let secret = new_secret();
                match admin
                    .create_webhook(&name_for(topic), topic, delivery_url, &secret)
                    .await
                {
                    Ok(created) => (created, secret, Installed::Created),
                    Err(UpstreamError::Rejected { code, message, .. }) => {
                        tracing::warn!(%topic, %code, "the shop refused a webhook topic");
                        out.push((topic, Installed::Refused { code, message }));
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        };
        save(
            store,
            LocalSubscription {
                id: sub.id,
                topic: topic_name,
                delivery_url: delivery_url.to_owned(),
                secret,
                status: sub.status,
            },
        )
        .await?;
        out.push((topic, what));
    }
    Ok(out)
}

/// This agent's subscriptions with their status on the shop.
pub async fn list<A: WebhookAdmin>(
    admin: &A,
    store: &Store,
) -> Result<Vec<SubscriptionView>, WebhookError> {
    let upstream = admin.list_webhooks().await?;
    Ok(local(store)
        .await?
        .into_iter()
        .map(|l| SubscriptionView {
            upstream_status: upstream.iter().find(|u| u.id == l.id).map(|u| u.status),
            id: l.id,
            topic: l.topic,
            delivery_url: l.delivery_url,
        })
        .collect())
}

/// Sets every subscription of this agent to `status` (pause or resume).
pub async fn set_all<A: WebhookAdmin>(
    admin: &A,
    store: &Store,
    status: SubscriptionStatus,
) -> Result<usize, WebhookError> {
    let subs = local(store).await?;
    let n = subs.len();
    for l in subs {
        let change = SubscriptionChange {
            status: Some(status),
            ..SubscriptionChange::default()
        };
        let now = admin.update_webhook(l.id, &change).await?;
        store
            .write(move |tx| subscriptions::set_status(tx, l.id, now.status, unix_millis_now()))
            .await?;
    }
    Ok(n)
}

/// Deletes every subscription of this agent, upstream and locally.
pub async fn remove_all<A: WebhookAdmin>(admin: &A, store: &Store) -> Result<usize, WebhookError> {
    let subs = local(store).await?;
    let n = subs.len();
    for l in subs {
        match admin.delete_webhook(l.id).await {
            Ok(()) | Err(UpstreamError::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        store
            .write(move |tx| subscriptions::delete(tx, l.id))
            .await?;
    }
    Ok(n)
}

/// What a check found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CheckReport {
    pub active: usize,
    pub reenabled: usize,
    pub paused: usize,
    pub missing: usize,
}

/// Compares this agent's subscriptions with the shop's: re-enables any the
/// shop disabled (it does so after repeated failed deliveries, and never
/// retries what was lost), and records an event for each change.
pub async fn check_subscriptions<A: WebhookAdmin>(
    admin: &A,
    store: &Store,
) -> Result<CheckReport, WebhookError> {
    let mut report = CheckReport::default();
    let subs = local(store).await?;
    if subs.is_empty() {
        return Ok(report);
    }
    let upstream = admin.list_webhooks().await?;
    for l in subs {
        let seen: Option<&Subscription> = upstream.iter().find(|u| u.id == l.id);
        let (status, event) = match seen.map(|s| s.status) {
            None => {
                report.missing += 1;
                (
                    SubscriptionStatus::Other,
                    Some((
                        Level::Warn,
                        format!(
                            "webhook {} ({}) no longer exists on the shop; run `possync webhooks install` to recreate it",
                            l.id, l.topic
                        ),
                    )),
                )
            }
            Some(SubscriptionStatus::Disabled) => {
                let change = SubscriptionChange {
                    status: Some(SubscriptionStatus::Active),
                    ..SubscriptionChange::default()
                };
                let now = admin.update_webhook(l.id, &change).await?;
                report.reenabled += 1;
                (
                    now.status,
                    Some((
                        Level::Warn,
                        format!(
                            "webhook {} ({}) was disabled by the shop after failed deliveries; re-enabled (deliveries lost meanwhile are recovered by polling)",
                            l.id, l.topic
                        ),
                    )),
                )
            }
            Some(SubscriptionStatus::Paused) => {
                report.paused += 1;
                (SubscriptionStatus::Paused, None)
            }
            Some(s) => {
                report.active += 1;
                (s, None)
            }
        };
        store
            .write(move |tx| {
                let now = unix_millis_now();
                subscriptions::set_status(tx, l.id, status, now)?;
                if let Some((level, message)) = event {
                    events::append(tx, now, level, "webhook_subscription", None, &message)?;
                }
                Ok(())
            })
            .await?;
    }
    Ok(report)
}

/// Checks the subscriptions at once and then every [`CHECK_EVERY`], until
/// `token` is cancelled.
pub async fn watch_subscriptions<A: WebhookAdmin>(
    admin: &A,
    store: &Store,
    every: Duration,
    token: &CancellationToken,
) {
    let mut tick = tokio::time::interval(every);
    // A check that overran (shop slow) is not followed by a burst of checks.
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = token.cancelled() => return,
            _ = tick.tick() => {}
        }
        match check_subscriptions(admin, store).await {
            Ok(r) if r.reenabled > 0 || r.missing > 0 => {
                tracing::warn!(
                    reenabled = r.reenabled,
                    missing = r.missing,
                    "webhook subscriptions checked"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "cannot check webhook subscriptions"),
        }
    }
}
