//! `ifup -a` / `ifdown -a` in one OVS transaction each (the `IFACE=--all` runs of
//! the hook, src/hook/all.rs) in the lab: the same OVSDB and kernel state as
//! bringing each interface up with its own `ifup`, at most two write transactions
//! (counted by `Open_vSwitch.next_cfg`, which every ovs-vsctl write increments),
//! nothing left after `ifdown -a`, and an interface with invalid options failing
//! alone with its own message. Needs root and the packages of `.ci/run`.

use std::collections::BTreeMap;

use crate::hook_util::*;
use crate::lab::{Lab, LabError, Output};

const VLANS: u32 = 20;

/// A bridge with a trunk port, VLAN ports, a bond, a VLAN bridge with an inet +
/// inet6 port, a patch to a second bridge, and a port of class `allow-br0` that
/// the bridge's `ifup --allow=br0` brings up.
fn config() -> String {
    let vlans: Vec<String> = (1..=VLANS).map(|k| format!("vlan{k}")).collect();
    let mut t = format!(
        "\
auto br0
iface br0 inet manual
    ovs_type OVSBridge
    ovs_ports eth0 bond0 p99 {}
    ovs_datapath_type netdev
    ovs_extra set bridge ${{IFACE}} other-config:mac-aging-time=301

auto eth0
iface eth0 inet manual
    ovs_type OVSPort
    ovs_bridge br0
    ovs_options vlan_mode=trunk trunks=1-30
    ovs_disable_ipv6 yes
    ovs_arp_ignore 1

auto bond0
iface bond0 inet manual
    ovs_type OVSBond
    ovs_bridge br0
    ovs_bonds eth1 eth2
    ovs_options bond_mode=active-backup

allow-br0 p99
iface p99 inet manual
    ovs_type OVSIntPort
    ovs_bridge br0
    ovs_tag 99

auto br0v30
iface br0v30 inet manual
    ovs_type OVSBridge
    ovs_vlan_parent br0
    ovs_vlan 30

auto p30
iface p30 inet static
    address 192.0.2.30/24
    ovs_type OVSIntPort
    ovs_bridge br0v30
    ovs_mac 02:00:00:00:00:30
iface p30 inet6 static
    address 2001:db8::30/64
    ovs_extra set interface ${{IFACE}} external-ids:addr=${{IF_ADDRESS}}

auto br1
iface br1 inet manual
    ovs_type OVSBridge
    ovs_datapath_type netdev

auto patch-a
iface patch-a inet manual
    ovs_type OVSPatchPort
    ovs_bridge br0
    ovs_patch_peer patch-b

auto patch-b
iface patch-b inet manual
    ovs_type OVSPatchPort
    ovs_bridge br1
    ovs_patch_peer patch-a
",
        vlans.join(" ")
    );
    for k in 1..=VLANS {
        t.push_str(&format!(
            "\nauto vlan{k}\niface vlan{k} inet manual\n    ovs_type OVSIntPort\n    ovs_bridge br0\n    ovs_options tag={k}\n"
        ));
        if k % 5 == 0 {
            t.push_str("    ovs_extra set interface ${IFACE} external-ids:every=fifth\n");
        }
    }
    t
}

/// Interfaces in file order (what `ifup -a` brings up), p99 last (its bridge's
/// `ifup --allow=br0` brings it up).
fn order() -> Vec<String> {
    let mut v: Vec<String> = [
        "br0", "eth0", "bond0", "br0v30", "p30", "br1", "patch-a", "patch-b",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.extend((1..=VLANS).map(|k| format!("vlan{k}")));
    v.push("p99".into());
    v
}

/// A lab with the "NICs" the config needs, OVS running, the config written.
fn lab(name: &str, text: &str) -> Result<(Lab, Lab), LabError> {
    let host = Lab::new(name)?;
    let wire = Lab::peer(&format!("{name}-wire"))?;
    for nic in ["eth0", "eth1", "eth2"] {
        host.add_veth(nic, &wire, nic)?;
    }
    host.start_ovs()?;
    host.write_interfaces(text)?;
    Ok((host, wire))
}

fn next_cfg(l: &Lab) -> Result<u64, LabError> {
    let v = l.vsctl(&["get", "Open_vSwitch", ".", "next_cfg"])?;
    Ok(v.trim()
        .parse()
        .unwrap_or_else(|e| panic!("next_cfg {v:?}: {e}")))
}

/// OVSDB rows we care about, uuids replaced by names, volatile columns left out
/// (ofport numbers and the MACs of taps depend on creation order and chance).
fn ovsdb(l: &Lab) -> Result<Vec<String>, LabError> {
    let tables = [
        (
            "Bridge",
            "name,ports,datapath_type,external_ids,other_config",
        ),
        (
            "Port",
            "name,interfaces,tag,trunks,vlan_mode,bond_mode,fake_bridge,external_ids,other_config",
        ),
        (
            "Interface",
            "name,type,options,mac,mtu_request,external_ids,error",
        ),
    ];
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for (t, _) in tables {
        for line in l
            .vsctl(&[
                "--format=csv",
                "--data=bare",
                "--no-headings",
                "--columns=_uuid,name",
                "list",
                t,
            ])?
            .lines()
        {
            if let Some((u, n)) = line.split_once(',') {
                names.insert(u.to_string(), format!("{t}:{n}"));
            }
        }
    }
    let mut out = Vec::new();
    for (t, cols) in tables {
        let text = l.vsctl(&[
            "--format=csv",
            "--data=bare",
            "--no-headings",
            &format!("--columns={cols}"),
            "list",
            t,
        ])?;
        for line in text.lines() {
            // a set or map is one field of space-separated elements: map uuids to
            // names, sort the elements
            let fields: Vec<String> = line
                .split(',')
                .map(|f| {
                    let f = f.trim_matches('"');
                    let mut el: Vec<String> = f
                        .split(' ')
                        .map(|x| names.get(x).cloned().unwrap_or_else(|| x.to_string()))
                        .collect();
                    el.sort();
                    el.join(" ")
                })
                .collect();
            out.push(format!("{t} {}", fields.join(" | ")));
        }
    }
    out.sort();
    Ok(out)
}

/// The applied-stanza store (`hook::applied`, what `reload` compares with):
/// each file, by name, and its text.
fn applied(l: &Lab) -> Result<Vec<(String, String)>, LabError> {
    let dir = "/run/ifupdown-ovs-applied";
    let mut out = Vec::new();
    for name in l.ok(&["ls", "-A", dir])?.split_whitespace() {
        out.push((name.to_string(), l.read_file(&format!("{dir}/{name}"))?));
    }
    Ok(out)
}

/// Kernel state of our devices: flags and MTU, fixed MACs, global addresses and
/// the sysctls we set.
fn kernel(l: &Lab) -> Result<Vec<String>, LabError> {
    let mut out = Vec::new();
    let links = l.ok(&["ip", "-o", "link", "show"])?;
    for line in links.lines() {
        let Some(rest) = line.split_once(": ").map(|x| x.1) else {
            continue;
        };
        let Some((dev, rest)) = rest.split_once(": ") else {
            continue;
        };
        let dev = dev.split('@').next().unwrap_or(dev);
        let flags = rest.split_whitespace().next().unwrap_or("");
        let mtu = rest
            .split_whitespace()
            .skip_while(|w| *w != "mtu")
            .nth(1)
            .unwrap_or("");
        let mut s = format!("link {dev} {flags} mtu {mtu}");
        if dev == "p30" {
            s.push_str(&format!(
                " {}",
                rest.split("link/ether ")
                    .nth(1)
                    .unwrap_or("")
                    .split(' ')
                    .next()
                    .unwrap_or("")
            ));
        }
        out.push(s);
    }
    let addrs = l.ok(&["ip", "-o", "addr", "show", "scope", "global"])?;
    for line in addrs.lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        if w.len() > 3 {
            out.push(format!("addr {} {} {}", w[1], w[2], w[3]));
        }
    }
    for (dev, key) in [
        ("eth0", "ipv6/conf/eth0/disable_ipv6"),
        ("eth0", "ipv4/conf/eth0/arp_ignore"),
        ("eth1", "ipv6/conf/eth1/disable_ipv6"),
    ] {
        let v = l.read_file(&format!("/proc/sys/net/{key}"))?;
        out.push(format!("sysctl {dev} {key} {}", v.trim()));
    }
    out.sort();
    Ok(out)
}

fn state(l: &Lab) -> Result<Vec<String>, LabError> {
    let mut s = ifstate(l)?;
    s.sort();
    Ok(s)
}

fn ifstate(l: &Lab) -> Result<Vec<String>, LabError> {
    Ok(l.ok(&["ifquery", "--state"])?
        .lines()
        .map(str::to_string)
        .filter(|x| !x.starts_with("lo="))
        .collect())
}

#[test]
fn ifup_all_is_one_transaction_with_the_same_result_as_one_by_one() -> Result<(), LabError> {
    let text = config();
    let (one, _w1) = lab("batch-one", &text)?;
    let before = next_cfg(&one)?;
    for name in order() {
        if name == "p99" {
            continue; // br0's ifup --allow=br0 brought it up
        }
        let out = one.run(&["ifup", &name])?;
        assert!(out.success(), "ifup {name}: {out:?}");
    }
    // the counter counts: one by one is a transaction per interface at least
    let writes = next_cfg(&one)? - before;
    assert!(writes >= order().len() as u64 - 1, "one by one: {writes}");

    let (all, _w2) = lab("batch-all", &text)?;
    let before = next_cfg(&all)?;
    let up = all.run(&["ifup", "-a"])?;
    assert!(up.success(), "ifup -a: {up:?}");
    assert_eq!(up.stderr, "", "ifup -a printed something");
    let writes = next_cfg(&all)? - before;
    assert!(writes <= 2, "ifup -a used {writes} write transactions");
    assert_eq!(writes, 2, "the batch and p30's own (see below)");

    assert_eq!(state(&all)?, state(&one)?, "ifupdown's state");
    let (a, o) = (ovsdb(&all)?, ovsdb(&one)?);
    assert_eq!(a, o, "OVSDB differs (left: ifup -a, right: one by one)");
    assert!(
        a.iter()
            .any(|l| l.starts_with("Port vlan20 ") && l.contains("| 20 |")),
        "{a:#?}"
    );
    assert_eq!(kernel(&all)?, kernel(&one)?, "kernel state differs");
    assert!(
        all.ok(&["ip", "-br", "addr", "show", "p30"])?
            .contains("2001:db8::30/64")
    );
    // nothing left of the batch's record
    assert_eq!(all.ok(&["ls", "-A", "/run/ifupdown-ovs"])?.trim(), "");

    // again: nothing to do (all configured), quiet
    let before = next_cfg(&all)?;
    let again = all.run(&["ifup", "-a"])?;
    assert!(again.success() && again.stderr.is_empty(), "{again:?}");
    assert_eq!(next_cfg(&all)?, before);

    // ifdown -a: one transaction, nothing left
    let before = next_cfg(&all)?;
    let down = all.run(&["ifdown", "-a"])?;
    assert!(down.success(), "ifdown -a: {down:?}");
    // (ifupdown itself complains that p30's inet6 address is gone: the inet
    // stanza's down took the link down before)
    assert!(!down.stderr.contains("ifupdown-ovs"), "{}", down.stderr);
    let writes = next_cfg(&all)? - before;
    assert!(writes <= 2, "ifdown -a used {writes} write transactions");
    assert_eq!(all.vsctl(&["list-br"])?.trim(), "");
    assert_eq!(
        all.vsctl(&["--bare", "--columns=name", "list", "Interface"])?
            .trim(),
        ""
    );
    assert!(ifstate(&all)?.is_empty(), "{:?}", ifstate(&all)?);
    for dev in ["vlan1", "vlan20", "p30", "p99", "br0"] {
        assert!(!all.link_exists(dev)?, "{dev} left");
    }
    assert_eq!(
        all.read_file("/proc/sys/net/ipv6/conf/eth0/disable_ipv6")?
            .trim(),
        "0"
    );
    assert_eq!(all.ok(&["ls", "-A", "/run/ifupdown-ovs"])?.trim(), "");
    // and up again from scratch, verbose: still one transaction, same state as
    // before; the ports' runs did not even read the file, a bridge's and p30's
    // (inet static: ifupdown converts its address) checked it
    let before = next_cfg(&all)?;
    let up = all.run(&["ifup", "-v", "-a"])?;
    assert!(up.success(), "{up:?}");
    assert!(next_cfg(&all)? - before <= 2);
    assert_eq!(ovsdb(&all)?, o);
    let done = "set up in OVS at the start of this ifup -a";
    let said = |what: &str| {
        up.stderr
            .lines()
            .any(|l| l == format!("ifupdown-ovs: {what}: {done}"))
    };
    let checked = |what: &str| {
        up.stderr.lines().any(|l| {
            l == format!("ifupdown-ovs: {what}: {done} (checked against the interfaces file)")
        })
    };
    // (p99 comes up in br0's nested ifup, which is not verbose)
    for p in ["eth0", "bond0", "vlan1", "vlan20", "patch-a"] {
        assert!(said(p), "{p}: {}", up.stderr);
    }
    for p in ["br0", "br0v30", "br1"] {
        assert!(checked(p), "{p}: {}", up.stderr);
    }
    // p30's ovs_extra uses ${IF_ADDRESS}, which ifupdown hands its hooks without
    // the prefix (192.0.2.30, where the file says 192.0.2.30/24): its own run
    // sees another configuration than the batch did and converges it itself.
    assert!(!said("p30") && !checked("p30"), "{}", up.stderr);
    assert_eq!(
        get(&all, &["Interface", "p30", "external_ids:addr"])?,
        "\"192.0.2.30\""
    );
    Ok(())
}

#[test]
fn one_invalid_interface_fails_alone_with_its_own_message() -> Result<(), LabError> {
    let text = config().replace("ovs_options tag=7\n", "ovs_options tag=seven\n");
    let (host, _wire) = lab("batch-invalid", &text)?;
    let up = host.run(&["ifup", "-a"])?;
    assert!(!up.success(), "ifup -a should report the failure: {up:?}");
    let ours: Vec<&str> = up
        .stderr
        .lines()
        .filter(|l| l.starts_with("ifupdown-ovs:"))
        .collect();
    assert_eq!(
        ours,
        [
            "ifupdown-ovs: /etc/network/interfaces:103: error: vlan7: ovs_options: tag=seven: \"seven\" is not a VLAN id (a number in 0..4095)"
        ],
        "{}",
        up.stderr
    );
    assert!(
        up.stderr.contains("failed to bring up vlan7"),
        "{}",
        up.stderr
    );
    only_vlan7_failed(&host, &up)
}

/// Debian's layout (README.Debian): allow-ovs bridge, allow-BRIDGE ports.
fn debian_layout() -> String {
    let mut text = String::from(
        "\
allow-ovs br0
iface br0 inet manual
    ovs_type OVSBridge
    ovs_ports eth0",
    );
    for k in 1..=VLANS {
        text.push_str(&format!(" vlan{k}"));
    }
    text.push_str(
        "
    ovs_datapath_type netdev

allow-br0 eth0
iface eth0 inet manual
    ovs_type OVSPort
    ovs_bridge br0
",
    );
    for k in 1..=VLANS {
        text.push_str(&format!(
            "\nallow-br0 vlan{k}\niface vlan{k} inet manual\n    ovs_type OVSIntPort\n    ovs_bridge br0\n    ovs_tag {k}\n"
        ));
    }
    text
}

#[test]
fn allow_class_with_all_and_nested_ifup_of_the_bridge_ports() -> Result<(), LabError> {
    let text = debian_layout();
    let (host, _wire) = lab("batch-allow", &text)?;
    let before = next_cfg(&host)?;
    let up = host.run(&["ifup", "--allow=ovs", "-a"])?;
    assert!(up.success() && up.stderr.is_empty(), "{up:?}");
    assert!(
        next_cfg(&host)? - before <= 2,
        "more than 2 write transactions"
    );
    assert_eq!(
        vsctl_lines(&host, &["list-ports", "br0"])?.len(),
        1 + VLANS as usize
    );
    assert_eq!(ifstate(&host)?.len(), 2 + VLANS as usize);
    assert_eq!(get(&host, &["Port", "vlan3", "tag"])?, "3");
    let before = next_cfg(&host)?;
    let down = host.run(&["ifdown", "-a"])?;
    assert!(down.success() && down.stderr.is_empty(), "{down:?}");
    assert!(
        next_cfg(&host)? - before <= 2,
        "more than 2 write transactions"
    );
    assert_eq!(host.vsctl(&["list-br"])?.trim(), "");
    Ok(())
}

#[test]
fn ifdown_all_keeps_a_bridge_with_a_foreign_port() -> Result<(), LabError> {
    let mut text = String::from(
        "auto br0\niface br0 inet manual\n    ovs_type OVSBridge\n    ovs_datapath_type netdev\n",
    );
    for k in 1..=3 {
        text.push_str(&format!(
            "\nauto vlan{k}\niface vlan{k} inet manual\n    ovs_type OVSIntPort\n    ovs_bridge br0\n    ovs_tag {k}\n"
        ));
    }
    let (host, _wire) = lab("batch-foreign", &text)?;
    host.ifup(&["-a"])?;
    // a VM's port that no stanza declares
    host.add_internal_port("br0", "vnet0")?;
    let before = next_cfg(&host)?;
    let down = host.run(&["ifdown", "-a"])?;
    assert!(down.success(), "{down:?}");
    assert_eq!(next_cfg(&host)? - before, 1, "one write transaction");
    let ours: Vec<&str> = down
        .stderr
        .lines()
        .filter(|l| l.starts_with("ifupdown-ovs:"))
        .collect();
    assert_eq!(ours.len(), 1, "{}", down.stderr);
    assert!(
        ours[0].starts_with("ifupdown-ovs: warning: br0: bridge kept")
            && ours[0].contains("(vnet0)"),
        "{}",
        ours[0]
    );
    assert_eq!(vsctl_lines(&host, &["list-br"])?, ["br0"]);
    assert_eq!(vsctl_lines(&host, &["list-ports", "br0"])?, ["vnet0"]);
    assert!(ifstate(&host)?.is_empty());
    Ok(())
}

/// A lab with `text` brought up with one `ifup NAME` per interface of
/// [`order`], but those of `skip` (and p99: its bridge's nested ifup brings it up).
fn one_by_one(name: &str, text: &str, skip: &[&str]) -> Result<(Lab, Lab), LabError> {
    let (one, wire) = lab(name, text)?;
    for n in order() {
        if n == "p99" || skip.contains(&n.as_str()) {
            continue;
        }
        let out = one.run(&["ifup", &n])?;
        assert!(out.success(), "ifup {n}: {out:?}");
    }
    Ok((one, wire))
}

/// Debian 12's boot (`networking.service`): `ifup -a --read-environment`, with
/// exclusions in ifup's environment, which its hooks do not see. Batched like
/// `ifup -a`, excluding what ifup excludes; `ifdown -a --read-environment
/// --exclude=lo` too.
#[test]
fn read_environment_boot_is_batched_and_takes_exclusions_from_ifup() -> Result<(), LabError> {
    let text = config();
    let (one, _w1) = one_by_one("batch-env-one", &text, &["vlan3"])?;
    let (all, _w2) = lab("batch-env-all", &text)?;
    let before = next_cfg(&all)?;
    let env = "EXCLUDE_INTERFACES=vlan3 lo";
    let up = all.run(&["env", env, "ifup", "-a", "--read-environment"])?;
    assert!(up.success() && up.stderr.is_empty(), "{up:?}");
    let writes = next_cfg(&all)? - before;
    assert_eq!(writes, 2, "the batch and p30's own, not one per interface");
    let st = state(&all)?;
    assert!(!st.iter().any(|s| s.starts_with("vlan3=")), "{st:?}");
    assert_eq!(st, state(&one)?, "ifupdown's state");
    let a = ovsdb(&all)?;
    assert!(
        !a.iter().any(|l| l.contains("vlan3")),
        "vlan3 excluded: {a:#?}"
    );
    assert_eq!(a, ovsdb(&one)?, "OVSDB (left: batch, right: one by one)");
    assert_eq!(kernel(&all)?, kernel(&one)?, "kernel state differs");
    assert_eq!(all.ok(&["ls", "-A", "/run/ifupdown-ovs"])?.trim(), "");

    let before = next_cfg(&all)?;
    let down = all.run(&[
        "env",
        env,
        "ifdown",
        "-a",
        "--read-environment",
        "--exclude=lo",
    ])?;
    assert!(down.success(), "{down:?}");
    assert!(!down.stderr.contains("ifupdown-ovs"), "{}", down.stderr);
    assert_eq!(next_cfg(&all)? - before, 1, "one write transaction");
    assert_eq!(all.vsctl(&["list-br"])?.trim(), "");
    assert!(ifstate(&all)?.is_empty(), "{:?}", ifstate(&all)?);

    // verbose from the environment: the ports' runs say the batch did it
    let up = all.run(&[
        "env",
        "VERBOSE=yes",
        env,
        "ifup",
        "-a",
        "--read-environment",
    ])?;
    assert!(up.success(), "{up:?}");
    for p in ["eth0", "bond0", "vlan1", "vlan20"] {
        let said = format!("ifupdown-ovs: {p}: set up in OVS at the start of this ifup -a");
        assert!(up.stderr.lines().any(|l| l == said), "{p}: {}", up.stderr);
    }
    assert!(!up.stderr.contains("vlan3"), "{}", up.stderr);
    Ok(())
}

/// [`config`] with `allow-ovs` where it says `auto` (p99 stays `allow-br0`), and
/// what `/etc/init.d/openvswitch-switch` brings up: `ifquery --allow ovs --list`.
fn init_script_lab(name: &str, text: &str) -> Result<(Lab, Lab, Vec<String>), LabError> {
    let (host, wire) = lab(name, text)?;
    let names: Vec<String> = host
        .ok(&["ifquery", "--allow", "ovs", "--list"])?
        .split_whitespace()
        .map(str::to_string)
        .collect();
    Ok((host, wire, names))
}

/// `ifup --allow=ovs NAME...`, `names` in the given order.
fn ifup_list(host: &Lab, extra: &[&str], names: &[String]) -> Result<Output, LabError> {
    let mut argv: Vec<&str> = vec!["ifup"];
    argv.extend_from_slice(extra);
    argv.push("--allow=ovs");
    argv.extend(names.iter().map(String::as_str));
    host.run(&argv)
}

/// The init script's `ifup --allow=ovs $(ifquery --allow ovs --list)`: no
/// `IFACE=--all` run, yet one transaction (its first interface's run sets them
/// all up), and the same state as one by one.
#[test]
fn init_script_list_is_one_transaction_with_the_same_result_as_one_by_one() -> Result<(), LabError>
{
    let text = config().replace("auto ", "allow-ovs ");
    let (one, _w1) = one_by_one("batch-list-one", &text, &[])?;
    let (all, _w2, names) = init_script_lab("batch-list", &text)?;
    assert_eq!(names.len(), order().len() - 1, "{names:?}");
    let before = next_cfg(&all)?;
    let up = ifup_list(&all, &[], &names)?;
    assert!(up.success() && up.stderr.is_empty(), "{up:?}");
    let writes = next_cfg(&all)? - before;
    assert_eq!(writes, 2, "the batch and p30's own, not one per interface");
    assert_eq!(state(&all)?, state(&one)?, "ifupdown's state");
    let o = ovsdb(&one)?;
    assert_eq!(ovsdb(&all)?, o, "OVSDB (left: batch, right: one by one)");
    assert_eq!(kernel(&all)?, kernel(&one)?, "kernel state differs");
    // the post-up runs stored what the batch rendered for them: the same
    let stored = applied(&all)?;
    for n in &names {
        assert!(stored.iter().any(|(s, _)| s == n), "{n}: {stored:?}");
    }
    assert_eq!(stored, applied(&one)?, "applied stanzas (left: batch)");

    // which run took which path
    all.ifdown(&["-a"])?;
    let before = next_cfg(&all)?;
    let up = ifup_list(&all, &["-v"], &names)?;
    assert!(up.success(), "{up:?}");
    assert!(next_cfg(&all)? - before <= 2);
    assert_eq!(ovsdb(&all)?, o);
    let done = "set up in OVS at the start of this ifup -a";
    for p in ["eth0", "bond0", "vlan1", "vlan20", "patch-a"] {
        let said = format!("ifupdown-ovs: {p}: {done}");
        assert!(up.stderr.lines().any(|l| l == said), "{p}: {}", up.stderr);
    }
    for p in ["br0", "br0v30", "br1"] {
        let said = format!("ifupdown-ovs: {p}: {done} (checked against the interfaces file)");
        assert!(up.stderr.lines().any(|l| l == said), "{p}: {}", up.stderr);
    }
    Ok(())
}

/// A broken interface in the list, first (its run is the one that batches the
/// others) and in the middle: it fails alone, with its own message.
#[test]
fn init_script_list_with_a_broken_interface_fails_it_alone() -> Result<(), LabError> {
    let text = config()
        .replace("auto ", "allow-ovs ")
        .replace("ovs_options tag=7\n", "ovs_options tag=seven\n");
    for (lab_name, first) in [("batch-list-bad1", true), ("batch-list-bad2", false)] {
        let (host, _wire, mut names) = init_script_lab(lab_name, &text)?;
        if first {
            names.retain(|n| n != "vlan7");
            names.insert(0, "vlan7".into());
        }
        let up = ifup_list(&host, &[], &names)?;
        assert!(!up.success(), "ifup should report the failure: {up:?}");
        let ours: Vec<&str> = up
            .stderr
            .lines()
            .filter(|l| l.starts_with("ifupdown-ovs:"))
            .collect();
        assert_eq!(ours.len(), 1, "{}", up.stderr);
        assert!(
            ours[0].contains("\"seven\" is not a VLAN id"),
            "{}",
            ours[0]
        );
        only_vlan7_failed(&host, &up)?;
    }
    Ok(())
}

/// Debian's layout through the init script: `ifup --allow=ovs br0` alone. Its
/// run sets up the bridge and its `allow-br0` ports as one batch; every port's
/// run in the bridge's nested `ifup --allow=br0` then used its record entry (the
/// record is left empty: all used), instead of reading OVSDB itself.
#[test]
fn init_script_single_bridge_batches_its_ports_for_their_runs() -> Result<(), LabError> {
    let (host, _wire) = lab("batch-list-br", &debian_layout())?;
    let before = next_cfg(&host)?;
    let up = host.run(&["ifup", "--allow=ovs", "br0"])?;
    assert!(up.success() && up.stderr.is_empty(), "{up:?}");
    assert_eq!(next_cfg(&host)? - before, 1, "one write transaction");
    assert_eq!(
        vsctl_lines(&host, &["list-ports", "br0"])?.len(),
        1 + VLANS as usize
    );
    assert_eq!(ifstate(&host)?.len(), 2 + VLANS as usize);
    assert_eq!(get(&host, &["Port", "vlan3", "tag"])?, "3");
    let records = host.ok(&["ls", "-A", "/run/ifupdown-ovs"])?;
    let rec: Vec<&str> = records.split_whitespace().collect();
    assert_eq!(rec.len(), 1, "{records}");
    assert!(rec[0].starts_with("up."), "{records}");
    let left = host.ok(&["ls", "-A", &format!("/run/ifupdown-ovs/{}", rec[0])])?;
    assert_eq!(left.trim(), "", "entries no run used");
    Ok(())
}

/// The init script's stop, `ifdown --allow=ovs $(ifquery --allow ovs --list)`:
/// no `IFACE=--all` run, yet one removal transaction (by the last name's run),
/// and nothing left, as one by one; with a bridge alone (Debian's layout) too.
#[test]
fn init_script_ifdown_list_is_one_transaction_and_leaves_nothing() -> Result<(), LabError> {
    let text = config().replace("auto ", "allow-ovs ");
    let (all, _w, names) = init_script_lab("batch-list-down", &text)?;
    let up = ifup_list(&all, &[], &names)?;
    assert!(up.success(), "{up:?}");
    let before = next_cfg(&all)?;
    let mut argv: Vec<&str> = vec!["ifdown", "--allow=ovs"];
    argv.extend(names.iter().map(String::as_str));
    let down = all.run(&argv)?;
    assert!(down.success(), "{down:?}");
    assert!(!down.stderr.contains("ifupdown-ovs"), "{}", down.stderr);
    let writes = next_cfg(&all)? - before;
    assert_eq!(writes, 1, "one removal, not one per interface");
    assert_eq!(all.vsctl(&["list-br"])?.trim(), "");
    assert_eq!(
        all.vsctl(&["--bare", "--columns=name", "list", "Interface"])?
            .trim(),
        ""
    );
    assert!(ifstate(&all)?.is_empty(), "{:?}", ifstate(&all)?);
    for dev in ["vlan1", "vlan20", "p30", "p99", "br0"] {
        assert!(!all.link_exists(dev)?, "{dev} left");
    }
    assert_eq!(
        all.read_file("/proc/sys/net/ipv6/conf/eth0/disable_ipv6")?
            .trim(),
        "0"
    );
    let left = all.ok(&["ls", "-A", "/run/ifupdown-ovs"])?;
    assert!(!left.contains("down."), "{left}");

    // the last names get no hook run (excluded, not configured): the last name
    // that does applies the removals; the others stay
    let up = ifup_list(&all, &[], &names)?;
    assert!(up.success(), "{up:?}");
    all.ifdown(&["vlan3"])?;
    let before = next_cfg(&all)?;
    let down = all.run(&[
        "ifdown",
        "--allow=ovs",
        "--exclude=br1",
        "vlan1",
        "vlan2",
        "br1",
        "vlan3",
    ])?;
    assert!(down.success(), "{down:?}");
    assert!(!down.stderr.contains("ifupdown-ovs"), "{}", down.stderr);
    assert_eq!(next_cfg(&all)? - before, 1, "one removal");
    let st = ifstate(&all)?;
    for gone in ["vlan1=", "vlan2=", "vlan3="] {
        assert!(!st.iter().any(|s| s.starts_with(gone)), "{st:?}");
    }
    assert!(st.contains(&"br1=br1".to_string()), "{st:?}");
    let ports = vsctl_lines(&all, &["list-ports", "br0"])?;
    for gone in ["vlan1", "vlan2", "vlan3"] {
        assert!(!ports.contains(&gone.to_string()), "{ports:?}");
    }
    assert!(ports.contains(&"vlan4".to_string()), "{ports:?}");
    assert_eq!(vsctl_lines(&all, &["list-ports", "br1"])?, ["patch-b"]);
    let left = all.ok(&["ls", "-A", "/run/ifupdown-ovs"])?;
    assert!(!left.contains("down."), "{left}");
    // the same as one by one
    let (one, _w1, _) = init_script_lab("batch-list-down-one", &text)?;
    assert!(ifup_list(&one, &[], &names)?.success());
    for n in ["vlan3", "vlan1", "vlan2"] {
        one.ifdown(&[n])?;
    }
    assert_eq!(state(&all)?, state(&one)?, "ifupdown's state");
    assert_eq!(
        ovsdb(&all)?,
        ovsdb(&one)?,
        "OVSDB (left: batch, right: one by one)"
    );
    assert_eq!(kernel(&all)?, kernel(&one)?, "kernel state differs");

    let (host, _wire) = lab("batch-list-down-br", &debian_layout())?;
    host.ifup(&["--allow=ovs", "br0"])?;
    let before = next_cfg(&host)?;
    let down = host.run(&["ifdown", "--allow=ovs", "br0"])?;
    assert!(down.success() && down.stderr.is_empty(), "{down:?}");
    assert_eq!(next_cfg(&host)? - before, 1, "one write transaction");
    assert_eq!(host.vsctl(&["list-br"])?.trim(), "");
    assert!(ifstate(&host)?.is_empty(), "{:?}", ifstate(&host)?);
    Ok(())
}

/// After an ifup in which the broken `vlan7` failed: no message about any other
/// interface, every other port on br0, everything but vlan7 in ifupdown's state.
fn only_vlan7_failed(host: &Lab, up: &Output) -> Result<(), LabError> {
    let other: Vec<&str> = up
        .stderr
        .lines()
        .filter(|l| l.contains("failed") && !l.contains("vlan7"))
        .collect();
    assert!(other.is_empty(), "messages about others: {other:?}");
    let ports = vsctl_lines(host, &["list-ports", "br0"])?;
    assert!(!ports.contains(&"vlan7".to_string()), "{ports:?}");
    for p in ["eth0", "bond0", "p99", "vlan1", "vlan20", "patch-a"] {
        assert!(ports.contains(&p.to_string()), "{p} missing: {ports:?}");
    }
    let st = ifstate(host)?;
    assert!(!st.iter().any(|s| s.starts_with("vlan7=")), "{st:?}");
    assert_eq!(st.len(), order().len() - 1, "{st:?}");
    Ok(())
}

/// `ifupdown-ovs: FILE:LINE: vlan7: OPTION: Open vSwitch refused it: `, the
/// start of the error of vlan7's own run, LINE that of the first line from
/// vlan7's stanza on that starts with `option` (the stanza's when "iface").
fn refused_vlan7(text: &str, option: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with("iface vlan7 "))
        .expect("vlan7's stanza");
    let at = lines[start..]
        .iter()
        .position(|l| l.trim_start().starts_with(option))
        .expect("the option")
        + start
        + 1;
    let shown = if option == "iface" {
        "iface vlan7"
    } else {
        option
    };
    format!("ifupdown-ovs: /etc/network/interfaces:{at}: vlan7: {shown}: Open vSwitch refused it: ")
}

/// The lines of ours in `out`'s stderr.
fn our_lines(out: &Output) -> Vec<&str> {
    out.stderr
        .lines()
        .filter(|l| l.starts_with("ifupdown-ovs:"))
        .collect()
}

/// OVS itself refuses vlan7 (its name is taken by a foreign bridge: ovs-vsctl
/// says so, naming it): `ifup -a` tries the batch again without vlan7, the rest
/// comes up in that one transaction (not one per interface), vlan7's own run
/// fails with OVS's words, and the foreign bridge is untouched.
#[test]
fn ovs_refusing_a_named_port_fails_it_alone() -> Result<(), LabError> {
    let text = config();
    let (host, _wire) = lab("batch-refused", &text)?;
    host.vsctl(&[
        "add-br",
        "vlan7",
        "--",
        "set",
        "bridge",
        "vlan7",
        "datapath_type=netdev",
    ])?;
    let before = next_cfg(&host)?;
    let up = host.run(&["ifup", "-a"])?;
    assert!(!up.success(), "ifup -a should report the failure: {up:?}");
    let ours = our_lines(&up);
    assert_eq!(ours.len(), 1, "{}", up.stderr);
    assert!(
        ours[0].starts_with(&refused_vlan7(&text, "iface"))
            && ours[0].contains("local port for bridge vlan7"),
        "{}",
        ours[0]
    );
    only_vlan7_failed(&host, &up)?;
    assert_eq!(
        next_cfg(&host)? - before,
        2,
        "the batch without vlan7 and p30's own, not one per interface"
    );
    assert_eq!(vsctl_lines(&host, &["list-ports", "vlan7"])?.len(), 0);
    assert!(host.vsctl(&["list-br"])?.lines().any(|b| b == "vlan7"));
    Ok(())
}

/// OVS refuses the batch without naming an interface of it (vlan7's
/// `ovs_extra` sets a row that does not exist): the batch finds vlan7 by
/// halving, within a few transactions; the rest comes up, vlan7 fails alone.
/// Through the init script's `ifup --allow=ovs NAME...` and Debian 12's `ifup
/// -a --read-environment`, which batch the same way.
#[test]
fn ovs_refusing_without_a_name_is_found_by_halving() -> Result<(), LabError> {
    let text = config().replace(
        "ovs_options tag=7\n",
        "ovs_options tag=7\n    ovs_extra set port no-such-port tag=7\n",
    );
    let list_text = text.replace("auto ", "allow-ovs ");
    for (name, boot) in [("batch-halve-list", true), ("batch-halve-env", false)] {
        let (host, _wire, names) = if boot {
            init_script_lab(name, &list_text)?
        } else {
            let (h, w) = lab(name, &text)?;
            (h, w, Vec::new())
        };
        let before = next_cfg(&host)?;
        let up = if boot {
            ifup_list(&host, &[], &names)?
        } else {
            host.run(&["ifup", "-a", "--read-environment"])?
        };
        assert!(!up.success(), "ifup should report the failure: {up:?}");
        let ours = our_lines(&up);
        assert_eq!(ours.len(), 1, "{}", up.stderr);
        assert!(
            ours[0].starts_with(&refused_vlan7(&text, "ovs_extra"))
                && ours[0].contains("no row \"no-such-port\""),
            "{}",
            ours[0]
        );
        only_vlan7_failed(&host, &up)?;
        let writes = next_cfg(&host)? - before;
        assert!(
            (2..=8).contains(&writes),
            "{writes} write transactions: the halves that passed and p30's own"
        );
    }
    Ok(())
}

/// Debian's layout, the bridge bringing up its `allow-br0` ports (`ifup
/// --allow=ovs br0` as the init script, `ifup br0`, `ifup --allow=ovs -a`, and
/// with `-o`, which is not batched): one
/// of them is broken, with a command OVS refuses (`ovs_extra set port
/// no-such-port ...`: no check can know the rows), one the schema check refuses
/// (`ovs_options lacp=sometimes`, the issue's typo, which took the whole bridge
/// down) or one `check` refuses (`ovs_tag seven`). It fails alone: the bridge and
/// its other ports come up; the broken port is not in OVS.
#[test]
fn a_broken_port_of_a_bridge_fails_alone_at_the_bridges_ifup() -> Result<(), LabError> {
    let broken = [
        (
            "ovs",
            "    ovs_tag 7\n    ovs_extra set port no-such-port tag=7\n",
            "no-such-port",
        ),
        (
            "schema",
            "    ovs_tag 7\n    ovs_options lacp=sometimes\n",
            "sometimes",
        ),
        ("cfg", "    ovs_tag seven\n", "seven"),
    ];
    // `-o` (options for every interface) is not batched: the bridge's own run
    // adds its ports with it, and without them when OVS refuses that
    let runs: [&[&str]; 4] = [
        &["--allow=ovs", "br0"],
        &["br0"],
        &["--allow=ovs", "-a"],
        &["--allow=ovs", "-o", "note=x", "br0"],
    ];
    for (kind, stanza, word) in broken {
        for (k, args) in runs.iter().enumerate() {
            let text = debian_layout().replace("    ovs_tag 7\n", stanza);
            let (host, _wire) = lab(&format!("batch-br-{kind}{k}"), &text)?;
            let mut argv = vec!["ifup"];
            argv.extend_from_slice(args);
            let up = host.run(&argv)?;
            broken_port_failed_alone(&host, &up, word)?;
            if kind == "ovs" {
                let said = refused_vlan7(&text, "ovs_extra");
                assert!(
                    our_lines(&up).iter().any(|l| l.starts_with(&said)),
                    "{said}\n{}",
                    up.stderr
                );
            }
        }
    }
    Ok(())
}

/// After [`debian_layout`]'s bridge came up with a broken vlan7: the error
/// quotes `word`, and for the rest only the bridge's warning that its
/// nested `ifup --allow=br0 PORTS` failed (as Debian's hook); br0, eth0 and the
/// 19 other VLAN ports are up, vlan7 is neither in OVS nor configured.
fn broken_port_failed_alone(host: &Lab, up: &Output, word: &str) -> Result<(), LabError> {
    // (an option error names vlan7's FILE:LINE; ifup names vlan7)
    let ours = our_lines(up);
    assert!(ours.iter().any(|l| l.contains(word)), "{}", up.stderr);
    // (and, not batched, the bridge's warning that OVS refused it with its
    // ports, quoting `word`, or that vlan7 is not added with it)
    let warning = "ifupdown-ovs: warning: br0: `ifup --allow=br0 ";
    assert!(
        ours.iter()
            .all(|l| l.contains(word) || l.contains("vlan7 ") || l.starts_with(warning)),
        "{}",
        up.stderr
    );
    assert!(
        up.stderr.contains("failed to bring up vlan7"),
        "{}",
        up.stderr
    );
    let ports = vsctl_lines(host, &["list-ports", "br0"])?;
    assert!(!ports.contains(&"vlan7".to_string()), "{ports:?}");
    assert_eq!(ports.len(), VLANS as usize, "eth0 and 19 VLANs: {ports:?}");
    let st = ifstate(host)?;
    assert!(!st.iter().any(|s| s.starts_with("vlan7=")), "{st:?}");
    assert_eq!(st.len(), 1 + VLANS as usize, "br0, eth0, 19 VLANs: {st:?}");
    Ok(())
}

/// ovs-vswitchd (not ovsdb) rejects vlan7: the transaction passes, and OVS
/// reports the error in vlan7's Interface row (`type=no-such-type`). The batch
/// leaves vlan7 to its own run, which fails with that error and takes back what
/// it added; everything else is up from the one transaction.
#[test]
fn vswitchd_rejecting_an_interface_fails_it_alone() -> Result<(), LabError> {
    let text = config().replace(
        "ovs_options tag=7\n",
        "ovs_options tag=7\n    ovs_extra set interface ${IFACE} type=no-such-type\n",
    );
    let (host, _wire) = lab("batch-vswitchd", &text)?;
    let up = host.run(&["ifup", "-a"])?;
    assert!(!up.success(), "ifup -a should report the failure: {up:?}");
    let ours = our_lines(&up);
    assert!(
        !ours.is_empty() && ours.iter().all(|l| l.contains("vlan7")),
        "{}",
        up.stderr
    );
    only_vlan7_failed(&host, &up)
}
