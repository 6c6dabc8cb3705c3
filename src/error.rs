//! The crate's error, composing each module's own, and the exit code each
//! case maps to (2 for bad usage or configuration, 1 for the rest).

use std::net::SocketAddr;

use crate::config::ConfigError;
use crate::store::StoreError;
use crate::sync::SyncError;
use crate::upstream::UpstreamError;

/// Anything that stops a command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration is missing or invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The replica could not be opened or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Syncing failed.
    #[error(transparent)]
    Sync(#[from] SyncError),
    /// The shop could not be used.
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    /// The local HTTP server could not bind its address.
    #[error(
        "cannot listen on {addr}: {source} (is another possync running? change `listen` or --listen)"
    )]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// A command was given arguments that do not fit together.
    #[error("{0}")]
    Usage(String),
    /// Any other I/O failure (signals, files).
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Config(_) | Error::Usage(_) => 2,
            _ => 1,
        }
    }
}

impl From<crate::sync::webhooks::WebhookError> for Error {
    fn from(e: crate::sync::webhooks::WebhookError) -> Self {
        use crate::sync::webhooks::WebhookError;
        match e {
            WebhookError::Upstream(e) => Error::Upstream(e),
            WebhookError::Store(e) => Error::Store(e),
        }
    }
}
