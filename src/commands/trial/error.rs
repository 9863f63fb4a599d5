//! `TrialError`: why `reload --try`, `commit` or `rollback` did not do what was asked,
//! as data. The commands print it as `ifupdown-ovs: MESSAGE` and exit 1.

use std::path::PathBuf;

use crate::sys::process::ProcessError;
use crate::sys::rundir::RunDirError;

#[derive(Debug, thiserror::Error)]
pub enum TrialError {
    /// The run directory or one of our files there cannot be used.
    #[error(transparent)]
    RunDir(#[from] RunDirError),
    #[error("{}: cannot take the lock: {source}", path.display())]
    Lock {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: damaged record: no valid `{key}`", path.display())]
    BadRecord { path: PathBuf, key: String },
    #[error("{}: a path with a newline cannot be recorded", path.display())]
    NewlineInPath { path: PathBuf },
    /// A second `reload --try` while one is pending.
    #[error(
        "a try is already pending: {} from {} until {deadline}{timer}; \
         run `ifupdown-ovs commit` to keep it or `ifupdown-ovs rollback` to revert it first",
        target.display(), candidate.display()
    )]
    AlreadyPending {
        target: PathBuf,
        candidate: PathBuf,
        deadline: String,
        /// Empty, or why the timer will not revert it.
        timer: String,
    },
    /// `commit` or `rollback` with no try pending.
    #[error("nothing to {action}: no `reload --try` is pending{last}")]
    NothingPending { action: &'static str, last: String },
    /// `--try` without a new file to try.
    #[error(
        "reload --try: give the new version with -i FILE (a copy you edited), not {} itself: \
         the file in place is what a revert puts back",
        target.display()
    )]
    NoCandidate { target: PathBuf },
    #[error("{}: {what}: {source}", path.display())]
    File {
        path: PathBuf,
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: refused: not a regular file (a symlink or another file is there)", path.display())]
    NotRegular { path: PathBuf },
    /// The new file fails `check`: nothing was changed.
    #[error("{}: fails `check` (see above); nothing was changed", path.display())]
    CheckFailed { path: PathBuf },
    #[error("reload --try, commit and rollback must run as root")]
    NotRoot,
    #[error("cannot find our own program: {0}")]
    NoExe(#[source] std::io::Error),
    #[error("cannot start the revert timer: {0}")]
    Timer(#[source] std::io::Error),
    /// Running `ifupdown-ovs reload` failed to start or finish.
    #[error("reload -i {}: {source}", file.display())]
    ReloadRun {
        file: PathBuf,
        #[source]
        source: ProcessError,
    },
    /// `ifup`/`ifdown` of one interface, run to give back what was up before.
    #[error("{program} {iface}: {line}")]
    Ifupdown {
        program: String,
        iface: String,
        line: String,
    },
    /// `ifupdown-ovs reload` ran and said the host does not match the file.
    #[error("reload -i {} failed: {line}", file.display())]
    ReloadFailed { file: PathBuf, line: String },
}
