//! 100 start/stop cycles of the OVSPort agent leave nothing behind: OVS, links,
//! addresses, rules, routes (all tables) and the sysctls of every remaining device
//! are the same after as before. Prints the time per cycle. Also the original shell
//! agent's setup (a stanza without ovs_* options, the bridge made by hand). Needs
//! root and the packages of `.ci/run`.

use std::time::Instant;

use crate::lab::LabError;
use crate::ocf_util::*;

/// Lines of `a` not in `b` and the other way round, for the failure message.
fn diff(a: &str, b: &str) -> String {
    let only = |x: &str, y: &str, mark: char| {
        x.lines()
            .filter(|l| !y.lines().any(|m| m == *l))
            .map(|l| format!("{mark} {l}\n"))
            .collect::<String>()
    };
    format!("{}{}", only(a, b, '-'), only(b, a, '+'))
}

#[test]
fn hundred_cycles_leave_nothing_behind() -> Result<(), LabError> {
    let cycles: u32 = std::env::var("OCF_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let (h, _peer) = ha_pair("ocf-cycles")?;
    let before = state(&h)?;
    let mut p = params();
    // no announcer: its packets would only add neighbour entries on the peer
    p.push(("arp_count".into(), "0".into()));
    let started = Instant::now();
    let mut in_start = std::time::Duration::ZERO;
    for i in 0..cycles {
        let t0 = Instant::now();
        let out = agent(&h, "start", &p, &[])?;
        in_start += t0.elapsed();
        assert_eq!(out.code(), Some(0), "start #{i}: {out:?}");
        if i == 0 {
            // the port is really up (the state comparison below proves it goes away)
            assert!(h.link_exists(PORT)?, "start #0 made no device");
            // the stanza's source routing (ovs_route_table 100) is there while
            // running, and must be gone after stop like everything else
            let rules = h.ok(&["ip", "rule"])?;
            assert!(rules.contains("from 192.0.2.50 lookup 100"), "{rules}");
            let table = h.ok(&["ip", "route", "show", "table", "100"])?;
            assert!(table.contains("dev ovsbr0p1"), "{table}");
        }
        let out = agent(&h, "stop", &p, &[])?;
        assert_eq!(out.code(), Some(0), "stop #{i}: {out:?}");
    }
    let per = started.elapsed() / cycles.max(1);
    eprintln!(
        "{cycles} start/stop cycles: {:.2} s per cycle (start {:.2} s, stop {:.2} s; {:.1} s in all)",
        per.as_secs_f64(),
        in_start.as_secs_f64() / f64::from(cycles.max(1)),
        per.as_secs_f64() - in_start.as_secs_f64() / f64::from(cycles.max(1)),
        started.elapsed().as_secs_f64()
    );
    let after = state(&h)?;
    assert!(before == after, "state changed:\n{}", diff(&before, &after));
    Ok(())
}

/// The seed's own setup: the bridge made with ovs-vsctl, a plain stanza for the
/// port; the parameters bridge and mac supply the rest (ifup -o).
#[test]
fn seed_setup_without_ovs_options() -> Result<(), LabError> {
    let h = host("ocf-seed", Default::default())?;
    h.start_ovs()?;
    // a careful admin's bridge: its own MAC fixed, so that it never takes the
    // port's (else the hooks pin one, see docs/options.md)
    h.vsctl(&[
        "add-br",
        BRIDGE,
        "--",
        "set",
        "Bridge",
        BRIDGE,
        "datapath_type=netdev",
        "other_config:hwaddr=\"02:00:00:00:00:fe\"",
    ])?;
    h.write_interfaces(
        "\
iface ovsbr0p1 inet static
    address 192.0.2.50
    netmask 255.255.255.0
iface ovsbr0p1 inet6 static
    address 2001:db8::1
    netmask 64
    accept_ra 0
    autoconf 0
",
    )?;
    let before = state(&h)?;
    expect(&h, "validate-all", 0)?;
    expect(&h, "monitor", 7)?;
    expect(&h, "start", 0)?;
    assert_eq!(h.vsctl(&["port-to-br", PORT])?.trim(), BRIDGE);
    assert_eq!(
        h.vsctl(&["get", "Interface", PORT, "mac"])?.trim(),
        format!("\"{MAC}\"")
    );
    let addrs = h.ok(&["ip", "-br", "addr", "show", "dev", PORT])?;
    assert!(
        addrs.contains("192.0.2.50/24") && addrs.contains("2001:db8::1/64"),
        "{addrs}"
    );
    expect(&h, "monitor", 0)?;
    expect(&h, "stop", 0)?;
    expect(&h, "monitor", 7)?;
    assert!(!h.link_exists(PORT)?);
    let after = state(&h)?;
    assert!(before == after, "state changed:\n{}", diff(&before, &after));
    // without the bridge parameter the plain stanza is not enough
    let out = agent(&h, "validate-all", &params()[..1], &[])?;
    assert_eq!(out.code(), Some(6), "{out:?}");
    // a bridge that does not exist here: this node cannot run it (5)
    let mut p = params();
    p[1].1 = "nobr0".into();
    let out = agent(&h, "validate-all", &p, &[])?;
    assert_eq!(out.code(), Some(5), "{out:?}");
    Ok(())
}
