//! A backend in memory for the unit tests of rdpm's changes: upstream's
//! tests take theirs from a dev-dependency left out of this copy.

use std::{
    collections::BTreeMap,
    sync::{
        Mutex,
        atomic::{AtomicBool, Ordering},
    },
};

use bytes::Bytes;

use crate::{
    backend::{BytesList, FileType, ReadBackend, WriteBackend},
    error::{ErrorKind, RusticError, RusticResult},
    id::Id,
};

/// Files in memory; with `fail` set, every write fails.
#[derive(Debug, Default)]
pub(crate) struct Memory {
    files: Mutex<BTreeMap<(String, Id), Bytes>>,
    pub(crate) fail: AtomicBool,
}

impl Memory {
    /// The ids of the files of type `tpe`.
    pub(crate) fn ids(&self, tpe: FileType) -> Vec<Id> {
        self.files
            .lock()
            .unwrap()
            .keys()
            .filter(|(t, _)| *t == tpe.to_string())
            .map(|(_, id)| *id)
            .collect()
    }
}

impl ReadBackend for Memory {
    fn location(&self) -> String {
        "memory".to_string()
    }

    fn list_with_size(&self, tpe: FileType) -> RusticResult<Vec<(Id, u32)>> {
        let files = self.files.lock().unwrap();
        Ok(files
            .iter()
            .filter(|((t, _), _)| *t == tpe.to_string())
            .map(|((_, id), b)| (*id, u32::try_from(b.len()).unwrap()))
            .collect())
    }

    fn read_full(&self, tpe: FileType, id: &Id) -> RusticResult<Bytes> {
        self.files
            .lock()
            .unwrap()
            .get(&(tpe.to_string(), *id))
            .cloned()
            .ok_or_else(|| {
                RusticError::new(ErrorKind::Backend, "no file `{id}` in memory")
                    .attach_context("id", id.to_string())
            })
    }

    fn warmup_path(&self, tpe: FileType, id: &Id) -> String {
        format!("{tpe}/{id}")
    }

    fn read_partial(
        &self,
        tpe: FileType,
        id: &Id,
        _cacheable: bool,
        offset: u32,
        length: u32,
    ) -> RusticResult<Bytes> {
        let all = self.read_full(tpe, id)?;
        Ok(all.slice(offset as usize..(offset + length) as usize))
    }
}

impl WriteBackend for Memory {
    fn write_bytes(
        &self,
        tpe: FileType,
        id: &Id,
        _cacheable: bool,
        content: BytesList,
    ) -> RusticResult<()> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(RusticError::new(
                ErrorKind::Backend,
                "no space left on the memory device",
            ));
        }
        let mut all = Vec::new();
        for part in content.into_vec() {
            all.extend_from_slice(&part);
        }
        _ = self
            .files
            .lock()
            .unwrap()
            .insert((tpe.to_string(), *id), Bytes::from(all));
        Ok(())
    }

    fn remove(&self, tpe: FileType, id: &Id, _cacheable: bool) -> RusticResult<()> {
        _ = self.files.lock().unwrap().remove(&(tpe.to_string(), *id));
        Ok(())
    }
}
