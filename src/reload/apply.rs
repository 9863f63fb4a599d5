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
//!    Changed addresses of `static` stanzas are added before the old ones go, a
//!    changed `gateway` replaces the default route (`gateways`), and
//!    the kernel settings of removed options (`ovs_arp_*`, `ovs_disable_ipv6`) go
//!    back to the defaults. Nothing goes down: no flap, same ifindex. A bridge's new `allow-BRIDGE` ports
//!    come up with `ifup --allow=BRIDGE PORTS` afterwards, as in its pre-up;
//! 3. [`ifupdown`]`("ifup", FILE, …)`: new and restarted interfaces.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::diff::IN_PLACE_OPTIONS;
use super::error::ReloadError;
use crate::config::options::canonical_name;
use crate::net::addr::{Family, StaticConfig, parse_static};
use crate::net::sysctl::{Reset, Sysctl};
use crate::ovsdb::state::Observed;
use crate::plan::error::PlanError;
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
    let list: Vec<String> = names
        .iter()
        .filter(|(n, _)| new.entry(n).ok().flatten().is_some())
        .map(|(n, _)| n.clone())
        .collect();
    let batch = phases::pre_up_batch(&inp, &list, &[], &[]);
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
        plan.steps.extend(addresses(old, new, name)?);
        plan.steps.extend(gateways(old, new, name)?);
        plan.steps
            .extend(reverts(new, name, changed, inp.ipv6_default));
        let routed = list.contains(name)
            && changed
                .iter()
                .any(|o| o.starts_with("ovs_route") || IN_PLACE_OPTIONS.contains(&o.as_str()));
        if routed {
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

/// The static addresses of interface `name` in a scene's file, per family.
fn statics(s: &Scene, name: &str) -> Result<Vec<StaticConfig>, PlanError> {
    let Some(c) = &s.config else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for st in c.stanzas(name).filter(|st| st.method == "static") {
        let Some(family) = Family::from_addrfam(&st.family) else {
            continue;
        };
        let opts = c.resolved_options(st);
        let all = |k: &str| -> Vec<String> {
            opts.iter()
                .filter(|o| o.name == k)
                .map(|o| o.value.clone())
                .collect()
        };
        let first = |k: &str| all(k).into_iter().next();
        let sc = parse_static(
            family,
            &all("address").join("\n"),
            first("netmask").as_deref(),
            first("gateway").as_deref(),
        )
        .map_err(|source| PlanError::Static {
            name: name.into(),
            family,
            source,
        })?;
        out.push(sc);
    }
    Ok(out)
}

/// Addresses changed in place: the new ones added first, then the old ones
/// removed, then every wanted one made sure of (`ip addr replace`), since the
/// kernel drops the secondaries of a removed IPv4 primary.
fn addresses(old: &Scene, new: &Scene, name: &str) -> Result<Vec<Step>, PlanError> {
    let list = |s: &Scene| -> Result<Vec<String>, PlanError> {
        Ok(statics(s, name)?
            .iter()
            .flat_map(|c| c.addrs.iter().map(ToString::to_string))
            .collect())
    };
    let (was, now) = (list(old)?, list(new)?);
    let ip = |verb: &str, a: &str| {
        Step::Ip(
            ["ip", "addr", verb, a, "dev", name]
                .map(String::from)
                .to_vec(),
        )
    };
    let mut steps: Vec<Step> = now
        .iter()
        .filter(|a| !was.contains(a))
        .map(|a| ip("add", a))
        .collect();
    let gone: Vec<&String> = was.iter().filter(|a| !now.contains(a)).collect();
    if !gone.is_empty() {
        steps.extend(gone.iter().map(|a| ip("del", a)));
        // Removing an IPv4 primary address removes its subnet's secondaries too
        // (unless promote_secondaries): the addresses wanted are put back.
        steps.extend(now.iter().map(|a| ip("replace", a)));
    }
    Ok(steps)
}

/// The default route of a changed `gateway`, as ifupdown's `static` method sets
/// it (`ip route add default via GW [metric M] dev IFACE onlink`): the new one
/// with `ip route replace`, which swaps the old route of the same metric in one
/// step (no moment without a default route), then the old one flushed if it is
/// still there (`ip route flush` of nothing succeeds: a second reload converges).
fn gateways(old: &Scene, new: &Scene, name: &str) -> Result<Vec<Step>, PlanError> {
    let (was, now) = (statics(old, name)?, statics(new, name)?);
    let mut steps = Vec::new();
    for family in [Family::V4, Family::V6] {
        let gw = |v: &[StaticConfig]| v.iter().find(|c| c.family == family)?.gateway;
        let (g_was, g_now) = (gw(&was), gw(&now));
        if g_was == g_now {
            continue;
        }
        let ip = |args: &[&str]| -> Step {
            let fam = if family == Family::V4 { "-4" } else { "-6" };
            let mut v = vec!["ip".to_string(), fam.to_string(), "route".into()];
            v.extend(args.iter().map(|a| a.to_string()));
            Step::Ip(v)
        };
        if let Some(g) = g_now {
            let g = g.to_string();
            let mut args = vec!["replace", "default", "via", &g];
            let m = metric(new, name, family);
            if let Some(m) = &m {
                args.extend(["metric", m]);
            }
            args.extend(["dev", name, "onlink"]);
            steps.push(ip(&args));
        }
        if let Some(g) = g_was.filter(|g| Some(*g) != g_now) {
            let (g, all) = (
                g.to_string(),
                if family == Family::V4 {
                    "0.0.0.0/0"
                } else {
                    "::/0"
                },
            );
            steps.push(ip(&["flush", "exact", all, "via", &g, "dev", name]));
        }
    }
    Ok(steps)
}

/// The `metric` option of interface `name`'s `static` stanza of `family`.
fn metric(s: &Scene, name: &str, family: Family) -> Option<String> {
    let c = s.config.as_ref()?;
    let st = c
        .stanzas(name)
        .find(|st| st.method == "static" && Family::from_addrfam(&st.family) == Some(family))?;
    c.resolved_options(st)
        .into_iter()
        .find(|o| o.name == "metric")
        .map(|o| o.value)
}

/// Kernel settings of options that were removed: ARP sysctls back to the
/// defaults, IPv6 back to the host's default (`ovs_disable_ipv6` no longer set).
fn reverts(new: &Scene, name: &str, changed: &[String], ipv6_default: bool) -> Vec<Step> {
    let still = |opt: &str| {
        new.config.as_ref().is_some_and(|c| {
            c.stanzas(name).any(|st| {
                c.resolved_options(st)
                    .iter()
                    .any(|o| canonical_name(&o.name) == opt)
            })
        })
    };
    let mut steps = Vec::new();
    for opt in changed.iter().filter(|o| !still(o)) {
        let step = match opt.as_str() {
            "ovs_arp_filter" | "ovs_arp_ignore" | "ovs_arp_announce" => {
                Step::SysctlReset(Reset::ipv4_conf(name, &opt["ovs_".len()..]))
            }
            "ovs_disable_ipv6" => Step::Sysctl(Sysctl::disable_ipv6(name, ipv6_default)),
            _ => continue,
        };
        steps.push(Step::IfPresent {
            dev: name.to_string(),
            step: Box::new(step),
        });
    }
    steps
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
