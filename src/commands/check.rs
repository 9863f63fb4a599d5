//! `ifupdown-ovs check`: lint a whole interfaces file. Every interface's `ovs_*`
//! options are validated (all its stanzas merged, as in [`options::for_interface`]),
//! then the interfaces are checked against each other: bridges and their ports, patch
//! peers, VLAN bridge parents, duplicate MACs. Options that are not ours are left alone.

use std::collections::HashMap;
use std::fmt;

use crate::cli::CheckArgs;
use crate::config::model::{Mac, OvsIface, OvsType};
use crate::config::options::{self, Analysis, short_pos};
use crate::error::Error;
use crate::interfaces::{Config, ParseError, Position};

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

/// One finding, printed as `FILE:LINE: error: OPTION: MESSAGE`.
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
            Some(p) => write!(f, "{p}: {}: {}", self.severity, self.message),
            None => write!(f, "{}: {}: {}", self.iface, self.severity, self.message),
        }
    }
}

/// Load, check, print one diagnostic per line on stdout. Exit status 1 when there is
/// an error (a parse error included), else 0.
pub fn run(args: &CheckArgs) -> Result<i32, Error> {
    let cfg = match Config::load(&args.file.interfaces) {
        Ok(cfg) => cfg,
        Err(ParseError::Syntax { pos, message }) => {
            println!("{pos}: error: {message}");
            return Ok(1);
        }
        Err(e) => return Err(e.into()),
    };
    let diags = check_config(&cfg, &CheckEnv::default());
    for d in &diags {
        println!("{d}");
    }
    let failed = diags.iter().any(|d| d.severity == Severity::Error);
    Ok(i32::from(failed))
}

/// Every diagnostic for `cfg`, sorted by file (in the order read) and line.
pub fn check_config(cfg: &Config, env: &CheckEnv) -> Vec<Diagnostic> {
    let mut names: Vec<&str> = Vec::new();
    for st in &cfg.ifaces {
        if !names.contains(&st.name.as_str()) {
            names.push(&st.name);
        }
    }
    let all: HashMap<&str, Analysis> = names
        .iter()
        .map(|n| (*n, options::for_interface(cfg, n, &env.options)))
        .collect();
    let mut out: Vec<Diagnostic> = cfg
        .warnings
        .iter()
        .map(|w| Diagnostic {
            pos: Some(w.pos.clone()),
            iface: String::new(),
            severity: Severity::Warning,
            message: w.message.clone(),
        })
        .collect();
    for name in &names {
        let a = &all[name];
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
    let whole = Whole { cfg, all: &all };
    for name in &names {
        let a = &all[name];
        if let Some(m) = &a.iface {
            whole.check(m, a, &mut out);
        }
    }
    whole.duplicate_macs(&names, &mut out);
    sort(cfg, &mut out);
    out
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

/// How another interface looks from here.
enum Other<'a> {
    /// No stanza at all.
    Absent,
    /// A stanza without a usable `ovs_type` (not ours, or already reported).
    NotOvs {
        has_type: bool,
    },
    Ovs(&'a OvsIface),
}

impl<'a> Whole<'a> {
    fn lookup(&self, name: &str) -> Other<'a> {
        match self.all.get(name) {
            None => Other::Absent,
            Some(a) => match &a.iface {
                Some(m) => Other::Ovs(m),
                None => Other::NotOvs {
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

    fn check(&self, m: &OvsIface, a: &Analysis, out: &mut Vec<Diagnostic>) {
        let mut err = |option: &str, message: String| {
            out.push(Diagnostic {
                pos: a.pos_of(option).cloned(),
                iface: m.name.clone(),
                severity: Severity::Error,
                message: format!("{option}: {message}"),
            })
        };
        if let Some(bridge) = &m.bridge {
            match self.lookup(bridge) {
                Other::Absent => err("ovs_bridge", format!("no stanza for bridge {bridge}")),
                Other::NotOvs { has_type: false } => err(
                    "ovs_bridge",
                    format!(
                        "{bridge} is not an OVSBridge (its stanza{} has no ovs_type)",
                        self.stanza_at(bridge, a.pos_of("ovs_bridge"))
                    ),
                ),
                Other::Ovs(b) if b.kind != OvsType::Bridge => err(
                    "ovs_bridge",
                    format!("{bridge} is an {}, not an OVSBridge", b.kind),
                ),
                _ => {}
            }
        }
        for port in &m.ports {
            let at = self.stanza_at(port, a.pos_of("ovs_ports"));
            match self.lookup(port) {
                Other::Absent => err("ovs_ports", format!("no stanza for port {port}")),
                Other::NotOvs { has_type: false } => err(
                    "ovs_ports",
                    format!("{port} has no ovs_type (its stanza{at})"),
                ),
                Other::Ovs(p) if p.kind == OvsType::Bridge => {
                    err("ovs_ports", format!("{port} is an OVSBridge, not a port"))
                }
                Other::Ovs(p) => match &p.bridge {
                    Some(b) if *b != m.name => err(
                        "ovs_ports",
                        format!("{port} belongs to bridge {b} (its stanza{at})"),
                    ),
                    _ => {}
                },
                Other::NotOvs { has_type: true } => {}
            }
        }
        if let Some(peer) = &m.patch_peer {
            match self.lookup(peer) {
                Other::Absent => err("ovs_patch_peer", format!("no stanza for peer {peer}")),
                Other::Ovs(p) if p.kind != OvsType::PatchPort => err(
                    "ovs_patch_peer",
                    format!("{peer} is an {}, not an OVSPatchPort", p.kind),
                ),
                Other::NotOvs { has_type: false } => err(
                    "ovs_patch_peer",
                    format!(
                        "{peer} is not an OVSPatchPort (its stanza{} has no ovs_type)",
                        self.stanza_at(peer, a.pos_of("ovs_patch_peer"))
                    ),
                ),
                Other::Ovs(p) => match &p.patch_peer {
                    Some(back) if *back != m.name => err(
                        "ovs_patch_peer",
                        format!(
                            "{peer} is not reciprocal: its peer is {back}, not {}",
                            m.name
                        ),
                    ),
                    _ => {}
                },
                Other::NotOvs { has_type: true } => {}
            }
        }
        if let Some(fake) = &m.fake {
            let option = ["ovs_vlan_parent", "ovs_bridge", "ovs_options"]
                .into_iter()
                .find(|o| a.positions.contains_key(*o))
                .unwrap_or("ovs_vlan_parent");
            let parent = &fake.parent;
            match self.lookup(parent) {
                Other::Absent => err(option, format!("no stanza for parent bridge {parent}")),
                Other::NotOvs { has_type: false } => err(
                    option,
                    format!(
                        "parent {parent} is not an OVSBridge (its stanza{} has no ovs_type)",
                        self.stanza_at(parent, a.pos_of(option))
                    ),
                ),
                Other::Ovs(p) if p.kind != OvsType::Bridge => err(
                    option,
                    format!("parent {parent} is an {}, not an OVSBridge", p.kind),
                ),
                Other::Ovs(p) if p.fake.is_some() => {
                    err(option, format!("parent {parent} is itself a VLAN bridge"))
                }
                Other::Ovs(p) => {
                    if let Some(dp) = &m.datapath_type
                        && p.datapath_type.as_ref() != Some(dp)
                    {
                        out.push(Diagnostic {
                            pos: a.pos_of("ovs_datapath_type").cloned(),
                            iface: m.name.clone(),
                            severity: Severity::Warning,
                            message: format!(
                                "ovs_datapath_type: a VLAN bridge uses the datapath of its parent {parent} ({})",
                                p.datapath_type.as_deref().unwrap_or("system, the default")
                            ),
                        });
                    }
                }
                Other::NotOvs { has_type: true } => {}
            }
        }
    }

    /// The same fixed MAC (`ovs_mac`, or `hwaddress` standing for it) on two OVS
    /// interfaces. Other interfaces may share MACs on purpose (VLAN devices, bonds).
    /// When both come from one template line, the second interface's stanza is named.
    fn duplicate_macs(&self, names: &[&str], out: &mut Vec<Diagnostic>) {
        let mut seen: Vec<(Mac, &str, Option<Position>)> = Vec::new();
        for name in names {
            let a = &self.all[name];
            let Some(mac) = a.iface.as_ref().and_then(|m| m.mac) else {
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
