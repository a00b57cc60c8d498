//! Prometheus metrics of the server.

use std::collections::BTreeMap;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use rdpm_types::{CloseReason, ObjectKind};

/// Every close reason, so that each series exists from the start at zero.
const CLOSE_REASONS: [CloseReason; 4] = [
    CloseReason::Disconnected,
    CloseReason::Expired,
    CloseReason::ForcedClose,
    CloseReason::ServerShutdown,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: &'static str,
}

/// The server's metrics and the registry that renders them.
pub struct Metrics {
    registry: Registry,
    sessions_open: Gauge,
    sessions_opened: Counter,
    sessions_closed: Family<ReasonLabel, Counter>,
    sessions_expired: Counter,
    objects_released: Family<KindLabel, Counter>,
    tls_handshakes: Family<KindLabel, Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Every metric at zero.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let sessions_open = Gauge::default();
        let sessions_opened = Counter::default();
        let sessions_closed = Family::<ReasonLabel, Counter>::default();
        let sessions_expired = Counter::default();
        let objects_released = Family::<KindLabel, Counter>::default();
        let tls_handshakes = Family::<KindLabel, Counter>::default();
        // Counters get their `_total` suffix from the encoder.
        registry.register(
            "rdpm_sessions_open",
            "Sessions open now",
            sessions_open.clone(),
        );
        registry.register(
            "rdpm_sessions_opened",
            "Sessions opened since the server started",
            sessions_opened.clone(),
        );
        registry.register(
            "rdpm_sessions_closed",
            "Sessions closed since the server started, by reason",
            sessions_closed.clone(),
        );
        registry.register(
            "rdpm_sessions_expired",
            "Sessions closed because their lease expired",
            sessions_expired.clone(),
        );
        registry.register(
            "rdpm_session_objects_released",
            "Session objects released by closing their session, by kind",
            objects_released.clone(),
        );
        registry.register(
            "rdpm_tls_handshakes",
            "TLS handshakes completed: full, or resuming an earlier session with a ticket",
            tls_handshakes.clone(),
        );
        for reason in CLOSE_REASONS {
            let _ = sessions_closed.get_or_create(&ReasonLabel {
                reason: reason.as_str(),
            });
        }
        for kind in ObjectKind::ALL {
            let _ = objects_released.get_or_create(&KindLabel {
                kind: kind.as_str(),
            });
        }
        for kind in ["full", "resumed"] {
            let _ = tls_handshakes.get_or_create(&KindLabel { kind });
        }
        Metrics {
            registry,
            sessions_open,
            sessions_opened,
            sessions_closed,
            sessions_expired,
            objects_released,
            tls_handshakes,
        }
    }

    pub(crate) fn session_opened(&self) {
        self.sessions_open.inc();
        self.sessions_opened.inc();
    }

    pub(crate) fn session_closed(&self, reason: CloseReason, released: &BTreeMap<ObjectKind, u64>) {
        self.sessions_open.dec();
        self.sessions_closed
            .get_or_create(&ReasonLabel {
                reason: reason.as_str(),
            })
            .inc();
        if reason == CloseReason::Expired {
            self.sessions_expired.inc();
        }
        for (kind, n) in released {
            self.objects_released
                .get_or_create(&KindLabel {
                    kind: kind.as_str(),
                })
                .inc_by(*n);
        }
    }

    pub(crate) fn tls_handshake(&self, resumed: bool) {
        let kind = if resumed { "resumed" } else { "full" };
        self.tls_handshakes.get_or_create(&KindLabel { kind }).inc();
    }

    /// The metrics in the OpenMetrics text format, which Prometheus reads.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// Content type of [`Metrics::render`].
pub const METRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
