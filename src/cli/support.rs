//! `possync support-bundle PATH`: the page's support bundle, written to a
//! file (see [`crate::support`]). Works whether the agent runs or not.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::{data_dir_flag, load_config};
use crate::error::Error;
use crate::store::{Store, StoreError};
use crate::support::{self, SupportError};

#[derive(Debug, Args)]
pub struct SupportArgs {
    /// The `.tar.gz` file to write
    #[arg(value_name = "PATH")]
    pub path: PathBuf,
    /// Where the replica lives [default: possync-data]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

pub async fn run(config: Option<PathBuf>, args: SupportArgs) -> Result<ExitCode, Error> {
    let flags: Vec<_> = data_dir_flag(&args.data_dir).into_iter().collect();
    let config = load_config(config, &flags)?;
    let replica = config.database_path();
    if !replica.exists() {
        return Err(Error::Usage(format!(
            "no replica at {}: run `possync sync --full` or `possync run` first",
            replica.display()
        )));
    }
    let store = tokio::task::spawn_blocking(move || Store::open(&replica))
        .await
        .map_err(|_| StoreError::Panicked)??;
    let bytes = support::bundle(&store, &config, None)
        .await
        .map_err(|e| match e {
            SupportError::Store(e) => Error::Store(e),
            SupportError::Archive(source) => Error::Io {
                what: "cannot write the support bundle".to_owned(),
                source,
            },
        })?;
    std::fs::write(&args.path, &bytes).map_err(|source| Error::Io {
        what: format!("cannot write {}", args.path.display()),
        source,
    })?;
    println!(
        "wrote the support bundle to {} ({} bytes: {}; secrets redacted)",
        args.path.display(),
        bytes.len(),
        support::FILES.join(", ")
    );
    Ok(ExitCode::SUCCESS)
}
