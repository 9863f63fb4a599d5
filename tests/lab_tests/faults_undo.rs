//! A pre-up that fails after its transaction (issue 13, item 9): an OVSPort for
//! a NIC that does not exist, a bond whose members do not exist, a tunnel with a
//! `remote_ip` OVS refuses. ifupdown marks them unconfigured and runs none of
//! their down hooks, so what the failed run added must go again: nothing of
//! theirs stays in OVSDB with an `error`, a bridge the failed run created goes
//! too, what was there before and foreign ports stay; with the file fixed (or
//! the NIC there), `ifup` works. Needs root and the packages of `.ci/run`.

use crate::hook_util::*;
use crate::lab::{Lab, LabError};

const BRIDGE: &str = "\
auto br0
iface br0 inet manual
    ovs_type OVSBridge
    ovs_datapath_type netdev

auto p1
iface p1 inet manual
    ovs_type OVSIntPort
    ovs_bridge br0
    ovs_tag 10
";

/// The three that fail, with `remote` as the tunnel's remote_ip.
fn broken(remote: &str) -> String {
    format!(
        "{BRIDGE}
auto eth9
iface eth9 inet manual
    ovs_type OVSPort
    ovs_bridge br0

auto bond0
iface bond0 inet manual
    ovs_type OVSBond
    ovs_bridge br0
    ovs_bonds eth6 eth7

auto vx0
iface vx0 inet manual
    ovs_type OVSTunnel
    ovs_bridge br0
    ovs_tunnel_type vxlan
    ovs_tunnel_options options:remote_ip={remote}

iface eth8 inet manual
    ovs_type OVSPort
    ovs_bridge br1

iface br1 inet manual
    ovs_type OVSBridge
    ovs_datapath_type netdev
"
    )
}

/// Ports of a bridge, sorted.
fn ports(l: &Lab, bridge: &str) -> Result<Vec<String>, LabError> {
    let mut v = vsctl_lines(l, &["list-ports", bridge])?;
    v.sort();
    Ok(v)
}

/// Interfaces with an error, as `NAME: ERROR`.
fn errors(l: &Lab) -> Result<Vec<String>, LabError> {
    Ok(vsctl_lines(
        l,
        &[
            "--format=csv",
            "--no-headings",
            "--columns=name,error",
            "list",
            "Interface",
        ],
    )?
    .into_iter()
    .filter(|x| !x.ends_with(",[]") && !x.ends_with(",\"\""))
    .collect())
}

#[test]
fn failed_pre_up_leaves_nothing_behind() -> Result<(), LabError> {
    let l = Lab::new("undo")?;
    l.start_ovs()?;
    l.write_interfaces(&broken("flow.example"))?;
    // a VM's tap on br0, there before: never touched
    l.ifup(&["br0"])?;
    l.add_internal_port("br0", "vnet0")?;

    let out = l.run(&["ifup", "-a"])?;
    eprintln!("{}", out.stderr);
    assert!(
        !out.success(),
        "ifup -a succeeded with three broken interfaces"
    );
    for name in ["eth9", "bond0", "vx0"] {
        assert!(
            out.stderr.contains(&format!(
                "ifupdown-ovs: {name}: removed from OVS what this run added: {name}"
            )),
            "{name}: {}",
            out.stderr
        );
    }
    assert_eq!(ports(&l, "br0")?, ["p1", "vnet0"]);
    assert_eq!(errors(&l)?, Vec::<String>::new());
    let state = l.ok(&["ifquery", "--state"])?;
    assert!(!state.contains("eth9") && !state.contains("vx0"), "{state}");

    // a port whose run created its bridge: both go
    let out = l.run(&["ifup", "eth8"])?;
    assert!(!out.success(), "ifup eth8 succeeded without eth8");
    assert!(
        out.stderr
            .contains("ifupdown-ovs: eth8: removed from OVS what this run added: br1"),
        "{}",
        out.stderr
    );
    assert!(l.vsctl(&["br-exists", "br1"]).is_err(), "br1 stayed");

    // fixed: the NICs exist, the tunnel has a valid address
    let wire = Lab::peer("undo-wire")?;
    for nic in ["eth9", "eth6", "eth7", "eth8"] {
        l.add_veth(nic, &wire, nic)?;
    }
    l.write_interfaces(&broken("203.0.113.9"))?;
    l.ifup(&["-a"])?;
    l.ifup(&["eth8"])?;
    assert_eq!(ports(&l, "br0")?, ["bond0", "eth9", "p1", "vnet0", "vx0"]);
    assert_eq!(ports(&l, "br1")?, ["eth8"]);
    assert_eq!(errors(&l)?, Vec::<String>::new());
    Ok(())
}
