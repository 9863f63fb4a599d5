//! The hook end to end in the lab (real ifup/ifdown, real OVS with the userspace
//! datapath): a bridge, a system port and an internal port come up with `ifup -a`,
//! are marked as ours, converge on a second `ifup`, and leave nothing after
//! `ifdown -a`. Needs root and the packages of `.ci/run`.

use crate::hook_util::*;
use crate::lab::{Lab, LabError};

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

const TYPED: &str = "\
auto br0
iface br0 inet manual
    ovs_type OVSBridge
    ovs_datapath_type netdev
    ovs_mac 02:00:00:00:00:aa
    ovs_mtu 1400

auto bond0
iface bond0 inet manual
    ovs_type OVSBond
    ovs_bridge br0
    ovs_bonds eth2 eth3
    ovs_mtu 1400
    ovs_vlan_mode native-tagged
    ovs_tag 5
    ovs_trunks 5,6,7
    ovs_options bond_mode=active-backup

auto gre1
iface gre1 inet manual
    ovs_type OVSTunnel
    ovs_bridge br0
    ovs_tunnel_type gre
    ovs_tunnel_options options:remote_ip=203.0.113.9
";

/// Typed options land in their columns: the bridge's MAC (other_config:hwaddr, on
/// the link too), MTU (mtu_request; a bond's on its members), VLAN modes, bond and
/// tunnel options.
#[test]
fn typed_options_land_in_their_columns() -> Result<(), LabError> {
    let host = Lab::new("hook-typed")?;
    let wire = Lab::peer("hook-typed-wire")?;
    for nic in ["eth2", "eth3"] {
        host.add_veth(nic, &wire, nic)?;
    }
    host.start_ovs()?;
    host.write_interfaces(TYPED)?;
    let up = host.run(&["ifup", "-a"])?;
    assert!(up.success() && up.stderr.is_empty(), "{up:?}");
    let get = |a: &[&str]| get(&host, a);
    assert_eq!(
        get(&["Bridge", "br0", "other_config:hwaddr"])?,
        "\"02:00:00:00:00:aa\""
    );
    let link = host.ok(&["ip", "-br", "link", "show", "dev", "br0"])?;
    assert!(link.contains("02:00:00:00:00:aa"), "{link}");
    assert_eq!(get(&["Interface", "br0", "mtu_request"])?, "1400");
    for m in ["eth2", "eth3"] {
        assert_eq!(get(&["Interface", m, "mtu_request"])?, "1400");
        assert_eq!(
            get(&["Interface", m, "external_ids:ifupdown-ovs"])?,
            "bond0"
        );
    }
    assert_eq!(get(&["Port", "bond0", "vlan_mode"])?, "native-tagged");
    assert_eq!(get(&["Port", "bond0", "tag"])?, "5");
    assert_eq!(get(&["Port", "bond0", "trunks"])?, "[5, 6, 7]");
    assert_eq!(get(&["Port", "bond0", "bond_mode"])?, "active-backup");
    assert_eq!(
        get(&["Interface", "gre1", "options:remote_ip"])?,
        "\"203.0.113.9\""
    );
    let down = host.run(&["ifdown", "-a"])?;
    assert!(down.success() && down.stderr.is_empty(), "{down:?}");
    assert_eq!(host.vsctl(&["list-br"])?.trim(), "");
    Ok(())
}

/// Hotplug: NICs come up one process each through `ifup --allow=hotplug IFACE`
/// (as udev's ifup@.service does), two at once here, and go with `ifdown`.
const HOTPLUG: &str = "\
auto br0
iface br0 inet manual
    ovs_type OVSBridge
    ovs_datapath_type netdev

allow-hotplug eth1
iface eth1 inet manual
    ovs_type OVSPort
    ovs_bridge br0
    ovs_tag 11

allow-hotplug eth2
iface eth2 inet manual
    ovs_type OVSPort
    ovs_bridge br0
    ovs_tag 12
";

#[test]
fn hotplug_nics_come_up_concurrently_and_go() -> Result<(), LabError> {
    let host = Lab::new("hook-hotplug")?;
    let wire = Lab::peer("hook-hotplug-wire")?;
    host.add_veth("eth1", &wire, "eth1")?;
    host.add_veth("eth2", &wire, "eth2")?;
    host.start_ovs()?;
    host.write_interfaces(HOTPLUG)?;
    let up = host.run(&["ifup", "-a"])?;
    assert!(up.success(), "ifup -a failed: {up:?}");
    assert!(vsctl_lines(&host, &["list-ports", "br0"])?.is_empty());

    // Two udev-started ifups at the same moment (a shell in the lab starts both).
    let both = host.run(&[
        "sh",
        "-c",
        "ifup --allow=hotplug eth1 & a=$!; ifup --allow=hotplug eth2 & b=$!; wait $a && wait $b",
    ])?;
    assert!(both.success(), "ifup --allow=hotplug failed: {both:?}");
    assert_eq!(both.stderr, "", "ifup --allow=hotplug printed errors");
    assert_eq!(
        vsctl_lines(&host, &["list-ports", "br0"])?,
        ["eth1", "eth2"]
    );
    assert_eq!(host.vsctl(&["get", "Port", "eth1", "tag"])?.trim(), "11");
    assert_eq!(host.vsctl(&["get", "Port", "eth2", "tag"])?.trim(), "12");
    assert!(is_up(&host, "eth1")? && is_up(&host, "eth2")?);

    let down = host.run(&["ifdown", "eth1"])?;
    assert!(down.success(), "ifdown eth1 failed: {down:?}");
    assert_eq!(vsctl_lines(&host, &["list-ports", "br0"])?, ["eth2"]);
    let down = host.run(&["ifdown", "-a"])?;
    assert!(down.success(), "ifdown -a failed: {down:?}");
    assert_eq!(host.vsctl(&["list-br"])?.trim(), "");
    Ok(())
}

/// NICs plugged at once in [`many_hotplug_nics_at_once`]: as many as made
/// 1 run in 2 (release build) leave ports in OVS before the hook's OVS clients
/// took turns (`ovsdb::gate`).
const MANY: usize = 250;

/// The bridge `auto` and `n` NICs `allow-hotplug`, each a tagged port.
fn many_nics(n: usize) -> String {
    let mut t = String::from(
        "auto br0\niface br0 inet manual\n    ovs_type OVSBridge\n    ovs_datapath_type netdev\n",
    );
    for k in 0..n {
        t.push_str(&format!(
            "\nallow-hotplug nic{k}\niface nic{k} inet manual\n    ovs_type OVSPort\n    ovs_bridge br0\n    ovs_tag {}\n",
            k + 1
        ));
    }
    t
}

/// Every port on br0 with its tag (`[]` for none), and ofport, as OVSDB has them.
fn ports_and_tags(host: &Lab) -> Result<Vec<(String, String)>, LabError> {
    let mut rows: Vec<(String, String)> = host
        .vsctl(&[
            "--format=csv",
            "--no-headings",
            "--columns=name,tag",
            "list",
            "Port",
        ])?
        .lines()
        .filter_map(|l| l.split_once(','))
        .map(|(n, t)| (n.trim_matches('"').to_string(), t.to_string()))
        .filter(|(n, _)| n != "br0")
        .collect();
    rows.sort();
    Ok(rows)
}

/// The devices among `names` that are not administratively up.
fn not_up(host: &Lab, names: &[String]) -> Result<Vec<String>, LabError> {
    let out = host.ok(&["ip", "-o", "link", "show", "up"])?;
    let up: Vec<&str> = out
        .lines()
        .filter_map(|l| l.split(": ").nth(1))
        .map(|n| n.split('@').next().unwrap_or(n))
        .collect();
    Ok(names
        .iter()
        .filter(|n| !up.contains(&n.as_str()))
        .cloned()
        .collect())
}

/// `MANY` udev-started `ifup --allow=hotplug NIC` at the same moment (one process
/// each, as ifup@.service runs them), then `MANY` `ifdown NIC` at once: every
/// one succeeds (xargs exits 123 when one of them does not) without a word on
/// stderr — `ifdown` exits 0 whatever its post-down hooks say, so only their
/// stderr shows a port left in OVS —, OVSDB holds exactly the NICs with their
/// tags and an OpenFlow port each, every link up, ifupdown has every NIC up;
/// then exactly the foreign port stays, and ifupdown has only the bridge.
/// A lab with `n` veth NICs `nicK`, OVS, and the bridge of [`many_nics`] up.
fn hotplug_lab(name: &str, n: usize) -> Result<Lab, LabError> {
    let host = Lab::new(name)?;
    let pairs: String = (0..n)
        .map(|k| format!("link add nic{k} type veth peer name pnic{k}\nlink set pnic{k} up\n"))
        .collect();
    let made = host.run_input(&["ip", "-batch", "-"], pairs.as_bytes())?;
    assert!(made.success(), "{made:?}");
    host.start_ovs()?;
    host.write_interfaces(&many_nics(n))?;
    let up = host.run(&["ifup", "-a"])?;
    assert!(up.success(), "ifup -a failed: {up:?}");
    Ok(host)
}

/// `argv NIC` for nic0..nic{n-1}, all started at once (`xargs -P 0`).
fn at_once(host: &Lab, n: usize, argv: &[&str]) -> Result<crate::lab::Output, LabError> {
    let names: String = (0..n).map(|k| format!("nic{k}\n")).collect();
    let mut all = vec!["xargs", "-P", "0", "-n", "1"];
    all.extend(argv);
    host.run_input(&all, names.as_bytes())
}

#[test]
fn many_hotplug_nics_at_once() -> Result<(), LabError> {
    let host = hotplug_lab("hook-hotplug-many", MANY)?;
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
    let nics: Vec<String> = (0..MANY).map(|k| format!("nic{k}")).collect();
    let all = |cmd: &[&str]| at_once(&host, MANY, cmd);
    let state = || -> Result<Vec<String>, LabError> {
        let mut s: Vec<String> = host
            .ok(&["ifquery", "--state"])?
            .lines()
            .map(|l| l.split('=').next().unwrap_or(l).to_string())
            .filter(|n| n != "lo")
            .collect();
        s.sort();
        Ok(s)
    };

    let up = all(&["ifup", "--allow=hotplug"])?;
    assert!(up.success(), "ifup --allow=hotplug failed: {up:?}");
    assert_eq!(up.stderr, "", "ifup --allow=hotplug printed errors");
    let mut want: Vec<(String, String)> = (0..MANY)
        .map(|k| (format!("nic{k}"), (k + 1).to_string()))
        .collect();
    want.push(("vnet0".into(), "[]".into()));
    want.sort();
    assert_eq!(ports_and_tags(&host)?, want);
    let broken = host.vsctl(&["--bare", "--columns=name", "find", "Interface", "ofport<0"])?;
    assert_eq!(broken.trim(), "", "interfaces without an OpenFlow port");
    assert_eq!(not_up(&host, &nics)?, Vec::<String>::new(), "links not up");
    let mut configured = nics.clone();
    configured.push("br0".into());
    configured.sort();
    assert_eq!(state()?, configured);

    let down = all(&["ifdown"])?;
    assert!(down.success(), "ifdown failed: {down:?}");
    assert_eq!(down.stderr, "", "ifdown printed errors");
    assert_eq!(
        ports_and_tags(&host)?,
        [("vnet0".to_string(), "[]".to_string())]
    );
    assert_eq!(state()?, ["br0"]);
    Ok(())
}

/// NICs plugged at once in [`hotplug_nics_at_once_with_vswitchd_stopped`].
const STOPPED_NICS: usize = 60;

/// `STOPPED_NICS` hotplug `ifup`s at once while ovs-vswitchd is stopped
/// (SIGSTOP: alive, socket open, never answering): all of them fail, each
/// naming ovs-vswitchd, within a bound (the first runs wait 5 s for it, the
/// others believe them: not 5 s each in turn); after SIGCONT the same `ifup`s,
/// at once, all succeed. The same with `ifdown`s: each NIC says it stayed in
/// OVS, `ifupdown-ovs status` lists them (exit 1), and `ifdown --force` removes
/// them once OVS answers.
#[test]
fn hotplug_nics_at_once_with_vswitchd_stopped() -> Result<(), LabError> {
    let host = hotplug_lab("hook-hotplug-stopped", STOPPED_NICS)?;
    let pid = host
        .read_file("/run/openvswitch/ovs-vswitchd.pid")?
        .trim()
        .to_string();
    host.ok(&["kill", "-STOP", &pid])?;
    let start = std::time::Instant::now();
    let up = at_once(&host, STOPPED_NICS, &["ifup", "--allow=hotplug"]);
    let took = start.elapsed();
    host.ok(&["kill", "-CONT", &pid])?;
    let up = up?;
    eprintln!("{STOPPED_NICS} hotplug ifups with ovs-vswitchd stopped: {took:?}");
    assert!(took < std::time::Duration::from_secs(30), "took {took:?}");
    assert!(!up.success(), "ifup succeeded with ovs-vswitchd stopped");
    for k in 0..STOPPED_NICS {
        // (ifupdown's own lines may run into ours: they are written in pieces)
        let says = format!("ifupdown-ovs: nic{k}: Open vSwitch does not answer: ovs-vswitchd ");
        assert!(
            up.stderr.contains(&says),
            "nic{k} does not name ovs-vswitchd: {}",
            up.stderr
        );
    }
    assert_eq!(
        vsctl_lines(&host, &["list-ports", "br0"])?,
        Vec::<String>::new()
    );

    let again = at_once(&host, STOPPED_NICS, &["ifup", "--allow=hotplug"])?;
    assert!(again.success(), "ifup after SIGCONT failed: {again:?}");
    assert_eq!(again.stderr, "", "ifup after SIGCONT printed errors");
    assert_eq!(
        vsctl_lines(&host, &["list-ports", "br0"])?.len(),
        STOPPED_NICS
    );

    // the other way: ifdown exits 0 whatever its post-down hooks say, so
    // what the user learns is each NIC's line and `ifupdown-ovs status`
    host.ok(&["kill", "-STOP", &pid])?;
    let start = std::time::Instant::now();
    let down = at_once(&host, STOPPED_NICS, &["ifdown"]);
    let took = start.elapsed();
    host.ok(&["kill", "-CONT", &pid])?;
    let down = down?;
    eprintln!("{STOPPED_NICS} hotplug ifdowns with ovs-vswitchd stopped: {took:?}");
    assert!(took < std::time::Duration::from_secs(30), "took {took:?}");
    for k in 0..STOPPED_NICS {
        let says = format!("ifupdown-ovs: nic{k}: Open vSwitch does not answer: ovs-vswitchd ");
        assert!(down.stderr.contains(&says), "nic{k}: {}", down.stderr);
    }
    let status = host.run(&["ifupdown-ovs", "status"])?;
    assert_eq!(status.code(), Some(1), "{status:?}");
    assert_eq!(
        status.stdout.matches("down, still in OVS").count(),
        STOPPED_NICS,
        "{}",
        status.stdout
    );
    let down = at_once(&host, STOPPED_NICS, &["ifdown", "--force"])?;
    assert!(down.success(), "{down:?}");
    assert_eq!(down.stderr, "", "ifdown --force printed errors");
    assert_eq!(
        vsctl_lines(&host, &["list-ports", "br0"])?,
        Vec::<String>::new()
    );
    Ok(())
}
