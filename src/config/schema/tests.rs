//! The schema checks against the copy of OVS 3.1's schema in `fixtures/schema/`.

use super::*;

fn schema() -> &'static Schema {
    installed().expect("fixtures/schema/vswitch.ovsschema")
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

/// The messages of the errors and of the warnings of `words` as columns of `table`.
fn columns(table: &str, s: &str) -> (Vec<String>, Vec<String>) {
    split(check_assignments(schema(), table, &words(s), &[]))
}

fn command(s: &str) -> (Vec<String>, Vec<String>) {
    split(check_command(schema(), &words(s)))
}

fn split(findings: Vec<Finding>) -> (Vec<String>, Vec<String>) {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    for f in findings {
        match f {
            Finding::Error(e) => errors.push(e.to_string()),
            Finding::Warning(w) => warnings.push(w.to_string()),
        }
    }
    (errors, warnings)
}

fn one_error(table: &str, s: &str) -> String {
    let (e, _) = columns(table, s);
    assert_eq!(e.len(), 1, "{s}: {e:?}");
    e[0].clone()
}

#[test]
fn parses_the_schema() {
    let s = schema();
    assert_eq!(s.name, "Open_vSwitch");
    let port = s.table("Port").unwrap();
    let lacp = port.column("lacp").unwrap();
    assert_eq!(lacp.ty.max, Some(1));
    assert_eq!(
        lacp.ty.key.enumeration.as_deref(),
        Some(&["active".to_string(), "passive".into(), "off".into()][..])
    );
    assert!(!port.column("name").unwrap().mutable);
}

#[test]
fn names_resolve_as_in_ovs_vsctl() {
    let s = schema();
    assert_eq!(s.table("bridge").unwrap().name, "Bridge");
    assert_eq!(s.table("net").unwrap().name, "NetFlow");
    assert!(matches!(
        s.table("flow"),
        Err(model::Lookup::Ambiguous { .. })
    ));
    let br = s.table("Bridge").unwrap();
    assert_eq!(br.column("stp-enable").unwrap().name, "stp_enable");
    assert_eq!(br.column("Fail_Mode").unwrap().name, "fail_mode");
}

#[test]
fn issue_examples_in_ovs_options_are_rejected() {
    assert_eq!(
        one_error("Bridge", "stp_enable=maybe"),
        "`stp_enable=maybe`: Bridge column stp_enable: `maybe` is not true or false"
    );
    assert_eq!(
        one_error("Bridge", "fail_mode=open"),
        "`fail_mode=open`: Bridge column fail_mode: `open` is not one of standalone, secure"
    );
    assert_eq!(
        one_error("Bridge", "stp_enabled=true"),
        "`stp_enabled=true`: the Bridge table has no column stp_enabled (did you mean stp_enable?)"
    );
    assert!(one_error("Bridge", "protocols=OpenFlow10,OpenFlow99").contains(
        "`OpenFlow99` is not one of OpenFlow10, OpenFlow11, OpenFlow12, OpenFlow13, OpenFlow14, OpenFlow15"
    ));
    assert!(
        one_error("Port", "bond_mode=balance-fast")
            .contains("`balance-fast` is not one of balance-tcp, balance-slb, active-backup")
    );
    assert_eq!(
        one_error("Port", "lacp=sometimes"),
        "`lacp=sometimes`: Port column lacp: `sometimes` is not one of active, passive, off"
    );
    assert_eq!(
        one_error("Interface", "mtu_request=-5"),
        "`mtu_request=-5`: Interface column mtu_request: -5 is less than 1, the least allowed"
    );
    assert_eq!(
        one_error("Port", "mtu_request=1500"),
        "`mtu_request=1500`: the Port table has no column mtu_request (a column of Interface)"
    );
}

#[test]
fn valid_words_pass() {
    for (table, s) in [
        (
            "Bridge",
            "stp_enable=true fail_mode=secure protocols=OpenFlow10,OpenFlow13",
        ),
        (
            "Bridge",
            "protocols=[OpenFlow13] other_config:mac-aging-time=300",
        ),
        (
            "Bridge",
            "other_config:stp-priority=0x10 external_ids:anything=goes",
        ),
        ("Bridge", "flood_vlans=1,2,10-20 datapath_type=netdev"),
        (
            "Port",
            "bond_mode=balance-slb lacp=active other_config:lacp-time=fast",
        ),
        (
            "Port",
            "other_config:bond-detect-mode=miimon bond_updelay=200",
        ),
        (
            "Port",
            "bond_fake_iface=false qos=@q1 mac=\"00:01:02:03:04:05\"",
        ),
        (
            "Port",
            "other_config={lacp-time=slow,bond-miimon-interval=100}",
        ),
        (
            "Interface",
            "mtu_request=9000 options:remote_ip=192.0.2.1 options:key=flow",
        ),
        ("Interface", "ofport_request=10 type=vxlan admin_state=up"),
    ] {
        let (e, w) = columns(table, s);
        // 0x10 is not an integer: the one expected error of the third line
        if s.contains("0x10") {
            assert_eq!(e.len(), 1, "{e:?}");
            assert!(
                e[0].contains("stp-priority: `0x10` is not an integer"),
                "{e:?}"
            );
            continue;
        }
        assert!(e.is_empty() && w.is_empty(), "{table} {s}: {e:?} {w:?}");
    }
}

#[test]
fn documented_keys_are_typed_and_unknown_keys_warned() {
    assert_eq!(
        one_error("Port", "other_config:lacp-time=medium"),
        "`other_config:lacp-time=medium`: Port other_config:lacp-time: `medium` is not one of fast, slow (ovs-vswitchd.conf.db(5))"
    );
    assert!(
        one_error("Port", "other_config:bond-detect-mode=mii")
            .contains("`mii` is not one of carrier, miimon")
    );
    assert!(
        one_error("Bridge", "other_config:mac-aging-time=0")
            .contains("0 is less than 1, the least allowed")
    );
    assert!(
        one_error("Bridge", "other_config:stp-priority=70000")
            .contains("70000 is greater than 65535, the most allowed")
    );
    let (e, w) = columns("Port", "other_config:lacp_time=fast");
    assert!(e.is_empty());
    assert_eq!(
        w,
        [
            "`other_config:lacp_time=fast`: lacp_time is not a key of Port other_config that ovs-vswitchd.conf.db(5) documents (did you mean lacp-time?)"
        ]
    );
    let (e, w) = columns("Port", "external_ids:whatever=x");
    assert!(e.is_empty() && w.is_empty());
}

#[test]
fn values_follow_ovs_vsctl_syntax() {
    assert!(
        one_error("Port", "lacp=active,passive").contains("2 values, but the column takes 0 to 1")
    );
    assert!(one_error("Port", "tag=4096").contains("4096 is greater than 4095"));
    assert!(one_error("Port", "trunks=5-1").contains("the range 5-1 is empty"));
    assert!(one_error("Port", "trunks=1,1").contains("`1` is given twice"));
    assert!(one_error("Bridge", "protocols=[OpenFlow10").contains("a `]` is missing"));
    assert!(one_error("Port", "qos=nope").contains("`nope` is not a UUID or @name"));
    // quoted, a value is a string (as ovs-vsctl reads it)
    assert!(one_error("Bridge", "stp_enable=\"true\"").contains("`\"true\"` is not true or false"));
    assert!(one_error("Port", "trunks=\"1\"").contains("`\"1\"` is not an integer"));
    assert!(one_error("Port", "name=x").contains("cannot be changed"));
    assert!(one_error("Port", "lacp:x=y").contains("Port column lacp is not a map"));
    let (e, _) = columns("Port", "bond_updelay=");
    assert_eq!(e.len(), 1, "{e:?}");
    let (e, _) = columns("Port", "fail_mode=x");
    assert!(
        e[0].contains("no column fail_mode (a column of Bridge)"),
        "{e:?}"
    );
    // an abbreviation ovs-vsctl takes
    assert_eq!(columns("Bridge", "stp=true"), (vec![], vec![]));
    assert!(one_error("Port", "bond=x").contains("abbreviates several columns"));
}

#[test]
fn what_only_the_hook_knows_is_named() {
    let (e, w) = columns(
        "Port",
        "lacp=\0 external_ids:id=\0 other_config:lacp-time=$(x)",
    );
    assert!(e.is_empty(), "{e:?}");
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w[0].contains("the value is only known when the hook runs"));
    // the column is still checked
    let (e, _) = columns("Port", "lacpp=\0");
    assert!(
        e[0].contains("no column lacpp (did you mean lacp?)"),
        "{e:?}"
    );
}

#[test]
fn ovs_extra_commands() {
    let (e, _) = command("set brige br0 stp_enable=true");
    assert_eq!(e, ["no table brige (did you mean Bridge?)"]);
    let (e, _) = command("frobnicate br0");
    assert_eq!(e, ["unknown ovs-vsctl command `frobnicate`"]);
    let (e, _) = command("add-prt br0 eth0");
    assert_eq!(
        e,
        ["unknown ovs-vsctl command `add-prt` (did you mean add-port?)"]
    );
    let (e, _) = command("set Interface eth0 mtu_request=-5");
    assert_eq!(
        e,
        ["`mtu_request=-5`: Interface column mtu_request: -5 is less than 1, the least allowed"]
    );
    let (e, _) = command("set Bridge br0");
    assert_eq!(e, ["`set` takes at least 3 argument(s), not 2"]);
    let (e, _) = command("set Bridge br0 stp_enable");
    assert_eq!(e, ["`set`: `stp_enable` is not COLUMN[:KEY]=VALUE"]);
    let (e, _) = command("--may-exist set Bridge br0 stp_enable=true");
    assert_eq!(e, ["`set` has no option --may-exist"]);
    let (e, _) = command("set-fail-mode br0 open");
    assert!(
        e[0].contains("`open` is not one of standalone, secure"),
        "{e:?}"
    );
    let (e, _) = command("clear Port p1 interfaces");
    assert_eq!(
        e,
        ["Port column interfaces cannot be cleared: it must hold a value"]
    );
    let (e, _) = command("add Port p1 trunks 5000");
    assert!(e[0].contains("5000 is greater than 4095"), "{e:?}");
    let (e, _) = command("add Port p1 other_config lacp-time");
    assert!(
        e[0].contains("is a map: `lacp-time` is not KEY=VALUE"),
        "{e:?}"
    );
    let (e, _) = command("get Bridge br0 stp_enable:x");
    assert!(e[0].contains("is not a map"), "{e:?}");
    let (e, _) = command("find Port lacpp=active");
    assert!(e[0].contains("did you mean lacp?"), "{e:?}");
    let (e, _) = command("add-port br0 p1 lacp=sometimes");
    assert!(e[0].contains("`sometimes` is not one of"), "{e:?}");
    for ok in [
        "set Bridge br0 stp_enable=true other_config:stp-priority=4096",
        "set port p1 lacp=active",
        "--if-exists remove Port p1 other_config lacp-time",
        "remove Port p1 trunks 5,6",
        "add Bridge br0 protocols OpenFlow13",
        "clear Bridge br0 protocols",
        "set-fail-mode br0 secure",
        "br-set-external-id br0 k v",
        "--id=@q create QoS type=linux-htb",
        "set Interface $IFACE external-ids:iface-id=$(hostname)",
        "comment",
    ] {
        let (e, w) = command(ok);
        assert!(e.is_empty() && w.is_empty(), "{ok}: {e:?} {w:?}");
    }
}

#[test]
fn hook_only_words_stop_the_command_check() {
    // `$(...)` may expand to several words: the arguments after it are not counted
    let (e, w) = command("set Bridge $(x)");
    assert!(e.is_empty() && w.is_empty(), "{e:?} {w:?}");
    // a variable alone may be several words; the assignments after it are judged
    let (e, _) = command("set Bridge br0 \0 stp_enable=maybe");
    assert_eq!(e.len(), 1, "{e:?}");
    let (e, _) = command("set $(x) br0 stp_enable=maybe");
    assert!(e.is_empty(), "{e:?}");
    let (e, w) = command("$(cmd) a b");
    assert!(e.is_empty());
    assert_eq!(w.len(), 1);
}

#[test]
fn a_broken_schema_file_is_an_error_value_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.json");
    assert!(matches!(load(&p), Err(LoadError::Read { .. })));
    for text in [
        "",
        "{",
        "[]",
        r#"{"name":"x","tables":{"T":{}}}"#,
        r#"{"name":"x","tables":{"T":{"columns":{"c":{"type":"nope"}}}}}"#,
    ] {
        std::fs::write(&p, text).unwrap();
        assert!(matches!(load(&p), Err(LoadError::Invalid { .. })), "{text}");
    }
}

#[test]
fn add_br_takes_one_or_three_arguments() {
    let (e, _) = command("add-br br9 br0");
    assert_eq!(
        e,
        ["`add-br` takes 1 argument (BRIDGE) or 3 (BRIDGE PARENT VLAN), not 2"]
    );
    assert_eq!(command("add-br br9").0, Vec::<String>::new());
    assert_eq!(command("add-br br9 br0 9").0, Vec::<String>::new());
}
