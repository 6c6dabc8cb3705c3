//! `possync admin set-password`: sets or resets the back-office password.
//! The password is read from the terminal without echo (or, when standard
//! input is not a terminal, as its first line), never from the command
//! line, where other users of the till could read it. A reset ends the
//! sessions opened with the old password.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::{data_dir_flag, load_config};
use crate::api::security::password;
use crate::domain::time::unix_millis_now;
use crate::error::Error;
use crate::store::access;

#[derive(Debug, Args)]
pub struct AdminArgs {
    /// Where the replica lives [default: possync-data]
    #[arg(long, value_name = "DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, Subcommand)]
pub enum Action {
    /// Set (or reset) the back-office admin password, read from the terminal or stdin
    SetPassword,
}

pub async fn run(config: Option<PathBuf>, args: AdminArgs) -> Result<ExitCode, Error> {
    let flags: Vec<_> = data_dir_flag(&args.data_dir).into_iter().collect();
    let config = load_config(config, &flags)?;
    match args.action {
        Action::SetPassword => {
            let new = read_password()?;
            password::check_new(&new).map_err(Error::Usage)?;
            let store = crate::app::open_store(&config).await?;
            let phc = tokio::task::spawn_blocking(move || password::hash(&new))
                .await
                .map_err(|_| Error::Usage("the password could not be hashed".to_owned()))?;
            let now = unix_millis_now();
            store
                .write(move |tx| access::set_admin_password(tx, &phc, now))
                .await?;
            println!("the back-office admin password is set");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn read_password() -> Result<String, Error> {
    let io_err = |source| Error::Io {
        what: "cannot read the password".to_owned(),
        source,
    };
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("New admin password: ").map_err(io_err)?;
        let again = rpassword::prompt_password("Repeat it: ").map_err(io_err)?;
        if first != again {
            return Err(Error::Usage("the two passwords differ".to_owned()));
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(io_err)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}
