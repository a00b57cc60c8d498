mod api;
mod auth;
mod errors;
mod invariants;
mod locks;
mod protection;
mod support;
