//! Wires the pieces together: the one place where the replica, the shop
//! client, the sync task and the HTTP server meet. Used by `main` and by
//! tests alike.
//!
//! Every long task is tracked and cancelled through one token, so
//! [`RunningApp::shutdown`] stops them in order and waits for them: a write
//! in progress runs to its commit, the server finishes its requests.
//!
//! The sync tasks and the state the handlers see form a *generation*
//! ([`control`]): saving settings on the page starts a new one without
//! closing the listener, the sessions or the replica.

pub mod control;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use crate::api::backoffice::demo::DemoSwitch;
use crate::api::security::Security;
use crate::api::webhooks::Receiver;
use crate::api::{self, AppState};
use crate::config::{Config, Layered, Sources};
use crate::domain::time::unix_millis_now;
use crate::error::Error;
use crate::store::{Store, StoreError};
use crate::sync::engine::{self, InitialPull};
use crate::sync::limit::Limit;
use crate::sync::operations::{Context as OperationsContext, Operations};
use crate::sync::progress::{PullProgress, PullState};
use crate::sync::pull::PullOptions;
use crate::sync::reindex::{REINDEX_BATCH, ReindexWaker};
use crate::sync::replay::{self, ReplayOptions, ReplayWaker};
use crate::sync::webhooks::apply::Mirror;
use crate::sync::webhooks::secrets::Secrets;
use crate::sync::webhooks::worker;
use crate::upstream::contact::Contact;
use crate::upstream::shop::Shop;
use control::{Control, Reload};

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
    /// the sync task, with a configuration built in code (the page cannot
    /// change it). Returns once everything is listening.
    pub async fn spawn(config: Config, options: AppOptions) -> Result<RunningApp, Error> {
        Self::start(None, Layered::fixed(config), options, None).await
    }

    /// The demo's agent: fixed settings, and the page's offline switch
    /// holding the simulated shop's network.
    pub async fn spawn_demo(
        config: Config,
        options: AppOptions,
        demo: DemoSwitch,
    ) -> Result<RunningApp, Error> {
        Self::start(None, Layered::fixed(config), options, Some(demo)).await
    }

    /// The same, from a file, the environment and flags: the page can save
    /// settings (in the data directory) and put them in force.
    pub async fn spawn_from(sources: Sources, options: AppOptions) -> Result<RunningApp, Error> {
        let layered = sources.load()?;
        Self::start(Some(sources), layered, options, None).await
    }

    async fn start(
        sources: Option<Sources>,
        layered: Layered,
        options: AppOptions,
        demo: Option<DemoSwitch>,
    ) -> Result<RunningApp, Error> {
        let config = &layered.config;
        // The process's metrics recorder, before any request is timed.
        crate::telemetry::metrics::handle();
        // Product lookups are open on loopback only.
        config.api.check_listen(config.listen)?;
        // The home replica holds the password and the tokens whichever
        // profile is selected.
        let home = open_replica(config.home_database_path()).await?;
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
        let (reload_tx, reload_rx) = mpsc::channel(4);
        let control = Control::new(sources, layered.clone(), reload_tx);
        let shared = Shared {
            home: home.clone(),
            security: Security::new(home.clone(), addr, config.api.clone()),
            progress: progress_tx,
            control,
            started_at: unix_millis_now(),
            demo,
            contact: Contact::default(),
        };
        let first = Generation::start(&shared, &layered.config, None, options.initial_pull).await?;
        let store = first.store.clone();
        let routes = Arc::new(RwLock::new(first.router.clone()));

        // The server answers every request from the current generation's
        // router: a reload swaps it without closing the listener.
        let current = routes.clone();
        let app = Router::new().fallback_service(tower::service_fn(
            move |req: axum::extract::Request| {
                let router = current.read().unwrap_or_else(|p| p.into_inner()).clone();
                router.oneshot(req)
            },
        ));
        let server_token = token.clone();
        tracker.spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(server_token.cancelled_owned())
                .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "the local HTTP server stopped");
            }
        });
        tracker.spawn(supervise(shared, first, routes, reload_rx, token.clone()));
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

/// What every generation shares.
struct Shared {
    home: Store,
    security: Security,
    progress: watch::Sender<PullProgress>,
    control: Control,
    started_at: i64,
    demo: Option<DemoSwitch>,
    /// Outlives generations: a reload does not forget since when the shop
    /// has been unreachable.
    contact: Contact,
}

/// One set of settings in force: the replica of the selected profile, the
/// sync tasks and the handlers' state.
struct Generation {
    store: Store,
    path: PathBuf,
    router: Router,
    token: CancellationToken,
    tracker: TaskTracker,
}

impl Generation {
    /// Starts the tasks `config` asks for. `previous` is the replica in use
    /// before, kept when the selected profile's file is the same one.
    async fn start(
        shared: &Shared,
        config: &Config,
        previous: Option<(&PathBuf, &Store)>,
        initial_pull: InitialPull,
    ) -> Result<Generation, Error> {
        let path = config.database_path();
        let store = match previous {
            Some((p, s)) if *p == path => s.clone(),
            _ if path == config.home_database_path() => shared.home.clone(),
            _ => open_replica(path.clone()).await?,
        };
        configure_lookups(&store, config).await?;
        let token = CancellationToken::new();
        let tracker = TaskTracker::new();
        let waker = ReplayWaker::default();
        let contact = shared.contact.clone();
        let operations;

        // Whether deliveries are applied, and with which client the worker
        // asks the shop: none while deactivated (they wait in the inbox).
        let applier: Option<Option<Shop>>;
        match (&config.store, config.active) {
            (Some(store_cfg), true) => {
                // The replayer has its own client: its requests never queue
                // behind a full pull's pages.
                // Adaptive concurrency gates the replay too, up to its own
                // ceiling; a pinned `sync.concurrency` leaves it to
                // `till.replay_concurrency`.
                let mut replay_client = Shop::connect(store_cfg)?.with_contact(contact.clone());
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
                let client = Shop::connect(store_cfg)?
                    .with_limit(config.sync.limit())
                    .with_contact(contact.clone());
                // Operations started on the page have a client of their own
                // (and the pull's limit); they stop with the generation.
                operations = Operations::new(
                    OperationsContext {
                        upstream: Arc::new(
                            Shop::connect(store_cfg)?
                                .with_limit(config.sync.limit())
                                .with_contact(contact.clone()),
                        ),
                        store: store.clone(),
                        opts: PullOptions::from_config(&config.sync),
                        overlap: config.sync.schedule.overlap,
                        progress: shared.progress.clone(),
                    },
                    tracker.clone(),
                    token.child_token(),
                );
                tracker.spawn(engine::run(
                    client,
                    store.clone(),
                    PullOptions::from_config(&config.sync),
                    config.sync.schedule.clone(),
                    shared.progress.clone(),
                    token.child_token(),
                    initial_pull,
                ));
                applier = Some(Some(
                    Shop::connect(store_cfg)?.with_contact(contact.clone()),
                ));
            }
            (Some(_), false) => {
                operations = Operations::unavailable(
                    "the agent is deactivated; activate it on the status page first",
                );
                // Deactivated: no polls, no replay, no deliveries applied
                // (they wait in the inbox); lookups and sales go on.
                tracing::warn!("the agent is deactivated: nothing is synced or replayed");
                applier = None;
            }
            (None, _) => {
                operations = Operations::unavailable("no store is configured");
                tracing::warn!("no store configured: serving the replica as it is");
                applier = Some(None);
            }
        }
        // Webhooks: deliveries are stored by the inbox's own writer thread
        // (group commit, in a file beside the replica: never behind the
        // replica's writer) and applied by a worker that asks the shop about
        // objects gone before delivery (when there is a shop to ask).
        if let Some(refetch) = applier {
            tracker.spawn(worker::run(
                store.clone(),
                refetch,
                crate::sync::webhooks::apply::parser_for_store(config.store.as_ref()),
                Mirror {
                    product_statuses: config.sync.product_statuses.clone(),
                    order_statuses: config.sync.order_statuses.clone(),
                },
                token.child_token(),
            ));
        }

        // Mapping changes re-index the catalog in batches, beside everything
        // else (a re-index a stop interrupted resumes here).
        let reindex = ReindexWaker::default();
        tracker.spawn(crate::sync::reindex::run(
            store.clone(),
            REINDEX_BATCH,
            reindex.clone(),
            token.child_token(),
        ));

        let secrets = Secrets::load(store.clone(), config.webhooks.secret.clone()).await?;
        let state = AppState {
            security: shared.security.clone(),
            store: store.clone(),
            progress: shared.progress.subscribe(),
            config: Arc::new(config.view()),
            started_at: shared.started_at,
            lookup: Arc::new(config.lookup.clone()),
            till: Arc::new(config.till.settings.clone()),
            replay: waker,
            reindex,
            webhooks: Some(Receiver {
                inbox: store.inbox().clone(),
                secrets: Arc::new(secrets),
                shopify: crate::api::webhooks::ShopifyDeliveries::from_config(config),
            }),
            control: shared.control.clone(),
            demo: shared.demo.clone(),
            operations,
            contact,
        };
        let router = api::router(state).layer(axum::Extension(api::doctor::DoctorConfig(
            Arc::new(config.clone()),
        )));
        Ok(Generation {
            store,
            path,
            router,
            token,
            tracker,
        })
    }

    /// Stops the generation's tasks and waits for them (bounded).
    async fn stop(&self) {
        self.token.cancel();
        self.tracker.close();
        if tokio::time::timeout(SHUTDOWN_GRACE, self.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("some sync tasks did not stop within {SHUTDOWN_GRACE:?}");
        }
    }
}

/// Runs the generations: each reload stops the current one's tasks and
/// starts the next; on shutdown the last one stops.
async fn supervise(
    shared: Shared,
    mut current: Generation,
    routes: Arc<RwLock<Router>>,
    mut reloads: mpsc::Receiver<Reload>,
    token: CancellationToken,
) {
    loop {
        let reload = tokio::select! {
            _ = token.cancelled() => break,
            r = reloads.recv() => match r {
                Some(r) => r,
                None => break,
            },
        };
        current.stop().await;
        let next = Generation::start(
            &shared,
            &reload.layered.config,
            Some((&current.path, &current.store)),
            InitialPull::IfNeeded,
        )
        .await;
        let outcome = match next {
            Ok(next) => {
                *routes.write().unwrap_or_else(|p| p.into_inner()) = next.router.clone();
                current = next;
                tracing::info!("new settings in force");
                Ok(())
            }
            Err(e) => {
                // The old settings stay in force: start their tasks again.
                tracing::error!(error = %e, "the new settings could not be put in force");
                let config = shared.control.current().config.clone();
                if let Ok(again) = Generation::start(
                    &shared,
                    &config,
                    Some((&current.path, &current.store)),
                    InitialPull::IfNeeded,
                )
                .await
                {
                    *routes.write().unwrap_or_else(|p| p.into_inner()) = again.router.clone();
                    current = again;
                }
                Err(e.to_string())
            }
        };
        let _ = reload.done.send(outcome);
    }
    current.stop().await;
}

async fn open_replica(path: PathBuf) -> Result<Store, StoreError> {
    tokio::task::spawn_blocking(move || Store::open(&path))
        .await
        .map_err(|_| StoreError::Panicked)?
}

/// Opens the configured replica off the async runtime (migrations may run)
/// and applies the lookup settings to it.
pub(crate) async fn open_store(config: &Config) -> Result<Store, StoreError> {
    let store = open_replica(config.database_path()).await?;
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

    /// The replica of the profile selected at start.
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

    /// Resolves when the agent stops by itself (a fatal error) or is shut
    /// down.
    pub async fn stopped(&self) {
        self.token.cancelled().await
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
