//! The hook run of one stanza (`IFACE` is an interface), step by step (see
//! docs/architecture.md, "One ifup, step by step"):
//!
//! 1. leave at once when the environment shows there is nothing to do
//!    ([`super::env::nothing_to_do`]), or when this `ifup -a`'s `IFACE=--all`
//!    run already set the interface up from exactly this environment (the first
//!    pre-up run of `ifup NAME1 NAME2 ...`, which has no `IFACE=--all` run,
//!    first sets them all up as one batch: [`all::list`]);
//! 2. read the interfaces file and build the [`Scene`]; leave when neither this
//!    stanza nor the interface's other stanzas have `ovs_*` options, or when this
//!    stanza is not the one that acts (an interface with inet and inet6 stanzas
//!    is set up at its first stanza's pre-up and removed at its last stanza's
//!    post-down; source routing follows each stanza);
//! 3. inside `ifup -a` / `ifdown -a`: done when the batch set it up as this run
//!    would (only a bridge's `ifup --allow=BRIDGE PORTS` is left), or record the
//!    OVS removal for the end of `ifdown -a` ([`super::records`]); the same
//!    for `ifdown NAME...`, whose last run applies the removals after its own;
//!    Trusting the batch (which asked both daemons and checked what OVS set
//!    up), it still checks that OVS runs: a crash of ovs-vswitchd just after
//!    the batch would otherwise go unreported;
//! 4. make sure OVS runs (pre-up) and answers ([`super::execute::answering`]:
//!    asked once per ifup/ifdown, so a hung OVS costs one bounded wait, not one
//!    per interface), and read OVSDB once (pre-up, last post-down);
//! 5. plan the phase ([`phases`]) and execute it ([`super::execute`]).
//!
//! May use: `plan`, `ovsdb` (daemon, state), `interfaces` (the file), and the
//! hook's `env`, `invocation`, `records`, `execute`.

use std::path::{Path, PathBuf};

use super::all;
use super::env;
use super::error::HookError;
use super::execute::{answering, execute, execute_undoing, run_step};
use super::invocation::{Invocation, is_configured};
use super::records::{Records, Session};
use crate::cli::DEFAULT_INTERFACES;
use crate::config::options;
use crate::interfaces::Config;
use crate::ovsdb::daemon::{self, Health};
use crate::ovsdb::state::Observed;
use crate::ovsdb::vsctl::Vsctl;
use crate::plan::error::PlanError;
use crate::plan::phases::{self, Inputs, Phase};
use crate::plan::scene::{HookEnv, Scene, env_fingerprint};
use crate::plan::steps::{Plan, Step};

/// One hook run for stanza `h` in `phase`.
pub(super) fn run(
    h: &HookEnv,
    phase: Phase,
    file_override: Option<PathBuf>,
) -> Result<(), HookError> {
    if env::nothing_to_do(h, phase) {
        return Ok(());
    }
    let inv = Invocation::find(file_override);
    let session = inv.session.as_deref().and_then(Session::parse);
    let records = Records::default();
    if phase == Phase::PreUp
        && let Some(s) = &session
    {
        // the first run of `ifup NAME1 NAME2 ...` sets them all up at once
        all::list(h, &inv, s, &records);
        if set_up_from_this_environment(h, s, &records)? {
            return Ok(());
        }
    }
    let list_down = matches!(phase, Phase::PreDown | Phase::PostDown);
    let flush = match &session {
        Some(s) if list_down => {
            // `ifdown NAME...`: removals deferred to its last run, as in ifdown -a
            all::start_down_list(h, &inv, s, &records);
            phase == Phase::PostDown && records.has_down(s) && all::last_of_down_list(h, &inv)
        }
        _ => false,
    };
    let r = stanza(h, phase, inv, session, records.clone());
    match session {
        Some(s) if flush => r.and(all::down(h, &s, &records)),
        _ => r,
    }
}

/// The run of a stanza once the batch records are looked at.
fn stanza(
    h: &HookEnv,
    phase: Phase,
    inv: Invocation,
    session: Option<Session>,
    records: Records,
) -> Result<(), HookError> {
    let Some(scene) = load_scene(h, phase, &inv) else {
        return Ok(());
    };
    let Some(last) = acts(&scene, h, phase)? else {
        return Ok(());
    };
    Stanza {
        h,
        phase,
        scene,
        last,
        inv,
        session,
        records,
        vsctl: Vsctl::default(),
    }
    .run()
}

/// Set up by this ifup's `IFACE=--all` run from exactly this environment: done,
/// without even reading the interfaces file, once OVS is seen still running.
fn set_up_from_this_environment(
    h: &HookEnv,
    s: &Session,
    records: &Records,
) -> Result<bool, HookError> {
    let Some(e) = records.up_entry(s, &h.logical) else {
        return Ok(false);
    };
    let done =
        e.env.as_deref() == Some(env_fingerprint(h).as_str()) && records.use_up(s, &h.logical);
    if done {
        still_running(&h.iface, s, records)?;
        if h.verbose() {
            eprintln!(
                "ifupdown-ovs: {}: set up in OVS at the start of this ifup -a",
                h.iface
            );
        }
    }
    Ok(done)
}

/// After this ifup's `IFACE=--all` run set `iface` up: OVS still runs, and no
/// run of this ifup found it hung. Costs no process and no question: a look at
/// ovsdb-server's socket and ovs-vswitchd's pid, and at the records. The batch
/// asked both daemons moments ago and checked what OVS set up; asking again per
/// interface made every run wait for a daemon busy with the batch's changes.
fn still_running(iface: &str, s: &Session, records: &Records) -> Result<(), HookError> {
    if let Health::Down(why) = daemon::health(Path::new(daemon::RUNDIR)) {
        return Err(HookError::StoppedAfterBatch {
            iface: iface.to_string(),
            why,
        });
    }
    match records.hung(s) {
        Some(why) => Err(HookError::Unanswered {
            iface: iface.to_string(),
            source: super::error::Unanswered::Earlier(why),
        }),
        None => Ok(()),
    }
}

/// The scene of this run: its environment and the interfaces file. None when
/// neither has `ovs_*` options for the interface. An unreadable file is a
/// warning when the stanza has `ovs_*` options: its own options still work.
fn load_scene(h: &HookEnv, phase: Phase, inv: &Invocation) -> Option<Scene> {
    let file = inv
        .file
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_INTERFACES));
    let config = match Config::load(&file) {
        Ok(c) => Some(c),
        Err(_) if !h.has_ovs() => return None,
        Err(e) => {
            eprintln!("ifupdown-ovs: warning: {e}; using only this stanza's options");
            None
        }
    };
    if !h.has_ovs() {
        let other = config.as_ref().is_some_and(|c| {
            options::raw_for_interface(c, &h.logical)
                .iter()
                .any(|r| r.name.starts_with("ovs_"))
        });
        if !other {
            return None;
        }
    }
    let shown_file = (file != Path::new(DEFAULT_INTERFACES)).then_some(file);
    let (mode, ph) = phase.mode_phase();
    Some(Scene::new(shown_file, config, Some(h), mode, ph))
}

/// Whether this stanza acts in `phase` — Some(whether it is the interface's last
/// stanza) — or leaves it to the interface's other stanzas (None). Err when the
/// interface's options are invalid; their warnings are shown when verbose.
fn acts(scene: &Scene, h: &HookEnv, phase: Phase) -> Result<Option<bool>, HookError> {
    let entry = match scene.entry(&h.logical) {
        Ok(Some(e)) => e,
        Ok(None) => return Ok(None),
        Err(invalid) => return Err(invalid.clone().into()),
    };
    if h.verbose() {
        for w in &entry.warnings {
            eprintln!("ifupdown-ovs: {w}");
        }
    }
    let (first, last) = scene.stanza_place(&h.logical, &h.addrfam, &h.method);
    if phase == Phase::PreUp && first {
        schema_unreadable(&entry.model);
    }
    let acts = match phase {
        Phase::PreUp => first,
        Phase::PreDown => first && entry.model.as_bridge().is_some(),
        Phase::PostUp | Phase::PostDown => true,
    };
    Ok(acts.then_some(last))
}

/// One warning when the installed OVS schema cannot be read and `model` has words
/// that would have been checked against it (config::schema): not a failure.
fn schema_unreadable(model: &crate::config::model::OvsIface) {
    let texts = model.options.is_some() || model.extra.is_some();
    if let (true, Err(e)) = (texts, crate::config::schema::installed()) {
        eprintln!(
            "ifupdown-ovs: {}: warning: {}: {}: ovs_options and ovs_extra are not checked",
            model.name,
            e.path().display(),
            e.reason()
        );
    }
}

/// A stanza that acts in its phase.
struct Stanza<'a> {
    h: &'a HookEnv,
    phase: Phase,
    scene: Scene,
    /// The interface's last stanza (its post-down removes it from OVS).
    last: bool,
    inv: Invocation,
    /// The ifup/ifdown run whose records we share.
    session: Option<Session>,
    records: Records,
    vsctl: Vsctl,
}

impl Stanza<'_> {
    /// The run; when ovs-vsctl got no answer in time, whether OVS answers is
    /// asked and, if not, kept for the later runs of this ifup/ifdown.
    fn run(&self) -> Result<(), HookError> {
        let r = self.run_phase();
        if let Err(e) = &r
            && e.timed_out()
        {
            let _ = answering(&self.records, self.session.as_ref());
        }
        r
    }

    fn run_phase(&self) -> Result<(), HookError> {
        if let Some(s) = &self.session {
            if self.phase == Phase::PreUp && self.set_up_by_batch(s)? {
                return Ok(());
            }
            if self.phase == Phase::PostDown
                && self.last
                && self.records.has_down(s)
                && self.deferred_down(s)?
            {
                return Ok(());
            }
        }
        let observed = self.observe()?;
        let configured = |n: &str| self.configured(n);
        let inputs = Inputs::new(&self.scene, &observed, self.vsctl.timeout, &configured);
        let name = &self.h.logical;
        let plan = match self.phase {
            Phase::PreUp => phases::pre_up(&inputs, name),
            Phase::PostUp => phases::post_up(&inputs, name),
            Phase::PreDown => phases::pre_down(&inputs, name),
            Phase::PostDown if self.last => phases::post_down(&inputs, name),
            Phase::PostDown => phases::routes_down(&inputs, name),
        }
        .map_err(|e| self.plan_error(e))?;
        let verbose = self.h.verbose();
        let run = |plan: &Plan| match self.phase {
            // a failed pre-up takes back what it added (ifupdown runs no down hook)
            Phase::PreUp => execute_undoing(
                plan,
                &self.vsctl,
                verbose,
                &self.h.iface,
                &observed,
                &|n: &str| self.configured(n),
            ),
            _ => execute(plan, &self.vsctl, verbose, &self.h.iface),
        };
        match run(&plan) {
            // OVS refused a bridge with its ports: the bridge without them
            Err(e) if self.phase == Phase::PreUp => all::bridge_alone(&inputs, name, e, &run),
            r => r,
        }
        .map_err(|e| all::blame(&self.scene, name, e))
    }

    /// Whether ifupdown has `name` configured.
    fn configured(&self, name: &str) -> bool {
        is_configured(&self.inv.state_dir, name)
    }

    fn plan_error(&self, source: PlanError) -> HookError {
        HookError::Plan {
            iface: self.h.iface.clone(),
            source: Box::new(source),
        }
    }

    /// Set up moments ago by this ifup's `IFACE=--all` run, as this run would
    /// (checked against the interfaces file): only the nested ifup of a bridge's
    /// ports is left, which this does.
    fn set_up_by_batch(&self, s: &Session) -> Result<bool, HookError> {
        let h = self.h;
        let Some(e) = self.records.up_entry(s, &h.logical) else {
            return Ok(false);
        };
        if !(self
            .scene
            .fingerprint(&h.logical)
            .is_ok_and(|f| f == e.config)
            && self.records.use_up(s, &h.logical))
        {
            return Ok(false);
        }
        still_running(&h.iface, s, &self.records)?;
        if h.verbose() {
            eprintln!(
                "ifupdown-ovs: {}: set up in OVS at the start of this ifup -a (checked against the interfaces file)",
                h.iface
            );
        }
        let configured = |n: &str| self.configured(n);
        if let Some(argv) = phases::port_ifup(&self.scene, &h.logical, &configured) {
            run_step(&Step::Ifupdown(argv), &self.vsctl, &h.iface)?;
        }
        Ok(true)
    }

    /// Inside ifdown -a: the post-down without the OVS removal, which is recorded
    /// for the `IFACE=--all` run at its end. False (nothing done) when it cannot
    /// be recorded.
    fn deferred_down(&self, s: &Session) -> Result<bool, HookError> {
        let h = self.h;
        let nothing = Observed::default();
        let configured = |n: &str| self.configured(n);
        let inputs = Inputs::new(&self.scene, &nothing, self.vsctl.timeout, &configured);
        let (plan, target) =
            phases::post_down_deferred(&inputs, &h.logical).map_err(|e| self.plan_error(e))?;
        if !self.records.defer_down(s, &target) {
            return Ok(false);
        }
        if h.verbose() {
            eprintln!(
                "ifupdown-ovs: {}: removed from OVS at the end of this ifdown -a",
                h.iface
            );
        }
        execute(&plan, &self.vsctl, h.verbose(), &h.iface)?;
        Ok(true)
    }

    /// What OVSDB holds, for the phases that need it: pre-up (OVS started first
    /// if needed) and the last post-down (an empty database when OVS is not
    /// running: nothing to remove then). Empty for the other phases.
    fn observe(&self) -> Result<Observed, HookError> {
        let iface = &self.h.iface;
        let rundir = Path::new(daemon::RUNDIR);
        match self.phase {
            Phase::PreUp => {
                if let Some(s) = &self.session
                    && let Some(why) = self.records.take_start_failure(s)
                {
                    return Err(HookError::StartFailed {
                        iface: iface.clone(),
                        why,
                    });
                }
                daemon::ensure_running(rundir, daemon::START_LIMIT, self.inv.session.as_deref())
                    .map_err(|source| HookError::NotRunning {
                        iface: iface.clone(),
                        source,
                    })?;
                self.answering()?;
                self.read_ovsdb()
            }
            Phase::PostDown if self.last => match daemon::health(rundir) {
                Health::Running => {
                    self.answering()?;
                    self.read_ovsdb()
                }
                Health::Down(why) => {
                    if self.h.verbose() {
                        eprintln!("ifupdown-ovs: {iface}: {why}; nothing to remove from OVS");
                    }
                    Ok(Observed::default())
                }
            },
            _ => Ok(Observed::default()),
        }
    }

    /// For a system or internal port (a hotplug NIC) on a real bridge: the
    /// names of the only Port and Interface rows its plan needs (its own and
    /// its bridge's; [`Observed::read_named`]). None for anything else, which
    /// reads every row.
    fn plain_port(&self) -> Option<Vec<String>> {
        use crate::config::model::Kind;
        let entry = self.scene.entry(&self.h.logical).ok()??;
        let port = match &entry.model.kind {
            Kind::Port(_) | Kind::IntPort(_) => entry.model.port()?,
            _ => return None,
        };
        // a VLAN bridge as ovs_bridge, or VLAN bridges declared on it: all rows
        let fake = |b: &str| {
            self.scene
                .entry(b)
                .ok()
                .flatten()
                .and_then(|e| e.model.as_bridge().map(|br| br.vlan_of.is_some()))
                .unwrap_or(false)
        };
        if fake(&port.bridge) || !self.scene.fakes_of(&port.bridge).is_empty() {
            return None;
        }
        Some(vec![entry.model.name.clone(), port.bridge.clone()])
    }

    /// Whether OVS answers ([`answering`]).
    fn answering(&self) -> Result<(), HookError> {
        answering(&self.records, self.session.as_ref()).map_err(|source| HookError::Unanswered {
            iface: self.h.iface.clone(),
            source,
        })
    }

    /// OVSDB's tables, asked on ovsdb-server's socket without a process
    /// ([`Observed::read_direct`]).
    fn read_ovsdb(&self) -> Result<Observed, HookError> {
        let _slot = super::execute::slot();
        let read = match self.plain_port() {
            Some(names) => Observed::read_named(&self.vsctl, &names),
            None => Observed::read_direct(&self.vsctl),
        };
        read.map_err(|source| HookError::ReadOvsdb {
            iface: self.h.iface.clone(),
            source,
        })
    }
}
