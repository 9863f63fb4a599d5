//! Observed OVSDB state: the Bridge, Port and Interface rows, read with one
//! read-only ovs-vsctl call, and the questions planning asks about them (which
//! bridge holds a port, which rows are ours, which ports belong to a fake bridge).
//!
//! Ownership marks: rows ifupdown-ovs creates or configures carry
//! `external_ids:ifupdown-ovs=OWNER` (OWNER is the interface whose stanza configures
//! the row) and `external_ids:ifupdown-ovs-columns=COL,COL:KEY,...` (the columns and
//! map keys we set, so that a later converge can clear what is no longer configured
//! and never touches anything else).

use std::collections::BTreeMap;

use super::json::{self, Json, TableError, TableRow, atom, map, set};
use super::vsctl::{Vsctl, VsctlError};

/// `external_ids` key naming the interface that owns a row.
pub const OWNER_KEY: &str = "ifupdown-ovs";
/// `external_ids` key listing the columns (and `column:key`s) we manage on a row.
pub const COLUMNS_KEY: &str = "ifupdown-ovs-columns";

/// What every row has.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Row {
    pub uuid: String,
    pub name: String,
    pub external_ids: BTreeMap<String, String>,
}

impl Row {
    /// The interface that owns this row, when it is ours.
    pub fn owner(&self) -> Option<&str> {
        self.external_ids.get(OWNER_KEY).map(String::as_str)
    }

    /// Columns we set on this row before (empty when none or not ours).
    pub fn managed(&self) -> Vec<String> {
        self.external_ids
            .get(COLUMNS_KEY)
            .map(|v| {
                v.split(',')
                    .filter(|c| !c.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BridgeRow {
    pub row: Row,
    /// Port uuids.
    pub ports: Vec<String>,
    pub datapath_type: String,
    pub other_config: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortRow {
    pub row: Row,
    /// Interface uuids.
    pub interfaces: Vec<String>,
    pub tag: Option<i64>,
    pub fake_bridge: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IfaceRow {
    pub row: Row,
    /// `type` ("" is a system interface).
    pub kind: String,
    pub options: BTreeMap<String, String>,
    pub ofport: Option<i64>,
    pub error: Option<String>,
}

/// Everything planning needs to know about the database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    pub bridges: Vec<BridgeRow>,
    pub ports: Vec<PortRow>,
    pub interfaces: Vec<IfaceRow>,
}

/// Why the database could not be read.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("{0}")]
    Vsctl(#[from] VsctlError),
    #[error("cannot read ovs-vsctl output: {0}")]
    Json(#[from] json::JsonError),
    #[error("unexpected ovs-vsctl output: {0}")]
    Shape(String),
}

const BRIDGE_COLUMNS: &str = "_uuid,name,external_ids,ports,datapath_type,other_config";
const PORT_COLUMNS: &str = "_uuid,name,external_ids,interfaces,tag,fake_bridge";
const IFACE_COLUMNS: &str = "_uuid,name,external_ids,type,options,ofport,error";

/// The read-only ovs-vsctl arguments [`Observed::read`] uses (after the program).
pub fn read_args(timeout: u32) -> Vec<String> {
    let mut a = vec![format!("--timeout={timeout}"), "--format=json".to_string()];
    for (cols, table) in [
        (BRIDGE_COLUMNS, "Bridge"),
        (PORT_COLUMNS, "Port"),
        (IFACE_COLUMNS, "Interface"),
    ] {
        a.extend([
            "--".into(),
            format!("--columns={cols}"),
            "list".into(),
            table.into(),
        ]);
    }
    a
}

impl Observed {
    /// Read the three tables in one call.
    pub fn read(v: &Vsctl) -> Result<Observed, StateError> {
        let out = v.run(&read_args(v.timeout))?;
        Observed::from_vsctl_json(&out)
    }

    /// Parse the output of [`read_args`]: one JSON table per line.
    pub fn from_vsctl_json(text: &str) -> Result<Observed, StateError> {
        let tables: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        let [b, p, i] = tables.as_slice() else {
            return Err(StateError::Shape(format!(
                "expected 3 tables, got {}",
                tables.len()
            )));
        };
        let mut o = Observed::default();
        for r in rows(b)? {
            o.bridges.push(BridgeRow {
                row: row(&r),
                ports: set(r.get("ports")).iter().filter_map(atom).collect(),
                datapath_type: r.get("datapath_type").and_then(atom).unwrap_or_default(),
                other_config: map(r.get("other_config")),
            });
        }
        for r in rows(p)? {
            o.ports.push(PortRow {
                row: row(&r),
                interfaces: set(r.get("interfaces")).iter().filter_map(atom).collect(),
                tag: set(r.get("tag")).first().and_then(|j| match j {
                    Json::Int(i) => Some(*i),
                    _ => None,
                }),
                fake_bridge: matches!(r.get("fake_bridge"), Some(Json::Bool(true))),
            });
        }
        for r in rows(i)? {
            o.interfaces.push(IfaceRow {
                row: row(&r),
                kind: r.get("type").and_then(atom).unwrap_or_default(),
                options: map(r.get("options")),
                ofport: set(r.get("ofport")).first().and_then(|j| match j {
                    Json::Int(i) => Some(*i),
                    _ => None,
                }),
                error: set(r.get("error")).first().and_then(atom),
            });
        }
        Ok(o)
    }

    pub fn bridge(&self, name: &str) -> Option<&BridgeRow> {
        self.bridges.iter().find(|b| b.row.name == name)
    }

    pub fn port(&self, name: &str) -> Option<&PortRow> {
        self.ports.iter().find(|p| p.row.name == name)
    }

    pub fn interface(&self, name: &str) -> Option<&IfaceRow> {
        self.interfaces.iter().find(|i| i.row.name == name)
    }

    fn port_by_uuid(&self, uuid: &str) -> Option<&PortRow> {
        self.ports.iter().find(|p| p.row.uuid == uuid)
    }

    fn iface_by_uuid(&self, uuid: &str) -> Option<&IfaceRow> {
        self.interfaces.iter().find(|i| i.row.uuid == uuid)
    }

    /// The real bridge whose `ports` holds port `name`.
    pub fn parent_of(&self, port: &str) -> Option<&BridgeRow> {
        let p = self.port(port)?;
        self.bridges.iter().find(|b| b.ports.contains(&p.row.uuid))
    }

    /// A VLAN ("fake") bridge: its parent and VLAN.
    pub fn fake_bridge(&self, name: &str) -> Option<(&str, i64)> {
        let p = self.port(name).filter(|p| p.fake_bridge)?;
        let parent = self.parent_of(name)?;
        Some((parent.row.name.as_str(), p.tag?))
    }

    /// The bridge ovs-vsctl says holds `port` (`port-to-br`): a fake bridge when the
    /// port's tag is a fake bridge's VLAN on the same parent, else the real bridge.
    pub fn bridge_of(&self, port: &str) -> Option<String> {
        let parent = self.parent_of(port)?;
        let p = self.port(port)?;
        if !p.fake_bridge
            && let Some(tag) = p.tag
            && let Some(fake) = self
                .ports_of_real(&parent.row.name)
                .into_iter()
                .find(|q| q.fake_bridge && q.tag == Some(tag))
        {
            return Some(fake.row.name.clone());
        }
        Some(parent.row.name.clone())
    }

    /// Ports of a real bridge, without its local port.
    pub fn ports_of_real(&self, bridge: &str) -> Vec<&PortRow> {
        let Some(b) = self.bridge(bridge) else {
            return Vec::new();
        };
        b.ports
            .iter()
            .filter_map(|u| self.port_by_uuid(u))
            .filter(|p| p.row.name != bridge)
            .collect()
    }

    /// Ports on bridge `name` as ovs-vsctl shows them (`list-ports`): for a real
    /// bridge the ports not on one of its fake bridges, for a fake bridge the ports
    /// with its VLAN. Fake bridges themselves are not listed.
    pub fn ports_on(&self, name: &str) -> Vec<&PortRow> {
        let (real, vlan) = match self.fake_bridge(name) {
            Some((parent, vlan)) => (parent.to_string(), Some(vlan)),
            None => (name.to_string(), None),
        };
        let fakes: Vec<i64> = self
            .ports_of_real(&real)
            .iter()
            .filter(|p| p.fake_bridge)
            .filter_map(|p| p.tag)
            .collect();
        self.ports_of_real(&real)
            .into_iter()
            .filter(|p| !p.fake_bridge)
            .filter(|p| match vlan {
                Some(v) => p.tag == Some(v),
                None => p.tag.is_none_or(|t| !fakes.contains(&t)),
            })
            .collect()
    }

    /// Fake bridges whose parent is `bridge`.
    pub fn fakes_of(&self, bridge: &str) -> Vec<&PortRow> {
        self.ports_of_real(bridge)
            .into_iter()
            .filter(|p| p.fake_bridge)
            .collect()
    }

    /// Names of a port's interfaces (one for a plain port, the members of a bond).
    pub fn interfaces_of(&self, port: &str) -> Vec<String> {
        let mut names: Vec<String> = self
            .port(port)
            .map(|p| {
                p.interfaces
                    .iter()
                    .filter_map(|u| self.iface_by_uuid(u))
                    .map(|i| i.row.name.clone())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

/// The rows of one `list` table as column -> value.
fn rows(line: &str) -> Result<Vec<TableRow>, StateError> {
    json::table_rows(line).map_err(|e| match e {
        TableError::Json(e) => StateError::Json(e),
        TableError::Shape(why) => StateError::Shape(why.into()),
    })
}

fn row(r: &TableRow) -> Row {
    Row {
        uuid: r.get("_uuid").and_then(atom).unwrap_or_default(),
        name: r.get("name").and_then(atom).unwrap_or_default(),
        external_ids: map(r.get("external_ids")),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Build observed state for tests: bridges with ports `(name, tag, fake, ours,
    /// interfaces)`.
    /// A test port: name, tag, fake bridge, ours, interfaces (empty: one, named
    /// like the port).
    pub type TestPort<'a> = (&'a str, Option<i64>, bool, bool, &'a [&'a str]);

    pub fn observed(bridges: &[(&str, &[TestPort])]) -> Observed {
        let mut o = Observed::default();
        for (bname, ports) in bridges {
            let mut b = BridgeRow {
                row: Row {
                    uuid: format!("b-{bname}"),
                    name: bname.to_string(),
                    external_ids: BTreeMap::new(),
                },
                ..Default::default()
            };
            let local: &[TestPort] = &[(bname, None, false, false, &[])];
            for (pname, tag, fake, ours, ifaces) in local.iter().chain(ports.iter()) {
                let mut p = PortRow {
                    row: Row {
                        uuid: format!("p-{pname}"),
                        name: pname.to_string(),
                        external_ids: BTreeMap::new(),
                    },
                    tag: *tag,
                    fake_bridge: *fake,
                    ..Default::default()
                };
                if *ours {
                    p.row
                        .external_ids
                        .insert(OWNER_KEY.into(), pname.to_string());
                }
                let names: Vec<&str> = if ifaces.is_empty() {
                    vec![pname]
                } else {
                    ifaces.to_vec()
                };
                for n in names {
                    p.interfaces.push(format!("i-{n}"));
                    o.interfaces.push(IfaceRow {
                        row: Row {
                            uuid: format!("i-{n}"),
                            name: n.to_string(),
                            external_ids: BTreeMap::new(),
                        },
                        ofport: Some(1),
                        ..Default::default()
                    });
                }
                b.ports.push(p.row.uuid.clone());
                o.ports.push(p);
            }
            o.bridges.push(b);
        }
        o
    }

    #[test]
    fn parses_vsctl_json() {
        let text = concat!(
            r#"{"data":[[["uuid","b1"],"br0",["map",[["ifupdown-ovs","br0"],["ifupdown-ovs-columns","datapath_type,other_config:hwaddr"]]],["set",[["uuid","p1"],["uuid","p2"]]],"netdev",["map",[]]]],"headings":["_uuid","name","external_ids","ports","datapath_type","other_config"]}"#,
            "\n",
            r#"{"data":[[["uuid","p1"],"br0",["map",[]],["uuid","i1"],["set",[]],false],[["uuid","p2"],"vlan2",["map",[]],["uuid","i2"],2,true]],"headings":["_uuid","name","external_ids","interfaces","tag","fake_bridge"]}"#,
            "\n",
            r#"{"data":[[["uuid","i1"],"br0",["map",[]],"internal",["map",[]],65534,["set",[]]],[["uuid","i2"],"vlan2",["map",[]],"internal",["map",[["peer","x"]]],-1,"could not open network device vlan2 (No such device)"]],"headings":["_uuid","name","external_ids","type","options","ofport","error"]}"#,
            "\n"
        );
        let o = Observed::from_vsctl_json(text).unwrap();
        let b = o.bridge("br0").unwrap();
        assert_eq!(b.row.owner(), Some("br0"));
        assert_eq!(b.row.managed(), ["datapath_type", "other_config:hwaddr"]);
        assert_eq!(b.ports, ["p1", "p2"]);
        assert_eq!(b.datapath_type, "netdev");
        assert_eq!(o.fake_bridge("vlan2"), Some(("br0", 2)));
        assert_eq!(o.fake_bridge("br0"), None);
        let i2 = o.interface("vlan2").unwrap();
        assert_eq!(i2.ofport, Some(-1));
        assert_eq!(i2.options.get("peer").map(String::as_str), Some("x"));
        assert!(i2.error.as_deref().unwrap().contains("No such device"));
        assert_eq!(o.interface("br0").unwrap().error, None);
        assert!(Observed::from_vsctl_json("{}").is_err());
    }

    #[test]
    fn bridges_and_fake_bridges() {
        let o = observed(&[(
            "br0",
            &[
                ("eth0", None, false, true, &[]),
                ("v2", Some(2), true, true, &[]),
                ("vnet0", Some(2), false, false, &[]),
                ("vnet1", Some(3), false, false, &[]),
                ("bond0", None, false, true, &["eth3", "eth2"]),
            ],
        )]);
        assert_eq!(o.bridge_of("vnet0").as_deref(), Some("v2"));
        assert_eq!(o.bridge_of("vnet1").as_deref(), Some("br0"));
        assert_eq!(o.bridge_of("eth0").as_deref(), Some("br0"));
        assert_eq!(o.bridge_of("v2").as_deref(), Some("br0"));
        assert_eq!(o.bridge_of("nope"), None);
        let names = |v: Vec<&PortRow>| v.iter().map(|p| p.row.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(o.ports_on("br0")), ["eth0", "vnet1", "bond0"]);
        assert_eq!(names(o.ports_on("v2")), ["vnet0"]);
        assert_eq!(names(o.fakes_of("br0")), ["v2"]);
        assert_eq!(o.interfaces_of("bond0"), ["eth2", "eth3"]);
        assert_eq!(o.port("eth0").unwrap().row.owner(), Some("eth0"));
    }

    #[test]
    fn read_args_are_one_call() {
        let a = read_args(3);
        assert_eq!(a[0], "--timeout=3");
        assert_eq!(a.iter().filter(|w| *w == "list").count(), 3);
    }
}
