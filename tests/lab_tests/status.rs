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
    host.add_internal_port("br0", "vnet0")?;

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

/// The seed's VLAN example (issue 13, item 9): eth0 (tag 1, native-untagged) and
/// ovsbr0p1 (tag 1) carry the VLAN of ovsbr0v1, so OVS shows them on ovsbr0v1
/// (`port-to-br`); they are on ovsbr0 as configured. A port really on another
/// bridge is still wrong.
#[test]
fn status_understands_vlan_bridges() -> Result<(), LabError> {
    let host = Lab::new("status-seed")?;
    let wire = Lab::peer("status-seed-wire")?;
    host.add_veth("eth0", &wire, "eth0")?;
    host.start_ovs()?;
    host.write_interfaces(&crate::hook_util::fixture("seed-vlan.interfaces"))?;
    host.ok(&["ifup", "-a"])?;
    assert_eq!(host.vsctl(&["port-to-br", "eth0"])?.trim(), "ovsbr0v1");
    let (ok, lines) = status(&host)?;
    assert!(ok, "status failed: {lines:?}");
    assert_eq!(
        lines,
        [
            "ovsbr0 bridge up (ours)",
            "eth0 port up on ovsbr0 (ours)",
            "ovsbr0p1 int-port up on ovsbr0 (ours)",
            "ovsbr0v1 bridge up as VLAN 1 of ovsbr0 (ours)",
            "ovsbr0v2 bridge up as VLAN 2 of ovsbr0 (ours)",
        ]
    );
    // eth0 moved to a bridge of someone else's
    host.vsctl(&[
        "add-br",
        "br9",
        "--",
        "set",
        "Bridge",
        "br9",
        "datapath_type=netdev",
        "--",
        "del-port",
        "eth0",
        "--",
        "add-port",
        "br9",
        "eth0",
    ])?;
    let (ok, lines) = status(&host)?;
    assert!(
        !ok,
        "a port on the wrong bridge must make status fail: {lines:?}"
    );
    assert!(
        lines.contains(&"eth0 port WRONG: on bridge br9, configured on ovsbr0".to_string()),
        "{lines:?}"
    );
    Ok(())
}

/// A post-down hook that kills the `ifdown` running it (SIGKILL), at `IFACE`.
fn kill_ifdown_at(iface: &str) -> String {
    format!(
        "#!/bin/sh\n[ \"$IFACE\" = {iface} ] || exit 0\np=$PPID\n\
         while [ \"$p\" -gt 1 ]; do\n\
         \x20   if [ \"$(cat /proc/$p/comm)\" = ifdown ]; then kill -KILL \"$p\"; exit 0; fi\n\
         \x20   p=$(sed -n 's/^PPid:[[:space:]]*//p' /proc/$p/status)\n\
         done\nexit 0\n"
    )
}

/// `ifdown -a` killed midway (issue 13, item 9): its removals from OVS wait
/// for its end, so interfaces that ifupdown already has down are still in OVS.
/// status says so for each, fails, and its hint (`ifdown --force NAME`)
/// converges.
#[test]
fn status_after_an_interrupted_ifdown_all() -> Result<(), LabError> {
    let host = Lab::new("status-killed")?;
    let wire = Lab::peer("status-killed-wire")?;
    host.add_veth("eth0", &wire, "eth0")?;
    host.start_ovs()?;
    host.write_interfaces(&CONFIG.replace("iface p2", "auto p2\niface p2"))?;
    host.ok(&["ifup", "-a"])?;
    let (ok, lines) = status(&host)?;
    assert!(ok, "status failed: {lines:?}");
    host.write_executable("/etc/network/if-post-down.d/zz-kill", &kill_ifdown_at("p1"))?;
    let out = host.run(&["ifdown", "-a"])?;
    assert!(!out.success(), "ifdown -a was not killed");
    host.ok(&["rm", "/etc/network/if-post-down.d/zz-kill"])?;
    let state = host.ok(&["ifquery", "--state"])?;
    eprintln!("ifupdown state after the kill:\n{state}");
    let (ok, lines) = status(&host)?;
    eprintln!("{lines:#?}");
    assert!(!ok, "status must fail: {lines:?}");
    let down: Vec<&str> = ["p2", "p1"]
        .into_iter()
        .filter(|n| !state.lines().any(|s| s.starts_with(&format!("{n}="))))
        .collect();
    assert!(!down.is_empty(), "nothing down before the kill: {state}");
    for n in &down {
        let want = format!(
            "{n} int-port down, still in OVS on br0 (ours): ifupdown has it down; \
             `ifdown --force {n}` removes it from OVS, `ifup {n}` sets it up"
        );
        assert!(lines.contains(&want), "{want}: {lines:?}");
    }
    // what status says to do
    for n in &down {
        host.ok(&["ifdown", "--force", n])?;
    }
    let (ok, lines) = status(&host)?;
    assert!(ok, "status after the hint: {lines:?}");
    assert_eq!(lines[0], "br0 bridge up (ours)");
    for n in &down {
        assert!(
            lines.contains(&format!("{n} int-port down (not in OVS)")),
            "{lines:?}"
        );
    }
    Ok(())
}
