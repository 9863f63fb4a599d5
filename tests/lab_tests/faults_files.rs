//! The files under `/run/ifupdown-ovs` (src/sys/rundir.rs; docs/hooks.md, "Failure
//! modes") in the lab: created 0700 / 0600 and owned by root even when `ifup -a`,
//! `ifdown -a` and the agent's start run with `umask 000`; a symlink planted where
//! the agent's log goes is replaced, not written through; a world-writable
//! directory is refused with a warning, and `ifup -a` / `ifdown -a` still do their
//! work, one interface at a time. Needs root and the packages of `.ci/run`.

use crate::lab::{Lab, LabError};
use crate::ocf_util::*;

const DIR: &str = "/run/ifupdown-ovs";

/// A bridge and two ports. The bridge's `up` and `down` commands run while the
/// records of `ifup -a` / `ifdown -a` exist and write what `stat` says of them.
const INTERFACES: &str = "\
auto br0
iface br0 inet manual
    ovs_type OVSBridge
    ovs_ports p1 p2
    ovs_datapath_type netdev
    up stat -c '%a %u %F %n' /run/ifupdown-ovs /run/ifupdown-ovs/* /run/ifupdown-ovs/*/* > /tmp/up-modes 2>&1 || true
    down stat -c '%a %u %F %n' /run/ifupdown-ovs /run/ifupdown-ovs/* > /tmp/down-modes 2>&1 || true

auto p1
iface p1 inet manual
    ovs_type OVSIntPort
    ovs_bridge br0

auto p2
iface p2 inet manual
    ovs_type OVSIntPort
    ovs_bridge br0
";

/// `sh -c 'umask 000; exec ARGV'` in the lab.
fn under_umask_000(l: &Lab, argv: &str) -> Result<crate::lab::Output, LabError> {
    l.run(&["sh", "-c", &format!("umask 000; exec {argv}")])
}

/// `stat` lines (`MODE UID TYPE NAME`): every one a root-owned 700 directory or 600
/// file; returns the names.
fn all_private(stat: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in stat.lines() {
        let mut w = line.splitn(3, ' ');
        let (mode, uid, rest) = (w.next(), w.next(), w.next().unwrap_or_default());
        let want = if rest.starts_with("directory") {
            "700"
        } else {
            "600"
        };
        assert_eq!(mode, Some(want), "{line}\n{stat}");
        assert_eq!(uid, Some("0"), "{line}\n{stat}");
        assert!(!rest.starts_with("symbolic link"), "{line}");
        names.push(rest.rsplit('/').next().unwrap_or_default().to_string());
    }
    names
}

#[test]
fn hook_records_are_private_under_umask_000() -> Result<(), LabError> {
    let l = Lab::new("files-hook")?;
    l.start_ovs()?;
    l.write_interfaces(INTERFACES)?;
    let up = under_umask_000(&l, "ifup -a")?;
    assert!(up.success(), "{up:?}");
    assert_eq!(l.vsctl(&["list-ports", "br0"])?.trim(), "p1\np2");
    let modes = l.read_file("/tmp/up-modes")?;
    let names = all_private(&modes);
    assert!(
        names.iter().any(|n| n.starts_with("up.")) && names.iter().any(|n| n == "p1"),
        "the up record and its entries are listed: {modes}"
    );
    let down = under_umask_000(&l, "ifdown -a")?;
    assert!(down.success(), "{down:?}");
    let modes = l.read_file("/tmp/down-modes")?;
    let names = all_private(&modes);
    assert!(names.iter().any(|n| n.starts_with("down.")), "{modes}");
    assert_eq!(l.vsctl(&["list-br"])?.trim(), "");

    // A directory others may write in is refused, and the work is still done.
    l.ok(&["chmod", "0777", DIR])?;
    let up = l.run(&["ifup", "-a"])?;
    assert!(up.success(), "{up:?}");
    assert!(
        up.stderr.contains(
            "ifupdown-ovs: warning: /run/ifupdown-ovs: refused: owned by uid 0 with mode 0777"
        ),
        "{up:?}"
    );
    assert_eq!(l.vsctl(&["list-ports", "br0"])?.trim(), "p1\np2");
    assert_eq!(
        l.ok(&["find", DIR, "-mindepth", "1"])?,
        "",
        "nothing written"
    );
    let down = l.run(&["ifdown", "-a"])?;
    assert!(down.success(), "{down:?}");
    assert!(down.stderr.contains("refused"), "{down:?}");
    assert_eq!(l.vsctl(&["list-br"])?.trim(), "");
    Ok(())
}

#[test]
fn agent_files_are_private_under_umask_000() -> Result<(), LabError> {
    let (h, _peer) = ha_pair("files-agent")?;
    let mut params = params();
    // announce long enough for the pidfile to be there when start returns
    params.push(("arp_count".into(), "100".into()));
    let env: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("OCF_RESKEY_{k}={v}"))
        .collect();
    let start = format!(
        "env OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE=test-port {} {AGENT} start",
        env.join(" ")
    );
    // a symlink planted where the log goes
    h.write_file("/tmp/victim", "keep\n")?;
    h.ok(&["mkdir", "-p", DIR])?;
    let log = format!("{DIR}/{PORT}.announce.log");
    h.ok(&["ln", "-sf", "/tmp/victim", &log])?;
    let out = under_umask_000(&h, &start)?;
    assert_eq!(out.code(), Some(0), "{out:?}");
    let modes = h.ok(&["sh", "-c", &format!("stat -c '%a %u %F %n' {DIR} {DIR}/*")])?;
    let names = all_private(&modes);
    for f in ["announce.log", "announce.pid"] {
        assert!(names.contains(&format!("{PORT}.{f}")), "{f}: {modes}");
    }
    assert_eq!(h.read_file("/tmp/victim")?, "keep\n");
    expect(&h, "stop", 0)?;

    // a run directory others may write in: start succeeds, does not announce
    h.ok(&["chmod", "0777", DIR])?;
    let out = under_umask_000(&h, &start)?;
    assert_eq!(out.code(), Some(0), "{out:?}");
    assert!(
        out.stderr
            .contains("/run/ifupdown-ovs: refused: owned by uid 0 with mode 0777"),
        "{out:?}"
    );
    assert_eq!(
        h.ok(&["find", DIR, "-mindepth", "1"])?,
        "",
        "nothing written"
    );
    expect(&h, "stop", 0)?;
    Ok(())
}
