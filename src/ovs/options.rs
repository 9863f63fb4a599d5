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

mod rt_tables;
mod values;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use crate::interfaces::{Config, Iface, Opt, Position};
use crate::ovs::model::{FakeBridge, Mac, OvsIface, OvsType, RouteTable, VlanId, VlanMode};

pub use values::{check_ifname, did_you_mean, edit_distance, parse_trunks};

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
            iproute2_dirs: rt_tables::default_dirs(),
        }
    }
}

/// A problem that makes an interface's OVS configuration unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionError {
    /// A value that does not parse or is out of range.
    #[error("{}: error: {option}: {message}", place(pos, iface))]
    Invalid {
        iface: String,
        option: String,
        pos: Option<Position>,
        message: String,
    },
    /// Something the interface kind requires is absent.
    #[error("{}: error: {option}: {message}", place(pos, iface))]
    Missing {
        iface: String,
        option: String,
        pos: Option<Position>,
        message: String,
    },
    /// Two values that cannot both hold.
    #[error("{}: error: {option}: {message}", place(pos, iface))]
    Conflict {
        iface: String,
        option: String,
        pos: Option<Position>,
        message: String,
    },
}

impl OptionError {
    fn parts(&self) -> (&str, &str, Option<&Position>, &str) {
        match self {
            OptionError::Invalid {
                iface,
                option,
                pos,
                message,
            }
            | OptionError::Missing {
                iface,
                option,
                pos,
                message,
            }
            | OptionError::Conflict {
                iface,
                option,
                pos,
                message,
            } => (iface, option, pos.as_ref(), message),
        }
    }
    pub fn iface(&self) -> &str {
        self.parts().0
    }
    pub fn option(&self) -> &str {
        self.parts().1
    }
    pub fn pos(&self) -> Option<&Position> {
        self.parts().2
    }
    pub fn message(&self) -> &str {
        self.parts().3
    }
}

/// Something that works but is probably not what was meant (unknown option name, an
/// option the interface kind ignores).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionWarning {
    pub iface: String,
    pub option: String,
    pub pos: Option<Position>,
    pub message: String,
}

impl fmt::Display for OptionWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: warning: {}: {}",
            place(&self.pos, &self.iface),
            self.option,
            self.message
        )
    }
}

fn place(pos: &Option<Position>, iface: &str) -> String {
    match pos {
        Some(p) => p.to_string(),
        None => iface.to_string(),
    }
}

/// Result of [`analyze`].
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    /// The model; best effort when `errors` is not empty (bad values left out).
    /// None when the interface is not an OVS interface or its kind is unknown.
    pub iface: Option<OvsIface>,
    pub errors: Vec<OptionError>,
    pub warnings: Vec<OptionWarning>,
    /// Where each option (by name, including `hwaddress`) was first given.
    pub positions: BTreeMap<String, Position>,
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
    analyze(&iface.name, &raw_from_opts(resolved), &Context::default()).into_result()
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

/// The raw options of every stanza of `name`, after `inherits`, in file order.
pub fn raw_for_interface(cfg: &Config, name: &str) -> Vec<RawOption> {
    cfg.stanzas(name)
        .flat_map(|st| raw_from_opts(&cfg.resolved_options(st)))
        .collect()
}

/// Stanza options as raw options (names normalised like ifupdown's `IF_*` names).
pub fn raw_from_opts(opts: &[Opt]) -> Vec<RawOption> {
    opts.iter()
        .map(|o| RawOption {
            name: canonical_name(&o.name),
            value: o.value.clone(),
            pos: Some(o.pos.clone()),
        })
        .collect()
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

/// How repeated values of one option combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Multi {
    /// One value; repeats must agree.
    Single,
    /// White-space separated words, collected.
    Words,
    /// Raw text, distinct values joined with this separator.
    Join(&'static str),
    /// One entry per value.
    Lines,
}

struct Spec {
    name: &'static str,
    applies: &'static [OvsType],
    multi: Multi,
}

use OvsType::{Bond, Bridge, IntPort, PatchPort, Port, Tunnel};
const ALL: &[OvsType] = &OvsType::ALL;
const PORTS: &[OvsType] = &[Port, IntPort, Bond, PatchPort, Tunnel];
const BRIDGES: &[OvsType] = &[Bridge];
/// Kinds that are a kernel network device of their own.
const NETDEVS: &[OvsType] = &[Bridge, Port, IntPort];

const SPECS: &[Spec] = &[
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
const TUNNEL_TYPES: &[&str] = &[
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

/// Default `ip rule` preference for `ovs_route_table`.
pub const DEFAULT_ROUTE_PREF: u32 = 1000;

/// One option's combined value and where it was first given.
struct Given {
    text: String,
    words: Vec<String>,
    lines: Vec<String>,
    pos: Option<Position>,
}

/// Collects diagnostics for one interface.
struct Diag<'a> {
    iface: &'a str,
    errors: Vec<OptionError>,
    warnings: Vec<OptionWarning>,
}

#[derive(Clone, Copy)]
enum Kind {
    Invalid,
    Missing,
    Conflict,
}

impl Diag<'_> {
    fn error(&mut self, kind: Kind, option: &str, pos: Option<&Position>, message: String) {
        let (iface, option, pos) = (self.iface.to_string(), option.to_string(), pos.cloned());
        self.errors.push(match kind {
            Kind::Invalid => OptionError::Invalid {
                iface,
                option,
                pos,
                message,
            },
            Kind::Missing => OptionError::Missing {
                iface,
                option,
                pos,
                message,
            },
            Kind::Conflict => OptionError::Conflict {
                iface,
                option,
                pos,
                message,
            },
        });
    }
    fn warn(&mut self, option: &str, pos: Option<&Position>, message: String) {
        self.warnings.push(OptionWarning {
            iface: self.iface.to_string(),
            option: option.to_string(),
            pos: pos.cloned(),
            message,
        });
    }
}

/// `at line 3` (same file as `here`), `at FILE:3`, or nothing without a position.
fn where_first(first: &Option<Position>, here: &Option<Position>) -> String {
    match (first, here) {
        (Some(f), Some(h)) if f.file == h.file => format!(" given at line {}", f.line),
        (Some(f), _) => format!(" given at {f}"),
        (None, _) => String::new(),
    }
}

/// Combine repeated values per option; report conflicting repeats and unknown names.
fn collect(raws: &[RawOption], d: &mut Diag) -> BTreeMap<&'static str, Given> {
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
            pos: raw.pos.clone(),
        });
        match spec.multi {
            Multi::Single if entry.lines.is_empty() => {
                entry.text = value.to_string();
                entry.lines.push(value.to_string());
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
                            where_first(&entry.pos, &raw.pos)
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
                }
            }
        }
        if let Multi::Join(sep) = spec.multi {
            entry.text = entry.lines.join(sep);
        }
    }
    given
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
    let iface = build(iface_name, &given, first_known, hwaddress, ctx, &mut d);
    Analysis {
        iface,
        errors: d.errors,
        warnings: d.warnings,
        positions,
    }
}

/// Typed accessors over the collected options.
struct Opts<'a> {
    given: &'a BTreeMap<&'static str, Given>,
}

impl<'a> Opts<'a> {
    fn get(&self, name: &str) -> Option<&'a Given> {
        self.given.get(name)
    }
    fn pos(&self, name: &str) -> Option<&'a Position> {
        self.get(name).and_then(|g| g.pos.as_ref())
    }
    /// A single value, or an error when it is empty.
    fn text(&self, name: &str, d: &mut Diag) -> Option<&'a str> {
        let g = self.get(name)?;
        if g.text.is_empty() {
            d.error(Kind::Invalid, name, g.pos.as_ref(), "needs a value".into());
            return None;
        }
        Some(&g.text)
    }
    /// A single value through `parse`; parse errors reported against `name`.
    fn parsed<T>(
        &self,
        name: &str,
        d: &mut Diag,
        parse: impl FnOnce(&str) -> Result<T, crate::ovs::model::ValueError>,
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
    fn ifname(&self, name: &str, d: &mut Diag) -> Option<String> {
        self.parsed(name, d, |s| check_ifname(s).map(|()| s.to_string()))
    }
    /// Words of a list option, each a valid interface name.
    fn ifnames(&self, name: &str, d: &mut Diag) -> Vec<String> {
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
    fn raw(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(|g| g.text.clone())
            .filter(|t| !t.is_empty())
    }
}

fn build(
    iface_name: &str,
    given: &BTreeMap<&'static str, Given>,
    first_known: Option<&RawOption>,
    hwaddress: Option<&RawOption>,
    ctx: &Context,
    d: &mut Diag,
) -> Option<OvsIface> {
    let o = Opts { given };
    if o.get("ovs_type").is_none() {
        if let Some(first) = first_known {
            d.error(
                Kind::Missing,
                "ovs_type",
                first.pos.as_ref(),
                format!(
                    "missing, but {} is given (ovs_* options need an ovs_type)",
                    first.name
                ),
            );
        }
        return None;
    }
    let kind = o.parsed("ovs_type", d, |s| s.parse::<OvsType>())?;
    let type_pos = o.pos("ovs_type");
    if let Err(e) = check_ifname(iface_name) {
        d.error(Kind::Invalid, "iface", type_pos, e.0);
    }

    // Options this kind ignores: warn and leave them out of the model.
    for (name, g) in given {
        let spec = SPECS.iter().find(|s| s.name == *name);
        if let Some(spec) = spec
            && !spec.applies.contains(&kind)
        {
            let on: Vec<&str> = spec.applies.iter().map(|t| t.as_str()).collect();
            d.warn(
                name,
                g.pos.as_ref(),
                format!("has no effect on an {kind} (only on {})", on.join(", ")),
            );
        }
    }
    let applies = |name: &str| {
        given.contains_key(name)
            && SPECS
                .iter()
                .any(|s| s.name == name && s.applies.contains(&kind))
    };
    let get_if = |name: &str| applies(name).then_some(());

    let mut m = OvsIface {
        name: iface_name.to_string(),
        kind,
        bridge: None,
        ports: get_if("ovs_ports").map_or_else(Vec::new, |()| o.ifnames("ovs_ports", d)),
        bonds: get_if("ovs_bonds").map_or_else(Vec::new, |()| o.ifnames("ovs_bonds", d)),
        options: o.raw("ovs_options"),
        extra: o.raw("ovs_extra"),
        patch_peer: get_if("ovs_patch_peer").and_then(|()| o.ifname("ovs_patch_peer", d)),
        tunnel_type: get_if("ovs_tunnel_type")
            .and_then(|()| o.text("ovs_tunnel_type", d).map(str::to_string)),
        tunnel_options: get_if("ovs_tunnel_options").and_then(|()| o.raw("ovs_tunnel_options")),
        mtu: get_if("ovs_mtu")
            .and_then(|()| o.parsed("ovs_mtu", d, |s| values::parse_bounded(s, 68, 65535, "MTU"))),
        fake: None,
        tag: None,
        trunks: Vec::new(),
        vlan_mode: None,
        mac: get_if("ovs_mac").and_then(|()| o.parsed("ovs_mac", d, |s| s.parse::<Mac>())),
        datapath_type: get_if("ovs_datapath_type").and_then(|()| {
            o.parsed("ovs_datapath_type", d, |s| match s {
                "netdev" | "system" => Ok(s.to_string()),
                _ => Err(crate::ovs::model::ValueError(format!(
                    "unknown datapath type \"{s}\" (expected netdev or system)"
                ))),
            })
        }),
        disable_ipv6: get_if("ovs_disable_ipv6")
            .and_then(|()| o.parsed("ovs_disable_ipv6", d, values::parse_bool))
            .unwrap_or(false),
        route_table: get_if("ovs_route_table").and_then(|()| route_table(&o, ctx, d)),
        route_pref: get_if("ovs_route_pref")
            .and_then(|()| route_pref(&o, d))
            .unwrap_or(DEFAULT_ROUTE_PREF),
        routes: if applies("ovs_route") {
            o.get("ovs_route")
                .map(|g| g.lines.clone())
                .unwrap_or_default()
        } else {
            Vec::new()
        },
        arp_filter: get_if("ovs_arp_filter")
            .and_then(|()| o.parsed("ovs_arp_filter", d, values::parse_bool)),
        arp_ignore: get_if("ovs_arp_ignore").and_then(|()| {
            o.parsed("ovs_arp_ignore", d, |s| {
                values::parse_bounded(s, 0, 8, "arp_ignore value")
            })
            .map(|n| n as u8)
        }),
        arp_announce: get_if("ovs_arp_announce").and_then(|()| {
            o.parsed("ovs_arp_announce", d, |s| {
                values::parse_bounded(s, 0, 2, "arp_announce value")
            })
            .map(|n| n as u8)
        }),
    };

    if let Some(tt) = &m.tunnel_type
        && !TUNNEL_TYPES.contains(&tt.as_str())
    {
        d.warn(
            "ovs_tunnel_type",
            o.pos("ovs_tunnel_type"),
            format!(
                "\"{tt}\" is not a tunnel type of OVS 3.1 ({})",
                TUNNEL_TYPES.join(", ")
            ),
        );
    }
    if (4..=7).contains(&m.arp_ignore.unwrap_or(0)) {
        d.warn(
            "ovs_arp_ignore",
            o.pos("ovs_arp_ignore"),
            "values 4..7 are reserved by the kernel (use 0..3 or 8)".into(),
        );
    }
    if applies("ovs_route") && m.route_table.is_none() && !given.contains_key("ovs_route_table") {
        d.error(
            Kind::Missing,
            "ovs_route",
            o.pos("ovs_route"),
            "needs ovs_route_table (the table the routes go to)".into(),
        );
    }
    if applies("ovs_route_pref") && !given.contains_key("ovs_route_table") {
        d.warn(
            "ovs_route_pref",
            o.pos("ovs_route_pref"),
            "has no effect without ovs_route_table".into(),
        );
    }
    if kind == Bridge || kind == IntPort {
        hw_mac(&mut m, hwaddress, &o, d);
    }

    match kind {
        Bridge => bridge_checks(&mut m, &o, d),
        _ => port_checks(&mut m, &o, d),
    }
    Some(m)
}

fn route_table(o: &Opts, ctx: &Context, d: &mut Diag) -> Option<RouteTable> {
    let table = o.parsed("ovs_route_table", d, |s| s.parse::<RouteTable>())?;
    if let RouteTable::Name(name) = &table {
        match rt_tables::lookup(&ctx.iproute2_dirs, name) {
            None => {
                let dirs: Vec<String> = ctx
                    .iproute2_dirs
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect();
                d.error(
                    Kind::Invalid,
                    "ovs_route_table",
                    o.pos("ovs_route_table"),
                    format!(
                        "unknown routing table name \"{name}\" (not in rt_tables or rt_tables.d/*.conf under {})",
                        dirs.join(", ")
                    ),
                );
                return None;
            }
            Some(0) => {
                d.error(
                    Kind::Invalid,
                    "ovs_route_table",
                    o.pos("ovs_route_table"),
                    format!("routing table {name} (0) cannot hold routes"),
                );
                return None;
            }
            Some(_) => {}
        }
    }
    Some(table)
}

fn route_pref(o: &Opts, d: &mut Diag) -> Option<u32> {
    let pref = o.parsed("ovs_route_pref", d, |s| {
        values::parse_bounded(s, 1, u32::MAX, "rule preference")
    })?;
    if pref >= 32766 {
        d.warn(
            "ovs_route_pref",
            o.pos("ovs_route_pref"),
            format!("{pref} comes after the main table's rule (32766), so main routes first"),
        );
    }
    Some(pref)
}

/// `hwaddress` stands for `ovs_mac` on bridges and internal ports.
fn hw_mac(m: &mut OvsIface, hwaddress: Option<&RawOption>, o: &Opts, d: &mut Diag) {
    let Some(hw) = hwaddress else {
        return;
    };
    match values::parse_hwaddress(hw.value.trim()) {
        Err(e) => d.error(Kind::Invalid, "hwaddress", hw.pos.as_ref(), e.0),
        Ok(None) => {}
        Ok(Some(mac)) => match m.mac {
            None if !o.given.contains_key("ovs_mac") => m.mac = Some(mac),
            Some(ovs_mac) if ovs_mac != mac => d.error(
                Kind::Conflict,
                "hwaddress",
                hw.pos.as_ref(),
                format!("{mac} conflicts with ovs_mac {ovs_mac}"),
            ),
            _ => {}
        },
    }
}

/// VLAN ("fake") bridge spellings: `ovs_vlan_parent P` + `ovs_vlan V`, or ifupdown2's
/// `ovs_options P V` with an optional `ovs_bridge P`.
fn bridge_checks(m: &mut OvsIface, o: &Opts, d: &mut Diag) {
    let mut parents: Vec<(&str, String)> = Vec::new();
    let mut vids: Vec<(&str, VlanId)> = Vec::new();
    if let Some(p) = o
        .get("ovs_vlan_parent")
        .and_then(|_| o.ifname("ovs_vlan_parent", d))
    {
        parents.push(("ovs_vlan_parent", p));
    }
    if let Some(v) = o
        .get("ovs_vlan")
        .and_then(|_| o.parsed("ovs_vlan", d, |s| s.parse::<VlanId>()))
    {
        vids.push(("ovs_vlan", v));
    }
    if let Some(p) = o.get("ovs_bridge").and_then(|_| o.ifname("ovs_bridge", d)) {
        parents.push(("ovs_bridge", p));
    }
    if let Some(opts) = &m.options {
        let words: Vec<&str> = opts.split_whitespace().collect();
        if let [p, v] = words.as_slice()
            && !p.contains('=')
            && !p.starts_with('-')
            && v.bytes().all(|b| b.is_ascii_digit())
        {
            match (check_ifname(p), v.parse::<VlanId>()) {
                (Ok(()), Ok(vid)) => {
                    parents.push(("ovs_options", p.to_string()));
                    vids.push(("ovs_options", vid));
                    m.options = None;
                }
                (Err(e), _) | (_, Err(e)) => {
                    d.error(Kind::Invalid, "ovs_options", o.pos("ovs_options"), e.0)
                }
            }
        }
    }
    for (name, p) in parents.iter().skip(1) {
        if *p != parents[0].1 {
            d.error(
                Kind::Conflict,
                name,
                o.pos(name),
                format!(
                    "VLAN bridge parent {p} conflicts with {} from {}",
                    parents[0].1, parents[0].0
                ),
            );
        }
    }
    for (name, v) in vids.iter().skip(1) {
        if *v != vids[0].1 {
            d.error(
                Kind::Conflict,
                name,
                o.pos(name),
                format!("VLAN {v} conflicts with {} from {}", vids[0].1, vids[0].0),
            );
        }
    }
    match (parents.first(), vids.first()) {
        (Some((_, parent)), Some((_, vlan))) => {
            if *parent == m.name {
                d.error(
                    Kind::Invalid,
                    parents[0].0,
                    o.pos(parents[0].0),
                    "a VLAN bridge cannot be its own parent".into(),
                );
            } else {
                m.fake = Some(FakeBridge {
                    parent: parent.clone(),
                    vlan: *vlan,
                });
            }
        }
        (Some((name, _)), None) => {
            let message = if *name == "ovs_bridge" {
                "on an OVSBridge names the parent of a VLAN bridge, but no VLAN is given (ovs_vlan)"
            } else {
                "a VLAN bridge needs ovs_vlan"
            };
            d.error(Kind::Missing, name, o.pos(name), message.into());
        }
        (None, Some((name, _))) => d.error(
            Kind::Missing,
            name,
            o.pos(name),
            "a VLAN bridge needs ovs_vlan_parent".into(),
        ),
        (None, None) => {}
    }
    if m.ports.contains(&m.name) {
        d.error(
            Kind::Invalid,
            "ovs_ports",
            o.pos("ovs_ports"),
            format!("a bridge cannot list itself ({})", m.name),
        );
    }
}

/// Where a VLAN setting came from: its own option or a word of `ovs_options`.
struct Source<T> {
    value: T,
    option: &'static str,
}

fn port_checks(m: &mut OvsIface, o: &Opts, d: &mut Diag) {
    let kind = m.kind;
    let type_pos = o.pos("ovs_type");
    match o.get("ovs_bridge").and_then(|_| o.ifname("ovs_bridge", d)) {
        Some(b) if b == m.name => d.error(
            Kind::Invalid,
            "ovs_bridge",
            o.pos("ovs_bridge"),
            "a port cannot be its own bridge".into(),
        ),
        Some(b) => m.bridge = Some(b),
        None if o.get("ovs_bridge").is_none() => d.error(
            Kind::Missing,
            "ovs_bridge",
            type_pos,
            format!("missing; an {kind} needs the bridge it belongs to"),
        ),
        None => {}
    }
    match kind {
        Bond => {
            let members = o.get("ovs_bonds").map_or(0, |g| g.words.len());
            if members < 2 {
                d.error(
                    if members == 0 {
                        Kind::Missing
                    } else {
                        Kind::Invalid
                    },
                    "ovs_bonds",
                    o.pos("ovs_bonds").or(type_pos),
                    format!("an OVSBond needs at least two members, got {members}"),
                );
            }
            if m.bonds.contains(&m.name) {
                d.error(
                    Kind::Invalid,
                    "ovs_bonds",
                    o.pos("ovs_bonds"),
                    "a bond cannot be its own member".into(),
                );
            }
        }
        PatchPort => match &m.patch_peer {
            Some(p) if *p == m.name => d.error(
                Kind::Invalid,
                "ovs_patch_peer",
                o.pos("ovs_patch_peer"),
                "a patch port cannot be its own peer".into(),
            ),
            Some(_) => {}
            None if o.get("ovs_patch_peer").is_none() => d.error(
                Kind::Missing,
                "ovs_patch_peer",
                type_pos,
                "missing; an OVSPatchPort needs its peer".into(),
            ),
            None => {}
        },
        Tunnel if o.get("ovs_tunnel_type").is_none() => d.error(
            Kind::Missing,
            "ovs_tunnel_type",
            type_pos,
            "missing; an OVSTunnel needs its type (gre, vxlan, geneve, ...)".into(),
        ),
        _ => {}
    }
    vlan_settings(m, o, d);
}

/// `ovs_tag`, `ovs_trunks`, `ovs_vlan_mode` and their `ovs_options` words.
fn vlan_settings(m: &mut OvsIface, o: &Opts, d: &mut Diag) {
    let tag = o
        .get("ovs_tag")
        .and_then(|_| o.parsed("ovs_tag", d, |s| s.parse::<VlanId>()));
    let trunks = o
        .get("ovs_trunks")
        .and_then(|_| o.parsed("ovs_trunks", d, parse_trunks));
    let mode = o
        .get("ovs_vlan_mode")
        .and_then(|_| o.parsed("ovs_vlan_mode", d, |s| s.parse::<VlanMode>()));
    let (mut w_tag, mut w_trunks, mut w_mode) = (None, None, None);
    for word in m.options.as_deref().unwrap_or("").split_whitespace() {
        let Some((key, value)) = word.split_once('=') else {
            continue;
        };
        let value = value.trim_matches(|c| c == '"' || c == '\'');
        if value.contains('$') {
            continue;
        }
        let pos = o.pos("ovs_options");
        let bad = |d: &mut Diag, e: crate::ovs::model::ValueError| {
            d.error(
                Kind::Invalid,
                "ovs_options",
                pos,
                format!("{word}: {}", e.0),
            )
        };
        match key {
            "tag" => match value.parse::<VlanId>() {
                Ok(v) => w_tag = Some(v),
                Err(e) => bad(d, e),
            },
            "trunks" => match parse_trunks(value) {
                Ok(v) => w_trunks = Some(v),
                Err(e) => bad(d, e),
            },
            "vlan_mode" => match value.parse::<VlanMode>() {
                Ok(v) => w_mode = Some(v),
                Err(e) => bad(d, e),
            },
            _ => {}
        }
    }
    let tag = merge(o, d, "ovs_tag", "tag", tag, w_tag, |v| v.to_string());
    let trunks = merge(o, d, "ovs_trunks", "trunks", trunks, w_trunks, |v| {
        v.iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(",")
    });
    let mode = merge(o, d, "ovs_vlan_mode", "vlan_mode", mode, w_mode, |v| {
        v.to_string()
    });

    match (mode.as_ref().map(|s| s.value), &tag, &trunks) {
        (Some(VlanMode::Trunk), Some(t), _) => d.error(
            Kind::Conflict,
            t.option,
            o.pos(t.option),
            "a trunk port (vlan_mode trunk) cannot have a tag; use native-untagged or native-tagged for a native VLAN".into(),
        ),
        (Some(VlanMode::Access), _, Some(tr)) => d.error(
            Kind::Conflict,
            tr.option,
            o.pos(tr.option),
            "an access port (vlan_mode access) cannot have trunks".into(),
        ),
        (None, Some(_), Some(tr)) => d.error(
            Kind::Conflict,
            tr.option,
            o.pos(tr.option),
            "a port with a tag and no vlan_mode is an access port and cannot have trunks; set ovs_vlan_mode native-untagged or native-tagged".into(),
        ),
        _ => {}
    }
    m.tag = tag.map(|s| s.value);
    m.trunks = trunks.map(|s| s.value).unwrap_or_default();
    m.vlan_mode = mode.map(|s| s.value);
}

/// The typed option wins; the same setting in `ovs_options` fills in when it is absent;
/// different values are an error.
fn merge<T: PartialEq>(
    o: &Opts,
    d: &mut Diag,
    option: &'static str,
    word: &str,
    typed: Option<T>,
    from_options: Option<T>,
    show: impl Fn(&T) -> String,
) -> Option<Source<T>> {
    match (typed, from_options) {
        (Some(a), Some(b)) if a != b => {
            d.error(
                Kind::Conflict,
                option,
                o.pos(option),
                format!(
                    "{} conflicts with {word}={} in ovs_options",
                    show(&a),
                    show(&b)
                ),
            );
            Some(Source { value: a, option })
        }
        (Some(a), _) => Some(Source { value: a, option }),
        (None, Some(b)) => Some(Source {
            value: b,
            option: "ovs_options",
        }),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests;
