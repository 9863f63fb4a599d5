//! Why a hook run fails, as data: the interface, the step, the error underneath.
//! `Display` is what the user sees (the hook prints each line after
//! `ifupdown-ovs: `), starting with the interface unless the message says where
//! it comes from itself (an option error names its file and line).

use std::path::PathBuf;

use crate::interfaces::ParseError;
use crate::net::ipcmd::IpError;
use crate::net::link::LinkError;
use crate::net::sysctl::SysctlError;
use crate::ovsdb::daemon::{Hung, NotRunning};
use crate::ovsdb::state::StateError;
use crate::ovsdb::vsctl::VsctlError;
use crate::plan::error::{InvalidStanza, PlanError};

/// Why one hook run fails (exit 1, so that ifupdown fails the interface).
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// The stanza's options are invalid.
    #[error(transparent)]
    Invalid(#[from] InvalidStanza),
    /// The phase of interface `iface` cannot be planned.
    #[error("{}", about(iface, source))]
    Plan {
        iface: String,
        #[source]
        source: Box<PlanError>,
    },
    /// OVS is not running and could not be started.
    #[error("{iface}: {source}")]
    NotRunning {
        iface: String,
        #[source]
        source: NotRunning,
    },
    /// This `ifup -a`'s `IFACE=--all` run could not start OVS; `why` is its
    /// message, as it recorded it.
    #[error("{iface}: {why}")]
    StartFailed { iface: String, why: String },
    /// OVS runs but does not answer (found by this run, or by an earlier hook
    /// run of the same ifup/ifdown).
    #[error("{iface}: {source}")]
    Unanswered {
        iface: String,
        #[source]
        source: Unanswered,
    },
    /// This `ifup -a`'s `IFACE=--all` run set the interface up, but OVS has
    /// stopped since (`why`: what [`crate::ovsdb::daemon::health`] says).
    #[error(
        "{iface}: {why}: it stopped after this ifup -a set {iface} up in OVS; see /var/log/openvswitch/ovs-vswitchd.log, start it (`service openvswitch-switch start`), then run ifup again"
    )]
    StoppedAfterBatch { iface: String, why: String },
    /// Reading OVSDB before planning.
    #[error("{iface}: cannot read OVSDB: {source}")]
    ReadOvsdb {
        iface: String,
        #[source]
        source: StateError,
    },
    /// The interface's transaction.
    #[error("{iface}: {source} (`ifupdown-ovs plan {iface}` shows the transaction)")]
    Transaction {
        iface: String,
        #[source]
        source: VsctlError,
    },
    /// OVS refused the interface's transaction, because of an option of its
    /// stanza (found by `hook::all::alone::blame`).
    #[error(transparent)]
    Refused(Box<Refused>),
    /// The check after the transaction.
    #[error("{iface}: {source}")]
    Verify {
        iface: String,
        #[source]
        source: VerifyError,
    },
    #[error("{iface}: {source}")]
    Sysctl {
        iface: String,
        #[source]
        source: SysctlError,
    },
    #[error("{iface}: source routing: {source}")]
    Routing {
        iface: String,
        #[source]
        source: IpError,
    },
    /// `ip link set`.
    #[error("{iface}: {source}")]
    Link {
        iface: String,
        #[source]
        source: LinkError,
    },
    /// The end of `ifdown -a` cannot read OVSDB: nothing recorded is removed.
    #[error("ifdown -a: cannot read OVSDB: {source}; not removed from OVS: {}", names.join(" "))]
    DownAllRead {
        names: Vec<String>,
        #[source]
        source: StateError,
    },
    /// The end of `ifdown -a` finds that OVS does not answer: nothing recorded is
    /// removed.
    #[error(
        "ifdown -a: {source}; not removed from OVS: {} (once OVS answers, `ifdown --force` them, or `ifup -a` to have them up again)",
        names.join(" ")
    )]
    DownAllUnanswered {
        names: Vec<String>,
        #[source]
        source: Unanswered,
    },
    /// The one transaction at the end of `ifdown -a` failed.
    #[error("ifdown -a: cannot remove from OVS: {}: {source}", names.join(" "))]
    DownAllApply {
        names: Vec<String>,
        #[source]
        source: VsctlError,
    },
}

impl HookError {
    /// Whether an ovs-vsctl call of this run got no answer in time.
    pub fn timed_out(&self) -> bool {
        match self {
            HookError::ReadOvsdb { source, .. }
            | HookError::Verify {
                source: VerifyError::Read(source),
                ..
            } => state_timed_out(source),
            HookError::Transaction { source, .. } => source.timed_out(),
            _ => false,
        }
    }
}

/// OVS refused the transaction of interface `iface`, because of option
/// `option` of its stanza at `at`.
#[derive(Debug, thiserror::Error)]
#[error(
    "{at}: {iface}: {option}: Open vSwitch refused it: {source} (`ifupdown-ovs plan {iface}` shows the transaction)"
)]
pub struct Refused {
    pub iface: String,
    pub at: crate::interfaces::Position,
    pub option: String,
    #[source]
    pub source: VsctlError,
}

/// Whether reading OVSDB failed because ovs-vsctl got no answer in time.
pub fn state_timed_out(e: &StateError) -> bool {
    matches!(e, StateError::Vsctl(v) if v.timed_out())
}

/// How a run knows that OVS does not answer.
#[derive(Debug, thiserror::Error)]
pub enum Unanswered {
    /// It asked ([`crate::ovsdb::daemon::answers`]).
    #[error(transparent)]
    Found(#[from] Hung),
    /// An earlier hook run of the same ifup/ifdown asked and recorded what it
    /// found ([`crate::hook::records::Records::note_hung`]); not asked again.
    #[error("{0} (found earlier in this run)")]
    Earlier(String),
    /// Another hook run (another ifup/ifdown: hotplug runs at once) found it
    /// moments ago ([`crate::ovsdb::gate::Gate::note_hung`]); not asked again.
    #[error("{why} (found by another ifup/ifdown {:.1} s ago)", .ago.as_secs_f32())]
    Recent {
        why: String,
        ago: std::time::Duration,
    },
}

/// A plan error as the hook of `iface` shows it: after `IFACE: ` unless it is
/// about `iface` already or says where it comes from (option errors).
fn about(iface: &str, e: &PlanError) -> String {
    match e.subject() {
        Some(s) if s != iface => format!("{iface}: {e}"),
        _ => e.to_string(),
    }
}

/// Why the check after a transaction failed.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("cannot read OVSDB: {0}")]
    Read(#[from] StateError),
    #[error(transparent)]
    Failed(#[from] SetupFailure),
}

/// An interface OVS did not set up after a transaction.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetupFailure {
    #[error("interface {name} is not in OVSDB after the transaction")]
    Missing { name: String },
    /// Its `error` column.
    #[error("OVS could not set up interface {name}: {error}")]
    Error { name: String, error: String },
    #[error(
        "OVS could not set up interface {name} (ofport -1; see /var/log/openvswitch/ovs-vswitchd.log)"
    )]
    NoOfport { name: String },
    /// Still without `ofport` after the grace period, like the others in `late`.
    #[error("OVS did not give {} an OpenFlow port in time", late.join(", "))]
    Late { name: String, late: Vec<String> },
}

impl SetupFailure {
    /// The interface that failed.
    pub fn name(&self) -> &str {
        match self {
            SetupFailure::Missing { name }
            | SetupFailure::Error { name, .. }
            | SetupFailure::NoOfport { name }
            | SetupFailure::Late { name, .. } => name,
        }
    }
}

/// Why the batch of `ifup -a` set up nothing (more); each interface is then set
/// up by its own hook run, which reports its own errors.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("no ifup process found")]
    NoIfup,
    #[error("-o given")]
    Options,
    /// `--read-environment` given, and the environment of ifup unreadable.
    #[error("cannot read the environment of ifup (pid {pid}) for --read-environment")]
    Environment { pid: u32 },
    /// `--read-environment` with `CONFIGURE_INTERFACES=no`: ifup does nothing.
    #[error("CONFIGURE_INTERFACES=no")]
    NoAct,
    #[error(transparent)]
    Config(#[from] ParseError),
    #[error(transparent)]
    NotRunning(#[from] NotRunning),
    #[error(transparent)]
    Unanswered(#[from] Unanswered),
    /// OVS stopped after the transaction for all (`why`: what
    /// [`crate::ovsdb::daemon::health`] says).
    #[error("{0}")]
    Stopped(String),
    #[error("cannot read OVSDB: {0}")]
    ReadOvsdb(#[from] StateError),
    #[error("the transaction for all failed: {0}")]
    Transaction(#[source] VsctlError),
    /// A step of one interface (its sysctls).
    #[error(transparent)]
    Step(#[from] HookError),
    /// The `ip -batch` that sets the links up.
    #[error(transparent)]
    Links(#[from] IpError),
    /// The record of what was set up.
    #[error("cannot write in {}: {source}", dir.display())]
    Record {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl BatchError {
    /// Whether an ovs-vsctl call of the batch got no answer in time.
    pub fn timed_out(&self) -> bool {
        match self {
            BatchError::ReadOvsdb(e) => state_timed_out(e),
            BatchError::Transaction(e) => e.timed_out(),
            BatchError::Step(e) => e.timed_out(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::options::OptionError;
    use crate::interfaces::Position;
    use crate::plan::converge::ConvergeError;

    fn shown(source: PlanError) -> String {
        HookError::Plan {
            iface: "p1".into(),
            source: Box::new(source),
        }
        .to_string()
    }

    #[test]
    fn plan_errors_start_with_the_interface_once() {
        assert_eq!(
            shown(PlanError::NestedTooDeep {
                name: "p1".into(),
                bridge: "br0".into()
            }),
            "p1: bridge br0: VLAN bridge parents nest too deep"
        );
        // about its bridge, or under another LOGICAL name: IFACE first
        let converge = ConvergeError {
            name: "br0".into(),
            have: "a bridge".into(),
            want: "a VLAN bridge (br1 VLAN 2)".into(),
            ports: vec!["vnet0".into()],
        };
        assert!(shown(converge.into()).starts_with("p1: br0: cannot change it into a VLAN bridge"),);
        assert_eq!(
            shown(PlanError::NotOvs { name: "x".into() }),
            "p1: x: no ovs_* options"
        );
        // option errors say where they come from
        let invalid = InvalidStanza {
            name: "br0".into(),
            errors: vec![OptionError::Invalid {
                iface: "br0".into(),
                option: "ovs_options".into(),
                pos: Some(Position {
                    file: "/etc/network/interfaces".into(),
                    line: 3,
                }),
                message: "bad".into(),
            }],
        };
        assert_eq!(
            shown(PlanError::InvalidBridge {
                name: "p1".into(),
                bridge: "br0".into(),
                source: invalid,
            }),
            "p1: cannot create its bridge br0, whose stanza is invalid:\n/etc/network/interfaces:3: error: br0: ovs_options: bad"
        );
    }

    #[test]
    fn late_interfaces_are_named_together() {
        let late = SetupFailure::Late {
            name: "a".into(),
            late: vec!["a".into(), "b".into()],
        };
        assert_eq!(late.name(), "a");
        assert_eq!(
            late.to_string(),
            "OVS did not give a, b an OpenFlow port in time"
        );
    }
}
