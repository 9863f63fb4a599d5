//! Typed desired state: what one interface's stanza wants in OVSDB, as [`Node`]s
//! (a bridge, a VLAN bridge or a port) with the rows and columns we set on them and
//! the `ovs_extra` commands to run after. Built from the validated [`OvsIface`];
//! `ovs_options`, `ovs_tunnel_options` and `ovs_extra` are split here with the
//! hook environment (see [`crate::sys::words`]).
//!
//! `ovs_options` words become `set` columns on the row Debian's hook passed them to
//! (the Port of a port or bond, the Bridge of a bridge), so a re-run converges them
//! instead of `--may-exist add-port ... tag=5` leaving an old value in place.

use std::fmt;

use crate::config::model::{Bond, Bridge, Kind, Mac, OvsIface, PortBase};
use crate::ovsdb::vsctl::{assignment, quote_string, split_assignment};
use crate::sys::words::{self, Expand, WordsError};

/// The three tables we write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Table {
    Bridge,
    Port,
    Interface,
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Table::Bridge => "Bridge",
            Table::Port => "Port",
            Table::Interface => "Interface",
        })
    }
}

/// One column (`tag`) or map key (`other_config:hwaddr`) and its value in
/// ovs-vsctl syntax (already quoted where needed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub column: String,
    pub value: String,
}

impl Setting {
    /// The `column[:key]=value` word for ovs-vsctl `set`.
    pub fn word(&self) -> String {
        format!("{}={}", self.column, self.value)
    }
}

/// The columns we set on one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowConfig {
    pub table: Table,
    pub name: String,
    pub settings: Vec<Setting>,
    /// Mark the row as ours (owner and managed columns). False only for a setting we
    /// make on a row someone else owns (the hwaddr pin on an undeclared bridge).
    pub mark: bool,
}

impl RowConfig {
    fn new(table: Table, name: &str) -> RowConfig {
        RowConfig {
            table,
            name: name.to_string(),
            settings: Vec::new(),
            mark: true,
        }
    }

    /// Add a setting unless the column is already set (first one wins).
    fn set(&mut self, column: &str, value: String) {
        let column = normalize_column(column);
        if !self.settings.iter().any(|s| s.column == column) {
            self.settings.push(Setting { column, value });
        }
    }

    /// Add a user's `column[:key]=value` word.
    fn set_word(&mut self, word: &str) -> bool {
        match split_assignment(&assignment(word)) {
            Some((lhs, value)) => {
                self.set(lhs, value.to_string());
                true
            }
            None => false,
        }
    }
}

/// `external-ids:x` -> `external_ids:x` (ovs-vsctl accepts both; we record one).
fn normalize_column(col: &str) -> String {
    match col.split_once(':') {
        Some((c, k)) => format!("{}:{k}", c.replace('-', "_")),
        None => col.replace('-', "_"),
    }
}

/// What a node is in OVS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    Bridge,
    FakeBridge {
        parent: String,
        vlan: u16,
    },
    /// A port from an existing network device (`OVSPort`).
    System,
    Internal,
    Bond {
        members: Vec<String>,
    },
    Patch,
    Tunnel,
}

/// One interface's desired OVS state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The interface (stanza) configuring this node; the owner mark of its rows.
    pub name: String,
    pub shape: Shape,
    /// The bridge (real or VLAN bridge) holding a port; None for bridges.
    pub bridge: Option<String>,
    pub rows: Vec<RowConfig>,
    /// `ovs_extra` commands, split and expanded.
    pub extra: Vec<Vec<String>>,
}

impl Node {
    pub fn is_bridge(&self) -> bool {
        matches!(self.shape, Shape::Bridge | Shape::FakeBridge { .. })
    }

    /// Interfaces that must work in OVS once this node is applied (checked after
    /// the transaction: `ofport`, `error`). Not a patch port: it works only once
    /// its peer exists, which may come later.
    pub fn interfaces(&self) -> Vec<String> {
        match &self.shape {
            Shape::Bond { members } => members.clone(),
            Shape::Patch => Vec::new(),
            _ => vec![self.name.clone()],
        }
    }

    /// Kernel devices this node brings up, in order (a patch port or tunnel has none).
    pub fn devices(&self) -> Vec<String> {
        match &self.shape {
            Shape::Patch | Shape::Tunnel => Vec::new(),
            Shape::Bond { members } => members.clone(),
            _ => vec![self.name.clone()],
        }
    }

    /// A device that exists only with some datapaths: a bond's fake interface
    /// (`--fake-iface`) is a kernel device with the kernel datapath, none with the
    /// userspace one. Brought up when it exists, like Debian's hook does.
    pub fn optional_device(&self) -> Option<String> {
        matches!(self.shape, Shape::Bond { .. }).then(|| self.name.clone())
    }

    /// Devices that exist without us (system ports, bond members): their link is
    /// taken down again and their sysctls restored on ifdown.
    pub fn persistent_devices(&self) -> Vec<String> {
        match &self.shape {
            Shape::System => vec![self.name.clone()],
            Shape::Bond { members } => members.clone(),
            _ => Vec::new(),
        }
    }
}

/// Why a node could not be built: interface `iface`'s option `option`, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{iface}: {option}: {cause}")]
pub struct DesiredError {
    pub iface: String,
    pub option: String,
    #[source]
    pub cause: DesiredCause,
}

/// What is wrong with the option's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DesiredCause {
    /// Its words could not be split or expanded (quoting, variables, `$(...)`).
    #[error(transparent)]
    Words(#[from] WordsError),
    /// A word is not `COLUMN[:KEY]=VALUE` of the row's table.
    #[error("`{word}` is not COLUMN[:KEY]=VALUE (a column of the {table} table)")]
    NotAColumn { word: String, table: Table },
}

/// How to expand one interface's options: variables for all of them, command
/// substitution for ovs_extra only.
pub struct Expansion<'a> {
    pub vars: &'a dyn Fn(&str) -> Option<String>,
    /// For ovs_extra; ovs_options and ovs_tunnel_options never run commands.
    pub extra_subst: words::Subst<'a>,
}

/// Build the node for `m`. `pin` is the bridge MAC to pin when the bridge has no
/// `ovs_mac` of its own (see [`pinned_mac`]); `with_extra` says whether its
/// `ovs_extra` runs in this transaction.
pub fn node(
    m: &OvsIface,
    ex: &Expansion,
    pin: Option<Mac>,
    with_extra: bool,
) -> Result<Node, DesiredError> {
    let no_subst = Expand {
        vars: ex.vars,
        subst: words::Subst::Forbidden,
    };
    let options = split_option(m, "ovs_options", &m.options, &no_subst)?;
    let (shape, rows) = rows(m, &options, pin, &no_subst)?;
    let extra = match (&m.extra, with_extra) {
        (Some(text), true) => extra_commands(m, text, ex)?,
        _ => Vec::new(),
    };
    Ok(Node {
        name: m.name.clone(),
        shape,
        bridge: m.bridge().map(str::to_string),
        rows,
        extra,
    })
}

/// The shape and rows of each kind. `options`: the words of `ovs_options`.
fn rows(
    m: &OvsIface,
    options: &[String],
    pin: Option<Mac>,
    no_subst: &Expand,
) -> Result<(Shape, Vec<RowConfig>), DesiredError> {
    Ok(match &m.kind {
        Kind::Bridge(b) => bridge_rows(m, b, options, pin)?,
        Kind::Bond(b) => (
            Shape::Bond {
                members: b.members.clone(),
            },
            bond_rows(m, b, options)?,
        ),
        Kind::Port(p) => {
            let rows = port_rows(m, &p.port, options, |iface| {
                set_mtu(iface, p.mtu);
                Ok(())
            })?;
            (Shape::System, rows)
        }
        Kind::IntPort(p) => {
            let rows = port_rows(m, &p.port, options, |iface| {
                iface.set("type", "internal".into());
                if let Some(mac) = p.mac {
                    iface.set("mac", quote_string(&mac.to_string()));
                }
                set_mtu(iface, p.mtu);
                Ok(())
            })?;
            (Shape::Internal, rows)
        }
        Kind::PatchPort(p) => {
            let rows = port_rows(m, &p.port, options, |iface| {
                iface.set("type", "patch".into());
                iface.set("options:peer", quote_string(&p.peer));
                Ok(())
            })?;
            (Shape::Patch, rows)
        }
        Kind::Tunnel(t) => {
            let rows = port_rows(m, &t.port, options, |iface| {
                iface.set("type", quote_string(&t.tunnel_type));
                let tw = split_option(m, "ovs_tunnel_options", &t.options, no_subst)?;
                assign(m, iface, "ovs_tunnel_options", &tw)
            })?;
            (Shape::Tunnel, rows)
        }
    })
}

/// An error about option `option` of `m`.
fn error(m: &OvsIface, option: &str, cause: impl Into<DesiredCause>) -> DesiredError {
    DesiredError {
        iface: m.name.clone(),
        option: option.to_string(),
        cause: cause.into(),
    }
}

/// The words of option `option` (`text`), split and expanded.
fn split_option(
    m: &OvsIface,
    option: &str,
    text: &Option<String>,
    ex: &Expand,
) -> Result<Vec<String>, DesiredError> {
    match text {
        Some(t) => words::split(t, ex).map_err(|e: WordsError| error(m, option, e)),
        None => Ok(Vec::new()),
    }
}

/// Set `COLUMN[:KEY]=VALUE` words of option `option` on `row`.
fn assign(
    m: &OvsIface,
    row: &mut RowConfig,
    option: &str,
    ws: &[String],
) -> Result<(), DesiredError> {
    for w in ws {
        if !row.set_word(w) {
            return Err(error(
                m,
                option,
                DesiredCause::NotAColumn {
                    word: w.clone(),
                    table: row.table,
                },
            ));
        }
    }
    Ok(())
}

/// A bridge (its `ovs_options` on its Bridge row) or a VLAN bridge (on its
/// Port row), and its Interface row.
fn bridge_rows(
    m: &OvsIface,
    b: &Bridge,
    options: &[String],
    pin: Option<Mac>,
) -> Result<(Shape, Vec<RowConfig>), DesiredError> {
    let mut rows = Vec::new();
    let mut iface = RowConfig::new(Table::Interface, &m.name);
    set_mtu(&mut iface, b.mtu);
    let shape = match &b.vlan_of {
        Some(f) => {
            let mut port = RowConfig::new(Table::Port, &m.name);
            assign(m, &mut port, "ovs_options", options)?;
            // Without Interface.mac, OVS gives a VLAN bridge the lowest MAC of its
            // VLAN's ports (a fixed MAC of an internal port included), or a random
            // one that changes at every re-creation: pin it (see [`pinned_mac`]).
            if let Some(mac) = b.mac.or(pin) {
                iface.set("mac", quote_string(&mac.to_string()));
            }
            rows.push(port);
            Shape::FakeBridge {
                parent: f.parent.clone(),
                vlan: f.vlan.0,
            }
        }
        None => {
            let mut br = RowConfig::new(Table::Bridge, &m.name);
            if let Some(dp) = &b.datapath_type {
                br.set("datapath_type", dp.clone());
            }
            if let Some(mac) = b.mac.or(pin) {
                br.set("other_config:hwaddr", quote_string(&mac.to_string()));
            }
            assign(m, &mut br, "ovs_options", options)?;
            rows.push(br);
            Shape::Bridge
        }
    };
    rows.push(iface);
    Ok((shape, rows))
}

/// A port's Port row: its VLAN settings, then its `ovs_options` words.
fn port_row(m: &OvsIface, p: &PortBase, options: &[String]) -> Result<RowConfig, DesiredError> {
    let mut port = RowConfig::new(Table::Port, &m.name);
    if let Some(tag) = p.vlan.tag {
        port.set("tag", tag.to_string());
    }
    if !p.vlan.trunks.is_empty() {
        let t: Vec<String> = p.vlan.trunks.iter().map(|v| v.to_string()).collect();
        port.set("trunks", t.join(","));
    }
    if let Some(mode) = p.vlan.mode {
        port.set("vlan_mode", mode.to_string());
    }
    assign(m, &mut port, "ovs_options", options)?;
    Ok(port)
}

/// A port that is not a bond: its Port row and its Interface row, whose settings
/// `interface` makes.
fn port_rows(
    m: &OvsIface,
    p: &PortBase,
    options: &[String],
    interface: impl FnOnce(&mut RowConfig) -> Result<(), DesiredError>,
) -> Result<Vec<RowConfig>, DesiredError> {
    let port = port_row(m, p, options)?;
    let mut iface = RowConfig::new(Table::Interface, &m.name);
    interface(&mut iface)?;
    Ok(vec![port, iface])
}

/// A bond's Port row and one Interface row per member.
fn bond_rows(m: &OvsIface, b: &Bond, options: &[String]) -> Result<Vec<RowConfig>, DesiredError> {
    let mut rows = vec![port_row(m, &b.port, options)?];
    for member in &b.members {
        let mut r = RowConfig::new(Table::Interface, member);
        set_mtu(&mut r, b.mtu);
        rows.push(r);
    }
    Ok(rows)
}

fn set_mtu(row: &mut RowConfig, mtu: Option<u32>) {
    if let Some(mtu) = mtu {
        row.set("mtu_request", mtu.to_string());
    }
}

/// `ovs_extra` (`text`) as ovs-vsctl commands, expanded with `ex` (command
/// substitution included when it allows).
fn extra_commands(
    m: &OvsIface,
    text: &str,
    ex: &Expansion,
) -> Result<Vec<Vec<String>>, DesiredError> {
    let ex_extra = Expand {
        vars: ex.vars,
        subst: ex.extra_subst,
    };
    let ws = words::split(text, &ex_extra).map_err(|e| error(m, "ovs_extra", e))?;
    Ok(words::commands(ws)
        .into_iter()
        .map(|c| c.iter().map(|w| assignment(w)).collect())
        .collect())
}

/// A port that `ovs_ports` lists but no stanza describes: added as a plain port of
/// the bridge (ifupdown2 does the same), owned by the bridge's stanza.
pub fn bare_port(bridge: &str, port: &str) -> Node {
    Node {
        name: port.to_string(),
        shape: Shape::System,
        bridge: Some(bridge.to_string()),
        rows: vec![
            RowConfig::new(Table::Port, port),
            RowConfig::new(Table::Interface, port),
        ],
        extra: Vec::new(),
    }
}

/// The MAC we pin on a bridge (`other_config:hwaddr`) or a VLAN bridge
/// (`Interface.mac`) without `ovs_mac`. Without it, OVS gives the bridge's local
/// port the lowest MAC among its ports — fixed MACs of internal ports included — so
/// a fixed MAC of an internal port (e.g. 00:01:02:03:04:05) would show up on the
/// bridge as well and the two interfaces would answer for the same address; a VLAN
/// bridge with no such port gets a random MAC that changes whenever it is created
/// again. The pinned MAC is stable across reboots and distinct per host and bridge:
/// a locally administered unicast address from a hash of `seed` (the machine id)
/// and the bridge name.
pub fn pinned_mac(seed: &str, bridge: &str) -> Mac {
    pinned_mac_try(seed, bridge, 0)
}

/// [`pinned_mac`], except that it is never one of `taken` (the MACs the
/// configuration declares): the first candidate is [`pinned_mac`]'s, so a pin does
/// not change when an unrelated MAC is declared, and the next ones hash a counter
/// in as well.
pub fn pinned_mac_avoiding(seed: &str, bridge: &str, taken: &[Mac]) -> Mac {
    let mut attempt = 0u32;
    loop {
        let mac = pinned_mac_try(seed, bridge, attempt);
        if !taken.contains(&mac) {
            return mac;
        }
        attempt = attempt.wrapping_add(1);
    }
}

/// Candidate number `attempt` for [`pinned_mac_avoiding`]; 0 is [`pinned_mac`].
fn pinned_mac_try(seed: &str, bridge: &str, attempt: u32) -> Mac {
    let mut seeded = b"ifupdown-ovs\0".to_vec();
    seeded.extend(seed.bytes());
    seeded.push(0);
    seeded.extend(bridge.bytes());
    if attempt > 0 {
        seeded.push(0);
        seeded.extend(attempt.to_string().bytes());
    }
    let h = super::fingerprint::fnv1a(&seeded);
    let b = h.to_be_bytes();
    Mac([(b[0] & 0xfc) | 0x02, b[1], b[2], b[3], b[4], b[5]])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::{
        Device, FakeBridge, IntPort, PatchPort, PortVlan, SystemPort, Tunnel, VlanId, VlanMode,
    };

    /// A model of kind `kind`, without `ovs_options` and `ovs_extra`.
    pub(crate) fn model(name: &str, kind: Kind) -> OvsIface {
        OvsIface {
            name: name.into(),
            options: None,
            extra: None,
            kind,
        }
    }

    /// A port on `bridge` without VLAN settings.
    fn on(bridge: &str) -> PortBase {
        PortBase {
            bridge: bridge.into(),
            vlan: PortVlan::default(),
        }
    }

    /// A bridge with nothing set.
    fn bridge() -> Bridge {
        Bridge {
            ports: vec![],
            mtu: None,
            mac: None,
            datapath_type: None,
            vlan_of: None,
            device: Device::default(),
        }
    }

    fn vars(n: &str) -> Option<String> {
        (n == "IFACE").then(|| "vlan100".to_string())
    }

    fn build(m: &OvsIface) -> Result<Node, DesiredError> {
        let ex = Expansion {
            vars: &vars,
            extra_subst: words::Subst::Keep,
        };
        node(m, &ex, None, true)
    }

    fn words_of(r: &RowConfig) -> Vec<String> {
        r.settings.iter().map(Setting::word).collect()
    }

    #[test]
    fn internal_port_with_vlan_mac_and_options() {
        let mut port = on("br1");
        port.vlan.tag = Some(VlanId(100));
        let mut m = model(
            "vlan100",
            Kind::IntPort(IntPort {
                port,
                mtu: Some(1400),
                mac: Some(Mac([0, 1, 2, 3, 4, 5])),
                device: Device::default(),
            }),
        );
        m.options = Some("tag=100 other_config:descr='mgmt port' mac=\"x\"".into());
        m.extra = Some("set interface ${IFACE} external-ids:iface-id=$(hostname -s)".into());
        let n = build(&m).unwrap();
        assert_eq!(n.shape, Shape::Internal);
        assert_eq!(n.bridge.as_deref(), Some("br1"));
        assert_eq!(
            words_of(&n.rows[0]),
            ["tag=100", "other_config:descr=\"mgmt port\"", "mac=x"]
        );
        assert_eq!(n.rows[1].table, Table::Interface);
        assert_eq!(
            words_of(&n.rows[1]),
            [
                "type=internal",
                "mac=\"00:01:02:03:04:05\"",
                "mtu_request=1400"
            ]
        );
        assert_eq!(
            n.extra,
            [vec![
                "set".to_string(),
                "interface".into(),
                "vlan100".into(),
                "external-ids:iface-id=\"$(hostname -s)\"".into()
            ]]
        );
        assert_eq!(n.devices(), ["vlan100"]);
    }

    #[test]
    fn bridge_and_fake_bridge() {
        let b = model(
            "ovsbr0",
            Kind::Bridge(Bridge {
                datapath_type: Some("netdev".into()),
                mtu: Some(9000),
                ..bridge()
            }),
        );
        let pin = pinned_mac("machine", "ovsbr0");
        let ex = Expansion {
            vars: &vars,
            extra_subst: words::Subst::Forbidden,
        };
        let n = node(&b, &ex, Some(pin), false).unwrap();
        assert_eq!(n.shape, Shape::Bridge);
        assert_eq!(
            words_of(&n.rows[0]),
            [
                "datapath_type=netdev".to_string(),
                format!("other_config:hwaddr=\"{pin}\"")
            ]
        );
        assert_eq!(words_of(&n.rows[1]), ["mtu_request=9000"]);
        assert!(n.is_bridge());

        let f = model(
            "ovsbr0v2",
            Kind::Bridge(Bridge {
                vlan_of: Some(FakeBridge {
                    parent: "ovsbr0".into(),
                    vlan: VlanId(2),
                }),
                mac: Some(Mac([2, 0, 0, 0, 0, 2])),
                ..bridge()
            }),
        );
        let n = build(&f).unwrap();
        assert_eq!(
            n.shape,
            Shape::FakeBridge {
                parent: "ovsbr0".into(),
                vlan: 2
            }
        );
        assert_eq!(n.rows[0].table, Table::Port);
        assert_eq!(words_of(&n.rows[1]), ["mac=\"02:00:00:00:00:02\""]);
    }

    #[test]
    fn bond_patch_tunnel() {
        let mut port = on("br2");
        port.vlan.mode = Some(VlanMode::Trunk);
        let mut m = model(
            "bond0",
            Kind::Bond(Bond {
                port,
                members: vec!["eth2".into(), "eth3".into()],
                mtu: Some(9000),
            }),
        );
        m.options = Some("bond_mode=balance-tcp lacp=active".into());
        let n = build(&m).unwrap();
        assert_eq!(
            words_of(&n.rows[0]),
            ["vlan_mode=trunk", "bond_mode=balance-tcp", "lacp=active"]
        );
        assert_eq!(n.rows[1].name, "eth2");
        assert_eq!(words_of(&n.rows[2]), ["mtu_request=9000"]);
        assert_eq!(n.devices(), ["eth2", "eth3"]);
        assert_eq!(n.optional_device().as_deref(), Some("bond0"));
        assert_eq!(n.interfaces(), ["eth2", "eth3"]);
        assert_eq!(n.persistent_devices(), ["eth2", "eth3"]);

        let p = model(
            "patch0",
            Kind::PatchPort(PatchPort {
                port: on("br0"),
                peer: "patch1".into(),
            }),
        );
        let n = build(&p).unwrap();
        assert_eq!(
            words_of(&n.rows[1]),
            ["type=patch", "options:peer=\"patch1\""]
        );
        assert!(n.devices().is_empty());
        assert!(
            n.interfaces().is_empty(),
            "a patch port's health depends on its peer"
        );

        let t = model(
            "gre1",
            Kind::Tunnel(Tunnel {
                port: on("br1"),
                tunnel_type: "gre".into(),
                options: Some("options:remote_ip=192.0.2.2 options:key=1".into()),
            }),
        );
        let n = build(&t).unwrap();
        assert_eq!(
            words_of(&n.rows[1]),
            [
                "type=\"gre\"",
                "options:remote_ip=\"192.0.2.2\"",
                "options:key=\"1\""
            ]
        );
    }

    #[test]
    fn bad_words_are_errors_with_context() {
        let mut m = model(
            "eth0",
            Kind::Port(SystemPort {
                port: on("br0"),
                mtu: None,
                device: Device::default(),
            }),
        );
        m.options = Some("tag=5 --bogus".into());
        let e = build(&m).unwrap_err();
        assert_eq!(e.option, "ovs_options");
        assert!(
            e.to_string()
                .starts_with("eth0: ovs_options: `--bogus` is not"),
            "{e}"
        );
        m.options = Some("x=$(date)".into());
        let e = build(&m).unwrap_err();
        assert!(
            e.cause.to_string().contains("only allowed in ovs_extra"),
            "{e}"
        );
        m.options = Some("'unterminated".into());
        assert!(build(&m).is_err());
    }

    #[test]
    fn pinned_mac_avoids_declared_macs() {
        let first = pinned_mac("m1", "br0");
        assert_eq!(pinned_mac_avoiding("m1", "br0", &[]), first);
        let other = pinned_mac_avoiding("m1", "br0", &[first]);
        assert_ne!(other, first);
        assert_eq!(other.0[0] & 0x03, 0x02, "local unicast: {other}");
        assert_eq!(other, pinned_mac_avoiding("m1", "br0", &[first]));
    }

    #[test]
    fn pinned_mac_is_stable_local_unicast() {
        let a = pinned_mac("m1", "br0");
        assert_eq!(a, pinned_mac("m1", "br0"));
        assert_ne!(a, pinned_mac("m1", "br1"));
        assert_ne!(a, pinned_mac("m2", "br0"));
        assert_eq!(a.0[0] & 0x03, 0x02, "locally administered, unicast: {a}");
    }

    #[test]
    fn bare_port_rows() {
        let n = bare_port("br0", "vnet9");
        assert_eq!(n.shape, Shape::System);
        assert_eq!(n.rows.len(), 2);
        assert!(n.extra.is_empty());
    }
}
