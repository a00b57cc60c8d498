//! What a session can hold: the session object table.

use std::collections::{BTreeMap, HashMap};

use rdpm_types::{ObjectId, ObjectKind, ServerScope};

use super::lock::EditLock;

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
}

impl SessionObject {
    /// The kind, as release reports and metrics count it.
    pub fn kind(&self) -> ObjectKind {
        match self {
            SessionObject::ServerScope(_) => ObjectKind::ServerScope,
            SessionObject::EditLock(_) => ObjectKind::EditLock,
        }
    }

    /// Gives back whatever the object holds on the server. It runs exactly
    /// once per object, whether the object is removed on its own or with
    /// its session.
    pub fn release(self) {
        match self {
            // A scope is a value the session keeps: nothing outside it to
            // give back.
            SessionObject::ServerScope(_) => {}
            // Dropping the guard frees the lock and wakes its waiters.
            SessionObject::EditLock(lock) => drop(lock),
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

    pub(crate) fn remove(&mut self, id: &ObjectId) -> Option<SessionObject> {
        let object = self.objects.remove(id)?;
        self.uncount(object.kind());
        Some(object)
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
    pub(crate) fn release_all(self) -> BTreeMap<ObjectKind, u64> {
        let mut released = BTreeMap::new();
        for object in self.objects.into_values() {
            *released.entry(object.kind()).or_insert(0) += 1;
            object.release();
        }
        released
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
