//! UTC timestamps at one-second resolution, the unit WooCommerce dates have.
//!
//! Stored and compared as `YYYY-MM-DDTHH:MM:SS`, so the text form sorts in time
//! order in SQLite as well as in Rust.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};

/// The text layout WooCommerce uses for `*_gmt` fields and we use in the replica.
pub const GMT_FORMAT: &str = "%Y-%m-%dT%H:%M:%S";

/// A UTC instant truncated to whole seconds.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GmtTime(NaiveDateTime);

impl GmtTime {
    /// Now, by this machine's clock.
    pub fn now() -> Self {
        Self::from_system(SystemTime::now())
    }

    /// Converts a system time, dropping sub-second precision.
    pub fn from_system(t: SystemTime) -> Self {
        let secs = t
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_secs();
        Self::from_unix(i64::try_from(secs).unwrap_or(i64::MAX))
    }

    /// Seconds since the Unix epoch (clamped to chrono's range).
    pub fn from_unix(secs: i64) -> Self {
        let dt = DateTime::<Utc>::from_timestamp(secs, 0).unwrap_or(DateTime::<Utc>::MAX_UTC);
        Self(dt.naive_utc())
    }

    /// Seconds since the Unix epoch.
    pub fn unix(self) -> i64 {
        self.0.and_utc().timestamp()
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS`, tolerating a trailing `Z`, `+00:00` or
    /// fractional seconds (which are dropped). Offsets other than UTC are
    /// converted to UTC.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, GMT_FORMAT) {
            return Some(Self(dt));
        }
        if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
            return Some(Self::from_unix(dt.timestamp()));
        }
        let s = s.strip_suffix('Z').unwrap_or(s);
        NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
            .ok()
            .map(|dt| Self::from_unix(dt.and_utc().timestamp()))
    }

    /// Parses an HTTP `Date` header (RFC 2822 / IMF-fixdate).
    pub fn parse_http_date(s: &str) -> Option<Self> {
        DateTime::parse_from_rfc2822(s.trim())
            .ok()
            .map(|dt| Self::from_unix(dt.timestamp()))
    }

    /// This instant moved by a signed number of seconds (saturating).
    pub fn plus_secs(self, secs: i64) -> Self {
        self.0
            .checked_add_signed(TimeDelta::seconds(secs))
            .map(Self)
            .unwrap_or(self)
    }

    /// This instant moved back by `d` (saturating).
    pub fn minus(self, d: Duration) -> Self {
        self.plus_secs(-i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
    }
}

impl fmt::Display for GmtTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format(GMT_FORMAT))
    }
}

impl fmt::Debug for GmtTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GmtTime({self})")
    }
}

impl serde::Serialize for GmtTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for GmtTime {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        GmtTime::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("invalid date-time {s:?}")))
    }
}

/// Milliseconds since the Unix epoch by this machine's clock; used for local
/// bookkeeping (when a row was written), never compared with upstream dates.
pub fn unix_millis_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_woocommerce_and_rfc3339_forms() {
        let a = GmtTime::parse("2026-11-22T12:05:33").unwrap();
        assert_eq!(a.to_string(), "2026-11-22T12:05:33");
        assert_eq!(GmtTime::parse("2026-11-22T12:05:33Z"), Some(a));
        assert_eq!(GmtTime::parse("2026-11-22T13:05:33+01:00"), Some(a));
        assert_eq!(GmtTime::parse("2026-11-22T12:05:33.250"), Some(a));
        assert_eq!(GmtTime::parse("yesterday"), None);
        assert_eq!(GmtTime::parse(""), None);
    }

    #[test]
    fn parses_http_date_header() {
        let t = GmtTime::parse_http_date("Sun, 22 Nov 2026 12:06:32 GMT").unwrap();
        assert_eq!(t.to_string(), "2026-11-22T12:06:32");
    }

    #[test]
    fn text_order_is_time_order() {
        let a = GmtTime::parse("2026-01-02T03:04:05").unwrap();
        let b = a.plus_secs(1);
        assert!(a < b);
        assert!(a.to_string() < b.to_string());
        assert_eq!(b.minus(Duration::from_secs(1)), a);
        assert_eq!(GmtTime::from_unix(a.unix()), a);
    }
}
