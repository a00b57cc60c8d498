//! rdpm-testkit
