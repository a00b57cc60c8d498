//! The audit trail: a layer that records every call of a route whose
//! method is not `GET` (changes, job starts, restores, logins, session
//! closes; refused ones too), and the route that reads the records
//! (`Get-DPMAuditLog`).
//!
//! The layer runs around the authorization layer, so it sees every
//! refusal. It learns who called from the answer's extensions: the
//! authorization layer leaves the `Caller` there once it has authenticated
//! one (refused or not), the login route a `LoginAttempt`, and a problem
//! answer its `ErrorId`. It reads no body itself: for a few routes it asks
//! the JSON body extractor for a short summary (`AuditNote`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use axum::Json;
use rdpm_types::routes::Route;
use rdpm_types::{
    AuditAuthentication, AuditQuery, AuditRecord, ErrorId, Problem, ADMINISTRATOR_TOKEN_PRINCIPAL,
};

use super::authorize::route_of;
use super::blocking::blocking;
use super::extract::{ApiQuery, Caller};
use super::state::AppState;
use crate::audit::{AuditNote, LoginAttempt};
use crate::error::ApiError;
use crate::session::{PrincipalKind, Session};

/// Longest path kept in a record; longer ones are cut.
const MAX_PATH: usize = 1024;
/// Longest target kept in a record.
const MAX_TARGET: usize = 1024;
/// Longest user name or client host kept in a record.
const MAX_NAME: usize = 256;

/// `text` cut to `max` characters.
fn bounded(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_string(),
    }
}

/// The layer: records every call of a matched route that is not a read.
pub(crate) async fn audit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() == Method::GET {
        return next.run(request).await;
    }
    let started = Instant::now();
    let time = chrono::Utc::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .and_then(|m| route_of(request.method(), m.as_str()));
    let method = request.method().to_string();
    let path = request.uri().path().to_string();
    let address = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.to_string())
        .unwrap_or_default();
    let note = route.and_then(|r| AuditNote::for_route(r.name));
    let mut request = request;
    if let Some(note) = &note {
        request.extensions_mut().insert(note.clone());
    }
    let response = next.run(request).await;

    let mut record = AuditRecord {
        sequence: 0,
        time,
        principal: None,
        authentication: AuditAuthentication::None,
        session_id: None,
        client_address: address,
        client_host: None,
        action: route.map_or_else(|| "Unknown".to_string(), |r| r.name.to_string()),
        method,
        path: bounded(&path, MAX_PATH),
        target: target(route, &path, note.as_ref().and_then(AuditNote::summary)),
        status: response.status().as_u16(),
        error_id: response.extensions().get::<ErrorId>().copied(),
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    };
    if let Some(caller) = response.extensions().get::<Caller>() {
        identify_caller(&mut record, caller);
    } else if let Some(login) = response.extensions().get::<LoginAttempt>() {
        identify_login(&mut record, login);
    }
    state.audit.record(record);
    response
}

fn principal_of(session: &Session) -> String {
    match session.kind() {
        PrincipalKind::AdminToken => ADMINISTRATOR_TOKEN_PRINCIPAL.to_string(),
        PrincipalKind::User | PrincipalKind::ApiToken(_) => session.principal().to_string(),
    }
}

fn identify_caller(record: &mut AuditRecord, caller: &Caller) {
    match caller {
        Caller::Admin => {
            record.principal = Some(ADMINISTRATOR_TOKEN_PRINCIPAL.to_string());
            record.authentication = AuditAuthentication::AdministratorToken;
        }
        Caller::ApiToken(token) => {
            record.principal = Some(bounded(token.user_name(), MAX_NAME));
            record.authentication = AuditAuthentication::ApiToken;
        }
        Caller::Agent(id) => {
            record.principal = Some(format!("agent {id}"));
            record.authentication = AuditAuthentication::AgentCredential;
        }
        Caller::Session(session) => {
            record.principal = Some(principal_of(session));
            record.authentication = AuditAuthentication::SessionToken;
            record.session_id = Some(session.id());
            record.client_host = Some(bounded(session.client_host(), MAX_NAME));
        }
    }
}

fn identify_login(record: &mut AuditRecord, login: &LoginAttempt) {
    record.authentication = login.authentication;
    record.principal = match login.authentication {
        AuditAuthentication::AdministratorToken => Some(ADMINISTRATOR_TOKEN_PRINCIPAL.to_string()),
        _ => login.user_name.as_deref().map(|n| bounded(n, MAX_NAME)),
    };
    record.client_host = login.client_host.as_deref().map(|h| bounded(h, MAX_NAME));
    if let Some(session) = &login.session {
        record.session_id = Some(session.id());
        record.principal = Some(principal_of(session));
    }
}

/// What the request named: the path's ids by the template's names, and
/// the body's summary.
fn target(route: Option<&Route>, path: &str, summary: Option<&str>) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(route) = route {
        for (template, actual) in route.path.split('/').zip(path.split('/')) {
            if let Some(name) = template.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                parts.push(format!("{name}={actual}"));
            }
        }
    }
    if let Some(summary) = summary {
        parts.push(summary.to_string());
    }
    (!parts.is_empty()).then(|| bounded(&parts.join("; "), MAX_TARGET))
}

#[utoipa::path(
    get,
    path = rdpm_types::paths::AUDIT_LOG,
    tag = "server",
    params(AuditQuery),
    responses(
        (status = 200, description = "The audit records the query selects, newest first (Get-DPMAuditLog)", body = Vec<AuditRecord>),
        (status = 400, description = "A query value is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller does not hold the right Administer", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list_audit_log(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<Vec<AuditRecord>>, ApiError> {
    if let Some(limit) = query.limit {
        if limit == 0 || limit > rdpm_types::AUDIT_LOG_MAX_LIMIT {
            return Err(ApiError::new(
                ErrorId::InvalidRequest,
                format!(
                    "limit is {limit}; it must be between 1 and {}.",
                    rdpm_types::AUDIT_LOG_MAX_LIMIT
                ),
            ));
        }
    }
    if let (Some(from), Some(to)) = (query.from, query.to) {
        if from > to {
            return Err(ApiError::new(
                ErrorId::InvalidRequest,
                format!("from ({from}) is later than to ({to})."),
            ));
        }
    }
    let catalog = Arc::clone(&state.engine.catalog);
    blocking(move || {
        catalog
            .audit_log(&query)
            .map_err(|e| rdpm_engine::EngineError::internal("cannot read the audit log", &e))
    })
    .await
    .map(Json)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdpm_types::routes;

    #[test]
    fn the_target_names_the_paths_ids_and_the_summary() {
        let route = routes::ALL
            .iter()
            .find(|r| r.name == "RemoveMember")
            .unwrap();
        assert_eq!(
            target(
                Some(route),
                "/api/v1/modifiable-protection-groups/A/members/B",
                None
            )
            .as_deref(),
            Some("id=A; datasource_id=B")
        );
        let restore = routes::ALL
            .iter()
            .find(|r| r.name == "StartRestores")
            .unwrap();
        assert_eq!(
            target(Some(restore), "/api/v1/jobs/restore", Some("points x")).as_deref(),
            Some("points x")
        );
        assert_eq!(target(Some(restore), "/api/v1/jobs/restore", None), None);
        assert_eq!(bounded("abcdef", 3), "abc...");
    }
}
