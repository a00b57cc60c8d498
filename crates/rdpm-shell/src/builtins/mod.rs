//! The language's own cmdlets (`Where-Object`, `ForEach-Object`,
//! `Select-Object`, ...), one file each.
