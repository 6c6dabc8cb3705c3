//! Shared test harness: a simulated store and an agent on loopback ports,
//! a real replica in a temporary directory, and helpers that wait on
//! conditions with a deadline (never a bare sleep).

#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use possync::config::{Config, StoreConfig, SyncConfig};
use possync::domain::Resource;
use possync::store::{Store, dump};
use possync::sync::delta::Delta;
use possync::sync::engine::InitialPull;
use possync::sync::progress::{PullProgress, PullState};
use possync::sync::pull::PullOptions;
use possync::sync::schedule::{self, Job};
use possync::upstream::woo::client::WooClient;
use possync::{App, AppOptions, RunningApp};
use possync_sim::woo::{Sim, SimConfig, SimHandle};
use tokio_util::sync::CancellationToken;

/// How often conditions are re-checked.
const POLL_TICK: Duration = Duration::from_millis(10);

/// Waits until `probe` returns `Some`, or panics after `within`.
pub async fn wait_for<T, F, Fut>(what: &str, within: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    tokio::time::timeout(within, async {
        loop {
            if let Some(v) = probe().await {
                return v;
            }
            tokio::time::sleep(POLL_TICK).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("timed out after {within:?} waiting for {what}"))
}

/// A loopback address with a port chosen by the OS.
pub fn any_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// A small simulated store, quick to pull.
pub fn small_sim() -> SimConfig {
    SimConfig {
        listen: any_port(),
        seed: 7,
        products: 60,
        customers: 25,
        orders: 40,
        ..SimConfig::default()
    }
}

/// An agent configuration pointing at `sim`, with its data in `dir`.
pub fn agent_config(sim: &SimHandle, dir: &Path) -> Config {
    let store = StoreConfig {
        timeout: Duration::from_secs(10),
        ..StoreConfig::oauth1(
            sim.url().parse().unwrap(),
            sim.consumer_key(),
            sim.consumer_secret(),
        )
    };
    Config {
        sync: SyncConfig {
            page_size: 10,
            concurrency: 3,
            order_window_days: 0,
            ..SyncConfig::default()
        },
        ..Config::new(any_port(), dir.to_path_buf(), Some(store))
    }
}

/// A simulated store and an agent syncing it.
pub struct TestApp {
    pub app: RunningApp,
    pub sim: SimHandle,
    pub dir: tempfile::TempDir,
    /// Sends [`TestApp::token`] with every request, as a till front-end does.
    pub http: reqwest::Client,
    /// A bearer token created at spawn (`possync tokens create`'s path).
    pub token: String,
}

/// The name of the token every test agent gets at spawn.
pub const TEST_TOKEN_NAME: &str = "test-till";

/// Creates a token on `app`'s replica.
pub async fn create_token(app: &RunningApp, name: &str) -> String {
    possync::api::security::tokens::create(app.store(), name)
        .await
        .unwrap()
        .expect("a fresh token name")
}

/// A client that sends `token` with every request (timeouts as everywhere).
pub fn client_with_token(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().unwrap(),
    );
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .default_headers(headers)
        .build()
        .unwrap()
}

impl TestApp {
    /// Starts `sim`, then an agent configured by `config` that pulls at once.
    pub async fn spawn(sim: SimConfig, tweak: impl FnOnce(&mut Config)) -> TestApp {
        let sim = Sim::spawn(sim).await.expect("sim starts");
        Self::spawn_with_sim(sim, tweak).await
    }

    /// Starts an agent that pulls at once from an already running `sim`
    /// (which a test may have changed first).
    pub async fn spawn_with_sim(sim: SimHandle, tweak: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let mut config = agent_config(&sim, dir.path());
        tweak(&mut config);
        let app = App::spawn(
            config,
            AppOptions {
                initial_pull: InitialPull::Always,
            },
        )
        .await
        .expect("agent starts");
        let token = create_token(&app, TEST_TOKEN_NAME).await;
        TestApp {
            app,
            sim,
            dir,
            http: client_with_token(&token),
            token,
        }
    }

    /// Waits for the initial pull to end and returns how it ended.
    pub async fn pulled(&self) -> PullProgress {
        tokio::time::timeout(Duration::from_secs(60), self.app.pull_finished())
            .await
            .expect("the pull ends within a minute")
    }

    pub fn store(&self) -> &Store {
        self.app.store()
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("replica.db")
    }

    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let res = self
            .http
            .get(format!("{}{path}", self.app.url()))
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// Runs one delta job (a `sync --delta` step) in-process against the
    /// agent's replica, now rather than when its scheduler would.
    pub async fn run_job(&self, job: Job) {
        let config: Config = agent_config(&self.sim, self.dir.path());
        let client = WooClient::new(config.store.as_ref().unwrap()).unwrap();
        let opts = PullOptions::from_config(&config.sync);
        let token = CancellationToken::new();
        let d = Delta {
            upstream: &client,
            store: self.store(),
            opts: &opts,
            overlap: config.sync.schedule.overlap,
            token: &token,
        };
        schedule::run_job(&d, job)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", job.name()));
    }

    /// Stops the agent and starts a new one on the same replica and sim,
    /// pulling at once.
    pub async fn restart(self, tweak: impl FnOnce(&mut Config)) -> TestApp {
        let TestApp {
            app,
            sim,
            dir,
            http,
            token,
        } = self;
        app.shutdown().await;
        let mut config = agent_config(&sim, dir.path());
        tweak(&mut config);
        let app = App::spawn(
            config,
            AppOptions {
                initial_pull: InitialPull::Always,
            },
        )
        .await
        .expect("agent restarts");
        TestApp {
            app,
            sim,
            dir,
            http,
            token,
        }
    }

    /// The ids (or keys) of `resource` in the replica, in order.
    pub async fn replica_keys(&self, resource: Resource) -> Vec<String> {
        replica_keys(self.store(), resource).await
    }

    /// The numeric ids of `resource` in the replica, ascending.
    pub async fn replica_ids(&self, resource: Resource) -> Vec<i64> {
        replica_ids(self.store(), resource).await
    }

    /// Sends `body` (JSON, or raw text when it is a string starting with
    /// `RAW:`) with `method` and returns the status and JSON answer.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.app.url()));
        match body {
            Some(serde_json::Value::String(s)) if s.starts_with("RAW:") => {
                req = req
                    .header("content-type", "application/json")
                    .body(s["RAW:".len()..].to_owned());
            }
            Some(b) => req = req.json(&b),
            None => {}
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(serde_json::Value::Null))
    }

    pub async fn post_json(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        self.send("POST", path, Some(body)).await
    }

    pub async fn stop(self) {
        self.app.shutdown().await;
        self.sim.shutdown().await;
    }
}

/// Asserts a pull completed.
/// The ids (or keys) of `resource` in `store`'s replica, in order.
pub async fn replica_keys(store: &Store, resource: Resource) -> Vec<String> {
    store
        .read(move |c| dump::raw_rows(c, resource))
        .await
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect()
}

/// The numeric ids of `resource` in `store`'s replica, ascending.
pub async fn replica_ids(store: &Store, resource: Resource) -> Vec<i64> {
    let mut ids: Vec<i64> = replica_keys(store, resource)
        .await
        .iter()
        .map(|k| k.parse().expect("numeric id"))
        .collect();
    ids.sort_unstable();
    ids
}

pub fn assert_completed(p: &PullProgress) {
    assert_eq!(
        p.state,
        PullState::Completed,
        "pull did not complete: {p:#?}"
    );
}

/// The variations a replica of `sim` should hold: those the shop lists
/// (not trashed) whose parent product is published, ascending.
pub fn mirrored_variation_ids(sim: &possync_sim::woo::SimHandle) -> Vec<i64> {
    let published: std::collections::HashSet<i64> =
        sim.product_ids(Some("publish")).into_iter().collect();
    let mut ids: Vec<i64> = sim
        .variation_ids(None)
        .into_iter()
        .filter(|id| {
            sim.variation(*id).is_some_and(|v| {
                v["status"] != "trash"
                    && v["parent_id"]
                        .as_i64()
                        .is_some_and(|p| published.contains(&p))
            })
        })
        .collect();
    ids.sort_unstable();
    ids
}

/// A free loopback port for an agent (webhooks need to know it up front).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `possync run` as a child process, killed if the test ends first.
pub struct Agent {
    child: std::process::Child,
}

impl Agent {
    pub fn start(config: &Path, port: u16) -> Agent {
        let child = possync()
            .args(["run", "--listen", &format!("127.0.0.1:{port}"), "--config"])
            .arg(config)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        Agent { child }
    }

    /// Sends `signal` and waits for the agent to end.
    pub fn signal(mut self, signal: nix::sys::signal::Signal) {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.child.id() as i32), signal).unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Waits until the agent on `port` answers `/healthz`.
pub async fn healthy(port: u16) {
    let http = reqwest::Client::new();
    wait_for("the agent to answer", Duration::from_secs(60), || {
        let http = http.clone();
        async move {
            let res = http
                .get(format!("http://127.0.0.1:{port}/healthz"))
                .send()
                .await
                .ok()?;
            res.status().is_success().then_some(())
        }
    })
    .await;
}

/// The `possync` binary, with none of the developer's own configuration.
pub fn possync() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_possync"));
    // Never pick up a developer's own configuration or log filter.
    cmd.env_remove("POSSYNC_CONFIG")
        .env_remove("POSSYNC_LOG")
        .env_remove("RUST_LOG");
    for (k, _) in std::env::vars() {
        if k.starts_with("POSSYNC_") {
            cmd.env_remove(k);
        }
    }
    cmd
}
