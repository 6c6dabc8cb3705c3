//! `possync backup PATH` and `possync restore PATH [--force]`.
//!
//! A backup is taken while the agent runs; a restore needs it stopped (it
//! replaces the files the agent holds open), and refuses to replace a
//! replica holding sales the shop has not confirmed unless `--force`.
//! After a restore, every sale the backup shows as waiting is looked up at
//! the shop by its key before any resend (see `store::backup`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::{data_dir_flag, load_config};
use crate::domain::time::unix_millis_now;
use crate::error::Error;
use crate::store::backup;

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The backup file to write (its webhook inbox goes beside it:
    /// `x.db` → `x.inbox.db`)
    #[arg(value_name = "PATH")]
    pub path: PathBuf,
    /// Where the replica lives [default: possync-data]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// A backup file made by `possync backup`
    #[arg(value_name = "PATH")]
    pub path: PathBuf,
    /// Replace the replica even though it holds sales the shop has not
    /// confirmed (those the backup does not hold are lost)
    #[arg(long)]
    pub force: bool,
    /// Where the replica lives [default: possync-data]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

pub async fn backup(config: Option<PathBuf>, args: BackupArgs) -> Result<ExitCode, Error> {
    let flags: Vec<_> = data_dir_flag(&args.data_dir).into_iter().collect();
    let config = load_config(config, &flags)?;
    let replica = config.database_path();
    let dest = args.path;
    let report = tokio::task::spawn_blocking(move || backup::create(&replica, &dest))
        .await
        .map_err(|_| crate::store::StoreError::Panicked)??;
    println!(
        "backed up the replica to {} ({} bytes, integrity ok, mode 0600)",
        report.replica.display(),
        report.replica_bytes
    );
    if let Some(inbox) = &report.inbox {
        println!("backed up the webhook inbox to {}", inbox.display());
    }
    println!(
        "{} sale(s) in the backup not yet confirmed by the shop",
        report.unconfirmed_sales
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn restore(config: Option<PathBuf>, args: RestoreArgs) -> Result<ExitCode, Error> {
    let flags: Vec<_> = data_dir_flag(&args.data_dir).into_iter().collect();
    let config = load_config(config, &flags)?;
    // A running agent holds the replica open: its address being taken is
    // the sign (it listens for as long as it runs).
    if std::net::TcpListener::bind(config.listen).is_err() {
        return Err(Error::Usage(format!(
            "{} is in use: is the agent running? stop it first (`systemctl stop possync`)",
            config.listen
        )));
    }
    let replica = config.database_path();
    let from = args.path;
    let force = args.force;
    let report = tokio::task::spawn_blocking(move || {
        backup::restore(&from, &replica, force, unix_millis_now())
    })
    .await
    .map_err(|_| crate::store::StoreError::Panicked)??;
    if report.replaced_unconfirmed_sales > 0 {
        println!(
            "replaced a replica holding {} unconfirmed sale(s) (--force)",
            report.replaced_unconfirmed_sales
        );
    }
    println!(
        "restored {} from the backup; {} waiting change(s) will be looked up at the shop before any resend",
        if report.inbox_restored {
            "the replica and the webhook inbox"
        } else {
            "the replica"
        },
        report.marked_for_lookup
    );
    Ok(ExitCode::SUCCESS)
}
