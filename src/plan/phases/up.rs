//! pre-up: of one interface ([`pre_up`]: its transaction with the bridges it
//! needs and, for a bridge, its ports; the check; sysctls; links; a bridge's
//! `ifup --allow`), and of all the interfaces of `ifup -a` in one transaction
//! ([`pre_up_batch`]), from the same parts ([`UpParts`]) so that the two cannot
//! differ. See [`super`] for the order and why.

use super::routing::routing;
use super::{Inputs, arp_sysctls, disables_ipv6, file_args, model};
use crate::config::model::{Bridge, Kind};
use crate::net::link;
use crate::net::route::Direction;
use crate::net::sysctl::Sysctl;
use crate::ovsdb::vsctl::{Transaction, quote_string};
use crate::plan::converge;
use crate::plan::desired::{Node, RowConfig, Setting, Shape, Table, bare_port};
use crate::plan::error::PlanError;
use crate::plan::scene::Scene;
use crate::plan::steps::{Plan, Step};

/// What pre-up of one interface consists of.
struct UpParts {
    /// Prerequisite bridges, the interface itself (with its ovs_extra), the ports a
    /// bridge batches.
    nodes: Vec<Node>,
    /// Index of the interface's own node in `nodes`.
    own: usize,
    /// Interfaces that must work after the transaction: the interface and the
    /// bridges it needed.
    check: Vec<String>,
    /// For the user, before the transaction.
    warnings: Vec<Step>,
    /// ARP sysctls and IPv6 off (before any link goes up).
    sysctls: Vec<Step>,
    /// Links to set up, in order; `true`: only if the device exists then.
    links: Vec<(String, bool)>,
    /// A bridge's `ifup --allow=BRIDGE PORTS`.
    ifup: Option<Vec<String>>,
}

fn up_parts(inp: &Inputs, name: &str) -> Result<UpParts, PlanError> {
    let s = inp.scene;
    let m = model(inp, name)?;
    // Source routing options fail now, not after the port exists.
    routing(inp, name, Direction::Up)?;
    let mut nodes: Vec<Node> = Vec::new();
    let mut warnings = Vec::new();
    let mut bare: Vec<String> = Vec::new();
    // A port's bridge, a VLAN bridge's parent.
    let parent = match &m.kind {
        Kind::Bridge(b) => b.vlan_of.as_ref().map(|f| f.parent.clone()),
        _ => m.bridge().map(str::to_string),
    };
    if let Some(b) = parent {
        prerequisite(inp, name, &b, &mut nodes, 0)?;
    }
    let pin = m.as_bridge().and_then(|_| s.pin_for(name));
    let own = nodes.len();
    nodes.push(s.node(name, pin, true)?);
    let mut check: Vec<String> = Vec::new();
    for i in nodes.iter().flat_map(Node::interfaces) {
        if !check.contains(&i) {
            check.push(i);
        }
    }
    if let Some(b) = m.as_bridge() {
        batch_ports(inp, name, b, &mut nodes, &mut warnings, &mut bare);
    }
    let mut sysctls: Vec<Step> = arp_sysctls(m).into_iter().map(Step::Sysctl).collect();
    let (ipv6, mut links) = links_up(&nodes[own], disables_ipv6(m));
    sysctls.extend(ipv6);
    links.extend(bare.into_iter().map(|d| (d, false)));
    Ok(UpParts {
        nodes,
        own,
        check,
        warnings,
        sysctls,
        links,
        ifup: port_ifup(s, name, inp.configured),
    })
}

/// pre-up: see the module documentation.
pub fn pre_up(inp: &Inputs, name: &str) -> Result<Plan, PlanError> {
    plan_of(inp, up_parts(inp, name)?)
}

/// pre-up of bridge `name` without its `allow-BRIDGE` ports (the ports with a
/// stanza it adds with it; their own runs, in its `ifup --allow=BRIDGE`, add
/// them): for when OVS refused its transaction with them. None when it has no
/// such port.
pub fn pre_up_without_ports(inp: &Inputs, name: &str) -> Option<Result<Plan, PlanError>> {
    let mut p = match up_parts(inp, name) {
        Ok(p) => p,
        Err(e) => return Some(Err(e)),
    };
    let (own, before) = (p.own, p.nodes.len());
    let mut i = 0;
    p.nodes.retain(|n| {
        i += 1;
        i - 1 <= own || !inp.scene.has_stanza(&n.name)
    });
    (p.nodes.len() < before).then(|| plan_of(inp, p))
}

fn plan_of(inp: &Inputs, p: UpParts) -> Result<Plan, PlanError> {
    let tx = converge::up(&p.nodes, inp.observed)?;
    let mut plan = Plan::new(inp.timeout);
    for w in p.warnings {
        plan.push(w);
    }
    plan.push(Step::Vsctl(tx));
    plan.push(Step::Verify(p.check));
    for st in p.sysctls {
        plan.push(st);
    }
    for (dev, optional) in p.links {
        let up = Step::Ip(link::set_argv(&dev, true));
        plan.push(if optional {
            Step::IfPresent {
                dev,
                step: Box::new(up),
            }
        } else {
            up
        });
    }
    if let Some(argv) = p.ifup {
        plan.push(Step::Ifupdown(argv));
    }
    Ok(plan)
}

/// A bridge's `ifup --allow=BRIDGE PORTS` for its `ovs_ports` of class
/// `allow-BRIDGE` (all of them without a file) that ifupdown has not configured,
/// like Debian's hook. None for other interfaces or when there is none.
pub fn port_ifup(s: &Scene, name: &str, configured: &dyn Fn(&str) -> bool) -> Option<Vec<String>> {
    let b = s.entry(name).ok().flatten()?.model.as_bridge()?;
    let ports: Vec<String> = b
        .ports
        .iter()
        .filter(|p| s.config.is_none() || (s.in_class(name, p) && s.has_stanza(p)))
        .filter(|p| !configured(p))
        .cloned()
        .collect();
    if ports.is_empty() {
        return None;
    }
    let mut argv = vec!["ifup".to_string()];
    argv.extend(file_args(s));
    argv.push(format!("--allow={name}"));
    argv.extend(ports);
    Some(argv)
}

/// One interface the `ifup -a` batch set up: what its own pre-up would have done
/// after the transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Covered {
    pub name: String,
    /// Interfaces that must work for it (checked after the transaction).
    pub check: Vec<String>,
    /// Its sysctls, in order.
    pub sysctls: Vec<Step>,
    /// Its links to set up (`true`: only if the device exists).
    pub links: Vec<(String, bool)>,
    /// The OVS records it is: its own port (or bridge) and interfaces, by name
    /// (which interface an error of OVS naming a record is about).
    pub records: Vec<String>,
}

/// The pre-up of many interfaces at once (the `IFACE=--all` run of `ifup -a`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchUp {
    /// One transaction for all of them; empty when none could be batched.
    pub tx: Transaction,
    pub covered: Vec<Covered>,
    /// Interfaces left to their own hook run, and why.
    pub skipped: Vec<(String, String)>,
}

/// Plan the pre-up of `names` (in ifup's order) as one transaction. An interface
/// whose own pre-up could not be planned (invalid options, a bridge that cannot be
/// made, a change that would destroy what is not ours), whose device does not
/// exist yet (a system port, bond members), or whose OVS rows would differ from
/// another's view of them is left out: its own hook run does it, and reports its
/// own error.
///
/// `refused`: interfaces OVS refused in an earlier try of this batch. They are
/// left out, and so is every interface that needs one of them (a port of a
/// refused bridge); a bridge goes on without its refused ports. `later`:
/// interfaces a later try will set up; a bridge goes on without them too (so
/// that a port that may still be refused is not added with its bridge).
pub fn pre_up_batch(
    inp: &Inputs,
    names: &[String],
    refused: &[String],
    later: &[String],
) -> BatchUp {
    let mut b = BatchUp::default();
    let mut merged: Vec<Node> = Vec::new();
    for name in names {
        let mut p = match up_parts(inp, name) {
            Ok(p) => p,
            Err(e) => {
                b.skipped.push((name.clone(), e.to_string()));
                continue;
            }
        };
        if let Some(r) = needs_refused(&p, refused) {
            b.skipped
                .push((name.clone(), format!("Open vSwitch refused {r}")));
            continue;
        }
        drop_ports(&mut p, refused, later);
        let missing: Vec<String> = p.nodes[p.own]
            .persistent_devices()
            .into_iter()
            .filter(|d| !(inp.link_exists)(d))
            .collect();
        if !missing.is_empty() {
            b.skipped.push((
                name.clone(),
                format!("no device {} yet", missing.join(", ")),
            ));
            continue;
        }
        if let Err(e) = converge::up(&p.nodes, inp.observed) {
            b.skipped.push((name.clone(), e.to_string()));
            continue;
        }
        let without_extra = |n: &Node| Node {
            extra: Vec::new(),
            ..n.clone()
        };
        let clash = p.nodes.iter().find(|n| {
            merged
                .iter()
                .any(|m| m.name == n.name && without_extra(m) != without_extra(n))
        });
        if let Some(n) = clash {
            b.skipped.push((
                name.clone(),
                format!(
                    "{} would be set up differently by another interface",
                    n.name
                ),
            ));
            continue;
        }
        let own = &p.nodes[p.own];
        let mut records = vec![own.name.clone()];
        records.extend(own.interfaces().into_iter().filter(|i| *i != own.name));
        for (i, n) in p.nodes.into_iter().enumerate() {
            match merged.iter().position(|m| m.name == n.name) {
                // the interface's own node (with its ovs_extra) wins
                Some(j) if i == p.own => merged[j] = n,
                Some(_) => {}
                None => merged.push(n),
            }
        }
        b.covered.push(Covered {
            name: name.clone(),
            check: p.check,
            sysctls: p.sysctls,
            links: p.links,
            records,
        });
    }
    match converge::up(&merged, inp.observed) {
        Ok(tx) => b.tx = tx,
        Err(e) => {
            let why = format!("the batch cannot be planned: {e}");
            b.skipped
                .extend(b.covered.drain(..).map(|c| (c.name, why.clone())));
        }
    }
    b
}

/// The refused interface `p` is, or needs (a prerequisite bridge), if any.
fn needs_refused<'p>(p: &'p UpParts, refused: &[String]) -> Option<&'p str> {
    p.nodes[..=p.own]
        .iter()
        .find(|n| refused.contains(&n.name))
        .map(|n| n.name.as_str())
}

/// `p` without the ports (of a bridge) that are refused or `later`.
fn drop_ports(p: &mut UpParts, refused: &[String], later: &[String]) {
    let own = p.own;
    let mut i = 0;
    p.nodes.retain(|n| {
        i += 1;
        i - 1 <= own || !(refused.contains(&n.name) || later.contains(&n.name))
    });
}

/// The `ovs_ports` of bridge `name` (`b`) in its transaction: those of class
/// `allow-BRIDGE` (its `ifup --allow` brings them up next), and ports without a
/// stanza as plain ports (`bare`: their links are brought up here).
fn batch_ports(
    inp: &Inputs,
    name: &str,
    b: &Bridge,
    nodes: &mut Vec<Node>,
    warnings: &mut Vec<Step>,
    bare: &mut Vec<String>,
) {
    let s = inp.scene;
    for p in &b.ports {
        match s.entry(p) {
            Ok(Some(pe)) => {
                if pe.model.bridge() == Some(name) && s.in_class(name, p) {
                    // A port that cannot be planned fails in its own hook, not here.
                    match s.node(p, None, false) {
                        Ok(n) => nodes.push(n),
                        Err(e) => warnings.push(Step::Warn(format!(
                            "{p} (in ovs_ports of {name}) is not added with it: {e}"
                        ))),
                    }
                }
            }
            Ok(None) => {
                nodes.push(bare_port(name, p));
                if !s.has_stanza(p) {
                    bare.push(p.clone());
                }
            }
            Err(_) => warnings.push(Step::Warn(format!(
                "{p} (in ovs_ports of {name}) is not added: its stanza is invalid"
            ))),
        }
    }
}

/// IPv6 off if asked (sysctl steps, before any link goes up), and the links to
/// set up (`true`: only if the device exists then).
fn links_up(n: &Node, disable_ipv6: bool) -> (Vec<Step>, Vec<(String, bool)>) {
    let own = n.devices();
    let optional = n.optional_device();
    let mut sysctls = Vec::new();
    if disable_ipv6 {
        if let Some(dev) = &optional {
            sysctls.push(Step::IfPresent {
                dev: dev.clone(),
                step: Box::new(Step::Sysctl(Sysctl::disable_ipv6(dev, true))),
            });
        }
        for d in &own {
            sysctls.push(Step::Sysctl(Sysctl::disable_ipv6(d, true)));
        }
    }
    let mut links: Vec<(String, bool)> = optional.into_iter().map(|d| (d, true)).collect();
    links.extend(own.into_iter().map(|d| (d, false)));
    (sysctls, links)
}

/// Make sure bridge `b` (holding `name`) is part of the transaction when needed.
fn prerequisite(
    inp: &Inputs,
    name: &str,
    b: &str,
    nodes: &mut Vec<Node>,
    depth: usize,
) -> Result<(), PlanError> {
    let s = inp.scene;
    let o = inp.observed;
    if depth > 4 {
        return Err(PlanError::NestedTooDeep {
            name: name.into(),
            bridge: b.into(),
        });
    }
    let exists = o.bridge(b).is_some() || o.fake_bridge(b).is_some();
    match s.entry(b) {
        Ok(Some(be)) => match be.model.as_bridge() {
            Some(bridge) => {
                if let Some(f) = &bridge.vlan_of {
                    prerequisite(inp, b, &f.parent, nodes, depth + 1)?;
                }
                nodes.push(s.node(b, s.pin_for(b), !exists)?);
                Ok(())
            }
            None => Err(PlanError::NotABridge {
                name: name.into(),
                bridge: b.into(),
                kind: be.model.ovs_type(),
            }),
        },
        Err(invalid) => Err(PlanError::InvalidBridge {
            name: name.into(),
            bridge: b.into(),
            source: invalid.clone(),
        }),
        Ok(None) if !exists => Err(PlanError::UnknownBridge {
            name: name.into(),
            bridge: b.into(),
            file: s.file_shown(),
        }),
        Ok(None) => {
            // Someone else's bridge: pin its MAC only if a fixed MAC of ours (an
            // internal port's, or a VLAN bridge's, fixed or pinned) would leak.
            let me = s.entry(name).ok().flatten();
            let fixed = me.is_some_and(|e| match &e.model.kind {
                Kind::IntPort(p) => p.mac.is_some(),
                Kind::Bridge(own) => own.vlan_of.is_some(),
                _ => false,
            });
            if fixed
                && let Some(row) = o.bridge(b)
                && !row.other_config.contains_key("hwaddr")
            {
                let pin = s.pinned(b);
                nodes.push(Node {
                    name: b.to_string(),
                    shape: Shape::Bridge,
                    bridge: None,
                    rows: vec![RowConfig {
                        table: Table::Bridge,
                        name: b.to_string(),
                        settings: vec![Setting {
                            column: "other_config:hwaddr".into(),
                            value: quote_string(&pin.to_string()),
                        }],
                        mark: false,
                    }],
                    extra: Vec::new(),
                });
            }
            Ok(())
        }
    }
}
