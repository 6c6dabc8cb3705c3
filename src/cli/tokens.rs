//! `possync tokens create|list|revoke`: the bearer tokens till front-ends
//! call the local API with. A token is printed once, at creation; the
//! replica keeps only its hash. Works whether or not the agent runs (a
//! running agent checks tokens against the replica on every request).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::{data_dir_flag, format_when, load_config};
use crate::api::security::tokens;
use crate::domain::time::unix_millis_now;
use crate::error::Error;
use crate::store::{Store, access};

#[derive(Debug, Args)]
pub struct TokensArgs {
    /// Where the replica lives [default: possync-data]
    #[arg(long, value_name = "DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, Subcommand)]
pub enum Action {
    /// Create a token and print it (once: only its hash is kept)
    Create {
        /// A name for the caller, e.g. till-1 or pos-frontend
        #[arg(long)]
        name: String,
    },
    /// List the tokens by name (never their values)
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token: its caller is refused from the next request on
    Revoke { name: String },
}

pub async fn run(config: Option<PathBuf>, args: TokensArgs) -> Result<ExitCode, Error> {
    let flags: Vec<_> = data_dir_flag(&args.data_dir).into_iter().collect();
    let config = load_config(config, &flags)?;
    let store = crate::app::open_store(&config).await?;
    match args.action {
        Action::Create { name } => {
            tokens::check_name(&name).map_err(Error::Usage)?;
            match tokens::create(&store, &name).await? {
                Some(token) => {
                    eprintln!("token {name:?} created; it is shown this once:");
                    println!("{token}");
                    Ok(ExitCode::SUCCESS)
                }
                None => Err(Error::Usage(format!(
                    "a token named {name:?} exists: revoke it first (`possync tokens revoke {name}`) or choose another name"
                ))),
            }
        }
        Action::List { json } => list(&store, json).await,
        Action::Revoke { name } => {
            let owned = name.clone();
            if store
                .write(move |tx| access::revoke_token(tx, &owned))
                .await?
            {
                println!("token {name:?} revoked");
                Ok(ExitCode::SUCCESS)
            } else {
                Err(Error::Usage(format!("no token named {name:?}")))
            }
        }
    }
}

async fn list(store: &Store, json: bool) -> Result<ExitCode, Error> {
    let all = store.read(access::list_tokens).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&all).unwrap_or_default());
        return Ok(ExitCode::SUCCESS);
    }
    if all.is_empty() {
        println!("no tokens: create one with `possync tokens create --name NAME`");
        return Ok(ExitCode::SUCCESS);
    }
    let now = unix_millis_now();
    println!("{:<24} {:<34} last used", "name", "created");
    for t in all {
        println!(
            "{:<24} {:<34} {}",
            t.name,
            format_when(t.created_at, now),
            t.last_used_at
                .map_or_else(|| "never".to_owned(), |at| format_when(at, now))
        );
    }
    Ok(ExitCode::SUCCESS)
}
