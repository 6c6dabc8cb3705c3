//! The layers a configuration is made of, and where each value came from.
//!
//! Precedence (later wins): built-in defaults < the file (`possync.toml`)
//! < the page (`settings.toml` in the data directory, written by the
//! back-office) < `POSSYNC_*` environment < command-line flags. Every layer
//! is a TOML table; they are merged section by section and the result goes
//! through the one validation ([`RawConfig`](super::RawConfig)), so a value
//! typed on the page is checked by the same code, with the same message, as
//! the same value in the file.
//!
//! The page layer is saved atomically (a temporary file written, synced and
//! renamed over the old one, then the directory synced), readable by the
//! service user only: it may hold the shop's keys.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{Config, ConfigError, DEFAULT_CONFIG_FILE, KEYS, overlay, read_table};

/// The page's settings file, in the data directory.
pub const PAGE_SETTINGS_FILE: &str = "settings.toml";

/// Sections whose keys merge one by one; any other value (a list, the
/// payment-method map) is replaced whole by a later layer.
const SECTIONS: &[&str] = &[
    "agent",
    "store",
    "test_store",
    "sync",
    "schedule",
    "lookup",
    "till",
    "webhooks",
    "api",
];

/// Where a setting's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    Default,
    File,
    Page,
    Environment,
    Flag,
}

impl Origin {
    /// How the page names it.
    pub fn label(self) -> &'static str {
        match self {
            Origin::Default => "default",
            Origin::File => "file",
            Origin::Page => "page",
            Origin::Environment => "environment",
            Origin::Flag => "flag",
        }
    }

    /// Whether the page may change a value from here: a value set in the
    /// environment or by a flag wins over the page, so editing it there
    /// would change nothing.
    pub fn page_can_change(self) -> bool {
        !matches!(self, Origin::Environment | Origin::Flag)
    }
}

/// What a configuration is loaded from: the file, the environment and the
/// flags the agent was started with. The page layer is read from the data
/// directory these name.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// `--config` (or `POSSYNC_CONFIG`); `None` reads `possync.toml` when
    /// it exists.
    pub file: Option<PathBuf>,
    /// The `POSSYNC_*` variables (passed in, so tests never touch the
    /// process environment).
    pub env: Vec<(String, String)>,
    /// Dotted key → value, from the command line.
    pub flags: Vec<(String, String)>,
}

/// A validated configuration with the origin of every value set anywhere.
#[derive(Debug, Clone)]
pub struct Layered {
    pub config: Config,
    origins: BTreeMap<String, Origin>,
    /// The page layer as saved (secrets included: never show it).
    page: toml::Table,
}

impl Layered {
    /// A configuration built in code (tests, benchmarks, the demo's own
    /// store): every value counts as a default, and there is no page layer.
    pub fn fixed(config: Config) -> Layered {
        Layered {
            config,
            origins: BTreeMap::new(),
            page: toml::Table::new(),
        }
    }

    /// Where the value at dotted `path` comes from (a section's value, such
    /// as `till.payment_methods`, counts as one).
    pub fn origin(&self, path: &str) -> Origin {
        self.origins.get(path).copied().unwrap_or(Origin::Default)
    }

    /// The page layer as saved.
    pub fn page(&self) -> &toml::Table {
        &self.page
    }
}

impl Sources {
    /// Loads every layer, the page's included, and validates the result.
    pub fn load(&self) -> Result<Layered, ConfigError> {
        let file = self.file_table()?;
        let page = read_page(&self.page_path_in(&file)?)?;
        self.layer(file, page)
    }

    /// Validates the configuration the agent would have with `page` as its
    /// page layer, without saving anything: how the page checks a form.
    pub fn load_with_page(&self, page: toml::Table) -> Result<Layered, ConfigError> {
        self.layer(self.file_table()?, page)
    }

    /// `file` (the config file as read) with `page`, the environment and the
    /// flags over it, validated.
    fn layer(&self, mut table: toml::Table, page: toml::Table) -> Result<Layered, ConfigError> {
        let mut origins = BTreeMap::new();
        record(&table, Origin::File, &mut origins);
        merge(&mut table, &page);
        record(&page, Origin::Page, &mut origins);
        for (name, value) in &self.env {
            if !name.starts_with("POSSYNC_") || super::OTHER_ENV.contains(&name.as_str()) {
                continue;
            }
            let Some(key) = KEYS.iter().find(|k| k.env == name) else {
                return Err(ConfigError::UnknownEnv {
                    name: name.clone(),
                    known: KEYS.iter().map(|k| k.env).collect::<Vec<_>>().join(", "),
                });
            };
            overlay(&mut table, key, value, name)?;
            origins.insert(key.path.to_owned(), Origin::Environment);
        }
        for (path, value) in &self.flags {
            let key = KEYS
                .iter()
                .find(|k| k.path == path)
                .ok_or_else(|| ConfigError::invalid(path, "is not a configuration key"))?;
            overlay(&mut table, key, value, key.path)?;
            origins.insert(key.path.to_owned(), Origin::Flag);
        }
        let config = super::validate_table(table)?;
        Ok(Layered {
            config,
            origins,
            page,
        })
    }

    /// The page's settings file: in the data directory the file, the
    /// environment and the flags name (the page cannot move it).
    pub fn page_path(&self) -> Result<PathBuf, ConfigError> {
        self.page_path_in(&self.file_table()?)
    }

    /// [`Sources::page_path`] for the config file `file` as read.
    fn page_path_in(&self, file: &toml::Table) -> Result<PathBuf, ConfigError> {
        let mut table = toml::Table::new();
        if let Some(dir) = file.get("data_dir") {
            table.insert("data_dir".to_owned(), dir.clone());
        }
        for (name, value) in &self.env {
            if let Some(key) = KEYS.iter().find(|k| k.env == name && k.path == "data_dir") {
                overlay(&mut table, key, value, name)?;
            }
        }
        for (path, value) in &self.flags {
            if let Some(key) = KEYS.iter().find(|k| k.path == path && k.path == "data_dir") {
                overlay(&mut table, key, value, key.path)?;
            }
        }
        let dir = match table.get("data_dir") {
            Some(toml::Value::String(s)) if !s.is_empty() => PathBuf::from(s),
            Some(_) => return Err(ConfigError::invalid("data_dir", "must be a path")),
            None => PathBuf::from(super::DEFAULT_DATA_DIR),
        };
        Ok(dir.join(PAGE_SETTINGS_FILE))
    }

    fn file_table(&self) -> Result<toml::Table, ConfigError> {
        match &self.file {
            Some(p) => read_table(p),
            None if Path::new(DEFAULT_CONFIG_FILE).exists() => {
                read_table(Path::new(DEFAULT_CONFIG_FILE))
            }
            None => Ok(toml::Table::new()),
        }
    }
}

/// Reads the page layer; a missing file is an empty layer.
pub fn read_page(path: &Path) -> Result<toml::Table, ConfigError> {
    if !path.exists() {
        return Ok(toml::Table::new());
    }
    read_table(path)
}

/// Writes the page layer atomically: a temporary file beside it (mode
/// 0600), synced, renamed over the old one, and the directory synced, so a
/// power cut leaves either the old settings or the new, never half.
pub fn save_page(path: &Path, page: &toml::Table) -> Result<(), ConfigError> {
    let write_error = |source: std::io::Error| ConfigError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(write_error)?;
    let text = format!(
        "# Settings saved from the back-office page. Values here win over\n\
         # possync.toml; POSSYNC_* variables and flags win over them.\n{}",
        toml::to_string(page).map_err(|e| ConfigError::invalid("settings", e.to_string()))?
    );
    let tmp = path.with_extension("toml.tmp");
    {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut f = options.open(&tmp).map_err(write_error)?;
        f.write_all(text.as_bytes()).map_err(write_error)?;
        f.sync_all().map_err(write_error)?;
    }
    std::fs::rename(&tmp, path).map_err(write_error)?;
    if let Ok(d) = std::fs::File::open(dir) {
        // Makes the rename itself durable; not every platform can sync a
        // directory, and the file is already complete either way.
        let _ = d.sync_all();
    }
    Ok(())
}

/// Sets dotted `path` to `value` in a page layer (`None` removes it, so the
/// value falls back to the file or the default).
pub fn set(page: &mut toml::Table, path: &str, value: Option<toml::Value>) {
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts.pop().unwrap_or(path);
    let mut cur = &mut *page;
    for part in parts {
        let entry = cur
            .entry(part.to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        let Some(t) = entry.as_table_mut() else {
            return;
        };
        cur = t;
    }
    match value {
        Some(v) => {
            cur.insert(last.to_owned(), v);
        }
        None => {
            cur.remove(last);
        }
    }
    prune(page);
}

/// Drops sections left empty.
fn prune(page: &mut toml::Table) {
    page.retain(|_, v| !matches!(v, toml::Value::Table(t) if t.is_empty()));
}

/// Merges `upper` into `lower`: sections key by key, anything else whole.
fn merge(lower: &mut toml::Table, upper: &toml::Table) {
    for (k, v) in upper {
        match (lower.get_mut(k), v) {
            (Some(toml::Value::Table(l)), toml::Value::Table(u))
                if SECTIONS.contains(&k.as_str()) =>
            {
                for (k2, v2) in u {
                    l.insert(k2.clone(), v2.clone());
                }
            }
            _ => {
                lower.insert(k.clone(), v.clone());
            }
        }
    }
}

/// Notes `origin` for every value `layer` sets.
fn record(layer: &toml::Table, origin: Origin, origins: &mut BTreeMap<String, Origin>) {
    for (k, v) in layer {
        match v {
            toml::Value::Table(t) if SECTIONS.contains(&k.as_str()) => {
                for k2 in t.keys() {
                    origins.insert(format!("{k}.{k2}"), origin);
                }
            }
            _ => {
                origins.insert(k.clone(), origin);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(dir: &Path, file: &str, env: &[(&str, &str)], flags: &[(&str, &str)]) -> Sources {
        let path = dir.join("possync.toml");
        std::fs::write(
            &path,
            format!("data_dir = \"{}\"\n{file}", dir.join("data").display()),
        )
        .unwrap();
        Sources {
            file: Some(path),
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            flags: flags
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn the_page_layer_sits_between_the_file_and_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let s = sources(
            dir.path(),
            "[sync]\npage_size = 50\norder_window_days = 10\n[till]\nid = \"file\"\n",
            &[("POSSYNC_TILL_ORDER_PREFIX", "ENV-")],
            &[("sync.max_records", "7")],
        );
        let mut page = toml::Table::new();
        set(&mut page, "sync.page_size", Some(toml::Value::Integer(20)));
        set(
            &mut page,
            "till.order_prefix",
            Some(toml::Value::String("PAGE-".into())),
        );
        save_page(&s.page_path().unwrap(), &page).unwrap();
        let l = s.load().unwrap();
        assert_eq!(l.config.sync.page_size, 20);
        assert_eq!(l.origin("sync.page_size"), Origin::Page);
        assert_eq!(l.config.sync.order_window_days, 10);
        assert_eq!(l.origin("sync.order_window_days"), Origin::File);
        assert_eq!(l.config.till.settings.till_id, "file");
        assert_eq!(l.config.till.settings.order_prefix, "ENV-");
        assert_eq!(l.origin("till.order_prefix"), Origin::Environment);
        assert_eq!(l.config.sync.max_records, 7);
        assert_eq!(l.origin("sync.max_records"), Origin::Flag);
        assert_eq!(l.origin("sync.concurrency"), Origin::Default);
        assert!(!Origin::Environment.page_can_change());
        assert!(Origin::File.page_can_change());
    }

    #[test]
    fn a_page_value_is_checked_by_the_same_validation_with_the_same_message() {
        let dir = tempfile::tempdir().unwrap();
        let s = sources(dir.path(), "", &[], &[]);
        let mut page = toml::Table::new();
        set(&mut page, "sync.page_size", Some(toml::Value::Integer(250)));
        let from_page = s.load_with_page(page).unwrap_err().to_string();
        let file = sources(dir.path(), "[sync]\npage_size = 250\n", &[], &[]);
        let from_file = file.load().unwrap_err().to_string();
        assert_eq!(from_page, from_file);
        assert_eq!(
            from_page,
            "sync.page_size must be between 1 and 100 (got 250)"
        );
    }

    #[test]
    fn the_page_file_is_replaced_whole_and_readable_by_its_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d").join(PAGE_SETTINGS_FILE);
        let mut page = toml::Table::new();
        set(
            &mut page,
            "store.consumer_secret",
            Some(toml::Value::String("cs_x".into())),
        );
        save_page(&path, &page).unwrap();
        assert_eq!(read_page(&path).unwrap(), page);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        set(&mut page, "store.consumer_secret", None);
        save_page(&path, &page).unwrap();
        assert!(read_page(&path).unwrap().is_empty());
        assert!(!path.with_extension("toml.tmp").exists());
    }
}
