//! What each hook phase does for one interface, as a [`Plan`](super::steps::Plan):
//!
//! - pre-up (first stanza of the interface only): one transaction that creates or
//!   converges the interface — a port's bridge (and a VLAN bridge's parent) included
//!   when missing, from the bridge's own stanza; a bridge's `ovs_ports` of class
//!   `allow-BRIDGE` batched in — then the check that OVS applied it, IPv6 disabled
//!   and ARP sysctls (`ovs_arp_*`) set if asked (before any link goes up), links
//!   up, and for a bridge `ifup --allow=BRIDGE PORTS` like Debian's hook. The source
//!   routing options are checked here too, so that a bad one fails before anything
//!   changed.
//! - post-up (every stanza): source routing (`ovs_route_table`) for the stanza's
//!   static addresses, once ifupdown has assigned them.
//! - pre-down (first stanza): a bridge takes its configured ports down
//!   (`ifdown PORTS`), before its own addresses go.
//! - post-down: at the last stanza ARP sysctls back to the defaults, links of
//!   system ports down, sysctls restored, one transaction removing what is ours;
//!   then (every stanza) the stanza's source routing removed, once its addresses
//!   are gone.
//!
//! `ifup -a` / `ifdown -a` (see `crate::hook`): [`pre_up_batch`] plans the pre-up
//! of many interfaces as one transaction (each interface's nodes merged, its own
//! node with its ovs_extra winning; one that cannot be planned alone, whose device
//! is missing, or whose rows another would set differently is left to its own
//! hook run), and [`post_down_deferred`] is post-down without the OVS removal,
//! which it returns for [`converge::down_all`](super::converge::down_all) at the
//! end.
//!
//! Submodules: `up` (pre-up, of one interface and of `ifup -a`'s batch),
//! `routing` (post-up, and the source routing of every phase: which stanzas it
//! is about), `down` (pre-down, post-down). This module: the [`Phase`]s, the
//! [`Inputs`] of planning, and what several phases share. Planning reads the
//! scene, OVSDB as observed, ifupdown's state and the kernel's devices through
//! [`Inputs`], and runs nothing.

use std::path::Path;

use super::error::PlanError;
use super::scene::Scene;
use super::steps::Step;
use crate::config::model::OvsIface;
use crate::net::link;
use crate::net::sysctl::{PROC_SYS, Reset, Sysctl};
use crate::ovsdb::state::Observed;

mod down;
mod routing;
mod up;

pub use down::{post_down, post_down_deferred, pre_down};
pub use routing::{post_up, routes_down};
pub use up::{BatchUp, Covered, port_ifup, pre_up, pre_up_batch, pre_up_without_ports};

/// The four hook phases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    PreUp,
    PostUp,
    PreDown,
    PostDown,
}

impl Phase {
    /// From ifupdown's `MODE` and `PHASE`.
    pub fn from_hook(mode: &str, phase: &str) -> Option<Phase> {
        match (mode, phase) {
            ("start", "pre-up") => Some(Phase::PreUp),
            ("start", "post-up" | "up") => Some(Phase::PostUp),
            ("stop", "pre-down" | "down") => Some(Phase::PreDown),
            ("stop", "post-down") => Some(Phase::PostDown),
            _ => None,
        }
    }

    /// The hook directory, e.g. `if-pre-up.d`.
    pub fn dir(self) -> &'static str {
        match self {
            Phase::PreUp => "if-pre-up.d",
            Phase::PostUp => "if-up.d",
            Phase::PreDown => "if-down.d",
            Phase::PostDown => "if-post-down.d",
        }
    }

    /// `MODE` and `PHASE` as ifupdown sets them.
    pub fn mode_phase(self) -> (&'static str, &'static str) {
        match self {
            Phase::PreUp => ("start", "pre-up"),
            Phase::PostUp => ("start", "post-up"),
            Phase::PreDown => ("stop", "pre-down"),
            Phase::PostDown => ("stop", "post-down"),
        }
    }
}

/// What planning reads besides the scene.
pub struct Inputs<'a> {
    pub scene: &'a Scene,
    pub observed: &'a Observed,
    /// ovs-vsctl `--timeout`.
    pub timeout: u32,
    /// Whether ifupdown has `name` configured (from its state).
    pub configured: &'a dyn Fn(&str) -> bool,
    /// `net.ipv6.conf.default.disable_ipv6`, restored on persistent devices on ifdown.
    pub ipv6_default: bool,
    /// Whether the kernel has a device (normally [`link::exists`]).
    pub link_exists: &'a dyn Fn(&str) -> bool,
}

impl<'a> Inputs<'a> {
    /// Inputs of a real run on this host: devices are the kernel's
    /// ([`link::exists`]) and `ipv6_default` is read from
    /// `/proc/sys/net/ipv6/conf/default/disable_ipv6` (false when unreadable).
    pub fn new(
        scene: &'a Scene,
        observed: &'a Observed,
        timeout: u32,
        configured: &'a dyn Fn(&str) -> bool,
    ) -> Inputs<'a> {
        Inputs {
            scene,
            observed,
            timeout,
            configured,
            ipv6_default: host_ipv6_default(),
            link_exists: &link::exists,
        }
    }
}

/// `net.ipv6.conf.default.disable_ipv6` of this host (false when unreadable).
fn host_ipv6_default() -> bool {
    Sysctl {
        key: "net.ipv6.conf.default.disable_ipv6".into(),
        value: String::new(),
    }
    .read_in(Path::new(PROC_SYS))
    .is_ok_and(|v| v == "1")
}

fn file_args(scene: &Scene) -> Vec<String> {
    match &scene.file {
        Some(f) => vec!["-i".into(), f.display().to_string()],
        None => Vec::new(),
    }
}

/// The OVS entry `name` must have.
fn model<'a>(inp: &'a Inputs, name: &str) -> Result<&'a OvsIface, PlanError> {
    inp.scene.required(name).map(|e| &e.model)
}

/// `ovs_arp_filter`, `ovs_arp_ignore`, `ovs_arp_announce` as sysctls of the device
/// (none for a kind that is not a kernel device of its own).
fn arp_sysctls(m: &OvsIface) -> Vec<Sysctl> {
    let Some(arp) = m.device().map(|d| &d.arp) else {
        return Vec::new();
    };
    let mut v = Vec::new();
    if let Some(f) = arp.filter {
        v.push(Sysctl::ipv4_conf(&m.name, "arp_filter", u8::from(f)));
    }
    if let Some(n) = arp.ignore {
        v.push(Sysctl::ipv4_conf(&m.name, "arp_ignore", n));
    }
    if let Some(n) = arp.announce {
        v.push(Sysctl::ipv4_conf(&m.name, "arp_announce", n));
    }
    v
}

/// `ovs_disable_ipv6` (only a kind that is a kernel device of its own has it).
fn disables_ipv6(m: &OvsIface) -> bool {
    m.device().is_some_and(|d| d.disable_ipv6)
}

/// The ARP sysctls that `arp_sysctls` set, back to `net.ipv4.conf.default.*`.
fn arp_resets(m: &OvsIface) -> Vec<Step> {
    arp_sysctls(m)
        .iter()
        .filter_map(|s| s.key.rsplit('.').next())
        .map(|k| Step::IfPresent {
            dev: m.name.clone(),
            step: Box::new(Step::SysctlReset(Reset::ipv4_conf(&m.name, k))),
        })
        .collect()
}

#[cfg(test)]
mod tests;
