//! Every route of the HTTP API, declared once.
//!
//! Each route is a type implementing [`Endpoint`]: its method, its path
//! template, the values its path takes ([`Endpoint::Args`]), its query,
//! its body and its answer. The server's router, its OpenAPI document, the
//! client and the API tests all derive from this table, and the server's
//! tests check that the router and the document hold exactly these routes.
//!
//! ```
//! use rdpm_types::routes::{Endpoint, GetJob, Method};
//! use rdpm_types::JobId;
//! let id = JobId(uuid::Uuid::nil());
//! assert_eq!(GetJob::METHOD, Method::Get);
//! assert_eq!(
//!     GetJob::path(&(id,)),
//!     "/api/v1/jobs/00000000-0000-0000-0000-000000000000"
//! );
//! ```

use std::fmt::Display;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{
    AddChildDatasources, AdvanceClock, Alert, AlertId, AlertQuery, ApiTokenId, ApiTokenInfo,
    ApiTokenQuery, BrowsePage, BrowseRequest, ChildDatasourcePage, ChildQuery, ClockState,
    ConsistencyCheckRequest, CreateSessionRequest, CreateSessionResponse, CreatedApiToken,
    CursorQuery, Datasource, DatasourceId, DatasourceQuery, DatasourceSearchQuery,
    GlobalProperties, Health, Job, JobId, JobQuery, ModifiableProtectionGroup, NewApiToken,
    NewPoolMember, NewProtectionGroup, NewRecoveryPoints, NewServerScope, NotificationDelivery,
    NotificationQuery, ObjectId, OpenProtectionGroup, PoolMember, ProductionServer,
    ProductionServerId, ProtectionGroup, ProtectionGroupId, RecoveryPoint, RecoveryPointLocation,
    RecoveryPointQuery, RecoveryRole, ReleaseReport, RemoveMemberQuery, RemoveRecoveryPointQuery,
    RenameProtectionGroup, ReplicaCreationMethod, RestoreRequest, Right, RoleId, RoleSpec,
    SearchRequest, SecurityGroup, ServerInfo, ServerScope, ServerVolume, SessionId, SessionInfo,
    SetAlertThreshold, SetGlobalProperty, SetPolicyObjective, SetProtectionType, SetSchedule,
    SetSessionScope,
};
use crate::{AgentAttachRequest, AgentAttached, AuditQuery, AuditRecord};

/// The HTTP method of a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `DELETE`
    Delete,
}

impl Method {
    /// The method as HTTP spells it: `GET`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }

    /// The method as an OpenAPI path item keys it: `get`.
    pub const fn openapi_key(self) -> &'static str {
        match self {
            Method::Get => "get",
            Method::Post => "post",
            Method::Put => "put",
            Method::Delete => "delete",
        }
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The values that fill a path template's `{...}` segments, in order.
pub trait PathArgs {
    /// How many segments the values fill.
    const COUNT: usize;
    /// The values as text, in the template's order.
    fn segments(&self) -> Vec<String>;
}

impl PathArgs for () {
    const COUNT: usize = 0;
    fn segments(&self) -> Vec<String> {
        Vec::new()
    }
}

impl<A: Display> PathArgs for (A,) {
    const COUNT: usize = 1;
    fn segments(&self) -> Vec<String> {
        vec![self.0.to_string()]
    }
}

impl<A: Display, B: Display> PathArgs for (A, B) {
    const COUNT: usize = 2;
    fn segments(&self) -> Vec<String> {
        vec![self.0.to_string(), self.1.to_string()]
    }
}

/// One route of the API.
pub trait Endpoint {
    /// The type's name, for messages and tests.
    const NAME: &'static str;
    /// The HTTP method.
    const METHOD: Method;
    /// The path template, `{name}` for each path parameter, as the server's
    /// router and the OpenAPI document spell it.
    const PATH: &'static str;
    /// The values of the path parameters.
    type Args: PathArgs;
    /// The query parameters (`()` for none).
    type Query: Serialize;
    /// The JSON body (`()` for none).
    type Request: Serialize;
    /// The answer on success (`()` for none, such as a 204).
    type Response: DeserializeOwned;
    /// The right its caller needs (see `docs/permissions.md`).
    const RIGHT: Right;

    /// The path with `args` in its parameters.
    fn path(args: &Self::Args) -> String {
        fill(Self::PATH, &args.segments())
    }
}

/// A route as data: what [`ALL`] lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The [`Endpoint`] type's name.
    pub name: &'static str,
    /// The HTTP method.
    pub method: Method,
    /// The path template.
    pub path: &'static str,
    /// How many path parameters [`Endpoint::Args`] fills.
    pub path_params: usize,
    /// The right its caller needs.
    pub right: Right,
}

/// `template` with its `{...}` segments replaced by `segments`, in order; a
/// segment without a value stays as it is.
pub fn fill(template: &str, segments: &[String]) -> String {
    let mut out =
        String::with_capacity(template.len() + segments.iter().map(String::len).sum::<usize>());
    let mut values = segments.iter();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        out.push_str(&rest[..open]);
        match values.next() {
            Some(value) => out.push_str(value),
            None => out.push_str(&rest[open..=open + close]),
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

/// The names of a path template's `{...}` segments, in order.
pub fn placeholders(template: &str) -> Vec<&str> {
    template
        .split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect()
}

/// Declares the table: for each path, its constant in [`consts`] and the
/// routes on it.
macro_rules! routes {
    ($(
        $(#[doc = $pdoc:literal])*
        $konst:ident = $path:literal with $args:ty {
            $(
                $(#[doc = $edoc:literal])*
                $method:ident $name:ident(query: $query:ty, body: $body:ty, response: $resp:ty) needs $right:ident;
            )+
        }
    )+) => {
        /// The path template of every route, by name.
        pub mod consts {
            $(
                $(#[doc = $pdoc])*
                pub const $konst: &str = $path;
            )+
        }

        $($(
            $(#[doc = $edoc])*
            #[derive(Debug, Clone, Copy)]
            pub struct $name;

            impl Endpoint for $name {
                const NAME: &'static str = stringify!($name);
                const METHOD: Method = Method::$method;
                const PATH: &'static str = consts::$konst;
                type Args = $args;
                type Query = $query;
                type Request = $body;
                type Response = $resp;
                const RIGHT: Right = Right::$right;
            }
        )+)+

        /// Every route of the table, in its order.
        pub const ALL: &[Route] = &[
            $($(
                Route {
                    name: stringify!($name),
                    method: Method::$method,
                    path: consts::$konst,
                    path_params: <$args as PathArgs>::COUNT,
                    right: Right::$right,
                },
            )+)+
        ];
    };
}

routes! {
    /// Liveness and the server's name; the only route without authentication.
    HEALTH = "/api/v1/health" with () {
        /// `GET`: the server answers (no credential).
        Get GetHealth(query: (), body: (), response: Health) needs Anyone;
    }
    /// The server's own description.
    SERVER = "/api/v1/server" with () {
        /// `GET`: the server's description.
        Get GetServer(query: (), body: (), response: ServerInfo) needs UseSession;
    }
    /// The sessions.
    SESSIONS = "/api/v1/sessions" with () {
        /// `GET`: the open sessions.
        Get ListSessions(query: (), body: (), response: Vec<SessionInfo>) needs ReadServer;
        /// `POST`: open a session (administrator token).
        Post CreateSession(query: (), body: CreateSessionRequest, response: CreateSessionResponse) needs Anyone;
    }
    /// The session the bearer token belongs to.
    CURRENT_SESSION = "/api/v1/sessions/current" with () {
        /// `GET`: describe it (and renew its lease).
        Get GetCurrentSession(query: (), body: (), response: SessionInfo) needs UseSession;
        /// `DELETE`: close it, releasing every object it holds.
        Delete CloseCurrentSession(query: (), body: (), response: ReleaseReport) needs UseSession;
    }
    /// The server scope applied to the current session.
    CURRENT_SESSION_SCOPE = "/api/v1/sessions/current/scope" with () {
        /// `PUT`: apply a server scope to the current session.
        Put SetCurrentSessionScope(query: (), body: SetSessionScope, response: SessionInfo) needs UseSession;
    }
    /// One session by id.
    SESSION_BY_ID_TEMPLATE = "/api/v1/sessions/{id}" with (SessionId,) {
        /// `GET`: describe it.
        Get GetSession(query: (), body: (), response: SessionInfo) needs UseSession;
        /// `DELETE`: close it (with the administrator token, a forced close).
        Delete CloseSession(query: (), body: (), response: ReleaseReport) needs UseSession;
    }
    /// API tokens, for scripts and cron.
    API_TOKENS = "/api/v1/api-tokens" with () {
        /// `GET`: the caller's tokens, or with Administer anyone's
        /// (`Get-DPMApiToken`); never their secrets.
        Get ListApiTokens(query: ApiTokenQuery, body: (), response: Vec<ApiTokenInfo>) needs UseSession;
        /// `POST`: make a token for oneself, or with Administer for anyone
        /// (`New-DPMApiToken`); its secret is in this answer only.
        Post CreateApiToken(query: (), body: NewApiToken, response: CreatedApiToken) needs UseSession;
    }
    /// One API token.
    API_TOKEN_BY_ID_TEMPLATE = "/api/v1/api-tokens/{id}" with (ApiTokenId,) {
        /// `DELETE`: revoke one's own token, or with Administer anyone's
        /// (`Remove-DPMApiToken`); the token as it is now.
        Delete RevokeApiToken(query: (), body: (), response: ApiTokenInfo) needs UseSession;
    }
    /// Attaching a production server's agent.
    AGENTS_ATTACH = "/api/v1/agents/attach" with () {
        /// `POST`: attach the host of `rdpm agent attach` with a one-time
        /// attach key; the agent credential is in this answer only.
        Post AttachAgent(query: (), body: AgentAttachRequest, response: AgentAttached) needs Anyone;
    }
    /// The agent channel.
    AGENT_CHANNEL = "/api/v1/agents/channel" with () {
        /// `GET`: upgrades to the WebSocket on which an attached agent
        /// answers the server's requests; an agent credential only.
        Get AgentChannel(query: (), body: (), response: ()) needs Agent;
    }
    /// The server scopes of the current session.
    SCOPES = "/api/v1/scopes" with () {
        /// `GET`: the current session's scopes.
        Get ListScopes(query: (), body: (), response: Vec<ServerScope>) needs UseSession;
        /// `POST`: create a server scope in the current session.
        Post CreateScope(query: (), body: NewServerScope, response: ServerScope) needs UseSession;
    }
    /// One server scope of the current session.
    SCOPE_BY_ID_TEMPLATE = "/api/v1/scopes/{id}" with (ObjectId,) {
        /// `GET`: read it.
        Get GetScope(query: (), body: (), response: ServerScope) needs UseSession;
        /// `DELETE`: remove and release it.
        Delete DeleteScope(query: (), body: (), response: ()) needs UseSession;
    }
    /// The production servers.
    PRODUCTION_SERVERS = "/api/v1/production-servers" with () {
        /// `GET`: the production servers (`Get-DPMProductionServer`).
        Get ListProductionServers(query: (), body: (), response: Vec<ProductionServer>) needs ReadProtection;
    }
    /// One production server.
    PRODUCTION_SERVER_BY_ID_TEMPLATE = "/api/v1/production-servers/{id}" with (ProductionServerId,) {
        /// `GET`: one production server.
        Get GetProductionServer(query: (), body: (), response: ProductionServer) needs ReadProtection;
        /// `DELETE`: detach its agent (`Remove-DPMProductionServer`); it
        /// stays, detached, while recovery points or jobs name it.
        Delete DetachProductionServer(query: (), body: (), response: ()) needs Configure;
    }
    /// Disabling a production server's agent.
    PRODUCTION_SERVER_DISABLE_TEMPLATE = "/api/v1/production-servers/{id}/disable" with (ProductionServerId,) {
        /// `POST`: its jobs stop running; its recovery points stay
        /// (`Disable-DPMProductionServer`).
        Post DisableProductionServer(query: (), body: (), response: ProductionServer) needs Configure;
    }
    /// Enabling a production server's agent.
    PRODUCTION_SERVER_ENABLE_TEMPLATE = "/api/v1/production-servers/{id}/enable" with (ProductionServerId,) {
        /// `POST`: its jobs run again (`Enable-DPMProductionServer`).
        Post EnableProductionServer(query: (), body: (), response: ProductionServer) needs Configure;
    }
    /// Refreshing what the server knows of a production server.
    PRODUCTION_SERVER_REFRESH_TEMPLATE = "/api/v1/production-servers/{id}/refresh" with (ProductionServerId,) {
        /// `POST`: asks its agent for its volumes again
        /// (`Update-DPMProductionServer`).
        Post RefreshProductionServer(query: (), body: (), response: ProductionServer) needs RunJobs;
    }
    /// The volumes of a production server.
    PRODUCTION_SERVER_DATASOURCES_TEMPLATE = "/api/v1/production-servers/{id}/datasources" with (ProductionServerId,) {
        /// `GET`: its volumes, live (`Get-DPMDatasource -ProductionServer -Inquire`).
        Get ListServerDatasources(query: (), body: (), response: Vec<Datasource>) needs ReadProtection;
    }
    /// The folders and files of a production server.
    PRODUCTION_SERVER_CHILDREN_TEMPLATE = "/api/v1/production-servers/{id}/children" with (ProductionServerId,) {
        /// `GET`: one page of the folders and files directly below a path
        /// (`Get-DPMChildDatasource`).
        Get ListChildren(query: ChildQuery, body: (), response: ChildDatasourcePage) needs ReadProtection;
    }
    /// The protected datasources.
    DATASOURCES = "/api/v1/datasources" with () {
        /// `GET`: the protected datasources, optionally filtered
        /// (`Get-DPMDatasource`, DpmServer and DataSourceSearch sets).
        Get ListProtectedDatasources(query: DatasourceQuery, body: (), response: Vec<Datasource>) needs ReadProtection;
    }
    /// The datasource a path is on.
    DATASOURCE_SEARCH = "/api/v1/datasources/search" with () {
        /// `GET`: the volume datasource a path is on (`Get-DPMDatasource -Path`).
        Get SearchDatasource(query: DatasourceSearchQuery, body: (), response: Datasource) needs ReadProtection;
    }
    /// The committed protection groups.
    PROTECTION_GROUPS = "/api/v1/protection-groups" with () {
        /// `GET`: the protection groups (`Get-DPMProtectionGroup`).
        Get ListProtectionGroups(query: (), body: (), response: Vec<ProtectionGroup>) needs ReadProtection;
    }
    /// One protection group.
    PROTECTION_GROUP_BY_ID_TEMPLATE = "/api/v1/protection-groups/{id}" with (ProtectionGroupId,) {
        /// `GET`: one protection group.
        Get GetProtectionGroup(query: (), body: (), response: ProtectionGroup) needs ReadProtection;
    }
    /// The member datasources of a group.
    PROTECTION_GROUP_DATASOURCES_TEMPLATE = "/api/v1/protection-groups/{id}/datasources" with (ProtectionGroupId,) {
        /// `GET`: the group's members (`Get-DPMDatasource -ProtectionGroup`).
        Get ListGroupDatasources(query: (), body: (), response: Vec<Datasource>) needs ReadProtection;
    }
    /// Opening a group for modification.
    PROTECTION_GROUP_MODIFIABLE_TEMPLATE = "/api/v1/protection-groups/{id}/modifiable" with (ProtectionGroupId,) {
        /// `POST`: open a group for modification in the current session
        /// (`Get-DPMModifiableProtectionGroup`).
        Post OpenForModification(query: OpenProtectionGroup, body: (), response: ModifiableProtectionGroup) needs Configure;
    }
    /// The protection group drafts of the current session.
    MODIFIABLE_PROTECTION_GROUPS = "/api/v1/modifiable-protection-groups" with () {
        /// `GET`: the current session's drafts.
        Get ListDrafts(query: (), body: (), response: Vec<ModifiableProtectionGroup>) needs UseSession;
        /// `POST`: a new group's draft (`New-DPMProtectionGroup`).
        Post CreateDraft(query: (), body: NewProtectionGroup, response: ModifiableProtectionGroup) needs Configure;
    }
    /// One draft.
    MODIFIABLE_BY_ID_TEMPLATE = "/api/v1/modifiable-protection-groups/{id}" with (ObjectId,) {
        /// `GET`: the draft.
        Get GetDraft(query: (), body: (), response: ModifiableProtectionGroup) needs UseSession;
        /// `DELETE`: discard it (and free its group's edit lock).
        Delete DiscardDraft(query: (), body: (), response: ()) needs UseSession;
    }
    /// The members of a draft.
    MODIFIABLE_MEMBERS_TEMPLATE = "/api/v1/modifiable-protection-groups/{id}/members" with (ObjectId,) {
        /// `POST`: add datasources, all or none (`Add-DPMChildDatasource`).
        Post AddMembers(query: (), body: AddChildDatasources, response: ModifiableProtectionGroup) needs Configure;
    }
    /// One member of a draft.
    MODIFIABLE_MEMBER_TEMPLATE = "/api/v1/modifiable-protection-groups/{id}/members/{datasource_id}" with (ObjectId, DatasourceId) {
        /// `DELETE`: remove it from the draft (`Remove-DPMChildDatasource`).
        Delete RemoveMember(query: RemoveMemberQuery, body: (), response: ModifiableProtectionGroup) needs Configure;
    }
    /// A draft's protection type.
    MODIFIABLE_PROTECTION_TYPE_TEMPLATE = "/api/v1/modifiable-protection-groups/{id}/protection-type" with (ObjectId,) {
        /// `PUT`: `Set-DPMProtectionType`.
        Put SetProtectionTypeOf(query: (), body: SetProtectionType, response: ModifiableProtectionGroup) needs Configure;
    }
    /// A draft's policy objective.
    MODIFIABLE_POLICY_OBJECTIVE_TEMPLATE = "/api/v1/modifiable-protection-groups/{id}/policy-objective" with (ObjectId,) {
        /// `PUT`: `Set-DPMPolicyObjective`.
        Put SetPolicyObjectiveOf(query: (), body: SetPolicyObjective, response: ModifiableProtectionGroup) needs Configure;
    }
    /// A draft's alert threshold.
    MODIFIABLE_ALERT_THRESHOLD_TEMPLATE = "/api/v1/modifiable-protection-groups/{id}/alert-threshold" with (ObjectId,) {
        /// `PUT`: `Set-DPMPolicyObjective -AlertThresholdInDays`.
        Put SetAlertThresholdOf(query: (), body: SetAlertThreshold, response: ModifiableProtectionGroup) needs Configure;
    }
    /// A draft's replica creation method.
    MODIFIABLE_REPLICA_CREATION_METHOD_TEMPLATE = "/api/v1/modifiable-protection-groups/{id}/replica-creation-method" with (ObjectId,) {
        /// `PUT`: `Set-DPMReplicaCreationMethod`.
        Put SetReplicaCreationMethodOf(query: (), body: ReplicaCreationMethod, response: ModifiableProtectionGroup) needs Configure;
    }
    /// A draft's name.
    MODIFIABLE_NAME_TEMPLATE = "/api/v1/modifiable-protection-groups/{id}/name" with (ObjectId,) {
        /// `PUT`: `Rename-DPMProtectionGroup`.
        Put RenameDraft(query: (), body: RenameProtectionGroup, response: ModifiableProtectionGroup) needs Configure;
    }
    /// Committing a draft.
    MODIFIABLE_COMMIT_TEMPLATE = "/api/v1/modifiable-protection-groups/{id}/commit" with (ObjectId,) {
        /// `POST`: `Set-DPMProtectionGroup`: commit the draft in one
        /// transaction, then release it and its lock.
        Post CommitDraft(query: (), body: (), response: ProtectionGroup) needs Configure;
    }
    /// A draft's schedules.
    MODIFIABLE_SCHEDULE_TEMPLATE = "/api/v1/modifiable-protection-groups/{id}/schedule" with (ObjectId,) {
        /// `PUT`: change a draft's schedules (`Set-DPMPolicySchedule`,
        /// `Set-DPMProtectionJobStartTime`).
        Put SetScheduleOf(query: (), body: SetSchedule, response: ModifiableProtectionGroup) needs Configure;
    }
    /// The members of the storage pool.
    STORAGE_POOL = "/api/v1/storage-pool" with () {
        /// `GET`: the members (`Get-DPMDiskStorage -Volumes`).
        Get ListPoolMembers(query: (), body: (), response: Vec<PoolMember>) needs ReadServer;
        /// `POST`: add a member (`Add-DPMDiskStorage`).
        Post AddPoolMember(query: (), body: NewPoolMember, response: PoolMember) needs Configure;
    }
    /// One member of the storage pool.
    STORAGE_POOL_MEMBER_TEMPLATE = "/api/v1/storage-pool/{id}" with (uuid::Uuid,) {
        /// `DELETE`: take it out of the pool (`Remove-DPMDiskStorage`).
        Delete RemovePoolMember(query: (), body: (), response: ()) needs Configure;
    }
    /// The DPM server's own volumes, where pool members can live.
    STORAGE_POOL_VOLUMES = "/api/v1/storage-pool/volumes" with () {
        /// `GET`: the volumes (`Get-DPMDiskStorage`).
        Get ListServerVolumes(query: (), body: (), response: Vec<ServerVolume>) needs ReadServer;
    }
    /// The jobs.
    JOBS = "/api/v1/jobs" with () {
        /// `GET`: jobs, newest first (`Get-DPMJob`).
        Get ListJobs(query: JobQuery, body: (), response: Vec<Job>) needs ReadProtection;
    }
    /// Backups.
    JOBS_BACKUP = "/api/v1/jobs/backup" with () {
        /// `POST`: one backup job per datasource (`New-DPMRecoveryPoint`).
        Post StartBackups(query: (), body: NewRecoveryPoints, response: Vec<Job>) needs RunJobs;
    }
    /// Consistency checks.
    JOBS_CONSISTENCY_CHECK = "/api/v1/jobs/consistency-check" with () {
        /// `POST`: one validation job per datasource
        /// (`Start-DPMDatasourceConsistencyCheck`).
        Post StartConsistencyChecks(query: (), body: ConsistencyCheckRequest, response: Vec<Job>) needs RunJobs;
    }
    /// Restores.
    JOBS_RESTORE = "/api/v1/jobs/restore" with () {
        /// `POST`: one recovery job per recovery point
        /// (`Restore-DPMRecoverableItem`).
        Post StartRestores(query: (), body: RestoreRequest, response: Vec<Job>) needs Recover;
    }
    /// One job.
    JOB_BY_ID_TEMPLATE = "/api/v1/jobs/{id}" with (JobId,) {
        /// `GET`: the job as it is now.
        Get GetJob(query: (), body: (), response: Job) needs ReadProtection;
    }
    /// Stopping a job.
    JOB_STOP_TEMPLATE = "/api/v1/jobs/{id}/stop" with (JobId,) {
        /// `POST`: stop it (`Stop-DPMJob`); the job as it is then.
        Post StopJob(query: (), body: (), response: Job) needs RunJobs;
    }
    /// Running a job again.
    JOB_RESTART_TEMPLATE = "/api/v1/jobs/{id}/restart" with (JobId,) {
        /// `POST`: run a failed job again (`Restart-DPMJob`); the new job.
        Post RestartJob(query: (), body: (), response: Job) needs RunJobs;
    }
    /// The recovery points.
    RECOVERY_POINTS = "/api/v1/recovery-points" with () {
        /// `GET`: a datasource's recovery points, oldest first
        /// (`Get-DPMRecoveryPoint`).
        Get ListRecoveryPoints(query: RecoveryPointQuery, body: (), response: Vec<RecoveryPoint>) needs ReadProtection;
    }
    /// One recovery point.
    RECOVERY_POINT_BY_ID_TEMPLATE = "/api/v1/recovery-points/{id}" with (String,) {
        /// `DELETE`: remove it (`Remove-DPMRecoveryPoint`).
        Delete RemoveRecoveryPoint(query: RemoveRecoveryPointQuery, body: (), response: ()) needs Configure;
    }
    /// Browsing a recovery point.
    RECOVERY_POINT_BROWSE_TEMPLATE = "/api/v1/recovery-points/{id}/browse" with (String,) {
        /// `POST`: the first page of a browse
        /// (`Get-DPMRecoverableItem -RecoverableItem -BrowseType`).
        Post Browse(query: (), body: BrowseRequest, response: BrowsePage) needs Recover;
    }
    /// Where a recovery point is kept.
    RECOVERY_POINT_LOCATION_TEMPLATE = "/api/v1/recovery-points/{id}/location" with (String,) {
        /// `GET`: `Get-DPMRecoveryPointLocation`.
        Get GetRecoveryPointLocation(query: (), body: (), response: RecoveryPointLocation) needs ReadProtection;
    }
    /// Searching a datasource's recovery points.
    DATASOURCE_RECOVERABLE_SEARCH_TEMPLATE = "/api/v1/datasources/{id}/search" with (DatasourceId,) {
        /// `POST`: the first page of a search
        /// (`Get-DPMRecoverableItem -SearchOption`).
        Post Search(query: (), body: SearchRequest, response: BrowsePage) needs Recover;
    }
    /// One browse or search cursor.
    CURSOR_BY_ID_TEMPLATE = "/api/v1/cursors/{id}" with (ObjectId,) {
        /// `GET`: the next page of a browse or search.
        Get NextPage(query: CursorQuery, body: (), response: BrowsePage) needs UseSession;
        /// `DELETE`: close it before its last page.
        Delete CloseCursor(query: (), body: (), response: ()) needs UseSession;
    }
    /// The recovery roles.
    ROLES = "/api/v1/roles" with () {
        /// `GET`: every recovery role, by name (`Get-DPMRole`).
        Get ListRoles(query: (), body: (), response: Vec<RecoveryRole>) needs Administer;
        /// `POST`: make a role (`New-DPMRole`).
        Post CreateRole(query: (), body: RoleSpec, response: RecoveryRole) needs Administer;
    }
    /// One recovery role.
    ROLE_BY_ID_TEMPLATE = "/api/v1/roles/{id}" with (RoleId,) {
        /// `GET`: the role.
        Get GetRole(query: (), body: (), response: RecoveryRole) needs Administer;
        /// `PUT`: replace the whole role (`Set-DPMRole`).
        Put ReplaceRole(query: (), body: RoleSpec, response: RecoveryRole) needs Administer;
        /// `DELETE`: remove it (`Remove-DPMRole`).
        Delete DeleteRole(query: (), body: (), response: ()) needs Administer;
    }
    /// The groups of users that roles name.
    SECURITY_GROUPS = "/api/v1/security-groups" with () {
        /// `GET`: the groups and their members, by name (made with
        /// `rdpm server group` on the server's host).
        Get ListSecurityGroups(query: (), body: (), response: Vec<SecurityGroup>) needs Administer;
    }
    /// The alerts.
    ALERTS = "/api/v1/alerts" with () {
        /// `GET`: the alerts, most recently seen first (`Get-DPMAlert`).
        Get ListAlerts(query: AlertQuery, body: (), response: Vec<Alert>) needs ReadServer;
    }
    /// Dismissing an alert.
    ALERT_DISMISS_TEMPLATE = "/api/v1/alerts/{id}/dismiss" with (AlertId,) {
        /// `POST`: make an alert inactive (`Resolve-DPMAlert`).
        Post DismissAlert(query: (), body: (), response: Alert) needs RunJobs;
    }
    /// The server-wide settings.
    GLOBAL_PROPERTIES = "/api/v1/global-properties" with () {
        /// `GET`: the settings, the SMTP password redacted
        /// (`Get-DPMGlobalProperty`).
        Get GetGlobalProperties(query: (), body: (), response: GlobalProperties) needs ReadServer;
    }
    /// One server-wide setting, by its shell name.
    GLOBAL_PROPERTY_TEMPLATE = "/api/v1/global-properties/{name}" with (String,) {
        /// `PUT`: change it (`Set-DPMGlobalProperty`); the settings now,
        /// redacted.
        Put SetGlobalPropertyByName(query: (), body: SetGlobalProperty, response: GlobalProperties) needs Configure;
    }
    /// The alert notification outbox.
    NOTIFICATIONS = "/api/v1/notifications" with () {
        /// `GET`: the outbox, newest first.
        Get ListNotifications(query: NotificationQuery, body: (), response: Vec<NotificationDelivery>) needs ReadServer;
    }
    /// The audit trail.
    AUDIT_LOG = "/api/v1/audit-log" with () {
        /// `GET`: the records, newest first (`Get-DPMAuditLog`).
        Get ListAuditLog(query: AuditQuery, body: (), response: Vec<AuditRecord>) needs Administer;
    }
    /// A simulated clock; exists only on a server started with
    /// `--simulated-clock`, and is not in the OpenAPI document.
    CLOCK_ADVANCE = "/api/v1/clock/advance" with () {
        /// `POST` (administrator only): move the clock forward; answers once
        /// every job due by then is queued.
        Post AdvanceClockBy(query: (), body: AdvanceClock, response: ClockState) needs Administer;
    }
    /// The OpenAPI document.
    OPENAPI = "/api/v1/openapi.json" with () {
        /// `GET`: this API's OpenAPI document.
        Get OpenApiDocument(query: (), body: (), response: serde_json::Value) needs UseSession;
    }
    /// Prometheus metrics.
    METRICS = "/metrics" with () {
        /// `GET`: the metrics as OpenMetrics text (not JSON: read it raw).
        Get Metrics(query: (), body: (), response: String) needs ReadServer;
    }
}

/// The route that exists only on a server with a simulated clock, and that
/// the OpenAPI document leaves out.
pub const SIMULATED_CLOCK_ONLY: &str = consts::CLOCK_ADVANCE;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn each_route_is_declared_once() {
        let mut seen = BTreeSet::new();
        let mut names = BTreeSet::new();
        for route in ALL {
            assert!(
                seen.insert((route.method, route.path)),
                "{} {} is declared twice",
                route.method,
                route.path
            );
            assert!(names.insert(route.name), "{} is declared twice", route.name);
        }
    }

    #[test]
    fn each_route_takes_as_many_values_as_its_path_has_parameters() {
        for route in ALL {
            assert_eq!(
                placeholders(route.path).len(),
                route.path_params,
                "{} {} ({})",
                route.method,
                route.path,
                route.name
            );
            assert!(route.path.starts_with('/'), "{}", route.path);
        }
    }

    #[test]
    fn a_path_is_filled_in_order() {
        let draft = ObjectId(uuid::Uuid::from_u128(1));
        let member = DatasourceId(uuid::Uuid::from_u128(2));
        assert_eq!(
            RemoveMember::path(&(draft, member)),
            format!("/api/v1/modifiable-protection-groups/{draft}/members/{member}")
        );
        assert_eq!(ListJobs::path(&()), consts::JOBS);
        assert_eq!(fill("/a/{x}/b", &[]), "/a/{x}/b");
        assert_eq!(fill("/a/{x}/b/{y}", &["1".into()]), "/a/1/b/{y}");
        assert_eq!(
            placeholders(consts::MODIFIABLE_MEMBER_TEMPLATE),
            ["id", "datasource_id"]
        );
    }
}
