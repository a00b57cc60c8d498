//! Why a job failed: the kinds of `JobError`, a string on the wire.

/// The kind of a failed job's error. The wire carries [`Failure::as_str`]
/// in `JobError::kind`; the shell and alerts read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The server stopped while the job was queued or running, and it was
    /// failed at the next start.
    ServerRestarted,
    /// The server shut down while the job ran.
    ServerShutdown,
    /// Someone stopped it, or its datasource stopped being protected.
    Cancelled,
    /// The engine failed; the log has the details.
    Internal,
    /// The storage pool could not be read or written.
    StorageFailed,
    /// The backup could not read its source.
    SourceUnreadable,
    /// A symbolic link leads from the source into the storage pool.
    SourceIsLink,
    /// The recovery point written did not read back whole.
    IntegrityCheckFailed,
    /// An incremental backup found no synchronization to build on.
    NoSynchronization,
    /// A consistency check found damage.
    DataCorruptionDetected,
    /// Retention's prune failed.
    PruneFailed,
    /// A restore could not write its target.
    TargetUnwritable,
    /// A restore's target was refused.
    TargetRefused,
    /// A restore's item is not in its recovery point.
    ItemNotFound,
    /// A restore failed otherwise.
    RestoreFailed,
    /// A restore wrote part of what it was asked for.
    RestoreIncomplete,
    /// The production server's agent was not connected, or its channel
    /// ended before the job finished.
    AgentUnreachable,
    /// The production server's agent sent what a backup cannot accept.
    AgentFailed,
}

impl Failure {
    /// The kind as the wire carries it.
    pub fn as_str(self) -> &'static str {
        use Failure::*;
        match self {
            ServerRestarted => "ServerRestarted",
            ServerShutdown => "ServerShutdown",
            Cancelled => "Cancelled",
            Internal => "Internal",
            StorageFailed => "StorageFailed",
            SourceUnreadable => "SourceUnreadable",
            SourceIsLink => "SourceIsLink",
            IntegrityCheckFailed => "IntegrityCheckFailed",
            NoSynchronization => "NoSynchronization",
            DataCorruptionDetected => "DataCorruptionDetected",
            PruneFailed => "PruneFailed",
            TargetUnwritable => "TargetUnwritable",
            TargetRefused => "TargetRefused",
            ItemNotFound => "ItemNotFound",
            RestoreFailed => "RestoreFailed",
            RestoreIncomplete => "RestoreIncomplete",
            AgentUnreachable => "AgentUnreachable",
            AgentFailed => "AgentFailed",
        }
    }

    /// Whether a job's error (its wire kind) is this one.
    pub fn is(self, kind: &str) -> bool {
        kind == self.as_str()
    }
}

impl From<Failure> for String {
    fn from(failure: Failure) -> String {
        failure.as_str().to_string()
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
