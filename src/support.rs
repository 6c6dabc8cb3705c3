//! The support bundle: one `.tar.gz` a manager downloads from the page
//! (`GET /api/support-bundle`) or writes with `possync support-bundle PATH`,
//! and sends to whoever helps them. It holds:
//!
//! - `status.json`: what the status page shows (agent, configuration view,
//!   replica counts and freshness, webhook totals, the pull in progress
//!   when the agent is running);
//! - `config.toml`: the configuration in force, every secret `"redacted"`
//!   ([`Config::redacted_toml`]);
//! - `events.jsonl`: the last [`MAX_EVENTS`] sync events, one JSON object a
//!   line, oldest first;
//! - `versions.json`: the agent's version, the shop's WooCommerce version
//!   (as the set-up page's connection test recorded it, or asked of the
//!   shop now, for at most a few seconds; `"unknown"` when it does not
//!   answer), the replica's and the inbox's schema versions (`user_version`);
//! - `integrity.txt`: `PRAGMA integrity_check` of the replica and the inbox.
//!
//! Never in it: the shop's keys, webhook secrets, token hashes, the admin
//! password hash, customers or orders. Built in memory (it is small) from
//! reads of the replica; the only write is the shop's version, once learned.

use std::io::Write;

use serde::Serialize;
use serde_json::json;

use crate::config::Config;
use crate::domain::time::unix_millis_now;
use crate::store::events::{self, MAX_EVENTS};
use crate::store::{Store, StoreError, diagnostics, status};
use crate::sync::progress::PullProgress;

/// The files of a bundle, in the order written.
pub const FILES: &[&str] = &[
    "status.json",
    "config.toml",
    "events.jsonl",
    "versions.json",
    "integrity.txt",
];

/// Why a bundle could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SupportError {
    /// The replica or the inbox could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The archive could not be written.
    #[error("cannot write the support bundle: {0}")]
    Archive(#[source] std::io::Error),
}

#[derive(Serialize)]
struct Versions {
    agent: &'static str,
    woocommerce: String,
    replica_schema: i64,
    inbox_schema: i64,
    schema_known: usize,
}

/// How long the bundle waits for the shop to say its version.
const SHOP_VERSION_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Asks the shop its WooCommerce version (the connection test, which
/// changes nothing there) and records it, when no earlier test did; `None`
/// when the shop does not answer within [`SHOP_VERSION_WAIT`].
async fn learn_shop_version(
    store: &Store,
    store_cfg: &crate::config::StoreConfig,
) -> Option<String> {
    let report = tokio::time::timeout(
        SHOP_VERSION_WAIT,
        crate::upstream::woo::probe::test_connection(store_cfg),
    )
    .await
    .ok()?;
    let version = report.woocommerce_version?;
    record_shop_version(store, &version).await;
    Some(version)
}

/// Keeps the shop's WooCommerce version for later bundles (best effort: a
/// failed write only means the next bundle asks again).
pub async fn record_shop_version(store: &Store, version: &str) {
    let v = version.to_owned();
    let now = unix_millis_now();
    let written = store
        .write(move |tx| {
            crate::store::sync_state::set_capability(
                tx,
                diagnostics::SHOP_VERSION_CAPABILITY,
                &v,
                now,
            )
        })
        .await;
    if let Err(e) = written {
        tracing::warn!(error = %e, "the shop's version could not be recorded");
    }
}

/// The bundle of `store` under `config` as `.tar.gz` bytes; `pull` is the
/// running agent's pull progress (absent from the command line).
pub async fn bundle(
    store: &Store,
    config: &Config,
    pull: Option<PullProgress>,
) -> Result<Vec<u8>, SupportError> {
    let replica = store.read(|c| {
        Ok((
            status::summary(c)?,
            events::recent(c, MAX_EVENTS)?,
            diagnostics::schema_version(c)?,
            diagnostics::integrity_check(c)?,
            diagnostics::shop_version(c)?,
        ))
    });
    let inbox = store.inbox().read(|c| {
        Ok((
            diagnostics::schema_version(c)?,
            diagnostics::integrity_check(c)?,
        ))
    });
    let webhooks = store.inbox().stats(5);
    let (
        (summary, mut recent, replica_schema, replica_check, shop),
        (inbox_schema, inbox_check),
        webhooks,
    ) = tokio::try_join!(replica, inbox, webhooks)?;

    let status = json!({
        "agent": {
            "version": env!("CARGO_PKG_VERSION"),
            "now": unix_millis_now(),
        },
        "config": config.view(),
        "pull": pull,
        "replica": summary,
        "webhooks": webhooks,
    });
    recent.reverse();
    let mut events_jsonl = String::new();
    for e in &recent {
        events_jsonl.push_str(&serde_json::to_string(e).map_err(StoreError::from)?);
        events_jsonl.push('\n');
    }
    let shop = match (shop, &config.store) {
        (Some(v), _) => Some(v),
        (None, Some(store_cfg)) => learn_shop_version(store, store_cfg).await,
        (None, None) => None,
    };
    let versions = Versions {
        agent: env!("CARGO_PKG_VERSION"),
        woocommerce: shop.unwrap_or_else(|| "unknown".to_owned()),
        replica_schema,
        inbox_schema,
        schema_known: crate::store::SCHEMA_VERSION,
    };
    let integrity = format!(
        "replica ({}):\n{}\n\ninbox ({}):\n{}\n",
        store.path().display(),
        replica_check.join("\n"),
        store.inbox().path().display(),
        inbox_check.join("\n"),
    );
    let files: [(&str, Vec<u8>); 5] = [
        (
            FILES[0],
            serde_json::to_vec_pretty(&status).map_err(StoreError::from)?,
        ),
        (FILES[1], config.redacted_toml().into_bytes()),
        (FILES[2], events_jsonl.into_bytes()),
        (
            FILES[3],
            serde_json::to_vec_pretty(&versions).map_err(StoreError::from)?,
        ),
        (FILES[4], integrity.into_bytes()),
    ];
    archive(&files).map_err(SupportError::Archive)
}

/// `files` as a gzip-compressed tar, each file mode 0600 and stamped now.
fn archive(files: &[(&str, Vec<u8>)]) -> std::io::Result<Vec<u8>> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    let mtime = u64::try_from(unix_millis_now() / 1000).unwrap_or(0);
    for (name, body) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(body.len() as u64);
        header.set_mode(0o600);
        header.set_mtime(mtime);
        header.set_cksum();
        tar.append_data(&mut header, name, body.as_slice())?;
    }
    let mut gz = tar.into_inner()?;
    gz.flush()?;
    gz.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_archive_lists_its_files_with_their_contents() {
        let bytes = archive(&[("a.txt", b"one".to_vec()), ("b.json", b"{}".to_vec())]).unwrap();
        let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(bytes.as_slice()));
        let mut seen = Vec::new();
        for entry in tar.entries().unwrap() {
            let mut entry = entry.unwrap();
            let mut body = String::new();
            std::io::Read::read_to_string(&mut entry, &mut body).unwrap();
            seen.push((entry.path().unwrap().display().to_string(), body));
        }
        assert_eq!(
            seen,
            vec![
                ("a.txt".to_owned(), "one".to_owned()),
                ("b.json".to_owned(), "{}".to_owned())
            ]
        );
    }
}
