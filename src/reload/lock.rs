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
//!   the reload runs `ifup`/`ifdown` itself (they take it). The wait is bounded.

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
    /// Lock interface `iface` as ifupdown does in `state_dir`, waiting at most
    /// `wait`.
    pub fn take(state_dir: &Path, iface: &str, wait: Duration) -> Result<IfaceLock, ReloadError> {
        let path: PathBuf = state_dir.join(format!("ifstate.{iface}"));
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .mode(0o644)
            .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_CLOEXEC)
            .open(&path)
            .map_err(ReloadError::Lock)?;
        let start = Instant::now();
        let lk = write_lock();
        loop {
            match fcntl(&file, FcntlArg::F_SETLK(&lk)) {
                Ok(_) => return Ok(IfaceLock { _file: file }),
                Err(nix::errno::Errno::EACCES | nix::errno::Errno::EAGAIN)
                    if start.elapsed() < wait =>
                {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(nix::errno::Errno::EACCES | nix::errno::Errno::EAGAIN) => {
                    return Err(ReloadError::IfaceBusy {
                        iface: iface.to_string(),
                        path,
                        waited: wait,
                    });
                }
                Err(e) => return Err(ReloadError::Lock(e.into())),
            }
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
        let a = IfaceLock::take(d.path(), "eth0", Duration::from_millis(10)).unwrap();
        drop(a);
        assert!(d.path().join("ifstate.eth0").exists());
    }
}
