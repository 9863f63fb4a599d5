//! README.Debian's examples 1-7 (fixtures/examples/debian-ex*.interfaces) with our
//! hooks as a drop-in for Debian's: `ifup --allow=ovs BRIDGES` (README example 8,
//! what openvswitch-switch's init script runs) brings each up, the bridges bring
//! their `allow-BRIDGE` ports up, a second run changes nothing, and
//! `ifdown --allow=ovs BRIDGES` takes everything down with nothing of ours left.
//!
//! The `inet dhcp` bridges (examples 2, 3) get their address from a DHCP server
//! (dnsmasq) on the far end of the first NIC; `ifdown` releases it and stops
//! dhclient. Needs root and the packages of `.ci/run`.

use crate::hook_util::*;
use crate::lab::{Dnsmasq, Lab, LabError, nics_named_in};

/// Serve DHCP (192.0.2.100-150) from `wire`'s end of `nic`.
fn serve_dhcp(host: &Lab, wire: &Lab, nic: &str) -> Result<(), LabError> {
    host.no_tx_offload(nic)?;
    wire.no_tx_offload(nic)?;
    wire.ok(&["ip", "addr", "add", "192.0.2.1/24", "dev", nic])?;
    wire.start_dnsmasq(&Dnsmasq {
        dev: nic,
        ranges: &["192.0.2.100,192.0.2.150,255.255.255.0,10m"],
        hosts: &[],
    })
}

/// `ifup`/`ifdown` ARGS: quiet, except that dhclient (`inet dhcp`) talks on stderr.
fn updown(host: &Lab, dhcp: bool, argv: &[&str]) -> Result<(), LabError> {
    if dhcp {
        host.ok(argv).map(|_| ())
    } else {
        quiet(host, argv)
    }
}

/// The DHCP client's work: `dev` has a leased address while up.
fn check_lease(host: &Lab, dev: &str) -> Result<(), LabError> {
    let a4 = host.ok(&["ip", "-4", "-o", "addr", "show", "dev", dev])?;
    assert!(a4.contains("inet 192.0.2.1"), "{dev} got no lease: {a4}");
    assert!(host.run(&["pgrep", "-x", "dhclient"])?.success());
    Ok(())
}

/// Bring example `n` up and down; `check` runs while it is up.
fn example(n: u32, check: impl Fn(&Lab) -> Result<(), LabError>) -> Result<(), LabError> {
    let text = fixture(&format!("debian-ex{n}.interfaces"));
    let dhcp = text.contains(" inet dhcp");
    let host = Lab::new(&format!("deb-ex{n}"))?;
    let wire = Lab::peer(&format!("deb-ex{n}-wire"))?;
    let nics = nics_named_in(&text);
    for nic in &nics {
        host.add_veth(nic, &wire, nic)?;
    }
    if dhcp && let Some(first) = nics.first() {
        serve_dhcp(&host, &wire, first)?;
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

    updown(&host, dhcp, &up)?;
    check(&host)?;
    let state = host.ok(&["ifquery", "--state"])?;
    // a second run (of the class: naming configured interfaces makes ifup itself
    // say "already configured"): quiet, same state, still passing the checks
    quiet(&host, &["ifup", "--allow=ovs", "-a"])?;
    assert_eq!(host.ok(&["ifquery", "--state"])?, state);
    check(&host)?;

    updown(&host, dhcp, &down)?;
    assert!(
        !host.run(&["pgrep", "-x", "dhclient"])?.success(),
        "dhclient left running"
    );
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
        check_lease(h, "br0")?;
        assert!(is_up(h, "eth0")?);
        assert!(h.ok(&["ifquery", "--state", "eth0"])?.contains("eth0"));
        Ok(())
    })
}

#[test]
fn ex3_bridge_with_two_ports() -> Result<(), LabError> {
    example(3, |h| {
        assert_eq!(vsctl_lines(h, &["list-ports", "br0"])?, ["eth0", "eth1"]);
        check_lease(h, "br0")?;
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
