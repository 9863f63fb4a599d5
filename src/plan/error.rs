//! Why an interface cannot be planned. Errors carry what they are about (the
//! interface, the bridge, the option errors with their file positions, the error
//! underneath) so that callers decide how to show them; their `Display` is the
//! message the user sees, starting with the interface it is about.

use std::fmt;
use std::path::PathBuf;

use super::converge::ConvergeError;
use super::desired::DesiredError;
use crate::config::model::OvsType;
use crate::config::options::OptionError;
use crate::net::addr::{Family, StaticError};
use crate::net::route::RouteError;

/// An interface whose `ovs_*` options are invalid: every error, one per line, each
/// with the file and line of its option when the configuration says where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct InvalidStanza {
    /// The interface (logical name).
    pub name: String,
    pub errors: Vec<OptionError>,
}

impl fmt::Display for InvalidStanza {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// Why the plan of one interface's phase cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// Its options are invalid.
    #[error(transparent)]
    Invalid(#[from] InvalidStanza),
    /// It has no `ovs_*` options (or no stanza) but must have.
    #[error("{name}: no ovs_* options")]
    NotOvs { name: String },
    /// Its OVS rows cannot be built from its options.
    #[error(transparent)]
    Desired(#[from] DesiredError),
    /// The transaction would destroy what is not ours.
    #[error(transparent)]
    Converge(#[from] ConvergeError),
    /// VLAN bridges whose parents are VLAN bridges, too many times.
    #[error("{name}: bridge {bridge}: VLAN bridge parents nest too deep")]
    NestedTooDeep { name: String, bridge: String },
    /// `ovs_bridge` names an interface that is not a bridge.
    #[error("{name}: ovs_bridge {bridge} is an {kind}, not an OVSBridge")]
    NotABridge {
        name: String,
        bridge: String,
        kind: OvsType,
    },
    /// The bridge to create first has invalid options.
    #[error("{name}: cannot create its bridge {bridge}, whose stanza is invalid:\n{source}")]
    InvalidBridge {
        name: String,
        bridge: String,
        #[source]
        source: InvalidStanza,
    },
    /// The bridge is neither in OVS nor in the interfaces file.
    #[error(
        "{name}: bridge {bridge} does not exist in OVS and {} has no OVSBridge stanza for it",
        file.display()
    )]
    UnknownBridge {
        name: String,
        bridge: String,
        file: PathBuf,
    },
    /// A stanza's static address configuration (for source routing).
    #[error("{name}: {} stanza: {source}", family.addrfam())]
    Static {
        name: String,
        family: Family,
        #[source]
        source: StaticError,
    },
    /// `ovs_route_table` names a table `ip` does not know.
    #[error("{name}: {source}")]
    RouteTable {
        name: String,
        #[source]
        source: RouteError,
    },
    /// An `ovs_route` line.
    #[error("{name}: ovs_route: {source}")]
    Route {
        name: String,
        #[source]
        source: RouteError,
    },
}

impl PlanError {
    /// The interface (or bridge) the message is about: the name it starts with.
    /// None for option errors, which start with where the option was given.
    pub fn subject(&self) -> Option<&str> {
        match self {
            PlanError::Invalid(_) | PlanError::InvalidBridge { .. } => None,
            PlanError::Desired(e) => Some(&e.iface),
            PlanError::Converge(e) => Some(&e.name),
            PlanError::NotOvs { name }
            | PlanError::NestedTooDeep { name, .. }
            | PlanError::NotABridge { name, .. }
            | PlanError::UnknownBridge { name, .. }
            | PlanError::Static { name, .. }
            | PlanError::RouteTable { name, .. }
            | PlanError::Route { name, .. } => Some(name),
        }
    }
}
