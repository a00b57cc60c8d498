//! The audit trail of requests: where each record goes (the catalog's
//! append-only table, and the local syslog when asked), how long the
//! catalog keeps them, and the markers the routes leave for the audit
//! layer (`api::audit`) to read: who logged in, what a body named.
//!
//! A record never holds a secret: the layer reads no body itself; the
//! summaries below pick named fields of a few bodies, and a login leaves
//! the user name it tried, never the password.

use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rdpm_catalog::Catalog;
use rdpm_types::{AuditAuthentication, AuditRecord};

use crate::session::Session;

/// Where the audit trail goes besides the catalog, and how long the
/// catalog keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditConfig {
    /// Also send each record as one line to this local syslog socket
    /// (`/dev/log`, which journald serves too); `None` for the catalog
    /// only.
    pub syslog_socket: Option<PathBuf>,
    /// Records older than this many days are deleted, at start and once a
    /// day.
    pub retention_days: u32,
}

impl AuditConfig {
    /// The syslog socket of the system.
    pub const DEFAULT_SYSLOG_SOCKET: &'static str = "/dev/log";
    /// Days kept unless told otherwise: a year and a few weeks, for a
    /// yearly review.
    pub const DEFAULT_RETENTION_DAYS: u32 = 400;
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            syslog_socket: None,
            retention_days: Self::DEFAULT_RETENTION_DAYS,
        }
    }
}

/// Where records go.
pub(crate) struct AuditTrail {
    catalog: Arc<dyn Catalog>,
    syslog: Option<Syslog>,
}

impl AuditTrail {
    /// Records to `catalog`, and to the syslog socket `config` names. A
    /// socket that is not there yet is a warning: records are sent to it
    /// from when it appears.
    pub(crate) fn new(catalog: Arc<dyn Catalog>, config: &AuditConfig) -> Self {
        let syslog = config
            .syslog_socket
            .as_ref()
            .map(|path| Syslog::new(path.clone()));
        AuditTrail { catalog, syslog }
    }

    /// Appends `record` (queued: never waits for the disk).
    pub(crate) fn record(&self, record: AuditRecord) {
        if let Some(syslog) = &self.syslog {
            syslog.send(&record);
        }
        if let Err(e) = self.catalog.record_audit(record) {
            tracing::error!(error = %e, "cannot queue an audit record for the catalog");
        }
    }
}

/// Deletes the audit records older than `days` days before `now`.
pub(crate) fn apply_retention(
    catalog: &dyn Catalog,
    days: u32,
    now: DateTime<Utc>,
) -> Result<u64, rdpm_catalog::CatalogError> {
    let before = now - chrono::Duration::days(i64::from(days));
    let removed = catalog.purge_audit_log(before)?;
    if removed > 0 {
        tracing::info!(
            records = removed,
            days,
            "removed audit records older than the retention"
        );
    }
    Ok(removed)
}

/// Facility `authpriv` (10), as RFC 5424 and RFC 3164 number it.
const AUTHPRIV: u8 = 10;
/// Severity `info`: a request that succeeded.
const INFO: u8 = 6;
/// Severity `notice`: a request refused or failed.
const NOTICE: u8 = 5;

/// Lines that may wait for the syslog socket before new ones are dropped
/// (with a warning): bursts far beyond what a daemon falls behind by.
const SYSLOG_QUEUE: usize = 16_384;

/// The local syslog socket, written one datagram per record in the
/// format of the C library's `syslog()` (RFC 3164 with a local time
/// stamp and no host name), which journald and rsyslog both read.
///
/// A thread of its own sends the lines, waiting for the daemon as the C
/// library does, so that a request never waits and a burst is not lost
/// to the socket's short queue.
struct Syslog {
    sender: SyncSender<String>,
    tag: String,
    /// Set after dropped lines were logged, cleared when lines go through
    /// again, so a stalled daemon is one warning, not one per request.
    dropping: AtomicBool,
}

impl Syslog {
    fn new(path: PathBuf) -> Syslog {
        if !path.exists() {
            tracing::warn!(
                socket = %path.display(),
                "the syslog socket is not there; audit records go to the catalog, and to syslog once the socket appears"
            );
        }
        let (sender, lines) = mpsc::sync_channel(SYSLOG_QUEUE);
        let spawned = std::thread::Builder::new()
            .name("rdpm-audit-syslog".into())
            .spawn(move || send_lines(&path, &lines));
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "cannot start the syslog sender; audit records go to the catalog only");
        }
        Syslog {
            sender,
            tag: format!("rdpm[{}]", std::process::id()),
            dropping: AtomicBool::new(false),
        }
    }

    fn send(&self, record: &AuditRecord) {
        match self.sender.try_send(syslog_line(&self.tag, record)) {
            Ok(()) => {
                if self.dropping.swap(false, Ordering::Relaxed) {
                    tracing::info!("audit records are queued for syslog again");
                }
            }
            Err(_) => {
                if !self.dropping.swap(true, Ordering::Relaxed) {
                    tracing::warn!("syslog does not keep up: audit records are dropped for it until it does; the catalog has them all");
                }
            }
        }
    }
}

/// The sender thread: each line to `path`, until the server drops the
/// queue. A socket that is missing or refuses is one warning until it
/// takes lines again.
fn send_lines(path: &std::path::Path, lines: &Receiver<String>) {
    let socket = match UnixDatagram::unbound() {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot make a socket for syslog; audit records go to the catalog only");
            return;
        }
    };
    let mut failing = !path.exists();
    for line in lines {
        match socket.send_to(line.as_bytes(), path) {
            Ok(_) if failing => {
                failing = false;
                tracing::info!(socket = %path.display(), "audit records reach syslog");
            }
            Ok(_) => {}
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(socket = %path.display(), error = %e, "cannot send audit records to syslog; the catalog still has them");
            }
            Err(_) => {}
        }
    }
}

/// The datagram of one record: `<PRI>Mmm dd hh:mm:ss TAG: audit k=v ...`.
fn syslog_line(tag: &str, record: &AuditRecord) -> String {
    let severity = if record.succeeded() { INFO } else { NOTICE };
    let priority = AUTHPRIV * 8 + severity;
    let stamp = record
        .time
        .with_timezone(&chrono::Local)
        .format("%b %e %H:%M:%S");
    format!("<{priority}>{stamp} {tag}: {}", message(record))
}

/// The record as one line of `key=value` pairs, texts quoted.
pub(crate) fn message(record: &AuditRecord) -> String {
    let mut out = String::with_capacity(256);
    out.push_str("audit");
    let mut pair = |key: &str, value: &str, quoted: bool| {
        out.push(' ');
        out.push_str(key);
        out.push('=');
        if quoted {
            out.push('"');
            for c in value.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    c if c.is_control() => out.push(' '),
                    c => out.push(c),
                }
            }
            out.push('"');
        } else {
            out.push_str(value);
        }
    };
    pair("time", &record.time.to_rfc3339(), false);
    pair("user", record.principal.as_deref().unwrap_or("-"), true);
    pair("auth", record.authentication.as_str(), false);
    pair(
        "session",
        &record
            .session_id
            .map_or_else(|| "-".to_string(), |s| s.to_string()),
        false,
    );
    pair("address", &record.client_address, true);
    pair("host", record.client_host.as_deref().unwrap_or("-"), true);
    pair("action", &record.action, false);
    pair("method", &record.method, false);
    pair("path", &record.path, true);
    pair("target", record.target.as_deref().unwrap_or("-"), true);
    pair("status", &record.status.to_string(), false);
    pair("error", record.error_id.map_or("-", |e| e.as_str()), false);
    pair("duration_ms", &record.duration_ms.to_string(), false);
    out
}

/// What a login (`POST /api/v1/sessions`) leaves in its answer's
/// extensions for the audit layer: how the caller authenticated, the user
/// name tried with a password, the host the client stated, and the
/// session: the caller's (a session token, refused) or the one opened.
#[derive(Clone)]
pub(crate) struct LoginAttempt {
    pub(crate) authentication: AuditAuthentication,
    pub(crate) user_name: Option<String>,
    pub(crate) client_host: Option<String>,
    pub(crate) session: Option<Arc<Session>>,
}

impl Default for LoginAttempt {
    fn default() -> Self {
        LoginAttempt {
            authentication: AuditAuthentication::None,
            user_name: None,
            client_host: None,
            session: None,
        }
    }
}

/// Most bytes of a refused request's body read for its summary: the
/// bodies summarized are small, and a refused caller gets no more.
const REFUSED_BODY_LIMIT: usize = 64 * 1024;

/// The summary of a request body the audit layer asked for: the layer
/// puts one in the request's extensions for the routes whose bodies it
/// summarizes, and the JSON body extractor fills it once it has parsed
/// the body.
#[derive(Clone)]
pub(crate) struct AuditNote {
    summarize: fn(&serde_json::Value) -> Option<String>,
    slot: Arc<OnceLock<String>>,
}

impl AuditNote {
    /// A note for `route`, if its body is one to summarize.
    pub(crate) fn for_route(route: &str) -> Option<AuditNote> {
        let summarize: fn(&serde_json::Value) -> Option<String> = match route {
            "StartRestores" => summaries::restore,
            "StartBackups" => summaries::backups,
            "StartConsistencyChecks" => summaries::consistency_checks,
            "CreateDraft" => summaries::new_group,
            "RenameDraft" => summaries::rename,
            "AddMembers" => summaries::members,
            "AddPoolMember" => summaries::pool_member,
            "AttachAgent" => summaries::attach,
            _ => return None,
        };
        Some(AuditNote {
            summarize,
            slot: Arc::new(OnceLock::new()),
        })
    }

    /// Summarizes the parsed body.
    pub(crate) fn fill(&self, body: &serde_json::Value) {
        if let Some(summary) = (self.summarize)(body) {
            let _ = self.slot.set(summary);
        }
    }

    /// Summarizes the body of a request refused before its handler read
    /// it: at most [`REFUSED_BODY_LIMIT`] bytes, within `timeout`; a body
    /// larger, slower or not JSON goes unsummarized.
    pub(crate) async fn fill_from(&self, body: axum::body::Body, timeout: Option<Duration>) {
        let read = axum::body::to_bytes(body, REFUSED_BODY_LIMIT);
        let bytes = match timeout {
            Some(limit) => tokio::time::timeout(limit, read).await.ok(),
            None => Some(read.await),
        };
        if let Some(Ok(bytes)) = bytes {
            if let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes) {
                self.fill(&value);
            }
        }
    }

    /// The summary, once the body was read.
    pub(crate) fn summary(&self) -> Option<&str> {
        self.slot.get().map(String::as_str)
    }
}

/// Short summaries of the bodies worth naming: what was acted on and
/// where. Each reads the body as its type and names chosen fields only.
mod summaries {
    use rdpm_types::{
        AddChildDatasources, ConsistencyCheckRequest, NewPoolMember, NewProtectionGroup,
        NewRecoveryPoints, RenameProtectionGroup, RestoreRequest,
    };
    use serde::de::DeserializeOwned;
    use serde_json::Value;

    fn read<T: DeserializeOwned>(body: &Value) -> Option<T> {
        serde_json::from_value(body.clone()).ok()
    }

    fn list<T: ToString>(items: impl IntoIterator<Item = T>) -> String {
        items
            .into_iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub(super) fn restore(body: &Value) -> Option<String> {
        let r: RestoreRequest = read(body)?;
        let items = list(r.items.iter().map(|i| match &i.path {
            Some(p) => format!("{} ({})", i.recovery_point_id, p.display),
            None => i.recovery_point_id.clone(),
        }));
        let o = &r.option;
        let folder = o
            .alternate_location
            .as_ref()
            .map(|p| format!(" folder {}", p.display))
            .unwrap_or_default();
        Some(format!(
            "recovery points {items}; to {:?} on {}{folder}; overwrite {:?}",
            o.recovery_location, o.target_server, o.overwrite_type
        ))
    }

    /// The host that attached, never its key.
    pub(super) fn attach(body: &Value) -> Option<String> {
        let r: rdpm_types::AgentAttachRequest = read(body)?;
        let bounded = |text: &str| text.chars().take(256).collect::<String>();
        Some(format!(
            "agent of {} (rdpm {})",
            bounded(&r.names.name),
            bounded(&r.version)
        ))
    }

    pub(super) fn backups(body: &Value) -> Option<String> {
        let r: NewRecoveryPoints = read(body)?;
        Some(format!("datasources {}", list(r.datasources)))
    }

    pub(super) fn consistency_checks(body: &Value) -> Option<String> {
        let r: ConsistencyCheckRequest = read(body)?;
        Some(match r.protection_group {
            Some(g) => format!("protection group {g}"),
            None => format!("datasources {}", list(r.datasources)),
        })
    }

    pub(super) fn new_group(body: &Value) -> Option<String> {
        let r: NewProtectionGroup = read(body)?;
        r.name.map(|n| format!("name {n}"))
    }

    pub(super) fn rename(body: &Value) -> Option<String> {
        let r: RenameProtectionGroup = read(body)?;
        Some(format!("new name {}", r.new_name))
    }

    pub(super) fn members(body: &Value) -> Option<String> {
        let r: AddChildDatasources = read(body)?;
        Some(format!(
            "paths {}",
            list(r.datasources.iter().map(|d| &d.path.display))
        ))
    }

    pub(super) fn pool_member(body: &Value) -> Option<String> {
        let r: NewPoolMember = read(body)?;
        Some(format!("path {}", r.path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdpm_types::ErrorId;

    fn record() -> AuditRecord {
        AuditRecord {
            sequence: 0,
            time: DateTime::parse_from_rfc3339("2026-03-01T10:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            principal: Some("al\"ice".into()),
            authentication: AuditAuthentication::SessionToken,
            session_id: None,
            client_address: "127.0.0.1:4000".into(),
            client_host: Some("ws1\nforged line".into()),
            action: "StartRestores".into(),
            method: "POST".into(),
            path: "/api/v1/jobs/restore".into(),
            target: None,
            status: 403,
            error_id: Some(ErrorId::PermissionDenied),
            duration_ms: 3,
        }
    }

    #[test]
    fn a_record_is_one_line_at_authpriv_with_quotes_escaped() {
        let line = syslog_line("rdpm[1]", &record());
        assert!(line.starts_with("<85>"), "{line}");
        assert!(!line.contains('\n'), "{line}");
        assert!(line.contains(" rdpm[1]: audit time="), "{line}");
        assert!(line.contains(r#"user="al\"ice""#), "{line}");
        assert!(line.contains(r#"host="ws1 forged line""#), "{line}");
        assert!(line.contains("action=StartRestores"), "{line}");
        assert!(line.contains("status=403 error=PermissionDenied"), "{line}");
        let mut ok = record();
        ok.status = 201;
        assert!(syslog_line("rdpm[1]", &ok).starts_with("<86>"));
    }

    #[test]
    fn retention_deletes_only_the_records_older_than_its_days() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = rdpm_catalog::SqliteCatalog::open(&dir.path().join("c.db")).unwrap();
        let now = Utc::now();
        for days in [401, 399] {
            let mut r = record();
            r.time = now - chrono::Duration::days(days);
            r.action = format!("Aged{days}");
            catalog.record_audit(r).unwrap();
        }
        assert_eq!(apply_retention(&catalog, 400, now).unwrap(), 1);
        let left = catalog
            .audit_log(&rdpm_types::AuditQuery::default())
            .unwrap();
        assert_eq!(
            left.iter().map(|r| r.action.as_str()).collect::<Vec<_>>(),
            ["Aged399"]
        );
    }
}
