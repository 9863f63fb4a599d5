//! Records that let the hook runs of one `ifup -a` / `ifdown -a` share their OVS
//! work (docs/batch.md), kept under [`DIR`] and named after the ifup/ifdown
//! run they belong to (its pid and start time, field 22 of `/proc/PID/stat`, so a
//! recycled pid never matches).
//!
//! - `up.PID.START/` (a directory, written whole under a temporary name and then
//!   renamed): one file per interface the `IFACE=--all` pre-up run set up, holding
//!   the fingerprints of what it applied ([`UpEntry`]). An interface's own pre-up
//!   that computes the same fingerprint takes its file away (each is used once)
//!   and has nothing left to do. Removed by the `IFACE=--all` post-up run.
//! - `down.PID.START` (a file, created empty by the `IFACE=--all` pre-down run):
//!   each interface's post-down appends one line ([`DownTarget`]) instead of
//!   removing its OVS rows; the `IFACE=--all` post-down run removes them all in one
//!   transaction and the file with them.
//!
//! - `hung.PID.START` (a file): the first hook run of an ifup/ifdown that found
//!   OVS not answering writes what it found; every later run of the same
//!   ifup/ifdown fails at once with that message instead of waiting again.
//!
//! The directory and everything in it are created and read through
//! [`crate::sys::rundir`]: directory 0700, files 0600 whatever the umask, never
//! through a symlink, and trusted only when owned by root and not writable by
//! group or others. When [`DIR`] fails that check, every record is refused: writes
//! fail with the reason (the `--all` runs then leave each interface to its own,
//! unbatched run) and reads find nothing.
//!
//! A record whose ifup/ifdown is gone (killed before its end) is stale: it is never
//! used (the name does not match any live run) and removed by the next run that
//! writes a record ([`Records::sweep`]).

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::interfaces::pattern::fnmatch;
use crate::plan::converge::DownTarget;
use crate::plan::scene::Scene;
use crate::sys::procfs::start_time;
use crate::sys::rundir;

/// Where the records live.
pub const DIR: &str = "/run/ifupdown-ovs";

/// One ifup/ifdown run: its pid and start time (clock ticks after boot).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session {
    pub pid: u32,
    pub start: u64,
}

impl Session {
    /// From the `PID:START` form of [`crate::hook::invocation::Invocation::session`].
    pub fn parse(s: &str) -> Option<Session> {
        let (pid, start) = s.split_once(':')?;
        Some(Session {
            pid: pid.parse().ok()?,
            start: start.parse().ok()?,
        })
    }

    /// Whether that process still runs (same pid, same start time).
    pub fn alive(&self) -> bool {
        start_time(self.pid) == Some(self.start)
    }

    fn suffix(&self) -> String {
        format!("{}.{}", self.pid, self.start)
    }
}

/// Whether `name` can be a file name in a record (interfaces(5) names are words;
/// anything odd simply takes the unbatched path).
pub fn storable(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('.') && !name.contains(['/', '\t', '\n', ' ', '\0'])
}

/// The records of one directory (normally [`DIR`]; tests use a temporary one).
#[derive(Debug, Clone)]
pub struct Records {
    pub dir: PathBuf,
}

impl Default for Records {
    fn default() -> Self {
        Records {
            dir: PathBuf::from(DIR),
        }
    }
}

impl Records {
    pub fn new(dir: &Path) -> Records {
        Records {
            dir: dir.to_path_buf(),
        }
    }

    fn up_path(&self, s: &Session) -> PathBuf {
        self.dir.join(format!("up.{}", s.suffix()))
    }

    fn down_path(&self, s: &Session) -> PathBuf {
        self.dir.join(format!("down.{}", s.suffix()))
    }

    fn ensure_dir(&self) -> std::io::Result<()> {
        rundir::ensure_dir(&self.dir).map_err(rundir::RunDirError::into_io)
    }

    /// Whether the directory may be trusted (it exists and passes
    /// [`rundir::check_dir`]). Silent: [`Records::sweep`] reports a refused one.
    fn trusted(&self) -> bool {
        rundir::check_dir(&self.dir).is_ok()
    }

    /// Read a record file of ours (see [`rundir::read_trusted`]).
    fn read(&self, path: &Path) -> Option<String> {
        if !self.trusted() {
            return None;
        }
        rundir::read_trusted(path).ok()
    }

    /// Write a record file whole.
    fn write(&self, path: &Path, contents: &str) -> std::io::Result<()> {
        self.ensure_dir()?;
        rundir::write_atomic(path, contents.as_bytes()).map_err(rundir::RunDirError::into_io)
    }

    /// Write the up record of `s`: what each interface's own run must compute to
    /// be done. Replaces an older one; readers see all of it or nothing.
    pub fn write_up(&self, s: &Session, entries: &[(String, UpEntry)]) -> std::io::Result<()> {
        self.write_up_with(s, entries, &[])
    }

    /// [`Records::write_up`], with the applied-stanza text of some interfaces
    /// (`crate::hook::applied`, as the batch rendered it from the file it
    /// read), which their post-up runs store instead of reading and parsing the
    /// whole interfaces file again each ([`Records::take_applied`]).
    pub fn write_up_with(
        &self,
        s: &Session,
        entries: &[(String, UpEntry)],
        applied: &[(String, String)],
    ) -> std::io::Result<()> {
        self.ensure_dir()?;
        let tmp = self
            .dir
            .join(format!(".up.{}.{}", s.suffix(), std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        rundir::create_subdir(&tmp).map_err(rundir::RunDirError::into_io)?;
        let written = entries
            .iter()
            .filter(|(n, _)| storable(n))
            .try_for_each(|(n, e)| {
                let env = e.env.as_deref().unwrap_or("-");
                let mut f =
                    rundir::create_new(&tmp.join(n)).map_err(rundir::RunDirError::into_io)?;
                f.write_all(format!("{}\n{env}\n", e.config).as_bytes())
            })
            .and_then(|()| write_applied(&tmp.join(APPLIED), applied));
        let done = written.and_then(|()| {
            let dest = self.up_path(s);
            let _ = std::fs::remove_dir_all(&dest);
            std::fs::rename(&tmp, &dest)
        });
        if done.is_err() {
            let _ = std::fs::remove_dir_all(&tmp);
        }
        done
    }

    /// The entry of `name` in the up record of `s`.
    pub fn up_entry(&self, s: &Session, name: &str) -> Option<UpEntry> {
        if !storable(name) || !self.has_up(s) {
            return None;
        }
        let text = rundir::read_trusted(&self.up_path(s).join(name)).ok()?;
        let mut l = text.lines();
        let config = l.next()?.to_string();
        let env = l.next().filter(|e| *e != "-").map(str::to_string);
        Some(UpEntry { config, env })
    }

    /// Take the applied-stanza text the batch of `s` rendered for `name`
    /// ([`Records::write_up_with`]), once.
    pub fn take_applied(&self, s: &Session, name: &str) -> Option<String> {
        if !storable(name) || !self.has_up(s) {
            return None;
        }
        let dir = self.up_path(s).join(APPLIED);
        let path = dir.join(name);
        let text = rundir::read_trusted(&path).ok()?;
        std::fs::remove_file(&path).ok()?;
        // the last one taken leaves the record as bare as one without texts
        let _ = std::fs::remove_dir(&dir);
        Some(text)
    }

    /// Take the entry of `name` away (each serves once); false if it was not there.
    pub fn use_up(&self, s: &Session, name: &str) -> bool {
        storable(name) && std::fs::remove_file(self.up_path(s).join(name)).is_ok()
    }

    /// Whether `s` has an up record at all.
    pub fn has_up(&self, s: &Session) -> bool {
        self.trusted() && rundir::check_dir(&self.up_path(s)).is_ok()
    }

    /// Remove the up record of `s`.
    pub fn remove_up(&self, s: &Session) {
        let _ = std::fs::remove_dir_all(self.up_path(s));
    }

    /// Start the down record of `s` (empty): from now on its post-down runs defer.
    pub fn start_down(&self, s: &Session) -> std::io::Result<()> {
        self.write(&self.down_path(s), "")
    }

    /// Append `t` to the down record of `s`. False when there is no record (or it
    /// cannot be written): the caller then removes the interface itself.
    pub fn defer_down(&self, s: &Session, t: &DownTarget) -> bool {
        let Some(line) = encode_down(t) else {
            return false;
        };
        if !self.trusted() {
            return false;
        }
        match rundir::open_trusted(&self.down_path(s), true) {
            Ok(mut f) => f.write_all(line.as_bytes()).is_ok(),
            Err(_) => false,
        }
    }

    /// Whether `s` has a down record.
    pub fn has_down(&self, s: &Session) -> bool {
        self.trusted()
            && std::fs::symlink_metadata(self.down_path(s)).is_ok_and(|m| m.file_type().is_file())
    }

    /// Take the down record of `s`: its targets in the order they came, and the
    /// record removed. None when there was none.
    pub fn take_down(&self, s: &Session) -> Option<Vec<DownTarget>> {
        let path = self.down_path(s);
        let text = self.read(&path)?;
        let _ = std::fs::remove_file(&path);
        Some(text.lines().filter_map(decode_down).collect())
    }

    fn start_failure_path(&self, s: &Session) -> PathBuf {
        self.dir.join(format!("startfail.{}", s.suffix()))
    }

    /// Keep why OVS could not be started for the first interface's own run to
    /// report (the `IFACE=--all` run never fails; later interfaces learn from
    /// the daemon module that the start failed earlier in this run).
    pub fn note_start_failure(&self, s: &Session, message: &str) -> std::io::Result<()> {
        self.write(&self.start_failure_path(s), message)
    }

    /// Take what [`Records::note_start_failure`] kept, once.
    pub fn take_start_failure(&self, s: &Session) -> Option<String> {
        let path = self.start_failure_path(s);
        let m = self.read(&path)?;
        std::fs::remove_file(&path).ok()?;
        Some(m)
    }

    fn hung_path(&self, s: &Session) -> PathBuf {
        self.dir.join(format!("hung.{}", s.suffix()))
    }

    /// Keep that OVS does not answer (`message`: which daemon, how long we
    /// waited) for the later hook runs of `s`.
    pub fn note_hung(&self, s: &Session, message: &str) -> std::io::Result<()> {
        self.write(&self.hung_path(s), message)
    }

    /// What [`Records::note_hung`] kept for `s` (it stays for every later run).
    pub fn hung(&self, s: &Session) -> Option<String> {
        self.read(&self.hung_path(s))
    }

    /// Remove records whose ifup/ifdown no longer runs (and half-written ones of
    /// writers that are gone).
    /// A directory that fails [`rundir::check_dir`] is reported here (once per
    /// `ifup -a` / `ifdown -a`: only their `--all` runs sweep) and left alone.
    pub fn sweep(&self) {
        match rundir::check_dir(&self.dir) {
            Ok(()) => {}
            Err(rundir::RunDirError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                return;
            }
            Err(e) => {
                eprintln!(
                    "ifupdown-ovs: warning: {e}; the interfaces are set up or removed one by one"
                );
                return;
            }
        }
        let Ok(rd) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let (writer, session) = match name.strip_prefix(".up.") {
                // .up.PID.START.WRITER
                Some(rest) => match rest.rsplit_once('.') {
                    Some((sess, w)) => (w.parse::<u32>().ok(), sess.to_string()),
                    None => continue,
                },
                None => match name.split_once('.') {
                    Some(("up" | "down" | "startfail" | "hung", sess)) => (None, sess.to_string()),
                    _ => continue,
                },
            };
            let live = session
                .split_once('.')
                .and_then(|(p, t)| Session::parse(&format!("{p}:{t}")))
                .is_some_and(|s| s.alive())
                && writer.is_none_or(|w| Path::new(&format!("/proc/{w}")).exists());
            if !live {
                let p = e.path();
                if std::fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir()) {
                    let _ = std::fs::remove_dir_all(&p);
                } else {
                    let _ = std::fs::remove_file(&p);
                }
            }
        }
    }
}

/// The folder of an up record holding applied-stanza texts: a name no
/// interface entry can have ([`storable`]).
const APPLIED: &str = ".applied";

/// Write `texts` (interface, applied-stanza text) into a new folder `dir`
/// (nothing when there are none).
fn write_applied(dir: &Path, texts: &[(String, String)]) -> std::io::Result<()> {
    if texts.is_empty() {
        return Ok(());
    }
    rundir::create_subdir(dir).map_err(rundir::RunDirError::into_io)?;
    texts
        .iter()
        .filter(|(n, _)| storable(n))
        .try_for_each(|(n, text)| {
            let mut f = rundir::create_new(&dir.join(n)).map_err(rundir::RunDirError::into_io)?;
            f.write_all(text.as_bytes())
        })
}

/// What an `ifup -a` run was asked, from its command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpRequest {
    /// `auto`, or the class of `--allow=CLASS`.
    pub class: String,
    /// `--force`: configured interfaces are brought up again.
    pub force: bool,
    /// `-X`/`--exclude` patterns.
    pub exclude: Vec<String>,
}

/// Which OVS interfaces the `IFACE=--all` pre-up of `ifup -a` sets up: those ifup
/// will bring up (`listed`: the class, as `ifquery --list --allow CLASS`; minus
/// `--exclude`d ones and, without `--force`, configured ones), in its order, and
/// after each bridge the ports its `ifup --allow=BRIDGE` brings up. Left to their
/// own hook run, with why: interfaces with a mapping (its script may choose another
/// stanza), with `pre-up` commands (ifupdown runs them before the hooks; they may
/// create the device), with invalid options (their hook reports them). Interfaces
/// without ovs_* options and `no-scripts` ones (no hook runs for them) are not ours.
pub fn up_targets(
    s: &Scene,
    req: &UpRequest,
    listed: &[String],
    configured: &dyn Fn(&str) -> bool,
) -> (Vec<String>, Vec<(String, String)>) {
    let Some(c) = &s.config else {
        return (Vec::new(), Vec::new());
    };
    let mut out: Vec<String> = Vec::new();
    let mut skipped: Vec<(String, String)> = Vec::new();
    let mut consider = |name: &str, out: &mut Vec<String>| {
        if out.iter().any(|n| n == name) || skipped.iter().any(|(n, _)| n == name) {
            return;
        }
        if configured(name) && !req.force {
            return;
        }
        let entry = match s.entry(name) {
            Ok(None) => return,
            Ok(Some(e)) => Ok(e),
            Err(_) => Err("invalid options".to_string()),
        };
        if c.no_scripts.iter().any(|(p, _)| fnmatch(p, name)) {
            return;
        }
        let why = if c
            .mappings
            .iter()
            .any(|m| m.patterns.iter().any(|p| fnmatch(p, name)))
        {
            Some("a mapping matches it".to_string())
        } else if c
            .stanzas(name)
            .any(|st| c.resolved_options(st).iter().any(|o| o.name == "pre-up"))
        {
            Some("it has pre-up commands, which run before its hooks".to_string())
        } else {
            entry.err()
        };
        match why {
            Some(w) => skipped.push((name.to_string(), w)),
            None => out.push(name.to_string()),
        }
    };
    for name in listed {
        if req.exclude.iter().any(|p| fnmatch(p, name)) {
            continue;
        }
        consider(name, &mut out);
    }
    // Ports that a bridge's `ifup --allow=BRIDGE PORTS` brings up (no --force there).
    let mut i = 0;
    while i < out.len() {
        let name = out[i].clone();
        if let Ok(Some(e)) = s.entry(&name)
            && let Some(b) = e.model.as_bridge()
        {
            for p in &b.ports {
                if s.in_class(&name, p) && s.has_stanza(p) && !configured(p) {
                    consider(p, &mut out);
                }
            }
        }
        i += 1;
    }
    (out, skipped)
}

/// What an interface's own pre-up must compute to be done: the fingerprint of its
/// scene ([`Scene::fingerprint`]), and, when it can do without reading the
/// interfaces file, that of its environment ([`crate::plan::scene::env_fingerprint`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpEntry {
    pub config: String,
    pub env: Option<String>,
}

/// One line: `NAME<TAB>bridge|port<TAB>BRIDGE<TAB>MINE...<TAB>KEEP...` (lists
/// space-separated; `-` for no bridge). None for names that do not fit.
pub fn encode_down(t: &DownTarget) -> Option<String> {
    let names = std::iter::once(&t.name)
        .chain(t.bridge.iter())
        .chain(t.mine.iter())
        .chain(t.keep.iter());
    let ok = names.into_iter().all(|n| storable(n) && n != "-");
    if !ok {
        return None;
    }
    let list = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join(" ");
    Some(format!(
        "{}\t{}\t{}\t{}\t{}\n",
        t.name,
        if t.is_bridge { "bridge" } else { "port" },
        t.bridge.as_deref().unwrap_or("-"),
        list(&t.mine),
        list(&t.keep)
    ))
}

/// The inverse of [`encode_down`]; None for a line it did not write.
pub fn decode_down(line: &str) -> Option<DownTarget> {
    let f: Vec<&str> = line.split('\t').collect();
    let [name, kind, bridge, mine, keep] = f.as_slice() else {
        return None;
    };
    let set = |s: &str| -> BTreeSet<String> {
        s.split(' ')
            .filter(|x| !x.is_empty())
            .map(str::to_string)
            .collect()
    };
    Some(DownTarget {
        name: name.to_string(),
        is_bridge: match *kind {
            "bridge" => true,
            "port" => false,
            _ => return None,
        },
        bridge: (*bridge != "-").then(|| bridge.to_string()),
        mine: set(mine),
        keep: set(keep),
    })
    .filter(|t| storable(&t.name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::converge::tests::target;

    fn me() -> Session {
        let pid = std::process::id();
        Session {
            pid,
            start: start_time(pid).unwrap(),
        }
    }

    fn gone() -> Session {
        // our own pid with another start time: a "recycled" pid
        Session {
            pid: std::process::id(),
            start: start_time(std::process::id()).unwrap() + 1,
        }
    }

    const FILE: &str = "\
auto br0
iface br0 inet manual
  ovs_type OVSBridge
  ovs_ports eth0 p1 p2 p3

allow-br0 eth0
iface eth0 inet manual
  ovs_type OVSPort
  ovs_bridge br0

auto p1
iface p1 inet manual
  ovs_type OVSIntPort
  ovs_bridge br0
  pre-up true

auto p2
iface p2 inet manual
  ovs_type OVSIntPort

allow-br0 p3
iface p3 inet manual
  ovs_type OVSIntPort
  ovs_bridge br0
iface p3 inet6 manual

auto plain
iface plain inet dhcp

auto q1 q2 q3
iface q1 inet manual
  ovs_type OVSIntPort
  ovs_bridge br0
iface q2 inet manual
  ovs_type OVSIntPort
  ovs_bridge br0
iface q3 inet manual
  ovs_type OVSIntPort
  ovs_bridge br0
no-scripts q3
mapping q2
  script /bin/true
";

    fn targets(req: &UpRequest, configured: &dyn Fn(&str) -> bool) -> (Vec<String>, Vec<String>) {
        let c = crate::interfaces::Config::parse_str(FILE, Path::new("/etc/network/interfaces"))
            .unwrap();
        let listed = c.list_with(&req.class, &[], &|_, _| None).names;
        let s = Scene::new(None, Some(c), None, "start", "pre-up");
        let (t, skipped) = up_targets(&s, req, &listed, configured);
        (
            t,
            skipped
                .into_iter()
                .map(|(n, w)| format!("{n}: {w}"))
                .collect(),
        )
    }

    #[test]
    fn up_targets_follow_ifupdown() {
        let auto = UpRequest {
            class: "auto".into(),
            ..UpRequest::default()
        };
        let (t, skipped) = targets(&auto, &|_| false);
        assert_eq!(t, ["br0", "q1", "eth0", "p3"]);
        assert_eq!(
            skipped,
            [
                "p1: it has pre-up commands, which run before its hooks",
                "p2: invalid options",
                "q2: a mapping matches it"
            ]
        );
        // configured ones are not brought up again, unless --force
        let (t, _) = targets(&auto, &|n| n == "br0" || n == "eth0");
        assert_eq!(t, ["q1"]);
        let force = UpRequest {
            force: true,
            ..auto.clone()
        };
        let (t, _) = targets(&force, &|n| n == "br0" || n == "eth0");
        assert_eq!(t, ["br0", "q1", "p3"], "nested ifup has no --force");
        let excl = UpRequest {
            exclude: vec!["q*".into()],
            ..auto
        };
        assert_eq!(targets(&excl, &|_| false).0, ["br0", "eth0", "p3"]);
        let class = UpRequest {
            class: "br0".into(),
            ..UpRequest::default()
        };
        assert_eq!(targets(&class, &|_| false).0, ["eth0", "p3"]);
    }

    #[test]
    fn session_from_invocation_form_and_liveness() {
        assert_eq!(
            Session::parse("12:345"),
            Some(Session {
                pid: 12,
                start: 345
            })
        );
        assert_eq!(Session::parse("12"), None);
        assert_eq!(Session::parse("x:1"), None);
        assert!(me().alive());
        assert!(!gone().alive());
    }

    #[test]
    fn applied_texts_ride_with_the_up_record_and_serve_once() {
        let d = tempfile::tempdir().unwrap();
        let r = Records::new(&d.path().join("sub"));
        let s = me();
        let e = UpEntry {
            config: "f1".into(),
            env: None,
        };
        let texts = [
            (
                "vlan1".to_string(),
                "auto vlan1\niface vlan1 inet manual\n".to_string(),
            ),
            ("../x".to_string(), "bad".to_string()),
        ];
        r.write_up_with(&s, &[("vlan1".into(), e.clone())], &texts)
            .unwrap();
        // not an interface entry
        assert_eq!(r.up_entry(&s, ".applied"), None);
        assert!(
            r.use_up(&s, "vlan1"),
            "the entry serves apart from the text"
        );
        assert_eq!(
            r.take_applied(&s, "vlan1").as_deref(),
            Some("auto vlan1\niface vlan1 inet manual\n")
        );
        assert_eq!(r.take_applied(&s, "vlan1"), None, "once");
        assert_eq!(r.take_applied(&s, "../x"), None);
        assert_eq!(r.take_applied(&gone(), "vlan1"), None, "other session");
        let left = std::fs::read_dir(r.up_path(&s)).unwrap().count();
        assert_eq!(left, 0, "all taken: nothing left in the record");
        // without texts, nothing to take
        r.write_up(&s, &[("vlan1".into(), e)]).unwrap();
        assert_eq!(r.take_applied(&s, "vlan1"), None);
    }

    #[test]
    fn up_record_serves_each_interface_once_with_its_fingerprint() {
        let d = tempfile::tempdir().unwrap();
        let r = Records::new(&d.path().join("sub"));
        let s = me();
        assert!(!r.has_up(&s));
        assert_eq!(r.up_entry(&s, "vlan1"), None);
        let e = |c: &str, env: Option<&str>| UpEntry {
            config: c.into(),
            env: env.map(str::to_string),
        };
        r.write_up(
            &s,
            &[
                ("vlan1".into(), e("f1", Some("e1"))),
                ("br0".into(), e("f0", None)),
                ("../x".into(), e("bad", None)),
            ],
        )
        .unwrap();
        assert!(r.has_up(&s));
        assert_eq!(r.up_entry(&s, "vlan1"), Some(e("f1", Some("e1"))));
        assert_eq!(r.up_entry(&s, "br0"), Some(e("f0", None)));
        assert!(r.use_up(&s, "vlan1"));
        assert!(!r.use_up(&s, "vlan1"), "used once");
        assert_eq!(r.up_entry(&s, "vlan1"), None);
        assert_eq!(r.up_entry(&s, "../x"), None);
        assert!(!r.use_up(&s, "../x"));
        assert_eq!(r.up_entry(&gone(), "br0"), None, "other session");
        assert!(r.use_up(&s, "br0"));
        // no temporary left behind
        let names: Vec<String> = std::fs::read_dir(&r.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        r.remove_up(&s);
        assert!(!r.has_up(&s));
    }

    #[test]
    fn down_record_keeps_order_and_needs_a_start() {
        let d = tempfile::tempdir().unwrap();
        // a directory of its own: the temporary one may be 0777 while another test
        // runs with umask 000
        let r = Records::new(&d.path().join("run"));
        let s = me();
        let a = target("vlan2", Some("br0"), &[]);
        let b = target("br0", None, &["eth0", "vlan2"]);
        assert!(!r.defer_down(&s, &a), "no record: not deferred");
        r.start_down(&s).unwrap();
        assert!(r.has_down(&s));
        assert!(r.defer_down(&s, &a));
        assert!(r.defer_down(&s, &b));
        assert!(!r.defer_down(&s, &target("a b", None, &[])));
        assert_eq!(r.take_down(&s), Some(vec![a, b]));
        assert_eq!(r.take_start_failure(&s), None);
        r.note_start_failure(&s, "why").unwrap();
        assert_eq!(r.take_start_failure(&s).as_deref(), Some("why"));
        assert_eq!(r.take_start_failure(&s), None, "once");
        assert!(!r.has_down(&s));
        assert_eq!(r.take_down(&s), None);
        assert_eq!(r.hung(&s), None);
        r.note_hung(&s, "ovsdb-server gave no reply").unwrap();
        assert_eq!(r.hung(&s).as_deref(), Some("ovsdb-server gave no reply"));
        assert_eq!(r.hung(&s).as_deref(), Some("ovsdb-server gave no reply"));
        assert_eq!(r.hung(&gone()), None);
    }

    #[test]
    fn down_lines_round_trip() {
        let mut t = target("br0v2", None, &["p1", "p2"]);
        t.keep.insert("eth0".into());
        let line = encode_down(&t).unwrap();
        assert_eq!(line, "br0v2\tbridge\t-\tp1 p2\teth0\n");
        assert_eq!(decode_down(line.strip_suffix('\n').unwrap()), Some(t));
        let p = target("p1", Some("br0"), &[]);
        assert_eq!(
            decode_down(encode_down(&p).unwrap().trim_end_matches('\n')),
            Some(p)
        );
        assert_eq!(decode_down("garbage"), None);
        assert_eq!(decode_down("x\tweird\t-\t\t"), None);
    }

    #[test]
    fn sweep_removes_only_records_of_runs_that_are_gone() {
        let d = tempfile::tempdir().unwrap();
        let r = Records::new(&d.path().join("run"));
        crate::sys::rundir::ensure_dir(&r.dir).unwrap();
        let (live, dead) = (me(), gone());
        let e = UpEntry {
            config: "1".into(),
            env: None,
        };
        r.write_up(&live, &[("a".into(), e.clone())]).unwrap();
        r.write_up(&dead, &[("a".into(), e)]).unwrap();
        r.start_down(&live).unwrap();
        r.start_down(&dead).unwrap();
        r.note_hung(&dead, "x").unwrap();
        std::fs::create_dir(
            r.dir
                .join(format!(".up.{}.{}.999999999", live.pid, live.start)),
        )
        .unwrap();
        std::fs::write(r.dir.join("unrelated"), "").unwrap();
        r.sweep();
        assert!(r.has_up(&live) && r.has_down(&live));
        assert!(!r.has_up(&dead) && !r.has_down(&dead));
        let mut names: Vec<String> = std::fs::read_dir(&r.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names.len(), 3, "{names:?}");
        assert!(names.contains(&"unrelated".to_string()));
    }

    fn mode(p: &Path) -> u32 {
        use std::os::unix::fs::MetadataExt;
        std::fs::symlink_metadata(p).unwrap().mode() & 0o7777
    }

    #[test]
    fn records_are_private_under_umask_000() {
        let d = tempfile::tempdir().unwrap();
        let r = Records::new(&d.path().join("run"));
        let s = me();
        let e = UpEntry {
            config: "1".into(),
            env: None,
        };
        crate::sys::rundir::tests::with_umask_000(|| {
            r.write_up(&s, &[("a".into(), e.clone())]).unwrap();
            r.start_down(&s).unwrap();
            r.note_hung(&s, "x").unwrap();
            r.note_start_failure(&s, "y").unwrap();
        });
        assert_eq!(mode(&r.dir), 0o700);
        assert_eq!(mode(&r.up_path(&s)), 0o700);
        assert_eq!(mode(&r.up_path(&s).join("a")), 0o600);
        assert_eq!(mode(&r.down_path(&s)), 0o600);
        assert_eq!(mode(&r.hung_path(&s)), 0o600);
        assert_eq!(mode(&r.start_failure_path(&s)), 0o600);
        assert_eq!(r.up_entry(&s, "a"), Some(e));
    }

    #[test]
    fn records_never_write_through_a_symlink() {
        let d = tempfile::tempdir().unwrap();
        let r = Records::new(&d.path().join("run"));
        let s = me();
        r.start_down(&s).unwrap();
        let victim = d.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        std::fs::remove_file(r.down_path(&s)).unwrap();
        std::os::unix::fs::symlink(&victim, r.down_path(&s)).unwrap();
        std::os::unix::fs::symlink(&victim, r.hung_path(&s)).unwrap();
        std::os::unix::fs::symlink(&victim, r.start_failure_path(&s)).unwrap();
        assert!(!r.defer_down(&s, &target("p1", Some("br0"), &[])));
        assert!(!r.has_down(&s));
        assert_eq!(r.hung(&s), None, "a symlink is not read");
        r.note_hung(&s, "hung").unwrap();
        r.note_start_failure(&s, "fail").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        assert_eq!(r.hung(&s).as_deref(), Some("hung"));
    }

    #[test]
    fn records_in_an_unsafe_directory_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let r = Records::new(&d.path().join("run"));
        let s = me();
        let e = UpEntry {
            config: "1".into(),
            env: None,
        };
        r.write_up(&s, &[("a".into(), e.clone())]).unwrap();
        r.note_hung(&s, "x").unwrap();
        std::fs::set_permissions(&r.dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = r.write_up(&s, &[("a".into(), e.clone())]).unwrap_err();
        assert!(err.to_string().contains("refused"), "{err}");
        assert!(r.start_down(&s).is_err());
        assert!(r.note_hung(&s, "y").is_err());
        assert!(!r.has_up(&s));
        assert_eq!(r.up_entry(&s, "a"), None);
        assert_eq!(r.hung(&s), None);
        std::fs::set_permissions(&r.dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        assert_eq!(r.up_entry(&s, "a"), Some(e));
        // a record file owned by another user, or writable by others, is not trusted
        let entry = r.up_path(&s).join("a");
        std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert_eq!(r.up_entry(&s, "a"), None);
        std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o600)).unwrap();
        if nix::unistd::geteuid().is_root() {
            std::os::unix::fs::chown(&entry, Some(65534), None).unwrap();
            assert_eq!(r.up_entry(&s, "a"), None);
            std::os::unix::fs::chown(r.hung_path(&s), Some(65534), None).unwrap();
            assert_eq!(r.hung(&s), None);
        }
    }
}
