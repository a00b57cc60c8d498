//! `New-DPMServerScope`: creates a server scope in the connection's session.

use rdpm_shell::signature::{Example, ALL_PARAMETER_SETS};
use rdpm_shell::value::EnumType;
use rdpm_shell::{CommandContext, FlowResult, ParamType, Value};
use rdpm_types::{NewServerScope, ScopedObjectType};

use crate::cmdlet::{signature, Args, Cmdlet, Param};
use crate::connection::connections;
use crate::session::objects::dpm_server_scope;

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub use crate::params::DPM_SERVER_NAME;
    pub const ALERT_TYPE: Param = Param::new("AlertType");
    pub const DETAILED_ERROR_ID: Param = Param::new("DetailedErrorId");
    pub const ERROR_ID: Param = Param::new("ErrorId");
    pub const OBJECT_ID: Param = Param::new("ObjectId");
    pub const OBJECT_TYPE: Param = Param::new("ObjectType");
}

/// DPM's `ScopedObjectType`.
pub static SCOPED_OBJECT_TYPE: EnumType = EnumType {
    full_name: "Rdpm.ScopedObjectType",
    name: "ScopedObjectType",
    values: &[
        ("DpmServer", 0),
        ("Datasource", 1),
        ("ProtectionGroup", 2),
        ("ProductionServer", 3),
        ("Disk", 4),
        ("Volume", 5),
        ("Library", 6),
        ("Drive", 7),
        ("AdhocAction", 8),
    ],
};

/// DPM's `AlertEnum`, in DPM's order.
pub static ALERT_ENUM: EnumType = EnumType {
    full_name: "Rdpm.AlertEnum",
    name: "AlertEnum",
    values: &[
        ("NullType", 0),
        ("AgentIncompatibleAlert", 1),
        ("AgentUnreachableAlert", 2),
        ("MediaVerificationFailedAlert", 3),
        ("MediaEraseFailedAlert", 4),
        ("DetailedInventoryFailedAlert", 5),
        ("MediaDecommissionedAlert", 6),
        ("MediaDataEraseAlert", 7),
        ("FreeMediaThresholdAlert", 8),
        ("DataSetCopyFailedAlert", 9),
        ("BackupToTapeFailedAlert", 10),
        ("BackupToTapeCatalogFailedAlert", 11),
        ("LibraryDriveAlert", 12),
        ("LibraryNotAvailableAlert", 13),
        ("LibraryNotWorkingEfficientlyAlert", 14),
        ("MediaRequiredAlert", 15),
        ("ReplicaInitializationInProgressAlert", 16),
        ("SynchronizationFailedAlert", 17),
        ("StopProtectionFailedAlert", 18),
        ("RecoveryInProgressAlert", 19),
        ("RecoveryPartiallySuccessfulAlert", 20),
        ("RecoverySuccessfulAlert", 21),
        ("RecoveryFailedAlert", 22),
        ("ShadowCopyFailedAlert", 23),
        ("ReplicaInMissingStateAlert", 24),
        ("ReplicaInInvalidStateAlert", 25),
        ("PartialDeployedClusterAlert", 26),
        ("AgentTaskFailAlert", 27),
        ("SqmOptInAlert", 28),
        ("DiskThresholdCrossedAlert", 29),
        ("VerificationInProgressAlert", 30),
        ("DiskMissingAlert", 31),
        ("CatalogThresholdCrossedAlert", 32),
        ("DatasetDataVerificationFailed", 33),
        ("SCDiskThresholdCrossedAlert", 34),
        ("ConfigureProtectionFailedAlert", 35),
        ("ReplicaManualLoadPendingAlert", 36),
        ("ReplicaInitializationPendingAlert", 37),
        ("CertificateExpiringAlert", 38),
        ("EvalShareInquiryAlert", 39),
        ("ShadowCopyConsolidationRequired", 40),
        ("PathChangedForShareAlert", 41),
        ("BackupMetadataEnumerationFailedAlert", 42),
        ("DuplicateDisksDetectedAlert", 43),
        ("DataCorruptionDetectedAlert", 44),
        ("DataCorruptionDetectedDuringReadAlert", 45),
        ("StagingAreaRestoreInProgressAlert", 46),
        ("StagingAreaRestorePartiallySuccessfulAlert", 47),
        ("StagingAreaRestoreSuccessfulAlert", 48),
        ("StagingAreaRestoreFailedAlert", 49),
        ("AgentOwnershipRequiredAlert", 50),
        ("AutoInstanceProtectionFailedAlert", 51),
        ("AgentAttachFailedAlert", 52),
        ("BackupSLAFailedAlert", 53),
        ("DpmoRPCreationFailureAlert", 54),
        ("DOCVolumeMissing", 55),
        ("SharepointROAddedAlert", 56),
        ("SharepointRORemovedAlert", 57),
        ("PartialBackupSuccessAlert", 58),
        ("GlobalDbNotAvailable", 59),
        ("LibraryDevicesDisabledAlert", 60),
        ("LdmWarningThresholdReachedAlert", 61),
        ("LdmErrorThresholdReachedAlert", 62),
        ("CertificateExpiryWarningAlert", 63),
        ("CertificateExpiryErrorAlert", 64),
        ("RecoveryFailedWarningAlert", 65),
        ("ExternalAlert", 66),
        ("OnlineBackupServiceUnreachableAlert", 67),
        ("OnlineBackupPoliciesInconsistentAlert", 68),
        ("CloudBackupFailedAlert", 69),
        ("PartialCloudBackupSuccessAlert", 70),
        ("SLAMissedAlert", 71),
        ("OfflineInitialCloudBackupPendingAlert", 72),
        ("RestoreDBAlert", 73),
    ],
};

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(
        "New-DPMServerScope",
        "Rdpm.Commands.NewDPMServerScopeCommand",
    );
    sig.synopsis = "Creates a scope that limits a DPM connection to particular objects.";
    sig.description = "The New-DPMServerScope cmdlet creates a server scope: the kind and the ids or names of the objects a connection is to be limited to, and optionally an alert kind and error numbers. The scope is held by the connection session of the DPM server it names and is released when that connection closes. Apply it with Connect-DPMServer -DPMServerScope.";
    sig.parameters = vec![
        p::DPM_SERVER_NAME.decl(ParamType::String)
            .in_set(ALL_PARAMETER_SETS, Some(0), false)
            .help("Specifies the name of the DPM server whose connection holds the scope. Without it, the local server."),
        p::OBJECT_TYPE.decl(ParamType::Enum(&SCOPED_OBJECT_TYPE))
            .in_set(ALL_PARAMETER_SETS, Some(1), true)
            .help("Specifies the kind of object the scope names."),
        p::OBJECT_ID.decl(ParamType::Array(Box::new(ParamType::String)))
            .in_set(ALL_PARAMETER_SETS, Some(2), true)
            .help("Specifies the ids or names of the objects the scope names."),
        p::ALERT_TYPE.decl(ParamType::Enum(&ALERT_ENUM))
            .help("Specifies an alert kind to limit the scope to."),
        p::ERROR_ID.decl(ParamType::Int32)
            .help("Specifies an error number to limit the scope to."),
        p::DETAILED_ERROR_ID.decl(ParamType::Int32)
            .help("Specifies a detailed error number to limit the scope to."),
    ];
    sig.examples = vec![
        Example {
            title: "Example 1: Create a scope for a protection group",
            code: "$scope = New-DPMServerScope -DPMServerName \"DPMServer07\" -ObjectType ProtectionGroup -ObjectId \"PG-Files\"",
            remarks: "This command creates a scope that names the protection group PG-Files on DPMServer07 and stores it in $scope.",
        },
        Example {
            title: "Example 2: Connect with a scope",
            code: "$scope = New-DPMServerScope DPMServer07 Datasource \"70fd1133-1bab-4178-8e8c-24d928b6b16c\"\nConnect-DPMServer -DPMServerScope $scope",
            remarks: "The first command creates a scope naming one data source by id; the second applies it to the connection.",
        },
    ];
    sig.outputs = "DpmServerScope";
    sig.related_links = &["Connect-DPMServer"];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    let object_type = match params.get(p::OBJECT_TYPE) {
        Some(Value::Enum(e)) => ScopedObjectType::ALL
            .get(e.index)
            .copied()
            .unwrap_or(ScopedObjectType::DpmServer),
        Some(other) => ScopedObjectType::ALL
            .iter()
            .copied()
            .find(|t| {
                t.as_str()
                    .eq_ignore_ascii_case(&other.to_invariant_string())
            })
            .unwrap_or(ScopedObjectType::DpmServer),
        None => ScopedObjectType::DpmServer,
    };
    let object_ids = params.strings(p::OBJECT_ID);
    let int = |name: Param| match params.get(name) {
        Some(Value::Int(i)) => Some(*i),
        Some(Value::Long(i)) => i32::try_from(*i).ok(),
        _ => None,
    };
    let spec = NewServerScope {
        object_type,
        object_ids,
        alert_type: params.get(p::ALERT_TYPE).map(Value::to_invariant_string),
        error_id: int(p::ERROR_ID),
        detailed_error_id: int(p::DETAILED_ERROR_ID),
    };
    let name = params.string(p::DPM_SERVER_NAME);
    let conns = connections(ctx);
    let result = conns.get_or_connect(name.as_deref()).and_then(|c| {
        let spec = spec.clone();
        let scope = conns.call(&c, |s| async move { s.create_scope(&spec).await })?;
        Ok(dpm_server_scope(&c, scope))
    });
    match result {
        Ok(v) => ctx.write_output(v),
        Err(e) => ctx.write_error(e),
    }
}
