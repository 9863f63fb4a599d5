//! The real state of the port: its rows in OVSDB (read with [`Observed::read`], the
//! one reader of the Bridge, Port and Interface tables, as the hook reads them), its
//! kernel link (`ip -j addr show dev IFACE`: flags, MAC, addresses), and with
//! `ovs_route_table` the kernel's rules, read as the hook reads them
//! ([`ipcmd::read_kernel`]).

use std::net::IpAddr;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::net::addr::Family;
use crate::net::ipcmd::{self, IpError};
use crate::net::link;
use crate::net::rtstate::RuleRow;
use crate::ovsdb::json::TableError;
use crate::ovsdb::state::{Observed, StateError};
use crate::ovsdb::vsctl::{Vsctl, VsctlError};
use crate::sys::process::{ProcessError, failure_line, run_bounded};

use super::target::Target;

/// The port's OVSDB side.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortState {
    /// The bridge whose `ports` holds it.
    pub bridge: Option<String>,
    /// `Interface.type` of the interface of the same name ("" = system).
    pub kind: String,
    /// `Interface.mac` (the configured MAC), if set.
    pub mac: Option<String>,
    /// `Interface.error`, if any.
    pub error: Option<String>,
    /// `Interface.ofport` (-1: OVS could not open the device).
    pub ofport: Option<i64>,
    /// `external_ids:ifupdown-ovs` of the Port: the interface whose stanza made it.
    pub owner: Option<String>,
}

/// One address on the link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkAddr {
    pub ip: IpAddr,
    pub prefix: u8,
    pub dadfailed: bool,
    pub tentative: bool,
    /// Optimistic DAD (RFC 4429): usable while DAD still runs.
    pub optimistic: bool,
    pub global: bool,
}

/// The port's kernel side.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkState {
    /// Administratively up (IFF_UP).
    pub up: bool,
    pub mac: Option<String>,
    pub addresses: Vec<LinkAddr>,
}

/// Both sides; `None` where the thing does not exist.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observation {
    pub port: Option<PortState>,
    pub link: Option<LinkState>,
    /// The kernel's rules of the families the target routes by source (empty when
    /// not read: no `ovs_route_table`, or no link).
    pub rules: Vec<RuleRow>,
}

/// Why the state could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ObserveError {
    #[error("cannot read OVSDB: {0}")]
    Vsctl(#[from] VsctlError),
    #[error("unexpected output of ovs-vsctl: {0}")]
    VsctlOutput(#[from] TableError),
    /// `ip` could not run or did not finish.
    #[error("cannot read the link with ip: {0}")]
    IpRun(#[from] ProcessError),
    /// `ip` failed; what it said.
    #[error("cannot read the link with ip: {message}")]
    IpFailed { message: String },
    #[error("unexpected output of ip -j addr: {0}")]
    IpOutput(serde_json::Error),
    #[error("cannot read the source-routing rules: {0}")]
    Rules(#[from] IpError),
}

impl From<StateError> for ObserveError {
    fn from(e: StateError) -> ObserveError {
        match e {
            StateError::Vsctl(e) => ObserveError::Vsctl(e),
            StateError::Json(e) => ObserveError::VsctlOutput(TableError::Json(e)),
            StateError::Shape(s) => ObserveError::VsctlOutput(TableError::Shape(s)),
        }
    }
}

/// Read the OVSDB side of `port`.
pub fn read_port(vsctl: &Vsctl, port: &str) -> Result<Option<PortState>, ObserveError> {
    Ok(port_state(&Observed::read(vsctl)?, port))
}

/// The OVSDB side of `port` in `observed` (None when there is no such Port).
pub fn port_state(observed: &Observed, port: &str) -> Option<PortState> {
    let p = observed.port(port)?;
    let iface = observed.interface(port);
    Some(PortState {
        bridge: observed.parent_of(port).map(|b| b.row.name.clone()),
        kind: iface.map(|i| i.kind.clone()).unwrap_or_default(),
        mac: iface.and_then(|i| i.mac.clone()),
        error: iface.and_then(|i| i.error.clone()),
        ofport: iface.and_then(|i| i.ofport),
        owner: p.row.owner().map(str::to_string),
    })
}

/// How long one `ip` call may take.
const IP_LIMIT: Duration = Duration::from_secs(10);

/// Read the kernel side of `dev` (None when there is no such device).
pub fn read_link(dev: &str) -> Result<Option<LinkState>, ObserveError> {
    if !link::exists(dev) {
        return Ok(None);
    }
    let f = run_bounded(
        Command::new("ip").args(["-j", "addr", "show", "dev", dev]),
        IP_LIMIT,
    )?;
    if !f.success() {
        if !link::exists(dev) {
            return Ok(None);
        }
        return Err(ObserveError::IpFailed {
            message: failure_line(&f),
        });
    }
    parse_link(&f.stdout).map_err(ObserveError::IpOutput)
}

/// Parse `ip -j addr show dev DEV` (an array of one link; anything else is no link).
pub fn parse_link(text: &str) -> Result<Option<LinkState>, serde_json::Error> {
    let j: Value = serde_json::from_str(text.trim())?;
    let Some(l) = j.as_array().and_then(|a| a.first()) else {
        return Ok(None);
    };
    let up = list(l, "flags").iter().any(|f| f.as_str() == Some("UP"));
    let mut addresses = Vec::new();
    for a in list(l, "addr_info") {
        let Some(ip) = a
            .get("local")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<IpAddr>().ok())
        else {
            continue;
        };
        let prefix = a
            .get("prefixlen")
            .and_then(Value::as_i64)
            .map_or(0, |n| u8::try_from(n).unwrap_or(0));
        let flag = |k: &str| a.get(k).and_then(Value::as_bool) == Some(true);
        addresses.push(LinkAddr {
            ip,
            prefix,
            dadfailed: flag("dadfailed"),
            tentative: flag("tentative"),
            optimistic: flag("optimistic"),
            global: a.get("scope").and_then(Value::as_str) == Some("global"),
        });
    }
    Ok(Some(LinkState {
        up,
        mac: l.get("address").and_then(Value::as_str).map(str::to_string),
        addresses,
    }))
}

/// The array under `key` (none when there is none).
fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The kernel's rules for the target's source routing, of each family it has static
/// addresses of (nothing without `ovs_route_table`).
pub fn read_rules(t: &Target) -> Result<Vec<RuleRow>, ObserveError> {
    let mut rules = Vec::new();
    for family in [Family::V4, Family::V6] {
        if let Some(spec) = t.source_routing(family) {
            rules.extend(ipcmd::read_kernel(&spec)?.rules);
        }
    }
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ovs-vsctl --format=json` output of [`crate::ovsdb::state::read_args`]:
    /// ovsbr0 holds p0 and p1 (ovsbr0p1, ours, internal, MAC set), `other` holds
    /// only p9 (vm1, whose device OVS could not open) as a bare uuid, and bond0
    /// (p8, on ovsbr0) has no interface of its own name.
    const OVSDB: [&str; 3] = [
        r#"{"data":[[["uuid","b0"],"ovsbr0",["map",[]],["set",[["uuid","p0"],["uuid","p1"],["uuid","p8"]]],"",["map",[]]],[["uuid","b1"],"other",["map",[]],["uuid","p9"],"",["map",[]]]],"headings":["_uuid","name","external_ids","ports","datapath_type","other_config"]}"#,
        r#"{"data":[[["uuid","p0"],"ovsbr0",["map",[]],["uuid","i0"],["set",[]],false],[["uuid","p1"],"ovsbr0p1",["map",[["ifupdown-ovs","ovsbr0p1"]]],["uuid","i1"],["set",[]],false],[["uuid","p9"],"vm1",["map",[]],["uuid","i9"],["set",[]],false],[["uuid","p8"],"bond0",["map",[["ifupdown-ovs","bond0"]]],["set",[["uuid","i7"],["uuid","i8"]]],["set",[]],false]],"headings":["_uuid","name","external_ids","interfaces","tag","fake_bridge"]}"#,
        r#"{"data":[[["uuid","i0"],"ovsbr0",["map",[]],"internal",["map",[]],65534,["set",[]],["set",[]]],[["uuid","i1"],"ovsbr0p1",["map",[]],"internal",["map",[]],2,["set",[]],"02:00:00:00:00:01"],[["uuid","i9"],"vm1",["map",[]],"",["map",[]],-1,"could not open network device vm1 (No such device)",["set",[]]],[["uuid","i7"],"eth7",["map",[]],"",["map",[]],7,["set",[]],["set",[]]],[["uuid","i8"],"eth8",["map",[]],"",["map",[]],8,["set",[]],["set",[]]]],"headings":["_uuid","name","external_ids","type","options","ofport","error","mac"]}"#,
    ];

    fn observed() -> Observed {
        Observed::from_vsctl_json(&OVSDB.join("\n")).unwrap()
    }

    #[test]
    fn port_present() {
        let p = port_state(&observed(), "ovsbr0p1").unwrap();
        assert_eq!(p.bridge.as_deref(), Some("ovsbr0"));
        assert_eq!(p.kind, "internal");
        assert_eq!(p.mac.as_deref(), Some("02:00:00:00:00:01"));
        assert_eq!(p.error, None);
        assert_eq!(p.ofport, Some(2));
        assert_eq!(p.owner.as_deref(), Some("ovsbr0p1"));
    }

    #[test]
    fn port_absent_or_elsewhere() {
        let o = observed();
        assert_eq!(port_state(&o, "nope"), None);
        assert_eq!(port_state(&Observed::default(), "ovsbr0p1"), None);
        let p = port_state(&o, "vm1").unwrap();
        assert_eq!(p.bridge.as_deref(), Some("other"));
        assert_eq!((p.kind.as_str(), p.mac.as_deref()), ("", None));
        assert_eq!(
            p.error.as_deref(),
            Some("could not open network device vm1 (No such device)")
        );
        assert_eq!(p.ofport, Some(-1));
        assert_eq!(p.owner, None);
        let bond = port_state(&o, "bond0").unwrap();
        assert_eq!(bond.bridge.as_deref(), Some("ovsbr0"));
        assert_eq!(bond.owner.as_deref(), Some("bond0"));
        assert_eq!((bond.kind.as_str(), bond.ofport), ("", None));
    }

    #[test]
    fn errors_read_as_before() {
        let e = |s: StateError| ObserveError::from(s).to_string();
        let shape = Observed::from_vsctl_json("{}\n").unwrap_err();
        assert_eq!(
            e(shape),
            "unexpected output of ovs-vsctl: expected 3 tables, got 1"
        );
        let bad = Observed::from_vsctl_json(&format!("{}\n{}\n[", OVSDB[0], OVSDB[1])).unwrap_err();
        assert!(e(bad).starts_with("unexpected output of ovs-vsctl: "));
        let ip = parse_link("[").map_err(ObserveError::IpOutput).unwrap_err();
        assert!(
            ip.to_string()
                .starts_with("unexpected output of ip -j addr: ")
        );
    }

    #[test]
    fn link() {
        let text = r#"[{"ifindex":3,"ifname":"va","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"address":"02:00:00:00:00:01","addr_info":[{"family":"inet","local":"192.0.2.50","prefixlen":24,"scope":"global"},{"family":"inet6","local":"2001:db8::50","prefixlen":64,"scope":"global","tentative":true},{"family":"inet6","local":"fe80::1","prefixlen":64,"scope":"link","dadfailed":true}]}]"#;
        let l = parse_link(text).unwrap().unwrap();
        assert!(l.up);
        assert_eq!(l.mac.as_deref(), Some("02:00:00:00:00:01"));
        assert_eq!(l.addresses.len(), 3);
        assert_eq!(l.addresses[0].ip.to_string(), "192.0.2.50");
        assert_eq!(l.addresses[0].prefix, 24);
        assert!(l.addresses[1].tentative && l.addresses[1].global);
        assert!(l.addresses[2].dadfailed && !l.addresses[2].global);
        let down = text.replace("\"UP\",", "");
        assert!(!parse_link(&down).unwrap().unwrap().up);
        assert!(matches!(parse_link("[]"), Ok(None)));
        assert!(parse_link("").is_err());
    }

    #[test]
    fn odd_link_output_never_panics() {
        assert!(matches!(parse_link(r#"{"ifname":"va"}"#), Ok(None)));
        let odd = parse_link(
            r#"[{"flags":"UP","address":7,"addr_info":[{"local":"x"},{"local":"192.0.2.1","prefixlen":999,"dadfailed":"yes"},{"local":"::1","prefixlen":-3}]}]"#,
        )
        .unwrap()
        .unwrap();
        assert!(!odd.up);
        assert_eq!(odd.mac, None);
        let got: Vec<(String, u8, bool)> = odd
            .addresses
            .iter()
            .map(|a| (a.ip.to_string(), a.prefix, a.dadfailed))
            .collect();
        assert_eq!(
            got,
            [("192.0.2.1".into(), 0, false), ("::1".into(), 0, false)]
        );
        for g in [
            "[",
            "[1",
            "{]",
            "\"\\u12\"",
            "[\"\u{0}\"]",
            "nan",
            &"[".repeat(5000),
        ] {
            assert!(parse_link(g).is_err(), "{g:?}");
        }
        assert!(matches!(parse_link("[1]"), Ok(Some(_))));
    }

    #[test]
    fn reads_lo() {
        let l = read_link("lo").unwrap().unwrap();
        assert!(l.addresses.iter().any(|a| a.ip.is_loopback()) || !l.up);
        assert_eq!(read_link("surely-not-a-dev").unwrap(), None);
    }
}
