//! What the agent manages, from its parameters and the interfaces file: the port,
//! its bridge and MAC, the static addresses its stanzas give, and the `ifup -o`
//! options that supply what the stanza leaves to the parameters. Checked with the
//! same code as `ifupdown-ovs check` ([`check_config`], `config::lint`), on the configuration as ifup
//! will see it (the `-o` options added to the interface's first stanza).

use std::path::{Path, PathBuf};

use crate::config::lint::{CheckEnv, Severity, check_config};
use crate::config::model::{Bridge, Device, IntPort, Kind, Mac, OvsIface, OvsType};
use crate::config::options::{self, Analysis, canonical_name};
use crate::interfaces::{Config, Opt, ParseError, Position};
use crate::net::addr::{AddrError, Family, IfAddr, StanzaAddr, StaticError};
use crate::net::route::{self, SourceRouting};

use super::params::Params;
use super::rc::Outcome;

/// The resolved resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub interface: String,
    pub bridge: String,
    /// The fixed MAC (parameter or stanza), if any.
    pub mac: Option<Mac>,
    /// Static addresses of the interface's stanzas, in file order.
    pub addresses: Vec<StanzaAddr>,
    /// `ifup -o NAME=VALUE` / `ifdown -o NAME=VALUE`, in order.
    pub ifupdown_options: Vec<(String, String)>,
    /// `ifup -o` options (start only) that make ifupdown add the IPv6 static
    /// addresses with optimistic DAD ([`optimistic_dad`]); empty when the
    /// interface has no `inet6 static` stanza or turns DAD off itself.
    pub optimistic_dad: Vec<(String, String)>,
    pub file: PathBuf,
    /// The bridge has no OVSBridge stanza: it must already exist in OVS (someone
    /// else's bridge, as in the original shell agent's setup).
    pub bridge_outside_file: bool,
    /// Check warnings about this interface and its bridge, and advice (ARP on the
    /// bridge), for validate-all.
    pub warnings: Vec<String>,
    /// Source-based routing (`ovs_route_table`), if the stanza configures it.
    pub routing: Option<Routing>,
}

/// The routing table of `ovs_route_table` and the preference of its rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routing {
    /// The table's number (names resolved as the hook resolves them).
    pub table: u32,
    /// The table as written, for messages.
    pub table_shown: String,
    /// `ovs_route_pref`.
    pub pref: u32,
}

impl Target {
    /// The source routing the hook installs for `family`: one rule per static
    /// address of that family (None without `ovs_route_table` or such addresses).
    /// Only the rules matter here: no gateway, no extra routes.
    pub fn source_routing(&self, family: Family) -> Option<SourceRouting> {
        let r = self.routing.as_ref()?;
        let addrs: Vec<IfAddr> = self
            .addresses
            .iter()
            .filter(|a| Family::of(&a.ip) == family)
            .map(|a| IfAddr {
                addr: a.ip,
                len: a.prefix.unwrap_or(family.host_len()),
            })
            .collect();
        (!addrs.is_empty()).then(|| SourceRouting {
            dev: self.interface.clone(),
            family,
            table: r.table,
            table_shown: r.table_shown.clone(),
            pref: r.pref,
            addrs,
            gateway: None,
            extra: Vec::new(),
        })
    }
}

/// Load `params.interfaces_file` and resolve.
pub fn load(params: &Params, env: &CheckEnv) -> Result<Target, Outcome> {
    let cfg = load_config(&params.interfaces_file)?;
    resolve(&cfg, params, env)
}

/// Read the interfaces file; every failure is OCF_ERR_CONFIGURED.
pub fn load_config(file: &Path) -> Result<Config, Outcome> {
    Config::load(file).map_err(|e| match e {
        ParseError::Io { .. } => Outcome::configured(format!("{e}")),
        ParseError::Syntax { .. } => Outcome::configured(format!("syntax error: {e}")),
    })
}

/// Resolve the parameters against a loaded configuration.
pub fn resolve(cfg: &Config, params: &Params, env: &CheckEnv) -> Result<Target, Outcome> {
    let name = params.interface.as_str();
    let file = params.interfaces_file.clone();
    let Some(first) = cfg.stanzas(name).next() else {
        return Err(Outcome::configured(format!(
            "no stanza for {name} in {}: the agent brings up an interface defined there",
            file.display()
        )));
    };
    let r = Resolver {
        name,
        file: &file,
        env,
    };
    let extra = r.ifup_options(cfg, params)?;
    let seen = as_ifup_sees(cfg, name, &extra, &first.pos);
    let (analysis, port) = r.internal_port(&seen)?;
    let bridge = port.port.bridge.clone();
    let bridge_model = options::for_interface(&seen, &bridge, &env.options).iface;
    let bridge_model = bridge_model.as_ref().and_then(OvsIface::as_bridge);
    let bridge_outside_file = bridge_model.is_none();
    r.only_the_cluster_brings_up(&seen, &bridge, bridge_model)?;
    let mut warnings = r.check_findings(&seen, &analysis, &bridge, bridge_outside_file)?;
    let addresses = static_addresses(&seen, name)?;
    warnings.extend(arp_advice(name, &bridge, bridge_model, &addresses));
    let routing = r.routing(&port.device)?;
    Ok(Target {
        interface: name.to_string(),
        bridge,
        mac: port.mac,
        addresses,
        ifupdown_options: extra,
        optimistic_dad: optimistic_dad(&seen, name, &default_use_tempaddr()),
        file,
        bridge_outside_file,
        warnings,
        routing,
    })
}

/// The interface being resolved, for the steps of [`resolve`].
struct Resolver<'a> {
    name: &'a str,
    file: &'a Path,
    env: &'a CheckEnv,
}

impl Resolver<'_> {
    /// What the parameters add with `-o` (never what the stanza already says); an
    /// error when a parameter disagrees with the stanza.
    fn ifup_options(
        &self,
        cfg: &Config,
        params: &Params,
    ) -> Result<Vec<(String, String)>, Outcome> {
        let (name, file) = (self.name, self.file);
        let stanza = options::for_interface(cfg, name, &self.env.options);
        let raw = options::raw_for_interface(cfg, name);
        let given = |opt: &str| raw.iter().any(|r| r.name == opt);
        let mut extra: Vec<(String, String)> = Vec::new();
        if !given("ovs_type") {
            let Some(b) = &params.bridge else {
                return Err(Outcome::configured(format!(
                    "{name} has no ovs_type in {} and parameter bridge is not set: give ovs_type \
                     OVSIntPort and ovs_bridge in the stanza, or the parameter bridge",
                    file.display()
                )));
            };
            extra.push(("ovs_type".into(), OvsType::IntPort.as_str().into()));
            extra.push(("ovs_bridge".into(), b.clone()));
        } else if let Some(b) = &params.bridge {
            match &stanza.draft.bridge {
                Some(sb) if sb != b => {
                    return Err(Outcome::configured(format!(
                        "parameter bridge={b} disagrees with ovs_bridge {sb} of {name} in {}",
                        file.display()
                    )));
                }
                Some(_) => {}
                None if !given("ovs_bridge") => extra.push(("ovs_bridge".into(), b.clone())),
                None => {}
            }
        }
        if let Some(mac) = params.mac {
            match stanza.draft.mac {
                Some(sm) if sm != mac => {
                    let opt = if given("ovs_mac") {
                        "ovs_mac"
                    } else {
                        "hwaddress"
                    };
                    return Err(Outcome::configured(format!(
                        "parameter mac={mac} disagrees with {opt} {sm} of {name} in {}",
                        file.display()
                    )));
                }
                Some(_) => {}
                None if !given("ovs_mac") => extra.push(("ovs_mac".into(), mac.to_string())),
                None => {}
            }
        }
        Ok(extra)
    }

    /// The interface's analysis and model in `seen`: it must be an OVSIntPort, with
    /// its bridge.
    fn internal_port(&self, seen: &Config) -> Result<(Analysis, IntPort), Outcome> {
        let name = self.name;
        let analysis = options::for_interface(seen, name, &self.env.options);
        let Some(kind) = analysis.kind else {
            let why = analysis
                .errors
                .first()
                .map(|e| format!("{}: {}", e.option(), e.message()))
                .unwrap_or_else(|| "not an OVS interface".into());
            return Err(Outcome::configured(format!("{name}: {why}")));
        };
        if kind != OvsType::IntPort {
            return Err(Outcome::configured(format!(
                "{name} is an {kind} in {}; the agent manages internal ports (ovs_type OVSIntPort)",
                self.file.display()
            )));
        }
        // An internal port has a model unless its bridge is missing or invalid.
        let Some(Kind::IntPort(port)) = analysis.iface.as_ref().map(|m| &m.kind) else {
            return Err(Outcome::configured(format!(
                "{name}: no bridge (ovs_bridge in the stanza or the parameter bridge)"
            )));
        };
        let port = port.clone();
        Ok((analysis, port))
    }

    /// Nothing but the cluster may bring the port up: not in its bridge's
    /// `ovs_ports`, not marked `auto` or `allow-hotplug`.
    fn only_the_cluster_brings_up(
        &self,
        seen: &Config,
        bridge: &str,
        bridge_model: Option<&Bridge>,
    ) -> Result<(), Outcome> {
        let (name, file) = (self.name, self.file);
        if bridge_model.is_some_and(|b| b.ports.iter().any(|p| p == name)) {
            return Err(Outcome::configured(format!(
                "{name} is in ovs_ports of {bridge} in {}: ifup {bridge} would bring it up on \
                 every node; remove it from ovs_ports",
                file.display()
            )));
        }
        for class in ["auto", "hotplug"] {
            let listed = seen.list_with(class, &[], &|_, _| None);
            if listed.names.iter().any(|n| n == name) {
                return Err(Outcome::configured(format!(
                    "{name} is marked {} in {}: every node would bring it up by itself; only \
                     the cluster may (remove that line)",
                    if class == "auto" {
                        "auto"
                    } else {
                        "allow-hotplug"
                    },
                    file.display()
                )));
            }
        }
        Ok(())
    }

    /// What `check` reports about this interface or its bridge: the first error (and
    /// how many more) fails; the warnings are returned.
    fn check_findings(
        &self,
        seen: &Config,
        analysis: &Analysis,
        bridge: &str,
        bridge_outside_file: bool,
    ) -> Result<Vec<String>, Outcome> {
        let name = self.name;
        let own: Vec<String> = analysis
            .errors
            .iter()
            .map(|e| format!("{}: {}", e.option(), e.message()))
            .collect();
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        for d in &check_config(seen, self.env) {
            if d.iface != name && d.iface != bridge {
                continue;
            }
            let cross_bridge = d.iface == name
                && d.message.starts_with("ovs_bridge:")
                && !own.contains(&d.message);
            if cross_bridge && bridge_outside_file {
                // checked against OVSDB instead (see `bridge_outside_file`)
                continue;
            }
            match d.severity {
                Severity::Error => errors.push(d.to_string()),
                Severity::Warning => warnings.push(d.to_string()),
            }
        }
        let Some(first_error) = errors.first() else {
            return Ok(warnings);
        };
        let more = match errors.len() {
            1 => String::new(),
            n => format!(
                " (and {} more: ifupdown-ovs check -i {})",
                n - 1,
                self.file.display()
            ),
        };
        Err(Outcome::configured(format!("{first_error}{more}")))
    }

    /// `ovs_route_table` resolved as the hook resolves it.
    fn routing(&self, device: &Device) -> Result<Option<Routing>, Outcome> {
        let Some(r) = &device.routing else {
            return Ok(None);
        };
        Ok(Some(Routing {
            table: route::table_id(&r.table, Path::new(route::IPROUTE2_DIR))
                .map_err(|e| Outcome::configured(format!("{}: {e}", self.name)))?,
            table_shown: r.table.to_string(),
            pref: r.pref,
        }))
    }
}

/// The configuration as ifup will see it: the `-o` options added to the
/// interface's first stanza (at its position).
fn as_ifup_sees(cfg: &Config, name: &str, extra: &[(String, String)], at: &Position) -> Config {
    let mut seen = cfg.clone();
    if let Some(st) = seen.ifaces.iter_mut().find(|i| i.name == name) {
        for (k, v) in extra {
            st.options.push(Opt {
                name: k.clone(),
                value: v.clone(),
                pos: at.clone(),
            });
        }
    }
    seen
}

/// The `ifup -o` options that make ifupdown 0.8's `inet6 static` method add the
/// addresses with optimistic DAD (RFC 4429; docs/ocf.md, "Fail-over time"): the
/// address is usable at once while the kernel still runs duplicate address
/// detection, and a duplicate still ends as `dadfailed` (ifup's DAD wait fails,
/// monitor answers 1). The method has no option for it, but two of its values go
/// into its commands as words: `privext` into the `sysctl -w` it runs before the
/// address exists (we add `net.ipv6.conf.IFACE.optimistic_dad=1`, which the kernel
/// needs to honour the flag), `preferred-lifetime` into `ip -6 addr add ...
/// preferred_lft VALUE` (we add the flag `optimistic`). The stanza's own values are
/// kept (`privext` defaults to `use_tempaddr`, the kernel's default for a new
/// device; `preferred-lifetime` to `forever`, ip's default). Nothing when the
/// interface has no `inet6 static` stanza, when a stanza turns DAD off
/// (`dad-attempts 0`: ifupdown adds with `nodad`), or when a value is not a plain
/// word (it would not survive being put into a command line).
pub fn optimistic_dad(cfg: &Config, name: &str, use_tempaddr: &str) -> Vec<(String, String)> {
    let six: Vec<_> = cfg
        .stanzas(name)
        .filter(|s| s.family == "inet6" && s.method == "static")
        .collect();
    if six.is_empty() {
        return Vec::new();
    }
    let value = |opt: &str| {
        six.iter().find_map(|st| {
            cfg.resolved_options(st)
                .iter()
                .find(|o| canonical_name(&o.name) == canonical_name(opt))
                .map(|o| o.value.trim().to_string())
        })
    };
    let plain = |v: &str| {
        !v.is_empty()
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    };
    if value("dad-attempts").is_some_and(|v| v.parse::<i64>() == Ok(0)) {
        return Vec::new();
    }
    let privext = value("privext").unwrap_or_else(|| use_tempaddr.to_string());
    let lifetime = value("preferred-lifetime").unwrap_or_else(|| "forever".to_string());
    if !plain(&privext) || !plain(&lifetime) || !plain(name) {
        return Vec::new();
    }
    let sysctl_name = name.replace('.', "/");
    vec![
        (
            "privext".into(),
            format!("{privext} net.ipv6.conf.{sysctl_name}.optimistic_dad=1"),
        ),
        (
            "preferred-lifetime".into(),
            format!("{lifetime} optimistic"),
        ),
    ]
}

/// `net.ipv6.conf.default.use_tempaddr`: what a new device gets (0 if unreadable).
fn default_use_tempaddr() -> String {
    std::fs::read_to_string("/proc/sys/net/ipv6/conf/default/use_tempaddr")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| s.parse::<i64>().is_ok())
        .unwrap_or_else(|| "0".to_string())
}

/// Advice when the bridge's own device would answer ARP for the port's IPv4
/// addresses.
fn arp_advice(
    name: &str,
    bridge: &str,
    bridge_model: Option<&Bridge>,
    addresses: &[StanzaAddr],
) -> Option<String> {
    let quiet = bridge_model.is_none_or(|b| b.device.arp.ignore.unwrap_or(0) != 0);
    if quiet || !addresses.iter().any(|a| a.ip.is_ipv4()) {
        return None;
    }
    Some(format!(
        "{bridge} has no ovs_arp_ignore: with arp_ignore 0 the bridge's own device also \
         answers ARP requests for {name}'s addresses, with the bridge's MAC; set \
         ovs_arp_ignore 1 on {bridge} (or net.ipv4.conf.all.arp_ignore=1)"
    ))
}

/// The `address` values of the interface's `static` stanzas (after `inherits`), with
/// their prefix from `/N` or `netmask`, read as the hook reads them.
pub fn static_addresses(cfg: &Config, name: &str) -> Result<Vec<StanzaAddr>, Outcome> {
    let mut out = Vec::new();
    for st in cfg.stanzas(name).filter(|s| s.method == "static") {
        let opts = cfg.resolved_options(st);
        let value = |n: &str| {
            opts.iter()
                .find(|o| canonical_name(&o.name) == n)
                .map(|o| (o.value.clone(), o.pos.clone()))
        };
        let netmask = value("netmask");
        let Some((addrs, pos)) = value("address") else {
            continue;
        };
        for word in addrs.split_whitespace() {
            let a = StanzaAddr::parse(word, netmask.as_ref().map(|(v, _)| v.as_str())).map_err(
                |e| {
                    Outcome::configured(match e {
                        StaticError::Address(AddrError::NotAnAddress(_)) => {
                            format!("{pos}: address \"{word}\" of {name} is not an IP address")
                        }
                        StaticError::Netmask(_) => {
                            let at = netmask.as_ref().map_or(&pos, |(_, p)| p);
                            format!("{at}: {name}: {e}")
                        }
                        _ => format!("{pos}: {name}: {e}"),
                    })
                },
            )?;
            if !out.contains(&a) {
                out.push(a);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
