//! At most a few of our processes talk to OVS at once ([`Gate`]), and a hang
//! that one of them found is known to the others for a moment ([`Gate::note_hung`]).
//!
//! Why: udev starts one `ifup --allow=hotplug NIC` per NIC that appears, or one
//! `ifdown NIC` per NIC that goes: hundreds at once on a big host (ifup@.service).
//! Each hook run asks ovsdb-server a few questions and runs one `ovs-vsctl`,
//! which downloads the schema, monitors the tables it touches and waits for
//! ovs-vswitchd. With 250 of them at once, ovsdb-server (one thread) sends every
//! commit to every monitoring client and its queue of connections fills: replies
//! took longer than the 5 s liveness bound and the 10 s `--timeout`, so a
//! quarter of the runs failed — and `ifdown` exits 0 whatever its post-down hooks
//! say (ifupdown 0.8), so the ports stayed in OVS without a failing exit status
//! (docs/hooks.md, "Hotplug: one process per NIC").
//!
//! So each conversation with OVS (the liveness question, the read of OVSDB, the
//! transaction, the check after it) first takes one of [`SLOTS`] slots: an
//! exclusive `flock` on `/run/lock/ifupdown-ovs/ovs-client.K`, held until the conversation ends
//! (the lock belongs to the open file: a process that dies frees it). The others
//! wait, trying again every few milliseconds. ovs-vswitchd still applies the
//! changes of the waiting runs in few reconfigurations, as ovs-vsctl's waits
//! overlap. The gate only orders: a run that waited [`WAIT_LIMIT`] goes ahead
//! without a slot (a slot's holder is bounded by its own time limits, so this
//! happens only when OVS hangs), and a run without a usable run directory (one
//! that `sys::rundir` refuses) goes ahead at once.
//!
//! With a hung daemon, every slot holder would wait its whole bound in turn
//! (250 runs × 5 s / [`SLOTS`]): the first run that finds the daemon silent writes
//! `/run/lock/ifupdown-ovs/hung.recent` ([`Gate::note_hung`]); for [`HUNG_MEMORY`] the others
//! fail at once with its message ([`Gate::recent_hung`]).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::fcntl::{Flock, FlockArg};

use crate::sys::rundir;

/// How many of our processes talk to OVS at once.
pub const SLOTS: usize = 8;
/// How long a run waits for a slot before it goes ahead without one.
pub const WAIT_LIMIT: Duration = Duration::from_secs(30);
/// How long a hang found by one run is believed by the others.
pub const HUNG_MEMORY: Duration = Duration::from_secs(10);
/// The directory of the hook's slots and hang note: under `/run/lock`, not in
/// `/run/ifupdown-ovs`, whose records come and go with each `ifup -a` (the slot
/// files stay: a slot must be the same file for every process). Root's, 0700,
/// checked as `sys::rundir` checks the run directory.
pub const HOOK_DIR: &str = "/run/lock/ifupdown-ovs";

/// The slots under one directory.
#[derive(Debug, Clone)]
pub struct Gate {
    dir: PathBuf,
    slots: usize,
}

/// A slot held: freed when dropped.
#[derive(Debug)]
pub struct Slot {
    _lock: Option<Flock<File>>,
}

impl Gate {
    /// The hook's gate, under [`HOOK_DIR`].
    pub fn hook() -> Gate {
        Gate::new(Path::new(HOOK_DIR), SLOTS)
    }

    pub fn new(dir: &Path, slots: usize) -> Gate {
        Gate {
            dir: dir.to_path_buf(),
            slots: slots.max(1),
        }
    }

    /// Wait for a slot, at most `limit`; after that, or when the directory
    /// cannot be used, a slot that holds nothing (the run goes ahead).
    pub fn enter(&self, limit: Duration) -> Slot {
        let none = Slot { _lock: None };
        if rundir::ensure_dir(&self.dir).is_err() {
            return none;
        }
        // start at a different slot in each process (fewer collisions), and
        // open the next file only when the ones before are taken
        let first = std::process::id() as usize % self.slots;
        let mut files = Vec::with_capacity(self.slots);
        for k in (0..self.slots).map(|i| (first + i) % self.slots) {
            let Some(f) = self.slot_file(k) else { continue };
            match Flock::lock(f, FlockArg::LockExclusiveNonblock) {
                Ok(lock) => return Slot { _lock: Some(lock) },
                Err((f, _)) => files.push(f),
            }
        }
        if files.is_empty() {
            return none;
        }
        let deadline = Instant::now() + limit;
        let mut pause = Duration::from_millis(1);
        loop {
            let mut rest = Vec::with_capacity(files.len());
            for f in files {
                match Flock::lock(f, FlockArg::LockExclusiveNonblock) {
                    Ok(lock) => return Slot { _lock: Some(lock) },
                    Err((f, _)) => rest.push(f),
                }
            }
            files = rest;
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return none;
            }
            std::thread::sleep((pause + jitter(pause)).min(left));
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }

    /// `ovs-client.K`, created if missing (0600, never through a symlink).
    fn slot_file(&self, k: usize) -> Option<File> {
        let path = self.dir.join(format!("ovs-client.{k}"));
        rundir::open_trusted(&path, false)
            .or_else(|_| rundir::create_new(&path))
            .or_else(|_| rundir::open_trusted(&path, false))
            .ok()
    }

    fn hung_path(&self) -> PathBuf {
        self.dir.join("hung.recent")
    }

    /// Remember for [`HUNG_MEMORY`] that OVS did not answer (`why`).
    pub fn note_hung(&self, why: &str) {
        if rundir::ensure_dir(&self.dir).is_ok() {
            let text = format!("{}\n{why}", now_ms());
            let _ = rundir::write_atomic(&self.hung_path(), text.as_bytes());
        }
    }

    /// What another run found less than [`HUNG_MEMORY`] ago, and how long ago.
    pub fn recent_hung(&self) -> Option<(String, Duration)> {
        let text = rundir::read_trusted(&self.hung_path()).ok()?;
        let (at, why) = text.split_once('\n')?;
        let age = Duration::from_millis(now_ms().checked_sub(at.parse().ok()?)?);
        (age < HUNG_MEMORY).then(|| (why.to_string(), age))
    }

    /// OVS answered: forget a hang noted before.
    pub fn clear_hung(&self) {
        if self.hung_path().exists() {
            let _ = std::fs::remove_file(self.hung_path());
        }
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Up to `pause` more, different in each process.
fn jitter(pause: Duration) -> Duration {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let seed = u64::from(nanos ^ std::process::id().wrapping_mul(2_654_435_761));
    let max = u64::try_from(pause.as_micros()).unwrap_or(1).max(1);
    Duration::from_micros(seed % max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_slots_holders_then_waits_then_goes_ahead() {
        let dir = tempfile::tempdir().unwrap();
        let runs = dir.path().join("run");
        let gate = Gate::new(&runs, 2);
        let a = gate.enter(Duration::from_secs(1));
        let b = gate.enter(Duration::from_secs(1));
        assert!(a._lock.is_some() && b._lock.is_some());
        // both taken: waits its limit, then goes ahead without a slot
        let start = Instant::now();
        let c = gate.enter(Duration::from_millis(100));
        assert!(c._lock.is_none());
        assert!(start.elapsed() >= Duration::from_millis(100));
        // a freed slot is taken by a waiting run
        let gate2 = gate.clone();
        let waiter =
            std::thread::spawn(move || gate2.enter(Duration::from_secs(5))._lock.is_some());
        std::thread::sleep(Duration::from_millis(50));
        drop(a);
        assert!(waiter.join().unwrap());
        drop(b);
    }

    #[test]
    fn an_unusable_directory_does_not_wait() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        let start = Instant::now();
        assert!(
            Gate::new(&file, 1)
                .enter(Duration::from_secs(5))
                ._lock
                .is_none()
        );
        assert!(start.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn a_hang_is_remembered_for_a_moment() {
        let dir = tempfile::tempdir().unwrap();
        let gate = Gate::new(&dir.path().join("run"), 1);
        assert!(gate.recent_hung().is_none());
        gate.note_hung("ovsdb-server gave no reply");
        let (why, age) = gate.recent_hung().unwrap();
        assert_eq!(why, "ovsdb-server gave no reply");
        assert!(age < HUNG_MEMORY);
        gate.clear_hung();
        assert!(gate.recent_hung().is_none());
        let old = now_ms() - 11_000;
        std::fs::write(gate.hung_path(), format!("{old}\nx")).unwrap();
        assert!(gate.recent_hung().is_none());
    }
}
