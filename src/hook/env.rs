//! The environment of a hook run. ifupdown clears the environment of its hooks:
//! only `IFACE LOGICAL ADDRFAM METHOD MODE PHASE VERBOSITY PATH IF_*` arrive, and
//! they are the truth about the stanza being processed ([`HookEnv`]). Some runs
//! have nothing to do, which the environment alone shows: they leave before any
//! file or OVSDB is read (most hook runs of a boot are such runs).
//!
//! May use: `plan` (the [`HookEnv`] and [`Phase`] types). Nothing that reads a
//! file or runs a program.

use std::ffi::OsString;

use crate::plan::phases::Phase;
use crate::plan::scene::HookEnv;

/// True when ifupdown runs us as a hook (`MODE`, `PHASE` and `IFACE` are set).
pub fn is_hook_environment() -> bool {
    ["MODE", "PHASE", "IFACE"]
        .iter()
        .all(|v| std::env::var_os(v).is_some())
}

/// The hook environment of this process; None when it is not one.
pub(super) fn from_process() -> Option<HookEnv> {
    let lossy = |v: OsString| v.to_string_lossy().into_owned();
    HookEnv::from_vars(std::env::vars_os().map(|(k, v)| (lossy(k), lossy(v))))
}

/// Whether the stanza's `phase` has nothing to do whatever the files say: after
/// up only source routing acts (it needs a static address in this stanza);
/// before down only bridges (taking their ports down).
pub(super) fn nothing_to_do(h: &HookEnv, phase: Phase) -> bool {
    let any = |name: &str, f: &dyn Fn(&str) -> bool| h.vars.iter().any(|(k, v)| k == name && f(v));
    let not_bridge = any("IF_OVS_TYPE", &|v| v.trim() != "OVSBridge");
    let has_address = any("IF_ADDRESS", &|v| !v.trim().is_empty());
    (phase == Phase::PostUp && !has_address) || (phase == Phase::PreDown && not_bridge)
}

/// Whether this stanza says it is an OVS bridge (`ovs_type OVSBridge`).
pub(super) fn declares_bridge(h: &HookEnv) -> bool {
    h.vars
        .iter()
        .any(|(k, v)| k == "IF_OVS_TYPE" && v.trim() == "OVSBridge")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(phase: &str, vars: &[(&str, &str)]) -> HookEnv {
        let mut v: Vec<(String, String)> = vec![
            ("IFACE".into(), "p1".into()),
            ("MODE".into(), "start".into()),
            ("PHASE".into(), phase.into()),
        ];
        v.extend(vars.iter().map(|(k, x)| (k.to_string(), x.to_string())));
        HookEnv::from_vars(v).unwrap()
    }

    #[test]
    fn leaves_post_up_without_address_and_pre_down_of_ports() {
        let port = [("IF_OVS_TYPE", "OVSIntPort")];
        let bridge = [("IF_OVS_TYPE", "OVSBridge")];
        let addressed = [("IF_OVS_TYPE", "OVSIntPort"), ("IF_ADDRESS", "192.0.2.1")];
        assert!(nothing_to_do(&env("post-up", &port), Phase::PostUp));
        assert!(!nothing_to_do(&env("post-up", &addressed), Phase::PostUp));
        assert!(nothing_to_do(&env("pre-down", &port), Phase::PreDown));
        assert!(!nothing_to_do(&env("pre-down", &bridge), Phase::PreDown));
        assert!(!nothing_to_do(&env("pre-up", &port), Phase::PreUp));
        assert!(!nothing_to_do(&env("post-down", &port), Phase::PostDown));
        assert!(declares_bridge(&env("pre-up", &bridge)));
        assert!(!declares_bridge(&env("pre-up", &port)));
        assert!(!declares_bridge(&env("pre-up", &[])));
    }
}
