//! The OpenAPI document's parts that no handler states: its description,
//! tags, security scheme, the schemas no operation names, and the answers
//! any operation may give.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The document's description, tags, security and the schemas no operation
/// names; the operations come from the handlers (see `document`).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "rdpm Data Protection Manager API",
        description = "Sessions, session objects and server administration. Every endpoint \
                       but the health check needs 'Authorization: Bearer <token>': the \
                       administrator token, an API token or a session token. Errors are problem+json \
                       bodies with a stable error_id and a PowerShell category."
    ),
    components(schemas(
        rdpm_types::Problem,
        rdpm_types::ErrorId,
        rdpm_types::ErrorCategory,
        rdpm_types::CloseReason,
        rdpm_types::ObjectKind,
        rdpm_types::ScopedObjectType,
    )),
    security(("bearer" = [])),
    tags(
        (name = "server", description = "The server itself"),
        (name = "sessions", description = "Connection sessions (Connect-DPMServer, Disconnect-DPMServer)"),
        (name = "api tokens", description = "API tokens for scripts and cron (New-DPMApiToken, Get-DPMApiToken, Remove-DPMApiToken): a user's rights within a role, until an expiry"),
        (name = "scopes", description = "Server scopes (New-DPMServerScope), objects of a session"),
        (name = "protection", description = "Production servers, datasources and protection groups"),
        (name = "jobs", description = "Jobs (backups) and recovery points: New-DPMRecoveryPoint, Get-DPMJob, Stop-DPMJob, Get-/Remove-DPMRecoveryPoint"),
        (name = "recovery", description = "Browse and search recovery points (cursors are session objects) and restore from them: Get-DPMRecoverableItem, Restore-DPMRecoverableItem, Get-DPMRecoveryPointLocation"),
        (name = "alerts", description = "Alerts raised by jobs that failed or ran late, resolved when a later job succeeds (Get-DPMAlert)"),
        (name = "global properties", description = "Server-wide settings (Get-DPMGlobalProperty, Set-DPMGlobalProperty) and the outbox of alert notifications they configure"),
        (name = "agents", description = "Production servers' agents: attaching one with a one-time key, and the channel it keeps open to answer the server"),
        (name = "protection groups", description = "Protection group drafts, objects of a session: create, open for modification (edit lock), edit, commit"),
        (name = "roles", description = "Recovery roles (New-/Get-/Set-/Remove-DPMRole): groups of users who browse, search and restore only the role's items, only into its targets"),
    )
)]
struct ApiInfo;

/// The OpenAPI document: `operations` (those of the routes, from their
/// handlers) with the description, the security scheme and the answers
/// every operation may give.
pub(super) fn document(operations: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    let mut doc = ApiInfo::openapi();
    doc.merge(operations);
    BearerAuth.modify(&mut doc);
    CommonResponses.modify(&mut doc);
    doc
}

struct BearerAuth;

/// The answers any operation may give besides its own: a bad credential
/// (401), the administrator token where a session is needed (403), a
/// session closed meanwhile (410), a malformed query or path (400), a body
/// too large or not JSON (413, 415), the server shutting down (503). The
/// health check needs no credential, so only 503 applies to it.
struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let problem = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/problem+json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build()
        };
        let credential: [(&str, &str); 4] = [
            ("400", "A malformed path or query value"),
            ("401", "A missing, unknown or wrong credential"),
            ("403", "The caller lacks the right the operation needs (the problem's `right` names it), or the administrator token where a session is needed"),
            ("410", "The session was closed (Disconnect-DPMServer, its lease, a restart)"),
        ];
        let body: [(&str, &str); 2] = [
            ("413", "The body is larger than 2 MiB"),
            (
                "415",
                "The body is not JSON (Content-Type: application/json)",
            ),
        ];
        use rdpm_types::routes::Method;
        for (path, item) in &mut openapi.paths.paths {
            let open = path == rdpm_types::paths::HEALTH;
            for (method, op) in [
                (Method::Get, item.get.as_mut()),
                (Method::Put, item.put.as_mut()),
                (Method::Post, item.post.as_mut()),
                (Method::Delete, item.delete.as_mut()),
            ]
            .into_iter()
            .filter_map(|(m, op)| Some((m, op?)))
            {
                if let Some(route) = rdpm_types::routes::ALL
                    .iter()
                    .find(|r| r.path == path && r.method == method)
                {
                    let needs = format!("Needs the right `{}`.", route.right);
                    op.description = Some(match op.description.take() {
                        Some(text) => format!("{text}\n\n{needs}"),
                        None => needs,
                    });
                }
                let mut common: Vec<(&str, &str)> = vec![("503", "The server is shutting down")];
                if !open {
                    common.extend(credential);
                }
                if op.request_body.is_some() {
                    common.extend(body);
                }
                if path.contains('{') {
                    common.push(("404", "Nothing of that id"));
                }
                for (code, description) in common {
                    op.responses
                        .responses
                        .entry(code.to_string())
                        .or_insert_with(|| problem(description).into());
                }
            }
        }
    }
}

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}
