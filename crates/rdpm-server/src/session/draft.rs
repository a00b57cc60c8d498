//! A protection group opened for editing: the uncommitted draft and, for a
//! group that exists, its edit lock.

use chrono::{DateTime, Utc};
use rdpm_types::{ModifiableProtectionGroup, ObjectId, ProtectionGroup, StopProtection};

use super::lock::EditLockGuard;

/// The session object behind `Get-DPMModifiableProtectionGroup` and
/// `New-DPMProtectionGroup`. Dropping it discards the draft and frees the
/// lock; only a commit writes anything.
#[derive(Debug)]
pub struct ProtectionGroupDraft {
    /// The group as it will be once committed; `version` is the stored
    /// version the draft started from (0 for a new group).
    pub group: ProtectionGroup,
    /// Whether the group does not exist yet.
    pub is_new: bool,
    /// Members the draft removed, with their data choice.
    pub stopped: Vec<StopProtection>,
    /// When the draft was opened.
    pub opened_at: DateTime<Utc>,
    /// Set while a commit of this draft runs, so that a second commit (or a
    /// change) of the same draft waits its turn instead of interleaving.
    pub committing: bool,
    /// The group's edit lock; `None` for a new group, which nobody else
    /// can name before it is committed.
    lock: Option<EditLockGuard>,
}

impl ProtectionGroupDraft {
    /// A draft of an existing group, holding its lock.
    pub fn existing(group: ProtectionGroup, lock: EditLockGuard) -> Self {
        ProtectionGroupDraft {
            group,
            is_new: false,
            stopped: Vec::new(),
            opened_at: Utc::now(),
            committing: false,
            lock: Some(lock),
        }
    }

    /// A draft of a group that does not exist yet.
    pub fn new_group(group: ProtectionGroup) -> Self {
        ProtectionGroupDraft {
            group,
            is_new: true,
            stopped: Vec::new(),
            opened_at: Utc::now(),
            committing: false,
            lock: None,
        }
    }

    /// Whether it holds an edit lock.
    pub fn holds_lock(&self) -> bool {
        self.lock.is_some()
    }

    /// The draft as the API shows it.
    pub fn view(&self, object_id: ObjectId) -> ModifiableProtectionGroup {
        ModifiableProtectionGroup {
            object_id,
            is_new: self.is_new,
            protection_group: self.group.clone(),
            stopped: self.stopped.clone(),
            opened_at: self.opened_at,
        }
    }
}
