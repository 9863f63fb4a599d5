//! Is the resource running? The observed port compared with the target: running,
//! cleanly stopped, or half-configured (failed), with the reason.
//!
//! When OVS cannot be asked (OVSDB does not answer, ovs-vswitchd is gone), only the
//! kernel can tell, and it must: ovs-vswitchd keeps serving a port while
//! ovsdb-server is dead, and a port's device outlives ovs-vswitchd (and comes back
//! to life when it restarts). [`liveness`] says whether the device is still live
//! (up, or holding a floating address): then the resource is not stopped, whatever
//! OVS says, or Pacemaker would start it on another node as well.

use std::net::IpAddr;

use crate::config::model::Mac;
use crate::net::addr::Family;
use crate::net::route::PROTO;

use super::observe::{LinkAddr, LinkState, Observation, PortState};
use super::target::Target;

/// The verdict of a monitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Running,
    /// Cleanly stopped; the text says how it looks (for the log).
    Stopped(String),
    /// Half-configured: what is wrong (for `ocf-exit-reason:`).
    Failed(String),
}

/// Compare what is there with what should be.
pub fn classify(t: &Target, o: &Observation) -> Status {
    let name = &t.interface;
    let Some(port) = &o.port else {
        return Status::Stopped(format!("port {name} is not in OVS"));
    };
    if let Some(wrong) = port_problem(t, port) {
        return Status::Failed(wrong);
    }
    let Some(link) = &o.link else {
        return Status::Failed(format!(
            "port {name} is in OVS but has no network device{}",
            match port.ofport {
                Some(-1) => " (ofport -1: OVS could not open it)".to_string(),
                _ => String::new(),
            }
        ));
    };
    let present = |ip| link.addresses.iter().any(|a| a.ip == ip);
    if !link.up && !t.addresses.iter().any(|a| present(a.ip)) {
        return Status::Stopped(format!(
            "port {name} is in OVS but down and without its addresses (left over, for \
             example from before a reboot): counted as stopped"
        ));
    }
    let mut problems = link_problems(t, port, link);
    problems.extend(rule_problems(t, link, o));
    if problems.is_empty() {
        Status::Running
    } else {
        Status::Failed(problems.join("; "))
    }
}

/// The port's device as the kernel alone shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Liveness {
    /// No device of that name.
    Gone,
    /// A device, down and without a floating address: it sends and answers nothing.
    Quiet,
    /// Up or holding a floating address; the text says which (for the reason).
    Live(String),
}

/// Is `link` live? `floating` are the resource's addresses; `None` when they are
/// unknown (the interfaces file cannot be read), and then any global address
/// counts.
pub fn liveness(link: Option<&LinkState>, floating: Option<&[IpAddr]>) -> Liveness {
    let Some(link) = link else {
        return Liveness::Gone;
    };
    let held: Vec<String> = held(link, floating)
        .iter()
        .map(|a| a.ip.to_string())
        .collect();
    if !link.up && held.is_empty() {
        return Liveness::Quiet;
    }
    let state = if link.up { "up" } else { "down" };
    Liveness::Live(if held.is_empty() {
        state.to_string()
    } else {
        format!("{state}, holding {}", held.join(", "))
    })
}

/// The floating addresses on `link` (with `floating` unknown: its global ones).
pub fn held<'a>(link: &'a LinkState, floating: Option<&[IpAddr]>) -> Vec<&'a LinkAddr> {
    link.addresses
        .iter()
        .filter(|a| floating.map_or(a.global, |f| f.contains(&a.ip)))
        .collect()
}

/// Wrong bridge, wrong kind, an OVS error: the port is not the one we manage.
fn port_problem(t: &Target, port: &PortState) -> Option<String> {
    let name = &t.interface;
    match &port.bridge {
        Some(b) if *b == t.bridge => {}
        Some(b) => {
            return Some(format!("port {name} is on bridge {b}, not on {}", t.bridge));
        }
        None => return Some(format!("port {name} is in OVSDB but on no bridge")),
    }
    if port.kind != "internal" {
        let kind = if port.kind.is_empty() {
            "system"
        } else {
            &port.kind
        };
        return Some(format!(
            "interface {name} in OVS is of type {kind}, not internal"
        ));
    }
    port.error
        .as_ref()
        .map(|e| format!("OVS reports an error on {name}: {e}"))
}

/// MAC, link state and addresses; every problem found.
fn link_problems(t: &Target, port: &PortState, link: &LinkState) -> Vec<String> {
    let name = &t.interface;
    let mut out = Vec::new();
    if let Some(want) = t.mac {
        let parsed = |s: &Option<String>| s.as_deref().and_then(|m| m.parse::<Mac>().ok());
        if parsed(&port.mac) != Some(want) {
            out.push(format!(
                "Interface.mac of {name} in OVSDB is {}, not {want}",
                port.mac.as_deref().unwrap_or("unset")
            ));
        }
        if parsed(&link.mac) != Some(want) {
            out.push(format!(
                "{name} has MAC {}, not {want}",
                link.mac.as_deref().unwrap_or("none")
            ));
        }
    }
    if !link.up {
        out.push(format!("link {name} is down"));
    }
    for a in &t.addresses {
        match link.addresses.iter().find(|l| l.ip == a.ip) {
            None => out.push(format!("address {a} is missing on {name}")),
            Some(l) if l.dadfailed => out.push(format!(
                "address {} on {name} failed duplicate address detection (another host uses it?)",
                a.ip
            )),
            Some(l) if a.prefix.is_some_and(|p| p != l.prefix) => out.push(format!(
                "address {} on {name} has prefix /{}, not /{}",
                a.ip,
                l.prefix,
                a.prefix.unwrap_or_default()
            )),
            Some(_) => {}
        }
    }
    out
}

/// With `ovs_route_table`: the hook's rule (`from ADDR lookup TABLE pref PREF
/// protocol 79`) for every static address now on the link.
fn rule_problems(t: &Target, link: &LinkState, o: &Observation) -> Vec<String> {
    let mut out = Vec::new();
    for family in [Family::V4, Family::V6] {
        let Some(spec) = t.source_routing(family) else {
            continue;
        };
        for want in spec.rules() {
            if !link.addresses.iter().any(|a| a.ip == want.src.addr) {
                continue;
            }
            let there = o.rules.iter().any(|r| {
                r.proto == Some(PROTO)
                    && r.src == Some(want.src)
                    && r.table == Some(want.table)
                    && r.pref == want.pref
            });
            if !there {
                out.push(format!(
                    "source-routing rule from {} lookup {} is missing",
                    want.src.addr, spec.table_shown
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::super::target::Routing;
    use super::*;
    use crate::net::addr::StanzaAddr;
    use crate::net::rtstate::parse_rules;

    fn target() -> Target {
        let a = |w: &str| StanzaAddr::parse(w, None).unwrap();
        Target {
            interface: "p1".into(),
            bridge: "br0".into(),
            mac: Some(Mac([2, 0, 0, 0, 0, 1])),
            addresses: vec![a("192.0.2.50/24"), a("2001:db8::50/64")],
            ifupdown_options: Vec::new(),
            optimistic_dad: Vec::new(),
            file: PathBuf::from("/etc/network/interfaces"),
            bridge_outside_file: false,
            warnings: Vec::new(),
            routing: None,
        }
    }

    fn running() -> Observation {
        let addr = |ip: &str, prefix| LinkAddr {
            ip: ip.parse().unwrap(),
            prefix,
            dadfailed: false,
            tentative: false,
            optimistic: false,
            global: true,
        };
        Observation {
            port: Some(PortState {
                bridge: Some("br0".into()),
                kind: "internal".into(),
                mac: Some("02:00:00:00:00:01".into()),
                error: None,
                ofport: Some(1),
                owner: Some("p1".into()),
            }),
            link: Some(LinkState {
                up: true,
                mac: Some("02:00:00:00:00:01".into()),
                addresses: vec![
                    addr("192.0.2.50", 24),
                    addr("2001:db8::50", 64),
                    addr("fe80::1", 64),
                ],
            }),
            rules: Vec::new(),
        }
    }

    fn failed(o: &Observation) -> String {
        match classify(&target(), o) {
            Status::Failed(why) => why,
            other => panic!("not failed: {other:?}"),
        }
    }

    #[test]
    fn running_when_all_is_there() {
        assert_eq!(classify(&target(), &running()), Status::Running);
        // a MAC written in another case is the same MAC
        let mut o = running();
        o.port.as_mut().unwrap().mac = Some("02:00:00:00:00:01".to_uppercase());
        assert_eq!(classify(&target(), &o), Status::Running);
    }

    #[test]
    fn stopped_when_absent_or_left_over() {
        let o = Observation::default();
        assert!(matches!(classify(&target(), &o), Status::Stopped(w) if w.contains("not in OVS")));
        let mut o = running();
        let l = o.link.as_mut().unwrap();
        l.up = false;
        l.addresses.retain(|a| a.ip.to_string() == "fe80::1");
        assert!(matches!(classify(&target(), &o), Status::Stopped(w) if w.contains("left over")));
    }

    #[test]
    fn failed_when_half_configured() {
        let mut o = running();
        o.port.as_mut().unwrap().mac = Some("02:00:00:00:00:99".into());
        assert_eq!(
            failed(&o),
            "Interface.mac of p1 in OVSDB is 02:00:00:00:00:99, not 02:00:00:00:00:01"
        );
        let mut o = running();
        o.port.as_mut().unwrap().mac = None;
        o.link.as_mut().unwrap().mac = Some("aa:00:00:00:00:01".into());
        let why = failed(&o);
        assert!(why.contains("is unset, not"), "{why}");
        assert!(why.contains("p1 has MAC aa:00:00:00:00:01"), "{why}");

        let mut o = running();
        o.link.as_mut().unwrap().addresses.remove(1);
        assert_eq!(failed(&o), "address 2001:db8::50/64 is missing on p1");

        let mut o = running();
        o.link.as_mut().unwrap().up = false;
        assert_eq!(failed(&o), "link p1 is down");

        let mut o = running();
        o.link.as_mut().unwrap().addresses[0].dadfailed = true;
        assert!(failed(&o).contains("duplicate address detection"));

        let mut o = running();
        o.link.as_mut().unwrap().addresses[0].prefix = 25;
        assert!(failed(&o).contains("has prefix /25, not /24"));

        let mut o = running();
        o.port.as_mut().unwrap().bridge = Some("br1".into());
        assert_eq!(failed(&o), "port p1 is on bridge br1, not on br0");

        let mut o = running();
        o.port.as_mut().unwrap().kind = String::new();
        assert_eq!(
            failed(&o),
            "interface p1 in OVS is of type system, not internal"
        );

        let mut o = running();
        o.port.as_mut().unwrap().error = Some("could not open".into());
        assert_eq!(failed(&o), "OVS reports an error on p1: could not open");

        let mut o = running();
        o.link = None;
        assert!(failed(&o).contains("no network device"));
    }

    #[test]
    fn no_mac_no_addresses_configured() {
        let mut t = target();
        t.mac = None;
        t.addresses.clear();
        let mut o = running();
        o.port.as_mut().unwrap().mac = None;
        assert_eq!(classify(&t, &o), Status::Running);
        o.link.as_mut().unwrap().up = false;
        assert!(matches!(classify(&t, &o), Status::Stopped(_)));
    }

    fn routed() -> Target {
        Target {
            routing: Some(Routing {
                table: 100,
                table_shown: "100".into(),
                pref: 1000,
            }),
            ..target()
        }
    }

    /// `ip -N -j rule show` (both families) as the hook leaves it.
    const RULES: &str = r#"[{"priority":0,"src":"all","table":"255"},
        {"priority":1000,"src":"192.0.2.50","table":"100","protocol":"79"},
        {"priority":1000,"src":"2001:db8::50","table":"100","protocol":"79"},
        {"priority":32766,"src":"all","table":"254"}]"#;

    #[test]
    fn source_routing_rules() {
        let t = routed();
        let mut o = running();
        o.rules = parse_rules(RULES).unwrap();
        assert_eq!(classify(&t, &o), Status::Running);

        // the IPv4 rule is gone
        o.rules.remove(1);
        let mut o_missing = o.clone();
        assert_eq!(
            failed_for(&t, &o_missing),
            "source-routing rule from 192.0.2.50 lookup 100 is missing"
        );
        // a rule of someone else (no protocol 79) or another pref is not ours
        o_missing.rules.extend(
            parse_rules(
                r#"[{"priority":1000,"src":"192.0.2.50","table":"100"},
                    {"priority":999,"src":"192.0.2.50","table":"100","protocol":"79"}]"#,
            )
            .unwrap(),
        );
        assert!(failed_for(&t, &o_missing).contains("from 192.0.2.50 lookup 100"));

        // no rules at all: both missing; without ovs_route_table none required
        o.rules.clear();
        let why = failed_for(&t, &o);
        assert!(why.contains("from 2001:db8::50 lookup 100"), "{why}");
        assert_eq!(classify(&target(), &o), Status::Running);

        // an address not on the link needs no rule (its absence is reported instead)
        let mut o = running();
        o.rules = parse_rules(RULES).unwrap();
        o.rules.remove(2);
        o.link.as_mut().unwrap().addresses.remove(1);
        assert_eq!(
            failed_for(&t, &o),
            "address 2001:db8::50/64 is missing on p1"
        );

        // down and without addresses: stopped, no rules required
        let mut o = running();
        let l = o.link.as_mut().unwrap();
        l.up = false;
        l.addresses.clear();
        assert!(matches!(classify(&t, &o), Status::Stopped(_)));
    }

    #[test]
    fn liveness_from_the_kernel_alone() {
        let o = running();
        let link = o.link.as_ref();
        let floating: Vec<IpAddr> = target().addresses.iter().map(|a| a.ip).collect();
        assert_eq!(liveness(None, Some(&floating)), Liveness::Gone);
        assert_eq!(
            liveness(link, Some(&floating)),
            Liveness::Live("up, holding 192.0.2.50, 2001:db8::50".into())
        );
        let mut down = o.link.clone().unwrap();
        down.up = false;
        down.addresses[2].global = false; // fe80::1
        assert_eq!(
            liveness(Some(&down), None),
            Liveness::Live("down, holding 192.0.2.50, 2001:db8::50".into())
        );
        // the link-local address is not floating, not global
        down.addresses.retain(|a| !a.global);
        assert_eq!(liveness(Some(&down), None), Liveness::Quiet);
        assert_eq!(liveness(Some(&down), Some(&floating)), Liveness::Quiet);
        // up without any address is live (it sends with the port's MAC)
        down.up = true;
        assert_eq!(
            liveness(Some(&down), Some(&[])),
            Liveness::Live("up".into())
        );
        // a foreign address does not count when the floating ones are known
        let mut other = o.link.clone().unwrap();
        other.up = false;
        other.addresses[0].ip = "198.51.100.7".parse().unwrap();
        other.addresses.remove(1);
        assert_eq!(liveness(Some(&other), Some(&floating)), Liveness::Quiet);
        assert!(matches!(liveness(Some(&other), None), Liveness::Live(_)));
    }

    fn failed_for(t: &Target, o: &Observation) -> String {
        match classify(t, o) {
            Status::Failed(why) => why,
            other => panic!("not failed: {other:?}"),
        }
    }
}
