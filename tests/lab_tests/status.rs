//! `ifupdown-ovs status` in the lab: after `ifup -a`, our rows are reported up and
//! ours, a port a VM tool added is reported as left alone, an interface that is not
//! up is "down", and a row of ours whose stanza was removed makes the status fail.
//! Needs root and the packages of `.ci/run`.

use crate::lab::{Lab, LabError};

const CONFIG: &str = "\
auto br0
iface br0 inet manual
    ovs_type OVSBridge
    ovs_ports eth0 p1
    ovs_datapath_type netdev

auto eth0
iface eth0 inet manual
    ovs_type OVSPort
    ovs_bridge br0

auto p1
iface p1 inet manual
    ovs_type OVSIntPort
    ovs_bridge br0
    ovs_tag 10

iface p2 inet manual
    ovs_type OVSIntPort
    ovs_bridge br0
";

/// Status lines with white space folded.
fn status(l: &Lab) -> Result<(bool, Vec<String>), LabError> {
    let out = l.run(&["ifupdown-ovs", "status"])?;
    let lines = out
        .stdout
        .lines()
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    Ok((out.success(), lines))
}

#[test]
fn status_tells_ours_down_foreign_and_left_over() -> Result<(), LabError> {
    let host = Lab::new("status")?;
    let wire = Lab::peer("status-wire")?;
    host.add_veth("eth0", &wire, "eth0")?;
    host.start_ovs()?;
    host.write_interfaces(CONFIG)?;
    host.ok(&["ifup", "-a"])?;
    // A VM tap that nobody declared.
    host.vsctl(&[
        "add-port",
        "br0",
        "vnet0",
        "--",
        "set",
        "Interface",
        "vnet0",
        "type=internal",
    ])?;

    let (ok, lines) = status(&host)?;
    assert!(ok, "status failed: {lines:?}");
    assert_eq!(
        lines,
        [
            "br0 bridge up (ours)",
            "eth0 port up on br0 (ours)",
            "p1 int-port up on br0 (ours)",
            "p2 int-port down (not in OVS)",
            "vnet0 - on br0, not declared: left alone",
        ]
    );

    // p1's stanza disappears while p1 is up: a left-over of ours, status fails.
    host.write_interfaces(&CONFIG.replace("auto p1\niface p1", "auto p9\niface p9"))?;
    let (ok, lines) = status(&host)?;
    assert!(!ok, "a left-over row must make status fail: {lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("p1 - ours, but no stanza declares it")),
        "{lines:?}"
    );
    Ok(())
}
