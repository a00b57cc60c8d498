//! The rdpm server's domain, apart from its HTTP API: production servers
//! and protection groups ([`protection`]), the storage pool ([`pool`]),
//! jobs and their kinds ([`jobs`]), schedules ([`scheduler`]), retention
//! ([`maintenance`]), recovery ([`recovery`]), alerts and the conditions
//! that raise them ([`alerts`], [`conditions`]), their delivery
//! ([`notify`]), server-wide settings and the secrets among them
//! ([`settings`], [`secrets`]), the agent that reaches production servers
//! ([`agent`]) and the clock ([`clock`]).
//!
//! Calls block (the server runs them off its executor) and fail with an
//! [`EngineError`]: a stable id, a kind and the message the user sees. The
//! server turns that into its answer; nothing here knows HTTP. Whatever
//! the engine needs from the server (told of a session's expiry, posting a
//! webhook) it asks through a trait it defines and the server installs.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod access;
pub mod agent;
pub mod alerts;
pub mod api_tokens;
pub mod clock;
pub mod conditions;
pub mod error;
pub mod fleet;
pub mod hex;
pub mod job_query;
pub mod jobs;
pub mod maintenance;
pub mod notify;
pub mod pool;
pub mod protection;
pub mod recovery;
pub mod roles;
pub mod scheduler;
pub mod secret_file;
pub mod secrets;
mod services;
pub mod settings;
pub mod text;
pub mod users;

pub use error::{EngineError, ErrorKind, StartError};
pub use services::{Engine, EngineConfig};
