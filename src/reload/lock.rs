//! The locks a reload takes (docs/reload.md, "Locking").
//!
//! - [`ReloadLock`]: one reload at a time: `flock` on
//!   `/run/ifupdown-ovs/reload.lock`, not waited for (a second reload fails at once
//!   and says so). The kernel drops it when the process dies, so a killed reload
//!   never blocks the next one.
//! - [`IfaceLock`]: ifupdown 0.8's own lock of one interface, an `fcntl` write lock
//!   on `STATE_DIR/ifstate.IFACE`, which `ifup`/`ifdown` hold while they work on
//!   the interface (and so while our hooks run for it). A reload holds it while it
//!   converges that interface in place, so that a concurrent `ifup`, `ifdown` or
//!   Pacemaker action on it waits instead of interleaving. It is released before
//!   the reload runs `ifup`/`ifdown` itself (they take it). The wait is bounded,
//!   and all the interfaces are taken at once or none ([`IfaceLock::take_all`]).

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::fcntl::{FcntlArg, Flock, FlockArg, fcntl};

use super::error::ReloadError;
use crate::sys::rundir::{self, RunDirError};

/// How long a reload waits for ifupdown's lock of one interface.
pub const IFACE_WAIT: Duration = Duration::from_secs(30);

/// Held while a reload runs.
#[derive(Debug)]
pub struct ReloadLock {
    _lock: Flock<File>,
}

impl ReloadLock {
    /// Take the lock file `path` (in a directory checked with `sys::rundir`);
    /// [`ReloadError::Busy`] when another reload holds it.
    pub fn take(path: &Path) -> Result<ReloadLock, ReloadError> {
        let io = |e: RunDirError| ReloadError::Lock(e.into_io());
        if let Some(dir) = path.parent() {
            rundir::ensure_dir(dir).map_err(io)?;
        }
        let file = match rundir::open_trusted(path, true) {
            Ok(f) => f,
            Err(RunDirError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                match rundir::create_new(path) {
                    Ok(f) => f,
                    Err(_) => rundir::open_trusted(path, true).map_err(io)?,
                }
            }
            Err(e) => return Err(io(e)),
        };
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(l) => Ok(ReloadLock { _lock: l }),
            Err((_, nix::errno::Errno::EWOULDBLOCK)) => Err(ReloadError::Busy {
                path: path.to_path_buf(),
            }),
            Err((_, e)) => Err(ReloadError::Lock(e.into())),
        }
    }
}

/// ifupdown's lock of one interface (see the module documentation); released
/// when dropped.
#[derive(Debug)]
pub struct IfaceLock {
    _file: File,
}

fn write_lock() -> nix::libc::flock {
    nix::libc::flock {
        l_type: nix::libc::F_WRLCK as i16,
        l_whence: nix::libc::SEEK_SET as i16,
        l_start: 0,
        l_len: 0,
        l_pid: 0,
    }
}

impl IfaceLock {
    /// Lock interface `iface` as ifupdown does in `state_dir`, without waiting:
    /// None when somebody holds it.
    pub fn try_take(state_dir: &Path, iface: &str) -> Result<Option<IfaceLock>, ReloadError> {
        let path: PathBuf = state_dir.join(format!("ifstate.{iface}"));
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .mode(0o644)
            .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_CLOEXEC)
            .open(&path)
            .map_err(ReloadError::Lock)?;
        match fcntl(&file, FcntlArg::F_SETLK(&write_lock())) {
            Ok(_) => Ok(Some(IfaceLock { _file: file })),
            Err(nix::errno::Errno::EACCES | nix::errno::Errno::EAGAIN) => Ok(None),
            Err(e) => Err(ReloadError::Lock(e.into())),
        }
    }

    /// Lock all of `ifaces`, waiting at most `wait`. All or none: when one is
    /// busy the others are let go before trying again, so that an `ifup` holding
    /// one and wanting another (a bridge's `ifup --allow=BRIDGE PORTS`) is never
    /// deadlocked by us.
    pub fn take_all(
        state_dir: &Path,
        ifaces: &[String],
        wait: Duration,
    ) -> Result<Vec<IfaceLock>, ReloadError> {
        let start = Instant::now();
        let mut said = false;
        loop {
            let mut held = Vec::new();
            let mut busy = None;
            for i in ifaces {
                match IfaceLock::try_take(state_dir, i)? {
                    Some(l) => held.push(l),
                    None => {
                        busy = Some(i);
                        break;
                    }
                }
            }
            let Some(iface) = busy else {
                return Ok(held);
            };
            drop(held);
            if start.elapsed() >= wait {
                return Err(ReloadError::IfaceBusy {
                    iface: iface.clone(),
                    path: state_dir.join(format!("ifstate.{iface}")),
                    waited: wait,
                });
            }
            if !said {
                eprintln!("ifupdown-ovs: reload: waiting for ifup/ifdown of {iface}");
                said = true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_reload_at_a_time_and_iface_locks() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("run").join("reload.lock");
        let first = ReloadLock::take(&p).unwrap();
        // flock locks belong to the open file: a second open conflicts
        assert!(matches!(
            ReloadLock::take(&p),
            Err(ReloadError::Busy { .. })
        ));
        drop(first);
        ReloadLock::take(&p).unwrap();
        // fcntl locks are per process: taking it twice here works; the bounded
        // wait is exercised by the lab test against a real ifup
        let names = ["eth0".to_string(), "eth1".to_string()];
        let a = IfaceLock::take_all(d.path(), &names, Duration::from_millis(10)).unwrap();
        assert_eq!(a.len(), 2);
        drop(a);
        assert!(d.path().join("ifstate.eth0").exists());
    }
}
