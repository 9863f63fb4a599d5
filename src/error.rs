//! Top-level error type and exit codes.

use crate::interfaces::ParseError;
use crate::ovsdb::state::StateError;
use crate::plan::error::PlanError;

/// Everything that can stop a command. Module errors carry their own context.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error("{0}")]
    Usage(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// An interface that cannot be planned (`plan`).
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// OVS runs but its database cannot be read.
    #[error("cannot read OVSDB: {0}")]
    ReadOvsdb(#[source] StateError),
    /// `status` needs Open vSwitch running: why it is not
    /// (`ovsdb::daemon::health`).
    #[error("status: {0}; start Open vSwitch (service openvswitch-switch start)")]
    OvsNotRunning(String),
    /// `status` cannot read OVSDB.
    #[error("status: cannot read OVSDB: {0}")]
    StatusReadOvsdb(#[source] StateError),
}

impl Error {
    /// Exit status for this error (1 for configuration errors, 2 for usage).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => 2,
            _ => 1,
        }
    }
}
