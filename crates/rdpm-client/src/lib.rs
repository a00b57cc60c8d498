//! rdpm-client
