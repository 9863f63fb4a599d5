//! Builds the model of each kind from collected options and checks what each kind
//! requires. One builder per kind, so that each reads only the options that apply
//! to it and a value the kind requires is either there or reported; the builders
//! read the options in one fixed order (the kind's own values, the device's, then
//! the bridge, what the kind requires and the VLAN settings), which is the order of
//! the messages.

use std::collections::BTreeMap;

use super::diag::{Diag, Kind as Problem};
use super::ovsdb_words::{self, VLAN_COLUMNS};
use super::spec::{Given, Opts, SPECS, TUNNEL_TYPES};
use super::text::{self, Text};
use super::values::{self, check_ifname};
use super::vlan::{bridge_checks, vlan_settings};
use super::{Context, DEFAULT_ROUTE_PREF, Draft, RawOption};
use crate::config::model::{
    Arp, Bond, Bridge, Device, IntPort, Kind, Mac, OvsIface, OvsType, PatchPort, PortBase,
    RouteConfig, RouteTable, SystemPort, Tunnel, ValueError,
};
use crate::net::{route, rt_tables};

/// What [`build`] found: the kind, the model when the kind's required values are
/// valid, and the draft (see [`Draft`]) in any case.
pub(super) struct Built {
    pub kind: Option<OvsType>,
    pub iface: Option<OvsIface>,
    pub draft: Draft,
}

/// The model of one interface: None without a (valid) `ovs_type` or when a value
/// its kind requires is missing or invalid. The kind, the interface name, options
/// this kind ignores, then the kind's builder.
pub(super) fn build(
    iface_name: &str,
    given: &BTreeMap<&'static str, Given>,
    first_known: Option<&RawOption>,
    hwaddress: Option<&RawOption>,
    ctx: &Context,
    d: &mut Diag,
) -> Built {
    let mut draft = Draft::default();
    let Some(ovs_type) = ovs_type(given, first_known, d) else {
        return Built {
            kind: None,
            iface: None,
            draft,
        };
    };
    let o = Opts {
        given,
        kind: Some(ovs_type),
    };
    if let Err(e) = check_ifname(iface_name) {
        d.error(Problem::Invalid, "iface", o.pos("ovs_type"), e.0);
    }
    warn_ignored(given, ovs_type, d);
    let mut options = o.raw("ovs_options");
    let extra = o.raw("ovs_extra");
    let words = split_text(iface_name, &o, "ovs_options", Text::Columns, d);
    split_text(iface_name, &o, "ovs_extra", Text::Commands, d);
    let mut b = Builder {
        name: iface_name,
        ovs_type,
        o: &o,
        ctx,
        hwaddress,
        draft: &mut draft,
    };
    let kind = match ovs_type {
        OvsType::Bridge => Some(Kind::Bridge(b.bridge(&mut options, d))),
        OvsType::Port => b.system_port(&words, d).map(Kind::Port),
        OvsType::IntPort => b.int_port(&words, d).map(Kind::IntPort),
        OvsType::Bond => b.bond(&words, d).map(Kind::Bond),
        OvsType::PatchPort => b.patch_port(&words, d).map(Kind::PatchPort),
        OvsType::Tunnel => b.tunnel(&words, d).map(Kind::Tunnel),
    };
    if options.is_some() {
        // Where the hook sets them: a bridge's on its Bridge row, a VLAN bridge's
        // and a port's on the Port row (a port's VLAN words are checked by `vlan`).
        let (table, skip) = match (&kind, ovs_type) {
            (Some(Kind::Bridge(b)), _) if b.vlan_of.is_none() => ("Bridge", &[][..]),
            (_, OvsType::Bridge) => ("Port", &[][..]),
            _ => ("Port", VLAN_COLUMNS),
        };
        column_checks(&o, "ovs_options", &words, table, d);
        ovsdb_words::columns(iface_name, &o, "ovs_options", table, skip, d);
    }
    ovsdb_words::commands(iface_name, &o, d);
    Built {
        kind: Some(ovs_type),
        iface: kind.map(|kind| OvsIface {
            name: iface_name.to_string(),
            options,
            extra,
            kind,
        }),
        draft,
    }
}

/// The words of `option` (`ovs_options`, `ovs_tunnel_options`, `ovs_extra`) split as
/// the hook splits them, running nothing (see `text`); an error at the option when
/// they cannot be, and then no words.
fn split_text(iface: &str, o: &Opts, option: &str, kind: Text, d: &mut Diag) -> Vec<String> {
    let Some(value) = o.raw(option) else {
        return Vec::new();
    };
    if value.contains(text::UNKNOWN) {
        let message = "holds a NUL byte, which ifupdown cannot pass to its hooks".into();
        d.error(Problem::Invalid, option, o.pos(option), message);
        return Vec::new();
    }
    text::split(iface, &value, kind).unwrap_or_else(|e| {
        d.error(Problem::Invalid, option, o.pos(option), e.to_string());
        Vec::new()
    })
}

/// Each word of `option` must be a `COLUMN[:KEY]=VALUE` of `table` (the row the hook
/// sets them on); the first that is not is an error, as it is in the hook.
fn column_checks(o: &Opts, option: &str, words: &[String], table: &str, d: &mut Diag) {
    if let Some(w) = text::first_not_a_column(words) {
        d.error(
            Problem::Invalid,
            option,
            o.pos(option),
            format!("`{w}` is not COLUMN[:KEY]=VALUE (a column of the {table} table)"),
        );
    }
}

/// `ovs_type`; without it, an error when other options of ours are given (at the
/// first of them).
fn ovs_type(
    given: &BTreeMap<&'static str, Given>,
    first_known: Option<&RawOption>,
    d: &mut Diag,
) -> Option<OvsType> {
    let o = Opts { given, kind: None };
    if o.get("ovs_type").is_none() {
        if let Some(first) = first_known {
            d.error(
                Problem::Missing,
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
    o.parsed("ovs_type", d, |s| s.parse::<OvsType>())
}

/// Options this kind ignores: warn (they read as absent from here on).
fn warn_ignored(given: &BTreeMap<&'static str, Given>, kind: OvsType, d: &mut Diag) {
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
}

/// What the builders of the kinds share. Values that do not parse are reported and
/// left out; what other interfaces compare with also goes to the draft.
struct Builder<'a, 'g> {
    name: &'a str,
    ovs_type: OvsType,
    o: &'a Opts<'g>,
    ctx: &'a Context,
    hwaddress: Option<&'a RawOption>,
    draft: &'a mut Draft,
}

impl Builder<'_, '_> {
    /// A bridge or a VLAN bridge (see `vlan`); it requires nothing.
    fn bridge(&mut self, options: &mut Option<String>, d: &mut Diag) -> Bridge {
        let o = self.o;
        let ports = o.ifnames("ovs_ports", d);
        let mtu = mtu(o, d);
        let mac = o.parsed("ovs_mac", d, |s| s.parse::<Mac>());
        let datapath_type = o.parsed("ovs_datapath_type", d, datapath_type);
        let device = device(o, self.ctx, d);
        let mac = self.hw_mac(mac, d);
        let vlan_of = bridge_checks(self.name, &ports, options, o, d);
        Bridge {
            ports,
            mtu,
            mac,
            datapath_type,
            vlan_of,
            device,
        }
    }

    fn system_port(&mut self, words: &[String], d: &mut Diag) -> Option<SystemPort> {
        let mtu = mtu(self.o, d);
        let device = device(self.o, self.ctx, d);
        let port = self.port_base(words, d, |_| {})?;
        Some(SystemPort { port, mtu, device })
    }

    fn int_port(&mut self, words: &[String], d: &mut Diag) -> Option<IntPort> {
        let o = self.o;
        let mtu = mtu(o, d);
        let mac = o.parsed("ovs_mac", d, |s| s.parse::<Mac>());
        let device = device(o, self.ctx, d);
        let mac = self.hw_mac(mac, d);
        let port = self.port_base(words, d, |_| {})?;
        Some(IntPort {
            port,
            mtu,
            mac,
            device,
        })
    }

    /// A bond; fewer than two members is an error, but the model is kept.
    fn bond(&mut self, words: &[String], d: &mut Diag) -> Option<Bond> {
        let (name, o) = (self.name, self.o);
        let members = o.ifnames("ovs_bonds", d);
        let mtu = mtu(o, d);
        let port = self.port_base(words, d, |d| bond_checks(name, &members, o, d))?;
        Some(Bond { port, members, mtu })
    }

    /// A patch port requires its peer, which is not the port itself.
    fn patch_port(&mut self, words: &[String], d: &mut Diag) -> Option<PatchPort> {
        let (name, o) = (self.name, self.o);
        let peer = o.ifname("ovs_patch_peer", d);
        self.draft.patch_peer = peer.clone();
        let port = self.port_base(words, d, |d| peer_checks(name, peer.as_deref(), o, d));
        let peer = peer.filter(|p| p != name)?;
        Some(PatchPort { port: port?, peer })
    }

    /// A tunnel requires its type; one unknown to OVS 3.1 is a warning.
    fn tunnel(&mut self, words: &[String], d: &mut Diag) -> Option<Tunnel> {
        let o = self.o;
        let tunnel_type = o.text("ovs_tunnel_type", d).map(str::to_string);
        let tunnel_options = o.raw("ovs_tunnel_options");
        let tunnel_words = split_text(self.name, o, "ovs_tunnel_options", Text::Columns, d);
        column_checks(o, "ovs_tunnel_options", &tunnel_words, "Interface", d);
        ovsdb_words::columns(self.name, o, "ovs_tunnel_options", "Interface", &[], d);
        if let Some(tt) = &tunnel_type
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
        let port = self.port_base(words, d, |d| {
            if o.get("ovs_tunnel_type").is_none() {
                d.error(
                    Problem::Missing,
                    "ovs_tunnel_type",
                    o.pos("ovs_type"),
                    "missing; an OVSTunnel needs its type (gre, vxlan, geneve, ...)".into(),
                );
            }
        });
        Some(Tunnel {
            port: port?,
            tunnel_type: tunnel_type?,
            options: tunnel_options,
        })
    }

    /// What every port kind has: its bridge (required), then what the kind itself
    /// requires (`own`), then the VLAN settings (from `options` words too).
    fn port_base(
        &mut self,
        words: &[String],
        d: &mut Diag,
        own: impl FnOnce(&mut Diag),
    ) -> Option<PortBase> {
        let bridge = port_bridge(self.name, self.ovs_type, self.o, d);
        own(d);
        let vlan = vlan_settings(words, self.o, d);
        self.draft.bridge = bridge.clone();
        Some(PortBase {
            bridge: bridge?,
            vlan,
        })
    }

    /// `hwaddress` stands for `ovs_mac` on bridges and internal ports: the MAC
    /// (`mac`, from `ovs_mac`) with it, which also goes to the draft.
    fn hw_mac(&mut self, mac: Option<Mac>, d: &mut Diag) -> Option<Mac> {
        let mac = match self.hwaddress {
            None => mac,
            Some(hw) => match values::parse_hwaddress(hw.value.trim()) {
                Err(e) => {
                    d.error(Problem::Invalid, "hwaddress", hw.pos.as_ref(), e.0);
                    mac
                }
                Ok(None) => mac,
                Ok(Some(hw_mac)) => match mac {
                    None if !self.o.given.contains_key("ovs_mac") => Some(hw_mac),
                    Some(ovs_mac) if ovs_mac != hw_mac => {
                        d.error(
                            Problem::Conflict,
                            "hwaddress",
                            hw.pos.as_ref(),
                            format!("{hw_mac} conflicts with ovs_mac {ovs_mac}"),
                        );
                        mac
                    }
                    _ => mac,
                },
            },
        };
        self.draft.mac = mac;
        mac
    }
}

/// `ovs_mtu`.
fn mtu(o: &Opts, d: &mut Diag) -> Option<u32> {
    o.parsed("ovs_mtu", d, |s| values::parse_bounded(s, 68, 65535, "MTU"))
}

/// `ovs_datapath_type`: `netdev` or `system`.
fn datapath_type(s: &str) -> Result<String, ValueError> {
    match s {
        "netdev" | "system" => Ok(s.to_string()),
        _ => Err(ValueError(format!(
            "unknown datapath type \"{s}\" (expected netdev or system)"
        ))),
    }
}

/// The kernel settings of a kind that is a device of its own, then the values
/// among them that parse but are doubtful, and options that need another one.
fn device(o: &Opts, ctx: &Context, d: &mut Diag) -> Device {
    let disable_ipv6 = o
        .parsed("ovs_disable_ipv6", d, values::parse_bool)
        .unwrap_or(false);
    let table = route_table(o, ctx, d);
    let pref = route_pref(o, d).unwrap_or(DEFAULT_ROUTE_PREF);
    let routes = o
        .get("ovs_route")
        .map(|g| g.lines.clone())
        .unwrap_or_default();
    let arp = Arp {
        filter: o.parsed("ovs_arp_filter", d, values::parse_bool),
        ignore: o
            .parsed("ovs_arp_ignore", d, |s| {
                values::parse_bounded(s, 0, 8, "arp_ignore value")
            })
            .map(|n| n as u8),
        announce: o
            .parsed("ovs_arp_announce", d, |s| {
                values::parse_bounded(s, 0, 2, "arp_announce value")
            })
            .map(|n| n as u8),
    };
    device_checks(&arp, o, d);
    Device {
        disable_ipv6,
        arp,
        routing: table.map(|table| RouteConfig {
            table,
            pref,
            routes,
        }),
    }
}

/// A reserved `arp_ignore`, `ovs_route` lines the hook refuses (`net::route::route_words`:
/// a table or protocol of their own), and routing options without `ovs_route_table`.
fn device_checks(arp: &Arp, o: &Opts, d: &mut Diag) {
    if (4..=7).contains(&arp.ignore.unwrap_or(0)) {
        d.warn(
            "ovs_arp_ignore",
            o.pos("ovs_arp_ignore"),
            "values 4..7 are reserved by the kernel (use 0..3 or 8)".into(),
        );
    }
    for line in o.get("ovs_route").iter().flat_map(|g| &g.lines) {
        if let Err(e) = route::route_words(line) {
            d.error(
                Problem::Invalid,
                "ovs_route",
                o.pos("ovs_route"),
                e.to_string(),
            );
        }
    }
    if o.get("ovs_route").is_some() && o.get("ovs_route_table").is_none() {
        d.error(
            Problem::Missing,
            "ovs_route",
            o.pos("ovs_route"),
            "needs ovs_route_table (the table the routes go to)".into(),
        );
    }
    if o.get("ovs_route_pref").is_some() && o.get("ovs_route_table").is_none() {
        d.warn(
            "ovs_route_pref",
            o.pos("ovs_route_pref"),
            "has no effect without ovs_route_table".into(),
        );
    }
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
                    Problem::Invalid,
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
                    Problem::Invalid,
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

/// `ovs_bridge` of a port: required, and not the port itself.
fn port_bridge(name: &str, kind: OvsType, o: &Opts, d: &mut Diag) -> Option<String> {
    match o.ifname("ovs_bridge", d) {
        Some(b) if b == name => {
            d.error(
                Problem::Invalid,
                "ovs_bridge",
                o.pos("ovs_bridge"),
                "a port cannot be its own bridge".into(),
            );
            None
        }
        Some(b) => Some(b),
        None if o.get("ovs_bridge").is_none() => {
            d.error(
                Problem::Missing,
                "ovs_bridge",
                o.pos("ovs_type"),
                format!("missing; an {kind} needs the bridge it belongs to"),
            );
            None
        }
        None => None,
    }
}

/// A bond has at least two members (counting the invalid names too), and not
/// itself.
fn bond_checks(name: &str, members: &[String], o: &Opts, d: &mut Diag) {
    let count = o.get("ovs_bonds").map_or(0, |g| g.words.len());
    if count < 2 {
        d.error(
            if count == 0 {
                Problem::Missing
            } else {
                Problem::Invalid
            },
            "ovs_bonds",
            o.pos("ovs_bonds").or(o.pos("ovs_type")),
            format!("an OVSBond needs at least two members, got {count}"),
        );
    }
    if members.iter().any(|m| m == name) {
        d.error(
            Problem::Invalid,
            "ovs_bonds",
            o.pos("ovs_bonds"),
            "a bond cannot be its own member".into(),
        );
    }
}

/// A patch port's peer: required, and not the port itself.
fn peer_checks(name: &str, peer: Option<&str>, o: &Opts, d: &mut Diag) {
    match peer {
        Some(p) if p == name => d.error(
            Problem::Invalid,
            "ovs_patch_peer",
            o.pos("ovs_patch_peer"),
            "a patch port cannot be its own peer".into(),
        ),
        Some(_) => {}
        None if o.get("ovs_patch_peer").is_none() => d.error(
            Problem::Missing,
            "ovs_patch_peer",
            o.pos("ovs_type"),
            "missing; an OVSPatchPort needs its peer".into(),
        ),
        None => {}
    }
}
