//! What a session can hold: the session object table.

use std::collections::{BTreeMap, HashMap};

use rdpm_types::{ObjectId, ObjectKind, ServerScope};

use super::draft::ProtectionGroupDraft;
use super::lock::EditLock;
use rdpm_engine::recovery::Cursor;

/// An object a session holds on the server. Every kind knows how to release
/// itself; closing the session releases all of them through
/// [`SessionObject::release`].
///
/// Later features add kinds here (a protection group opened for
/// modification with its edit lock, browse cursors, staged files); each
/// gets a matching [`ObjectKind`].
#[derive(Debug)]
#[non_exhaustive]
pub enum SessionObject {
    /// A server scope built by `New-DPMServerScope`.
    ServerScope(ServerScope),
    /// An edit lock held on its own. Objects that edit a resource embed
    /// their [`EditLockGuard`](super::EditLockGuard) instead.
    EditLock(EditLock),
    /// A protection group opened for modification, or a new group not yet
    /// committed: the draft, and the group's edit lock when it exists.
    ModifiableProtectionGroup(Box<ProtectionGroupDraft>),
    /// A browse of a recovery point's folder with pages still to read.
    BrowseCursor(Cursor),
    /// A search of recovery points with results still to read; its search
    /// thread stops when the object is released.
    SearchResult(Cursor),
}

impl SessionObject {
    /// The kind, as release reports and metrics count it.
    pub fn kind(&self) -> ObjectKind {
        match self {
            SessionObject::ServerScope(_) => ObjectKind::ServerScope,
            SessionObject::EditLock(_) => ObjectKind::EditLock,
            SessionObject::ModifiableProtectionGroup(_) => ObjectKind::ModifiableProtectionGroup,
            SessionObject::BrowseCursor(_) => ObjectKind::BrowseCursor,
            SessionObject::SearchResult(_) => ObjectKind::SearchResult,
        }
    }

    /// Whether releasing the object gives back something outside it (a
    /// lock, a file); objects that are only memory need no release step.
    pub fn holds_resources(&self) -> bool {
        match self {
            SessionObject::ServerScope(_) => false,
            SessionObject::EditLock(_) => true,
            SessionObject::ModifiableProtectionGroup(draft) => draft.holds_lock(),
            SessionObject::BrowseCursor(_) => false,
            SessionObject::SearchResult(_) => true,
        }
    }

    /// Gives back whatever the object holds on the server. It runs exactly
    /// once per object that [holds resources](Self::holds_resources),
    /// whether the object is removed on its own or with its session.
    pub fn release(self) {
        match self {
            // A scope is a value the session keeps: nothing outside it to
            // give back.
            SessionObject::ServerScope(_) => {}
            // Dropping the guard frees the lock and wakes its waiters.
            SessionObject::EditLock(lock) => drop(lock),
            // The draft is discarded; dropping it frees the group's lock.
            SessionObject::ModifiableProtectionGroup(draft) => drop(draft),
            // A folder listing is only memory.
            SessionObject::BrowseCursor(cursor) => drop(cursor),
            // Dropping the last handle of the feed stops the search thread.
            SessionObject::SearchResult(cursor) => drop(cursor),
        }
    }
}

/// Objects already released that are only memory. Freeing a hundred
/// thousand of them takes tens of milliseconds, which a disconnect should not
/// wait for: [`Garbage::dispose`] frees large batches on a thread of their own.
pub(crate) struct Garbage(HashMap<ObjectId, SessionObject>);

impl Garbage {
    /// Frees the memory: inline when small, in the background when large.
    pub(crate) fn dispose(self) {
        const INLINE: usize = 1024;
        if self.0.len() <= INLINE {
            return;
        }
        let spawned = std::thread::Builder::new()
            .name("rdpm-free".into())
            .spawn(move || drop(self));
        if let Err(e) = spawned {
            // Freeing inline is slower but still correct.
            tracing::debug!(error = %e, "cannot start a thread to free released objects");
        }
    }
}

/// A session's objects by id, with a running count per kind so that
/// listing sessions stays cheap whatever they hold.
///
/// An empty table allocates nothing: idle sessions stay small.
#[derive(Debug, Default)]
pub(crate) struct ObjectTable {
    objects: HashMap<ObjectId, SessionObject>,
    counts: BTreeMap<ObjectKind, u64>,
}

impl ObjectTable {
    pub(crate) fn insert(&mut self, id: ObjectId, object: SessionObject) {
        let kind = object.kind();
        if let Some(old) = self.objects.insert(id, object) {
            // Ids are random 122-bit values; a collision is not expected,
            // but if one happened the old object must still be released.
            self.uncount(old.kind());
            old.release();
        }
        *self.counts.entry(kind).or_insert(0) += 1;
    }

    pub(crate) fn get(&self, id: &ObjectId) -> Option<&SessionObject> {
        self.objects.get(id)
    }

    pub(crate) fn get_mut(&mut self, id: &ObjectId) -> Option<&mut SessionObject> {
        self.objects.get_mut(id)
    }

    pub(crate) fn remove(&mut self, id: &ObjectId) -> Option<SessionObject> {
        let object = self.objects.remove(id)?;
        self.uncount(object.kind());
        Some(object)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&ObjectId, &SessionObject)> {
        self.objects.iter()
    }

    pub(crate) fn values(&self) -> impl Iterator<Item = &SessionObject> {
        self.objects.values()
    }

    pub(crate) fn counts(&self) -> &BTreeMap<ObjectKind, u64> {
        &self.counts
    }

    pub(crate) fn len(&self) -> usize {
        self.objects.len()
    }

    /// Releases every object and says how many of each kind it released.
    /// Releases every object: what an object holds outside itself (an
    /// edit lock) is given back before this returns; what is only memory is
    /// returned as [`Garbage`], to be freed off the caller's path. Returns
    /// the counts by kind.
    pub(crate) fn release_all(mut self) -> (BTreeMap<ObjectKind, u64>, Garbage) {
        let released = std::mem::take(&mut self.counts);
        for (_, object) in self.objects.extract_if(|_, o| o.holds_resources()) {
            object.release();
        }
        (released, Garbage(self.objects))
    }

    fn uncount(&mut self, kind: ObjectKind) {
        if let Some(n) = self.counts.get_mut(&kind) {
            *n -= 1;
            if *n == 0 {
                self.counts.remove(&kind);
            }
        }
    }
}
