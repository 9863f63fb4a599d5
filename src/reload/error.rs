//! Why a reload does not start or does not finish, as data. The entry point
//! prints it as `ifupdown-ovs: MESSAGE` and exits 1.

use std::path::PathBuf;
use std::time::Duration;

use crate::hook::error::HookError;
use crate::interfaces::ParseError;
use crate::ovsdb::daemon::{Hung, NotRunning};
use crate::ovsdb::state::StateError;
use crate::plan::error::PlanError;
use crate::sys::process::ProcessError;
use crate::sys::rundir::RunDirError;

#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The new file fails `check` (its diagnostics were printed).
    #[error(
        "reload refused: {} fails check ({errors} error(s), printed above); nothing was changed",
        file.display()
    )]
    Refused { file: PathBuf, errors: usize },
    /// The new file cannot be read.
    #[error(transparent)]
    Load(ParseError),
    /// Another reload runs.
    #[error("another reload is running (it holds {}); try again when it is done", path.display())]
    Busy { path: PathBuf },
    /// ifupdown works on the interface and did not let go in time.
    #[error(
        "{iface}: ifup or ifdown is working on it (it holds {}) for more than {} s; \
         nothing of it was changed",
        path.display(),
        waited.as_secs()
    )]
    IfaceBusy {
        iface: String,
        path: PathBuf,
        waited: Duration,
    },
    #[error("cannot take the reload lock: {0}")]
    Lock(#[source] std::io::Error),
    /// The applied-stanza store or the file of the applied stanzas.
    #[error("the applied stanzas: {0}")]
    Store(#[source] RunDirError),
    /// OVS is not running and could not be started.
    #[error("{0}")]
    NotRunning(#[source] NotRunning),
    /// OVS runs but does not answer (asked before anything is changed).
    #[error("{0}; nothing was changed")]
    Hung(#[source] Hung),
    #[error("cannot read OVSDB: {0}")]
    ReadOvsdb(#[source] StateError),
    /// An interface cannot be converged in place.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The in-place part cannot be planned (found before any part ran).
    #[error("{0}; nothing was changed")]
    NotPlanned(#[source] PlanError),
    /// Converging in place failed.
    #[error(transparent)]
    Apply(#[from] HookError),
    /// `ifup` or `ifdown` could not run.
    #[error("{0}")]
    Run(#[from] ProcessError),
    /// Some parts failed (each printed before); the others ran.
    #[error(
        "reload of {} incomplete: {failed} part(s) failed (printed above); what succeeded \
         stays applied; run `ifupdown-ovs reload` again once the cause is fixed",
        file.display()
    )]
    Incomplete { file: PathBuf, failed: usize },
    /// `ifup` or `ifdown` failed for some interfaces (its output was printed).
    #[error("`{command}` failed ({status})")]
    Ifupdown { command: String, status: String },
}
