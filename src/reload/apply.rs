//! The three parts of a reload, planned with the hook's own planning
//! (`plan::phases`) and run with its executor (`hook::execute_plan`):
//!
//! 1. [`ifupdown`]`("ifdown", OLD, …)`: dropped and restarted interfaces go down
//!    through the real `ifdown`, given the applied stanzas (`-i OLD`), so that their
//!    `down` commands and our hooks see what was brought up;
//! 2. [`in_place`]: interfaces whose `ovs_*` options changed are converged as `ifup -a`
//!    sets up a batch: ONE ovs-vsctl transaction for all of them
//!    ([`phases::pre_up_batch`]: `set` what changed, clear what we set before and no
//!    longer want, create what is new; foreign ports and columns untouched), the
//!    check, sysctls and links; their source routing is replaced (the old stanza's
//!    removed, the new one's installed) only when an `ovs_route*` option changed.
//!    Nothing goes down: no flap, same ifindex. A bridge's new `allow-BRIDGE` ports
//!    come up with `ifup --allow=BRIDGE PORTS` afterwards, as in its pre-up;
//! 3. [`ifupdown`]`("ifup", FILE, …)`: new and restarted interfaces.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::error::ReloadError;
use crate::ovsdb::state::Observed;
use crate::plan::phases::{self, Inputs};
use crate::plan::scene::Scene;
use crate::plan::steps::{Plan, Step};
use crate::sys::process::{failure_line, run_bounded};

/// How long one `ifup`/`ifdown` of a reload may take.
pub const IFUPDOWN_LIMIT: Duration = Duration::from_secs(300);

/// The in-place part: its plan and the `ifup --allow=BRIDGE PORTS` that follow.
#[derive(Debug, Default)]
pub struct InPlace {
    pub plan: Plan,
    pub port_ifups: Vec<Vec<String>>,
}

/// Plan the in-place part for `names` (each with the options that changed):
/// `new`/`old` are the scenes of the new file and of the applied stanzas.
pub fn in_place(
    new: &Scene,
    old: &Scene,
    observed: &Observed,
    timeout: u32,
    names: &[(String, Vec<String>)],
    configured: &dyn Fn(&str) -> bool,
) -> Result<InPlace, ReloadError> {
    let inp = Inputs::new(new, observed, timeout, configured);
    let list: Vec<String> = names.iter().map(|(n, _)| n.clone()).collect();
    let batch = phases::pre_up_batch(&inp, &list);
    let mut plan = Plan::new(timeout);
    let mut check: Vec<String> = Vec::new();
    for c in &batch.covered {
        for i in &c.check {
            if !check.contains(i) {
                check.push(i.clone());
            }
        }
    }
    plan.push(Step::Vsctl(batch.tx.clone()));
    if !batch.tx.is_empty() {
        plan.push(Step::Verify(check));
    }
    for c in &batch.covered {
        for s in &c.sysctls {
            plan.push(s.clone());
        }
        for (dev, optional) in &c.links {
            let up = Step::Ip(crate::net::link::set_argv(dev, true));
            plan.push(if *optional {
                Step::IfPresent {
                    dev: dev.clone(),
                    step: Box::new(up),
                }
            } else {
                up
            });
        }
    }
    // what the batch left out: planned alone (its error is the reload's)
    for (name, _why) in &batch.skipped {
        let own = phases::pre_up(&inp, name)?;
        for s in own.steps {
            if !matches!(s, Step::Ifupdown(_)) {
                plan.push(s);
            }
        }
    }
    let old_inp = Inputs::new(old, observed, timeout, configured);
    for (name, changed) in names {
        if changed.iter().any(|o| o.starts_with("ovs_route")) {
            plan.steps
                .extend(phases::routes_down(&old_inp, name)?.steps);
            plan.steps.extend(phases::post_up(&inp, name)?.steps);
        }
    }
    let port_ifups = list
        .iter()
        .filter_map(|n| phases::port_ifup(new, n, configured))
        .collect();
    Ok(InPlace { plan, port_ifups })
}

/// `ifup`/`ifdown` (`program`) with `-i FILE` on `names`: run bounded, its output
/// passed on; a failure is an error naming the command.
pub fn ifupdown(program: &str, file: &Path, names: &[String]) -> Result<(), ReloadError> {
    if names.is_empty() {
        return Ok(());
    }
    let mut argv = vec![program.to_string(), "-i".into(), file.display().to_string()];
    argv.extend(names.iter().cloned());
    run_argv(&argv)
}

/// Run one argv (an `ifup`/`ifdown`), bounded, passing its output on.
pub fn run_argv(argv: &[String]) -> Result<(), ReloadError> {
    let f = run_bounded(Command::new(&argv[0]).args(&argv[1..]), IFUPDOWN_LIMIT)?;
    print!("{}", f.stdout);
    eprint!("{}", f.stderr);
    if f.success() {
        Ok(())
    } else {
        Err(ReloadError::Ifupdown {
            command: argv.join(" "),
            status: failure_line(&f),
        })
    }
}
