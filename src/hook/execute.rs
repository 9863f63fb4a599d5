//! Running a [`Plan`]: its steps in order, stopping at the first failure, each
//! failure a [`HookError`] naming the interface. After a transaction, the check
//! that OVS set up its interfaces ([`verify`], [`failing`]): ovs-vsctl waits for
//! ovs-vswitchd, but an interface it cannot create only shows in OVSDB (`error`,
//! `ofport` -1). A nested ifup/ifdown that fails is a warning: ifupdown reports
//! the port itself. And whether OVS answers at all ([`answering`]): asked once
//! per ifup/ifdown, the answer shared through [`super::records`].
//!
//! A pre-up that fails after its transaction (OVS cannot open the NIC, a
//! tunnel's `remote_ip` is refused, a link cannot go up) makes ifupdown mark the
//! interface unconfigured, and runs none of its down hooks: what the transaction
//! added would stay in OVSDB with an `error`. [`execute_undoing`] (and `ifup -a`'s
//! batch, for the interfaces it leaves to their own run) removes it again
//! ([`undo_added`]): only rows that were not in OVSDB before the run, that carry
//! our mark and that the run's transaction named — never a row that was there
//! before, nor a foreign one; a bridge only with nothing else on it.
//!
//! May use: `plan::steps` (what to run), `ovsdb`, `net`, the hook's `records`.
//! Nothing decides here.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::error::{HookError, SetupFailure, Unanswered, VerifyError};
use super::records::{Records, Session};
use crate::net::{ipcmd, link};
use crate::ovsdb::daemon::{self, Health};
use crate::ovsdb::gate::{Gate, Slot, WAIT_LIMIT};
use crate::ovsdb::native::{self, NativeError};
use crate::ovsdb::state::{Observed, StateError};
use crate::ovsdb::vsctl::{PROGRAM, Transaction, Vsctl, VsctlError};
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

/// [`execute`] for a pre-up that found `before` in OVSDB: when a step fails
/// after a transaction went through, what the run added is removed again
/// ([`undo_added`]), unless OVS did not answer in time.
///
/// A bridge's pre-up adds its ports with it, then brings them up with a nested
/// `ifup`: a port whose own run fails there (ifupdown has it unconfigured,
/// `configured` says) is taken out of OVS again when this run added it.
pub(super) fn execute_undoing(
    plan: &Plan,
    vsctl: &Vsctl,
    verbose: bool,
    iface: &str,
    before: &Observed,
    configured: &dyn Fn(&str) -> bool,
) -> Result<(), HookError> {
    let mut named = BTreeSet::new();
    for step in &plan.steps {
        if verbose {
            eprintln!("ifupdown-ovs: {}", plan.line(step));
        }
        if let Err(e) = run_step(step, vsctl, iface) {
            if !named.is_empty() && !e.timed_out() {
                let _ = undo_added(vsctl, before, &named, iface, true);
            }
            return Err(e);
        }
        match step {
            Step::Vsctl(tx) => named.extend(tx.commands.iter().flatten().cloned()),
            Step::Ifupdown(argv) => {
                undo_failed_ports(vsctl, before, &named, argv, iface, configured)
            }
            _ => {}
        }
    }
    Ok(())
}

/// After a bridge's nested `ifup` of its ports (`argv`): the ports among them
/// that this run's transaction named (`named`) and ifupdown left unconfigured
/// are removed, if this run added them.
fn undo_failed_ports(
    vsctl: &Vsctl,
    before: &Observed,
    named: &BTreeSet<String>,
    argv: &[String],
    iface: &str,
    configured: &dyn Fn(&str) -> bool,
) {
    let failed: BTreeSet<String> = argv
        .iter()
        .skip(1)
        .filter(|w| !w.starts_with('-'))
        .map(|w| w.split('=').next().unwrap_or(w).to_string())
        .filter(|n| named.contains(n) && !configured(n))
        .collect();
    if failed.is_empty() {
        return;
    }
    let removed = undo_added(vsctl, before, &failed, iface, false);
    if !removed.is_empty() {
        eprintln!(
            "ifupdown-ovs: {iface}: {} failed to come up: removed from OVS again",
            removed.join(" ")
        );
    }
}

/// Remove what a failed run added to OVSDB ([`added`] against `before`, among
/// the rows named `named`), and say so on stderr when `tell` (as `iface`); returns
/// the names removed. A failure to remove is a warning: the run fails anyway.
pub(super) fn undo_added(
    vsctl: &Vsctl,
    before: &Observed,
    named: &BTreeSet<String>,
    iface: &str,
    tell: bool,
) -> Vec<String> {
    let read = || {
        let _slot = slot();
        Observed::read_direct(vsctl)
    };
    let after = match read() {
        Ok(o) => o,
        Err(e) => {
            eprintln!(
                "ifupdown-ovs: warning: {iface}: cannot remove what this run added to OVS: {e}"
            );
            return Vec::new();
        }
    };
    let (tx, removed) = added(before, &after, named);
    if tx.is_empty() {
        return Vec::new();
    }
    match vsctl.apply(&tx) {
        Ok(_) if tell => eprintln!(
            "ifupdown-ovs: {iface}: removed from OVS what this run added: {}",
            removed.join(" ")
        ),
        Ok(_) => {}
        Err(e) => {
            eprintln!(
                "ifupdown-ovs: warning: {iface}: cannot remove what this run added to OVS ({}): {e}",
                removed.join(" ")
            );
            return Vec::new();
        }
    }
    removed
}

/// The transaction that removes the rows of `after` that `before` does not
/// hold, that are ours and whose name is in `named`, with their names: a new
/// bridge with `del-br` when every port on it is such a row too (else it stays),
/// a new VLAN bridge by taking its row off its parent (`del-br` would take the
/// parent's ports of its VLAN along), other ports with `del-port`.
fn added(
    before: &Observed,
    after: &Observed,
    named: &BTreeSet<String>,
) -> (Transaction, Vec<String>) {
    let new = |name: &str, owner: Option<&str>, was: bool| {
        !was && owner.is_some() && named.contains(name)
    };
    let ports: Vec<_> = after
        .ports
        .iter()
        .filter(|p| after.bridge(&p.row.name).is_none())
        .filter(|p| {
            new(
                &p.row.name,
                p.row.owner(),
                before.port(&p.row.name).is_some(),
            )
        })
        .collect();
    let mut tx = Transaction::new();
    let mut removed = Vec::new();
    let mut gone: BTreeSet<&str> = BTreeSet::new();
    for b in &after.bridges {
        let name = b.row.name.as_str();
        let on = after.ports_of_real(name);
        if new(name, b.row.owner(), before.bridge(name).is_some())
            && on
                .iter()
                .all(|p| ports.iter().any(|q| q.row.uuid == p.row.uuid))
        {
            gone.extend(on.iter().map(|p| p.row.name.as_str()));
            tx.push(["--if-exists", "del-br", name]);
            removed.push(name.to_string());
        }
    }
    for p in ports.iter().filter(|p| !gone.contains(p.row.name.as_str())) {
        let name = p.row.name.as_str();
        match after.parent_of(name) {
            Some(parent) if p.fake_bridge => tx.push([
                "remove",
                "Bridge",
                parent.row.name.as_str(),
                "ports",
                p.row.uuid.as_str(),
            ]),
            _ => tx.push(["--if-exists", "del-port", name]),
        }
        removed.push(name.to_string());
    }
    (tx, removed)
}

/// Run one step for interface `iface` (named in its errors and warnings).
pub(super) fn run_step(step: &Step, vsctl: &Vsctl, iface: &str) -> Result<(), HookError> {
    let name = || iface.to_string();
    match step {
        Step::Vsctl(tx) => transact(vsctl, tx).map_err(|source| HookError::Transaction {
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

/// Apply `tx`. While OVS runs (a look at its sockets, no process), a full
/// queue of connections at ovsdb-server (hotplug runs at once) is waited for
/// within the time-out ([`Vsctl::apply_retrying`]); when it does not, ovs-vsctl
/// says so at once.
fn transact(vsctl: &Vsctl, tx: &Transaction) -> Result<(), VsctlError> {
    let _slot = slot();
    if let Some(done) = native(vsctl, tx) {
        return done;
    }
    match daemon::health(Path::new(daemon::RUNDIR)) {
        Health::Running => vsctl.apply_retrying(tx).map(drop),
        Health::Down(_) => vsctl.apply(tx).map(drop),
    }
}

/// `--if-exists del-port NAME` alone (what `ifdown` of a port runs), or a
/// port's `--may-exist add-port` with its `set`s (`ifup` of a hotplug NIC),
/// straight on ovsdb-server's socket, without an ovs-vsctl process
/// ([`native::del_port`], [`native::apply`]); None when ovs-vsctl is to do it
/// (anything else, the socket elsewhere, a stand-in ovs-vsctl, a refusal:
/// ovs-vsctl then names the problem).
fn native(vsctl: &Vsctl, tx: &Transaction) -> Option<Result<(), VsctlError>> {
    if vsctl.program != PROGRAM {
        return None;
    }
    let limit = Duration::from_secs(u64::from(vsctl.timeout));
    let rundir = Path::new(daemon::RUNDIR);
    let done = match tx.commands.as_slice() {
        [cmd] if cmd.len() == 3 && cmd[0] == "--if-exists" && cmd[1] == "del-port" => {
            native::del_port(rundir, &cmd[2], limit).map(drop)
        }
        cmds => native::apply(rundir, cmds, limit),
    };
    match done {
        Ok(()) => Some(Ok(())),
        // refused: nothing changed; ovs-vsctl says why in its words
        Err(NativeError::Unsupported | NativeError::Refused(_)) => None,
        Err(NativeError::Hung(h)) if h.unreachable() => None,
        Err(NativeError::Hung(h)) => Some(Err(VsctlError::Unanswered(h))),
        Err(NativeError::NotApplied { .. }) => Some(Err(VsctlError::NotApplied {
            timeout: vsctl.timeout,
        })),
    }
}

/// Whether OVS answers, for a hook run of `session`: no, at once, when an
/// earlier run of the same ifup/ifdown found it hung; else ask both daemons
/// ([`daemon::answers`], bounded) and keep a failure for the later runs, so that
/// `ifup -a` waits once in all, not once per interface.
///
/// Another ifup/ifdown (hotplug runs start together) may have found OVS silent
/// moments ago ([`Gate::recent_hung`]): then one short question, without waiting
/// for a slot ([`RECHECK_LIMIT`]), tells whether it answers again; if not, the run fails at once
/// with what the other found, instead of every run waiting its own bound in turn.
pub(super) fn answering(records: &Records, session: Option<&Session>) -> Result<(), Unanswered> {
    if let Some(why) = session.and_then(|s| records.hung(s)) {
        return Err(Unanswered::Earlier(why));
    }
    let gate = Gate::hook();
    let rundir = Path::new(daemon::RUNDIR);
    let recent = || match gate.recent_hung() {
        Some(_) if daemon::answers(rundir, RECHECK_LIMIT).is_ok() => {
            gate.clear_hung();
            Ok(())
        }
        Some((why, ago)) => Err(Unanswered::Recent { why, ago }),
        None => Ok(()),
    };
    recent()?;
    let _slot = gate.enter(WAIT_LIMIT);
    // found by a run that held a slot while this one waited: believed at once
    if let Some((why, ago)) = gate.recent_hung() {
        return Err(Unanswered::Recent { why, ago });
    }
    daemon::answers(rundir, daemon::PROBE_LIMIT).map_err(|hung| {
        if let Some(s) = session {
            let _ = records.note_hung(s, &hung.to_string());
        }
        if !hung.unreachable() {
            gate.note_hung(&hung.to_string());
        }
        hung.into()
    })
}

/// How long the question to a daemon another run found silent may take.
/// Short: the runs that ask it ask together, so it costs its time once.
const RECHECK_LIMIT: Duration = Duration::from_secs(2);

/// One of the few places to talk to OVS ([`Gate`]): with hundreds of hotplug
/// runs at once, the others wait their turn instead of overloading ovsdb-server.
pub(super) fn slot() -> Slot {
    Gate::hook().enter(WAIT_LIMIT)
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
/// cannot be read. Only the rows of `names` are read, straight from
/// ovsdb-server ([`Observed::read_interfaces`]): no process, whatever the size
/// of the database.
pub(super) fn failing(
    vsctl: &Vsctl,
    names: &[String],
    first: bool,
) -> Result<Vec<SetupFailure>, StateError> {
    let deadline = Instant::now() + Duration::from_secs(2);
    // a read costs no process: look again soon (ovs-vswitchd sets `ofport`
    // moments after ovs-vsctl returned), less often the longer it takes
    let mut pause = Duration::from_millis(2);
    loop {
        let o = {
            let _slot = slot();
            Observed::read_interfaces(vsctl, names)?
        };
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
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ovsdb::state::OWNER_KEY;
    use crate::ovsdb::state::tests::observed;

    fn words(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    fn lines(tx: &Transaction) -> Vec<String> {
        tx.commands.iter().map(|c| c.join(" ")).collect()
    }

    fn ours(mut o: Observed, bridge: &str) -> Observed {
        for b in &mut o.bridges {
            if b.row.name == bridge {
                b.row.external_ids.insert(OWNER_KEY.into(), bridge.into());
            }
        }
        o
    }

    /// eth9 and vx0 were added (ours); vnet0 (foreign) and eth0 (ours, there
    /// before) stay; a new fake bridge leaves its parent without `del-br`.
    #[test]
    fn only_new_rows_of_ours_that_the_run_named_go() {
        let before = observed(&[("br0", &[("eth0", None, false, true, &[])])]);
        let after = observed(&[(
            "br0",
            &[
                ("eth0", None, false, true, &[]),
                ("eth9", None, false, true, &[]),
                ("vx0", None, false, true, &[]),
                ("vnet0", None, false, false, &[]),
                ("v2", Some(2), true, true, &[]),
                ("p2", Some(2), false, true, &[]),
            ],
        )]);
        let named = words(&["add-port", "br0", "eth9", "vx0", "vnet0", "eth0", "v2"]);
        let (tx, removed) = added(&before, &after, &named);
        assert_eq!(
            lines(&tx),
            [
                "--if-exists del-port eth9",
                "--if-exists del-port vx0",
                "remove Bridge br0 ports p-v2"
            ]
        );
        assert_eq!(removed, ["eth9", "vx0", "v2"]);
    }

    /// A bridge the run created goes with its port, unless something else came
    /// onto it meanwhile.
    #[test]
    fn a_new_bridge_goes_only_when_empty_of_others() {
        let before = Observed::default();
        let named = words(&["br0", "eth9"]);
        let after = ours(
            observed(&[("br0", &[("eth9", None, false, true, &[])])]),
            "br0",
        );
        let (tx, removed) = added(&before, &after, &named);
        assert_eq!(lines(&tx), ["--if-exists del-br br0"]);
        assert_eq!(removed, ["br0"]);
        let after = ours(
            observed(&[(
                "br0",
                &[
                    ("eth9", None, false, true, &[]),
                    ("vnet0", None, false, false, &[]),
                ],
            )]),
            "br0",
        );
        let (tx, _) = added(&before, &after, &named);
        assert_eq!(lines(&tx), ["--if-exists del-port eth9"]);
        // a bridge that was there before stays
        let before = observed(&[("br0", &[])]);
        let after = ours(
            observed(&[("br0", &[("eth9", None, false, true, &[])])]),
            "br0",
        );
        let (tx, _) = added(&before, &after, &named);
        assert_eq!(lines(&tx), ["--if-exists del-port eth9"]);
    }
}
