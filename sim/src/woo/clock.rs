//! The store's clock and its calendar: what "now" is for the simulated store,
//! and how instants are written and read the way WordPress does.
//!
//! Instants are `i64` Unix seconds (GMT); WooCommerce dates have one-second
//! resolution. The site timezone is a fixed UTC+01:00 (like the captured
//! Europe/Berlin store in winter) so `date_*` and `date_*_gmt` differ by an
//! hour, as they do on real stores outside UTC.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::DateTime;

/// Unix seconds, GMT.
pub(crate) type Ts = i64;

/// The site's offset from GMT, in seconds (UTC+01:00).
pub(crate) const SITE_OFFSET_SECS: i64 = 3600;

/// Seconds in a day.
pub(crate) const DAY_SECS: i64 = 86_400;

/// The store's clock: the system clock plus an adjustable offset, so tests can
/// move the store into the future (or the past) without touching the machine.
#[derive(Debug, Default)]
pub(crate) struct SimClock {
    offset_secs: AtomicI64,
}

impl SimClock {
    pub(crate) fn now(&self) -> Ts {
        system_now() + self.offset_secs.load(Ordering::Relaxed)
    }

    pub(crate) fn set_offset(&self, secs: i64) {
        self.offset_secs.store(secs, Ordering::Relaxed);
    }
}

/// The machine's clock, in Unix seconds.
pub(crate) fn system_now() -> Ts {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    i64::try_from(secs).unwrap_or(i64::MAX)
}

/// `YYYY-MM-DDTHH:MM:SS` of an instant, GMT (the `*_gmt` fields).
pub(crate) fn fmt_gmt(ts: Ts) -> String {
    match DateTime::from_timestamp(ts, 0) {
        Some(dt) => dt.format("%Y-%m-%dT%H:%M:%S").to_string(),
        None => "1970-01-01T00:00:00".to_owned(),
    }
}

/// `YYYY-MM-DDTHH:MM:SS` of an instant in site-local time (the plain `date_*`
/// fields).
pub(crate) fn fmt_local(ts: Ts) -> String {
    fmt_gmt(ts + SITE_OFFSET_SECS)
}

/// The HTTP `Date` header form (`Sun, 22 Nov 2026 12:06:33 GMT`).
pub(crate) fn http_date(ts: Ts) -> String {
    match DateTime::from_timestamp(ts, 0) {
        Some(dt) => dt.format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
        None => "Thu, 01 Jan 1970 00:00:00 GMT".to_owned(),
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date. Days past the end of
/// a month roll over into the next one, as PHP's date parser does
/// (`2026-02-30` is 2 March).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A date-time query value as WordPress reads it for a date query, reduced
/// to the *wall-clock* seconds it will be compared against.
///
/// WordPress validates with `rest_parse_date` (RFC 3339 with `T`, `t` or a
/// space, optional fraction, optional `Z` or `±HH:MM`), then `WP_Date_Query`
/// turns the value into a site-local wall-clock string: a value without an
/// offset is taken as written; a value with an offset is converted to the
/// site timezone. That string is compared to the local column, or to the GMT
/// column when `dates_are_gmt=true` (so an offset value combined with
/// `dates_are_gmt=true` is shifted by the site offset: that is what the code
/// does). Returns `None` when WordPress would answer `rest_invalid_date`.
pub(crate) fn parse_query_date(value: &str) -> Option<i64> {
    let b = value.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = b.get(r)?;
        if s.iter().all(u8::is_ascii_digit) {
            std::str::from_utf8(s).ok()?.parse().ok()
        } else {
            None
        }
    };
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    if !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    let mut rest = &value[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        rest = &frac[n..];
    }
    let offset = match rest {
        "" => None,
        "Z" | "z" => Some(0),
        _ => {
            let ob = rest.as_bytes();
            if ob.len() != 6 || !matches!(ob[0], b'+' | b'-') || ob[3] != b':' {
                return None;
            }
            let h: i64 = rest.get(1..3)?.parse().ok()?;
            let m: i64 = rest.get(4..6)?.parse().ok()?;
            let sign = if ob[0] == b'-' { -1 } else { 1 };
            Some(sign * (h * 3600 + m * 60))
        }
    };
    // PHP's parser rejects out-of-range fields but lets days overflow.
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || day == 0 {
        return None;
    }
    if hour > 24 || minute > 59 || second > 60 {
        return None;
    }
    let wall = days_from_civil(year, month, day) * DAY_SECS + hour * 3600 + minute * 60 + second;
    Some(match offset {
        None => wall,
        Some(off) => wall - off + SITE_OFFSET_SECS,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_local_one_hour_ahead_of_gmt() {
        let ts = 1_795_348_800; // 2026-11-22T12:00:00Z
        assert_eq!(fmt_gmt(ts), "2026-11-22T12:00:00");
        assert_eq!(fmt_local(ts), "2026-11-22T13:00:00");
        assert_eq!(http_date(ts), "Sun, 22 Nov 2026 12:00:00 GMT");
    }

    #[test]
    fn query_dates_become_site_wall_clock() {
        let ts = 1_795_348_800;
        assert_eq!(parse_query_date("2026-11-22T12:00:00"), Some(ts));
        assert_eq!(parse_query_date("2026-11-22 12:00:00"), Some(ts));
        assert_eq!(parse_query_date("2026-11-22T12:00:00.75"), Some(ts));
        assert_eq!(parse_query_date("2026-11-22T12:00:00Z"), Some(ts + 3600));
        assert_eq!(
            parse_query_date("2026-11-22T13:00:00+01:00"),
            Some(ts + 3600)
        );
        assert_eq!(
            parse_query_date("2026-11-22T07:00:00-05:00"),
            Some(ts + 3600)
        );
    }

    #[test]
    fn malformed_query_dates_are_rejected() {
        for bad in [
            "yesterday",
            "2026-11-22",
            "2026-13-01T00:00:00",
            "2026-11-22T12:00",
            "2026-11-22T12:00:00+0100",
            "2026-11-22T12:00:00.",
        ] {
            assert_eq!(parse_query_date(bad), None, "{bad}");
        }
    }
}
