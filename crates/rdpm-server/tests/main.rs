//! End-to-end tests of the rdpm server: the real server on an ephemeral
//! loopback port with a temporary data directory, driven over HTTP.

#![allow(clippy::unwrap_used)]

mod server;
