//! Typed desired state of one interface's OVS configuration.
//!
//! CONTRACT shared by `options` (which builds it), `check`, `hook` and `plan`.
//! Extend with care; keep fields documented.

use std::fmt;

/// The six interface kinds of Debian's openvswitch-switch hook (`ovs_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OvsType {
    Bridge,
    Port,
    IntPort,
    Bond,
    PatchPort,
    Tunnel,
}

/// An 802.1Q VLAN id, 0..=4095.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VlanId(pub u16);

/// `Port.vlan_mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VlanMode {
    Access,
    Trunk,
    NativeTagged,
    NativeUntagged,
    Dot1qTunnel,
}

/// A unicast MAC address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mac(pub [u8; 6]);

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

/// A routing table, by number or by a name from /etc/iproute2/rt_tables.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RouteTable {
    Id(u32),
    Name(String),
}

/// A VLAN ("fake") bridge: `ovs-vsctl add-br NAME PARENT VLAN`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FakeBridge {
    pub parent: String,
    pub vlan: VlanId,
}

/// Everything our hooks do for one interface, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OvsIface {
    pub name: String,
    pub kind: OvsType,
    /// `ovs_bridge`: the bridge a port belongs to (for a fake bridge in ifupdown2
    /// spelling, see `fake`).
    pub bridge: Option<String>,
    /// `ovs_ports` of a bridge.
    pub ports: Vec<String>,
    /// `ovs_bonds`: members of a bond.
    pub bonds: Vec<String>,
    /// `ovs_options`, raw (split at apply time with the hook environment).
    pub options: Option<String>,
    /// `ovs_extra`, raw.
    pub extra: Option<String>,
    pub patch_peer: Option<String>,
    pub tunnel_type: Option<String>,
    /// `ovs_tunnel_options`, raw.
    pub tunnel_options: Option<String>,
    /// `ovs_mtu` -> `Interface.mtu_request` (on a bond: on each member).
    pub mtu: Option<u32>,
    /// VLAN bridge parent and VLAN.
    pub fake: Option<FakeBridge>,
    /// Access tag (`Port.tag`).
    pub tag: Option<VlanId>,
    /// `Port.trunks`.
    pub trunks: Vec<VlanId>,
    pub vlan_mode: Option<VlanMode>,
    /// Fixed MAC, kept in `Interface.mac` (internal ports, bridges).
    pub mac: Option<Mac>,
    /// `Bridge.datapath_type` (e.g. `netdev`).
    pub datapath_type: Option<String>,
    /// Set `net.ipv6.conf.IFACE.disable_ipv6=1` before the link goes up.
    pub disable_ipv6: bool,
    /// Source-based routing table for this interface's addresses.
    pub route_table: Option<RouteTable>,
    /// `ip rule` preference (default 1000).
    pub route_pref: u32,
    /// Extra routes for the table, each as written (`ip route` arguments).
    pub routes: Vec<String>,
    pub arp_filter: Option<bool>,
    pub arp_ignore: Option<u8>,
    pub arp_announce: Option<u8>,
}
