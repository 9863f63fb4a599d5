//! Schema-checked options in the lab (issue 11, build 3): a word of `ovs_options`
//! that the OVS schema rejects (`lacp=sometimes` on a bond) is refused by the
//! bond's own hook run before any OVS transaction, with the option's FILE:LINE;
//! `ifup -a` leaves it out of its batch, so OVS never sees it (before, the whole
//! bridge's transaction failed); `check` names the bond and the line. Needs root
//! and the packages of `.ci/run`.

use crate::hook_util::*;
use crate::lab::{Lab, LabError};

const CONFIG: &str = "\
auto br0
iface br0 inet manual
    ovs_type OVSBridge
    ovs_ports eth0 bond0 vlan5
    ovs_datapath_type netdev

auto eth0
iface eth0 inet manual
    ovs_type OVSPort
    ovs_bridge br0

auto bond0
iface bond0 inet manual
    ovs_type OVSBond
    ovs_bridge br0
    ovs_bonds eth1 eth2
    ovs_options bond_mode=active-backup lacp=sometimes

auto vlan5
iface vlan5 inet manual
    ovs_type OVSIntPort
    ovs_bridge br0
    ovs_tag 5
";

/// The line of `lacp=sometimes` in [`CONFIG`].
const LINE: usize = 17;

fn message() -> String {
    format!(
        "ifupdown-ovs: /etc/network/interfaces:{LINE}: error: bond0: ovs_options: `lacp=sometimes`: \
         Port column lacp: `sometimes` is not one of active, passive, off"
    )
}

fn next_cfg(l: &Lab) -> Result<i64, LabError> {
    Ok(get(l, &["Open_vSwitch", ".", "next_cfg"])?
        .parse()
        .unwrap_or(-1))
}

fn lab(name: &str) -> Result<(Lab, Lab), LabError> {
    let host = Lab::new(name)?;
    let wire = Lab::peer(&format!("{name}-wire"))?;
    for nic in ["eth0", "eth1", "eth2"] {
        host.add_veth(nic, &wire, nic)?;
    }
    host.start_ovs()?;
    host.write_interfaces(CONFIG)?;
    Ok((host, wire))
}

#[test]
fn a_bond_with_a_bad_lacp_is_refused_before_any_transaction() -> Result<(), LabError> {
    assert_eq!(
        CONFIG.lines().nth(LINE - 1).map(str::trim),
        Some("ovs_options bond_mode=active-backup lacp=sometimes")
    );
    let (host, _wire) = lab("schema-lacp")?;

    // check: the bond, its FILE:LINE, the option
    let check = host.run(&["ifupdown-ovs", "check"])?;
    assert_eq!(check.status.code(), Some(1), "{check:?}");
    assert_eq!(
        check.stdout.trim(),
        format!(
            "/etc/network/interfaces:{LINE}: error: bond0: ovs_options: `lacp=sometimes`: \
             Port column lacp: `sometimes` is not one of active, passive, off"
        )
    );

    // ifup bond0 alone: refused in pre-up, no OVSDB write at all
    host.ifup(&["br0"])?;
    let before = next_cfg(&host)?;
    let up = host.run(&["ifup", "bond0"])?;
    assert!(!up.success(), "{up:?}");
    let ours: Vec<&str> = up
        .stderr
        .lines()
        .filter(|l| l.starts_with("ifupdown-ovs:"))
        .collect();
    assert_eq!(ours, [message()], "{}", up.stderr);
    assert!(
        up.stderr.contains("failed to bring up bond0"),
        "{}",
        up.stderr
    );
    assert_eq!(
        next_cfg(&host)?,
        before,
        "no transaction for the refused bond"
    );
    host.ifdown(&["-a"])?;

    // ifup -a: the bond fails alone, before OVS sees it; the others come up
    let up = host.run(&["ifup", "-a"])?;
    assert!(!up.success(), "ifup -a should report the failure: {up:?}");
    let ours: Vec<&str> = up
        .stderr
        .lines()
        .filter(|l| l.starts_with("ifupdown-ovs:"))
        .collect();
    assert_eq!(ours, [message()], "{}", up.stderr);
    assert!(
        up.stderr.contains("failed to bring up bond0"),
        "{}",
        up.stderr
    );
    let ports = vsctl_lines(&host, &["list-ports", "br0"])?;
    assert_eq!(ports, ["eth0", "vlan5"], "{}", up.stderr);
    let rows = host.vsctl(&["--bare", "--columns=name", "find", "Port", "name=bond0"])?;
    assert_eq!(rows.trim(), "", "OVS never saw the bond");
    let log = host.ok(&["cat", "/var/log/openvswitch/ovsdb-server.log"])?;
    assert!(!log.contains("sometimes"), "{log}");
    Ok(())
}

/// A schema that cannot be parsed (here: an empty file bound over it, inside the
/// lab's own mount namespace, after OVS started) is not a failure: a port without
/// `ovs_options` comes up silently, and one with `ovs_options` comes up with its
/// options and one warning, from its pre-up, saying they were not checked.
#[test]
fn an_unreadable_schema_is_a_warning_not_a_failure() -> Result<(), LabError> {
    let (host, _wire) = lab("schema-unreadable")?;
    let schema = "/usr/share/openvswitch/vswitch.ovsschema";
    host.ok(&["mount", "--bind", "/dev/null", schema])?;
    host.ifup(&["br0"])?;
    let up = host.run(&["ifup", "eth0"])?;
    assert!(up.success(), "{up:?}");
    let warning = format!("ifupdown-ovs: eth0: warning: {schema}: is not a valid OVS schema");
    let lines: Vec<&str> = up.stderr.lines().collect();
    assert_eq!(lines.len(), 0, "eth0 has no words to check: {}", up.stderr);
    host.write_interfaces(&CONFIG.replace(
        "ovs_bridge br0\n\nauto bond0",
        "ovs_bridge br0\n    ovs_options other_config:stp-enable=false\n\nauto bond0",
    ))?;
    host.ifdown(&["eth0"])?;
    let up = host.run(&["ifup", "eth0"])?;
    assert!(up.success(), "{up:?}");
    let lines: Vec<&str> = up.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", up.stderr);
    assert!(lines[0].starts_with(&warning), "{}", up.stderr);
    assert_eq!(
        get(&host, &["Port", "eth0", "other_config:stp-enable"])?,
        "\"false\""
    );
    Ok(())
}

/// The checks agree with ovs-vsctl itself: each command below, given to the real
/// ovs-vsctl against the lab's OVSDB, fails exactly when `check` reports an error
/// for it as an `ovs_extra`. (The typed keys of ovs-vswitchd.conf.db(5) are left
/// out: OVSDB takes any string there, and `check` is stricter on purpose.)
#[test]
fn checks_agree_with_ovs_vsctl() -> Result<(), LabError> {
    let host = Lab::new("schema-vsctl")?;
    host.start_ovs()?;
    host.vsctl(&[
        "add-br",
        "br0",
        "--",
        "set",
        "Bridge",
        "br0",
        "datapath_type=netdev",
    ])?;
    host.add_internal_port("br0", "p0")?;
    let commands = [
        "set Bridge br0 stp_enable=maybe",
        "set Bridge br0 stp_enable=true",
        "set Bridge br0 fail_mode=open",
        "set Bridge br0 fail_mode=secure",
        "set Bridge br0 stp_enabled=true",
        "set Bridge br0 stp=false",
        "set Bridge br0 protocols=OpenFlow10,OpenFlow99",
        "set Bridge br0 protocols=OpenFlow10,OpenFlow13",
        "set Bridge br0 protocols=[OpenFlow10",
        "set Bridge br0 flood_vlans=1-10",
        "set Bridge br0 flood_vlans=10-1",
        "set Bridge br0 flood_vlans=1,5000",
        "set Bridge br0 name=x",
        "set brige br0 stp_enable=true",
        "set Port p0 lacp=sometimes",
        "set Port p0 lacp=active,passive",
        "set Port p0 tag=4096",
        "set Port p0 tag=-1",
        "set Port p0 bond_mode=balance-fast",
        "set Port p0 bond_mode=balance-slb",
        "set Port p0 bond_updelay=abc",
        "set Port p0 qos=nope",
        "set Port p0 lacp:x=y",
        "set Port p0 bond=x",
        "set Port p0 mtu_request=1500",
        "set Interface p0 mtu_request=-5",
        "set Interface p0 mtu_request=9000",
        "set Interface p0 ofport_request=70000",
        "set Interface p0 ingress_policing_rate=-1",
        "set Interface p0 cfm_mpid=x",
        "add Port p0 trunks 5000",
        "add Port p0 trunks 5",
        "add Port p0 other_config lacp-time",
        "remove Port p0 trunks 5",
        "clear Port p0 interfaces",
        "clear Bridge br0 stp_enable",
        "clear Port p0 tag",
        "get Bridge br0 stp_enable:x",
        "set-fail-mode br0 open",
        "set-fail-mode br0 standalone",
        "set Bridge br0",
        "frobnicate br0",
        "add-prt br0 p1",
        "--may-exist set Bridge br0 stp_enable=true",
        "find Port lacpp=active",
        "list Brige",
        "br-set-external-id br0 k v",
    ];
    let mut differ = Vec::new();
    for cmd in commands {
        let argv: Vec<&str> = cmd.split_whitespace().collect();
        let ovs = host.run(&[&["ovs-vsctl", "--no-wait", "--timeout=5"][..], &argv].concat())?;
        host.write_interfaces(&format!(
            "iface br9 inet manual\n    ovs_type OVSBridge\n    ovs_extra {cmd}\n"
        ))?;
        let check = host.run(&["ifupdown-ovs", "check"])?;
        let ours = check.stdout.contains(": error: ");
        if ours == ovs.success() {
            differ.push(format!(
                "{cmd}: ovs-vsctl {}: {} / check: {}",
                if ovs.success() { "accepts" } else { "refuses" },
                ovs.stderr.trim(),
                check.stdout.trim()
            ));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
    Ok(())
}
