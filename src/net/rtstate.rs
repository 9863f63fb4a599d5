//! What the kernel has — rules, routes of ours, an interface's addresses, read from
//! `ip -N -j` — and the `ip -batch` lines that take it to what [`route`] wants:
//!
//! - ours: rules with our `protocol` whose source is one of the interface's
//!   addresses (configured or currently on the device; any table and preference, so
//!   that a changed `ovs_route_table`/`ovs_route_pref` converges), and routes with
//!   our `proto` in their tables that use the device (or one an `ovs_route` names,
//!   or no device: blackhole and the like);
//! - up: stale rules of ours deleted, our routes deleted and the configured ones
//!   added (one batch, so the table is complete again within milliseconds), missing
//!   rules added last;
//! - down: rules of ours deleted first, then our routes.
//!
//! Nothing else in any table, and no rule without our protocol, is ever touched.
//!
//! [`route`]: super::route

use std::net::IpAddr;

use serde_json::Value;

use super::addr::{Family, IfAddr};
use super::route::{Direction, PROTO, Rule, SourceRouting};

/// Why `ip -j` output could not be read.
#[derive(Debug, thiserror::Error)]
pub enum IpJsonError {
    #[error("cannot read ip's JSON output: {0}")]
    Json(#[from] serde_json::Error),
    #[error("ip's JSON output is not a list")]
    NotAList,
}

/// A rule as `ip -N -j rule show` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleRow {
    pub pref: u32,
    /// `from`; None for `from all`.
    pub src: Option<IfAddr>,
    pub table: Option<u32>,
    pub proto: Option<u32>,
}

/// A route as `ip -N -j route show table T` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteRow {
    pub table: u32,
    /// Route type when not unicast (`blackhole`, ...).
    pub kind: Option<String>,
    pub dst: String,
    pub dev: Option<String>,
    pub gateway: Option<String>,
    pub metric: Option<u32>,
    pub tos: Option<String>,
    pub proto: Option<u32>,
}

/// Route types by number (rtnetlink's RTN_*), as `ip` spells them.
const TYPES: [&str; 12] = [
    "unspec",
    "unicast",
    "local",
    "broadcast",
    "anycast",
    "multicast",
    "blackhole",
    "unreachable",
    "prohibit",
    "throw",
    "nat",
    "xresolve",
];

/// A string, or an integer as text (`ip -N` prints numbers as strings, some as
/// JSON numbers).
fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => n.as_i64().map(|i| i.to_string()),
        _ => None,
    }
}

fn number(v: &Value, key: &str) -> Option<u32> {
    text(v, key).and_then(|s| s.parse().ok())
}

/// The objects of `ip -j` output (a list; nothing at all when ip printed nothing).
fn rows(out: &str) -> Result<Vec<Value>, IpJsonError> {
    let out = out.trim();
    if out.is_empty() {
        return Ok(Vec::new());
    }
    match serde_json::from_str(out)? {
        Value::Array(rows) => Ok(rows),
        _ => Err(IpJsonError::NotAList),
    }
}

/// `ip -N -j [-4|-6] rule show`.
pub fn parse_rules(out: &str) -> Result<Vec<RuleRow>, IpJsonError> {
    Ok(rows(out)?
        .iter()
        .map(|r| {
            let src = text(r, "src").filter(|s| s != "all").and_then(|s| {
                let len = number(r, "srclen");
                let a: IpAddr = s.parse().ok()?;
                Some(IfAddr {
                    addr: a,
                    len: len.map_or(Family::of(&a).host_len(), |l| l as u8),
                })
            });
            RuleRow {
                pref: number(r, "priority").unwrap_or(0),
                src,
                table: number(r, "table"),
                proto: number(r, "protocol"),
            }
        })
        .collect())
}

/// `ip -N -j [-4|-6] route show table T`.
pub fn parse_routes(out: &str, table: u32) -> Result<Vec<RouteRow>, IpJsonError> {
    Ok(rows(out)?
        .iter()
        .filter_map(|r| {
            let kind = text(r, "type").map(|t| match t.parse::<usize>() {
                Ok(n) => TYPES.get(n).map_or(t, |s| s.to_string()),
                Err(_) => t,
            });
            Some(RouteRow {
                table,
                kind: kind.filter(|k| k != "unicast"),
                dst: text(r, "dst")?,
                dev: text(r, "dev"),
                gateway: text(r, "gateway"),
                metric: number(r, "metric"),
                tos: text(r, "tos").filter(|t| t != "0"),
                proto: number(r, "protocol"),
            })
        })
        .collect())
}

/// Addresses of `ip -j [-4|-6] addr show dev D` (of `family`).
pub fn parse_addrs(out: &str, family: Family) -> Result<Vec<IfAddr>, IpJsonError> {
    let mut v = Vec::new();
    for link in rows(out)? {
        for a in link
            .get("addr_info")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice)
        {
            let (Some(local), Some(len)) = (text(a, "local"), number(a, "prefixlen")) else {
                continue;
            };
            if let Ok(addr) = local.parse::<IpAddr>()
                && Family::of(&addr) == family
            {
                v.push(IfAddr {
                    addr,
                    len: len as u8,
                });
            }
        }
    }
    Ok(v)
}

/// What the kernel has that concerns one [`SourceRouting`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Kernel {
    /// Every rule of the family.
    pub rules: Vec<RuleRow>,
    /// The routes of the tables [`tables_to_read`] named.
    pub routes: Vec<RouteRow>,
    /// Addresses now on the device.
    pub dev_addrs: Vec<IfAddr>,
}

/// Whether a rule is ours and about one of these addresses.
fn rule_is_ours(r: &RuleRow, addrs: &[IpAddr]) -> bool {
    r.proto == Some(PROTO) && r.src.is_some_and(|s| addrs.contains(&s.addr))
}

/// The addresses whose rules are ours: configured and currently on the device.
fn our_addrs(s: &SourceRouting, dev_addrs: &[IfAddr]) -> Vec<IpAddr> {
    let mut v: Vec<IpAddr> = s.addrs.iter().map(|a| a.addr).collect();
    for a in dev_addrs {
        if a.family() == s.family && !v.contains(&a.addr) {
            v.push(a.addr);
        }
    }
    v
}

/// Tables whose routes to read: the configured one and those of our rules.
pub fn tables_to_read(s: &SourceRouting, rules: &[RuleRow], dev_addrs: &[IfAddr]) -> Vec<u32> {
    let addrs = our_addrs(s, dev_addrs);
    let mut t = vec![s.table];
    for r in rules.iter().filter(|r| rule_is_ours(r, &addrs)) {
        if let Some(id) = r.table
            && !t.contains(&id)
        {
            t.push(id);
        }
    }
    t
}

/// `route del` arguments that match exactly this route of ours.
fn route_del(r: &RouteRow) -> String {
    let mut w: Vec<String> = Vec::new();
    if let Some(k) = &r.kind {
        w.push(k.clone());
    }
    w.push(r.dst.clone());
    if let Some(t) = &r.tos {
        w.extend(["tos".into(), t.clone()]);
    }
    if let Some(g) = &r.gateway {
        w.extend(["via".into(), g.clone()]);
    }
    if let Some(d) = &r.dev {
        w.extend(["dev".into(), d.clone()]);
    }
    if let Some(m) = r.metric {
        w.extend(["metric".into(), m.to_string()]);
    }
    w.extend([
        "table".into(),
        r.table.to_string(),
        "proto".into(),
        PROTO.to_string(),
    ]);
    format!("route del {}", w.join(" "))
}

fn rule_line(verb: &str, r: &Rule) -> String {
    format!("rule {verb} {}", r.args().join(" "))
}

/// The `ip -batch` lines that take the kernel to `s` (up) or remove ours (down).
pub fn batch(direction: Direction, s: &SourceRouting, k: &Kernel) -> Vec<String> {
    let addrs = our_addrs(s, &k.dev_addrs);
    let mut devs = s.extra_devs();
    devs.push(s.dev.clone());
    let ours_rules: Vec<Rule> = k
        .rules
        .iter()
        .filter(|r| rule_is_ours(r, &addrs))
        .filter_map(|r| {
            Some(Rule {
                src: r.src?,
                table: r.table?,
                pref: r.pref,
            })
        })
        .collect();
    let ours_routes: Vec<&RouteRow> = k
        .routes
        .iter()
        .filter(|r| r.proto == Some(PROTO))
        .filter(|r| r.dev.as_ref().is_none_or(|d| devs.contains(d)))
        .collect();
    let mut out = Vec::new();
    match direction {
        Direction::Up => {
            let want = s.rules();
            for r in ours_rules.iter().filter(|r| !want.contains(r)) {
                out.push(rule_line("del", r));
            }
            out.extend(ours_routes.iter().map(|r| route_del(r)));
            for r in s.routes() {
                out.push(format!("route add {}", r.join(" ")));
            }
            for r in want.iter().filter(|r| !ours_rules.contains(r)) {
                out.push(rule_line("add", r));
            }
        }
        Direction::Down => {
            out.extend(ours_rules.iter().map(|r| rule_line("del", r)));
            out.extend(ours_routes.iter().map(|r| route_del(r)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::route::route_words;

    const RULES: &str = r#"[{"priority":0,"src":"all","table":"255"},
        {"priority":900,"src":"192.0.2.50","table":"7","protocol":"79"},
        {"priority":1000,"src":"192.0.2.50","table":"100","protocol":"79"},
        {"priority":1000,"src":"192.0.2.50","table":"100"},
        {"priority":1001,"src":"198.51.100.0","srclen":24,"table":"100","protocol":"79"},
        {"priority":1002,"src":"192.0.2.99","table":"100","protocol":"79"},
        {"priority":32766,"src":"all","table":"254"}]"#;

    const ROUTES: &str = r#"[{"dst":"default","gateway":"192.0.2.1","dev":"p1","protocol":"79","flags":[]},
        {"dst":"192.0.2.0/24","dev":"p1","protocol":"79","scope":"253","prefsrc":"192.0.2.50","flags":[]},
        {"type":"7","dst":"203.0.113.0/24","protocol":"79","flags":[]},
        {"dst":"203.0.113.128/25","dev":"p1","scope":"253","flags":[]},
        {"dst":"198.51.100.0/24","gateway":"192.0.2.9","dev":"p2","protocol":"79","flags":[]}]"#;

    fn spec() -> SourceRouting {
        SourceRouting {
            dev: "p1".into(),
            family: Family::V4,
            table: 100,
            table_shown: "100".into(),
            pref: 1000,
            addrs: vec![IfAddr::parse("192.0.2.50/24", None).unwrap()],
            gateway: Some("192.0.2.1".parse().unwrap()),
            extra: vec![route_words("unreachable 203.0.113.0/24").unwrap().0],
        }
    }

    fn kernel() -> Kernel {
        Kernel {
            rules: parse_rules(RULES).unwrap(),
            routes: parse_routes(ROUTES, 100).unwrap(),
            dev_addrs: parse_addrs(
                r#"[{"ifname":"p1","addr_info":[{"family":"inet","local":"192.0.2.50","prefixlen":24},
                    {"family":"inet6","local":"fe80::1","prefixlen":64}]}]"#,
                Family::V4,
            )
            .unwrap(),
        }
    }

    #[test]
    fn parses_ip_json() {
        let k = kernel();
        assert_eq!(k.rules.len(), 7);
        assert_eq!(k.rules[0].src, None);
        assert_eq!(k.rules[4].src.unwrap().to_string(), "198.51.100.0/24");
        assert_eq!(k.rules[3].proto, None);
        assert_eq!(k.routes[2].kind.as_deref(), Some("unreachable"));
        assert_eq!(k.dev_addrs.len(), 1);
        assert!(parse_rules("").unwrap().is_empty());
        assert!(parse_rules("[").is_err());
    }

    #[test]
    fn errors_and_garbage() {
        assert_eq!(
            parse_rules("{}").unwrap_err().to_string(),
            "ip's JSON output is not a list"
        );
        assert!(
            parse_routes("[{]", 100)
                .unwrap_err()
                .to_string()
                .starts_with("cannot read ip's JSON output: ")
        );
        let deep = "[".repeat(5000);
        for g in [
            "[",
            "nul",
            "\"x",
            "[1,]",
            "[{\"a\":}]",
            "1 2",
            deep.as_str(),
        ] {
            assert!(parse_rules(g).is_err(), "{g:?}");
            assert!(parse_routes(g, 1).is_err(), "{g:?}");
            assert!(parse_addrs(g, Family::V4).is_err(), "{g:?}");
        }
        // lists of the wrong things read as little as they say
        let odd = r#"[1,null,"x",{"priority":"high","src":7,"table":-1,"protocol":1.5},
            {"dst":["default"],"dev":"p1"},{"addr_info":{"local":"192.0.2.1"}},
            {"addr_info":[{"local":"192.0.2.1"},{"local":"192.0.2.2","prefixlen":"24"},
            {"local":"nope","prefixlen":24},{"local":"192.0.2.3","prefixlen":24}]}]"#;
        let rules = parse_rules(odd).unwrap();
        assert_eq!(rules.len(), 7);
        assert_eq!(
            rules[3],
            RuleRow {
                pref: 0,
                src: None,
                table: None,
                proto: None
            }
        );
        assert!(parse_routes(odd, 1).unwrap().is_empty());
        let addrs = parse_addrs(odd, Family::V4).unwrap();
        let addrs: Vec<String> = addrs.iter().map(ToString::to_string).collect();
        assert_eq!(addrs, ["192.0.2.2/24", "192.0.2.3/24"]);
    }

    #[test]
    fn tables_of_our_rules_are_read_too() {
        let k = kernel();
        assert_eq!(tables_to_read(&spec(), &k.rules, &k.dev_addrs), [100, 7]);
    }

    #[test]
    fn up_replaces_ours_and_keeps_the_rest() {
        let mut k = kernel();
        k.routes.extend(
            parse_routes(
                r#"[{"dst":"default","gateway":"192.0.2.1","dev":"p1","protocol":"79","flags":[]}]"#,
                7,
            )
            .unwrap(),
        );
        let b = batch(Direction::Up, &spec(), &k);
        assert_eq!(
            b,
            [
                "rule del from 192.0.2.50 table 7 pref 900 protocol 79",
                "route del default via 192.0.2.1 dev p1 table 100 proto 79",
                "route del 192.0.2.0/24 dev p1 table 100 proto 79",
                "route del unreachable 203.0.113.0/24 table 100 proto 79",
                "route del default via 192.0.2.1 dev p1 table 7 proto 79",
                "route add 192.0.2.0/24 dev p1 src 192.0.2.50 table 100 proto 79",
                "route add default via 192.0.2.1 dev p1 table 100 proto 79",
                "route add unreachable 203.0.113.0/24 table 100 proto 79",
            ],
            "the rule in place stays; the user's rule without protocol, the route without proto, \
             p2's route and other addresses' rules are untouched"
        );
    }

    #[test]
    fn up_from_nothing_adds_rule_last() {
        let b = batch(Direction::Up, &spec(), &Kernel::default());
        assert_eq!(b.len(), 4);
        assert_eq!(
            b[3],
            "rule add from 192.0.2.50 table 100 pref 1000 protocol 79"
        );
    }

    #[test]
    fn down_removes_exactly_ours_and_twice_is_nothing() {
        let b = batch(Direction::Down, &spec(), &kernel());
        assert_eq!(
            b,
            [
                "rule del from 192.0.2.50 table 7 pref 900 protocol 79",
                "rule del from 192.0.2.50 table 100 pref 1000 protocol 79",
                "route del default via 192.0.2.1 dev p1 table 100 proto 79",
                "route del 192.0.2.0/24 dev p1 table 100 proto 79",
                "route del unreachable 203.0.113.0/24 table 100 proto 79",
            ]
        );
        let after = Kernel {
            rules: parse_rules(
                r#"[{"priority":1000,"src":"192.0.2.50","table":"100"},{"priority":1002,"src":"192.0.2.99","table":"100","protocol":"79"}]"#,
            )
            .unwrap(),
            routes: Vec::new(),
            dev_addrs: Vec::new(),
        };
        assert!(batch(Direction::Down, &spec(), &after).is_empty());
    }

    #[test]
    fn an_address_still_on_the_device_counts_as_ours() {
        let mut s = spec();
        s.addrs = vec![IfAddr::parse("192.0.2.60/24", None).unwrap()];
        let b = batch(Direction::Down, &s, &kernel());
        assert!(
            b.contains(&"rule del from 192.0.2.50 table 100 pref 1000 protocol 79".to_string()),
            "{b:?}"
        );
    }
}
