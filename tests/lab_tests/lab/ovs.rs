//! Starting and stopping a lab's private Open vSwitch (ovsdb-server + ovs-vswitchd
//! on their default paths, userspace datapath only: bridges need
//! `datapath_type=netdev`).

use std::fs;
use std::thread::sleep;
use std::time::{Duration, Instant};

use super::Lab;
use super::error::LabError;

const DB: &str = "/etc/openvswitch/conf.db";
const SCHEMA: &str = "/usr/share/openvswitch/vswitch.ovsschema";
/// The daemons, in the order they are stopped.
const DAEMONS: &[&str] = &["ovs-vswitchd", "ovsdb-server"];

impl Lab {
    /// Starts ovsdb-server and ovs-vswitchd (creating the database on first start;
    /// a restart keeps it). Returns when both are ready.
    pub fn start_ovs(&self) -> Result<(), LabError> {
        if !self.exists(DB)? {
            self.ok(&["ovsdb-tool", "create", DB, SCHEMA])?;
        }
        self.ok(&[
            "ovsdb-server",
            DB,
            "--remote=punix:/run/openvswitch/db.sock",
            "--pidfile",
            "--detach",
            "--log-file",
        ])?;
        self.ok(&["ovs-vsctl", "--timeout=10", "--no-wait", "init"])?;
        self.ok(&["ovs-vswitchd", "--pidfile", "--detach", "--log-file"])?;
        Ok(())
    }

    /// Stops both daemons by pidfile (TERM, then KILL after 10 s) and waits until
    /// they are gone. Fine to call when OVS is not running.
    /// A port of others on `bridge` (as libvirt adds a VM's tap): an internal
    /// interface `name`, without our marks.
    pub fn add_internal_port(&self, bridge: &str, name: &str) -> Result<String, LabError> {
        self.vsctl(&[
            "add-port",
            bridge,
            name,
            "--",
            "set",
            "Interface",
            name,
            "type=internal",
        ])
    }

    pub fn stop_ovs(&self) -> Result<(), LabError> {
        for daemon in DAEMONS {
            let Some(pid) = self.daemon_pid(daemon)? else {
                continue;
            };
            let pid_text = pid.to_string();
            let _ = self.run(&["kill", "-TERM", &pid_text])?;
            let deadline = Instant::now() + Duration::from_secs(10);
            while self.alive(pid) && Instant::now() < deadline {
                sleep(Duration::from_millis(5));
            }
            if self.alive(pid) {
                let _ = self.run(&["kill", "-KILL", &pid_text])?;
                while self.alive(pid) && Instant::now() < deadline + Duration::from_secs(5) {
                    sleep(Duration::from_millis(5));
                }
            }
            self.ok(&["rm", "-f", &pidfile(daemon)])?;
        }
        Ok(())
    }

    /// True if both daemons' pidfiles name live processes.
    pub fn ovs_running(&self) -> Result<bool, LabError> {
        for daemon in DAEMONS {
            match self.daemon_pid(daemon)? {
                Some(pid) if self.alive(pid) => {}
                _ => return Ok(false),
            }
        }
        Ok(true)
    }

    /// PID (lab numbering) in a daemon's pidfile, if there is one.
    fn daemon_pid(&self, daemon: &str) -> Result<Option<u32>, LabError> {
        let out = self.run(&["cat", "--", &pidfile(daemon)])?;
        Ok(if out.success() {
            out.stdout.trim().parse().ok()
        } else {
            None
        })
    }

    /// Is lab PID `pid` a live (not zombie) process? Looks through the lab's /proc.
    fn alive(&self, pid: u32) -> bool {
        let stat = format!("/proc/{}/root/proc/{pid}/stat", self.pid());
        match fs::read_to_string(stat) {
            Ok(text) => text
                .rsplit_once(')')
                .map(|(_, rest)| !rest.trim_start().starts_with('Z'))
                .unwrap_or(false),
            Err(_) => false,
        }
    }
}

fn pidfile(daemon: &str) -> String {
    format!("/run/openvswitch/{daemon}.pid")
}
