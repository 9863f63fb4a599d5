//! README.Debian's examples 1-7 (fixtures/examples/debian-ex*.interfaces) with our
//! hooks as a drop-in for Debian's: `ifup --allow=ovs BRIDGES` (README example 8,
//! what openvswitch-switch's init script runs) brings each up, the bridges bring
//! their `allow-BRIDGE` ports up, a second run changes nothing, and
//! `ifdown --allow=ovs BRIDGES` takes everything down with nothing of ours left.
//!
//! The lab has no DHCP client: `inet dhcp` stanzas (examples 2, 3) are tested as
//! `inet manual`. Needs root and the packages of `.ci/run`.

use crate::hook_util::*;
use crate::lab::{Lab, LabError, nics_named_in};

/// Bring example `n` up and down; `check` runs while it is up.
fn example(n: u32, check: impl Fn(&Lab) -> Result<(), LabError>) -> Result<(), LabError> {
    let text = fixture(&format!("debian-ex{n}.interfaces")).replace("inet dhcp", "inet manual");
    let host = Lab::new(&format!("deb-ex{n}"))?;
    let wire = Lab::peer(&format!("deb-ex{n}-wire"))?;
    for nic in nics_named_in(&text) {
        host.add_veth(&nic, &wire, &nic)?;
    }
    host.start_ovs()?;
    host.write_interfaces(&text)?;
    let bridges: Vec<String> = host
        .ok(&["ifquery", "--allow", "ovs", "--list"])?
        .split_whitespace()
        .map(String::from)
        .collect();
    assert!(!bridges.is_empty());
    let with = |cmd: &str| {
        let mut argv = vec![cmd.to_string(), "--allow=ovs".to_string()];
        argv.extend(bridges.iter().cloned());
        argv
    };
    let up = with("ifup");
    let up: Vec<&str> = up.iter().map(String::as_str).collect();
    let down = with("ifdown");
    let down: Vec<&str> = down.iter().map(String::as_str).collect();

    quiet(&host, &up)?;
    check(&host)?;
    let state = host.ok(&["ifquery", "--state"])?;
    // a second run (of the class: naming configured interfaces makes ifup itself
    // say "already configured"): quiet, same state, still passing the checks
    quiet(&host, &["ifup", "--allow=ovs", "-a"])?;
    assert_eq!(host.ok(&["ifquery", "--state"])?, state);
    check(&host)?;

    quiet(&host, &down)?;
    assert_eq!(host.vsctl(&["list-br"])?.trim(), "", "bridges left");
    assert_eq!(ours(&host)?, Vec::<String>::new(), "rows of ours left");
    assert_eq!(
        host.ok(&["ifquery", "--state"])?.trim(),
        "",
        "interfaces left up"
    );
    Ok(())
}

#[test]
fn ex1_standalone_bridge() -> Result<(), LabError> {
    example(1, |h| {
        assert_eq!(vsctl_lines(h, &["list-br"])?, ["br0"]);
        assert!(
            h.ok(&["ip", "-br", "addr", "show", "br0"])?
                .contains("192.0.2.1/24")
        );
        assert!(is_up(h, "br0")?);
        Ok(())
    })
}

#[test]
fn ex2_bridge_with_one_port() -> Result<(), LabError> {
    example(2, |h| {
        assert_eq!(vsctl_lines(h, &["list-ports", "br0"])?, ["eth0"]);
        assert!(is_up(h, "eth0")?);
        assert!(h.ok(&["ifquery", "--state", "eth0"])?.contains("eth0"));
        Ok(())
    })
}

#[test]
fn ex3_bridge_with_two_ports() -> Result<(), LabError> {
    example(3, |h| {
        assert_eq!(vsctl_lines(h, &["list-ports", "br0"])?, ["eth0", "eth1"]);
        assert!(is_up(h, "eth0")? && is_up(h, "eth1")?);
        Ok(())
    })
}

#[test]
fn ex4_internal_port_with_ovs_extra() -> Result<(), LabError> {
    example(4, |h| {
        assert_eq!(vsctl_lines(h, &["list-ports", "br1"])?, ["vlan100"]);
        assert_eq!(get(h, &["Port", "vlan100", "tag"])?, "100");
        assert_eq!(get(h, &["Interface", "vlan100", "type"])?, "internal");
        // ${IFACE} and $(hostname -s) of ovs_extra (the lab's host name is its name)
        assert_eq!(
            get(h, &["Interface", "vlan100", "external_ids:iface-id"])?,
            "deb-ex4"
        );
        assert!(is_up(h, "vlan100")?);
        Ok(())
    })
}

#[test]
fn ex5_bond() -> Result<(), LabError> {
    example(5, |h| {
        assert_eq!(vsctl_lines(h, &["list-ports", "br2"])?, ["bond0"]);
        assert_eq!(vsctl_lines(h, &["list-ifaces", "br2"])?, ["eth2", "eth3"]);
        assert_eq!(get(h, &["Port", "bond0", "bond_mode"])?, "balance-tcp");
        assert_eq!(get(h, &["Port", "bond0", "lacp"])?, "active");
        assert!(is_up(h, "eth2")? && is_up(h, "eth3")?);
        Ok(())
    })
}

#[test]
fn ex6_patch_ports() -> Result<(), LabError> {
    example(6, |h| {
        assert_eq!(vsctl_lines(h, &["list-ports", "br0"])?, ["patch0"]);
        assert_eq!(vsctl_lines(h, &["list-ports", "br1"])?, ["patch1"]);
        assert_eq!(get(h, &["Interface", "patch0", "options:peer"])?, "patch1");
        assert_eq!(get(h, &["Interface", "patch1", "options:peer"])?, "patch0");
        for p in ["patch0", "patch1"] {
            assert_eq!(get(h, &["Interface", p, "type"])?, "patch");
            assert_eq!(get(h, &["Interface", p, "error"])?, "[]");
        }
        Ok(())
    })
}

#[test]
fn ex7_tunnel() -> Result<(), LabError> {
    example(7, |h| {
        assert_eq!(vsctl_lines(h, &["list-ports", "br1"])?, ["gre1"]);
        assert_eq!(get(h, &["Interface", "gre1", "type"])?, "gre");
        assert_eq!(
            get(h, &["Interface", "gre1", "options"])?,
            "{key=\"1\", remote_ip=\"203.0.113.2\"}"
        );
        Ok(())
    })
}
