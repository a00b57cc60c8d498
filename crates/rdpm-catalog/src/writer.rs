//! The background writer of the audit trails: sessions and requests.
//!
//! Opening and closing sessions must not wait for SQLite: the target is
//! thousands of connect+disconnect cycles per second. Records go through a
//! channel to one thread that owns its own connection and commits whatever
//! has queued up in one transaction, so the cost of a commit is shared by
//! every record that arrived while the previous one ran.

use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::thread::JoinHandle;

use rusqlite::{params, Connection};

use crate::{format_time, CatalogError, SessionClosedRecord, SessionOpenedRecord};

/// How many messages may wait before senders block: enough for bursts far
/// beyond the target rate, small enough to bound memory if the disk stalls.
const QUEUE_CAPACITY: usize = 65_536;

/// Most records committed in one transaction, so that a long backlog still
/// makes visible progress and flush waiters are answered in time.
const MAX_BATCH: usize = 4_096;

pub(crate) enum Message {
    Opened(SessionOpenedRecord),
    Closed(SessionClosedRecord),
    /// A record of the audit trail of requests.
    Audit(Box<rdpm_types::AuditRecord>),
    /// Answered once everything queued before it is committed.
    Flush(SyncSender<Result<(), CatalogErrorKind>>),
}

pub(crate) struct AuditWriter {
    sender: Option<SyncSender<Message>>,
    thread: Option<JoinHandle<()>>,
}

impl AuditWriter {
    pub(crate) fn start(conn: Connection) -> Result<Self, CatalogError> {
        let (sender, receiver) = mpsc::sync_channel(QUEUE_CAPACITY);
        let thread = std::thread::Builder::new()
            .name("rdpm-catalog-audit".into())
            .spawn(move || run(conn, receiver))
            .map_err(|e| {
                CatalogError::WriteFailed(format!("cannot start the audit writer: {e}"))
            })?;
        Ok(AuditWriter {
            sender: Some(sender),
            thread: Some(thread),
        })
    }

    pub(crate) fn send(&self, message: Message) -> Result<(), CatalogError> {
        let sender = self.sender.as_ref().ok_or(CatalogError::WriterStopped)?;
        match sender.try_send(message) {
            Ok(()) => Ok(()),
            // Back-pressure only when the writer is far behind.
            Err(TrySendError::Full(message)) => sender
                .send(message)
                .map_err(|_| CatalogError::WriterStopped),
            Err(TrySendError::Disconnected(_)) => Err(CatalogError::WriterStopped),
        }
    }

    pub(crate) fn flush(&self) -> Result<(), CatalogError> {
        let (ack, done) = mpsc::sync_channel(1);
        self.send(Message::Flush(ack))?;
        done.recv()
            .map_err(|_| CatalogError::WriterStopped)?
            .map_err(|e| match e {
                CatalogErrorKind::DiskFull(n) => CatalogError::DiskFull(n),
                CatalogErrorKind::Other(e) => CatalogError::WriteFailed(e),
            })
    }
}

impl Drop for AuditWriter {
    /// Closing the channel lets the thread drain what is queued and stop;
    /// joining it makes every queued record durable before the catalog goes.
    fn drop(&mut self) {
        self.sender = None;
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::error!(
                    "the catalog audit writer panicked; recent audit records may be lost"
                );
            }
        }
    }
}

/// Records kept while they cannot be written (a full disk), at most; the
/// oldest beyond are dropped, with an error in the log.
const MAX_PENDING: usize = 262_144;

/// How often records kept after a failure are tried again when nothing
/// else arrives.
const RETRY: std::time::Duration = std::time::Duration::from_secs(1);

fn run(mut conn: Connection, receiver: Receiver<Message>) {
    // The first failure since the last flush, reported to that flush.
    let mut failure: Option<CatalogErrorKind> = None;
    // Records that could not be written yet: kept, in order, and written
    // before newer ones once the disk has room again.
    let mut pending: Vec<Message> = Vec::new();
    let mut batch = Vec::with_capacity(64);
    let mut open = true;
    while open {
        let first = if pending.is_empty() {
            receiver.recv().ok()
        } else {
            match receiver.recv_timeout(RETRY) {
                Ok(message) => Some(message),
                Err(mpsc::RecvTimeoutError::Timeout) => None,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    open = false;
                    None
                }
            }
        };
        match first {
            Some(first) => batch.push(first),
            None if pending.is_empty() => break,
            None => {}
        }
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(message) => batch.push(message),
                Err(_) => break,
            }
        }
        let mut acks = Vec::new();
        let mut records = std::mem::take(&mut pending);
        let kept = records.len();
        for message in batch.drain(..) {
            match message {
                Message::Flush(ack) => acks.push(ack),
                record => records.push(record),
            }
        }
        if !records.is_empty() {
            match write_batch(&mut conn, &records) {
                Ok(()) if kept > 0 => {
                    // Everything kept is written now: nothing to report.
                    failure = None;
                    tracing::info!(records = kept, "wrote the session audit records kept while the catalog could not be written");
                }
                Ok(()) => {}
                Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) => {
                    // Space comes back (a log rotated, a file removed): keep
                    // the records and try again.
                    if kept == 0 {
                        tracing::error!(error = %e, records = records.len(), "the disk under the catalog is full; session audit records are kept and written once there is room");
                    }
                    if records.len() > MAX_PENDING {
                        let dropped = records.len() - MAX_PENDING;
                        records.drain(..dropped);
                        tracing::error!(
                            records = dropped,
                            "dropped the oldest session audit records: too many wait to be written"
                        );
                    }
                    if !open {
                        tracing::error!(records = records.len(), error = %e, "session audit records lost at shutdown: the disk under the catalog is full");
                    }
                    failure = Some(CatalogErrorKind::DiskFull(records.len()));
                    pending = records;
                }
                Err(e) => {
                    // Not a condition that passes: retrying would hold up
                    // every later record.
                    tracing::error!(error = %e, records = records.len(), "cannot write session audit records");
                    failure.get_or_insert_with(|| CatalogErrorKind::Other(e.to_string()));
                }
            }
        }
        if !acks.is_empty() {
            let result = match failure.take() {
                Some(e) => Err(e),
                None => Ok(()),
            };
            for ack in acks {
                // A flusher that gave up waiting is no concern of ours.
                let _ = ack.send(result.clone());
            }
        }
    }
}

/// Why records could not be written, as a flush hears it (cloneable,
/// unlike [`CatalogError`]).
#[derive(Clone)]
pub(crate) enum CatalogErrorKind {
    /// The disk is full; this many records wait.
    DiskFull(usize),
    /// Another failure.
    Other(String),
}

fn write_batch(conn: &mut Connection, records: &[Message]) -> Result<(), rusqlite::Error> {
    let tx = conn.transaction()?;
    {
        let mut open = tx.prepare_cached(
            "INSERT INTO sessions (id, principal, client_host, client_process, client_address, opened_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(id) DO NOTHING",
        )?;
        let mut close = tx.prepare_cached(
            "UPDATE sessions SET closed_at = ?2, close_reason = ?3, released = ?4
             WHERE id = ?1 AND closed_at IS NULL",
        )?;
        for record in records {
            match record {
                Message::Opened(r) => {
                    open.execute(params![
                        r.id.to_string(),
                        r.principal,
                        r.client_host,
                        r.client_process,
                        r.client_address,
                        format_time(r.opened_at),
                    ])?;
                }
                Message::Closed(r) => {
                    let released: serde_json::Map<String, serde_json::Value> = r
                        .released
                        .iter()
                        .map(|(kind, n)| (kind.as_str().to_string(), (*n).into()))
                        .collect();
                    close.execute(params![
                        r.id.to_string(),
                        format_time(r.closed_at),
                        r.reason.as_str(),
                        serde_json::Value::Object(released).to_string(),
                    ])?;
                }
                Message::Audit(r) => crate::audit::append(&tx, r)?,
                Message::Flush(_) => {}
            }
        }
    }
    tx.commit()
}
