//! Why OVS refused a transaction, read from ovs-vsctl's error line, and which
//! record (bridge, port or interface name) it names, if any.
//!
//! `ifup -a` applies one transaction for all its interfaces; when OVS refuses it,
//! the batch retries without the interface at fault (`hook::all`). The record an
//! error names tells which one that is; an error that names none (a constraint
//! violation on a value: `sometimes is not one of the allowed values`) leaves the
//! batch to find it by halving. The texts are those of ovs-vsctl and
//! ovsdb-server (Open vSwitch 2.x and 3.x); an unknown text is
//! [`Refusal::Other`], which names nothing.

/// One refusal of ovs-vsctl or ovsdb-server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// `no row "NAME" in table TABLE`: a command refers to a record that does
    /// not exist.
    NoRow { table: String, name: String },
    /// `cannot create a port named NAME because a bridge named NAME already
    /// exists` (or an interface, a bridge): the name is taken.
    Taken { name: String },
    /// `cannot delete port NAME because it is the local port for bridge NAME`:
    /// a port of ours has the name of a bridge that is not.
    LocalPort { name: String },
    /// `"--may-exist add-port BR NAME" but NAME is actually attached to bridge
    /// OTHER` (and the same for add-bond, add-br): it exists, elsewhere or
    /// otherwise.
    Elsewhere { name: String },
    /// ovsdb-server: `Transaction causes multiple rows in "TABLE" table to have
    /// identical values (NAME) for index on column "name"`.
    Duplicate { table: String, name: String },
    /// `constraint violation: DETAIL` (a value out of range or not allowed):
    /// names no record.
    Constraint { detail: String },
    /// ovs-vsctl could not reach ovsdb-server: no refusal, OVS is not there.
    NoConnection { message: String },
    /// Any other error.
    Other { message: String },
}

impl Refusal {
    /// Read ovs-vsctl's error line (with or without its `ovs-vsctl: ` prefix).
    pub fn parse(message: &str) -> Refusal {
        let m = message.trim();
        if ["database connection failed", "connection attempt failed"]
            .iter()
            .any(|t| m.contains(t))
        {
            return Refusal::NoConnection {
                message: m.to_string(),
            };
        }
        if let Some(r) = no_row(m)
            .or_else(|| taken(m))
            .or_else(|| local_port(m))
            .or_else(|| elsewhere(m))
        {
            return r;
        }
        if let Some(r) = duplicate(m) {
            return r;
        }
        match m.split_once("constraint violation: ") {
            Some((_, detail)) => Refusal::Constraint {
                detail: detail.to_string(),
            },
            None => Refusal::Other {
                message: m.to_string(),
            },
        }
    }

    /// The record (bridge, port or interface name) the error is about.
    pub fn record(&self) -> Option<&str> {
        match self {
            Refusal::NoRow { name, .. }
            | Refusal::Taken { name }
            | Refusal::LocalPort { name }
            | Refusal::Elsewhere { name }
            | Refusal::Duplicate { name, .. } => Some(name),
            Refusal::Constraint { .. } | Refusal::NoConnection { .. } | Refusal::Other { .. } => {
                None
            }
        }
    }

    /// Whether OVS looked at the transaction and refused it: trying again
    /// without the records at fault may succeed.
    pub fn refused(&self) -> bool {
        !matches!(self, Refusal::NoConnection { .. })
    }
}

/// `no row "NAME" in table TABLE`
fn no_row(m: &str) -> Option<Refusal> {
    let (_, rest) = m.split_once("no row \"")?;
    let (name, rest) = rest.split_once("\" in table ")?;
    let table = rest.split_whitespace().next()?;
    Some(Refusal::NoRow {
        table: table.to_string(),
        name: name.to_string(),
    })
}

/// `cannot create a port named NAME because …`
fn taken(m: &str) -> Option<Refusal> {
    let (_, rest) = m.split_once("cannot create a")?;
    let (_, rest) = rest.split_once(" named ")?;
    let (name, _) = rest.split_once(" because ")?;
    Some(Refusal::Taken {
        name: name.to_string(),
    })
}

/// `cannot delete port NAME because it is the local port …`
fn local_port(m: &str) -> Option<Refusal> {
    let (_, rest) = m.split_once("cannot delete port ")?;
    let (name, rest) = rest.split_once(" because ")?;
    rest.contains("local port").then(|| Refusal::LocalPort {
        name: name.to_string(),
    })
}

/// `"--may-exist add-port BR NAME" but NAME is …`
fn elsewhere(m: &str) -> Option<Refusal> {
    let (_, rest) = m.split_once("\"--may-exist ")?;
    let (_, rest) = rest.split_once("\" but ")?;
    let (name, _) = rest.split_once(' ')?;
    Some(Refusal::Elsewhere {
        name: name.to_string(),
    })
}

/// `… multiple rows in "TABLE" table to have identical values (NAME) for index
/// on column "name"`
fn duplicate(m: &str) -> Option<Refusal> {
    let (_, rest) = m.split_once("multiple rows in \\\"")?;
    let (table, rest) = rest.split_once("\\\" table")?;
    let (_, rest) = rest.split_once("identical values (")?;
    let (name, _) = rest.split_once(") for index on column \\\"name\\\"")?;
    Some(Refusal::Duplicate {
        table: table.to_string(),
        name: name.trim_matches(|c| c == '"' || c == '\\').to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines ovs-vsctl 3.1 printed for these refusals.
    #[test]
    fn reads_what_ovs_vsctl_says() {
        let r = Refusal::parse("ovs-vsctl: no row \"vlan7x\" in table Interface");
        assert_eq!(
            r,
            Refusal::NoRow {
                table: "Interface".into(),
                name: "vlan7x".into()
            }
        );
        assert_eq!(r.record(), Some("vlan7x"));
        let r = Refusal::parse(
            "ovs-vsctl: cannot create a port named vlan5 because a bridge named vlan5 already exists",
        );
        assert_eq!(r.record(), Some("vlan5"));
        let r = Refusal::parse(
            "ovs-vsctl: cannot create an interface named eth1 because a port named eth1 already exists on bridge br1",
        );
        assert_eq!(r.record(), Some("eth1"));
        let r = Refusal::parse(
            "ovs-vsctl: cannot delete port vlan7 because it is the local port for bridge vlan7 (deleting this port requires deleting the entire bridge)",
        );
        assert_eq!(
            r,
            Refusal::LocalPort {
                name: "vlan7".into()
            }
        );
        let r = Refusal::parse(
            "ovs-vsctl: \"--may-exist add-port br0 px\" but px is actually attached to bridge br1",
        );
        assert_eq!(r, Refusal::Elsewhere { name: "px".into() });
        let r = Refusal::parse(
            "ovs-vsctl: transaction error: {\"details\":\"Transaction causes multiple rows in \\\"Port\\\" table to have identical values (px) for index on column \\\"name\\\".  First row, with UUID badb296d, was inserted by this transaction.\",\"error\":\"constraint violation\"}",
        );
        assert_eq!(
            r,
            Refusal::Duplicate {
                table: "Port".into(),
                name: "px".into()
            }
        );
        let r = Refusal::parse(
            "ovs-vsctl: constraint violation: sometimes is not one of the allowed values ([active, off, passive])",
        );
        assert!(matches!(r, Refusal::Constraint { .. }), "{r:?}");
        assert_eq!(r.record(), None);
        assert_eq!(Refusal::parse("ovs-vsctl: something else").record(), None);
        let r = Refusal::parse(
            "ovs-vsctl: unix:/run/openvswitch/db.sock: database connection failed (No such file or directory)",
        );
        assert!(!r.refused(), "{r:?}");
        let r = Refusal::parse(
            "2026-12-07T01:46:40Z|00002|reconnect|WARN|unix:/run/openvswitch/db.sock: connection attempt failed (Connection refused)",
        );
        assert!(!r.refused(), "{r:?}");
    }
}
