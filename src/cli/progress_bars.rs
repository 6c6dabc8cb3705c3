//! Per-resource progress of a full pull on the terminal (indicatif), or one
//! line per finished resource when stderr is not a terminal.

use std::collections::{HashMap, HashSet};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use tokio::sync::watch;

use crate::domain::Resource;
use crate::sync::progress::{PullProgress, StepState};

fn new_bar(resource: Resource) -> ProgressBar {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{prefix:>17} [{bar:32}] {pos:>7}/{len:<7} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix(resource.as_str());
    bar
}

/// Follows `rx` until its sender is dropped.
pub async fn follow(mut rx: watch::Receiver<PullProgress>, show_bars: bool) {
    let multi = MultiProgress::new();
    let mut bars: HashMap<Resource, ProgressBar> = HashMap::new();
    let mut reported: HashSet<Resource> = HashSet::new();
    loop {
        let progress = rx.borrow_and_update().clone();
        for r in &progress.resources {
            if r.state == StepState::Pending {
                continue;
            }
            if show_bars {
                let bar = bars
                    .entry(r.resource)
                    .or_insert_with(|| multi.add(new_bar(r.resource)));
                if bar.is_finished() {
                    continue;
                }
                bar.set_length(r.items_total.unwrap_or(r.items_done).max(r.items_done));
                bar.set_position(r.items_done);
                match r.state {
                    StepState::Done => bar.finish_with_message(match &r.message {
                        Some(m) => format!("done · {m}"),
                        None => "done".to_owned(),
                    }),
                    StepState::Failed => bar.abandon_with_message(format!(
                        "failed: {}",
                        r.message.as_deref().unwrap_or("")
                    )),
                    _ => {}
                }
            } else if matches!(r.state, StepState::Done | StepState::Failed)
                && reported.insert(r.resource)
            {
                let outcome = match r.state {
                    StepState::Done => "done",
                    _ => "failed",
                };
                eprintln!(
                    "{}: {} items, {outcome}{}",
                    r.resource,
                    r.items_done,
                    r.message
                        .as_deref()
                        .map(|m| format!(": {m}"))
                        .unwrap_or_default()
                );
            }
        }
        if rx.changed().await.is_err() {
            break;
        }
    }
}
