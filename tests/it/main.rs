//! One integration-test binary (see conventions: tests/it/main.rs).

mod common;
mod outbox;
mod sim_behaviour;
mod sim_client;
mod sim_fixtures;
