//! VLANs: the VLAN ("fake") bridge spellings, and a port's tag, trunks and vlan_mode
//! from their own options or from words of `ovs_options`.

use super::diag::{Diag, Kind};
use super::spec::Opts;
use super::text::is_unknown;
use super::values::{check_ifname, parse_trunks};
use crate::config::model::{FakeBridge, PortVlan, ValueError, VlanId, VlanMode};

/// VLAN ("fake") bridge spellings: `ovs_vlan_parent P` + `ovs_vlan V`, or ifupdown2's
/// `ovs_options P V` (taken out of `options`) with an optional `ovs_bridge P`:
/// what bridge `name` is a VLAN bridge of, if it is one. Also, a bridge may not
/// list itself in its `ports`.
pub(super) fn bridge_checks(
    name: &str,
    ports: &[String],
    options: &mut Option<String>,
    o: &Opts,
    d: &mut Diag,
) -> Option<FakeBridge> {
    let (parents, vids) = vlan_bridge_spellings(options, o, d);
    for (name, p) in parents.iter().skip(1) {
        if *p != parents[0].1 {
            d.error(
                Kind::Conflict,
                name,
                o.pos(name),
                format!(
                    "VLAN bridge parent {p} conflicts with {} from {}",
                    parents[0].1, parents[0].0
                ),
            );
        }
    }
    for (name, v) in vids.iter().skip(1) {
        if *v != vids[0].1 {
            d.error(
                Kind::Conflict,
                name,
                o.pos(name),
                format!("VLAN {v} conflicts with {} from {}", vids[0].1, vids[0].0),
            );
        }
    }
    let fake = fake_bridge(name, &parents, &vids, o, d);
    if ports.iter().any(|p| p == name) {
        d.error(
            Kind::Invalid,
            "ovs_ports",
            o.pos("ovs_ports"),
            format!("a bridge cannot list itself ({name})"),
        );
    }
    fake
}

/// Values by the option that gave them, in the order of the options.
type Spelled<T> = Vec<(&'static str, T)>;

/// The VLAN bridge parents and VLANs every spelling gives. ifupdown2's `ovs_options
/// PARENT VID` is taken out of `options`.
fn vlan_bridge_spellings(
    options: &mut Option<String>,
    o: &Opts,
    d: &mut Diag,
) -> (Spelled<String>, Spelled<VlanId>) {
    let mut parents = Vec::new();
    let mut vids = Vec::new();
    if let Some(p) = o.ifname("ovs_vlan_parent", d) {
        parents.push(("ovs_vlan_parent", p));
    }
    if let Some(v) = o.parsed("ovs_vlan", d, |s| s.parse::<VlanId>()) {
        vids.push(("ovs_vlan", v));
    }
    if let Some(p) = o.ifname("ovs_bridge", d) {
        parents.push(("ovs_bridge", p));
    }
    if let Some(opts) = options {
        let words: Vec<&str> = opts.split_whitespace().collect();
        if let [p, v] = words.as_slice()
            && !p.contains('=')
            && !p.starts_with('-')
            && v.bytes().all(|b| b.is_ascii_digit())
        {
            match (check_ifname(p), v.parse::<VlanId>()) {
                (Ok(()), Ok(vid)) => {
                    parents.push(("ovs_options", p.to_string()));
                    vids.push(("ovs_options", vid));
                    *options = None;
                }
                (Err(e), _) | (_, Err(e)) => {
                    d.error(Kind::Invalid, "ovs_options", o.pos("ovs_options"), e.0)
                }
            }
        }
    }
    (parents, vids)
}

/// The VLAN bridge from the first parent and VLAN; an error when only one is given.
fn fake_bridge(
    name: &str,
    parents: &Spelled<String>,
    vids: &Spelled<VlanId>,
    o: &Opts,
    d: &mut Diag,
) -> Option<FakeBridge> {
    match (parents.first(), vids.first()) {
        (Some((option, parent)), Some((_, vlan))) => {
            if parent == name {
                d.error(
                    Kind::Invalid,
                    option,
                    o.pos(option),
                    "a VLAN bridge cannot be its own parent".into(),
                );
                return None;
            }
            return Some(FakeBridge {
                parent: parent.clone(),
                vlan: *vlan,
            });
        }
        // A given but invalid value is reported already.
        (Some(_), None) if o.get("ovs_vlan").is_some() => {}
        (None, Some(_)) if o.get("ovs_vlan_parent").is_some() => {}
        (Some((option, _)), None) => {
            let message = if *option == "ovs_bridge" {
                "on an OVSBridge names the parent of a VLAN bridge, but no VLAN is given (ovs_vlan)"
            } else {
                "a VLAN bridge needs ovs_vlan"
            };
            d.error(Kind::Missing, option, o.pos(option), message.into());
        }
        (None, Some((option, _))) => d.error(
            Kind::Missing,
            option,
            o.pos(option),
            "a VLAN bridge needs ovs_vlan_parent".into(),
        ),
        (None, None) => {}
    }
    None
}

/// Where a VLAN setting came from: its own option or a word of `ovs_options`.
struct Source<T> {
    value: T,
    option: &'static str,
}

/// `ovs_tag`, `ovs_trunks`, `ovs_vlan_mode` and their words in `options` (the words
/// of `ovs_options`, split and expanded as the hook does; values only a hook run
/// knows are not judged).
pub(super) fn vlan_settings(options: &[String], o: &Opts, d: &mut Diag) -> PortVlan {
    let tag = o.parsed("ovs_tag", d, |s| s.parse::<VlanId>());
    let trunks = o.parsed("ovs_trunks", d, parse_trunks);
    let mode = o.parsed("ovs_vlan_mode", d, |s| s.parse::<VlanMode>());
    let (mut w_tag, mut w_trunks, mut w_mode) = (None, None, None);
    for word in options {
        let Some((key, value)) = word.split_once('=') else {
            continue;
        };
        let value = value.trim_matches(|c| c == '"' || c == '\'');
        if is_unknown(value) {
            continue;
        }
        let pos = o.pos("ovs_options");
        let bad = |d: &mut Diag, e: ValueError| {
            d.error(
                Kind::Invalid,
                "ovs_options",
                pos,
                format!("{word}: {}", e.0),
            )
        };
        match key {
            "tag" => match value.parse::<VlanId>() {
                Ok(v) => w_tag = Some(v),
                Err(e) => bad(d, e),
            },
            "trunks" => match parse_trunks(value) {
                Ok(v) => w_trunks = Some(v),
                Err(e) => bad(d, e),
            },
            "vlan_mode" => match value.parse::<VlanMode>() {
                Ok(v) => w_mode = Some(v),
                Err(e) => bad(d, e),
            },
            _ => {}
        }
    }
    let tag = merge(o, d, "ovs_tag", "tag", tag, w_tag, |v| v.to_string());
    let trunks = merge(o, d, "ovs_trunks", "trunks", trunks, w_trunks, |v| {
        v.iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(",")
    });
    let mode = merge(o, d, "ovs_vlan_mode", "vlan_mode", mode, w_mode, |v| {
        v.to_string()
    });

    match (mode.as_ref().map(|s| s.value), &tag, &trunks) {
        (Some(VlanMode::Trunk), Some(t), _) => d.error(
            Kind::Conflict,
            t.option,
            o.pos(t.option),
            "a trunk port (vlan_mode trunk) cannot have a tag; use native-untagged or native-tagged for a native VLAN".into(),
        ),
        (Some(VlanMode::Access), _, Some(tr)) => d.error(
            Kind::Conflict,
            tr.option,
            o.pos(tr.option),
            "an access port (vlan_mode access) cannot have trunks".into(),
        ),
        (None, Some(_), Some(tr)) => d.error(
            Kind::Conflict,
            tr.option,
            o.pos(tr.option),
            "a port with a tag and no vlan_mode is an access port and cannot have trunks; set ovs_vlan_mode native-untagged or native-tagged".into(),
        ),
        _ => {}
    }
    PortVlan {
        tag: tag.map(|s| s.value),
        trunks: trunks.map(|s| s.value).unwrap_or_default(),
        mode: mode.map(|s| s.value),
    }
}

/// The typed option wins; the same setting in `ovs_options` fills in when it is absent;
/// different values are an error.
fn merge<T: PartialEq>(
    o: &Opts,
    d: &mut Diag,
    option: &'static str,
    word: &str,
    typed: Option<T>,
    from_options: Option<T>,
    show: impl Fn(&T) -> String,
) -> Option<Source<T>> {
    match (typed, from_options) {
        (Some(a), Some(b)) if a != b => {
            d.error(
                Kind::Conflict,
                option,
                o.pos(option),
                format!(
                    "{} conflicts with {word}={} in ovs_options",
                    show(&a),
                    show(&b)
                ),
            );
            Some(Source { value: a, option })
        }
        (Some(a), _) => Some(Source { value: a, option }),
        (None, Some(b)) => Some(Source {
            value: b,
            option: "ovs_options",
        }),
        (None, None) => None,
    }
}
