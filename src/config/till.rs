//! The `[till]` section: how this till books its sales and replays them.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{ConfigError, in_range};
use crate::domain::till::{OversellPolicy, PaymentMapping, TillSettings};

/// Eight sends at once drain a 10,000-sale backlog at 50 ms store latency
/// in about a minute and a half (docs/benchmarks.md) while keeping the
/// load one till puts on the shop modest.
const DEFAULT_REPLAY_CONCURRENCY: usize = 8;
const MAX_REPLAY_CONCURRENCY: usize = 32;
/// Statuses a sale can be created in that make WooCommerce reduce stock.
const SALE_STATUSES: &[&str] = &["processing", "completed"];
/// A day: a till offline longer than a trading day is worth a look.
const DEFAULT_OFFLINE_LIMIT_HOURS: u32 = 24;
/// A month: beyond it the shop's stock has drifted too far to matter.
const MAX_OFFLINE_LIMIT_HOURS: u32 = 720;

/// Booking and replay settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TillConfig {
    pub settings: TillSettings,
    /// Outbox entries sent at once.
    pub replay_concurrency: usize,
    /// How old the oldest sale not yet confirmed by the shop may get before
    /// the status page shows it red (amber past half of it).
    pub offline_limit_hours: u32,
}

impl Default for TillConfig {
    fn default() -> Self {
        TillConfig {
            settings: TillSettings::default(),
            replay_concurrency: DEFAULT_REPLAY_CONCURRENCY,
            offline_limit_hours: DEFAULT_OFFLINE_LIMIT_HOURS,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTill {
    id: Option<String>,
    order_prefix: Option<String>,
    order_status: Option<String>,
    oversell: Option<String>,
    replay_concurrency: Option<i64>,
    offline_limit_hours: Option<i64>,
    /// Till name → the shop's payment gateway id.
    payment_methods: Option<BTreeMap<String, String>>,
}

impl RawTill {
    pub(super) fn validate(self) -> Result<TillConfig, ConfigError> {
        let d = TillSettings::default();
        let till_id = self.id.map(|s| s.trim().to_owned()).unwrap_or(d.till_id);
        if till_id.is_empty() || till_id.len() > 64 {
            return Err(ConfigError::invalid(
                "till.id",
                "must be 1 to 64 characters",
            ));
        }
        let order_prefix = self.order_prefix.unwrap_or(d.order_prefix);
        if order_prefix.len() > 20 || order_prefix.chars().any(char::is_control) {
            return Err(ConfigError::invalid(
                "till.order_prefix",
                "must be at most 20 printable characters",
            ));
        }
        let order_status = self.order_status.unwrap_or(d.order_status);
        if !SALE_STATUSES.contains(&order_status.as_str()) {
            return Err(ConfigError::invalid(
                "till.order_status",
                format!(
                    "must be one of {} (got {order_status:?}): both make the shop reduce stock when the sale arrives",
                    SALE_STATUSES.join(", ")
                ),
            ));
        }
        let oversell = match self.oversell {
            None => d.oversell,
            Some(s) => OversellPolicy::parse(&s).ok_or_else(|| {
                ConfigError::invalid(
                    "till.oversell",
                    format!("must be allow, warn or block (got {s:?})"),
                )
            })?,
        };
        let replay_concurrency = in_range(
            "till.replay_concurrency",
            self.replay_concurrency,
            1,
            MAX_REPLAY_CONCURRENCY as i64,
            DEFAULT_REPLAY_CONCURRENCY as i64,
        )? as usize;
        let offline_limit_hours = in_range(
            "till.offline_limit_hours",
            self.offline_limit_hours,
            1,
            i64::from(MAX_OFFLINE_LIMIT_HOURS),
            i64::from(DEFAULT_OFFLINE_LIMIT_HOURS),
        )? as u32;
        let mut payment_methods = BTreeMap::new();
        for (name, gateway) in self.payment_methods.unwrap_or_default() {
            if gateway.trim().is_empty() {
                return Err(ConfigError::invalid(
                    &format!("till.payment_methods.{name}"),
                    "must name a payment gateway id",
                ));
            }
            payment_methods.insert(
                name,
                PaymentMapping {
                    gateway: gateway.trim().to_owned(),
                    title: String::new(),
                },
            );
        }
        Ok(TillConfig {
            settings: TillSettings {
                till_id,
                order_prefix,
                order_status,
                oversell,
                payment_methods,
            },
            replay_concurrency,
            offline_limit_hours,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Result<TillConfig, ConfigError> {
        let raw: RawTill = toml::from_str(text).unwrap();
        raw.validate()
    }

    #[test]
    fn defaults_warn_on_oversell_and_complete_sales() {
        let c = raw("").unwrap();
        assert_eq!(c.settings.oversell, OversellPolicy::Warn);
        assert_eq!(c.settings.order_status, "completed");
        assert_eq!(c.settings.order_prefix, "POS1-");
        assert_eq!(c.replay_concurrency, 8);
        assert_eq!(c.offline_limit_hours, 24);
    }

    #[test]
    fn the_offline_limit_is_a_number_of_hours_in_range() {
        assert_eq!(
            raw("offline_limit_hours = 2").unwrap().offline_limit_hours,
            2
        );
        let e = raw("offline_limit_hours = 0").unwrap_err().to_string();
        assert!(
            e.contains("till.offline_limit_hours") && e.contains("between 1 and 720"),
            "{e}"
        );
    }

    #[test]
    fn settings_are_read_and_checked() {
        let c = raw("id = \"front\"\norder_prefix = \"T2-\"\noversell = \"block\"\norder_status = \"processing\"\n[payment_methods]\ncash = \"cod\"").unwrap();
        assert_eq!(c.settings.till_id, "front");
        assert_eq!(c.settings.oversell, OversellPolicy::Block);
        assert_eq!(c.settings.payment_methods["cash"].gateway, "cod");
        let e = raw("order_status = \"pending\"").unwrap_err().to_string();
        assert!(e.starts_with("till.order_status must be one of"), "{e}");
        let e = raw("oversell = \"maybe\"").unwrap_err().to_string();
        assert!(
            e.contains("till.oversell must be allow, warn or block"),
            "{e}"
        );
        let e = raw("replay_concurrency = 0").unwrap_err().to_string();
        assert!(e.contains("between 1 and 32"), "{e}");
    }
}
