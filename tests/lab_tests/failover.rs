//! Fail-over, proven: the seed's floating port moves between two nodes with its MAC.
//!
//! ```text
//!   node A (OVS, our hooks)                    node B (OVS, our hooks)
//!   ovsbr0 -- ovsbr0p1 192.0.2.50 02:..:01     ovsbr0 -- ovsbr0p1 (when it runs here)
//!          '- ovsbr0p2 192.0.2.20 02:..:0a            '- ovsbr0p2 192.0.2.30 02:..:0b
//!   eth0 ==== pa --[ sw0: OVS switch, netdev ]-- pb ==== eth0
//!                             |
//!                             pc ==== eth0 client 192.0.2.100 (arp_accept=1)
//! ```
//!
//! Both nodes run the same interfaces file (plus each its own management port
//! ovsbr0p2 in the same subnet) and start and stop the floating port with the
//! OVSPort agent (`ifupdown-ovs ocf start|stop`). The client pings 192.0.2.50 the
//! whole time; the port stops on A and starts on B; pings resume, the fail-over gap
//! is printed, and the client's neighbour entry for 192.0.2.50 never held any MAC but
//! 02:00:00:00:00:01 (an `ip monitor neigh` log of the whole test). Replies from the
//! floating address leave with the floating MAC although the management port shares
//! the subnet (source routing, `ovs_route_table`): the switch counts every frame
//! from 192.0.2.50 by its source MAC (OpenFlow counters), and none carries another
//! MAC; only the floating port answers ARP for it (`ovs_arp_ignore` on every
//! interface of the node).
//! Needs root and the packages of `.ci/run`.

use std::time::{Duration, Instant};

use crate::ocf_util::{now, reply_times};

use crate::hook_util::*;
use crate::lab::{Lab, LabError, Output};

const PORT: &str = "ovsbr0p1";
const FLOATING: &str = "192.0.2.50";
const MAC: &str = "02:00:00:00:00:01";
const CLIENT: &str = "192.0.2.100";

/// The interfaces file of both nodes; `mgmt` is the node's own address and MAC on
/// ovsbr0p2.
fn interfaces(mgmt: &str, mgmt_mac: &str) -> String {
    format!(
        "\
auto ovsbr0
iface ovsbr0 inet manual
    ovs_type OVSBridge
    ovs_ports eth0
    ovs_datapath_type netdev
    ovs_disable_ipv6 yes
    ovs_arp_ignore 1
    ovs_arp_announce 2

auto eth0
iface eth0 inet manual
    ovs_type OVSPort
    ovs_bridge ovsbr0
    ovs_disable_ipv6 yes
    ovs_arp_ignore 1
    ovs_arp_announce 2

# the floating port: no auto, the cluster (OVSPort agent) starts it
iface ovsbr0p1 inet static
    address 192.0.2.50/24
    gateway 192.0.2.1
    ovs_type OVSIntPort
    ovs_bridge ovsbr0
    ovs_mac {MAC}
    ovs_route_table 100
    ovs_arp_ignore 1
    ovs_arp_announce 2
    ovs_disable_ipv6 yes

# this node's own address in the same subnet
auto ovsbr0p2
iface ovsbr0p2 inet static
    address {mgmt}/24
    ovs_type OVSIntPort
    ovs_bridge ovsbr0
    ovs_mac {mgmt_mac}
    ovs_arp_ignore 1
    ovs_arp_announce 2
    ovs_disable_ipv6 yes
"
    )
}

/// A node: OVS, our hooks, the interfaces file, everything but the floating port up.
fn node(name: &str, sw: &Lab, sw_port: &str, mgmt: &str, mgmt_mac: &str) -> Result<Lab, LabError> {
    let n = Lab::new(name)?;
    // each node its own machine id (the bridge MAC pinned from it differs, as on
    // real machines; the lab's /etc is a private copy of the host's)
    let id: String = format!("{name:0>32}")
        .bytes()
        .map(|b| format!("{:x}", b % 16))
        .collect();
    n.write_file("/etc/machine-id", &format!("{id}\n"))?;
    n.add_veth("eth0", sw, sw_port)?;
    sw.vsctl(&["add-port", "sw0", sw_port])?;
    n.start_ovs()?;
    n.write_interfaces(&interfaces(mgmt, mgmt_mac))?;
    n.ifup(&["-a"])?;
    Ok(n)
}

/// `ifupdown-ovs ocf ACTION` for the floating port (the agent's parameters as
/// Pacemaker passes them).
fn ocf(n: &Lab, action: &str) -> Result<Output, LabError> {
    let argv = ["/usr/sbin/ifupdown-ovs", "ocf", action];
    let mut cmd = n.command(&argv);
    cmd.env("OCF_ROOT", "/usr/lib/ocf")
        .env("OCF_RESOURCE_INSTANCE", "floating")
        .env("OCF_RESKEY_bridge", "ovsbr0")
        .env("OCF_RESKEY_interface", PORT)
        .env("OCF_RESKEY_mac", MAC);
    n.run_command(&argv, cmd, None)
}

fn ocf_ok(n: &Lab, action: &str) -> Result<(), LabError> {
    let out = ocf(n, action)?;
    assert_eq!(out.code(), Some(0), "ocf {action} on {}: {out:?}", n.name());
    Ok(())
}

/// The client's neighbour entry for `ip`: (MAC, state), if any.
fn neigh(client: &Lab, ip: &str) -> Result<Option<(String, String)>, LabError> {
    let out = client.ok(&["ip", "neigh", "show", "to", ip, "dev", "eth0"])?;
    let w: Vec<&str> = out.split_whitespace().collect();
    let mac = w
        .iter()
        .position(|x| *x == "lladdr")
        .and_then(|i| w.get(i + 1));
    Ok(mac.map(|m| (m.to_string(), w.last().unwrap_or(&"").to_string())))
}

/// MACs that answered `arping -c 3` for `ip` from the client.
fn arp_answers(client: &Lab, ip: &str) -> Result<Vec<String>, LabError> {
    let out = client.run(&["arping", "-c", "3", "-w", "2", "-i", "eth0", ip])?;
    Ok(out
        .stdout
        .lines()
        .filter_map(|l| l.split("bytes from ").nth(1))
        .filter_map(|r| r.split_whitespace().next())
        .map(str::to_string)
        .collect())
}

/// On the switch, frames from the floating address are counted by the MAC they
/// carry: cookie 1 with the floating MAC (Ethernet source and, for ARP, sender
/// hardware address), cookie 2 with any other. Both forward as before (NORMAL).
fn count_floating_frames(sw: &Lab) -> Result<(), LabError> {
    for flow in [
        format!("cookie=1,priority=100,ip,nw_src={FLOATING},dl_src={MAC},actions=NORMAL"),
        format!(
            "cookie=1,priority=100,arp,arp_spa={FLOATING},arp_sha={MAC},dl_src={MAC},actions=NORMAL"
        ),
        format!("cookie=2,priority=90,ip,nw_src={FLOATING},actions=NORMAL"),
        format!("cookie=2,priority=90,arp,arp_spa={FLOATING},actions=NORMAL"),
    ] {
        sw.ok(&["ovs-ofctl", "add-flow", "sw0", &flow])?;
    }
    Ok(())
}

/// Packets counted by the switch's flows with `cookie`.
fn frames(sw: &Lab, cookie: u32) -> Result<u64, LabError> {
    let out = sw.ok(&[
        "ovs-ofctl",
        "dump-flows",
        "sw0",
        &format!("cookie={cookie}/-1"),
    ])?;
    Ok(out
        .split([',', ' '])
        .filter_map(|w| w.strip_prefix("n_packets="))
        .filter_map(|n| n.parse::<u64>().ok())
        .sum())
}

#[test]
fn floating_port_moves_with_its_mac() -> Result<(), LabError> {
    let sw = switch("fo-sw")?;
    let client = Lab::peer("fo-client")?;
    sw.add_veth("pc", &client, "eth0")?;
    sw.vsctl(&["add-port", "sw0", "pc"])?;
    sw.ok(&["ip", "link", "set", "dev", "pc", "up"])?;
    count_floating_frames(&sw)?;
    client.ok(&["ip", "addr", "add", &format!("{CLIENT}/24"), "dev", "eth0"])?;
    client.ok(&["sysctl", "-q", "-w", "net.ipv4.conf.eth0.arp_accept=1"])?;
    let a = node("fo-a", &sw, "pa", "192.0.2.20", "02:00:00:00:00:0a")?;
    let b = node("fo-b", &sw, "pb", "192.0.2.30", "02:00:00:00:00:0b")?;
    // every neighbour change the client sees, for the whole test
    client.ok(&[
        "sh",
        "-c",
        ": >/tmp/neigh.log; stdbuf -oL ip -o monitor neigh >>/tmp/neigh.log 2>&1 & echo $! >/tmp/neigh.pid",
    ])?;
    assert_ne!(link_mac(&a, "ovsbr0")?, link_mac(&b, "ovsbr0")?);
    for (n, mgmt) in [(&a, "192.0.2.20"), (&b, "192.0.2.30")] {
        assert!(reaches(&client, mgmt)?, "{} not reachable", n.name());
    }

    // The port on A
    ocf_ok(&a, "start")?;
    ocf_ok(&a, "monitor")?;
    assert_eq!(link_mac(&a, PORT)?, MAC);
    assert!(
        reaches(&client, FLOATING)?,
        "client cannot ping {FLOATING} on A"
    );
    assert_eq!(neigh(&client, FLOATING)?.map(|n| n.0).as_deref(), Some(MAC));
    // only the floating port answers ARP for its address (not ovsbr0p2 on the bridge)
    let macs = arp_answers(&client, FLOATING)?;
    assert!(!macs.is_empty(), "no ARP reply for {FLOATING}");
    assert!(
        macs.iter().all(|m| m == MAC),
        "ARP replies for {FLOATING}: {macs:?}"
    );
    // replies from the floating address leave through the floating port: with the
    // client's entry gone, a ping from A sourced from .50 makes A ask for the
    // client's MAC, and the client learns .50 from that request
    client.ok(&["ip", "neigh", "flush", "dev", "eth0"])?;
    let from = a.run(&[
        "ping", "-n", "-c", "3", "-i", "0.2", "-W", "1", "-I", FLOATING, CLIENT,
    ])?;
    assert!(
        from.success(),
        "A cannot ping the client from {FLOATING}: {from:?}"
    );
    assert_eq!(neigh(&client, FLOATING)?.map(|n| n.0).as_deref(), Some(MAC));
    assert_eq!(
        frames(&sw, 2)?,
        0,
        "frames from {FLOATING} with another MAC than {MAC} crossed the switch"
    );
    let route = a.ok(&["ip", "route", "get", CLIENT, "from", FLOATING])?;
    assert!(route.contains("dev ovsbr0p1 table 100"), "{route}");

    // Fail-over: pings every 50 ms from the client while the port moves to B
    client.ok(&[
        "sh",
        "-c",
        &format!(
            ": >/tmp/ping.log; ping -n -D -i 0.05 -W 1 -w 30 {FLOATING} >>/tmp/ping.log 2>&1 & echo $! >/tmp/ping.pid"
        ),
    ])?;
    eventually(&client, "pings answered by A", 5, || {
        Ok(reply_times(&client.read_file("/tmp/ping.log")?).len() >= 3)
    })?;
    let t_stop = now();
    let clock = Instant::now();
    ocf_ok(&a, "stop")?;
    let stop_took = clock.elapsed();
    let t_stopped = now();
    assert!(!a.link_exists(PORT)?);
    ocf_ok(&b, "start")?;
    let start_took = clock.elapsed() - stop_took;
    let mut first_via_b = None;
    let deadline = Instant::now() + Duration::from_secs(15);
    while first_via_b.is_none() && Instant::now() < deadline {
        let log = client.read_file("/tmp/ping.log")?;
        first_via_b = reply_times(&log).into_iter().find(|t| *t > t_stopped);
        std::thread::sleep(Duration::from_millis(20));
    }
    client.ok(&["sh", "-c", "kill $(cat /tmp/ping.pid)"])?;
    let log = client.read_file("/tmp/ping.log")?;
    let Some(first) = first_via_b else {
        panic!("no reply from {FLOATING} after the port moved to B:\n{log}");
    };
    let gap_ms = (first - t_stop) * 1000.0;
    let times = reply_times(&log);
    let outage_ms = times
        .windows(2)
        .map(|w| (w[1] - w[0]) * 1000.0)
        .fold(0.0, f64::max);
    eprintln!(
        "fail-over gap: {gap_ms:.0} ms from stop on A to the first reply via B \
         (stop {} ms, start {} ms; longest silence between replies {outage_ms:.0} ms)",
        stop_took.as_millis(),
        start_took.as_millis()
    );
    ocf_ok(&b, "monitor")?;
    assert_eq!(ocf(&a, "monitor")?.code(), Some(7), "A still runs the port");

    // The client still knows .50 by the same MAC, and pings go on via B
    assert_eq!(neigh(&client, FLOATING)?.map(|n| n.0).as_deref(), Some(MAC));
    assert!(reaches(&client, FLOATING)?);
    let macs = arp_answers(&client, FLOATING)?;
    assert!(
        !macs.is_empty() && macs.iter().all(|m| m == MAC),
        "{macs:?}"
    );
    let rules = b.ok(&["ip", "-N", "rule", "show"])?;
    assert!(
        rules.contains("from 192.0.2.50 lookup 100 proto 79"),
        "{rules}"
    );
    let rules = a.ok(&["ip", "-N", "rule", "show"])?;
    assert!(!rules.contains("proto 79"), "A kept a rule: {rules}");

    // Never, in the whole test, did the client see .50 with another MAC
    client.ok(&["sh", "-c", "kill $(cat /tmp/neigh.pid)"])?;
    let seen = client.read_file("/tmp/neigh.log")?;
    let entries: Vec<&str> = seen
        .lines()
        .filter(|l| l.split_whitespace().next() == Some(FLOATING))
        .collect();
    assert!(
        entries.iter().any(|l| l.contains(MAC)),
        "the monitor saw nothing: {seen}"
    );
    let wrong: Vec<&&str> = entries
        .iter()
        .filter(|l| l.contains("lladdr") && !l.contains(MAC))
        .collect();
    assert!(
        wrong.is_empty(),
        "{FLOATING} seen with another MAC: {wrong:#?}"
    );

    let (good, bad) = (frames(&sw, 1)?, frames(&sw, 2)?);
    eprintln!("frames from {FLOATING} at the switch: {good} with {MAC}, {bad} with another MAC");
    assert!(good > 20, "{good}");
    assert_eq!(bad, 0, "frames from {FLOATING} with another MAC than {MAC}");

    ocf_ok(&b, "stop")?;
    for n in [&a, &b] {
        assert!(!n.link_exists(PORT)?);
        let routes = n.ok(&["ip", "route", "show", "table", "all", "proto", "79"])?;
        assert_eq!(routes.trim(), "", "{}", n.name());
    }
    Ok(())
}
