//! Meta mapping: an upstream meta key (a custom field of products and
//! variations) read as a field the till shows: a barcode, the brand, the
//! bin location, or a label the manager names. Parsed here from what the
//! manager typed; `store::meta` keeps the mappings and the index built
//! from them.

use std::fmt;

use serde::Serialize;

/// Longest meta key (WordPress allows 255; real ones are short).
pub const MAX_META_KEY_CHARS: usize = 100;
/// Longest label name: it is a caption at the till.
pub const MAX_LABEL_CHARS: usize = 40;
/// Most mappings the page keeps: each costs every product write a lookup.
pub const MAX_MAPPINGS: usize = 50;

/// An upstream meta key, as possync takes it in `lookup.barcode_meta_keys`
/// and on the meta-mapping page alike.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct MetaKey(String);

impl MetaKey {
    /// Trimmed, not empty, at most [`MAX_META_KEY_CHARS`] characters, no
    /// space or control character. The error reads after "has" (`has a key
    /// that is empty ...`), as the configuration states it.
    pub fn parse(raw: &str) -> Result<MetaKey, String> {
        let k = raw.trim();
        if k.is_empty() || k.chars().count() > MAX_META_KEY_CHARS {
            return Err(format!(
                "a key that is empty or longer than {MAX_META_KEY_CHARS} characters"
            ));
        }
        if k.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!("key {k:?} with a space or control character"));
        }
        Ok(MetaKey(k.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for MetaKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a mapped key's value becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MappedField {
    /// One more code the product answers to at the scanner.
    Barcode,
    /// The product's brand.
    Brand,
    /// Where the product is kept in the shop or stock room.
    BinLocation,
    /// A label the manager named, shown with its name.
    Label(String),
}

impl MappedField {
    /// The field names the page offers, in its order.
    pub const NAMES: [&'static str; 4] = ["barcode", "brand", "bin_location", "label"];

    /// The field's name as stored and posted.
    pub fn name(&self) -> &'static str {
        match self {
            MappedField::Barcode => "barcode",
            MappedField::Brand => "brand",
            MappedField::BinLocation => "bin_location",
            MappedField::Label(_) => "label",
        }
    }

    /// The label's name, for a label; "" otherwise.
    pub fn label(&self) -> &str {
        match self {
            MappedField::Label(l) => l,
            _ => "",
        }
    }

    /// A field from its stored name and label (as [`MappedField::name`]
    /// and [`MappedField::label`] give them).
    pub fn from_stored(name: &str, label: &str) -> Option<MappedField> {
        Some(match name {
            "barcode" => MappedField::Barcode,
            "brand" => MappedField::Brand,
            "bin_location" => MappedField::BinLocation,
            "label" if !label.is_empty() => MappedField::Label(label.to_owned()),
            _ => return None,
        })
    }
}

/// A refused mapping: the form field at fault and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingError {
    /// `meta_key`, `field` or `label`.
    pub field: &'static str,
    pub reason: String,
}

impl fmt::Display for MappingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

/// One mapping: a meta key and the field it fills.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaMapping {
    pub key: MetaKey,
    pub field: MappedField,
}

impl MetaMapping {
    /// A mapping from the page's form: the key, the field's name, and the
    /// label's name (required for a label, refused for any other field).
    pub fn parse(key: &str, field: &str, label: &str) -> Result<MetaMapping, MappingError> {
        let key = MetaKey::parse(key).map_err(|reason| MappingError {
            field: "meta_key",
            reason: format!("has {reason}"),
        })?;
        let label = label.trim();
        let field = match field.trim() {
            "barcode" => MappedField::Barcode,
            "brand" => MappedField::Brand,
            "bin_location" => MappedField::BinLocation,
            "label" => MappedField::Label(label_name(label)?),
            other => {
                return Err(MappingError {
                    field: "field",
                    reason: format!(
                        "must be one of {} (got {:?})",
                        MappedField::NAMES.join(", "),
                        truncate(other, 40)
                    ),
                });
            }
        };
        if !matches!(field, MappedField::Label(_)) && !label.is_empty() {
            return Err(MappingError {
                field: "label",
                reason: format!(
                    "only a label mapping takes a label name (the field is {}); leave it empty",
                    field.name()
                ),
            });
        }
        Ok(MetaMapping { key, field })
    }
}

fn label_name(label: &str) -> Result<String, MappingError> {
    let err = |reason: String| MappingError {
        field: "label",
        reason,
    };
    if label.is_empty() {
        return Err(err(
            "a label mapping needs a label name (what the till shows before the value)".to_owned(),
        ));
    }
    if label.chars().count() > MAX_LABEL_CHARS {
        return Err(err(format!(
            "must be at most {MAX_LABEL_CHARS} characters (got {})",
            label.chars().count()
        )));
    }
    if label.chars().any(char::is_control) {
        return Err(err("must not contain control characters".to_owned()));
    }
    Ok(label.to_owned())
}

/// The first `max` characters of `s`, with `…` when cut.
pub fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_owned(),
        Some((at, _)) => format!("{}…", &s[..at]),
    }
}

/// How far the re-index a mapping change started has come.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReindexProgress {
    /// `idle` (never ran), `running` or `done`.
    pub state: ReindexState,
    /// Products and variations re-indexed so far.
    pub done: i64,
    /// Products and variations to re-index (as counted when it started).
    pub total: i64,
    /// When it started (unix ms).
    pub started_at: Option<i64>,
    /// When it ended (unix ms).
    pub finished_at: Option<i64>,
}

impl ReindexProgress {
    /// Whole percent done (100 when there was nothing to do).
    pub fn percent(&self) -> i64 {
        if self.total <= 0 {
            100
        } else {
            (self.done.min(self.total) * 100) / self.total
        }
    }
}

/// Where a re-index is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReindexState {
    /// No mapping change has started one yet.
    #[default]
    Idle,
    /// Batches remain.
    Running,
    /// Every product was re-indexed with the mappings in force.
    Done,
}

impl ReindexState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReindexState::Idle => "idle",
            ReindexState::Running => "running",
            ReindexState::Done => "done",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::brand("_brand", "brand", "", MappedField::Brand)]
    #[case::trimmed(" _bin ", " bin_location ", " ", MappedField::BinLocation)]
    #[case::barcode("_gtin", "barcode", "", MappedField::Barcode)]
    #[case::label("_origin", "label", " Origin ", MappedField::Label("Origin".into()))]
    fn accepted(
        #[case] key: &str,
        #[case] field: &str,
        #[case] label: &str,
        #[case] expected: MappedField,
    ) {
        let m = MetaMapping::parse(key, field, label).unwrap();
        assert_eq!(m.key.as_str(), key.trim());
        assert_eq!(m.field, expected);
    }

    #[rstest]
    #[case::empty_key("  ", "brand", "", "meta_key")]
    #[case::key_with_space("my key", "brand", "", "meta_key")]
    #[case::oversized_key(&"k".repeat(101), "brand", "", "meta_key")]
    #[case::unknown_field("_x", "colour", "", "field")]
    #[case::label_missing("_x", "label", "", "label")]
    #[case::oversized_label("_x", "label", &"L".repeat(41), "label")]
    #[case::label_on_brand("_x", "brand", "Origin", "label")]
    fn refused(#[case] key: &str, #[case] field: &str, #[case] label: &str, #[case] at: &str) {
        let e = MetaMapping::parse(key, field, label).unwrap_err();
        assert_eq!(e.field, at, "{e}");
    }

    #[test]
    fn truncation_counts_characters() {
        assert_eq!(truncate("ééé", 2), "éé…");
        assert_eq!(truncate("ab", 2), "ab");
    }
}
