mod api;
mod auth;
mod errors;
mod invariants;
mod locks;
mod pool;
mod protection;
mod support;
