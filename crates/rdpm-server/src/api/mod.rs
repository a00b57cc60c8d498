//! The HTTP API: the router and the OpenAPI document, both made from one
//! list pairing each route of `rdpm_types::routes` with its handler.
//!
//! Every failure leaves as problem+json through `ApiError`, including
//! unknown routes, wrong methods and bodies that do not parse. The handler
//! modules take the server's state from `state` and their extractors from
//! `extract`, neither of which imports a handler module; this module uses
//! its children and none of them uses it back.

mod agents;
mod alerts;
mod api_tokens;
mod audit;
mod authorize;
mod blocking;
mod doc;
mod drafts;
mod extract;
mod global;
mod ids;
mod jobs;
mod lists;
mod pool;
mod protection;
mod recovery;
mod roles;
mod schedule;
mod scopes;
mod server;
mod sessions;
mod state;

use std::sync::Arc;

use axum::handler::Handler;
use axum::http::{Method, Uri};
use axum::routing::{delete, get, post, put, MethodRouter};
use axum::Router;
use rdpm_types::routes::{self, Endpoint};
use rdpm_types::{paths, ErrorId};
use utoipa::OpenApi;

use crate::error::ApiError;
pub(crate) use state::{AppState, Shared};

/// A router under construction that records each route it is given, so
/// that a test can hold it against `rdpm_types::routes::ALL`.
struct Routes {
    router: Router<AppState>,
    added: Vec<(routes::Method, &'static str)>,
}

impl Routes {
    fn new() -> Routes {
        Routes {
            router: Router::new(),
            added: Vec::new(),
        }
    }

    /// Serves endpoint `E` (its method on its path) with `handler`.
    fn add<E: Endpoint, H: Handler<T, AppState>, T: 'static>(mut self, handler: H) -> Routes {
        let method_router: MethodRouter<AppState> = match E::METHOD {
            routes::Method::Get => get(handler),
            routes::Method::Post => post(handler),
            routes::Method::Put => put(handler),
            routes::Method::Delete => delete(handler),
        };
        self.router = self.router.route(E::PATH, method_router);
        self.added.push((E::METHOD, E::PATH));
        self
    }
}

/// A route of the handler list as the table declares it, and the name of
/// its handler.
#[cfg(test)]
struct Pair {
    endpoint: &'static str,
    method: routes::Method,
    path: &'static str,
    /// The body's and the answer's Rust types, by `type_name`.
    request: &'static str,
    response: &'static str,
    handler: &'static str,
}

/// The handler of each route of `rdpm_types::routes`, in one list from
/// which both the router and the OpenAPI document's paths are made.
macro_rules! handlers {
    ($($endpoint:ident => $module:ident :: $handler:ident),+ $(,)?) => {
        /// Every route of the table with its handler; the simulated clock's
        /// only when the server runs on one.
        fn routes(simulated: bool) -> Routes {
            let routes = Routes::new()
                $(.add::<routes::$endpoint, _, _>($module::$handler))+;
            // A test aid only, left out of the document: a server on the
            // system clock has no such route.
            if simulated {
                routes.add::<routes::AdvanceClockBy, _, _>(schedule::advance_clock)
            } else {
                routes
            }
        }

        /// The operations of the OpenAPI document, from the handlers'
        /// `#[utoipa::path]` attributes; `doc::document` adds the rest.
        #[derive(utoipa::OpenApi)]
        #[openapi(paths($($module::$handler),+))]
        pub(crate) struct Operations;

        /// What the table says of each route of the list, beside the name
        /// of its handler, for a test to hold the handlers' attributes to.
        #[cfg(test)]
        fn pairs() -> Vec<Pair> {
            vec![$(Pair {
                endpoint: <routes::$endpoint as Endpoint>::NAME,
                method: <routes::$endpoint as Endpoint>::METHOD,
                path: <routes::$endpoint as Endpoint>::PATH,
                request: std::any::type_name::<<routes::$endpoint as Endpoint>::Request>(),
                response: std::any::type_name::<<routes::$endpoint as Endpoint>::Response>(),
                handler: stringify!($handler),
            }),+]
        }
    };
}

handlers! {
    GetHealth => server::health,
    GetServer => server::server_info,
    ListSessions => sessions::list_sessions,
    CreateSession => sessions::create_session,
    GetCurrentSession => sessions::get_current_session,
    CloseCurrentSession => sessions::close_current_session,
    SetCurrentSessionScope => sessions::set_current_session_scope,
    GetSession => sessions::get_session,
    CloseSession => sessions::close_session,
    ListApiTokens => api_tokens::list_api_tokens,
    CreateApiToken => api_tokens::create_api_token,
    RevokeApiToken => api_tokens::revoke_api_token,
    AttachAgent => agents::attach_agent,
    AgentChannel => agents::agent_channel,
    ListScopes => scopes::list_scopes,
    CreateScope => scopes::create_scope,
    GetScope => scopes::get_scope,
    DeleteScope => scopes::delete_scope,
    ListProductionServers => protection::list_production_servers,
    GetProductionServer => protection::get_production_server,
    DetachProductionServer => protection::detach_production_server,
    DisableProductionServer => protection::disable_production_server,
    EnableProductionServer => protection::enable_production_server,
    RefreshProductionServer => protection::refresh_production_server,
    ListServerDatasources => protection::list_server_datasources,
    ListChildren => protection::list_children,
    ListProtectedDatasources => protection::list_protected_datasources,
    SearchDatasource => protection::search_datasource,
    ListProtectionGroups => protection::list_protection_groups,
    GetProtectionGroup => protection::get_protection_group,
    ListGroupDatasources => protection::list_group_datasources,
    OpenForModification => drafts::open_for_modification,
    ListDrafts => drafts::list_drafts,
    CreateDraft => drafts::create_draft,
    GetDraft => drafts::get_draft,
    DiscardDraft => drafts::discard_draft,
    AddMembers => drafts::add_members,
    RemoveMember => drafts::remove_member,
    SetProtectionTypeOf => drafts::set_protection_type,
    SetPolicyObjectiveOf => drafts::set_policy_objective,
    SetAlertThresholdOf => drafts::set_alert_threshold,
    SetReplicaCreationMethodOf => drafts::set_replica_creation_method,
    RenameDraft => drafts::rename,
    CommitDraft => drafts::commit,
    SetScheduleOf => schedule::set_schedule,
    ListPoolMembers => pool::list_pool_members,
    AddPoolMember => pool::add_pool_member,
    RemovePoolMember => pool::remove_pool_member,
    ListServerVolumes => pool::list_server_volumes,
    ListJobs => jobs::list_jobs,
    StartBackups => jobs::start_backups,
    StartConsistencyChecks => jobs::start_consistency_checks,
    StartRestores => recovery::start_restores,
    GetJob => jobs::get_job,
    StopJob => jobs::stop_job,
    RestartJob => jobs::restart_job,
    ListRecoveryPoints => jobs::list_recovery_points,
    RemoveRecoveryPoint => jobs::remove_recovery_point,
    Browse => recovery::browse,
    GetRecoveryPointLocation => recovery::location,
    Search => recovery::search,
    NextPage => recovery::next_page,
    CloseCursor => recovery::close_cursor,
    ListRoles => roles::list_roles,
    CreateRole => roles::create_role,
    GetRole => roles::get_role,
    ReplaceRole => roles::replace_role,
    DeleteRole => roles::delete_role,
    ListSecurityGroups => roles::list_security_groups,
    ListAlerts => alerts::list_alerts,
    DismissAlert => alerts::dismiss_alert,
    GetGlobalProperties => global::get_global_properties,
    SetGlobalPropertyByName => global::set_global_property,
    ListNotifications => global::list_notifications,
    ListAuditLog => audit::list_audit_log,
    OpenApiDocument => server::openapi,
    Metrics => server::metrics,
}

/// The OpenAPI document, generated from the routes and the wire types.
pub(crate) struct ApiDoc;

impl OpenApi for ApiDoc {
    fn openapi() -> utoipa::openapi::OpenApi {
        doc::document(Operations::openapi())
    }
}

/// The routes of `rdpm_types::routes`.
pub(crate) fn router(state: AppState) -> Router {
    let router = routes(state.manual_clock.is_some()).router;
    let conditions = Arc::clone(&state.engine.conditions);
    router
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            authorize::authorize,
        ))
        // Around authorization, so that refusals are recorded too.
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            audit::audit,
        ))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::map_response(
            move |response: axum::response::Response| {
                let conditions = Arc::clone(&conditions);
                async move {
                    // A refusal for a full disk is reported as an alert
                    // once the catalog can be written again.
                    if response.status() == axum::http::StatusCode::INSUFFICIENT_STORAGE {
                        conditions.disk_full_met(chrono::Utc::now());
                    }
                    response
                }
            },
        ))
        .with_state(state)
}

async fn route_not_found(uri: Uri) -> ApiError {
    ApiError::new(
        ErrorId::RouteNotFound,
        format!(
            "There is no route {} on this server; {} describes the API.",
            uri.path(),
            paths::OPENAPI
        ),
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        ErrorId::MethodNotAllowed,
        format!("{method} is not allowed on {}.", uri.path()),
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use rdpm_types::routes::{self, Method};
    use serde_json::Value;
    use utoipa::OpenApi;

    /// A Rust type's name without its modules: `Vec<ServerVolume>`.
    fn type_shape(type_name: &str) -> String {
        let mut out = String::new();
        let mut word = String::new();
        for c in type_name.chars().chain(std::iter::once(' ')) {
            if c.is_alphanumeric() || c == '_' || c == ':' {
                word.push(c);
            } else {
                out.push_str(word.rsplit("::").next().unwrap_or_default());
                word.clear();
                out.push(c);
            }
        }
        out.trim_end().to_string()
    }

    /// A JSON schema of the document in the same spelling: a component by
    /// its name, an array as `Vec<...>`, none as `()`.
    fn schema_shape(schema: &Value) -> String {
        if schema.is_null() {
            return "()".into();
        }
        if let Some(reference) = schema["$ref"].as_str() {
            return reference.rsplit('/').next().unwrap_or_default().into();
        }
        match schema["type"].as_str() {
            Some("array") => format!("Vec<{}>", schema_shape(&schema["items"])),
            Some("string") => "String".into(),
            _ => schema.to_string(),
        }
    }

    /// The JSON answer of an operation's success (its first 2xx answer).
    fn answer(operation: &Value) -> &Value {
        let responses = operation["responses"].as_object().unwrap();
        let success = responses
            .iter()
            .find(|(code, _)| code.starts_with('2'))
            .map_or(&Value::Null, |(_, response)| response);
        &success["content"]["application/json"]["schema"]
    }

    #[test]
    fn each_handler_documents_its_routes_method_path_body_and_answer() {
        let doc = serde_json::to_value(super::Operations::openapi()).unwrap();
        let mut wrong = Vec::new();
        for pair in super::pairs() {
            let at = format!(
                "{} ({} {}, handler {})",
                pair.endpoint, pair.method, pair.path, pair.handler
            );
            let operation = &doc["paths"][pair.path][pair.method.openapi_key()];
            if operation.is_null() {
                wrong.push(format!("{at}: the document has no such operation"));
                continue;
            }
            if operation["operationId"] != pair.handler {
                wrong.push(format!(
                    "{at}: the document's operation is {}",
                    operation["operationId"]
                ));
            }
            let body = &operation["requestBody"]["content"]["application/json"]["schema"];
            let (declared, documented) = (type_shape(pair.request), schema_shape(body));
            if declared != documented {
                wrong.push(format!(
                    "{at}: the table's body is {declared}, the document's {documented}"
                ));
            }
            let (declared, documented) =
                (type_shape(pair.response), schema_shape(answer(operation)));
            // The document itself and the metrics' text are answers
            // without a JSON schema.
            let unschemed = documented == "()" && (declared == "Value" || declared == "String");
            if declared != documented && !unschemed {
                wrong.push(format!(
                    "{at}: the table's answer is {declared}, the document's {documented}"
                ));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn type_and_schema_shapes_are_spelt_alike() {
        assert_eq!(
            type_shape("alloc::vec::Vec<rdpm_types::pool::ServerVolume>"),
            "Vec<ServerVolume>"
        );
        assert_eq!(type_shape("()"), "()");
        let array =
            serde_json::json!({"type": "array", "items": {"$ref": "#/components/schemas/Job"}});
        assert_eq!(schema_shape(&array), "Vec<Job>");
        assert_eq!(schema_shape(&Value::Null), "()");
    }

    fn table(with_clock: bool) -> BTreeSet<(Method, &'static str)> {
        routes::ALL
            .iter()
            .filter(|r| with_clock || r.path != routes::SIMULATED_CLOCK_ONLY)
            .map(|r| (r.method, r.path))
            .collect()
    }

    #[test]
    fn the_router_serves_exactly_the_table() {
        for simulated in [false, true] {
            let added = super::routes(simulated).added;
            let served: BTreeSet<_> = added.iter().copied().collect();
            assert_eq!(served.len(), added.len(), "a route is served twice");
            let table = table(simulated);
            let unserved: Vec<_> = table.difference(&served).collect();
            let undeclared: Vec<_> = served.difference(&table).collect();
            assert!(
                unserved.is_empty() && undeclared.is_empty(),
                "simulated clock {simulated}: in the table, not served: {unserved:?}; \
                 served, not in the table: {undeclared:?}"
            );
        }
    }

    #[test]
    fn the_openapi_document_describes_exactly_the_table() {
        let doc = serde_json::to_value(super::ApiDoc::openapi()).unwrap();
        let mut described = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (key, _) in item.as_object().unwrap() {
                let method = [Method::Get, Method::Post, Method::Put, Method::Delete]
                    .into_iter()
                    .find(|m| m.openapi_key() == key)
                    .unwrap_or_else(|| panic!("{path}: unexpected key {key}"));
                let route = routes::ALL
                    .iter()
                    .find(|r| r.path == path)
                    .unwrap_or_else(|| panic!("{path} is not in the table"));
                described.insert((method, route.path));
            }
        }
        let table = table(false);
        let undescribed: Vec<_> = table.difference(&described).collect();
        let undeclared: Vec<_> = described.difference(&table).collect();
        assert!(
            undescribed.is_empty() && undeclared.is_empty(),
            "in the table, not in the document: {undescribed:?}; \
             in the document, not in the table: {undeclared:?}"
        );
    }
}
