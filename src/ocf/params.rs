//! The agent's parameters (`OCF_RESKEY_NAME`) and the Pacemaker meta attributes it
//! reads (`OCF_RESKEY_CRM_meta_interval`, `..._timeout`), from the environment.
//! An empty value counts as not given (Pacemaker passes `name=""` as empty).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::config::model::Mac;
use crate::config::options::check_ifname;
use crate::interfaces::DEFAULT_FILE;

use super::rc::Outcome;

/// Parameter names, as in the meta-data.
pub const INTERFACE: &str = "interface";
pub const BRIDGE: &str = "bridge";
pub const MAC: &str = "mac";
pub const INTERFACES_FILE: &str = "interfaces_file";
pub const ARP_COUNT: &str = "arp_count";
pub const ARP_INTERVAL_MS: &str = "arp_interval_ms";
pub const IFUPDOWN_TIMEOUT: &str = "ifupdown_timeout";

/// Every parameter the agent knows.
pub const KNOWN: &[&str] = &[
    INTERFACE,
    BRIDGE,
    MAC,
    INTERFACES_FILE,
    ARP_COUNT,
    ARP_INTERVAL_MS,
    IFUPDOWN_TIMEOUT,
];

pub const DEFAULT_ARP_COUNT: u32 = 5;
pub const MAX_ARP_COUNT: u32 = 100;
pub const DEFAULT_ARP_INTERVAL_MS: u32 = 100;
pub const MIN_ARP_INTERVAL_MS: u32 = 10;
pub const MAX_ARP_INTERVAL_MS: u32 = 10_000;
pub const DEFAULT_IFUPDOWN_TIMEOUT: u64 = 60;
pub const MAX_IFUPDOWN_TIMEOUT: u64 = 3600;

/// The `OCF_*` environment of one agent run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OcfEnv {
    /// `OCF_RESKEY_*` without the prefix (meta attributes included, `CRM_meta_*`).
    pub reskeys: BTreeMap<String, String>,
    /// `OCF_TESTER_FAIL_HAVE_BINARY=1`: ocf-tester's "a required binary is missing".
    pub fail_have_binary: bool,
    /// `OCF_RESOURCE_INSTANCE`, for messages.
    pub instance: Option<String>,
}

impl OcfEnv {
    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> OcfEnv {
        let mut env = OcfEnv::default();
        for (k, v) in vars {
            if let Some(name) = k.strip_prefix("OCF_RESKEY_") {
                env.reskeys.insert(name.to_string(), v);
            } else if k == "OCF_TESTER_FAIL_HAVE_BINARY" {
                env.fail_have_binary = v == "1";
            } else if k == "OCF_RESOURCE_INSTANCE" && !v.is_empty() {
                env.instance = Some(v);
            }
        }
        env
    }

    pub fn from_process() -> OcfEnv {
        OcfEnv::from_vars(std::env::vars_os().map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        }))
    }

    /// A parameter's value; empty counts as not given.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.reskeys
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// `CRM_meta_interval` in ms (the monitor's interval; 0 = probe).
    pub fn interval_ms(&self) -> Option<u64> {
        self.get("CRM_meta_interval").and_then(|v| v.parse().ok())
    }

    /// A monitor with interval 0: Pacemaker's probe.
    pub fn is_probe(&self) -> bool {
        self.interval_ms() == Some(0)
    }

    /// `CRM_meta_timeout`: the time Pacemaker gives this action.
    pub fn action_timeout(&self) -> Option<Duration> {
        self.get("CRM_meta_timeout")
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|ms| *ms > 0)
            .map(Duration::from_millis)
    }

    /// `OCF_RESKEY_*` names that are neither ours nor Pacemaker's own (meta
    /// attributes, `crm_feature_set`).
    pub fn unknown_parameters(&self) -> Vec<&str> {
        self.reskeys
            .keys()
            .map(String::as_str)
            .filter(|k| {
                !k.starts_with("CRM_meta_") && *k != "crm_feature_set" && !KNOWN.contains(k)
            })
            .collect()
    }
}

/// The agent's parameters, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    /// The OVS internal port, also the interface's name in the interfaces file.
    pub interface: String,
    /// The bridge; if not given, the stanza's `ovs_bridge`.
    pub bridge: Option<String>,
    /// The port's MAC; if not given, the stanza's `ovs_mac`.
    pub mac: Option<Mac>,
    pub interfaces_file: PathBuf,
    /// ARP request/reply pairs (and IPv6 advertisements) after start; 0 = none.
    pub arp_count: u32,
    pub arp_interval_ms: u32,
    /// Limit for one ifup or ifdown run.
    pub ifupdown_timeout: Duration,
}

/// Parameters and what was wrong with them. A wrong optional value is replaced by
/// its default in `params` and named in `problems`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub params: Params,
    pub problems: Vec<String>,
}

impl Parsed {
    /// The parameters, or OCF_ERR_CONFIGURED naming the first problem.
    pub fn strict(self) -> Result<Params, Outcome> {
        match self.problems.into_iter().next() {
            Some(p) => Err(Outcome::configured(p)),
            None => Ok(self.params),
        }
    }
}

impl Params {
    /// Read and check every parameter. Err only when `interface` is missing or
    /// invalid: nothing can be done without it.
    pub fn parse(env: &OcfEnv) -> Result<Parsed, Outcome> {
        let interface = env.get(INTERFACE).ok_or_else(|| {
            Outcome::configured(format!("parameter {INTERFACE} is required but not set"))
        })?;
        check_ifname(interface)
            .map_err(|e| Outcome::configured(format!("parameter {INTERFACE}: {e}")))?;
        let mut problems = Vec::new();
        let bridge = env.get(BRIDGE).and_then(|b| match check_ifname(b) {
            Ok(()) => Some(b.to_string()),
            Err(e) => {
                problems.push(format!("parameter {BRIDGE}: {e}"));
                None
            }
        });
        let mac = env.get(MAC).and_then(|m| match m.parse::<Mac>() {
            Ok(mac) => Some(mac),
            Err(e) => {
                problems.push(format!("parameter {MAC}: {e}"));
                None
            }
        });
        let interfaces_file = match env.get(INTERFACES_FILE) {
            Some(f) if f.starts_with('/') => PathBuf::from(f),
            Some(f) => {
                problems.push(format!(
                    "parameter {INTERFACES_FILE}: \"{f}\" is not an absolute path"
                ));
                PathBuf::from(DEFAULT_FILE)
            }
            None => PathBuf::from(DEFAULT_FILE),
        };
        let arp_count = number(
            env,
            ARP_COUNT,
            0,
            MAX_ARP_COUNT,
            DEFAULT_ARP_COUNT,
            &mut problems,
        );
        let arp_interval_ms = number(
            env,
            ARP_INTERVAL_MS,
            MIN_ARP_INTERVAL_MS,
            MAX_ARP_INTERVAL_MS,
            DEFAULT_ARP_INTERVAL_MS,
            &mut problems,
        );
        let secs = number(
            env,
            IFUPDOWN_TIMEOUT,
            1,
            MAX_IFUPDOWN_TIMEOUT,
            DEFAULT_IFUPDOWN_TIMEOUT,
            &mut problems,
        );
        Ok(Parsed {
            params: Params {
                interface: interface.to_string(),
                bridge,
                mac,
                interfaces_file,
                arp_count,
                arp_interval_ms,
                ifupdown_timeout: Duration::from_secs(secs),
            },
            problems,
        })
    }
}

/// An integer parameter in `min..=max`, else `default` and a problem.
fn number<T>(env: &OcfEnv, name: &str, min: T, max: T, default: T, problems: &mut Vec<String>) -> T
where
    T: std::str::FromStr + PartialOrd + Copy + std::fmt::Display,
{
    let Some(text) = env.get(name) else {
        return default;
    };
    match text.parse::<T>() {
        Ok(n) if n >= min && n <= max => n,
        _ => {
            problems.push(format!(
                "parameter {name}: \"{text}\" is not a number in {min}..{max}"
            ));
            default
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> OcfEnv {
        OcfEnv::from_vars(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn defaults() {
        let e = env(&[("OCF_RESKEY_interface", "ovsbr0p1"), ("PATH", "/bin")]);
        let p = Params::parse(&e).unwrap().strict().unwrap();
        assert_eq!(p.interface, "ovsbr0p1");
        assert_eq!(p.bridge, None);
        assert_eq!(p.mac, None);
        assert_eq!(p.interfaces_file, PathBuf::from("/etc/network/interfaces"));
        assert_eq!(p.arp_count, 5);
        assert_eq!(p.arp_interval_ms, 100);
        assert_eq!(p.ifupdown_timeout, Duration::from_secs(60));
        assert!(!e.fail_have_binary);
        assert!(!e.is_probe());
    }

    #[test]
    fn all_given() {
        let e = env(&[
            ("OCF_RESKEY_interface", "ovsbr0p1"),
            ("OCF_RESKEY_bridge", "ovsbr0"),
            ("OCF_RESKEY_mac", "02:00:00:00:00:01"),
            ("OCF_RESKEY_interfaces_file", "/tmp/if"),
            ("OCF_RESKEY_arp_count", "0"),
            ("OCF_RESKEY_arp_interval_ms", "250"),
            ("OCF_RESKEY_ifupdown_timeout", "20"),
            ("OCF_RESKEY_CRM_meta_interval", "0"),
            ("OCF_RESKEY_CRM_meta_timeout", "20000"),
            ("OCF_TESTER_FAIL_HAVE_BINARY", "1"),
        ]);
        let p = Params::parse(&e).unwrap().strict().unwrap();
        assert_eq!(p.bridge.as_deref(), Some("ovsbr0"));
        assert_eq!(p.mac, Some(Mac([2, 0, 0, 0, 0, 1])));
        assert_eq!(p.interfaces_file, PathBuf::from("/tmp/if"));
        assert_eq!((p.arp_count, p.arp_interval_ms), (0, 250));
        assert_eq!(p.ifupdown_timeout, Duration::from_secs(20));
        assert!(e.is_probe());
        assert!(e.fail_have_binary);
        assert_eq!(e.action_timeout(), Some(Duration::from_secs(20)));
        assert!(e.unknown_parameters().is_empty());
    }

    #[test]
    fn interface_is_required_and_checked() {
        let e = Params::parse(&env(&[("OCF_RESKEY_bridge", "br0")])).unwrap_err();
        assert_eq!(e.rc, super::super::rc::Rc::ErrConfigured);
        assert!(e.reason.contains("interface"), "{e}");
        assert!(Params::parse(&env(&[("OCF_RESKEY_interface", "")])).is_err());
        let e = Params::parse(&env(&[("OCF_RESKEY_interface", "a/b")])).unwrap_err();
        assert!(e.reason.contains("'/'"), "{e}");
    }

    #[test]
    fn bad_values_are_problems_with_defaults() {
        let parsed = Params::parse(&env(&[
            ("OCF_RESKEY_interface", "p1"),
            ("OCF_RESKEY_mac", "01:00:5e:00:00:01"),
            ("OCF_RESKEY_arp_count", "many"),
            ("OCF_RESKEY_arp_interval_ms", "1"),
            ("OCF_RESKEY_interfaces_file", "relative"),
            ("OCF_RESKEY_bridge", "a bridge"),
        ]))
        .unwrap();
        assert_eq!(parsed.params.arp_count, 5);
        assert_eq!(parsed.params.arp_interval_ms, 100);
        assert_eq!(parsed.params.mac, None);
        assert_eq!(parsed.params.bridge, None);
        assert_eq!(parsed.problems.len(), 5, "{:?}", parsed.problems);
        assert!(parsed.problems[0].starts_with("parameter bridge"));
        assert!(parsed.problems[1].contains("multicast"));
        let o = parsed.strict().unwrap_err();
        assert!(o.reason.starts_with("parameter bridge"), "{o}");
    }

    #[test]
    fn unknown_parameters_are_named() {
        let e = env(&[
            ("OCF_RESKEY_interface", "p1"),
            ("OCF_RESKEY_brigde", "br0"),
            ("OCF_RESKEY_CRM_meta_name", "monitor"),
            ("OCF_RESKEY_crm_feature_set", "3.16.1"),
        ]);
        assert_eq!(e.unknown_parameters(), ["brigde"]);
    }
}
