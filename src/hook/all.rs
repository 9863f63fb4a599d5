//! The hook runs with `IFACE=--all`, which ifupdown makes once before and once
//! after the interfaces of `ifup -a` / `ifdown -a` (see [`crate::hook::records`]
//! for the records they share with the per-interface runs):
//!
//! - pre-up: read the interfaces file, find the OVS interfaces this ifup will
//!   bring up ([`records::up_targets`]), make sure OVS runs (if it cannot be
//!   started, the first interface's own run reports why) and answers (if it does
//!   not, that is recorded and every interface's own run fails at once with
//!   it), read OVSDB once, apply one transaction for all of them
//!   ([`phases::pre_up_batch`]; when OVS refuses it, again without the
//!   interface at fault: [`alone`]), check that OVS set them up, set their sysctls,
//!   set their links up with one `ip -batch`, check that OVS still runs, and
//!   record the fingerprint of each interface that is done. It never fails
//!   (ifupdown would abort the whole `ifup -a`): whatever goes wrong, the
//!   interfaces are left to their own hook runs, which report their own errors.
//! - post-up: remove the record.
//! - pre-down: start the down record; from now on the post-down of each
//!   interface records what to remove instead of removing it.
//! - post-down: remove everything recorded with one transaction
//!   ([`converge::down_all`]), after asking whether OVS answers; exit 1 with a
//!   message if it does not or the transaction fails.
//!
//! `ifup NAME...` (the init script's `ifup --allow=ovs $(ifquery ...)`) has no
//! `IFACE=--all` run: its first pre-up hook run does what the `--all` pre-up
//! does, for the names from its own on ([`list`]). Likewise `ifdown NAME...`:
//! its first run starts the down record ([`start_down_list`]), its last run
//! ([`last_of_down_list`]) applies it ([`down`]).
//!
//! Why: docs/batch.md and docs/architecture.md, "ifup -a and ifdown -a in one
//! transaction". May use: `plan`, `ovsdb`, `net`, `interfaces` (the file), and
//! the hook's `env`, `invocation`, `records`, `execute`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

mod alone;

pub(super) use alone::{blame, bridge_alone};

use super::env;
use super::error::{BatchError, HookError};
use super::execute::{answering, failing, run_step, undo_added};
use super::invocation::{Caller, IfupdownArgs, Invocation, is_configured};
use crate::cli::DEFAULT_INTERFACES;
use crate::hook::records::{self, Records, Session, UpEntry, UpRequest};
use crate::interfaces::Config;
use crate::interfaces::pattern::fnmatch;
use crate::net::addr::Family;
use crate::net::{ipcmd, link};
use crate::ovsdb::daemon::{self, Health};
use crate::ovsdb::state::Observed;
use crate::ovsdb::vsctl::{Transaction, Vsctl, VsctlError};
use crate::plan::converge;
use crate::plan::phases::{self, BatchUp, Covered, Inputs, Phase};
use crate::plan::scene::{HookEnv, Scene};
use crate::sys::words::shell_line;

/// One `IFACE=--all` run.
pub(super) fn run(h: &HookEnv, phase: Phase, inv: Invocation) -> Result<(), HookError> {
    let Some(session) = inv.session.as_deref().and_then(Session::parse) else {
        return Ok(());
    };
    let records = Records::default();
    match phase {
        Phase::PreUp => {
            records.sweep();
            if let Err(why) = up(h, &inv, &session, &records)
                && h.verbose()
            {
                eprintln!(
                    "ifupdown-ovs: ifup -a: {why}; each interface is set up by its own hook run"
                );
            }
            Ok(())
        }
        Phase::PostUp => {
            records.remove_up(&session);
            Ok(())
        }
        Phase::PreDown => {
            records.sweep();
            if let Err(e) = records.start_down(&session)
                && h.verbose()
            {
                eprintln!(
                    "ifupdown-ovs: ifdown -a: cannot write in {}: {e}; each interface is removed by its own hook run",
                    records.dir.display()
                );
            }
            Ok(())
        }
        Phase::PostDown => down(h, &session, &records),
    }
}

/// The batch of `ifup -a`; Err says why nothing (more) was batched.
fn up(
    h: &HookEnv,
    inv: &Invocation,
    session: &Session,
    records: &Records,
) -> Result<(), BatchError> {
    let caller = inv.nearest.as_ref().ok_or(BatchError::NoIfup)?;
    let req = request(caller)?;
    let batch = UpBatch::new(h, inv, session, records);
    let listed = |scene: &Scene| {
        scene
            .config
            .as_ref()
            .map(|c| c.list(&req.class))
            .unwrap_or_default()
    };
    batch.finish(batch.run(&req, &listed, None))
}

/// What ifup was asked (`-o` changes every interface's options: not batched).
/// `--read-environment` (Debian 12's boot) adds exclusions (and -v, -n) from
/// ifup's own environment; what its hooks see does not change.
fn request(caller: &Caller) -> Result<UpRequest, BatchError> {
    if caller.args.option {
        return Err(BatchError::Options);
    }
    let env = caller
        .read_environment()
        .ok_or(BatchError::Environment { pid: caller.pid })?;
    if env.no_act {
        return Err(BatchError::NoAct);
    }
    let mut exclude = caller.args.exclude.clone();
    exclude.extend(env.exclude);
    Ok(UpRequest {
        class: caller
            .args
            .allow
            .clone()
            .unwrap_or_else(|| "auto".to_string()),
        force: caller.args.force,
        exclude,
    })
}

/// The first pre-up hook run of `ifup [--allow=CLASS] NAME...` (no `-a`, as
/// `/etc/init.d/openvswitch-switch` runs it; no `IFACE=--all` run there): when
/// it brings up two OVS interfaces or more (its names from `h`'s on, a bridge's
/// `allow-BRIDGE` ports), set them up as one batch, like `ifup -a`, and record
/// them for their own runs. Never fails; does nothing for other runs. The up
/// record (written empty first) marks that it was tried: later runs of this
/// ifup only check their fingerprint.
pub(super) fn list(h: &HookEnv, inv: &Invocation, session: &Session, records: &Records) {
    let Some(caller) = list_caller(inv) else {
        return;
    };
    // `ifup NAME` alone: only a bridge (with its ports) can make two; the
    // others leave before reading the file (hotplug, `ifup vlan1`).
    if records.has_up(session) || (caller.args.names.len() == 1 && !env::declares_bridge(h)) {
        return;
    }
    let r = request(caller).and_then(|req| {
        let batch = UpBatch::new(h, inv, session, records);
        let listed = |scene: &Scene| listed_from(scene, &caller.args, &req.class, &h.iface);
        batch.finish(batch.run(&req, &listed, Some(&h.iface)))
    });
    if let Err(why) = r
        && h.verbose()
    {
        eprintln!("ifupdown-ovs: ifup: {why}; each interface is set up by its own hook run");
    }
}

/// The ifup of a hook run that [`list`] may batch: our nearest ifup is the
/// outermost one (not a nested `ifup --allow=BRIDGE`, nor an ifup in a `pre-up`
/// command) and names interfaces, without `-a`.
fn list_caller(inv: &Invocation) -> Option<&Caller> {
    let (near, out) = (inv.nearest.as_ref()?, inv.outermost.as_ref()?);
    let listing =
        near.pid == out.pid && near.prog == "ifup" && !near.args.all && !near.args.names.is_empty();
    listing.then_some(near)
}

/// The names of ifup's command line from `first` on (those before it were
/// handled without a hook run), in `--allow`'s class when given. `NAME=LOGICAL`
/// arguments are left to their own runs.
fn listed_from(scene: &Scene, args: &IfupdownArgs, class: &str, first: &str) -> Vec<String> {
    let names = &args.names;
    let own = |n: &String| n == first || n.split_once('=').is_some_and(|(p, _)| p == first);
    let Some(at) = names.iter().position(own) else {
        return Vec::new();
    };
    names[at..]
        .iter()
        .filter(|n| !n.contains('='))
        .filter(|n| args.allow.is_none() || scene.in_class(class, n))
        .cloned()
        .collect()
}

/// The `IFACE=--all` pre-up run of one `ifup -a`.
struct UpBatch<'a> {
    verbose: bool,
    inv: &'a Invocation,
    session: &'a Session,
    records: &'a Records,
    vsctl: Vsctl,
}

impl<'a> UpBatch<'a> {
    fn new(
        h: &HookEnv,
        inv: &'a Invocation,
        session: &'a Session,
        records: &'a Records,
    ) -> UpBatch<'a> {
        UpBatch {
            verbose: h.verbose(),
            inv,
            session,
            records,
            vsctl: Vsctl::default(),
        }
    }

    /// When an ovs-vsctl call got no answer in time, which daemon does not
    /// answer is kept for the interfaces' own runs.
    fn finish(&self, r: Result<(), BatchError>) -> Result<(), BatchError> {
        if let Err(e) = &r
            && e.timed_out()
        {
            let _ = answering(self.records, Some(self.session));
        }
        r
    }

    /// `req`: what ifup was asked; `listed`: the interfaces it brings up, in its
    /// order; `fresh`: the interface whose hook runs us, which ifupdown already
    /// counts as configured.
    fn run(
        &self,
        req: &UpRequest,
        listed: &dyn Fn(&Scene) -> Vec<String>,
        fresh: Option<&str>,
    ) -> Result<(), BatchError> {
        let scene = self.scene()?;
        let configured = |n: &str| Some(n) != fresh && is_configured(&self.inv.state_dir, n);
        let targets = self.targets(&scene, req, &listed(&scene), &configured);
        if targets.is_empty() {
            return Ok(());
        }
        if fresh.is_some() {
            // `ifup NAME...`: one interface is set up best by its own run
            if targets.len() < 2 {
                return Ok(());
            }
            self.claim()?;
        }
        self.start_ovs()?;
        answering(self.records, Some(self.session))?;
        let before = Observed::read_direct(&self.vsctl)?;
        let applied = alone::apply_alone(
            &mut Try {
                batch: self,
                scene: &scene,
                configured: &configured,
                before: Some(&before),
            },
            &targets,
        )?;
        if applied.is_empty() {
            return Ok(());
        }
        let done = self.working(&applied, &before)?;
        self.kernel(&done)?;
        if let Health::Down(why) = daemon::health(Path::new(daemon::RUNDIR)) {
            return Err(BatchError::Stopped(why));
        }
        self.record(&scene, &done, fresh.is_some())
    }

    /// Mark (with an empty up record) that this ifup's batch was tried.
    fn claim(&self) -> Result<(), BatchError> {
        self.records.sweep();
        self.records
            .write_up(self.session, &[])
            .map_err(|source| BatchError::Record {
                dir: self.records.dir.clone(),
                source,
            })
    }

    /// Interface `name` is left to its own hook run, because of `why`.
    fn left(&self, name: &str, why: &str) {
        if self.verbose {
            eprintln!("ifupdown-ovs: ifup -a: {name}: set up by its own hook run: {why}");
        }
    }

    /// The whole interfaces file (`$(...)` in ovs_extra run, as in a hook).
    fn scene(&self) -> Result<Scene, BatchError> {
        let file = self
            .inv
            .file
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_INTERFACES));
        let config = Config::load(&file)?;
        let shown = (file != Path::new(DEFAULT_INTERFACES)).then_some(file);
        let mut scene = Scene::new(shown, Some(config), None, "start", "pre-up");
        scene.run_substitutions = true;
        Ok(scene)
    }

    /// The OVS interfaces this ifup brings up that the batch may set up.
    fn targets(
        &self,
        scene: &Scene,
        req: &UpRequest,
        listed: &[String],
        configured: &dyn Fn(&str) -> bool,
    ) -> Vec<String> {
        let (targets, skipped) = records::up_targets(scene, req, listed, configured);
        for (n, why) in &skipped {
            self.left(n, why);
        }
        targets
    }

    /// Make sure OVS runs; if it cannot be started, leave why for the first
    /// interface's own run to report.
    fn start_ovs(&self) -> Result<(), BatchError> {
        let rundir = Path::new(daemon::RUNDIR);
        daemon::ensure_running(rundir, daemon::START_LIMIT, self.inv.session.as_deref()).map_err(
            |e| {
                let _ = self
                    .records
                    .note_start_failure(self.session, &e.to_string());
                e.into()
            },
        )
    }

    /// The interfaces of `covered` that OVS set up, with all they need; the others
    /// are left to their own hook run.
    fn working<'c>(
        &self,
        covered: &'c [Covered],
        before: &Observed,
    ) -> Result<Vec<&'c Covered>, BatchError> {
        let mut check: Vec<String> = Vec::new();
        for n in covered.iter().flat_map(|c| c.check.iter()) {
            if !check.contains(n) {
                check.push(n.clone());
            }
        }
        let failed: BTreeSet<String> = failing(&self.vsctl, &check, false)?
            .into_iter()
            .map(|f| {
                self.left(f.name(), &f.to_string());
                f.name().to_string()
            })
            .collect();
        let (done, left): (Vec<&Covered>, Vec<&Covered>) = covered
            .iter()
            .partition(|c| !c.check.iter().any(|n| failed.contains(n)));
        // what the batch added for them goes again (their own runs retry)
        let left: BTreeSet<String> = left.iter().map(|c| c.name.clone()).collect();
        if !left.is_empty() {
            let _ = undo_added(&self.vsctl, before, &left, "ifup -a", self.verbose);
        }
        Ok(done)
    }

    /// Their sysctls, then their links up with one `ip -batch`.
    fn kernel(&self, done: &[&Covered]) -> Result<(), BatchError> {
        for c in done {
            for st in &c.sysctls {
                run_step(st, &self.vsctl, &c.name)?;
            }
        }
        let mut up: Vec<String> = Vec::new();
        for (dev, optional) in done.iter().flat_map(|c| c.links.iter()) {
            let line = format!("link set dev {dev} up");
            if (!optional || link::exists(dev)) && !up.contains(&line) {
                up.push(line);
            }
        }
        if !up.is_empty() {
            if self.verbose {
                eprintln!(
                    "ifupdown-ovs: ifup -a: ip -batch - <<EOF\n{}\nEOF",
                    up.join("\n")
                );
            }
            ipcmd::run_batch(Family::V4, &up)?;
        }
        Ok(())
    }

    /// Record what is done, for the interfaces' own runs; with `applied` (no
    /// `-a`: no `IFACE=--all` post-up records them all at the end), also the
    /// stanzas each post-up run stores in the applied-stanza store, rendered
    /// from the file this run read (ifupdown read it before us), so that those
    /// runs do not each read and parse the whole file again.
    fn record(&self, scene: &Scene, done: &[&Covered], applied: bool) -> Result<(), BatchError> {
        // A bridge's own run still has its ports' `ifup --allow=BRIDGE` to do,
        // which needs the file: no environment fingerprint for it.
        let entries: Vec<(String, UpEntry)> = done
            .iter()
            .filter_map(|c| {
                let config = scene.fingerprint(&c.name).ok()?;
                let bridge = scene
                    .entry(&c.name)
                    .ok()
                    .flatten()
                    .is_some_and(|e| e.model.as_bridge().is_some());
                let env = (!bridge)
                    .then(|| scene.first_stanza_env_fingerprint(&c.name))
                    .flatten();
                Some((c.name.clone(), UpEntry { config, env }))
            })
            .collect();
        let texts: Vec<(String, String)> = match (&scene.config, applied) {
            (Some(config), true) => entries
                .iter()
                .filter_map(|(n, _)| Some((n.clone(), super::applied::render(config, n)?)))
                .collect(),
            _ => Vec::new(),
        };
        self.records
            .write_up_with(self.session, &entries, &texts)
            .map_err(|source| BatchError::Record {
                dir: self.records.dir.clone(),
                source,
            })?;
        if self.verbose {
            let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
            eprintln!(
                "ifupdown-ovs: ifup -a: set up in one transaction: {}",
                names.join(" ")
            );
        }
        Ok(())
    }
}

/// One try of the batch (see [`alone`]): plan against OVSDB as it is now, apply.
struct Try<'a, 'b> {
    batch: &'a UpBatch<'b>,
    scene: &'a Scene,
    configured: &'a dyn Fn(&str) -> bool,
    /// OVSDB as read before the first try (taken by it; later tries read again).
    before: Option<&'a Observed>,
}

impl alone::Tries for Try<'_, '_> {
    fn plan(
        &mut self,
        names: &[String],
        refused: &[String],
        later: &[String],
    ) -> Result<BatchUp, BatchError> {
        let vsctl = &self.batch.vsctl;
        let read;
        let observed = match self.before.take() {
            Some(o) => o,
            None => {
                read = Observed::read_direct(vsctl)?;
                &read
            }
        };
        let inputs = Inputs::new(self.scene, observed, vsctl.timeout, self.configured);
        Ok(phases::pre_up_batch(&inputs, names, refused, later))
    }

    /// The one transaction for all of them.
    fn apply(&mut self, tx: &Transaction) -> Result<(), VsctlError> {
        let vsctl = &self.batch.vsctl;
        if self.batch.verbose {
            eprintln!(
                "ifupdown-ovs: ifup -a: {}",
                shell_line(&tx.argv(vsctl.timeout))
            );
        }
        vsctl.apply(tx).map(|_| ())
    }

    fn left(&self, name: &str, why: &str) {
        self.batch.left(name, why);
    }
}

/// `ifdown [--allow=CLASS] NAME...` (the init script's stop; no `IFACE=--all`
/// runs): its first pre-down or post-down run that acts starts the down record
/// (two names or more, or a bridge alone), so that the interfaces' post-downs
/// defer their OVS removal like in `ifdown -a`; [`last_of_down_list`] says which
/// run applies it. The up record of the ifdown's session, empty, marks that it
/// was started: once applied, it is never started again in this ifdown (a run
/// after that removes its interface itself).
pub(super) fn start_down_list(h: &HookEnv, inv: &Invocation, session: &Session, records: &Records) {
    let Some(caller) = down_list_caller(inv) else {
        return;
    };
    let several = caller.args.names.len() > 1 || env::declares_bridge(h);
    if !several || caller.args.option || records.has_up(session) {
        return;
    }
    records.sweep();
    if records.write_up(session, &[]).is_ok() && records.start_down(session).is_err() && h.verbose()
    {
        eprintln!(
            "ifupdown-ovs: ifdown: cannot write in {}",
            records.dir.display()
        );
    }
}

/// Our nearest ifdown, when it is the outermost one and names interfaces
/// without `-a`.
fn down_list_caller(inv: &Invocation) -> Option<&Caller> {
    let (near, out) = (inv.nearest.as_ref()?, inv.outermost.as_ref()?);
    let listing = near.pid == out.pid
        && near.prog == "ifdown"
        && !near.args.all
        && !near.args.names.is_empty();
    listing.then_some(near)
}

/// Whether this post-down run of `ifdown NAME...` is the last hook run of that
/// ifdown: this stanza is its interface's last one, and no name after it on the
/// command line will be taken down with hooks (ifdown 0.8 clears an interface's
/// state before its hooks, and skips names not configured, `--exclude`d ones,
/// those outside `--allow`'s class; `no-scripts` ones get no hook run).
pub(super) fn last_of_down_list(h: &HookEnv, inv: &Invocation) -> bool {
    let Some(caller) = down_list_caller(inv) else {
        return false;
    };
    let Some(env) = caller.read_environment() else {
        return false;
    };
    let args = &caller.args;
    let own = |n: &String| *n == h.iface || n.split_once('=').is_some_and(|(p, _)| p == h.iface);
    let Some(at) = args.names.iter().position(own) else {
        return false;
    };
    let phys = |n: &str| n.split_once('=').map_or(n, |(p, _)| p).to_string();
    let excluded = |n: &str| {
        args.exclude
            .iter()
            .chain(&env.exclude)
            .any(|p| fnmatch(p, n))
    };
    let later: Vec<String> = args.names[at + 1..]
        .iter()
        .map(|n| phys(n))
        .filter(|n| !excluded(n) && is_configured(&inv.state_dir, n))
        .collect();
    let file = inv
        .file
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_INTERFACES));
    let Ok(config) = Config::load(&file) else {
        return false;
    };
    let hooked = |n: &String| {
        let in_class = args
            .allow
            .as_ref()
            .is_none_or(|c| config.allowed(c).any(|x| x == n));
        in_class && !config.no_scripts.iter().any(|(p, _)| fnmatch(p, n))
    };
    if later.iter().any(hooked) {
        return false;
    }
    let scene = Scene::new(None, Some(config), Some(h), "stop", "post-down");
    scene.stanza_place(&h.logical, &h.addrfam, &h.method).1
}

/// The end of `ifdown -a` (and of `ifdown NAME...`): remove what its
/// interfaces recorded.
pub(super) fn down(h: &HookEnv, session: &Session, records: &Records) -> Result<(), HookError> {
    let Some(targets) = records.take_down(session) else {
        return Ok(());
    };
    if targets.is_empty() {
        return Ok(());
    }
    let names = || targets.iter().map(|t| t.name.clone()).collect::<Vec<_>>();
    if let Health::Down(why) = daemon::health(Path::new(daemon::RUNDIR)) {
        // they stay in OVS's database (and, with ovs-vswitchd alive, live)
        eprintln!(
            "ifupdown-ovs: ifdown -a: {why}; not removed from OVS: {} (they come back when it \
             starts: then `ifdown --force` them, or `ifup -a` to have them up again)",
            names().join(" ")
        );
        return Ok(());
    }
    answering(records, Some(session)).map_err(|source| HookError::DownAllUnanswered {
        names: names(),
        source,
    })?;
    let vsctl = Vsctl::default();
    let o = Observed::read_direct(&vsctl).map_err(|source| HookError::DownAllRead {
        names: names(),
        source,
    })?;
    let d = converge::down_all(&targets, &o);
    if !d.tx.is_empty() {
        if h.verbose() {
            eprintln!(
                "ifupdown-ovs: ifdown -a: {}",
                shell_line(&d.tx.argv(vsctl.timeout))
            );
        }
        if let Err(source) = vsctl.apply(&d.tx) {
            return removal_failed(&vsctl, &d.tx, source);
        }
    }
    for w in d.warnings {
        eprintln!("ifupdown-ovs: warning: {w}");
    }
    Ok(())
}

/// The removal transaction of `ifdown -a` failed: tell what OVSDB holds now. When
/// ovs-vswitchd dies during the transaction, ovsdb-server has often committed it
/// already: then nothing is left, and saying "cannot remove" would be false.
fn removal_failed(vsctl: &Vsctl, tx: &Transaction, source: VsctlError) -> Result<(), HookError> {
    // the ports and bridges the transaction deletes (`[--if-exists] del-port NAME`)
    let deleted: Vec<&String> = tx
        .commands
        .iter()
        .filter(|c| c.iter().any(|w| w == "del-port" || w == "del-br"))
        .filter_map(|c| c.last())
        .collect();
    // a short look: when ovsdb-server is the one that hangs, the bound of the
    // whole `ifdown -a` must not grow by another full time-out
    let look = Vsctl {
        timeout: 2,
        ..vsctl.clone()
    };
    let left: Vec<String> = match Observed::read(&look) {
        Ok(now) => deleted
            .iter()
            .filter(|n| now.port(n).is_some() || now.bridge(n).is_some())
            .map(|n| n.to_string())
            .collect(),
        Err(_) => deleted.iter().map(|n| n.to_string()).collect(),
    };
    if left.is_empty() {
        eprintln!(
            "ifupdown-ovs: warning: ifdown -a: removed from OVSDB, but OVS did not confirm it: \
             {source}"
        );
        return Ok(());
    }
    Err(HookError::DownAllApply {
        names: left,
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(pid: u32, argv: &[&str]) -> Caller {
        let argv: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
        Caller {
            prog: "ifup".into(),
            pid,
            args: IfupdownArgs::parse(&argv),
        }
    }

    fn inv(nearest: Caller, outermost: Caller) -> Invocation {
        Invocation {
            nearest: Some(nearest),
            outermost: Some(outermost),
            ..Invocation::default()
        }
    }

    #[test]
    fn only_the_outermost_ifup_of_names_batches_a_list() {
        let list = caller(10, &["--allow=ovs", "br0", "br1"]);
        assert!(list_caller(&inv(list.clone(), list.clone())).is_some());
        let one = caller(10, &["br0"]);
        assert!(list_caller(&inv(one.clone(), one)).is_some());
        // nested ifup --allow=br0 PORTS of a bridge (or in a pre-up command)
        let nested = caller(11, &["--allow=br0", "p1", "p2"]);
        assert!(list_caller(&inv(nested, list)).is_none());
        let all = caller(10, &["-a"]);
        assert!(list_caller(&inv(all.clone(), all)).is_none());
        let mut down = caller(10, &["br0", "br1"]);
        down.prog = "ifdown".into();
        assert!(list_caller(&inv(down.clone(), down)).is_none());
    }

    #[test]
    fn a_list_is_taken_from_the_running_interface_on_in_its_class() {
        let text = "allow-ovs br0 p1\nallow-br0 p2\n\
                    iface br0 inet manual\n  ovs_type OVSBridge\n\
                    iface p1 inet manual\n  ovs_type OVSIntPort\n  ovs_bridge br0\n\
                    iface p2 inet manual\n  ovs_type OVSIntPort\n  ovs_bridge br0\n";
        let c = crate::interfaces::Config::parse_str(text, Path::new("/etc/network/interfaces"))
            .unwrap();
        let scene = Scene::new(None, Some(c), None, "start", "pre-up");
        let args = |a: &[&str]| caller(1, a).args;
        let a = args(&["--allow=ovs", "x", "br0", "p2", "e=p1", "p1"]);
        assert_eq!(listed_from(&scene, &a, "ovs", "br0"), ["br0", "p1"]);
        assert_eq!(listed_from(&scene, &a, "ovs", "p1"), ["p1"]);
        assert_eq!(listed_from(&scene, &a, "ovs", "e"), ["p1"]);
        assert!(listed_from(&scene, &a, "ovs", "nope").is_empty());
        let a = args(&["br0", "p2"]);
        assert_eq!(listed_from(&scene, &a, "auto", "br0"), ["br0", "p2"]);
    }
}
