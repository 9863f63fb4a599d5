//! The ifupdown hook: `/etc/network/if-{pre-up,up,down,post-down}.d/ifupdown-ovs`,
//! all links to `/usr/sbin/ifupdown-ovs`. ifupdown clears the environment of hooks:
//! only `IFACE LOGICAL ADDRFAM METHOD MODE PHASE VERBOSITY PATH IF_*` arrive.
//!
//! A run: read the environment; leave at once (exit 0, no output, no OVSDB access)
//! for post-up of a stanza without a static address, for pre-down of anything but
//! a bridge, and for stanzas without `ovs_*` options in the environment or in the
//! interface's other stanzas. Otherwise build the [`Scene`] (environment +
//! interfaces file), make sure OVS runs (pre-up), read OVSDB once (pre-up, last
//! post-down), plan the phase ([`planner`]) and execute it: one ovs-vsctl
//! transaction, the check that OVS applied it, sysctls, links, source routing,
//! nested ifup/ifdown. An interface with several stanzas (inet + inet6) is set up
//! at its first stanza's pre-up and removed at its last stanza's post-down; source
//! routing follows each stanza (post-up, post-down).
//!
//! `ifup -a` and `ifdown -a` (DESIGN.md decision 3): ifupdown runs the hooks once
//! with `IFACE=--all` before the interfaces and once after them (`src/hook/all.rs`).
//! - `ifup -a`: the `--all` pre-up run sets up every OVS interface this ifup will
//!   bring up in ONE transaction (one OVSDB read, one write, one check, one
//!   `ip -batch` for the links) and records, per interface, fingerprints of what
//!   it applied ([`crate::hook::records`]). An interface's own pre-up then compares:
//!   a port whose environment is the one the batch assumed is done without even
//!   reading the interfaces file ([`env_fingerprint`]); otherwise the scene's
//!   fingerprint ([`Scene::fingerprint`]) decides; a bridge still runs its ports'
//!   `ifup --allow=BRIDGE`. Anything that does not match (`-o`, an edited file, a
//!   value ifupdown rewrote, an interface the batch left out or could not set up)
//!   takes the full path above, which converges and reports its own errors. The
//!   `--all` run itself never fails (that would abort the whole `ifup -a`).
//! - `ifdown -a`: the `--all` pre-down run starts a record; each interface's last
//!   post-down does everything but the OVS removal and appends what to remove; the
//!   `--all` post-down run removes it all in one transaction, planned as if one
//!   after the other ([`crate::plan::converge::down_all`]: a bridge with ports that
//!   are not ours stays, as always).
//!
//! Records belong to one ifup/ifdown run (the outermost one among our ancestors,
//! by pid and start time), so nested `ifup --allow=BRIDGE` runs share them and
//! stale ones are never used.
//!
//! Which interfaces file: `ifup -i FILE` does not tell hooks. As a best effort we
//! walk up our ancestor processes (`/proc/PID/stat`, `/proc/PID/cmdline`) to the
//! nearest `ifup`/`ifdown`/`ifquery` and take its `-i`/`--interfaces` argument (and
//! `--state-dir`), else `/etc/network/interfaces`.
//!
//! Failures print one line, `ifupdown-ovs: IFACE: what is wrong`, and exit 1 so
//! that ifupdown fails that interface (pre-up) or reports it (post-down).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::cli::{DEFAULT_INTERFACES, HookArgs};
use crate::config::model::OvsType;
use crate::config::options;
use crate::error::Error;
use crate::hook::error::{HookError, SetupFailure, VerifyError};
use crate::hook::records::{Records, Session};
use crate::interfaces::Config;
use crate::net::{ipcmd, link};
use crate::ovsdb::daemon::{self, Health};
use crate::ovsdb::state::{Observed, StateError};
use crate::ovsdb::vsctl::Vsctl;
use crate::plan::error::PlanError;
use crate::plan::phases::{self, Inputs, Phase};
use crate::plan::scene::{HookEnv, Scene, env_fingerprint};
use crate::plan::steps::{Plan, Step};
use crate::sys::procfs;

mod all;
pub mod error;
pub mod records;

/// ifupdown's default state directory.
pub const STATE_DIR: &str = "/run/network";

/// `ifupdown-ovs hook [-i FILE]`: run as a hook from the environment, with the
/// interfaces file given explicitly instead of found from the ancestors.
pub fn run_cli(args: &HookArgs) -> Result<i32, Error> {
    if !is_hook_environment() {
        return Err(Error::Usage(
            "hook: IFACE, MODE and PHASE must be set (ifupdown sets them for hooks)".into(),
        ));
    }
    Ok(run(Some(args.file.interfaces.clone())))
}

/// True when ifupdown runs us as a hook (`MODE`, `PHASE` and `IFACE` are set).
pub fn is_hook_environment() -> bool {
    ["MODE", "PHASE", "IFACE"]
        .iter()
        .all(|v| std::env::var_os(v).is_some())
}

/// Entry point for ifupdown's run-parts.
pub fn run_from_environment() -> Result<i32, Error> {
    Ok(run(None))
}

fn lossy(v: OsString) -> String {
    v.to_string_lossy().into_owned()
}

fn run(file_override: Option<PathBuf>) -> i32 {
    let vars = std::env::vars_os().map(|(k, v)| (lossy(k), lossy(v)));
    let Some(h) = HookEnv::from_vars(vars) else {
        return 0;
    };
    match hook(&h, file_override) {
        Ok(()) => 0,
        Err(e) => {
            for l in e.to_string().lines() {
                eprintln!("ifupdown-ovs: {l}");
            }
            1
        }
    }
}

/// One hook run.
fn hook(h: &HookEnv, file_override: Option<PathBuf>) -> Result<(), HookError> {
    let Some(phase) = Phase::from_hook(&h.mode, &h.phase) else {
        return Ok(());
    };
    if h.iface == "--all" {
        return all::run(h, phase, invocation(file_override));
    }
    // After up only source routing acts (it needs a static address in this
    // stanza); before down only bridges (taking their ports down). The environment
    // shows both without reading any file.
    let not_bridge = h
        .vars
        .iter()
        .any(|(k, v)| k == "IF_OVS_TYPE" && v.trim() != "OVSBridge");
    let has_address = h
        .vars
        .iter()
        .any(|(k, v)| k == "IF_ADDRESS" && !v.trim().is_empty());
    if (phase == Phase::PostUp && !has_address) || (phase == Phase::PreDown && not_bridge) {
        return Ok(());
    }
    let found = invocation(file_override);
    if phase == Phase::PreUp
        && let Some(s) = found.session.as_deref().and_then(Session::parse)
    {
        // Set up by this ifup's `IFACE=--all` run from exactly this environment:
        // done, without even reading the interfaces file.
        let records = Records::default();
        if let Some(e) = records.up_entry(&s, &h.logical)
            && e.env.as_deref() == Some(env_fingerprint(h).as_str())
            && records.use_up(&s, &h.logical)
        {
            if h.verbose() {
                eprintln!(
                    "ifupdown-ovs: {}: set up in OVS at the start of this ifup -a",
                    h.iface
                );
            }
            return Ok(());
        }
    }
    let file = found
        .file
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_INTERFACES));
    let config = match Config::load(&file) {
        Ok(c) => Some(c),
        Err(_) if !h.has_ovs() => return Ok(()),
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
            return Ok(());
        }
    }
    let shown_file = (file != Path::new(DEFAULT_INTERFACES)).then_some(file);
    let (mode, ph) = phase.mode_phase();
    let scene = Scene::new(shown_file, config, Some(h), mode, ph);
    let iface = &h.iface;
    let entry = match scene.entry(&h.logical) {
        Ok(Some(e)) => e,
        Ok(None) => return Ok(()),
        Err(invalid) => return Err(invalid.clone().into()),
    };
    if h.verbose() {
        for w in &entry.warnings {
            eprintln!("ifupdown-ovs: {w}");
        }
    }
    let (first, last) = scene.stanza_place(&h.logical, &h.addrfam, &h.method);
    let acts = match phase {
        Phase::PreUp => first,
        Phase::PreDown => first && entry.model.kind == OvsType::Bridge,
        Phase::PostUp | Phase::PostDown => true,
    };
    if !acts {
        return Ok(());
    }
    let vsctl = Vsctl::default();
    let state_dir = found.state_dir.clone();
    let configured = |n: &str| is_configured(&state_dir, n);
    let session = found.session.as_deref().and_then(Session::parse);
    let records = Records::default();
    if let Some(s) = &session {
        if phase == Phase::PreUp
            && let Some(e) = records.up_entry(s, &h.logical)
        {
            // Set up moments ago by this ifup's `IFACE=--all` run, as this run
            // would: only the nested ifup of a bridge's ports is left.
            if scene.fingerprint(&h.logical).is_ok_and(|f| f == e.config)
                && records.use_up(s, &h.logical)
            {
                if h.verbose() {
                    eprintln!(
                        "ifupdown-ovs: {iface}: set up in OVS at the start of this ifup -a (checked against the interfaces file)"
                    );
                }
                if let Some(argv) = phases::port_ifup(&scene, &h.logical, &configured) {
                    run_step(&Step::Ifupdown(argv), &vsctl, iface)?;
                }
                return Ok(());
            }
        }
        if phase == Phase::PostDown && last && records.has_down(s) {
            // Inside ifdown -a: the OVS rows go at its end, with the others'.
            let nothing = Observed::default();
            let inputs = Inputs::new(&scene, &nothing, vsctl.timeout, &configured);
            let (plan, target) = phases::post_down_deferred(&inputs, &h.logical)
                .map_err(|e| plan_error(iface, e))?;
            if records.defer_down(s, &target) {
                if h.verbose() {
                    eprintln!(
                        "ifupdown-ovs: {iface}: removed from OVS at the end of this ifdown -a"
                    );
                }
                return execute(&plan, &vsctl, h.verbose(), iface);
            }
        }
    }
    let rundir = Path::new(daemon::RUNDIR);
    let observed = match phase {
        Phase::PreUp => {
            if let Some(s) = &session
                && let Some(why) = records.take_start_failure(s)
            {
                return Err(HookError::StartFailed {
                    iface: iface.clone(),
                    why,
                });
            }
            daemon::ensure_running(rundir, daemon::START_LIMIT, found.session.as_deref()).map_err(
                |source| HookError::NotRunning {
                    iface: iface.clone(),
                    source,
                },
            )?;
            read_ovsdb(&vsctl, iface)?
        }
        Phase::PostDown if last => match daemon::health(rundir) {
            Health::Running => read_ovsdb(&vsctl, iface)?,
            Health::Down(why) => {
                if h.verbose() {
                    eprintln!("ifupdown-ovs: {iface}: {why}; nothing to remove from OVS");
                }
                Observed::default()
            }
        },
        _ => Observed::default(),
    };
    let inputs = Inputs::new(&scene, &observed, vsctl.timeout, &configured);
    let plan = match phase {
        Phase::PreUp => phases::pre_up(&inputs, &h.logical),
        Phase::PostUp => phases::post_up(&inputs, &h.logical),
        Phase::PreDown => phases::pre_down(&inputs, &h.logical),
        Phase::PostDown if last => phases::post_down(&inputs, &h.logical),
        Phase::PostDown => phases::routes_down(&inputs, &h.logical),
    }
    .map_err(|e| plan_error(iface, e))?;
    execute(&plan, &vsctl, h.verbose(), iface)
}

fn plan_error(iface: &str, source: PlanError) -> HookError {
    HookError::Plan {
        iface: iface.into(),
        source: Box::new(source),
    }
}

fn read_ovsdb(vsctl: &Vsctl, iface: &str) -> Result<Observed, HookError> {
    Observed::read(vsctl).map_err(|source| HookError::ReadOvsdb {
        iface: iface.into(),
        source,
    })
}

/// The ifup/ifdown run we belong to; `file_override` (`ifupdown-ovs hook -i FILE`)
/// replaces the interfaces file it names.
fn invocation(file_override: Option<PathBuf>) -> Invocation {
    let mut inv = Invocation::from_ancestors();
    if let Some(f) = file_override {
        inv.file = Some(f);
    }
    inv
}

/// Whether ifupdown has `name` configured: its `ifstate.NAME` is not empty.
pub fn is_configured(state_dir: &Path, name: &str) -> bool {
    if name.contains('/') {
        return false;
    }
    std::fs::read_to_string(state_dir.join(format!("ifstate.{name}")))
        .is_ok_and(|s| !s.trim().is_empty())
}

/// Run the plan's steps in order; stop at the first failure.
fn execute(plan: &Plan, vsctl: &Vsctl, verbose: bool, iface: &str) -> Result<(), HookError> {
    for step in &plan.steps {
        if verbose {
            eprintln!("ifupdown-ovs: {}", plan.line(step));
        }
        run_step(step, vsctl, iface)?;
    }
    Ok(())
}

fn run_step(step: &Step, vsctl: &Vsctl, iface: &str) -> Result<(), HookError> {
    let iface_s = || iface.to_string();
    match step {
        Step::Vsctl(tx) => {
            vsctl.apply(tx).map_err(|source| HookError::Transaction {
                iface: iface_s(),
                source,
            })?;
        }
        Step::Verify(names) => verify(vsctl, names).map_err(|source| HookError::Verify {
            iface: iface_s(),
            source,
        })?,
        Step::Sysctl(s) => s.apply().map_err(|source| HookError::Sysctl {
            iface: iface_s(),
            source,
        })?,
        Step::SysctlReset(r) => r.apply().map_err(|source| HookError::Sysctl {
            iface: iface_s(),
            source,
        })?,
        Step::Routing(c) => ipcmd::apply(c).map_err(|source| HookError::Routing {
            iface: iface_s(),
            source,
        })?,
        Step::Ip(argv) => link::run_ip(argv).map_err(|source| HookError::Link {
            iface: iface_s(),
            source,
        })?,
        Step::Ifupdown(argv) => {
            let status = Command::new(&argv[0]).args(&argv[1..]).status();
            match status {
                Ok(s) if s.success() => {}
                Ok(s) => eprintln!(
                    "ifupdown-ovs: warning: {iface}: `{}` failed ({s})",
                    argv.join(" ")
                ),
                Err(e) => eprintln!(
                    "ifupdown-ovs: warning: {iface}: cannot run {}: {e}",
                    argv[0]
                ),
            }
        }
        Step::Warn(w) => eprintln!("ifupdown-ovs: warning: {w}"),
        Step::IfPresent { dev, step } => {
            if link::exists(dev) {
                run_step(step, vsctl, iface)?;
            }
        }
    }
    Ok(())
}

/// After a transaction: every interface got an OpenFlow port and has no error.
/// ovs-vsctl already waited for ovs-vswitchd; an `ofport` still unset gets a
/// short grace period.
fn verify(vsctl: &Vsctl, names: &[String]) -> Result<(), VerifyError> {
    match failing(vsctl, names, true)?.into_iter().next() {
        Some(failure) => Err(failure.into()),
        None => Ok(()),
    }
}

/// The interfaces among `names` that OVS did not set up, in the order of `names`
/// (see [`verify`]); `first`: stop looking at the first failure. Err when OVSDB
/// cannot be read.
fn failing(vsctl: &Vsctl, names: &[String], first: bool) -> Result<Vec<SetupFailure>, StateError> {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let o = Observed::read(vsctl)?;
        let mut failed = Vec::new();
        let mut pending = Vec::new();
        for n in names {
            let name = n.clone();
            let why = match o.interface(n) {
                None => Some(SetupFailure::Missing { name }),
                Some(i) => match (&i.error, i.ofport) {
                    (Some(e), _) => Some(SetupFailure::Error {
                        name,
                        error: e.clone(),
                    }),
                    (None, Some(-1)) => Some(SetupFailure::NoOfport { name }),
                    (None, None) => {
                        pending.push(name);
                        None
                    }
                    (None, Some(_)) => None,
                },
            };
            failed.extend(why);
        }
        if first && !failed.is_empty() {
            return Ok(failed);
        }
        if pending.is_empty() || Instant::now() >= deadline {
            if !pending.is_empty() {
                failed.extend(pending.iter().map(|n| SetupFailure::Late {
                    name: n.clone(),
                    late: pending.clone(),
                }));
                failed.sort_by_key(|f| names.iter().position(|x| x == f.name()));
            }
            return Ok(failed);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// What we learn from the ifup/ifdown process that runs us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// Its `-i FILE`, if given.
    pub file: Option<PathBuf>,
    /// Its `--state-dir`, else /run/network.
    pub state_dir: PathBuf,
    /// Identifies the outermost ifup/ifdown run: `PID:START` (start time from
    /// `/proc/PID/stat`).
    pub session: Option<String>,
    /// The nearest ifup/ifdown (whose `-i` and `--state-dir` are used).
    pub nearest: Option<Caller>,
    /// The outermost one (the session's).
    pub outermost: Option<Caller>,
}

/// An ifup/ifdown/ifquery process among our ancestors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// `ifup`, `ifdown`, ...
    pub prog: String,
    pub args: IfupdownArgs,
}

impl Default for Invocation {
    fn default() -> Self {
        Invocation {
            file: None,
            state_dir: PathBuf::from(STATE_DIR),
            session: None,
            nearest: None,
            outermost: None,
        }
    }
}

const IFUPDOWN: [&str; 4] = ["ifup", "ifdown", "ifquery", "ifreload"];

impl Invocation {
    /// Walk up from our parent to the nearest ifup/ifdown (for its arguments) and the
    /// outermost one (for the session).
    pub fn from_ancestors() -> Invocation {
        let mut inv = Invocation::default();
        let mut pid = std::os::unix::process::parent_id();
        for _ in 0..64 {
            if pid <= 1 {
                break;
            }
            let Some(procfs::ProcStat {
                ppid,
                start_time: start,
            }) = procfs::stat(pid)
            else {
                break;
            };
            let argv = procfs::cmdline(pid);
            let prog = argv
                .first()
                .and_then(|a| Path::new(a).file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if IFUPDOWN.contains(&prog.as_str()) {
                let args = IfupdownArgs::parse(argv.get(1..).unwrap_or_default());
                if inv.nearest.is_none() {
                    let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).ok();
                    inv.file = args.file.clone().map(|f| match &cwd {
                        Some(c) if f.is_relative() => c.join(f),
                        _ => f,
                    });
                    if let Some(d) = &args.state_dir {
                        inv.state_dir = d.clone();
                    }
                    inv.nearest = Some(Caller {
                        prog: prog.clone(),
                        args: args.clone(),
                    });
                }
                inv.session = Some(format!("{pid}:{start}"));
                inv.outermost = Some(Caller { prog, args });
            }
            pid = ppid;
        }
        inv
    }
}

/// What an ifup/ifdown command line asks (ifupdown 0.8's options, read the way
/// its getopt_long reads them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IfupdownArgs {
    /// `-i FILE`, `--interfaces FILE`.
    pub file: Option<PathBuf>,
    /// `--state-dir DIR`.
    pub state_dir: Option<PathBuf>,
    /// `-a`, `--all`.
    pub all: bool,
    /// `--allow CLASS`.
    pub allow: Option<String>,
    /// `--force`.
    pub force: bool,
    /// `-X`, `--exclude PATTERN`.
    pub exclude: Vec<String>,
    /// Some `-o`, `--option NAME=VALUE` (it changes every interface's options).
    pub option: bool,
    /// `--read-environment` (exclusions and more from the environment).
    pub read_env: bool,
    /// Interface arguments.
    pub names: Vec<String>,
}

/// ifupdown's long options; `true`: takes an argument.
const LONG: [(&str, bool); 18] = [
    ("help", false),
    ("version", false),
    ("verbose", false),
    ("all", false),
    ("allow", true),
    ("interfaces", true),
    ("exclude", true),
    ("no-act", false),
    ("no-mappings", false),
    ("no-scripts", false),
    ("no-loopback", false),
    ("force", false),
    ("ignore-errors", false),
    ("option", true),
    ("list", false),
    ("state", false),
    ("read-environment", false),
    ("state-dir", true),
];

impl IfupdownArgs {
    /// Parse an argv without the program name.
    pub fn parse(args: &[String]) -> IfupdownArgs {
        let mut a = IfupdownArgs::default();
        let mut it = args.iter();
        while let Some(w) = it.next() {
            if w == "--" {
                a.names.extend(it.by_ref().cloned());
                break;
            }
            if let Some(long) = w.strip_prefix("--") {
                let (given, val) = match long.split_once('=') {
                    Some((n, v)) => (n, Some(v.to_string())),
                    None => (long, None),
                };
                // getopt_long takes exact names and unambiguous abbreviations
                let exact = LONG.iter().find(|(n, _)| *n == given);
                let mut prefixed = LONG.iter().filter(|(n, _)| n.starts_with(given));
                let found = exact.or_else(|| match (prefixed.next(), prefixed.next()) {
                    (Some(one), None) => Some(one),
                    _ => None,
                });
                let Some((name, takes)) = found else {
                    continue;
                };
                let val = if *takes && val.is_none() {
                    it.next().cloned()
                } else {
                    val
                };
                a.set(name, val);
            } else if let Some(cluster) = w.strip_prefix('-').filter(|c| !c.is_empty()) {
                for (i, c) in cluster.char_indices() {
                    if "Xsio".contains(c) {
                        let rest = &cluster[i + 1..];
                        let val = if rest.is_empty() {
                            it.next().cloned()
                        } else {
                            Some(rest.to_string())
                        };
                        let name = match c {
                            'X' => "exclude",
                            'i' => "interfaces",
                            'o' => "option",
                            _ => "",
                        };
                        a.set(name, val);
                        break;
                    }
                    if c == 'a' {
                        a.all = true;
                    }
                }
            } else {
                a.names.push(w.clone());
            }
        }
        a
    }

    fn set(&mut self, name: &str, val: Option<String>) {
        match name {
            "all" => self.all = true,
            "force" => self.force = true,
            "read-environment" => self.read_env = true,
            "option" => self.option = true,
            "allow" => self.allow = val,
            "interfaces" => self.file = val.map(PathBuf::from),
            "state-dir" => self.state_dir = val.map(PathBuf::from),
            "exclude" => self.exclude.extend(val),
            _ => {}
        }
    }
}

/// `-i FILE` / `-iFILE` / `--interfaces[=]FILE` and `--state-dir[=]DIR` from an
/// ifupdown argv (without the program name).
pub fn parse_ifupdown_args(args: &[String]) -> (Option<PathBuf>, Option<PathBuf>) {
    let a = IfupdownArgs::parse(args);
    (a.file, a.state_dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn finds_interfaces_file_in_ifupdown_args() {
        let p = |a: &[&str]| parse_ifupdown_args(&args(a));
        assert_eq!(p(&["-a"]), (None, None));
        assert_eq!(
            p(&["-i", "/tmp/if", "br0"]).0,
            Some(PathBuf::from("/tmp/if"))
        );
        assert_eq!(p(&["-i/tmp/if"]).0, Some(PathBuf::from("/tmp/if")));
        assert_eq!(p(&["-vi", "/tmp/if"]).0, Some(PathBuf::from("/tmp/if")));
        assert_eq!(p(&["--interfaces=/x", "-a"]).0, Some(PathBuf::from("/x")));
        assert_eq!(p(&["--interfaces", "/x"]).0, Some(PathBuf::from("/x")));
        assert_eq!(p(&["-o", "i=1", "br0"]).0, None, "-o takes an argument");
        assert_eq!(
            p(&["--allow", "-i", "br0"]).0,
            None,
            "--allow takes an argument"
        );
        assert_eq!(
            p(&["--state-dir", "/s", "-a"]),
            (None, Some(PathBuf::from("/s")))
        );
        assert_eq!(p(&["--", "-i", "x"]).0, None);
    }

    #[test]
    fn reads_what_ifup_was_asked() {
        let p = |a: &[&str]| IfupdownArgs::parse(&args(a));
        let a = p(&["-a", "--allow=ovs", "--force", "-X", "eth*", "--exclude=lo"]);
        assert!(a.all && a.force && !a.option && !a.read_env);
        assert_eq!(a.allow.as_deref(), Some("ovs"));
        assert_eq!(a.exclude, ["eth*", "lo"]);
        assert!(a.names.is_empty());
        let a = p(&["-va", "--allow", "br0", "-o", "x=1", "p1", "--", "-p2"]);
        assert!(a.all && a.option);
        assert_eq!(a.allow.as_deref(), Some("br0"));
        assert_eq!(a.names, ["p1", "-p2"]);
        // abbreviations getopt_long accepts; ambiguous ones are nothing
        let a = p(&["--int", "/x", "--read-env", "--al", "y"]);
        assert_eq!(a.file, Some(PathBuf::from("/x")));
        assert!(a.read_env);
        assert!(!a.all && a.allow.is_none());
        assert_eq!(a.names, ["y"]);
        assert!(p(&["--option", "a=b", "br0"]).option);
        assert_eq!(p(&["--option", "a=b", "br0"]).names, ["br0"]);
    }

    #[test]
    fn ancestors_of_a_test_are_not_ifupdown() {
        let inv = Invocation::from_ancestors();
        assert_eq!(inv.file, None);
        assert_eq!(inv.state_dir, PathBuf::from(STATE_DIR));
    }

    #[test]
    fn stat_of_self() {
        let ppid = procfs::stat(std::process::id()).unwrap().ppid;
        assert_eq!(ppid, std::os::unix::process::parent_id());
    }

    #[test]
    fn configured_from_state_files() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("ifstate.eth0"), "eth0\n").unwrap();
        std::fs::write(d.path().join("ifstate.eth1"), "").unwrap();
        assert!(is_configured(d.path(), "eth0"));
        assert!(!is_configured(d.path(), "eth1"));
        assert!(!is_configured(d.path(), "eth2"));
        assert!(!is_configured(d.path(), "../x"));
    }

    #[test]
    fn quiet_exits() {
        let h = |iface: &str, mode: &str, phase: &str, vars: &[(&str, &str)]| {
            let mut v: Vec<(String, String)> = vec![
                ("IFACE".into(), iface.into()),
                ("MODE".into(), mode.into()),
                ("PHASE".into(), phase.into()),
            ];
            v.extend(vars.iter().map(|(k, x)| (k.to_string(), x.to_string())));
            HookEnv::from_vars(v).unwrap()
        };
        let missing = Some(PathBuf::from("/nonexistent/interfaces"));
        assert!(hook(&h("--all", "start", "pre-up", &[]), missing.clone()).is_ok());
        assert!(hook(&h("eth0", "start", "post-up", &[]), missing.clone()).is_ok());
        assert!(hook(&h("eth0", "start", "pre-up", &[]), missing.clone()).is_ok());
        // an invalid OVS stanza is an error naming the option
        let e = hook(
            &h("eth0", "start", "pre-up", &[("IF_OVS_TYPE", "OVSPort")]),
            missing,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "eth0: error: ovs_bridge: missing; an OVSPort needs the bridge it belongs to"
        );
    }
}
