//! Source-based routing of one interface and one address family (`ovs_route_table`):
//! an `ip rule from ADDR table T pref P` per static address, and in table T the
//! connected prefix, a default route via the stanza's `gateway` and the `ovs_route`
//! lines. Everything we add carries our mark — `proto 79` on routes, `protocol 79` on
//! rules ([`PROTO`]) — so that we remove exactly ours and never touch anything else.
//!
//! This module is the desired side and its rendering; [`super::rtstate`] compares
//! it with what the kernel has, [`super::ipcmd`] runs `ip`.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use super::addr::{Family, IfAddr};
use super::rt_tables::RouteTable;

/// Our routing protocol number (`proto` of routes, `protocol` of rules). Not used
/// by the kernel nor listed in iproute2's `rt_protos`; `ip` prints it as `79`
/// unless `/etc/iproute2/rt_protos.d/` names it.
pub const PROTO: u32 = 79;

/// Words of an `ovs_route` line that would fight with what we add.
const FORBIDDEN: [&str; 4] = ["table", "vrf", "proto", "protocol"];

/// Where iproute2 (6.1, Debian 12) reads table names.
pub const IPROUTE2_DIR: &str = "/etc/iproute2";

/// One `ip rule` of ours: `from SRC table T pref P protocol 79`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub src: IfAddr,
    pub table: u32,
    pub pref: u32,
}

impl Rule {
    /// Arguments after `ip rule add` / `ip rule del`.
    pub fn args(&self) -> Vec<String> {
        let from = if self.src.len == self.src.family().host_len() {
            self.src.addr.to_string()
        } else {
            self.src.to_string()
        };
        [
            "from".to_string(),
            from,
            "table".into(),
            self.table.to_string(),
            "pref".into(),
            self.pref.to_string(),
            "protocol".into(),
            PROTO.to_string(),
        ]
        .to_vec()
    }
}

/// Source routing of one interface for one family, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRouting {
    pub dev: String,
    pub family: Family,
    pub table: u32,
    /// The table as written (a name, or the number), for messages.
    pub table_shown: String,
    pub pref: u32,
    /// The stanza's static addresses (each gets a rule).
    pub addrs: Vec<IfAddr>,
    pub gateway: Option<IpAddr>,
    /// `ovs_route` lines of this family, as words (without `table`/`proto`).
    pub extra: Vec<Vec<String>>,
}

impl SourceRouting {
    /// One rule per address, in order.
    pub fn rules(&self) -> Vec<Rule> {
        self.addrs
            .iter()
            .map(|a| Rule {
                src: IfAddr {
                    addr: a.addr,
                    len: self.family.host_len(),
                },
                table: self.table,
                pref: self.pref,
            })
            .collect()
    }

    /// Arguments after `ip route add` of every route of the table: connected
    /// prefixes (once each; `src` the first address on it — IPv4 only: an IPv6
    /// address is refused as `src` while DAD runs, and a rule lookup already has its
    /// source), the default route via the gateway, the `ovs_route` lines.
    pub fn routes(&self) -> Vec<Vec<String>> {
        let mark = |mut w: Vec<String>| {
            w.extend([
                "table".to_string(),
                self.table.to_string(),
                "proto".into(),
                PROTO.to_string(),
            ]);
            w
        };
        let mut out: Vec<Vec<String>> = Vec::new();
        let mut nets: Vec<IfAddr> = Vec::new();
        for a in &self.addrs {
            let net = a.network();
            if nets.contains(&net) || a.len == self.family.host_len() {
                continue;
            }
            nets.push(net);
            let mut w = vec![net.to_string(), "dev".into(), self.dev.clone()];
            if self.family == Family::V4 {
                w.extend(["src".to_string(), a.addr.to_string()]);
            }
            out.push(mark(w));
        }
        if let Some(gw) = self.gateway {
            out.push(mark(vec![
                "default".into(),
                "via".into(),
                gw.to_string(),
                "dev".into(),
                self.dev.clone(),
            ]));
        }
        for words in &self.extra {
            out.push(mark(words.clone()));
        }
        out
    }

    /// Devices our routes may use besides `dev`: those named by `dev`/`oif` in the
    /// `ovs_route` lines.
    pub fn extra_devs(&self) -> Vec<String> {
        let mut devs = Vec::new();
        for w in &self.extra {
            for pair in w.windows(2) {
                if (pair[0] == "dev" || pair[0] == "oif") && !devs.contains(&pair[1]) {
                    devs.push(pair[1].clone());
                }
            }
        }
        devs
    }
}

/// Install (up) or remove (down).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
}

/// A change of one interface's source routing: a plan step. Executing it reads the
/// kernel's rules and routes first, so that it adds only what is missing and
/// deletes only what exists and is ours ([`super::rtstate`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub direction: Direction,
    pub spec: SourceRouting,
}

impl Change {
    /// The batch as planned from the configuration alone: what up adds, what down
    /// removes when the kernel has what up made.
    pub fn planned_lines(&self) -> Vec<String> {
        let s = &self.spec;
        let routes = s
            .routes()
            .into_iter()
            .map(|r| format!("route {} {}", self.verb(), r.join(" ")));
        let rules = s
            .rules()
            .into_iter()
            .map(|r| format!("rule {} {}", self.verb(), r.args().join(" ")));
        match self.direction {
            Direction::Up => routes.chain(rules).collect(),
            Direction::Down => rules.chain(routes).collect(),
        }
    }

    fn verb(&self) -> &'static str {
        match self.direction {
            Direction::Up => "add",
            Direction::Down => "del",
        }
    }
}

impl fmt::Display for Change {
    /// As the equivalent shell: `ip -4 -batch - <<EOF` ... `EOF`, with a comment.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.spec;
        let what = match self.direction {
            Direction::Up => format!(
                "our old rules for these addresses and routes (proto {PROTO}) on {} in table {} are replaced",
                s.dev, s.table_shown
            ),
            Direction::Down => "only what exists and is ours".to_string(),
        };
        writeln!(
            f,
            "ip {} -batch - <<EOF  # source routing of {} ({}): {what}",
            s.family.flag(),
            s.dev,
            s.family.addrfam()
        )?;
        for l in self.planned_lines() {
            writeln!(f, "{l}")?;
        }
        write!(f, "EOF")
    }
}

/// Why an `ovs_route` line or an `ovs_route_table` cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error("empty route")]
    Empty,
    /// The line sets what we add ourselves (`table`, `vrf`, `proto`, `protocol`).
    #[error(
        "\"{line}\" names its own {word}; ifupdown-ovs adds \"table T proto {PROTO}\" itself (ovs_route_table)"
    )]
    OwnWord { line: String, word: String },
    #[error(
        "ovs_route_table: unknown routing table name \"{name}\" (not in {}/rt_tables or rt_tables.d/*.conf)",
        .dir.display()
    )]
    UnknownTable { name: String, dir: PathBuf },
}

/// Split an `ovs_route` line into words and check it: no word that sets a table or
/// a protocol (we add `table T proto 79`). Returns the words and their family: that
/// of the first address or prefix in the line, IPv4 when there is none.
pub fn route_words(line: &str) -> Result<(Vec<String>, Family), RouteError> {
    let words: Vec<String> = line.split_whitespace().map(String::from).collect();
    if words.is_empty() {
        return Err(RouteError::Empty);
    }
    if let Some(w) = words.iter().find(|w| FORBIDDEN.contains(&w.as_str())) {
        return Err(RouteError::OwnWord {
            line: line.to_string(),
            word: w.clone(),
        });
    }
    let family = words
        .iter()
        .find_map(|w| {
            let a = w.split('/').next().unwrap_or(w);
            a.parse::<IpAddr>().ok().map(|a| Family::of(&a))
        })
        .unwrap_or(Family::V4);
    Ok((words, family))
}

/// The number of a routing table: a number as is, a name from `rt_tables` and
/// `rt_tables.d/*.conf` under `dir` (where `ip` reads them) or iproute2's built-in
/// names.
pub fn table_id(table: &RouteTable, dir: &Path) -> Result<u32, RouteError> {
    let name = match table {
        RouteTable::Id(n) => return Ok(*n),
        RouteTable::Name(n) => n,
    };
    super::rt_tables::lookup(&[dir.to_path_buf()], name).ok_or_else(|| RouteError::UnknownTable {
        name: name.clone(),
        dir: dir.to_path_buf(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(family: Family) -> SourceRouting {
        let (addrs, gw) = match family {
            Family::V4 => (
                vec![
                    IfAddr::parse("192.0.2.50/24", None).unwrap(),
                    IfAddr::parse("192.0.2.51/24", None).unwrap(),
                ],
                "192.0.2.1",
            ),
            Family::V6 => (
                vec![IfAddr::parse("2001:db8::1/64", None).unwrap()],
                "2001:db8::ff",
            ),
        };
        SourceRouting {
            dev: "ovsbr0p1".into(),
            family,
            table: 100,
            table_shown: "100".into(),
            pref: 1000,
            addrs,
            gateway: Some(gw.parse().unwrap()),
            extra: vec![
                route_words("198.51.100.0/24 via 192.0.2.254 dev eth1")
                    .unwrap()
                    .0,
            ],
        }
    }

    #[test]
    fn rules_and_routes_of_a_floating_port() {
        let c = Change {
            direction: Direction::Up,
            spec: spec(Family::V4),
        };
        assert_eq!(
            c.planned_lines(),
            [
                "route add 192.0.2.0/24 dev ovsbr0p1 src 192.0.2.50 table 100 proto 79",
                "route add default via 192.0.2.1 dev ovsbr0p1 table 100 proto 79",
                "route add 198.51.100.0/24 via 192.0.2.254 dev eth1 table 100 proto 79",
                "rule add from 192.0.2.50 table 100 pref 1000 protocol 79",
                "rule add from 192.0.2.51 table 100 pref 1000 protocol 79",
            ]
        );
        assert_eq!(c.spec.extra_devs(), ["eth1"]);
        let text = c.to_string();
        assert!(text.starts_with("ip -4 -batch - <<EOF  # source routing of ovsbr0p1 (inet)"));
        assert!(text.ends_with("\nEOF"));
        let d = Change {
            direction: Direction::Down,
            spec: spec(Family::V6),
        };
        assert_eq!(
            d.planned_lines(),
            [
                "rule del from 2001:db8::1 table 100 pref 1000 protocol 79",
                "route del 2001:db8::/64 dev ovsbr0p1 table 100 proto 79",
                "route del default via 2001:db8::ff dev ovsbr0p1 table 100 proto 79",
                "route del 198.51.100.0/24 via 192.0.2.254 dev eth1 table 100 proto 79",
            ]
        );
    }

    #[test]
    fn host_addresses_have_no_connected_route() {
        let mut s = spec(Family::V4);
        s.addrs = vec![IfAddr::parse("192.0.2.9", None).unwrap()];
        s.gateway = None;
        s.extra.clear();
        assert!(s.routes().is_empty());
        assert_eq!(s.rules().len(), 1);
    }

    #[test]
    fn route_lines_are_checked() {
        let (w, f) = route_words("  2001:db8:1::/48   via 2001:db8::ff ").unwrap();
        assert_eq!(w, ["2001:db8:1::/48", "via", "2001:db8::ff"]);
        assert_eq!(f, Family::V6);
        assert_eq!(route_words("default dev ovsbr0p1").unwrap().1, Family::V4);
        assert_eq!(
            route_words("unreachable 198.51.100.0/24").unwrap().1,
            Family::V4
        );
        let e = route_words("default via 192.0.2.1 table 7").unwrap_err();
        assert_eq!(
            e.to_string(),
            "\"default via 192.0.2.1 table 7\" names its own table; ifupdown-ovs adds \"table T proto 79\" itself (ovs_route_table)"
        );
        assert!(route_words("default via 192.0.2.1 proto static").is_err());
        assert_eq!(route_words("   "), Err(RouteError::Empty));
    }

    #[test]
    fn table_names() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("rt_tables"), "255 local\n100 ha # x\n").unwrap();
        std::fs::create_dir(d.path().join("rt_tables.d")).unwrap();
        std::fs::write(d.path().join("rt_tables.d/x.conf"), "0x20 hexy\n").unwrap();
        let id = |n: &str| table_id(&RouteTable::Name(n.into()), d.path());
        assert_eq!(id("ha"), Ok(100));
        assert_eq!(id("hexy"), Ok(32));
        assert_eq!(id("main"), Ok(254));
        assert_eq!(
            id("nosuch").unwrap_err().to_string(),
            format!(
                "ovs_route_table: unknown routing table name \"nosuch\" (not in {}/rt_tables or rt_tables.d/*.conf)",
                d.path().display()
            )
        );
        assert_eq!(table_id(&RouteTable::Id(7), d.path()), Ok(7));
    }
}
