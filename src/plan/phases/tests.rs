use super::*;
use crate::interfaces::Config;
use crate::ovsdb::state::tests::observed;
use crate::plan::scene::HookEnv;
use crate::plan::steps::Plan;
use std::path::Path;

/// Planning inputs with fakes for ifupdown's state and the kernel's devices.
fn fake_inputs<'a>(
    scene: &'a Scene,
    observed: &'a Observed,
    configured: &'a dyn Fn(&str) -> bool,
    link_exists: &'a dyn Fn(&str) -> bool,
) -> Inputs<'a> {
    Inputs {
        scene,
        observed,
        timeout: 10,
        configured,
        ipv6_default: false,
        link_exists,
    }
}

const FILE: &str = "\
allow-ovs br0
iface br0 inet manual
  ovs_type OVSBridge
  ovs_ports eth0 vlan100 tap9
  ovs_datapath_type netdev
  ovs_extra set bridge ${IFACE} stp_enable=false

allow-br0 eth0
iface eth0 inet manual
  ovs_type OVSPort
  ovs_bridge br0
  ovs_disable_ipv6 yes

allow-br0 vlan100
iface vlan100 inet manual
  ovs_type OVSIntPort
  ovs_bridge br0
  ovs_options tag=100
  ovs_extra set interface ${IFACE} external-ids:iface-id=$(hostname -s)

auto v2
iface v2 inet manual
  ovs_type OVSBridge
  ovs_options br0 2
  ovs_mac 02:00:00:00:00:02

auto vm1
iface vm1 inet manual
  ovs_type OVSPort
  ovs_bridge v2
";

fn scene() -> Scene {
    let c = Config::parse_str(FILE, Path::new("/etc/network/interfaces")).unwrap();
    Scene::new(None, Some(c), None, "start", "pre-up")
}

fn plan_lines(
    f: fn(&Inputs, &str) -> Result<Plan, PlanError>,
    name: &str,
    o: &Observed,
    configured: &dyn Fn(&str) -> bool,
) -> Vec<String> {
    let s = scene();
    let inp = fake_inputs(&s, o, configured, &|d| d == "eth0");
    f(&inp, name).unwrap().lines()
}

#[test]
fn bridge_batches_its_allowed_ports_and_ifups_them() {
    let l = plan_lines(pre_up, "br0", &Observed::default(), &|_| false);
    assert_eq!(l.len(), 5, "{l:#?}");
    let tx = &l[0];
    assert!(tx.starts_with("ovs-vsctl --timeout=10 -- --may-exist add-br br0 -- set Bridge br0 datapath_type=netdev"), "{tx}");
    assert!(tx.contains("-- --may-exist add-port br0 eth0 --"), "{tx}");
    assert!(
        tx.contains("-- --may-exist add-port br0 vlan100 -- set Port vlan100 tag=100"),
        "{tx}"
    );
    assert!(
        tx.contains("-- --may-exist add-port br0 tap9 --"),
        "bare port: {tx}"
    );
    assert!(
        tx.ends_with("-- set bridge br0 stp_enable=false"),
        "only the bridge's ovs_extra: {tx}"
    );
    assert!(!tx.contains("hostname"), "{tx}");
    assert_eq!(l[1], "# check: Interface br0 got an ofport and no error");
    assert_eq!(l[2], "ip link set dev br0 up");
    assert_eq!(l[3], "ip link set dev tap9 up");
    assert_eq!(l[4], "ifup --allow=br0 eth0 vlan100");
    // configured ports are not brought up again
    let l = plan_lines(pre_up, "br0", &Observed::default(), &|p| p == "eth0");
    assert_eq!(l.last().unwrap(), "ifup --allow=br0 vlan100");
}

#[test]
fn port_before_its_bridge_creates_it_with_the_bridges_options() {
    let l = plan_lines(pre_up, "eth0", &Observed::default(), &|_| false);
    let tx = &l[0];
    assert!(
        tx.starts_with("ovs-vsctl --timeout=10 -- --may-exist add-br br0 -- set Bridge br0 datapath_type=netdev"),
        "{tx}"
    );
    assert!(tx.contains("-- set bridge br0 stp_enable=false"), "{tx}");
    assert!(!tx.contains("vlan100"), "{tx}");
    assert_eq!(
        l[1..],
        [
            "# check: Interface br0 eth0 got an ofport and no error",
            "sysctl -w net.ipv6.conf.eth0.disable_ipv6=1",
            "ip link set dev eth0 up"
        ]
    );
    // bridge exists: its settings converge, its ovs_extra waits for its own ifup
    let o = observed(&[("br0", &[])]);
    let l = plan_lines(pre_up, "eth0", &o, &|_| false);
    assert!(!l[0].contains("stp_enable"), "{}", l[0]);
}

#[test]
fn port_on_a_vlan_bridge_creates_parent_and_vlan_bridge() {
    let l = plan_lines(pre_up, "vm1", &Observed::default(), &|_| false);
    let tx = &l[0];
    let a = tx.find("add-br br0 --").unwrap();
    let b = tx.find("add-br v2 br0 2").unwrap();
    let c = tx.find("add-port v2 vm1").unwrap();
    assert!(a < b && b < c, "{tx}");
    // v2 has a fixed MAC: br0's MAC is pinned
    assert!(tx.contains("other_config:hwaddr="), "{tx}");
}

#[test]
fn bridge_down_takes_configured_ports_down_first() {
    let l = plan_lines(pre_down, "br0", &Observed::default(), &|p| p != "eth0");
    assert_eq!(l, ["ifdown vm1 v2 vlan100"]);
    assert!(plan_lines(pre_down, "eth0", &Observed::default(), &|_| true).is_empty());
}

#[test]
fn post_down_removes_ours() {
    let o = observed(&[(
        "br0",
        &[
            ("eth0", None, false, true, &[]),
            ("vnet7", None, false, false, &[]),
        ],
    )]);
    let l = plan_lines(post_down, "eth0", &o, &|_| true);
    assert_eq!(
        l,
        [
            "ip link set dev eth0 down",
            "sysctl -w net.ipv6.conf.eth0.disable_ipv6=0",
            "ovs-vsctl --timeout=10 -- --if-exists del-port eth0"
        ]
    );
    let l = plan_lines(post_down, "br0", &o, &|_| true);
    assert_eq!(l.len(), 2, "{l:?}");
    assert!(l[1].starts_with("# warning: br0: bridge kept"), "{l:?}");
    // bridge already gone: nothing, quietly
    assert!(plan_lines(post_down, "vm1", &Observed::default(), &|_| true).is_empty());
}

fn batch(names: &[&str], text: &str, o: &Observed) -> BatchUp {
    batch_without(names, &[], &[], text, o)
}

fn batch_without(
    names: &[&str],
    refused: &[&str],
    later: &[&str],
    text: &str,
    o: &Observed,
) -> BatchUp {
    let c = Config::parse_str(text, Path::new("/etc/network/interfaces")).unwrap();
    let s = Scene::new(None, Some(c), None, "start", "pre-up");
    let inp = fake_inputs(&s, o, &|_| false, &|d| d == "eth0");
    let strings = |v: &[&str]| -> Vec<String> { v.iter().map(|n| n.to_string()).collect() };
    pre_up_batch(&inp, &strings(names), &strings(refused), &strings(later))
}

/// Tries of a batch that OVS refused: without the refused interfaces (and
/// those that need them); a bridge without its refused or later ports.
#[test]
fn batch_without_refused_and_later_ones() {
    let o = Observed::default();
    let b = batch_without(&["br0", "eth0", "v2"], &["vlan100"], &[], FILE, &o);
    let tx = crate::sys::words::shell_line(&b.tx.argv(10));
    assert!(!tx.contains("vlan100"), "{tx}");
    assert_eq!(b.covered.len(), 3, "{:?}", b.skipped);
    assert_eq!(b.covered[0].records, ["br0"]);
    let b = batch_without(&["br0"], &[], &["eth0", "vlan100"], FILE, &o);
    let tx = crate::sys::words::shell_line(&b.tx.argv(10));
    assert!(!tx.contains("vlan100") && !tx.contains("eth0"), "{tx}");
    assert!(tx.contains("add-port br0 tap9"), "{tx}");
    // a refused bridge: its ports and VLAN bridges are left out
    let b = batch_without(&["eth0", "v2", "vm1"], &["br0"], &[], FILE, &o);
    assert!(b.covered.is_empty() && b.tx.is_empty(), "{:?}", b.covered);
    assert!(
        b.skipped
            .iter()
            .all(|(_, why)| why == "Open vSwitch refused br0"),
        "{:?}",
        b.skipped
    );
}

fn count(tx: &str, what: &str) -> usize {
    tx.matches(what).count()
}

#[test]
fn batch_is_one_transaction_for_all_with_each_ovs_extra() {
    let b = batch(
        &["br0", "eth0", "vlan100", "v2", "vm1"],
        FILE,
        &Observed::default(),
    );
    let tx = crate::sys::words::shell_line(&b.tx.argv(10));
    let names: Vec<&str> = b.covered.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["br0", "eth0", "vlan100", "v2"], "{:?}", b.skipped);
    assert_eq!(b.skipped.len(), 1);
    assert_eq!(b.skipped[0].0, "vm1");
    assert!(b.skipped[0].1.contains("no device vm1"), "{:?}", b.skipped);
    assert_eq!(count(&tx, "add-br br0 "), 1, "{tx}");
    assert_eq!(count(&tx, "add-port br0 eth0 "), 1, "{tx}");
    assert_eq!(count(&tx, "add-port br0 vlan100 "), 1, "{tx}");
    assert!(tx.find("add-br br0 ").unwrap() < tx.find("add-br v2 br0 2").unwrap());
    // ovs_extra of the bridge and of the port (a port's own pre-up adds it)
    assert_eq!(count(&tx, "stp_enable=false"), 1, "{tx}");
    assert_eq!(count(&tx, "external-ids:iface-id="), 1, "{tx}");
    let eth0 = &b.covered[1];
    assert_eq!(eth0.check, ["br0", "eth0"]);
    assert_eq!(
        eth0.sysctls,
        [Step::Sysctl(Sysctl::disable_ipv6("eth0", true))]
    );
    assert_eq!(eth0.links, [("eth0".to_string(), false)]);
    assert_eq!(
        b.covered[0].links,
        [("br0".to_string(), false), ("tap9".to_string(), false)]
    );
}

#[test]
fn batch_leaves_broken_ones_to_their_own_hook() {
    let text = FILE.replace("ovs_options tag=100", "ovs_options 'unterminated");
    let b = batch(&["br0", "eth0", "vlan100"], &text, &Observed::default());
    let names: Vec<&str> = b.covered.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["br0", "eth0"]);
    assert_eq!(b.skipped[0].0, "vlan100");
    let tx = crate::sys::words::shell_line(&b.tx.argv(10));
    assert!(!tx.contains("vlan100"), "{tx}");
    // nothing to batch: an empty transaction
    let b = batch(&["vm1"], FILE, &Observed::default());
    assert!(b.tx.is_empty() && b.covered.is_empty());
    // a change that would destroy a foreign port: left out
    let o = observed(&[("v2", &[("vnet0", None, false, false, &[])])]);
    let b = batch(&["br0", "v2"], FILE, &o);
    assert_eq!(b.covered.len(), 1);
    assert_eq!(b.skipped[0].0, "v2");
    assert!(b.skipped[0].1.contains("vnet0"), "{:?}", b.skipped);
}

#[test]
fn deferred_post_down_is_post_down_without_ovs() {
    let o = observed(&[("br0", &[("eth0", None, false, true, &[])])]);
    let s = scene();
    let inp = fake_inputs(&s, &o, &|_| true, &|d| d == "eth0");
    let (plan, t) = post_down_deferred(&inp, "eth0").unwrap();
    assert_eq!(
        plan.lines(),
        [
            "ip link set dev eth0 down",
            "sysctl -w net.ipv6.conf.eth0.disable_ipv6=0"
        ]
    );
    assert_eq!(t.name, "eth0");
    assert_eq!(t.bridge.as_deref(), Some("br0"));
    assert!(!t.is_bridge);
    let (plan, t) = post_down_deferred(&inp, "br0").unwrap();
    assert!(plan.is_empty());
    assert!(t.is_bridge);
    assert_eq!(
        t.mine.iter().map(String::as_str).collect::<Vec<_>>(),
        ["eth0", "tap9", "v2", "vlan100", "vm1"]
    );
}

#[test]
fn undeclared_missing_bridge_is_a_clear_error() {
    let text = "iface p1 inet manual\n  ovs_type OVSIntPort\n  ovs_bridge nosuch\n";
    let c = Config::parse_str(text, Path::new("/etc/network/interfaces")).unwrap();
    let s = Scene::new(None, Some(c), None, "start", "pre-up");
    let empty = Observed::default();
    let inp = fake_inputs(&s, &empty, &|_| false, &|_| false);
    let e = pre_up(&inp, "p1").unwrap_err().to_string();
    assert_eq!(
        e,
        "p1: bridge nosuch does not exist in OVS and /etc/network/interfaces has no OVSBridge stanza for it"
    );
}

#[test]
fn a_broken_port_does_not_fail_its_bridge() {
    let text = FILE.replace("ovs_options tag=100", "ovs_options 'unterminated");
    let c = Config::parse_str(&text, Path::new("/etc/network/interfaces")).unwrap();
    let s = Scene::new(None, Some(c), None, "start", "pre-up");
    let empty = Observed::default();
    let inp = fake_inputs(&s, &empty, &|_| false, &|_| false);
    let l = pre_up(&inp, "br0").unwrap().lines();
    assert!(
        l[0].starts_with("# warning: vlan100 (in ovs_ports of br0)"),
        "{l:?}"
    );
    assert!(!l[1].contains("vlan100"), "{l:?}");
    assert!(
        l.last().unwrap().ends_with("eth0 vlan100"),
        "its hook still runs: {l:?}"
    );
}

const HA: &str = "\
auto ovsbr0
iface ovsbr0 inet manual
  ovs_type OVSBridge
  ovs_datapath_type netdev

iface p1 inet static
  address 192.0.2.50/24
  gateway 192.0.2.1
  ovs_type OVSIntPort
  ovs_bridge ovsbr0
  ovs_mac 02:00:00:00:00:01
  ovs_route_table 100
  ovs_route_pref 900
  ovs_route 198.51.100.0/24 via 192.0.2.254
  ovs_route 2001:db8:1::/48 via 2001:db8::ff
  ovs_arp_ignore 1
  ovs_arp_announce 2

iface p1 inet6 static
  address 2001:db8::1
  netmask 64
";

fn ha_lines(
    text: &str,
    hook: Option<&HookEnv>,
    f: fn(&Inputs, &str) -> Result<Plan, PlanError>,
) -> Result<Vec<String>, String> {
    let c = Config::parse_str(text, Path::new("/etc/network/interfaces")).unwrap();
    let s = Scene::new(None, Some(c), hook, "start", "post-up");
    let empty = Observed::default();
    let inp = fake_inputs(&s, &empty, &|_| false, &|_| false);
    f(&inp, "p1").map(|p| p.lines()).map_err(|e| e.to_string())
}

#[test]
fn plan_shows_source_routing_of_every_stanza() {
    let l = ha_lines(HA, None, post_up).unwrap();
    assert_eq!(l.len(), 2, "{l:#?}");
    assert_eq!(
        l[0].lines().collect::<Vec<_>>()[1..],
        [
            "route add 192.0.2.0/24 dev p1 src 192.0.2.50 table 100 proto 79",
            "route add default via 192.0.2.1 dev p1 table 100 proto 79",
            "route add 198.51.100.0/24 via 192.0.2.254 table 100 proto 79",
            "rule add from 192.0.2.50 table 100 pref 900 protocol 79",
            "EOF"
        ]
    );
    assert!(l[1].starts_with("ip -6 -batch - <<EOF"), "{}", l[1]);
    assert!(l[1].contains("\nroute add 2001:db8::/64 dev p1 table 100 proto 79\n"));
    assert!(l[1].contains("\nroute add 2001:db8:1::/48 via 2001:db8::ff table 100 proto 79\n"));
    assert!(l[1].contains("\nrule add from 2001:db8::1 table 100 pref 900 protocol 79\n"));
    assert!(ha_lines(HA, None, pre_down).unwrap().is_empty());
    let d = ha_lines(HA, None, post_down).unwrap();
    let n = d.len();
    assert!(d[n - 2].contains("\nrule del from 192.0.2.50 table 100 pref 900 protocol 79\n"));
    assert!(d[n - 1].starts_with("ip -6 -batch"), "{d:#?}");
}

#[test]
fn a_hook_run_routes_its_own_stanza_only() {
    let env: Vec<(String, String)> = [
        ("IFACE", "p1"),
        ("ADDRFAM", "inet6"),
        ("METHOD", "static"),
        ("MODE", "start"),
        ("PHASE", "post-up"),
        ("IF_ADDRESS", "2001:db8::1"),
        ("IF_NETMASK", "64"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let h = HookEnv::from_vars(env).unwrap();
    let l = ha_lines(HA, Some(&h), post_up).unwrap();
    assert_eq!(l.len(), 1, "{l:#?}");
    assert!(l[0].starts_with("ip -6 -batch"), "{}", l[0]);
    // a dhcp stanza: nothing, and a warning for its family's routes
    let env6: Vec<(String, String)> = h
        .env()
        .into_iter()
        .map(|(k, v)| match k.as_str() {
            "METHOD" => (k, "auto".to_string()),
            _ => (k, v),
        })
        .collect();
    let h6 = HookEnv::from_vars(env6).unwrap();
    let l = ha_lines(HA, Some(&h6), post_up).unwrap();
    assert_eq!(l.len(), 1, "{l:#?}");
    assert!(
        l[0].starts_with("# warning: p1: ovs_route: the inet6 routes"),
        "{l:?}"
    );
}

#[test]
fn arp_sysctls_before_link_up_and_back_to_defaults_on_down() {
    let l = ha_lines(HA, None, pre_up).unwrap();
    let n = l.len();
    assert_eq!(
        l[n - 3..],
        [
            "sysctl -w net.ipv4.conf.p1.arp_ignore=1",
            "sysctl -w net.ipv4.conf.p1.arp_announce=2",
            "ip link set dev p1 up",
        ]
    );
    let d = ha_lines(HA, None, post_down).unwrap();
    assert_eq!(
        d[..2],
        [
            "sysctl -w net.ipv4.conf.p1.arp_ignore=\"$(sysctl -n net.ipv4.conf.default.arp_ignore)\"  # if p1 exists",
            "sysctl -w net.ipv4.conf.p1.arp_announce=\"$(sysctl -n net.ipv4.conf.default.arp_announce)\"  # if p1 exists",
        ]
    );
}

#[test]
fn bad_routing_fails_before_anything_is_done() {
    let text = HA.replace("via 192.0.2.254", "via 192.0.2.254 table 5");
    let e = ha_lines(&text, None, pre_up).unwrap_err();
    // an option error now, at its line (config::options checks ovs_route's words)
    assert!(
        e.starts_with("/etc/network/interfaces:14: error: p1: ovs_route: \"198.51.100.0/24"),
        "{e}"
    );
    assert!(e.contains("names its own table"), "{e}");
    let text = HA.replace("address 2001:db8::1\n", "address 192.0.2.9\n");
    let e = ha_lines(&text, None, pre_up).unwrap_err();
    assert!(e.starts_with("p1: inet6 stanza: address:"), "{e}");
}

#[test]
fn phases() {
    assert_eq!(Phase::from_hook("start", "pre-up"), Some(Phase::PreUp));
    assert_eq!(Phase::from_hook("stop", "post-down"), Some(Phase::PostDown));
    assert_eq!(Phase::from_hook("x", "y"), None);
    assert_eq!(Phase::PostUp.dir(), "if-up.d");
}

#[test]
fn new_inputs_read_this_host() {
    let s = scene();
    let o = Observed::default();
    let inp = Inputs::new(&s, &o, 7, &|_| true);
    assert_eq!(inp.timeout, 7);
    assert!((inp.link_exists)("lo"));
    assert!(!(inp.link_exists)("surely-not-a-dev"));
    let want = std::fs::read_to_string("/proc/sys/net/ipv6/conf/default/disable_ipv6")
        .is_ok_and(|v| v.trim() == "1");
    assert_eq!(inp.ipv6_default, want);
}

/// A bridge whose transaction with its `allow-BRIDGE` ports OVS refused: the
/// same without those ports (a port without a stanza stays).
#[test]
fn bridge_pre_up_without_its_ports() {
    let s = scene();
    let o = Observed::default();
    let inp = fake_inputs(&s, &o, &|_| false, &|d| d == "eth0");
    let plan = pre_up_without_ports(&inp, "br0")
        .expect("br0 has ports")
        .expect("a plan");
    let Some(Step::Vsctl(tx)) = plan.steps.iter().find(|s| matches!(s, Step::Vsctl(_))) else {
        panic!("no transaction: {plan:?}");
    };
    let tx = crate::sys::words::shell_line(&tx.argv(10));
    assert!(tx.contains("add-port br0 tap9"), "{tx}");
    assert!(
        !tx.contains("vlan100") && !tx.contains("add-port br0 eth0"),
        "{tx}"
    );
    assert!(
        plan.steps
            .iter()
            .any(|s| matches!(s, Step::Ifupdown(a) if a.contains(&"vlan100".to_string()))),
        "{plan:?}"
    );
    assert!(pre_up_without_ports(&inp, "v2").is_none());
}
