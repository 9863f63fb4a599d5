//! Desired + observed -> one ovs-vsctl transaction. Pure functions, no I/O.
//!
//! Up: create what is missing (`--may-exist add-br/add-port/add-bond`), move a port
//! that sits on another bridge, fix bond members, then `set` every column we want
//! together with our ownership marks, and clear the columns we set before that are
//! no longer configured (recorded in `external_ids:ifupdown-ovs-columns`). Columns
//! and keys we never set are not touched.
//!
//! Down: delete our port; delete our bridge unless it still holds ports that
//! nobody declared and that are not ours (VM taps, veths) — then only our ports go
//! and the bridge stays, with a warning.

use std::collections::BTreeSet;

use super::desired::{Node, RowConfig, Shape, Table};
use crate::ovsdb::state::{COLUMNS_KEY, OWNER_KEY, Observed, PortRow, Row};
use crate::ovsdb::vsctl::{Transaction, quote_string};

/// A change that would destroy something that is not ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{name}: cannot change it into {want}: it exists as {have} with ports ifupdown-ovs did not create ({}); move them away or delete the bridge with ovs-vsctl first",
    ports.join(", ")
)]
pub struct ConvergeError {
    pub name: String,
    pub have: String,
    pub want: String,
    pub ports: Vec<String>,
}

fn is_ours(row: &Row) -> bool {
    row.external_ids.contains_key(OWNER_KEY)
}

fn names(ports: &[&PortRow]) -> Vec<String> {
    ports.iter().map(|p| p.row.name.clone()).collect()
}

/// The transaction that brings `nodes` (in order: bridges before their ports) from
/// `observed` to their desired state. Empty only when `nodes` is.
pub fn up(nodes: &[Node], observed: &Observed) -> Result<Transaction, ConvergeError> {
    let mut tx = Transaction::new();
    for n in nodes {
        structure(n, observed, &mut tx)?;
        for r in &n.rows {
            row_commands(r, &n.name, observed, &mut tx);
        }
    }
    for n in nodes {
        for c in &n.extra {
            tx.push(c.iter().cloned());
        }
    }
    Ok(tx)
}

/// Make the node exist with the right kind, bridge and members.
fn structure(n: &Node, o: &Observed, tx: &mut Transaction) -> Result<(), ConvergeError> {
    let name = n.name.as_str();
    let bridge = || n.bridge.clone().unwrap_or_default();
    match &n.shape {
        Shape::Bridge => {
            if let Some((parent, vlan)) = o.fake_bridge(name) {
                let have = format!("a VLAN bridge ({parent} VLAN {vlan})");
                recreate(name, have, "a bridge", o, tx)?;
            }
            tx.push(["--may-exist", "add-br", name]);
        }
        Shape::FakeBridge { parent, vlan } => fake_bridge(name, parent, *vlan, o, tx)?,
        Shape::Bond { members } => bond(name, &bridge(), members, o, tx),
        _ => port(name, &bridge(), o, tx),
    }
    Ok(())
}

/// Delete bridge `name` (it exists as `have`) to create it as `want`: only when
/// no port on it is someone else's.
fn recreate(
    name: &str,
    have: String,
    want: &str,
    o: &Observed,
    tx: &mut Transaction,
) -> Result<(), ConvergeError> {
    // Ports of ours may go with the bridge; someone else's must not.
    let ports: Vec<&PortRow> = if o.bridge(name).is_some() {
        o.ports_of_real(name)
    } else {
        o.ports_on(name)
    };
    let foreign: Vec<&PortRow> = ports.into_iter().filter(|p| !is_ours(&p.row)).collect();
    if !foreign.is_empty() {
        return Err(ConvergeError {
            name: name.to_string(),
            have,
            want: want.to_string(),
            ports: names(&foreign),
        });
    }
    tx.push(["del-br", name]);
    Ok(())
}

/// VLAN bridge `name` of `parent`: re-created when it exists as something else.
fn fake_bridge(
    name: &str,
    parent: &str,
    vlan: u16,
    o: &Observed,
    tx: &mut Transaction,
) -> Result<(), ConvergeError> {
    let want = format!("a VLAN bridge ({parent} VLAN {vlan})");
    match o.fake_bridge(name) {
        Some((p, v)) if p == parent && v == i64::from(vlan) => {}
        Some((p, v)) => recreate(name, format!("a VLAN bridge ({p} VLAN {v})"), &want, o, tx)?,
        None if o.bridge(name).is_some() => recreate(name, "a bridge".into(), &want, o, tx)?,
        None => {}
    }
    tx.push([
        "--may-exist".to_string(),
        "add-br".into(),
        name.into(),
        parent.to_string(),
        vlan.to_string(),
    ]);
    Ok(())
}

/// Bond `name` on `bridge`: its members fixed in place, else (re)created.
fn bond(name: &str, bridge: &str, members: &[String], o: &Observed, tx: &mut Transaction) {
    let have = o.interfaces_of(name);
    let is_bond = o.port(name).is_some() && have != [name.to_string()];
    let placed = placed_on(o, name, bridge);
    if o.port(name).is_some() && (!is_bond || !placed) {
        tx.push(["del-port", name]);
    }
    if is_bond && placed {
        for m in members.iter().filter(|m| !have.contains(m)) {
            free_member(m, name, o, tx);
            tx.push(["--may-exist", "add-bond-iface", name, m.as_str()]);
        }
        for m in have.iter().filter(|m| !members.contains(m)) {
            tx.push(["--if-exists", "del-bond-iface", name, m.as_str()]);
        }
    } else {
        for m in members {
            free_member(m, name, o, tx);
        }
        let mut cmd = vec![
            "--fake-iface".to_string(),
            "add-bond".into(),
            bridge.to_string(),
            name.into(),
        ];
        cmd.extend(members.iter().cloned());
        tx.push(cmd);
    }
}

/// Port `name` on `bridge`: left in place, else moved or added.
fn port(name: &str, bridge: &str, o: &Observed, tx: &mut Transaction) {
    if let Some(p) = o.port(name) {
        let plain = !p.fake_bridge && o.interfaces_of(name) == [name.to_string()];
        if plain && placed_on(o, name, bridge) {
            // In place: `add-port` again would even fail when a VLAN bridge
            // shares the port's tag (ovs-vsctl then puts the port on that VLAN
            // bridge).
            return;
        }
        tx.push(["del-port", name]);
    }
    tx.push(["--may-exist", "add-port", bridge, name]);
}

/// Whether `port` sits where `bridge` wants it: on the VLAN bridge `bridge` (its
/// parent, with its tag), or on the real bridge `bridge` (any tag).
fn placed_on(o: &Observed, port: &str, bridge: &str) -> bool {
    if o.fake_bridge(bridge).is_some() {
        o.bridge_of(port).as_deref() == Some(bridge)
    } else {
        o.parent_of(port).is_some_and(|b| b.row.name == bridge)
    }
}

/// A bond member that is still a port of its own (ours, from an earlier
/// configuration) must stop being one first.
fn free_member(member: &str, bond: &str, o: &Observed, tx: &mut Transaction) {
    if member != bond
        && let Some(p) = o.port(member)
        && is_ours(&p.row)
    {
        tx.push(["--if-exists", "del-port", member]);
    }
}

fn observed_row<'a>(o: &'a Observed, table: Table, name: &str) -> Option<&'a Row> {
    match table {
        Table::Bridge => o.bridge(name).map(|b| &b.row),
        Table::Port => o.port(name).map(|p| &p.row),
        Table::Interface => o.interface(name).map(|i| &i.row),
    }
}

/// `set` our columns and marks; revert the columns we managed before and no longer do.
fn row_commands(r: &RowConfig, owner: &str, o: &Observed, tx: &mut Transaction) {
    let table = r.table.to_string();
    let before = observed_row(o, r.table, &r.name)
        .map(Row::managed)
        .unwrap_or_default();
    for col in before
        .iter()
        .filter(|c| !r.settings.iter().any(|s| &s.column == *c))
    {
        tx.push(revert(r.table, &r.name, col));
    }
    let mut cmd = vec!["set".to_string(), table, r.name.clone()];
    cmd.extend(r.settings.iter().map(|s| s.word()));
    if r.mark {
        let cols: Vec<&str> = r.settings.iter().map(|s| s.column.as_str()).collect();
        cmd.push(format!("external_ids:{OWNER_KEY}={}", quote_string(owner)));
        cmd.push(format!(
            "external_ids:{COLUMNS_KEY}={}",
            quote_string(&cols.join(","))
        ));
    }
    if cmd.len() > 3 {
        tx.push(cmd);
    }
}

/// Columns that are not optional: reverting means their schema default.
fn default_of(table: Table, column: &str) -> Option<&'static str> {
    match (table, column) {
        (Table::Bridge, "datapath_type") | (Table::Interface, "type") => Some("\"\""),
        (Table::Bridge, "stp_enable" | "rstp_enable" | "mcast_snooping_enable")
        | (Table::Port, "bond_fake_iface" | "protected") => Some("false"),
        (Table::Port, "bond_updelay" | "bond_downdelay") => Some("0"),
        (Table::Interface, c) if c.starts_with("ingress_policing_") => Some("0"),
        _ => None,
    }
}

/// The command that undoes our setting of `col` (`column` or `column:key`).
fn revert(table: Table, name: &str, col: &str) -> Vec<String> {
    let t = table.to_string();
    if let Some((column, key)) = col.split_once(':') {
        return vec![
            "remove".into(),
            t,
            name.into(),
            column.into(),
            quote_string(key),
        ];
    }
    match default_of(table, col) {
        Some(d) => vec!["set".into(), t, name.into(), format!("{col}={d}")],
        None => vec!["clear".into(), t, name.into(), col.into()],
    }
}

/// What an ifdown leaves behind on purpose.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Down {
    pub tx: Transaction,
    /// One line each, for the user.
    pub warnings: Vec<String>,
}

/// What removing one interface needs: its name, whether it is a bridge (real or
/// VLAN bridge), the bridge holding it (a port), and for a bridge `mine` and
/// `keep` (see [`down`]). The hook records these for `ifdown -a` ([`down_all`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownTarget {
    pub name: String,
    pub is_bridge: bool,
    pub bridge: Option<String>,
    pub mine: BTreeSet<String>,
    pub keep: BTreeSet<String>,
}

impl DownTarget {
    pub fn new(n: &Node, mine: BTreeSet<String>, keep: BTreeSet<String>) -> DownTarget {
        DownTarget {
            name: n.name.clone(),
            is_bridge: n.is_bridge(),
            bridge: n.bridge.clone(),
            mine,
            keep,
        }
    }
}

/// Remove `n`. `mine`: what the configuration puts on this bridge (counts as ours
/// even without a mark). `keep`: ports the configuration puts on the parent of
/// this VLAN bridge; they share its VLAN, so ovs-vsctl counts them as the VLAN
/// bridge's ports (and `del-br` would delete them), but they stay.
pub fn down(n: &Node, o: &Observed, mine: &BTreeSet<String>, keep: &BTreeSet<String>) -> Down {
    down_target(&DownTarget::new(n, mine.clone(), keep.clone()), o)
}

/// Remove several interfaces in one transaction, in order, with the result of
/// removing them one after the other: each is planned against the state the
/// ones before it leave (simulated on a copy of `o`).
pub fn down_all(targets: &[DownTarget], o: &Observed) -> Down {
    let mut state = o.clone();
    let mut all = Down::default();
    for t in targets {
        let d = down_target(t, &state);
        for c in &d.tx.commands {
            forget(&mut state, c);
        }
        all.tx.extend(d.tx);
        all.warnings.extend(d.warnings);
    }
    all
}

/// Remove from `o` what a command of [`down_target`] deletes.
fn forget(o: &mut Observed, cmd: &[String]) {
    let words: Vec<&str> = cmd
        .iter()
        .map(String::as_str)
        .filter(|w| *w != "--if-exists")
        .collect();
    let uuids: Vec<String> = match words.as_slice() {
        ["del-port", name] => o
            .port(name)
            .map(|p| p.row.uuid.clone())
            .into_iter()
            .collect(),
        ["del-br", name] => match (o.bridge(name), o.fake_bridge(name)) {
            (Some(b), _) => {
                let ports = b.ports.clone();
                o.bridges.retain(|b| b.row.name != *name);
                ports
            }
            (None, Some(_)) => {
                let mut v: Vec<String> = o
                    .ports_on(name)
                    .iter()
                    .map(|p| p.row.uuid.clone())
                    .collect();
                v.extend(o.port(name).map(|p| p.row.uuid.clone()));
                v
            }
            _ => Vec::new(),
        },
        ["remove", "Bridge", _, "ports", uuid] => vec![uuid.to_string()],
        _ => Vec::new(),
    };
    for u in &uuids {
        drop_port(o, u);
    }
}

/// Remove port row `uuid`, its interfaces and every reference to it.
fn drop_port(o: &mut Observed, uuid: &str) {
    let Some(i) = o.ports.iter().position(|p| p.row.uuid == uuid) else {
        return;
    };
    let p = o.ports.remove(i);
    o.interfaces.retain(|x| !p.interfaces.contains(&x.row.uuid));
    for b in &mut o.bridges {
        b.ports.retain(|u| u != uuid);
    }
}

fn down_target(t: &DownTarget, o: &Observed) -> Down {
    let (mine, keep) = (&t.mine, &t.keep);
    let mut d = Down::default();
    let name = t.name.as_str();
    if !t.is_bridge {
        if let Some(p) = o.port(name) {
            let on_declared = t.bridge.as_deref().is_some_and(|b| placed_on(o, name, b));
            if is_ours(&p.row) || on_declared {
                d.tx.push(["--if-exists", "del-port", name]);
            }
        }
        return d;
    }
    let fake = o.fake_bridge(name);
    let real = o.bridge(name).is_some();
    if !real && fake.is_none() {
        return d;
    }
    let ports: Vec<&PortRow> = if real {
        o.ports_of_real(name)
    } else {
        o.ports_on(name)
    };
    let kept = |p: &PortRow| keep.contains(&p.row.name);
    let ours = |p: &PortRow| is_ours(&p.row) || mine.contains(&p.row.name);
    let foreign: Vec<&PortRow> = ports
        .iter()
        .copied()
        .filter(|p| !kept(p) && !ours(p))
        .collect();
    if real && foreign.is_empty() {
        d.tx.push(["--if-exists", "del-br", name]);
        return d;
    }
    for p in ports.iter().filter(|p| !kept(p) && ours(p)) {
        if p.fake_bridge {
            let others = o.ports_on(&p.row.name).into_iter().any(|q| !ours(q));
            if !others {
                d.tx.push(["--if-exists", "del-br", p.row.name.as_str()]);
            }
        } else {
            d.tx.push(["--if-exists", "del-port", p.row.name.as_str()]);
        }
    }
    if let (Some((parent, _)), true, Some(row)) = (fake, foreign.is_empty(), o.port(name)) {
        // The VLAN bridge alone: its Port row leaves the parent (and is collected
        // with its Interface); ports sharing its VLAN stay.
        d.tx.push([
            "remove".to_string(),
            "Bridge".into(),
            parent.to_string(),
            "ports".into(),
            row.row.uuid.clone(),
        ]);
        return d;
    }
    d.warnings.push(format!(
        "{name}: bridge kept: it has ports ifupdown-ovs did not create ({}); delete it with `ovs-vsctl del-br {name}` when they are gone",
        names(&foreign).join(", ")
    ));
    d
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ovsdb::state::tests::observed;
    use crate::plan::desired::{Setting, bare_port};

    fn none() -> BTreeSet<String> {
        BTreeSet::new()
    }

    fn lines(tx: &Transaction) -> Vec<String> {
        tx.commands.iter().map(|c| c.join(" ")).collect()
    }

    fn row(table: Table, name: &str, settings: &[(&str, &str)]) -> RowConfig {
        RowConfig {
            table,
            name: name.into(),
            settings: settings
                .iter()
                .map(|(c, v)| Setting {
                    column: c.to_string(),
                    value: v.to_string(),
                })
                .collect(),
            mark: true,
        }
    }

    fn port(name: &str, bridge: &str, shape: Shape, port_cols: &[(&str, &str)]) -> Node {
        Node {
            name: name.into(),
            shape,
            bridge: Some(bridge.into()),
            rows: vec![
                row(Table::Port, name, port_cols),
                row(Table::Interface, name, &[]),
            ],
            extra: vec![],
        }
    }

    fn bridge(name: &str) -> Node {
        Node {
            name: name.into(),
            shape: Shape::Bridge,
            bridge: None,
            rows: vec![row(Table::Bridge, name, &[("datapath_type", "netdev")])],
            extra: vec![vec![
                "set".into(),
                "Bridge".into(),
                name.into(),
                "stp_enable=true".into(),
            ]],
        }
    }

    #[test]
    fn fresh_bridge_with_port_is_one_transaction() {
        let nodes = [
            bridge("br0"),
            port(
                "eth0",
                "br0",
                Shape::System,
                &[("tag", "1"), ("vlan_mode", "native-untagged")],
            ),
        ];
        let tx = up(&nodes, &Observed::default()).unwrap();
        assert_eq!(
            lines(&tx),
            [
                "--may-exist add-br br0",
                "set Bridge br0 datapath_type=netdev external_ids:ifupdown-ovs=\"br0\" external_ids:ifupdown-ovs-columns=\"datapath_type\"",
                "--may-exist add-port br0 eth0",
                "set Port eth0 tag=1 vlan_mode=native-untagged external_ids:ifupdown-ovs=\"eth0\" external_ids:ifupdown-ovs-columns=\"tag,vlan_mode\"",
                "set Interface eth0 external_ids:ifupdown-ovs=\"eth0\" external_ids:ifupdown-ovs-columns=\"\"",
                "set Bridge br0 stp_enable=true",
            ]
        );
    }

    /// Debian's hook runs `--may-exist add-port br0 eth0 tag=5`: on a second run
    /// with the tag removed from the configuration, nothing happens and tag=5 stays.
    /// We clear what we set before and is no longer configured, and leave the
    /// columns others set.
    #[test]
    fn converge_clears_what_we_set_before_only() {
        let mut o = observed(&[("br0", &[("eth0", Some(5), false, true, &[])])]);
        let p = o.ports.iter_mut().find(|p| p.row.name == "eth0").unwrap();
        p.row.external_ids.insert(
            COLUMNS_KEY.into(),
            "tag,other_config:lacp-time,bond_updelay".into(),
        );
        let nodes = [port(
            "eth0",
            "br0",
            Shape::System,
            &[("vlan_mode", "trunk")],
        )];
        let tx = up(&nodes, &o).unwrap();
        assert_eq!(
            lines(&tx),
            [
                "clear Port eth0 tag",
                "remove Port eth0 other_config \"lacp-time\"",
                "set Port eth0 bond_updelay=0",
                "set Port eth0 vlan_mode=trunk external_ids:ifupdown-ovs=\"eth0\" external_ids:ifupdown-ovs-columns=\"vlan_mode\"",
                "set Interface eth0 external_ids:ifupdown-ovs=\"eth0\" external_ids:ifupdown-ovs-columns=\"\"",
            ]
        );
    }

    #[test]
    fn port_on_another_bridge_moves() {
        let o = observed(&[("br1", &[("eth0", None, false, false, &[])]), ("br0", &[])]);
        let tx = up(&[port("eth0", "br0", Shape::System, &[])], &o).unwrap();
        assert_eq!(
            lines(&tx)[..2],
            ["del-port eth0", "--may-exist add-port br0 eth0"]
        );
        // already there: no del-port
        let o = observed(&[("br0", &[("eth0", None, false, false, &[])])]);
        let tx = up(&[port("eth0", "br0", Shape::System, &[])], &o).unwrap();
        assert!(lines(&tx)[0].starts_with("set Port eth0"), "{tx:?}");
        // on br0 with the tag of a VLAN bridge of br0: still in place (no add-port,
        // which ovs-vsctl would reject)
        let o = observed(&[(
            "br0",
            &[
                ("v1", Some(1), true, true, &[]),
                ("p1", Some(1), false, true, &[]),
            ],
        )]);
        let tx = up(&[port("p1", "br0", Shape::Internal, &[("tag", "1")])], &o).unwrap();
        assert!(lines(&tx)[0].starts_with("set Port p1 tag=1"), "{tx:?}");
    }

    #[test]
    fn port_on_fake_bridge() {
        let o = observed(&[(
            "br0",
            &[
                ("v2", Some(2), true, true, &[]),
                ("vm1", Some(2), false, false, &[]),
            ],
        )]);
        // vm1 is on v2 (tag 2): nothing to move
        let tx = up(&[port("vm1", "v2", Shape::System, &[])], &o).unwrap();
        assert!(lines(&tx)[0].starts_with("set Port vm1"), "{tx:?}");
        // on br0 (any tag) is where a port of br0 belongs
        let tx = up(&[port("vm1", "br0", Shape::System, &[])], &o).unwrap();
        assert!(lines(&tx)[0].starts_with("set Port vm1"), "{tx:?}");
        // a port of br0 (no tag) that should be on v2 moves
        let o = observed(&[(
            "br0",
            &[
                ("v2", Some(2), true, true, &[]),
                ("vm2", None, false, false, &[]),
            ],
        )]);
        let tx = up(&[port("vm2", "v2", Shape::System, &[])], &o).unwrap();
        assert_eq!(
            lines(&tx)[..2],
            ["del-port vm2", "--may-exist add-port v2 vm2"]
        );
    }

    #[test]
    fn fake_bridges() {
        let fake = |vlan| Node {
            name: "v2".into(),
            shape: Shape::FakeBridge {
                parent: "br0".into(),
                vlan,
            },
            bridge: None,
            rows: vec![row(Table::Port, "v2", &[])],
            extra: vec![],
        };
        let tx = up(&[fake(2)], &Observed::default()).unwrap();
        assert_eq!(lines(&tx)[0], "--may-exist add-br v2 br0 2");
        // VLAN changed, only our ports on it: re-create
        let o = observed(&[("br0", &[("v2", Some(3), true, true, &[])])]);
        let tx = up(&[fake(2)], &o).unwrap();
        assert_eq!(
            lines(&tx)[..2],
            ["del-br v2", "--may-exist add-br v2 br0 2"]
        );
        // VLAN changed with a VM port on it: refuse, naming the port
        let o = observed(&[(
            "br0",
            &[
                ("v2", Some(3), true, true, &[]),
                ("vnet0", Some(3), false, false, &[]),
            ],
        )]);
        let e = up(&[fake(2)], &o).unwrap_err();
        assert_eq!(e.ports, ["vnet0"]);
        assert!(e.to_string().contains("a VLAN bridge (br0 VLAN 3)"), "{e}");
    }

    #[test]
    fn bonds() {
        let bond = |members: &[&str]| Node {
            name: "bond0".into(),
            shape: Shape::Bond {
                members: members.iter().map(|m| m.to_string()).collect(),
            },
            bridge: Some("br2".into()),
            rows: vec![row(Table::Port, "bond0", &[("bond_mode", "balance-slb")])],
            extra: vec![],
        };
        let tx = up(&[bond(&["eth2", "eth3"])], &Observed::default()).unwrap();
        assert_eq!(lines(&tx)[0], "--fake-iface add-bond br2 bond0 eth2 eth3");
        let o = observed(&[(
            "br2",
            &[
                ("bond0", None, false, true, &["eth2", "eth3"]),
                ("eth4", None, false, true, &[]),
            ],
        )]);
        let tx = up(&[bond(&["eth2", "eth4"])], &o).unwrap();
        assert_eq!(
            lines(&tx)[..3],
            [
                "--if-exists del-port eth4",
                "--may-exist add-bond-iface bond0 eth4",
                "--if-exists del-bond-iface bond0 eth3"
            ]
        );
        // a plain port of that name becomes a bond
        let o = observed(&[("br2", &[("bond0", None, false, true, &[])])]);
        let tx = up(&[bond(&["eth2", "eth3"])], &o).unwrap();
        assert_eq!(
            lines(&tx)[..2],
            [
                "del-port bond0",
                "--fake-iface add-bond br2 bond0 eth2 eth3"
            ]
        );
    }

    #[test]
    fn down_port_and_gone_bridge() {
        let n = port("eth0", "br0", Shape::System, &[]);
        assert!(
            down(&n, &Observed::default(), &none(), &none())
                .tx
                .is_empty()
        );
        let o = observed(&[("br0", &[("eth0", None, false, false, &[])])]);
        assert_eq!(
            lines(&down(&n, &o, &none(), &none()).tx),
            ["--if-exists del-port eth0"]
        );
        // same name on another bridge, not ours: leave it
        let o = observed(&[("br9", &[("eth0", None, false, false, &[])])]);
        assert!(down(&n, &o, &none(), &none()).tx.is_empty());
    }

    /// Debian's hook runs `del-br`, which deletes a VM's tap along with the bridge.
    #[test]
    fn down_bridge_keeps_foreign_ports() {
        let o = observed(&[(
            "br0",
            &[
                ("eth0", None, false, true, &[]),
                ("p1", None, false, false, &[]),
                ("v2", Some(2), true, true, &[]),
                ("vnet0", None, false, false, &[]),
            ],
        )]);
        let declared: BTreeSet<String> = ["p1".to_string()].into();
        let d = down(&bridge("br0"), &o, &declared, &none());
        assert_eq!(
            lines(&d.tx),
            [
                "--if-exists del-port eth0",
                "--if-exists del-port p1",
                "--if-exists del-br v2"
            ]
        );
        assert_eq!(d.warnings.len(), 1);
        assert!(d.warnings[0].contains("(vnet0)"), "{:?}", d.warnings);
        // all ours: the bridge goes
        let o = observed(&[(
            "br0",
            &[
                ("eth0", None, false, true, &[]),
                ("p1", None, false, false, &[]),
            ],
        )]);
        let d = down(&bridge("br0"), &o, &declared, &none());
        assert_eq!(lines(&d.tx), ["--if-exists del-br br0"]);
        assert!(d.warnings.is_empty());
    }

    /// A VLAN bridge shares its VLAN with ports of its parent (the seed's ovsbr0p1
    /// has tag 1 like ovsbr0v1): `del-br` would take them along.
    pub(crate) fn target(name: &str, bridge: Option<&str>, mine: &[&str]) -> DownTarget {
        DownTarget {
            name: name.into(),
            is_bridge: bridge.is_none(),
            bridge: bridge.map(str::to_string),
            mine: mine.iter().map(|s| s.to_string()).collect(),
            keep: none(),
        }
    }

    #[test]
    fn down_all_is_one_transaction_with_the_sequential_result() {
        let o = observed(&[(
            "br0",
            &[
                ("v1", Some(1), true, true, &[]),
                ("p1", Some(1), false, true, &[]),
                ("eth0", None, false, true, &[]),
            ],
        )]);
        // ifdown -a order: ports, the VLAN bridge, then its parent
        let ts = [
            target("p1", Some("v1"), &[]),
            target("eth0", Some("br0"), &[]),
            target("v1", None, &["p1"]),
            target("br0", None, &["eth0", "v1", "p1"]),
        ];
        let d = down_all(&ts, &o);
        assert_eq!(
            lines(&d.tx),
            [
                "--if-exists del-port p1",
                "--if-exists del-port eth0",
                "remove Bridge br0 ports p-v1",
                "--if-exists del-br br0",
            ]
        );
        assert!(d.warnings.is_empty(), "{:?}", d.warnings);
        // the parent first: deleting it takes the VLAN bridge along, nothing refers
        // to a row that is gone
        let d = down_all(&[ts[3].clone(), ts[2].clone(), ts[0].clone()], &o);
        assert_eq!(lines(&d.tx), ["--if-exists del-br br0"]);
        // a foreign port keeps the bridge, once, with one warning
        let o = observed(&[(
            "br0",
            &[
                ("eth0", None, false, true, &[]),
                ("vnet0", None, false, false, &[]),
            ],
        )]);
        let d = down_all(&[ts[1].clone(), ts[3].clone()], &o);
        assert_eq!(lines(&d.tx), ["--if-exists del-port eth0"]);
        assert_eq!(d.warnings.len(), 1, "{:?}", d.warnings);
        assert!(d.warnings[0].contains("(vnet0)"));
    }

    #[test]
    fn down_vlan_bridge_keeps_ports_of_its_parent() {
        let o = observed(&[(
            "br0",
            &[
                ("v1", Some(1), true, true, &[]),
                ("p1", Some(1), false, true, &[]),
                ("vm1", Some(1), false, true, &[]),
            ],
        )]);
        let fake = Node {
            name: "v1".into(),
            shape: Shape::FakeBridge {
                parent: "br0".into(),
                vlan: 1,
            },
            bridge: None,
            rows: vec![],
            extra: vec![],
        };
        let keep: BTreeSet<String> = ["p1".to_string()].into();
        let d = down(&fake, &o, &none(), &keep);
        assert_eq!(
            lines(&d.tx),
            ["--if-exists del-port vm1", "remove Bridge br0 ports p-v1"]
        );
        assert!(d.warnings.is_empty());
        // a VM's port on it: the VLAN bridge stays
        let o = observed(&[(
            "br0",
            &[
                ("v1", Some(1), true, true, &[]),
                ("vnet0", Some(1), false, false, &[]),
            ],
        )]);
        let d = down(&fake, &o, &none(), &keep);
        assert!(d.tx.is_empty());
        assert!(d.warnings[0].contains("(vnet0)"), "{:?}", d.warnings);
    }

    #[test]
    fn bare_ports_are_marked() {
        let tx = up(&[bare_port("br0", "tap9")], &Observed::default()).unwrap();
        assert_eq!(
            lines(&tx),
            [
                "--may-exist add-port br0 tap9",
                "set Port tap9 external_ids:ifupdown-ovs=\"tap9\" external_ids:ifupdown-ovs-columns=\"\"",
                "set Interface tap9 external_ids:ifupdown-ovs=\"tap9\" external_ids:ifupdown-ovs-columns=\"\"",
            ]
        );
    }
}
