//! `possync doctor`: the checks a shop's IT runs when something is wrong,
//! one line each: the configuration, file permissions, the data directory
//! (writable, free space), schema versions, the shop (reachable, clock
//! skew), the API keys (read and write) and the shop's webhook
//! subscriptions to this agent. The same checks answer `GET /api/doctor`.
//!
//! Checks only read, except one probe file created and removed in the data
//! directory; nothing is written at the shop.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::config::Config;
use crate::domain::time::unix_millis_now;
use crate::domain::webhooks::SubscriptionStatus;
use crate::store::{self, SCHEMA_VERSION, inbox::INBOX_SCHEMA_VERSION};
use crate::upstream::shop::Shop;
use crate::upstream::{Upstream, UpstreamError, WebhookAdmin};

/// Less free space than this on the data directory's disk fails the check.
pub const MIN_FREE_BYTES: u64 = 256 * 1024 * 1024;
/// A shop clock further off than this fails the check: OAuth 1.0a
/// signatures carry a timestamp, and a lookup of an unknown outcome lists
/// what the shop created since the attempt began by the shop's clock.
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(300);

/// One check's outcome.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Check {
    /// Short and stable: `config`, `config_file`, `data_dir`, ….
    pub name: &'static str,
    pub ok: bool,
    /// What was found, or what is wrong and how to fix it.
    pub detail: String,
}

impl Check {
    fn ok(name: &'static str, detail: impl Into<String>) -> Check {
        Check {
            name,
            ok: true,
            detail: detail.into(),
        }
    }

    fn fail(name: &'static str, detail: impl Into<String>) -> Check {
        Check {
            name,
            ok: false,
            detail: detail.into(),
        }
    }

    /// `ok   name  detail`.
    pub fn line(&self) -> String {
        format!(
            "{:<4} {:<14} {}",
            if self.ok { "ok" } else { "FAIL" },
            self.name,
            self.detail
        )
    }
}

/// Runs every check against a loaded configuration. `config_file` is the
/// file it came from, if any.
pub async fn run(config: &Config, config_file: Option<&Path>) -> Vec<Check> {
    let mut checks = vec![Check::ok(
        "config",
        match config_file {
            Some(p) => format!("{} is valid", p.display()),
            None => "valid (no file: defaults and environment)".to_owned(),
        },
    )];
    if let Some(p) = config_file {
        checks.push(config_file_mode(p));
    }
    let dir = config.data_dir.clone();
    let replica = config.database_path();
    let local = tokio::task::spawn_blocking(move || local_checks(&dir, &replica))
        .await
        .unwrap_or_else(|_| vec![Check::fail("data_dir", "the check failed unexpectedly")]);
    checks.extend(local);
    match &config.store {
        None => checks.push(Check::fail(
            "shop",
            "no [store] configured: set the shop up on the back-office page, or add url, consumer_key and consumer_secret to possync.toml",
        )),
        Some(store_cfg) => match Shop::connect(store_cfg) {
            Ok(client) => checks.extend(shop_checks(&client, config).await),
            Err(e) => checks.push(Check::fail("shop", e.to_string())),
        },
    }
    checks
}

/// The file holds the API keys: nobody but its owner and group may read it.
fn config_file_mode(path: &Path) -> Check {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        match std::fs::metadata(path) {
            Ok(m) if m.permissions().mode() & 0o007 != 0 => Check::fail(
                "config_file",
                format!(
                    "{} is readable by every user ({:o}) and holds the API keys: chmod 0640",
                    path.display(),
                    m.permissions().mode() & 0o777
                ),
            ),
            Ok(m) => Check::ok(
                "config_file",
                format!("mode {:o}", m.permissions().mode() & 0o777),
            ),
            Err(e) => Check::fail("config_file", format!("{}: {e}", path.display())),
        }
    }
    #[cfg(not(unix))]
    Check::ok("config_file", format!("{}", path.display()))
}

fn local_checks(dir: &Path, replica: &Path) -> Vec<Check> {
    let mut checks = vec![writable(dir)];
    checks.push(free_space(dir));
    checks.push(replica_mode(replica));
    checks.push(match store::schema_versions(replica) {
        Ok((None, _)) => Check::ok(
            "schema",
            format!("no replica yet (this possync writes version {SCHEMA_VERSION})"),
        ),
        Ok((Some(v), inbox)) if v <= SCHEMA_VERSION => Check::ok(
            "schema",
            format!(
                "replica {v}{} (this possync: {SCHEMA_VERSION}, inbox {INBOX_SCHEMA_VERSION}){}",
                inbox.map(|i| format!(", inbox {i}")).unwrap_or_default(),
                if v < SCHEMA_VERSION {
                    "; upgraded at the next start"
                } else {
                    ""
                }
            ),
        ),
        Ok((Some(v), _)) => Check::fail(
            "schema",
            format!(
                "the replica has version {v}, newer than this possync knows ({SCHEMA_VERSION}): upgrade possync"
            ),
        ),
        Err(e) => Check::fail("schema", e.to_string()),
    });
    checks
}

fn writable(dir: &Path) -> Check {
    if let Err(e) = std::fs::create_dir_all(dir) {
        return Check::fail("data_dir", format!("cannot create {}: {e}", dir.display()));
    }
    let probe: PathBuf = dir.join(format!(".possync-doctor-{}", std::process::id()));
    match std::fs::write(&probe, b"probe") {
        Ok(()) => {
            let _ = std::fs::remove_file(&probe);
            Check::ok("data_dir", format!("{} is writable", dir.display()))
        }
        Err(e) => Check::fail(
            "data_dir",
            format!(
                "{} is not writable by this user: {e} (it must belong to the user possync runs as)",
                dir.display()
            ),
        ),
    }
}

fn free_space(dir: &Path) -> Check {
    match nix::sys::statvfs::statvfs(dir) {
        Ok(s) => {
            let free = s.blocks_available().saturating_mul(s.fragment_size());
            let mib = free / (1024 * 1024);
            if free < MIN_FREE_BYTES {
                Check::fail(
                    "free_space",
                    format!(
                        "{mib} MiB free on the disk of {}: sales stop being accepted when it is full; free at least {} MiB",
                        dir.display(),
                        MIN_FREE_BYTES / (1024 * 1024)
                    ),
                )
            } else {
                Check::ok("free_space", format!("{mib} MiB free"))
            }
        }
        Err(e) => Check::fail("free_space", format!("{}: {e}", dir.display())),
    }
}

/// The replica holds customers: readable by the service user only.
fn replica_mode(replica: &Path) -> Check {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        match std::fs::metadata(replica) {
            Err(_) => Check::ok("replica_file", "not created yet"),
            Ok(m) if m.permissions().mode() & 0o077 != 0 => Check::fail(
                "replica_file",
                format!(
                    "{} has mode {:o}: chmod 0600",
                    replica.display(),
                    m.permissions().mode() & 0o777
                ),
            ),
            Ok(m) => Check::ok(
                "replica_file",
                format!("mode {:o}", m.permissions().mode() & 0o777),
            ),
        }
    }
    #[cfg(not(unix))]
    Check::ok("replica_file", format!("{}", replica.display()))
}

async fn shop_checks(client: &Shop, config: &Config) -> Vec<Check> {
    let url = config
        .store
        .as_ref()
        .map(|s| s.address())
        .unwrap_or_default();
    let probe = match client.probe().await {
        Ok(p) => p,
        Err(e @ UpstreamError::Auth { .. }) => {
            return vec![
                Check::ok("shop", format!("{url} answers")),
                Check::fail(
                    "keys",
                    match client {
                        Shop::WooCommerce(_) => format!(
                            "{e}: check consumer_key and consumer_secret (WooCommerce → Settings → Advanced → REST API)"
                        ),
                        Shop::Shopify(_) => format!(
                            "{e}: check access_token, or client_id and client_secret (Shopify admin → Settings → Apps → Develop apps)"
                        ),
                    },
                ),
            ];
        }
        Err(e) => return vec![Check::fail("shop", format!("{url}: {e}"))],
    };
    let mut checks = vec![Check::ok("shop", format!("{url} answers"))];
    checks.push(match probe.server_time {
        None => Check::fail("clock", "the shop sent no Date header"),
        Some(t) => {
            let skew = (t.unix() - unix_millis_now() / 1000).abs();
            if skew as u64 > MAX_CLOCK_SKEW.as_secs() {
                Check::fail(
                    "clock",
                    format!(
                        "this till's clock and the shop's differ by {skew} s (more than {} s): set the time (NTP)",
                        MAX_CLOCK_SKEW.as_secs()
                    ),
                )
            } else {
                Check::ok("clock", format!("{skew} s from the shop's"))
            }
        }
    });
    checks.push(match client {
        Shop::WooCommerce(c) => match c.can_write().await {
            Ok(true) => Check::ok("keys", "read and write"),
            Ok(false) => Check::fail(
                "keys",
                "the keys may read but not write: sales cannot reach the shop; give the key Read/Write permissions",
            ),
            Err(e) => Check::fail("keys", format!("read ok; write permission unknown: {e}")),
        },
        // The app's scopes are set when it is installed; a missing write
        // scope shows as a refused sale in the outbox.
        Shop::Shopify(_) => Check::ok("keys", "read ok (write scopes are the app's)"),
    });
    checks.push(webhooks(client, config).await);
    checks
}

/// The shop's subscriptions to this agent: made by `possync webhooks
/// install` (they are in the replica), each still active at the shop.
async fn webhooks(client: &Shop, config: &Config) -> Check {
    let path = config.database_path();
    let ours = match path.exists() {
        false => Vec::new(),
        true => {
            match tokio::task::spawn_blocking(move || store::local_subscriptions(&path)).await {
                Ok(Ok(list)) => list,
                Ok(Err(e)) => return Check::fail("webhooks", e.to_string()),
                Err(_) => return Check::fail("webhooks", "the check failed unexpectedly"),
            }
        }
    };
    if ours.is_empty() {
        return Check::ok(
            "webhooks",
            "none installed (polling keeps the replica fresh)",
        );
    }
    let at_shop = match client.list_webhooks().await {
        Ok(list) => list,
        Err(e) => return Check::fail("webhooks", format!("cannot list them: {e}")),
    };
    let mut missing = 0;
    let mut stopped = Vec::new();
    for sub in &ours {
        match at_shop.iter().find(|s| s.id == sub.id) {
            None => missing += 1,
            Some(s) if s.status != SubscriptionStatus::Active => {
                stopped.push(format!("{} {}", s.topic, s.status.as_str()));
            }
            Some(_) => {}
        }
    }
    if missing == 0 && stopped.is_empty() {
        Check::ok("webhooks", format!("{} active", ours.len()))
    } else {
        Check::fail(
            "webhooks",
            format!(
                "{} of {} not delivering ({}{}): run `possync webhooks install`",
                missing + stopped.len(),
                ours.len(),
                stopped.join(", "),
                if missing > 0 {
                    format!(
                        "{}{missing} gone from the shop",
                        if stopped.is_empty() { "" } else { "; " }
                    )
                } else {
                    String::new()
                }
            ),
        )
    }
}
