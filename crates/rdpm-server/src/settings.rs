//! The server-wide settings in force: what `Set-DPMGlobalProperty` last
//! saved, read by the parts of the server each setting governs.

use std::sync::RwLock;

use rdpm_types::GlobalProperties;

/// The settings in force; cheap to read from any thread.
#[derive(Debug, Default)]
pub(crate) struct Settings {
    current: RwLock<GlobalProperties>,
}

impl Settings {
    /// Settings starting from `initial`.
    pub(crate) fn new(initial: GlobalProperties) -> Settings {
        Settings {
            current: RwLock::new(initial),
        }
    }

    /// The settings now.
    pub(crate) fn current(&self) -> GlobalProperties {
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Puts `next` in force.
    pub(crate) fn replace(&self, next: GlobalProperties) {
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = next;
    }
}
