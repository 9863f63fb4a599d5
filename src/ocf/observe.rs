//! The real state of the port: its rows in OVSDB (one read-only ovs-vsctl call) and
//! its kernel link (`ip -j addr show dev IFACE`: flags, MAC, addresses), and with
//! `ovs_route_table` the kernel's rules, read as the hook reads them
//! ([`ipcmd::read_kernel`]).

use std::net::IpAddr;
use std::process::Command;
use std::time::Duration;

use crate::net::addr::Family;
use crate::net::ipcmd::{self, IpError};
use crate::net::link;
use crate::net::rtstate::RuleRow;
use crate::ovsdb::json::{self, Json, TableRow, atom, map, set};
use crate::ovsdb::state::OWNER_KEY;
use crate::ovsdb::vsctl::{Vsctl, quote_string};
use crate::sys::process::{failure_line, run_bounded};

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
    Vsctl(#[from] crate::ovsdb::vsctl::VsctlError),
    #[error("cannot read the link with ip: {0}")]
    Ip(String),
    #[error("cannot read the source-routing rules: {0}")]
    Rules(#[from] IpError),
    #[error("unexpected output of {what}: {why}")]
    Shape { what: &'static str, why: String },
}

/// The ovs-vsctl arguments (after the program) that read everything about `port`.
pub fn vsctl_args(port: &str, timeout: u32) -> Vec<String> {
    let name = format!("name={}", quote_string(port));
    [
        format!("--timeout={timeout}"),
        "--format=json".into(),
        "--".into(),
        "--columns=name,ports".into(),
        "list".into(),
        "Bridge".into(),
        "--".into(),
        "--columns=_uuid,external_ids".into(),
        "find".into(),
        "Port".into(),
        name.clone(),
        "--".into(),
        "--columns=type,mac,error,ofport".into(),
        "find".into(),
        "Interface".into(),
        name,
    ]
    .to_vec()
}

/// Read the OVSDB side of `port`.
pub fn read_port(vsctl: &Vsctl, port: &str) -> Result<Option<PortState>, ObserveError> {
    let out = vsctl.run(&vsctl_args(port, vsctl.timeout))?;
    parse_port(&out).map_err(|why| ObserveError::Shape {
        what: "ovs-vsctl",
        why,
    })
}

/// Parse the output of [`vsctl_args`]: three JSON tables, one per line.
pub fn parse_port(text: &str) -> Result<Option<PortState>, String> {
    let tables: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let [bridges, ports, ifaces] = tables.as_slice() else {
        return Err(format!("expected 3 tables, got {}", tables.len()));
    };
    let ports = rows(ports)?;
    let Some(port) = ports.first() else {
        return Ok(None);
    };
    let uuid = port.get("_uuid").and_then(atom).unwrap_or_default();
    let bridge = rows(bridges)?.iter().find_map(|b| {
        set(b.get("ports"))
            .iter()
            .filter_map(atom)
            .any(|p| p == uuid)
            .then(|| b.get("name").and_then(atom))
            .flatten()
    });
    let owner = map(port.get("external_ids")).remove(OWNER_KEY);
    let ifaces = rows(ifaces)?;
    let iface = ifaces.first();
    let col = |name: &str| iface.and_then(|i| set(i.get(name)).first().and_then(atom));
    Ok(Some(PortState {
        bridge,
        kind: col("type").unwrap_or_default(),
        mac: col("mac"),
        error: col("error"),
        ofport: col("ofport").and_then(|o| o.parse().ok()),
        owner,
    }))
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
    )
    .map_err(|e| ObserveError::Ip(e.to_string()))?;
    if !f.success() {
        if !link::exists(dev) {
            return Ok(None);
        }
        return Err(ObserveError::Ip(failure_line(&f)));
    }
    parse_link(&f.stdout).map_err(|why| ObserveError::Shape {
        what: "ip -j addr",
        why,
    })
}

/// Parse `ip -j addr show dev DEV` (an array of one link).
pub fn parse_link(text: &str) -> Result<Option<LinkState>, String> {
    let j = json::parse(text.trim()).map_err(|e| e.to_string())?;
    let Some(l) = j.as_array().and_then(|a| a.first()) else {
        return Ok(None);
    };
    let flags: Vec<&str> = l
        .get("flags")
        .and_then(Json::as_array)
        .unwrap_or_default()
        .iter()
        .filter_map(Json::as_str)
        .collect();
    let mut addresses = Vec::new();
    for a in l
        .get("addr_info")
        .and_then(Json::as_array)
        .unwrap_or_default()
    {
        let Some(ip) = a
            .get("local")
            .and_then(Json::as_str)
            .and_then(|s| s.parse::<IpAddr>().ok())
        else {
            continue;
        };
        let prefix = match a.get("prefixlen") {
            Some(Json::Int(n)) => u8::try_from(*n).unwrap_or(0),
            _ => 0,
        };
        let flag = |k: &str| matches!(a.get(k), Some(Json::Bool(true)));
        addresses.push(LinkAddr {
            ip,
            prefix,
            dadfailed: flag("dadfailed"),
            tentative: flag("tentative"),
            global: a.get("scope").and_then(Json::as_str) == Some("global"),
        });
    }
    Ok(Some(LinkState {
        up: flags.contains(&"UP"),
        mac: l.get("address").and_then(Json::as_str).map(str::to_string),
        addresses,
    }))
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

/// The rows of one `--format=json` table, as column -> value.
fn rows(line: &str) -> Result<Vec<TableRow>, String> {
    json::table_rows(line).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BRIDGES: &str = r#"{"data":[["ovsbr0",["set",[["uuid","p0"],["uuid","p1"]]]],["other",["uuid","p9"]]],"headings":["name","ports"]}"#;
    const PORT: &str = r#"{"data":[[["uuid","p1"],["map",[["ifupdown-ovs","ovsbr0p1"]]]]],"headings":["_uuid","external_ids"]}"#;
    const IFACE: &str = r#"{"data":[["internal","02:00:00:00:00:01",["set",[]],2]],"headings":["type","mac","error","ofport"]}"#;
    const NONE_P: &str = r#"{"data":[],"headings":["_uuid","external_ids"]}"#;
    const NONE_I: &str = r#"{"data":[],"headings":["type","mac","error","ofport"]}"#;

    #[test]
    fn port_present() {
        let text = format!("{BRIDGES}\n{PORT}\n{IFACE}\n");
        let p = parse_port(&text).unwrap().unwrap();
        assert_eq!(p.bridge.as_deref(), Some("ovsbr0"));
        assert_eq!(p.kind, "internal");
        assert_eq!(p.mac.as_deref(), Some("02:00:00:00:00:01"));
        assert_eq!(p.error, None);
        assert_eq!(p.ofport, Some(2));
        assert_eq!(p.owner.as_deref(), Some("ovsbr0p1"));
    }

    #[test]
    fn port_absent_or_elsewhere() {
        assert_eq!(
            parse_port(&format!("{BRIDGES}\n{NONE_P}\n{NONE_I}\n")),
            Ok(None)
        );
        let elsewhere = PORT.replace("\"p1\"", "\"p9\"");
        let unset = r#"{"data":[["",["set",[]],"could not open network device",-1]],"headings":["type","mac","error","ofport"]}"#;
        let p = parse_port(&format!("{BRIDGES}\n{elsewhere}\n{unset}\n"))
            .unwrap()
            .unwrap();
        assert_eq!(p.bridge.as_deref(), Some("other"));
        assert_eq!((p.kind.as_str(), p.mac.as_deref()), ("", None));
        assert_eq!(p.error.as_deref(), Some("could not open network device"));
        assert_eq!(p.ofport, Some(-1));
        assert!(parse_port("{}\n").is_err());
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
        assert_eq!(parse_link("[]"), Ok(None));
        assert!(parse_link("").is_err());
    }

    #[test]
    fn reads_lo() {
        let l = read_link("lo").unwrap().unwrap();
        assert!(l.addresses.iter().any(|a| a.ip.is_loopback()) || !l.up);
        assert_eq!(read_link("surely-not-a-dev").unwrap(), None);
    }

    #[test]
    fn vsctl_args_quote_the_name() {
        let a = vsctl_args("p1", 5);
        assert_eq!(a[0], "--timeout=5");
        assert_eq!(a.last().unwrap(), "name=\"p1\"");
    }
}
