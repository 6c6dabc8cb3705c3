//! possync: an offline-first sync agent for point-of-sale terminals.
//!
//! It keeps a local SQLite replica of an online store (WooCommerce) so a till
//! keeps selling and looking things up when the internet is gone.
//!
//! # Layout
//!
//! - [`app`]: wires everything; `App::spawn_from(sources)` is used by `possync run`,
//!   `App::spawn(config)` by tests and benchmarks; [`app::control`] puts settings saved
//!   on the page in force as a new generation of the sync tasks
//! - [`cli`]: the command line (demo, run, sync, status, sim, outbox, webhooks, check,
//!   backup, restore, doctor, tokens, admin, support-bundle) and signals
//! - [`config`]: `possync.toml`, the page's `settings.toml`, `POSSYNC_*` and flags, in
//!   layers with each value's origin, validated by one path; two store profiles, each
//!   a WooCommerce or a Shopify shop with that kind's own settings ([`config::store`]);
//!   the clients take their settings from here, config imports no client
//! - [`doctor`]: `possync doctor` and `/api/doctor`: config, files, disk, shop, keys, webhooks
//! - [`domain`]: our own types (products, customers, orders, store settings)
//! - [`store`]: the SQLite replica, the till's outbox and the webhook inbox (a file of
//!   its own), backups and restores of both; the only module with SQL
//! - [`upstream`]: the `Upstream` trait, which walks a resource by an opaque cursor the
//!   adapter makes (totals only where the shop gives them) or takes it as one streamed
//!   export; [`upstream::woo`] speaks WooCommerce (its cursor is the page number)
//! - [`upstream::shopify`]: the Shopify client (GraphQL paced to the cost bucket, cursor pages,
//!   bulk exports, idempotent writes) and its wire pieces: webhook HMAC, errors, bulk JSONL;
//!   it is an `Upstream` walked by `endCursor` (no totals, nothing addressed ahead)
//! - [`upstream::shop`]: `Shop`, the configured shop's client whatever its kind, which
//!   the app, the engine, the replayer and the commands are handed; each kind says which
//!   resources it has (a Shopify shop has no tax classes), and only those are pulled
//! - [`sync`]: full pull (pages kept by cursor, so a killed pull resumes), progress,
//!   retry policy, request limiter, outbox replay, the agent's sync task
//! - [`api`]: the local HTTP server: the back-office page ([`api::backoffice`]: set-up,
//!   status, settings, meta mapping, instance switches) behind the admin login, `/healthz`, JSON
//!   API (till writes, outbox), webhook receivers, backup download, doctor,
//!   `/metrics` (Prometheus), the support bundle;
//!   [`api::security`] is the one layer (Host, origin, content type, token or session)
//!   and route table in front of them all
//! - [`support`]: the support bundle (status, redacted config, events, versions,
//!   integrity checks) for `/api/support-bundle` and `possync support-bundle`
//! - the simulated stores (demo, tests, benchmarks) are the workspace crate
//!   `possync-sim` (`sim/`), which does not depend on this one; only
//!   [`cli`]'s `demo` and `sim` commands name it here
//! - [`error`], [`telemetry`]: the crate error with exit codes; log set-up

pub mod api;
pub mod app;
pub mod cli;
pub mod config;
pub mod doctor;
pub mod domain;
pub mod error;
pub mod store;
pub mod support;
pub mod sync;
pub mod telemetry;
pub mod upstream;

pub use app::{App, AppOptions, RunningApp};
pub use config::Config;
pub use error::Error;
