//! Lint a whole configuration: every interface's `ovs_*` options are validated (all
//! its stanzas merged, as in [`options::for_interface`]), then the interfaces are
//! checked against each other: bridges and their ports, patch peers, VLAN bridge
//! parents, duplicate MACs. Options that are not ours are left alone, except the
//! `address`/`netmask`/`gateway` of our interfaces' static stanzas, which the hook
//! (source routing) and `reload` (changes in place) read too.
//!
//! Used by `ifupdown-ovs check` (which prints the [`Diagnostic`]s) and by the OCF
//! agent (which checks the configuration as ifup will see it). It lives in the
//! configuration layer so that both entry points use it from below.

use std::collections::HashMap;
use std::fmt;

use crate::config::model::{Bridge, Mac, OvsIface, OvsType};
use crate::config::options::{self, Analysis, Draft, short_pos};
use crate::config::schema;
use crate::interfaces::{Config, Position};
use crate::net::addr::{Family, StaticError, parse_static};

/// What the checks may look up outside the configuration.
#[derive(Debug, Clone, Default)]
pub struct CheckEnv {
    /// Where routing table names are looked up.
    pub options: options::Context,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// One finding, printed as `FILE:LINE: error: IFACE: OPTION: MESSAGE` (without
/// `IFACE: ` for a finding about the file itself, and with `IFACE` in the place of
/// `FILE:LINE` when there is no position).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub pos: Option<Position>,
    /// The interface it is about (printed instead of a position when there is none).
    pub iface: String,
    pub severity: Severity,
    /// `OPTION: what is wrong`.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.pos {
            Some(p) if self.iface.is_empty() => {
                write!(f, "{p}: {}: {}", self.severity, self.message)
            }
            Some(p) => write!(
                f,
                "{p}: {}: {}: {}",
                self.severity, self.iface, self.message
            ),
            None => write!(f, "{}: {}: {}", self.iface, self.severity, self.message),
        }
    }
}

/// Every diagnostic for `cfg`, sorted by file (in the order read) and line.
pub fn check_config(cfg: &Config, env: &CheckEnv) -> Vec<Diagnostic> {
    let names = interface_names(cfg);
    let all: HashMap<&str, Analysis> = names
        .iter()
        .map(|n| (*n, options::for_interface(cfg, n, &env.options)))
        .collect();
    let mut out = file_warnings(cfg);
    for name in &names {
        option_findings(name, &all[name], &mut out);
    }
    let whole = Whole { cfg, all: &all };
    for name in &names {
        let a = &all[name];
        if a.kind.is_some() {
            whole.check(name, a, &mut out);
            static_addresses(cfg, name, &mut out);
        }
    }
    whole.duplicate_macs(&names, &mut out);
    out.extend(schema_unreadable(all.values()));
    sort(cfg, &mut out);
    out
}

/// The static stanzas of our interface `name`: an address, netmask or gateway
/// that does not parse is an error at its line, as the hook and `reload` would
/// refuse it (`PlanError::Static`).
fn static_addresses(cfg: &Config, name: &str, out: &mut Vec<Diagnostic>) {
    for st in cfg.stanzas(name).filter(|st| st.method == "static") {
        let Some(family) = Family::from_addrfam(&st.family) else {
            continue;
        };
        let opts = cfg.resolved_options(st);
        let all = |k: &'static str| opts.iter().filter(move |o| o.name == k);
        let first = |k: &'static str| all(k).next().map(|o| o.value.as_str());
        let addresses: Vec<&str> = all("address").map(|o| o.value.as_str()).collect();
        let Err(e) = parse_static(
            family,
            &addresses.join("\n"),
            first("netmask"),
            first("gateway"),
        ) else {
            continue;
        };
        let option = match e {
            StaticError::Netmask(_) => "netmask",
            StaticError::Address(_) => "address",
            StaticError::Gateway(_) => "gateway",
        };
        out.push(Diagnostic {
            pos: Some(all(option).next().map_or(&st.pos, |o| &o.pos).clone()),
            iface: name.to_string(),
            severity: Severity::Error,
            message: format!("{} stanza: {e}", family.addrfam()),
        });
    }
}

/// The options whose words are checked against the OVS schema.
const SCHEMA_CHECKED: &[&str] = &["ovs_options", "ovs_tunnel_options", "ovs_extra"];

/// One warning, for the whole file, when the installed OVS schema cannot be read
/// and some interface has words that would be checked against it.
fn schema_unreadable<'a>(all: impl IntoIterator<Item = &'a Analysis>) -> Option<Diagnostic> {
    let e = schema::installed().err()?;
    let mut all = all.into_iter();
    all.any(|a| SCHEMA_CHECKED.iter().any(|o| a.positions.contains_key(*o)))
        .then(|| Diagnostic {
            pos: None,
            iface: e.path().display().to_string(),
            severity: Severity::Warning,
            message: format!(
                "{}: the words of {} are not checked against the OVS schema",
                e.reason(),
                SCHEMA_CHECKED.join(", ")
            ),
        })
}

/// Each interface name once, in the order of its first stanza.
fn interface_names(cfg: &Config) -> Vec<&str> {
    cfg.names()
}

/// The warnings of reading the file (a sourced file that failed, ...).
fn file_warnings(cfg: &Config) -> Vec<Diagnostic> {
    cfg.warnings
        .iter()
        .map(|w| Diagnostic {
            pos: Some(w.pos.clone()),
            iface: String::new(),
            severity: Severity::Warning,
            message: w.message.clone(),
        })
        .collect()
}

/// The errors and warnings of one interface's own options.
fn option_findings(name: &str, a: &Analysis, out: &mut Vec<Diagnostic>) {
    for e in &a.errors {
        out.push(Diagnostic {
            pos: e.pos().cloned(),
            iface: name.to_string(),
            severity: Severity::Error,
            message: format!("{}: {}", e.option(), e.message()),
        });
    }
    for w in &a.warnings {
        out.push(Diagnostic {
            pos: w.pos.clone(),
            iface: name.to_string(),
            severity: Severity::Warning,
            message: format!("{}: {}", w.option, w.message),
        });
    }
}

/// By file in the order read, then line; diagnostics without a position last.
fn sort(cfg: &Config, out: &mut [Diagnostic]) {
    let file_rank = |p: &Position| {
        cfg.files
            .iter()
            .position(|f| *f == p.file)
            .unwrap_or(usize::MAX)
    };
    out.sort_by_key(|d| match &d.pos {
        Some(p) => (0, file_rank(p), p.file.clone(), p.line),
        None => (1, 0, Default::default(), 0),
    });
}

/// Checks across interfaces.
struct Whole<'a> {
    cfg: &'a Config,
    all: &'a HashMap<&'a str, Analysis>,
}

/// How another interface looks from here. An interface of ours is compared by its
/// kind and its draft (see [`Draft`]), so that one with an error of its own (a
/// missing bridge, say) is still checked against the others.
enum Other<'a> {
    /// No stanza at all.
    Absent,
    /// A stanza without a usable `ovs_type` (not ours, or already reported).
    NotOvs {
        has_type: bool,
    },
    Bridge(&'a Bridge),
    /// Any other kind.
    Port(OvsType, &'a Draft),
}

/// Where the findings about one interface go, positioned at its options.
struct Findings<'a, 'o> {
    name: &'a str,
    a: &'a Analysis,
    out: &'o mut Vec<Diagnostic>,
}

impl Findings<'_, '_> {
    fn push(&mut self, severity: Severity, option: &str, message: String) {
        self.out.push(Diagnostic {
            pos: self.a.pos_of(option).cloned(),
            iface: self.name.to_string(),
            severity,
            message: format!("{option}: {message}"),
        });
    }

    fn err(&mut self, option: &str, message: String) {
        self.push(Severity::Error, option, message);
    }
}

impl<'a> Whole<'a> {
    fn lookup(&self, name: &str) -> Other<'a> {
        match self.all.get(name) {
            None => Other::Absent,
            Some(a) => match (a.kind, a.iface.as_ref().and_then(OvsIface::as_bridge)) {
                (Some(OvsType::Bridge), Some(b)) => Other::Bridge(b),
                (Some(kind), _) if kind != OvsType::Bridge => Other::Port(kind, &a.draft),
                // A bridge always has a model; without one it reads as reported.
                _ => Other::NotOvs {
                    has_type: a.positions.contains_key("ovs_type"),
                },
            },
        }
    }

    /// ` at line N` or ` at FILE:N` for the first stanza of `name`, seen from `here`.
    fn stanza_at(&self, name: &str, here: Option<&Position>) -> String {
        self.cfg.stanzas(name).next().map_or(String::new(), |st| {
            format!(" at {}", short_pos(&st.pos, here))
        })
    }

    /// Everything interface `name` names must exist and be of the right kind.
    fn check(&self, name: &str, a: &Analysis, out: &mut Vec<Diagnostic>) {
        let mut f = Findings { name, a, out };
        if let Some(bridge) = &a.draft.bridge {
            self.bridge(bridge, &mut f);
        }
        let own = a.iface.as_ref().and_then(OvsIface::as_bridge);
        for port in own.iter().flat_map(|b| &b.ports) {
            self.port(port, &mut f);
        }
        if let Some(peer) = &a.draft.patch_peer {
            self.patch_peer(peer, &mut f);
        }
        if let Some(b) = own
            && let Some(fake) = &b.vlan_of
        {
            self.vlan_parent(&fake.parent, b, &mut f);
        }
    }

    /// `ovs_bridge` of a port: an OVSBridge.
    fn bridge(&self, bridge: &str, f: &mut Findings) {
        match self.lookup(bridge) {
            Other::Absent => f.err("ovs_bridge", format!("no stanza for bridge {bridge}")),
            Other::NotOvs { has_type: false } => {
                let at = self.stanza_at(bridge, f.a.pos_of("ovs_bridge"));
                f.err(
                    "ovs_bridge",
                    format!("{bridge} is not an OVSBridge (its stanza{at} has no ovs_type)"),
                )
            }
            Other::Port(kind, _) => f.err(
                "ovs_bridge",
                format!("{bridge} is an {kind}, not an OVSBridge"),
            ),
            _ => {}
        }
    }

    /// One of `ovs_ports` of a bridge: a port that names this bridge (or none).
    fn port(&self, port: &str, f: &mut Findings) {
        let at = self.stanza_at(port, f.a.pos_of("ovs_ports"));
        match self.lookup(port) {
            Other::Absent => f.err("ovs_ports", format!("no stanza for port {port}")),
            Other::NotOvs { has_type: false } => f.err(
                "ovs_ports",
                format!("{port} has no ovs_type (its stanza{at})"),
            ),
            Other::Bridge(_) => f.err("ovs_ports", format!("{port} is an OVSBridge, not a port")),
            Other::Port(_, p) => match &p.bridge {
                Some(b) if b != f.name => f.err(
                    "ovs_ports",
                    format!("{port} belongs to bridge {b} (its stanza{at})"),
                ),
                _ => {}
            },
            Other::NotOvs { has_type: true } => {}
        }
    }

    /// `ovs_patch_peer`: an OVSPatchPort whose peer is this one.
    fn patch_peer(&self, peer: &str, f: &mut Findings) {
        match self.lookup(peer) {
            Other::Absent => f.err("ovs_patch_peer", format!("no stanza for peer {peer}")),
            Other::Bridge(_) => f.err(
                "ovs_patch_peer",
                format!("{peer} is an OVSBridge, not an OVSPatchPort"),
            ),
            Other::Port(kind, _) if kind != OvsType::PatchPort => f.err(
                "ovs_patch_peer",
                format!("{peer} is an {kind}, not an OVSPatchPort"),
            ),
            Other::NotOvs { has_type: false } => {
                let at = self.stanza_at(peer, f.a.pos_of("ovs_patch_peer"));
                f.err(
                    "ovs_patch_peer",
                    format!("{peer} is not an OVSPatchPort (its stanza{at} has no ovs_type)"),
                )
            }
            Other::Port(_, p) => match &p.patch_peer {
                Some(back) if back != f.name => {
                    let message = format!(
                        "{peer} is not reciprocal: its peer is {back}, not {}",
                        f.name
                    );
                    f.err("ovs_patch_peer", message)
                }
                _ => {}
            },
            Other::NotOvs { has_type: true } => {}
        }
    }

    /// The parent of VLAN bridge `own`: an OVSBridge that is not a VLAN bridge
    /// itself. Reported at whichever option named it.
    fn vlan_parent(&self, parent: &str, own: &Bridge, f: &mut Findings) {
        let option = ["ovs_vlan_parent", "ovs_bridge", "ovs_options"]
            .into_iter()
            .find(|o| f.a.positions.contains_key(*o))
            .unwrap_or("ovs_vlan_parent");
        match self.lookup(parent) {
            Other::Absent => f.err(option, format!("no stanza for parent bridge {parent}")),
            Other::NotOvs { has_type: false } => {
                let at = self.stanza_at(parent, f.a.pos_of(option));
                f.err(
                    option,
                    format!("parent {parent} is not an OVSBridge (its stanza{at} has no ovs_type)"),
                )
            }
            Other::Port(kind, _) => f.err(
                option,
                format!("parent {parent} is an {kind}, not an OVSBridge"),
            ),
            Other::Bridge(p) if p.vlan_of.is_some() => {
                f.err(option, format!("parent {parent} is itself a VLAN bridge"))
            }
            Other::Bridge(p) => {
                if let Some(dp) = &own.datapath_type
                    && p.datapath_type.as_ref() != Some(dp)
                {
                    let message = format!(
                        "a VLAN bridge uses the datapath of its parent {parent} ({})",
                        p.datapath_type.as_deref().unwrap_or("system, the default")
                    );
                    f.push(Severity::Warning, "ovs_datapath_type", message);
                }
            }
            Other::NotOvs { has_type: true } => {}
        }
    }

    /// The same fixed MAC (`ovs_mac`, or `hwaddress` standing for it) on two OVS
    /// interfaces. Other interfaces may share MACs on purpose (VLAN devices, bonds).
    /// When both come from one template line, the second interface's stanza is named.
    fn duplicate_macs(&self, names: &[&str], out: &mut Vec<Diagnostic>) {
        let mut seen: Vec<(Mac, &str, Option<Position>)> = Vec::new();
        for name in names {
            let a = &self.all[name];
            let Some(mac) = a.draft.mac else {
                continue;
            };
            let option = if a.positions.contains_key("ovs_mac") {
                "ovs_mac"
            } else {
                "hwaddress"
            };
            let mut pos = a.positions.get(option).cloned();
            if let Some((_, first, first_pos)) = seen.iter().find(|(m, _, _)| *m == mac) {
                if pos.is_some() && pos == *first_pos {
                    pos = self.cfg.stanzas(name).next().map(|st| st.pos.clone());
                }
                let at = first_pos.as_ref().map_or(String::new(), |f| {
                    format!(" ({})", short_pos(f, pos.as_ref()))
                });
                out.push(Diagnostic {
                    pos: pos.clone(),
                    iface: name.to_string(),
                    severity: Severity::Error,
                    message: format!("{option}: {mac} is also the MAC of {first}{at}"),
                });
            }
            seen.push((mac, name, pos));
        }
    }
}

#[cfg(test)]
mod tests;
