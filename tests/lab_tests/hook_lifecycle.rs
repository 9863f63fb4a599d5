//! The hook across ifupdown's life cycle: inet + inet6 stanzas of one interface,
//! ifup and ifdown twice, a port whose bridge is already gone, `ifup -i FILE`, the
//! `plan` command, and OVS stopped (bounded, one clear line per interface).
//! Needs root and the packages of `.ci/run`.

use std::time::{Duration, Instant};

use crate::hook_util::*;
use crate::lab::{Lab, LabError};

/// Lines of ifup/ifdown's stderr that come from us.
fn ours_on_stderr(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| l.starts_with("ifupdown-ovs"))
        .map(String::from)
        .collect()
}

fn setup(name: &str, interfaces: &str) -> Result<(Lab, Lab), LabError> {
    let host = Lab::new(name)?;
    let wire = Lab::peer(&format!("{name}-wire"))?;
    host.add_veth("eth0", &wire, "eth0")?;
    host.start_ovs()?;
    host.write_interfaces(interfaces)?;
    Ok((host, wire))
}

const DUAL: &str = "\
auto br0
iface br0 inet manual
    ovs_type OVSBridge
    ovs_datapath_type netdev
    ovs_disable_ipv6 yes

auto eth0
iface eth0 inet manual
    ovs_type OVSPort
    ovs_bridge br0
    ovs_disable_ipv6 yes

auto p1
iface p1 inet static
    address 192.0.2.1/24
    ovs_type OVSIntPort
    ovs_bridge br0
iface p1 inet6 static
    address 2001:db8::1/64
    dad-attempts 0
    ovs_extra set interface ${IFACE} external_ids:from=inet6-stanza
";

/// One interface, two stanzas: the hooks run once per stanza; OVS options of both
/// stanzas are merged, the port is created at the first stanza and removed after
/// the last one.
#[test]
fn inet_and_inet6_stanzas() -> Result<(), LabError> {
    let (host, wire) = setup("dual", DUAL)?;
    wire.ok(&["ip", "addr", "add", "192.0.2.2/24", "dev", "eth0"])?;
    wire.ok(&[
        "ip",
        "addr",
        "add",
        "2001:db8::2/64",
        "nodad",
        "dev",
        "eth0",
    ])?;
    quiet(&host, &["ifup", "-a"])?;
    assert_eq!(
        get(&host, &["Interface", "p1", "external_ids:from"])?,
        "inet6-stanza"
    );
    assert!(reaches(&wire, "192.0.2.1")?);
    assert!(reaches(&wire, "2001:db8::1")?);
    let down = host.run(&["ifdown", "-a"])?;
    assert!(down.success(), "{down:?}");
    assert_eq!(ours_on_stderr(&down.stderr), Vec::<String>::new());
    assert_eq!(host.vsctl(&["list-br"])?.trim(), "");
    assert!(!host.link_exists("p1")?);
    Ok(())
}

const SIMPLE: &str = "\
auto br0
iface br0 inet manual
    ovs_type OVSBridge
    ovs_datapath_type netdev

auto eth0
iface eth0 inet manual
    ovs_type OVSPort
    ovs_bridge br0

auto p1
iface p1 inet manual
    ovs_type OVSIntPort
    ovs_bridge br0
    ovs_tag 7
";

/// ifup twice and ifdown twice, also with `--force` (which runs the hooks again):
/// nothing breaks, nothing is re-created, nothing is printed by us.
#[test]
fn twice_up_twice_down() -> Result<(), LabError> {
    let (host, _wire) = setup("twice", SIMPLE)?;
    quiet(&host, &["ifup", "-a"])?;
    let uuid = get(&host, &["Interface", "p1", "_uuid"])?;
    quiet(&host, &["ifup", "-a"])?;
    quiet(&host, &["ifup", "--force", "p1"])?;
    quiet(&host, &["ifup", "--force", "br0"])?;
    assert_eq!(
        get(&host, &["Interface", "p1", "_uuid"])?,
        uuid,
        "p1 was re-created"
    );
    assert_eq!(get(&host, &["Port", "p1", "tag"])?, "7");

    quiet(&host, &["ifdown", "p1"])?;
    let again = host.run(&["ifdown", "p1"])?;
    assert_eq!(ours_on_stderr(&again.stderr), Vec::<String>::new());
    quiet(&host, &["ifdown", "--force", "p1"])?;
    quiet(&host, &["ifdown", "-a"])?;
    quiet(&host, &["ifdown", "-a"])?;
    assert_eq!(host.vsctl(&["list-br"])?.trim(), "");
    Ok(())
}

/// Someone deleted the bridge: taking its ports down is quiet and succeeds.
#[test]
fn port_whose_bridge_is_gone() -> Result<(), LabError> {
    let (host, _wire) = setup("gone", SIMPLE)?;
    quiet(&host, &["ifup", "-a"])?;
    host.vsctl(&["del-br", "br0"])?;
    quiet(&host, &["ifdown", "eth0"])?;
    quiet(&host, &["ifdown", "p1"])?;
    quiet(&host, &["ifdown", "br0"])?;
    assert_eq!(host.ok(&["ifquery", "--state"])?.trim(), "lo=lo");
    Ok(())
}

const ALLOW: &str = "\
allow-ovs br0
iface br0 inet manual
    ovs_type OVSBridge
    ovs_datapath_type netdev
    ovs_ports eth0 p1

allow-br0 eth0
iface eth0 inet manual
    ovs_type OVSPort
    ovs_bridge br0

allow-br0 p1
iface p1 inet static
    address 192.0.2.1/24
    ovs_type OVSIntPort
    ovs_bridge br0
";

/// `ifup -i FILE`: the hooks find FILE from their ifup ancestor, and the bridge
/// brings its allow-br0 ports up from the same file.
#[test]
fn other_interfaces_file() -> Result<(), LabError> {
    let (host, wire) = setup("altfile", "")?;
    host.write_file("/etc/network/alt.interfaces", ALLOW)?;
    wire.ok(&["ip", "addr", "add", "192.0.2.2/24", "dev", "eth0"])?;
    let f = "/etc/network/alt.interfaces";
    quiet(&host, &["ifup", "-i", f, "--allow=ovs", "br0"])?;
    let state = host.ok(&["ifquery", "-i", f, "--state"])?;
    for i in ["br0", "eth0", "p1"] {
        assert!(state.contains(&format!("{i}={i}")), "{i} not up: {state}");
    }
    assert!(reaches(&wire, "192.0.2.1")?);
    quiet(&host, &["ifdown", "-i", f, "--allow=ovs", "br0"])?;
    assert_eq!(host.ok(&["ifquery", "-i", f, "--state"])?.trim(), "");
    assert_eq!(host.vsctl(&["list-br"])?.trim(), "");
    Ok(())
}

/// `plan` prints the one transaction and the other commands without running
/// anything; against the running OVSDB it shows what converge would change.
#[test]
fn plan_prints_without_running() -> Result<(), LabError> {
    let (host, _wire) = setup("plan", SIMPLE)?;
    let out = host.ok(&["ifupdown-ovs", "plan", "p1"])?;
    let vsctl: Vec<&str> = out.lines().filter(|l| l.starts_with("ovs-vsctl")).collect();
    assert_eq!(vsctl.len(), 1, "{out}");
    assert!(vsctl[0].contains("--may-exist add-br br0"), "{out}");
    assert!(
        vsctl[0].contains("-- --may-exist add-port br0 p1 -- set Port p1 tag=7"),
        "{out}"
    );
    assert!(out.contains("ip link set dev p1 up"), "{out}");
    assert_eq!(host.vsctl(&["list-br"])?.trim(), "", "plan changed OVS");

    quiet(&host, &["ifup", "-a"])?;
    host.write_interfaces(&SIMPLE.replace("ovs_tag 7", "ovs_tag 8"))?;
    let out = host.ok(&["ifupdown-ovs", "plan", "p1"])?;
    assert!(out.contains("set Port p1 tag=8"), "{out}");
    assert!(
        !out.contains("add-port"),
        "p1 exists, nothing to add: {out}"
    );
    let down = host.ok(&["ifupdown-ovs", "plan", "--down", "br0"])?;
    assert!(down.contains("ifdown eth0 p1"), "{down}");
    assert!(down.contains("--if-exists del-br br0"), "{down}");
    assert_eq!(get(&host, &["Port", "p1", "tag"])?, "7", "plan changed OVS");
    Ok(())
}

/// OVS stopped: the first hook starts it the way the system does (here the init
/// script, as there is no systemd) and `ifup -a` succeeds.
#[test]
fn ovs_stopped_is_started() -> Result<(), LabError> {
    let (host, _wire) = setup("ovsstart", SIMPLE)?;
    host.stop_ovs()?;
    quiet(&host, &["ifup", "-a"])?;
    assert!(host.ovs_running()?);
    assert_eq!(vsctl_lines(&host, &["list-ports", "br0"])?, ["eth0", "p1"]);
    Ok(())
}

/// OVS stopped and its start hanging (an init script that never returns): `ifup
/// -a` gives up within a bound — one start attempt of at most 20 s for the whole
/// run, its script killed — with one line per OVS interface saying what is wrong
/// and what to do. `ifdown -a` then is quiet and quick.
#[test]
fn ovs_that_cannot_start_is_bounded_and_clear() -> Result<(), LabError> {
    const BOUND: Duration = Duration::from_secs(30);
    let (host, _wire) = setup("ovsdown", SIMPLE)?;
    host.stop_ovs()?;
    host.write_executable("/etc/init.d/openvswitch-switch", "#!/bin/sh\nsleep 600\n")?;
    let start = Instant::now();
    let out = host.run(&["ifup", "-a"])?;
    let took = start.elapsed();
    assert!(took < BOUND, "ifup -a took {took:?}");
    assert!(
        took >= Duration::from_secs(20),
        "gave up before the start limit: {took:?}"
    );
    assert!(!out.success());
    let lines = ours_on_stderr(&out.stderr);
    assert_eq!(lines.len(), 3, "{}", out.stderr);
    for (line, iface) in lines.iter().zip(["br0", "eth0", "p1"]) {
        assert!(
            line.starts_with(&format!(
                "ifupdown-ovs: {iface}: Open vSwitch is not running: "
            )),
            "{line}"
        );
        assert!(line.contains("service openvswitch-switch start"), "{line}");
    }
    assert!(
        lines[0].contains("`/etc/init.d/openvswitch-switch start` did not finish within 20 s"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].contains("already failed earlier in this run"),
        "{}",
        lines[1]
    );
    assert!(
        host.ok(&["pgrep", "-f", "sleep 600"]).is_err(),
        "init script left running"
    );
    let start = Instant::now();
    let down = host.run(&["ifdown", "-a"])?;
    assert_eq!(ours_on_stderr(&down.stderr), Vec::<String>::new());
    assert!(start.elapsed() < Duration::from_secs(5));
    Ok(())
}

/// OVS stopped and its init script failing at once (as when the package is half
/// removed): no 20 s wait, one line per interface with the script's complaint.
#[test]
fn ovs_start_failing_fails_fast() -> Result<(), LabError> {
    let (host, _wire) = setup("ovsfail", SIMPLE)?;
    host.stop_ovs()?;
    host.write_executable(
        "/etc/init.d/openvswitch-switch",
        "#!/bin/sh\necho 'openvswitch: cannot start: broken on purpose' >&2\nexit 1\n",
    )?;
    let start = Instant::now();
    let out = host.run(&["ifup", "-a"])?;
    assert!(
        start.elapsed() < Duration::from_secs(8),
        "{:?}",
        start.elapsed()
    );
    let lines = ours_on_stderr(&out.stderr);
    assert_eq!(lines.len(), 3, "{}", out.stderr);
    assert!(
        lines[0].contains("failed: openvswitch: cannot start: broken on purpose"),
        "{}",
        lines[0]
    );
    Ok(())
}
