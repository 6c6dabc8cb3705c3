//! The agent's controls, as the back-office page reaches them: the settings
//! in force with where each came from, saving the page's settings, and
//! putting them in force.
//!
//! Putting settings in force starts a new *generation*: the sync tasks
//! (pull and polls, replay, webhook apply) of the old one stop (a write in
//! progress runs to its commit, an interrupted pull resumes), then the new
//! one starts with the new settings and the HTTP server answers from its
//! state. The listener, the sessions and the replica stay open throughout,
//! so the till and the manager notice nothing but the change itself. Only
//! the listen address, the data directory and the `[api]` section need the
//! process restarted; the page says so.

use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, oneshot};

use crate::config::{ConfigError, Layered, Origin, Sources, save_page, set_page_value};
use crate::error::Error;

/// A request to the supervisor: put this configuration in force.
pub(super) struct Reload {
    pub layered: Layered,
    pub done: oneshot::Sender<Result<(), String>>,
}

/// Why a save did not happen.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    /// The agent was started with a configuration built in code (tests,
    /// benchmarks): there is no file to save to.
    #[error("these settings were given when the agent started and cannot be changed here")]
    Fixed,
    /// The value is refused: the message is the one the file would get.
    #[error(transparent)]
    Invalid(#[from] ConfigError),
    /// The value is set in the environment or by a flag, which win over
    /// the page.
    #[error("{path} is set by the {} and cannot be changed on the page", origin.label())]
    Locked { path: String, origin: Origin },
    /// Saved, but the new settings could not be put in force.
    #[error("the settings were saved but could not be put in force: {0}")]
    NotApplied(String),
}

/// What a save did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Saved {
    /// Nothing changed.
    Unchanged,
    /// In force now.
    Applied,
    /// Saved; in force after the agent restarts (named settings).
    RestartNeeded(Vec<String>),
}

/// Settings that the running agent cannot change without restarting.
const RESTART_KEYS: &[&str] = &["listen", "data_dir"];

/// The handle the page holds.
#[derive(Clone)]
pub struct Control {
    inner: Arc<Inner>,
}

struct Inner {
    sources: Option<Sources>,
    current: Mutex<Arc<Layered>>,
    /// What was in force when the process started (for "restart needed").
    started: Arc<Layered>,
    reload: mpsc::Sender<Reload>,
    /// One save at a time: two managers saving at once get one after the
    /// other, each validated against what the other saved.
    gate: tokio::sync::Mutex<()>,
}

impl Control {
    pub(super) fn new(
        sources: Option<Sources>,
        layered: Layered,
        reload: mpsc::Sender<Reload>,
    ) -> Control {
        let layered = Arc::new(layered);
        Control {
            inner: Arc::new(Inner {
                sources,
                current: Mutex::new(layered.clone()),
                started: layered,
                reload,
                gate: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// The settings in force and where each came from.
    pub fn current(&self) -> Arc<Layered> {
        self.inner
            .current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Whether the page can save settings (the agent was started from a
    /// file, the environment and flags, not from code).
    pub fn editable(&self) -> bool {
        self.inner.sources.is_some()
    }

    /// Checks `edits` (dotted key → value, `None` to fall back to the file
    /// or the default) against the one validation, without saving.
    pub fn check(&self, edits: &[(String, Option<toml::Value>)]) -> Result<Layered, SaveError> {
        let sources = self.inner.sources.as_ref().ok_or(SaveError::Fixed)?;
        let current = self.current();
        let mut page = current.page().clone();
        for (path, value) in edits {
            let origin = current.origin(path);
            if !origin.page_can_change() {
                return Err(SaveError::Locked {
                    path: path.clone(),
                    origin,
                });
            }
            set_page_value(&mut page, path, value.clone());
        }
        Ok(sources.load_with_page(page)?)
    }

    /// Validates `edits`, saves them atomically and puts them in force.
    pub async fn save(
        &self,
        edits: Vec<(String, Option<toml::Value>)>,
    ) -> Result<Saved, SaveError> {
        let _one_at_a_time = self.inner.gate.lock().await;
        let layered = self.check(&edits)?;
        if layered.page() == self.current().page() {
            return Ok(Saved::Unchanged);
        }
        let sources = self.inner.sources.as_ref().ok_or(SaveError::Fixed)?;
        let path = sources.page_path()?;
        let page = layered.page().clone();
        tokio::task::spawn_blocking(move || save_page(&path, &page))
            .await
            .map_err(|_| SaveError::NotApplied("the save was interrupted".to_owned()))??;
        let restart: Vec<String> = RESTART_KEYS
            .iter()
            .filter(|k| differs(&self.inner.started, &layered, k))
            .map(|k| (*k).to_owned())
            .collect();
        self.apply(layered).await.map_err(SaveError::NotApplied)?;
        Ok(if restart.is_empty() {
            Saved::Applied
        } else {
            Saved::RestartNeeded(restart)
        })
    }

    /// Loads every layer again (the file may have changed) and puts the
    /// result in force.
    pub async fn reload(&self) -> Result<(), Error> {
        let _one_at_a_time = self.inner.gate.lock().await;
        let Some(sources) = &self.inner.sources else {
            return Ok(());
        };
        let layered = sources.load()?;
        self.apply(layered).await.map_err(|reason| Error::Io {
            what: format!("cannot put the settings in force: {reason}"),
            source: std::io::Error::other("reload failed"),
        })
    }

    async fn apply(&self, layered: Layered) -> Result<(), String> {
        let (done, result) = oneshot::channel();
        let sent = self
            .inner
            .reload
            .send(Reload {
                layered: layered.clone(),
                done,
            })
            .await;
        if sent.is_err() {
            return Err("the agent is stopping".to_owned());
        }
        result
            .await
            .map_err(|_| "the agent is stopping".to_owned())??;
        *self.inner.current.lock().unwrap_or_else(|p| p.into_inner()) = Arc::new(layered);
        Ok(())
    }
}

fn differs(a: &Layered, b: &Layered, key: &str) -> bool {
    match key {
        "listen" => a.config.listen != b.config.listen,
        "data_dir" => a.config.data_dir != b.config.data_dir,
        _ => false,
    }
}
