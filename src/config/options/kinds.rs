//! Builds the model from collected options and checks what each kind requires.

use std::collections::BTreeMap;

use super::diag::{Diag, Kind};
use super::spec::{Given, Opts, SPECS, TUNNEL_TYPES};
use super::values::{self, check_ifname};
use super::vlan::{bridge_checks, vlan_settings};
use super::{Context, DEFAULT_ROUTE_PREF, RawOption};
use crate::config::model::{Mac, OvsIface, OvsType, RouteTable, ValueError};
use crate::net::rt_tables;
use OvsType::{Bond, Bridge, IntPort, PatchPort, Tunnel};

/// The model of one interface, or None when it has no (valid) `ovs_type`: the kind,
/// every value, then what the kind requires.
pub(super) fn build(
    iface_name: &str,
    given: &BTreeMap<&'static str, Given>,
    first_known: Option<&RawOption>,
    hwaddress: Option<&RawOption>,
    ctx: &Context,
    d: &mut Diag,
) -> Option<OvsIface> {
    let kind = kind(given, first_known, d)?;
    let o = Opts {
        given,
        kind: Some(kind),
    };
    if let Err(e) = check_ifname(iface_name) {
        d.error(Kind::Invalid, "iface", o.pos("ovs_type"), e.0);
    }
    warn_ignored(given, kind, d);
    let mut m = model(iface_name, kind, &o, ctx, d);
    value_checks(&m, &o, d);
    if kind == Bridge || kind == IntPort {
        hw_mac(&mut m, hwaddress, &o, d);
    }
    match kind {
        Bridge => bridge_checks(&mut m, &o, d),
        _ => port_checks(&mut m, &o, d),
    }
    Some(m)
}

/// `ovs_type`; without it, an error when other options of ours are given (at the
/// first of them).
fn kind(
    given: &BTreeMap<&'static str, Given>,
    first_known: Option<&RawOption>,
    d: &mut Diag,
) -> Option<OvsType> {
    let o = Opts { given, kind: None };
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

/// Every option's value parsed (bad ones reported and left out). What depends on the
/// kind (bridge, VLAN bridge, VLAN settings) is filled in by the kind's checks.
fn model(iface_name: &str, kind: OvsType, o: &Opts, ctx: &Context, d: &mut Diag) -> OvsIface {
    OvsIface {
        name: iface_name.to_string(),
        kind,
        bridge: None,
        ports: o.ifnames("ovs_ports", d),
        bonds: o.ifnames("ovs_bonds", d),
        options: o.raw("ovs_options"),
        extra: o.raw("ovs_extra"),
        patch_peer: o.ifname("ovs_patch_peer", d),
        tunnel_type: o.text("ovs_tunnel_type", d).map(str::to_string),
        tunnel_options: o.raw("ovs_tunnel_options"),
        mtu: o.parsed("ovs_mtu", d, |s| values::parse_bounded(s, 68, 65535, "MTU")),
        fake: None,
        tag: None,
        trunks: Vec::new(),
        vlan_mode: None,
        mac: o.parsed("ovs_mac", d, |s| s.parse::<Mac>()),
        datapath_type: o.parsed("ovs_datapath_type", d, datapath_type),
        disable_ipv6: o
            .parsed("ovs_disable_ipv6", d, values::parse_bool)
            .unwrap_or(false),
        route_table: route_table(o, ctx, d),
        route_pref: route_pref(o, d).unwrap_or(DEFAULT_ROUTE_PREF),
        routes: o
            .get("ovs_route")
            .map(|g| g.lines.clone())
            .unwrap_or_default(),
        arp_filter: o.parsed("ovs_arp_filter", d, values::parse_bool),
        arp_ignore: o
            .parsed("ovs_arp_ignore", d, |s| {
                values::parse_bounded(s, 0, 8, "arp_ignore value")
            })
            .map(|n| n as u8),
        arp_announce: o
            .parsed("ovs_arp_announce", d, |s| {
                values::parse_bounded(s, 0, 2, "arp_announce value")
            })
            .map(|n| n as u8),
    }
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

/// Values that parse but are doubtful, and options that need another one.
fn value_checks(m: &OvsIface, o: &Opts, d: &mut Diag) {
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
    if o.get("ovs_route").is_some() && o.get("ovs_route_table").is_none() {
        d.error(
            Kind::Missing,
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

/// What every port kind needs: its bridge; and bonds, patches, tunnels their own.
fn port_checks(m: &mut OvsIface, o: &Opts, d: &mut Diag) {
    let kind = m.kind;
    let type_pos = o.pos("ovs_type");
    match o.ifname("ovs_bridge", d) {
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
