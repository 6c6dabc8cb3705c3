//! The command line: argument types (clap) and what each command does.
//! Signals are handled here and nowhere else; the library takes tokens.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::app::{App, AppOptions};
use crate::config::Config;
use crate::domain::Resource;
use crate::domain::time::unix_millis_now;
use crate::error::Error;
use crate::store::Store;
use crate::store::status::{self, Summary};
use crate::sync::SyncError;
use crate::sync::engine::InitialPull;
use crate::sync::limit::Limit;
use crate::sync::progress::PullProgress;
use crate::sync::pull::{self, PullOptions};
use crate::sync::schedule::{self, Job};
use crate::upstream::Upstream;
use crate::upstream::shop::Shop;

mod admin;
mod backup;
mod check;
mod demo;
mod doctor;
mod outbox;
mod progress_bars;
mod sim;
mod support;
mod tokens;
mod webhooks;

/// Offline-first sync agent for point-of-sale terminals: keeps a local
/// replica of a WooCommerce store for the till.
#[derive(Debug, Parser)]
#[command(name = "possync", version, propagate_version = true)]
pub struct Cli {
    /// Configuration file [default: possync.toml when present]
    #[arg(long, global = true, env = "POSSYNC_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// How log lines are written: auto (text, or journal lines under
    /// systemd), text, journal, json
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "auto",
        value_name = "FORMAT"
    )]
    pub log_format: crate::telemetry::LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a simulated shop, sync it, and serve the status page on localhost
    Demo(demo::DemoArgs),
    /// Run the agent: keep the replica in sync and serve the local API and status page
    Run(RunArgs),
    /// Sync once and exit
    Sync(SyncArgs),
    /// Show what the replica holds and when each resource was last pulled
    Status(StatusArgs),
    /// Run the simulated WooCommerce store on its own
    Sim(sim::SimArgs),
    /// List, retry or discard the changes waiting to go to the shop
    Outbox(outbox::OutboxArgs),
    /// Manage the shop's webhook subscriptions to this agent
    Webhooks(webhooks::WebhooksArgs),
    /// Copy the replica and its webhook inbox to PATH while the agent runs
    Backup(backup::BackupArgs),
    /// Replace the replica (agent stopped) with a backup made by `possync backup`
    Restore(backup::RestoreArgs),
    /// Check the configuration, files, disk, shop and keys: a line per check
    Doctor(doctor::DoctorArgs),
    /// Check the shop answers; with --writes, a write round trip (staging shops only)
    Check(check::CheckArgs),
    /// Create, list or revoke the bearer tokens till front-ends call the API with
    Tokens(tokens::TokensArgs),
    /// Back-office administration (the admin password)
    Admin(admin::AdminArgs),
    /// Write a support bundle (.tar.gz: status, redacted config, events, versions, checks) to PATH
    SupportBundle(support::SupportArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Address of the local API and status page [default: 127.0.0.1:8420]
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Where the replica lives [default: possync-data]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("mode").required(true).args(["full", "delta"])))]
pub struct SyncArgs {
    /// Pull every resource in full (resuming an interrupted pull)
    #[arg(long)]
    pub full: bool,
    /// Run one cycle of delta polls and sweeps (after a full pull) and exit
    #[arg(long, conflicts_with_all = ["resources"])]
    pub delta: bool,
    /// With --delta: only these jobs (metadata, products, variations, orders,
    /// customers, sweep), comma-separated
    #[arg(long, value_delimiter = ',', value_name = "LIST", requires = "delta")]
    pub jobs: Vec<Job>,
    /// Where the replica lives [default: possync-data]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Only these resources (comma-separated, e.g. products,variations)
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub resources: Vec<Resource>,
    /// No progress bars, only the summary
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
    /// Where the replica lives [default: possync-data]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode, Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| Error::Io {
            what: "cannot start the async runtime".to_owned(),
            source,
        })?;
    runtime.block_on(async move {
        match cli.command {
            Command::Demo(args) => demo::run(args).await,
            Command::Run(args) => run_agent(cli.config, args).await,
            Command::Sync(args) if args.delta => sync_delta(cli.config, args).await,
            Command::Sync(args) => sync_full(cli.config, args).await,
            Command::Status(args) => show_status(cli.config, args),
            Command::Sim(args) => sim::run(args).await,
            Command::Outbox(args) => outbox::run(cli.config, args),
            Command::Webhooks(args) => webhooks::run(cli.config, args).await,
            Command::Backup(args) => backup::backup(cli.config, args).await,
            Command::Restore(args) => backup::restore(cli.config, args).await,
            Command::Doctor(args) => doctor::run(cli.config, args).await,
            Command::Check(args) => check::run(cli.config, args).await,
            Command::Tokens(args) => tokens::run(cli.config, args).await,
            Command::Admin(args) => admin::run(cli.config, args).await,
            Command::SupportBundle(args) => support::run(cli.config, args).await,
        }
    })
}

/// Loads the configuration with the flags that override it.
fn load_config(path: Option<PathBuf>, flags: &[(&str, String)]) -> Result<Config, Error> {
    Ok(Config::load(path.as_deref(), std::env::vars(), flags)?)
}

fn data_dir_flag(dir: &Option<PathBuf>) -> Option<(&'static str, String)> {
    dir.as_ref()
        .map(|d| ("data_dir", d.to_string_lossy().into_owned()))
}

/// A token cancelled on Ctrl-C or SIGTERM.
pub(crate) fn shutdown_token() -> CancellationToken {
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down");
        cancel.cancel();
    });
    token
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn run_agent(config: Option<PathBuf>, args: RunArgs) -> Result<ExitCode, Error> {
    let mut flags = Vec::new();
    if let Some(listen) = args.listen {
        flags.push(("listen", listen));
    }
    flags.extend(data_dir_flag(&args.data_dir));
    let sources = Config::sources(config.as_deref(), std::env::vars(), &flags);
    let token = shutdown_token();
    // Without a store the agent starts anyway: the page opens on the
    // set-up form, and lookups answer from the replica as it is.
    let app = App::spawn_from(
        sources,
        AppOptions {
            initial_pull: InitialPull::IfNeeded,
        },
    )
    .await?;
    eprintln!("possync: status page at {}/", app.url());
    token.cancelled().await;
    app.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

/// One cycle of every delta job, in order; stops at the first failure.
async fn sync_delta(config: Option<PathBuf>, args: SyncArgs) -> Result<ExitCode, Error> {
    let flags: Vec<_> = data_dir_flag(&args.data_dir).into_iter().collect();
    let config = load_config(config, &flags)?;
    let store_cfg = config.store()?;
    let store = crate::app::open_store(&config).await?;
    let client = Shop::connect(store_cfg)?.with_limit(config.sync.limit());
    let resources = client.resources();
    if store
        .read(move |c| crate::store::sync_state::pull_needed(c, resources))
        .await?
    {
        return Err(Error::Usage(
            "the replica has not been pulled in full yet: run `possync sync --full` first"
                .to_owned(),
        ));
    }
    let opts = PullOptions::from_config(&config.sync);
    let token = shutdown_token();
    let delta = crate::sync::delta::Delta {
        upstream: &client,
        store: &store,
        opts: &opts,
        overlap: config.sync.schedule.overlap,
        token: &token,
    };
    let started = Instant::now();
    let jobs: Vec<Job> = if args.jobs.is_empty() {
        Job::ALL.to_vec()
    } else {
        Job::ALL
            .into_iter()
            .filter(|j| args.jobs.contains(j))
            .collect()
    };
    for job in jobs {
        let report = match schedule::run_job(&delta, job).await {
            Ok(r) => r,
            Err(SyncError::Cancelled) => {
                eprintln!("possync: interrupted");
                return Ok(ExitCode::from(130));
            }
            Err(e) => return Err(e.into()),
        };
        println!(
            "{:<28} {:>6} fetched {:>6} removed",
            job.name(),
            report.fetched,
            report.removed
        );
    }
    println!(
        "delta cycle in {:.1} s with {} requests",
        started.elapsed().as_secs_f64(),
        client.requests_sent()
    );
    Ok(ExitCode::SUCCESS)
}

async fn sync_full(config: Option<PathBuf>, args: SyncArgs) -> Result<ExitCode, Error> {
    let flags: Vec<_> = data_dir_flag(&args.data_dir).into_iter().collect();
    let config = load_config(config, &flags)?;
    let store_cfg = config.store()?;
    let store = crate::app::open_store(&config).await?;
    let client = Shop::connect(store_cfg)?.with_limit(config.sync.limit());
    let mut opts = PullOptions::from_config(&config.sync);
    if !args.resources.is_empty() {
        opts.resources = Resource::ALL
            .into_iter()
            .filter(|r| args.resources.contains(r))
            .collect();
    }
    opts.resources.retain(|r| client.resources().contains(r));
    if opts.resources.is_empty() {
        return Err(Error::Usage(format!(
            "a {} shop has none of the resources asked for; it has: {}",
            client.kind().as_str(),
            client
                .resources()
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let (tx, rx) = watch::channel(PullProgress::default());
    let token = shutdown_token();
    let show_bars = !args.quiet && std::io::stderr().is_terminal();
    let bars = tokio::spawn(progress_bars::follow(rx, show_bars));
    let started = Instant::now();
    let result = pull::run(&client, &store, &opts, &tx, &token).await;
    drop(tx);
    let _ = bars.await;
    let elapsed = started.elapsed();
    match result {
        Ok(_) => {
            // The summary is for a pull that happened; a failed one ends
            // with its error alone, not with timings that read as success.
            let summary = store.read(status::summary).await?;
            print_pull_summary(
                &summary,
                &opts,
                elapsed.as_secs_f64(),
                client.requests_sent(),
            );
            println!(
                "replica writer busy {:.2} s ({:.0} % of the pull)",
                store.writer_busy().as_secs_f64(),
                100.0 * store.writer_busy().as_secs_f64() / elapsed.as_secs_f64().max(1e-9)
            );
            match &client {
                Shop::WooCommerce(c) => {
                    let limiter = c.limiter();
                    match limiter.mode() {
                        Limit::Auto { max } => println!(
                            "requests at once: auto up to {max}, reached {}, {} at the end",
                            limiter.peak(),
                            limiter.current()
                        ),
                        Limit::Fixed(n) => println!("requests at once: {n}"),
                    }
                }
                Shop::Shopify(c) => {
                    if let Some(b) = c.bucket() {
                        println!(
                            "cost bucket: {:.0} of {:.0} points left, restoring {:.0}/s",
                            b.available, b.maximum, b.restore_rate
                        );
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(SyncError::Cancelled) => {
            eprintln!("possync: interrupted; run `possync sync --full` again to resume");
            Ok(ExitCode::from(130))
        }
        Err(e) => Err(e.into()),
    }
}

fn print_pull_summary(summary: &Summary, opts: &PullOptions, secs: f64, requests: u64) {
    for state in &summary.resources {
        if !opts.resources.contains(&state.resource) {
            continue;
        }
        let local = summary.counts.get(state.resource.as_str()).unwrap_or(0);
        let note = state
            .last_error
            .as_deref()
            .or(state.last_warning.as_deref())
            .unwrap_or("");
        println!("{:<17} {:>8}  {}", state.resource.as_str(), local, note);
    }
    match peak_rss_kib() {
        Some(kib) => println!(
            "pulled in {secs:.2} s with {requests} requests, peak memory {:.1} MiB",
            kib as f64 / 1024.0
        ),
        None => println!("pulled in {secs:.2} s with {requests} requests"),
    }
}

/// This process's peak resident memory (Linux `VmHWM`), in KiB.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn show_status(config: Option<PathBuf>, args: StatusArgs) -> Result<ExitCode, Error> {
    let flags: Vec<_> = data_dir_flag(&args.data_dir).into_iter().collect();
    let config = load_config(config, &flags)?;
    let path = config.database_path();
    if !path.exists() {
        return Err(Error::Usage(format!(
            "no replica at {}: run `possync sync --full` or `possync run` first",
            path.display()
        )));
    }
    let store = Store::open(&path)?;
    let summary = store.read_blocking(status::summary)?;
    if args.json {
        let out = serde_json::json!({
            "database": path.display().to_string(),
            "store_url": config.store.as_ref().map(|s| s.address()),
            "counts": summary.counts,
            "store": summary.store,
            "resources": summary.resources,
            "freshness": summary.freshness,
        });
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        return Ok(ExitCode::SUCCESS);
    }
    println!("replica   {}", path.display());
    if let Some(s) = &config.store {
        println!("store     {}", s.address());
    }
    if let Some(info) = &summary.store {
        println!(
            "settings  {} · prices {} tax · {} decimals · stock management {}",
            info.currency,
            if info.prices_include_tax {
                "include"
            } else {
                "exclude"
            },
            info.price_decimals,
            if info.manage_stock { "on" } else { "off" }
        );
    }
    println!();
    println!(
        "{:<17} {:>9} {:>9} {:>9}  {:<28} {:<16} note",
        "resource", "local", "upstream", "complete", "last full pull", "verified"
    );
    let now = unix_millis_now();
    let kinds = config.store.as_ref().map(|s| s.kind());
    let mirrored = kinds.map_or(&Resource::ALL[..], crate::upstream::shop::mirrored);
    for &resource in mirrored {
        let state = summary.resources.iter().find(|s| s.resource == resource);
        let local = summary.counts.get(resource.as_str()).unwrap_or(0);
        let upstream = state
            .and_then(|s| s.upstream_total)
            .map_or_else(|| "—".to_owned(), |n| n.to_string());
        let when = state
            .and_then(|s| s.last_full_pull_at)
            .map_or_else(|| "never".to_owned(), |at| format_when(at, now));
        let note = state
            .and_then(|s| s.last_error.as_deref().or(s.last_warning.as_deref()))
            .unwrap_or("");
        let fresh = summary.freshness.iter().find(|f| f.resource == resource);
        // The last sweep's count is fresher than the full pull's.
        let upstream = fresh
            .and_then(|f| f.upstream_count)
            .map_or(upstream, |n| n.to_string());
        let complete = fresh
            .and_then(|f| f.complete_pct)
            .map_or_else(|| "—".to_owned(), |p| format!("{p:.1} %"));
        let verified = fresh
            .and_then(|f| f.verified_at)
            .map_or_else(|| "never".to_owned(), |at| age(at, now));
        println!(
            "{:<17} {:>9} {:>9} {:>9}  {:<28} {:<16} {}",
            resource.as_str(),
            local,
            upstream,
            complete,
            when,
            verified,
            note
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `2026-11-23 10:00:01Z (3 min ago)`.
fn format_when(at_ms: i64, now_ms: i64) -> String {
    let t = crate::domain::GmtTime::from_unix(at_ms / 1000);
    format!(
        "{}Z ({})",
        t.to_string().replace('T', " "),
        age(at_ms, now_ms)
    )
}

/// `3 min ago`.
fn age(at_ms: i64, now_ms: i64) -> String {
    let ago = (now_ms - at_ms).max(0) / 1000;
    match ago {
        0..=59 => format!("{ago} s ago"),
        60..=3599 => format!("{} min ago", ago / 60),
        3600..=86_399 => format!("{} h ago", ago / 3600),
        _ => format!("{} d ago", ago / 86_400),
    }
}
