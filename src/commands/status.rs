//! `ifupdown-ovs status [-i FILE]`: what in OVS is ours and whether it matches the
//! configuration.
//!
//! It reads OVSDB once (read-only) and compares, per OVS interface of the
//! interfaces file: is it in OVS, on the bridge its stanza names, created by us
//! (`external_ids:ifupdown-ovs`), and did OVS report an error for it. It also lists
//! rows marked as ours that no stanza declares any more (left over), and ports that
//! nobody declared (VM taps, veths), which the hooks leave alone. Exit status 0 when
//! nothing is wrong (interfaces that are simply down are not wrong), 1 otherwise.
//!
//! OVS alone does not say whether an interface is up: ifupdown does (its state,
//! `/run/network/ifstate.NAME`, what `ifquery --state` prints). An `ifdown -a`
//! killed midway leaves interfaces that ifupdown has down still in OVS (their
//! removal waits for the end of `ifdown -a`), and a failed `ifup` or a fresh
//! OVS database leaves the opposite. Both are reported, with the command that
//! converges, and are problems when the rows are ours. A bridge that ifupdown
//! has down but that holds ports it has up was created for them: that is right.
//! A port of a bridge that carries the VLAN of one of the bridge's VLAN ("fake")
//! bridges is shown by OVS on that VLAN bridge (`ovs-vsctl port-to-br`); it is on
//! its configured bridge when that is the VLAN bridge or its parent.

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

use crate::cli::StatusArgs;
use crate::config::model::{Bridge, OvsIface, OvsType};
use crate::config::options::{self, Context};
use crate::error::Error;
use crate::hook::{STATE_DIR, is_configured};
use crate::interfaces::Config;
use crate::ovsdb::daemon::{self, Health};
use crate::ovsdb::state::{Observed, PortRow};
use crate::ovsdb::vsctl::Vsctl;

/// How one interface stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// In OVS as configured; `ours` tells whether we created it.
    Up { ours: bool, detail: String },
    /// Not in OVS (not brought up, or already down).
    Down,
    /// In OVS as configured, but ifupdown has it down (an interrupted `ifdown`,
    /// or it was added by other means).
    DownInOvs { ours: bool, detail: String },
    /// A bridge of ours that ifupdown has down, kept in OVS because it holds
    /// ports of others (`ifdown` keeps it and says so).
    Kept(Vec<String>),
    /// ifupdown has it up, but it is not in OVS (a failed or interrupted `ifup`,
    /// or OVS lost its database).
    UpNotInOvs,
    /// In OVS, but not as configured.
    Wrong(String),
    /// Marked as ours, but no stanza declares it.
    Orphan,
    /// In OVS, not declared and not ours: left alone.
    Foreign(String),
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub name: String,
    pub kind: String,
    pub state: State,
}

impl Line {
    /// Whether this line makes the exit status non-zero.
    pub fn is_problem(&self) -> bool {
        matches!(
            self.state,
            State::Wrong(_)
                | State::Orphan
                | State::UpNotInOvs
                | State::DownInOvs { ours: true, .. }
        )
    }
}

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match &self.state {
            State::Up { ours, detail } => {
                let by = if *ours { "ours" } else { "not created by us" };
                format!("up{detail} ({by})")
            }
            State::Down => "down (not in OVS)".to_string(),
            State::DownInOvs { ours, detail } => {
                let by = if *ours { "ours" } else { "not created by us" };
                format!(
                    "down, still in OVS{detail} ({by}): ifupdown has it down; `ifdown --force {0}` \
                     removes it from OVS, `ifup {0}` sets it up",
                    self.name
                )
            }
            State::Kept(others) => format!(
                "down, kept in OVS for ports of others ({})",
                others.join(", ")
            ),
            State::UpNotInOvs => format!(
                "up in ifupdown, but not in OVS: `ifdown --force {0} && ifup {0}` sets it up again",
                self.name
            ),
            State::Wrong(why) => format!("WRONG: {why}"),
            State::Orphan => "ours, but no stanza declares it any more (ifdown it before removing \
                 its stanza, or remove it with ovs-vsctl)"
                .to_string(),
            State::Foreign(on) => format!("on {on}, not declared: left alone"),
        };
        write!(f, "{:<16} {:<12} {what}", self.name, self.kind)
    }
}

fn kind_name(k: OvsType) -> &'static str {
    match k {
        OvsType::Bridge => "bridge",
        OvsType::Port => "port",
        OvsType::IntPort => "int-port",
        OvsType::Bond => "bond",
        OvsType::PatchPort => "patch-port",
        OvsType::Tunnel => "tunnel",
    }
}

/// Errors OVS reports for the interfaces of port (or bridge) `name`.
fn interface_errors(observed: &Observed, name: &str) -> Vec<String> {
    observed
        .interfaces_of(name)
        .iter()
        .filter_map(|i| observed.interface(i))
        .filter_map(|i| {
            i.error
                .as_ref()
                .map(|e| format!("interface {}: {e}", i.row.name))
                .or_else(|| {
                    (i.ofport == Some(-1) && i.kind != "patch")
                        .then(|| format!("interface {}: no OpenFlow port", i.row.name))
                })
        })
        .collect()
}

fn bridge_state(name: &str, b: &Bridge, observed: &Observed) -> State {
    let ours = |owner: Option<&str>| owner == Some(name);
    if let Some(fake) = &b.vlan_of {
        let Some(port) = observed.port(name).filter(|p| p.fake_bridge) else {
            return match observed.bridge(name) {
                Some(_) => State::Wrong(format!(
                    "a real bridge, configured as VLAN {} of {}",
                    fake.vlan.0, fake.parent
                )),
                None => State::Down,
            };
        };
        return match observed.fake_bridge(name) {
            Some((parent, vlan)) if parent == fake.parent && vlan == i64::from(fake.vlan.0) => {
                State::Up {
                    ours: ours(port.row.owner()),
                    detail: format!(" as VLAN {vlan} of {parent}"),
                }
            }
            Some((parent, vlan)) => State::Wrong(format!(
                "VLAN {vlan} of {parent}, configured as VLAN {} of {}",
                fake.vlan.0, fake.parent
            )),
            None => State::Wrong("a VLAN bridge without parent or VLAN".into()),
        };
    }
    match observed.bridge(name) {
        None if observed.fake_bridge(name).is_some() => {
            State::Wrong("a VLAN bridge, configured as a real bridge".into())
        }
        None => State::Down,
        Some(b) => {
            let errors = interface_errors(observed, name);
            if errors.is_empty() {
                State::Up {
                    ours: ours(b.row.owner()),
                    detail: String::new(),
                }
            } else {
                State::Wrong(errors.join("; "))
            }
        }
    }
}

/// A port of any kind, configured on bridge `want` (None when its stanza does not
/// say validly: then any bridge will do).
fn port_state(name: &str, want: Option<&str>, observed: &Observed) -> State {
    let Some(port) = observed.port(name) else {
        return State::Down;
    };
    // OVS shows a port with a VLAN bridge's tag on that VLAN bridge: it is on
    // its configured bridge when that is the VLAN bridge or its real parent
    let shown = observed.bridge_of(name).unwrap_or_default();
    let real = observed
        .parent_of(name)
        .map(|b| b.row.name.clone())
        .unwrap_or_default();
    let on = match want {
        Some(want) if want == real => real,
        Some(want) if want == shown => shown,
        Some(want) => {
            let vlan = if shown == real {
                String::new()
            } else {
                format!(" (VLAN bridge {shown})")
            };
            return State::Wrong(format!("on bridge {real}{vlan}, configured on {want}"));
        }
        None => shown,
    };
    let errors = interface_errors(observed, name);
    if !errors.is_empty() {
        return State::Wrong(errors.join("; "));
    }
    State::Up {
        ours: port.row.owner() == Some(name),
        detail: format!(" on {on}"),
    }
}

/// What ifupdown says of an interface: `Some(true)` when it has it up, `None`
/// when its state is not known (ifupdown's state directory does not exist).
pub type IfState<'a> = &'a dyn Fn(&str) -> Option<bool>;

/// `state` (from OVS) told against ifupdown's state of `name`.
fn against_ifupdown(name: &str, state: State, observed: &Observed, ifstate: IfState) -> State {
    match (state, ifstate(name)) {
        (State::Up { ours, detail }, Some(false)) if !holds_up_ports(observed, name, ifstate) => {
            let others = others_on(observed, name);
            if ours && !others.is_empty() {
                State::Kept(others)
            } else {
                State::DownInOvs { ours, detail }
            }
        }
        (State::Down, Some(true)) => State::UpNotInOvs,
        (s, _) => s,
    }
}

/// The ports on bridge `name` (real or VLAN bridge; none for a port).
fn ports_on_bridge<'o>(observed: &'o Observed, name: &str) -> Vec<&'o PortRow> {
    if observed.fake_bridge(name).is_some() {
        observed.ports_on(name)
    } else {
        observed.ports_of_real(name)
    }
}

/// Whether bridge `name` holds a port, or a VLAN bridge, that ifupdown has up:
/// then it is in OVS for them.
fn holds_up_ports(observed: &Observed, name: &str, ifstate: IfState) -> bool {
    ports_on_bridge(observed, name)
        .iter()
        .any(|p| ifstate(&p.row.name) == Some(true))
}

/// The ports on bridge `name` that are not ours: `ifdown` keeps the bridge
/// for them.
fn others_on(observed: &Observed, name: &str) -> Vec<String> {
    ports_on_bridge(observed, name)
        .iter()
        .filter(|p| p.row.owner().is_none())
        .map(|p| p.row.name.clone())
        .collect()
}

/// The report: configured interfaces in file order, then left-over rows of ours,
/// then undeclared ports.
pub fn report(config: &Config, observed: &Observed, ctx: &Context, ifstate: IfState) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut declared = BTreeSet::new();
    for iface in &config.ifaces {
        if !declared.insert(iface.name.clone()) {
            continue;
        }
        let name = iface.name.as_str();
        let analysis = options::for_interface(config, name, ctx);
        // A port whose options have errors is still reported by its kind and the
        // bridge it names, when it names one validly.
        let bridge = analysis.iface.as_ref().and_then(OvsIface::as_bridge);
        let (kind, state) = match (analysis.kind, bridge) {
            (Some(OvsType::Bridge), Some(b)) => (OvsType::Bridge, bridge_state(name, b, observed)),
            (Some(kind), _) if kind != OvsType::Bridge => {
                let want = analysis.draft.bridge.as_deref();
                (kind, port_state(name, want, observed))
            }
            _ => {
                if !analysis.errors.is_empty() {
                    lines.push(Line {
                        name: name.to_string(),
                        kind: "?".into(),
                        state: State::Wrong("invalid options (see ifupdown-ovs check)".into()),
                    });
                }
                continue;
            }
        };
        lines.push(Line {
            name: name.to_string(),
            kind: kind_name(kind).into(),
            state: against_ifupdown(name, state, observed, ifstate),
        });
    }
    let mut orphans = BTreeSet::new();
    let rows = observed
        .bridges
        .iter()
        .map(|b| &b.row)
        .chain(observed.ports.iter().map(|p| &p.row));
    for row in rows {
        if let Some(owner) = row.owner()
            && !declared.contains(owner)
            && orphans.insert(row.name.clone())
        {
            lines.push(Line {
                name: row.name.clone(),
                kind: "-".into(),
                state: State::Orphan,
            });
        }
    }
    for p in &observed.ports {
        let name = &p.row.name;
        let is_local = observed.bridge(name).is_some();
        if p.row.owner().is_none() && !declared.contains(name) && !is_local && !p.fake_bridge {
            lines.push(Line {
                name: name.clone(),
                kind: "-".into(),
                state: State::Foreign(observed.bridge_of(name).unwrap_or_default()),
            });
        }
    }
    lines
}

pub fn run(args: &StatusArgs) -> Result<i32, Error> {
    let config = Config::load(&args.file.interfaces)?;
    if let Health::Down(why) = daemon::health(Path::new(daemon::RUNDIR)) {
        return Err(Error::OvsNotRunning(why));
    }
    let observed = Observed::read(&Vsctl::default()).map_err(Error::StatusReadOvsdb)?;
    let dir = Path::new(STATE_DIR);
    let known = dir.is_dir();
    let ifstate = |n: &str| known.then(|| is_configured(dir, n));
    let lines = report(&config, &observed, &Context::default(), &ifstate);
    for l in &lines {
        println!("{l}");
    }
    Ok(i32::from(lines.iter().any(Line::is_problem)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ovsdb::state::{BridgeRow, IfaceRow, OWNER_KEY, PortRow, Row};
    use std::path::Path;

    fn row(uuid: &str, name: &str, owner: Option<&str>) -> Row {
        let mut r = Row {
            uuid: uuid.into(),
            name: name.into(),
            ..Row::default()
        };
        if let Some(o) = owner {
            r.external_ids.insert(OWNER_KEY.into(), o.into());
        }
        r
    }

    fn port(name: &str, owner: Option<&str>, tag: Option<i64>, fake: bool) -> PortRow {
        PortRow {
            row: row(&format!("p-{name}"), name, owner),
            interfaces: vec![format!("i-{name}")],
            tag,
            fake_bridge: fake,
        }
    }

    fn iface(name: &str, error: Option<&str>) -> IfaceRow {
        IfaceRow {
            row: row(&format!("i-{name}"), name, None),
            ofport: Some(1),
            error: error.map(str::to_string),
            ..IfaceRow::default()
        }
    }

    /// br0 (ours) with its local port, eth0 (ours), v2 (VLAN 2 fake bridge, ours),
    /// vnet0 (a VM tap nobody declared), old0 (ours, no stanza).
    fn observed(eth0_error: Option<&str>) -> Observed {
        let names = ["br0", "eth0", "v2", "vnet0", "old0"];
        Observed {
            bridges: vec![BridgeRow {
                row: row("b-br0", "br0", Some("br0")),
                ports: names.iter().map(|n| format!("p-{n}")).collect(),
                ..BridgeRow::default()
            }],
            ports: vec![
                port("br0", Some("br0"), None, false),
                port("eth0", Some("eth0"), None, false),
                port("v2", Some("v2"), Some(2), true),
                port("vnet0", None, None, false),
                port("old0", Some("old0"), None, false),
            ],
            interfaces: vec![
                iface("br0", None),
                iface("eth0", eth0_error),
                iface("v2", None),
                iface("vnet0", None),
                iface("old0", None),
            ],
        }
    }

    const CONFIG: &str = "\
iface br0 inet manual
    ovs_type OVSBridge
    ovs_ports eth0
iface eth0 inet manual
    ovs_type OVSPort
    ovs_bridge br0
iface v2 inet manual
    ovs_type OVSBridge
    ovs_vlan_parent br0
    ovs_vlan 3
iface p1 inet manual
    ovs_type OVSIntPort
    ovs_bridge br0
iface plain inet manual
";

    fn lines(observed: &Observed) -> Vec<String> {
        let config = Config::parse_str(CONFIG, Path::new("interfaces")).unwrap();
        report(&config, observed, &Context::default(), &|_| None)
            .iter()
            .map(|l| {
                l.to_string()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    }

    #[test]
    fn reports_ours_down_wrong_orphans_and_foreign() {
        assert_eq!(
            lines(&observed(None)),
            [
                "br0 bridge up (ours)",
                "eth0 port up on br0 (ours)",
                "v2 bridge WRONG: VLAN 2 of br0, configured as VLAN 3 of br0",
                "p1 int-port down (not in OVS)",
                "old0 - ours, but no stanza declares it any more (ifdown it before \
                 removing its stanza, or remove it with ovs-vsctl)",
                "vnet0 - on br0, not declared: left alone",
            ]
        );
    }

    #[test]
    fn interface_error_is_a_problem() {
        let config = Config::parse_str(CONFIG, Path::new("interfaces")).unwrap();
        let report = report(
            &config,
            &observed(Some("could not open")),
            &Context::default(),
            &|_| None,
        );
        let eth0 = report.iter().find(|l| l.name == "eth0").unwrap();
        assert_eq!(
            eth0.state,
            State::Wrong("interface eth0: could not open".into())
        );
        assert!(eth0.is_problem());
        let down = report.iter().find(|l| l.name == "p1").unwrap();
        assert!(!down.is_problem());
    }

    #[test]
    fn invalid_options_report_what_they_can() {
        // eth0 without its bridge (any bridge will do), v2 with an invalid VLAN,
        // p1 of an unknown kind
        let config = CONFIG
            .replace(
                "ovs_type OVSPort\n    ovs_bridge br0\n",
                "ovs_type OVSPort\n",
            )
            .replace("ovs_vlan 3", "ovs_vlan 5000")
            .replace("ovs_type OVSIntPort", "ovs_type OVSIntport");
        let config = Config::parse_str(&config, Path::new("interfaces")).unwrap();
        let shown: Vec<String> = report(&config, &observed(None), &Context::default(), &|_| None)
            .iter()
            .map(|l| {
                l.to_string()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .take(4)
            .collect();
        assert_eq!(
            shown,
            [
                "br0 bridge up (ours)",
                "eth0 port up on br0 (ours)",
                "v2 bridge WRONG: a VLAN bridge, configured as a real bridge",
                "p1 ? WRONG: invalid options (see ifupdown-ovs check)",
            ]
        );
    }

    /// Status lines of CONFIG against `observed`, with ifupdown's state.
    fn lines_with(observed: &Observed, ifstate: IfState) -> Vec<String> {
        let config = Config::parse_str(CONFIG, Path::new("interfaces")).unwrap();
        report(&config, observed, &Context::default(), ifstate)
            .iter()
            .map(|l| {
                l.to_string()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    }

    /// eth0 with the tag of br0's VLAN bridge v2: `port-to-br` says v2.
    #[test]
    fn a_port_with_the_tag_of_a_vlan_bridge_is_on_its_parent() {
        let mut o = observed(None);
        o.ports[1].tag = Some(2);
        let l = lines_with(&o, &|_| None);
        assert_eq!(l[1], "eth0 port up on br0 (ours)");
        // configured on the VLAN bridge itself: right too
        let config = CONFIG.replace("ovs_bridge br0\niface v2", "ovs_bridge v2\niface v2");
        let config = Config::parse_str(&config, Path::new("interfaces")).unwrap();
        let r = report(&config, &o, &Context::default(), &|_| None);
        assert_eq!(
            r[1].state,
            State::Up {
                ours: true,
                detail: " on v2".into()
            }
        );
    }

    #[test]
    fn a_port_on_another_real_bridge_is_wrong() {
        let mut o = observed(None);
        o.ports[1].tag = Some(2);
        o.bridges[0].ports.retain(|p| p != "p-eth0");
        o.bridges.push(BridgeRow {
            row: row("b-br9", "br9", None),
            ports: vec!["p-eth0".into()],
            ..BridgeRow::default()
        });
        let l = lines_with(&o, &|_| None);
        assert_eq!(l[1], "eth0 port WRONG: on bridge br9, configured on br0");
        // configured on a VLAN bridge of br0, but on br0 without its VLAN
        let mut o = observed(None);
        o.ports[1].tag = Some(3);
        let config = CONFIG.replace("ovs_bridge br0\niface v2", "ovs_bridge v2\niface v2");
        let config = Config::parse_str(&config, Path::new("interfaces")).unwrap();
        let r = report(&config, &o, &Context::default(), &|_| None);
        assert_eq!(
            r[1].state,
            State::Wrong("on bridge br0, configured on v2".into())
        );
    }

    /// An `ifdown -a` killed midway: eth0 is down for ifupdown but still in OVS;
    /// br0 is down for ifupdown too, but holds v2, which is up; p1 is up for
    /// ifupdown but not in OVS.
    #[test]
    fn ovs_is_told_against_ifupdown() {
        let up = |n: &str| Some(matches!(n, "v2" | "p1"));
        let o = observed(None);
        let l = lines_with(&o, &up);
        assert_eq!(l[0], "br0 bridge up (ours)");
        assert_eq!(
            l[1],
            "eth0 port down, still in OVS on br0 (ours): ifupdown has it down; \
             `ifdown --force eth0` removes it from OVS, `ifup eth0` sets it up"
        );
        assert_eq!(
            l[3],
            "p1 int-port up in ifupdown, but not in OVS: `ifdown --force p1 && ifup p1` \
             sets it up again"
        );
        let config = Config::parse_str(CONFIG, Path::new("interfaces")).unwrap();
        let r = report(&config, &o, &Context::default(), &up);
        assert!(r[1].is_problem() && r[3].is_problem() && !r[0].is_problem());
        // nothing up in ifupdown: br0 stays for vnet0, which is not ours
        let l = lines_with(&o, &|_| Some(false));
        assert_eq!(
            l[0],
            "br0 bridge down, kept in OVS for ports of others (vnet0)"
        );
        let mut o = observed(None);
        o.ports.retain(|p| p.row.name != "vnet0");
        o.bridges[0].ports.retain(|p| p != "p-vnet0");
        let l = lines_with(&o, &|_| Some(false));
        assert!(
            l[0].starts_with("br0 bridge down, still in OVS (ours)"),
            "{}",
            l[0]
        );
    }
}
