//! Output formatting: what `Out-Default` prints (tables, lists, scalars),
//! error records in the Windows PowerShell 5.1 `NormalView`, and JSON.
