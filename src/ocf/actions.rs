//! The OCF actions: start, stop, monitor (and its alias status), validate-all, and
//! the background `announce`. Each returns `Ok(())` for OCF_SUCCESS or an
//! [`Outcome`] with the exit code and the reason.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::config::lint::CheckEnv;
use crate::ovsdb::daemon::{self, Health};
use crate::ovsdb::vsctl::Vsctl;

use super::announce;
use super::ifupdown::{self, Verb};
use super::observe::{self, Observation};
use super::params::{OcfEnv, Params};
use super::rc::{ActionResult, Outcome, Rc};
use super::status::{Status, classify};
use super::target::{self, Target};

/// Programs every action that touches the system needs.
pub const REQUIRED: &[&str] = &["ovs-vsctl", "ip", "ifup", "ifdown", "ifquery"];

/// Why the agent cannot ask OVS: for monitor, the port is not running; for stop,
/// there is no port to remove.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum OvsUnavailable {
    /// The daemons are not running (what is missing, from [`daemon::health`]).
    #[error("{0}")]
    Down(String),
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
            Health::Running => Ok(()),
            Health::Down(why) => Err(OvsUnavailable::Down(why)),
        }
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
        if let Err(why) = self.ovs_running() {
            return Err(Outcome::not_running(why.to_string()));
        }
        let mut obs = self.observe(&iface)?;
        if obs.port.is_none() {
            return Err(Outcome::not_running(format!("port {iface} is not in OVS")));
        }
        let params = parsed.strict()?;
        let t = target::load(&params, &self.check)?;
        self.observe_rules(&t, &mut obs)?;
        match classify(&t, &obs) {
            Status::Running => Ok(()),
            Status::Stopped(why) => Err(Outcome::not_running(why)),
            Status::Failed(why) => Err(Outcome::generic(why)),
        }
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

    /// start.
    pub fn start(&self) -> ActionResult {
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
        if matches!(before, Status::Failed(_)) || ifupdown::is_configured(iface) {
            if let Status::Failed(why) = &before {
                log::warn!("{iface} is half-configured ({why}): taking it down first");
            }
            let argv = ifupdown::argv(Verb::Down, &t.file, &t.ifupdown_options, true, iface);
            if let Err(e) = ifupdown::run(&argv, limit) {
                log::warn!("{e}");
            }
        }
        let argv = ifupdown::argv(Verb::Up, &t.file, &t.ifupdown_options, false, iface);
        ifupdown::run(&argv, limit).map_err(|e| Outcome::generic(e.to_string()))?;
        self.verify_started(&t)?;
        self.start_announcer(&params, &t);
        Ok(())
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

    /// stop.
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
        if announce::find_program("ovs-vsctl").is_none() {
            return Ok(());
        }
        if let Err(why) = self.ovs_running() {
            log::info!("{why}: no port to remove");
            return Ok(());
        }
        let Some(port) = self.observe(iface)?.port else {
            return Ok(());
        };
        let bridge = t
            .as_ref()
            .map(|t| t.bridge.clone())
            .or(params.bridge.clone());
        let ours = match (&bridge, &port.bridge) {
            (Some(want), Some(is)) => want == is,
            (None, _) => port.owner.as_deref() == Some(iface),
            (Some(_), None) => true,
        };
        if !ours {
            return Err(Outcome::generic(format!(
                "port {iface} is on bridge {}, not on {}: not removing what is not ours",
                port.bridge.as_deref().unwrap_or("(none)"),
                bridge.as_deref().unwrap_or("(unknown)")
            )));
        }
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
            Ok(p) => announce::run_announcer(&self.run_dir, &p.params),
            Err(o) => {
                eprintln!("warning: {}", o.reason);
                0
            }
        }
    }
}
