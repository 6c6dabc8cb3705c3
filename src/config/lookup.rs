//! The `[lookup]` section: how till lookups read the replica.

use serde::Deserialize;

use super::{ConfigError, ORDER_STATUSES};
use crate::domain::meta_mapping::{MAX_META_KEY_CHARS, MetaKey};

/// Most barcode meta keys.
const MAX_BARCODE_KEYS: usize = 20;
const DEFAULT_BARCODE_META_KEYS: &[&str] = &["_ean", "_barcode"];
const DEFAULT_PICKUP_STATUSES: &[&str] = &["processing"];
const DEFAULT_PICKUP_METHODS: &[&str] = &["local_pickup", "pickup_location"];

/// How lookups read the replica.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupConfig {
    /// Upstream meta keys whose values are barcodes, besides the product's
    /// `global_unique_id` (GTIN/EAN field), e.g. `_ean` from a barcode plugin.
    pub barcode_meta_keys: Vec<String>,
    /// Order statuses of orders still waiting to be collected.
    pub pickup_statuses: Vec<String>,
    /// Shipping method ids that mean "collect at the shop".
    pub pickup_shipping_methods: Vec<String>,
}

fn owned(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

impl Default for LookupConfig {
    fn default() -> Self {
        LookupConfig {
            barcode_meta_keys: owned(DEFAULT_BARCODE_META_KEYS),
            pickup_statuses: owned(DEFAULT_PICKUP_STATUSES),
            pickup_shipping_methods: owned(DEFAULT_PICKUP_METHODS),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLookup {
    barcode_meta_keys: Option<Vec<String>>,
    pickup_statuses: Option<Vec<String>>,
    pickup_shipping_methods: Option<Vec<String>>,
}

impl RawLookup {
    /// `order_statuses` are the mirrored ones: a pickup status outside them
    /// would never match anything.
    pub(super) fn validate(self, order_statuses: &[String]) -> Result<LookupConfig, ConfigError> {
        let d = LookupConfig::default();
        let barcode_meta_keys = match self.barcode_meta_keys {
            None => d.barcode_meta_keys,
            Some(keys) => meta_keys(keys)?,
        };
        let pickup_statuses = match self.pickup_statuses {
            None => d.pickup_statuses,
            Some(list) => pickup_statuses(list, order_statuses)?,
        };
        let pickup_shipping_methods = match self.pickup_shipping_methods {
            None => d.pickup_shipping_methods,
            Some(list) => method_ids(list)?,
        };
        Ok(LookupConfig {
            barcode_meta_keys,
            pickup_statuses,
            pickup_shipping_methods,
        })
    }
}

fn meta_keys(keys: Vec<String>) -> Result<Vec<String>, ConfigError> {
    const FIELD: &str = "lookup.barcode_meta_keys";
    if keys.len() > MAX_BARCODE_KEYS {
        return Err(ConfigError::invalid(
            FIELD,
            format!(
                "must name at most {MAX_BARCODE_KEYS} keys (got {})",
                keys.len()
            ),
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for k in keys {
        let k = MetaKey::parse(&k)
            .map(MetaKey::into_string)
            .map_err(|reason| ConfigError::invalid(FIELD, format!("has {reason}")))?;
        if !out.contains(&k) {
            out.push(k);
        }
    }
    Ok(out)
}

fn pickup_statuses(list: Vec<String>, mirrored: &[String]) -> Result<Vec<String>, ConfigError> {
    const FIELD: &str = "lookup.pickup_statuses";
    if list.is_empty() {
        return Err(ConfigError::invalid(FIELD, "must name at least one status"));
    }
    let mut out: Vec<String> = Vec::new();
    for s in list {
        let s = s.trim().to_owned();
        if s == "any" || !ORDER_STATUSES.contains(&s.as_str()) {
            return Err(ConfigError::invalid(
                FIELD,
                format!(
                    "has unknown status {s:?}; allowed: {}",
                    ORDER_STATUSES[1..].join(", ")
                ),
            ));
        }
        if !mirrored.iter().any(|m| m == "any" || *m == s) {
            return Err(ConfigError::invalid(
                FIELD,
                format!("has status {s:?}, which sync.order_statuses does not mirror"),
            ));
        }
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out)
}

fn method_ids(list: Vec<String>) -> Result<Vec<String>, ConfigError> {
    const FIELD: &str = "lookup.pickup_shipping_methods";
    if list.is_empty() {
        return Err(ConfigError::invalid(
            FIELD,
            "must name at least one method id",
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for m in list {
        let m = m.trim().to_owned();
        let ok = !m.is_empty()
            && m.len() <= MAX_META_KEY_CHARS
            && m.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !ok {
            return Err(ConfigError::invalid(
                FIELD,
                format!("has {m:?}; a method id is letters, digits, _ and - (e.g. local_pickup)"),
            ));
        }
        if !out.contains(&m) {
            out.push(m);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use std::io::Write;

    fn load(text: &str, env: &[(&str, &str)]) -> Result<Config, String> {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        let env = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned()));
        Config::load(Some(f.path()), env, &[]).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_read_ean_and_barcode_and_local_pickup() {
        let c = load("", &[]).unwrap();
        assert_eq!(c.lookup.barcode_meta_keys, ["_ean", "_barcode"]);
        assert_eq!(c.lookup.pickup_statuses, ["processing"]);
        assert_eq!(
            c.lookup.pickup_shipping_methods,
            ["local_pickup", "pickup_location"]
        );
    }

    #[test]
    fn file_and_env_set_the_section() {
        let c = load(
            "[lookup]\nbarcode_meta_keys = [\"_gtin\", \" _gtin \"]\npickup_statuses = [\"processing\", \"on-hold\"]",
            &[("POSSYNC_LOOKUP_PICKUP_SHIPPING_METHODS", "local_pickup, click_collect")],
        )
        .unwrap();
        assert_eq!(c.lookup.barcode_meta_keys, ["_gtin"]);
        assert_eq!(c.lookup.pickup_statuses, ["processing", "on-hold"]);
        assert_eq!(
            c.lookup.pickup_shipping_methods,
            ["local_pickup", "click_collect"]
        );
        let c = load("[lookup]\nbarcode_meta_keys = []", &[]).unwrap();
        assert!(c.lookup.barcode_meta_keys.is_empty());
    }

    #[rstest::rstest]
    #[case::key_with_space(
        "[lookup]\nbarcode_meta_keys = [\"my ean\"]",
        "lookup.barcode_meta_keys has key \"my ean\" with a space or control character"
    )]
    #[case::empty_key(
        "[lookup]\nbarcode_meta_keys = [\"\"]",
        "lookup.barcode_meta_keys has a key that is empty"
    )]
    #[case::unknown_status(
        "[lookup]\npickup_statuses = [\"ready\"]",
        "lookup.pickup_statuses has unknown status \"ready\""
    )]
    #[case::status_not_mirrored(
        "[sync]\norder_statuses = [\"completed\"]\n[lookup]\npickup_statuses = [\"processing\"]",
        "lookup.pickup_statuses has status \"processing\", which sync.order_statuses does not mirror"
    )]
    #[case::no_methods(
        "[lookup]\npickup_shipping_methods = []",
        "lookup.pickup_shipping_methods must name at least one method id"
    )]
    #[case::bad_method(
        "[lookup]\npickup_shipping_methods = [\"local pickup\"]",
        "lookup.pickup_shipping_methods has \"local pickup\""
    )]
    #[case::wrong_type(
        "[lookup]\nbarcode_meta_keys = \"_ean\"",
        "lookup.barcode_meta_keys invalid type"
    )]
    #[case::unknown_key("[lookup]\nbarcode = [\"_ean\"]", "lookup.barcode unknown field")]
    fn invalid_lookup_values_name_the_field(#[case] text: &str, #[case] expected: &str) {
        let e = load(text, &[]).unwrap_err();
        assert!(
            e.starts_with(expected),
            "{e:?} does not start with {expected:?}"
        );
    }
}
