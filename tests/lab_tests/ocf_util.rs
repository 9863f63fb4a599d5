//! Helpers shared by the OVSPort agent's lab tests (tests/ocf_*.rs,
//! tests/pacemaker_*.rs): a host with OVS, our hooks and the agent installed at
//! /usr/lib/ocf/resource.d/ifupdown-ovs/OVSPort, a peer on its bridge, and ways to
//! run the agent and read the port's state.

use crate::lab::{Lab, LabError, LabOptions, Output};

/// Where Pacemaker (and ocf-tester) find the agent.
pub const AGENT: &str = "/usr/lib/ocf/resource.d/ifupdown-ovs/OVSPort";
pub const PORT: &str = "ovsbr0p1";
pub const BRIDGE: &str = "ovsbr0";
pub const MAC: &str = "02:00:00:00:00:01";
pub const V4: &str = "192.0.2.50";
pub const V6: &str = "2001:db8::50";
pub const PEER_V4: &str = "192.0.2.20";
pub const PEER_V6: &str = "2001:db8::20";

/// The seed's HA setup (fixtures/examples/seed-ha.interfaces) with the addresses
/// of the tests: a bridge on eth0 and the floating port, which has no `auto`.
/// `ovs_arp_ignore 1` on the bridge and on eth0: otherwise their own devices answer
/// ARP requests for the port's address with their MACs (arp_ignore 0 answers for
/// any local address; eth0 sees the frames too with the userspace datapath).
pub const INTERFACES: &str = "\
auto ovsbr0
iface ovsbr0 inet manual
    ovs_type OVSBridge
    ovs_ports eth0
    ovs_datapath_type netdev
    ovs_disable_ipv6 yes
    ovs_arp_ignore 1

auto eth0
iface eth0 inet manual
    ovs_type OVSPort
    ovs_bridge ovsbr0
    ovs_disable_ipv6 yes
    ovs_arp_ignore 1

iface ovsbr0p1 inet static
    address 192.0.2.50/24
    ovs_type OVSIntPort
    ovs_bridge ovsbr0
    ovs_mac 02:00:00:00:00:01
    ovs_route_table 100

iface ovsbr0p1 inet6 static
    address 2001:db8::50/64
    accept_ra 0
    autoconf 0
";

/// A machine under test with the agent linked where Pacemaker looks for it.
pub fn host(name: &str, options: LabOptions) -> Result<Lab, LabError> {
    let host = Lab::with_options(name, options)?;
    install_agent(&host)?;
    Ok(host)
}

/// `/usr/lib/ocf/resource.d/ifupdown-ovs/OVSPort` -> `/usr/sbin/ifupdown-ovs`, in an
/// overlay of the lab (the package ships the same link).
pub fn install_agent(l: &Lab) -> Result<(), LabError> {
    l.overlay("/usr/lib/ocf")?;
    l.ok(&["mkdir", "-p", "/usr/lib/ocf/resource.d/ifupdown-ovs"])?;
    l.ok(&["ln", "-sf", "/usr/sbin/ifupdown-ovs", AGENT])?;
    Ok(())
}

/// Host and peer joined by eth0, OVS running, the interfaces file written, the
/// bridge up (the floating port is not).
pub fn ha_pair(name: &str) -> Result<(Lab, Lab), LabError> {
    let h = host(name, LabOptions::default())?;
    let peer = Lab::peer(&format!("{name}-peer"))?;
    h.add_veth("eth0", &peer, "eth0")?;
    peer.ok(&["ip", "addr", "add", &format!("{PEER_V4}/24"), "dev", "eth0"])?;
    peer.ok(&[
        "ip",
        "addr",
        "add",
        &format!("{PEER_V6}/64"),
        "dev",
        "eth0",
        "nodad",
    ])?;
    h.start_ovs()?;
    h.write_interfaces(INTERFACES)?;
    h.ok(&["ifup", "-a"])?;
    Ok((h, peer))
}

/// The standard parameters of the tests.
pub fn params() -> Vec<(String, String)> {
    [("interface", PORT), ("bridge", BRIDGE), ("mac", MAC)]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Run the agent's `action` with `params` (as `OCF_RESKEY_*`) and extra variables.
pub fn agent(
    l: &Lab,
    action: &str,
    params: &[(String, String)],
    extra: &[(&str, &str)],
) -> Result<Output, LabError> {
    let argv = [AGENT, action];
    let mut cmd = l.command(&argv);
    cmd.env("OCF_ROOT", "/usr/lib/ocf")
        .env("OCF_RESOURCE_INSTANCE", "test-port");
    for (k, v) in params {
        cmd.env(format!("OCF_RESKEY_{k}"), v);
    }
    for (k, v) in extra {
        cmd.env(k, v);
    }
    l.run_command(&argv, cmd, None)
}

/// The agent's exit code for `action` with the standard parameters.
pub fn rc(l: &Lab, action: &str) -> Result<i32, LabError> {
    Ok(agent(l, action, &params(), &[])?.code().unwrap_or(-1))
}

/// Asserts `action` exits `want`, showing the agent's output otherwise.
pub fn expect(l: &Lab, action: &str, want: i32) -> Result<Output, LabError> {
    let out = agent(l, action, &params(), &[])?;
    assert_eq!(out.code(), Some(want), "{action}: {out:?}");
    Ok(out)
}

/// The `ocf-exit-reason:` line of an output, if any.
pub fn exit_reason(out: &Output) -> Option<String> {
    out.stderr
        .lines()
        .find_map(|l| l.strip_prefix("ocf-exit-reason:"))
        .map(str::to_string)
}

/// Everything the 100-cycle test compares: OVS, links, addresses, rules, routes and
/// the per-device sysctls (ipv4 conf and ipv6 conf) of the devices there are.
pub fn state(l: &Lab) -> Result<String, LabError> {
    let mut out = String::new();
    for argv in [
        &["ovs-vsctl", "--timeout=10", "show"][..],
        &[
            "ovs-vsctl",
            "--timeout=10",
            "--columns=name,external_ids,mac,mtu_request",
            "list",
            "Interface",
        ],
        &["ip", "-d", "link"],
        &["ip", "addr"],
        &["ip", "rule"],
        &["ip", "-6", "rule"],
        &["ip", "route", "show", "table", "all"],
        &["ip", "-6", "route", "show", "table", "all"],
    ] {
        out.push_str(&format!("### {}\n", argv.join(" ")));
        out.push_str(&scrub(&l.ok(argv)?));
    }
    let devs = l.ok(&["ls", "/proc/sys/net/ipv4/conf"])?;
    for dev in devs.split_whitespace() {
        for fam in ["ipv4", "ipv6"] {
            let dir = format!("/proc/sys/net/{fam}/conf/{dev}");
            if !l.exists(&dir)? {
                continue;
            }
            // grep prints FILE:VALUE for every readable setting
            let text = l.run(&["grep", "-r", "-s", "", &dir])?.stdout;
            out.push_str(&format!("### {dir}\n{text}"));
        }
    }
    Ok(out)
}

/// Drops what changes by itself (counters, timers, statistics).
fn scrub(text: &str) -> String {
    text.lines()
        .filter(|l| !l.contains("valid_lft") && !l.contains("expires"))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Seconds since the epoch (the namespaces share the clock; `ping -D` prints it).
pub(crate) fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

/// Reply timestamps in a `ping -D` log.
pub(crate) fn reply_times(log: &str) -> Vec<f64> {
    log.lines()
        .filter(|l| l.contains("bytes from"))
        .filter_map(|l| l.strip_prefix('[')?.split(']').next()?.parse().ok())
        .collect()
}
