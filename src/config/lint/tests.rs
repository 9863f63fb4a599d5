//! Unit tests of whole-configuration checks on configurations parsed from strings.

use std::path::Path;

use super::*;

const F: &str = "/etc/network/interfaces";

fn diags(text: &str) -> Vec<String> {
    let cfg = Config::parse_str(text, Path::new(F)).expect("parses");
    check_config(&cfg, &CheckEnv::default())
        .iter()
        .map(|d| d.to_string())
        .collect()
}

fn clean(text: &str) {
    assert_eq!(diags(text), Vec::<String>::new());
}

const BRIDGE: &str = "iface br0 inet manual\n  ovs_type OVSBridge\n";

#[test]
fn a_valid_bridge_with_ports() {
    clean(
        "auto br0\niface br0 inet manual\n  ovs_type OVSBridge\n  ovs_ports eth0 p1\n\n\
         iface eth0 inet manual\n  ovs_type OVSPort\n  ovs_bridge br0\n\n\
         iface p1 inet static\n  address 192.0.2.1/24\n  ovs_type OVSIntPort\n  ovs_bridge br0\n",
    );
}

#[test]
fn bridge_must_exist_and_be_a_bridge() {
    assert_eq!(
        diags("iface eth0 inet manual\n  ovs_type OVSPort\n  ovs_bridge br9\n"),
        [format!(
            "{F}:3: error: eth0: ovs_bridge: no stanza for bridge br9"
        )]
    );
    assert_eq!(
        diags(
            "iface br0 inet manual\niface eth0 inet manual\n  ovs_type OVSPort\n  ovs_bridge br0\n"
        ),
        [format!(
            "{F}:4: error: eth0: ovs_bridge: br0 is not an OVSBridge (its stanza at line 1 has no ovs_type)"
        )]
    );
    assert_eq!(
        diags(&format!(
            "{BRIDGE}iface eth0 inet manual\n  ovs_type OVSPort\n  ovs_bridge br0\niface eth1 inet manual\n  ovs_type OVSPort\n  ovs_bridge eth0\n"
        )),
        [format!(
            "{F}:8: error: eth1: ovs_bridge: eth0 is an OVSPort, not an OVSBridge"
        )]
    );
}

#[test]
fn ports_must_exist_and_belong() {
    assert_eq!(
        diags("iface br0 inet manual\n  ovs_type OVSBridge\n  ovs_ports eth0\n"),
        [format!(
            "{F}:3: error: br0: ovs_ports: no stanza for port eth0"
        )]
    );
    assert_eq!(
        diags(
            "iface br0 inet manual\n  ovs_type OVSBridge\n  ovs_ports eth0\niface eth0 inet manual\n"
        ),
        [format!(
            "{F}:3: error: br0: ovs_ports: eth0 has no ovs_type (its stanza at line 4)"
        )]
    );
    assert_eq!(
        diags(&format!(
            "{BRIDGE}iface br1 inet manual\n  ovs_type OVSBridge\n  ovs_ports eth0\niface eth0 inet manual\n  ovs_type OVSPort\n  ovs_bridge br0\n"
        )),
        [format!(
            "{F}:5: error: br1: ovs_ports: eth0 belongs to bridge br0 (its stanza at line 6)"
        )]
    );
}

#[test]
fn duplicate_macs() {
    let text = format!(
        "{BRIDGE}iface p1 inet manual\n  ovs_type OVSIntPort\n  ovs_bridge br0\n  ovs_mac 02:00:00:00:00:01\n\
         iface p2 inet manual\n  ovs_type OVSIntPort\n  ovs_bridge br0\n  hwaddress ether 02:00:00:00:00:01\n\
         iface eth5 inet manual\n  hwaddress 02:00:00:00:00:01\n"
    );
    // eth5 is not an OVS interface: sharing a MAC may be on purpose (VLAN devices)
    assert_eq!(
        diags(&text),
        [format!(
            "{F}:10: error: p2: hwaddress: 02:00:00:00:00:01 is also the MAC of p1 (line 6)"
        )]
    );
    // two internal ports inheriting one template's MAC
    assert_eq!(
        diags(&format!(
            "{BRIDGE}iface t inet manual\n  ovs_type OVSIntPort\n  ovs_bridge br0\n  ovs_mac 02:00:00:00:00:07\n\
             iface p1 inet manual inherits t\n"
        )),
        [format!(
            "{F}:7: error: p1: ovs_mac: 02:00:00:00:00:07 is also the MAC of t (line 6)"
        )]
    );
    // inet + inet6 stanzas of one interface are one interface
    clean(&format!(
        "{BRIDGE}iface p1 inet manual\n  ovs_type OVSIntPort\n  ovs_bridge br0\n  ovs_mac 02:00:00:00:00:01\n\
         iface p1 inet6 manual\n  ovs_mac 02:00:00:00:00:01\n"
    ));
}

#[test]
fn patch_peers() {
    let patch = |name: &str, br: &str, peer: &str| {
        format!(
            "iface {name} inet manual\n  ovs_type OVSPatchPort\n  ovs_bridge {br}\n  ovs_patch_peer {peer}\n"
        )
    };
    let bridges = "iface br0 inet manual\n  ovs_type OVSBridge\niface br1 inet manual\n  ovs_type OVSBridge\n";
    clean(&format!(
        "{bridges}{}{}",
        patch("patch0", "br0", "patch1"),
        patch("patch1", "br1", "patch0")
    ));
    assert_eq!(
        diags(&format!("{bridges}{}", patch("patch0", "br0", "patch1"))),
        [format!(
            "{F}:8: error: patch0: ovs_patch_peer: no stanza for peer patch1"
        )]
    );
    assert_eq!(
        diags(&format!(
            "{bridges}{}{}{}",
            patch("patch0", "br0", "patch1"),
            patch("patch1", "br1", "patch2"),
            patch("patch2", "br1", "patch1")
        )),
        [format!(
            "{F}:8: error: patch0: ovs_patch_peer: patch1 is not reciprocal: its peer is patch2, not patch0"
        )]
    );
    assert_eq!(
        diags(&format!("{bridges}{}", patch("patch0", "br0", "br1"))),
        [format!(
            "{F}:8: error: patch0: ovs_patch_peer: br1 is an OVSBridge, not an OVSPatchPort"
        )]
    );
}

#[test]
fn vlan_bridge_parents() {
    let fake = |name: &str, parent: &str, vid: u16| {
        format!(
            "iface {name} inet manual\n  ovs_type OVSBridge\n  ovs_vlan_parent {parent}\n  ovs_vlan {vid}\n"
        )
    };
    clean(&format!("{BRIDGE}{}", fake("br0v1", "br0", 1)));
    assert_eq!(
        diags(&fake("br0v1", "br0", 1)),
        [format!(
            "{F}:3: error: br0v1: ovs_vlan_parent: no stanza for parent bridge br0"
        )]
    );
    assert_eq!(
        diags(&format!(
            "{BRIDGE}{}{}",
            fake("br0v1", "br0", 1),
            fake("br0v1v2", "br0v1", 2)
        )),
        [format!(
            "{F}:9: error: br0v1v2: ovs_vlan_parent: parent br0v1 is itself a VLAN bridge"
        )]
    );
    // ifupdown2 spelling points at ovs_options
    assert_eq!(
        diags("iface v1 inet manual\n  ovs_type OVSBridge\n  ovs_options br0 1\n"),
        [format!(
            "{F}:3: error: v1: ovs_options: no stanza for parent bridge br0"
        )]
    );
    // datapath of a VLAN bridge is its parent's
    assert_eq!(
        diags(&format!(
            "{BRIDGE}{}  ovs_datapath_type netdev\n",
            fake("br0v1", "br0", 1)
        )),
        [format!(
            "{F}:7: warning: br0v1: ovs_datapath_type: a VLAN bridge uses the datapath of its parent br0 (system, the default)"
        )]
    );
}

#[test]
fn options_split_across_inet_and_inet6() {
    // ovs_type only in the inet stanza; ovs_bridge in the inet6 one: one interface
    clean(&format!(
        "{BRIDGE}iface p1 inet static\n  address 192.0.2.1/24\n  ovs_type OVSIntPort\n\
         iface p1 inet6 static\n  address 2001:db8::1/64\n  ovs_bridge br0\n"
    ));
    // different values in the two stanzas conflict
    assert_eq!(
        diags(&format!(
            "{BRIDGE}iface p1 inet manual\n  ovs_type OVSIntPort\n  ovs_bridge br0\n  ovs_tag 1\n\
             iface p1 inet6 manual\n  ovs_tag 2\n"
        )),
        [format!(
            "{F}:8: error: p1: ovs_tag: \"2\" conflicts with \"1\" given at line 6"
        )]
    );
}

#[test]
fn sorted_by_line_with_warnings() {
    let out = diags(
        "iface eth0 inet manual\n  ovs_type OVSPort\n  ovs_bridge br9\n  ovs_brdige x\n\
         iface br1 inet manual\n  ovs_type OVSBridge\n  ovs_tag 5\n",
    );
    assert_eq!(
        out,
        [
            format!("{F}:3: error: eth0: ovs_bridge: no stanza for bridge br9"),
            format!("{F}:4: warning: eth0: ovs_brdige: unknown option; did you mean ovs_bridge?"),
            format!(
                "{F}:7: warning: br1: ovs_tag: has no effect on an OVSBridge (only on OVSPort, OVSIntPort, OVSBond, OVSPatchPort, OVSTunnel)"
            ),
        ]
    );
}

#[test]
fn an_interface_with_its_own_errors_is_still_checked_against_the_others() {
    // a patch port without its bridge still names its peer; an internal port
    // without its bridge still has its MAC; a tunnel without its type still names
    // its bridge; and they are still seen by kind from the others
    assert_eq!(
        diags(&format!(
            "{BRIDGE}iface pa inet manual\n  ovs_type OVSPatchPort\n  ovs_patch_peer pb\n\
             iface pb inet manual\n  ovs_type OVSPatchPort\n  ovs_bridge br0\n  ovs_patch_peer pc\n\
             iface p1 inet manual\n  ovs_type OVSIntPort\n  ovs_mac 02:00:00:00:00:01\n\
             iface p2 inet manual\n  ovs_type OVSIntPort\n  ovs_bridge p1\n  ovs_mac 02:00:00:00:00:01\n\
             iface t1 inet manual\n  ovs_type OVSTunnel\n  ovs_bridge br9\n"
        )),
        [
            format!(
                "{F}:4: error: pa: ovs_bridge: missing; an OVSPatchPort needs the bridge it belongs to"
            ),
            format!(
                "{F}:5: error: pa: ovs_patch_peer: pb is not reciprocal: its peer is pc, not pa"
            ),
            format!("{F}:9: error: pb: ovs_patch_peer: no stanza for peer pc"),
            format!(
                "{F}:11: error: p1: ovs_bridge: missing; an OVSIntPort needs the bridge it belongs to"
            ),
            format!("{F}:15: error: p2: ovs_bridge: p1 is an OVSIntPort, not an OVSBridge"),
            format!(
                "{F}:16: error: p2: ovs_mac: 02:00:00:00:00:01 is also the MAC of p1 (line 12)"
            ),
            format!(
                "{F}:18: error: t1: ovs_tunnel_type: missing; an OVSTunnel needs its type (gre, vxlan, geneve, ...)"
            ),
            format!("{F}:19: error: t1: ovs_bridge: no stanza for bridge br9"),
        ]
    );
}

#[test]
fn static_addresses_of_our_interfaces_must_parse() {
    let port = |lines: &str| {
        format!("{BRIDGE}iface p1 inet static\n{lines}  ovs_type OVSIntPort\n  ovs_bridge br0\n")
    };
    assert_eq!(
        diags(&port("  address 192.0.2.300/24\n")),
        [format!(
            "{F}:4: error: p1: inet stanza: address: \"192.0.2.300/24\" is not an IP address"
        )]
    );
    assert_eq!(
        diags(&port("  address 192.0.2.3\n  netmask 255.0.255.0\n")),
        [format!(
            "{F}:5: error: p1: inet stanza: netmask: netmask \"255.0.255.0\" is not a prefix length or a contiguous dotted netmask"
        )]
    );
    assert_eq!(
        diags(&port("  address 192.0.2.3/24\n  gateway 2001:db8::1\n")),
        [format!(
            "{F}:5: error: p1: inet stanza: gateway: 2001:db8::1 is not an inet address"
        )]
    );
    clean(&port(
        "  address 192.0.2.3\n  netmask 255.255.255.0\n  gateway 192.0.2.1\n",
    ));
    // not ours: left to ifupdown
    clean("iface eth9 inet static\n  address 192.0.2.300/24\n");
}
