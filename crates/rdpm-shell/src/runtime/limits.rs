//! Bounds on what one operation may allocate.
//!
//! PowerShell lets a script ask for a string or array larger than memory
//! (`'x' * 2147483647`) and reports the failed allocation as a
//! `System.OutOfMemoryException` the script can catch. rdpm refuses such
//! requests up front, before allocating, with the same catchable error, so
//! that one statement cannot take the whole shell (and its session's edit
//! locks) down.

use crate::error::{ErrorCategory, ErrorRecord};

/// The largest string an operation may build: 256 MiB of text.
pub(crate) const MAX_STRING_BYTES: usize = 256 << 20;

/// The most elements an operation may put in one array: the same bound
/// as the range operator's (`1..50000001` is "too large").
pub(crate) const MAX_ARRAY_ITEMS: usize = 50_000_000;

/// PowerShell's error for an allocation that cannot be satisfied.
pub(crate) fn out_of_memory() -> ErrorRecord {
    ErrorRecord::new(
        "Exception of type 'System.OutOfMemoryException' was thrown.",
        "System.OutOfMemoryException",
        ErrorCategory::OperationStopped,
    )
    .with_exception("OutOfMemoryException")
}

/// Refuses a string of `bytes` bytes (or an overflowing size, `None`).
pub(crate) fn check_string(bytes: Option<usize>) -> Result<usize, ErrorRecord> {
    match bytes {
        Some(n) if n <= MAX_STRING_BYTES => Ok(n),
        _ => Err(out_of_memory()),
    }
}

/// Refuses an array of `items` elements (or an overflowing size, `None`).
pub(crate) fn check_array(items: Option<usize>) -> Result<usize, ErrorRecord> {
    match items {
        Some(n) if n <= MAX_ARRAY_ITEMS => Ok(n),
        _ => Err(out_of_memory()),
    }
}
