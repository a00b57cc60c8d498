//! Protection group drafts: objects of the caller's session
//! (`New-DPMProtectionGroup`, `Get-DPMModifiableProtectionGroup`, the
//! cmdlets that edit a group, and `Set-DPMProtectionGroup`).
//!
//! A draft of an existing group holds the group's edit lock, so only one
//! session edits a group at a time and its commit cannot interleave with
//! another; a new group's draft needs no lock (nobody else can name it),
//! and its name is checked at once and again, atomically, at commit.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use chrono::Utc;
use rdpm_catalog::GroupCommit;
use rdpm_engine::protection::{check_alert_threshold, check_group_name, check_policy};
use rdpm_types::{
    path_contains, paths, AddChildDatasources, DataLocation, DatasourceId, ErrorId,
    ModifiableProtectionGroup, NewProtectionGroup, ObjectId, ObjectKind, OpenProtectionGroup,
    PolicyObjective, Problem, ProtectionGroup, ProtectionGroupId, RemoveMemberQuery,
    RenameProtectionGroup, ReplicaCreationMethod, SetAlertThreshold, SetPolicyObjective,
    SetProtectionType, StopProtection,
};

use super::blocking::blocking;
use super::extract::{ApiJson, ApiQuery, Caller, IdParam};
use super::ids::parse_id;
use super::state::AppState;
use crate::error::ApiError;
use crate::session::{LockKey, ProtectionGroupDraft, Session, SessionError, SessionObject};

/// Longest wait for another session's edit lock.
const MAX_OPEN_TIMEOUT: Duration = Duration::from_secs(3600);

fn as_draft_mut(object: &mut SessionObject) -> Option<&mut ProtectionGroupDraft> {
    match object {
        SessionObject::ModifiableProtectionGroup(draft) => Some(draft),
        _ => None,
    }
}

/// Runs `f` on a draft of the session, under the session's lock.
pub(super) fn edit<R>(
    session: &Session,
    id: ObjectId,
    f: impl FnOnce(&mut ProtectionGroupDraft) -> Result<R, ApiError>,
) -> Result<R, ApiError> {
    session.with_object_mut(id, |object| match as_draft_mut(object) {
        None => Err(SessionError::ObjectNotFound(id).into()),
        Some(draft) if draft.committing => Err(ApiError::new(
            ErrorId::InvalidRequest,
            format!(
                "Protection group '{}' is being committed from this draft; wait for the \
                     commit to finish.",
                draft.group.name
            ),
        )
        .with_status(409)
        .with_target(id.to_string())),
        Some(draft) => f(draft),
    })?
}

pub(super) fn view(session: &Session, id: ObjectId) -> Result<ModifiableProtectionGroup, ApiError> {
    session
        .with_object(id, |object| match object {
            SessionObject::ModifiableProtectionGroup(draft) => Some(draft.view(id)),
            _ => None,
        })?
        .ok_or_else(|| SessionError::ObjectNotFound(id).into())
}

fn created(draft: ModifiableProtectionGroup) -> impl IntoResponse {
    (
        StatusCode::CREATED,
        [(
            header::LOCATION,
            paths::modifiable_protection_group(&draft.object_id),
        )],
        Json(draft),
    )
}

#[utoipa::path(
    post,
    path = rdpm_types::paths::MODIFIABLE_PROTECTION_GROUPS,
    tag = "protection groups",
    request_body = NewProtectionGroup,
    responses(
        (status = 201, description = "A new group's draft, an object of the caller's session (New-DPMProtectionGroup)", body = ModifiableProtectionGroup),
        (status = 400, description = "Invalid name", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another group has the name", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn create_draft(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<NewProtectionGroup>,
) -> Result<impl IntoResponse, ApiError> {
    let session = caller.into_session()?;
    let id = ProtectionGroupId::new_random();
    if let Some(name) = &request.name {
        rdpm_engine::text::check("name", name, rdpm_engine::text::MAX_NAME)?;
    }
    let name = request.name.map(|n| check_group_name(&n)).transpose()?;
    let engine = Arc::clone(&state.engine);
    let name = blocking(move || match name {
        Some(name) => engine.protection.check_name_free(&name, id).map(|()| name),
        None => engine.protection.default_group_name(),
    })
    .await?;
    let group = ProtectionGroup {
        id,
        name,
        short_term: Some(DataLocation::Disk),
        policy_objective: PolicyObjective::default_short_term_disk(),
        replica_creation_method: ReplicaCreationMethod::Now,
        pool_member_id: None,
        members: Vec::new(),
        version: 0,
        created_at: None,
        modified_at: None,
        schedules: Default::default(),
    };
    let mut shown = None;
    session.insert_with(|object_id| {
        let draft = ProtectionGroupDraft::new_group(group);
        shown = Some(draft.view(object_id));
        SessionObject::ModifiableProtectionGroup(Box::new(draft))
    })?;
    let shown = shown.ok_or_else(|| ApiError::internal("draft creation", &"draft not built"))?;
    Ok(created(shown))
}

#[utoipa::path(
    post,
    path = rdpm_types::paths::PROTECTION_GROUP_MODIFIABLE_TEMPLATE,
    tag = "protection groups",
    params(
        ("id" = String, Path, description = "Protection group id"),
        ("timeout_secs" = Option<u64>, Query, description = "Wait up to this many seconds (at most 3600) for another session to release the group; fail at once when absent or 0"),
    ),
    responses(
        (status = 201, description = "The group opened for modification: a draft holding its edit lock (Get-DPMModifiableProtectionGroup)", body = ModifiableProtectionGroup),
        (status = 404, description = "No such protection group", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another session (or this one) holds the group's edit lock; the problem names who and since when", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn open_for_modification(
    State(state): State<AppState>,
    caller: Caller,
    IdParam(id): IdParam,
    ApiQuery(query): ApiQuery<OpenProtectionGroup>,
) -> Result<impl IntoResponse, ApiError> {
    let session = caller.into_session()?;
    let group_id = parse_id::<ProtectionGroupId>(&id)?;
    let engine = Arc::clone(&state.engine);
    let group = blocking(move || engine.protection.protection_group(group_id)).await?;
    let key = LockKey::protection_group(&group_id.to_string());
    let make = |_: ObjectId, guard| {
        SessionObject::ModifiableProtectionGroup(Box::new(ProtectionGroupDraft::existing(
            group, guard,
        )))
    };
    let timeout = Duration::from_secs(query.timeout_secs.unwrap_or(0)).min(MAX_OPEN_TIMEOUT);
    let object_id = if timeout.is_zero() {
        state.sessions.try_insert_locked(&session, &key, make)?
    } else {
        state
            .sessions
            .insert_locked_timeout(&session, &key, timeout, make)
            .await?
    };
    // The group was read before the lock was ours: a commit may have come
    // in between. Now that no one else can commit, read it again.
    let engine = Arc::clone(&state.engine);
    let fresh = blocking(move || engine.protection.protection_group(group_id)).await;
    match fresh {
        Ok(fresh) => edit(&session, object_id, |draft| {
            if draft.group.version != fresh.version {
                draft.group = fresh;
            }
            Ok(())
        })?,
        Err(e) => {
            // Gone meanwhile: give the lock back.
            let _ = session.remove_object(object_id, ObjectKind::ModifiableProtectionGroup);
            return Err(e);
        }
    }
    Ok(created(view(&session, object_id)?))
}

#[utoipa::path(
    get,
    path = rdpm_types::paths::MODIFIABLE_PROTECTION_GROUPS,
    tag = "protection groups",
    responses(
        (status = 200, description = "The caller's drafts, oldest first", body = Vec<ModifiableProtectionGroup>),
    )
)]
pub(crate) async fn list_drafts(
    caller: Caller,
) -> Result<Json<Vec<ModifiableProtectionGroup>>, ApiError> {
    let session = caller.into_session()?;
    let mut drafts = session.with_objects_by_id(|id, object| match object {
        SessionObject::ModifiableProtectionGroup(draft) => Some(draft.view(id)),
        _ => None,
    })?;
    drafts.sort_by(|a, b| {
        a.opened_at
            .cmp(&b.opened_at)
            .then(a.object_id.cmp(&b.object_id))
    });
    Ok(Json(drafts))
}

#[utoipa::path(
    get,
    path = rdpm_types::paths::MODIFIABLE_BY_ID_TEMPLATE,
    tag = "protection groups",
    params(("id" = String, Path, description = "Draft (session object) id")),
    responses(
        (status = 200, description = "The draft", body = ModifiableProtectionGroup),
        (status = 404, description = "No such draft in the caller's session", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get_draft(
    caller: Caller,
    IdParam(id): IdParam,
) -> Result<Json<ModifiableProtectionGroup>, ApiError> {
    let session = caller.into_session()?;
    let id = parse_id::<ObjectId>(&id)?;
    view(&session, id).map(Json)
}

#[utoipa::path(
    delete,
    path = rdpm_types::paths::MODIFIABLE_BY_ID_TEMPLATE,
    tag = "protection groups",
    params(("id" = String, Path, description = "Draft (session object) id")),
    responses(
        (status = 204, description = "Discarded; the group's edit lock is free"),
        (status = 404, description = "No such draft in the caller's session", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn discard_draft(
    caller: Caller,
    IdParam(id): IdParam,
) -> Result<StatusCode, ApiError> {
    let session = caller.into_session()?;
    let id = parse_id::<ObjectId>(&id)?;
    session.remove_object(id, ObjectKind::ModifiableProtectionGroup)?;
    Ok(StatusCode::NO_CONTENT)
}

/// The draft's group id, for checks that must leave the group itself out.
fn draft_group_id(session: &Session, id: ObjectId) -> Result<ProtectionGroupId, ApiError> {
    edit(session, id, |draft| Ok(draft.group.id))
}

#[utoipa::path(
    post,
    path = rdpm_types::paths::MODIFIABLE_MEMBERS_TEMPLATE,
    tag = "protection groups",
    params(("id" = String, Path, description = "Draft (session object) id")),
    request_body = AddChildDatasources,
    responses(
        (status = 200, description = "The draft with the datasources added, all or none (Add-DPMChildDatasource)", body = ModifiableProtectionGroup),
        (status = 400, description = "Invalid path", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such draft, production server or path", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A datasource is already protected (by another group or by this one)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn add_members(
    State(state): State<AppState>,
    caller: Caller,
    IdParam(id): IdParam,
    ApiJson(mut request): ApiJson<AddChildDatasources>,
) -> Result<Json<ModifiableProtectionGroup>, ApiError> {
    let session = caller.into_session()?;
    let id = parse_id::<ObjectId>(&id)?;
    request.datasources = super::lists::distinct(request.datasources, "datasources")?;
    if request.datasources.is_empty() {
        return Err(ApiError::new(
            ErrorId::InvalidRequest,
            "datasources is empty: name at least one datasource to add.",
        ));
    }
    let group_id = draft_group_id(&session, id)?;
    let engine = Arc::clone(&state.engine);
    let members = blocking(move || {
        request
            .datasources
            .iter()
            .map(|d| {
                engine
                    .protection
                    .resolve_member(d.production_server_id, &d.path, group_id)
            })
            .collect::<Result<Vec<_>, _>>()
    })
    .await?;
    edit(&session, id, |draft| {
        let mut next = draft.group.members.clone();
        for member in members {
            let path = member.path.to_bytes().unwrap_or_default();
            if let Some(other) = next.iter().find(|m| {
                m.production_server_id == member.production_server_id
                    && m.path
                        .to_bytes()
                        .is_some_and(|o| path_contains(&o, &path) || path_contains(&path, &o))
            }) {
                return Err(ApiError::new(
                    ErrorId::DatasourceAlreadyProtected,
                    format!(
                        "'{}' is already protected by protection group '{}' (as '{}'); a \
                         datasource belongs to at most one protection group.",
                        member.path.display, draft.group.name, other.path.display
                    ),
                )
                .with_target(member.path.display.clone()));
            }
            draft
                .stopped
                .retain(|s| s.member.datasource_id != member.datasource_id);
            next.push(member);
        }
        next.sort_by_key(|m| m.path.to_bytes());
        draft.group.members = next;
        Ok(())
    })?;
    view(&session, id).map(Json)
}

#[utoipa::path(
    delete,
    path = rdpm_types::paths::MODIFIABLE_MEMBER_TEMPLATE,
    tag = "protection groups",
    params(
        ("id" = String, Path, description = "Draft (session object) id"),
        ("datasource_id" = String, Path, description = "Member datasource id"),
        RemoveMemberQuery,
    ),
    responses(
        (status = 200, description = "The draft without the member (Remove-DPMChildDatasource)", body = ModifiableProtectionGroup),
        (status = 404, description = "No such draft, or the datasource is not a member", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn remove_member(
    caller: Caller,
    Path((id, datasource)): Path<(String, String)>,
    ApiQuery(query): ApiQuery<RemoveMemberQuery>,
) -> Result<Json<ModifiableProtectionGroup>, ApiError> {
    let session = caller.into_session()?;
    let id = parse_id::<ObjectId>(&id)?;
    let not_member = |text: &str, group: &str| {
        ApiError::new(
            ErrorId::DatasourceNotFound,
            format!("Datasource {text} is not a member of protection group '{group}'."),
        )
        .with_target(text)
    };
    edit(&session, id, |draft| {
        let datasource: DatasourceId = datasource
            .parse()
            .map_err(|_| not_member(&datasource, &draft.group.name))?;
        let index = draft
            .group
            .members
            .iter()
            .position(|m| m.datasource_id == datasource)
            .ok_or_else(|| not_member(&datasource.to_string(), &draft.group.name))?;
        let member = draft.group.members.remove(index);
        if !draft.is_new {
            draft.stopped.push(StopProtection {
                member,
                keep_disk_data: query.keep_disk_data,
            });
        }
        Ok(())
    })?;
    view(&session, id).map(Json)
}

#[utoipa::path(
    put,
    path = rdpm_types::paths::MODIFIABLE_PROTECTION_TYPE_TEMPLATE,
    tag = "protection groups",
    params(("id" = String, Path, description = "Draft (session object) id")),
    request_body = SetProtectionType,
    responses(
        (status = 200, description = "The draft (Set-DPMProtectionType)", body = ModifiableProtectionGroup),
        (status = 400, description = "Not supported: rdpm protects to disk only", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn set_protection_type(
    caller: Caller,
    IdParam(id): IdParam,
    ApiJson(request): ApiJson<SetProtectionType>,
) -> Result<Json<ModifiableProtectionGroup>, ApiError> {
    let session = caller.into_session()?;
    let id = parse_id::<ObjectId>(&id)?;
    if request.short_term != Some(DataLocation::Disk) {
        let asked = match request.short_term {
            Some(DataLocation::Tape) => "Tape",
            _ => "none",
        };
        return Err(ApiError::new(
            ErrorId::NotSupported,
            format!(
                "Short-term protection '{asked}' is not supported by rdpm: it protects to disk \
                 only (-ShortTerm Disk)."
            ),
        )
        .with_target("ShortTerm"));
    }
    edit(&session, id, |draft| {
        draft.group.short_term = request.short_term;
        Ok(())
    })?;
    view(&session, id).map(Json)
}

#[utoipa::path(
    put,
    path = rdpm_types::paths::MODIFIABLE_POLICY_OBJECTIVE_TEMPLATE,
    tag = "protection groups",
    params(("id" = String, Path, description = "Draft (session object) id")),
    request_body = SetPolicyObjective,
    responses(
        (status = 200, description = "The draft (Set-DPMPolicyObjective, ShortTermDisk set)", body = ModifiableProtectionGroup),
        (status = 400, description = "Retention or frequency out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn set_policy_objective(
    caller: Caller,
    IdParam(id): IdParam,
    ApiJson(request): ApiJson<SetPolicyObjective>,
) -> Result<Json<ModifiableProtectionGroup>, ApiError> {
    let session = caller.into_session()?;
    let id = parse_id::<ObjectId>(&id)?;
    edit(&session, id, |draft| {
        draft.group.policy_objective = check_policy(
            draft.group.policy_objective,
            request.retention_range_days,
            request.synchronization_frequency_minutes,
            request.before_recovery_point,
        )?;
        Ok(())
    })?;
    view(&session, id).map(Json)
}

#[utoipa::path(
    put,
    path = rdpm_types::paths::MODIFIABLE_ALERT_THRESHOLD_TEMPLATE,
    tag = "protection groups",
    params(("id" = String, Path, description = "Draft (session object) id")),
    request_body = SetAlertThreshold,
    responses(
        (status = 200, description = "The draft (Set-DPMPolicyObjective, AlertThresholdInDays set)", body = ModifiableProtectionGroup),
        (status = 400, description = "Threshold out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn set_alert_threshold(
    caller: Caller,
    IdParam(id): IdParam,
    ApiJson(request): ApiJson<SetAlertThreshold>,
) -> Result<Json<ModifiableProtectionGroup>, ApiError> {
    let session = caller.into_session()?;
    let id = parse_id::<ObjectId>(&id)?;
    let days = check_alert_threshold(request.alert_threshold_days)?;
    edit(&session, id, |draft| {
        draft.group.policy_objective.alert_threshold_days = Some(days);
        Ok(())
    })?;
    view(&session, id).map(Json)
}

#[utoipa::path(
    put,
    path = rdpm_types::paths::MODIFIABLE_REPLICA_CREATION_METHOD_TEMPLATE,
    tag = "protection groups",
    params(("id" = String, Path, description = "Draft (session object) id")),
    request_body = ReplicaCreationMethod,
    responses(
        (status = 200, description = "The draft (Set-DPMReplicaCreationMethod)", body = ModifiableProtectionGroup),
        (status = 400, description = "A Later time in the past", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn set_replica_creation_method(
    caller: Caller,
    IdParam(id): IdParam,
    ApiJson(method): ApiJson<ReplicaCreationMethod>,
) -> Result<Json<ModifiableProtectionGroup>, ApiError> {
    let session = caller.into_session()?;
    let id = parse_id::<ObjectId>(&id)?;
    if let ReplicaCreationMethod::Later { at } = method {
        if at <= Utc::now() {
            return Err(ApiError::new(
                ErrorId::InvalidRequest,
                format!(
                    "Later {} is in the past: the replica creation time must lie ahead.",
                    at.format("%Y-%m-%d %H:%M:%S UTC")
                ),
            )
            .with_target("Later"));
        }
    }
    edit(&session, id, |draft| {
        draft.group.replica_creation_method = method;
        Ok(())
    })?;
    view(&session, id).map(Json)
}

#[utoipa::path(
    put,
    path = rdpm_types::paths::MODIFIABLE_NAME_TEMPLATE,
    tag = "protection groups",
    params(("id" = String, Path, description = "Draft (session object) id")),
    request_body = RenameProtectionGroup,
    responses(
        (status = 200, description = "The draft (Rename-DPMProtectionGroup)", body = ModifiableProtectionGroup),
        (status = 400, description = "Invalid name", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another group has the name", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn rename(
    State(state): State<AppState>,
    caller: Caller,
    IdParam(id): IdParam,
    ApiJson(request): ApiJson<RenameProtectionGroup>,
) -> Result<Json<ModifiableProtectionGroup>, ApiError> {
    let session = caller.into_session()?;
    let id = parse_id::<ObjectId>(&id)?;
    rdpm_engine::text::check("new_name", &request.new_name, rdpm_engine::text::MAX_NAME)?;
    let name = check_group_name(&request.new_name)?;
    let group_id = draft_group_id(&session, id)?;
    let checked = name.clone();
    let engine = Arc::clone(&state.engine);
    blocking(move || engine.protection.check_name_free(&checked, group_id)).await?;
    edit(&session, id, |draft| {
        draft.group.name = name;
        Ok(())
    })?;
    view(&session, id).map(Json)
}

#[utoipa::path(
    post,
    path = rdpm_types::paths::MODIFIABLE_COMMIT_TEMPLATE,
    tag = "protection groups",
    params(("id" = String, Path, description = "Draft (session object) id")),
    responses(
        (status = 200, description = "Committed in one transaction; the draft and its lock are released (Set-DPMProtectionGroup)", body = ProtectionGroup),
        (status = 400, description = "The draft cannot be committed (a new group without members)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such draft in the caller's session", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Name in use, datasource protected elsewhere, or the group changed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn commit(
    State(state): State<AppState>,
    caller: Caller,
    IdParam(id): IdParam,
) -> Result<Json<ProtectionGroup>, ApiError> {
    let session = caller.into_session()?;
    let id = parse_id::<ObjectId>(&id)?;
    let commit = edit(&session, id, |draft| {
        if draft.is_new && draft.group.members.is_empty() {
            return Err(ApiError::new(
                ErrorId::InvalidRequest,
                format!(
                    "Protection group '{}' has no members: add a datasource \
                     (Add-DPMChildDatasource) before creating the group.",
                    draft.group.name
                ),
            )
            .with_target(draft.group.name.clone()));
        }
        draft.committing = true;
        Ok(GroupCommit {
            group: draft.group.clone(),
            is_new: draft.is_new,
            stopped: draft.stopped.clone(),
            at: Utc::now(),
        })
    })?;
    let dropped: Vec<_> = commit
        .stopped
        .iter()
        .filter(|s| !s.keep_disk_data)
        .map(|s| s.member.datasource_id)
        .collect();
    let engine = Arc::clone(&state.engine);
    let result = blocking(move || engine.protection.commit(&commit)).await;
    match result {
        Ok(group) => {
            if !dropped.is_empty() {
                // Deleting waits for the datasources' jobs to stop; the
                // commit does not wait for it.
                let jobs = Arc::clone(&state.engine.jobs);
                tokio::task::spawn_blocking(move || {
                    for ds in dropped {
                        match jobs.remove_datasource_points(ds) {
                            Ok(n) => {
                                tracing::info!(datasource = %ds, recovery_points = n, "protection stopped; recovery points deleted")
                            }
                            Err(e) => {
                                tracing::error!(datasource = %ds, error = %e.detail(), "protection stopped; its recovery points could not all be deleted")
                            }
                        }
                    }
                });
            }
            // Releases the draft and frees the lock. A session closed
            // meanwhile has released it already; the commit stands.
            let _ = session.remove_object(id, ObjectKind::ModifiableProtectionGroup);
            Ok(Json(group))
        }
        Err(e) => {
            let _ = session.with_object_mut(id, |object| {
                if let Some(draft) = as_draft_mut(object) {
                    draft.committing = false;
                }
            });
            Err(e)
        }
    }
}
