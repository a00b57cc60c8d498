//! End-to-end tests: the real `rdpm server` on an ephemeral loopback port
//! with a temporary data directory, driven through the real shell.

mod alerts;
mod api_tokens;
mod attach_keys;
mod audit;
mod backup_safety;
mod cli;
mod connect;
mod connections;
mod consistency;
mod credentials;
mod data_dir;
mod datasources;
mod disconnect;
mod examples;
mod fleet;
mod global_properties;
mod interactive;
mod jobs;
mod network;
mod protection_groups;
mod readme;
mod recover;
mod recovery_roles;
mod roles;
mod sessions;
mod storage_pool;
mod streaming;
mod support;
mod tls;
mod unattended;
mod users;
