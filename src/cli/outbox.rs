//! `possync outbox list|retry|discard`: the manager's outbox controls from
//! the command line. They work on the replica directly, whether or not the
//! agent runs (SQLite serialises the writes; a running agent picks a retried
//! entry up within seconds).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use uuid::Uuid;

use super::{data_dir_flag, format_when, load_config};
use crate::domain::outbox::{EntryState, OutboxEntry, Refusal};
use crate::domain::time::unix_millis_now;
use crate::error::Error;
use crate::store::till::manage;
use crate::store::{Store, outbox};

#[derive(Debug, Args)]
pub struct OutboxArgs {
    /// Where the replica lives [default: possync-data]
    #[arg(long, value_name = "DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, Subcommand)]
pub enum Action {
    /// List entries, newest first
    List {
        /// Only entries in this state (queued, sending, unknown, confirmed, rejected, discarded)
        #[arg(long)]
        state: Option<String>,
        /// At most this many
        #[arg(long, default_value_t = 100)]
        limit: i64,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Send a queued, unknown or rejected entry again now
    Retry { id: String },
    /// Drop a queued or rejected entry and reverse its local effect
    Discard { id: String },
}

pub fn run(config: Option<PathBuf>, args: OutboxArgs) -> Result<ExitCode, Error> {
    let flags: Vec<_> = data_dir_flag(&args.data_dir).into_iter().collect();
    let config = load_config(config, &flags)?;
    let path = config.database_path();
    if !path.exists() {
        return Err(Error::Usage(format!("no replica at {}", path.display())));
    }
    let store = Store::open(&path)?;
    match args.action {
        Action::List { state, limit, json } => {
            let state = state
                .map(|s| s.parse::<EntryState>().map_err(Error::Usage))
                .transpose()?;
            let entries =
                store.read_blocking(|c| outbox::list(c, state, limit.clamp(1, 100_000)))?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&entries).unwrap_or_default()
                );
            } else {
                print_table(&entries);
            }
            Ok(ExitCode::SUCCESS)
        }
        Action::Retry { id } => change(&store, &id, false),
        Action::Discard { id } => change(&store, &id, true),
    }
}

/// Retries (or, with `discard`, discards) one entry.
fn change(store: &Store, id: &str, discard: bool) -> Result<ExitCode, Error> {
    let id = Uuid::parse_str(id.trim())
        .map_err(|_| Error::Usage(format!("{id:?} is not an outbox entry id")))?;
    let handle = tokio::runtime::Handle::current();
    let store = store.clone();
    let result: Result<OutboxEntry, Refusal> = tokio::task::block_in_place(|| {
        handle.block_on(store.write(move |tx| {
            let now = unix_millis_now();
            if discard {
                manage::discard(tx, id, now)
            } else {
                manage::retry(tx, id, now)
            }
        }))
    })?;
    let done = if discard {
        "discarded"
    } else {
        "queued to send now"
    };
    match result {
        Ok(entry) => {
            println!("{} ({}): {done}", entry.label, entry.id);
            Ok(ExitCode::SUCCESS)
        }
        Err(refusal) => Err(Error::Usage(refusal.to_string())),
    }
}

fn print_table(entries: &[OutboxEntry]) {
    if entries.is_empty() {
        println!("the outbox is empty");
        return;
    }
    let now = unix_millis_now();
    println!(
        "{:<36}  {:<9}  {:>3}  {:<26}  {:<34}  note",
        "id", "state", "try", "accepted", "what"
    );
    for e in entries {
        let note = match (&e.error_code, &e.error_message, e.upstream_id) {
            (_, _, Some(u)) if e.state == EntryState::Confirmed => format!("upstream id {u}"),
            (Some(c), Some(m), _) => format!("{c}: {m}"),
            (None, Some(m), _) => m.clone(),
            _ => String::new(),
        };
        println!(
            "{:<36}  {:<9}  {:>3}  {:<26}  {:<34}  {}",
            e.id,
            e.state.as_str(),
            e.attempts,
            format_when(e.created_at, now),
            e.label,
            note
        );
    }
}
