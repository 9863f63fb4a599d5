//! Running `ip` for source routing: reading rules, routes and addresses
//! (`ip -N -j ...`) and applying a [`Change`] as one `ip -batch -` (commands on its
//! stdin), every call bounded in time.

use std::process::Command;
use std::time::Duration;

use super::addr::Family;
use super::link::IP_TIMEOUT;
use super::route::{Change, SourceRouting};
use super::rtstate::{self, IpJsonError, Kernel};
use crate::sys::process::{Finished, ProcessError, failure_line, run_bounded, run_bounded_input};

/// Why source routing could not be read or changed.
#[derive(Debug, thiserror::Error)]
pub enum IpError {
    #[error("cannot run ip: {0}")]
    Spawn(std::io::Error),
    #[error("`{argv}` did not finish within {} s and was killed", .limit.as_secs_f32())]
    Timeout { argv: String, limit: Duration },
    #[error("`{argv}`: {source}")]
    Unread {
        argv: String,
        #[source]
        source: ProcessError,
    },
    #[error("`{argv}` failed: {message}")]
    Failed { argv: String, message: String },
    #[error("`{argv}`: {source}")]
    Output { argv: String, source: IpJsonError },
}

/// An `ip` run that did not finish, as an [`IpError`] naming `argv`.
fn not_finished(argv: String) -> impl FnOnce(ProcessError) -> IpError {
    move |e| match e {
        ProcessError::Spawn { source, .. } => IpError::Spawn(source),
        ProcessError::Timeout { limit, .. } => IpError::Timeout { argv, limit },
        source @ (ProcessError::OutputHeld { .. } | ProcessError::TooMuchOutput { .. }) => {
            IpError::Unread { argv, source }
        }
    }
}

fn ip(args: &[&str]) -> Result<Finished, IpError> {
    let argv = format!("ip {}", args.join(" "));
    run_bounded(Command::new("ip").args(args), IP_TIMEOUT).map_err(not_finished(argv))
}

/// Run `ip ARGS`; its stdout on success.
fn ip_ok(args: &[&str]) -> Result<String, IpError> {
    let f = ip(args)?;
    if f.success() {
        Ok(f.stdout)
    } else {
        Err(IpError::Failed {
            argv: format!("ip {}", args.join(" ")),
            message: failure_line(&f),
        })
    }
}

/// What the kernel has that concerns `s`: rules of its family, routes of the
/// tables involved, addresses on its device (none when the device is gone).
pub fn read_kernel(s: &SourceRouting) -> Result<Kernel, IpError> {
    let fam = s.family.flag();
    let out_err = |argv: String| move |source: IpJsonError| IpError::Output { argv, source };
    let rules_argv = ["-N", "-j", fam, "rule", "show"];
    let rules = rtstate::parse_rules(&ip_ok(&rules_argv)?)
        .map_err(out_err(format!("ip {}", rules_argv.join(" "))))?;
    let addr_argv = ["-j", fam, "addr", "show", "dev", s.dev.as_str()];
    let f = ip(&addr_argv)?;
    let dev_addrs = if f.success() {
        rtstate::parse_addrs(&f.stdout, s.family)
            .map_err(out_err(format!("ip {}", addr_argv.join(" "))))?
    } else {
        Vec::new()
    };
    let mut routes = Vec::new();
    for t in rtstate::tables_to_read(s, &rules, &dev_addrs) {
        let t = t.to_string();
        let argv = ["-N", "-j", fam, "route", "show", "table", t.as_str()];
        let f = ip(&argv)?;
        if !f.success() {
            // A table that holds nothing does not exist for the kernel.
            if f.stderr.contains("does not exist") {
                continue;
            }
            return Err(IpError::Failed {
                argv: format!("ip {}", argv.join(" ")),
                message: failure_line(&f),
            });
        }
        let id = t.parse().unwrap_or_default();
        routes.extend(
            rtstate::parse_routes(&f.stdout, id)
                .map_err(out_err(format!("ip {}", argv.join(" "))))?,
        );
    }
    Ok(Kernel {
        rules,
        routes,
        dev_addrs,
    })
}

/// Apply a change: read the kernel, then one `ip -batch -` with what is missing or
/// ours to delete (no process at all when nothing is).
pub fn apply(c: &Change) -> Result<(), IpError> {
    let k = read_kernel(&c.spec)?;
    let lines = rtstate::batch(c.direction, &c.spec, &k);
    if lines.is_empty() {
        return Ok(());
    }
    run_batch(c.spec.family, &lines)
}

/// `ip -4|-6 -batch -` with `lines` on stdin; stops at the first failing line.
pub fn run_batch(family: Family, lines: &[String]) -> Result<(), IpError> {
    let args = [family.flag(), "-batch", "-"];
    let argv = format!("ip {}", args.join(" "));
    let mut input = lines.join("\n");
    input.push('\n');
    let f = run_bounded_input(Command::new("ip").args(args), input.as_bytes(), IP_TIMEOUT)
        .map_err(not_finished(argv.clone()))?;
    if f.success() {
        return Ok(());
    }
    // ip names the failing line as "Command failed -:N".
    let failed_line = f
        .stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("Command failed -:"))
        .and_then(|n| n.trim().parse::<usize>().ok())
        .and_then(|n| lines.get(n.wrapping_sub(1)));
    let message = match failed_line {
        Some(l) => format!("{} (at `{l}`)", failure_line(&f)),
        None => failure_line(&f),
    };
    Err(IpError::Failed { argv, message })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_batch_line_is_named() {
        // Read-only: `route show` changes nothing, the second line is no command.
        let lines = [
            "route show table 255".to_string(),
            "nosuchcmd x".to_string(),
        ];
        match run_batch(Family::V4, &lines) {
            Err(IpError::Failed { argv, message }) => {
                assert_eq!(argv, "ip -4 -batch -");
                assert!(message.ends_with("(at `nosuchcmd x`)"), "{message}");
            }
            other => panic!("expected a failure, got {other:?}"),
        }
    }
}
