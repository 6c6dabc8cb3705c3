//! Webhook deliveries and subscriptions, in the project's terms: which kind
//! of object a delivery is about, what it asks the replica to do, and the
//! state of a subscription upstream. No wire names, no SQL.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use super::batch::Records;
use super::{GmtTime, Resource, UpstreamId};

/// The kinds of objects the agent subscribes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    /// Products and variations (the shop sends variations as products).
    Product,
    Order,
    Customer,
}

impl Subject {
    pub const ALL: [Subject; 3] = [Subject::Product, Subject::Order, Subject::Customer];

    pub fn as_str(self) -> &'static str {
        match self {
            Subject::Product => "product",
            Subject::Order => "order",
            Subject::Customer => "customer",
        }
    }

    /// The replica resource an object of this kind lands in (a variation
    /// delivered as a product is told apart by its type once parsed).
    pub fn resource(self) -> Resource {
        match self {
            Subject::Product => Resource::Products,
            Subject::Order => Resource::Orders,
            Subject::Customer => Resource::Customers,
        }
    }
}

/// What happened to the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Created,
    Updated,
    /// Trashed (products, orders) or deleted (customers).
    Deleted,
    /// Taken out of the trash.
    Restored,
}

impl Action {
    pub const ALL: [Action; 4] = [
        Action::Created,
        Action::Updated,
        Action::Deleted,
        Action::Restored,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Created => "created",
            Action::Updated => "updated",
            Action::Deleted => "deleted",
            Action::Restored => "restored",
        }
    }
}

/// A subscription topic the agent understands, e.g. `product.updated`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Topic {
    pub subject: Subject,
    pub action: Action,
}

impl Topic {
    /// Every topic the agent understands in a delivery.
    pub fn all() -> Vec<Topic> {
        Subject::ALL
            .into_iter()
            .flat_map(|subject| Action::ALL.map(|action| Topic { subject, action }))
            .collect()
    }

    /// The topics `webhooks install` subscribes to: all but
    /// `customer.restored`. A customer is deleted, never trashed, so nothing
    /// restores one; WooCommerce 11 refuses a topic no hook delivers.
    pub fn subscribed() -> Vec<Topic> {
        Self::all()
            .into_iter()
            .filter(|t| !(t.subject == Subject::Customer && t.action == Action::Restored))
            .collect()
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.subject.as_str(), self.action.as_str())
    }
}

impl FromStr for Topic {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (subject, action) = s
            .split_once('.')
            .ok_or_else(|| format!("not a topic: {s:?}"))?;
        let subject = Subject::ALL
            .into_iter()
            .find(|x| x.as_str() == subject)
            .ok_or_else(|| format!("topic {s:?} is about objects the replica does not mirror"))?;
        let action = Action::ALL
            .into_iter()
            .find(|x| x.as_str() == action)
            .ok_or_else(|| format!("topic {s:?} names an event the agent does not handle"))?;
        Ok(Topic { subject, action })
    }
}

/// What a verified delivery asks of the replica, once parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum Instruction {
    /// Write this version of one object (guarded by its modification date).
    Upsert(Records),
    /// The object was trashed or deleted: remove it.
    Delete { resource: Resource, id: UpstreamId },
    /// The object was gone by the time the shop built the payload (it sent
    /// its REST error instead), and the payload does not say which object:
    /// the replica must ask the shop what of `resource` still exists.
    Gone { resource: Resource, code: String },
    /// The object changed at `modified`, but the payload does not carry all
    /// the replica keeps of it (a Shopify product's stock at the till's
    /// location, its collections): the replica fetches it by id, and
    /// writes what the shop returns through the same guard.
    Fetch {
        resource: Resource,
        id: UpstreamId,
        modified: GmtTime,
    },
    /// A topic the replica does not mirror (coupons, actions).
    Ignore { reason: String },
}

/// The key deliveries are deduplicated on: the same version of the same
/// object (the delivery id is not unique, so it cannot be the key).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VersionKey {
    pub resource: Resource,
    pub id: UpstreamId,
    /// `None` for deletions, which carry no date.
    pub modified: Option<GmtTime>,
}

/// A subscription's state upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionStatus {
    /// Delivering.
    Active,
    /// Stopped by an administrator (or `webhooks pause`).
    Paused,
    /// Stopped by the shop after repeated failed deliveries.
    Disabled,
    /// Any other value the shop reports.
    Other,
}

impl SubscriptionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionStatus::Active => "active",
            SubscriptionStatus::Paused => "paused",
            SubscriptionStatus::Disabled => "disabled",
            SubscriptionStatus::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "active" => SubscriptionStatus::Active,
            "paused" => SubscriptionStatus::Paused,
            "disabled" => SubscriptionStatus::Disabled,
            _ => SubscriptionStatus::Other,
        }
    }
}

/// A webhook subscription as the shop reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub id: UpstreamId,
    pub name: String,
    /// The topic as the shop names it (it may be one the agent does not use).
    pub topic: String,
    pub delivery_url: String,
    pub status: SubscriptionStatus,
}

/// A verified delivery as received, before it is parsed.
#[derive(Debug, Clone)]
pub struct ReceivedDelivery {
    /// Local clock, unix ms.
    pub received_at: i64,
    /// The topic as the shop named it.
    pub topic: String,
    /// The shop's subscription id.
    pub webhook_id: Option<UpstreamId>,
    /// The shop's delivery id: WooCommerce's is not unique; Shopify's
    /// (`X-Shopify-Webhook-Id`) is, and its retries carry it again.
    pub delivery_id: Option<String>,
    /// The signed bytes, verbatim.
    pub body: Vec<u8>,
}

/// What became of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Stored, not yet applied.
    Pending,
    /// Written to the replica.
    Applied,
    /// The replica already held this version or a newer one.
    Stale,
    /// The same version of the same object was applied before.
    Duplicate,
    /// About objects the replica does not mirror.
    Ignored,
    /// The object was gone when the shop built the payload; waiting for the
    /// replica to ask the shop what still exists.
    Refetch,
    /// Signed but not understood; the error is kept with it.
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Applied => "applied",
            DeliveryState::Stale => "stale",
            DeliveryState::Duplicate => "duplicate",
            DeliveryState::Ignored => "ignored",
            DeliveryState::Refetch => "refetch",
            DeliveryState::Failed => "failed",
        }
    }

    /// The state named by [`DeliveryState::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [
            DeliveryState::Pending,
            DeliveryState::Applied,
            DeliveryState::Stale,
            DeliveryState::Duplicate,
            DeliveryState::Ignored,
            DeliveryState::Refetch,
            DeliveryState::Failed,
        ]
        .into_iter()
        .find(|state| state.as_str() == s)
    }
}

/// What became of one stored delivery once the worker took it: recorded in
/// the inbox, and until then in the replica beside the changes it made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The delivery's id in the inbox.
    pub inbox_id: i64,
    pub state: DeliveryState,
    /// The version the delivery carried, once parsed.
    pub key: Option<VersionKey>,
    /// Why it failed, was ignored, or waits for a refetch.
    pub error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twelve_topics_round_trip() {
        let all = Topic::all();
        assert_eq!(all.len(), 12);
        for t in all {
            assert_eq!(t.to_string().parse::<Topic>(), Ok(t));
        }
        assert!("coupon.updated".parse::<Topic>().is_err());
        assert!("product.published".parse::<Topic>().is_err());
        assert!("nonsense".parse::<Topic>().is_err());
    }

    #[test]
    fn customer_restored_is_understood_but_not_subscribed() {
        let subscribed: Vec<String> = Topic::subscribed().iter().map(Topic::to_string).collect();
        assert_eq!(subscribed.len(), 11);
        assert!(!subscribed.contains(&"customer.restored".to_owned()));
        assert!("customer.restored".parse::<Topic>().is_ok());
    }

    #[test]
    fn delivery_states_round_trip() {
        for s in [
            "pending",
            "applied",
            "stale",
            "duplicate",
            "ignored",
            "refetch",
            "failed",
        ] {
            assert_eq!(DeliveryState::parse(s).map(DeliveryState::as_str), Some(s));
        }
        assert_eq!(DeliveryState::parse("lost"), None);
    }
}
