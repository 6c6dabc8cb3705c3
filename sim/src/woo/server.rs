//! The shop's web server as a capacity: a real WooCommerce host runs a
//! handful of PHP workers, each serving one request at a time; requests
//! beyond them wait in the server's queue, and the shop's own shoppers'
//! pages wait in the same queue as the REST API's pages.
//!
//! [`ServerModel`] gives the sim `workers` (0 = as many as asked) and the
//! time one request holds a worker: `service` for a REST request,
//! `front_page` for `GET /`, the storefront a probe fetches to measure what
//! a shopper waits. The network's own delay is `FaultConfig::latency`, on
//! top. [`ServerStats`] reports how deep the queue got.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::Semaphore;

/// How many requests the shop serves at once and how long each takes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerModel {
    /// Requests served at once; 0 = unlimited (no queue).
    pub workers: usize,
    /// Time a REST request holds a worker.
    pub service: Duration,
    /// Time the storefront page (`GET /`) holds a worker.
    pub front_page: Duration,
}

/// What the server's queue went through since the sim started (or the
/// last reset).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ServerStats {
    /// Requests served by a worker.
    pub served: u64,
    /// Most requests waiting for a worker at once.
    pub peak_queued: usize,
    /// Mean time a request waited for a worker, in milliseconds.
    pub mean_wait_ms: f64,
    /// Longest wait for a worker, in milliseconds.
    pub max_wait_ms: f64,
}

#[derive(Default)]
struct Tally {
    served: u64,
    queued: usize,
    peak_queued: usize,
    wait_total: Duration,
    wait_max: Duration,
}

/// The workers of a running sim.
pub(crate) struct Server {
    model: Mutex<ServerModel>,
    workers: Mutex<Option<std::sync::Arc<Semaphore>>>,
    tally: Mutex<Tally>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Server {
    pub(crate) fn new(model: ServerModel) -> Self {
        let server = Server {
            model: Mutex::new(ServerModel::default()),
            workers: Mutex::new(None),
            tally: Mutex::new(Tally::default()),
        };
        server.set(model);
        server
    }

    /// Changes the model for requests that arrive from now on.
    pub(crate) fn set(&self, model: ServerModel) {
        *lock(&self.workers) =
            (model.workers > 0).then(|| std::sync::Arc::new(Semaphore::new(model.workers)));
        *lock(&self.model) = model;
    }

    pub(crate) fn stats(&self) -> ServerStats {
        let t = lock(&self.tally);
        ServerStats {
            served: t.served,
            peak_queued: t.peak_queued,
            mean_wait_ms: if t.served == 0 {
                0.0
            } else {
                t.wait_total.as_secs_f64() * 1000.0 / t.served as f64
            },
            max_wait_ms: t.wait_max.as_secs_f64() * 1000.0,
        }
    }

    pub(crate) fn reset_stats(&self) {
        let mut t = lock(&self.tally);
        let queued = t.queued;
        *t = Tally {
            queued,
            ..Tally::default()
        };
    }

    /// Runs `serve` on a worker, after waiting for one, and holds it for the
    /// request's service time.
    pub(crate) async fn run<T>(&self, front_page: bool, serve: impl FnOnce() -> T) -> T {
        let (workers, hold) = {
            let m = lock(&self.model);
            (
                lock(&self.workers).clone(),
                if front_page { m.front_page } else { m.service },
            )
        };
        let arrived = Instant::now();
        let permit = match &workers {
            None => None,
            Some(w) => match w.clone().try_acquire_owned() {
                Ok(p) => Some(p),
                Err(_) => {
                    {
                        let mut t = lock(&self.tally);
                        t.queued += 1;
                        t.peak_queued = t.peak_queued.max(t.queued);
                    }
                    let p = w.clone().acquire_owned().await.ok();
                    let mut t = lock(&self.tally);
                    t.queued = t.queued.saturating_sub(1);
                    p
                }
            },
        };
        let waited = arrived.elapsed();
        {
            let mut t = lock(&self.tally);
            t.served += 1;
            t.wait_total += waited;
            t.wait_max = t.wait_max.max(waited);
        }
        let out = serve();
        if !hold.is_zero() {
            tokio::time::sleep(hold).await;
        }
        drop(permit);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn requests_beyond_the_workers_wait_for_one() {
        let server = Arc::new(Server::new(ServerModel {
            workers: 2,
            service: Duration::from_millis(50),
            front_page: Duration::from_millis(10),
        }));
        let started = Instant::now();
        let tasks: Vec<_> = (0..5)
            .map(|_| {
                let s = server.clone();
                tokio::spawn(async move { s.run(false, || ()).await })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        // Five requests on two workers: three rounds of 50 ms at least.
        assert!(started.elapsed() >= Duration::from_millis(150));
        let stats = server.stats();
        assert_eq!(stats.served, 5);
        assert_eq!(stats.peak_queued, 3);
        assert!(stats.max_wait_ms >= 100.0, "{stats:?}");
    }

    #[tokio::test]
    async fn no_workers_means_no_queue() {
        let server = Server::new(ServerModel {
            workers: 0,
            service: Duration::from_millis(20),
            front_page: Duration::ZERO,
        });
        futures::future::join_all((0..10).map(|_| server.run(false, || ()))).await;
        let stats = server.stats();
        assert_eq!((stats.served, stats.peak_queued), (10, 0));
    }
}
