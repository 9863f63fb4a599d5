//! Smoke tests of the test lab itself: OVS with the userspace datapath forwards
//! traffic between namespaces, real ifup/ifdown work, hooks are laid out as
//! promised, errors carry their context, and nothing is left on the host.
//! Needs root and the packages of `.ci/run`; fails (never skips) without them.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::lab::{Hooks, HostLock, Lab, LabError, LabOptions};

/// What the host looks like from outside any lab.
#[derive(Debug, PartialEq, Eq)]
struct HostState {
    links: String,
    ovs: Option<String>,
    mounts: String,
    etc_network: BTreeSet<String>,
    sbin_binary: bool,
}

fn host_state() -> HostState {
    let links = Command::new("ip").args(["-br", "link"]).output().unwrap();
    assert!(links.status.success(), "ip -br link failed on the host");
    let ovs = Path::new("/run/openvswitch/db.sock").exists().then(|| {
        let out = Command::new("ovs-vsctl")
            .args(["--timeout=5", "show"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    });
    let etc_network = walk(Path::new("/etc/network"));
    HostState {
        links: String::from_utf8_lossy(&links.stdout).into_owned(),
        ovs,
        mounts: fs::read_to_string("/proc/self/mountinfo").unwrap(),
        etc_network,
        sbin_binary: Path::new("/usr/sbin/ifupdown-ovs").exists(),
    }
}

/// Every path below `dir` with its size, to notice any change.
fn walk(dir: &Path) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            let meta = fs::symlink_metadata(&path).unwrap();
            seen.insert(format!("{} {}", path.display(), meta.len()));
            if meta.is_dir() {
                seen.extend(walk(&path));
            }
        }
    }
    seen
}

/// The namespaces (`net:[...]`, `mnt:[...]`) of a lab's init.
fn namespaces_of(pid: i32) -> Vec<String> {
    ["net", "mnt", "pid"]
        .iter()
        .map(|ns| {
            fs::read_link(format!("/proc/{pid}/ns/{ns}"))
                .unwrap()
                .display()
                .to_string()
        })
        .collect()
}

/// Processes of the host that are still inside any of `namespaces`.
fn processes_in(namespaces: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        for ns in ["net", "mnt", "pid"] {
            if let Ok(link) = fs::read_link(format!("/proc/{name}/ns/{ns}"))
                && namespaces.contains(&link.display().to_string())
            {
                let comm = fs::read_to_string(format!("/proc/{name}/comm")).unwrap_or_default();
                found.push(format!("{name} {}", comm.trim()));
            }
        }
    }
    found
}

#[test]
fn ovs_forwards_and_ifupdown_runs_and_nothing_leaks() -> Result<(), LabError> {
    crate::lab::require_root_and_tools();
    // No test may change the host between here and the last comparison (the labs
    // below hold it shared too; this covers the time before and after them).
    let _host = HostLock::shared().map_err(|message| LabError::Setup {
        lab: "smoke".into(),
        message,
    })?;
    let before = host_state();
    let options = LabOptions {
        hooks: Hooks::None,
        ..LabOptions::default()
    };
    let host = Lab::with_options("smoke", options)?;
    let peer = Lab::peer("smoke-peer")?;
    let mut namespaces = namespaces_of(host.pid());
    namespaces.extend(namespaces_of(peer.pid()));
    assert_ne!(
        namespaces_of(host.pid()),
        namespaces_of(std::process::id() as i32)
    );

    // The built binary is there, inside only.
    assert!(host.exists("/usr/sbin/ifupdown-ovs")?);
    assert!(host.ok(&["/usr/sbin/ifupdown-ovs", "--help"]).is_ok());

    host.start_ovs()?;
    assert!(host.ovs_running()?);
    host.vsctl(&[
        "add-br",
        "br0",
        "--",
        "set",
        "bridge",
        "br0",
        "datapath_type=netdev",
        "--",
        "add-port",
        "br0",
        "mgmt0",
        "--",
        "set",
        "interface",
        "mgmt0",
        "type=internal",
    ])?;
    host.add_veth("eth0", &peer, "eth0")?;
    host.vsctl(&["add-port", "br0", "eth0"])?;
    host.ok(&["ip", "link", "set", "dev", "eth0", "up"])?;
    peer.ok(&["ip", "addr", "add", "192.0.2.2/24", "dev", "eth0"])?;

    host.write_interfaces("auto mgmt0\niface mgmt0 inet static\n    address 192.0.2.1/24\n")?;
    host.ifup(&["mgmt0"])?;
    let addr = host.ok(&["ip", "-br", "addr", "show", "dev", "mgmt0"])?;
    assert!(addr.contains("192.0.2.1/24"), "mgmt0 after ifup: {addr}");
    assert!(
        host.read_file("/run/network/ifstate.mgmt0")?
            .contains("mgmt0")
    );

    // Traffic crosses the userspace datapath: mgmt0 -> br0 -> eth0 -> peer.
    let ping = host.run(&["ping", "-c", "3", "-i", "0.2", "-W", "2", "192.0.2.2"])?;
    assert!(
        ping.success(),
        "ping through OVS failed:\n{}{}",
        ping.stdout,
        ping.stderr
    );
    let learned = peer.ok(&["ip", "neigh", "show", "192.0.2.1"])?;
    assert!(!learned.trim().is_empty(), "peer never saw 192.0.2.1");

    host.ifdown(&["mgmt0"])?;
    let addr = host.ok(&["ip", "-br", "addr", "show", "dev", "mgmt0"])?;
    assert!(!addr.contains("192.0.2.1"), "mgmt0 after ifdown: {addr}");

    // A stray daemon is killed with the lab; OVS is stopped by Drop.
    host.ok(&["setsid", "-f", "sleep", "1000"])?;
    assert_eq!(
        host_state(),
        before,
        "the host changed while the lab was running"
    );
    drop(peer);
    drop(host);

    assert_eq!(processes_in(&namespaces), Vec::<String>::new());
    assert_eq!(host_state(), before, "the lab left something on the host");
    Ok(())
}

#[test]
fn stop_ovs_makes_ovs_unreachable_and_start_keeps_the_database() -> Result<(), LabError> {
    let options = LabOptions {
        hooks: Hooks::None,
        timeout: Duration::from_secs(30),
        ..LabOptions::default()
    };
    let host = Lab::with_options("smoke-restart", options)?;
    host.start_ovs()?;
    host.vsctl(&[
        "add-br",
        "br9",
        "--",
        "set",
        "bridge",
        "br9",
        "datapath_type=netdev",
    ])?;
    host.stop_ovs()?;
    assert!(!host.ovs_running()?);
    assert!(!host.exists("/run/openvswitch/ovs-vswitchd.pid")?);
    let down = host.run(&["ovs-vsctl", "--timeout=2", "list-br"])?;
    assert!(!down.success(), "ovs-vsctl worked with OVS stopped");
    host.start_ovs()?;
    assert_eq!(host.vsctl(&["list-br"])?.trim(), "br9");
    Ok(())
}

#[test]
fn hooks_are_laid_out_as_asked() -> Result<(), LabError> {
    let ours = Lab::new("smoke-hooks-ours")?;
    for phase in ["pre-up", "up", "down", "post-down"] {
        let link = format!("/etc/network/if-{phase}.d/ifupdown-ovs");
        assert_eq!(
            ours.ok(&["readlink", &link])?.trim(),
            "/usr/sbin/ifupdown-ovs"
        );
    }
    assert!(!ours.exists("/etc/network/if-pre-up.d/openvswitch")?);
    // The host's hook dirs (with Debian's hook on some machines) are not visible.
    assert!(!ours.exists("/etc/network/if-up.d/resolved")?);

    ours.install_hooks(Hooks::Debian)?;
    for phase in ["pre-up", "post-down"] {
        let link = format!("/etc/network/if-{phase}.d/openvswitch");
        assert_eq!(
            ours.ok(&["readlink", &link])?.trim(),
            "/usr/share/openvswitch/scripts/ifupdown.sh"
        );
    }
    assert!(!ours.exists("/etc/network/if-up.d/ifupdown-ovs")?);

    ours.install_hooks(Hooks::None)?;
    for phase in ["pre-up", "up", "down", "post-down"] {
        let listing = ours.ok(&["ls", "-A", &format!("/etc/network/if-{phase}.d")])?;
        assert_eq!(listing, "", "if-{phase}.d not empty");
    }
    Ok(())
}

#[test]
fn files_and_errors_carry_context() -> Result<(), LabError> {
    let options = LabOptions {
        hooks: Hooks::None,
        timeout: Duration::from_secs(1),
        ..LabOptions::default()
    };
    let host = Lab::with_options("smoke-errors", options)?;
    host.write_file("/etc/network/interfaces.d/x", "iface x inet manual\n")?;
    assert_eq!(
        host.read_file("/etc/network/interfaces.d/x")?,
        "iface x inet manual\n"
    );
    assert!(!Path::new("/etc/network/interfaces.d/x").exists());
    host.write_file("/etc/iproute2/rt_tables.d/lab.conf", "100 lab\n")?;
    assert!(!Path::new("/etc/iproute2/rt_tables.d/lab.conf").exists());
    // Whatever a program writes to /etc, /var/lib or /tmp stays in the lab.
    let marker = format!("lab-marker-{}", std::process::id());
    for dir in ["/etc", "/var/lib", "/tmp"] {
        let path = format!("{dir}/{marker}");
        host.ok(&["touch", &path])?;
        assert!(host.exists(&path)?);
        assert!(!Path::new(&path).exists(), "{path} appeared on the host");
    }
    let script = "/run/lab-echo";
    host.write_executable(script, "#!/bin/sh\necho out; echo err >&2; exit 3\n")?;
    // Writing outside the lab's private mounts would change the host: refused.
    assert!(host.write_file("/usr/local/sbin/lab-echo", "x").is_err());
    assert!(!Path::new("/usr/local/sbin/lab-echo").exists());
    assert!(!Path::new("/run/lab-echo").exists());

    match host.ok(&[script]) {
        Err(LabError::Failed {
            argv,
            stdout,
            stderr,
            status,
            ..
        }) => {
            assert_eq!(argv, vec![script.to_string()]);
            assert_eq!(stdout, "out\n");
            assert_eq!(stderr, "err\n");
            assert!(status.contains('3'), "status: {status}");
        }
        other => panic!("expected LabError::Failed, got {other:?}"),
    }
    match host.run(&["sleep", "5"]) {
        Err(LabError::Timeout { seconds: 1, .. }) => {}
        other => panic!("expected LabError::Timeout, got {other:?}"),
    }
    Ok(())
}

#[test]
fn nics_are_found_in_fixtures() {
    let text = "auto eth0 br0\n\
                allow-br0 eth1 # ethernet, not eth9\n\
                iface bond0 inet manual\n  ovs_bonds enp3s0 ens4\n\
                iface eth0.10 inet manual\n\
                iface eth2:1 inet static\n  address 192.0.2.5/24\n\
                iface ethernet inet manual\n  pre-up echo eth7\n";
    assert_eq!(
        crate::lab::nics_named_in(text),
        ["enp3s0", "ens4", "eth0", "eth1", "eth2", "eth7"]
    );
    assert!(crate::lab::nics_named_in("auto br0\niface br0 inet dhcp\n").is_empty());
}

#[test]
fn wait_for_polls_until_true_or_times_out() -> Result<(), LabError> {
    let peer = Lab::peer("smoke-wait")?;
    peer.ok(&[
        "setsid",
        "-f",
        "sh",
        "-c",
        "sleep 0.2; ip link add w7 type veth peer name w7p",
    ])?;
    peer.wait_for("w7 exists", Duration::from_secs(5), || {
        peer.link_exists("w7")
    })?;
    let never = peer.wait_for("w8 exists", Duration::from_millis(100), || {
        peer.link_exists("w8")
    });
    assert!(matches!(never, Err(LabError::Setup { .. })), "{never:?}");
    Ok(())
}
