//! The applied-stanza store: what each successful `ifup` applied, kept in
//! `/run/ifupdown-ovs-applied/IFACE` until the `ifdown` of that interface.
//!
//! Why: ifupdown keeps no copy of the stanza it brought an interface up with. After
//! an edit of the interfaces file, `ifdown` takes the NEW stanza (wrong `down`
//! commands, wrong addresses), and `ifupdown-ovs reload` cannot tell what changed.
//! So the hook's post-up run writes the stanzas of the logical interface, as the
//! file had them at that moment, and its post-down run removes them
//! ([`record`], one call from `crate::hook`). `reload` compares them with the new
//! file and writes them all into one temporary interfaces file for `ifdown -i`
//! (docs/reload.md).
//!
//! The format is interfaces(5) text: the `auto`/`allow-CLASS` lines naming the
//! interface, then each stanza as `iface NAME FAMILY METHOD` with its options after
//! `inherits` (templates resolved), so that the file can be parsed again and handed
//! to ifupdown. Files are written with `sys::rundir` (directory 0700, files 0600, no
//! symlink followed, trusted only when root's). A failure to record is logged, never
//! an error of the hook: the interface is up either way, and `reload` falls back to
//! the current file for an interface without a record (and says so).
//!
//! Beside the stanzas, a copy of the interfaces files themselves (the main file and
//! what it sources, byte for byte: `interfaces::snapshot`) is kept as
//! `/run/ifupdown-ovs-files/applied` ([`files_path`]) by `reload`, by a committed
//! `reload --try`, and at the end of an `ifup -a` that brought every interface up
//! (at boot) or found no copy: what `reload --try` without `-i` goes back to.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::invocation::{Invocation, is_configured};
use super::records::{Records, Session, storable};
use crate::cli::DEFAULT_INTERFACES;
use crate::interfaces::Config;
use crate::interfaces::snapshot::{MAX_ENCODED, Snapshot, SnapshotError};
use crate::plan::phases::Phase;
use crate::plan::scene::HookEnv;
use crate::sys::rundir::{self, RunDirError};

/// The store's directory: `/run/ifupdown-ovs-applied`, next to [`super::records::DIR`]
/// rather than in it, whose contents belong to the `ifup -a` records and the
/// agent, and stay empty between runs.
pub const DIR: &str = "/run/ifupdown-ovs-applied";

/// The store's directory ([`DIR`]).
pub fn dir() -> PathBuf {
    PathBuf::from(DIR)
}

/// At the end of an up (post-up: the stanza was applied) record the interface's
/// stanzas from the file of the ifup that runs us; at the end of a down (post-down)
/// remove the record. Other phases do nothing.
///
/// Inside `ifup -a` the runs of the interfaces record nothing: the `IFACE=--all`
/// post-up run after them reads the file once and records every interface that
/// is up and has no record ([`record_missing`]), instead of each run reading the
/// whole file (quadratic at boot). Interfaces that were already up keep their
/// record: an `ifup -a` after an edit must not make the edit look applied.
pub fn record(h: &HookEnv, phase: Phase, file_override: Option<PathBuf>) {
    let all = h.iface == "--all";
    if !all && !storable(&h.iface) {
        return;
    }
    let done = match phase {
        Phase::PostUp => {
            let inv = Invocation::find(file_override);
            let in_all = inv
                .outermost
                .as_ref()
                .is_some_and(|c| c.prog == "ifup" && c.args.all);
            if in_all && !all {
                return;
            }
            if let Some(text) = batch_rendered(h, &inv, all) {
                write(&dir(), &h.iface, &text)
            } else {
                match load(&inv) {
                    Some((file, c)) if all => record_missing(&c, &inv.state_dir, &dir())
                        .map(|kept| record_files_after_all(&files_path(), &file, &c, kept)),
                    Some((_, c)) => match render(&c, &h.logical) {
                        Some(text) => write(&dir(), &h.iface, &text),
                        None => Ok(()),
                    },
                    None => Ok(()),
                }
            }
        }
        Phase::PostDown if !all => remove(&dir(), &h.iface),
        _ => Ok(()),
    };
    if let Err(e) = done {
        // not an error of the hook (the run directory's own problems are reported
        // by the batch records); reload says which interfaces have no record
        log::debug!("{}: the applied stanza is not recorded: {e}", h.iface);
    }
}

/// What the batch of this `ifup NAME...` rendered for `h`'s interface from the
/// file it read, the moment ifupdown started (`Records::take_applied`): the
/// post-up run then stores it without reading and parsing the whole file again
/// (once per interface, quadratic for the init script). None for `--all`, for a
/// mapped interface (`IFACE` is not `LOGICAL`), or one the batch did not set up.
fn batch_rendered(h: &HookEnv, inv: &Invocation, all: bool) -> Option<String> {
    if all || h.iface != h.logical {
        return None;
    }
    let s = inv.session.as_deref().and_then(Session::parse)?;
    Records::default().take_applied(&s, &h.iface)
}

/// The interfaces file of the ifup that runs us and its configuration (None,
/// logged, when unreadable).
fn load(inv: &Invocation) -> Option<(PathBuf, Config)> {
    let file = inv
        .file
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_INTERFACES));
    Config::load(&file)
        .map_err(|e| log::debug!("not recorded: {e}"))
        .ok()
        .map(|c| (file, c))
}

/// Record every interface ifupdown has up (in `state_dir`) that has no record
/// in `dir`, from `config`. Returns how many already had one (they were up
/// before this `ifup -a`, and keep what their own ifup applied).
pub fn record_missing(config: &Config, state_dir: &Path, dir: &Path) -> Result<usize, RunDirError> {
    let mut kept = 0;
    for (phys, logical) in configured_interfaces(state_dir) {
        if read(dir, &phys)?.is_some() {
            kept += 1;
        } else if let Some(text) = render(config, &logical) {
            write(dir, &phys, &text)?;
        }
    }
    Ok(kept)
}

/// The directory of [`files_path`]: one of its own, not [`super::records::DIR`],
/// which stays empty between runs (the `ifup -a` records), nor [`DIR`], whose
/// entries are interface names and which goes away with the last of them.
pub const FILES_DIR: &str = "/run/ifupdown-ovs-files";

/// The copy of the interfaces files last applied (by `ifup -a`, `reload`, or a
/// committed `reload --try`), which `reload --try` without `-i` goes back to.
pub fn files_path() -> PathBuf {
    Path::new(FILES_DIR).join("applied")
}

/// Why the copy of the applied files was not written or read.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    #[error(transparent)]
    RunDir(#[from] RunDirError),
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
}

/// Keep `snapshot` as the files last applied, at `path` (in our run directory).
pub fn write_files(path: &Path, snapshot: &Snapshot) -> Result<(), FilesError> {
    if let Some(parent) = path.parent() {
        rundir::ensure_dir(parent)?;
    }
    Ok(rundir::write_atomic(path, &snapshot.encode())?)
}

/// Copy the files `config` (loaded from `main`) reads and keep them at `path`.
pub fn record_files(path: &Path, main: &Path, config: &Config) -> Result<(), FilesError> {
    write_files(path, &Snapshot::capture(main, &config.files)?)
}

/// The files last applied, if a copy was kept at `path`.
pub fn read_files(path: &Path) -> Result<Option<Snapshot>, FilesError> {
    match rundir::read_trusted_bytes(path, MAX_ENCODED) {
        Err(RunDirError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            Ok(None)
        }
        Err(e) => Err(e.into()),
        Ok(bytes) => match Snapshot::decode(&bytes) {
            Some(r) => Ok(Some(r?)),
            None => Err(SnapshotError::Damaged { what: "no header" }.into()),
        },
    }
}

/// At the end of `ifup -a`: copy the files it read as the ones applied, unless a
/// copy exists and some interface was already up before it (`kept` > 0: an `ifup
/// -a` after an in-place edit applies nothing to those, so the edit must not look
/// applied). At boot, or after `ifdown -a`, every interface is new and the copy
/// is taken. Failures are logged: the interfaces are up either way.
fn record_files_after_all(path: &Path, main: &Path, config: &Config, kept: usize) {
    if kept > 0 && path.exists() {
        return;
    }
    if let Err(e) = record_files(path, main, config) {
        log::debug!("the applied interfaces files are not copied: {e}");
    }
}

/// The interfaces ifupdown has up, from its state directory: (physical name,
/// logical name), in the order of its `ifstate` file.
pub fn configured_interfaces(state_dir: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(state_dir.join("ifstate")).unwrap_or_default();
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (phys, logical) = line.split_once('=').unwrap_or((line, line));
        if is_configured(state_dir, phys) && !out.iter().any(|(p, _)| p == phys) {
            out.push((phys.to_string(), logical.to_string()));
        }
    }
    out
}

/// The stanzas of logical interface `logical` in `config` as interfaces(5) text
/// (see the module documentation); None when the file has none.
pub fn render(config: &Config, logical: &str) -> Option<String> {
    let mut out = String::new();
    let mut classes: Vec<&str> = Vec::new();
    for (class, name, _) in &config.allow {
        if name == logical && !classes.contains(&class.as_str()) {
            classes.push(class);
        }
    }
    for c in classes {
        if c == "auto" {
            let _ = writeln!(out, "auto {logical}");
        } else {
            let _ = writeln!(out, "allow-{c} {logical}");
        }
    }
    let mut any = false;
    for st in config.stanzas(logical) {
        any = true;
        let _ = writeln!(out, "iface {} {} {}", st.name, st.family, st.method);
        for o in config.resolved_options(st) {
            // a repeated option is one value joined with newlines: one line each
            for v in o.value.split('\n') {
                let _ = writeln!(out, "    {} {}", o.name, v);
            }
        }
    }
    any.then_some(out)
}

/// The store's parent (our run directory) and the store itself pass
/// `rundir::check_dir`; Ok(false) when either does not exist.
fn checked(dir: &Path) -> Result<bool, RunDirError> {
    let missing = |e: &RunDirError| matches!(e, RunDirError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound);
    for d in dir.parent().into_iter().chain([dir]) {
        match rundir::check_dir(d) {
            Err(e) if missing(&e) => return Ok(false),
            r => r?,
        }
    }
    Ok(true)
}

/// Write the record of `iface` into `dir` (created if needed, its parent checked
/// first: nothing is created in a run directory others may write in).
pub fn write(dir: &Path, iface: &str, text: &str) -> Result<(), RunDirError> {
    if let Some(parent) = dir.parent() {
        rundir::ensure_dir(parent)?;
    }
    rundir::ensure_dir(dir)?;
    match rundir::write_atomic(&dir.join(iface), text.as_bytes()) {
        // the last record's removal took the directory away meanwhile
        Err(RunDirError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            rundir::ensure_dir(dir)?;
            rundir::write_atomic(&dir.join(iface), text.as_bytes())
        }
        r => r,
    }
}

/// The record of `iface` in `dir`: None when there is none; an error when it
/// exists but cannot be trusted or read.
pub fn read(dir: &Path, iface: &str) -> Result<Option<String>, RunDirError> {
    if !storable(iface) || !checked(dir)? {
        return Ok(None);
    }
    match rundir::read_trusted(&dir.join(iface)) {
        Err(RunDirError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            Ok(None)
        }
        r => r.map(Some),
    }
}

/// Remove the record of `iface` in `dir` (none is fine), and the directory when
/// it is left empty, so that nothing of ours stays in the run directory once
/// every interface is down.
pub fn remove(dir: &Path, iface: &str) -> Result<(), RunDirError> {
    if !storable(iface) || !checked(dir)? {
        return Ok(());
    }
    let p = dir.join(iface);
    match std::fs::remove_file(&p) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(RunDirError::Io { path: p, source: e });
        }
        _ => {}
    }
    // fails while other records are there: fine
    let _ = std::fs::remove_dir(dir);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_resolves_templates_and_keeps_classes() {
        let c = Config::parse_str(
            "auto br0\nallow-hotplug br0\niface tmpl inet manual\n    mtu 9000\n\
             iface br0 inet static inherits tmpl\n    address 192.0.2.1/24\n    up true\n\
             address 198.51.100.1/24\n\
             iface br0 inet6 manual\n    ovs_type OVSBridge\n",
            Path::new("/x"),
        )
        .unwrap();
        assert_eq!(
            render(&c, "br0").unwrap(),
            "auto br0\nallow-hotplug br0\niface br0 inet static\n    mtu 9000\n    \
             address 192.0.2.1/24\n    address 198.51.100.1/24\n    up true\n\
             iface br0 inet6 manual\n    ovs_type OVSBridge\n"
        );
        assert_eq!(render(&c, "eth9"), None);
        // the text parses again to the same stanzas
        let again = Config::parse_str(&render(&c, "br0").unwrap(), Path::new("/y")).unwrap();
        assert_eq!(render(&again, "br0"), render(&c, "br0"));
    }

    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn records_what_is_up_and_has_no_record() {
        let d = tempfile::tempdir().unwrap();
        let state = d.path().join("state");
        std::fs::create_dir(&state).unwrap();
        std::fs::write(
            state.join("ifstate"),
            "lo=lo\neth0=eth0\nwlan0=home\ngone=gone\n",
        )
        .unwrap();
        for (n, v) in [
            ("lo", "lo"),
            ("eth0", "eth0"),
            ("wlan0", "home"),
            ("gone", ""),
        ] {
            std::fs::write(state.join(format!("ifstate.{n}")), v).unwrap();
        }
        assert_eq!(
            configured_interfaces(&state),
            [("lo", "lo"), ("eth0", "eth0"), ("wlan0", "home")]
                .map(|(a, b)| (a.to_string(), b.to_string()))
        );
        let store = d.path().join("applied");
        write(&store, "eth0", "old\n").unwrap();
        let c = Config::parse_str(
            "iface eth0 inet manual\niface home inet dhcp\n",
            Path::new("/x"),
        )
        .unwrap();
        // eth0 was up with a record before: kept (the files copy stays then)
        assert_eq!(record_missing(&c, &state, &store).unwrap(), 1);
        // eth0 keeps what its ifup applied; wlan0 gets the stanza of `home`
        assert_eq!(read(&store, "eth0").unwrap().as_deref(), Some("old\n"));
        assert_eq!(
            read(&store, "wlan0").unwrap().as_deref(),
            Some("iface home inet dhcp\n")
        );
        assert_eq!(read(&store, "lo").unwrap(), None);
    }

    #[test]
    fn the_files_are_copied_by_an_ifup_all_that_brought_everything_up_or_found_none() {
        let d = tempfile::tempdir().unwrap();
        let main = d.path().join("interfaces");
        std::fs::write(&main, "source vlans\n").unwrap();
        std::fs::write(d.path().join("vlans"), "iface eth0 inet manual\n").unwrap();
        let copy = d.path().join("run").join("applied");
        assert!(read_files(&copy).unwrap().is_none());
        let c = Config::load(&main).unwrap();
        // some interfaces were up already, but there is no copy: take it
        record_files_after_all(&copy, &main, &c, 3);
        let first = read_files(&copy).unwrap().unwrap();
        assert_eq!(first.files.len(), 2);
        assert_eq!(first.main, main);
        // an edit, then an ifup -a that found interfaces up: the copy stays
        std::fs::write(d.path().join("vlans"), "iface eth0 inet dhcp\n").unwrap();
        record_files_after_all(&copy, &main, &c, 1);
        assert_eq!(read_files(&copy).unwrap().unwrap(), first);
        // every interface brought up by it (boot, after ifdown -a): replaced
        record_files_after_all(&copy, &main, &c, 0);
        let second = read_files(&copy).unwrap().unwrap();
        assert_ne!(second, first);
        // a damaged copy is an error, not a silent absence
        std::fs::write(&copy, "junk").unwrap();
        assert!(read_files(&copy).is_err());
    }

    #[test]
    fn write_read_remove() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("applied");
        assert_eq!(read(&dir, "eth0").unwrap(), None);
        write(&dir, "eth0", "iface eth0 inet manual\n").unwrap();
        assert_eq!(
            read(&dir, "eth0").unwrap().as_deref(),
            Some("iface eth0 inet manual\n")
        );
        assert_eq!(read(&dir, "../eth0").unwrap(), None);
        write(&dir, "eth1", "iface eth1 inet manual\n").unwrap();
        remove(&dir, "eth0").unwrap();
        remove(&dir, "eth0").unwrap();
        assert_eq!(read(&dir, "eth0").unwrap(), None);
        assert!(dir.exists());
        // the last one takes the directory with it
        remove(&dir, "eth1").unwrap();
        assert!(!dir.exists());
        write(&dir, "eth0", "x").unwrap();
        // a run directory others may write in: nothing read, created or removed
        let mode = |m: u32| std::fs::Permissions::from_mode(m);
        std::fs::set_permissions(d.path(), mode(0o777)).unwrap();
        assert!(read(&dir, "eth0").is_err());
        assert!(remove(&dir, "eth0").is_err());
        assert!(write(&d.path().join("other"), "eth0", "x").is_err());
        assert!(!d.path().join("other").exists());
        std::fs::set_permissions(d.path(), mode(0o700)).unwrap();
    }
}
