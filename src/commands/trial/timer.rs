//! The revert timer: a detached process that reverts a try at its deadline unless
//! the try was committed or rolled back first.
//!
//! It is this binary again, `ifupdown-ovs rollback --at DEADLINE --id ID`, started
//! with `setsid` (a session and process group of its own, no controlling terminal),
//! stdin `/dev/null` and its output in `/run/ifupdown-ovs/try.log`, and it ignores
//! SIGHUP. So neither the hangup of the terminal or SSH session that asked, nor a
//! signal to that session's process group, reaches it; when the asking process
//! exits it is reparented to init. No shell is involved. (One fork is enough: the
//! child calls `setsid` before `exec`, and the parent never waits for it.)
//!
//! The timer holds no lock while it sleeps. At the deadline it takes the try lock and
//! reads the record ([`decide`]): a record that is gone or carries another id means
//! the try was committed or rolled back, and it exits; a later deadline (the try
//! moves the deadline to SECONDS after its reload finished) means sleep again;
//! otherwise it reverts. `commit` and `rollback` also end it (SIGTERM), after
//! checking by its command line that the pid is still this timer.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use nix::sys::signal::{SigHandler, Signal, kill, signal};
use nix::unistd::Pid;

use super::error::TrialError;
use super::record::{Layout, Pending};
use crate::sys::procfs;
use crate::sys::{process, rundir};

/// The hidden arguments of the timer (`rollback --at DEADLINE --id ID`).
pub const AT: &str = "--at";
pub const ID: &str = "--id";

/// What the timer does when it wakes up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wake {
    /// Nothing of ours is pending (committed, rolled back, or another try).
    Exit,
    /// Not yet: sleep until this time (seconds since the epoch).
    SleepUntil(u64),
    /// The deadline has passed: revert.
    Revert,
}

/// The decision at `now` for the timer of try `id`, given the record under the lock.
pub fn decide(record: Option<&Pending>, id: &str, now: u64) -> Wake {
    match record {
        Some(p) if p.id == id => {
            if p.deadline > now {
                Wake::SleepUntil(p.deadline)
            } else {
                Wake::Revert
            }
        }
        _ => Wake::Exit,
    }
}

/// Start the timer of try `id`, to fire at `at`. Returns its pid.
pub fn spawn(exe: &Path, layout: &Layout, id: &str, at: u64) -> Result<u32, TrialError> {
    let log = rundir::replace(&layout.log())?;
    let log2 = log.try_clone().map_err(TrialError::Timer)?;
    let mut cmd = Command::new(exe);
    cmd.args(["rollback", AT, &at.to_string(), ID, id])
        .current_dir("/")
        .stdout(log)
        .stderr(log2);
    process::detach(&mut cmd);
    let child = cmd.spawn().map_err(TrialError::Timer)?;
    Ok(child.id())
}

/// Is `pid` the live timer of try `id` (by its command line, not a zombie)?
pub fn is_timer(pid: u32, id: &str) -> bool {
    if pid == 0 {
        return false;
    }
    let args = procfs::cmdline(pid);
    let ours =
        args.iter().any(|a| a == "rollback") && args.windows(2).any(|w| w[0] == ID && w[1] == id);
    ours && alive(pid)
}

/// Alive and not a zombie.
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z'))
    })
}

/// End the timer of `pending` if it still runs (it would exit by itself at the
/// deadline anyway, seeing no record).
pub fn stop(pending: &Pending) {
    if is_timer(pending.timer_pid, &pending.id)
        && let Ok(raw) = i32::try_from(pending.timer_pid)
    {
        let _ = kill(Pid::from_raw(raw), Signal::SIGTERM);
    }
}

/// For messages: why the timer of `pending` will not revert it, or "".
pub fn trouble(pending: &Pending) -> String {
    if is_timer(pending.timer_pid, &pending.id) {
        String::new()
    } else if pending.timer_pid == 0 {
        " (its revert timer never started)".to_string()
    } else {
        format!(
            " (its revert timer, pid {}, is gone: nothing will revert it by itself)",
            pending.timer_pid
        )
    }
}

/// Ignore hangups: in the timer (the session that started it may end), and in
/// `reload --try` while it reloads.
pub fn ignore_hangup() {
    // SAFETY: setting a signal to SIG_IGN installs no handler code.
    unsafe {
        let _ = signal(Signal::SIGHUP, SigHandler::SigIgn);
    }
}

/// Sleep until the wall clock reaches `at` (in steps of at most a second, so that a
/// clock change or a suspended host does not make us sleep past it).
pub fn sleep_until(at: u64, now: impl Fn() -> u64) {
    loop {
        let n = now();
        if n >= at {
            return;
        }
        std::thread::sleep(Duration::from_secs((at - n).min(1)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(id: &str, deadline: u64) -> Pending {
        Pending {
            id: id.into(),
            target: "/etc/network/interfaces".into(),
            candidate: "/root/new".into(),
            mode: 0o644,
            started: 100,
            deadline,
            seconds: 60,
            timer_pid: 0,
            up_before: Vec::new(),
        }
    }

    #[test]
    fn the_timer_reverts_only_its_own_try_and_only_after_the_deadline() {
        let p = pending("a", 160);
        assert_eq!(decide(Some(&p), "a", 159), Wake::SleepUntil(160));
        assert_eq!(decide(Some(&p), "a", 160), Wake::Revert);
        assert_eq!(decide(Some(&p), "a", 500), Wake::Revert);
        // committed or rolled back: no record
        assert_eq!(decide(None, "a", 500), Wake::Exit);
        // a later try has its own timer
        assert_eq!(decide(Some(&pending("b", 160)), "a", 500), Wake::Exit);
    }

    #[test]
    fn only_a_live_process_with_our_id_is_the_timer() {
        assert!(!is_timer(0, "a"));
        // this test process is no timer
        assert!(!is_timer(std::process::id(), "a"));
        let mut p = pending("a", 1);
        assert!(trouble(&p).contains("never started"));
        p.timer_pid = std::process::id();
        assert!(trouble(&p).contains("is gone"));
        stop(&p); // must not signal us
    }

    #[test]
    fn a_detached_timer_survives_the_death_of_its_starters_group() {
        // a stand-in for our binary that only sleeps
        let d = tempfile::tempdir().unwrap();
        let layout = Layout::new(d.path().join("run"));
        rundir::ensure_dir(&layout.run_dir).unwrap();
        let exe = d.path().join("fake");
        std::fs::write(&exe, "#!/bin/sh\nexec sleep 30\n").unwrap();
        std::fs::set_permissions(&exe, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let pid = spawn(&exe, &layout, "x", 1).unwrap();
        let raw = i32::try_from(pid).unwrap();
        // its own session and process group: a signal to ours does not reach it
        let sid = nix::unistd::getsid(Some(Pid::from_raw(raw)));
        assert_eq!(sid, Ok(Pid::from_raw(raw)));
        assert_eq!(
            nix::unistd::getpgid(Some(Pid::from_raw(raw))),
            Ok(Pid::from_raw(raw))
        );
        assert_ne!(nix::unistd::getsid(None).unwrap(), Pid::from_raw(raw));
        let _ = kill(Pid::from_raw(raw), Signal::SIGKILL);
        let _ = nix::sys::wait::waitpid(Pid::from_raw(raw), None);
    }
}
