//! rdpm-catalog
