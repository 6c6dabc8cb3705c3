//! `possync`: parses the command line and hands over to the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = possync::cli::Cli::parse();
    possync::telemetry::init(cli.log_format);
    match possync::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("possync: error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
