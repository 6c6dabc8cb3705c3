//! The secrets deliveries may be signed with: the one configured for
//! subscriptions made by hand, and those `webhooks install` stored in the
//! replica. Held as [`SecretString`]s; never printed, logged or in `Debug`.

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use secrecy::SecretString;

use crate::store::{Store, StoreError, subscriptions};

/// Stored secrets are re-read at most this often, when a delivery matches
/// none (a `webhooks install` run while the agent runs). The bound keeps
/// forged deliveries from turning into database reads.
const RELOAD_EVERY: Duration = Duration::from_secs(1);

/// The signing secrets, cached.
pub struct Secrets {
    configured: Option<SecretString>,
    current: RwLock<Arc<Vec<SecretString>>>,
    store: Store,
    last_reload: Mutex<Instant>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets")
            .field("configured", &self.configured.is_some())
            .field("count", &self.snapshot().len())
            .finish_non_exhaustive()
    }
}

impl Secrets {
    /// Reads the stored secrets.
    pub async fn load(store: Store, configured: Option<SecretString>) -> Result<Self, StoreError> {
        let list = read(&store, &configured).await?;
        Ok(Secrets {
            configured,
            current: RwLock::new(Arc::new(list)),
            store,
            // The first miss may reload at once.
            last_reload: Mutex::new(
                Instant::now()
                    .checked_sub(RELOAD_EVERY)
                    .unwrap_or_else(Instant::now),
            ),
        })
    }

    /// The secrets known now.
    pub fn snapshot(&self) -> Arc<Vec<SecretString>> {
        self.current
            .read()
            .map(|g| Arc::clone(&g))
            .unwrap_or_default()
    }

    /// Re-reads the stored secrets unless that was done very recently;
    /// returns whether it did.
    pub async fn reload_if_due(&self) -> bool {
        {
            let Ok(mut last) = self.last_reload.lock() else {
                return false;
            };
            if last.elapsed() < RELOAD_EVERY {
                return false;
            }
            *last = Instant::now();
        }
        match read(&self.store, &self.configured).await {
            Ok(list) => {
                if let Ok(mut g) = self.current.write() {
                    *g = Arc::new(list);
                }
                true
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot read the webhook secrets");
                false
            }
        }
    }
}

async fn read(
    store: &Store,
    configured: &Option<SecretString>,
) -> Result<Vec<SecretString>, StoreError> {
    let mut list: Vec<SecretString> = configured.iter().cloned().collect();
    list.extend(store.read(subscriptions::secrets).await?);
    Ok(list)
}
