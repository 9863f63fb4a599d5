//! `TrialError`: why `reload --try`, `commit` or `rollback` did not do what was asked,
//! as data. The commands print it as `ifupdown-ovs: MESSAGE` and exit 1.

use std::path::PathBuf;

use crate::hook::applied::FilesError;
use crate::interfaces::snapshot::SnapshotError;
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
    /// `--try` without `-i` and no copy of the files last applied to go back to.
    #[error(
        "reload --try without -i: no copy of the files last applied ({} is missing: it is \
         made by `ifup -a`, `reload` and `commit`), so a revert would have nothing to put \
         back; run `ifupdown-ovs reload` once, or give the new version with -i FILE \
         (a copy you edited) and keep {} as it was",
        copy.display(), target.display()
    )]
    NoApplied { target: PathBuf, copy: PathBuf },
    /// The copy of the files last applied is of another main file (`reload -i X`).
    #[error(
        "reload --try without -i: the files last applied were read from {}, not {}; \
         give the new version with -i FILE, or run `ifupdown-ovs reload` once",
        main.display(), target.display()
    )]
    AppliedOther { target: PathBuf, main: PathBuf },
    /// `--try` without `-i` when nothing was edited since the last apply.
    #[error(
        "reload --try without -i: {} and the files it sources are as they were last \
         applied: nothing to try (edit them first, or give the new version with -i FILE)",
        target.display()
    )]
    NothingEdited { target: PathBuf },
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    #[error("the copy of the files last applied: {0}")]
    Applied(#[from] FilesError),
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
