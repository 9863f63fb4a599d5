//! The limits of `$(...)` in `ovs_extra` through the real `ifup` (issue 13, item
//! 5): a background process that keeps the substitution's output open does not
//! hold `ifup` beyond the 10 s limit; a substitution that prints without end is
//! cut at its cap; and `ifup -a` runs a bridge's substitution once, not once per
//! port that needs the bridge (Debian's hook runs it once). Needs root and the
//! packages of `.ci/run`.

use std::time::{Duration, Instant};

use crate::lab::{Lab, LabError};

/// A bridge whose ovs_extra substitution is `subst`.
fn bridge_with(subst: &str) -> String {
    format!(
        "\
auto br0
iface br0 inet manual
    ovs_type OVSBridge
    ovs_datapath_type netdev
    ovs_extra set bridge ${{IFACE}} external-ids:x={subst}
"
    )
}

#[test]
fn a_background_child_holding_the_output_does_not_hold_ifup() -> Result<(), LabError> {
    let l = Lab::new("subst-held")?;
    l.start_ovs()?;
    l.write_interfaces(&bridge_with("$(sleep 40 & echo x)"))?;
    let t = Instant::now();
    let up = l.run(&["ifup", "br0"])?;
    let took = t.elapsed();
    eprintln!("ifup br0 took {took:?}; stderr: {}", up.stderr.trim());
    assert!(took < Duration::from_secs(15), "ifup took {took:?}: {up:?}");
    assert!(!up.success(), "ifup succeeded: {up:?}");
    assert!(
        up.stderr.contains("$(sleep 40 & echo x)") && up.stderr.contains("kept its output open"),
        "{up:?}"
    );
    // The background `sleep 40` was killed with its group.
    let ps = l.ok(&["ps", "-eo", "args"])?;
    assert!(!ps.contains("sleep 40"), "{ps}");
    Ok(())
}

#[test]
fn endless_output_is_cut_at_the_cap() -> Result<(), LabError> {
    let l = Lab::new("subst-cap")?;
    l.start_ovs()?;
    l.write_interfaces(&bridge_with("$(yes)"))?;
    let t = Instant::now();
    let up = l.run(&["ifup", "br0"])?;
    eprintln!(
        "ifup br0 took {:?}; stderr: {}",
        t.elapsed(),
        up.stderr.trim()
    );
    assert!(t.elapsed() < Duration::from_secs(15), "{up:?}");
    assert!(!up.success(), "ifup succeeded: {up:?}");
    assert!(
        up.stderr.contains("$(yes)") && up.stderr.contains("64 KiB"),
        "{up:?}"
    );
    Ok(())
}

const PORTS: usize = 20;

/// A bridge with PORTS internal ports, all `auto`, and a substitution that counts
/// its runs in a file of the lab's private /run.
fn counted() -> String {
    let names: Vec<String> = (1..=PORTS).map(|k| format!("p{k}")).collect();
    let mut t = format!(
        "\
auto br0
iface br0 inet manual
    ovs_type OVSBridge
    ovs_ports {}
    ovs_datapath_type netdev
    ovs_extra set bridge ${{IFACE}} external-ids:runs=$(echo run >> /run/subst-count; echo 1) -- set bridge ${{IFACE}} external-ids:tick=`echo tick >> /run/subst-ticks; echo 2`
",
        names.join(" ")
    );
    for n in &names {
        t.push_str(&format!(
            "
auto {n}
iface {n} inet manual
    ovs_type OVSIntPort
    ovs_bridge br0
"
        ));
    }
    t
}

#[test]
fn ifup_all_runs_a_bridge_substitution_once() -> Result<(), LabError> {
    let l = Lab::new("subst-once")?;
    l.start_ovs()?;
    l.write_interfaces(&counted())?;
    l.ifup(&["-a"])?;
    let runs = l.read_file("/run/subst-count")?;
    let ticks = l.read_file("/run/subst-ticks")?;
    assert_eq!(runs.lines().count(), 1, "$(...) ran: {runs:?}");
    assert_eq!(ticks.lines().count(), 1, "`...` ran: {ticks:?}");
    let ids = l.vsctl(&["get", "bridge", "br0", "external-ids"])?;
    assert!(
        ids.contains("runs=\"1\"") && ids.contains("tick=\"2\""),
        "{ids}"
    );
    Ok(())
}
