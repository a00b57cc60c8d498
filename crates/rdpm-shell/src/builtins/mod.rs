//! The language's own cmdlets (`Where-Object`, `ForEach-Object`,
//! `Select-Object`, ...), one file each. [`register`] adds them to a
//! [`Registry`], [`register_runtime_commands`] the ones over the session's
//! own state (variables, clock, progress).
//!
//! ```
//! let mut reg = rdpm_shell::Registry::new();
//! rdpm_shell::builtins::register(&mut reg);
//! assert_eq!(reg.get("?").map(|c| c.signature().name), Some("Where-Object"));
//! ```

use std::rc::Rc;

use crate::registry::Registry;

pub(crate) mod builtin;
pub(crate) mod convertfrom_securestring;
pub(crate) mod convertto_json;
pub(crate) mod convertto_securestring;
pub(crate) mod foreach_object;
pub(crate) mod format_list;
pub(crate) mod format_table;
pub(crate) mod get_command;
pub(crate) mod get_credential;
pub(crate) mod get_date;
pub(crate) mod get_help;
pub(crate) mod get_variable;
pub(crate) mod measure_object;
pub(crate) mod new_object;
pub(crate) mod out_default;
pub(crate) mod out_null;
pub(crate) mod out_string;
pub(crate) mod select_object;
pub(crate) mod set_variable;
pub(crate) mod sort_object;
pub(crate) mod start_sleep;
pub(crate) mod stream_message;
pub(crate) mod support;
pub(crate) mod where_object;
pub(crate) mod write_debug;
pub(crate) mod write_error;
pub(crate) mod write_host;
pub(crate) mod write_information;
pub(crate) mod write_output;
pub(crate) mod write_progress;
pub(crate) mod write_verbose;
pub(crate) mod write_warning;

#[cfg(test)]
pub(crate) mod testing;

/// Adds every builtin cmdlet (and its aliases) to `reg`.
pub fn register(reg: &mut Registry) {
    reg.add(Rc::new(where_object::command()));
    reg.add(Rc::new(foreach_object::command()));
    reg.add(Rc::new(select_object::command()));
    reg.add(Rc::new(sort_object::command()));
    reg.add(Rc::new(measure_object::command()));
    reg.add(Rc::new(format_table::command()));
    reg.add(Rc::new(format_list::command()));
    reg.add(Rc::new(convertto_json::command()));
    reg.add(Rc::new(write_output::command()));
    reg.add(Rc::new(write_host::command()));
    reg.add(Rc::new(write_verbose::command()));
    reg.add(Rc::new(write_warning::command()));
    reg.add(Rc::new(write_debug::command()));
    reg.add(Rc::new(write_information::command()));
    reg.add(Rc::new(write_error::command()));
    reg.add(Rc::new(out_null::command()));
    reg.add(Rc::new(out_string::command()));
    reg.add(Rc::new(out_default::command()));
    reg.add(Rc::new(get_help::command()));
    reg.add(Rc::new(get_command::command()));
    reg.add(Rc::new(new_object::command()));
    reg.add(Rc::new(convertto_securestring::command()));
    reg.add(Rc::new(convertfrom_securestring::command()));
    reg.add(Rc::new(get_credential::command()));
    get_command::register_views(reg);
}

/// Adds the cmdlets over the session itself: its variables (`Get-Variable`,
/// `Set-Variable`), its clock (`Get-Date`, `Start-Sleep`) and its host's
/// progress display (`Write-Progress`).
pub fn register_runtime_commands(reg: &mut Registry) {
    reg.add(Rc::new(start_sleep::command()));
    reg.add(Rc::new(get_date::command()));
    reg.add(Rc::new(write_progress::command()));
    reg.add(Rc::new(get_variable::command()));
    reg.add(Rc::new(set_variable::command()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_and_alias_resolves() {
        let mut reg = Registry::new();
        register(&mut reg);
        let cases = [
            ("?", "Where-Object"),
            ("where", "Where-Object"),
            ("%", "ForEach-Object"),
            ("foreach", "ForEach-Object"),
            ("select", "Select-Object"),
            ("sort", "Sort-Object"),
            ("measure", "Measure-Object"),
            ("ft", "Format-Table"),
            ("fl", "Format-List"),
            ("echo", "Write-Output"),
            ("write", "Write-Output"),
            ("convertto-json", "ConvertTo-Json"),
            ("Write-Host", "Write-Host"),
            ("write-verbose", "Write-Verbose"),
            ("Write-Warning", "Write-Warning"),
            ("Write-Debug", "Write-Debug"),
            ("Write-Information", "Write-Information"),
            ("Write-Error", "Write-Error"),
            ("Out-Null", "Out-Null"),
            ("Out-String", "Out-String"),
            ("Out-Default", "Out-Default"),
            ("New-Object", "New-Object"),
            ("ConvertTo-SecureString", "ConvertTo-SecureString"),
            ("ConvertFrom-SecureString", "ConvertFrom-SecureString"),
            ("Get-Credential", "Get-Credential"),
        ];
        for (name, want) in cases {
            assert_eq!(
                reg.get(name).map(|c| c.signature().name),
                Some(want),
                "{name}"
            );
        }
        for cmd in reg.iter() {
            let sig = cmd.signature();
            assert!(
                sig.type_name.starts_with("Microsoft.PowerShell.Commands."),
                "{}",
                sig.name
            );
            assert!(
                sig.module == "Microsoft.PowerShell.Core"
                    || sig.module == "Microsoft.PowerShell.Utility"
                    || sig.module == "Microsoft.PowerShell.Security",
                "{}",
                sig.name
            );
            assert!(
                !sig.synopsis.is_empty() && !sig.examples.is_empty(),
                "{}",
                sig.name
            );
            for p in &sig.parameters {
                assert!(!p.help.is_empty(), "{} -{}", sig.name, p.name);
            }
        }
    }
}
