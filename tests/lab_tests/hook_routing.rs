//! Source-based routing (`ovs_route_table`, `ovs_route_pref`, `ovs_route`) and the
//! ARP sysctls (`ovs_arp_*`) with the real ifup/ifdown and a real OVS, on the seed's
//! HA stanza (fixtures/examples/seed-ha.interfaces): rules and routes of IPv4 and
//! IPv6 after ifup, marked `proto 79`, by table number and by table name; nothing
//! duplicated when the hooks run twice; all of ours gone after ifdown (twice fine),
//! a route and rules made by someone else untouched; an unknown table name fails
//! with file, line and option before anything is made; the ARP sysctls set and
//! back to the defaults; 100 up/down cycles of the floating port leave nothing.
//! Needs root and the packages of `.ci/run`.

use std::time::Instant;

use crate::hook_util::*;
use crate::lab::{Lab, LabError};

const PORT: &str = "ovsbr0p1";

/// seed-ha with IPv6 routes, `ovs_route` lines of both families, the table given as
/// `table`, and ARP options on eth0 and the floating port.
fn interfaces(table: &str) -> String {
    fixture("seed-ha.interfaces")
        .replace(
            "    ovs_route_table 100\n",
            &format!(
                "    ovs_route_table {table}\n    \
                 ovs_route 198.51.100.0/24 via 192.0.2.254\n    \
                 ovs_route 2001:db8:1::/48 via 2001:db8::ff\n"
            ),
        )
        .replace(
            "    accept_ra 0\n",
            "    gateway 2001:db8::ff\n    dad-attempts 0\n    accept_ra 0\n",
        )
        // eth0: other ARP values than the fixture's, to see them set and reset.
        .replace(
            "    ovs_bridge ovsbr0\n    ovs_disable_ipv6 yes\n    \
             ovs_arp_ignore 1\n    ovs_arp_announce 2\n",
            "    ovs_bridge ovsbr0\n    ovs_disable_ipv6 yes\n    \
             ovs_arp_filter yes\n    ovs_arp_ignore 2\n    ovs_arp_announce 2\n",
        )
}

fn setup(name: &str, table: &str) -> Result<(Lab, Lab), LabError> {
    let host = Lab::new(name)?;
    let wire = Lab::peer(&format!("{name}-wire"))?;
    host.add_veth("eth0", &wire, "eth0")?;
    host.start_ovs()?;
    let text = interfaces(table);
    assert!(
        text.contains("ovs_route 2001:db8:1::/48"),
        "fixture changed:\n{text}"
    );
    assert!(
        text.contains("ovs_arp_filter yes"),
        "fixture changed:\n{text}"
    );
    host.write_interfaces(&text)?;
    Ok((host, wire))
}

/// `ifup`/`ifdown` ARGS, which must succeed with nothing from us on stderr. (ifdown
/// of an interface with gateways in both families prints two errors of ifupdown's
/// own: its inet6 addresses and routes went with the link of the inet stanza.)
fn clean(l: &Lab, argv: &[&str]) -> Result<(), LabError> {
    let out = l.run(argv)?;
    assert!(out.success(), "{argv:?} failed: {out:?}");
    let ours: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("ifupdown-ovs"))
        .collect();
    assert!(ours.is_empty(), "{argv:?}: {ours:?}");
    Ok(())
}

/// Non-empty lines of `ip -N FAMILY ARGS...`.
fn ip_lines(l: &Lab, family: &str, args: &[&str]) -> Result<Vec<String>, LabError> {
    let mut argv = vec!["ip", "-N", family];
    argv.extend_from_slice(args);
    Ok(l.ok(&argv)?
        .lines()
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty())
        .collect())
}

/// Rules with our protocol, of both families.
fn our_rules(l: &Lab) -> Result<Vec<String>, LabError> {
    let mut v = ip_lines(l, "-4", &["rule", "show"])?;
    v.extend(ip_lines(l, "-6", &["rule", "show"])?);
    v.retain(|r| r.ends_with("proto 79"));
    Ok(v)
}

/// Routes with our protocol in any table, of both families.
fn our_routes(l: &Lab) -> Result<Vec<String>, LabError> {
    let mut v = ip_lines(l, "-4", &["route", "show", "table", "all", "proto", "79"])?;
    v.extend(ip_lines(
        l,
        "-6",
        &["route", "show", "table", "all", "proto", "79"],
    )?);
    Ok(v)
}

/// Everything someone else made before our ifup (table `ours` is ours): a route in our table, a route in
/// another table, a rule for the floating address without our protocol.
fn foreign(l: &Lab, ours: &str) -> Result<Vec<String>, LabError> {
    let mut v = ip_lines(l, "-4", &["route", "show", "table", ours])?;
    v.extend(ip_lines(l, "-4", &["route", "show", "table", "200"])?);
    v.extend(ip_lines(l, "-4", &["rule", "show"])?);
    v.retain(|s| !s.contains("proto 79") && !s.contains(PORT));
    Ok(v)
}

fn make_foreign(l: &Lab, ours: &str) -> Result<(), LabError> {
    for argv in [
        &[
            "ip",
            "route",
            "add",
            "blackhole",
            "203.0.113.0/24",
            "table",
            ours,
        ][..],
        &[
            "ip",
            "route",
            "add",
            "blackhole",
            "203.0.113.0/24",
            "table",
            "200",
        ],
        &[
            "ip",
            "rule",
            "add",
            "from",
            "192.0.2.50",
            "lookup",
            "200",
            "pref",
            "1500",
        ],
        &[
            "ip",
            "rule",
            "add",
            "from",
            "192.0.2.77",
            "lookup",
            "100",
            "pref",
            "1000",
        ],
    ] {
        l.ok(argv)?;
    }
    Ok(())
}

/// The hook runs of `ifup PORT` once more, with ifupdown's environment for each
/// stanza (ifupdown itself refuses a second ifup of a configured interface).
fn hooks_again(l: &Lab, phase: &str, mode: &str, stanza: &[(&str, &str)]) -> Result<(), LabError> {
    let mut cmd = l.command(&["/usr/sbin/ifupdown-ovs", "hook"]);
    cmd.env("IFACE", PORT)
        .env("LOGICAL", PORT)
        .env("METHOD", "static")
        .env("MODE", mode)
        .env("PHASE", phase)
        .env("VERBOSITY", "0");
    for (k, v) in stanza {
        cmd.env(k, v);
    }
    let out = l.run_command(&["ifupdown-ovs", "hook"], cmd, None)?;
    assert!(out.success(), "{phase} again: {out:?}");
    assert_eq!(out.stderr, "", "{phase} again printed on stderr");
    Ok(())
}

const INET: &[(&str, &str)] = &[
    ("ADDRFAM", "inet"),
    ("IF_ADDRESS", "192.0.2.50"),
    ("IF_NETMASK", "255.255.255.0"),
    ("IF_GATEWAY", "192.0.2.1"),
    ("IF_OVS_TYPE", "OVSIntPort"),
    ("IF_OVS_BRIDGE", "ovsbr0"),
];
const INET6: &[(&str, &str)] = &[
    ("ADDRFAM", "inet6"),
    ("IF_ADDRESS", "2001:db8::1"),
    ("IF_NETMASK", "64"),
    ("IF_GATEWAY", "2001:db8::ff"),
];

fn rules_and_routes(
    name: &str,
    table: &str,
    id: &str,
    name_in_rt_tables: bool,
) -> Result<(), LabError> {
    let (host, _wire) = setup(name, table)?;
    if name_in_rt_tables {
        let mut rt = host.read_file("/etc/iproute2/rt_tables")?;
        rt.push_str(&format!("{id}\t{table}\n"));
        host.write_file("/etc/iproute2/rt_tables", &rt)?;
    }
    make_foreign(&host, id)?;
    let before = foreign(&host, id)?;
    assert_eq!(before.len(), 2 + 5, "{before:#?}");
    let sys = |k: &str| sysctl(&host, &format!("net/ipv4/conf/{k}"));
    host.ok(&["sysctl", "-q", "-w", "net.ipv4.conf.default.arp_announce=1"])?;
    let eth0_before = (
        sys("eth0/arp_filter")?,
        sys("eth0/arp_ignore")?,
        sys("eth0/arp_announce")?,
    );

    quiet(&host, &["ifup", "-a"])?;
    assert_eq!(
        (
            sys("eth0/arp_filter")?,
            sys("eth0/arp_ignore")?,
            sys("eth0/arp_announce")?
        ),
        ("1".into(), "2".into(), "2".into()),
        "eth0's ARP sysctls"
    );
    // `plan` shows the commands
    let plan = host.ok(&["ifupdown-ovs", "plan", PORT])?;
    assert!(
        plan.contains(&format!(
            "rule add from 192.0.2.50 table {id} pref 1000 protocol 79"
        )),
        "{plan}"
    );
    assert!(plan.contains("ip -6 -batch - <<EOF"), "{plan}");

    quiet(&host, &["ifup", PORT])?;
    assert_eq!(
        (sys("ovsbr0p1/arp_ignore")?, sys("ovsbr0p1/arp_announce")?),
        ("1".into(), "2".into())
    );
    let rules = our_rules(&host)?;
    assert_eq!(
        rules,
        [
            format!("1000: from 192.0.2.50 lookup {id} proto 79"),
            format!("1000: from 2001:db8::1 lookup {id} proto 79"),
        ]
    );
    let t4 = ip_lines(&host, "-4", &["route", "show", "table", id])?;
    for want in [
        "default via 192.0.2.1 dev ovsbr0p1 proto 79",
        "192.0.2.0/24 dev ovsbr0p1 proto 79 scope 253 src 192.0.2.50",
        "198.51.100.0/24 via 192.0.2.254 dev ovsbr0p1 proto 79",
        "6 203.0.113.0/24", // blackhole, printed by number with -N
    ] {
        assert!(
            t4.iter().any(|r| r == want),
            "{want} not in table {id}: {t4:#?}"
        );
    }
    assert_eq!(t4.len(), 4, "{t4:#?}");
    let t6 = ip_lines(&host, "-6", &["route", "show", "table", id])?;
    for want in [
        "2001:db8::/64 dev ovsbr0p1 proto 79 metric 1024 pref medium",
        "2001:db8:1::/48 via 2001:db8::ff dev ovsbr0p1 proto 79 metric 1024 pref medium",
        "default via 2001:db8::ff dev ovsbr0p1 proto 79 metric 1024 pref medium",
    ] {
        assert!(
            t6.iter().any(|r| r == want),
            "{want} not in table {id}: {t6:#?}"
        );
    }
    assert_eq!(t6.len(), 3, "{t6:#?}");
    // the kernel routes replies from the floating address by our table
    let get = host.ok(&[
        "ip",
        "-N",
        "route",
        "get",
        "198.51.100.7",
        "from",
        "192.0.2.50",
    ])?;
    assert!(
        get.contains(&format!("via 192.0.2.254 dev ovsbr0p1 table {id}")),
        "{get}"
    );
    let get = host.ok(&[
        "ip",
        "-N",
        "-6",
        "route",
        "get",
        "2001:db8:1::7",
        "from",
        "2001:db8::1",
    ])?;
    assert!(
        get.contains(&format!("via 2001:db8::ff dev ovsbr0p1 table {id}")),
        "{get}"
    );

    // the hooks again: nothing duplicated, nothing else touched
    let (rules1, routes1) = (our_rules(&host)?, our_routes(&host)?);
    for stanza in [INET, INET6] {
        hooks_again(&host, "pre-up", "start", stanza)?;
        hooks_again(&host, "post-up", "start", stanza)?;
    }
    assert_eq!(our_rules(&host)?, rules1);
    assert_eq!(our_routes(&host)?, routes1);
    assert_eq!(routes1.len(), 6, "{routes1:#?}");
    assert_eq!(foreign(&host, id)?, before);

    clean(&host, &["ifdown", PORT])?;
    assert_eq!(our_rules(&host)?, Vec::<String>::new());
    assert_eq!(our_routes(&host)?, Vec::<String>::new());
    assert_eq!(
        foreign(&host, id)?,
        before,
        "someone else's routes and rules"
    );
    assert!(!host.link_exists(PORT)?);
    // down twice: ifupdown's own refusal, and our hooks with nothing left
    clean(&host, &["ifdown", PORT])?;
    for stanza in [INET, INET6] {
        hooks_again(&host, "pre-down", "stop", stanza)?;
        hooks_again(&host, "post-down", "stop", stanza)?;
    }
    assert_eq!(foreign(&host, id)?, before);

    quiet(&host, &["ifdown", "-a"])?;
    assert_eq!(
        (
            sys("eth0/arp_filter")?,
            sys("eth0/arp_ignore")?,
            sys("eth0/arp_announce")?
        ),
        ("0".into(), "0".into(), "1".into()),
        "eth0's ARP sysctls back to net.ipv4.conf.default.* (before: {eth0_before:?})"
    );
    assert_eq!(ours(&host)?, Vec::<String>::new());
    assert_eq!(foreign(&host, id)?, before);
    Ok(())
}

#[test]
fn table_by_number() -> Result<(), LabError> {
    rules_and_routes("route-num", "100", "100", false)
}

#[test]
fn table_by_name() -> Result<(), LabError> {
    rules_and_routes("route-name", "floating", "101", true)
}

/// An unknown table name fails ifup with the file, line and option, before OVS or
/// the kernel saw anything of the port.
#[test]
fn unknown_table_name_fails_cleanly() -> Result<(), LabError> {
    let (host, _wire) = setup("route-bad", "nosuch")?;
    quiet(&host, &["ifup", "-a"])?;
    let out = host.run(&["ifup", PORT])?;
    assert!(!out.success(), "{out:?}");
    let line = interfaces("nosuch")
        .lines()
        .position(|l| l.contains("ovs_route_table"))
        .map(|i| i + 1)
        .unwrap_or_default();
    let want = format!(
        "ifupdown-ovs: /etc/network/interfaces:{line}: error: {PORT}: ovs_route_table: unknown routing table name \"nosuch\""
    );
    assert!(out.stderr.contains(&want), "want {want}\n{}", out.stderr);
    assert!(!vsctl_lines(&host, &["list-ports", "ovsbr0"])?.contains(&PORT.to_string()));
    assert!(!host.link_exists(PORT)?);
    assert_eq!(our_rules(&host)?, Vec::<String>::new());
    assert_eq!(our_routes(&host)?, Vec::<String>::new());
    Ok(())
}

/// The floating port up and down 100 times: no port, rule, route or sysctl of it
/// left behind.
#[test]
fn hundred_cycles_leave_nothing() -> Result<(), LabError> {
    let (host, _wire) = setup("route-cycles", "100")?;
    quiet(&host, &["ifup", "-a"])?;
    let start = Instant::now();
    let n = 100;
    for i in 0..n {
        let up = host.run(&["ifup", PORT])?;
        assert!(up.success() && up.stderr.is_empty(), "cycle {i}: {up:?}");
        if i == 0 {
            assert_eq!(our_rules(&host)?.len(), 2);
            assert_eq!(our_routes(&host)?.len(), 6);
        }
        clean(&host, &["ifdown", PORT])?;
    }
    let per = start.elapsed() / n;
    eprintln!("{n} ifup/ifdown cycles of {PORT}: {per:?} per cycle");
    assert_eq!(our_rules(&host)?, Vec::<String>::new());
    assert_eq!(our_routes(&host)?, Vec::<String>::new());
    assert!(!host.link_exists(PORT)?);
    assert_eq!(vsctl_lines(&host, &["list-ports", "ovsbr0"])?, ["eth0"]);
    assert!(!host.exists(&format!("/proc/sys/net/ipv4/conf/{PORT}"))?);
    assert_eq!(
        host.read_file("/run/network/ifstate.ovsbr0p1")
            .unwrap_or_default()
            .trim(),
        ""
    );
    Ok(())
}
