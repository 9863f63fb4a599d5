//! Running `ifup` / `ifdown` for the port: argv (the interfaces file, the `-o`
//! options the parameters supply), a time limit, and ifupdown's own idea of whether
//! the interface is configured (`ifquery --state`). Hook noise on stderr is logged,
//! not taken as failure: the exit status decides.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::interfaces::DEFAULT_FILE;
use crate::sys::process::{Finished, run_bounded};

/// Which program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Up,
    Down,
}

impl Verb {
    pub fn program(self) -> &'static str {
        match self {
            Verb::Up => "ifup",
            Verb::Down => "ifdown",
        }
    }
}

/// `ifup|ifdown [-i FILE] [-o NAME=VALUE]... [--force] IFACE`; `-i` only for a file
/// other than the default.
pub fn argv(
    verb: Verb,
    file: &Path,
    options: &[(String, String)],
    force: bool,
    iface: &str,
) -> Vec<String> {
    let mut a = vec![verb.program().to_string()];
    if file != Path::new(DEFAULT_FILE) {
        a.push("-i".into());
        a.push(file.display().to_string());
    }
    for (k, v) in options {
        a.push("-o".into());
        a.push(format!("{k}={v}"));
    }
    if force {
        a.push("--force".into());
    }
    a.push(iface.to_string());
    a
}

/// Why ifup/ifdown did not do its job.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IfupdownError {
    #[error("`{argv}` failed ({status}): {last}")]
    Failed {
        argv: String,
        status: String,
        last: String,
    },
    #[error("`{argv}` did not finish within {secs} s and was killed")]
    Timeout { argv: String, secs: u64 },
    #[error("cannot run `{argv}`: {why}")]
    Spawn { argv: String, why: String },
}

/// Run `argv` for at most `limit`; its stderr is logged (debug on success).
pub fn run(argv: &[String], limit: Duration) -> Result<(), IfupdownError> {
    let shown = argv.join(" ");
    let Some((prog, args)) = argv.split_first() else {
        return Ok(());
    };
    log::info!("running {shown}");
    let f = match run_bounded(Command::new(prog).args(args), limit) {
        Ok(f) => f,
        Err(crate::sys::process::ProcessError::Timeout { .. }) => {
            return Err(IfupdownError::Timeout {
                argv: shown,
                secs: limit.as_secs(),
            });
        }
        Err(e) => {
            return Err(IfupdownError::Spawn {
                argv: shown,
                why: e.to_string(),
            });
        }
    };
    log_output(&shown, &f);
    if f.success() {
        Ok(())
    } else {
        Err(IfupdownError::Failed {
            argv: shown,
            status: f.status.to_string(),
            last: last_line(&f.stderr).unwrap_or("no message").to_string(),
        })
    }
}

fn log_output(shown: &str, f: &Finished) {
    for line in f.stderr.lines().chain(f.stdout.lines()) {
        if line.trim().is_empty() {
            continue;
        }
        if f.success() {
            log::debug!("{shown}: {line}");
        } else {
            log::warn!("{shown}: {line}");
        }
    }
}

/// What ifup printed just before giving up: the last non-empty line that is not
/// one of ifupdown's generic summaries (those say only that something failed).
fn last_line(text: &str) -> Option<&str> {
    let generic = |l: &str| {
        l.starts_with("ifup: failed to bring up")
            || l.starts_with("ifdown: failed to bring down")
            || l.starts_with("run-parts:")
    };
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let last = lines.clone().next_back();
    lines.rfind(|l| !generic(l)).or(last)
}

/// Whether ifupdown has `iface` configured (`ifquery --state IFACE` finds it).
/// Unknown (ifquery fails to run) counts as configured: ifdown is then harmless.
pub fn is_configured(iface: &str) -> bool {
    match run_bounded(
        Command::new("ifquery").args(["--state", iface]),
        Duration::from_secs(10),
    ) {
        Ok(f) => f.success() && f.stdout.lines().any(|l| l.split('=').next() == Some(iface)),
        Err(e) => {
            log::warn!("ifquery --state {iface}: {e}");
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_shapes() {
        let default = Path::new("/etc/network/interfaces");
        assert_eq!(argv(Verb::Up, default, &[], false, "p1"), ["ifup", "p1"]);
        let opts = vec![
            ("ovs_type".to_string(), "OVSIntPort".to_string()),
            ("ovs_bridge".to_string(), "br0".to_string()),
        ];
        assert_eq!(
            argv(Verb::Down, Path::new("/tmp/if"), &opts, true, "p1"),
            [
                "ifdown",
                "-i",
                "/tmp/if",
                "-o",
                "ovs_type=OVSIntPort",
                "-o",
                "ovs_bridge=br0",
                "--force",
                "p1"
            ]
        );
    }

    #[test]
    fn failure_names_the_last_line() {
        let a: Vec<String> = ["/bin/sh", "-c", "echo one >&2; echo two >&2; exit 1"]
            .map(String::from)
            .to_vec();
        let e = run(&a, Duration::from_secs(5)).unwrap_err();
        assert!(
            matches!(&e, IfupdownError::Failed { last, .. } if last == "two"),
            "{e}"
        );
        let a: Vec<String> = ["/bin/sh", "-c", "echo noise >&2"]
            .map(String::from)
            .to_vec();
        assert_eq!(run(&a, Duration::from_secs(5)), Ok(()));
        let a: Vec<String> = ["/bin/sh", "-c", "sleep 5"].map(String::from).to_vec();
        let e = run(&a, Duration::from_millis(100)).unwrap_err();
        assert!(matches!(e, IfupdownError::Timeout { .. }), "{e}");
        let a = vec!["/nonexistent/ifup".to_string()];
        assert!(matches!(
            run(&a, Duration::from_secs(1)),
            Err(IfupdownError::Spawn { .. })
        ));
    }
}
