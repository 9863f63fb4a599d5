//! The table of known options (which kinds they apply to, how repeats combine) and
//! the collection of raw options into one value per option.

use std::collections::BTreeMap;

use super::RawOption;
use super::diag::{Diag, Kind, short_pos};
use super::values::check_ifname;
use crate::config::model::{OvsType, ValueError};
use crate::config::suggest::did_you_mean;
use crate::interfaces::Position;

/// How repeated values of one option combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Multi {
    /// One value; repeats must agree.
    Single,
    /// White-space separated words, collected.
    Words,
    /// Raw text, distinct values joined with this separator.
    Join(&'static str),
    /// One entry per value.
    Lines,
}

pub(super) struct Spec {
    pub name: &'static str,
    pub applies: &'static [OvsType],
    pub multi: Multi,
}

use OvsType::{Bond, Bridge, IntPort, PatchPort, Port, Tunnel};
const ALL: &[OvsType] = &OvsType::ALL;
const PORTS: &[OvsType] = &[Port, IntPort, Bond, PatchPort, Tunnel];
const BRIDGES: &[OvsType] = &[Bridge];
/// Kinds that are a kernel network device of their own.
const NETDEVS: &[OvsType] = &[Bridge, Port, IntPort];

pub(super) const SPECS: &[Spec] = &[
    spec("ovs_type", ALL, Multi::Single),
    spec("ovs_bridge", ALL, Multi::Single),
    spec("ovs_ports", BRIDGES, Multi::Words),
    spec("ovs_bonds", &[Bond], Multi::Words),
    spec("ovs_options", ALL, Multi::Join(" ")),
    spec("ovs_extra", ALL, Multi::Join(" -- ")),
    spec("ovs_patch_peer", &[PatchPort], Multi::Single),
    spec("ovs_tunnel_type", &[Tunnel], Multi::Single),
    spec("ovs_tunnel_options", &[Tunnel], Multi::Join(" ")),
    spec("ovs_mtu", &[Bridge, Port, IntPort, Bond], Multi::Single),
    spec("ovs_vlan_parent", BRIDGES, Multi::Single),
    spec("ovs_vlan", BRIDGES, Multi::Single),
    spec("ovs_tag", PORTS, Multi::Single),
    spec("ovs_trunks", PORTS, Multi::Single),
    spec("ovs_vlan_mode", PORTS, Multi::Single),
    spec("ovs_mac", &[Bridge, IntPort], Multi::Single),
    spec("ovs_datapath_type", BRIDGES, Multi::Single),
    spec("ovs_disable_ipv6", NETDEVS, Multi::Single),
    spec("ovs_route_table", NETDEVS, Multi::Single),
    spec("ovs_route_pref", NETDEVS, Multi::Single),
    spec("ovs_route", NETDEVS, Multi::Lines),
    spec("ovs_arp_filter", NETDEVS, Multi::Single),
    spec("ovs_arp_ignore", NETDEVS, Multi::Single),
    spec("ovs_arp_announce", NETDEVS, Multi::Single),
];

const fn spec(name: &'static str, applies: &'static [OvsType], multi: Multi) -> Spec {
    Spec {
        name,
        applies,
        multi,
    }
}

/// Names of every option we know, for "did you mean" and docs tests.
pub fn known_options() -> impl Iterator<Item = &'static str> {
    SPECS.iter().map(|s| s.name)
}

/// Tunnel types of OVS 3.1 (`Interface.type`).
pub(super) const TUNNEL_TYPES: &[&str] = &[
    "gre",
    "ip6gre",
    "vxlan",
    "geneve",
    "erspan",
    "ip6erspan",
    "gtpu",
    "bareudp",
    "lisp",
    "stt",
    "srv6",
];

/// One option's combined value and where it was first given.
pub(super) struct Given {
    pub text: String,
    pub words: Vec<String>,
    pub lines: Vec<String>,
    /// Where each of `lines` was given.
    pub line_pos: Vec<Option<Position>>,
    pub pos: Option<Position>,
}

/// Combine repeated values per option; report conflicting repeats and unknown names.
pub(super) fn collect(raws: &[RawOption], d: &mut Diag) -> BTreeMap<&'static str, Given> {
    let names: Vec<&str> = known_options().collect();
    let mut given: BTreeMap<&'static str, Given> = BTreeMap::new();
    for raw in raws {
        let Some(spec) = SPECS.iter().find(|s| s.name == raw.name) else {
            if raw.name.starts_with("ovs_") {
                let hint = match did_you_mean(&raw.name, &names) {
                    Some(n) => format!("; did you mean {n}?"),
                    None => String::new(),
                };
                d.warn(&raw.name, raw.pos.as_ref(), format!("unknown option{hint}"));
            }
            continue;
        };
        let value = raw.value.trim();
        let entry = given.entry(spec.name).or_insert_with(|| Given {
            text: String::new(),
            words: Vec::new(),
            lines: Vec::new(),
            line_pos: Vec::new(),
            pos: raw.pos.clone(),
        });
        match spec.multi {
            Multi::Single if entry.lines.is_empty() => {
                entry.text = value.to_string();
                entry.lines.push(value.to_string());
                entry.line_pos.push(raw.pos.clone());
            }
            Multi::Single => {
                if entry.text != value {
                    d.error(
                        Kind::Conflict,
                        spec.name,
                        raw.pos.as_ref(),
                        format!(
                            "\"{value}\" conflicts with \"{}\"{}",
                            entry.text,
                            entry.pos.as_ref().map_or(String::new(), |f| format!(
                                " given at {}",
                                short_pos(f, raw.pos.as_ref())
                            ))
                        ),
                    );
                }
            }
            Multi::Words => {
                for w in value.split_whitespace() {
                    if !entry.words.iter().any(|x| x == w) {
                        entry.words.push(w.to_string());
                    }
                }
            }
            Multi::Join(_) | Multi::Lines => {
                if !value.is_empty() && !entry.lines.iter().any(|x| x == value) {
                    entry.lines.push(value.to_string());
                    entry.line_pos.push(raw.pos.clone());
                }
            }
        }
        if let Multi::Join(sep) = spec.multi {
            entry.text = entry.lines.join(sep);
        }
    }
    given
}

/// Typed accessors over the collected options.
pub(super) struct Opts<'a> {
    pub given: &'a BTreeMap<&'static str, Given>,
    /// When known, options that do not apply to this kind read as absent.
    pub kind: Option<OvsType>,
}

impl<'a> Opts<'a> {
    pub(super) fn get(&self, name: &str) -> Option<&'a Given> {
        let applies = |k| {
            SPECS
                .iter()
                .any(|s| s.name == name && s.applies.contains(&k))
        };
        self.given
            .get(name)
            .filter(|_| self.kind.is_none_or(applies))
    }
    pub(super) fn pos(&self, name: &str) -> Option<&'a Position> {
        self.get(name).and_then(|g| g.pos.as_ref())
    }
    /// A single value, or an error when it is empty.
    pub(super) fn text(&self, name: &str, d: &mut Diag) -> Option<&'a str> {
        let g = self.get(name)?;
        if g.text.is_empty() {
            d.error(Kind::Invalid, name, g.pos.as_ref(), "needs a value".into());
            return None;
        }
        Some(&g.text)
    }
    /// A single value through `parse`; parse errors reported against `name`.
    pub(super) fn parsed<T>(
        &self,
        name: &str,
        d: &mut Diag,
        parse: impl FnOnce(&str) -> Result<T, ValueError>,
    ) -> Option<T> {
        let text = self.text(name, d)?;
        match parse(text) {
            Ok(v) => Some(v),
            Err(e) => {
                d.error(Kind::Invalid, name, self.pos(name), e.0);
                None
            }
        }
    }
    pub(super) fn ifname(&self, name: &str, d: &mut Diag) -> Option<String> {
        self.parsed(name, d, |s| check_ifname(s).map(|()| s.to_string()))
    }
    /// Words of a list option, each a valid interface name.
    pub(super) fn ifnames(&self, name: &str, d: &mut Diag) -> Vec<String> {
        let Some(g) = self.get(name) else {
            return Vec::new();
        };
        g.words
            .iter()
            .filter(|w| match check_ifname(w) {
                Ok(()) => true,
                Err(e) => {
                    d.error(Kind::Invalid, name, g.pos.as_ref(), e.0);
                    false
                }
            })
            .cloned()
            .collect()
    }
    pub(super) fn raw(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(|g| g.text.clone())
            .filter(|t| !t.is_empty())
    }
}
