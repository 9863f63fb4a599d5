use std::path::Path;

use super::*;
use crate::ocf::params::{OcfEnv, Params};
use crate::ocf::rc::Rc;

fn params(pairs: &[(&str, &str)]) -> Params {
    let env = OcfEnv::from_vars(
        pairs
            .iter()
            .map(|(k, v)| (format!("OCF_RESKEY_{k}"), v.to_string())),
    );
    Params::parse(&env).unwrap().strict().unwrap()
}

fn cfg(text: &str) -> Config {
    Config::parse_str(text, Path::new("/etc/network/interfaces")).unwrap()
}

fn env() -> CheckEnv {
    CheckEnv {
        options: options::Context {
            iproute2_dirs: Vec::new(),
        },
    }
}

const HA: &str = "\
auto ovsbr0
iface ovsbr0 inet manual
    ovs_type OVSBridge
    ovs_datapath_type netdev

iface ovsbr0p1 inet static
    address 192.0.2.50/24
    gateway 192.0.2.1
    ovs_type OVSIntPort
    ovs_bridge ovsbr0
    ovs_mac 02:00:00:00:00:01

iface ovsbr0p1 inet6 static
    address 2001:db8::50
    netmask 64
";

#[test]
fn seed_ha_fixture() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/examples/seed-ha.interfaces");
    let c = Config::load(&file).unwrap();
    let p = params(&[("interface", "ovsbr0p1"), ("bridge", "ovsbr0")]);
    let t = resolve(&c, &p, &env()).unwrap();
    assert_eq!(t.bridge, "ovsbr0");
    assert_eq!(t.mac, Some(Mac([2, 0, 0, 0, 0, 1])));
    assert_eq!(t.ifupdown_options, Vec::<(String, String)>::new());
    assert!(!t.bridge_outside_file);
    let shown: Vec<String> = t.addresses.iter().map(|a| a.to_string()).collect();
    assert_eq!(shown, ["192.0.2.50/24", "2001:db8::1/64"]);
}

#[test]
fn from_the_stanza_alone() {
    let t = resolve(&cfg(HA), &params(&[("interface", "ovsbr0p1")]), &env()).unwrap();
    assert_eq!(t.bridge, "ovsbr0");
    assert!(
        t.warnings
            .iter()
            .any(|w| w.contains("ovs_arp_ignore 1 on ovsbr0")),
        "{:?}",
        t.warnings
    );
    let quiet = HA.replace(
        "ovs_datapath_type netdev",
        "ovs_datapath_type netdev\n    ovs_arp_ignore 1",
    );
    let t = resolve(&cfg(&quiet), &params(&[("interface", "ovsbr0p1")]), &env()).unwrap();
    assert!(t.warnings.is_empty(), "{:?}", t.warnings);
    assert_eq!(
        t.mac.map(|m| m.to_string()).as_deref(),
        Some("02:00:00:00:00:01")
    );
    assert_eq!(t.addresses[1].to_string(), "2001:db8::50/64");
    assert!(t.ifupdown_options.is_empty());
}

#[test]
fn parameters_must_agree_with_the_stanza() {
    let e = resolve(
        &cfg(HA),
        &params(&[("interface", "ovsbr0p1"), ("bridge", "br9")]),
        &env(),
    )
    .unwrap_err();
    assert_eq!(e.rc, Rc::ErrConfigured);
    assert!(
        e.reason
            .contains("bridge=br9 disagrees with ovs_bridge ovsbr0"),
        "{e}"
    );
    let e = resolve(
        &cfg(HA),
        &params(&[("interface", "ovsbr0p1"), ("mac", "02:00:00:00:00:02")]),
        &env(),
    )
    .unwrap_err();
    assert!(
        e.reason
            .contains("disagrees with ovs_mac 02:00:00:00:00:01"),
        "{e}"
    );
    // the same values in another spelling agree
    let t = resolve(
        &cfg(HA),
        &params(&[("interface", "ovsbr0p1"), ("mac", "2:0:0:0:0:1")]),
        &env(),
    )
    .unwrap();
    assert!(t.ifupdown_options.is_empty());
}

#[test]
fn mac_parameter_becomes_an_ifup_option() {
    let text = HA.replace("    ovs_mac 02:00:00:00:00:01\n", "");
    let t = resolve(
        &cfg(&text),
        &params(&[("interface", "ovsbr0p1"), ("mac", "02:00:00:00:00:0A")]),
        &env(),
    )
    .unwrap();
    assert_eq!(
        t.ifupdown_options,
        [("ovs_mac".to_string(), "02:00:00:00:00:0a".to_string())]
    );
    assert_eq!(t.mac, Some(Mac([2, 0, 0, 0, 0, 10])));
    // the MAC is checked like ovs_mac: no duplicate of another OVS interface
    let dup = text.replace(
        "    ovs_datapath_type netdev\n",
        "    ovs_datapath_type netdev\n    ovs_mac 02:00:00:00:00:0a\n",
    );
    let e = resolve(
        &cfg(&dup),
        &params(&[("interface", "ovsbr0p1"), ("mac", "02:00:00:00:00:0A")]),
        &env(),
    )
    .unwrap_err();
    assert!(e.reason.contains("also the MAC of ovsbr0"), "{e}");
}

#[test]
fn seed_stanza_without_ovs_options() {
    // the original shell agent's setup: a bridge made by hand, a plain stanza
    let text = "\
auto ovsbr0
iface ovsbr0 inet manual
    up ip link set dev $IFACE up

iface ovsbr0p1 inet static
    address 192.0.2.50
    netmask 255.255.255.0
iface ovsbr0p1 inet6 static
    address 2001:db8::1
    netmask 64
";
    let p = params(&[
        ("interface", "ovsbr0p1"),
        ("bridge", "ovsbr0"),
        ("mac", "02:00:00:00:00:01"),
    ]);
    let t = resolve(&cfg(text), &p, &env()).unwrap();
    let o: Vec<String> = t
        .ifupdown_options
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    assert_eq!(
        o,
        [
            "ovs_type=OVSIntPort",
            "ovs_bridge=ovsbr0",
            "ovs_mac=02:00:00:00:00:01"
        ]
    );
    assert!(t.bridge_outside_file);
    assert_eq!(t.addresses[0].to_string(), "192.0.2.50/24");
    // without the bridge parameter there is nothing to go on
    let e = resolve(&cfg(text), &params(&[("interface", "ovsbr0p1")]), &env()).unwrap_err();
    assert!(e.reason.contains("parameter bridge is not set"), "{e}");
}

#[test]
fn configuration_errors() {
    let p = params(&[("interface", "ovsbr0p1")]);
    let e = resolve(&cfg("iface eth0 inet dhcp\n"), &p, &env()).unwrap_err();
    assert_eq!(e.rc, Rc::ErrConfigured);
    assert!(e.reason.starts_with("no stanza for ovsbr0p1"), "{e}");

    // an error `check` reports, with its position
    let bad = HA.replace("ovs_mac 02:00:00:00:00:01", "ovs_mac 01:00:00:00:00:01");
    let e = resolve(&cfg(&bad), &p, &env()).unwrap_err();
    assert!(e.reason.contains("multicast"), "{e}");

    // errors of the bridge's stanza break ifup of the port too
    let bad = HA.replace("ovs_datapath_type netdev", "ovs_datapath_type fast");
    let e = resolve(&cfg(&bad), &p, &env()).unwrap_err();
    assert!(e.reason.contains("/etc/network/interfaces:4"), "{e}");

    // not an internal port
    let other = HA.replace("OVSIntPort", "OVSPort");
    let e = resolve(&cfg(&other), &p, &env()).unwrap_err();
    assert!(e.reason.contains("is an OVSPort"), "{e}");

    // brought up by every node at boot
    let auto = format!("auto ovsbr0p1\n{HA}");
    let e = resolve(&cfg(&auto), &p, &env()).unwrap_err();
    assert!(e.reason.contains("marked auto"), "{e}");
    let hot = format!("allow-hotplug ovsbr0p1\n{HA}");
    assert!(resolve(&cfg(&hot), &p, &env()).is_err());
    let listed = HA.replace(
        "    ovs_datapath_type netdev\n",
        "    ovs_datapath_type netdev\n    ovs_ports ovsbr0p1\n",
    );
    let e = resolve(&cfg(&listed), &p, &env()).unwrap_err();
    assert!(e.reason.contains("ovs_ports of ovsbr0"), "{e}");

    // a bad address
    let bad = HA.replace("192.0.2.50/24", "192.0.2.500/24");
    let e = resolve(&cfg(&bad), &p, &env()).unwrap_err();
    assert!(e.reason.contains("\"192.0.2.500/24\""), "{e}");
}

#[test]
fn bridge_without_stanza_is_left_to_ovsdb() {
    let text = "\
iface ovsbr0p1 inet static
    address 192.0.2.50/24
    ovs_type OVSIntPort
    ovs_bridge ovsbr0
";
    let t = resolve(&cfg(text), &params(&[("interface", "ovsbr0p1")]), &env()).unwrap();
    assert!(t.bridge_outside_file);
    assert_eq!(t.bridge, "ovsbr0");
}

#[test]
fn addresses_are_read_as_the_hook_reads_them() {
    let text = |a: &str| HA.replace("192.0.2.50/24", a);
    let p = params(&[("interface", "ovsbr0p1")]);
    let e = resolve(&cfg(&text("192.0.2.50/33")), &p, &env()).unwrap_err();
    assert_eq!(
        e.reason,
        // as `check` says it (the agent's validation is check's)
        "/etc/network/interfaces:7: error: ovsbr0p1: inet stanza: address: \"192.0.2.50/33\": prefix length \"33\" is not a number in 0..32"
    );
    let dotted = HA.replace("    netmask 64\n", "    netmask 255.255.0.0\n");
    let e = resolve(&cfg(&dotted), &p, &env()).unwrap_err();
    assert_eq!(
        e.reason,
        "/etc/network/interfaces:15: error: ovsbr0p1: inet6 stanza: netmask: netmask \"255.255.0.0\" is not a prefix length"
    );
}

#[test]
fn a_stanza_that_leaves_the_bridge_to_the_parameters() {
    let text = HA.replace("    ovs_bridge ovsbr0\n", "");
    // the stanza's MAC is compared with the parameter, whichever way it is given
    let with = |p: &[(&str, &str)], text: &str| resolve(&cfg(text), &params(p), &env());
    let p = [
        ("interface", "ovsbr0p1"),
        ("bridge", "ovsbr0"),
        ("mac", "02:00:00:00:00:02"),
    ];
    let e = with(&p, &text).unwrap_err();
    assert!(
        e.reason
            .contains("mac=02:00:00:00:00:02 disagrees with ovs_mac 02:00:00:00:00:01"),
        "{e}"
    );
    let hw = text.replace("ovs_mac", "hwaddress");
    let e = with(&p, &hw).unwrap_err();
    assert!(
        e.reason
            .contains("disagrees with hwaddress 02:00:00:00:00:01"),
        "{e}"
    );
    let t = with(&p[..2], &text).unwrap();
    assert_eq!(
        t.ifupdown_options,
        [("ovs_bridge".to_string(), "ovsbr0".to_string())]
    );
    assert_eq!(t.mac, Some(Mac([2, 0, 0, 0, 0, 1])));
    // without the parameter: no bridge
    let e = with(&p[..1], &text).unwrap_err();
    assert_eq!(
        e.reason,
        "ovsbr0p1: no bridge (ovs_bridge in the stanza or the parameter bridge)"
    );
    // another kind without its bridge is refused for its kind
    let e = with(&p[..1], &text.replace("OVSIntPort", "OVSPort")).unwrap_err();
    assert!(e.reason.starts_with("ovsbr0p1 is an OVSPort in "), "{e}");
}

#[test]
fn optimistic_dad_through_the_inet6_static_method() {
    let text = "iface p1 inet static\n    address 192.0.2.5/24\n\n\
                iface p1 inet6 static\n    address 2001:db8::5/64\n";
    assert_eq!(
        optimistic_dad(&cfg(text), "p1", "0"),
        [
            (
                "privext".to_string(),
                "0 net.ipv6.conf.p1.optimistic_dad=1".to_string()
            ),
            (
                "preferred-lifetime".to_string(),
                "forever optimistic".to_string()
            )
        ]
    );
    // the stanza's own values are kept; a dot in the name is a slash in sysctl
    let own = "iface p.1 inet6 static\n    address 2001:db8::5/64\n    privext 2\n    \
               preferred-lifetime 600\n";
    let o = optimistic_dad(&cfg(own), "p.1", "0");
    assert_eq!(o[0].1, "2 net.ipv6.conf.p/1.optimistic_dad=1");
    assert_eq!(o[1].1, "600 optimistic");
    // DAD turned off by the stanza (ifupdown adds with nodad), no IPv6, or a value
    // that is not one plain word: nothing
    let nodad = "iface p1 inet6 static\n    address 2001:db8::5/64\n    dad-attempts 0\n";
    assert!(optimistic_dad(&cfg(nodad), "p1", "0").is_empty());
    let v4 = "iface p1 inet static\n    address 192.0.2.5/24\n";
    assert!(optimistic_dad(&cfg(v4), "p1", "0").is_empty());
    let odd = "iface p1 inet6 static\n    address 2001:db8::5/64\n    preferred-lifetime 1;x\n";
    assert!(optimistic_dad(&cfg(odd), "p1", "0").is_empty());
}
