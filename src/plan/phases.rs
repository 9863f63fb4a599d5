//! What each hook phase does for one interface, as a [`Plan`]:
//!
//! - pre-up (first stanza of the interface only): one transaction that creates or
//!   converges the interface — a port's bridge (and a VLAN bridge's parent) included
//!   when missing, from the bridge's own stanza; a bridge's `ovs_ports` of class
//!   `allow-BRIDGE` batched in — then the check that OVS applied it, IPv6 disabled
//!   and ARP sysctls (`ovs_arp_*`) set if asked (before any link goes up), links
//!   up, and for a bridge `ifup --allow=BRIDGE PORTS` like Debian's hook. The source
//!   routing options are checked here too, so that a bad one fails before anything
//!   changed.
//! - post-up (every stanza): source routing (`ovs_route_table`) for the stanza's
//!   static addresses, once ifupdown has assigned them.
//! - pre-down (first stanza): a bridge takes its configured ports down
//!   (`ifdown PORTS`), before its own addresses go.
//! - post-down: at the last stanza ARP sysctls back to the defaults, links of
//!   system ports down, sysctls restored, one transaction removing what is ours;
//!   then (every stanza) the stanza's source routing removed, once its addresses
//!   are gone.
//!
//! `ifup -a` / `ifdown -a` (see `crate::hook`): [`pre_up_batch`] plans the pre-up
//! of many interfaces as one transaction (each interface's nodes merged, its own
//! node with its ovs_extra winning; one that cannot be planned alone, whose device
//! is missing, or whose rows another would set differently is left to its own
//! hook run), and [`post_down_deferred`] is post-down without the OVS removal,
//! which it returns for [`converge::down_all`] at the end.
//!
//! Which stanzas a routing step is about: in a hook run the one ifupdown runs it
//! for (its `ADDRFAM`, `IF_ADDRESS`, ... from the environment); for `plan` every
//! stanza of the interface in the file.

use super::converge::{self, DownTarget};
use super::desired::{Node, RowConfig, Setting, Shape, Table, bare_port};
use super::error::PlanError;
use super::scene::Scene;
use super::steps::{Plan, Step};
use crate::config::model::OvsType;
use crate::net::addr::{Family, StaticConfig, parse_static};
use crate::net::link;
use crate::net::route::{self, Change, Direction, SourceRouting};
use crate::net::sysctl::{PROC_SYS, Reset, Sysctl};
use crate::ovsdb::state::Observed;
use crate::ovsdb::vsctl::{Transaction, quote_string};
use std::path::Path;

/// The four hook phases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    PreUp,
    PostUp,
    PreDown,
    PostDown,
}

impl Phase {
    /// From ifupdown's `MODE` and `PHASE`.
    pub fn from_hook(mode: &str, phase: &str) -> Option<Phase> {
        match (mode, phase) {
            ("start", "pre-up") => Some(Phase::PreUp),
            ("start", "post-up" | "up") => Some(Phase::PostUp),
            ("stop", "pre-down" | "down") => Some(Phase::PreDown),
            ("stop", "post-down") => Some(Phase::PostDown),
            _ => None,
        }
    }

    /// The hook directory, e.g. `if-pre-up.d`.
    pub fn dir(self) -> &'static str {
        match self {
            Phase::PreUp => "if-pre-up.d",
            Phase::PostUp => "if-up.d",
            Phase::PreDown => "if-down.d",
            Phase::PostDown => "if-post-down.d",
        }
    }

    /// `MODE` and `PHASE` as ifupdown sets them.
    pub fn mode_phase(self) -> (&'static str, &'static str) {
        match self {
            Phase::PreUp => ("start", "pre-up"),
            Phase::PostUp => ("start", "post-up"),
            Phase::PreDown => ("stop", "pre-down"),
            Phase::PostDown => ("stop", "post-down"),
        }
    }
}

/// What planning reads besides the scene.
pub struct Inputs<'a> {
    pub scene: &'a Scene,
    pub observed: &'a Observed,
    /// ovs-vsctl `--timeout`.
    pub timeout: u32,
    /// Whether ifupdown has `name` configured (from its state).
    pub configured: &'a dyn Fn(&str) -> bool,
    /// `net.ipv6.conf.default.disable_ipv6`, restored on persistent devices on ifdown.
    pub ipv6_default: bool,
    /// Whether the kernel has a device (normally [`link::exists`]).
    pub link_exists: &'a dyn Fn(&str) -> bool,
}

impl<'a> Inputs<'a> {
    /// Inputs of a real run on this host: devices are the kernel's
    /// ([`link::exists`]) and `ipv6_default` is read from
    /// `/proc/sys/net/ipv6/conf/default/disable_ipv6` (false when unreadable).
    pub fn new(
        scene: &'a Scene,
        observed: &'a Observed,
        timeout: u32,
        configured: &'a dyn Fn(&str) -> bool,
    ) -> Inputs<'a> {
        Inputs {
            scene,
            observed,
            timeout,
            configured,
            ipv6_default: host_ipv6_default(),
            link_exists: &link::exists,
        }
    }
}

/// `net.ipv6.conf.default.disable_ipv6` of this host (false when unreadable).
fn host_ipv6_default() -> bool {
    Sysctl {
        key: "net.ipv6.conf.default.disable_ipv6".into(),
        value: String::new(),
    }
    .read_in(Path::new(PROC_SYS))
    .is_ok_and(|v| v == "1")
}

fn file_args(scene: &Scene) -> Vec<String> {
    match &scene.file {
        Some(f) => vec!["-i".into(), f.display().to_string()],
        None => Vec::new(),
    }
}

/// The OVS entry `name` must have.
fn model<'a>(inp: &'a Inputs, name: &str) -> Result<&'a crate::config::model::OvsIface, PlanError> {
    inp.scene.required(name).map(|e| &e.model)
}

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
    let parent = match (&m.fake, &m.bridge) {
        (Some(f), _) => Some(f.parent.clone()),
        (None, Some(b)) if m.kind.is_port() => Some(b.clone()),
        (None, _) if m.kind.is_port() => return Err(PlanError::NoBridge { name: name.into() }),
        _ => None,
    };
    if let Some(b) = parent {
        prerequisite(inp, name, &b, &mut nodes, 0)?;
    }
    let pin = (m.kind == OvsType::Bridge)
        .then(|| s.pin_for(name))
        .flatten();
    let own = nodes.len();
    nodes.push(s.node(name, pin, true)?);
    let mut check: Vec<String> = Vec::new();
    for i in nodes.iter().flat_map(Node::interfaces) {
        if !check.contains(&i) {
            check.push(i);
        }
    }
    if m.kind == OvsType::Bridge {
        batch_ports(inp, m, &mut nodes, &mut warnings, &mut bare);
    }
    let mut sysctls: Vec<Step> = arp_sysctls(m).into_iter().map(Step::Sysctl).collect();
    let (ipv6, mut links) = links_up(&nodes[own], m.disable_ipv6);
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
    let p = up_parts(inp, name)?;
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
    let m = &s.entry(name).ok().flatten()?.model;
    if m.kind != OvsType::Bridge {
        return None;
    }
    let ports: Vec<String> = m
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
pub fn pre_up_batch(inp: &Inputs, names: &[String]) -> BatchUp {
    let mut b = BatchUp::default();
    let mut merged: Vec<Node> = Vec::new();
    for name in names {
        let p = match up_parts(inp, name) {
            Ok(p) => p,
            Err(e) => {
                b.skipped.push((name.clone(), e.to_string()));
                continue;
            }
        };
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

/// A bridge's `ovs_ports` in its transaction: those of class `allow-BRIDGE` (its
/// `ifup --allow` brings them up next), and ports without a stanza as plain ports
/// (`bare`: their links are brought up here).
fn batch_ports(
    inp: &Inputs,
    m: &crate::config::model::OvsIface,
    nodes: &mut Vec<Node>,
    warnings: &mut Vec<Step>,
    bare: &mut Vec<String>,
) {
    let s = inp.scene;
    let name = m.name.as_str();
    for p in &m.ports {
        match s.entry(p) {
            Ok(Some(pe)) => {
                if pe.model.kind.is_port()
                    && pe.model.bridge.as_deref() == Some(name)
                    && s.in_class(name, p)
                {
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
        Ok(Some(be)) if be.model.kind == OvsType::Bridge => {
            if let Some(f) = &be.model.fake {
                prerequisite(inp, b, &f.parent, nodes, depth + 1)?;
            }
            nodes.push(s.node(b, s.pin_for(b), !exists)?);
            Ok(())
        }
        Ok(Some(be)) => Err(PlanError::NotABridge {
            name: name.into(),
            bridge: b.into(),
            kind: be.model.kind,
        }),
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
            // Someone else's bridge: pin its MAC only if a fixed MAC of ours would leak.
            let me = s.entry(name).ok().flatten();
            let fixed =
                me.is_some_and(|e| e.model.mac.is_some() && e.model.kind == OvsType::IntPort);
            if fixed
                && let Some(row) = o.bridge(b)
                && !row.other_config.contains_key("hwaddr")
            {
                let pin = super::desired::pinned_mac(&s.machine_id, b);
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

/// post-up: source routing for the stanza's static addresses.
pub fn post_up(inp: &Inputs, name: &str) -> Result<Plan, PlanError> {
    let mut plan = Plan::new(inp.timeout);
    for step in routing(inp, name, Direction::Up)? {
        plan.push(step);
    }
    Ok(plan)
}

/// After down, for every stanza: its source routing removed. Not before: while the
/// address is still there, a reply from it would follow the main table and could
/// leave through another interface in the subnet, with that interface's MAC.
pub fn routes_down(inp: &Inputs, name: &str) -> Result<Plan, PlanError> {
    let mut plan = Plan::new(inp.timeout);
    for step in routing(inp, name, Direction::Down)? {
        plan.push(step);
    }
    Ok(plan)
}

/// Whether a kind is a kernel device of its own (where `ovs_arp_*` apply).
fn is_device(m: &crate::config::model::OvsIface) -> bool {
    matches!(m.kind, OvsType::Bridge | OvsType::Port | OvsType::IntPort)
}

/// `ovs_arp_filter`, `ovs_arp_ignore`, `ovs_arp_announce` as sysctls of the device.
fn arp_sysctls(m: &crate::config::model::OvsIface) -> Vec<Sysctl> {
    if !is_device(m) {
        return Vec::new();
    }
    let mut v = Vec::new();
    if let Some(f) = m.arp_filter {
        v.push(Sysctl::ipv4_conf(&m.name, "arp_filter", u8::from(f)));
    }
    if let Some(n) = m.arp_ignore {
        v.push(Sysctl::ipv4_conf(&m.name, "arp_ignore", n));
    }
    if let Some(n) = m.arp_announce {
        v.push(Sysctl::ipv4_conf(&m.name, "arp_announce", n));
    }
    v
}

/// The ARP sysctls that `arp_sysctls` set, back to `net.ipv4.conf.default.*`.
fn arp_resets(m: &crate::config::model::OvsIface) -> Vec<Step> {
    arp_sysctls(m)
        .iter()
        .filter_map(|s| s.key.rsplit('.').next())
        .map(|k| Step::IfPresent {
            dev: m.name.clone(),
            step: Box::new(Step::SysctlReset(Reset::ipv4_conf(&m.name, k))),
        })
        .collect()
}

/// The static configuration of the stanzas this run is about (see the module
/// documentation), with the stanzas of a family that have none.
fn statics(inp: &Inputs, name: &str) -> Result<(Vec<StaticConfig>, Vec<Family>), PlanError> {
    let s = inp.scene;
    let mut found = Vec::new();
    let mut without = Vec::new();
    let mut one = |fam: &str, method: &str, get: &dyn Fn(&str) -> Vec<String>| {
        let Some(family) = Family::from_addrfam(fam) else {
            return Ok(());
        };
        let address = get("address").join("\n");
        if method != "static" || address.trim().is_empty() {
            without.push(family);
            return Ok(());
        }
        let first = |k: &str| get(k).into_iter().next();
        let c = parse_static(
            family,
            &address,
            first("netmask").as_deref(),
            first("gateway").as_deref(),
        )
        .map_err(|e| PlanError::Static {
            name: name.into(),
            family,
            source: e.into(),
        })?;
        found.push(c);
        Ok::<(), PlanError>(())
    };
    if s.current.as_deref() == Some(name) {
        let e = s.required(name)?;
        let var = |k: &str| {
            e.env
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let get = |k: &str| {
            let v = var(&format!("IF_{}", k.to_ascii_uppercase()));
            if v.is_empty() { Vec::new() } else { vec![v] }
        };
        one(&var("ADDRFAM"), &var("METHOD"), &get)?;
    } else if let Some(c) = &s.config {
        for st in c.stanzas(name) {
            let opts = c.resolved_options(st);
            let get = |k: &str| {
                opts.iter()
                    .filter(|o| o.name == k)
                    .map(|o| o.value.clone())
                    .collect::<Vec<_>>()
            };
            one(&st.family, &st.method, &get)?;
        }
    }
    Ok((found, without))
}

/// Source routing steps of `name` (none without `ovs_route_table`); errors for a
/// table `ip` does not know, an `ovs_route` that sets its own table, bad addresses.
fn routing(inp: &Inputs, name: &str, direction: Direction) -> Result<Vec<Step>, PlanError> {
    let m = model(inp, name)?;
    let Some(table) = &m.route_table else {
        return Ok(Vec::new());
    };
    let table_shown = table.to_string();
    let id = route::table_id(table, Path::new(route::IPROUTE2_DIR)).map_err(|e| {
        PlanError::RouteTable {
            name: name.into(),
            source: e.into(),
        }
    })?;
    let mut lines: Vec<(Vec<String>, Family)> = Vec::new();
    for l in &m.routes {
        lines.push(route::route_words(l).map_err(|e| PlanError::Route {
            name: name.into(),
            source: e.into(),
        })?);
    }
    let (found, without) = statics(inp, name)?;
    let mut steps = Vec::new();
    for c in found {
        let extra = lines
            .iter()
            .filter(|(_, f)| *f == c.family)
            .map(|(w, _)| w.clone())
            .collect();
        steps.push(Step::Routing(Change {
            direction,
            spec: SourceRouting {
                dev: m.name.clone(),
                family: c.family,
                table: id,
                table_shown: table_shown.clone(),
                pref: m.route_pref,
                addrs: c.addrs,
                gateway: c.gateway,
                extra,
            },
        }));
    }
    if direction == Direction::Up {
        for f in without {
            if lines.iter().any(|(_, lf)| *lf == f) {
                steps.push(Step::Warn(format!(
                    "{name}: ovs_route: the {} routes are not installed: its {} stanza has no static address",
                    f.addrfam(),
                    f.addrfam()
                )));
            }
        }
        if steps.is_empty() && inp.scene.current.is_none() {
            steps.push(Step::Warn(format!(
                "{name}: ovs_route_table: no stanza with a static address: no source routing"
            )));
        }
    }
    Ok(steps)
}

/// pre-down: a bridge takes its configured ports down first.
pub fn pre_down(inp: &Inputs, name: &str) -> Result<Plan, PlanError> {
    let s = inp.scene;
    let m = model(inp, name)?;
    let mut plan = Plan::new(inp.timeout);
    if m.kind != OvsType::Bridge {
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
            .map(|e| e.model.ports.clone())
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
            if m.disable_ipv6 {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interfaces::Config;
    use crate::ovsdb::state::tests::observed;
    use crate::plan::scene::HookEnv;
    use std::path::Path;

    /// Planning inputs with fakes for ifupdown's state and the kernel's devices.
    fn fake_inputs<'a>(
        scene: &'a Scene,
        observed: &'a Observed,
        configured: &'a dyn Fn(&str) -> bool,
        link_exists: &'a dyn Fn(&str) -> bool,
    ) -> Inputs<'a> {
        Inputs {
            scene,
            observed,
            timeout: 10,
            configured,
            ipv6_default: false,
            link_exists,
        }
    }

    const FILE: &str = "\
allow-ovs br0
iface br0 inet manual
  ovs_type OVSBridge
  ovs_ports eth0 vlan100 tap9
  ovs_datapath_type netdev
  ovs_extra set bridge ${IFACE} stp_enable=false

allow-br0 eth0
iface eth0 inet manual
  ovs_type OVSPort
  ovs_bridge br0
  ovs_disable_ipv6 yes

allow-br0 vlan100
iface vlan100 inet manual
  ovs_type OVSIntPort
  ovs_bridge br0
  ovs_options tag=100
  ovs_extra set interface ${IFACE} external-ids:iface-id=$(hostname -s)

auto v2
iface v2 inet manual
  ovs_type OVSBridge
  ovs_options br0 2
  ovs_mac 02:00:00:00:00:02

auto vm1
iface vm1 inet manual
  ovs_type OVSPort
  ovs_bridge v2
";

    fn scene() -> Scene {
        let c = Config::parse_str(FILE, Path::new("/etc/network/interfaces")).unwrap();
        Scene::new(None, Some(c), None, "start", "pre-up")
    }

    fn plan_lines(
        f: fn(&Inputs, &str) -> Result<Plan, PlanError>,
        name: &str,
        o: &Observed,
        configured: &dyn Fn(&str) -> bool,
    ) -> Vec<String> {
        let s = scene();
        let inp = fake_inputs(&s, o, configured, &|d| d == "eth0");
        f(&inp, name).unwrap().lines()
    }

    #[test]
    fn bridge_batches_its_allowed_ports_and_ifups_them() {
        let l = plan_lines(pre_up, "br0", &Observed::default(), &|_| false);
        assert_eq!(l.len(), 5, "{l:#?}");
        let tx = &l[0];
        assert!(tx.starts_with("ovs-vsctl --timeout=10 -- --may-exist add-br br0 -- set Bridge br0 datapath_type=netdev"), "{tx}");
        assert!(tx.contains("-- --may-exist add-port br0 eth0 --"), "{tx}");
        assert!(
            tx.contains("-- --may-exist add-port br0 vlan100 -- set Port vlan100 tag=100"),
            "{tx}"
        );
        assert!(
            tx.contains("-- --may-exist add-port br0 tap9 --"),
            "bare port: {tx}"
        );
        assert!(
            tx.ends_with("-- set bridge br0 stp_enable=false"),
            "only the bridge's ovs_extra: {tx}"
        );
        assert!(!tx.contains("hostname"), "{tx}");
        assert_eq!(l[1], "# check: Interface br0 got an ofport and no error");
        assert_eq!(l[2], "ip link set dev br0 up");
        assert_eq!(l[3], "ip link set dev tap9 up");
        assert_eq!(l[4], "ifup --allow=br0 eth0 vlan100");
        // configured ports are not brought up again
        let l = plan_lines(pre_up, "br0", &Observed::default(), &|p| p == "eth0");
        assert_eq!(l.last().unwrap(), "ifup --allow=br0 vlan100");
    }

    #[test]
    fn port_before_its_bridge_creates_it_with_the_bridges_options() {
        let l = plan_lines(pre_up, "eth0", &Observed::default(), &|_| false);
        let tx = &l[0];
        assert!(
            tx.starts_with("ovs-vsctl --timeout=10 -- --may-exist add-br br0 -- set Bridge br0 datapath_type=netdev"),
            "{tx}"
        );
        assert!(tx.contains("-- set bridge br0 stp_enable=false"), "{tx}");
        assert!(!tx.contains("vlan100"), "{tx}");
        assert_eq!(
            l[1..],
            [
                "# check: Interface br0 eth0 got an ofport and no error",
                "sysctl -w net.ipv6.conf.eth0.disable_ipv6=1",
                "ip link set dev eth0 up"
            ]
        );
        // bridge exists: its settings converge, its ovs_extra waits for its own ifup
        let o = observed(&[("br0", &[])]);
        let l = plan_lines(pre_up, "eth0", &o, &|_| false);
        assert!(!l[0].contains("stp_enable"), "{}", l[0]);
    }

    #[test]
    fn port_on_a_vlan_bridge_creates_parent_and_vlan_bridge() {
        let l = plan_lines(pre_up, "vm1", &Observed::default(), &|_| false);
        let tx = &l[0];
        let a = tx.find("add-br br0 --").unwrap();
        let b = tx.find("add-br v2 br0 2").unwrap();
        let c = tx.find("add-port v2 vm1").unwrap();
        assert!(a < b && b < c, "{tx}");
        // v2 has a fixed MAC: br0's MAC is pinned
        assert!(tx.contains("other_config:hwaddr="), "{tx}");
    }

    #[test]
    fn bridge_down_takes_configured_ports_down_first() {
        let l = plan_lines(pre_down, "br0", &Observed::default(), &|p| p != "eth0");
        assert_eq!(l, ["ifdown vm1 v2 vlan100"]);
        assert!(plan_lines(pre_down, "eth0", &Observed::default(), &|_| true).is_empty());
    }

    #[test]
    fn post_down_removes_ours() {
        let o = observed(&[(
            "br0",
            &[
                ("eth0", None, false, true, &[]),
                ("vnet7", None, false, false, &[]),
            ],
        )]);
        let l = plan_lines(post_down, "eth0", &o, &|_| true);
        assert_eq!(
            l,
            [
                "ip link set dev eth0 down",
                "sysctl -w net.ipv6.conf.eth0.disable_ipv6=0",
                "ovs-vsctl --timeout=10 -- --if-exists del-port eth0"
            ]
        );
        let l = plan_lines(post_down, "br0", &o, &|_| true);
        assert_eq!(l.len(), 2, "{l:?}");
        assert!(l[1].starts_with("# warning: br0: bridge kept"), "{l:?}");
        // bridge already gone: nothing, quietly
        assert!(plan_lines(post_down, "vm1", &Observed::default(), &|_| true).is_empty());
    }

    fn batch(names: &[&str], text: &str, o: &Observed) -> BatchUp {
        let c = Config::parse_str(text, Path::new("/etc/network/interfaces")).unwrap();
        let s = Scene::new(None, Some(c), None, "start", "pre-up");
        let inp = fake_inputs(&s, o, &|_| false, &|d| d == "eth0");
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        pre_up_batch(&inp, &names)
    }

    fn count(tx: &str, what: &str) -> usize {
        tx.matches(what).count()
    }

    #[test]
    fn batch_is_one_transaction_for_all_with_each_ovs_extra() {
        let b = batch(
            &["br0", "eth0", "vlan100", "v2", "vm1"],
            FILE,
            &Observed::default(),
        );
        let tx = crate::sys::words::shell_line(&b.tx.argv(10));
        let names: Vec<&str> = b.covered.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["br0", "eth0", "vlan100", "v2"], "{:?}", b.skipped);
        assert_eq!(b.skipped.len(), 1);
        assert_eq!(b.skipped[0].0, "vm1");
        assert!(b.skipped[0].1.contains("no device vm1"), "{:?}", b.skipped);
        assert_eq!(count(&tx, "add-br br0 "), 1, "{tx}");
        assert_eq!(count(&tx, "add-port br0 eth0 "), 1, "{tx}");
        assert_eq!(count(&tx, "add-port br0 vlan100 "), 1, "{tx}");
        assert!(tx.find("add-br br0 ").unwrap() < tx.find("add-br v2 br0 2").unwrap());
        // ovs_extra of the bridge and of the port (a port's own pre-up adds it)
        assert_eq!(count(&tx, "stp_enable=false"), 1, "{tx}");
        assert_eq!(count(&tx, "external-ids:iface-id="), 1, "{tx}");
        let eth0 = &b.covered[1];
        assert_eq!(eth0.check, ["br0", "eth0"]);
        assert_eq!(
            eth0.sysctls,
            [Step::Sysctl(Sysctl::disable_ipv6("eth0", true))]
        );
        assert_eq!(eth0.links, [("eth0".to_string(), false)]);
        assert_eq!(
            b.covered[0].links,
            [("br0".to_string(), false), ("tap9".to_string(), false)]
        );
    }

    #[test]
    fn batch_leaves_broken_ones_to_their_own_hook() {
        let text = FILE.replace("ovs_options tag=100", "ovs_options 'unterminated");
        let b = batch(&["br0", "eth0", "vlan100"], &text, &Observed::default());
        let names: Vec<&str> = b.covered.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["br0", "eth0"]);
        assert_eq!(b.skipped[0].0, "vlan100");
        let tx = crate::sys::words::shell_line(&b.tx.argv(10));
        assert!(!tx.contains("vlan100"), "{tx}");
        // nothing to batch: an empty transaction
        let b = batch(&["vm1"], FILE, &Observed::default());
        assert!(b.tx.is_empty() && b.covered.is_empty());
        // a change that would destroy a foreign port: left out
        let o = observed(&[("v2", &[("vnet0", None, false, false, &[])])]);
        let b = batch(&["br0", "v2"], FILE, &o);
        assert_eq!(b.covered.len(), 1);
        assert_eq!(b.skipped[0].0, "v2");
        assert!(b.skipped[0].1.contains("vnet0"), "{:?}", b.skipped);
    }

    #[test]
    fn deferred_post_down_is_post_down_without_ovs() {
        let o = observed(&[("br0", &[("eth0", None, false, true, &[])])]);
        let s = scene();
        let inp = fake_inputs(&s, &o, &|_| true, &|d| d == "eth0");
        let (plan, t) = post_down_deferred(&inp, "eth0").unwrap();
        assert_eq!(
            plan.lines(),
            [
                "ip link set dev eth0 down",
                "sysctl -w net.ipv6.conf.eth0.disable_ipv6=0"
            ]
        );
        assert_eq!(t.name, "eth0");
        assert_eq!(t.bridge.as_deref(), Some("br0"));
        assert!(!t.is_bridge);
        let (plan, t) = post_down_deferred(&inp, "br0").unwrap();
        assert!(plan.is_empty());
        assert!(t.is_bridge);
        assert_eq!(
            t.mine.iter().map(String::as_str).collect::<Vec<_>>(),
            ["eth0", "tap9", "v2", "vlan100", "vm1"]
        );
    }

    #[test]
    fn undeclared_missing_bridge_is_a_clear_error() {
        let text = "iface p1 inet manual\n  ovs_type OVSIntPort\n  ovs_bridge nosuch\n";
        let c = Config::parse_str(text, Path::new("/etc/network/interfaces")).unwrap();
        let s = Scene::new(None, Some(c), None, "start", "pre-up");
        let empty = Observed::default();
        let inp = fake_inputs(&s, &empty, &|_| false, &|_| false);
        let e = pre_up(&inp, "p1").unwrap_err().to_string();
        assert_eq!(
            e,
            "p1: bridge nosuch does not exist in OVS and /etc/network/interfaces has no OVSBridge stanza for it"
        );
    }

    #[test]
    fn a_broken_port_does_not_fail_its_bridge() {
        let text = FILE.replace("ovs_options tag=100", "ovs_options 'unterminated");
        let c = Config::parse_str(&text, Path::new("/etc/network/interfaces")).unwrap();
        let s = Scene::new(None, Some(c), None, "start", "pre-up");
        let empty = Observed::default();
        let inp = fake_inputs(&s, &empty, &|_| false, &|_| false);
        let l = pre_up(&inp, "br0").unwrap().lines();
        assert!(
            l[0].starts_with("# warning: vlan100 (in ovs_ports of br0)"),
            "{l:?}"
        );
        assert!(!l[1].contains("vlan100"), "{l:?}");
        assert!(
            l.last().unwrap().ends_with("eth0 vlan100"),
            "its hook still runs: {l:?}"
        );
    }

    const HA: &str = "\
auto ovsbr0
iface ovsbr0 inet manual
  ovs_type OVSBridge
  ovs_datapath_type netdev

iface p1 inet static
  address 192.0.2.50/24
  gateway 192.0.2.1
  ovs_type OVSIntPort
  ovs_bridge ovsbr0
  ovs_mac 02:00:00:00:00:01
  ovs_route_table 100
  ovs_route_pref 900
  ovs_route 198.51.100.0/24 via 192.0.2.254
  ovs_route 2001:db8:1::/48 via 2001:db8::ff
  ovs_arp_ignore 1
  ovs_arp_announce 2

iface p1 inet6 static
  address 2001:db8::1
  netmask 64
";

    fn ha_lines(
        text: &str,
        hook: Option<&HookEnv>,
        f: fn(&Inputs, &str) -> Result<Plan, PlanError>,
    ) -> Result<Vec<String>, String> {
        let c = Config::parse_str(text, Path::new("/etc/network/interfaces")).unwrap();
        let s = Scene::new(None, Some(c), hook, "start", "post-up");
        let empty = Observed::default();
        let inp = fake_inputs(&s, &empty, &|_| false, &|_| false);
        f(&inp, "p1").map(|p| p.lines()).map_err(|e| e.to_string())
    }

    #[test]
    fn plan_shows_source_routing_of_every_stanza() {
        let l = ha_lines(HA, None, post_up).unwrap();
        assert_eq!(l.len(), 2, "{l:#?}");
        assert_eq!(
            l[0].lines().collect::<Vec<_>>()[1..],
            [
                "route add 192.0.2.0/24 dev p1 src 192.0.2.50 table 100 proto 79",
                "route add default via 192.0.2.1 dev p1 table 100 proto 79",
                "route add 198.51.100.0/24 via 192.0.2.254 table 100 proto 79",
                "rule add from 192.0.2.50 table 100 pref 900 protocol 79",
                "EOF"
            ]
        );
        assert!(l[1].starts_with("ip -6 -batch - <<EOF"), "{}", l[1]);
        assert!(l[1].contains("\nroute add 2001:db8::/64 dev p1 table 100 proto 79\n"));
        assert!(l[1].contains("\nroute add 2001:db8:1::/48 via 2001:db8::ff table 100 proto 79\n"));
        assert!(l[1].contains("\nrule add from 2001:db8::1 table 100 pref 900 protocol 79\n"));
        assert!(ha_lines(HA, None, pre_down).unwrap().is_empty());
        let d = ha_lines(HA, None, post_down).unwrap();
        let n = d.len();
        assert!(d[n - 2].contains("\nrule del from 192.0.2.50 table 100 pref 900 protocol 79\n"));
        assert!(d[n - 1].starts_with("ip -6 -batch"), "{d:#?}");
    }

    #[test]
    fn a_hook_run_routes_its_own_stanza_only() {
        let env: Vec<(String, String)> = [
            ("IFACE", "p1"),
            ("ADDRFAM", "inet6"),
            ("METHOD", "static"),
            ("MODE", "start"),
            ("PHASE", "post-up"),
            ("IF_ADDRESS", "2001:db8::1"),
            ("IF_NETMASK", "64"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let h = HookEnv::from_vars(env).unwrap();
        let l = ha_lines(HA, Some(&h), post_up).unwrap();
        assert_eq!(l.len(), 1, "{l:#?}");
        assert!(l[0].starts_with("ip -6 -batch"), "{}", l[0]);
        // a dhcp stanza: nothing, and a warning for its family's routes
        let env6: Vec<(String, String)> = h
            .env()
            .into_iter()
            .map(|(k, v)| match k.as_str() {
                "METHOD" => (k, "auto".to_string()),
                _ => (k, v),
            })
            .collect();
        let h6 = HookEnv::from_vars(env6).unwrap();
        let l = ha_lines(HA, Some(&h6), post_up).unwrap();
        assert_eq!(l.len(), 1, "{l:#?}");
        assert!(
            l[0].starts_with("# warning: p1: ovs_route: the inet6 routes"),
            "{l:?}"
        );
    }

    #[test]
    fn arp_sysctls_before_link_up_and_back_to_defaults_on_down() {
        let l = ha_lines(HA, None, pre_up).unwrap();
        let n = l.len();
        assert_eq!(
            l[n - 3..],
            [
                "sysctl -w net.ipv4.conf.p1.arp_ignore=1",
                "sysctl -w net.ipv4.conf.p1.arp_announce=2",
                "ip link set dev p1 up",
            ]
        );
        let d = ha_lines(HA, None, post_down).unwrap();
        assert_eq!(
            d[..2],
            [
                "sysctl -w net.ipv4.conf.p1.arp_ignore=\"$(sysctl -n net.ipv4.conf.default.arp_ignore)\"  # if p1 exists",
                "sysctl -w net.ipv4.conf.p1.arp_announce=\"$(sysctl -n net.ipv4.conf.default.arp_announce)\"  # if p1 exists",
            ]
        );
    }

    #[test]
    fn bad_routing_fails_before_anything_is_done() {
        let text = HA.replace("via 192.0.2.254", "via 192.0.2.254 table 5");
        let e = ha_lines(&text, None, pre_up).unwrap_err();
        assert!(e.starts_with("p1: ovs_route: \"198.51.100.0/24"), "{e}");
        assert!(e.contains("names its own table"), "{e}");
        let text = HA.replace("address 2001:db8::1\n", "address 192.0.2.9\n");
        let e = ha_lines(&text, None, pre_up).unwrap_err();
        assert!(e.starts_with("p1: inet6 stanza: address:"), "{e}");
    }

    #[test]
    fn phases() {
        assert_eq!(Phase::from_hook("start", "pre-up"), Some(Phase::PreUp));
        assert_eq!(Phase::from_hook("stop", "post-down"), Some(Phase::PostDown));
        assert_eq!(Phase::from_hook("x", "y"), None);
        assert_eq!(Phase::PostUp.dir(), "if-up.d");
    }

    #[test]
    fn new_inputs_read_this_host() {
        let s = scene();
        let o = Observed::default();
        let inp = Inputs::new(&s, &o, 7, &|_| true);
        assert_eq!(inp.timeout, 7);
        assert!((inp.link_exists)("lo"));
        assert!(!(inp.link_exists)("surely-not-a-dev"));
        let want = std::fs::read_to_string("/proc/sys/net/ipv6/conf/default/disable_ipv6")
            .is_ok_and(|v| v.trim() == "1");
        assert_eq!(inp.ipv6_default, want);
    }
}
