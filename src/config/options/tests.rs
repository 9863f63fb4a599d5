//! Unit tests of option parsing and per-interface validation.

use super::*;
use crate::config::model::{
    Bridge, Device, FakeBridge, Kind, Mac, OvsType, PortVlan, RouteTable, VlanId, VlanMode,
};

fn pos(line: usize) -> Position {
    Position {
        file: PathBuf::from("/etc/network/interfaces"),
        line,
    }
}

/// Raw options from `name value` lines, positioned at lines 2, 3, ...
fn raws(lines: &[&str]) -> Vec<RawOption> {
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let (name, value) = l.split_once(' ').unwrap_or((l, ""));
            RawOption {
                name: canonical_name(name),
                value: value.to_string(),
                pos: Some(pos(i + 2)),
            }
        })
        .collect()
}

fn run(name: &str, lines: &[&str]) -> Analysis {
    analyze(
        name,
        &raws(lines),
        &Context {
            iproute2_dirs: vec![],
        },
    )
}

fn ok(name: &str, lines: &[&str]) -> OvsIface {
    let a = run(name, lines);
    assert!(a.errors.is_empty(), "{:?}", a.errors);
    a.iface.expect("an OVS interface")
}

/// The VLAN settings of a port.
fn vlan(m: &OvsIface) -> &PortVlan {
    &m.port().expect("a port").vlan
}

/// The values of a bridge.
fn bridge(m: &OvsIface) -> &Bridge {
    m.as_bridge().expect("a bridge")
}

/// The kernel settings of a device.
fn device(m: &OvsIface) -> &Device {
    m.device().expect("a device")
}

/// Errors as the hook prints them, each checked to name the interface (after
/// `error: `), which is then left out, so that the expectations below read as the
/// place, the option and the message.
fn errors(name: &str, lines: &[&str]) -> Vec<String> {
    let found = run(name, lines).errors;
    shown_without(name, "error", found.iter().map(|e| e.to_string()))
}

fn warnings(name: &str, lines: &[&str]) -> Vec<String> {
    let found = run(name, lines).warnings;
    shown_without(name, "warning", found.iter().map(|e| e.to_string()))
}

fn shown_without(name: &str, severity: &str, shown: impl Iterator<Item = String>) -> Vec<String> {
    let named = format!("{severity}: {name}: ");
    shown
        .map(|line| {
            assert!(
                line.contains(&named) || line.starts_with(&format!("{name}: {severity}: ")),
                "{line}"
            );
            line.replacen(&named, &format!("{severity}: "), 1)
        })
        .collect()
}

const F: &str = "/etc/network/interfaces";

#[test]
fn not_ovs_is_none() {
    let a = run(
        "eth0",
        &["address 192.0.2.1/24", "hwaddress 02:00:00:00:00:01"],
    );
    assert!(a.errors.is_empty() && a.warnings.is_empty());
    assert_eq!(a.iface, None);
}

#[test]
fn ovs_option_without_type() {
    assert_eq!(
        errors("eth0", &["address x", "ovs_bridge br0"]),
        [format!(
            "{F}:3: error: ovs_type: missing, but ovs_bridge is given (ovs_* options need an ovs_type)"
        )]
    );
}

#[test]
fn minimal_port_and_defaults() {
    let m = ok("eth0", &["ovs_type OVSPort", "ovs_bridge br0"]);
    assert_eq!(m.ovs_type(), OvsType::Port);
    assert_eq!(m.bridge(), Some("br0"));
    assert_eq!(device(&m).routing, None);
    assert!(!device(&m).disable_ipv6);
    assert_eq!(m.options, None);
}

#[test]
fn dashes_and_case_in_names() {
    let m = ok("eth0", &["ovs-type OVSPort", "OVS_BRIDGE br0"]);
    assert_eq!(m.bridge(), Some("br0"));
}

#[test]
fn unknown_type() {
    assert_eq!(
        errors("x", &["ovs_type OVSSwitch"]),
        [format!(
            "{F}:2: error: ovs_type: unknown type \"OVSSwitch\" (expected OVSBridge, OVSPort, OVSIntPort, OVSBond, OVSPatchPort or OVSTunnel)"
        )]
    );
}

#[test]
fn port_kinds_need_a_bridge() {
    for kind in [
        "OVSPort",
        "OVSIntPort",
        "OVSBond",
        "OVSPatchPort",
        "OVSTunnel",
    ] {
        let errs = errors("p0", &[&format!("ovs_type {kind}")]);
        assert!(
            errs.contains(&format!(
                "{F}:2: error: ovs_bridge: missing; an {kind} needs the bridge it belongs to"
            )),
            "{errs:?}"
        );
    }
}

#[test]
fn vlan_tag_range() {
    assert_eq!(
        errors(
            "p0",
            &["ovs_type OVSIntPort", "ovs_bridge br0", "ovs_tag 5000"]
        ),
        [format!(
            "{F}:4: error: ovs_tag: VLAN id 5000 is outside 0..4095"
        )]
    );
    assert_eq!(
        vlan(&ok(
            "p0",
            &["ovs_type OVSIntPort", "ovs_bridge br0", "ovs_tag 4095"]
        ))
        .tag,
        Some(VlanId(4095))
    );
}

#[test]
fn trunks_and_modes() {
    let m = ok(
        "eth0",
        &[
            "ovs_type OVSPort",
            "ovs_bridge br0",
            "ovs_trunks 1,2 10-12",
            "ovs_vlan_mode trunk",
        ],
    );
    assert_eq!(vlan(&m).trunks.len(), 5);
    assert_eq!(vlan(&m).mode, Some(VlanMode::Trunk));
    assert_eq!(
        errors(
            "eth0",
            &["ovs_type OVSPort", "ovs_bridge br0", "ovs_trunks 1,x"]
        ),
        [format!(
            "{F}:4: error: ovs_trunks: \"x\" is not a VLAN id (a number in 0..4095)"
        )]
    );
    assert_eq!(
        errors(
            "eth0",
            &["ovs_type OVSPort", "ovs_bridge br0", "ovs_vlan_mode native"]
        ),
        [format!(
            "{F}:4: error: ovs_vlan_mode: unknown VLAN mode \"native\" (expected access, trunk, native-tagged, native-untagged or dot1q-tunnel)"
        )]
    );
}

#[test]
fn vlan_words_in_ovs_options() {
    let m = ok(
        "eth0",
        &[
            "ovs_type OVSPort",
            "ovs_bridge br0",
            "ovs_options tag=1 vlan_mode=native-untagged trunks=2,3",
        ],
    );
    assert_eq!(vlan(&m).tag, Some(VlanId(1)));
    assert_eq!(vlan(&m).mode, Some(VlanMode::NativeUntagged));
    assert_eq!(vlan(&m).trunks, vec![VlanId(2), VlanId(3)]);
    assert_eq!(
        m.options.as_deref(),
        Some("tag=1 vlan_mode=native-untagged trunks=2,3")
    );
    // same value both ways is fine; different is an error
    ok(
        "p",
        &[
            "ovs_type OVSIntPort",
            "ovs_bridge br0",
            "ovs_tag 7",
            "ovs_options tag=7",
        ],
    );
    assert_eq!(
        errors(
            "p",
            &[
                "ovs_type OVSIntPort",
                "ovs_bridge br0",
                "ovs_tag 7",
                "ovs_options tag=8"
            ]
        ),
        [format!(
            "{F}:4: error: ovs_tag: 7 conflicts with tag=8 in ovs_options"
        )]
    );
    assert_eq!(
        errors(
            "p",
            &[
                "ovs_type OVSIntPort",
                "ovs_bridge br0",
                "ovs_options tag=4096"
            ]
        ),
        [format!(
            "{F}:4: error: ovs_options: tag=4096: VLAN id 4096 is outside 0..4095"
        )]
    );
    // values only a hook run knows are left to the hook
    ok(
        "p",
        &[
            "ovs_type OVSIntPort",
            "ovs_bridge br0",
            "ovs_options tag=${IF_VID}",
        ],
    );
    // but $IFACE is the interface, and a variable ifupdown does not set is empty
    // in the hook, as here
    assert_eq!(
        errors(
            "p",
            &[
                "ovs_type OVSIntPort",
                "ovs_bridge br0",
                "ovs_options tag=$IFACE",
            ]
        ),
        [format!(
            "{F}:4: error: ovs_options: tag=p: \"p\" is not a VLAN id (a number in 0..4095)"
        )]
    );
    assert_eq!(
        errors(
            "p",
            &[
                "ovs_type OVSIntPort",
                "ovs_bridge br0",
                "ovs_options tag=${VID}",
            ]
        ),
        [format!(
            "{F}:4: error: ovs_options: tag=: \"\" is not a VLAN id (a number in 0..4095)"
        )]
    );
}

#[test]
fn vlan_mode_coherence() {
    assert_eq!(
        errors(
            "p",
            &[
                "ovs_type OVSPort",
                "ovs_bridge br0",
                "ovs_tag 1",
                "ovs_vlan_mode trunk"
            ]
        ),
        [format!(
            "{F}:4: error: ovs_tag: a trunk port (vlan_mode trunk) cannot have a tag; use native-untagged or native-tagged for a native VLAN"
        )]
    );
    assert_eq!(
        errors(
            "p",
            &[
                "ovs_type OVSPort",
                "ovs_bridge br0",
                "ovs_tag 1",
                "ovs_trunks 2"
            ]
        )
        .len(),
        1
    );
    ok(
        "p",
        &[
            "ovs_type OVSPort",
            "ovs_bridge br0",
            "ovs_tag 1",
            "ovs_trunks 2",
            "ovs_vlan_mode native-untagged",
        ],
    );
}

#[test]
fn macs() {
    let m = ok(
        "p",
        &[
            "ovs_type OVSIntPort",
            "ovs_bridge br0",
            "ovs_mac 00:01:02:03:04:05",
        ],
    );
    assert_eq!(m.mac(), Some(Mac([0, 1, 2, 3, 4, 5])));
    assert_eq!(
        errors(
            "p",
            &[
                "ovs_type OVSIntPort",
                "ovs_bridge br0",
                "ovs_mac 01:00:00:00:00:01"
            ]
        ),
        [format!(
            "{F}:4: error: ovs_mac: 01:00:00:00:00:01 is a multicast address; an interface needs a unicast MAC (first byte even)"
        )]
    );
    // hwaddress stands in for ovs_mac on internal ports and bridges
    let m = ok(
        "p",
        &[
            "ovs_type OVSIntPort",
            "ovs_bridge br0",
            "hwaddress ether 02:00:00:00:00:01",
        ],
    );
    assert_eq!(m.mac(), Some(Mac([2, 0, 0, 0, 0, 1])));
    let m = ok("b", &["ovs_type OVSBridge", "hwaddress 02:00:00:00:00:02"]);
    assert_eq!(bridge(&m).mac, Some(Mac([2, 0, 0, 0, 0, 2])));
    assert_eq!(
        ok("b", &["ovs_type OVSBridge", "hwaddress random"]).mac(),
        None
    );
    assert_eq!(
        errors(
            "p",
            &[
                "ovs_type OVSIntPort",
                "ovs_bridge br0",
                "ovs_mac 02:00:00:00:00:01",
                "hwaddress 02:00:00:00:00:03"
            ]
        ),
        [format!(
            "{F}:5: error: hwaddress: 02:00:00:00:00:03 conflicts with ovs_mac 02:00:00:00:00:01"
        )]
    );
    // not ours on a system port
    let m = ok(
        "eth0",
        &["ovs_type OVSPort", "ovs_bridge br0", "hwaddress bogus"],
    );
    assert_eq!(m.mac(), None);
    // ovs_mac on a system port: ignored with a warning
    let a = run(
        "eth0",
        &[
            "ovs_type OVSPort",
            "ovs_bridge br0",
            "ovs_mac 02:00:00:00:00:01",
        ],
    );
    assert_eq!(a.iface.unwrap().mac(), None);
    assert_eq!(a.draft.mac, None);
    assert_eq!(
        a.warnings[0].to_string(),
        format!(
            "{F}:4: warning: eth0: ovs_mac: has no effect on an OVSPort (only on OVSBridge, OVSIntPort)"
        )
    );
}

#[test]
fn bonds() {
    let m = ok(
        "bond0",
        &["ovs_type OVSBond", "ovs_bridge br2", "ovs_bonds eth2 eth3"],
    );
    let Kind::Bond(b) = &m.kind else {
        panic!("{m:?}")
    };
    assert_eq!(b.members, ["eth2", "eth3"]);
    assert_eq!(
        errors(
            "bond0",
            &["ovs_type OVSBond", "ovs_bridge br2", "ovs_bonds eth2"]
        ),
        [format!(
            "{F}:4: error: ovs_bonds: an OVSBond needs at least two members, got 1"
        )]
    );
    assert_eq!(
        errors("bond0", &["ovs_type OVSBond", "ovs_bridge br2"]),
        [format!(
            "{F}:2: error: ovs_bonds: an OVSBond needs at least two members, got 0"
        )]
    );
    // repeated lines collect members
    let m = ok(
        "bond0",
        &[
            "ovs_type OVSBond",
            "ovs_bridge br2",
            "ovs_bonds eth2",
            "ovs_bonds eth3 eth2",
        ],
    );
    let Kind::Bond(b) = &m.kind else {
        panic!("{m:?}")
    };
    assert_eq!(b.members, ["eth2", "eth3"]);
}

#[test]
fn tunnels_and_patches() {
    assert_eq!(
        errors("gre1", &["ovs_type OVSTunnel", "ovs_bridge br1"]),
        [format!(
            "{F}:2: error: ovs_tunnel_type: missing; an OVSTunnel needs its type (gre, vxlan, geneve, ...)"
        )]
    );
    assert_eq!(
        errors("patch0", &["ovs_type OVSPatchPort", "ovs_bridge br1"]),
        [format!(
            "{F}:2: error: ovs_patch_peer: missing; an OVSPatchPort needs its peer"
        )]
    );
    let m = ok(
        "gre1",
        &[
            "ovs_type OVSTunnel",
            "ovs_bridge br1",
            "ovs_tunnel_type gre",
            "ovs_tunnel_options options:remote_ip=192.0.2.2",
        ],
    );
    let Kind::Tunnel(t) = &m.kind else {
        panic!("{m:?}")
    };
    assert_eq!(t.tunnel_type, "gre");
    assert_eq!(t.options.as_deref(), Some("options:remote_ip=192.0.2.2"));
    assert_eq!(
        warnings(
            "t",
            &[
                "ovs_type OVSTunnel",
                "ovs_bridge br1",
                "ovs_tunnel_type grex"
            ]
        )
        .len(),
        1
    );
}

#[test]
fn interface_names() {
    assert_eq!(
        errors("averyveryverylongname", &["ovs_type OVSBridge"]),
        [format!(
            "{F}:2: error: iface: interface name \"averyveryverylongname\" is longer than 15 bytes"
        )]
    );
    assert_eq!(
        errors("p", &["ovs_type OVSPort", "ovs_bridge br/0"]),
        [format!(
            "{F}:3: error: ovs_bridge: interface name \"br/0\" contains '/', which the kernel refuses"
        )]
    );
    assert_eq!(
        errors("br0", &["ovs_type OVSBridge", "ovs_ports eth0 eth0:1"]),
        [format!(
            "{F}:3: error: ovs_ports: interface name \"eth0:1\" contains ':', which the kernel refuses"
        )]
    );
}

#[test]
fn mtu_range() {
    assert_eq!(
        bridge(&ok("br0", &["ovs_type OVSBridge", "ovs_mtu 9000"])).mtu,
        Some(9000)
    );
    assert_eq!(
        errors("br0", &["ovs_type OVSBridge", "ovs_mtu 67"]),
        [format!(
            "{F}:3: error: ovs_mtu: MTU 67 is outside 68..65535"
        )]
    );
    assert_eq!(
        errors("br0", &["ovs_type OVSBridge", "ovs_mtu 70000"]).len(),
        1
    );
}

#[test]
fn fake_bridge_spellings() {
    let fake = Some(FakeBridge {
        parent: "ovsbr0".into(),
        vlan: VlanId(2),
    });
    let m = ok(
        "ovsbr0v2",
        &["ovs_type OVSBridge", "ovs_vlan_parent ovsbr0", "ovs_vlan 2"],
    );
    assert_eq!(bridge(&m).vlan_of, fake);
    // ifupdown2 spelling; ovs_options is consumed
    let m = ok("ovsbr0v2", &["ovs_type OVSBridge", "ovs_options ovsbr0 2"]);
    assert_eq!(
        (bridge(&m).vlan_of.clone(), m.options),
        (fake.clone(), None)
    );
    let m = ok(
        "ovsbr0v2",
        &[
            "ovs_type OVSBridge",
            "ovs_bridge ovsbr0",
            "ovs_options ovsbr0 2",
        ],
    );
    assert_eq!((bridge(&m).vlan_of.clone(), m.bridge()), (fake, None));
    // ordinary ovs_options on a bridge stay raw
    let m = ok(
        "br0",
        &[
            "ovs_type OVSBridge",
            "ovs_options stp_enable=true other_config:stp-priority=30720",
        ],
    );
    assert!(bridge(&m).vlan_of.is_none() && m.options.is_some());
    // they are columns of the Bridge row, not commands (those go in ovs_extra)
    assert_eq!(
        errors(
            "br0",
            &[
                "ovs_type OVSBridge",
                "ovs_options -- set bridge br0 stp_enable=true",
            ]
        ),
        [format!(
            "{F}:3: error: ovs_options: `--` is not COLUMN[:KEY]=VALUE (a column of the Bridge table)"
        )]
    );
    assert_eq!(
        errors(
            "v",
            &["ovs_type OVSBridge", "ovs_bridge br0", "ovs_options br1 2"]
        ),
        [format!(
            "{F}:4: error: ovs_options: VLAN bridge parent br1 conflicts with br0 from ovs_bridge"
        )]
    );
    assert_eq!(
        errors("v", &["ovs_type OVSBridge", "ovs_vlan 2"]),
        [format!(
            "{F}:3: error: ovs_vlan: a VLAN bridge needs ovs_vlan_parent"
        )]
    );
    assert_eq!(
        errors(
            "v",
            &["ovs_type OVSBridge", "ovs_vlan_parent br0", "ovs_vlan 4096"]
        ),
        [format!(
            "{F}:4: error: ovs_vlan: VLAN id 4096 is outside 0..4095"
        )]
    );
    assert_eq!(
        errors("v", &["ovs_type OVSBridge", "ovs_bridge br0"]),
        [format!(
            "{F}:3: error: ovs_bridge: on an OVSBridge names the parent of a VLAN bridge, but no VLAN is given (ovs_vlan)"
        )]
    );
}

#[test]
fn repeats() {
    // same value twice (inet + inet6, or inherits) is fine
    ok("br0", &["ovs_type OVSBridge", "ovs_type OVSBridge"]);
    assert_eq!(
        errors(
            "p",
            &["ovs_type OVSPort", "ovs_bridge br0", "ovs_bridge br1"]
        ),
        [format!(
            "{F}:4: error: ovs_bridge: \"br1\" conflicts with \"br0\" given at line 3"
        )]
    );
    let m = ok(
        "br0",
        &[
            "ovs_type OVSBridge",
            "ovs_extra set Bridge a stp_enable=true",
            "ovs_extra set Bridge c stp_enable=true",
            "ovs_extra set Bridge a stp_enable=true",
        ],
    );
    assert_eq!(
        m.extra.as_deref(),
        Some("set Bridge a stp_enable=true -- set Bridge c stp_enable=true")
    );
}

#[test]
fn unknown_options_warn() {
    let a = run(
        "br0",
        &["ovs_type OVSBridge", "ovs_prots eth0", "ovs_frobnicate 1"],
    );
    assert!(a.errors.is_empty());
    let w: Vec<String> = a.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(
        w,
        [
            format!("{F}:3: warning: br0: ovs_prots: unknown option; did you mean ovs_ports?"),
            format!("{F}:4: warning: br0: ovs_frobnicate: unknown option"),
        ]
    );
    // only unknown ovs_* names: not an OVS interface
    let a = run("eth0", &["ovs_brdige br0"]);
    assert_eq!((a.iface, a.errors.len(), a.warnings.len()), (None, 0, 1));
}

#[test]
fn sysctls() {
    let m = ok(
        "p",
        &[
            "ovs_type OVSIntPort",
            "ovs_bridge br0",
            "ovs_disable_ipv6 on",
            "ovs_arp_filter 1",
            "ovs_arp_ignore 1",
            "ovs_arp_announce 2",
        ],
    );
    assert!(device(&m).disable_ipv6);
    let arp = &device(&m).arp;
    assert_eq!(
        (arp.filter, arp.ignore, arp.announce),
        (Some(true), Some(1), Some(2))
    );
    assert_eq!(
        errors(
            "p",
            &[
                "ovs_type OVSIntPort",
                "ovs_bridge br0",
                "ovs_disable_ipv6 maybe"
            ]
        ),
        [format!(
            "{F}:4: error: ovs_disable_ipv6: \"maybe\" is not yes or no (also accepted: on/off, true/false, 1/0)"
        )]
    );
    assert_eq!(
        errors(
            "p",
            &["ovs_type OVSIntPort", "ovs_bridge br0", "ovs_arp_ignore 9"]
        ),
        [format!(
            "{F}:4: error: ovs_arp_ignore: arp_ignore value 9 is outside 0..8"
        )]
    );
    assert_eq!(
        errors(
            "p",
            &[
                "ovs_type OVSIntPort",
                "ovs_bridge br0",
                "ovs_arp_announce 3"
            ]
        ),
        [format!(
            "{F}:4: error: ovs_arp_announce: arp_announce value 3 is outside 0..2"
        )]
    );
    assert_eq!(
        warnings(
            "p",
            &["ovs_type OVSIntPort", "ovs_bridge br0", "ovs_arp_ignore 5"]
        )
        .len(),
        1
    );
}

#[test]
fn route_tables() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rt_tables"), "100 mgmt\n").unwrap();
    let ctx = Context {
        iproute2_dirs: vec![dir.path().to_path_buf()],
    };
    let base = ["ovs_type OVSIntPort", "ovs_bridge br0"];
    let with = |extra: &[&str]| {
        let mut l: Vec<&str> = base.to_vec();
        l.extend_from_slice(extra);
        analyze("p", &raws(&l), &ctx)
    };
    let a = with(&[
        "ovs_route_table mgmt",
        "ovs_route default via 192.0.2.1",
        "ovs_route 198.51.100.0/24 via 192.0.2.2",
        "ovs_route_pref 900",
    ]);
    assert!(a.errors.is_empty() && a.warnings.is_empty(), "{a:?}");
    let m = a.iface.unwrap();
    let r = device(&m).routing.as_ref().unwrap();
    assert_eq!(r.table, RouteTable::Name("mgmt".into()));
    assert_eq!(r.routes.len(), 2);
    assert_eq!(r.pref, 900);
    let a = with(&["ovs_route_table 100"]);
    let m = a.iface.unwrap();
    let r = device(&m).routing.as_ref().unwrap();
    assert_eq!(
        (&r.table, r.pref),
        (&RouteTable::Id(100), DEFAULT_ROUTE_PREF)
    );
    let a = with(&["ovs_route_table nosuch"]);
    assert_eq!(
        a.errors[0].to_string(),
        format!(
            "{F}:4: error: p: ovs_route_table: unknown routing table name \"nosuch\" (not in rt_tables or rt_tables.d/*.conf under {})",
            dir.path().display()
        )
    );
    let a = with(&["ovs_route default via 192.0.2.1"]);
    assert_eq!(
        a.errors[0].to_string(),
        format!("{F}:4: error: p: ovs_route: needs ovs_route_table (the table the routes go to)")
    );
    let a = with(&["ovs_route_table 0"]);
    assert_eq!(a.errors.len(), 1);
    let a = with(&["ovs_route_table 100", "ovs_route_pref 0"]);
    assert_eq!(a.errors.len(), 1);
    let a = with(&["ovs_route_pref 900"]);
    assert_eq!((a.errors.len(), a.warnings.len()), (0, 1));
}

#[test]
fn environment() {
    let vars = [
        ("PATH", "/bin"),
        ("IFACE", "vlan100"),
        ("IF_OVS_TYPE", "OVSIntPort"),
        ("IF_OVS_BRIDGE", "br1"),
        ("IF_OVS_OPTIONS", "tag=100"),
        ("IF_OVS_ROUTE_TABLE", "100"),
        (
            "IF_OVS_ROUTE",
            "default via 192.0.2.1\n198.51.100.0/24 via 192.0.2.2",
        ),
        ("IF_ADDRESS", "192.0.2.9"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()));
    let m = from_env("vlan100", vars).unwrap().unwrap();
    assert_eq!(vlan(&m).tag, Some(VlanId(100)));
    assert_eq!(
        device(&m).routing.as_ref().unwrap().routes,
        ["default via 192.0.2.1", "198.51.100.0/24 via 192.0.2.2"]
    );
    assert_eq!(
        from_env("eth0", [("IF_ADDRESS".to_string(), "x".to_string())]),
        Ok(None)
    );
    let errs = from_env(
        "p",
        [
            ("IF_OVS_TYPE".to_string(), "OVSPort".to_string()),
            ("IF_OVS_TAG".to_string(), "5000".to_string()),
        ],
    )
    .unwrap_err();
    let shown: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        shown,
        [
            "p: error: ovs_bridge: missing; an OVSPort needs the bridge it belongs to",
            "p: error: ovs_tag: VLAN id 5000 is outside 0..4095",
        ]
    );
    // repeated values as ifupdown exports them: conflicting
    let errs = from_env(
        "p",
        [
            ("IF_OVS_TYPE".to_string(), "OVSPort".to_string()),
            ("IF_OVS_BRIDGE".to_string(), "br0\nbr1".to_string()),
        ],
    )
    .unwrap_err();
    assert_eq!(
        errs[0].to_string(),
        "p: error: ovs_bridge: \"br1\" conflicts with \"br0\""
    );
}

#[test]
fn canonical_names() {
    assert_eq!(canonical_name("ovs-type"), "ovs_type");
    assert_eq!(canonical_name("OVS_Bridge"), "ovs_bridge");
    assert_eq!(canonical_name("my.opt"), "myopt");
}

#[test]
fn stanza_lines_keep_their_positions() {
    let opt = |name: &str, value: &str, line| Opt {
        name: name.into(),
        value: value.into(),
        pos: pos(line),
    };
    let iface = Iface {
        name: "p".into(),
        family: "inet".into(),
        method: "manual".into(),
        inherits: Some("tmpl".into()),
        options: vec![opt("ovs_bridge", "br1", 7), opt("ovs-type", "OVSPort", 8)],
        pos: pos(6),
    };
    // resolved: template's ovs_bridge br0 (line 3) then the stanza's own br1
    let resolved = [
        opt("ovs_bridge", "br0\nbr1", 3),
        opt("ovs-type", "OVSPort", 8),
    ];
    let r = raw_from_stanza(&iface, &resolved);
    let got: Vec<(&str, &str, usize)> = r
        .iter()
        .map(|r| {
            (
                r.name.as_str(),
                r.value.as_str(),
                r.pos.as_ref().unwrap().line,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("ovs_bridge", "br0", 3),
            ("ovs_bridge", "br1", 7),
            ("ovs_type", "OVSPort", 8)
        ]
    );
    assert_eq!(
        from_stanza(&iface, &resolved).unwrap_err()[0].to_string(),
        format!("{F}:7: error: p: ovs_bridge: \"br1\" conflicts with \"br0\" given at line 3")
    );
}

#[test]
fn every_option_is_documented() {
    let doc = include_str!("../../../docs/options.md");
    let headings: Vec<&str> = doc.lines().filter(|l| l.starts_with("### ")).collect();
    for name in known_options() {
        let quoted = format!("`{name}`");
        assert!(
            headings.iter().any(|h| h.contains(&quoted)),
            "docs/options.md has no heading for {name}"
        );
    }
}

#[test]
fn hook_merges_environment_with_other_stanzas() {
    let cfg = Config::parse_str(
        "iface p1 inet static\n  address 192.0.2.1/24\n  ovs_type OVSIntPort\n  ovs_bridge br0\n\
         iface p1 inet6 static\n  address 2001:db8::1/64\n  ovs_mac 02:00:00:00:00:01\n",
        std::path::Path::new(F),
    )
    .unwrap();
    let ctx = Context::default();
    let env = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>()
    };
    // the inet6 run: its own env has only ovs_mac, the inet stanza gives the rest
    let a = for_hook(
        Some(&cfg),
        "p1",
        "p1",
        "inet6",
        env(&[("IF_OVS_MAC", "02:00:00:00:00:01")]),
        &ctx,
    );
    assert!(a.errors.is_empty(), "{:?}", a.errors);
    let m = a.iface.unwrap();
    assert_eq!((m.ovs_type(), m.bridge()), (OvsType::IntPort, Some("br0")));
    assert_eq!(m.mac(), Some(Mac([2, 0, 0, 0, 0, 1])));
    // env wins over the file for its own stanza (ifup -o, or a changed file)
    let a = for_hook(
        Some(&cfg),
        "p1",
        "p1",
        "inet",
        env(&[("IF_OVS_TYPE", "OVSIntPort"), ("IF_OVS_BRIDGE", "br9")]),
        &ctx,
    );
    assert_eq!(a.iface.unwrap().bridge(), Some("br9"));
    // no file: the environment alone
    let a = for_hook(
        None,
        "p1",
        "p1",
        "inet6",
        env(&[("IF_OVS_MAC", "02:00:00:00:00:01")]),
        &ctx,
    );
    assert_eq!(a.errors.len(), 1);
    assert_eq!(
        a.errors[0].to_string(),
        "p1: error: ovs_type: missing, but ovs_mac is given (ovs_* options need an ovs_type)"
    );
}

/// What the hook's splitter (`sys::words`) would reject is an error at the option.
#[test]
fn shell_text_the_hook_rejects() {
    let cases = [
        ("ovs_extra `echo", "ovs_extra: unterminated backquote"),
        ("ovs_extra 'abc", "ovs_extra: unterminated single quote"),
        (
            "ovs_extra ${IFACE:-x}",
            "ovs_extra: unsupported expansion `${IFACE:-x}` (only $NAME and ${NAME} are expanded)",
        ),
        (
            "ovs_extra $1",
            "ovs_extra: unsupported expansion `$1` (only $NAME and ${NAME} are expanded)",
        ),
        ("ovs_extra $(echo \"a)\"", "ovs_extra: unterminated $("),
        (
            "ovs_options \"unterminated",
            "ovs_options: unterminated double quote",
        ),
        (
            "ovs_options bond_mode=$(id)",
            "ovs_options: command substitution `$(id)` is only allowed in ovs_extra",
        ),
        (
            "ovs_options foo",
            "ovs_options: `foo` is not COLUMN[:KEY]=VALUE (a column of the Port table)",
        ),
    ];
    for (line, message) in cases {
        let lines = ["ovs_type OVSIntPort", "ovs_bridge br0", line];
        assert_eq!(errors("p", &lines), [format!("{F}:4: error: {message}")]);
    }
    let tunnel = |line| {
        let lines = [
            "ovs_type OVSTunnel",
            "ovs_bridge br0",
            "ovs_tunnel_type vxlan",
            line,
        ];
        errors("t", &lines)
    };
    assert_eq!(
        tunnel("ovs_tunnel_options options:remote_ip=`echo 1`"),
        [format!(
            "{F}:5: error: ovs_tunnel_options: command substitution ``echo 1`` is only allowed in ovs_extra"
        )]
    );
    assert_eq!(
        tunnel("ovs_tunnel_options remote_ip"),
        [format!(
            "{F}:5: error: ovs_tunnel_options: `remote_ip` is not COLUMN[:KEY]=VALUE (a column of the Interface table)"
        )]
    );
    // What ovs_extra may hold: variables, and command substitution (not run here).
    ok(
        "p",
        &[
            "ovs_type OVSIntPort",
            "ovs_bridge br0",
            "ovs_extra set interface $IFACE external-ids:id=$(hostname -s) -- br-set-external-id br0 x `true`",
        ],
    );
}

/// An `ovs_route` that sets its own table is refused by the hook at post-up.
#[test]
fn route_with_its_own_table() {
    assert_eq!(
        errors(
            "p",
            &[
                "ovs_type OVSIntPort",
                "ovs_bridge br0",
                "ovs_route_table 100",
                "ovs_route 198.51.100.0/24 via 192.0.2.254 table 5",
            ]
        ),
        [format!(
            "{F}:5: error: ovs_route: \"198.51.100.0/24 via 192.0.2.254 table 5\" names its own table; ifupdown-ovs adds \"table T proto 79\" itself (ovs_route_table)"
        )]
    );
}

/// The inputs the `option_values` fuzz target found (fixtures/fuzz-regressions/
/// `option_values-*`: a kind byte, an option byte, the value), decoded as it decodes
/// them: an interface with errors or none the hook would refuse to plan.
#[test]
fn option_values_fuzz_regressions() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/fuzz-regressions");
    let names: Vec<&str> = known_options().collect();
    let mut seen = 0;
    for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        let bytes = std::fs::read(e.path()).unwrap_or_default();
        let (true, [kind, option, rest @ ..]) = (file.starts_with("option_values-"), &bytes[..])
        else {
            continue;
        };
        let kind = OvsType::ALL[*kind as usize % OvsType::ALL.len()];
        let name = names[*option as usize % names.len()];
        let value = String::from_utf8_lossy(rest);
        let lines = [
            format!("ovs_type {}", kind.as_str()),
            "ovs_bridge br0".to_string(),
            "ovs_tunnel_type vxlan".to_string(),
            "ovs_bonds eth0 eth1".to_string(),
            "ovs_patch_peer peer0".to_string(),
            format!("{name} {value}"),
        ];
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        let a = run("p0", &lines);
        assert!(!a.errors.is_empty(), "{file}: accepted");
        seen += 1;
    }
    assert!(
        seen >= 1,
        "no option_values regressions in {}",
        dir.display()
    );
}

/// Issue 11: the words of ovs_options, ovs_tunnel_options and ovs_extra are checked
/// against the OVS schema (the copy in fixtures/schema/ under `cargo test`), with
/// the option's position, the interface and the option in each error.
#[test]
fn schema_checked_words() {
    let br = |opt: &str| errors("br0", &["ovs_type OVSBridge", opt]);
    assert_eq!(
        br("ovs_options stp_enable=maybe"),
        [format!(
            "{F}:3: error: ovs_options: `stp_enable=maybe`: Bridge column stp_enable: `maybe` is not true or false"
        )]
    );
    assert_eq!(
        br("ovs_options fail_mode=open"),
        [format!(
            "{F}:3: error: ovs_options: `fail_mode=open`: Bridge column fail_mode: `open` is not one of standalone, secure"
        )]
    );
    assert!(br("ovs_options stp_enabled=true")[0].ends_with("(did you mean stp_enable?)"));
    assert!(br("ovs_options protocols=OpenFlow99")[0].contains("`OpenFlow99` is not one of"));
    assert_eq!(
        br("ovs_extra set brige ${IFACE} stp_enable=true"),
        [format!(
            "{F}:3: error: ovs_extra: `set brige br0 stp_enable=true`: no table brige (did you mean Bridge?)"
        )]
    );
    assert_eq!(
        br("ovs_extra frobnicate"),
        [format!(
            "{F}:3: error: ovs_extra: `frobnicate`: unknown ovs-vsctl command `frobnicate`"
        )]
    );
    assert!(
        br("ovs_extra set Interface ${IFACE} mtu_request=-5")[0]
            .contains("-5 is less than 1, the least allowed")
    );
    let bond = |opt: &str| {
        errors(
            "bond0",
            &["ovs_type OVSBond", "ovs_bridge br0", "ovs_bonds a b", opt],
        )
    };
    assert_eq!(
        bond("ovs_options lacp=sometimes"),
        [format!(
            "{F}:5: error: ovs_options: `lacp=sometimes`: Port column lacp: `sometimes` is not one of active, passive, off"
        )]
    );
    assert!(bond("ovs_options bond_mode=balance-fast")[0].contains("`balance-fast` is not one of"));
    let a = run(
        "bond0",
        &[
            "ovs_type OVSBond",
            "ovs_bridge br0",
            "ovs_bonds a b",
            "ovs_options lacp=sometimes",
        ],
    );
    match &a.errors[..] {
        [
            OptionError::Schema {
                iface,
                option,
                pos: Some(p),
                command: None,
                ..
            },
        ] => {
            assert_eq!(
                (iface.as_str(), option.as_str(), p.line),
                ("bond0", "ovs_options", 5)
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(a.iface.is_some(), "the model is still built");
    let tunnel = errors(
        "gre0",
        &[
            "ovs_type OVSTunnel",
            "ovs_bridge br0",
            "ovs_tunnel_type gre",
            "ovs_tunnel_options options:remote_ip=192.0.2.1 mtu_request=-5",
        ],
    );
    assert_eq!(tunnel.len(), 1, "{tunnel:?}");
    assert!(tunnel[0].contains("ovs_tunnel_options: `mtu_request=-5`"));
}

#[test]
fn schema_accepts_valid_words() {
    for lines in [
        &[
            "ovs_type OVSBridge",
            "ovs_options stp_enable=true fail_mode=secure protocols=OpenFlow10,OpenFlow13 other_config:mac-aging-time=600",
        ][..],
        &[
            "ovs_type OVSBridge",
            "ovs_extra set Bridge ${IFACE} other-config:stp-priority=4096 -- br-set-external-id ${IFACE} bridge-id ${IFACE}",
        ][..],
        &[
            "ovs_type OVSBond",
            "ovs_bridge br0",
            "ovs_bonds a b",
            "ovs_options bond_mode=balance-slb lacp=active other_config:lacp-time=fast tag=5",
        ][..],
        &[
            "ovs_type OVSIntPort",
            "ovs_bridge br0",
            "ovs_extra set Interface ${IFACE} external-ids:iface-id=$(hostname -s) mtu_request=9000",
        ][..],
        &[
            "ovs_type OVSPort",
            "ovs_bridge br0",
            "ovs_options vlan_mode=native-untagged trunks=1-10 other_config:priority-tags=always",
        ][..],
        &[
            "ovs_type OVSTunnel",
            "ovs_bridge br0",
            "ovs_tunnel_type vxlan",
            "ovs_tunnel_options options:remote_ip=flow options:key=5 ofport_request=10",
        ][..],
    ] {
        let a = run("x0", lines);
        assert!(
            a.errors.is_empty() && a.warnings.is_empty(),
            "{lines:?}: {:?} {:?}",
            a.errors,
            a.warnings
        );
    }
}

#[test]
fn schema_warnings() {
    let w = warnings(
        "br0",
        &[
            "ovs_type OVSBridge",
            "ovs_options other_config:mac_aging_time=5 stp_enable=$IF_STP",
        ],
    );
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w[0].contains("mac_aging_time is not a key of Bridge other_config that ovs-vswitchd.conf.db(5) documents (did you mean mac-aging-time?)"), "{w:?}");
    assert!(
        w[1].contains("`stp_enable=$…`: the value is only known when the hook runs"),
        "{w:?}"
    );
}

/// Each line of a repeated `ovs_extra` / `ovs_options` is reported at its own line.
#[test]
fn schema_errors_at_their_own_line() {
    let e = errors(
        "br0",
        &[
            "ovs_type OVSBridge",
            "ovs_extra set Bridge ${IFACE} stp_enable=true",
            "ovs_extra set Bridge ${IFACE} stp_enable=maybe",
            "ovs_options fail_mode=secure",
            "ovs_options fail_mode=open",
        ],
    );
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(
        e[0].starts_with(&format!("{F}:6: error: ovs_options: `fail_mode=open`")),
        "{e:?}"
    );
    assert!(
        e[1].starts_with(&format!(
            "{F}:4: error: ovs_extra: `set Bridge br0 stp_enable=maybe`: `stp_enable=maybe`"
        )),
        "{e:?}"
    );
}
