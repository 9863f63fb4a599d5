//! The host as a resource that labs share. A lab sees the host's programs and
//! files (`/usr`, and `/etc` and `/var/lib` as the lower layers of its overlays),
//! so a test that changes them, by installing or removing a package, must not run
//! while any lab is alive; and a test that compares the host before and after must
//! not see another test change it.
//!
//! Every lab holds a shared [`HostLock`] while it lives; [`HostLock::exclusive`]
//! waits until no lab is alive and keeps new ones from starting. The lock is an
//! `flock` on [`LOCK_FILE`], so it also orders labs of other processes (a second
//! test run, `scripts/lab`) on the same machine. Labs made by the thread that
//! holds the host exclusively do not lock (they would wait for themselves).

use std::cell::Cell;
use std::fs::{File, OpenOptions};

use nix::fcntl::{Flock, FlockArg};

/// The lock file (on the host).
pub const LOCK_FILE: &str = "/run/lock/ifupdown-ovs-lab.lock";

thread_local! {
    /// True while this thread holds the host exclusively.
    static EXCLUSIVE_HERE: Cell<bool> = const { Cell::new(false) };
}

/// A hold on the host, released on drop.
pub struct HostLock {
    /// `None` for a lab of the thread that holds the host exclusively.
    _flock: Option<Flock<File>>,
    exclusive: bool,
}

impl HostLock {
    /// Shared with every other lab; waits while a test holds the host exclusively.
    pub fn shared() -> Result<HostLock, String> {
        if EXCLUSIVE_HERE.get() {
            return Ok(HostLock {
                _flock: None,
                exclusive: false,
            });
        }
        Ok(HostLock {
            _flock: Some(lock(FlockArg::LockShared)?),
            exclusive: false,
        })
    }

    /// The host to this thread alone: waits until no lab (of any thread or
    /// process) is alive; labs this thread makes meanwhile do not wait.
    pub fn exclusive() -> Result<HostLock, String> {
        let flock = lock(FlockArg::LockExclusive)?;
        EXCLUSIVE_HERE.set(true);
        Ok(HostLock {
            _flock: Some(flock),
            exclusive: true,
        })
    }
}

impl Drop for HostLock {
    fn drop(&mut self) {
        if self.exclusive {
            EXCLUSIVE_HERE.set(false);
        }
    }
}

/// Opens the lock file (a new open file description each time: flock locks of
/// one process on different descriptions conflict like those of two processes)
/// and waits for the lock.
fn lock(how: FlockArg) -> Result<Flock<File>, String> {
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(LOCK_FILE)
        .map_err(|e| format!("cannot open {LOCK_FILE}: {e}"))?;
    Flock::lock(file, how).map_err(|(_, errno)| format!("cannot lock {LOCK_FILE}: {errno}"))
}
