use std::cell::RefCell;

use super::*;
use crate::interfaces::snapshot::Snapshot;

const OLD: &str = "auto lo\niface lo inet loopback\n";
const NEW: &str = "auto lo\niface lo inet loopback\n\niface eth9 inet manual\n";
const FAILS: &str = "auto lo\niface lo inet loopback\n# the fake reload fails on this\n";

/// A host whose reload records the file's contents (and fails on [`FAILS`]) and
/// models what a reload does to ifupdown's set of interfaces that are up: the ones
/// the file dropped go down, its `auto` ones come up, the others stay as they are.
/// Its timer is not started.
struct Fake {
    reloads: RefCell<Vec<String>>,
    up: RefCell<Vec<String>>,
    ifupdown: RefCell<Vec<String>>,
    timer_fails: bool,
}

impl Default for Fake {
    fn default() -> Fake {
        Fake::with_up(&["lo=lo"])
    }
}

impl Fake {
    fn with_up(up: &[&str]) -> Fake {
        Fake {
            reloads: RefCell::default(),
            up: RefCell::new(up.iter().map(|s| s.to_string()).collect()),
            ifupdown: RefCell::default(),
            timer_fails: false,
        }
    }
    fn up(&self) -> Vec<String> {
        let mut v = self.up.borrow().clone();
        v.sort();
        v
    }
}

impl Host for Fake {
    fn reload(&self, file: &Path) -> Result<(), TrialError> {
        let text = std::fs::read_to_string(file).unwrap();
        self.reloads.borrow_mut().push(text.clone());
        if text == FAILS {
            return Err(TrialError::ReloadFailed {
                file: file.to_path_buf(),
                line: "boom".into(),
            });
        }
        let cfg = Config::parse_str(&text, file).unwrap();
        let mut up = self.up.borrow_mut();
        up.retain(|e| cfg.has_logical(e.split('=').next().unwrap()));
        for name in cfg.list("auto") {
            let entry = format!("{name}={name}");
            if !up.contains(&entry) {
                up.push(entry);
            }
        }
        Ok(())
    }
    fn start_timer(&self, _: &Layout, _: &str, _: u64) -> Result<u32, TrialError> {
        if self.timer_fails {
            return Err(TrialError::Timer(std::io::Error::other("no")));
        }
        Ok(0)
    }
    fn notify(&self, _: &str) {}
    fn up_interfaces(&self) -> Vec<String> {
        self.up.borrow().clone()
    }
    fn ifupdown(&self, program: &str, _: &Path, iface: &str) -> Result<(), TrialError> {
        self.ifupdown
            .borrow_mut()
            .push(format!("{program} {iface}"));
        let mut up = self.up.borrow_mut();
        match program {
            "ifup" => up.push(iface.to_string()),
            _ => up.retain(|e| e.split('=').next() != Some(iface)),
        }
        Ok(())
    }
}

struct Setup {
    dir: tempfile::TempDir,
    env: Env,
    candidate: PathBuf,
}

fn setup(new: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let etc = dir.path().join("etc");
    std::fs::create_dir(&etc).unwrap();
    let target = etc.join("interfaces");
    std::fs::write(&target, OLD).unwrap();
    let candidate = dir.path().join("new");
    std::fs::write(&candidate, new).unwrap();
    let env = Env {
        layout: Layout::new(dir.path().join("run")),
        target,
        applied: dir.path().join("files").join("applied"),
    };
    Setup {
        dir,
        env,
        candidate,
    }
}

impl Setup {
    fn target(&self) -> String {
        std::fs::read_to_string(&self.env.target).unwrap()
    }
    /// Names in the folder of the target (the rejected copies, no leftovers).
    fn etc(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.dir.path().join("etc"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
    fn pending(&self) -> Option<Pending> {
        let lock = Lock::take(&self.env.layout).unwrap();
        record::read(&self.env.layout, &lock).unwrap()
    }
    fn rejected(&self) -> Vec<String> {
        self.etc()
            .into_iter()
            .filter(|n| n.starts_with("interfaces.rejected-"))
            .map(|n| std::fs::read_to_string(self.dir.path().join("etc").join(n)).unwrap())
            .collect()
    }
}

#[test]
fn try_then_commit_keeps_the_new_file() {
    let s = setup(NEW);
    let host = Fake::default();
    let p = start(&s.env, &host, &s.candidate, 60).unwrap();
    assert_eq!(s.target(), NEW);
    assert_eq!(*host.reloads.borrow(), [NEW]);
    assert_eq!(s.pending(), Some(p.clone()));
    assert!(p.deadline >= p.started + 60);
    commit(&s.env).unwrap();
    assert_eq!(s.pending(), None);
    assert_eq!(s.target(), NEW);
    assert_eq!(s.etc(), ["interfaces"]);
    let e = commit(&s.env).unwrap_err().to_string();
    assert!(
        e.starts_with(
            "nothing to commit: no `reload --try` is pending (the last try: committed at "
        ),
        "{e}"
    );
}

#[test]
fn rollback_puts_the_previous_file_back_and_keeps_the_rejected_one() {
    let s = setup(NEW);
    let host = Fake::default();
    start(&s.env, &host, &s.candidate, 60).unwrap();
    let rejected = rollback(&s.env, &host).unwrap();
    assert_eq!(rejected.len(), 1);
    let rejected = &rejected[0];
    assert_eq!(s.target(), OLD);
    assert_eq!(std::fs::read_to_string(rejected).unwrap(), NEW);
    assert_eq!(s.rejected(), [NEW]);
    assert_eq!(*host.reloads.borrow(), [NEW, OLD]);
    assert_eq!(s.pending(), None);
    let e = rollback(&s.env, &host).unwrap_err().to_string();
    assert!(e.contains("nothing to roll back"), "{e}");
    assert!(e.contains("rejected version is kept in"), "{e}");
    assert!(commit(&s.env).is_err());
}

#[test]
fn one_pending_try_at_a_time() {
    let s = setup(NEW);
    let host = Fake::default();
    start(&s.env, &host, &s.candidate, 60).unwrap();
    let e = start(&s.env, &host, &s.candidate, 60)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("a try is already pending"), "{e}");
    // the fake never starts a timer: say that nothing will revert it by itself
    assert!(e.contains("never started"), "{e}");
    assert_eq!(host.reloads.borrow().len(), 1);
}

#[test]
fn the_files_in_place_need_a_copy_of_the_last_applied_ones() {
    let s = setup(NEW);
    let e = start(&s.env, &Fake::default(), &s.env.target, 60).unwrap_err();
    assert!(matches!(e, TrialError::NoApplied { .. }), "{e}");
    assert!(e.to_string().contains("ifupdown-ovs reload"), "{e}");
    assert_eq!(s.pending(), None);
    // a copy of the files as they are: nothing to try
    let copy = Snapshot::capture(&s.env.target, &[]).unwrap();
    applied::write_files(&s.env.applied, &copy).unwrap();
    let e = start(&s.env, &Fake::default(), &s.env.target, 60).unwrap_err();
    assert!(matches!(e, TrialError::NothingEdited { .. }), "{e}");
}

const SOURCING: &str = "auto lo\niface lo inet loopback\nsource interfaces.d/*\n";

/// `etc/interfaces` sourcing `etc/interfaces.d/*`, with `vlans` in it.
fn setup_sourcing(new: &str) -> Setup {
    let s = setup_with(SOURCING, new);
    let d = s.dir.path().join("etc/interfaces.d");
    std::fs::create_dir(&d).unwrap();
    std::fs::write(d.join("vlans"), "iface eth1 inet manual\n").unwrap();
    s
}

impl Setup {
    fn sub(&self, name: &str) -> Option<String> {
        std::fs::read_to_string(self.dir.path().join("etc/interfaces.d").join(name)).ok()
    }
    fn subdir(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.dir.path().join("etc/interfaces.d"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

#[test]
fn an_in_place_try_reverts_every_file_to_the_last_applied_copy() {
    let s = setup_sourcing(NEW);
    let d = s.dir.path().join("etc/interfaces.d");
    let cfg = Config::load(&s.env.target).unwrap();
    applied::record_files(&s.env.applied, &s.env.target, &cfg).unwrap();
    // edited in place: vlans changed, a file added, the main file changed
    std::fs::write(d.join("vlans"), "iface eth1 inet manual\n  mtu 9000\n").unwrap();
    std::fs::write(d.join("extra"), "iface eth2 inet manual\n").unwrap();
    std::fs::write(&s.env.target, format!("{SOURCING}# edited\n")).unwrap();
    let host = Fake::default();
    let p = start(&s.env, &host, &s.env.target, 60).unwrap();
    assert_eq!(p.candidate, s.env.target);
    assert_eq!(host.reloads.borrow().len(), 1);
    let rejected = rollback(&s.env, &host).unwrap();
    assert_eq!(rejected.len(), 3, "{rejected:?}");
    assert_eq!(s.target(), SOURCING);
    assert_eq!(s.sub("vlans").unwrap(), "iface eth1 inet manual\n");
    assert_eq!(s.sub("extra"), None);
    // the rejected copies of sourced files are dot files: `source DIR/*` skips them
    let names = s.subdir();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(names[0].starts_with(".extra.rejected-"), "{names:?}");
    assert!(names[1].starts_with(".vlans.rejected-"), "{names:?}");
    assert_eq!(s.rejected(), [format!("{SOURCING}# edited\n")]);
    let files = Config::load(&s.env.target).unwrap().files;
    assert_eq!(files.len(), 2, "{files:?}");
}

#[test]
fn a_committed_in_place_try_is_the_new_last_applied_copy() {
    let s = setup_sourcing(NEW);
    let d = s.dir.path().join("etc/interfaces.d");
    let cfg = Config::load(&s.env.target).unwrap();
    applied::record_files(&s.env.applied, &s.env.target, &cfg).unwrap();
    std::fs::write(d.join("extra"), "iface eth2 inet manual\n").unwrap();
    start(&s.env, &Fake::default(), &s.env.target, 60).unwrap();
    commit(&s.env).unwrap();
    assert!(s.sub("extra").is_some());
    let copy = applied::read_files(&s.env.applied).unwrap().unwrap();
    assert!(copy.get(&d.join("extra")).is_some());
    // nothing edited since the commit
    let e = start(&s.env, &Fake::default(), &s.env.target, 60).unwrap_err();
    assert!(matches!(e, TrialError::NothingEdited { .. }), "{e}");
    // a reload during the trial wrote the copy: commit leaves that one
    std::fs::write(d.join("extra"), "iface eth3 inet manual\n").unwrap();
    start(&s.env, &Fake::default(), &s.env.target, 60).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    let later = Snapshot::capture(&s.env.target, &[]).unwrap();
    applied::write_files(&s.env.applied, &later).unwrap();
    commit(&s.env).unwrap();
    assert_eq!(applied::read_files(&s.env.applied).unwrap().unwrap(), later);
}

#[test]
fn a_try_with_a_new_file_reverts_the_sourced_files_too() {
    // the new main file sources vlans (which exists) and an edit during the
    // trial changes it: the revert puts vlans back as it was at the try
    let s = setup_sourcing(&format!("{NEW}source interfaces.d/*\n"));
    std::fs::write(&s.env.target, OLD).unwrap();
    let d = s.dir.path().join("etc/interfaces.d");
    let host = Fake::default();
    start(&s.env, &host, &s.candidate, 60).unwrap();
    std::fs::write(d.join("vlans"), "iface eth1 inet dhcp\n").unwrap();
    let rejected = rollback(&s.env, &host).unwrap();
    assert_eq!(rejected.len(), 2, "{rejected:?}");
    assert_eq!(s.target(), OLD);
    assert_eq!(s.sub("vlans").unwrap(), "iface eth1 inet manual\n");
}

#[test]
fn a_candidate_that_fails_check_changes_nothing() {
    let s = setup("iface br0 inet manual\n    ovs_type Bogus\n");
    let host = Fake::default();
    let e = start(&s.env, &host, &s.candidate, 60).unwrap_err();
    assert!(matches!(e, TrialError::CheckFailed { .. }), "{e}");
    assert_eq!(s.target(), OLD);
    assert_eq!(s.etc(), ["interfaces"]);
    assert_eq!(s.pending(), None);
    assert!(host.reloads.borrow().is_empty());
}

#[test]
fn a_timer_that_cannot_start_changes_nothing() {
    let s = setup(NEW);
    let host = Fake {
        timer_fails: true,
        ..Fake::default()
    };
    assert!(start(&s.env, &host, &s.candidate, 60).is_err());
    assert_eq!(s.target(), OLD);
    assert_eq!(s.etc(), ["interfaces"]);
    assert_eq!(s.pending(), None);
}

#[test]
fn a_failed_reload_of_the_new_file_reverts_at_once() {
    let s = setup(FAILS);
    let host = Fake::default();
    let e = start(&s.env, &host, &s.candidate, 60).unwrap_err();
    assert!(matches!(e, TrialError::ReloadFailed { .. }), "{e}");
    assert_eq!(s.target(), OLD);
    assert_eq!(s.rejected(), [FAILS]);
    assert_eq!(*host.reloads.borrow(), [FAILS, OLD]);
    assert_eq!(s.pending(), None);
}

#[test]
fn the_timer_reverts_its_own_try_at_the_deadline_and_nothing_else() {
    let s = setup(NEW);
    let host = Fake::default();
    let p = start(&s.env, &host, &s.candidate, 0).unwrap();
    // another try's timer leaves it alone
    assert_eq!(run_timer(&s.env, &host, "other", 0), 0);
    assert_eq!(s.target(), NEW);
    assert_eq!(run_timer(&s.env, &host, &p.id, p.deadline), 0);
    assert_eq!(s.target(), OLD);
    assert_eq!(s.rejected(), [NEW]);
    assert_eq!(s.pending(), None);
    // a timer waking after a commit does nothing
    let s = setup(NEW);
    let host = Fake::default();
    let p = start(&s.env, &host, &s.candidate, 0).unwrap();
    commit(&s.env).unwrap();
    assert_eq!(run_timer(&s.env, &host, &p.id, 0), 0);
    assert_eq!(s.target(), NEW);
    assert_eq!(*host.reloads.borrow(), [NEW]);
}

#[test]
fn a_reload_waits_for_the_reload_lock_and_not_longer_than_its_limit() {
    use nix::fcntl::{Flock, FlockArg};
    use std::time::Instant;
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("reload.lock");
    // no lock file: no wait
    wait_reload_idle(&path, Duration::from_secs(5));
    std::fs::write(&path, "").unwrap();
    let held = Flock::lock(std::fs::File::open(&path).unwrap(), FlockArg::LockExclusive).unwrap();
    let t = Instant::now();
    wait_reload_idle(&path, Duration::from_millis(300));
    assert!(t.elapsed() >= Duration::from_millis(300));
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        drop(held);
    });
    let t = Instant::now();
    wait_reload_idle(&path, Duration::from_secs(10));
    let waited = t.elapsed();
    release.join().unwrap();
    assert!(waited >= Duration::from_millis(250), "{waited:?}");
    assert!(waited < Duration::from_secs(5), "{waited:?}");
}

/// `setup` with `old` in place of OLD.
fn setup_with(old: &str, new: &str) -> Setup {
    let s = setup(new);
    std::fs::write(&s.env.target, old).unwrap();
    s
}

#[test]
fn a_revert_gives_back_exactly_what_was_up_before() {
    const HOTPLUG: &str =
        "auto lo\niface lo inet loopback\n\nallow-hotplug eth9\niface eth9 inet manual\n";
    const AUTO: &str = "auto lo\niface lo inet loopback\n\nauto eth9\niface eth9 inet manual\n";
    const DROPPED: &str = "auto lo\niface lo inet loopback\n";
    // eth9 (hotplug) was down; the try brings it up (auto); the previous file still
    // has it, so the reload alone would leave it up
    let s = setup_with(HOTPLUG, AUTO);
    let host = Fake::default();
    start(&s.env, &host, &s.candidate, 60).unwrap();
    assert_eq!(host.up(), ["eth9=eth9", "lo=lo"]);
    rollback(&s.env, &host).unwrap();
    assert_eq!(host.up(), ["lo=lo"]);
    assert_eq!(*host.ifupdown.borrow(), ["ifdown eth9"]);
    // eth9 (hotplug) was up; the try drops it; the reload alone would not bring a
    // hotplug interface back
    let s = setup_with(HOTPLUG, DROPPED);
    let host = Fake::with_up(&["lo=lo", "eth9=eth9"]);
    start(&s.env, &host, &s.candidate, 60).unwrap();
    assert_eq!(host.up(), ["lo=lo"]);
    rollback(&s.env, &host).unwrap();
    assert_eq!(host.up(), ["eth9=eth9", "lo=lo"]);
    assert_eq!(*host.ifupdown.borrow(), ["ifup eth9=eth9"]);
    // what the reload gives back by itself needs nothing more
    let s = setup(NEW);
    let host = Fake::default();
    start(&s.env, &host, &s.candidate, 60).unwrap();
    rollback(&s.env, &host).unwrap();
    assert!(host.ifupdown.borrow().is_empty());
}
