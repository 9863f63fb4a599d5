//! The configuration as the hooks see it: every OVS interface of the interfaces
//! file, validated, with the environment its options expand in — and, for the
//! stanza a hook runs for, the hook environment (`IF_*`) as the truth (ifupdown
//! may have changed it: `-o`, templates, rewritten values; see
//! docs/architecture.md, "One ifup, step by step"). Other stanzas come from the
//! file: a port brought up before its bridge needs the bridge's options, a bridge
//! batches its `ovs_ports`, and an interface's inet and inet6 stanzas are merged.
//!
//! Option errors keep their file positions as data ([`InvalidStanza`]): an option
//! of the hook's own stanza that the environment gives as the file says gets the
//! position of its line in the file, so that its errors name the file and line.

use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use super::desired::{self, Expansion, Node};
use super::error::{InvalidStanza, PlanError};
use super::fingerprint;
use crate::config::model::{Kind, Mac, OvsIface};
use crate::config::options::{self, Context, OptionError, RawOption};
use crate::interfaces::Config;
use crate::sys::words::{Memo, Subst};

/// The PATH ifupdown gives its hooks.
pub const HOOK_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// What ifupdown passed to a hook run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HookEnv {
    pub iface: String,
    pub logical: String,
    pub addrfam: String,
    pub method: String,
    pub mode: String,
    pub phase: String,
    pub verbosity: String,
    pub path: String,
    /// `IF_*` variables, in environment order.
    pub vars: Vec<(String, String)>,
}

impl HookEnv {
    /// From a list of environment variables (None without `IFACE`, `MODE`, `PHASE`).
    pub fn from_vars(env: impl IntoIterator<Item = (String, String)>) -> Option<HookEnv> {
        let mut h = HookEnv::default();
        let mut seen = (false, false, false);
        for (k, v) in env {
            match k.as_str() {
                "IFACE" => {
                    seen.0 = true;
                    h.iface = v
                }
                "MODE" => {
                    seen.1 = true;
                    h.mode = v
                }
                "PHASE" => {
                    seen.2 = true;
                    h.phase = v
                }
                "LOGICAL" => h.logical = v,
                "ADDRFAM" => h.addrfam = v,
                "METHOD" => h.method = v,
                "VERBOSITY" => h.verbosity = v,
                "PATH" => h.path = v,
                _ if k.starts_with("IF_") => h.vars.push((k, v)),
                _ => {}
            }
        }
        if h.logical.is_empty() {
            h.logical = h.iface.clone();
        }
        if h.path.is_empty() {
            h.path = HOOK_PATH.into();
        }
        (seen == (true, true, true)).then_some(h)
    }

    /// Whether any `IF_OVS_*` variable is set.
    pub fn has_ovs(&self) -> bool {
        self.vars.iter().any(|(k, _)| k.starts_with("IF_OVS_"))
    }

    pub fn verbose(&self) -> bool {
        !self.verbosity.is_empty() && self.verbosity != "0"
    }

    /// The whole environment a hook sees (what `$VAR` and `$(...)` get).
    pub fn env(&self) -> Vec<(String, String)> {
        let mut e: Vec<(String, String)> = [
            ("IFACE", &self.iface),
            ("LOGICAL", &self.logical),
            ("ADDRFAM", &self.addrfam),
            ("METHOD", &self.method),
            ("MODE", &self.mode),
            ("PHASE", &self.phase),
            ("VERBOSITY", &self.verbosity),
            ("PATH", &self.path),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
        e.extend(self.vars.iter().cloned());
        e
    }
}

/// One OVS interface: its merged, validated options and its environment.
#[derive(Debug, Clone)]
pub struct Entry {
    pub model: OvsIface,
    pub env: Vec<(String, String)>,
    pub warnings: Vec<String>,
}

impl Entry {
    fn var(&self, name: &str) -> Option<String> {
        self.env
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}

/// What the hooks know about the configuration.
#[derive(Debug, Clone, Default)]
pub struct Scene {
    /// The interfaces file (for nested `ifup -i FILE`); None when it is the default.
    pub file: Option<PathBuf>,
    pub config: Option<Config>,
    /// OVS interfaces by (logical) name: the entry, or its option errors, analyzed
    /// when first asked for (a hook run needs few of them).
    entries: BTreeMap<String, Lazy>,
    /// The logical name of the stanza the hook runs for.
    pub current: Option<String>,
    /// Seed of pinned bridge MACs (the machine id).
    pub machine_id: String,
    /// Expand `$(...)` in ovs_extra (hooks) or keep it as written (plan).
    pub run_substitutions: bool,
    /// The `$(...)` already run: each runs at most once per scene, i.e. per hook run.
    substitutions: Memo,
    /// Every MAC the configuration declares ([`Scene::declared_macs`]), read once:
    /// each bridge's pin asks, and a batch asks once per port.
    declared: OnceCell<Vec<Mac>>,
    mode: String,
    phase: String,
    ctx: Context,
}

/// The current stanza's raw options and hook environment.
type HookRaws = (Vec<RawOption>, Vec<(String, String)>);

/// An entry not analyzed yet: the name to analyze it under, the hook environment
/// for the current stanza (None: the file's), and the result once asked for.
#[derive(Debug, Clone, Default)]
struct Lazy {
    iface: String,
    hook: Option<HookRaws>,
    cell: OnceCell<Result<Entry, InvalidStanza>>,
}

/// Raw options with ovs_* options or `hwaddress`: the ones [`options::analyze`] reads.
fn has_ovs(raws: &[RawOption]) -> bool {
    raws.iter().any(|r| r.name.starts_with("ovs_"))
}

impl Scene {
    /// Build the scene. `hook` is the environment of the current hook run (its stanza
    /// wins over the file's); `mode`/`phase` fill the environment of other stanzas.
    pub fn new(
        file: Option<PathBuf>,
        config: Option<Config>,
        hook: Option<&HookEnv>,
        mode: &str,
        phase: &str,
    ) -> Scene {
        let mut s = Scene {
            file,
            config,
            machine_id: machine_id(),
            run_substitutions: hook.is_some(),
            mode: mode.into(),
            phase: phase.into(),
            ..Default::default()
        };
        // Which interfaces have ovs_* options: one pass over the stanzas.
        let mut ovs: BTreeSet<String> = BTreeSet::new();
        if let Some(c) = &s.config {
            for st in &c.ifaces {
                if !ovs.contains(&st.name)
                    && c.resolved_options(st)
                        .iter()
                        .any(|o| options::canonical_name(&o.name).starts_with("ovs_"))
                {
                    ovs.insert(st.name.clone());
                }
            }
        }
        for name in ovs {
            if hook.is_some_and(|h| h.logical == name) {
                continue;
            }
            s.entries.insert(
                name.clone(),
                Lazy {
                    iface: name,
                    ..Default::default()
                },
            );
        }
        if let Some(h) = hook {
            let raws = s.current_raws(h);
            if has_ovs(&raws) {
                s.entries.insert(
                    h.logical.clone(),
                    Lazy {
                        iface: h.iface.clone(),
                        hook: Some((raws, h.env())),
                        cell: OnceCell::new(),
                    },
                );
            }
            s.current = Some(h.logical.clone());
        }
        s
    }

    /// The entry of `name` (logical), analyzed now if it was not yet.
    fn analyzed(&self, name: &str) -> Option<&Result<Entry, InvalidStanza>> {
        let l = self.entries.get(name)?;
        Some(l.cell.get_or_init(|| match &l.hook {
            Some((raws, env)) => analyze(name, &l.iface, raws, &self.ctx, env.clone()),
            None => {
                let raws = self
                    .config
                    .as_ref()
                    .map(|c| options::raw_for_interface(c, name))
                    .unwrap_or_default();
                analyze(name, &l.iface, &raws, &self.ctx, self.file_env(name))
            }
        }))
    }

    /// The current stanza from the environment (with the positions of the file's
    /// lines that say the same, see [`with_file_positions`]), the interface's other
    /// stanzas from the file, in file order.
    fn current_raws(&self, h: &HookEnv) -> Vec<RawOption> {
        let env_raws = options::raw_from_env(h.vars.iter().cloned());
        let Some(c) = &self.config else {
            return env_raws;
        };
        let mut out = Vec::new();
        let mut placed = false;
        for st in c.stanzas(&h.logical) {
            let file_raws = options::raw_from_stanza(st, &c.resolved_options(st));
            if !placed && st.family == h.addrfam && st.method == h.method {
                out.extend(with_file_positions(&env_raws, &file_raws));
                placed = true;
            } else {
                out.extend(file_raws);
            }
        }
        if !placed {
            out.splice(0..0, env_raws);
        }
        out
    }

    /// The environment a hook would see for stanza `name` (its first stanza).
    fn file_env(&self, name: &str) -> Vec<(String, String)> {
        let mut h = HookEnv {
            iface: name.into(),
            logical: name.into(),
            mode: self.mode.clone(),
            phase: self.phase.clone(),
            verbosity: "0".into(),
            path: HOOK_PATH.into(),
            ..Default::default()
        };
        if let Some(c) = &self.config {
            let mut seen = BTreeSet::new();
            for (i, st) in c.stanzas(name).enumerate() {
                if i == 0 {
                    h.addrfam = st.family.clone();
                    h.method = st.method.clone();
                }
                for o in c.resolved_options(st) {
                    let var = format!(
                        "IF_{}",
                        options::canonical_name(&o.name).to_ascii_uppercase()
                    );
                    if seen.insert(var.clone()) {
                        h.vars.push((var, o.value));
                    }
                }
            }
        }
        h.env()
    }

    /// The [`env_fingerprint`] a hook run for `name`'s first stanza would compute
    /// if ifupdown passes what the file says (no `-o`, no method conversion).
    pub fn first_stanza_env_fingerprint(&self, name: &str) -> Option<String> {
        let c = self.config.as_ref()?;
        let st = c.stanzas(name).next()?;
        let mut h = HookEnv {
            iface: name.into(),
            logical: name.into(),
            addrfam: st.family.clone(),
            method: st.method.clone(),
            ..Default::default()
        };
        for o in c.resolved_options(st) {
            h.vars.push((
                format!(
                    "IF_{}",
                    options::canonical_name(&o.name).to_ascii_uppercase()
                ),
                o.value,
            ));
        }
        Some(env_fingerprint(&h))
    }

    /// The OVS entry of `name`: Ok(None) when it has no ovs_* options (or no
    /// stanza), Err with its option errors when they are invalid.
    pub fn entry(&self, name: &str) -> Result<Option<&Entry>, &InvalidStanza> {
        match self.analyzed(name) {
            None => Ok(None),
            Some(Ok(e)) => Ok(Some(e)),
            Some(Err(invalid)) => Err(invalid),
        }
    }

    /// The entry `name` must have: an error when it has no ovs_* options or
    /// invalid ones.
    pub fn required(&self, name: &str) -> Result<&Entry, PlanError> {
        match self.entry(name) {
            Ok(Some(e)) => Ok(e),
            Ok(None) => Err(PlanError::NotOvs { name: name.into() }),
            Err(invalid) => Err(invalid.clone().into()),
        }
    }

    /// The interfaces file as shown in messages.
    pub fn file_shown(&self) -> PathBuf {
        self.file
            .clone()
            .unwrap_or_else(|| PathBuf::from("/etc/network/interfaces"))
    }

    /// Valid entries, by name.
    fn valid(&self) -> impl Iterator<Item = (&String, &Entry)> {
        self.entries
            .keys()
            .filter_map(|n| self.analyzed(n)?.as_ref().ok().map(|e| (n, e)))
    }

    /// Whether the file has any stanza for `name`.
    pub fn has_stanza(&self, name: &str) -> bool {
        self.config
            .as_ref()
            .is_some_and(|c| c.stanzas(name).next().is_some())
    }

    /// Whether `name` is in allow class `class`.
    pub fn in_class(&self, class: &str, name: &str) -> bool {
        self.config
            .as_ref()
            .is_some_and(|c| c.allowed(class).any(|n| n == name))
    }

    /// Whether the stanza (`family`, `method`) of `name` is its first and its last
    /// stanza in the file. A stanza the file does not have (the file changed, or
    /// it is unknown) counts as both: the hook then acts rather than never.
    pub fn stanza_place(&self, name: &str, family: &str, method: &str) -> (bool, bool) {
        let Some(c) = &self.config else {
            return (true, true);
        };
        let all: Vec<_> = c.stanzas(name).collect();
        match all
            .iter()
            .position(|st| st.family == family && st.method == method)
        {
            Some(i) => (i == 0, i + 1 == all.len()),
            None => (true, true),
        }
    }

    /// Build `name`'s node. `with_extra`: include its ovs_extra.
    pub fn node(&self, name: &str, pin: Option<Mac>, with_extra: bool) -> Result<Node, PlanError> {
        let e = self.required(name)?;
        let vars = |n: &str| e.var(n);
        let ex = Expansion {
            vars: &vars,
            extra_subst: if self.run_substitutions {
                Subst::Run {
                    env: &e.env,
                    memo: &self.substitutions,
                }
            } else {
                Subst::Keep
            },
        };
        Ok(desired::node(&e.model, &ex, pin, with_extra)?)
    }

    /// What `name`'s pre-up configures, as a [`fingerprint::fingerprint`]: its model
    /// and its node (with its pinned MAC and its ovs_extra, `$(...)` kept as
    /// written, so computing it runs nothing). Equal from the hook environment and
    /// from the file means: the same OVS and kernel settings.
    pub fn fingerprint(&self, name: &str) -> Result<String, PlanError> {
        let e = self.required(name)?;
        let vars = |n: &str| e.var(n);
        let ex = Expansion {
            vars: &vars,
            extra_subst: Subst::Keep,
        };
        let pin = e.model.as_bridge().and_then(|_| self.pin_for(name));
        let node = desired::node(&e.model, &ex, pin, true)?;
        Ok(fingerprint::fingerprint(&format!(
            "{:?}\n{node:?}",
            e.model
        )))
    }

    /// VLAN bridges declared with parent `bridge`.
    pub fn fakes_of(&self, bridge: &str) -> Vec<String> {
        self.valid()
            .filter(|(_, e)| {
                e.model
                    .as_bridge()
                    .and_then(|b| b.vlan_of.as_ref())
                    .is_some_and(|f| f.parent == bridge)
            })
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// Port stanzas whose `ovs_bridge` is `bridge`, in name order.
    pub fn ports_of(&self, bridge: &str) -> Vec<String> {
        self.valid()
            .filter(|(_, e)| e.model.bridge() == Some(bridge))
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// Everything the configuration puts on `bridge`: its `ovs_ports`, port stanzas
    /// naming it, its VLAN bridges and their ports and `ovs_ports`, bond members.
    pub fn declared_on(&self, bridge: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut bridges = vec![bridge.to_string()];
        bridges.extend(self.fakes_of(bridge));
        for b in &bridges {
            if b != bridge {
                out.insert(b.clone());
            }
            if let Ok(Some(e)) = self.entry(b)
                && let Some(own) = e.model.as_bridge()
            {
                out.extend(own.ports.iter().cloned());
            }
            out.extend(self.ports_of(b));
        }
        out
    }

    /// The MAC to pin on bridge `bridge` when its stanza sets none (see
    /// [`desired::pinned_mac`]): always on a VLAN bridge (`Interface.mac`); on a
    /// real bridge (`other_config:hwaddr`) when it has VLAN bridges (their pinned
    /// MACs are among the ones OVS would pick from) or an internal port or a VLAN
    /// bridge on it has a fixed MAC. Never a MAC the configuration declares.
    pub fn pin_for(&self, bridge: &str) -> Option<Mac> {
        let fake = match self.entry(bridge) {
            Ok(Some(e)) if e.model.mac().is_some() => return None,
            Ok(Some(e)) => e.model.as_bridge().is_some_and(|b| b.vlan_of.is_some()),
            _ => false,
        };
        let mut holders = vec![bridge.to_string()];
        holders.extend(self.fakes_of(bridge));
        let fixed = self.valid().any(|(n, e)| match &e.model.kind {
            Kind::IntPort(p) => p.mac.is_some() && holders.contains(&p.port.bridge),
            Kind::Bridge(_) => n != bridge && holders.contains(n),
            _ => false,
        });
        (fake || fixed).then(|| self.pinned(bridge))
    }

    /// The pinned MAC of bridge `bridge`: [`desired::pinned_mac`], unless another
    /// interface declares that MAC (`ovs_mac` or `hwaddress`).
    pub fn pinned(&self, bridge: &str) -> Mac {
        desired::pinned_mac_avoiding(&self.machine_id, bridge, self.declared_macs())
    }

    /// Every MAC the configuration fixes: the `ovs_mac`/`hwaddress` of the OVS
    /// interfaces, and the `hwaddress` of any other stanza.
    fn declared_macs(&self) -> &[Mac] {
        self.declared.get_or_init(|| self.read_declared_macs())
    }

    fn read_declared_macs(&self) -> Vec<Mac> {
        let mut out: Vec<Mac> = self.valid().filter_map(|(_, e)| e.model.mac()).collect();
        if let Some(c) = &self.config {
            for st in &c.ifaces {
                for o in c.resolved_options(st) {
                    if o.name == "hwaddress"
                        && let Some(Ok(mac)) = o.value.split_whitespace().last().map(str::parse)
                    {
                        out.push(mac);
                    }
                }
            }
        }
        out
    }
}

/// A fingerprint of what ifupdown tells a hook run about its stanza: `IFACE`,
/// `LOGICAL`, `ADDRFAM`, `METHOD` and the `IF_*` variables (in any order).
pub fn env_fingerprint(h: &HookEnv) -> String {
    let mut vars: Vec<String> = h.vars.iter().map(|(k, v)| format!("{k}={v}")).collect();
    vars.sort();
    fingerprint::fingerprint(&format!(
        "{}\0{}\0{}\0{}\0{}",
        h.iface,
        h.logical,
        h.addrfam,
        h.method,
        vars.join("\0")
    ))
}

/// The environment's options `env` of a stanza, each with the position of the
/// first unused line of the stanza's `file` options that has the same name and
/// value: ifupdown exported it from there. An option the file does not have so
/// (`-o`, a value ifupdown rewrote, an edited file) has none.
fn with_file_positions(env: &[RawOption], file: &[RawOption]) -> Vec<RawOption> {
    let mut unused: Vec<&RawOption> = file.iter().collect();
    env.iter()
        .map(|r| {
            let same = unused
                .iter()
                .position(|f| f.name == r.name && f.value == r.value);
            RawOption {
                pos: same.and_then(|i| unused.remove(i).pos.clone()),
                ..r.clone()
            }
        })
        .collect()
}

/// Analyze the options of interface `name`, whose model is called `iface` (the
/// hook's `IFACE` for its own stanza).
fn analyze(
    name: &str,
    iface: &str,
    raws: &[RawOption],
    ctx: &Context,
    env: Vec<(String, String)>,
) -> Result<Entry, InvalidStanza> {
    let a = options::analyze(iface, raws, ctx);
    let warnings = a.warnings.iter().map(|w| w.to_string()).collect();
    let invalid = |errors| InvalidStanza {
        name: name.to_string(),
        errors,
    };
    if !a.errors.is_empty() {
        return Err(invalid(a.errors));
    }
    match a.iface {
        Some(model) => Ok(Entry {
            model,
            env,
            warnings,
        }),
        None => Err(invalid(vec![OptionError::Missing {
            iface: iface.to_string(),
            option: "ovs_type".into(),
            pos: None,
            message: "missing or unknown".into(),
        }])),
    }
}

/// /etc/machine-id, else the host name, else empty.
fn machine_id() -> String {
    std::fs::read_to_string("/etc/machine-id")
        .or_else(|_| std::fs::read_to_string("/proc/sys/kernel/hostname"))
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::OvsType;
    use std::path::Path;

    const SEED: &str = "\
auto eth0
iface eth0 inet manual
  ovs_type OVSPort
  ovs_bridge ovsbr0
  ovs_options tag=1 vlan_mode=native-untagged

auto ovsbr0
iface ovsbr0 inet manual
  ovs_type OVSBridge
  ovs_ports eth0 ovsbr0p1
  ovs_datapath_type netdev

allow-ovsbr0 ovsbr0p1
iface ovsbr0p1 inet static
  address 192.0.2.10/24
  ovs_type OVSIntPort
  ovs_bridge ovsbr0
  ovs_tag 1
  ovs_mac 00:01:02:03:04:05
iface ovsbr0p1 inet6 static
  address 2001:db8::10/64
  ovs_extra set interface ${IFACE} external-ids:x=${IF_ADDRESS}

auto ovsbr0v2
iface ovsbr0v2 inet manual
  ovs_type OVSBridge
  ovs_vlan_parent ovsbr0
  ovs_vlan 2
  ovs_disable_ipv6 yes
";

    fn scene(hook: Option<&HookEnv>) -> Scene {
        let c = Config::parse_str(SEED, Path::new("/etc/network/interfaces")).unwrap();
        Scene::new(None, Some(c), hook, "start", "pre-up")
    }

    #[test]
    fn entries_from_file() {
        let s = scene(None);
        let p1 = s.entry("ovsbr0p1").unwrap().unwrap();
        assert_eq!(p1.model.ovs_type(), OvsType::IntPort);
        assert!(p1.model.extra.is_some(), "inet6 stanza's ovs_extra merged");
        assert_eq!(p1.var("IFACE").as_deref(), Some("ovsbr0p1"));
        assert_eq!(p1.var("ADDRFAM").as_deref(), Some("inet"));
        assert_eq!(p1.var("IF_ADDRESS").as_deref(), Some("192.0.2.10/24"));
        assert!(s.entry("lo").unwrap().is_none());
        assert_eq!(s.ports_of("ovsbr0"), ["eth0", "ovsbr0p1"]);
        assert_eq!(s.fakes_of("ovsbr0"), ["ovsbr0v2"]);
        assert_eq!(
            s.declared_on("ovsbr0").into_iter().collect::<Vec<_>>(),
            ["eth0", "ovsbr0p1", "ovsbr0v2"]
        );
        assert!(s.in_class("ovsbr0", "ovsbr0p1"));
        assert!(!s.in_class("ovsbr0", "eth0"));
        assert_eq!(s.stanza_place("ovsbr0p1", "inet", "static"), (true, false));
        assert_eq!(s.stanza_place("ovsbr0p1", "inet6", "static"), (false, true));
        assert_eq!(s.stanza_place("ovsbr0p1", "inet", "dhcp"), (true, true));
        assert_eq!(s.stanza_place("nope", "inet", "manual"), (true, true));
    }

    #[test]
    fn pin_when_a_port_has_a_fixed_mac() {
        let s = scene(None);
        let br = s.pin_for("ovsbr0").expect("ovsbr0 pinned");
        assert_eq!(s.pin_for("other"), None);
        let n = s.node("ovsbr0", s.pin_for("ovsbr0"), true).unwrap();
        assert!(
            n.rows[0]
                .settings
                .iter()
                .any(|x| x.column == "other_config:hwaddr")
        );
        // a VLAN bridge gets a pinned Interface.mac of its own
        let v2 = s.pin_for("ovsbr0v2").expect("VLAN bridge pinned");
        assert_ne!(v2, br);
        let n = s.node("ovsbr0v2", Some(v2), true).unwrap();
        let iface = n
            .rows
            .iter()
            .find(|r| r.table == desired::Table::Interface)
            .unwrap();
        assert_eq!(iface.settings[0].word(), format!("mac=\"{v2}\""));
    }

    fn pins_of(text: &str, machine: &str) -> Scene {
        let c = Config::parse_str(text, Path::new("/etc/network/interfaces")).unwrap();
        let mut s = Scene::new(None, Some(c), None, "start", "pre-up");
        s.machine_id = machine.into();
        s
    }

    #[test]
    fn vlan_bridges_are_pinned_unless_they_set_a_mac() {
        let text = "\
iface br0 inet manual
  ovs_type OVSBridge
iface br0v5 inet manual
  ovs_type OVSBridge
  ovs_vlan_parent br0
  ovs_vlan 5
iface br0v6 inet manual
  ovs_type OVSBridge
  ovs_vlan_parent br0
  ovs_vlan 6
  ovs_mac 02:00:00:00:00:06
iface br1 inet manual
  ovs_type OVSBridge
";
        let s = pins_of(text, "m");
        assert_eq!(s.pin_for("br0v5"), Some(desired::pinned_mac("m", "br0v5")));
        assert_eq!(s.pin_for("br0v6"), None, "its own ovs_mac");
        // the parent is pinned too: OVS would pick its MAC among the VLAN bridges'
        assert_eq!(s.pin_for("br0"), Some(desired::pinned_mac("m", "br0")));
        assert_eq!(s.pin_for("br1"), None, "no VLAN bridge, no fixed MAC");
    }

    #[test]
    fn pins_avoid_declared_macs() {
        let taken = desired::pinned_mac("m", "br0v5");
        let also = desired::pinned_mac("m", "br0");
        let text = format!(
            "\
iface br0 inet manual
  ovs_type OVSBridge
iface br0v5 inet manual
  ovs_type OVSBridge
  ovs_vlan_parent br0
  ovs_vlan 5
iface p1 inet manual
  ovs_type OVSIntPort
  ovs_bridge br0
  ovs_mac {taken}
iface eth9 inet manual
  hwaddress ether {also}
"
        );
        let s = pins_of(&text, "m");
        let v5 = s.pin_for("br0v5").unwrap();
        assert_ne!(v5, taken);
        assert_eq!(v5.0[0] & 0x03, 0x02, "locally administered unicast");
        let br = s.pin_for("br0").unwrap();
        assert_ne!(br, also, "a non-OVS stanza's hwaddress is avoided too");
        assert_ne!(br, v5);
    }

    #[test]
    fn hook_env_is_the_truth_for_its_stanza() {
        let env: Vec<(String, String)> = [
            ("IFACE", "eth0"),
            ("LOGICAL", "eth0"),
            ("ADDRFAM", "inet"),
            ("METHOD", "manual"),
            ("MODE", "start"),
            ("PHASE", "pre-up"),
            ("IF_OVS_TYPE", "OVSPort"),
            ("IF_OVS_BRIDGE", "ovsbr0"),
            ("IF_OVS_OPTIONS", "tag=7"),
            ("OTHER", "x"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let h = HookEnv::from_vars(env).unwrap();
        assert!(h.has_ovs());
        assert_eq!(h.vars.len(), 3);
        let s = scene(Some(&h));
        assert_eq!(s.current.as_deref(), Some("eth0"));
        let e = s.entry("eth0").unwrap().unwrap();
        assert_eq!(
            e.model.port().and_then(|p| p.vlan.tag).map(|t| t.0),
            Some(7),
            "env wins over the file's tag=1"
        );
        assert!(e.env.iter().any(|(k, _)| k == "IF_OVS_OPTIONS"));
        assert!(HookEnv::from_vars(vec![("IFACE".to_string(), "x".to_string())]).is_none());
    }

    #[test]
    fn fingerprint_same_from_environment_and_file() {
        let file = scene(None);
        // the hook run of ovsbr0p1's inet stanza: its options from the environment
        let env: Vec<(String, String)> = [
            ("IFACE", "ovsbr0p1"),
            ("LOGICAL", "ovsbr0p1"),
            ("ADDRFAM", "inet"),
            ("METHOD", "static"),
            ("MODE", "start"),
            ("PHASE", "pre-up"),
            ("VERBOSITY", "1"),
            ("IF_ADDRESS", "192.0.2.10/24"),
            ("IF_OVS_TYPE", "OVSIntPort"),
            ("IF_OVS_BRIDGE", "ovsbr0"),
            ("IF_OVS_TAG", "1"),
            ("IF_OVS_MAC", "00:01:02:03:04:05"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let h = HookEnv::from_vars(env.clone()).unwrap();
        let hooked = scene(Some(&h));
        let f = file.fingerprint("ovsbr0p1").unwrap();
        assert_eq!(hooked.fingerprint("ovsbr0p1").unwrap(), f);
        assert_eq!(
            file.fingerprint("ovsbr0").unwrap(),
            hooked.fingerprint("ovsbr0").unwrap()
        );
        assert_ne!(file.fingerprint("ovsbr0").unwrap(), f);
        // -o ovs_tag=2 (or an edited file): another fingerprint
        let other: Vec<(String, String)> = env
            .into_iter()
            .map(|(k, v)| {
                if k == "IF_OVS_TAG" {
                    (k, "2".into())
                } else {
                    (k, v)
                }
            })
            .collect();
        let h2 = HookEnv::from_vars(other).unwrap();
        assert_ne!(scene(Some(&h2)).fingerprint("ovsbr0p1").unwrap(), f);
        assert!(file.fingerprint("lo").is_err());
        // the environment of the first stanza as the file says it
        let eth0: Vec<(String, String)> = [
            ("IFACE", "eth0"),
            ("LOGICAL", "eth0"),
            ("ADDRFAM", "inet"),
            ("METHOD", "manual"),
            ("MODE", "start"),
            ("PHASE", "pre-up"),
            ("VERBOSITY", "1"),
            ("PATH", "/bin"),
            ("IF_OVS_OPTIONS", "tag=1 vlan_mode=native-untagged"),
            ("IF_OVS_BRIDGE", "ovsbr0"),
            ("IF_OVS_TYPE", "OVSPort"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let h = HookEnv::from_vars(eth0.clone()).unwrap();
        assert_eq!(
            file.first_stanza_env_fingerprint("eth0"),
            Some(env_fingerprint(&h))
        );
        let mut more = eth0;
        more.push(("IF_MTU".into(), "9000".into()));
        let h = HookEnv::from_vars(more).unwrap();
        assert_ne!(
            file.first_stanza_env_fingerprint("eth0"),
            Some(env_fingerprint(&h))
        );
        assert_eq!(file.first_stanza_env_fingerprint("nope"), None);
    }

    #[test]
    fn hook_stanza_errors_name_the_line_that_says_the_same() {
        let text = SEED.replace("ovs_options tag=1 vlan", "ovs_options tag=x vlan");
        let c = Config::parse_str(&text, Path::new("/etc/network/interfaces")).unwrap();
        let env = |options: &str| {
            let vars: Vec<(String, String)> = [
                ("IFACE", "eth0"),
                ("ADDRFAM", "inet"),
                ("METHOD", "manual"),
                ("MODE", "start"),
                ("PHASE", "pre-up"),
                ("IF_OVS_TYPE", "OVSPort"),
                ("IF_OVS_BRIDGE", "ovsbr0"),
                ("IF_OVS_OPTIONS", options),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
            HookEnv::from_vars(vars).unwrap()
        };
        // as the file says: the error names its line (5)
        let h = env("tag=x vlan_mode=native-untagged");
        let s = Scene::new(None, Some(c.clone()), Some(&h), "start", "pre-up");
        let e = s.entry("eth0").unwrap_err();
        assert_eq!(
            e.to_string(),
            "/etc/network/interfaces:5: error: eth0: ovs_options: tag=x: \"x\" is not a VLAN id (a number in 0..4095)"
        );
        // another value (`-o`): no line of the file says it
        let h = env("tag=y");
        let s = Scene::new(None, Some(c), Some(&h), "start", "pre-up");
        let e = s.entry("eth0").unwrap_err();
        assert_eq!(
            e.to_string(),
            "eth0: error: ovs_options: tag=y: \"y\" is not a VLAN id (a number in 0..4095)"
        );
    }

    #[test]
    fn invalid_stanza_is_reported_not_fatal() {
        let text = format!("{SEED}\niface bad inet manual\n  ovs_type OVSPort\n");
        let c = Config::parse_str(&text, Path::new("/etc/network/interfaces")).unwrap();
        let s = Scene::new(None, Some(c), None, "start", "pre-up");
        let e = s.entry("bad").unwrap_err();
        assert_eq!(e.errors[0].option(), "ovs_bridge", "{e:?}");
        assert!(s.entry("eth0").unwrap().is_some());
        assert!(s.node("bad", None, false).is_err());
    }
}
