//! Where Debian's hook (/usr/share/openvswitch/scripts/ifupdown.sh) is wrong and we
//! are right: converge, order, no clobbering, quoting. Each scenario runs with our
//! hooks (and must work) and with Debian's hook in an identical lab (and must show
//! the Debian failure the comment describes), so every test would fail with
//! Debian's behaviour. Bridges get the userspace datapath through `ovs_extra`,
//! which both hooks understand. Needs root and the packages of `.ci/run`.

use crate::hook_util::*;
use crate::lab::{Hooks, Lab, LabError, LabOptions};

/// A machine with `hooks`, its NIC `eth0` wired to a peer, OVS running and
/// `interfaces` in place.
fn machine(name: &str, hooks: Hooks, interfaces: &str) -> Result<(Lab, Lab), LabError> {
    let host = Lab::with_options(
        name,
        LabOptions {
            hooks,
            ..Default::default()
        },
    )?;
    let wire = Lab::peer(&format!("{name}-wire"))?;
    host.add_veth("eth0", &wire, "eth0")?;
    host.start_ovs()?;
    host.write_interfaces(interfaces)?;
    Ok((host, wire))
}

/// A reboot as OVS and ifupdown see it: the daemons restart from the same
/// database, ifupdown's state (on tmpfs) is gone, NICs come back down.
fn reboot(host: &Lab) -> Result<(), LabError> {
    host.stop_ovs()?;
    host.ok(&[
        "sh",
        "-c",
        "rm -f /run/network/ifstate /run/network/ifstate.*",
    ])?;
    host.ok(&["ip", "link", "set", "dev", "eth0", "down"])?;
    host.start_ovs()
}

const CONVERGE_BEFORE: &str = "\
auto br0
iface br0 inet manual
    ovs_type OVSBridge
    ovs_ports eth0 p1
    ovs_extra set bridge ${IFACE} datapath_type=netdev

auto eth0
iface eth0 inet manual
    ovs_type OVSPort
    ovs_bridge br0
    ovs_options vlan_mode=trunk trunks=2,3

auto p1
iface p1 inet manual
    ovs_type OVSIntPort
    ovs_bridge br0
    ovs_options tag=5
    ovs_mtu 1400
";

/// The same after an edit: eth0 is a plain port now, p1 moved to VLAN 10, no MTU.
const CONVERGE_AFTER: &str = "\
auto br0
iface br0 inet manual
    ovs_type OVSBridge
    ovs_ports eth0 p1
    ovs_extra set bridge ${IFACE} datapath_type=netdev

auto eth0
iface eth0 inet manual
    ovs_type OVSPort
    ovs_bridge br0

auto p1
iface p1 inet manual
    ovs_type OVSIntPort
    ovs_bridge br0
    ovs_options tag=10
";

/// Edit the file, reboot (OVSDB keeps the old rows), `ifup -a`: the rows must
/// follow the file. Debian's hook runs `--may-exist add-port br0 p1 tag=10`, which
/// does nothing for an existing port: p1 keeps tag 5 and eth0 stays a trunk.
/// Columns another tool set are kept by us.
#[test]
fn converge_applies_changed_options() -> Result<(), LabError> {
    let (host, _wire) = machine("converge", Hooks::Ours, CONVERGE_BEFORE)?;
    quiet(&host, &["ifup", "-a"])?;
    assert_eq!(get(&host, &["Port", "p1", "tag"])?, "5");
    assert_eq!(get(&host, &["Port", "eth0", "trunks"])?, "[2, 3]");
    assert_eq!(get(&host, &["Interface", "p1", "mtu_request"])?, "1400");
    host.vsctl(&["set", "Port", "p1", "other_config:other-tool=kept"])?;

    host.write_interfaces(CONVERGE_AFTER)?;
    reboot(&host)?;
    quiet(&host, &["ifup", "-a"])?;
    assert_eq!(get(&host, &["Port", "p1", "tag"])?, "10");
    assert_eq!(get(&host, &["Port", "eth0", "vlan_mode"])?, "[]");
    assert_eq!(get(&host, &["Port", "eth0", "trunks"])?, "[]");
    assert_eq!(get(&host, &["Interface", "p1", "mtu_request"])?, "[]");
    assert_eq!(
        get(&host, &["Port", "p1", "other_config:other-tool"])?,
        "kept"
    );

    let (deb, _wire) = machine("converge-deb", Hooks::Debian, CONVERGE_BEFORE)?;
    deb.ok(&["ifup", "-a"])?;
    assert_eq!(get(&deb, &["Port", "p1", "tag"])?, "5");
    deb.write_interfaces(CONVERGE_AFTER)?;
    reboot(&deb)?;
    deb.run(&["ifup", "-a"])?;
    assert_eq!(
        get(&deb, &["Port", "p1", "tag"])?,
        "5",
        "Debian's hook converged?"
    );
    assert_eq!(get(&deb, &["Port", "eth0", "vlan_mode"])?, "trunk");
    Ok(())
}

/// Every stanza `auto`, ports before their bridge. Debian's hook runs
/// `add-port br0 p1` for p1 first: "no bridge named br0", p1 fails; the bridge,
/// later, brings up only `allow-br0` ports, so p1 stays down. We create br0 with
/// its own stanza's options (its ovs_extra: the userspace datapath) from p1's hook.
const ORDER: &str = "\
auto p1
iface p1 inet static
    address 192.0.2.1/24
    ovs_type OVSIntPort
    ovs_bridge br0

auto eth0
iface eth0 inet manual
    ovs_type OVSPort
    ovs_bridge br0

auto br0
iface br0 inet manual
    ovs_type OVSBridge
    ovs_ports p1 eth0
    ovs_extra set bridge ${IFACE} datapath_type=netdev
";

#[test]
fn ports_before_their_bridge() -> Result<(), LabError> {
    let (host, wire) = machine("order", Hooks::Ours, ORDER)?;
    wire.ok(&["ip", "addr", "add", "192.0.2.2/24", "dev", "eth0"])?;
    quiet(&host, &["ifup", "-a"])?;
    assert_eq!(get(&host, &["Bridge", "br0", "datapath_type"])?, "netdev");
    assert_eq!(vsctl_lines(&host, &["list-ports", "br0"])?, ["eth0", "p1"]);
    assert!(reaches(&wire, "192.0.2.1")?, "p1 unreachable");
    quiet(&host, &["ifdown", "-a"])?;
    assert_eq!(host.vsctl(&["list-br"])?.trim(), "");

    let (deb, _wire) = machine("order-deb", Hooks::Debian, ORDER)?;
    let out = deb.run(&["ifup", "-a"])?;
    assert!(
        out.stderr.contains("no bridge named br0"),
        "Debian's hook did not fail as described: {out:?}"
    );
    assert!(
        !deb.ok(&["ifquery", "--state"])?.contains("p1="),
        "p1 came up with Debian's hook"
    );
    Ok(())
}

const NO_CLOBBER: &str = "\
auto br0
iface br0 inet manual
    ovs_type OVSBridge
    ovs_ports eth0
    ovs_extra set bridge ${IFACE} datapath_type=netdev

auto eth0
iface eth0 inet manual
    ovs_type OVSPort
    ovs_bridge br0
";

/// What others add (a VM's tap, keys set by libvirt or an admin) survives our
/// converge and our ifdown; the bridge stays while a VM port is on it. Debian's
/// hook runs `del-br br0` on ifdown, which deletes the VM's port too.
#[test]
fn no_clobbering_of_others_ports_and_keys() -> Result<(), LabError> {
    fn others(host: &Lab, vm: &Lab) -> Result<(), LabError> {
        host.add_veth("vnet0", vm, "eth0")?;
        host.vsctl(&[
            "add-port",
            "br0",
            "vnet0",
            "--",
            "set",
            "Interface",
            "vnet0",
            "external_ids:iface-id=vm-1",
            "--",
            "set",
            "Port",
            "eth0",
            "other_config:stp-path-cost=7",
            "--",
            "set",
            "Bridge",
            "br0",
            "external_ids:owner=admin",
        ])?;
        Ok(())
    }
    let (host, _wire) = machine("noclobber", Hooks::Ours, NO_CLOBBER)?;
    let vm = Lab::peer("noclobber-vm")?;
    quiet(&host, &["ifup", "-a"])?;
    others(&host, &vm)?;
    reboot(&host)?;
    quiet(&host, &["ifup", "-a"])?;
    let keep = |h: &Lab| -> Result<(), LabError> {
        assert!(vsctl_lines(h, &["list-ports", "br0"])?.contains(&"vnet0".to_string()));
        assert_eq!(
            get(h, &["Interface", "vnet0", "external_ids:iface-id"])?,
            "vm-1"
        );
        assert_eq!(get(h, &["Bridge", "br0", "external_ids:owner"])?, "admin");
        Ok(())
    };
    keep(&host)?;
    assert_eq!(
        get(&host, &["Port", "eth0", "other_config:stp-path-cost"])?,
        "\"7\""
    );
    let down = host.run(&["ifdown", "-a"])?;
    assert!(down.success(), "{down:?}");
    let warnings: Vec<&str> = down.stderr.lines().collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("br0: bridge kept") && warnings[0].contains("vnet0"),
        "{warnings:?}"
    );
    keep(&host)?;
    assert_eq!(
        vsctl_lines(&host, &["list-ports", "br0"])?,
        ["vnet0"],
        "our port stayed"
    );
    assert_eq!(
        ours(&host)?,
        ["Bridge:br0", "Interface:br0"],
        "only the kept bridge is ours"
    );

    let (deb, _wire) = machine("noclobber-deb", Hooks::Debian, NO_CLOBBER)?;
    let vm = Lab::peer("noclobber-deb-vm")?;
    deb.ok(&["ifup", "-a"])?;
    others(&deb, &vm)?;
    deb.ok(&["ifdown", "-a"])?;
    assert!(
        !deb.vsctl(&["show"])?.contains("vnet0"),
        "Debian's hook kept the VM port?"
    );
    Ok(())
}

/// Values with `:`, spaces, `"` and `\` reach OVS intact, no shell involved. With
/// Debian's hook, `ovs_options` is split at every space (`other_config:descr="uplink`
/// `to` `sw1"`) and the whole add-port fails; its `eval` of ovs_extra eats the
/// quotes around the MAC, and `mac=00:01:...` is not valid ovs-vsctl syntax.
const QUOTING: &str = r#"
auto br0
iface br0 inet manual
    ovs_type OVSBridge
    ovs_extra set bridge ${IFACE} datapath_type=netdev

auto p1
iface p1 inet manual
    ovs_type OVSIntPort
    ovs_bridge br0
    ovs_options other_config:descr="uplink to sw1"
    ovs_extra set interface ${IFACE} mac="00:01:02:03:04:05" -- set interface ${IFACE} external_ids:note='say "hi" \o/'

auto p2
iface p2 inet manual
    ovs_type OVSIntPort
    ovs_bridge br0
    hwaddress 02:00:00:00:00:06
"#;

#[test]
fn quoting_reaches_ovs_intact() -> Result<(), LabError> {
    let (host, _wire) = machine("quoting", Hooks::Ours, QUOTING)?;
    quiet(&host, &["ifup", "-a"])?;
    assert_eq!(
        get(&host, &["Port", "p1", "other_config:descr"])?,
        "\"uplink to sw1\""
    );
    assert_eq!(
        get(&host, &["Interface", "p1", "mac"])?,
        "\"00:01:02:03:04:05\""
    );
    assert_eq!(
        get(&host, &["Interface", "p1", "external_ids:note"])?,
        r#""say \"hi\" \\o/""#
    );
    assert_eq!(link_mac(&host, "p1")?, "00:01:02:03:04:05");
    // hwaddress of an internal port goes to Interface.mac (survives OVS restarts)
    assert_eq!(
        get(&host, &["Interface", "p2", "mac"])?,
        "\"02:00:00:00:00:06\""
    );
    quiet(&host, &["ifdown", "-a"])?;

    let (deb, _wire) = machine("quoting-deb", Hooks::Debian, QUOTING)?;
    deb.run(&["ifup", "-a"])?;
    let descr = deb.run(&[
        "ovs-vsctl",
        "--timeout=5",
        "get",
        "Port",
        "p1",
        "other_config:descr",
    ])?;
    assert!(
        !descr.success() || descr.stdout.trim() != "\"uplink to sw1\"",
        "Debian's hook passed the value intact: {descr:?}"
    );
    Ok(())
}
