//! `Set-DPMPolicyObjective`: sets the retention range and synchronization
//! frequency of an editable protection group (ShortTermDisk set), or the
//! days without a good recovery point before an alert (AlertThresholdInDays
//! set); the tape, online and co-location sets are Windows DPM features.

use rdpm_shell::signature::Example;
use rdpm_shell::{CommandContext, ConfirmImpact, FlowResult, ParamType, ParameterDecl, Value};
use rdpm_types::{SetAlertThreshold, SetPolicyObjective};

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::params::{pass_thru_param, protection_group_param};
use crate::protection::edit::{change_draft, editable_group};
use crate::protection::objects::{
    BACKUP_FREQUENCY, REASON_LONG_TERM, REASON_ONLINE, REASON_TAPE, RETENTION_RANGE_PARAM,
};

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub const ALERT_THRESHOLD_IN_DAYS: Param = Param::new("AlertThresholdInDays");
    pub const BEFORE_RECOVERY_POINT: Param = Param::new("BeforeRecoveryPoint");
    pub const RETENTION_RANGE_DAYS: Param = Param::new("RetentionRangeDays");
    pub const SYNCHRONIZATION_FREQUENCY_MINUTES: Param =
        Param::new("SynchronizationFrequencyMinutes");
}

const NAME: &str = "Set-DPMPolicyObjective";
const DISK: &str = "ShortTermDisk";
const REASON_COLOCATE: &str = "co-locating datasources on shared replica volumes is a Windows DPM storage feature; rdpm's storage pool keeps every datasource in a shared repository already";
const ALERT: &str = "AlertThresholdInDays";

fn int(name: &'static str, set: &'static str, position: u32) -> ParameterDecl {
    ParameterDecl::new(name, ParamType::Int32).in_set(set, Some(position), true)
}

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(NAME, "Rdpm.Commands.SetDPMPolicyObjectiveCommand");
    sig.synopsis =
        "Sets the retention range and synchronization frequency of an editable protection group.";
    sig.description = "The Set-DPMPolicyObjective cmdlet sets the short-term disk protection goals of a protection group opened for modification: how many days recovery points are kept (-RetentionRangeDays, 1 to 448) and how often the datasources are synchronized (-SynchronizationFrequencyMinutes: 15, 30, 45, 60, 120, 240, 360, 720 or 1440), or synchronization only right before each recovery point (-BeforeRecoveryPoint). The change is saved by Set-DPMProtectionGroup.\n\nWith -AlertThresholdInDays (1 to 448) it sets how many days a datasource of the group may go without a good recovery point (a backup that succeeded or completed with skipped files) before the server raises a NoRecentRecoveryPoint alert (Get-DPMAlert); the alert resolves when a good recovery point is made. A group without a threshold uses its retention range. Get-DPMPolicyObjective shows the threshold in force as AlertThresholdInDays.\n\nThe tape, online and co-location parameter sets are Windows DPM features; rdpm refuses them with an error naming the parameter.";
    let tape_frequency = ParamType::Enum(&BACKUP_FREQUENCY);
    let range_list = ParamType::Array(Box::new(RETENTION_RANGE_PARAM));
    sig.parameters = vec![
        protection_group_param("Specifies the editable protection group."),
        int(p::RETENTION_RANGE_DAYS.name(), DISK, 1)
            .aliases(&["RetentionRangeInDays"])
            .help("Specifies how many days recovery points on disk are kept (1 to 448)."),
        p::SYNCHRONIZATION_FREQUENCY_MINUTES.decl(ParamType::Int32)
            .in_set(DISK, Some(2), false)
            .aliases(&["SynchronizationFrequency"])
            .help("Specifies the minutes between synchronizations: 15, 30, 45, 60, 120, 240, 360, 720 or 1440. Without it, the frequency is unchanged."),
        p::BEFORE_RECOVERY_POINT.decl(ParamType::Switch)
            .in_set(DISK, None, false)
            .help("Synchronizes only right before each recovery point instead of at a fixed interval."),
        int("RetentionRangeInWeeks", "ShortTermTape", 1)
            .help("Specifies the short-term tape retention in weeks.")
            .unsupported(REASON_TAPE),
        ParameterDecl::new("ShortTermBackupFrequency", tape_frequency.clone())
            .in_set("ShortTermTape", Some(2), true)
            .help("Specifies how often short-term tape backups run.")
            .unsupported(REASON_TAPE),
        ParameterDecl::new("CreateIncrementals", ParamType::Switch)
            .in_set("ShortTermTape", None, false)
            .help("Makes incremental tape backups between full ones.")
            .unsupported(REASON_TAPE),
        ParameterDecl::new("LongTermBackupFrequency", tape_frequency)
            .in_set("LongTermTape", Some(2), true)
            .help("Specifies how often long-term tape backups run.")
            .unsupported(REASON_LONG_TERM),
        ParameterDecl::new("RetentionRange", RETENTION_RANGE_PARAM)
            .in_set("LongTermTape", Some(1), true)
            .help("Specifies the long-term tape retention range.")
            .unsupported(REASON_LONG_TERM),
        ParameterDecl::new("RetentionRangeList", range_list.clone())
            .in_set("LongTermTapeCustom", Some(1), true)
            .help("Specifies the retention ranges of custom long-term tape goals.")
            .unsupported(REASON_LONG_TERM),
        ParameterDecl::new("FrequencyList", ParamType::Array(Box::new(ParamType::Int32)))
            .in_set("LongTermTapeCustom", Some(2), true)
            .help("Specifies the frequency codes of custom long-term tape goals.")
            .unsupported(REASON_LONG_TERM),
        ParameterDecl::new(
            "GenerationList",
            ParamType::Array(Box::new(ParamType::Typed {
                full_name: "Rdpm.GenerationType",
                name: "GenerationType",
            })),
        )
        .in_set("LongTermTapeCustom", Some(3), true)
        .help("Specifies the backup generation of each custom long-term tape goal.")
        .unsupported(REASON_LONG_TERM),
        int("OnlineRetentionRange", "LongTermCloud", 1)
            .help("Specifies the retention of online (Azure) protection.")
            .unsupported(REASON_ONLINE),
        ParameterDecl::new("OnlineRetentionRangeList", range_list)
            .in_set("LongTermCloudGFS", Some(1), true)
            .help("Specifies the retention ranges of online (Azure) protection per generation.")
            .unsupported(REASON_ONLINE),
        ParameterDecl::new("ColocateDatasources", ParamType::Bool)
            .in_set("ColocateDatasources", Some(1), true)
            .help("Turns co-location of datasources on shared replica volumes on or off.")
            .unsupported(REASON_COLOCATE),
        int(p::ALERT_THRESHOLD_IN_DAYS.name(), ALERT, 1)
            .help("Specifies the days (1 to 448) a datasource may go without a good recovery point before an alert is raised."),
        pass_thru_param(),
    ];
    sig.default_set = Some(DISK);
    sig.supports_should_process = true;
    sig.confirm_impact = ConfirmImpact::Medium;
    sig.examples = vec![
        Example {
            title: "Example 1: Keep recovery points for two weeks, synchronizing hourly",
            code: "$pg = New-DPMProtectionGroup -DPMServerName \"DPMServer07\" -Name \"ProtectionGroup01\"\nSet-DPMPolicyObjective -ProtectionGroup $pg -RetentionRangeInDays 14 -SynchronizationFrequencyMinutes 60\nGet-DPMPolicyObjective -ProtectionGroup $pg -ShortTerm",
            remarks: "These commands create a protection group, set its retention range to 14 days and its synchronization frequency to 60 minutes, and show the result.",
        },
        Example {
            title: "Example 2: Alert after two days without a good recovery point",
            code: "$pg = New-DPMProtectionGroup -DPMServerName \"DPMServer07\" -Name \"ProtectionGroup02\"\nSet-DPMPolicyObjective -ProtectionGroup $pg -AlertThresholdInDays 2\n(Get-DPMPolicyObjective -ProtectionGroup $pg -ShortTerm).AlertThresholdInDays",
            remarks: "These commands create a protection group whose datasources raise an alert when they go two days without a good recovery point once it is committed, and show the threshold.",
        },
    ];
    sig.outputs = "ProtectionGroup";
    sig.notes = "DPM returns Schedule objects; rdpm has no schedule objects yet and returns the protection group with -PassThru.";
    sig.related_links = &[
        "Get-DPMPolicyObjective",
        "Set-DPMProtectionType",
        "Set-DPMProtectionGroup",
    ];
    Cmdlet::process(sig, process)
}

fn int_value(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Int(i) => Some(i64::from(*i)),
        Value::Long(i) => Some(*i),
        _ => None,
    }
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    let Some(t) = editable_group(ctx, params, NAME)? else {
        return Ok(());
    };
    if params.parameter_set() == ALERT {
        let days = int_value(params.get(p::ALERT_THRESHOLD_IN_DAYS)).unwrap_or_default();
        let request = SetAlertThreshold {
            alert_threshold_days: days,
        };
        return change_draft(ctx, params, t, None, |s, id| async move {
            s.set_alert_threshold(id, &request).await
        });
    }
    let request = SetPolicyObjective {
        retention_range_days: int_value(params.get(p::RETENTION_RANGE_DAYS)).unwrap_or_default(),
        synchronization_frequency_minutes: int_value(
            params.get(p::SYNCHRONIZATION_FREQUENCY_MINUTES),
        ),
        before_recovery_point: params.switch(p::BEFORE_RECOVERY_POINT),
    };
    change_draft(ctx, params, t, None, |s, id| async move {
        s.set_policy_objective(id, &request).await
    })
}
