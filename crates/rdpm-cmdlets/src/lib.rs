//! The DPM cmdlets of rdpm over [`rdpm_client`], grouped by noun: one
//! folder per API area, with its cmdlets and the objects they return.
//!
//! Each cmdlet declares its signature once as data (see
//! [`rdpm_shell::Signature`]); [`register`] adds them all to a shell's
//! command registry. The shell's DPM connections (one per server name,
//! opened by `Connect-DPMServer` or implicitly) live in
//! [`connection::DpmConnections`], a shell extension.
//!
//! ```
//! let mut registry = rdpm_shell::Registry::new();
//! rdpm_cmdlets::register(&mut registry);
//! assert!(registry.get("disconnect-dpmserver").is_some());
//! ```

pub mod cmdlet;
pub mod config;
pub mod connection;
pub mod objects;
pub mod params;
pub mod trust;

pub mod alerts;
pub mod audit;
pub mod jobs;
pub mod production;
pub mod protection;
pub mod recovery;
pub mod roles;
pub mod session;
pub mod settings;
pub mod storage;
pub mod tokens;

use rdpm_shell::{ModuleInfo, Registry};

pub use alerts::*;
pub use audit::*;
pub use jobs::*;
pub use production::*;
pub use protection::*;
pub use recovery::*;
pub use roles::*;
pub use session::*;
pub use settings::*;
pub use storage::*;
pub use tokens::*;

/// The module name `Get-Command` shows for DPM cmdlets.
pub const DPM_MODULE: &str = "DataProtectionManager";

/// The `<CommonParameters>` sentence of the DPM 2016 help files, which
/// `Get-Help` shows for DPM cmdlets.
pub const COMMON_PARAMETERS_HELP: &str = "This cmdlet supports the common parameters: -Debug, -ErrorAction, -ErrorVariable, -InformationAction, -InformationVariable, -OutVariable, -OutBuffer, -PipelineVariable, -Verbose, -WarningAction, and -WarningVariable. For more information, see about_CommonParameters (http://go.microsoft.com/fwlink/?LinkID=113216).";

/// The aliases DPM gives `-DPMServerName`.
pub const SERVER_NAME_ALIASES: &[&str] = &["ComputerName", "CN"];

/// Adds every DPM cmdlet to `registry`, the default views of the objects
/// they return, and the module's help texts.
pub fn register(registry: &mut Registry) {
    registry.add_module(ModuleInfo {
        name: DPM_MODULE,
        common_parameters_help: Some(COMMON_PARAMETERS_HELP),
    });
    register_sessions(registry);
    register_datasources(registry);
    register_protection_groups(registry);
    register_storage_pool(registry);
    register_jobs(registry);
    register_recovery(registry);
    register_alerts(registry);
    register_global_properties(registry);
    register_audit(registry);
    register_roles(registry);
    register_api_tokens(registry);
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use rdpm_shell::Registry;

    use crate::params::{
        ASYNC, DATASOURCE, DPM_ROLE, DPM_SERVER_NAME, JOB, PASS_THRU, PROTECTION_GROUP,
    };

    /// The shared parameter constants a cmdlet's `mod p` may re-export.
    const SHARED: &[(&str, crate::cmdlet::Param)] = &[
        ("ASYNC", ASYNC),
        ("DATASOURCE", DATASOURCE),
        ("DPM_ROLE", DPM_ROLE),
        ("DPM_SERVER_NAME", DPM_SERVER_NAME),
        ("JOB", JOB),
        ("PASS_THRU", PASS_THRU),
        ("PROTECTION_GROUP", PROTECTION_GROUP),
    ];

    /// The shared helpers that read parameters themselves, and what they
    /// read.
    const HELPERS: &[(&str, &[crate::cmdlet::Param])] = &[
        ("get_and_write(", &[DPM_SERVER_NAME]),
        ("editable_group(", &[PROTECTION_GROUP]),
        ("bound_group(", &[PROTECTION_GROUP]),
        ("change_draft(", &[PASS_THRU]),
        ("change_schedule(", &[PROTECTION_GROUP, PASS_THRU]),
        ("pass_thru(", &[PASS_THRU]),
        ("for_each_job(", &[JOB]),
        ("bound_role(", &[DPM_ROLE]),
        ("change_role(", &[DPM_ROLE]),
    ];

    /// The parameter names a cmdlet's source can read: the constants of its
    /// `mod p`, and those the shared helpers it calls read.
    fn names_read(source: &str) -> Vec<String> {
        let mut names: Vec<String> = HELPERS
            .iter()
            .filter(|(call, _)| source.contains(call))
            .flat_map(|(_, reads)| reads.iter().map(|p| p.name().to_string()))
            .collect();
        let Some(start) = source.find("\nmod p {") else {
            return names;
        };
        let body = &source[start..];
        let body = &body[..body.find("\n}\n").expect("mod p ends")];
        let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
        for item in flat.split(';') {
            if let Some(at) = item.find("Param::new(\"") {
                let rest = &item[at + "Param::new(\"".len()..];
                names.push(rest[..rest.find('"').expect("a closing quote")].to_string());
            } else if let Some(at) = item.find("pub use crate::params::") {
                let list = item[at + "pub use crate::params::".len()..]
                    .trim_matches(|c| c == '{' || c == '}' || c == ' ');
                for ident in list.split(',').map(str::trim) {
                    let (_, p) = SHARED
                        .iter()
                        .find(|(n, _)| *n == ident)
                        .unwrap_or_else(|| panic!("{ident} is not a shared parameter"));
                    names.push(p.name().to_string());
                }
            }
        }
        names
    }

    /// Every parameter a cmdlet reads (each is a constant of its `mod p`,
    /// or read for it by a shared helper) is one its signature declares, so
    /// a misspelt name fails here.
    #[test]
    fn every_parameter_a_cmdlet_reads_is_declared() {
        let mut registry = Registry::new();
        crate::register(&mut registry);
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut cmdlets = 0;
        for noun in std::fs::read_dir(&src).expect("src lists") {
            let noun = noun.expect("an entry").path();
            if !noun.is_dir() {
                continue;
            }
            for file in std::fs::read_dir(&noun).expect("a noun folder lists") {
                let file = file.expect("an entry").path();
                let stem = file
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .expect("a file name")
                    .to_string();
                if !stem.contains("_dpm_") {
                    continue;
                }
                let name = stem.replace('_', "");
                let cmd = registry
                    .iter()
                    .find(|c| {
                        c.signature()
                            .name
                            .replace('-', "")
                            .eq_ignore_ascii_case(&name)
                    })
                    .unwrap_or_else(|| panic!("{} registers no cmdlet", file.display()));
                let sig = cmd.signature();
                let source = std::fs::read_to_string(&file).expect("the source reads");
                for read in names_read(&source) {
                    assert!(
                        sig.parameters
                            .iter()
                            .any(|d| d.name.eq_ignore_ascii_case(&read)),
                        "{} reads -{read}, which its signature does not declare",
                        sig.name
                    );
                }
                cmdlets += 1;
            }
        }
        assert_eq!(cmdlets, registry.iter().count(), "one file per cmdlet");
    }
}
