//! Shopify's cost-based rate limit: every GraphQL answer carries
//! `extensions.cost {requestedQueryCost, actualQueryCost, throttleStatus}`,
//! a leaky bucket per app and shop. [`Pacer`] keeps the last bucket reading
//! and says how long to wait before a query of a given cost, so the agent
//! spends at the restore rate instead of running into `THROTTLED`.
//!
//! The bucket's size and restore rate differ by plan (2000/100 on a dev
//! store, 4000/200 on Advanced) and have changed over the years: they are
//! always read from the answer, never assumed. Numbers arrive as integers on
//! one shop and as floats (`4000.0`) on another.

use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::Value;

/// What a query cost, as the shop reported it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QueryCost {
    /// The worst case, charged up front and checked against the single-query
    /// limit (1000).
    pub requested: f64,
    /// What the bucket was finally charged; `None` when the query did not
    /// run (throttled).
    pub actual: Option<f64>,
    /// The bucket after this query.
    pub bucket: Bucket,
}

/// The cost bucket, in points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    pub maximum: f64,
    pub available: f64,
    /// Points per second.
    pub restore_rate: f64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireCost {
    requested_query_cost: f64,
    actual_query_cost: Option<f64>,
    throttle_status: WireThrottle,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireThrottle {
    maximum_available: f64,
    currently_available: f64,
    restore_rate: f64,
}

/// Reads `extensions.cost` from a whole GraphQL answer: `Ok(None)` when
/// there is none (`MAX_COST_EXCEEDED` answers carry none), an error naming
/// the problem when it is there but not the shape or the sense expected.
pub fn read(body: &Value) -> Result<Option<QueryCost>, String> {
    let Some(cost) = body.get("extensions").and_then(|e| e.get("cost")) else {
        return Ok(None);
    };
    let wire = WireCost::deserialize(cost).map_err(|e| format!("extensions.cost: {e}"))?;
    let t = wire.throttle_status;
    let finite_non_negative = [
        wire.requested_query_cost,
        wire.actual_query_cost.unwrap_or(0.0),
        t.maximum_available,
        t.currently_available,
        t.restore_rate,
    ]
    .iter()
    .all(|n| n.is_finite() && *n >= 0.0);
    if !finite_non_negative {
        return Err("extensions.cost: a cost or bucket figure is negative".to_owned());
    }
    if t.restore_rate == 0.0 || t.maximum_available == 0.0 {
        return Err(format!(
            "extensions.cost.throttleStatus: an empty bucket (maximumAvailable {}, restoreRate {}) never admits a query",
            t.maximum_available, t.restore_rate
        ));
    }
    Ok(Some(QueryCost {
        requested: wire.requested_query_cost,
        actual: wire.actual_query_cost,
        bucket: Bucket {
            maximum: t.maximum_available,
            available: t.currently_available.min(t.maximum_available),
            restore_rate: t.restore_rate,
        },
    }))
}

impl Bucket {
    /// How long until `cost` points are available, if nothing else spends:
    /// `(cost − available) / restoreRate`. A cost above the bucket's size is
    /// waited for as if it were the whole bucket (the shop refuses such a
    /// query outright; waiting longer would not help).
    pub fn wait_for(&self, cost: f64) -> Duration {
        let cost = cost.min(self.maximum);
        let missing = (cost - self.available).max(0.0);
        Duration::from_secs_f64(missing / self.restore_rate)
    }

    /// The bucket `elapsed` later, refilled at the restore rate up to its size.
    pub fn after(&self, elapsed: Duration) -> Bucket {
        Bucket {
            available: (self.available + self.restore_rate * elapsed.as_secs_f64())
                .min(self.maximum),
            ..*self
        }
    }
}

/// Paces queries to the bucket: remembers the last reading and when it was
/// taken, and tells how long to wait before the next query.
#[derive(Debug, Clone, Default)]
pub struct Pacer {
    last: Option<(Bucket, Instant)>,
}

impl Pacer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the bucket an answer reported, read at `at`.
    pub fn observe(&mut self, cost: &QueryCost, at: Instant) {
        self.last = Some((cost.bucket, at));
    }

    /// The bucket as it should stand at `now`, if one was ever read.
    pub fn bucket(&self, now: Instant) -> Option<Bucket> {
        self.last
            .map(|(b, at)| b.after(now.saturating_duration_since(at)))
    }

    /// How long to wait at `now` before sending a query expected to cost
    /// `expected` (its last `requestedQueryCost`, since that is what the shop
    /// reserves). Zero before the first reading: the first answer tells.
    pub fn wait_before(&self, expected: f64, now: Instant) -> Duration {
        self.bucket(now)
            .map_or(Duration::ZERO, |b| b.wait_for(expected))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(path: &str) -> Value {
        serde_json::from_slice(
            &std::fs::read(format!(
                "{}/tests/fixtures/shopify/{path}",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap(),
        )
        .unwrap()
    }

    /// Every JSON object in `v` that has an `extensions.cost`.
    fn answers_with_cost<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
        match v {
            Value::Object(m) => {
                // (An error's own `extensions.cost` is a bare number.)
                let cost = v.get("extensions").and_then(|e| e.get("cost"));
                if cost.is_some_and(Value::is_object) {
                    out.push(v);
                }
                m.values().for_each(|c| answers_with_cost(c, out));
            }
            Value::Array(a) => a.iter().for_each(|c| answers_with_cost(c, out)),
            _ => {}
        }
    }

    fn all_fixture_files() -> Vec<String> {
        let mut files = Vec::new();
        for dir in ["captures", "graphql-errors", "bulk"] {
            let full = format!(
                "{}/tests/fixtures/shopify/{dir}",
                env!("CARGO_MANIFEST_DIR")
            );
            for e in std::fs::read_dir(full).unwrap() {
                let name = e.unwrap().file_name().to_string_lossy().into_owned();
                if name.ends_with(".json") {
                    files.push(format!("{dir}/{name}"));
                }
            }
        }
        files.sort();
        files
    }

    #[test]
    fn every_captured_cost_reads_and_makes_sense() {
        let mut seen = 0;
        for file in all_fixture_files() {
            let v = fixture(&file);
            let mut found = Vec::new();
            answers_with_cost(&v, &mut found);
            for answer in found {
                let cost = read(answer)
                    .unwrap_or_else(|e| panic!("{file}: {e}"))
                    .unwrap();
                let b = cost.bucket;
                assert!(b.available <= b.maximum, "{file}");
                assert!(b.restore_rate > 0.0, "{file}");
                // The dev store's bucket is 20× its restore rate, as is the
                // Advanced shop's and the older 1000/50 one.
                assert_eq!(b.maximum, 20.0 * b.restore_rate, "{file}");
                seen += 1;
            }
        }
        // As many as `grep -c requestedQueryCost` counts in those files.
        assert_eq!(seen, 69);
    }

    #[test]
    fn a_capture_reads_field_by_field() {
        let v = fixture("captures/bulk-operations-read-arg-validation.json");
        let cost = read(&v["cases"]["firstAndLast"]["response"])
            .unwrap()
            .unwrap();
        assert_eq!(
            cost,
            QueryCost {
                requested: 3.0,
                actual: Some(2.0),
                bucket: Bucket {
                    maximum: 2000.0,
                    available: 1998.0,
                    restore_rate: 100.0
                }
            }
        );
    }

    #[test]
    fn a_throttled_answer_has_no_actual_cost_and_the_wait_is_computed_from_the_bucket() {
        let live = read(&fixture("graphql-errors/throttled.http200.json"))
            .unwrap()
            .unwrap();
        assert_eq!(live.actual, None);
        assert_eq!(live.requested, 862.0);
        // (862 − 572) / 200
        assert_eq!(
            live.bucket.wait_for(live.requested),
            Duration::from_millis(1450)
        );

        let older = read(&fixture("graphql-errors/throttled.community-254776.json"))
            .unwrap()
            .unwrap();
        // (752 − 666) / 50
        assert_eq!(
            older.bucket.wait_for(older.requested),
            Duration::from_millis(1720)
        );
    }

    #[test]
    fn max_cost_exceeded_carries_no_cost() {
        assert_eq!(
            read(&fixture("graphql-errors/max_cost_exceeded.json")),
            Ok(None)
        );
    }

    #[test]
    fn the_pacer_counts_the_refill_since_the_last_reading() {
        let throttled = read(&fixture("graphql-errors/throttled.http200.json"))
            .unwrap()
            .unwrap();
        let t0 = Instant::now();
        let mut pacer = Pacer::new();
        assert_eq!(
            pacer.wait_before(862.0, t0),
            Duration::ZERO,
            "nothing read yet"
        );
        pacer.observe(&throttled, t0);
        assert_eq!(pacer.wait_before(862.0, t0), Duration::from_millis(1450));
        // A second later 200 more points are back: (862 − 772) / 200.
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(pacer.wait_before(862.0, t1), Duration::from_millis(450));
        // A cheap query goes at once.
        assert_eq!(pacer.wait_before(100.0, t0), Duration::ZERO);
        // The bucket never refills past its size.
        let later = pacer.bucket(t0 + Duration::from_secs(3600)).unwrap();
        assert_eq!(later.available, 4000.0);
        // A query larger than the bucket waits for a full bucket, no longer.
        assert_eq!(pacer.wait_before(9000.0, t0), Duration::from_millis(17140));
    }

    #[test]
    fn nonsense_figures_are_refused_by_name() {
        let body = |t: &str| -> Value {
            serde_json::from_str(&format!(
                r#"{{"extensions":{{"cost":{{"requestedQueryCost":1,"actualQueryCost":1,"throttleStatus":{t}}}}}}}"#
            ))
            .unwrap()
        };
        let e = read(&body(
            r#"{"maximumAvailable":2000,"currentlyAvailable":10,"restoreRate":0}"#,
        ))
        .unwrap_err();
        assert!(e.contains("restoreRate 0"), "{e}");
        let e = read(&body(
            r#"{"maximumAvailable":2000,"currentlyAvailable":-1,"restoreRate":100}"#,
        ))
        .unwrap_err();
        assert!(e.contains("negative"), "{e}");
        let e = read(&body(r#"{"maximumAvailable":2000,"restoreRate":100}"#)).unwrap_err();
        assert!(e.contains("currentlyAvailable"), "{e}");
    }
}
