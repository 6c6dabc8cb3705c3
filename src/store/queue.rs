//! The writer thread's job queue, with two lanes: urgent jobs (what a
//! cashier waits on: a sale, a return, a new customer) run before queued
//! bulk work (pull pages, polls, applied webhooks), so they wait at most for
//! the one transaction in progress.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex};

use rusqlite::Connection;

pub(super) type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// Which lane a job joins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Behind everything queued.
    Normal,
    /// Ahead of normal jobs (behind other urgent ones).
    Urgent,
}

#[derive(Default)]
struct Lanes {
    urgent: VecDeque<Job>,
    normal: VecDeque<Job>,
    closed: bool,
}

#[derive(Default)]
pub(super) struct Queue {
    lanes: Mutex<Lanes>,
    ready: Condvar,
}

impl Queue {
    /// Adds a job; `false` once closed.
    pub(super) fn push(&self, lane: Lane, job: Job) -> bool {
        let Ok(mut l) = self.lanes.lock() else {
            return false;
        };
        if l.closed {
            return false;
        }
        match lane {
            Lane::Urgent => l.urgent.push_back(job),
            Lane::Normal => l.normal.push_back(job),
        }
        drop(l);
        self.ready.notify_one();
        true
    }

    /// The next job, urgent first; `None` once closed and empty.
    pub(super) fn pop(&self) -> Option<Job> {
        let mut l = self.lanes.lock().ok()?;
        loop {
            if let Some(job) = l.urgent.pop_front().or_else(|| l.normal.pop_front()) {
                return Some(job);
            }
            if l.closed {
                return None;
            }
            l = self.ready.wait(l).ok()?;
        }
    }

    /// No new jobs; the writer finishes those queued and stops.
    pub(super) fn close(&self) {
        if let Ok(mut l) = self.lanes.lock() {
            l.closed = true;
        }
        self.ready.notify_all();
    }
}
