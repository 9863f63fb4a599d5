//! The pending try: one record under `/run/ifupdown-ovs/try/`, written and read only
//! while holding the try lock ([`Lock`]).
//!
//! Layout of the run directory (all through [`crate::sys::rundir`]: directories 0700,
//! files 0600, never through a symlink):
//!
//! - `try.lock`: the lock every `reload --try`, `commit`, `rollback` and the revert
//!   timer take (`flock`, exclusive) before they look at or change the rest;
//! - `try/`: exists exactly while a try is pending. `try/pending` is the [`Pending`]
//!   record (`key=value` lines), `try/previous` the interfaces file as it was before
//!   the try, byte for byte;
//! - `try.log`: what the detached timer prints;
//! - `try.last`: one line saying how the last try ended (committed, or reverted and
//!   where the rejected version is), so that a `commit` that comes too late can say
//!   what happened instead of only "nothing pending".

use std::fs::File;
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

use super::error::TrialError;
use crate::interfaces::snapshot::{FileCopy, MAX_ENCODED, Snapshot};
use crate::sys::rundir::{self, RunDirError};

/// Where the records live: the run directory of the hooks' records (and of the
/// reload's and the agent's files).
pub const RUN_DIR: &str = crate::hook::records::DIR;

/// The files of the try machinery inside a run directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub run_dir: PathBuf,
}

impl Layout {
    pub fn new(run_dir: impl Into<PathBuf>) -> Layout {
        Layout {
            run_dir: run_dir.into(),
        }
    }
    pub fn lock(&self) -> PathBuf {
        self.run_dir.join("try.lock")
    }
    pub fn generation(&self) -> PathBuf {
        self.run_dir.join("try")
    }
    pub fn record(&self) -> PathBuf {
        self.generation().join("pending")
    }
    pub fn previous(&self) -> PathBuf {
        self.generation().join("previous")
    }
    /// The files the try applies, as they were when it started.
    pub fn tried(&self) -> PathBuf {
        self.generation().join("tried")
    }
    pub fn log(&self) -> PathBuf {
        self.run_dir.join("try.log")
    }
    pub fn last(&self) -> PathBuf {
        self.run_dir.join("try.last")
    }
}

/// One pending try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// Names this try (`STARTED-PID`): the timer is started with it and acts only
    /// on a record that still carries it.
    pub id: String,
    /// The interfaces file that was replaced (and is put back on revert).
    pub target: PathBuf,
    /// The file the new version came from (`-i FILE`), for messages.
    pub candidate: PathBuf,
    /// Its permission bits, given back to the restored file.
    pub mode: u32,
    /// Seconds since the epoch.
    pub started: u64,
    /// Revert at this time (seconds since the epoch) unless committed.
    pub deadline: u64,
    /// The `--try SECONDS`.
    pub seconds: u64,
    /// The detached timer (0 until it is started).
    pub timer_pid: u32,
    /// What ifupdown had up before the try (`PHYS=LOGICAL`, as in its state), so
    /// that a revert gives back exactly that set.
    pub up_before: Vec<String>,
}

impl Pending {
    /// The record as `key=value` lines (paths must not hold a newline: checked by
    /// the caller with [`check_path`]).
    pub fn to_text(&self) -> String {
        let up: String = self.up_before.iter().map(|u| format!("up={u}\n")).collect();
        up + &format!(
            "id={}\ntarget={}\ncandidate={}\nmode={:o}\nstarted={}\ndeadline={}\nseconds={}\ntimer_pid={}\n",
            self.id,
            self.target.display(),
            self.candidate.display(),
            self.mode,
            self.started,
            self.deadline,
            self.seconds,
            self.timer_pid
        )
    }

    /// Parse [`Pending::to_text`]; `path` names the record in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Pending, TrialError> {
        let get = |key: &str| -> Result<&str, TrialError> {
            text.lines()
                .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
                .ok_or_else(|| TrialError::BadRecord {
                    path: path.to_path_buf(),
                    key: key.to_string(),
                })
        };
        let num = |key: &str| -> Result<u64, TrialError> {
            get(key)?.parse().map_err(|_| TrialError::BadRecord {
                path: path.to_path_buf(),
                key: key.to_string(),
            })
        };
        let bad = |key: &str| TrialError::BadRecord {
            path: path.to_path_buf(),
            key: key.to_string(),
        };
        Ok(Pending {
            id: get("id")?.to_string(),
            target: PathBuf::from(get("target")?),
            candidate: PathBuf::from(get("candidate")?),
            mode: u32::from_str_radix(get("mode")?, 8).map_err(|_| bad("mode"))?,
            started: num("started")?,
            deadline: num("deadline")?,
            seconds: num("seconds")?,
            timer_pid: u32::try_from(num("timer_pid")?).map_err(|_| bad("timer_pid"))?,
            up_before: text
                .lines()
                .filter_map(|l| l.strip_prefix("up="))
                .map(String::from)
                .collect(),
        })
    }
}

/// A path we write into a record: one line.
pub fn check_path(path: &Path) -> Result<(), TrialError> {
    if path.to_string_lossy().contains('\n') {
        return Err(TrialError::NewlineInPath {
            path: path.to_path_buf(),
        });
    }
    Ok(())
}

/// The try lock, held until dropped.
pub struct Lock {
    _flock: Flock<File>,
}

impl Lock {
    /// Create the run directory if needed and take the lock (waits for whoever
    /// holds it: a try still reloading, a revert in progress).
    pub fn take(layout: &Layout) -> Result<Lock, TrialError> {
        rundir::ensure_dir(&layout.run_dir)?;
        let path = layout.lock();
        let file = match rundir::create_new(&path) {
            Ok(f) => f,
            Err(RunDirError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::AlreadyExists =>
            {
                rundir::open_trusted(&path, false)?
            }
            Err(e) => return Err(e.into()),
        };
        let flock =
            Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, errno)| TrialError::Lock {
                path: path.clone(),
                source: std::io::Error::from(errno),
            })?;
        Ok(Lock { _flock: flock })
    }
}

/// The pending try, if any (call with the lock held).
pub fn read(layout: &Layout, lock: &Lock) -> Result<Option<Pending>, TrialError> {
    let gen_dir = layout.generation();
    match std::fs::symlink_metadata(&gen_dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(RunDirError::Io {
                path: gen_dir,
                source,
            }
            .into());
        }
        Ok(_) => rundir::check_dir(&gen_dir)?,
    }
    let path = layout.record();
    let text = match rundir::read_trusted(&path) {
        Ok(text) => text,
        Err(RunDirError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            // a try killed between creating the directory and writing the record:
            // it changed nothing yet (the record comes before any change)
            log::warn!("{}: no record in it: removed", gen_dir.display());
            remove(layout, lock)?;
            return Ok(None);
        }
        Err(e) => return Err(e.into()),
    };
    Pending::parse(&text, &path).map(Some)
}

/// Start a new generation: the `try/` directory with the previous files, the
/// tried ones and the record (fails if one is pending: call [`read`] first for a
/// clear message).
pub fn create(
    layout: &Layout,
    _lock: &Lock,
    pending: &Pending,
    previous: &Snapshot,
    tried: &Snapshot,
) -> Result<(), TrialError> {
    check_path(&pending.target)?;
    check_path(&pending.candidate)?;
    rundir::create_subdir(&layout.generation())?;
    let written = rundir::write_atomic(&layout.previous(), &previous.encode())
        .and_then(|()| rundir::write_atomic(&layout.tried(), &tried.encode()))
        .and_then(|()| rundir::write_atomic(&layout.record(), pending.to_text().as_bytes()));
    if let Err(e) = written {
        let _ = std::fs::remove_dir_all(layout.generation());
        return Err(e.into());
    }
    Ok(())
}

/// Rewrite the record of the pending generation (timer pid, deadline).
pub fn update(layout: &Layout, _lock: &Lock, pending: &Pending) -> Result<(), TrialError> {
    Ok(rundir::write_atomic(
        &layout.record(),
        pending.to_text().as_bytes(),
    )?)
}

/// The previous files saved by [`create`]. A generation left by an older version
/// holds a plain copy of the main file: it is that file's snapshot.
pub fn previous(layout: &Layout, _lock: &Lock, p: &Pending) -> Result<Snapshot, TrialError> {
    let bytes = rundir::read_trusted_bytes(&layout.previous(), MAX_ENCODED)?;
    match Snapshot::decode(&bytes) {
        Some(r) => Ok(r?),
        None => Ok(Snapshot {
            main: p.target.clone(),
            files: vec![FileCopy {
                path: p.target.clone(),
                mode: p.mode,
                bytes,
            }],
        }),
    }
}

/// The tried files saved by [`create`] (none in a generation of an older version).
pub fn tried(layout: &Layout, _lock: &Lock) -> Result<Option<Snapshot>, TrialError> {
    match rundir::read_trusted_bytes(&layout.tried(), MAX_ENCODED) {
        Err(RunDirError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            Ok(None)
        }
        Err(e) => Err(e.into()),
        Ok(bytes) => match Snapshot::decode(&bytes) {
            Some(r) => Ok(Some(r?)),
            None => Ok(None),
        },
    }
}

/// Drop the pending generation.
pub fn remove(layout: &Layout, _lock: &Lock) -> Result<(), TrialError> {
    let dir = layout.generation();
    std::fs::remove_dir_all(&dir).map_err(|source| RunDirError::Io { path: dir, source }.into())
}

/// Remember how the last try ended (best effort: it only improves messages).
pub fn set_last(layout: &Layout, _lock: &Lock, line: &str) {
    if let Err(e) = rundir::write_atomic(&layout.last(), format!("{line}\n").as_bytes()) {
        log::warn!("{e}");
    }
}

/// How the last try ended, if recorded.
pub fn last(layout: &Layout) -> Option<String> {
    rundir::read_trusted(&layout.last())
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Pending {
        Pending {
            id: "1765071732-42".into(),
            target: "/etc/network/interfaces".into(),
            candidate: "/root/interfaces new".into(),
            mode: 0o644,
            started: 1_765_071_732,
            deadline: 1_765_071_792,
            seconds: 60,
            timer_pid: 43,
            up_before: vec!["lo=lo".into(), "eth0=eth0".into()],
        }
    }

    fn snap(p: &Pending, bytes: &[u8]) -> Snapshot {
        Snapshot {
            main: p.target.clone(),
            files: vec![FileCopy {
                path: p.target.clone(),
                mode: 0o644,
                bytes: bytes.to_vec(),
            }],
        }
    }

    #[test]
    fn a_plain_copy_of_an_older_version_is_the_main_file() {
        let d = tempfile::tempdir().unwrap();
        let layout = Layout::new(d.path().join("run"));
        let lock = Lock::take(&layout).unwrap();
        let p = sample();
        create(&layout, &lock, &p, &snap(&p, b""), &snap(&p, b"")).unwrap();
        rundir::write_atomic(&layout.previous(), b"old\n").unwrap();
        let mut want = snap(&p, b"old\n");
        want.files[0].mode = p.mode;
        assert_eq!(previous(&layout, &lock, &p).unwrap(), want);
    }

    #[test]
    fn record_round_trips() {
        let p = sample();
        let back = Pending::parse(&p.to_text(), Path::new("rec")).unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn a_damaged_record_names_the_key() {
        let text = sample()
            .to_text()
            .replace("deadline=1765071792", "deadline=soon");
        let e = Pending::parse(&text, Path::new("/run/x/pending")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "/run/x/pending: damaged record: no valid `deadline`"
        );
        let text = sample().to_text().replace("mode=644\n", "");
        assert!(Pending::parse(&text, Path::new("r")).is_err());
    }

    #[test]
    fn one_generation_at_a_time_and_gone_after_remove() {
        let d = tempfile::tempdir().unwrap();
        let layout = Layout::new(d.path().join("run"));
        let lock = Lock::take(&layout).unwrap();
        assert_eq!(read(&layout, &lock).unwrap(), None);
        let p = sample();
        let old = snap(&p, b"old\n");
        create(&layout, &lock, &p, &old, &snap(&p, b"new\n")).unwrap();
        assert_eq!(read(&layout, &lock).unwrap(), Some(p.clone()));
        assert_eq!(previous(&layout, &lock, &p).unwrap(), old);
        assert_eq!(tried(&layout, &lock).unwrap(), Some(snap(&p, b"new\n")));
        assert!(create(&layout, &lock, &p, &old, &old).is_err());
        let mut q = p.clone();
        q.timer_pid = 99;
        update(&layout, &lock, &q).unwrap();
        assert_eq!(read(&layout, &lock).unwrap().unwrap().timer_pid, 99);
        remove(&layout, &lock).unwrap();
        assert_eq!(read(&layout, &lock).unwrap(), None);
        set_last(&layout, &lock, "committed");
        assert_eq!(last(&layout).as_deref(), Some("committed"));
    }

    #[test]
    fn a_generation_without_its_record_is_a_leftover() {
        let d = tempfile::tempdir().unwrap();
        let layout = Layout::new(d.path().join("run"));
        let lock = Lock::take(&layout).unwrap();
        rundir::create_subdir(&layout.generation()).unwrap();
        assert_eq!(read(&layout, &lock).unwrap(), None);
        assert!(!layout.generation().exists());
        let p = sample();
        create(&layout, &lock, &p, &snap(&p, b""), &snap(&p, b"")).unwrap();
    }

    #[test]
    fn a_path_with_a_newline_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let layout = Layout::new(d.path().join("run"));
        let lock = Lock::take(&layout).unwrap();
        let mut p = sample();
        p.candidate = "/tmp/a\nid=forged".into();
        assert!(matches!(
            create(&layout, &lock, &p, &snap(&p, b""), &snap(&p, b"")),
            Err(TrialError::NewlineInPath { .. })
        ));
        assert_eq!(read(&layout, &lock).unwrap(), None);
    }
}
