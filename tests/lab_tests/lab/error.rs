//! What a lab command returns: [`Output`] on completion, [`LabError`] with full
//! context (lab, argv, exit status, stdout, stderr) when something went wrong.

use std::fmt;
use std::process::ExitStatus;

/// The result of a command that ran to completion inside a lab (any exit status).
#[derive(Clone, Debug)]
pub struct Output {
    /// Name of the lab the command ran in.
    pub lab: String,
    /// The command line, as given.
    pub argv: Vec<String>,
    /// Exit status of the command.
    pub status: ExitStatus,
    /// Standard output, lossily decoded as UTF-8.
    pub stdout: String,
    /// Standard error, lossily decoded as UTF-8.
    pub stderr: String,
}

impl Output {
    /// True when the command exited with status 0.
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// The exit code, or `None` when the command was killed by a signal.
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Turns a non-zero exit into [`LabError::Failed`]; returns stdout otherwise.
    pub fn into_stdout(self) -> Result<String, LabError> {
        if self.success() {
            Ok(self.stdout)
        } else {
            Err(LabError::Failed {
                lab: self.lab,
                argv: self.argv,
                status: self.status.to_string(),
                stdout: self.stdout,
                stderr: self.stderr,
            })
        }
    }
}

/// Everything that can go wrong in the lab. `Debug` prints the same text as
/// `Display`, so `unwrap()` and `-> Result<(), LabError>` tests show readable output.
#[derive(thiserror::Error)]
pub enum LabError {
    /// A command exited non-zero (or by a signal).
    #[error(
        "in lab {lab}: {argv:?} failed ({status})\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"
    )]
    Failed {
        lab: String,
        argv: Vec<String>,
        status: String,
        stdout: String,
        stderr: String,
    },
    /// A command did not finish in time; it was killed.
    #[error(
        "in lab {lab}: {argv:?} timed out after {seconds} s and was killed\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"
    )]
    Timeout {
        lab: String,
        argv: Vec<String>,
        seconds: u64,
        stdout: String,
        stderr: String,
    },
    /// A command could not be started at all.
    #[error("in lab {lab}: cannot run {argv:?}: {source}")]
    Spawn {
        lab: String,
        argv: Vec<String>,
        source: std::io::Error,
    },
    /// Setting up or tearing down the lab failed for another reason.
    #[error("in lab {lab}: {message}")]
    Setup { lab: String, message: String },
}

impl fmt::Debug for LabError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
