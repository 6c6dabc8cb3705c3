//! Configuration: `possync.toml` overlaid by `POSSYNC_*` environment variables
//! and then by command-line flags, validated into typed values.
//!
//! Precedence (later wins): built-in defaults < file < environment < flags.
//! Every failure names the field and the reason. Secrets (API key and secret)
//! are [`SecretString`]s: they never appear in `Debug`, logs or error text,
//! including the errors of a malformed file.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

mod api;
pub use api::ApiConfig;
mod layers;
pub use layers::{
    Layered, Origin, PAGE_SETTINGS_FILE, Sources, read_page, save_page, set as set_page_value,
};
mod lookup;
pub use lookup::LookupConfig;
pub mod store;
pub use store::{
    ApiVersion, AuthMode, LocationRef, ShopifyCredentials, ShopifySettings, StoreConfig, StoreKind,
    StoreMode, StoreSettings, WooSettings,
};
mod till;
pub use till::TillConfig;
mod webhooks;
pub use webhooks::WebhooksConfig;

/// The default config file, read when present and no `--config` is given.
pub const DEFAULT_CONFIG_FILE: &str = "possync.toml";
/// The default address of the local API and back-office page.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8420";
/// The default data directory (the replica lives there).
pub const DEFAULT_DATA_DIR: &str = "possync-data";
/// WooCommerce's largest page.
pub const MAX_PAGE_SIZE: u8 = 100;
const DEFAULT_PAGE_SIZE: u8 = 100;
/// `sync.concurrency = "auto"`, the default: adaptive (see `sync::limit`).
pub const AUTO_CONCURRENCY: usize = 0;
const DEFAULT_CONCURRENCY: usize = AUTO_CONCURRENCY;
const MAX_CONCURRENCY: usize = 16;
/// The ceiling of `"auto"` (`sync.max_concurrency`).
const DEFAULT_MAX_CONCURRENCY: usize = 8;
const DEFAULT_ORDER_WINDOW_DAYS: u32 = 90;
const MAX_ORDER_WINDOW_DAYS: u32 = 3650;

/// Product statuses the REST API can filter on.
pub const PRODUCT_STATUSES: &[&str] = &["any", "publish", "private", "draft", "pending", "future"];
/// Order statuses the REST API can filter on (trash and drafts excluded).
pub const ORDER_STATUSES: &[&str] = &[
    "any",
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
];
const DEFAULT_ORDER_STATUSES: &[&str] =
    &["pending", "processing", "on-hold", "completed", "refunded"];

/// Environment variables that are not config keys but are still ours.
const OTHER_ENV: &[&str] = &[
    "POSSYNC_CONFIG",
    "POSSYNC_LOG",
    "POSSYNC_TEST_HOLD_MIGRATION",
];

/// A configuration error. The message names the field and says why.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file named with `--config` (or `POSSYNC_CONFIG`) could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML. The offending text is not quoted, as it
    /// may hold a secret.
    #[error("{path}: invalid TOML at line {line}, column {column}: {message}")]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// A field has a wrong type or value.
    #[error("{field} {reason}")]
    Invalid { field: String, reason: String },
    /// A field the command needs is not set.
    #[error("{field} is not set: {hint}")]
    Missing { field: String, hint: String },
    /// The page's settings could not be saved.
    #[error("cannot save settings to {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A `POSSYNC_*` variable that matches no setting (probably a typo).
    #[error("unknown environment variable {name}: possync reads {known}")]
    UnknownEnv { name: String, known: String },
}

impl ConfigError {
    fn invalid(field: &str, reason: impl Into<String>) -> Self {
        ConfigError::Invalid {
            field: field.to_owned(),
            reason: reason.into(),
        }
    }
}

/// The agent's configuration, validated.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address of the local API and back-office page.
    pub listen: SocketAddr,
    /// Where the replica and other state live.
    pub data_dir: PathBuf,
    /// The online store of the selected profile; absent until configured.
    pub store: Option<StoreConfig>,
    /// Both profiles: the live shop (`[store]`) and the test shop
    /// (`[test_store]`); `store` is the one `profile` selects.
    pub profiles: StoreProfiles,
    /// Which profile the agent syncs (`agent.profile`).
    pub profile: Profile,
    /// Whether the agent syncs and replays (`agent.active`); a deactivated
    /// agent still answers lookups and accepts sales, queued.
    pub active: bool,
    pub sync: SyncConfig,
    /// How till lookups read the replica.
    pub lookup: LookupConfig,
    /// How this till books sales and replays them.
    pub till: TillConfig,
    /// Webhook receiving.
    pub webhooks: WebhooksConfig,
    /// Who may reach the local API.
    pub api: ApiConfig,
}

/// The two store profiles: each has its own replica file, so switching
/// never mixes one shop's data with the other's.
#[derive(Debug, Clone, Default)]
pub struct StoreProfiles {
    pub live: Option<StoreConfig>,
    pub test: Option<StoreConfig>,
}

/// Which shop the agent syncs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// The live shop, `[store]` (the default).
    #[default]
    Live,
    /// The test (staging) shop, `[test_store]`.
    Test,
}

impl Profile {
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Live => "live",
            Profile::Test => "test",
        }
    }

    /// The config section of this profile's store.
    pub fn section(self) -> &'static str {
        match self {
            Profile::Live => "store",
            Profile::Test => "test_store",
        }
    }

    /// The replica file of this profile, in the data directory.
    pub fn replica_file(self) -> &'static str {
        match self {
            Profile::Live => "replica.db",
            Profile::Test => "replica-test.db",
        }
    }

    pub fn parse(s: &str) -> Option<Profile> {
        match s.trim() {
            "live" => Some(Profile::Live),
            "test" => Some(Profile::Test),
            _ => None,
        }
    }
}

/// What to mirror and how hard to pull.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// Items per page, 1..=100.
    pub page_size: u8,
    /// Requests at once to the shop: a pinned number, or
    /// [`AUTO_CONCURRENCY`] (0, the default) for adaptive up to
    /// `max_concurrency` (see [`SyncConfig::limit`]).
    pub concurrency: usize,
    /// The ceiling of the adaptive setting, 1..=16.
    pub max_concurrency: usize,
    /// Product statuses mirrored (default `publish`).
    pub product_statuses: Vec<String>,
    /// Order statuses mirrored.
    pub order_statuses: Vec<String>,
    /// Orders created within this many days are mirrored; 0 = all.
    pub order_window_days: u32,
    /// At most this many records per resource; 0 = all.
    pub max_records: u64,
    /// How often `possync run` polls and sweeps (the `[schedule]` section).
    pub schedule: Schedule,
}

/// The delta-sync timetable (`[schedule]` in the file).
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub products: Duration,
    pub variations: Duration,
    pub orders: Duration,
    pub customers: Duration,
    /// Categories, tags, attributes, taxes, shipping, gateways, settings.
    pub metadata: Duration,
    /// Deletion and completeness sweep.
    pub sweep: Duration,
    /// How far before the cursor each poll asks again (`modified_after =
    /// cursor - overlap`): covers clock skew and slow writers upstream.
    pub overlap: Duration,
    /// Each interval is drawn within ± this share of itself, so tills do
    /// not poll the shop in lockstep.
    pub jitter: f64,
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            products: Duration::from_secs(30),
            variations: Duration::from_secs(30),
            orders: Duration::from_secs(30),
            customers: Duration::from_secs(300),
            metadata: Duration::from_secs(3600),
            sweep: Duration::from_secs(6 * 3600),
            overlap: Duration::from_secs(120),
            jitter: 0.1,
        }
    }
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            page_size: DEFAULT_PAGE_SIZE,
            concurrency: DEFAULT_CONCURRENCY,
            max_concurrency: DEFAULT_MAX_CONCURRENCY,
            product_statuses: vec!["publish".to_owned()],
            order_statuses: DEFAULT_ORDER_STATUSES
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            order_window_days: DEFAULT_ORDER_WINDOW_DAYS,
            max_records: 0,
            schedule: Schedule::default(),
        }
    }
}

impl SyncConfig {
    /// How many requests the shop gets at once.
    pub fn limit(&self) -> crate::sync::limit::Limit {
        use crate::sync::limit::Limit;
        match self.concurrency {
            AUTO_CONCURRENCY => Limit::Auto {
                max: self.max_concurrency.max(1),
            },
            n => Limit::Fixed(n),
        }
    }
}

/// A redacted view of the configuration, safe to show on a page or log.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ConfigView {
    pub listen: String,
    pub data_dir: String,
    /// `woocommerce` or `shopify`.
    pub store_kind: Option<StoreKind>,
    /// The shop's address (for Shopify, its myshopify.com host).
    pub store_url: Option<String>,
    pub home_url: Option<String>,
    pub auth: Option<String>,
    pub consumer_key_set: bool,
    pub consumer_secret_set: bool,
    pub page_size: u8,
    /// `auto` or the pinned number.
    pub concurrency: String,
    pub max_concurrency: usize,
    pub product_statuses: Vec<String>,
    pub order_statuses: Vec<String>,
    pub order_window_days: u32,
    pub max_records: u64,
    pub till: crate::domain::till::TillSettings,
    pub replay_concurrency: usize,
    pub offline_limit_hours: u32,
    pub webhook_secret_set: bool,
}

impl Config {
    /// A configuration with every section at its default: the starting
    /// point for code that builds one (demo, tests, benchmarks) rather than
    /// loading a file, so a new section never breaks them.
    pub fn new(listen: SocketAddr, data_dir: PathBuf, store: Option<StoreConfig>) -> Config {
        Config {
            listen,
            data_dir,
            profiles: StoreProfiles {
                live: store.clone(),
                test: None,
            },
            store,
            profile: Profile::Live,
            active: true,
            sync: SyncConfig::default(),
            lookup: LookupConfig::default(),
            till: TillConfig::default(),
            webhooks: WebhooksConfig::default(),
            api: ApiConfig::default(),
        }
    }

    /// Loads `path` (or `possync.toml` if it exists when `path` is `None`),
    /// overlays the `POSSYNC_*` variables of `env`, then `flags` (pairs of a
    /// dotted key such as `listen` and its value), and validates the result.
    ///
    /// `env` is passed in rather than read so that tests never touch the
    /// process environment.
    pub fn load<I>(
        path: Option<&Path>,
        env: I,
        flags: &[(&str, String)],
    ) -> Result<Config, ConfigError>
    where
        I: IntoIterator<Item = (String, String)>,
    {
        Ok(Config::sources(path, env, flags).load()?.config)
    }

    /// The layers `load` reads, to load again later (the page does, after
    /// saving its settings) or to know where each value came from.
    pub fn sources<I>(path: Option<&Path>, env: I, flags: &[(&str, String)]) -> Sources
    where
        I: IntoIterator<Item = (String, String)>,
    {
        Sources {
            file: path.map(Path::to_path_buf),
            env: env.into_iter().collect(),
            flags: flags
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        }
    }

    /// The store settings, or a clear error saying how to set them.
    pub fn store(&self) -> Result<&StoreConfig, ConfigError> {
        self.store.as_ref().ok_or_else(|| ConfigError::Missing {
            field: "store.url".to_owned(),
            hint: "add a [store] section with url, consumer_key and consumer_secret to possync.toml, or set POSSYNC_STORE_URL, POSSYNC_STORE_CONSUMER_KEY and POSSYNC_STORE_CONSUMER_SECRET".to_owned(),
        })
    }

    /// The path of the replica database.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join(self.profile.replica_file())
    }

    /// The live profile's replica: where the back-office's password and
    /// the API tokens live, whichever profile is selected.
    pub fn home_database_path(&self) -> PathBuf {
        self.data_dir.join(Profile::Live.replica_file())
    }

    /// A view without secrets, for the page and for logs.
    pub fn view(&self) -> ConfigView {
        let woo = self.store.as_ref().and_then(StoreConfig::woo);
        ConfigView {
            listen: self.listen.to_string(),
            data_dir: self.data_dir.display().to_string(),
            store_kind: self.store.as_ref().map(StoreConfig::kind),
            store_url: self.store.as_ref().map(StoreConfig::address),
            home_url: woo.and_then(|s| s.home_url.as_ref().map(|u| u.to_string())),
            auth: woo.map(|s| format!("{:?}", s.auth)),
            consumer_key_set: woo.is_some_and(|s| !s.consumer_key.expose_secret().is_empty()),
            consumer_secret_set: woo.is_some_and(|s| !s.consumer_secret.expose_secret().is_empty()),
            page_size: self.sync.page_size,
            concurrency: match self.sync.concurrency {
                AUTO_CONCURRENCY => "auto".to_owned(),
                n => n.to_string(),
            },
            max_concurrency: self.sync.max_concurrency,
            product_statuses: self.sync.product_statuses.clone(),
            order_statuses: self.sync.order_statuses.clone(),
            order_window_days: self.sync.order_window_days,
            max_records: self.sync.max_records,
            till: self.till.settings.clone(),
            replay_concurrency: self.till.replay_concurrency,
            offline_limit_hours: self.till.offline_limit_hours,
            webhook_secret_set: self.webhooks.secret.is_some(),
        }
    }
}

/// What a secret shows as in [`Config::redacted_toml`].
pub const REDACTED: &str = "redacted";

impl Config {
    /// The effective configuration as TOML for a support bundle, every
    /// secret (both profiles' consumer key and secret or Shopify token and client
    /// credentials, the webhook secret)
    /// written as `"redacted"` (`""` when it is not set): what is in force,
    /// whichever layer it came from, and nothing that lets anyone in.
    pub fn redacted_toml(&self) -> String {
        use toml::{Table, Value};
        fn secret(s: &SecretString) -> Value {
            let shown = if s.expose_secret().is_empty() {
                ""
            } else {
                REDACTED
            };
            Value::from(shown)
        }
        fn strings(list: &[String]) -> Value {
            Value::Array(list.iter().map(|s| Value::from(s.as_str())).collect())
        }
        fn store(s: &StoreConfig) -> Table {
            let mut t = Table::new();
            match &s.settings {
                StoreSettings::WooCommerce(w) => {
                    t.insert("url".into(), Value::from(w.url.as_str()));
                    if let Some(home) = &w.home_url {
                        t.insert("home_url".into(), Value::from(home.as_str()));
                    }
                    t.insert("consumer_key".into(), secret(&w.consumer_key));
                    t.insert("consumer_secret".into(), secret(&w.consumer_secret));
                    t.insert(
                        "auth".into(),
                        Value::from(format!("{:?}", w.auth).to_lowercase()),
                    );
                }
                StoreSettings::Shopify(sh) => {
                    t.insert("kind".into(), Value::from(StoreKind::Shopify.as_str()));
                    t.insert("shop".into(), Value::from(sh.shop.as_str()));
                    match &sh.credentials {
                        ShopifyCredentials::AccessToken(token) => {
                            t.insert("access_token".into(), secret(token));
                        }
                        ShopifyCredentials::ClientCredentials {
                            client_id,
                            client_secret,
                        } => {
                            t.insert("client_id".into(), secret(client_id));
                            t.insert("client_secret".into(), secret(client_secret));
                        }
                    }
                    t.insert("api_version".into(), Value::from(sh.api_version.as_str()));
                    match &sh.location {
                        Some(LocationRef::Id(id)) => {
                            t.insert(
                                "location".into(),
                                Value::from(i64::try_from(*id).unwrap_or(i64::MAX)),
                            );
                        }
                        Some(LocationRef::Name(name)) => {
                            t.insert("location".into(), Value::from(name.as_str()));
                        }
                        None => {}
                    }
                    if let Some(u) = &sh.admin_url {
                        t.insert("admin_url".into(), Value::from(u.as_str()));
                    }
                }
            }
            t.insert("verify_tls".into(), Value::from(s.verify_tls));
            t.insert(
                "timeout_secs".into(),
                Value::from(i64::try_from(s.timeout.as_secs()).unwrap_or(i64::MAX)),
            );
            t.insert("mode".into(), Value::from(s.mode.as_str()));
            t
        }
        let view = self.view();
        let mut root = Table::new();
        root.insert("listen".into(), Value::from(view.listen.clone()));
        root.insert("data_dir".into(), Value::from(view.data_dir.clone()));
        let mut agent = Table::new();
        agent.insert("profile".into(), Value::from(self.profile.as_str()));
        agent.insert("active".into(), Value::from(self.active));
        root.insert("agent".into(), Value::Table(agent));
        for (name, profile) in [
            ("store", &self.profiles.live),
            ("test_store", &self.profiles.test),
        ] {
            if let Some(s) = profile {
                root.insert(name.into(), Value::Table(store(s)));
            }
        }
        let mut sync = Table::new();
        sync.insert("page_size".into(), Value::from(i64::from(view.page_size)));
        sync.insert("concurrency".into(), Value::from(view.concurrency.clone()));
        sync.insert(
            "max_concurrency".into(),
            Value::from(i64::try_from(view.max_concurrency).unwrap_or(i64::MAX)),
        );
        sync.insert("product_statuses".into(), strings(&view.product_statuses));
        sync.insert("order_statuses".into(), strings(&view.order_statuses));
        sync.insert(
            "order_window_days".into(),
            Value::from(i64::from(view.order_window_days)),
        );
        sync.insert(
            "max_records".into(),
            Value::from(i64::try_from(view.max_records).unwrap_or(i64::MAX)),
        );
        root.insert("sync".into(), Value::Table(sync));
        let mut lookup = Table::new();
        lookup.insert(
            "barcode_meta_keys".into(),
            strings(&self.lookup.barcode_meta_keys),
        );
        lookup.insert(
            "pickup_statuses".into(),
            strings(&self.lookup.pickup_statuses),
        );
        lookup.insert(
            "pickup_shipping_methods".into(),
            strings(&self.lookup.pickup_shipping_methods),
        );
        root.insert("lookup".into(), Value::Table(lookup));
        let mut till = match Value::try_from(&self.till.settings) {
            Ok(Value::Table(t)) => t,
            _ => Table::new(),
        };
        till.insert(
            "replay_concurrency".into(),
            Value::from(i64::try_from(self.till.replay_concurrency).unwrap_or(i64::MAX)),
        );
        root.insert("till".into(), Value::Table(till));
        let mut webhooks = Table::new();
        if let Some(s) = &self.webhooks.secret {
            webhooks.insert("secret".into(), secret(s));
        }
        root.insert("webhooks".into(), Value::Table(webhooks));
        let mut api = Table::new();
        api.insert("allowed_hosts".into(), strings(&self.api.allowed_hosts));
        api.insert(
            "require_tokens".into(),
            Value::from(self.api.require_tokens),
        );
        api.insert(
            "session_idle_secs".into(),
            Value::from(i64::try_from(self.api.session_idle.as_secs()).unwrap_or(i64::MAX)),
        );
        api.insert(
            "secure_cookies".into(),
            Value::from(self.api.secure_cookies),
        );
        root.insert("api".into(), Value::Table(api));
        let mut out = String::from(
            "# The configuration in force; every secret is written as \"redacted\".\n",
        );
        out.push_str(&toml::to_string(&root).unwrap_or_default());
        out
    }
}

/// Deserializes the merged layers and validates them: the one path every
/// value takes, whichever layer it came from.
fn validate_table(table: toml::Table) -> Result<Config, ConfigError> {
    let raw: RawConfig =
        serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
            let field = e.path().to_string();
            ConfigError::invalid(&field, describe_serde_error(e.inner()))
        })?;
    raw.validate()
}

fn read_table(path: &Path) -> Result<toml::Table, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    text.parse::<toml::Table>().map_err(|e| {
        let (line, column) = e.span().map(|s| line_col(&text, s.start)).unwrap_or((0, 0));
        ConfigError::Syntax {
            path: path.to_path_buf(),
            line,
            column,
            message: e.message().trim().to_owned(),
        }
    })
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map_or(before.len(), |i| before.len() - i - 1)
        + 1;
    (line, column)
}

/// Serde's messages quote the offending value; that is fine for every field
/// except the secrets, which are deserialized as raw values and checked by
/// hand (see `RawStore`).
fn describe_serde_error(e: &toml::de::Error) -> String {
    e.message().trim().to_owned()
}

/// The type a configuration key holds, for parsing env and flag values.
#[derive(Clone, Copy)]
enum Kind {
    Str,
    Int,
    /// A number, or a word such as `auto`.
    IntOrStr,
    Bool,
    List,
}

/// One configuration key: its dotted path, environment variable and type.
struct Key {
    path: &'static str,
    env: &'static str,
    kind: Kind,
}

const KEYS: &[Key] = &[
    Key {
        path: "api.require_tokens",
        env: "POSSYNC_API_REQUIRE_TOKENS",
        kind: Kind::Bool,
    },
    Key {
        path: "api.allowed_hosts",
        env: "POSSYNC_API_ALLOWED_HOSTS",
        kind: Kind::List,
    },
    Key {
        path: "listen",
        env: "POSSYNC_LISTEN",
        kind: Kind::Str,
    },
    Key {
        path: "data_dir",
        env: "POSSYNC_DATA_DIR",
        kind: Kind::Str,
    },
    Key {
        path: "agent.active",
        env: "POSSYNC_AGENT_ACTIVE",
        kind: Kind::Bool,
    },
    Key {
        path: "agent.profile",
        env: "POSSYNC_AGENT_PROFILE",
        kind: Kind::Str,
    },
    Key {
        path: "test_store.kind",
        env: "POSSYNC_TEST_STORE_KIND",
        kind: Kind::Str,
    },
    Key {
        path: "test_store.shop",
        env: "POSSYNC_TEST_STORE_SHOP",
        kind: Kind::Str,
    },
    Key {
        path: "test_store.access_token",
        env: "POSSYNC_TEST_STORE_ACCESS_TOKEN",
        kind: Kind::Str,
    },
    Key {
        path: "test_store.client_id",
        env: "POSSYNC_TEST_STORE_CLIENT_ID",
        kind: Kind::Str,
    },
    Key {
        path: "test_store.client_secret",
        env: "POSSYNC_TEST_STORE_CLIENT_SECRET",
        kind: Kind::Str,
    },
    Key {
        path: "test_store.api_version",
        env: "POSSYNC_TEST_STORE_API_VERSION",
        kind: Kind::Str,
    },
    Key {
        path: "test_store.location",
        env: "POSSYNC_TEST_STORE_LOCATION",
        kind: Kind::IntOrStr,
    },
    Key {
        path: "test_store.admin_url",
        env: "POSSYNC_TEST_STORE_ADMIN_URL",
        kind: Kind::Str,
    },
    Key {
        path: "test_store.url",
        env: "POSSYNC_TEST_STORE_URL",
        kind: Kind::Str,
    },
    Key {
        path: "test_store.home_url",
        env: "POSSYNC_TEST_STORE_HOME_URL",
        kind: Kind::Str,
    },
    Key {
        path: "test_store.consumer_key",
        env: "POSSYNC_TEST_STORE_CONSUMER_KEY",
        kind: Kind::Str,
    },
    Key {
        path: "test_store.consumer_secret",
        env: "POSSYNC_TEST_STORE_CONSUMER_SECRET",
        kind: Kind::Str,
    },
    Key {
        path: "test_store.auth",
        env: "POSSYNC_TEST_STORE_AUTH",
        kind: Kind::Str,
    },
    Key {
        path: "test_store.verify_tls",
        env: "POSSYNC_TEST_STORE_VERIFY_TLS",
        kind: Kind::Bool,
    },
    Key {
        path: "test_store.timeout_secs",
        env: "POSSYNC_TEST_STORE_TIMEOUT_SECS",
        kind: Kind::Int,
    },
    Key {
        path: "store.kind",
        env: "POSSYNC_STORE_KIND",
        kind: Kind::Str,
    },
    Key {
        path: "store.shop",
        env: "POSSYNC_STORE_SHOP",
        kind: Kind::Str,
    },
    Key {
        path: "store.access_token",
        env: "POSSYNC_STORE_ACCESS_TOKEN",
        kind: Kind::Str,
    },
    Key {
        path: "store.client_id",
        env: "POSSYNC_STORE_CLIENT_ID",
        kind: Kind::Str,
    },
    Key {
        path: "store.client_secret",
        env: "POSSYNC_STORE_CLIENT_SECRET",
        kind: Kind::Str,
    },
    Key {
        path: "store.api_version",
        env: "POSSYNC_STORE_API_VERSION",
        kind: Kind::Str,
    },
    Key {
        path: "store.location",
        env: "POSSYNC_STORE_LOCATION",
        kind: Kind::IntOrStr,
    },
    Key {
        path: "store.admin_url",
        env: "POSSYNC_STORE_ADMIN_URL",
        kind: Kind::Str,
    },
    Key {
        path: "store.url",
        env: "POSSYNC_STORE_URL",
        kind: Kind::Str,
    },
    Key {
        path: "store.home_url",
        env: "POSSYNC_STORE_HOME_URL",
        kind: Kind::Str,
    },
    Key {
        path: "store.consumer_key",
        env: "POSSYNC_STORE_CONSUMER_KEY",
        kind: Kind::Str,
    },
    Key {
        path: "store.consumer_secret",
        env: "POSSYNC_STORE_CONSUMER_SECRET",
        kind: Kind::Str,
    },
    Key {
        path: "store.auth",
        env: "POSSYNC_STORE_AUTH",
        kind: Kind::Str,
    },
    Key {
        path: "store.verify_tls",
        env: "POSSYNC_STORE_VERIFY_TLS",
        kind: Kind::Bool,
    },
    Key {
        path: "store.timeout_secs",
        env: "POSSYNC_STORE_TIMEOUT_SECS",
        kind: Kind::Int,
    },
    Key {
        path: "store.mode",
        env: "POSSYNC_STORE_MODE",
        kind: Kind::Str,
    },
    Key {
        path: "sync.page_size",
        env: "POSSYNC_SYNC_PAGE_SIZE",
        kind: Kind::Int,
    },
    Key {
        path: "sync.concurrency",
        env: "POSSYNC_SYNC_CONCURRENCY",
        kind: Kind::IntOrStr,
    },
    Key {
        path: "sync.max_concurrency",
        env: "POSSYNC_SYNC_MAX_CONCURRENCY",
        kind: Kind::Int,
    },
    Key {
        path: "sync.product_statuses",
        env: "POSSYNC_SYNC_PRODUCT_STATUSES",
        kind: Kind::List,
    },
    Key {
        path: "sync.order_statuses",
        env: "POSSYNC_SYNC_ORDER_STATUSES",
        kind: Kind::List,
    },
    Key {
        path: "sync.order_window_days",
        env: "POSSYNC_SYNC_ORDER_WINDOW_DAYS",
        kind: Kind::Int,
    },
    Key {
        path: "sync.max_records",
        env: "POSSYNC_SYNC_MAX_RECORDS",
        kind: Kind::Int,
    },
    Key {
        path: "schedule.products_secs",
        env: "POSSYNC_SCHEDULE_PRODUCTS_SECS",
        kind: Kind::Int,
    },
    Key {
        path: "schedule.variations_secs",
        env: "POSSYNC_SCHEDULE_VARIATIONS_SECS",
        kind: Kind::Int,
    },
    Key {
        path: "schedule.orders_secs",
        env: "POSSYNC_SCHEDULE_ORDERS_SECS",
        kind: Kind::Int,
    },
    Key {
        path: "schedule.customers_secs",
        env: "POSSYNC_SCHEDULE_CUSTOMERS_SECS",
        kind: Kind::Int,
    },
    Key {
        path: "schedule.metadata_secs",
        env: "POSSYNC_SCHEDULE_METADATA_SECS",
        kind: Kind::Int,
    },
    Key {
        path: "schedule.sweep_secs",
        env: "POSSYNC_SCHEDULE_SWEEP_SECS",
        kind: Kind::Int,
    },
    Key {
        path: "schedule.overlap_secs",
        env: "POSSYNC_SCHEDULE_OVERLAP_SECS",
        kind: Kind::Int,
    },
    Key {
        path: "schedule.jitter_pct",
        env: "POSSYNC_SCHEDULE_JITTER_PCT",
        kind: Kind::Int,
    },
    Key {
        path: "lookup.barcode_meta_keys",
        env: "POSSYNC_LOOKUP_BARCODE_META_KEYS",
        kind: Kind::List,
    },
    Key {
        path: "lookup.pickup_statuses",
        env: "POSSYNC_LOOKUP_PICKUP_STATUSES",
        kind: Kind::List,
    },
    Key {
        path: "lookup.pickup_shipping_methods",
        env: "POSSYNC_LOOKUP_PICKUP_SHIPPING_METHODS",
        kind: Kind::List,
    },
    Key {
        path: "till.id",
        env: "POSSYNC_TILL_ID",
        kind: Kind::Str,
    },
    Key {
        path: "till.order_prefix",
        env: "POSSYNC_TILL_ORDER_PREFIX",
        kind: Kind::Str,
    },
    Key {
        path: "till.order_status",
        env: "POSSYNC_TILL_ORDER_STATUS",
        kind: Kind::Str,
    },
    Key {
        path: "till.oversell",
        env: "POSSYNC_TILL_OVERSELL",
        kind: Kind::Str,
    },
    Key {
        path: "till.replay_concurrency",
        env: "POSSYNC_TILL_REPLAY_CONCURRENCY",
        kind: Kind::Int,
    },
    Key {
        path: "till.offline_limit_hours",
        env: "POSSYNC_TILL_OFFLINE_LIMIT_HOURS",
        kind: Kind::Int,
    },
    Key {
        path: "webhooks.secret",
        env: "POSSYNC_WEBHOOKS_SECRET",
        kind: Kind::Str,
    },
];

/// Parses `raw`, typed on the page, as the value of the setting at dotted
/// `path`: the same reading as a `POSSYNC_*` variable's or a flag's, with
/// the same messages.
pub fn parse_value(path: &str, raw: &str) -> Result<toml::Value, ConfigError> {
    let key = KEYS
        .iter()
        .find(|k| k.path == path)
        .ok_or_else(|| ConfigError::invalid(path, "is not a configuration key"))?;
    value_of(key, raw, path)
}

/// Sets `key` in `table` from a string given in the environment or a flag.
fn overlay(table: &mut toml::Table, key: &Key, raw: &str, origin: &str) -> Result<(), ConfigError> {
    let value = value_of(key, raw, origin)?;
    let mut parts = key.path.split('.').peekable();
    let mut cur = table;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            cur.insert(part.to_owned(), value);
            return Ok(());
        }
        let entry = cur
            .entry(part.to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        cur = entry
            .as_table_mut()
            .ok_or_else(|| ConfigError::invalid(part, "must be a table"))?;
    }
    Ok(())
}

fn value_of(key: &Key, raw: &str, origin: &str) -> Result<toml::Value, ConfigError> {
    Ok(match key.kind {
        Kind::Str => toml::Value::String(raw.to_owned()),
        Kind::Int => raw
            .trim()
            .parse::<i64>()
            .map(toml::Value::Integer)
            .map_err(|_| {
                ConfigError::invalid(origin, format!("must be a whole number (got {raw:?})"))
            })?,
        Kind::IntOrStr => match raw.trim().parse::<i64>() {
            Ok(n) => toml::Value::Integer(n),
            Err(_) => toml::Value::String(raw.trim().to_owned()),
        },
        Kind::Bool => match raw.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => toml::Value::Boolean(true),
            "0" | "false" | "no" | "off" => toml::Value::Boolean(false),
            _ => {
                return Err(ConfigError::invalid(
                    origin,
                    format!("must be true or false (got {raw:?})"),
                ));
            }
        },
        Kind::List => toml::Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| toml::Value::String(s.to_owned()))
                .collect(),
        ),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    agent: Option<RawAgent>,
    store: Option<store::RawStore>,
    test_store: Option<store::RawStore>,
    sync: Option<RawSync>,
    schedule: Option<RawSchedule>,
    lookup: Option<lookup::RawLookup>,
    till: Option<till::RawTill>,
    webhooks: Option<webhooks::RawWebhooks>,
    api: Option<api::RawApi>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSchedule {
    products_secs: Option<i64>,
    variations_secs: Option<i64>,
    orders_secs: Option<i64>,
    customers_secs: Option<i64>,
    metadata_secs: Option<i64>,
    sweep_secs: Option<i64>,
    overlap_secs: Option<i64>,
    jitter_pct: Option<i64>,
}

/// A week: the longest interval that still makes sense.
const MAX_INTERVAL_SECS: i64 = 7 * 24 * 3600;

impl RawSchedule {
    fn validate(self) -> Result<Schedule, ConfigError> {
        let d = Schedule::default();
        let secs = |field: &str, v: Option<i64>, lo: i64, default: Duration| {
            in_range(field, v, lo, MAX_INTERVAL_SECS, default.as_secs() as i64)
                .map(|n| Duration::from_secs(n as u64))
        };
        Ok(Schedule {
            products: secs("schedule.products_secs", self.products_secs, 1, d.products)?,
            variations: secs(
                "schedule.variations_secs",
                self.variations_secs,
                1,
                d.variations,
            )?,
            orders: secs("schedule.orders_secs", self.orders_secs, 1, d.orders)?,
            customers: secs(
                "schedule.customers_secs",
                self.customers_secs,
                1,
                d.customers,
            )?,
            metadata: secs("schedule.metadata_secs", self.metadata_secs, 1, d.metadata)?,
            sweep: secs("schedule.sweep_secs", self.sweep_secs, 1, d.sweep)?,
            overlap: secs("schedule.overlap_secs", self.overlap_secs, 0, d.overlap)?,
            jitter: in_range("schedule.jitter_pct", self.jitter_pct, 0, 50, 10)? as f64 / 100.0,
        })
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAgent {
    active: Option<bool>,
    profile: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSync {
    page_size: Option<i64>,
    /// `"auto"` or a number; anything else is refused with its value.
    concurrency: Option<toml::Value>,
    max_concurrency: Option<i64>,
    product_statuses: Option<Vec<String>>,
    order_statuses: Option<Vec<String>>,
    order_window_days: Option<i64>,
    max_records: Option<i64>,
}

impl RawConfig {
    fn validate(self) -> Result<Config, ConfigError> {
        let listen_text = self.listen.unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        let listen = listen_text.parse::<SocketAddr>().map_err(|_| {
            ConfigError::invalid(
                "listen",
                format!("must be an address and port such as 127.0.0.1:8420 (got {listen_text:?})"),
            )
        })?;
        let data_dir = self
            .data_dir
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        if data_dir.as_os_str().is_empty() {
            return Err(ConfigError::invalid("data_dir", "must not be empty"));
        }
        let agent = self.agent.unwrap_or_default();
        let profile = match agent.profile.as_deref() {
            None => Profile::Live,
            Some(p) => Profile::parse(p).ok_or_else(|| {
                ConfigError::invalid("agent.profile", format!("must be live or test (got {p:?})"))
            })?,
        };
        let profiles = StoreProfiles {
            live: self
                .store
                .map(|s| s.validate("store", StoreMode::Production))
                .transpose()?,
            test: self
                .test_store
                .map(|s| s.validate("test_store", StoreMode::Staging))
                .transpose()?,
        };
        let store = match profile {
            Profile::Live => profiles.live.clone(),
            Profile::Test => Some(profiles.test.clone().ok_or_else(|| ConfigError::Missing {
                field: "test_store.url".to_owned(),
                hint: "agent.profile = \"test\" needs a [test_store] section (the staging shop's url and keys)".to_owned(),
            })?),
        };
        let mut sync = self
            .sync
            .map(RawSync::validate)
            .transpose()?
            .unwrap_or_default();
        sync.schedule = self.schedule.unwrap_or_default().validate()?;
        let lookup = match self.lookup {
            Some(raw) => raw.validate(&sync.order_statuses)?,
            None => LookupConfig::default(),
        };
        let till = self
            .till
            .map(till::RawTill::validate)
            .transpose()?
            .unwrap_or_default();
        let webhooks = self
            .webhooks
            .map(webhooks::RawWebhooks::validate)
            .transpose()?
            .unwrap_or_default();
        let api = self
            .api
            .map(api::RawApi::validate)
            .transpose()?
            .unwrap_or_default();
        api.check_listen(listen)?;
        Ok(Config {
            listen,
            data_dir,
            store,
            profiles,
            profile,
            active: agent.active.unwrap_or(true),
            sync,
            lookup,
            till,
            webhooks,
            api,
        })
    }
}

fn statuses(
    field: &str,
    given: Option<Vec<String>>,
    allowed: &[&str],
    default: Vec<String>,
) -> Result<Vec<String>, ConfigError> {
    let Some(list) = given else {
        return Ok(default);
    };
    if list.is_empty() {
        return Err(ConfigError::invalid(field, "must name at least one status"));
    }
    let mut out: Vec<String> = Vec::new();
    for s in list {
        let s = s.trim().to_owned();
        if !allowed.contains(&s.as_str()) {
            return Err(ConfigError::invalid(
                field,
                format!("has unknown status {s:?}; allowed: {}", allowed.join(", ")),
            ));
        }
        if !out.contains(&s) {
            out.push(s);
        }
    }
    if out.len() > 1 && out.iter().any(|s| s == "any") {
        return Err(ConfigError::invalid(
            field,
            "\"any\" cannot be combined with other statuses",
        ));
    }
    Ok(out)
}

fn in_range(
    field: &str,
    v: Option<i64>,
    lo: i64,
    hi: i64,
    default: i64,
) -> Result<i64, ConfigError> {
    let v = v.unwrap_or(default);
    if (lo..=hi).contains(&v) {
        Ok(v)
    } else {
        Err(ConfigError::invalid(
            field,
            format!("must be between {lo} and {hi} (got {v})"),
        ))
    }
}

impl RawSync {
    fn validate(self) -> Result<SyncConfig, ConfigError> {
        let d = SyncConfig::default();
        let page_size = in_range(
            "sync.page_size",
            self.page_size,
            1,
            i64::from(MAX_PAGE_SIZE),
            i64::from(d.page_size),
        )?;
        let concurrency = match self.concurrency {
            None => d.concurrency,
            Some(toml::Value::String(s)) if s == "auto" => AUTO_CONCURRENCY,
            Some(toml::Value::Integer(n)) => {
                in_range("sync.concurrency", Some(n), 1, MAX_CONCURRENCY as i64, 1)? as usize
            }
            Some(other) => {
                return Err(ConfigError::invalid(
                    "sync.concurrency",
                    format!(
                        "must be \"auto\" or a number between 1 and {MAX_CONCURRENCY} (got {other})"
                    ),
                ));
            }
        };
        let max_concurrency = in_range(
            "sync.max_concurrency",
            self.max_concurrency,
            1,
            MAX_CONCURRENCY as i64,
            d.max_concurrency as i64,
        )?;
        let window = in_range(
            "sync.order_window_days",
            self.order_window_days,
            0,
            i64::from(MAX_ORDER_WINDOW_DAYS),
            i64::from(d.order_window_days),
        )?;
        let max_records = in_range("sync.max_records", self.max_records, 0, i64::MAX, 0)?;
        Ok(SyncConfig {
            page_size: page_size as u8,
            concurrency,
            max_concurrency: max_concurrency as usize,
            product_statuses: statuses(
                "sync.product_statuses",
                self.product_statuses,
                PRODUCT_STATUSES,
                d.product_statuses,
            )?,
            order_statuses: statuses(
                "sync.order_statuses",
                self.order_statuses,
                ORDER_STATUSES,
                d.order_statuses,
            )?,
            order_window_days: window as u32,
            max_records: max_records as u64,
            schedule: Schedule::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const KEY: &str = "ck_0123456789abcdef0123456789abcdef01234567";
    const SECRET: &str = "cs_fedcba9876543210fedcba9876543210fedcba98";

    fn file(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn store_toml(url: &str) -> String {
        format!(
            "[store]\nurl = \"{url}\"\nconsumer_key = \"{KEY}\"\nconsumer_secret = \"{SECRET}\"\n"
        )
    }

    /// Loads `text` as the config file with `e` as the environment (the
    /// section modules' tests use it too).
    pub(super) fn load(text: &str, e: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let f = file(text);
        Config::load(Some(f.path()), env(e), &[])
    }

    fn err(text: &str, e: &[(&str, &str)]) -> String {
        load(text, e).unwrap_err().to_string()
    }

    #[test]
    fn the_packaged_example_loads_and_leaves_the_shop_to_the_page() {
        let c = load(include_str!("../packaging/possync.toml.example"), &[]).unwrap();
        assert!(
            c.store.is_none(),
            "a fresh install opens on the set-up form"
        );
        assert_eq!(c.sync.concurrency, AUTO_CONCURRENCY);
        assert!(c.active);
    }

    #[test]
    fn defaults_apply_without_a_file_section() {
        let c = load("", &[]).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8420");
        assert_eq!(c.sync.page_size, 100);
        assert_eq!(c.sync.product_statuses, ["publish"]);
        assert_eq!(c.sync.max_records, 0);
        assert!(c.store.is_none());
        assert!(
            c.store()
                .unwrap_err()
                .to_string()
                .starts_with("store.url is not set")
        );
    }

    #[test]
    fn auto_auth_is_basic_over_https_and_oauth_over_http() {
        let c = load(&store_toml("https://shop.example.com/"), &[]).unwrap();
        let s = c.store().unwrap().woo().unwrap();
        assert_eq!(s.auth, AuthMode::Basic);
        assert_eq!(s.url.as_str(), "https://shop.example.com/");
        let c = load(&store_toml("http://shop.example.com/sub/"), &[]).unwrap();
        let s = c.store().unwrap().woo().unwrap();
        assert_eq!(s.auth, AuthMode::OAuth1);
        assert_eq!(s.url.as_str(), "http://shop.example.com/sub");
    }

    #[test]
    fn precedence_is_defaults_then_file_then_env_then_flags() {
        let text = format!(
            "listen = \"127.0.0.1:1000\"\n[sync]\npage_size = 50\nconcurrency = 2\n{}",
            store_toml("https://a.example")
        );
        let f = file(&text);
        let c = Config::load(Some(f.path()), env(&[]), &[]).unwrap();
        assert_eq!(
            (c.listen.port(), c.sync.page_size, c.sync.concurrency),
            (1000, 50, 2)
        );
        let c = Config::load(
            Some(f.path()),
            env(&[
                ("POSSYNC_LISTEN", "127.0.0.1:2000"),
                ("POSSYNC_SYNC_PAGE_SIZE", "20"),
            ]),
            &[],
        )
        .unwrap();
        assert_eq!(
            (c.listen.port(), c.sync.page_size, c.sync.concurrency),
            (2000, 20, 2)
        );
        let c = Config::load(
            Some(f.path()),
            env(&[("POSSYNC_LISTEN", "127.0.0.1:2000")]),
            &[("listen", "127.0.0.1:3000".to_owned())],
        )
        .unwrap();
        assert_eq!(c.listen.port(), 3000);
    }

    #[test]
    fn concurrency_is_auto_by_default_and_a_number_pins_it() {
        use crate::sync::limit::Limit;
        let c = load("", &[]).unwrap();
        assert_eq!(c.sync.limit(), Limit::Auto { max: 8 });
        let c = load("[sync]\nconcurrency = \"auto\"\nmax_concurrency = 3", &[]).unwrap();
        assert_eq!(c.sync.limit(), Limit::Auto { max: 3 });
        let c = load("[sync]\nconcurrency = 2", &[]).unwrap();
        assert_eq!(c.sync.limit(), Limit::Fixed(2));
        let c = load("", &[("POSSYNC_SYNC_CONCURRENCY", "5")]).unwrap();
        assert_eq!(c.sync.limit(), Limit::Fixed(5));
        let c = load(
            "[sync]\nconcurrency = 2",
            &[("POSSYNC_SYNC_CONCURRENCY", "auto")],
        )
        .unwrap();
        assert_eq!(c.sync.limit(), Limit::Auto { max: 8 });
        let e = load("", &[("POSSYNC_SYNC_CONCURRENCY", "lots")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("must be \"auto\" or a number"), "{e}");
    }

    #[test]
    fn env_alone_can_configure_the_store() {
        let c = load(
            "",
            &[
                ("POSSYNC_STORE_URL", "https://shop.example.com"),
                ("POSSYNC_STORE_CONSUMER_KEY", KEY),
                ("POSSYNC_STORE_CONSUMER_SECRET", SECRET),
                ("POSSYNC_SYNC_ORDER_STATUSES", "processing, completed"),
                ("POSSYNC_STORE_VERIFY_TLS", "no"),
                ("POSSYNC_LOG", "debug"),
                ("HOME", "/root"),
            ],
        )
        .unwrap();
        assert_eq!(c.sync.order_statuses, ["processing", "completed"]);
        assert!(!c.store().unwrap().verify_tls);
    }

    #[rstest::rstest]
    #[case::page_size_too_big(
        "[sync]\npage_size = 250",
        "sync.page_size must be between 1 and 100 (got 250)"
    )]
    #[case::schedule_zero(
        "[schedule]\nproducts_secs = 0",
        "schedule.products_secs must be between 1 and 604800 (got 0)"
    )]
    #[case::schedule_jitter(
        "[schedule]\njitter_pct = 80",
        "schedule.jitter_pct must be between 0 and 50 (got 80)"
    )]
    #[case::page_size_zero(
        "[sync]\npage_size = 0",
        "sync.page_size must be between 1 and 100 (got 0)"
    )]
    #[case::page_size_wrong_type(
        "[sync]\npage_size = \"ten\"",
        "sync.page_size invalid type: string \"ten\", expected i64"
    )]
    #[case::concurrency_word(
        "[sync]\nconcurrency = \"fast\"",
        "sync.concurrency must be \"auto\" or a number between 1 and 16 (got \"fast\")"
    )]
    #[case::max_concurrency(
        "[sync]\nmax_concurrency = 0",
        "sync.max_concurrency must be between 1 and 16 (got 0)"
    )]
    #[case::concurrency(
        "[sync]\nconcurrency = 99",
        "sync.concurrency must be between 1 and 16 (got 99)"
    )]
    #[case::unknown_product_status(
        "[sync]\nproduct_statuses = [\"published\"]",
        "sync.product_statuses has unknown status \"published\""
    )]
    #[case::any_mixed(
        "[sync]\norder_statuses = [\"any\", \"completed\"]",
        "sync.order_statuses \"any\" cannot be combined"
    )]
    #[case::unknown_key("[sync]\npagesize = 10", "sync.pagesize unknown field `pagesize`")]
    #[case::bad_listen("listen = \"localhost\"", "listen must be an address and port")]
    #[case::bad_url("[store]\nurl = \"shop.example.com\"", "store.url must be a URL")]
    #[case::ftp_url(
        "[store]\nurl = \"ftp://a.example\"",
        "store.url must start with https:// or http://"
    )]
    #[case::missing_key(
        "[store]\nurl = \"https://a.example\"",
        "store.consumer_key is not set"
    )]
    #[case::bad_auth(&format!("{}auth = \"digest\"", store_toml("https://a.example")), "store.auth must be one of auto, basic, query, oauth1 (got \"digest\")")]
    #[case::basic_over_http(&format!("{}auth = \"basic\"", store_toml("http://a.example")), "store.auth basic and query need an https:// store.url")]
    #[case::oauth_over_https(&format!("{}auth = \"oauth1\"", store_toml("https://a.example")), "store.auth oauth1 needs an http:// store.url")]
    #[case::timeout(&format!("{}timeout_secs = 0", store_toml("https://a.example")), "store.timeout_secs must be between 1 and 600 (got 0)")]
    fn invalid_values_name_the_field_and_reason(#[case] text: &str, #[case] expected: &str) {
        let e = err(text, &[]);
        assert!(
            e.starts_with(expected),
            "{e:?} does not start with {expected:?}"
        );
    }

    #[test]
    fn a_rest_endpoint_is_not_taken_for_the_shop_address() {
        let text = format!(
            "[store]\nurl = \"https://a.example{}\"",
            crate::upstream::woo::client::REST_PREFIX
        );
        assert!(err(&text, &[]).starts_with("store.url should be the shop's address"));
    }

    #[test]
    fn bad_env_values_name_the_variable() {
        assert!(
            err("", &[("POSSYNC_SYNC_PAGE_SIZE", "lots")])
                .starts_with("POSSYNC_SYNC_PAGE_SIZE must be a whole number")
        );
        assert!(
            err("", &[("POSSYNC_STORE_VERIFY_TLS", "maybe")])
                .starts_with("POSSYNC_STORE_VERIFY_TLS must be true or false")
        );
        assert!(
            err("", &[("POSSYNC_SYNC_PAGESIZE", "10")])
                .starts_with("unknown environment variable POSSYNC_SYNC_PAGESIZE")
        );
    }

    #[test]
    fn secrets_never_appear_in_debug_or_errors() {
        let c = load(&store_toml("https://a.example"), &[]).unwrap();
        let debug = format!("{c:?}");
        assert!(!debug.contains(SECRET) && !debug.contains(KEY), "{debug}");
        let view = serde_json::to_string(&c.view()).unwrap();
        assert!(!view.contains(SECRET) && !view.contains(KEY), "{view}");
        assert!(view.contains("\"consumer_secret_set\":true"));
        // A secret of the wrong type is not quoted back.
        let e = err(
            "[store]\nurl = \"https://a.example\"\nconsumer_key = \"ck\"\nconsumer_secret = 123456789",
            &[],
        );
        assert_eq!(e, "store.consumer_secret must be a string");
        // A syntax error on a secret's line does not quote the line.
        let e = err(&format!("[store]\nconsumer_secret = {SECRET}\n"), &[]);
        assert!(!e.contains(SECRET), "{e}");
        assert!(e.contains("line 2"), "{e}");
    }

    #[test]
    fn the_redacted_configuration_names_every_secret_without_its_value() {
        let text = format!(
            "{}[test_store]\nurl = \"https://test.example\"\nconsumer_key = \"ck_test_0001\"\nconsumer_secret = \"cs_test_0002\"\n[webhooks]\nsecret = \"whsec-0003\"\n",
            store_toml("https://a.example")
        );
        let c = load(&text, &[]).unwrap();
        let shown = c.redacted_toml();
        for secret in [KEY, SECRET, "ck_test_0001", "cs_test_0002", "whsec-0003"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        let table: toml::Table = shown.parse().unwrap();
        for profile in ["store", "test_store"] {
            assert_eq!(table[profile]["consumer_key"].as_str(), Some(REDACTED));
            assert_eq!(table[profile]["consumer_secret"].as_str(), Some(REDACTED));
        }
        assert_eq!(table["webhooks"]["secret"].as_str(), Some(REDACTED));
        assert_eq!(table["store"]["url"].as_str(), Some("https://a.example/"));
    }

    #[test]
    fn missing_explicit_file_is_an_error() {
        let e =
            Config::load(Some(Path::new("/nonexistent/possync.toml")), env(&[]), &[]).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("cannot read config file /nonexistent/possync.toml")
        );
    }

    #[test]
    fn store_mode_is_production_unless_said_staging() {
        let c = load(&store_toml("https://shop.example.com"), &[]).unwrap();
        assert_eq!(c.store().unwrap().mode, StoreMode::Production);
        let c = load(
            &store_toml("https://shop.example.com"),
            &[("POSSYNC_STORE_MODE", "staging")],
        )
        .unwrap();
        assert_eq!(c.store().unwrap().mode, StoreMode::Staging);
        assert_eq!(
            err(
                &store_toml("https://shop.example.com"),
                &[("POSSYNC_STORE_MODE", "live")]
            ),
            "store.mode must be production or staging (got \"live\")"
        );
    }
}
