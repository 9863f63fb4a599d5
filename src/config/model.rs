//! Typed desired state of one interface's OVS configuration.
//!
//! CONTRACT shared by `options` (which builds it), `lint`, the hook, `plan` and the
//! agent. One enum variant per kind ([`Kind`]), each with its own values, so that
//! code using the model matches on the kind instead of reading fields that do not
//! apply, and a value the kind requires (a port's bridge, a patch port's peer, a
//! tunnel's type) is there, not an `Option` with a default. Extend with care; keep
//! fields documented.

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

pub use crate::net::rt_tables::RouteTable;

/// A VLAN ("fake") bridge: `ovs-vsctl add-br NAME PARENT VLAN`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FakeBridge {
    pub parent: String,
    pub vlan: VlanId,
}

/// Everything our hooks do for one interface, validated: what every kind has (its
/// name, `ovs_options`, `ovs_extra`) and the kind with its own values ([`Kind`]).
/// Each kind holds exactly the options that apply to it (`config::options::spec`),
/// and the values a kind requires are not optional: a model exists only when they
/// are valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OvsIface {
    pub name: String,
    /// `ovs_options`, raw (split at apply time with the hook environment). None when
    /// it held ifupdown2's VLAN bridge spelling `PARENT VID` (then see
    /// [`Bridge::vlan_of`]). On a port, its `tag=`/`trunks=`/`vlan_mode=` words are
    /// also reflected in [`PortVlan`].
    pub options: Option<String>,
    /// `ovs_extra`, raw.
    pub extra: Option<String>,
    pub kind: Kind,
}

/// The six kinds (`ovs_type`), each with the options that apply to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// `OVSBridge`, a real bridge or a VLAN ("fake") bridge.
    Bridge(Bridge),
    /// `OVSPort`: an existing network device added to a bridge.
    Port(SystemPort),
    /// `OVSIntPort`: a device OVS creates (`Interface.type=internal`).
    IntPort(IntPort),
    /// `OVSBond`.
    Bond(Bond),
    /// `OVSPatchPort`.
    PatchPort(PatchPort),
    /// `OVSTunnel`.
    Tunnel(Tunnel),
}

/// `OVSBridge`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bridge {
    /// `ovs_ports`.
    pub ports: Vec<String>,
    /// `ovs_mtu` -> `Interface.mtu_request` of the bridge's own interface.
    pub mtu: Option<u32>,
    /// `ovs_mac` (or `hwaddress`): `Bridge.other_config:hwaddr`, on a VLAN bridge
    /// `Interface.mac`.
    pub mac: Option<Mac>,
    /// `ovs_datapath_type` -> `Bridge.datapath_type` (e.g. `netdev`); a VLAN bridge
    /// uses its parent's (`check` warns when it differs).
    pub datapath_type: Option<String>,
    /// A VLAN bridge: its parent and VLAN (`ovs_vlan_parent` + `ovs_vlan`, or
    /// `ovs_bridge` / `ovs_options PARENT VID`).
    pub vlan_of: Option<FakeBridge>,
    pub device: Device,
}

/// What every port kind has: the bridge it belongs to and its VLAN settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortBase {
    /// `ovs_bridge` (a real or a VLAN bridge).
    pub bridge: String,
    pub vlan: PortVlan,
}

/// A port's VLAN settings, from their own options or `ovs_options` words.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortVlan {
    /// Access tag (`Port.tag`), from `ovs_tag` or `tag=` in `ovs_options`.
    pub tag: Option<VlanId>,
    /// `Port.trunks`, sorted, without duplicates (empty: none given).
    pub trunks: Vec<VlanId>,
    /// `Port.vlan_mode`.
    pub mode: Option<VlanMode>,
}

/// `OVSPort`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemPort {
    pub port: PortBase,
    /// `ovs_mtu` -> `Interface.mtu_request`.
    pub mtu: Option<u32>,
    pub device: Device,
}

/// `OVSIntPort`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntPort {
    pub port: PortBase,
    /// `ovs_mtu` -> `Interface.mtu_request`.
    pub mtu: Option<u32>,
    /// `ovs_mac` (or `hwaddress`) -> `Interface.mac`.
    pub mac: Option<Mac>,
    pub device: Device,
}

/// `OVSBond`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bond {
    pub port: PortBase,
    /// `ovs_bonds` (at least two when valid).
    pub members: Vec<String>,
    /// `ovs_mtu` -> `Interface.mtu_request` of each member.
    pub mtu: Option<u32>,
}

/// `OVSPatchPort`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchPort {
    pub port: PortBase,
    /// `ovs_patch_peer` -> `Interface.options:peer`.
    pub peer: String,
}

/// `OVSTunnel`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tunnel {
    pub port: PortBase,
    /// `ovs_tunnel_type` -> `Interface.type`.
    pub tunnel_type: String,
    /// `ovs_tunnel_options`, raw.
    pub options: Option<String>,
}

/// The kernel settings of kinds that are a kernel device of their own (bridge,
/// system port, internal port), set before the link goes up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Device {
    /// `ovs_disable_ipv6`: `net.ipv6.conf.IFACE.disable_ipv6=1`.
    pub disable_ipv6: bool,
    pub arp: Arp,
    /// `ovs_route_table` and what goes with it; None without a (valid) table.
    pub routing: Option<RouteConfig>,
}

/// `ovs_arp_filter`, `ovs_arp_ignore`, `ovs_arp_announce`: `net.ipv4.conf.IFACE.*`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Arp {
    pub filter: Option<bool>,
    pub ignore: Option<u8>,
    pub announce: Option<u8>,
}

/// Source-based routing for the device's addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteConfig {
    /// `ovs_route_table`.
    pub table: RouteTable,
    /// `ovs_route_pref`: the `ip rule` preference (default 1000).
    pub pref: u32,
    /// `ovs_route`: extra routes for the table, each as written (`ip route`
    /// arguments).
    pub routes: Vec<String>,
}

impl OvsIface {
    /// The kind as `ovs_type` names it.
    pub fn ovs_type(&self) -> OvsType {
        self.kind.ovs_type()
    }

    /// A bridge's own values.
    pub fn as_bridge(&self) -> Option<&Bridge> {
        match &self.kind {
            Kind::Bridge(b) => Some(b),
            _ => None,
        }
    }

    /// What every port kind has (None for a bridge).
    pub fn port(&self) -> Option<&PortBase> {
        match &self.kind {
            Kind::Bridge(_) => None,
            Kind::Port(p) => Some(&p.port),
            Kind::IntPort(p) => Some(&p.port),
            Kind::Bond(p) => Some(&p.port),
            Kind::PatchPort(p) => Some(&p.port),
            Kind::Tunnel(p) => Some(&p.port),
        }
    }

    /// The bridge a port belongs to (None for a bridge).
    pub fn bridge(&self) -> Option<&str> {
        self.port().map(|p| p.bridge.as_str())
    }

    /// The fixed MAC of a bridge or an internal port.
    pub fn mac(&self) -> Option<Mac> {
        match &self.kind {
            Kind::Bridge(b) => b.mac,
            Kind::IntPort(p) => p.mac,
            _ => None,
        }
    }

    /// The kernel settings of a kind that is a device of its own.
    pub fn device(&self) -> Option<&Device> {
        match &self.kind {
            Kind::Bridge(b) => Some(&b.device),
            Kind::Port(p) => Some(&p.device),
            Kind::IntPort(p) => Some(&p.device),
            _ => None,
        }
    }
}

impl Kind {
    pub fn ovs_type(&self) -> OvsType {
        match self {
            Kind::Bridge(_) => OvsType::Bridge,
            Kind::Port(_) => OvsType::Port,
            Kind::IntPort(_) => OvsType::IntPort,
            Kind::Bond(_) => OvsType::Bond,
            Kind::PatchPort(_) => OvsType::PatchPort,
            Kind::Tunnel(_) => OvsType::Tunnel,
        }
    }
}

/// Why a value does not parse; the message names the value and the expected form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValueError(pub String);

impl OvsType {
    /// Every kind, in the order of Debian's README.
    pub const ALL: [OvsType; 6] = [
        OvsType::Bridge,
        OvsType::Port,
        OvsType::IntPort,
        OvsType::Bond,
        OvsType::PatchPort,
        OvsType::Tunnel,
    ];

    /// The `ovs_type` spelling, e.g. `OVSIntPort`.
    pub fn as_str(self) -> &'static str {
        match self {
            OvsType::Bridge => "OVSBridge",
            OvsType::Port => "OVSPort",
            OvsType::IntPort => "OVSIntPort",
            OvsType::Bond => "OVSBond",
            OvsType::PatchPort => "OVSPatchPort",
            OvsType::Tunnel => "OVSTunnel",
        }
    }
}

impl fmt::Display for OvsType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for OvsType {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OvsType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                ValueError(format!(
                    "unknown type \"{s}\" (expected OVSBridge, OVSPort, OVSIntPort, OVSBond, OVSPatchPort or OVSTunnel)"
                ))
            })
    }
}

impl VlanId {
    pub const MAX: u16 = 4095;
}

impl fmt::Display for VlanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::str::FromStr for VlanId {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ValueError(format!(
                "\"{s}\" is not a VLAN id (a number in 0..4095)"
            )));
        }
        match s.parse::<u32>() {
            Ok(n) if n <= u32::from(VlanId::MAX) => Ok(VlanId(n as u16)),
            _ => Err(ValueError(format!("VLAN id {s} is outside 0..4095"))),
        }
    }
}

impl VlanMode {
    pub const ALL: [VlanMode; 5] = [
        VlanMode::Access,
        VlanMode::Trunk,
        VlanMode::NativeTagged,
        VlanMode::NativeUntagged,
        VlanMode::Dot1qTunnel,
    ];

    /// The OVSDB spelling, e.g. `native-untagged`.
    pub fn as_str(self) -> &'static str {
        match self {
            VlanMode::Access => "access",
            VlanMode::Trunk => "trunk",
            VlanMode::NativeTagged => "native-tagged",
            VlanMode::NativeUntagged => "native-untagged",
            VlanMode::Dot1qTunnel => "dot1q-tunnel",
        }
    }
}

impl fmt::Display for VlanMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for VlanMode {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        VlanMode::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                ValueError(format!(
                    "unknown VLAN mode \"{s}\" (expected access, trunk, native-tagged, native-untagged or dot1q-tunnel)"
                ))
            })
    }
}

impl std::str::FromStr for Mac {
    type Err = ValueError;
    /// Six `:`-separated groups of one or two hex digits; unicast and not all zero.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            ValueError(format!(
                "\"{s}\" is not a MAC address (like 02:00:00:00:00:01)"
            ))
        };
        let mut out = [0u8; 6];
        let mut groups = s.split(':');
        for byte in out.iter_mut() {
            let g = groups.next().ok_or_else(bad)?;
            if g.is_empty() || g.len() > 2 || !g.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad());
            }
            *byte = u8::from_str_radix(g, 16).map_err(|_| bad())?;
        }
        if groups.next().is_some() {
            return Err(bad());
        }
        let mac = Mac(out);
        if out[0] & 1 == 1 {
            return Err(ValueError(format!(
                "{mac} is a multicast address; an interface needs a unicast MAC (first byte even)"
            )));
        }
        if out == [0; 6] {
            return Err(ValueError(
                "00:00:00:00:00:00 is not a usable MAC address".into(),
            ));
        }
        Ok(mac)
    }
}

impl std::str::FromStr for RouteTable {
    type Err = ValueError;
    /// A number (decimal or 0x hex, as `ip` reads it) or a name. Whether the name
    /// exists in rt_tables is checked by `options`, which knows where to look.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() || s.chars().any(char::is_whitespace) {
            return Err(ValueError(format!(
                "\"{s}\" is not a routing table (a number or one name)"
            )));
        }
        let num =
            if let Some(hex) = s.strip_prefix("0x") {
                u32::from_str_radix(hex, 16).ok()
            } else if s.bytes().all(|b| b.is_ascii_digit()) {
                Some(s.parse::<u32>().map_err(|_| {
                    ValueError(format!("routing table {s} is outside 1..4294967295"))
                })?)
            } else {
                None
            };
        match num {
            Some(0) => Err(ValueError(
                "routing table 0 (unspec) cannot hold routes".into(),
            )),
            Some(n) => Ok(RouteTable::Id(n)),
            None => Ok(RouteTable::Name(s.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ovs_type_round_trips() {
        for t in OvsType::ALL {
            assert_eq!(t.as_str().parse::<OvsType>(), Ok(t));
        }
        assert!("OVSbridge".parse::<OvsType>().is_err());
    }

    #[test]
    fn vlan_ids() {
        assert_eq!("0".parse::<VlanId>(), Ok(VlanId(0)));
        assert_eq!("4095".parse::<VlanId>(), Ok(VlanId(4095)));
        assert_eq!(
            "5000".parse::<VlanId>().unwrap_err().0,
            "VLAN id 5000 is outside 0..4095"
        );
        assert!("99999999999".parse::<VlanId>().is_err());
        assert!("-1".parse::<VlanId>().is_err());
        assert!("".parse::<VlanId>().is_err());
    }

    #[test]
    fn vlan_modes() {
        for m in VlanMode::ALL {
            assert_eq!(m.to_string().parse::<VlanMode>(), Ok(m));
        }
        assert!("native_untagged".parse::<VlanMode>().is_err());
    }

    #[test]
    fn macs() {
        assert_eq!(
            "00:01:02:03:04:05".parse::<Mac>(),
            Ok(Mac([0, 1, 2, 3, 4, 5]))
        );
        assert_eq!("2:0:0:0:0:A".parse::<Mac>(), Ok(Mac([2, 0, 0, 0, 0, 10])));
        for bad in [
            "",
            "00:01:02:03:04",
            "00:01:02:03:04:05:06",
            "0g:00:00:00:00:01",
            "000:0:0:0:0:1",
            "00-01-02-03-04-05",
        ] {
            assert!(bad.parse::<Mac>().is_err(), "{bad}");
        }
        assert!(
            "01:00:5e:00:00:01"
                .parse::<Mac>()
                .unwrap_err()
                .0
                .contains("multicast")
        );
        assert!("00:00:00:00:00:00".parse::<Mac>().is_err());
        assert_eq!(Mac([2, 0, 0, 0, 0, 0xab]).to_string(), "02:00:00:00:00:ab");
    }

    #[test]
    fn route_tables() {
        assert_eq!("100".parse::<RouteTable>(), Ok(RouteTable::Id(100)));
        assert_eq!("0x10".parse::<RouteTable>(), Ok(RouteTable::Id(16)));
        assert_eq!(
            "ovsbr0p1".parse::<RouteTable>(),
            Ok(RouteTable::Name("ovsbr0p1".into()))
        );
        assert!("0".parse::<RouteTable>().is_err());
        assert!("a b".parse::<RouteTable>().is_err());
        assert!("99999999999".parse::<RouteTable>().is_err());
    }
}
