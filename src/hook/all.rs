//! The hook runs with `IFACE=--all`, which ifupdown makes once before and once
//! after the interfaces of `ifup -a` / `ifdown -a` (see [`crate::hook::records`]
//! for the records they share with the per-interface runs):
//!
//! - pre-up: read the interfaces file, find the OVS interfaces this ifup will
//!   bring up ([`records::up_targets`]), make sure OVS runs (if it cannot be
//!   started, the first interface's own run reports why) and answers (if it does
//!   not, that is recorded and every interface's own run fails at once with
//!   it), read OVSDB once, apply one transaction for all of them
//!   ([`phases::pre_up_batch`]), check that OVS set them up, set their sysctls,
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
//! Why: docs/batch.md and docs/architecture.md, "ifup -a and ifdown -a in one
//! transaction". May use: `plan`, `ovsdb`, `net`, `interfaces` (the file), and
//! the hook's `invocation`, `records`, `execute`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::error::{BatchError, HookError};
use super::execute::{answering, failing, run_step};
use super::invocation::{IfupdownArgs, Invocation, is_configured};
use crate::cli::DEFAULT_INTERFACES;
use crate::hook::records::{self, Records, Session, UpEntry, UpRequest};
use crate::interfaces::Config;
use crate::net::addr::Family;
use crate::net::{ipcmd, link};
use crate::ovsdb::daemon::{self, Health};
use crate::ovsdb::state::Observed;
use crate::ovsdb::vsctl::{Transaction, Vsctl};
use crate::plan::converge;
use crate::plan::phases::{self, Covered, Inputs, Phase};
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
    if caller.args.option {
        return Err(BatchError::Options);
    }
    // `--read-environment` (Debian 12's boot) adds exclusions (and -v, -n) from
    // ifup's own environment; what its hooks see does not change.
    let env = caller
        .read_environment()
        .ok_or(BatchError::Environment { pid: caller.pid })?;
    if env.no_act {
        return Err(BatchError::NoAct);
    }
    let mut args = caller.args.clone();
    args.exclude.extend(env.exclude);
    let batch = UpBatch {
        verbose: h.verbose(),
        inv,
        session,
        records,
        vsctl: Vsctl::default(),
    };
    let r = batch.run(&args);
    if let Err(e) = &r
        && e.timed_out()
    {
        // Which daemon, kept for the interfaces' own runs.
        let _ = answering(records, Some(session));
    }
    r
}

/// The `IFACE=--all` pre-up run of one `ifup -a`.
struct UpBatch<'a> {
    verbose: bool,
    inv: &'a Invocation,
    session: &'a Session,
    records: &'a Records,
    vsctl: Vsctl,
}

impl UpBatch<'_> {
    /// `args`: the command line of the ifup.
    fn run(&self, args: &IfupdownArgs) -> Result<(), BatchError> {
        let scene = self.scene()?;
        let configured = |n: &str| is_configured(&self.inv.state_dir, n);
        let targets = self.targets(&scene, args, &configured);
        if targets.is_empty() {
            return Ok(());
        }
        self.start_ovs()?;
        answering(self.records, Some(self.session))?;
        let observed = Observed::read(&self.vsctl)?;
        let inputs = Inputs::new(&scene, &observed, self.vsctl.timeout, &configured);
        let b = phases::pre_up_batch(&inputs, &targets);
        for (n, why) in &b.skipped {
            self.left(n, why);
        }
        if b.covered.is_empty() {
            return Ok(());
        }
        self.apply(&b.tx)?;
        let done = self.working(&b.covered)?;
        self.kernel(&done)?;
        if let Health::Down(why) = daemon::health(Path::new(daemon::RUNDIR)) {
            return Err(BatchError::Stopped(why));
        }
        self.record(&scene, &done)
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
        args: &IfupdownArgs,
        configured: &dyn Fn(&str) -> bool,
    ) -> Vec<String> {
        let req = UpRequest {
            class: args.allow.clone().unwrap_or_else(|| "auto".to_string()),
            force: args.force,
            exclude: args.exclude.clone(),
        };
        let listed = scene
            .config
            .as_ref()
            .map(|c| c.list(&req.class))
            .unwrap_or_default();
        let (targets, skipped) = records::up_targets(scene, &req, &listed, configured);
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

    /// The one transaction for all of them.
    fn apply(&self, tx: &Transaction) -> Result<(), BatchError> {
        if self.verbose {
            eprintln!(
                "ifupdown-ovs: ifup -a: {}",
                shell_line(&tx.argv(self.vsctl.timeout))
            );
        }
        self.vsctl.apply(tx).map_err(BatchError::Transaction)?;
        Ok(())
    }

    /// The interfaces of `covered` that OVS set up, with all they need; the others
    /// are left to their own hook run.
    fn working<'c>(&self, covered: &'c [Covered]) -> Result<Vec<&'c Covered>, BatchError> {
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
        Ok(covered
            .iter()
            .filter(|c| !c.check.iter().any(|n| failed.contains(n)))
            .collect())
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

    /// Record what is done, for the interfaces' own runs.
    fn record(&self, scene: &Scene, done: &[&Covered]) -> Result<(), BatchError> {
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
        self.records
            .write_up(self.session, &entries)
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

/// The end of `ifdown -a`: remove what its interfaces recorded.
fn down(h: &HookEnv, session: &Session, records: &Records) -> Result<(), HookError> {
    let Some(targets) = records.take_down(session) else {
        return Ok(());
    };
    if targets.is_empty() {
        return Ok(());
    }
    let names = || targets.iter().map(|t| t.name.clone()).collect::<Vec<_>>();
    if let Health::Down(why) = daemon::health(Path::new(daemon::RUNDIR)) {
        if h.verbose() {
            eprintln!("ifupdown-ovs: ifdown -a: {why}; nothing to remove from OVS");
        }
        return Ok(());
    }
    answering(records, Some(session)).map_err(|source| HookError::DownAllUnanswered {
        names: names(),
        source,
    })?;
    let vsctl = Vsctl::default();
    let o = Observed::read(&vsctl).map_err(|source| HookError::DownAllRead {
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
        vsctl
            .apply(&d.tx)
            .map_err(|source| HookError::DownAllApply {
                names: names(),
                source,
            })?;
    }
    for w in d.warnings {
        eprintln!("ifupdown-ovs: warning: {w}");
    }
    Ok(())
}
