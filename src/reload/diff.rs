//! What a reload does, decided without touching anything: each interface ifupdown
//! has up is compared, stanza by stanza, between what its `ifup` applied (the
//! `hook::applied` record, else the new file with a note) and the new file
//! ([`classify`]), and the interfaces of class `auto` that ifupdown does not have
//! up are new ([`decide`]).
//!
//! An option is "ours" when its name is `ovs_*`: those are converged in place, and
//! so are the `address`/`netmask`/`gateway` of a `static` stanza
//! ([`IN_PLACE_OPTIONS`]: new addresses added, then old ones removed; the default
//! route replaced). Everything else ifupdown acts on
//! (family, method, `metric`, `up`/`down` commands, any other option) is an
//! ifupdown-level change: the interface goes down with its old stanza and up with
//! the new one. Class lines (`auto`,
//! `allow-*`) do not count: ifupdown never takes an interface down for them.

use std::collections::HashMap;
use std::fmt;

use crate::config::options::canonical_name;
use crate::interfaces::Config;

/// How one interface that ifupdown has up differs between applied and new.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Nothing to do: not touched at all.
    Unchanged,
    /// Only `ovs_*` options or addresses differ (named): converged in place, no
    /// flap.
    Ovs(Vec<String>),
    /// ifupdown-level settings differ (what, for the user): ifdown with the old
    /// stanza, ifup with the new.
    Restart(String),
    /// No stanza in the new file: ifdown with the old stanza.
    Dropped,
    /// A bridge's port no longer in any bridge's `ovs_ports` (the bridge named)
    /// and not in class `auto`/`allow-hotplug`: `ifup -a` would leave it down, so
    /// it is taken down with its old stanza although its stanza stays.
    Unlisted(String),
}

/// One stanza split into what ifupdown acts on and what we do.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Split {
    family: String,
    method: String,
    /// Options other than `ovs_*`, in order.
    ifupdown: Vec<(String, String)>,
    /// `ovs_*` options (canonical names), in order.
    ovs: Vec<(String, String)>,
}

fn split(config: &Config, logical: &str) -> Vec<Split> {
    config
        .stanzas(logical)
        .map(|st| {
            let mut s = Split {
                family: st.family.clone(),
                method: st.method.clone(),
                ifupdown: Vec::new(),
                ovs: Vec::new(),
            };
            for o in config.resolved_options(st) {
                let c = canonical_name(&o.name);
                if c.starts_with("ovs_") {
                    s.ovs.push((c, o.value));
                } else {
                    s.ifupdown.push((o.name, o.value));
                }
            }
            s
        })
        .collect()
}

/// Compare logical interface `logical` between the `old` (applied) and `new`
/// configurations.
pub fn classify(old: &Config, new: &Config, logical: &str) -> Change {
    let (a, b) = (split(old, logical), split(new, logical));
    if b.is_empty() {
        return if a.is_empty() || new.has_logical(logical) {
            Change::Unchanged
        } else {
            Change::Dropped
        };
    }
    let shape = |v: &[Split]| -> Vec<Split> {
        v.iter()
            .map(|s| Split {
                ovs: Vec::new(),
                ..s.clone()
            })
            .collect()
    };
    let mut names: Vec<String> = Vec::new();
    if shape(&a) != shape(&b) {
        match addresses_only(&a, &b) {
            Some(n) => names = n,
            None => return Change::Restart(ifupdown_difference(&a, &b)),
        }
    }
    for (x, y) in a.iter().zip(&b) {
        for n in differing(&x.ovs, &y.ovs) {
            if !names.iter().any(|m| m == n) {
                names.push(n.to_string());
            }
        }
    }
    if names.is_empty() {
        return Change::Unchanged;
    }
    Change::Ovs(names)
}

/// Options of a `static` stanza that a reload changes in place (addresses are
/// added before the old ones are removed: an address that stays is never gone;
/// the default route via `gateway` is replaced, never deleted first).
pub const IN_PLACE_OPTIONS: &[&str] = &["address", "netmask", "gateway"];

/// When the stanzas differ at ifupdown's level only in [`IN_PLACE_OPTIONS`] of
/// `static` stanzas: the names of those that differ.
fn addresses_only(a: &[Split], b: &[Split]) -> Option<Vec<String>> {
    if a.len() != b.len() {
        return None;
    }
    let rest = |s: &Split| -> Vec<(String, String)> {
        s.ifupdown
            .iter()
            .filter(|(n, _)| !IN_PLACE_OPTIONS.contains(&n.as_str()))
            .cloned()
            .collect()
    };
    let mut names: Vec<String> = Vec::new();
    for (x, y) in a.iter().zip(b) {
        if x.family != y.family || x.method != y.method || rest(x) != rest(y) {
            return None;
        }
        if x.ifupdown == y.ifupdown {
            continue;
        }
        if x.method != "static" {
            return None;
        }
        for n in IN_PLACE_OPTIONS {
            let get = |s: &Split| -> Vec<String> {
                s.ifupdown
                    .iter()
                    .filter(|(m, _)| m == n)
                    .map(|(_, v)| v.clone())
                    .collect()
            };
            if get(x) != get(y) && !names.iter().any(|m| m == n) {
                names.push(n.to_string());
            }
        }
    }
    Some(names)
}

/// What differs at ifupdown's level, in a few words.
fn ifupdown_difference(a: &[Split], b: &[Split]) -> String {
    if a.len() != b.len() {
        return "its stanzas were added or removed".into();
    }
    for (x, y) in a.iter().zip(b) {
        if x.family != y.family || x.method != y.method {
            return format!("{} {} became {} {}", x.family, x.method, y.family, y.method);
        }
        let names = differing(&x.ifupdown, &y.ifupdown);
        if !names.is_empty() {
            return format!("{} ({}) changed", names.join(", "), x.family);
        }
    }
    "the order of its options changed".into()
}

/// The option names whose values (all lines of the name, in order) differ
/// between the options `x` and `y`, each once, in the order first seen.
fn differing<'a>(x: &'a [(String, String)], y: &'a [(String, String)]) -> Vec<&'a str> {
    let values = |list: &'a [(String, String)], name: &str| -> Vec<&'a str> {
        list.iter()
            .filter(|(m, _)| m == name)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    let mut names: Vec<&str> = Vec::new();
    for (n, _) in x.iter().chain(y) {
        if !names.contains(&n.as_str()) && values(x, n) != values(y, n) {
            names.push(n);
        }
    }
    names
}

/// `ovs_ports` of every stanza of `config`: port (logical name) to bridge.
pub fn listed_ports(config: &Config) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for name in config.names() {
        for st in config.stanzas(name) {
            for o in config.resolved_options(st) {
                if canonical_name(&o.name) == "ovs_ports" {
                    for port in o.value.split_whitespace() {
                        out.entry(port.to_string())
                            .or_insert_with(|| name.to_string());
                    }
                }
            }
        }
    }
    out
}

/// Whether `change` becomes [`Change::Unlisted`]: the port `logical` was in a
/// bridge's `ovs_ports` when applied (`old`: port to bridge), is in no bridge's
/// now (`new`), and `ifup -a` would not take it otherwise (`classed`: in the new
/// file's `auto` or `allow-hotplug`).
pub fn unlisted(
    change: Change,
    logical: &str,
    old: &HashMap<String, String>,
    new: &HashMap<String, String>,
    classed: bool,
) -> Change {
    match (&change, old.get(logical)) {
        (Change::Dropped, _) | (_, None) => change,
        (_, Some(bridge)) if !classed && !new.contains_key(logical) => {
            Change::Unlisted(bridge.clone())
        }
        _ => change,
    }
}

/// One interface ifupdown has up: its physical name (as in `ifdown NAME`), its
/// logical name, and how it changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub iface: String,
    pub logical: String,
    pub change: Change,
    /// No record of what its ifup applied: compared with the new file.
    pub unrecorded: bool,
}

/// The whole reload, in the order it runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decision {
    /// `ifdown` with the applied stanzas: dropped and restarted interfaces, in the
    /// reverse of the order ifupdown brought them up.
    pub down: Vec<String>,
    /// Converged in place, in the order ifupdown brought them up, with the options
    /// that changed.
    pub converge: Vec<(String, Vec<String>)>,
    /// `ifup` with the new file: restarted ones and new `auto` ones, in file order.
    pub up: Vec<String>,
    /// Interfaces with nothing to do.
    pub unchanged: Vec<String>,
    /// For the user: why each down/up, and which interfaces have no record.
    pub notes: Vec<String>,
}

impl Decision {
    pub fn is_empty(&self) -> bool {
        self.down.is_empty() && self.converge.is_empty() && self.up.is_empty()
    }
}

/// Build the decision from the interfaces ifupdown has up (`items`, in its order)
/// and the new file's `auto` interfaces (`auto`, physical names, file order);
/// `configured` tells whether ifupdown has an interface up.
pub fn decide(items: &[Item], auto: &[String], configured: &dyn Fn(&str) -> bool) -> Decision {
    let mut d = Decision::default();
    // (physical name, what `ifup` is given: `PHYS=LOGICAL` for a mapped one)
    let mut restart: Vec<(String, String)> = Vec::new();
    for it in items {
        if it.unrecorded {
            d.notes.push(format!(
                "{}: no record of what its ifup applied (brought up before ifupdown-ovs kept \
                 them); compared with the file and the live state",
                it.iface
            ));
        }
        match &it.change {
            Change::Unchanged => d.unchanged.push(it.iface.clone()),
            Change::Ovs(names) => d.converge.push((it.iface.clone(), names.clone())),
            Change::Restart(why) => {
                d.notes
                    .push(format!("{}: ifdown and ifup again: {why}", it.iface));
                d.down.push(it.iface.clone());
                let arg = match it.iface == it.logical {
                    true => it.iface.clone(),
                    false => format!("{}={}", it.iface, it.logical),
                };
                restart.push((it.iface.clone(), arg));
            }
            Change::Dropped => {
                d.notes
                    .push(format!("{}: no longer in the file: ifdown", it.iface));
                d.down.push(it.iface.clone());
            }
            Change::Unlisted(bridge) => {
                d.notes.push(format!(
                    "{}: no longer in {bridge}'s ovs_ports nor auto: ifdown (as ifup -a \
                     would leave it)",
                    it.iface
                ));
                d.down.push(it.iface.clone());
            }
        }
    }
    d.down.reverse();
    let restarted = |name: &str| restart.iter().find(|(p, _)| p == name);
    for name in auto {
        if let Some((_, arg)) = restarted(name) {
            d.up.push(arg.clone());
        } else if !configured(name) {
            d.notes.push(format!("{name}: new (auto): ifup"));
            d.up.push(name.clone());
        }
    }
    for (_, arg) in &restart {
        if !d.up.contains(arg) {
            d.up.push(arg.clone());
        }
    }
    d
}

impl fmt::Display for Decision {
    /// The notes, one `# ` line each (the parts are printed by the caller).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for n in &self.notes {
            writeln!(f, "# {n}")?;
        }
        Ok(())
    }
}

impl Decision {
    /// `# converged in place: NAME (OPTIONS), ...`, when any.
    pub fn converge_line(&self) -> Option<String> {
        if self.converge.is_empty() {
            return None;
        }
        let list: Vec<String> = self
            .converge
            .iter()
            .map(|(n, opts)| format!("{n} ({})", opts.join(", ")))
            .collect();
        Some(format!("# converged in place: {}", list.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn cfg(text: &str) -> Config {
        Config::parse_str(text, Path::new("/x")).unwrap()
    }

    const OLD: &str = "auto br0\niface br0 inet manual\n    ovs_type OVSBridge\n    ovs_mtu 1500\n\
        auto p1\niface p1 inet static\n    address 192.0.2.1/24\n    ovs_type OVSIntPort\n    \
        ovs_bridge br0\n    up true\n";

    #[test]
    fn classifies() {
        let old = cfg(OLD);
        assert_eq!(classify(&old, &old, "br0"), Change::Unchanged);
        assert_eq!(classify(&old, &old, "p1"), Change::Unchanged);
        let new = cfg(&OLD.replace("ovs_mtu 1500", "ovs_mtu 9000"));
        assert_eq!(
            classify(&old, &new, "br0"),
            Change::Ovs(vec!["ovs_mtu".into()])
        );
        let new = cfg(&OLD.replace("192.0.2.1/24", "192.0.2.9/24"));
        assert_eq!(
            classify(&old, &new, "p1"),
            Change::Ovs(vec!["address".into()])
        );
        let new = cfg(&OLD.replace("up true", "up false"));
        assert_eq!(
            classify(&old, &new, "p1"),
            Change::Restart("up (inet) changed".into())
        );
        let new = cfg(&OLD.replace("inet static", "inet manual"));
        assert_eq!(
            classify(&old, &new, "p1"),
            Change::Restart("inet static became inet manual".into())
        );
        let new = cfg("auto br0\niface br0 inet manual\n    ovs_type OVSBridge\n");
        assert_eq!(classify(&old, &new, "p1"), Change::Dropped);
        assert_eq!(
            classify(&old, &new, "br0"),
            Change::Ovs(vec!["ovs_mtu".into()])
        );
        // the implicit lo is never dropped
        assert_eq!(classify(&old, &new, "lo"), Change::Unchanged);
        // `$(...)` in ovs_extra is run by the in-place converge, as by the hook
        let subst = cfg(&OLD.replace("ovs_mtu 1500", "ovs_extra set Bridge br0 x=$(echo 1)"));
        assert_eq!(
            classify(&old, &subst, "br0"),
            Change::Ovs(vec!["ovs_mtu".into(), "ovs_extra".into()])
        );
    }

    #[test]
    fn a_port_out_of_every_ovs_ports_goes_down() {
        let old = cfg(
            "iface br0 inet manual\n    ovs_type OVSBridge\n    ovs_ports p1 p2\n\
            iface p1 inet manual\n    ovs_type OVSPort\n    ovs_bridge br0\n\
            iface p2 inet manual\n    ovs_type OVSPort\n    ovs_bridge br0\n",
        );
        let new = cfg(
            "iface br0 inet manual\n    ovs_type OVSBridge\n    ovs_ports p1\n\
            iface p1 inet manual\n    ovs_type OVSPort\n    ovs_bridge br0\n\
            iface p2 inet manual\n    ovs_type OVSPort\n    ovs_bridge br0\n",
        );
        let (was, now) = (listed_ports(&old), listed_ports(&new));
        let u = |n: &str, classed: bool| unlisted(Change::Unchanged, n, &was, &now, classed);
        assert_eq!(u("p2", false), Change::Unlisted("br0".into()));
        assert_eq!(u("p2", true), Change::Unchanged);
        assert_eq!(u("p1", false), Change::Unchanged);
        assert_eq!(u("br0", false), Change::Unchanged);
        let dropped = unlisted(Change::Dropped, "p2", &was, &now, false);
        assert_eq!(dropped, Change::Dropped);
        let gw = cfg("iface p inet static\n    address 192.0.2.1/24\n    gateway 192.0.2.9\n");
        let gw2 = cfg("iface p inet static\n    address 192.0.2.1/24\n    gateway 192.0.2.8\n");
        assert_eq!(
            classify(&gw, &gw2, "p"),
            Change::Ovs(vec!["gateway".into()])
        );
    }

    #[test]
    fn decides_in_order() {
        let item = |n: &str, change: Change| Item {
            iface: n.into(),
            logical: n.into(),
            change,
            unrecorded: false,
        };
        let items = [
            item("lo", Change::Unchanged),
            item("br0", Change::Ovs(vec!["ovs_mtu".into()])),
            item("p1", Change::Restart("up (inet) changed".into())),
            item("v10", Change::Dropped),
        ];
        let auto: Vec<String> = ["lo", "br0", "v20", "p1"].map(String::from).to_vec();
        let up = ["lo", "br0", "p1", "v10"];
        let d = decide(&items, &auto, &|n| up.contains(&n));
        assert_eq!(d.down, ["v10", "p1"]);
        assert_eq!(
            d.converge,
            [("br0".to_string(), vec!["ovs_mtu".to_string()])]
        );
        assert_eq!(d.up, ["v20", "p1"]);
        assert_eq!(d.unchanged, ["lo"]);
        assert!(!d.is_empty());
        // a mapped one comes up again as ifupdown had it: `ifup PHYS=LOGICAL`
        let mapped = Item {
            logical: "home".into(),
            ..item("p9", Change::Restart("mapped to home".into()))
        };
        let d = decide(&[mapped], &[], &|_| true);
        assert_eq!(
            (d.down, d.up),
            (vec!["p9".to_string()], vec!["p9=home".to_string()])
        );
    }
}
