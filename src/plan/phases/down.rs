//! pre-down (a bridge takes its ports down) and post-down (links down, sysctls
//! restored, the OVS removal, then source routing), alone ([`post_down`]) or
//! with the OVS removal left for the end of `ifdown -a`
//! ([`post_down_deferred`]). See [`super`] for the order and why.

use super::routing::routing;
use super::{Inputs, arp_resets, disables_ipv6, file_args, model};
use crate::net::link;
use crate::net::route::Direction;
use crate::net::sysctl::Sysctl;
use crate::plan::converge::{self, DownTarget};
use crate::plan::desired::Shape;
use crate::plan::error::PlanError;
use crate::plan::steps::{Plan, Step};

/// pre-down: a bridge takes its configured ports down first.
pub fn pre_down(inp: &Inputs, name: &str) -> Result<Plan, PlanError> {
    let s = inp.scene;
    let m = model(inp, name)?;
    let mut plan = Plan::new(inp.timeout);
    if m.as_bridge().is_none() {
        return Ok(plan);
    }
    let mut ports: Vec<String> = Vec::new();
    let add = |p: &str, ports: &mut Vec<String>| {
        if p != name && !ports.iter().any(|x| x == p) && (inp.configured)(p) {
            ports.push(p.to_string());
        }
    };
    let direct = |b: &str| -> Vec<String> {
        let mut v: Vec<String> = s
            .entry(b)
            .ok()
            .flatten()
            .and_then(|e| e.model.as_bridge())
            .map(|b| b.ports.clone())
            .unwrap_or_default();
        v.extend(s.ports_of(b));
        v.into_iter().filter(|p| s.has_stanza(p)).collect()
    };
    for f in s.fakes_of(name) {
        for p in direct(&f) {
            add(&p, &mut ports);
        }
    }
    for f in s.fakes_of(name) {
        add(&f, &mut ports);
    }
    for p in direct(name) {
        add(&p, &mut ports);
    }
    if !ports.is_empty() {
        let mut argv = vec!["ifdown".to_string()];
        argv.extend(file_args(s));
        argv.extend(ports);
        plan.push(Step::Ifupdown(argv));
    }
    Ok(plan)
}

/// post-down: see the module documentation.
pub fn post_down(inp: &Inputs, name: &str) -> Result<Plan, PlanError> {
    let (mut plan, routes, target) = post_down_parts(inp, name)?;
    let d = converge::down_all(std::slice::from_ref(&target), inp.observed);
    plan.push(Step::Vsctl(d.tx));
    for w in d.warnings {
        plan.push(Step::Warn(w));
    }
    // Last: a failing `ip` must not keep the port in OVS. Rules outlive their
    // device; the routes went with it.
    for step in routes {
        plan.push(step);
    }
    Ok(plan)
}

/// post-down inside `ifdown -a`: everything but the OVS removal, which is
/// returned as a [`DownTarget`] for the one transaction at the end
/// ([`converge::down_all`]). Reads nothing from OVSDB.
pub fn post_down_deferred(inp: &Inputs, name: &str) -> Result<(Plan, DownTarget), PlanError> {
    let (mut plan, routes, target) = post_down_parts(inp, name)?;
    for step in routes {
        plan.push(step);
    }
    Ok((plan, target))
}

/// The steps before the OVS removal, the source routing removal after it, and
/// what to remove.
fn post_down_parts(inp: &Inputs, name: &str) -> Result<(Plan, Vec<Step>, DownTarget), PlanError> {
    let s = inp.scene;
    let m = model(inp, name)?;
    let node = s.node(name, None, false)?;
    let mut plan = Plan::new(inp.timeout);
    for step in arp_resets(m) {
        plan.push(step);
    }
    for d in node.persistent_devices() {
        if (inp.link_exists)(&d) {
            plan.push(Step::Ip(link::set_argv(&d, false)));
            if disables_ipv6(m) {
                plan.push(Step::Sysctl(Sysctl::disable_ipv6(&d, inp.ipv6_default)));
            }
        }
    }
    let (mine, keep) = match &node.shape {
        Shape::Bridge => (s.declared_on(name), Default::default()),
        Shape::FakeBridge { parent, .. } => {
            let mine = s.declared_on(name);
            let mut keep = s.declared_on(parent);
            keep.retain(|p| p != name && !mine.contains(p));
            (mine, keep)
        }
        _ => Default::default(),
    };
    let routes = routing(inp, name, Direction::Down)?;
    Ok((plan, routes, DownTarget::new(&node, mine, keep)))
}
