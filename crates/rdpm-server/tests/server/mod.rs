mod api;
mod auth;
mod errors;
mod invariants;
mod support;
