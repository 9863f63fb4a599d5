//! `ifupdown-ovs reload [-i FILE] [--dry-run]`: make the running host match an
//! edited interfaces file, touching only what changed (docs/reload.md).
//!
//! Classic ifupdown has no reload: `ifup` of a configured interface does nothing,
//! and `ifdown` after an edit uses the new stanza. A reload therefore needs to know
//! what each `ifup` applied: the hook keeps it (`hook::applied`). Then:
//!
//! 1. the new file must pass `check` (its errors are printed, FILE:LINE), else
//!    nothing happens;
//! 2. one reload at a time (`lock`); OVS started if it is not running, and asked
//!    a bounded question: a hung daemon stops the reload before anything changed;
//! 3. each interface ifupdown has up (its state directory) is compared between
//!    applied and new (`diff`): unchanged (not touched), `ovs_*` changed
//!    (converged in place), ifupdown-level change (ifdown with the old stanza,
//!    ifup with the new), dropped (ifdown with the old stanza); `auto`
//!    interfaces ifupdown does not have up are new (ifup). A port taken out of
//!    every bridge's `ovs_ports`, not `auto`, goes down as `ifup -a` would leave
//!    it (its stanza may stay). An OVS interface that
//!    is unchanged but missing in OVSDB (a killed reload, a hand-made deletion) is
//!    converged too;
//! 4. the in-place part is planned first (what only planning finds, a failing
//!    `$(...)`, refuses the reload with nothing changed), then the parts run in
//!    that order (`apply`): ifdown, the in-place converge in one
//!    OVS transaction under ifupdown's lock of each interface, ifup. The records
//!    of converged interfaces are updated; ifup/ifdown update theirs through the
//!    hook. `--dry-run` prints all of it and changes nothing.
//!
//! Submodules: `diff` (pure: what changed, what to do), `apply` (the parts,
//! planned by `plan::phases`, run by `hook::execute_plan` and the real
//! ifup/ifdown), `lock` (the reload lock and ifupdown's per-interface lock),
//! `error` (`ReloadError`).
//!
//! An entry point: it uses `hook` (the store, the state directory, the executor),
//! `plan`, `config`, `ovsdb`, `interfaces`, `sys`.

use std::path::{Path, PathBuf};

use crate::cli::{DEFAULT_INTERFACES, ReloadArgs};
use crate::config::lint::{self, CheckEnv, Severity};
use crate::hook::{STATE_DIR, applied, is_configured, records};
use crate::interfaces::{Config, ParseError};
use crate::ovsdb::daemon::{self, Health};
use crate::ovsdb::state::Observed;
use crate::ovsdb::vsctl::Vsctl;
use crate::plan::scene::Scene;
use crate::sys::rundir;

pub mod apply;
pub mod diff;
pub mod error;
pub mod lock;

pub use error::ReloadError;

/// The reload lock file.
pub fn lock_path() -> PathBuf {
    Path::new(records::DIR).join("reload.lock")
}

/// The interfaces file of the applied stanzas, for `ifdown -i`.
pub fn old_file() -> PathBuf {
    Path::new(records::DIR).join("reload.applied.interfaces")
}

/// Entry point of `ifupdown-ovs reload`: 0 when the host now matches the file;
/// an error (printed by `main` as `ifupdown-ovs: MESSAGE`, exit 1) otherwise.
pub fn run(args: &ReloadArgs) -> Result<i32, ReloadError> {
    let file = args.file.interfaces.clone();
    let config = load_checked(&file)?;
    let _lock = match args.dry_run {
        true => None,
        false => Some(lock::ReloadLock::take(&lock_path())?),
    };
    reload(&file, &config, args.dry_run)?;
    if !args.dry_run {
        // what `reload --try` without -i goes back to (docs/reload.md)
        if let Err(e) = applied::record_files(&applied::files_path(), &file, &config) {
            eprintln!("ifupdown-ovs: warning: the applied files are not copied: {e}");
        }
    }
    Ok(0)
}

/// Load `file` and run `check` on it: errors (and warnings) printed on stderr,
/// and any error refuses the reload.
pub fn load_checked(file: &Path) -> Result<Config, ReloadError> {
    let config = match Config::load(file) {
        Ok(c) => c,
        Err(ParseError::Syntax { pos, message }) => {
            eprintln!("{pos}: error: {message}");
            return Err(ReloadError::Refused {
                file: file.to_path_buf(),
                errors: 1,
            });
        }
        Err(e) => return Err(ReloadError::Load(e)),
    };
    let diags = lint::check_config(&config, &CheckEnv::default());
    for d in &diags {
        eprintln!("{d}");
    }
    let errors = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    if errors > 0 {
        return Err(ReloadError::Refused {
            file: file.to_path_buf(),
            errors,
        });
    }
    Ok(config)
}

/// What the comparison found: the decision and the text of the applied stanzas.
struct Compared {
    decision: diff::Decision,
    old_text: String,
    /// `old_text` parsed (named as the file given to `ifdown -i`).
    old_config: Config,
    /// Interfaces compared with the file for want of a record (recorded after).
    unrecorded: Vec<(String, String)>,
}

fn compare(config: &Config, observed: &Observed, scene: &Scene) -> Result<Compared, ReloadError> {
    let state_dir = Path::new(STATE_DIR);
    let store = applied::dir();
    let mut items: Vec<diff::Item> = Vec::new();
    let mut old_text = String::new();
    let mut seen: Vec<String> = Vec::new();
    let mut unrecorded = Vec::new();
    for (phys, logical) in applied::configured_interfaces(state_dir) {
        let record = applied::read(&store, &phys).map_err(ReloadError::Store)?;
        let was_recorded = record.is_some();
        let text = record
            .or_else(|| applied::render(config, &logical))
            .unwrap_or_default();
        let old = Config::parse_str(&text, &store.join(&phys)).unwrap_or_default();
        let mut change = diff::classify(&old, config, &logical);
        if change == diff::Change::Unchanged && scene.entry(&logical).ok().flatten().is_some() {
            // OVS rows are named as ifupdown names the interface (IFACE)
            let in_ovsdb = observed.bridge(&phys).is_some() || observed.port(&phys).is_some();
            if !in_ovsdb {
                change = diff::Change::Ovs(vec!["missing in OVSDB".into()]);
            }
        }
        if phys != logical && matches!(change, diff::Change::Ovs(_)) {
            change = diff::Change::Restart(format!("mapped to {logical}"));
        }
        if !was_recorded && !text.is_empty() {
            unrecorded.push((phys.clone(), logical.clone()));
        }
        if !seen.contains(&logical) {
            old_text.push_str(&text);
            seen.push(logical.clone());
        }
        items.push(diff::Item {
            iface: phys,
            logical,
            change,
            unrecorded: !was_recorded && !text.is_empty(),
        });
    }
    let old_config = Config::parse_str(&old_text, &old_file()).unwrap_or_default();
    let auto = config.list("auto");
    unlisted_ports(&mut items, &old_config, config, &auto);
    let configured = |n: &str| is_configured(state_dir, n);
    Ok(Compared {
        decision: diff::decide(&items, &auto, &configured),
        old_text,
        old_config,
        unrecorded,
    })
}

/// Ports taken out of every bridge's `ovs_ports` whose stanza stays: down, as
/// `ifup -a` would leave them, unless `auto` or `allow-hotplug` keeps them.
fn unlisted_ports(items: &mut [diff::Item], old: &Config, new: &Config, auto: &[String]) {
    let (was, now) = (diff::listed_ports(old), diff::listed_ports(new));
    if was.is_empty() {
        return;
    }
    let hotplug = new.list("allow-hotplug");
    for it in items.iter_mut() {
        let classed = auto.contains(&it.iface) || hotplug.contains(&it.iface);
        let change = std::mem::replace(&mut it.change, diff::Change::Unchanged);
        it.change = diff::unlisted(change, &it.logical, &was, &now, classed);
    }
}

fn read_observed(vsctl: &Vsctl) -> Result<(Observed, Option<String>), ReloadError> {
    match daemon::health(Path::new(daemon::RUNDIR)) {
        Health::Running => Observed::read(vsctl)
            .map(|o| (o, None))
            .map_err(ReloadError::ReadOvsdb),
        Health::Down(why) => Ok((Observed::default(), Some(why.to_string()))),
    }
}

/// What one reload works with.
struct Run<'a> {
    file: &'a Path,
    config: &'a Config,
    vsctl: Vsctl,
    /// Scenes of the new file and of the applied stanzas.
    new_scene: Scene,
    old_scene: Scene,
    /// Where the applied stanzas are written for `ifdown -i`.
    old_path: PathBuf,
    compared: Compared,
}

/// The reload itself (the file is checked and the lock held).
fn reload(file: &Path, config: &Config, dry_run: bool) -> Result<(), ReloadError> {
    let vsctl = Vsctl::default();
    if !dry_run {
        // as the hook's pre-up would: OVS started if it is not running
        daemon::ensure_running(Path::new(daemon::RUNDIR), daemon::START_LIMIT, None)
            .map_err(ReloadError::NotRunning)?;
        // a hung daemon stops the reload here, bounded, before any part ran
        daemon::answers(Path::new(daemon::RUNDIR), daemon::PROBE_LIMIT)
            .map_err(ReloadError::Hung)?;
    }
    let (observed, down) = read_observed(&vsctl)?;
    let shown = (file != Path::new(DEFAULT_INTERFACES)).then(|| file.to_path_buf());
    let scene = |c: Config, f: Option<PathBuf>| Scene::new(f, Some(c), None, "start", "pre-up");
    let mut new_scene = scene(config.clone(), shown);
    // `$(...)` in ovs_extra run as the hook's batch runs them (once each,
    // bounded); --dry-run prints them as written, as `plan` does
    new_scene.run_substitutions = !dry_run;
    let compared = compare(config, &observed, &new_scene)?;
    let old_path = old_file();
    let old_config = compared.old_config.clone();
    let r = Run {
        file,
        config,
        vsctl,
        new_scene,
        old_scene: scene(old_config, Some(old_path.clone())),
        old_path,
        compared,
    };
    if dry_run {
        match &down {
            Some(why) => println!("# {why}: planned against an empty OVSDB"),
            None => println!("# planned against the running OVSDB (read-only)"),
        }
        return print_plan(&r, &observed);
    }
    apply_all(&r, &observed)
}

/// `--dry-run`: every part, as it would run now.
fn print_plan(r: &Run, observed: &Observed) -> Result<(), ReloadError> {
    let d = &r.compared.decision;
    let state_dir = Path::new(STATE_DIR);
    let configured = |n: &str| is_configured(state_dir, n);
    print!("{d}");
    if !d.down.is_empty() {
        println!("# taken down with the applied stanzas:");
        println!("ifdown -i {} {}", r.old_path.display(), d.down.join(" "));
    }
    let p = apply::in_place(
        &r.new_scene,
        &r.old_scene,
        observed,
        r.vsctl.timeout,
        &d.converge,
        &configured,
    )?;
    if let Some(line) = d.converge_line() {
        println!("{line}");
    }
    print!("{}", p.plan);
    for argv in &p.port_ifups {
        println!("{}", argv.join(" "));
    }
    if !d.up.is_empty() {
        println!("# brought up with the new file:");
        println!("ifup -i {} {}", r.file.display(), d.up.join(" "));
    }
    if !d.unchanged.is_empty() {
        println!("# unchanged: {}", d.unchanged.join(" "));
    }
    if d.is_empty() {
        println!("# nothing to do: the host matches {}", r.file.display());
    }
    Ok(())
}

/// Run the parts in order; a failing part does not stop the others (a second
/// reload completes them). Each failure is printed, then [`ReloadError::Incomplete`].
fn apply_all(r: &Run, observed: &Observed) -> Result<(), ReloadError> {
    let d = &r.compared.decision;
    print!("{d}");
    if let Some(line) = d.converge_line() {
        println!("{line}");
    }
    preplan(r, observed)?;
    let mut failures: Vec<ReloadError> = Vec::new();
    if !d.down.is_empty() {
        rundir::ensure_dir(Path::new(records::DIR)).map_err(ReloadError::Store)?;
        rundir::write_atomic(&r.old_path, r.compared.old_text.as_bytes())
            .map_err(ReloadError::Store)?;
        if let Err(e) = apply::ifupdown("ifdown", &r.old_path, &d.down) {
            failures.push(e);
        }
    }
    if !d.converge.is_empty()
        && let Err(e) = converge(r, &d.converge)
    {
        failures.push(e);
    }
    if let Err(e) = apply::ifupdown("ifup", r.file, &d.up) {
        failures.push(e);
    }
    let store = applied::dir();
    for (phys, logical) in &r.compared.unrecorded {
        if d.unchanged.contains(phys)
            && let Some(text) = applied::render(r.config, logical)
            && let Err(e) = applied::write(&store, phys, &text)
        {
            log::warn!("{phys}: not recorded: {e}");
        }
    }
    if !failures.is_empty() {
        for e in &failures {
            eprintln!("ifupdown-ovs: {e}");
        }
        return Err(ReloadError::Incomplete {
            file: r.file.to_path_buf(),
            failed: failures.len(),
        });
    }
    println!(
        "reloaded {}: {} converged in place, {} taken down, {} brought up, {} unchanged",
        r.file.display(),
        d.converge.len(),
        d.down.len(),
        d.up.len(),
        d.unchanged.len()
    );
    Ok(())
}

/// The in-place part planned once before any part runs, so that what only
/// planning finds (a failing `$(...)` in ovs_extra, which runs here and is not
/// run again) refuses the reload with nothing changed instead of after the
/// ifdown part.
fn preplan(r: &Run, observed: &Observed) -> Result<(), ReloadError> {
    let d = &r.compared.decision;
    if d.converge.is_empty() {
        return Ok(());
    }
    let state_dir = Path::new(STATE_DIR);
    let configured = |n: &str| is_configured(state_dir, n);
    let (new, old) = (&r.new_scene, &r.old_scene);
    match apply::in_place(
        new,
        old,
        observed,
        r.vsctl.timeout,
        &d.converge,
        &configured,
    ) {
        Ok(_) => Ok(()),
        Err(ReloadError::Plan(e)) => Err(ReloadError::NotPlanned(e)),
        Err(e) => Err(e),
    }
}

/// The in-place part: under ifupdown's lock of each interface, OVSDB read again
/// (the ifdown part changed it), planned, executed, then recorded.
fn converge(r: &Run, names: &[(String, Vec<String>)]) -> Result<(), ReloadError> {
    let state_dir = Path::new(STATE_DIR);
    let list: Vec<String> = names.iter().map(|(n, _)| n.clone()).collect();
    let locks = lock::IfaceLock::take_all(state_dir, &list, lock::IFACE_WAIT)?;
    // an ifdown that held the lock may have taken one down meanwhile: left alone
    let (names, gone): (Vec<_>, Vec<_>) = names
        .iter()
        .cloned()
        .partition(|(n, _)| is_configured(state_dir, n));
    for (n, _) in &gone {
        println!("# {n}: taken down meanwhile by ifdown: left alone");
    }
    let names = names.as_slice();
    let observed = Observed::read(&r.vsctl).map_err(ReloadError::ReadOvsdb)?;
    let configured = |n: &str| is_configured(state_dir, n);
    let p = apply::in_place(
        &r.new_scene,
        &r.old_scene,
        &observed,
        r.vsctl.timeout,
        names,
        &configured,
    )?;
    crate::hook::execute_plan(&p.plan, &r.vsctl, false, &list.join(","))?;
    let store = applied::dir();
    for (n, _) in names {
        if let Some(text) = applied::render(r.config, n)
            && let Err(e) = applied::write(&store, n, &text)
        {
            log::warn!("{n}: not recorded: {e}");
        }
    }
    drop(locks);
    for argv in &p.port_ifups {
        apply::run_argv(argv)?;
    }
    Ok(())
}
