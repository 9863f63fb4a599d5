//! The OVSPort agent when Open vSwitch fails under a running port (issue 13): the
//! lab's daemons are killed or stopped (SIGSTOP) while the floating port is up.
//! Whatever OVS does, a monitor or a probe must never answer 7 (not running) while
//! the port is still live in the kernel (its link up or holding a floating
//! address): Pacemaker would start it on the other node, and the LAN would see the
//! same address and MAC twice. It answers 1, with an `ocf-exit-reason:` saying what
//! OVS does not answer and that the port is still live, well within the monitor's
//! 20 s timeout; and stop never claims success while a floating address is still on
//! the port. Also: stop when the port sits on another bridge (nothing of ours to
//! remove, the addresses gone) is a success, not a fencing. Needs root and the
//! packages of `.ci/run`.

use std::time::{Duration, Instant};

use crate::lab::{Lab, LabError, Output};
use crate::ocf_util::*;

/// Pacemaker's monitor timeout in the meta-data; answers must come well within it.
const MONITOR_TIMEOUT: &str = "20000";
/// Pacemaker's stop timeout in the meta-data.
const STOP_TIMEOUT: &str = "60000";
/// What "well within" means here.
const ANSWER_WITHIN: Duration = Duration::from_secs(12);

/// The PID (lab numbering) in `daemon`'s pidfile.
fn daemon_pid(h: &Lab, daemon: &str) -> Result<String, LabError> {
    Ok(h.ok(&["cat", &format!("/run/openvswitch/{daemon}.pid")])?
        .trim()
        .to_string())
}

/// Whether lab process `pid` is gone (or a zombie).
fn gone(h: &Lab, pid: &str) -> Result<bool, LabError> {
    let stat = h.run(&["cat", &format!("/proc/{pid}/stat")])?;
    Ok(!stat.success()
        || stat
            .stdout
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')))
}

/// Sends `signal` to `daemon`; for KILL, waits until it is gone.
fn signal(h: &Lab, daemon: &str, signal: &str) -> Result<(), LabError> {
    let pid = daemon_pid(h, daemon)?;
    h.ok(&["kill", &format!("-{signal}"), &pid])?;
    if signal == "KILL" {
        h.wait_for(&format!("{daemon} gone"), Duration::from_secs(5), || {
            gone(h, &pid)
        })?;
    }
    Ok(())
}

/// The port as the kernel has it: (link exists, link up, floating addresses on it).
fn kernel(h: &Lab) -> Result<(bool, bool, Vec<String>), LabError> {
    if !h.link_exists(PORT)? {
        return Ok((false, false, Vec::new()));
    }
    let link = h.ok(&["ip", "-o", "link", "show", "dev", PORT])?;
    let up = link
        .split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .is_some_and(|(flags, _)| flags.split(',').any(|f| f == "UP"));
    let addrs = h.ok(&["ip", "-o", "addr", "show", "dev", PORT])?;
    let floating = [V4, V6]
        .iter()
        .filter(|a| addrs.contains(&format!(" {a}/")))
        .map(|a| a.to_string())
        .collect();
    Ok((true, up, floating))
}

/// Live: the link is up or holds a floating address.
fn live(h: &Lab) -> Result<bool, LabError> {
    let (_, up, floating) = kernel(h)?;
    Ok(up || !floating.is_empty())
}

/// Runs `action` as Pacemaker would (with its timeout; `interval` 0 is a probe);
/// the output and how long it took.
fn timed(h: &Lab, action: &str, interval: &str) -> Result<(Output, Duration), LabError> {
    let t0 = Instant::now();
    let out = agent(
        h,
        action,
        &params(),
        &[
            ("OCF_RESKEY_CRM_meta_interval", interval),
            ("OCF_RESKEY_CRM_meta_timeout", MONITOR_TIMEOUT),
        ],
    )?;
    Ok((out, t0.elapsed()))
}

/// Monitor and probe while the port is live: both 1, the reason naming `what`
/// (the part of OVS that does not answer) and the live port, in time.
fn expect_live_failure(h: &Lab, case: &str, what: &str) -> Result<(), LabError> {
    assert!(live(h)?, "{case}: the port is not live: {:?}", kernel(h)?);
    for (action, interval) in [("monitor", "10000"), ("monitor", "0")] {
        let (out, took) = timed(h, action, interval)?;
        eprintln!(
            "{case}: {action} interval={interval}: rc {:?} in {took:?}: {}",
            out.code(),
            exit_reason(&out).unwrap_or_default()
        );
        assert_eq!(out.code(), Some(1), "{case}, interval {interval}: {out:?}");
        let why = exit_reason(&out).expect("no ocf-exit-reason line");
        assert!(why.contains(what), "{case}: {why}");
        assert!(why.contains("still live in the kernel"), "{case}: {why}");
        assert!(took < ANSWER_WITHIN, "{case}: took {took:?}");
    }
    Ok(())
}

/// Stop must not claim success while a floating address is still on the port:
/// 0 only when the port is gone or quiet (down, no floating address); and it
/// ends within Pacemaker's stop timeout.
fn expect_safe_stop(h: &Lab, case: &str) -> Result<Output, LabError> {
    let t0 = Instant::now();
    let out = agent(
        h,
        "stop",
        &params(),
        &[("OCF_RESKEY_CRM_meta_timeout", STOP_TIMEOUT)],
    )?;
    let after = kernel(h)?;
    eprintln!(
        "{case}: stop: rc {:?} in {:?}, kernel after: {after:?}: {}",
        out.code(),
        t0.elapsed(),
        exit_reason(&out).unwrap_or_default()
    );
    let took = t0.elapsed();
    assert!(took < Duration::from_secs(60), "{case}: stop took {took:?}");
    if out.code() == Some(0) {
        assert!(
            !live(h)?,
            "{case}: stop said 0 but the port is live: {after:?}"
        );
    } else {
        assert_eq!(out.code(), Some(1), "{case}: {out:?}");
        assert!(exit_reason(&out).is_some(), "{case}: {out:?}");
    }
    Ok(out)
}

/// ovsdb-server killed: ovs-vswitchd keeps serving the port. Before the fix,
/// monitor and probe answered 7.
#[test]
fn ovsdb_server_killed() -> Result<(), LabError> {
    let (h, _peer) = ha_pair("fa-dbkill")?;
    expect(&h, "start", 0)?;
    signal(&h, "ovsdb-server", "KILL")?;
    expect_live_failure(&h, "ovsdb-server killed", "OVSDB does not answer")?;
    let out = expect_safe_stop(&h, "ovsdb-server killed")?;
    assert_eq!(out.code(), Some(0), "{out:?}");
    // the port is quiet now: counted as stopped, and stop again is still 0
    let (out, _) = timed(&h, "monitor", "0")?;
    assert_eq!(out.code(), Some(7), "{out:?}");
    expect(&h, "stop", 0)?;
    Ok(())
}

/// ovs-vswitchd killed, OVSDB alive; then both dead. With the userspace
/// datapath the port's device goes with ovs-vswitchd, and 7 is the truth; a port
/// still in the kernel (the kernel datapath keeps it) is simulated with a
/// device of the same name holding the address.
#[test]
fn ovs_vswitchd_killed() -> Result<(), LabError> {
    let (h, _peer) = ha_pair("fa-vsdkill")?;
    expect(&h, "start", 0)?;
    signal(&h, "ovs-vswitchd", "KILL")?;
    let (out, took) = timed(&h, "monitor", "10000")?;
    eprintln!(
        "ovs-vswitchd killed: monitor {:?} in {took:?}, kernel {:?}",
        out.code(),
        kernel(&h)?
    );
    if live(&h)? {
        expect_live_failure(&h, "ovs-vswitchd killed", "ovs-vswitchd")?;
    } else {
        assert_eq!(out.code(), Some(7), "{out:?}");
    }
    // a device of the port's name, up with the floating address (what the kernel
    // datapath leaves behind when ovs-vswitchd dies)
    simulate_kernel_port(&h)?;
    expect_live_failure(
        &h,
        "ovs-vswitchd killed, port in the kernel",
        "ovs-vswitchd",
    )?;
    signal(&h, "ovsdb-server", "KILL")?;
    expect_live_failure(
        &h,
        "both killed, port in the kernel",
        "OVSDB does not answer",
    )?;
    let out = expect_safe_stop(&h, "both killed")?;
    assert_eq!(out.code(), Some(0), "{out:?}");
    let (out, _) = timed(&h, "monitor", "0")?;
    assert_eq!(out.code(), Some(7), "{out:?}");
    Ok(())
}

/// A dummy device named like the port, up, with the port's MAC and addresses.
fn simulate_kernel_port(h: &Lab) -> Result<(), LabError> {
    if !h.link_exists(PORT)? {
        h.ok(&["ip", "link", "add", PORT, "type", "dummy"])?;
        h.ok(&["ip", "link", "set", "dev", PORT, "address", MAC])?;
    }
    h.ok(&["ip", "link", "set", "dev", PORT, "up"])?;
    for a in [format!("{V4}/24"), format!("{V6}/64")] {
        let _ = h.run(&["ip", "addr", "add", &a, "dev", PORT, "nodad"])?;
    }
    Ok(())
}

/// ovsdb-server hung (SIGSTOP): OVSDB accepts connections but never answers.
#[test]
fn ovsdb_server_hung() -> Result<(), LabError> {
    let (h, _peer) = ha_pair("fa-dbstop")?;
    expect(&h, "start", 0)?;
    signal(&h, "ovsdb-server", "STOP")?;
    expect_live_failure(&h, "ovsdb-server hung", "ovsdb-server gave no reply")?;
    let out = expect_safe_stop(&h, "ovsdb-server hung")?;
    if out.code() == Some(0) {
        let (out, _) = timed(&h, "monitor", "0")?;
        assert_eq!(out.code(), Some(7), "{out:?}");
    }
    signal(&h, "ovsdb-server", "CONT")?;
    Ok(())
}

/// Stop when the port sits on another bridge: the addresses are gone after
/// ifdown, the port is not ours to remove: 0 (before: 1, which fences the node).
#[test]
fn stop_with_port_on_other_bridge() -> Result<(), LabError> {
    let (h, _peer) = ha_pair("fa-otherbr")?;
    expect(&h, "start", 0)?;
    h.vsctl(&[
        "add-br",
        "ovsbr1",
        "--",
        "set",
        "Bridge",
        "ovsbr1",
        "datapath_type=netdev",
    ])?;
    // someone moves the port by hand (the row loses our ownership mark)
    h.vsctl(&[
        "del-port",
        BRIDGE,
        PORT,
        "--",
        "add-port",
        "ovsbr1",
        PORT,
        "--",
        "set",
        "Interface",
        PORT,
        "type=internal",
    ])?;
    let out = expect(&h, "monitor", 1)?;
    let why = exit_reason(&out).expect("no ocf-exit-reason line");
    assert!(why.contains("on bridge ovsbr1"), "{why}");
    let out = expect_safe_stop(&h, "port on ovsbr1")?;
    assert_eq!(out.code(), Some(0), "{out:?}");
    // not ours: left where it is
    assert_eq!(h.vsctl(&["port-to-br", PORT])?.trim(), "ovsbr1");
    expect(&h, "stop", 0)?;
    Ok(())
}

/// ovs-vswitchd hung (SIGSTOP): OVSDB answers and the port looks configured, but
/// nothing forwards. The monitor cannot tell from OVSDB and the kernel (it answers
/// 0, never 7); stop must still end without a floating address on the port.
#[test]
fn ovs_vswitchd_hung() -> Result<(), LabError> {
    let (h, _peer) = ha_pair("fa-vsdstop")?;
    expect(&h, "start", 0)?;
    signal(&h, "ovs-vswitchd", "STOP")?;
    for interval in ["10000", "0"] {
        let (out, took) = timed(&h, "monitor", interval)?;
        eprintln!(
            "ovs-vswitchd hung: monitor interval={interval}: rc {:?} in {took:?}: {}",
            out.code(),
            exit_reason(&out).unwrap_or_default()
        );
        // A hung ovs-vswitchd forwards nothing: the resource has failed here, and
        // Pacemaker must recover it (stop, then start here or elsewhere).
        assert_eq!(out.code(), Some(1), "{out:?}");
        let reason = exit_reason(&out).unwrap_or_default();
        assert!(
            reason.contains("ovs-vswitchd gave no reply") && reason.contains("still live"),
            "{reason}"
        );
        assert!(took < ANSWER_WITHIN, "took {took:?}");
    }
    expect_safe_stop(&h, "ovs-vswitchd hung")?;
    signal(&h, "ovs-vswitchd", "CONT")?;
    Ok(())
}
