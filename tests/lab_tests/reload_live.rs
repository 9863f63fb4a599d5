//! `ifupdown-ovs reload` on a running host with traffic: two "VM" namespaces on a
//! VLAN bridge through ports a VM tool added (foreign), and a switch namespace
//! pinging the management address every 50 ms, while a reload removes a VLAN
//! bridge, adds one, changes trunks and an MTU, and adds a management port: no
//! reply lost, unchanged devices keep their ifindex, foreign ports stay, ifupdown's
//! state, `status` and `ifdown -a` are right afterwards. Also: a broken file is
//! refused (FILE:LINE) and changes nothing; `--dry-run` changes nothing; a reload
//! killed midway is completed by the next one. Needs root and the packages of
//! `.ci/run` (docs/reload.md).

use std::process::{Child, Stdio};

use crate::lab::{Lab, LabError};

const OLD: &str = "\
auto br0
iface br0 inet manual
    ovs_type OVSBridge
    ovs_ports eth0
    ovs_datapath_type netdev

allow-br0 eth0
iface eth0 inet manual
    ovs_type OVSPort
    ovs_bridge br0

auto mgmt0
iface mgmt0 inet static
    address 192.0.2.1/24
    ovs_type OVSIntPort
    ovs_bridge br0

auto vlan10
iface vlan10 inet manual
    ovs_type OVSBridge
    ovs_vlan_parent br0
    ovs_vlan 10

auto vlan30
iface vlan30 inet manual
    ovs_type OVSBridge
    ovs_vlan_parent br0
    ovs_vlan 30

auto trunk0
iface trunk0 inet manual
    ovs_type OVSIntPort
    ovs_bridge br0
    ovs_trunks 10,20
    ovs_mtu 1400
";

/// The edit: vlan30 gone, vlan40 new, trunk0's trunks and MTU changed, mgmt1 new.
fn new_config() -> String {
    OLD.replace(
        "auto vlan30\niface vlan30 inet manual\n    ovs_type OVSBridge\n    \
         ovs_vlan_parent br0\n    ovs_vlan 30\n",
        "auto vlan40\niface vlan40 inet manual\n    ovs_type OVSBridge\n    \
         ovs_vlan_parent br0\n    ovs_vlan 40\n\n\
         auto mgmt1\niface mgmt1 inet static\n    address 198.51.100.1/24\n    \
         ovs_type OVSIntPort\n    ovs_bridge vlan40\n",
    )
    .replace("ovs_trunks 10,20", "ovs_trunks 10,20,30")
    .replace("ovs_mtu 1400", "ovs_mtu 1450")
}

/// The host with OLD up, the switch on eth0 (192.0.2.2) and two VMs on vlan10
/// (10.0.10.1, 10.0.10.2) by ports added with ovs-vsctl.
struct Site {
    host: Lab,
    switch: Lab,
    vm1: Lab,
    _vm2: Lab,
}

fn site(name: &str) -> Result<Site, LabError> {
    let host = Lab::new(name)?;
    let switch = Lab::peer(&format!("{name}-sw"))?;
    let vm1 = Lab::peer(&format!("{name}-vm1"))?;
    let vm2 = Lab::peer(&format!("{name}-vm2"))?;
    host.add_veth("eth0", &switch, "eth0")?;
    host.add_veth("vnet1", &vm1, "eth0")?;
    host.add_veth("vnet2", &vm2, "eth0")?;
    switch.ok(&["ip", "addr", "add", "192.0.2.2/24", "dev", "eth0"])?;
    switch.ok(&["ip", "link", "set", "eth0", "up"])?;
    for (vm, addr) in [(&vm1, "10.0.10.1/24"), (&vm2, "10.0.10.2/24")] {
        vm.ok(&["ip", "addr", "add", addr, "dev", "eth0"])?;
        vm.ok(&["ip", "link", "set", "eth0", "up"])?;
    }
    host.start_ovs()?;
    host.write_interfaces(OLD)?;
    host.ifup(&["-a"])?;
    for tap in ["vnet1", "vnet2"] {
        host.vsctl(&["add-port", "vlan10", tap])?;
        host.ok(&["ip", "link", "set", tap, "up"])?;
    }
    // traffic flows before the reload
    switch.ok(&["ping", "-c", "1", "-W", "5", "192.0.2.1"])?;
    vm1.ok(&["ping", "-c", "1", "-W", "5", "10.0.10.2"])?;
    Ok(Site {
        host,
        switch,
        vm1,
        _vm2: vm2,
    })
}

pub(crate) fn ifindex(l: &Lab, dev: &str) -> Result<String, LabError> {
    // (/sys/class/net is the host's in a lab: ask ip)
    let out = l.ok(&["ip", "-o", "link", "show", "dev", dev])?;
    Ok(out.split(':').next().unwrap_or_default().trim().to_string())
}

/// `ping -i 0.05 -c COUNT DEST` started in the background in `l`.
pub(crate) fn start_ping(l: &Lab, dest: &str, count: &str) -> Result<Child, LabError> {
    let argv = ["ping", "-n", "-i", "0.05", "-W", "1", "-c", count, dest];
    let mut cmd = l.command(&argv);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.spawn().map_err(|source| LabError::Spawn {
        lab: l.name().to_string(),
        argv: argv.iter().map(|s| s.to_string()).collect(),
        source,
    })
}

/// Transmitted and received of a finished ping.
pub(crate) fn ping_result(child: Child) -> Result<(u32, u32, String), LabError> {
    let out = child.wait_with_output().map_err(|e| LabError::Setup {
        lab: "ping".into(),
        message: e.to_string(),
    })?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = text
        .lines()
        .find(|l| l.contains("packets transmitted"))
        .unwrap_or_default()
        .to_string();
    let num = |word: &str| -> u32 {
        let words: Vec<&str> = line.split([' ', ',']).filter(|w| !w.is_empty()).collect();
        words
            .iter()
            .position(|w| *w == word)
            .and_then(|i| i.checked_sub(1))
            .and_then(|i| words[i].parse().ok())
            .unwrap_or(0)
    };
    Ok((num("packets"), num("received"), text))
}

fn state(l: &Lab) -> Result<Vec<String>, LabError> {
    let mut v: Vec<String> = l
        .ok(&["ifquery", "--state"])?
        .split_whitespace()
        .map(String::from)
        .collect();
    v.sort();
    Ok(v)
}

#[test]
fn reload_under_traffic_touches_only_what_changed() -> Result<(), LabError> {
    let s = site("reload-live")?;
    let h = &s.host;
    assert!(
        h.exists("/run/ifupdown-ovs-applied/vlan30")?,
        "the hook keeps what ifup applied"
    );
    let unchanged = ["br0", "mgmt0", "vlan10", "trunk0", "eth0", "vnet1"];
    let before: Vec<String> = unchanged
        .iter()
        .map(|d| ifindex(h, d))
        .collect::<Result<_, _>>()?;

    h.write_interfaces(&new_config())?;
    let mgmt = start_ping(&s.switch, "192.0.2.1", "200")?;
    let vms = start_ping(&s.vm1, "10.0.10.2", "200")?;
    std::thread::sleep(std::time::Duration::from_millis(1000));
    let out = h.run(&["ifupdown-ovs", "reload"])?;
    assert!(
        out.success(),
        "reload failed:\n{}\n{}",
        out.stdout,
        out.stderr
    );
    let (sent, got, text) = ping_result(mgmt)?;
    assert!(
        sent == 200 && got == 200,
        "management pings lost:\n{text}\nreload said:\n{}",
        out.stdout
    );
    let (sent, got, text) = ping_result(vms)?;
    assert!(sent == 200 && got == 200, "VM pings lost:\n{text}");

    let after: Vec<String> = unchanged
        .iter()
        .map(|d| ifindex(h, d))
        .collect::<Result<_, _>>()?;
    assert_eq!(before, after, "unchanged devices were recreated");
    // foreign ports kept, on their VLAN bridge
    for tap in ["vnet1", "vnet2"] {
        assert_eq!(h.vsctl(&["port-to-br", tap])?.trim(), "vlan10");
    }
    // what changed did change
    assert_eq!(
        h.vsctl(&["get", "Port", "trunk0", "trunks"])?.trim(),
        "[10, 20, 30]"
    );
    assert_eq!(
        h.vsctl(&["get", "Interface", "trunk0", "mtu_request"])?
            .trim(),
        "1450"
    );
    assert!(!h.vsctl(&["list-br"])?.contains("vlan30"));
    assert_eq!(h.vsctl(&["br-to-vlan", "vlan40"])?.trim(), "40");
    assert_eq!(h.vsctl(&["port-to-br", "mgmt1"])?.trim(), "vlan40");
    assert!(
        h.ok(&["ip", "-o", "addr", "show", "mgmt1"])?
            .contains("198.51.100.1/24")
    );
    let mut want: Vec<String> = [
        "br0=br0",
        "eth0=eth0",
        "lo=lo",
        "mgmt0=mgmt0",
        "mgmt1=mgmt1",
        "trunk0=trunk0",
        "vlan10=vlan10",
        "vlan40=vlan40",
    ]
    .map(String::from)
    .to_vec();
    want.sort();
    assert_eq!(state(h)?, want);
    assert!(!h.exists("/run/ifupdown-ovs-applied/vlan30")?);
    assert!(
        h.read_file("/run/ifupdown-ovs-applied/trunk0")?
            .contains("ovs_trunks 10,20,30")
    );
    let st = h.run(&["ifupdown-ovs", "status"])?;
    assert!(st.success(), "status after reload:\n{}", st.stdout);
    // nothing left to do
    let again = h.ok(&["ifupdown-ovs", "reload", "--dry-run"])?;
    assert!(again.contains("# nothing to do"), "{again}");
    h.ifdown(&["-a"])?;
    assert_eq!(state(h)?, Vec::<String>::new());
    Ok(())
}

#[test]
fn reload_refuses_a_broken_file_and_dry_run_changes_nothing() -> Result<(), LabError> {
    let s = site("reload-refuse")?;
    let h = &s.host;
    let show = h.vsctl(&["show"])?;
    let st = state(h)?;
    h.write_interfaces(&new_config().replace("ovs_mtu 1450", "ovs_mtu 1450\n    ovs_tag x"))?;
    let out = h.run(&["ifupdown-ovs", "reload"])?;
    assert!(!out.success());
    assert!(
        out.stderr.contains("/etc/network/interfaces:")
            && out.stderr.contains("ovs_tag")
            && out.stderr.contains("reload refused"),
        "{}",
        out.stderr
    );
    assert_eq!(h.vsctl(&["show"])?, show);
    assert_eq!(state(h)?, st);

    h.write_interfaces(&new_config())?;
    let plan = h.ok(&["ifupdown-ovs", "reload", "--dry-run"])?;
    for want in [
        "ifdown -i /run/ifupdown-ovs/reload.applied.interfaces vlan30",
        "# converged in place: trunk0 (ovs_trunks, ovs_mtu)",
        "trunks=",
        "ifup -i /etc/network/interfaces vlan40 mgmt1",
    ] {
        assert!(plan.contains(want), "{want:?} not in:\n{plan}");
    }
    assert_eq!(plan.matches("ovs-vsctl").count(), 1, "{plan}");
    assert_eq!(h.vsctl(&["show"])?, show);
    assert_eq!(state(h)?, st);

    // an interface up without a record (brought up before the store existed):
    // compared with the file, said so, recorded by the reload
    h.ok(&["rm", "/run/ifupdown-ovs-applied/mgmt0"])?;
    let plan = h.ok(&["ifupdown-ovs", "reload", "--dry-run"])?;
    assert!(
        plan.contains("# mgmt0: no record of what its ifup applied"),
        "{plan}"
    );
    assert!(
        plan.contains("# unchanged: lo br0 eth0 mgmt0 vlan10"),
        "{plan}"
    );
    h.ok(&["ifupdown-ovs", "reload"])?;
    assert!(
        h.read_file("/run/ifupdown-ovs-applied/mgmt0")?
            .contains("address 192.0.2.1/24")
    );
    Ok(())
}

#[test]
fn a_killed_reload_is_completed_by_the_next() -> Result<(), LabError> {
    // vlan30's applied stanza takes 3 s to go down: the reload is killed then
    let slow = OLD.replace("    ovs_vlan 30\n", "    ovs_vlan 30\n    down sleep 3\n");
    let h = Lab::new("reload-killed")?;
    h.start_ovs()?;
    let wire = Lab::peer("reload-killed-sw")?;
    h.add_veth("eth0", &wire, "eth0")?;
    h.write_interfaces(&slow)?;
    h.ifup(&["-a"])?;
    h.write_interfaces(&new_config())?;
    let first = spawn(
        &h,
        &["timeout", "-s", "KILL", "1", "ifupdown-ovs", "reload"],
    )?;
    // one reload at a time
    std::thread::sleep(std::time::Duration::from_millis(400));
    let busy = h.run(&["ifupdown-ovs", "reload"])?;
    assert!(
        !busy.success() && busy.stderr.contains("another reload is running"),
        "{}",
        busy.stderr
    );
    let out = wait(&h, first)?;
    assert!(!out.status.success(), "the reload was to be killed");
    // its ifdown goes on alone; a second reload (waiting for it) completes the rest
    std::thread::sleep(std::time::Duration::from_secs(3));
    let out = h.run(&["ifupdown-ovs", "reload"])?;
    assert!(out.success(), "{}\n{}", out.stdout, out.stderr);
    assert_eq!(
        h.vsctl(&["get", "Port", "trunk0", "trunks"])?.trim(),
        "[10, 20, 30]"
    );
    assert_eq!(h.vsctl(&["port-to-br", "mgmt1"])?.trim(), "vlan40");
    assert!(!h.vsctl(&["list-br"])?.contains("vlan30"));
    let again = h.ok(&["ifupdown-ovs", "reload", "--dry-run"])?;
    assert!(again.contains("# nothing to do"), "{again}");
    let st = h.run(&["ifupdown-ovs", "status"])?;
    assert!(st.success(), "status after reload:\n{}", st.stdout);
    // a port of ours deleted by hand: unchanged in the file, but missing: put back
    h.vsctl(&["del-port", "trunk0"])?;
    let out = h.ok(&["ifupdown-ovs", "reload"])?;
    assert!(out.contains("trunk0 (missing in OVSDB)"), "{out}");
    assert_eq!(h.vsctl(&["port-to-br", "trunk0"])?.trim(), "br0");
    assert_eq!(
        h.vsctl(&["get", "Port", "trunk0", "trunks"])?.trim(),
        "[10, 20, 30]"
    );
    Ok(())
}

#[test]
fn addresses_and_removed_sysctls_change_in_place() -> Result<(), LabError> {
    const CONF: &str = "\
auto br0
iface br0 inet manual
    ovs_type OVSBridge
    ovs_datapath_type netdev

auto p1
iface p1 inet static
    address 192.0.2.10/24
    ovs_type OVSIntPort
    ovs_bridge br0
    ovs_arp_ignore 2

auto p2
iface p2 inet manual
    ovs_type OVSIntPort
    ovs_bridge br0
    up touch /run/p2-old-up
    down touch /run/p2-old-down
";
    let h = Lab::new("reload-addr")?;
    h.start_ovs()?;
    h.write_interfaces(CONF)?;
    h.ifup(&["-a"])?;
    let sysctl = "/proc/sys/net/ipv4/conf/p1/arp_ignore";
    assert_eq!(h.read_file(sysctl)?.trim(), "2");
    let index = ifindex(&h, "p1")?;
    h.write_interfaces(
        &CONF
            .replace(
                "192.0.2.10/24",
                "192.0.2.11/24\n    address 198.51.100.1/24",
            )
            .replace("    ovs_arp_ignore 2\n", "")
            .replace("up touch /run/p2-old-up", "up touch /run/p2-new-up"),
    )?;
    let out = h.ok(&["ifupdown-ovs", "reload"])?;
    // p2's `up` changed: down with the applied stanza (its old `down`), up with the new
    assert!(
        out.contains("p2: ifdown and ifup again: up (inet) changed"),
        "{out}"
    );
    assert!(h.exists("/run/p2-old-down")? && h.exists("/run/p2-new-up")?);
    assert!(
        h.read_file("/run/ifupdown-ovs-applied/p2")?
            .contains("p2-new-up")
    );
    assert!(
        out.contains("converged in place: p1 (address, ovs_arp_ignore)"),
        "{out}"
    );
    assert_eq!(ifindex(&h, "p1")?, index, "p1 was recreated");
    let addrs = h.ok(&["ip", "-o", "-4", "addr", "show", "dev", "p1"])?;
    assert!(
        addrs.contains("192.0.2.11/24")
            && addrs.contains("198.51.100.1/24")
            && !addrs.contains("192.0.2.10/"),
        "{addrs}"
    );
    assert_eq!(h.read_file(sysctl)?.trim(), "0");
    // OVS stopped: the reload starts it, as the hook would, then converges
    let edited = h.read_file("/etc/network/interfaces")?;
    h.stop_ovs()?;
    h.write_interfaces(&edited.replace(
        "    ovs_bridge br0\n",
        "    ovs_bridge br0\n    ovs_tag 5\n",
    ))?;
    let out = h.run(&["ifupdown-ovs", "reload"])?;
    assert!(out.success(), "{}\n{}", out.stdout, out.stderr);
    assert!(h.ovs_running()?);
    assert_eq!(h.vsctl(&["get", "Port", "p1", "tag"])?.trim(), "5");
    // ifdown now takes the addresses the reload applied
    h.ifdown(&["p1"])?;
    assert!(!h.link_exists("p1")?);
    Ok(())
}

/// Start `argv` in the background in `l`.
fn spawn(l: &Lab, argv: &[&str]) -> Result<Child, LabError> {
    let mut cmd = l.command(argv);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.spawn().map_err(|source| LabError::Spawn {
        lab: l.name().to_string(),
        argv: argv.iter().map(|s| s.to_string()).collect(),
        source,
    })
}

fn wait(l: &Lab, child: Child) -> Result<std::process::Output, LabError> {
    child.wait_with_output().map_err(|e| LabError::Setup {
        lab: l.name().to_string(),
        message: e.to_string(),
    })
}

#[test]
fn reload_waits_for_ifupdown_working_on_an_interface() -> Result<(), LabError> {
    const CONF: &str = "\
auto br0
iface br0 inet manual
    ovs_type OVSBridge
    ovs_datapath_type netdev

auto p3
iface p3 inet manual
    ovs_type OVSIntPort
    ovs_bridge br0
    ovs_tag 3
    down sleep 2
";
    let h = Lab::new("reload-lock")?;
    h.start_ovs()?;
    h.write_interfaces(CONF)?;
    h.ifup(&["-a"])?;
    h.write_interfaces(&CONF.replace("ovs_tag 3", "ovs_tag 33"))?;

    // ifupdown's lock of p3 held for 2 s, as ifup/ifdown (or Pacemaker through
    // them) hold it: an fcntl write lock on /run/network/ifstate.p3
    let holder = spawn(
        &h,
        &[
            "perl",
            "-MFcntl",
            "-e",
            "open(my $f, '>>', '/run/network/ifstate.p3') or die; \
             my $s = pack('s s x4 q q l x4', F_WRLCK, 0, 0, 0, 0); \
             fcntl($f, F_SETLKW, $s) or die; print \"locked\\n\"; sleep 2",
        ],
    )?;
    std::thread::sleep(std::time::Duration::from_millis(500));
    let start = std::time::Instant::now();
    let out = h.run(&["ifupdown-ovs", "reload"])?;
    let waited = start.elapsed();
    let held = wait(&h, holder)?;
    assert!(
        String::from_utf8_lossy(&held.stdout).contains("locked"),
        "the lock holder did not run"
    );
    assert!(out.success(), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("waiting for ifup/ifdown of p3"),
        "{}",
        out.stderr
    );
    assert!(waited.as_millis() >= 1200, "did not wait: {waited:?}");
    assert_eq!(h.vsctl(&["get", "Port", "p3", "tag"])?.trim(), "33");

    // an ifdown of p3 running (2 s in its `down`): ifupdown already counts it as
    // down, so the reload brings it up again as the file says, after the ifdown
    h.write_interfaces(&CONF.replace("ovs_tag 3", "ovs_tag 34"))?;
    let ifdown = spawn(&h, &["ifdown", "p3"])?;
    std::thread::sleep(std::time::Duration::from_millis(500));
    let out = h.run(&["ifupdown-ovs", "reload"])?;
    assert!(wait(&h, ifdown)?.status.success());
    assert!(out.success(), "{}\n{}", out.stdout, out.stderr);
    assert_eq!(h.vsctl(&["get", "Port", "p3", "tag"])?.trim(), "34");
    assert!(state(&h)?.contains(&"p3=p3".to_string()));
    Ok(())
}
