//! The seed's management interface as the wiki writes it, with real servers
//! (fixtures/examples/seed-vlan-dhcp.interfaces: ovsbr0p1 `inet dhcp` and
//! `inet6 auto`, fixed MAC 00:01:02:03:04:05, on VLAN 1 of the trunk bridge):
//!
//! ```text
//!  srv (dnsmasq: DHCP, RAs)--acc1[tag 1]             [host]
//!                              sw0 (switch)--up0 ==== eth0 (native-untagged 1)
//!                                                     ovsbr0 -- ovsbr0p1 (VLAN 1, DHCP + SLAAC)
//! ```
//!
//! The other lab tests configure such stanzas as `manual`; this one proves that the
//! DHCP lease is for the fixed MAC (a dhcp-host entry binds 192.0.2.10 to it), that
//! the SLAAC address derives from it, that the link-only interfaces get no IPv6
//! address, that dhclient keeps its pid and lease files in the lab's private `/run`
//! and `/var/lib`, and that `ifdown -a` releases the lease and stops the client.
//! Needs root and the packages of `.ci/run` (dnsmasq-base, isc-dhcp-client, ethtool).

use std::path::Path;

use crate::hook_util::*;
use crate::lab::{DNSMASQ_LEASES, DNSMASQ_LOG, Dnsmasq, Lab, LabError};

const MAC: &str = "00:01:02:03:04:05";
/// The address dnsmasq's dhcp-host entry binds to [`MAC`].
const BOUND: &str = "192.0.2.10";
const PREFIX: &str = "2001:db8:1:";
/// [`PREFIX`]::/64 + the EUI-64 interface identifier of [`MAC`].
const EUI64: &str = "2001:db8:1:0:201:2ff:fe03:405";
const LEASES: &str = "/var/lib/dhcp/dhclient.ovsbr0p1.leases";
const PIDFILE: &str = "/run/dhclient.ovsbr0p1.pid";

/// The switch, with a DHCP and RA server on VLAN 1, wired to the host's eth0.
fn wire(host: &Lab, name: &str) -> Result<(Lab, Lab), LabError> {
    let sw = switch(&format!("{name}-sw"))?;
    let srv = Lab::peer(&format!("{name}-srv"))?;
    host.add_veth("eth0", &sw, "up0")?;
    sw.add_veth("acc1", &srv, "eth0")?;
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
    ])?;
    sw.ok(&["ip", "link", "set", "dev", "acc1", "up"])?;
    for (lab, dev) in [(host, "eth0"), (&sw, "up0"), (&sw, "acc1"), (&srv, "eth0")] {
        lab.no_tx_offload(dev)?;
    }
    srv.ok(&["ip", "addr", "add", "192.0.2.1/24", "dev", "eth0"])?;
    srv.ok(&[
        "ip",
        "-6",
        "addr",
        "add",
        "2001:db8:1::1/64",
        "dev",
        "eth0",
        "nodad",
    ])?;
    srv.start_dnsmasq(&Dnsmasq {
        dev: "eth0",
        ranges: &[
            "192.0.2.100,192.0.2.150,255.255.255.0,10m",
            "2001:db8:1::,ra-only,64",
        ],
        hosts: &[&format!("{MAC},{BOUND}")],
    })?;
    Ok((sw, srv))
}

/// `ip -4 -o addr` of `dev`.
fn inet4(l: &Lab, dev: &str) -> Result<String, LabError> {
    l.ok(&["ip", "-4", "-o", "addr", "show", "dev", dev])
}

/// Whether a dhclient process runs in the lab (its own PID namespace).
fn dhclient_runs(l: &Lab) -> Result<bool, LabError> {
    Ok(l.run(&["pgrep", "-x", "dhclient"])?.success())
}

#[test]
fn seed_dhcp_and_slaac() -> Result<(), LabError> {
    let host = Lab::new("seed-dhcp")?;
    let (_sw, srv) = wire(&host, "seed-dhcp")?;
    host.start_ovs()?;
    host.write_interfaces(&fixture("seed-vlan-dhcp.interfaces"))?;
    // dhclient -v talks on stderr: only success is required here
    host.ifup(&["-a"])?;

    // DHCP: the lease is the fixed MAC's
    assert_eq!(link_mac(&host, "ovsbr0p1")?, MAC);
    let a4 = inet4(&host, "ovsbr0p1")?;
    assert!(a4.contains(&format!("{BOUND}/24")), "ovsbr0p1: {a4}");
    let leases = srv.read_file(DNSMASQ_LEASES)?;
    assert!(
        leases
            .lines()
            .any(|l| l.contains(&format!("{MAC} {BOUND} "))),
        "dnsmasq leases: {leases}\n{}",
        srv.read_file(DNSMASQ_LOG)?
    );
    assert!(dhclient_runs(&host)?, "no dhclient after ifup");
    // dhclient's files are the lab's own, not the host's
    assert!(host.read_file(LEASES)?.contains(BOUND));
    assert!(host.exists(PIDFILE)?);
    assert!(host.is_private(LEASES) && host.is_private(PIDFILE));
    assert!(
        !Path::new(LEASES).exists(),
        "dhclient wrote the host's {LEASES}"
    );

    // SLAAC: the address derives from the fixed MAC (EUI-64), unless the kernel
    // makes stable-privacy addresses (addr_gen_mode 2/3): then only the prefix
    let mode = sysctl(&host, "net/ipv6/conf/ovsbr0p1/addr_gen_mode")?;
    eventually(&host, "ovsbr0p1's SLAAC address", 30, || {
        let a6 = inet6(&host, "ovsbr0p1")?;
        Ok(a6.contains(PREFIX) && !a6.contains("tentative"))
    })?;
    let a6 = inet6(&host, "ovsbr0p1")?;
    if mode == "0" {
        assert!(a6.contains(&format!("{EUI64}/64")), "ovsbr0p1: {a6}");
    } else {
        eprintln!("addr_gen_mode {mode}: checking the SLAAC prefix only: {a6}");
    }

    // no IPv6 on the link-only interfaces, even with RAs on the wire
    for dev in ["eth0", "ovsbr0", "ovsbr0v1", "ovsbr0v2"] {
        assert_eq!(
            sysctl(&host, &format!("net/ipv6/conf/{dev}/disable_ipv6"))?,
            "1",
            "{dev}"
        );
        assert_eq!(inet6(&host, dev)?, "", "{dev} has IPv6 addresses");
        assert_eq!(inet4(&host, dev)?.trim(), "", "{dev} has IPv4 addresses");
    }

    // the management address works: the server reaches it (and the host learns
    // the server's MAC, as any renewal would: without it, dhclient -r's unicast
    // DHCPRELEASE waits for ARP while ifdown already deletes the port, and is lost)
    assert!(reaches(&srv, BOUND)?, "the server cannot reach {BOUND}");

    // ifdown: the lease is released and the client is gone
    host.ifdown(&["-a"])?;
    assert!(
        !dhclient_runs(&host)?,
        "dhclient left running after ifdown -a"
    );
    eventually(&srv, "dnsmasq to see the release", 10, || {
        Ok(!srv.read_file(DNSMASQ_LEASES)?.contains(MAC))
    })?;
    assert!(
        srv.read_file(DNSMASQ_LOG)?.contains("DHCPRELEASE"),
        "no DHCPRELEASE in dnsmasq's log"
    );
    assert_eq!(host.vsctl(&["list-br"])?.trim(), "");
    Ok(())
}
