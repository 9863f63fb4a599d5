//! The OCF actions: start, stop, monitor (and its alias status), validate-all, and
//! the background `announce`. Each returns `Ok(())` for OCF_SUCCESS or an
//! [`Outcome`] with the exit code and the reason.
//!
//! When OVS cannot be asked ([`OvsUnavailable`]: ovsdb-server dead or hung,
//! ovs-vswitchd dead), monitor and stop ask the kernel instead: the port's device
//! may still be live (ovs-vswitchd serves it without OVSDB; the device outlives
//! ovs-vswitchd). Monitor then answers 1, never 7 (Pacemaker would start the
//! resource elsewhere: the same address and MAC twice on the LAN), and stop takes
//! the floating addresses off the device and sets it down, and succeeds only when
//! the kernel shows it quiet. See docs/ocf.md, "When OVS fails".

use std::net::IpAddr;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::config::lint::CheckEnv;
use crate::net::addr::Family;
use crate::net::ipcmd;
use crate::net::link;
use crate::net::route::{Change, Direction};
use crate::ovsdb::daemon::{self, Health};
use crate::ovsdb::vsctl::Vsctl;

use super::announce;
use super::ifupdown::{self, Verb};
use super::observe::{self, Observation, ObserveError, PortState};
use super::params::{OcfEnv, Params, Parsed};
use super::rc::{ActionResult, Outcome, Rc};
use super::status::{Liveness, Status, classify, held, liveness};
use super::target::{self, Target};

/// Programs every action that touches the system needs.
pub const REQUIRED: &[&str] = &["ovs-vsctl", "ip", "ifup", "ifdown", "ifquery"];

/// Why the agent cannot ask OVS about the port. Monitor and stop then ask the
/// kernel; start treats the port as stopped (ifup starts OVS).
#[derive(Debug, thiserror::Error)]
enum OvsUnavailable {
    /// ovsdb-server does not accept connections (why, from [`daemon::health`]).
    #[error("OVSDB does not answer ({0})")]
    NoOvsdb(String),
    /// OVSDB answers, but ovs-vswitchd is not running (from [`daemon::health`]).
    #[error("{0}")]
    NoVswitchd(String),
    /// Reading OVSDB failed or did not finish in time (a hung ovsdb-server).
    #[error("OVSDB does not answer ({0})")]
    Unreadable(ObserveError),
    /// Both daemons run, but one does not answer its liveness question in time (a
    /// stopped or hung ovs-vswitchd forwards nothing, though OVSDB still answers).
    #[error(transparent)]
    Hung(daemon::Hung),
}

/// How long each daemon may take to answer the agent's liveness question: well
/// within a monitor's time-out, and far above a healthy daemon's milliseconds.
const LIVENESS_LIMIT: Duration = Duration::from_secs(2);

/// What stop may find left of the resource in the kernel.
struct Leftover<'a> {
    iface: &'a str,
    /// The resource as the interfaces file says (None when it cannot be read).
    target: Option<&'a Target>,
}

impl Leftover<'_> {
    /// The floating addresses (None: unknown, every global address counts).
    fn floating(&self) -> Option<Vec<IpAddr>> {
        self.target
            .map(|t| t.addresses.iter().map(|a| a.ip).collect())
    }

    /// Our source-routing rules and routes of the port (what ifdown would have
    /// removed); a failure is only logged: without the addresses they route nothing.
    fn remove_rules(&self) {
        let Some(t) = self.target else {
            return;
        };
        for family in [Family::V4, Family::V6] {
            if let Some(spec) = t.source_routing(family) {
                let change = Change {
                    direction: Direction::Down,
                    spec,
                };
                if let Err(e) = ipcmd::apply(&change) {
                    log::warn!("cannot remove the source routing of {}: {e}", self.iface);
                }
            }
        }
    }
}

/// Where things are; tests and odd installations may change them.
#[derive(Debug, Clone)]
pub struct Agent {
    pub env: OcfEnv,
    pub vsctl: Vsctl,
    /// The OVS daemons' run directory.
    pub ovs_rundir: PathBuf,
    /// Our pidfiles and logs.
    pub run_dir: PathBuf,
    pub check: CheckEnv,
}

impl Agent {
    pub fn new(env: OcfEnv) -> Agent {
        Agent {
            env,
            vsctl: Vsctl {
                timeout: 5,
                ..Vsctl::default()
            },
            ovs_rundir: PathBuf::from(daemon::RUNDIR),
            run_dir: PathBuf::from(announce::RUN_DIR),
            check: CheckEnv::default(),
        }
    }

    /// The first required program that is missing (ocf-tester's
    /// `OCF_TESTER_FAIL_HAVE_BINARY=1` pretends one is).
    fn missing_binary(&self) -> Option<String> {
        if self.env.fail_have_binary {
            return Some("a required program (OCF_TESTER_FAIL_HAVE_BINARY=1)".into());
        }
        REQUIRED
            .iter()
            .find(|p| announce::find_program(p).is_none())
            .map(|p| p.to_string())
    }

    fn require_root(&self) -> ActionResult {
        if nix::unistd::geteuid().is_root() {
            Ok(())
        } else {
            Err(Outcome::new(Rc::ErrPerm, "this action must run as root"))
        }
    }

    /// Limit for one ifup/ifdown: the parameter, capped by the action's timeout.
    fn ifupdown_limit(&self, params: &Params) -> Duration {
        match self.env.action_timeout() {
            Some(t) if t > Duration::from_secs(4) => {
                params.ifupdown_timeout.min(t - Duration::from_secs(2))
            }
            _ => params.ifupdown_timeout,
        }
    }

    fn ovs_running(&self) -> Result<(), OvsUnavailable> {
        match daemon::health(&self.ovs_rundir) {
            Health::Running => {
                daemon::answers(&self.ovs_rundir, LIVENESS_LIMIT).map_err(OvsUnavailable::Hung)
            }
            Health::Down(why) if UnixStream::connect(self.ovs_rundir.join("db.sock")).is_err() => {
                Err(OvsUnavailable::NoOvsdb(why))
            }
            Health::Down(why) => Err(OvsUnavailable::NoVswitchd(why)),
        }
    }

    /// The port's OVSDB side, when OVS can be asked.
    fn read_port(&self, iface: &str) -> Result<Option<PortState>, OvsUnavailable> {
        self.ovs_running()?;
        observe::read_port(&self.vsctl, iface).map_err(OvsUnavailable::Unreadable)
    }

    /// The port's state (OVSDB and link).
    fn observe(&self, iface: &str) -> Result<Observation, Outcome> {
        let port =
            observe::read_port(&self.vsctl, iface).map_err(|e| Outcome::generic(e.to_string()))?;
        let link = match port {
            Some(_) => observe::read_link(iface).map_err(|e| Outcome::generic(e.to_string()))?,
            None => None,
        };
        Ok(Observation {
            port,
            link,
            rules: Vec::new(),
        })
    }

    /// The kernel's source-routing rules for `t`, added to `obs` when the port has
    /// a link (an absent port needs none).
    fn observe_rules(&self, t: &Target, obs: &mut Observation) -> ActionResult {
        if obs.link.is_some() && t.routing.is_some() {
            obs.rules = observe::read_rules(t).map_err(|e| Outcome::generic(e.to_string()))?;
        }
        Ok(())
    }

    /// The port's state with everything `t` asks for (rules too).
    fn observe_target(&self, t: &Target) -> Result<Observation, Outcome> {
        let mut obs = self.observe(&t.interface)?;
        self.observe_rules(t, &mut obs)?;
        Ok(obs)
    }

    /// monitor / status.
    pub fn monitor(&self) -> ActionResult {
        let probe = self.env.is_probe();
        let parsed = match Params::parse(&self.env) {
            Ok(p) => p,
            Err(o) if probe => return Err(Outcome::not_running(o.reason)),
            Err(o) => return Err(o),
        };
        self.require_root()?;
        if let Some(missing) = self.missing_binary() {
            let why = format!("{missing} is not installed");
            return Err(if probe {
                Outcome::not_running(why)
            } else {
                Outcome::installed(why)
            });
        }
        let iface = parsed.params.interface.clone();
        let port = match self.read_port(&iface) {
            Ok(Some(port)) => port,
            Ok(None) => return Err(self.absent_verdict(&parsed, &iface)),
            Err(why) => return Err(self.kernel_verdict(&parsed, &iface, &why)),
        };
        let link = observe::read_link(&iface).map_err(|e| Outcome::generic(e.to_string()))?;
        let mut obs = Observation {
            port: Some(port),
            link,
            rules: Vec::new(),
        };
        let params = parsed.strict()?;
        let t = target::load(&params, &self.check)?;
        self.observe_rules(&t, &mut obs)?;
        match classify(&t, &obs) {
            Status::Running => Ok(()),
            Status::Stopped(why) => Err(Outcome::not_running(why)),
            Status::Failed(why) => Err(Outcome::generic(why)),
        }
    }

    /// The resource's addresses, if the parameters and the interfaces file say.
    fn floating(&self, parsed: &Parsed) -> Option<Vec<IpAddr>> {
        let params = parsed.clone().strict().ok()?;
        let t = target::load(&params, &self.check).ok()?;
        Some(t.addresses.iter().map(|a| a.ip).collect())
    }

    /// Monitor's answer when OVS cannot say (`why`): the kernel decides. 1 while
    /// the port's device is live (up, or holding a floating address), else 7.
    fn kernel_verdict(&self, parsed: &Parsed, iface: &str, why: &OvsUnavailable) -> Outcome {
        let link = match observe::read_link(iface) {
            Ok(link) => link,
            Err(e) => {
                return Outcome::generic(format!("{why}, and the kernel cannot tell: {e}"));
            }
        };
        match liveness(link.as_ref(), self.floating(parsed).as_deref()) {
            Liveness::Gone => {
                Outcome::not_running(format!("{why}; port {iface} is not in the kernel"))
            }
            Liveness::Quiet => Outcome::not_running(format!(
                "{why}; port {iface} is in the kernel, but down and without its addresses: \
                 counted as stopped"
            )),
            Liveness::Live(state) => Outcome::generic(format!(
                "{why}; port {iface} is still live in the kernel ({state}): it must be \
                 stopped here before it runs elsewhere"
            )),
        }
    }

    /// Monitor's answer when OVSDB has no such port: 7, unless a device of that
    /// name holds a floating address.
    fn absent_verdict(&self, parsed: &Parsed, iface: &str) -> Outcome {
        let not_in_ovs = format!("port {iface} is not in OVS");
        let Ok(Some(link)) = observe::read_link(iface) else {
            return Outcome::not_running(not_in_ovs);
        };
        let floating = self.floating(parsed);
        let addresses: Vec<String> = held(&link, floating.as_deref())
            .iter()
            .map(|a| a.ip.to_string())
            .collect();
        if addresses.is_empty() {
            return Outcome::not_running(not_in_ovs);
        }
        Outcome::generic(format!(
            "{not_in_ovs}, but device {iface} is still live in the kernel (holding {}): it \
             must be stopped here before it runs elsewhere",
            addresses.join(", ")
        ))
    }

    /// validate-all.
    pub fn validate(&self) -> ActionResult {
        for name in self.env.unknown_parameters() {
            log::warn!("unknown parameter {name} (ignored)");
        }
        let params = Params::parse(&self.env)?.strict()?;
        if let Some(missing) = self.missing_binary() {
            return Err(Outcome::installed(format!("{missing} is not installed")));
        }
        let t = target::load(&params, &self.check)?;
        let arp_ignore_everywhere =
            std::fs::read_to_string("/proc/sys/net/ipv4/conf/all/arp_ignore")
                .is_ok_and(|v| v.trim() != "0");
        for w in &t.warnings {
            if !(arp_ignore_everywhere && w.contains("ovs_arp_ignore")) {
                log::warn!("{w}");
            }
        }
        self.bridge_exists(&t)
    }

    /// A bridge without an OVSBridge stanza must exist in OVS (checked when OVS runs
    /// and we may ask it). Missing here is this node's problem: OCF_ERR_INSTALLED.
    fn bridge_exists(&self, t: &Target) -> ActionResult {
        if !t.bridge_outside_file || self.ovs_running().is_err() {
            return Ok(());
        }
        if !nix::unistd::geteuid().is_root() {
            return Ok(());
        }
        match self.vsctl.run(&[
            format!("--timeout={}", self.vsctl.timeout),
            "br-exists".into(),
            t.bridge.clone(),
        ]) {
            Ok(_) => Ok(()),
            Err(_) => Err(Outcome::installed(format!(
                "bridge {} does not exist in OVS and {} has no OVSBridge stanza for it",
                t.bridge,
                t.file.display()
            ))),
        }
    }

    /// start. Spawns the announcer first (it waits for the addresses and announces
    /// each as soon as it is on the link), then `ifup` with the options for
    /// optimistic DAD ([`target::optimistic_dad`]), then verifies. Logs where the
    /// time went (`start of IFACE: ...`, level info).
    pub fn start(&self) -> ActionResult {
        let clock = Instant::now();
        let params = Params::parse(&self.env)?.strict()?;
        self.require_root()?;
        if let Some(missing) = self.missing_binary() {
            return Err(Outcome::installed(format!("{missing} is not installed")));
        }
        let t = target::load(&params, &self.check)?;
        let iface = &t.interface;
        announce::stop(&self.run_dir, iface);
        let before = match self.ovs_running() {
            Ok(()) => classify(&t, &self.observe_target(&t)?),
            Err(why) => Status::Stopped(why.to_string()),
        };
        if before == Status::Running {
            log::info!("{iface} is already running");
            return Ok(());
        }
        self.bridge_exists(&t)?;
        let limit = self.ifupdown_limit(&params);
        let mut times = vec![("checks", clock.elapsed())];
        if matches!(before, Status::Failed(_)) || ifupdown::is_configured(iface) {
            if let Status::Failed(why) = &before {
                log::warn!("{iface} is half-configured ({why}): taking it down first");
            }
            let argv = ifupdown::argv(Verb::Down, &t.file, &t.ifupdown_options, true, iface);
            if let Err(e) = ifupdown::run(&argv, limit) {
                log::warn!("{e}");
            }
            times.push(("ifdown", clock.elapsed()));
        }
        self.start_announcer(&params, &t);
        times.push(("announcer spawned", clock.elapsed()));
        let mut options = t.ifupdown_options.clone();
        options.extend(t.optimistic_dad.iter().cloned());
        let argv = ifupdown::argv(Verb::Up, &t.file, &options, false, iface);
        let up = ifupdown::run(&argv, limit).map_err(|e| Outcome::generic(e.to_string()));
        times.push(("ifup", clock.elapsed()));
        let verified = up.and_then(|()| self.verify_started(&t));
        times.push(("verify", clock.elapsed()));
        if verified.is_err() {
            announce::stop(&self.run_dir, iface);
        }
        log::info!("start of {iface}: {}", breakdown(&times));
        verified
    }

    /// After ifup: running, or the reason it is not (a short grace period for
    /// addresses and link state to settle).
    fn verify_started(&self, t: &Target) -> ActionResult {
        let iface = &t.interface;
        let deadline = Instant::now() + Duration::from_secs(3);
        loop {
            let status = match self.ovs_running() {
                Ok(()) => classify(t, &self.observe_target(t)?),
                Err(why) => Status::Stopped(why.to_string()),
            };
            let why = match status {
                Status::Running => return Ok(()),
                Status::Stopped(why) | Status::Failed(why) => why,
            };
            if Instant::now() >= deadline {
                return Err(Outcome::generic(format!(
                    "ifup {iface} succeeded, but {why}"
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn start_announcer(&self, params: &Params, t: &Target) {
        if params.arp_count == 0 {
            return;
        }
        let has_v4 = t.addresses.iter().any(|a| a.ip.is_ipv4());
        let has_v6 = t.addresses.iter().any(|a| a.ip.is_ipv6());
        for note in announce::Tools::missing_note(has_v4, has_v6) {
            log::warn!("{note}");
        }
        match announce::spawn(&self.run_dir, params) {
            Ok(pid) => log::info!("announcing the addresses of {} (pid {pid})", t.interface),
            Err(e) => log::warn!("cannot announce the addresses of {}: {e}", t.interface),
        }
    }

    /// stop: ifdown, then what is left in OVS and in the kernel.
    pub fn stop(&self) -> ActionResult {
        let parsed = match Params::parse(&self.env) {
            Ok(p) => p,
            Err(o) => {
                log::warn!("{}: nothing this resource could have started", o.reason);
                return Ok(());
            }
        };
        self.require_root()?;
        let params = &parsed.params;
        let iface = params.interface.as_str();
        announce::stop(&self.run_dir, iface);
        let t = match target::load(params, &self.check) {
            Ok(t) => Some(t),
            Err(o) => {
                log::warn!("{}: stopping with what the parameters say", o.reason);
                None
            }
        };
        let file = t
            .as_ref()
            .map_or(params.interfaces_file.as_path(), |t| t.file.as_path());
        let options = t
            .as_ref()
            .map(|t| t.ifupdown_options.clone())
            .unwrap_or_default();
        let limit = self.ifupdown_limit(params);
        if announce::find_program("ifdown").is_some() && ifupdown::is_configured(iface) {
            self.ifdown(file, &options, iface, limit);
        }
        let bridge = t
            .as_ref()
            .map(|t| t.bridge.clone())
            .or(params.bridge.clone());
        let left = Leftover {
            iface,
            target: t.as_ref(),
        };
        let port = match self.read_port(iface) {
            Ok(Some(port)) => port,
            Ok(None) => return self.quiesce(&left, true, &format!("port {iface} is not in OVS")),
            Err(why) => return self.quiesce(&left, true, &why.to_string()),
        };
        let on_our_bridge = match (&bridge, &port.bridge) {
            (Some(want), Some(is)) => want == is,
            (None, _) => false,
            (Some(_), None) => true,
        };
        if !on_our_bridge && port.owner.as_deref() != Some(iface) {
            let why = format!(
                "port {iface} is on bridge {}, not on {}, and not made by our hooks: left \
                 there",
                port.bridge.as_deref().unwrap_or("(none)"),
                bridge.as_deref().unwrap_or("(unknown)")
            );
            log::warn!("{why}");
            return self.quiesce(&left, false, &why);
        }
        self.del_port(iface, &port)
    }

    /// The final `del-port` of a port ifdown left in OVS.
    fn del_port(&self, iface: &str, port: &PortState) -> ActionResult {
        log::info!("ifdown left port {iface} in OVS: removing it");
        let mut args = vec![
            format!("--timeout={}", self.vsctl.timeout),
            "--".into(),
            "--if-exists".into(),
            "del-port".into(),
        ];
        if let Some(b) = &port.bridge {
            args.push(b.clone());
        }
        args.push(iface.to_string());
        self.vsctl
            .run(&args)
            .map_err(|e| Outcome::generic(format!("cannot remove port {iface}: {e}")))?;
        match self.observe(iface)?.port {
            None => Ok(()),
            Some(_) => Err(Outcome::generic(format!(
                "port {iface} is still in OVS after del-port"
            ))),
        }
    }

    /// Stop's last step when the port's device may stay (`why`): the floating
    /// addresses (and our source-routing rules) off it, and with `down` the device
    /// down, so that it answers and sends nothing while the resource runs
    /// elsewhere. Success only when the kernel then shows it so; otherwise 1, and
    /// Pacemaker fences the node.
    fn quiesce(&self, left: &Leftover, down: bool, why: &str) -> ActionResult {
        let iface = left.iface;
        let read = || {
            observe::read_link(iface).map_err(|e| {
                Outcome::generic(format!(
                    "{why}; cannot read port {iface} in the kernel: {e}"
                ))
            })
        };
        let Some(before) = read()? else {
            return Ok(());
        };
        let floating = left.floating();
        let mut failures = Vec::new();
        for a in held(&before, floating.as_deref()) {
            let cidr = format!("{}/{}", a.ip, a.prefix);
            let argv = ["ip", "addr", "del", &cidr, "dev", iface].map(String::from);
            if let Err(e) = link::run_ip(&argv) {
                failures.push(e.to_string());
            }
        }
        if down
            && before.up
            && let Err(e) = link::run_ip(&link::set_argv(iface, false))
        {
            failures.push(e.to_string());
        }
        left.remove_rules();
        let after = read()?;
        let live = match &after {
            None => None,
            Some(_) if down => match liveness(after.as_ref(), floating.as_deref()) {
                Liveness::Live(state) => Some(state),
                Liveness::Gone | Liveness::Quiet => None,
            },
            Some(l) => {
                let ips: Vec<String> = held(l, floating.as_deref())
                    .iter()
                    .map(|a| a.ip.to_string())
                    .collect();
                (!ips.is_empty()).then(|| format!("holding {}", ips.join(", ")))
            }
        };
        if let Some(state) = live {
            let mut reason = format!("{why}; port {iface} is still live in the kernel ({state})");
            if !failures.is_empty() {
                reason.push_str(&format!(": {}", failures.join("; ")));
            }
            return Err(Outcome::generic(reason));
        }
        if after.as_ref() != Some(&before) {
            let what = if down { " and set it down" } else { "" };
            log::warn!("{why}: took the floating addresses off port {iface}{what}");
        }
        Ok(())
    }

    /// ifdown, and ifdown --force when that fails.
    fn ifdown(&self, file: &Path, options: &[(String, String)], iface: &str, limit: Duration) {
        let argv = ifupdown::argv(Verb::Down, file, options, false, iface);
        if let Err(e) = ifupdown::run(&argv, limit) {
            log::warn!("{e}; trying --force");
            let argv = ifupdown::argv(Verb::Down, file, options, true, iface);
            if let Err(e) = ifupdown::run(&argv, limit) {
                log::warn!("{e}");
            }
        }
    }

    /// The background announcer (`OVSPort announce IFACE`).
    pub fn announce(&self) -> i32 {
        match Params::parse(&self.env) {
            Ok(p) => {
                // the stanza's addresses, to wait for (start spawns us before ifup)
                let expected: Vec<std::net::IpAddr> = target::load(&p.params, &self.check)
                    .map(|t| t.addresses.iter().map(|a| a.ip).collect())
                    .unwrap_or_default();
                announce::run_announcer(&self.run_dir, &p.params, &expected)
            }
            Err(o) => {
                eprintln!("warning: {}", o.reason);
                0
            }
        }
    }
}
/// `T ms (STEP A ms, STEP B ms, ...)` from the times at which each step ended.
fn breakdown(ends: &[(&str, Duration)]) -> String {
    let mut last = Duration::ZERO;
    let steps: Vec<String> = ends
        .iter()
        .map(|(step, end)| {
            let took = end.saturating_sub(last);
            last = *end;
            format!("{step} {} ms", took.as_millis())
        })
        .collect();
    format!("{} ms ({})", last.as_millis(), steps.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breakdown_of_steps() {
        let ends = [
            ("checks", Duration::from_millis(40)),
            ("ifup", Duration::from_millis(340)),
            ("verify", Duration::from_millis(350)),
        ];
        assert_eq!(
            breakdown(&ends),
            "350 ms (checks 40 ms, ifup 300 ms, verify 10 ms)"
        );
    }
}
