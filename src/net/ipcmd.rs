//! Running `ip` for source routing: reading rules, routes and addresses
//! (`ip -N -j ...`) and applying a [`Change`] as one `ip -batch -` (commands on its
//! stdin), every call bounded in time.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::addr::Family;
use super::link::IP_TIMEOUT;
use super::route::{Change, SourceRouting};
use super::rtstate::{self, Kernel};
use crate::ovs::process::{Finished, failure_line, run_bounded};

/// Why source routing could not be read or changed.
#[derive(Debug, thiserror::Error)]
pub enum IpError {
    #[error("cannot run ip: {0}")]
    Spawn(std::io::Error),
    #[error("`{argv}` did not finish within {} s and was killed", .limit.as_secs_f32())]
    Timeout { argv: String, limit: Duration },
    #[error("`{argv}` failed: {message}")]
    Failed { argv: String, message: String },
    #[error("`{argv}`: {message}")]
    Output { argv: String, message: String },
}

fn ip(args: &[&str]) -> Result<Finished, IpError> {
    let argv = format!("ip {}", args.join(" "));
    run_bounded(Command::new("ip").args(args), IP_TIMEOUT).map_err(|e| match e {
        crate::ovs::process::ProcessError::Spawn { source, .. } => IpError::Spawn(source),
        crate::ovs::process::ProcessError::Timeout { limit, .. } => {
            IpError::Timeout { argv, limit }
        }
    })
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
    let out_err = |argv: String| move |message: String| IpError::Output { argv, message };
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
    let f = run_input("ip", &args, input.as_bytes(), IP_TIMEOUT).map_err(|e| match e {
        RunError::Spawn(e) => IpError::Spawn(e),
        RunError::Timeout(limit) => IpError::Timeout {
            argv: argv.clone(),
            limit,
        },
    })?;
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

enum RunError {
    Spawn(std::io::Error),
    Timeout(Duration),
}

/// Run `prog ARGS` with `input` on stdin, output captured, for at most `limit`
/// (killed with its process group after that).
fn run_input(
    prog: &str,
    args: &[&str],
    input: &[u8],
    limit: Duration,
) -> Result<Finished, RunError> {
    let mut child = Command::new(prog)
        .args(args)
        .process_group(0)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(RunError::Spawn)?;
    let writer = child.stdin.take().map(|mut w| {
        let data = input.to_vec();
        std::thread::spawn(move || {
            let _ = w.write_all(&data);
        })
    });
    let read = |r: Option<Box<dyn std::io::Read + Send>>| {
        r.map(|mut r| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let _ = r.read_to_end(&mut buf);
                String::from_utf8_lossy(&buf).into_owned()
            })
        })
    };
    let out = read(
        child
            .stdout
            .take()
            .map(|o| Box::new(o) as Box<dyn std::io::Read + Send>),
    );
    let err = read(
        child
            .stderr
            .take()
            .map(|o| Box::new(o) as Box<dyn std::io::Read + Send>),
    );
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(2)),
            _ => {
                if let Ok(pid) = i32::try_from(child.id()) {
                    let _ = nix::sys::signal::killpg(
                        nix::unistd::Pid::from_raw(pid),
                        nix::sys::signal::Signal::SIGKILL,
                    );
                }
                let _ = child.kill();
                let _ = child.wait();
                return Err(RunError::Timeout(limit));
            }
        }
    };
    if let Some(w) = writer {
        let _ = w.join();
    }
    let join = |h: Option<std::thread::JoinHandle<String>>| {
        h.and_then(|h| h.join().ok()).unwrap_or_default()
    };
    Ok(Finished {
        status,
        stdout: join(out),
        stderr: join(err),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_reaches_the_child_and_output_comes_back() {
        let f = run_input("cat", &[], b"rule add x\n", Duration::from_secs(5))
            .ok()
            .unwrap();
        assert!(f.success());
        assert_eq!(f.stdout, "rule add x\n");
    }

    #[test]
    fn a_hanging_child_is_killed() {
        let t = Instant::now();
        let r = run_input("sleep", &["5"], b"", Duration::from_millis(100));
        assert!(matches!(r, Err(RunError::Timeout(_))));
        assert!(t.elapsed() < Duration::from_secs(3));
    }
}
