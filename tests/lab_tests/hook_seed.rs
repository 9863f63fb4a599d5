//! The seed's Ubuntu 12.04 topology (fixtures/examples/seed-vlan.interfaces) brought
//! up by `ifup -a` with our hooks, proved by traffic:
//!
//! ```text
//!  v1 (VLAN 1 host)--acc1[tag 1]                          [host]
//!                         sw0 (switch)--up0 ==== eth0 (native-untagged 1, trunk)
//!  v2 (VLAN 2 host)--acc2[tag 2]  trunk: native 1,2        ovsbr0 -- ovsbr0p1 (VLAN 1, 192.0.2.10, fixed MAC)
//!                                                            |-- ovsbr0v1 (VLAN 1 bridge)
//!                                                            '-- ovsbr0v2 (VLAN 2 bridge) -- vm0 ==== vm
//! ```
//!
//! The management address answers untagged from VLAN 1; a VM on ovsbr0v2 reaches a
//! host on VLAN 2 and not one on VLAN 1; IPv6 never appears on the link-only
//! interfaces; the fixed MAC is in Interface.mac, on the link, not on the bridge, and
//! survives an OVS restart; `ifdown -a` leaves nothing of ours.
//!
//! `seed_vlan_macs` (issue 11, item 1): OVS gives a VLAN bridge without
//! Interface.mac the lowest MAC of its VLAN's ports, so ovsbr0v1 took ovsbr0p1's
//! fixed MAC, and ovsbr0v2 (no such port) a random one that changed at every
//! ifdown/ifup. Every bridge we create now has a pinned MAC: no two interfaces
//! share one, and they stay the same across ifdown/ifup and a "reboot".
//! Needs root and the packages of `.ci/run`.

use std::collections::BTreeMap;

use crate::hook_util::*;
use crate::lab::{Lab, LabError};

const MGMT: &str = "192.0.2.10";
const MAC: &str = "00:01:02:03:04:05";

#[test]
fn seed_vlan_topology() -> Result<(), LabError> {
    let host = Lab::new("seed")?;
    let sw = switch("seed-sw")?;
    let v1 = Lab::peer("seed-v1")?;
    let v2 = Lab::peer("seed-v2")?;
    let vm = Lab::peer("seed-vm")?;
    host.add_veth("eth0", &sw, "up0")?;
    sw.add_veth("acc1", &v1, "eth0")?;
    sw.add_veth("acc2", &v2, "eth0")?;
    host.add_veth("vm0", &vm, "eth0")?;
    sw.vsctl(&[
        "add-port",
        "sw0",
        "up0",
        "tag=1",
        "vlan_mode=native-untagged",
        "trunks=1,2",
        "--",
        "add-port",
        "sw0",
        "acc1",
        "tag=1",
        "--",
        "add-port",
        "sw0",
        "acc2",
        "tag=2",
    ])?;
    for d in ["acc1", "acc2"] {
        sw.ok(&["ip", "link", "set", "dev", d, "up"])?;
    }
    v1.ok(&["ip", "addr", "add", "192.0.2.20/24", "dev", "eth0"])?;
    v1.ok(&["ip", "addr", "add", "198.51.100.30/24", "dev", "eth0"])?;
    v2.ok(&["ip", "addr", "add", "198.51.100.20/24", "dev", "eth0"])?;
    vm.ok(&["ip", "addr", "add", "198.51.100.10/24", "dev", "eth0"])?;

    host.start_ovs()?;
    host.write_interfaces(&fixture("seed-vlan.interfaces"))?;
    // every IPv6 address that appears while the interfaces come up; without DAD
    // the kernel reports a new address at once, not only after DAD succeeded
    host.ok(&[
        "sysctl",
        "-q",
        "-w",
        "net.ipv6.conf.default.accept_dad=0",
        "net.ipv6.conf.all.accept_dad=0",
        "net.ipv6.conf.eth0.accept_dad=0",
    ])?;
    host.ok(&[
        "sh",
        "-c",
        ": >/tmp/inet6.log; stdbuf -oL ip -6 -o monitor address >>/tmp/inet6.log 2>&1 & echo $! >/tmp/inet6.pid",
    ])?;
    quiet(&host, &["ifup", "-a"])?;

    // VLAN bridges as `ovs-vsctl add-br CHILD PARENT VLAN` makes them
    for (child, vlan) in [("ovsbr0v1", "1"), ("ovsbr0v2", "2")] {
        assert_eq!(host.vsctl(&["br-to-parent", child])?.trim(), "ovsbr0");
        assert_eq!(host.vsctl(&["br-to-vlan", child])?.trim(), vlan);
    }
    assert_eq!(
        get(&host, &["Port", "eth0", "vlan_mode"])?,
        "native-untagged"
    );
    assert_eq!(get(&host, &["Port", "eth0", "tag"])?, "1");
    assert_eq!(get(&host, &["Port", "ovsbr0p1", "tag"])?, "1");

    // fixed MAC: in OVSDB, on the link, not leaking to the bridge
    assert_eq!(
        get(&host, &["Interface", "ovsbr0p1", "mac"])?,
        format!("\"{MAC}\"")
    );
    assert_eq!(link_mac(&host, "ovsbr0p1")?, MAC);
    assert_ne!(
        link_mac(&host, "ovsbr0")?,
        MAC,
        "the bridge took the port's fixed MAC"
    );

    // IPv6 disabled on the link-only interfaces, before they went up: not even a
    // link-local address ever appeared on them (ovsbr0p1 has IPv6: it shows up)
    eventually(&host, "ovsbr0p1's link-local address", 10, || {
        let a = inet6(&host, "ovsbr0p1")?;
        Ok(a.contains("fe80::") && !a.contains("tentative"))
    })?;
    eventually(&host, "the monitor to report it", 5, || {
        Ok(host.read_file("/tmp/inet6.log")?.contains("ovsbr0p1"))
    })?;
    host.ok(&["sh", "-c", "kill $(cat /tmp/inet6.pid)"])?;
    let seen = host.read_file("/tmp/inet6.log")?;
    assert!(seen.contains("ovsbr0p1"), "the monitor saw nothing: {seen}");
    for dev in ["eth0", "ovsbr0", "ovsbr0v1", "ovsbr0v2"] {
        assert!(
            !seen
                .lines()
                .any(|l| l.split_whitespace().nth(1) == Some(dev)),
            "IPv6 address on {dev}: {seen}"
        );
    }
    for dev in ["eth0", "ovsbr0", "ovsbr0v1", "ovsbr0v2"] {
        assert_eq!(
            sysctl(&host, &format!("net/ipv6/conf/{dev}/disable_ipv6"))?,
            "1",
            "{dev}"
        );
        assert_eq!(inet6(&host, dev)?, "", "{dev} has IPv6 addresses");
        assert!(is_up(&host, dev)?, "{dev} not up");
    }

    // management address, untagged from VLAN 1
    assert!(
        reaches(&v1, MGMT)?,
        "VLAN 1 host cannot reach the management address"
    );

    // a VM on ovsbr0v2 (its tap added the way libvirt does)
    host.vsctl(&["add-port", "ovsbr0v2", "vm0"])?;
    host.ok(&["ip", "link", "set", "dev", "vm0", "up"])?;
    assert!(
        reaches(&vm, "198.51.100.20")?,
        "VM cannot reach the VLAN 2 host"
    );
    assert!(
        !answers(&vm, "198.51.100.30")?,
        "VM reaches a host on VLAN 1"
    );

    // the fixed MAC survives an OVS restart (it is in OVSDB, not only on the link)
    host.stop_ovs()?;
    host.start_ovs()?;
    eventually(&host, "ovsbr0p1 re-created", 10, || {
        host.link_exists("ovsbr0p1")
    })?;
    assert_eq!(link_mac(&host, "ovsbr0p1")?, MAC);

    // the VM goes away, then everything else
    host.vsctl(&["del-port", "vm0"])?;
    quiet(&host, &["ifdown", "-a"])?;
    assert_eq!(host.vsctl(&["list-br"])?.trim(), "");
    assert_eq!(ours(&host)?, Vec::<String>::new());
    assert_eq!(sysctl(&host, "net/ipv6/conf/eth0/disable_ipv6")?, "0");
    Ok(())
}

/// Every device's MAC (`ip -br link`), by name, without `lo`.
fn macs(l: &Lab) -> Result<BTreeMap<String, String>, LabError> {
    let out = l.ok(&["ip", "-br", "link"])?;
    Ok(out
        .lines()
        .filter_map(|line| {
            let mut w = line.split_whitespace();
            let name = w.next()?.split('@').next()?.to_string();
            let mac = w.nth(1)?.to_string();
            (name != "lo").then_some((name, mac))
        })
        .collect())
}

/// Panics when two devices share a MAC.
fn assert_unique(all: &BTreeMap<String, String>, when: &str) {
    let mut by_mac: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (dev, mac) in all {
        by_mac.entry(mac).or_default().push(dev);
    }
    let shared: Vec<_> = by_mac.iter().filter(|(_, d)| d.len() > 1).collect();
    assert!(
        shared.is_empty(),
        "{when}: shared MACs {shared:?} in {all:?}"
    );
}

/// The MACs of the bridges we create (the VLAN bridges and their parent).
fn bridge_macs(l: &Lab) -> Result<Vec<(String, String)>, LabError> {
    ["ovsbr0", "ovsbr0v1", "ovsbr0v2"]
        .iter()
        .map(|d| Ok((d.to_string(), link_mac(l, d)?)))
        .collect()
}

#[test]
fn seed_vlan_macs() -> Result<(), LabError> {
    let host = Lab::new("seed-macs")?;
    let wire = Lab::peer("seed-macs-wire")?;
    host.add_veth("eth0", &wire, "eth0")?;
    host.start_ovs()?;
    host.write_interfaces(&fixture("seed-vlan.interfaces"))?;
    quiet(&host, &["ifup", "-a"])?;
    let first = macs(&host)?;
    assert_unique(&first, "after ifup -a");
    assert_eq!(first.get("ovsbr0p1").map(String::as_str), Some(MAC));
    let pinned = bridge_macs(&host)?;
    for (dev, mac) in &pinned {
        // locally administered unicast: the pin, not a port's MAC or OVS's pick
        let b0 = u8::from_str_radix(&mac[..2], 16).unwrap_or_default();
        assert_eq!(b0 & 0x03, 0x02, "{dev} has {mac}, not a pinned MAC");
    }

    quiet(&host, &["ifdown", "-a"])?;
    quiet(&host, &["ifup", "-a"])?;
    assert_unique(&macs(&host)?, "after ifdown -a; ifup -a");
    assert_eq!(bridge_macs(&host)?, pinned, "after ifdown -a; ifup -a");

    // "reboot": OVS, its database and its (persistent tap) devices gone, /run
    // empty, then the boot's ifup -a
    host.stop_ovs()?;
    host.ok(&["rm", "-f", "/etc/openvswitch/conf.db"])?;
    for dev in ["ovs-netdev", "ovsbr0", "ovsbr0p1", "ovsbr0v1", "ovsbr0v2"] {
        if host.link_exists(dev)? {
            host.ok(&["ip", "link", "del", "dev", dev])?;
        }
    }
    host.ok(&["sh", "-c", "rm -rf /run/network/* /run/ifupdown-ovs"])?;
    host.start_ovs()?;
    quiet(&host, &["ifup", "-a"])?;
    assert_unique(&macs(&host)?, "after a reboot");
    assert_eq!(bridge_macs(&host)?, pinned, "after a reboot");
    assert_eq!(link_mac(&host, "ovsbr0p1")?, MAC);
    Ok(())
}
