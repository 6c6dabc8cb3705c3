//! Behaviour of the simulated store.
