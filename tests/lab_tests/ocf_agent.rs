//! The OVSPort agent against the real thing: our hooks, ifupdown and OVS in a lab
//! namespace, a peer on the bridge. Start really creates the port with its MAC,
//! link and addresses; monitor tells stopped (7) from half-configured (1, with an
//! `ocf-exit-reason:`); stop removes the port; the addresses are announced (the
//! peer's neighbour tables learn the port's MAC). Needs root and the packages of
//! `.ci/run`.

use std::time::Duration;

use crate::lab::{Lab, LabError};
use crate::ocf_util::*;

/// Whether `peer` has a neighbour entry `ip` -> `mac`.
fn neighbour(peer: &Lab, ip: &str, mac: &str) -> Result<bool, LabError> {
    let out = peer.ok(&["ip", "neigh", "show", "to", ip, "dev", "eth0"])?;
    Ok(out.contains(&format!("lladdr {mac}")))
}

#[test]
fn start_monitor_stop() -> Result<(), LabError> {
    let (h, peer) = ha_pair("ocf-agent")?;
    peer.ok(&["sysctl", "-qw", "net.ipv4.conf.eth0.arp_accept=1"])?;
    // An old neighbour entry for the IPv6 address (the port's MAC on another node
    // before a fail-over): the unsolicited advertisement must update it.
    peer.ok(&[
        "ip",
        "-6",
        "neigh",
        "replace",
        V6,
        "lladdr",
        "02:00:00:00:00:99",
        "dev",
        "eth0",
        "nud",
        "stale",
    ])?;

    // stopped: monitor and probe say 7
    expect(&h, "monitor", 7)?;
    let probe = agent(
        &h,
        "monitor",
        &params(),
        &[("OCF_RESKEY_CRM_meta_interval", "0")],
    )?;
    assert_eq!(probe.code(), Some(7), "{probe:?}");
    expect(&h, "validate-all", 0)?;

    // control: without announcements the peer learns nothing
    let mut quiet = params();
    quiet.push(("arp_count".into(), "0".into()));
    let out = agent(&h, "start", &quiet, &[])?;
    assert_eq!(out.code(), Some(0), "{out:?}");
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        !neighbour(&peer, V4, MAC)?,
        "peer learned the address without an announcement"
    );
    assert!(
        !neighbour(&peer, V6, MAC)?,
        "peer updated the address without an announcement"
    );
    let out = agent(&h, "stop", &quiet, &[])?;
    assert_eq!(out.code(), Some(0), "{out:?}");

    // start: port, MAC, link, addresses really there
    let out = expect(&h, "start", 0)?;
    eprintln!("start: {}", out.stderr);
    assert_eq!(
        h.vsctl(&["port-to-br", PORT])?.trim(),
        BRIDGE,
        "port not on the bridge"
    );
    assert_eq!(
        h.vsctl(&["get", "Interface", PORT, "mac"])?.trim(),
        format!("\"{MAC}\"")
    );
    assert_eq!(
        h.vsctl(&["get", "Interface", PORT, "type"])?.trim(),
        "internal"
    );
    let link = h.ok(&["ip", "-br", "link", "show", "dev", PORT])?;
    assert!(link.contains(MAC), "{link}");
    assert!(link.contains("UP"), "{link}");
    let addrs = h.ok(&["ip", "-br", "addr", "show", "dev", PORT])?;
    assert!(addrs.contains(&format!("{V4}/24")), "{addrs}");
    assert!(addrs.contains(&format!("{V6}/64")), "{addrs}");

    // the announcement reaches the peer: IPv4 learned (arp_accept), IPv6 updated
    h.wait_for(
        "peer learns the IPv4 address",
        Duration::from_secs(5),
        || neighbour(&peer, V4, MAC),
    )?;
    h.wait_for(
        "peer updates the IPv6 address",
        Duration::from_secs(5),
        || neighbour(&peer, V6, MAC),
    )?;
    // and the port answers, with its MAC (not the bridge's or eth0's) when asked
    peer.ok(&["ip", "neigh", "flush", "dev", "eth0"])?;
    assert!(
        peer.run(&["ping", "-n", "-c", "1", "-W", "2", V4])?
            .success()
    );
    assert!(neighbour(&peer, V4, MAC)?, "{}", peer.ok(&["ip", "neigh"])?);

    expect(&h, "start", 0)?;
    expect(&h, "monitor", 0)?;
    expect(&h, "status", 0)?;

    // half-configured: wrong MAC in OVSDB
    h.vsctl(&["set", "Interface", PORT, "mac=\"02:00:00:00:00:77\""])?;
    let out = expect(&h, "monitor", 1)?;
    let why = exit_reason(&out).expect("no ocf-exit-reason line");
    assert!(why.contains("02:00:00:00:00:77"), "{why}");
    // start repairs it
    expect(&h, "start", 0)?;
    expect(&h, "monitor", 0)?;

    // half-configured: the source-routing rule (ovs_route_table 100) gone
    h.ok(&["ip", "rule", "del", "from", V4, "lookup", "100"])?;
    let out = expect(&h, "monitor", 1)?;
    let why = exit_reason(&out).expect("no ocf-exit-reason line");
    assert!(
        why.contains(&format!(
            "source-routing rule from {V4} lookup 100 is missing"
        )),
        "{why}"
    );
    expect(&h, "stop", 0)?;
    expect(&h, "monitor", 7)?;
    // start puts it back
    expect(&h, "start", 0)?;
    let rules = h.ok(&["ip", "rule", "show", "from", V4])?;
    assert!(rules.contains("lookup 100"), "{rules}");
    expect(&h, "monitor", 0)?;

    // half-configured: an address gone
    h.ok(&["ip", "addr", "del", &format!("{V6}/64"), "dev", PORT])?;
    let out = expect(&h, "monitor", 1)?;
    let why = exit_reason(&out).expect("no ocf-exit-reason line");
    assert!(why.contains(V6) && why.contains("missing"), "{why}");

    // stop removes the port, even from a half-configured state; again: still 0
    expect(&h, "stop", 0)?;
    assert!(!h.link_exists(PORT)?, "device still there");
    assert!(
        !h.run(&["ovs-vsctl", "--timeout=10", "port-to-br", PORT])?
            .success(),
        "port still in OVS"
    );
    assert!(
        !h.run(&["ifquery", "--state", PORT])?.success(),
        "ifupdown still has it"
    );
    expect(&h, "monitor", 7)?;
    expect(&h, "stop", 0)?;

    // a port that ifdown does not know about (left in OVSDB, e.g. after a crash)
    expect(&h, "start", 0)?;
    h.ok(&["ifdown", "--force", PORT])?;
    h.vsctl(&[
        "--may-exist",
        "add-port",
        BRIDGE,
        PORT,
        "--",
        "set",
        "Interface",
        PORT,
        "type=internal",
    ])?;
    expect(&h, "monitor", 7)?; // down, no addresses: a left-over, counted as stopped
    expect(&h, "stop", 0)?;
    assert!(
        !h.run(&["ovs-vsctl", "--timeout=10", "port-to-br", PORT])?
            .success()
    );
    Ok(())
}

#[test]
fn stop_and_probe_without_ovs() -> Result<(), LabError> {
    let (h, _peer) = ha_pair("ocf-no-ovs")?;
    expect(&h, "start", 0)?;
    h.stop_ovs()?;
    let probe = || {
        agent(
            &h,
            "monitor",
            &params(),
            &[("OCF_RESKEY_CRM_meta_interval", "0")],
        )
    };
    // OVS keeps the port's device (a persistent tap) with its addresses, and
    // serves it again when it starts: still live, not "not running" (issue 13)
    let out = probe()?;
    assert_eq!(out.code(), Some(1), "{out:?}");
    let why = exit_reason(&out).expect("no ocf-exit-reason line");
    assert!(why.contains("still live in the kernel"), "{why}");
    // stop takes the addresses off and sets it down: then it is stopped
    expect(&h, "stop", 0)?;
    let addrs = h.ok(&["ip", "-o", "addr", "show", "dev", PORT])?;
    assert!(!addrs.contains(V4) && !addrs.contains(V6), "{addrs}");
    let out = probe()?;
    assert_eq!(out.code(), Some(7), "{out:?}");
    expect(&h, "stop", 0)?;
    Ok(())
}

#[test]
fn validate_all_on_broken_stanzas() -> Result<(), LabError> {
    let h = host("ocf-validate", Default::default())?;
    let cases = [
        // a multicast MAC
        INTERFACES.replace("ovs_mac 02:00:00:00:00:01", "ovs_mac 01:00:00:00:00:01"),
        // no stanza for the port
        INTERFACES
            .split("iface ovsbr0p1")
            .next()
            .unwrap_or_default()
            .to_string(),
        // an auto line: every node would bring it up
        format!("auto ovsbr0p1\n{INTERFACES}"),
        // a bad address
        INTERFACES.replace("192.0.2.50/24", "192.0.2.350/24"),
    ];
    for text in &cases {
        h.write_interfaces(text)?;
        let out = expect(&h, "validate-all", 6)?;
        assert!(exit_reason(&out).is_some(), "{out:?}");
    }
    h.write_interfaces(INTERFACES)?;
    expect(&h, "validate-all", 0)?;
    // the parameters must agree with the stanza
    let mut p = params();
    p[1].1 = "br9".into();
    let out = agent(&h, "validate-all", &p, &[])?;
    assert_eq!(out.code(), Some(6), "{out:?}");
    let mut p = params();
    p.remove(0);
    assert_eq!(agent(&h, "validate-all", &p, &[])?.code(), Some(6));
    // not root: start, stop and monitor refuse (4); validate-all works
    let as_nobody = |action: &str| {
        h.run(&[
            "su",
            "nobody",
            "-s",
            "/bin/sh",
            "-c",
            &format!(
                "OCF_RESKEY_interface={PORT} OCF_RESKEY_bridge={BRIDGE} OCF_RESKEY_mac={MAC} {AGENT} {action}"
            ),
        ])
    };
    for action in ["start", "stop", "monitor"] {
        let out = as_nobody(action)?;
        assert_eq!(out.code(), Some(4), "{action} as nobody: {out:?}");
    }
    let out = as_nobody("validate-all")?;
    assert_eq!(out.code(), Some(0), "validate-all as nobody: {out:?}");
    // unknown actions and usage
    assert_eq!(rc(&h, "reload")?, 3);
    assert_eq!(rc(&h, "migrate_to")?, 3);
    assert_eq!(rc(&h, "usage")?, 0);
    assert_eq!(rc(&h, "meta-data")?, 0);
    Ok(())
}

/// `interfaces_file`: the agent passes `ifup -i FILE`, and the hooks find FILE
/// from their ifup's command line.
#[test]
fn other_interfaces_file() -> Result<(), LabError> {
    let h = host("ocf-file", Default::default())?;
    let peer = Lab::peer("ocf-file-peer")?;
    h.add_veth("eth0", &peer, "eth0")?;
    h.start_ovs()?;
    let file = "/etc/network/ha.interfaces";
    h.write_file(file, INTERFACES)?;
    h.ok(&["ifup", "-i", file, "-a"])?;
    let mut p = params();
    p.push(("interfaces_file".into(), file.into()));
    let run = |action: &str| agent(&h, action, &p, &[]);
    // the default file has no stanza for the port
    assert_eq!(rc(&h, "validate-all")?, 6);
    for (action, want) in [
        ("validate-all", 0),
        ("monitor", 7),
        ("start", 0),
        ("monitor", 0),
        ("stop", 0),
        ("monitor", 7),
    ] {
        let out = run(action)?;
        assert_eq!(out.code(), Some(want), "{action}: {out:?}");
    }
    assert!(!h.link_exists(PORT)?);
    Ok(())
}

/// The fast start (optimistic DAD, docs/ocf.md "Fail-over time") still detects a
/// duplicate: the peer already holds the port's IPv6 address. The kernel's DAD,
/// still run although the address is usable at once, marks it `dadfailed`; start
/// fails (ifupdown's DAD wait fails) and monitor answers 1 naming the address.
/// Stop then leaves nothing. The peer keeps its address.
#[test]
fn fast_start_still_detects_a_duplicate_ipv6_address() -> Result<(), LabError> {
    let (h, peer) = ha_pair("ocf-dup6")?;
    peer.ok(&[
        "ip",
        "addr",
        "add",
        &format!("{V6}/64"),
        "dev",
        "eth0",
        "nodad",
    ])?;
    let out = agent(
        &h,
        "start",
        &params(),
        &[("RUST_LOG", "ifupdown_ovs::ocf=info")],
    )?;
    assert_ne!(
        out.code(),
        Some(0),
        "start with a duplicate address: {out:?}"
    );
    // the address was added optimistic (start asked for it), and DAD failed
    assert!(
        out.stderr.contains("optimistic"),
        "ifup without the optimistic options: {}",
        out.stderr
    );
    let addrs = h.ok(&["ip", "-6", "-o", "addr", "show", "dev", PORT])?;
    assert!(addrs.contains("dadfailed"), "{addrs}");
    let mon = expect(&h, "monitor", 1)?;
    let why = exit_reason(&mon).unwrap_or_default();
    assert!(
        why.contains(V6) && why.contains("duplicate address detection"),
        "{why}"
    );
    expect(&h, "stop", 0)?;
    expect(&h, "monitor", 7)?;
    let kept = peer.ok(&["ip", "-6", "-o", "addr", "show", "dev", "eth0"])?;
    assert!(kept.contains(V6) && !kept.contains("dadfailed"), "{kept}");
    Ok(())
}
