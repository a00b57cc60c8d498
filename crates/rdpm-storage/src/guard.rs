//! A backend wrapper that refuses to commit a cancelled backup.
//!
//! rustic_core has no cancel: when the walk ends early it still finishes
//! and saves a snapshot of what it saw. Refusing the snapshot file at the
//! backend makes the whole backup fail before anything points at the
//! partial data, so no partial recovery point ever exists, even for a
//! moment. Pack and index files written before the cancel stay as unused
//! data that prune reclaims.

use std::sync::Arc;

use rustic_core::{
    BytesList, ErrorKind, FileType, Id, ReadBackend, RusticError, RusticResult, WriteBackend,
};

use crate::source::CancelToken;

pub(crate) struct CancelGuardBackend {
    inner: Arc<dyn WriteBackend>,
    cancel: CancelToken,
}

impl CancelGuardBackend {
    pub(crate) fn wrap(inner: Arc<dyn WriteBackend>, cancel: CancelToken) -> Arc<dyn WriteBackend> {
        Arc::new(Self { inner, cancel })
    }
}

impl ReadBackend for CancelGuardBackend {
    fn location(&self) -> String {
        self.inner.location()
    }
    fn list_with_size(&self, tpe: FileType) -> RusticResult<Vec<(Id, u32)>> {
        self.inner.list_with_size(tpe)
    }
    fn list(&self, tpe: FileType) -> RusticResult<Vec<Id>> {
        self.inner.list(tpe)
    }
    fn read_full(&self, tpe: FileType, id: &Id) -> RusticResult<bytes::Bytes> {
        self.inner.read_full(tpe, id)
    }
    fn read_partial(
        &self,
        tpe: FileType,
        id: &Id,
        cacheable: bool,
        offset: u32,
        length: u32,
    ) -> RusticResult<bytes::Bytes> {
        self.inner.read_partial(tpe, id, cacheable, offset, length)
    }
    fn warmup_path(&self, tpe: FileType, id: &Id) -> String {
        self.inner.warmup_path(tpe, id)
    }
    fn needs_warm_up(&self) -> bool {
        self.inner.needs_warm_up()
    }
    fn warm_up(&self, tpe: FileType, id: &Id) -> RusticResult<()> {
        self.inner.warm_up(tpe, id)
    }
}

impl WriteBackend for CancelGuardBackend {
    fn create(&self) -> RusticResult<()> {
        self.inner.create()
    }
    fn write_bytes(
        &self,
        tpe: FileType,
        id: &Id,
        cacheable: bool,
        content: BytesList,
    ) -> RusticResult<()> {
        if tpe == FileType::Snapshot && self.cancel.is_cancelled() {
            return Err(RusticError::new(
                ErrorKind::Other,
                "the backup was cancelled; its snapshot is not saved",
            ));
        }
        self.inner.write_bytes(tpe, id, cacheable, content)
    }
    fn remove(&self, tpe: FileType, id: &Id, cacheable: bool) -> RusticResult<()> {
        self.inner.remove(tpe, id, cacheable)
    }
}
