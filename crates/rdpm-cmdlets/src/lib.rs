//! rdpm-cmdlets
