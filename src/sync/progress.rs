//! Progress of a full pull, published on a `watch` channel for the status
//! page, the terminal progress bars and tests (which wait on it rather than
//! sleeping).

use serde::Serialize;
use tokio::sync::watch;

use crate::domain::Resource;
use crate::domain::time::unix_millis_now;

/// Where a pull as a whole stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PullState {
    /// No pull has run since the agent started.
    #[default]
    Idle,
    Running,
    /// Every resource was pulled.
    Completed,
    /// At least one resource failed; the others may have been pulled.
    Failed,
    /// Stopped by shutdown; it resumes next time.
    Cancelled,
}

/// Where one resource stands within a pull.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    Pending,
    Running,
    Done,
    Failed,
}

/// Progress of one resource.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ResourceProgress {
    pub resource: Resource,
    pub state: StepState,
    pub pages_done: u64,
    pub pages_total: Option<u64>,
    pub items_done: u64,
    pub items_total: Option<u64>,
    /// Rows removed at the end because the store no longer has them.
    pub removed: u64,
    /// A warning or the error that stopped it.
    pub message: Option<String>,
    /// When its first page was asked for (unix ms): with `items_done`, the
    /// page's rate and time left.
    pub started_at: Option<i64>,
}

/// Progress of the whole pull.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct PullProgress {
    pub state: PullState,
    /// Unix ms.
    pub started_at: Option<i64>,
    /// Unix ms.
    pub finished_at: Option<i64>,
    pub resources: Vec<ResourceProgress>,
    pub error: Option<String>,
}

impl PullProgress {
    /// A pull about to run over `resources`.
    pub fn starting(resources: &[Resource]) -> Self {
        PullProgress {
            state: PullState::Running,
            started_at: Some(unix_millis_now()),
            finished_at: None,
            resources: resources
                .iter()
                .map(|&resource| ResourceProgress {
                    resource,
                    state: StepState::Pending,
                    pages_done: 0,
                    pages_total: None,
                    items_done: 0,
                    items_total: None,
                    removed: 0,
                    message: None,
                    started_at: None,
                })
                .collect(),
            error: None,
        }
    }

    /// The entry of `resource`.
    pub fn resource(&self, resource: Resource) -> Option<&ResourceProgress> {
        self.resources.iter().find(|r| r.resource == resource)
    }
}

/// The sending side, shared by the pull and whoever owns the channel.
pub type ProgressTx = watch::Sender<PullProgress>;

/// Updates the entry of `resource`.
pub fn update(tx: &ProgressTx, resource: Resource, f: impl FnOnce(&mut ResourceProgress)) {
    tx.send_modify(|p| {
        if let Some(r) = p.resources.iter_mut().find(|r| r.resource == resource) {
            f(r);
        }
    });
}
