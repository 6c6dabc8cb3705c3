//! Logging set-up, called once by `main`. The library never installs a
//! global subscriber itself, so tests can install their own.
//!
//! Logs go to stderr (journald keeps them under systemd). The filter comes
//! from `POSSYNC_LOG` (or `RUST_LOG`), default `info`. Nothing logged may
//! carry a secret, a full upstream URL or customer details.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// The default filter: our info, dependencies' warnings.
const DEFAULT_FILTER: &str = "info,hyper=warn,reqwest=warn,tower_http=warn";

/// Installs the global subscriber.
pub fn init() {
    let filter = std::env::var("POSSYNC_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new(DEFAULT_FILTER));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        // Colour codes only on a terminal, never in journald or a log file.
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
