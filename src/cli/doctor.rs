//! `possync doctor`: a line per check, exit code 0 when all pass, 1 if any
//! fails (the checks are in [`crate::doctor`]).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use super::{data_dir_flag, load_config};
use crate::error::Error;

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Print JSON instead of lines
    #[arg(long)]
    pub json: bool,
    /// Where the replica lives [default: possync-data]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

pub async fn run(config_path: Option<PathBuf>, args: DoctorArgs) -> Result<ExitCode, Error> {
    let file = config_path.clone().or_else(|| {
        let default = Path::new(crate::config::DEFAULT_CONFIG_FILE);
        default.exists().then(|| default.to_path_buf())
    });
    let flags: Vec<_> = data_dir_flag(&args.data_dir).into_iter().collect();
    let checks = match load_config(config_path, &flags) {
        Ok(config) => crate::doctor::run(&config, file.as_deref()).await,
        // Nothing else can be checked without a valid configuration.
        Err(e) => vec![crate::doctor::Check {
            name: "config",
            ok: false,
            detail: e.to_string(),
        }],
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&checks).unwrap_or_default()
        );
    } else {
        for check in &checks {
            println!("{}", check.line());
        }
    }
    Ok(if checks.iter().all(|c| c.ok) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
