//! The full pull's request slots (`sync.concurrency`), shared by every
//! resource pulled at once, with two priorities: the catalog (and the
//! store's metadata) first, customers and orders in the slots it leaves
//! free. On a large shop the catalog keeps every slot busy and the till
//! can sell from it sooner; on a small one its few requests leave slots
//! idle, and customers and orders use them instead of waiting their turn.

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{Notify, Semaphore, SemaphorePermit};

/// Who asks for a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// Served first, in the order asked.
    First,
    /// Served only while nothing of [`Priority::First`] waits.
    Spare,
}

/// A fixed number of request slots with two priorities.
pub struct Slots {
    permits: Semaphore,
    /// `First` requests waiting for a permit.
    first_waiting: AtomicUsize,
    /// Wakes `Spare` requests when a permit is given back or the last
    /// `First` waiter is served.
    freed: Notify,
}

/// A slot, held for one request; given back on drop.
pub struct Slot<'a> {
    permit: Option<SemaphorePermit<'a>>,
    freed: &'a Notify,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        drop(self.permit.take());
        self.freed.notify_waiters();
    }
}

/// Counts a `First` waiter for as long as it waits (also when its future
/// is dropped while waiting).
struct Waiting<'a>(&'a Slots);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if self.0.first_waiting.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.freed.notify_waiters();
        }
    }
}

impl Slots {
    pub fn new(n: usize) -> Self {
        Slots {
            permits: Semaphore::new(n.max(1)),
            first_waiting: AtomicUsize::new(0),
            freed: Notify::new(),
        }
    }

    /// A slot once one is free for `priority`.
    pub async fn acquire(&self, priority: Priority) -> Slot<'_> {
        let permit = match priority {
            Priority::First => {
                self.first_waiting.fetch_add(1, Ordering::AcqRel);
                let _waiting = Waiting(self);
                // Never closed: the semaphore lives as long as the slots.
                self.permits.acquire().await.ok()
            }
            Priority::Spare => loop {
                let freed = self.freed.notified();
                tokio::pin!(freed);
                freed.as_mut().enable();
                // A permit given back goes to a waiting `First` request
                // before `try_acquire` can see it (the semaphore is fair).
                if self.first_waiting.load(Ordering::Acquire) == 0
                    && let Ok(permit) = self.permits.try_acquire()
                {
                    break Some(permit);
                }
                freed.await;
            },
        };
        Slot {
            permit,
            freed: &self.freed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn spare_requests_take_only_the_slots_left_idle() {
        let slots = Slots::new(2);
        let a = slots.acquire(Priority::First).await;
        // One slot idle: a spare request takes it at once.
        let spare = slots.acquire(Priority::Spare).await;
        drop(spare);
        let _b = slots.acquire(Priority::First).await;
        // Both busy: a first and a spare request wait; the slot given back
        // goes to the first one.
        let mut first = Box::pin(slots.acquire(Priority::First));
        let mut spare = Box::pin(slots.acquire(Priority::Spare));
        assert!(futures::poll!(first.as_mut()).is_pending());
        assert!(futures::poll!(spare.as_mut()).is_pending());
        drop(a);
        assert!(
            futures::poll!(spare.as_mut()).is_pending(),
            "first goes first"
        );
        let c = first.await;
        assert!(
            futures::poll!(spare.as_mut()).is_pending(),
            "still none free"
        );
        drop(c);
        let _spare = spare.await;
    }

    #[tokio::test]
    async fn a_first_request_dropped_while_waiting_lets_spare_ones_go() {
        let slots = Slots::new(1);
        let held = slots.acquire(Priority::First).await;
        let mut first = Box::pin(slots.acquire(Priority::First));
        assert!(futures::poll!(first.as_mut()).is_pending());
        let mut spare = Box::pin(slots.acquire(Priority::Spare));
        assert!(futures::poll!(spare.as_mut()).is_pending());
        drop(first);
        drop(held);
        let _spare = spare.await;
    }
}
