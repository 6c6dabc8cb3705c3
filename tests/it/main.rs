//! One integration-test binary (see conventions: tests/it/main.rs).

mod adaptive;
mod api;
mod backoffice;
mod check;
mod cli;
mod common;
mod connection;
mod convergence;
mod delta;
mod full_pull;
mod lookups;
mod meta_mapping;
mod metrics;
mod outbox;
mod resume;
mod security;
mod shopify_cli;
mod shopify_pull;
mod sim_behaviour;
mod sim_client;
mod sim_fixtures;
mod sim_writes;
mod support;
mod upkeep;
mod webhooks;
