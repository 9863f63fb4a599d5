//! `ovs_*` options -> validated [`OvsIface`].
//!
//! Options come from a stanza (with positions) or from the hook environment
//! (`IF_OVS_BRIDGE=br0` -> `ovs_bridge`, no position). Both become [`RawOption`]s and go
//! through [`analyze`], which parses every value, applies the rules of docs/options.md
//! and returns the model together with errors and warnings.
//!
//! Repeats: ifupdown joins a repeated option's values with a newline (in `ifquery` and
//! in `IF_*`), and `inherits` adds the template's values before the stanza's own. So an
//! option given twice with the same value is fine; single-valued options with two
//! different values are an error; list options (`ovs_ports`, `ovs_bonds`) collect all
//! words, `ovs_route` collects lines, and `ovs_options`/`ovs_tunnel_options`/`ovs_extra`
//! are joined (`ovs_extra` with ` -- `, one ovs-vsctl command per line).
//!
//! Parts (private): `spec` (the table of known options: the kinds each applies to,
//! how repeats combine; collecting raw options into one value each), `kinds` (builds
//! the model of each kind and checks what it requires), `vlan` (VLAN bridge spellings; a
//! port's tag, trunks and vlan_mode), `values` (parsers of trunks, booleans, bounded
//! numbers, interface names, `hwaddress`), `text` (`ovs_options`, `ovs_tunnel_options`
//! and `ovs_extra` split into words as the hook splits them, running nothing, so
//! that what the hook would reject is an option error here), `ovsdb_words` (those
//! words against the installed OVS schema: tables, columns, types, enums, ranges,
//! documented keys, ovs-vsctl commands; see `config::schema`) and `diag`
//! ([`OptionError`], [`OptionWarning`] and how they are collected).

mod diag;
mod kinds;
mod ovsdb_words;
mod spec;
mod text;
mod values;
mod vlan;

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::config::model::{Mac, OvsIface, OvsType};
use crate::interfaces::{Config, Iface, Opt, Position};

use diag::Diag;
use kinds::build;
use spec::{SPECS, collect};

pub use crate::config::suggest::{did_you_mean, edit_distance};
pub use diag::{OptionError, OptionWarning, short_pos};
pub use spec::known_options;
pub use text::{Text, is_column_assignment, split as split_text};
pub use values::{check_ifname, parse_hwaddress, parse_trunks};

/// One source of an option: a stanza line (with position) or an `IF_*` variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawOption {
    /// Name as ifupdown exports it, lower case: `ovs-type` and `ovs_type` are one.
    pub name: String,
    pub value: String,
    pub pos: Option<Position>,
}

/// Where lookups go; tests point it at temporary files.
#[derive(Debug, Clone)]
pub struct Context {
    /// Directories holding `rt_tables` and `rt_tables.d/*.conf`.
    pub iproute2_dirs: Vec<PathBuf>,
}

impl Default for Context {
    fn default() -> Self {
        Context {
            iproute2_dirs: crate::net::rt_tables::default_dirs(),
        }
    }
}

/// Result of [`analyze`].
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    /// The model; best effort when `errors` is not empty (bad values left out).
    /// None when the interface is not an OVS interface, its kind is unknown, or a
    /// value its kind requires is missing or invalid (an error says which).
    pub iface: Option<OvsIface>,
    /// The kind (`ovs_type`), also when `iface` is None because a value the kind
    /// requires is missing or invalid.
    pub kind: Option<OvsType>,
    /// What the options name, also when `iface` is None (see [`Draft`]).
    pub draft: Draft,
    pub errors: Vec<OptionError>,
    pub warnings: Vec<OptionWarning>,
    /// Where each option (by name, including `hwaddress`) was first given.
    pub positions: BTreeMap<String, Position>,
}

/// The values that other interfaces and the front ends compare with, each as far
/// as it is valid, kept also when the model cannot be built: `check` still checks
/// a patch port whose bridge is missing against its peer, and the agent still
/// compares the MAC of a stanza that leaves the bridge to its parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Draft {
    /// `ovs_bridge` of a port (None on a bridge, where it names a VLAN parent, and
    /// when it names the port itself).
    pub bridge: Option<String>,
    /// `ovs_patch_peer` of a patch port (also when it names the port itself).
    pub patch_peer: Option<String>,
    /// The fixed MAC (`ovs_mac`, or `hwaddress`) of a bridge or an internal port.
    pub mac: Option<Mac>,
}

impl Analysis {
    /// Position of option `name`, else of `ovs_type`.
    pub fn pos_of(&self, name: &str) -> Option<&Position> {
        self.positions
            .get(name)
            .or_else(|| self.positions.get("ovs_type"))
    }

    pub fn into_result(self) -> Result<Option<OvsIface>, Vec<OptionError>> {
        if self.errors.is_empty() {
            Ok(self.iface)
        } else {
            Err(self.errors)
        }
    }
}

/// The options of one stanza (`resolved` = after `inherits`, see
/// [`Config::resolved_options`]).
pub fn from_stanza(iface: &Iface, resolved: &[Opt]) -> Result<Option<OvsIface>, Vec<OptionError>> {
    analyze(
        &iface.name,
        &raw_from_stanza(iface, resolved),
        &Context::default(),
    )
    .into_result()
}

/// The options of the stanza a hook runs for, from the process environment.
/// Ok(None) when there is no `IF_OVS_*` variable at all.
pub fn from_env(
    iface_name: &str,
    vars: impl IntoIterator<Item = (String, String)>,
) -> Result<Option<OvsIface>, Vec<OptionError>> {
    analyze(iface_name, &raw_from_env(vars), &Context::default()).into_result()
}

/// Every stanza of interface `name` (inet, inet6, ...) merged, in file order: ovs
/// options may be split across them (see docs/options.md).
pub fn for_interface(cfg: &Config, name: &str, ctx: &Context) -> Analysis {
    analyze(name, &raw_for_interface(cfg, name), ctx)
}

/// What a hook run sees: the environment (`IF_*`, the truth for the stanza being
/// processed) in the place of the stanza of family `addrfam` (`ADDRFAM`), and the other
/// stanzas of `logical` (`LOGICAL`) from the file, merged as in [`for_interface`]. The
/// model is named `iface` (`IFACE`). Without a file, or when the file has no stanza of
/// that family, the environment alone.
pub fn for_hook(
    cfg: Option<&Config>,
    iface: &str,
    logical: &str,
    addrfam: &str,
    vars: impl IntoIterator<Item = (String, String)>,
    ctx: &Context,
) -> Analysis {
    let env = raw_from_env(vars);
    let Some(cfg) = cfg.filter(|c| c.stanzas(logical).any(|st| st.family == addrfam)) else {
        return analyze(iface, &env, ctx);
    };
    let mut raws = Vec::new();
    let mut env = Some(env);
    for st in cfg.stanzas(logical) {
        if st.family == addrfam {
            raws.extend(env.take().unwrap_or_default());
        } else {
            raws.extend(raw_from_stanza(st, &cfg.resolved_options(st)));
        }
    }
    analyze(iface, &raws, ctx)
}

/// The raw options of every stanza of `name`, after `inherits`, in file order.
pub fn raw_for_interface(cfg: &Config, name: &str) -> Vec<RawOption> {
    cfg.stanzas(name)
        .flat_map(|st| raw_from_stanza(st, &cfg.resolved_options(st)))
        .collect()
}

/// A stanza's resolved options as raw options, names normalised like ifupdown's
/// `IF_*` names. A resolved value holding newlines (repeats, or a template's value
/// followed by the stanza's own) becomes one raw option per line; lines that match
/// the stanza's own options, from the end, get those options' positions.
pub fn raw_from_stanza(iface: &Iface, resolved: &[Opt]) -> Vec<RawOption> {
    let mut out = Vec::new();
    for opt in resolved {
        let name = canonical_name(&opt.name);
        let mut own: Vec<&Opt> = iface
            .options
            .iter()
            .filter(|o| canonical_name(&o.name) == name)
            .collect();
        let mut lines: Vec<RawOption> = opt
            .value
            .split('\n')
            .rev()
            .map(|line| {
                let line = line.trim();
                let pos = match own.last() {
                    Some(o) if o.value.trim() == line => own.pop().map(|o| o.pos.clone()),
                    _ => None,
                };
                RawOption {
                    name: name.clone(),
                    value: line.to_string(),
                    pos: Some(pos.unwrap_or_else(|| opt.pos.clone())),
                }
            })
            .collect();
        lines.reverse();
        out.extend(lines);
    }
    out
}

/// `IF_*` variables as raw options; a value holding newlines (a repeated option, as
/// ifupdown exports it) becomes one raw option per line.
pub fn raw_from_env(vars: impl IntoIterator<Item = (String, String)>) -> Vec<RawOption> {
    let mut out = Vec::new();
    for (key, value) in vars {
        let Some(rest) = key.strip_prefix("IF_") else {
            continue;
        };
        let name = rest.to_ascii_lowercase();
        for line in value.split('\n') {
            out.push(RawOption {
                name: name.clone(),
                value: line.trim().to_string(),
                pos: None,
            });
        }
    }
    out
}

/// The name ifupdown exports an option under, lower case: `-` becomes `_`, other
/// characters that are not ASCII letters, digits or `_` are dropped.
pub fn canonical_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c == '-' {
                '_'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// Parse, validate and build the model for interface `iface_name` from `raws`.
pub fn analyze(iface_name: &str, raws: &[RawOption], ctx: &Context) -> Analysis {
    let mut d = Diag {
        iface: iface_name,
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    let mut positions = BTreeMap::new();
    for raw in raws {
        if let Some(pos) = &raw.pos
            && (raw.name.starts_with("ovs_") || raw.name == "hwaddress")
        {
            positions
                .entry(raw.name.clone())
                .or_insert_with(|| pos.clone());
        }
    }
    let given = collect(raws, &mut d);
    let hwaddress = raws.iter().find(|r| r.name == "hwaddress");
    let first_known = raws.iter().find(|r| SPECS.iter().any(|s| s.name == r.name));
    let built = build(iface_name, &given, first_known, hwaddress, ctx, &mut d);
    Analysis {
        iface: built.iface,
        kind: built.kind,
        draft: built.draft,
        errors: d.errors,
        warnings: d.warnings,
        positions,
    }
}

/// Default `ip rule` preference for `ovs_route_table`.
pub const DEFAULT_ROUTE_PREF: u32 = 1000;

#[cfg(test)]
mod tests;
