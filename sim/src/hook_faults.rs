//! Unreliable webhook deliveries, the same for both simulated shops: a
//! delivery lost, sent twice, held back while later ones go on, or sent
//! after a later one. Each store keeps its own queue of deliveries and asks
//! [`WebhookFaults::draw`] which one goes next and what happens to it.

use std::time::Duration;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Injected delivery trouble; each probability is 0..=1 and drawn from the
/// sim's seed, so a seed replays the same trouble for the same sequence.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WebhookFaults {
    /// The delivery is never sent.
    pub loss: f64,
    /// The delivery is sent twice (same body, same delivery id).
    pub duplicate: f64,
    /// The delivery is held back for `delay_for`, while later ones go on.
    pub delay: f64,
    pub delay_for: Duration,
    /// A later pending delivery is sent before this one.
    pub reorder: f64,
}

/// What happens to one delivery, drawn when it is picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fate {
    pub lost: bool,
    pub duplicate: bool,
    pub delay: Option<Duration>,
}

impl WebhookFaults {
    /// Of `pending` queued deliveries (oldest first), the index of the one
    /// sent next (0 unless a reorder is drawn) and its fate. A probability
    /// of 0 draws nothing from `rng`.
    pub(crate) fn draw(&self, rng: &mut ChaCha8Rng, pending: usize) -> (usize, Fate) {
        let mut roll = |p: f64| p > 0.0 && rng.gen_bool(p.clamp(0.0, 1.0));
        let reorder = pending > 1 && roll(self.reorder);
        let index = if reorder {
            rng.gen_range(1..pending)
        } else {
            0
        };
        let mut roll = |p: f64| p > 0.0 && rng.gen_bool(p.clamp(0.0, 1.0));
        let fate = Fate {
            lost: roll(self.loss),
            duplicate: roll(self.duplicate),
            delay: roll(self.delay).then_some(self.delay_for),
        };
        (index, fate)
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn no_faults_send_the_oldest_as_it_is_and_draw_nothing() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let before = rng.clone();
        let (index, fate) = WebhookFaults::default().draw(&mut rng, 5);
        assert_eq!(index, 0);
        assert_eq!(
            fate,
            Fate {
                lost: false,
                duplicate: false,
                delay: None
            }
        );
        assert_eq!(rng, before, "nothing drawn");
    }

    #[test]
    fn certain_faults_always_happen_and_a_reorder_picks_a_later_one() {
        let faults = WebhookFaults {
            loss: 1.0,
            duplicate: 1.0,
            delay: 1.0,
            delay_for: Duration::from_millis(7),
            reorder: 1.0,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for _ in 0..50 {
            let (index, fate) = faults.draw(&mut rng, 4);
            assert!((1..4).contains(&index), "{index}");
            assert!(fate.lost && fate.duplicate);
            assert_eq!(fate.delay, Some(Duration::from_millis(7)));
        }
        // One pending: nothing to put before it.
        assert_eq!(faults.draw(&mut rng, 1).0, 0);
    }
}
