//! Are the OVS daemons running, and starting them the way the system does when they
//! are not — within a time limit, so that a boot never hangs on OVS.
//!
//! Running means: ovsdb-server accepts connections on `RUNDIR/db.sock` and the
//! process in `RUNDIR/ovs-vswitchd.pid` is alive (ovs-vsctl would otherwise wait
//! its whole timeout for ovs-vswitchd to apply a change). Checking costs no process.
//!
//! Starting: `systemctl start --no-block openvswitch-switch.service` when systemd runs
//! (`/run/systemd/system` exists), else `/etc/init.d/openvswitch-switch start` (with
//! `READ_INTERFACES=no`, so the init script does not itself run `ifup` on the
//! bridges we are bringing up), else `service openvswitch-switch start`. Then we wait
//! until both daemons answer, at most the limit. A failed attempt is remembered for
//! the rest of the same `ifup`/`ifdown` run (`session`), so `ifup -a` with OVS broken
//! waits once, not once per interface.

use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::sys::process::{ProcessError, failure_line, run_bounded};

/// Default run directory of the OVS daemons.
pub const RUNDIR: &str = "/run/openvswitch";
/// How long we wait for OVS to start.
pub const START_LIMIT: Duration = Duration::from_secs(20);
/// How long we still look after the start command failed.
const GRACE: Duration = Duration::from_secs(2);
/// Where a failed start is remembered for the rest of one ifup/ifdown run.
pub const FAILED_MARK: &str = "/run/network/ifupdown-ovs.start-failed";

/// What is missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    Running,
    Down(String),
}

/// Check the daemons under `rundir`.
pub fn health(rundir: &Path) -> Health {
    let sock = rundir.join("db.sock");
    if let Err(e) = UnixStream::connect(&sock) {
        return Health::Down(format!(
            "ovsdb-server is not running ({}: {e})",
            sock.display()
        ));
    }
    let pidfile = rundir.join("ovs-vswitchd.pid");
    let alive = std::fs::read_to_string(&pidfile)
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
    if alive {
        Health::Running
    } else {
        Health::Down(format!(
            "ovs-vswitchd is not running (no live process in {})",
            pidfile.display()
        ))
    }
}

/// OVS could not be made to run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "Open vSwitch is not running: {why}; {tried}. Start it (`service openvswitch-switch start`; see /var/log/openvswitch/ovs-vswitchd.log), then run ifup again"
)]
pub struct NotRunning {
    pub why: String,
    pub tried: String,
}

/// The start command for this system.
pub fn start_command() -> Vec<String> {
    let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect();
    if Path::new("/run/systemd/system").exists() {
        v(&[
            "systemctl",
            "start",
            "--no-block",
            "openvswitch-switch.service",
        ])
    } else if Path::new("/etc/init.d/openvswitch-switch").exists() {
        v(&["/etc/init.d/openvswitch-switch", "start"])
    } else {
        v(&["service", "openvswitch-switch", "start"])
    }
}

/// Make sure OVS runs: start it if needed and wait at most `limit`.
pub fn ensure_running(
    rundir: &Path,
    limit: Duration,
    session: Option<&str>,
) -> Result<(), NotRunning> {
    let why = match health(rundir) {
        Health::Running => return Ok(()),
        Health::Down(why) => why,
    };
    let mark = PathBuf::from(FAILED_MARK);
    if let Some(s) = session
        && std::fs::read_to_string(&mark).is_ok_and(|m| m.trim() == s)
    {
        return Err(NotRunning {
            why,
            tried: "starting it already failed earlier in this run".into(),
        });
    }
    let start = Instant::now();
    let argv = start_command();
    let shown = argv.join(" ");
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]).env("READ_INTERFACES", "no");
    let outcome = run_bounded(&mut cmd, limit);
    // After a successful start command the daemons may still be coming up (and
    // `systemctl --no-block` returns at once): wait up to the limit. After a
    // failed one, only a short grace period: waiting longer would not help.
    let (mut tried, wait) = match &outcome {
        Ok(f) if f.success() => (format!("`{shown}` ran"), limit),
        Ok(f) => (format!("`{shown}` failed: {}", failure_line(f)), GRACE),
        Err(ProcessError::Timeout { limit, .. }) => (
            format!(
                "`{shown}` did not finish within {} s (killed)",
                limit.as_secs()
            ),
            Duration::ZERO,
        ),
        Err(e) => (format!("`{shown}`: {e}"), Duration::ZERO),
    };
    let deadline = Instant::now() + wait.min(limit.saturating_sub(start.elapsed()));
    loop {
        match health(rundir) {
            Health::Running => {
                let _ = std::fs::remove_file(&mark);
                return Ok(());
            }
            Health::Down(now) if Instant::now() >= deadline => {
                if wait == limit {
                    tried.push_str(&format!(
                        ", and it was still down after {} s",
                        start.elapsed().as_secs()
                    ));
                }
                if let Some(s) = session {
                    let _ = std::fs::write(&mark, format!("{s}\n"));
                }
                return Err(NotRunning { why: now, tried });
            }
            Health::Down(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;

    #[test]
    fn health_needs_socket_and_vswitchd() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(health(dir.path()), Health::Down(w) if w.contains("ovsdb-server")));
        let _l = UnixListener::bind(dir.path().join("db.sock")).unwrap();
        assert!(matches!(health(dir.path()), Health::Down(w) if w.contains("ovs-vswitchd")));
        std::fs::write(
            dir.path().join("ovs-vswitchd.pid"),
            format!("{}\n", std::process::id()),
        )
        .unwrap();
        assert_eq!(health(dir.path()), Health::Running);
        std::fs::write(dir.path().join("ovs-vswitchd.pid"), "999999999\n").unwrap();
        assert!(matches!(health(dir.path()), Health::Down(_)));
    }

    #[test]
    fn running_needs_no_start() {
        let dir = tempfile::tempdir().unwrap();
        let _l = UnixListener::bind(dir.path().join("db.sock")).unwrap();
        std::fs::write(
            dir.path().join("ovs-vswitchd.pid"),
            format!("{}", std::process::id()),
        )
        .unwrap();
        assert_eq!(
            ensure_running(dir.path(), Duration::from_millis(1), None),
            Ok(())
        );
    }

    #[test]
    fn message_says_what_to_do() {
        let e = NotRunning {
            why: "ovsdb-server is not running".into(),
            tried: "`x` failed".into(),
        };
        let s = e.to_string();
        assert!(
            s.starts_with("Open vSwitch is not running: ovsdb-server"),
            "{s}"
        );
        assert!(s.contains("service openvswitch-switch start"), "{s}");
    }
}
