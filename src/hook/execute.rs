//! Running a [`Plan`]: its steps in order, stopping at the first failure, each
//! failure a [`HookError`] naming the interface. After a transaction, the check
//! that OVS set up its interfaces ([`verify`], [`failing`]): ovs-vsctl waits for
//! ovs-vswitchd, but an interface it cannot create only shows in OVSDB (`error`,
//! `ofport` -1). A nested ifup/ifdown that fails is a warning: ifupdown reports
//! the port itself. And whether OVS answers at all ([`answering`]): asked once
//! per ifup/ifdown, the answer shared through [`super::records`].
//!
//! May use: `plan::steps` (what to run), `ovsdb`, `net`, the hook's `records`.
//! Nothing decides here.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::error::{HookError, SetupFailure, Unanswered, VerifyError};
use super::records::{Records, Session};
use crate::net::{ipcmd, link};
use crate::ovsdb::daemon;
use crate::ovsdb::state::{Observed, StateError};
use crate::ovsdb::vsctl::Vsctl;
use crate::plan::steps::{Plan, Step};

/// Run the plan's steps in order; stop at the first failure.
pub(super) fn execute(
    plan: &Plan,
    vsctl: &Vsctl,
    verbose: bool,
    iface: &str,
) -> Result<(), HookError> {
    for step in &plan.steps {
        if verbose {
            eprintln!("ifupdown-ovs: {}", plan.line(step));
        }
        run_step(step, vsctl, iface)?;
    }
    Ok(())
}

/// Run one step for interface `iface` (named in its errors and warnings).
pub(super) fn run_step(step: &Step, vsctl: &Vsctl, iface: &str) -> Result<(), HookError> {
    let name = || iface.to_string();
    match step {
        Step::Vsctl(tx) => vsctl
            .apply(tx)
            .map(drop)
            .map_err(|source| HookError::Transaction {
                iface: name(),
                source,
            }),
        Step::Verify(names) => verify(vsctl, names).map_err(|source| HookError::Verify {
            iface: name(),
            source,
        }),
        Step::Sysctl(s) => s.apply().map_err(|source| HookError::Sysctl {
            iface: name(),
            source,
        }),
        Step::SysctlReset(r) => r.apply().map_err(|source| HookError::Sysctl {
            iface: name(),
            source,
        }),
        Step::Routing(c) => ipcmd::apply(c).map_err(|source| HookError::Routing {
            iface: name(),
            source,
        }),
        Step::Ip(argv) => link::run_ip(argv).map_err(|source| HookError::Link {
            iface: name(),
            source,
        }),
        Step::Ifupdown(argv) => {
            ifupdown(argv, iface);
            Ok(())
        }
        Step::Warn(w) => {
            eprintln!("ifupdown-ovs: warning: {w}");
            Ok(())
        }
        Step::IfPresent { dev, step } if link::exists(dev) => run_step(step, vsctl, iface),
        Step::IfPresent { .. } => Ok(()),
    }
}

/// Whether OVS answers, for a hook run of `session`: no, at once, when an
/// earlier run of the same ifup/ifdown found it hung; else ask both daemons
/// ([`daemon::answers`], bounded) and keep a failure for the later runs, so that
/// `ifup -a` waits once in all, not once per interface.
pub(super) fn answering(records: &Records, session: Option<&Session>) -> Result<(), Unanswered> {
    if let Some(why) = session.and_then(|s| records.hung(s)) {
        return Err(Unanswered::Earlier(why));
    }
    daemon::answers(Path::new(daemon::RUNDIR), daemon::PROBE_LIMIT).map_err(|hung| {
        if let Some(s) = session {
            let _ = records.note_hung(s, &hung.to_string());
        }
        hung.into()
    })
}

/// A nested ifup/ifdown of a bridge's ports: its failure is only a warning
/// (ifupdown reports the ports that failed).
fn ifupdown(argv: &[String], iface: &str) {
    match Command::new(&argv[0]).args(&argv[1..]).status() {
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
pub(super) fn failing(
    vsctl: &Vsctl,
    names: &[String],
    first: bool,
) -> Result<Vec<SetupFailure>, StateError> {
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
