//! The hook end to end in the lab (real ifup/ifdown, real OVS with the userspace
//! datapath): a bridge, a system port and an internal port come up with `ifup -a`,
//! are marked as ours, converge on a second `ifup`, and leave nothing after
//! `ifdown -a`. Needs root and the packages of `.ci/run`.

mod lab;

use lab::{Lab, LabError};

const BASIC: &str = "\
auto br0
iface br0 inet manual
    ovs_type OVSBridge
    ovs_ports eth0 p1
    ovs_datapath_type netdev

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
    ovs_tag 10
    ovs_mac 02:00:00:00:00:01
";

fn vsctl_lines(l: &Lab, args: &[&str]) -> Result<Vec<String>, LabError> {
    Ok(l.vsctl(args)?
        .lines()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect())
}

#[test]
fn bridge_port_and_internal_port_up_and_down() -> Result<(), LabError> {
    let host = Lab::new("hook-basic")?;
    let wire = Lab::peer("hook-basic-wire")?;
    host.add_veth("eth0", &wire, "eth0")?;
    host.start_ovs()?;
    host.write_interfaces(BASIC)?;

    let up = host.run(&["ifup", "-a"])?;
    assert!(up.success(), "ifup -a failed: {up:?}");
    assert_eq!(up.stderr, "", "ifup -a printed errors");
    assert_eq!(vsctl_lines(&host, &["list-ports", "br0"])?, ["eth0", "p1"]);
    assert_eq!(host.vsctl(&["get", "Port", "p1", "tag"])?.trim(), "10");
    assert_eq!(
        host.vsctl(&["get", "Interface", "p1", "mac"])?.trim(),
        "\"02:00:00:00:00:01\""
    );
    assert_eq!(
        host.vsctl(&["get", "Port", "eth0", "external_ids:ifupdown-ovs"])?
            .trim(),
        "eth0"
    );
    assert!(
        host.ok(&["ip", "-br", "link", "show", "eth0"])?
            .contains("UP")
    );
    assert_eq!(
        host.read_file("/proc/sys/net/ipv6/conf/eth0/disable_ipv6")?
            .trim(),
        "1"
    );
    let addr = host.ok(&["ip", "-br", "addr", "show", "p1"])?;
    assert!(addr.contains("192.0.2.1/24"), "{addr}");

    // twice: quiet, same result
    let again = host.run(&["ifup", "-a"])?;
    assert!(again.success() && again.stderr.is_empty(), "{again:?}");

    let down = host.run(&["ifdown", "-a"])?;
    assert!(down.success(), "ifdown -a failed: {down:?}");
    assert_eq!(down.stderr, "", "ifdown -a printed errors");
    assert_eq!(host.vsctl(&["list-br"])?.trim(), "");
    assert_eq!(
        host.read_file("/proc/sys/net/ipv6/conf/eth0/disable_ipv6")?
            .trim(),
        "0"
    );
    Ok(())
}
