//! What every handler can reach: the server's state, shared by the router.

use std::sync::Arc;

use rdpm_types::ServerInfo;

use crate::data_dir::AdminToken;
use crate::metrics::Metrics;
use crate::session::SessionManager;

/// What every handler can reach.
pub(crate) struct Shared {
    pub(crate) sessions: Arc<SessionManager>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) admin: AdminToken,
    pub(crate) info: ServerInfo,
    pub(crate) openapi_json: String,
    /// The engine's services.
    pub(crate) engine: Arc<rdpm_engine::Engine>,
    /// Set when the server runs on a manual clock (`--simulated-clock`).
    pub(crate) manual_clock: Option<Arc<rdpm_engine::clock::ManualClock>>,
    /// Where audit records go.
    pub(crate) audit: Arc<crate::audit::AuditTrail>,
    /// How often agents' channels are pinged.
    pub(crate) agent_keepalive: std::time::Duration,
    /// The failed agent attaches of each client address: this server's,
    /// as its failed logins are, so that servers sharing a process (the
    /// tests', an embedding's) do not lock each other's clients out.
    pub(crate) failed_attaches: std::sync::Mutex<rdpm_engine::users::Windows>,
}

pub(crate) type AppState = Arc<Shared>;
