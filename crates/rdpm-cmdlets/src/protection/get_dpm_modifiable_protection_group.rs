//! `Get-DPMModifiableProtectionGroup`: opens a protection group for
//! modification. The server makes a draft in this connection's session and
//! takes the group's edit lock, so no other session can change the group
//! until `Set-DPMProtectionGroup` commits or the session ends.

use std::time::{Duration, Instant};

use rdpm_shell::signature::{Example, Validation};
use rdpm_shell::{CommandContext, ErrorRecord, FlowResult, ParamType, Value};
use rdpm_types::ErrorId;

use crate::cmdlet::{signature, Args, Cmdlet};
use crate::connection::{connections, Closed, Connection};
use crate::params::protection_group_param;
use crate::protection::objects::{
    group_handle, group_of, modifiable_protection_group, not_a_group, GroupState,
};

/// The parameters the cmdlet reads, declared with its signature.
mod p {
    use crate::cmdlet::Param;

    pub use crate::params::PROTECTION_GROUP;
    pub const TIMEOUT: Param = Param::new("Timeout");
}

/// One request waits at most this long, below the client's request timeout;
/// longer waits are several requests.
const WAIT_PER_REQUEST: Duration = Duration::from_secs(45);

/// The cmdlet.
pub(crate) fn command() -> Cmdlet {
    let mut sig = signature(
        "Get-DPMModifiableProtectionGroup",
        "Rdpm.Commands.GetDPMModifiableProtectionGroupCommand",
    );
    sig.synopsis = "Opens a protection group for modification.";
    sig.description = "The Get-DPMModifiableProtectionGroup cmdlet turns a read-only protection group object into an editable one. The server reads the group as last committed, makes a draft of it in this connection's session and takes the group's edit lock: until Set-DPMProtectionGroup commits the draft, or Disconnect-DPMServer or the session's expiry discards it, no other session can open the group for modification.\n\nWhen another session holds the group, the cmdlet fails at once with an error naming the user, the session, the client computer and since when; with -Timeout it waits up to that many seconds for the group to be released. Get-DPMSession shows which sessions hold protection groups.";
    sig.parameters = vec![
        protection_group_param("Specifies the protection group to open for modification, as returned by Get-DPMProtectionGroup."),
        p::TIMEOUT.decl(ParamType::Int32)
            .validate(Validation::Range(0, 3600))
            .help("Specifies how many seconds to wait for another session to release the group (at most 3600). Without it, the cmdlet fails at once when the group is held. (An rdpm addition.)"),
    ];
    sig.examples = vec![Example {
        title: "Example 1: Open a protection group for modification",
        code: "$pg = Get-DPMProtectionGroup -DPMServerName \"DPMServer07\" | Where-Object { $_.FriendlyName -eq \"ProtectionGroup01\" }\n$mpg = Get-DPMModifiableProtectionGroup -ProtectionGroup $pg",
        remarks: "The first command gets the protection group named ProtectionGroup01; the second opens it for modification and stores the editable object in $mpg.",
    }];
    sig.outputs = "ProtectionGroup (Editable)";
    sig.related_links = &[
        "Get-DPMProtectionGroup",
        "Set-DPMProtectionGroup",
        "Get-DPMSession",
    ];
    Cmdlet::process(sig, process)
}

fn process(ctx: &mut dyn CommandContext, params: &Args, _input: Option<Value>) -> FlowResult<()> {
    let value = params.value(p::PROTECTION_GROUP);
    let timeout = match params.get(p::TIMEOUT) {
        Some(Value::Int(t)) => u64::try_from(*t).unwrap_or(0),
        _ => 0,
    };
    match open(ctx, &value, Duration::from_secs(timeout)) {
        Ok(v) => ctx.write_output(v),
        Err(e) => ctx.write_error(e),
    }
}

fn open(
    ctx: &mut dyn CommandContext,
    value: &Value,
    timeout: Duration,
) -> Result<Value, ErrorRecord> {
    let obj = group_of(value).ok_or_else(|| not_a_group(value))?;
    let h = group_handle(&obj);
    h.check_open()?;
    if let GroupState::Draft(_) = h.payload.state() {
        // Already editable in this session: opening again would only
        // collide with this session's own lock.
        return Ok(value.clone());
    }
    let id = h.payload.id;
    let server = h.server.clone();
    let c = connections(ctx)
        .find(&server)
        .ok_or_else(|| Connection::closed_error(&server, &Closed::Disconnected))?;
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let wait = left.min(WAIT_PER_REQUEST);
        let secs = (!wait.is_zero()).then(|| wait.as_secs().max(1));
        let result =
            connections(ctx).call(
                &c,
                |s| async move { s.open_protection_group(id, secs).await },
            );
        match result {
            Ok(draft) => return Ok(modifiable_protection_group(&c, &draft)),
            Err(e)
                if e.error_id == ErrorId::EditLockHeld.as_str()
                    && !deadline.saturating_duration_since(Instant::now()).is_zero()
                    && !ctx.is_stopping() =>
            {
                continue
            }
            Err(e) if e.error_id == ErrorId::EditLockHeld.as_str() => {
                return Err(e.with_recommended_action(
                    "Wait for the holder to commit or disconnect, or run Get-DPMModifiableProtectionGroup with -Timeout to wait for the group.",
                ))
            }
            Err(e) => return Err(e),
        }
    }
}
