//! Wires the pieces together: the one place where the replica, the shop
//! client, the sync task and the HTTP server meet. Used by `main` and by
//! tests alike.
//!
//! Every long task is tracked and cancelled through one token, so
//! [`RunningApp::shutdown`] stops them in order and waits for them: a write
//! in progress runs to its commit, the server finishes its requests.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::api::webhooks::Receiver;
use crate::api::{self, AppState};
use crate::config::Config;
use crate::domain::time::unix_millis_now;
use crate::error::Error;
use crate::store::{Store, StoreError};
use crate::sync::engine::{self, InitialPull};
use crate::sync::limit::Limit;
use crate::sync::progress::{PullProgress, PullState};
use crate::sync::pull::PullOptions;
use crate::sync::reindex::{REINDEX_BATCH, ReindexWaker};
use crate::sync::replay::{self, ReplayOptions, ReplayWaker};
use crate::sync::webhooks::apply::Mirror;
use crate::sync::webhooks::secrets::Secrets;
use crate::sync::webhooks::worker;
use crate::upstream::woo::client::WooClient;
use crate::upstream::woo::webhook;

/// How long shutdown waits for tasks to finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(15);

/// How the agent starts.
#[derive(Debug, Clone, Copy)]
pub struct AppOptions {
    pub initial_pull: InitialPull,
}

impl Default for AppOptions {
    fn default() -> Self {
        AppOptions {
            initial_pull: InitialPull::IfNeeded,
        }
    }
}

/// Starts the agent.
pub struct App;

impl App {
    /// Opens the replica, binds the local address and starts the server and
    /// the sync task. Returns once everything is listening.
    pub async fn spawn(config: Config, options: AppOptions) -> Result<RunningApp, Error> {
        // Product lookups are open on loopback only.
        config.api.check_listen(config.listen)?;
        let store = open_store(&config).await?;
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|source| Error::Listen {
                addr: config.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| Error::Listen {
            addr: config.listen,
            source,
        })?;
        let token = CancellationToken::new();
        let tracker = TaskTracker::new();
        let (progress_tx, progress_rx) = watch::channel(PullProgress::default());
        let waker = ReplayWaker::default();

        if let Some(store_cfg) = &config.store {
            // The replayer has its own client: its requests never queue
            // behind a full pull's pages.
            // Adaptive concurrency gates the replay too, up to its own
            // ceiling; a pinned `sync.concurrency` leaves it to
            // `till.replay_concurrency`.
            let mut replay_client = WooClient::new(store_cfg)?;
            if let Limit::Auto { .. } = config.sync.limit() {
                replay_client = replay_client.with_limit(Limit::Auto {
                    max: config.till.replay_concurrency,
                });
            }
            tracker.spawn(replay::run(
                Arc::new(replay_client),
                store.clone(),
                ReplayOptions::new(config.till.replay_concurrency),
                waker.clone(),
                token.child_token(),
            ));
            let client = WooClient::new(store_cfg)?.with_limit(config.sync.limit());
            tracker.spawn(engine::run(
                client,
                store.clone(),
                PullOptions::from_config(&config.sync),
                config.sync.schedule.clone(),
                progress_tx,
                token.child_token(),
                options.initial_pull,
            ));
        } else {
            tracing::warn!("no store configured: serving the replica as it is");
        }

        // Webhooks: deliveries are stored by the inbox's own writer thread
        // (group commit, in a file beside the replica: never behind the
        // replica's writer) and applied by a worker that asks the shop about
        // objects gone before delivery.
        let secrets = Secrets::load(store.clone(), config.webhooks.secret.clone()).await?;
        let refetch_client = config.store.as_ref().map(WooClient::new).transpose()?;
        tracker.spawn(worker::run(
            store.clone(),
            refetch_client,
            webhook::instruction,
            Mirror {
                product_statuses: config.sync.product_statuses.clone(),
                order_statuses: config.sync.order_statuses.clone(),
            },
            token.child_token(),
        ));

        // Mapping changes re-index the catalog in batches, beside everything
        // else (a re-index a stop interrupted resumes here).
        let reindex = ReindexWaker::default();
        tracker.spawn(crate::sync::reindex::run(
            store.clone(),
            REINDEX_BATCH,
            reindex.clone(),
            token.child_token(),
        ));

        let config_for_doctor = config.clone();
        let security = api::security::Security::new(store.clone(), addr, config.api.clone());
        let state = AppState {
            security,
            store: store.clone(),
            progress: progress_rx.clone(),
            config: Arc::new(config.view()),
            started_at: unix_millis_now(),
            lookup: Arc::new(config.lookup.clone()),
            till: Arc::new(config.till.settings.clone()),
            replay: waker,
            reindex,
            webhooks: Some(Receiver {
                inbox: store.inbox().clone(),
                secrets: Arc::new(secrets),
            }),
        };
        let router = api::router(state).layer(axum::Extension(api::doctor::DoctorConfig(
            Arc::new(config_for_doctor),
        )));
        let server_token = token.clone();
        tracker.spawn(async move {
            let served = axum::serve(listener, router)
                .with_graceful_shutdown(server_token.cancelled_owned())
                .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "the local HTTP server stopped");
            }
        });
        tracing::info!(%addr, "listening");
        Ok(RunningApp {
            addr,
            store,
            progress: progress_rx,
            token,
            tracker,
        })
    }
}

/// Opens the configured replica off the async runtime (migrations may run)
/// and applies the lookup settings to it.
pub(crate) async fn open_store(config: &Config) -> Result<Store, StoreError> {
    let path = config.database_path();
    let store = tokio::task::spawn_blocking(move || Store::open(&path))
        .await
        .map_err(|_| StoreError::Panicked)??;
    configure_lookups(&store, config).await?;
    Ok(store)
}

/// Points the barcode index at the configured meta keys (re-indexing the
/// catalog when they changed since the last start).
pub(crate) async fn configure_lookups(store: &Store, config: &Config) -> Result<(), StoreError> {
    let keys = config.lookup.barcode_meta_keys.clone();
    let changed = store
        .write(move |tx| crate::store::lookup::index::set_barcode_keys(tx, &keys))
        .await?;
    if changed {
        tracing::info!("barcode meta keys changed: the catalog was re-indexed");
    }
    Ok(())
}

/// A running agent.
pub struct RunningApp {
    addr: SocketAddr,
    store: Store,
    progress: watch::Receiver<PullProgress>,
    token: CancellationToken,
    tracker: TaskTracker,
}

impl RunningApp {
    /// The address the local API listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The replica.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Full-pull progress as it changes.
    pub fn progress(&self) -> watch::Receiver<PullProgress> {
        self.progress.clone()
    }

    /// Waits until the current (or next) full pull stops running, and
    /// returns how it ended.
    pub async fn pull_finished(&self) -> PullProgress {
        let mut rx = self.progress.clone();
        let seen = rx
            .wait_for(|p| {
                matches!(
                    p.state,
                    PullState::Completed | PullState::Failed | PullState::Cancelled
                )
            })
            .await
            .map(|p| p.clone());
        seen.unwrap_or_else(|_| self.progress.borrow().clone())
    }

    /// Stops every task and waits for them (bounded).
    pub async fn shutdown(self) {
        self.token.cancel();
        self.tracker.close();
        if tokio::time::timeout(SHUTDOWN_GRACE, self.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("some tasks did not stop within {SHUTDOWN_GRACE:?}");
        }
    }
}
