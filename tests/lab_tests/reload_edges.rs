//! `ifupdown-ovs reload` on the edits its first version left to the user
//! (docs/reload.md, "Limitations"): a port taken out of a bridge's `ovs_ports`
//! while its stanza stays (down, as `ifup -a` would leave it) and a port moved to
//! another bridge (moved in place); a `gateway` changed in place under traffic
//! (the default route replaced, same ifindex, no reply lost); and a reload with
//! ovs-vswitchd stopped (SIGSTOP): bounded, non-zero, a clear message, nothing
//! recorded, and the next reload converges. Needs root and the packages of
//! `.ci/run`.

use std::time::{Duration, Instant};

use crate::lab::{Lab, LabError, LabOptions};
use crate::reload_live::{ifindex, ping_result, start_ping};

/// What a reload prints when the host already matches the file.
const NOTHING: &str = "0 converged in place, 0 taken down, 0 brought up";

const PORTS: &str = "\
auto br0
iface br0 inet manual
    ovs_type OVSBridge
    ovs_ports eth1 eth2
    ovs_datapath_type netdev

auto br1
iface br1 inet manual
    ovs_type OVSBridge
    ovs_datapath_type netdev

allow-br0 eth1
iface eth1 inet manual
    ovs_type OVSPort
    ovs_bridge br0

allow-br0 eth2
iface eth2 inet manual
    ovs_type OVSPort
    ovs_bridge br0
";

/// eth1 moved to br1, eth2 out of br0's `ovs_ports` (its stanza stays).
fn ports_edited() -> String {
    PORTS
        .replace("    ovs_ports eth1 eth2\n", "")
        .replace(
            "    ovs_type OVSBridge\n    ovs_datapath_type netdev\n\nallow-br0 eth1",
            "    ovs_type OVSBridge\n    ovs_ports eth1\n    ovs_datapath_type netdev\n\n\
             allow-br1 eth1",
        )
        .replace(
            "eth1 inet manual\n    ovs_type OVSPort\n    ovs_bridge br0",
            "eth1 inet manual\n    ovs_type OVSPort\n    ovs_bridge br1",
        )
}

fn sorted_state(l: &Lab) -> Result<Vec<String>, LabError> {
    let mut v: Vec<String> = l
        .ok(&["ifquery", "--state"])?
        .split_whitespace()
        .map(String::from)
        .collect();
    v.sort();
    Ok(v)
}

#[test]
fn ports_taken_out_of_ovs_ports_or_moved_match_the_file() -> Result<(), LabError> {
    let h = Lab::new("reload-ports")?;
    for dev in ["eth1", "eth2"] {
        h.ok(&[
            "ip",
            "link",
            "add",
            dev,
            "type",
            "veth",
            "peer",
            "name",
            &format!("{dev}p"),
        ])?;
    }
    h.start_ovs()?;
    h.write_interfaces(PORTS)?;
    h.ifup(&["-a"])?;
    assert_eq!(h.vsctl(&["port-to-br", "eth2"])?.trim(), "br0");
    let index = ifindex(&h, "eth1")?;
    let edited = ports_edited();
    h.write_interfaces(&edited)?;
    let out = h.ok(&["ifupdown-ovs", "reload"])?;
    assert!(
        out.contains("eth2: no longer in br0's ovs_ports nor auto: ifdown"),
        "{out}"
    );
    assert!(out.contains("eth1 (ovs_bridge)"), "{out}");
    // eth1 moved in place (same device), eth2 down and out of OVS
    assert_eq!(h.vsctl(&["port-to-br", "eth1"])?.trim(), "br1");
    assert_eq!(ifindex(&h, "eth1")?, index, "eth1 was recreated");
    assert!(!h.run(&["ovs-vsctl", "port-to-br", "eth2"])?.success());
    let state = sorted_state(&h)?;
    assert_eq!(
        state,
        ["br0=br0", "br1=br1", "eth1=eth1", "lo=lo"],
        "{state:?}"
    );
    // the host is what `ifup -a` of the new file leaves: nothing more to do
    let again = h.ok(&["ifupdown-ovs", "reload"])?;
    assert!(again.contains(NOTHING), "{again}");
    let status = h.run(&["ifupdown-ovs", "status"])?;
    assert!(status.success(), "{}\n{}", status.stdout, status.stderr);
    h.ifdown(&["-a"])?;
    assert_eq!(sorted_state(&h)?, Vec::<String>::new());
    Ok(())
}

const GATEWAY: &str = "\
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
    gateway 192.0.2.254
    ovs_type OVSIntPort
    ovs_bridge br0

iface mgmt0 inet6 static
    address 2001:db8::1/64
    gateway 2001:db8::fe
    dad-attempts 0
";

fn default_routes(l: &Lab) -> Result<String, LabError> {
    Ok(l.ok(&["ip", "-4", "route", "show", "default"])?
        .trim()
        .to_string())
}

#[test]
fn a_gateway_changes_in_place_under_traffic() -> Result<(), LabError> {
    let h = Lab::new("reload-gw")?;
    let sw = Lab::peer("reload-gw-sw")?;
    h.add_veth("eth0", &sw, "eth0")?;
    sw.ok(&["ip", "addr", "add", "192.0.2.2/24", "dev", "eth0"])?;
    sw.ok(&["ip", "link", "set", "eth0", "up"])?;
    h.start_ovs()?;
    h.write_interfaces(GATEWAY)?;
    h.ifup(&["-a"])?;
    sw.ok(&["ping", "-c", "1", "-W", "5", "192.0.2.1"])?;
    let index = ifindex(&h, "mgmt0")?;
    assert!(default_routes(&h)?.contains("via 192.0.2.254 dev mgmt0"));
    let ping = start_ping(&sw, "192.0.2.1", "40")?;
    std::thread::sleep(Duration::from_millis(300));
    h.write_interfaces(
        &GATEWAY
            .replace("192.0.2.254", "192.0.2.253")
            .replace("2001:db8::fe", "2001:db8::fd"),
    )?;
    let out = h.ok(&["ifupdown-ovs", "reload"])?;
    assert!(out.contains("converged in place: mgmt0 (gateway)"), "{out}");
    let (sent, got, text) = ping_result(ping)?;
    assert!(sent > 0 && sent == got, "lost replies: {text}");
    assert_eq!(ifindex(&h, "mgmt0")?, index, "mgmt0 was recreated");
    let routes = default_routes(&h)?;
    assert_eq!(routes.lines().count(), 1, "{routes}");
    assert!(routes.contains("via 192.0.2.253 dev mgmt0"), "{routes}");
    // inet6: replaced too, in the same converge
    let routes6 = h.ok(&["ip", "-6", "route", "show", "default"])?;
    assert_eq!(routes6.trim().lines().count(), 1, "{routes6}");
    assert!(routes6.contains("via 2001:db8::fd dev mgmt0"), "{routes6}");
    // removed: no default route; then ifdown with the record works
    h.write_interfaces(&GATEWAY.replace("    gateway 192.0.2.254\n", ""))?;
    let out = h.ok(&["ifupdown-ovs", "reload"])?;
    assert!(out.contains("mgmt0 (gateway)"), "{out}");
    assert_eq!(default_routes(&h)?, "");
    assert_eq!(ifindex(&h, "mgmt0")?, index);
    h.write_interfaces(GATEWAY)?;
    h.ok(&["ifupdown-ovs", "reload"])?;
    assert!(default_routes(&h)?.contains("via 192.0.2.254 dev mgmt0"));
    h.ifdown(&["mgmt0"])?;
    assert_eq!(default_routes(&h)?, "");
    Ok(())
}

/// ovs-vswitchd continued (SIGCONT) when dropped, even when the test fails.
struct Stopped<'a>(&'a Lab, String);

impl Drop for Stopped<'_> {
    fn drop(&mut self) {
        let _ = self.0.run(&["kill", "-CONT", &self.1]);
    }
}

#[test]
fn a_reload_with_ovs_vswitchd_stopped_is_bounded_and_converges_later() -> Result<(), LabError> {
    const CONF: &str = "\
auto br0
iface br0 inet manual
    ovs_type OVSBridge
    ovs_datapath_type netdev

auto vlan1
iface vlan1 inet manual
    ovs_type OVSIntPort
    ovs_bridge br0
    ovs_tag 1
";
    let options = LabOptions {
        timeout: Duration::from_secs(300),
        ..LabOptions::default()
    };
    let h = Lab::with_options("reload-hang", options)?;
    h.start_ovs()?;
    h.write_interfaces(CONF)?;
    h.ifup(&["-a"])?;
    h.write_interfaces(&CONF.replace("ovs_tag 1", "ovs_tag 7"))?;
    let pid = h
        .read_file("/run/openvswitch/ovs-vswitchd.pid")?
        .trim()
        .to_string();
    h.ok(&["kill", "-STOP", &pid])?;
    let stopped = Stopped(&h, pid);
    let start = Instant::now();
    let out = h.run(&["ifupdown-ovs", "reload"])?;
    let took = start.elapsed();
    eprintln!(
        "reload with ovs-vswitchd stopped: {took:?}\n{}\n{}",
        out.stdout, out.stderr
    );
    assert!(took < Duration::from_secs(30), "reload took {took:?}");
    assert_eq!(out.code(), Some(1), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("Open vSwitch does not answer: ovs-vswitchd")
            && out.stderr.contains("nothing was changed"),
        "{}",
        out.stderr
    );
    assert!(!out.stdout.contains("reloaded "), "{}", out.stdout);
    // not recorded as applied: the next reload still sees the change
    assert!(
        h.read_file("/run/ifupdown-ovs-applied/vlan1")?
            .contains("ovs_tag 1")
    );
    drop(stopped);
    let out = h.ok(&["ifupdown-ovs", "reload"])?;
    assert!(out.contains("vlan1 (ovs_tag)"), "{out}");
    assert_eq!(h.vsctl(&["get", "Port", "vlan1", "tag"])?.trim(), "7");
    let again = h.ok(&["ifupdown-ovs", "reload"])?;
    assert!(again.contains(NOTHING), "{again}");
    Ok(())
}

const SUBST: &str = "\
auto br0
iface br0 inet manual
    ovs_type OVSBridge
    ovs_datapath_type netdev
    ovs_extra set Bridge br0 external-ids:site=$(echo one-$IFACE)

auto p1
iface p1 inet manual
    ovs_type OVSIntPort
    ovs_bridge br0

auto p2
iface p2 inet manual
    ovs_type OVSIntPort
    ovs_bridge br0
";

fn site_id(l: &Lab) -> Result<String, LabError> {
    Ok(l.vsctl(&["get", "Bridge", "br0", "external-ids:site"])?
        .trim()
        .trim_matches('"')
        .to_string())
}

#[test]
fn a_substitution_in_ovs_extra_changes_in_place_or_changes_nothing() -> Result<(), LabError> {
    let h = Lab::new("reload-subst")?;
    h.start_ovs()?;
    h.write_interfaces(SUBST)?;
    h.ifup(&["-a"])?;
    assert_eq!(site_id(&h)?, "one-br0");
    let index = ifindex(&h, "br0")?;
    // changed: run once, as the hook runs it, in place (same device)
    let two = SUBST.replace("$(echo one-$IFACE)", "$(echo two-$IFACE)");
    h.write_interfaces(&two)?;
    let out = h.ok(&["ifupdown-ovs", "reload"])?;
    assert!(out.contains("converged in place: br0 (ovs_extra)"), "{out}");
    assert_eq!(site_id(&h)?, "two-br0");
    assert_eq!(ifindex(&h, "br0")?, index, "br0 was recreated");
    // --dry-run prints it as written and runs nothing
    let dry = SUBST.replace("$(echo one-$IFACE)", "$(touch /run/ran; echo x)");
    h.write_interfaces(&dry)?;
    let out = h.ok(&["ifupdown-ovs", "reload", "--dry-run"])?;
    assert!(out.contains("$(touch /run/ran; echo x)"), "{out}");
    assert!(!h.exists("/run/ran")?);
    // failing, with p2 dropped in the same edit: refused, nothing changed
    let bad = SUBST
        .replace("$(echo one-$IFACE)", "$(echo x; exit 3)")
        .replace(
            "\nauto p2\niface p2 inet manual\n    ovs_type OVSIntPort\n    ovs_bridge br0\n",
            "",
        );
    h.write_interfaces(&bad)?;
    let out = h.run(&["ifupdown-ovs", "reload"])?;
    assert_eq!(out.code(), Some(1), "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("nothing was changed"), "{}", out.stderr);
    assert!(out.stderr.contains("exit 3"), "{}", out.stderr);
    assert!(h.ok(&["ifquery", "--state"])?.contains("p2=p2"));
    assert_eq!(site_id(&h)?, "two-br0");
    // fixed: the next reload converges
    h.write_interfaces(&bad.replace("$(echo x; exit 3)", "$(echo three)"))?;
    let out = h.ok(&["ifupdown-ovs", "reload"])?;
    assert!(out.contains("p2: no longer in the file"), "{out}");
    assert_eq!(site_id(&h)?, "three");
    assert!(!h.ok(&["ifquery", "--state"])?.contains("p2=p2"));
    Ok(())
}

const MAPPED: &str = "\
auto br0
iface br0 inet manual
    ovs_type OVSBridge
    ovs_datapath_type netdev

iface home inet manual
    ovs_type OVSIntPort
    ovs_bridge br0
    ovs_tag 5
";

#[test]
fn a_mapped_interface_is_left_alone_unless_changed() -> Result<(), LabError> {
    let h = Lab::new("reload-mapped")?;
    h.start_ovs()?;
    h.write_interfaces(MAPPED)?;
    h.ifup(&["-a"])?;
    h.ifup(&["p9=home"])?;
    assert_eq!(h.vsctl(&["get", "Port", "p9", "tag"])?.trim(), "5");
    let index = ifindex(&h, "p9")?;
    // unchanged: not touched
    let out = h.ok(&["ifupdown-ovs", "reload"])?;
    assert!(out.contains(NOTHING), "{out}");
    assert_eq!(ifindex(&h, "p9")?, index);
    // changed: restarted with the new stanza (docs/reload.md, "Limitations")
    h.write_interfaces(&MAPPED.replace("ovs_tag 5", "ovs_tag 6"))?;
    let out = h.ok(&["ifupdown-ovs", "reload"])?;
    assert!(
        out.contains("p9: ifdown and ifup again: mapped to home"),
        "{out}"
    );
    assert_eq!(h.vsctl(&["get", "Port", "p9", "tag"])?.trim(), "6");
    assert!(h.ok(&["ifquery", "--state"])?.contains("p9=home"));
    Ok(())
}

const PARTS: &str = "\
auto br0
iface br0 inet manual
    ovs_type OVSBridge
    ovs_datapath_type netdev

auto p1
iface p1 inet manual
    ovs_type OVSIntPort
    ovs_bridge br0
    ovs_tag 1

auto p2
iface p2 inet manual
    ovs_type OVSIntPort
    ovs_bridge br0
    up true
";

#[test]
fn a_failing_part_says_so_and_the_next_reload_completes() -> Result<(), LabError> {
    let h = Lab::new("reload-parts")?;
    h.start_ovs()?;
    h.write_interfaces(PARTS)?;
    h.ifup(&["-a"])?;
    // p1 converges in place; p2's new `up` command fails
    h.write_interfaces(
        &PARTS
            .replace("ovs_tag 1", "ovs_tag 2")
            .replace("up true", "up false"),
    )?;
    let out = h.run(&["ifupdown-ovs", "reload"])?;
    assert_eq!(out.code(), Some(1), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains("`ifup -i /etc/network/interfaces p2` failed")
            && out
                .stderr
                .contains("reload of /etc/network/interfaces incomplete: 1 part(s)"),
        "{}",
        out.stderr
    );
    assert!(!out.stdout.contains("reloaded "), "{}", out.stdout);
    assert_eq!(h.vsctl(&["get", "Port", "p1", "tag"])?.trim(), "2");
    assert!(!h.ok(&["ifquery", "--state"])?.contains("p2="));
    // the cause fixed: the next reload brings p2 up and leaves p1 alone
    h.write_interfaces(&PARTS.replace("ovs_tag 1", "ovs_tag 2"))?;
    let out = h.ok(&["ifupdown-ovs", "reload"])?;
    assert!(out.contains("p2: new (auto): ifup"), "{out}");
    assert!(
        out.contains("0 converged in place, 0 taken down, 1 brought up"),
        "{out}"
    );
    assert!(h.ok(&["ifquery", "--state"])?.contains("p2=p2"));
    Ok(())
}
