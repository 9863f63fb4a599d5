//! `ifupdown-ovs reload --try SECONDS`, `commit` and `rollback` in the lab
//! (docs/reload.md, "Try, commit, rollback"): the revert happens at the deadline
//! even when the session that asked is hung up and its process group SIGKILLed;
//! `commit` keeps the new state past the deadline; `rollback` reverts at once,
//! also when the timer was killed and while another reload holds the reload lock;
//! `commit` or `rollback` with nothing pending fail; a try that cuts the path to
//! the management address is undone by itself and the address answers again; the
//! files reached by `source` are reverted too, and a try without `-i` (files
//! edited in place) goes back to the files last applied, removing the ones it
//! added (kept as rejected dot files). The
//! host state is checked in OVSDB (a port's tag, the ports of the bridge), with
//! `ifquery --state`, `status` and ping; the files in /etc/network.
//! Needs root and the packages of `.ci/run`.

use std::time::Duration;

use crate::lab::{Lab, LabError};

const OLD: &str = "\
auto br0
iface br0 inet manual
    ovs_type OVSBridge
    ovs_ports p1
    ovs_datapath_type netdev

auto p1
iface p1 inet manual
    ovs_type OVSIntPort
    ovs_bridge br0
    ovs_tag 10
";

/// p1 moves to VLAN 20 and p2 is new.
const NEW: &str = "\
auto br0
iface br0 inet manual
    ovs_type OVSBridge
    ovs_ports p1 p2
    ovs_datapath_type netdev

auto p1
iface p1 inet manual
    ovs_type OVSIntPort
    ovs_bridge br0
    ovs_tag 20

auto p2
iface p2 inet manual
    ovs_type OVSIntPort
    ovs_bridge br0
";

const CANDIDATE: &str = "/etc/network/interfaces.new";

/// A lab with OLD applied by `ifup -a` and NEW waiting in [`CANDIDATE`].
fn lab(name: &str) -> Result<Lab, LabError> {
    let l = Lab::new(name)?;
    l.start_ovs()?;
    l.write_interfaces(OLD)?;
    l.ifup(&["-a"])?;
    l.write_file(CANDIDATE, NEW)?;
    assert!(is(state(&l)?, OLD_STATE));
    Ok(l)
}

const OLD_STATE: (&str, &str) = ("10", "p1");
const NEW_STATE: (&str, &str) = ("20", "p1 p2");

/// p1's tag and the ports of br0.
fn state(l: &Lab) -> Result<(String, String), LabError> {
    let tag = l.vsctl(&["get", "Port", "p1", "tag"])?.trim().to_string();
    let ports = l.vsctl(&["list-ports", "br0"])?;
    Ok((tag, ports.split_whitespace().collect::<Vec<_>>().join(" ")))
}

fn is(state: (String, String), want: (&str, &str)) -> bool {
    state.0 == want.0 && state.1 == want.1
}

/// After a revert: ifupdown knows br0 and p1 (not p2), and `status` is clean.
fn back_to_old(l: &Lab) -> Result<(), LabError> {
    let state = l.ok(&["ifquery", "--state"])?;
    let mut names: Vec<&str> = state.lines().map(str::trim).collect();
    names.sort();
    assert_eq!(names, ["br0=br0", "lo=lo", "p1=p1"], "ifquery --state");
    let status = l.run(&["ifupdown-ovs", "status"])?;
    assert!(status.success(), "status after the revert: {status:?}");
    Ok(())
}

/// The rejected copies beside the interfaces file.
fn rejected(l: &Lab) -> Result<Vec<String>, LabError> {
    let out = l.ok(&["ls", "/etc/network"])?;
    Ok(out
        .lines()
        .filter(|n| n.starts_with("interfaces.rejected-"))
        .map(|n| format!("/etc/network/{n}"))
        .collect())
}

/// The timer's pid from the try's message (`revert timer: pid N`).
fn timer_pid(out: &str) -> Option<String> {
    let rest = &out[out.find("revert timer: pid ")? + "revert timer: pid ".len()..];
    Some(rest.chars().take_while(char::is_ascii_digit).collect())
}

#[test]
fn try_reverts_after_the_asking_session_is_killed() -> Result<(), LabError> {
    let l = lab("try-killed")?;
    // The asking "SSH session": a session leader running the try, then waiting.
    l.ok(&[
        "setsid",
        "-f",
        "sh",
        "-c",
        "echo $$ >/tmp/asker.pid; exec >/tmp/asker.out 2>&1 </dev/null; \
         ifupdown-ovs reload --try 4 -i /etc/network/interfaces.new; exec sleep 600",
    ])?;
    l.wait_for("the try to return", Duration::from_secs(60), || {
        let out = l.run(&["cat", "--", "/tmp/asker.out"])?;
        Ok(out.stdout.contains("ifupdown-ovs commit"))
    })?;
    let out = l.read_file("/tmp/asker.out")?;
    assert!(is(state(&l)?, NEW_STATE), "{out}");
    assert_eq!(l.read_file("/etc/network/interfaces")?, NEW);
    // the session hangs up, then its whole process group is killed
    let asker = l.read_file("/tmp/asker.pid")?.trim().to_string();
    l.ok(&["kill", "-HUP", "--", &format!("-{asker}")])?;
    // (SIGHUP may have ended it already: the try's timer must not care either way)
    l.run(&["kill", "-KILL", "--", &format!("-{asker}")])?;
    l.wait_for("the asking session to die", Duration::from_secs(5), || {
        Ok(!l.exists(&format!("/proc/{asker}"))?)
    })?;
    let timer = timer_pid(&out).unwrap_or_default();
    assert!(
        l.exists(&format!("/proc/{timer}"))?,
        "the timer died with the session: {out}"
    );
    // the deadline is 4 s after the reload; allow for the revert's own reload
    l.wait_for("the revert", Duration::from_secs(4 + 30), || {
        Ok(is(state(&l)?, OLD_STATE) && l.read_file("/etc/network/interfaces")? == OLD)
    })?;
    back_to_old(&l)?;
    let kept = rejected(&l)?;
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(l.read_file(&kept[0])?, NEW);
    let log = l.read_file("/run/ifupdown-ovs/try.log")?;
    assert!(
        log.contains(&kept[0]),
        "the log names the rejected copy: {log}"
    );
    // nothing pending any more; commit says what happened
    let c = l.run(&["ifupdown-ovs", "commit"])?;
    assert_eq!(c.code(), Some(1), "{c:?}");
    assert!(c.stderr.contains("nothing to commit"), "{}", c.stderr);
    assert!(c.stderr.contains(&kept[0]), "{}", c.stderr);
    Ok(())
}

#[test]
fn try_then_commit_keeps_the_new_state_past_the_deadline() -> Result<(), LabError> {
    let l = lab("try-commit")?;
    // a candidate that fails `check` changes nothing, and its errors name it
    let bad = "/etc/network/interfaces.bad";
    l.write_file(bad, &NEW.replace("ovs_tag 20", "ovs_tag 5000"))?;
    let r = l.run(&["ifupdown-ovs", "reload", "--try", "3", "-i", bad])?;
    assert_eq!(r.code(), Some(1), "{r:?}");
    assert!(r.stderr.contains(&format!("{bad}:11:")), "{}", r.stderr);
    assert!(r.stderr.contains("nothing was changed"), "{}", r.stderr);
    assert_eq!(l.read_file("/etc/network/interfaces")?, OLD);
    assert!(!l.exists("/run/ifupdown-ovs/try")?);
    let out = l.ok(&["ifupdown-ovs", "reload", "--try", "3", "-i", CANDIDATE])?;
    assert!(is(state(&l)?, NEW_STATE), "{out}");
    // one try at a time
    let second = l.run(&["ifupdown-ovs", "reload", "--try", "3", "-i", CANDIDATE])?;
    assert_eq!(second.code(), Some(1), "{second:?}");
    assert!(
        second.stderr.contains("already pending"),
        "{}",
        second.stderr
    );
    let c = l.ok(&["ifupdown-ovs", "commit"])?;
    assert!(c.contains("committed"), "{c}");
    let timer = timer_pid(&out).unwrap_or_default();
    l.wait_for("the timer to end", Duration::from_secs(5), || {
        Ok(!l.exists(&format!("/proc/{timer}"))?
            || !l
                .read_file(&format!("/proc/{timer}/cmdline"))?
                .contains("rollback"))
    })?;
    std::thread::sleep(Duration::from_secs(5));
    assert!(is(state(&l)?, NEW_STATE));
    assert_eq!(l.read_file("/etc/network/interfaces")?, NEW);
    assert!(rejected(&l)?.is_empty());
    Ok(())
}

#[test]
fn rollback_reverts_at_once_and_nothing_pending_fails() -> Result<(), LabError> {
    let l = lab("try-rollback")?;
    for cmd in ["commit", "rollback"] {
        let r = l.run(&["ifupdown-ovs", cmd])?;
        assert_eq!(r.code(), Some(1), "{r:?}");
        assert!(
            r.stderr.contains("no `reload --try` is pending"),
            "{}",
            r.stderr
        );
    }
    let tried = l.ok(&["ifupdown-ovs", "reload", "--try", "300", "-i", CANDIDATE])?;
    assert!(is(state(&l)?, NEW_STATE));
    // the timer is killed: a new try says nothing will revert the pending one
    let timer = timer_pid(&tried).unwrap_or_default();
    l.ok(&["kill", "-KILL", &timer])?;
    l.wait_for("the timer to die", Duration::from_secs(5), || {
        let again = l.run(&["ifupdown-ovs", "reload", "--try", "30", "-i", CANDIDATE])?;
        Ok(again
            .stderr
            .contains("is gone: nothing will revert it by itself"))
    })?;
    // another reload holds the reload lock for 2 s: the revert waits for it
    l.ok(&[
        "setsid",
        "-f",
        "flock",
        "/run/ifupdown-ovs/reload.lock",
        "sleep",
        "2",
    ])?;
    l.wait_for("the lock holder", Duration::from_secs(5), || {
        let probe = l.run(&["flock", "-n", "/run/ifupdown-ovs/reload.lock", "true"])?;
        Ok(!probe.success())
    })?;
    let r = l.run(&["ifupdown-ovs", "rollback"])?;
    assert!(r.success(), "{r:?}");
    assert!(
        r.stderr.contains("waiting for another reload"),
        "{}",
        r.stderr
    );
    let out = r.stdout;
    assert!(is(state(&l)?, OLD_STATE), "{out}");
    assert_eq!(l.read_file("/etc/network/interfaces")?, OLD);
    back_to_old(&l)?;
    let kept = rejected(&l)?;
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(
        out.contains(&kept[0]),
        "rollback prints the rejected copy: {out}"
    );
    assert_eq!(l.read_file(&kept[0])?, NEW);
    assert_eq!(l.run(&["ifupdown-ovs", "rollback"])?.code(), Some(1));
    // the files in place are as the revert applied them: nothing to try
    let r = l.run(&["ifupdown-ovs", "reload", "--try", "30"])?;
    assert_eq!(r.code(), Some(1), "{r:?}");
    assert!(r.stderr.contains("nothing to try"), "{}", r.stderr);
    // without a copy of the files last applied, a try without -i is refused
    l.ok(&["rm", "/run/ifupdown-ovs-files/applied"])?;
    l.write_interfaces(NEW)?;
    let r = l.run(&["ifupdown-ovs", "reload", "--try", "30"])?;
    assert_eq!(r.code(), Some(1), "{r:?}");
    assert!(
        r.stderr.contains("no copy of the files last applied"),
        "{}",
        r.stderr
    );
    assert!(is(state(&l)?, OLD_STATE));
    Ok(())
}

/// The management address on br0, reached untagged through eth0 from a switch.
const MGMT: &str = "\
auto br0
iface br0 inet manual
    ovs_type OVSBridge
    ovs_ports eth0 mgmt0
    ovs_datapath_type netdev

allow-br0 eth0
iface eth0 inet manual
    ovs_type OVSPort
    ovs_bridge br0

allow-br0 mgmt0
iface mgmt0 inet static
    address 192.0.2.1/24
    ovs_type OVSIntPort
    ovs_bridge br0
";

/// The use case: a try that cuts the management path (mgmt0 moved to VLAN 99,
/// which the switch does not speak) is undone by itself, and the address answers
/// again, on the same device.
#[test]
fn a_try_that_cuts_the_management_path_comes_back_by_itself() -> Result<(), LabError> {
    use crate::hook_util::{answers, reaches};
    let l = Lab::new("try-cutoff")?;
    let sw = Lab::peer("try-cutoff-sw")?;
    l.add_veth("eth0", &sw, "eth0")?;
    sw.ok(&["ip", "addr", "add", "192.0.2.2/24", "dev", "eth0"])?;
    l.start_ovs()?;
    l.write_interfaces(MGMT)?;
    l.ifup(&["-a"])?;
    assert!(
        reaches(&sw, "192.0.2.1")?,
        "no management path before the try"
    );
    let ifindex = |l: &Lab| -> Result<String, LabError> {
        let out = l.ok(&["ip", "-o", "link", "show", "dev", "mgmt0"])?;
        Ok(out.split(':').next().unwrap_or_default().trim().to_string())
    };
    let before = ifindex(&l)?;
    // MGMT ends with mgmt0's stanza: one more option for it
    let cut = format!("{MGMT}    ovs_tag 99\n");
    l.write_file(CANDIDATE, &cut)?;
    l.ok(&["ifupdown-ovs", "reload", "--try", "3", "-i", CANDIDATE])?;
    assert_eq!(l.vsctl(&["get", "Port", "mgmt0", "tag"])?.trim(), "99");
    assert!(!answers(&sw, "192.0.2.1")?, "the try did not cut the path");
    l.wait_for(
        "the management path to come back",
        Duration::from_secs(3 + 30),
        || answers(&sw, "192.0.2.1"),
    )?;
    assert_eq!(l.read_file("/etc/network/interfaces")?, MGMT);
    assert_eq!(l.vsctl(&["get", "Port", "mgmt0", "tag"])?.trim(), "[]");
    assert_eq!(ifindex(&l)?, before, "mgmt0 was recreated");
    assert_eq!(rejected(&l)?.len(), 1);
    Ok(())
}

/// p3 is declared `allow-hotplug`: `ifup -a` leaves it down.
const HOTPLUG: &str = "
allow-hotplug p3
iface p3 inet manual
    ovs_type OVSIntPort
    ovs_bridge br0
";

/// A revert gives back exactly the interfaces ifupdown had up: p3, brought up by
/// the try (`auto`), is still in the previous file (`allow-hotplug`), so the
/// reload alone would leave it up.
#[test]
fn a_revert_takes_down_what_the_try_brought_up() -> Result<(), LabError> {
    let l = Lab::new("try-hotplug")?;
    l.start_ovs()?;
    let old = format!("{OLD}{HOTPLUG}");
    l.write_interfaces(&old)?;
    l.ifup(&["-a"])?;
    let before = l.ok(&["ifquery", "--state"])?;
    assert!(!before.contains("p3"), "{before}");
    l.write_file(CANDIDATE, &old.replace("allow-hotplug p3", "auto p3"))?;
    l.ok(&["ifupdown-ovs", "reload", "--try", "300", "-i", CANDIDATE])?;
    assert!(l.ok(&["ifquery", "--state"])?.contains("p3=p3"));
    assert!(l.vsctl(&["list-ports", "br0"])?.contains("p3"));
    let out = l.ok(&["ifupdown-ovs", "rollback"])?;
    assert!(
        out.contains("ifdown p3: it was not up before the try"),
        "{out}"
    );
    assert_eq!(l.ok(&["ifquery", "--state"])?, before);
    assert!(!l.vsctl(&["list-ports", "br0"])?.contains("p3"));
    assert_eq!(l.read_file("/etc/network/interfaces")?, old);
    Ok(())
}

/// The interfaces file of the sourcing tests: everything is in interfaces.d.
const SOURCING: &str = "source interfaces.d/*\n";
const VLANS: &str = "/etc/network/interfaces.d/vlans";
const P2: &str = "/etc/network/interfaces.d/p2";

/// A lab with OLD in interfaces.d/vlans, applied by `ifup -a`.
fn sourcing_lab(name: &str) -> Result<Lab, LabError> {
    let l = Lab::new(name)?;
    l.start_ovs()?;
    l.write_interfaces(SOURCING)?;
    l.write_file(VLANS, OLD)?;
    l.ifup(&["-a"])?;
    assert!(is(state(&l)?, OLD_STATE));
    assert!(l.exists("/run/ifupdown-ovs-files/applied")?);
    Ok(l)
}

/// The names in interfaces.d, dot files included, sorted.
fn sourced_dir(l: &Lab) -> Result<Vec<String>, LabError> {
    let out = l.ok(&["ls", "-A", "/etc/network/interfaces.d"])?;
    let mut v: Vec<String> = out.lines().map(str::to_string).collect();
    v.sort();
    Ok(v)
}

/// The rejected copy of interfaces.d/NAME (a dot file), its path.
fn rejected_sourced(l: &Lab, name: &str) -> Result<Vec<String>, LabError> {
    Ok(sourced_dir(l)?
        .into_iter()
        .filter(|n| n.starts_with(&format!(".{name}.rejected-")))
        .map(|n| format!("/etc/network/interfaces.d/{n}"))
        .collect())
}

/// An in-place edit of interfaces.d/vlans, tried without -i, reverts by itself
/// after the asking session is hung up and killed: vlans is put back as it was
/// applied, the edited version kept as a dot file that `source interfaces.d/*`
/// does not read, the main file untouched.
#[test]
fn an_in_place_edit_of_a_sourced_file_reverts_after_the_session_is_killed() -> Result<(), LabError>
{
    let l = sourcing_lab("try-sourced")?;
    l.write_file(VLANS, NEW)?;
    l.ok(&[
        "setsid",
        "-f",
        "sh",
        "-c",
        "echo $$ >/tmp/asker.pid; exec >/tmp/asker.out 2>&1 </dev/null; \
         ifupdown-ovs reload --try 4; exec sleep 600",
    ])?;
    l.wait_for("the try to return", Duration::from_secs(60), || {
        let out = l.run(&["cat", "--", "/tmp/asker.out"])?;
        Ok(out.stdout.contains("ifupdown-ovs commit") || out.stderr.contains("error"))
    })?;
    let out = l.read_file("/tmp/asker.out")?;
    assert!(out.contains("the edited /etc/network/interfaces"), "{out}");
    assert!(is(state(&l)?, NEW_STATE), "{out}");
    let asker = l.read_file("/tmp/asker.pid")?.trim().to_string();
    l.ok(&["kill", "-HUP", "--", &format!("-{asker}")])?;
    l.run(&["kill", "-KILL", "--", &format!("-{asker}")])?;
    l.wait_for("the revert", Duration::from_secs(4 + 30), || {
        Ok(is(state(&l)?, OLD_STATE) && l.read_file(VLANS)? == OLD)
    })?;
    back_to_old(&l)?;
    assert_eq!(l.read_file("/etc/network/interfaces")?, SOURCING);
    assert!(rejected(&l)?.is_empty(), "the main file was not changed");
    let kept = rejected_sourced(&l, "vlans")?;
    assert_eq!(kept.len(), 1, "{:?}", sourced_dir(&l)?);
    assert_eq!(l.read_file(&kept[0])?, NEW);
    let log = l.read_file("/run/ifupdown-ovs/try.log")?;
    assert!(log.contains(&kept[0]), "{log}");
    // the rejected copy is not read: the file checks and reloads to nothing
    let r = l.ok(&["ifupdown-ovs", "reload", "--dry-run"])?;
    assert!(!r.contains("p2"), "{r}");
    Ok(())
}

/// vlans edited (p1 to VLAN 20, p2 in br0's ports) and p2's stanza in a new file.
fn edit_in_place(l: &Lab) -> Result<(), LabError> {
    let (bridge_and_p1, p2) = NEW.split_at(NEW.find("auto p2").unwrap_or(NEW.len()));
    l.write_file(VLANS, bridge_and_p1)?;
    l.write_file(P2, p2)
}

/// A try without -i after in-place edits: `rollback` puts the files back as last
/// applied (by `ifup -a`, then by a plain `reload`), removes the file the edit
/// added (kept as a rejected copy); `commit` keeps them all and makes them the
/// files last applied.
#[test]
fn an_in_place_try_reverts_to_the_last_applied_files_and_commit_keeps_them() -> Result<(), LabError>
{
    let l = sourcing_lab("try-inplace")?;
    edit_in_place(&l)?;
    l.ok(&["ifupdown-ovs", "reload", "--try", "300"])?;
    assert!(is(state(&l)?, NEW_STATE));
    let out = l.ok(&["ifupdown-ovs", "rollback"])?;
    assert!(is(state(&l)?, OLD_STATE), "{out}");
    back_to_old(&l)?;
    assert_eq!(l.read_file(VLANS)?, OLD);
    assert!(!l.exists(P2)?, "the added file is still there: {out}");
    let (vlans, p2) = (rejected_sourced(&l, "vlans")?, rejected_sourced(&l, "p2")?);
    assert_eq!((vlans.len(), p2.len()), (1, 1), "{:?}", sourced_dir(&l)?);
    assert!(l.read_file(&p2[0])?.contains("iface p2"));
    assert!(out.contains(&vlans[0]) && out.contains(&p2[0]), "{out}");
    assert!(
        out.contains(&format!("removed, added by the try: {P2}")),
        "{out}"
    );

    // a plain reload makes its files the last applied ones
    l.write_file(VLANS, &OLD.replace("ovs_tag 10", "ovs_tag 30"))?;
    l.ok(&["ifupdown-ovs", "reload"])?;
    l.write_file(VLANS, &OLD.replace("ovs_tag 10", "ovs_tag 40"))?;
    l.ok(&["ifupdown-ovs", "reload", "--try", "300"])?;
    assert_eq!(l.vsctl(&["get", "Port", "p1", "tag"])?.trim(), "40");
    l.ok(&["ifupdown-ovs", "rollback"])?;
    assert_eq!(l.vsctl(&["get", "Port", "p1", "tag"])?.trim(), "30");
    assert_eq!(l.read_file(VLANS)?, OLD.replace("ovs_tag 10", "ovs_tag 30"));

    // commit keeps every file, and they are the files last applied
    edit_in_place(&l)?;
    l.ok(&["ifupdown-ovs", "reload", "--try", "300"])?;
    let c = l.ok(&["ifupdown-ovs", "commit"])?;
    assert!(c.contains("committed"), "{c}");
    assert!(is(state(&l)?, NEW_STATE));
    assert!(l.read_file(P2)?.contains("iface p2"));
    assert_eq!(
        l.read_file(VLANS)?,
        NEW.split_at(NEW.find("auto p2").unwrap_or(0)).0
    );
    let again = l.run(&["ifupdown-ovs", "reload", "--try", "300"])?;
    assert!(again.stderr.contains("nothing to try"), "{again:?}");
    let status = l.run(&["ifupdown-ovs", "status"])?;
    assert!(status.success(), "{status:?}");
    Ok(())
}

/// A try with -i whose new main file sources interfaces.d/p2 (written before the
/// try): the revert leaves p2 as it was (it existed before), and an edit of vlans
/// made during the trial is undone with the rest.
#[test]
fn a_try_with_a_new_file_reverts_the_sourced_files_it_reads() -> Result<(), LabError> {
    let l = sourcing_lab("try-sourced-i")?;
    let (bridge_and_p1, p2) = NEW.split_at(NEW.find("auto p2").unwrap_or(NEW.len()));
    l.write_file(P2, p2)?;
    // the running file does not read p2 (it reads vlans only)
    l.write_interfaces("source interfaces.d/vlans\n")?;
    l.ok(&["ifupdown-ovs", "reload"])?;
    l.write_file(
        CANDIDATE,
        &format!("{bridge_and_p1}source interfaces.d/p2\n"),
    )?;
    l.ok(&["ifupdown-ovs", "reload", "--try", "300", "-i", CANDIDATE])?;
    assert!(is(state(&l)?, NEW_STATE));
    l.write_file(VLANS, &OLD.replace("ovs_tag 10", "ovs_tag 50"))?;
    let out = l.ok(&["ifupdown-ovs", "rollback"])?;
    assert!(is(state(&l)?, OLD_STATE), "{out}");
    assert_eq!(l.read_file(VLANS)?, OLD);
    assert_eq!(l.read_file(P2)?, p2);
    assert_eq!(
        l.read_file("/etc/network/interfaces")?,
        "source interfaces.d/vlans\n"
    );
    assert_eq!(rejected(&l)?.len(), 1);
    assert_eq!(rejected_sourced(&l, "vlans")?.len(), 1);
    back_to_old(&l)?;
    Ok(())
}
