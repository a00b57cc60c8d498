//! rdpm-server
