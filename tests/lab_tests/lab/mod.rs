//! The test lab: throwaway Linux namespaces in which the real `ifup`/`ifdown`, the
//! real Open vSwitch daemons (userspace datapath) and our freshly built binary run,
//! without the host ever seeing any of it (docs/architecture.md, "The test lab").
//!
//! The lab tests (`tests/lab_tests/`) use it as `crate::lab`; the examples include
//! it with `#[path = "../tests/lab_tests/lab/mod.rs"] mod lab;`:
//!
//! ```ignore
//! use crate::lab::{Lab, LabError};
//!
//! #[test]
//! fn bridge_comes_up() -> Result<(), LabError> {
//!     let host = Lab::new("bridge-up")?;          // our hooks, private /etc/network
//!     let wire = Lab::peer("bridge-up-peer")?;    // a plain namespace on the other end
//!     host.add_veth("eth0", &wire, "eth0")?;       // a "physical NIC"
//!     host.start_ovs()?;
//!     host.write_interfaces(
//!         "auto br0\niface br0 inet manual\n  ovs_type OVSBridge\n  ovs_datapath_type netdev\n",
//!     )?;
//!     host.ifup(&["br0"])?;
//!     assert!(host.vsctl(&["list-br"])?.contains("br0"));
//!     Ok(())
//! }                                                // Drop: daemons stopped, namespaces gone
//! ```
//!
//! What a lab (`Lab::new`) provides, all private to it:
//! - mount, network, UTS and PID namespaces; `lo` up; hostname = lab name;
//! - tmpfs on `/run` (with `/run/network`, `/run/openvswitch`, `/run/lock`), `/tmp`;
//! - private copy-on-write overlays of `/etc`, `/var/lib` and `/usr/sbin`: tests (and
//!   the programs they run) may write there, e.g. `/etc/iproute2/rt_tables`;
//! - fresh empty tmpfs on `/etc/network` (with the four `if-*.d` dirs and
//!   `interfaces.d`), `/etc/openvswitch`, `/var/log/openvswitch`, `/var/lib/openvswitch`;
//! - the built binary at `/usr/sbin/ifupdown-ovs` (bind mount) and, per [`Hooks`],
//!   our hooks (the links of the repository's `if-*.d/` folders, as the package
//!   installs them), Debian's hook, or no hook at all.
//!
//! Commands run through `nsenter` with a clean environment (`PATH`, `LANG`, `HOME`;
//! `RUST_LOG`/`RUST_BACKTRACE`/`TERM` passed through), stdin from `/dev/null` unless
//! given, cwd `/`, and a time limit ([`LabOptions::timeout`]).
//!
//! There is no OVS kernel module: every bridge needs `datapath_type=netdev`
//! (`ovs_datapath_type netdev`, or `ovs_extra set bridge ${IFACE} datapath_type=netdev`
//! for Debian's hook). No `dummy` or 802.1q modules either: use veths.
//! When a test panics with a lab alive, the lab prints its state (`ovs-vsctl show`,
//! addresses, routes, OVS logs) to stderr before it is torn down.
//!
//! On the far end of a wire, `start_dnsmasq` (submodule `dhcp`) serves DHCP and
//! router advertisements, and `no_tx_offload` makes veths fit for UDP through the
//! userspace datapath.
//!
//! A lab dies with the thread that created it (and with the test process): keep a
//! `Lab` in the thread (test) that made it. Names only label things (hostname,
//! messages); parallel tests never collide because every lab has its own namespaces.
//! Every lab holds the host shared ([`HostLock`]) while it lives: a test that changes
//! the host (installs a package) takes it exclusively and so never overlaps with a lab.

mod dhcp;
mod error;
mod exec;
mod fixture;
mod holder;
mod host;
mod ovs;
mod setup;
mod tools;

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

pub use dhcp::{DNSMASQ_LEASES, DNSMASQ_LOG, Dnsmasq};
pub use error::{LabError, Output};
pub use fixture::nics_named_in;
pub use holder::Enter;
pub use host::HostLock;
/// For the examples, which report what is missing without a panic.
#[allow(unused_imports)]
pub use tools::check_root_and_tools;
pub use tools::{find_program, require_root_and_tools};

use holder::Holder;

/// Which ifupdown hooks a lab installs in `/etc/network/if-*.d/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hooks {
    /// The entries of the repository's hook folders `if-{pre-up,up,down,post-down}.d/`
    /// (`ifupdown-ovs` -> `/usr/sbin/ifupdown-ovs`), linked into the same folders of
    /// `/etc/network`, as the package installs them.
    Ours,
    /// Debian's `/usr/share/openvswitch/scripts/ifupdown.sh` as
    /// `if-pre-up.d/openvswitch` and `if-post-down.d/openvswitch`.
    Debian,
    /// No hooks (plain ifupdown; for benchmarks and comparisons).
    None,
}

/// How to build a lab. `LabOptions { hooks: Hooks::None, ..Default::default() }`.
#[derive(Clone, Debug)]
pub struct LabOptions {
    /// Hooks to install.
    pub hooks: Hooks,
    /// Binary to make appear at `/usr/sbin/ifupdown-ovs`. Default: the one cargo
    /// built for this integration test (`CARGO_BIN_EXE_ifupdown-ovs`); `None` in
    /// examples unless set. `Hooks::Ours` needs it.
    pub binary: Option<PathBuf>,
    /// Time limit of every command run in the lab.
    pub timeout: Duration,
    /// Extra directories to cover with a private tmpfs (for example
    /// `/var/lib/pacemaker`); they must exist on the host.
    pub tmpfs: Vec<String>,
}

impl Default for LabOptions {
    fn default() -> Self {
        LabOptions {
            hooks: Hooks::Ours,
            binary: default_binary(),
            timeout: Duration::from_secs(120),
            tmpfs: Vec::new(),
        }
    }
}

/// The binary cargo built for this test target, if cargo told us.
pub fn default_binary() -> Option<PathBuf> {
    option_env!("CARGO_BIN_EXE_ifupdown-ovs").map(PathBuf::from)
}

/// One lab namespace: the machine under test (`Lab::new`) or a plain peer
/// (`Lab::peer`). Dropping it stops its OVS and kills everything in it.
pub struct Lab {
    name: String,
    options: LabOptions,
    /// True for a machine under test (private /etc/network etc.), false for a peer.
    system: bool,
    /// Directories mounted privately in this lab (tmpfs, overlays): the only
    /// places `write_file` may write to.
    private: RefCell<Vec<String>>,
    holder: Holder,
    /// Released after `Drop` has torn the lab down.
    _host: HostLock,
}

impl Lab {
    /// A machine under test with default options (our hooks, the built binary).
    /// Panics with an install hint if not root or tools are missing.
    pub fn new(name: &str) -> Result<Lab, LabError> {
        Lab::with_options(name, LabOptions::default())
    }

    /// A machine under test built as `options` says.
    pub fn with_options(name: &str, options: LabOptions) -> Result<Lab, LabError> {
        require_root_and_tools();
        let host = lab_host_lock(name)?;
        let lab = Lab {
            name: name.to_string(),
            holder: Holder::spawn(name)?,
            options,
            system: true,
            private: RefCell::new(Vec::new()),
            _host: host,
        };
        lab.setup_system()?;
        Ok(lab)
    }

    /// A plain namespace for a peer host: private network, `/run`, `/tmp`, overlays
    /// of `/etc` and `/var/lib`; `lo` up; no OVS, no hooks. (A simulated switch with
    /// its own OVS is a `Lab::with_options(.., Hooks::None ..)` instead.)
    pub fn peer(name: &str) -> Result<Lab, LabError> {
        require_root_and_tools();
        let host = lab_host_lock(name)?;
        let lab = Lab {
            name: name.to_string(),
            holder: Holder::spawn(name)?,
            options: LabOptions {
                hooks: Hooks::None,
                binary: None,
                ..LabOptions::default()
            },
            system: false,
            private: RefCell::new(Vec::new()),
            _host: host,
        };
        lab.setup_peer()?;
        Ok(lab)
    }

    /// The lab's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// PID (host numbering) of the lab's init: `nsenter -t PID -m -n -u -p` enters it.
    pub fn pid(&self) -> i32 {
        self.holder.init_pid()
    }

    /// A `Command` that runs `argv` inside the lab (clean environment, stdin null);
    /// add environment variables to it, then run it with [`Lab::run_command`].
    pub fn command(&self, argv: &[&str]) -> Command {
        self.holder.command(Enter::All, argv)
    }

    /// Runs a command made by [`Lab::command`] (or by `Holder` with other
    /// namespaces); `argv` is used in messages only.
    pub fn run_command(
        &self,
        argv: &[&str],
        cmd: Command,
        input: Option<&[u8]>,
    ) -> Result<Output, LabError> {
        let argv: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
        exec::run(&self.name, &argv, cmd, input, self.options.timeout)
    }

    /// Runs `argv` in the lab; any exit status is `Ok` (check `Output::success`).
    pub fn run(&self, argv: &[&str]) -> Result<Output, LabError> {
        self.run_command(argv, self.command(argv), None)
    }

    /// Runs `argv` in the lab with `input` on stdin.
    pub fn run_input(&self, argv: &[&str], input: &[u8]) -> Result<Output, LabError> {
        self.run_command(argv, self.command(argv), Some(input))
    }

    /// Runs `argv` in the lab; stdout on success, [`LabError::Failed`] otherwise.
    pub fn ok(&self, argv: &[&str]) -> Result<String, LabError> {
        self.run(argv)?.into_stdout()
    }

    /// `ifup ARGS...`, which must succeed.
    pub fn ifup(&self, args: &[&str]) -> Result<String, LabError> {
        self.ok(&prepend("ifup", args))
    }

    /// `ifdown ARGS...`, which must succeed.
    pub fn ifdown(&self, args: &[&str]) -> Result<String, LabError> {
        self.ok(&prepend("ifdown", args))
    }

    /// `ovs-vsctl --timeout=10 ARGS...`, which must succeed.
    pub fn vsctl(&self, args: &[&str]) -> Result<String, LabError> {
        let mut argv = vec!["ovs-vsctl", "--timeout=10"];
        argv.extend_from_slice(args);
        self.ok(&argv)
    }

    /// Replaces `/etc/network/interfaces`.
    pub fn write_interfaces(&self, text: &str) -> Result<(), LabError> {
        self.write_file("/etc/network/interfaces", text)
    }

    /// Writes `text` to `path` inside the lab (mode 0644; parent dirs created).
    /// `path` must lie in a private mount of the lab (`/etc`, `/run`, `/tmp`,
    /// `/var/lib`, `/usr/sbin`, ... or one added with `tmpfs`/`overlay`),
    /// so that a typo can never write to the host.
    pub fn write_file(&self, path: &str, text: &str) -> Result<(), LabError> {
        self.install_bytes(path, text.as_bytes(), "0644")
    }

    /// Writes an executable file (mode 0755; parent dirs created).
    pub fn write_executable(&self, path: &str, text: &str) -> Result<(), LabError> {
        self.install_bytes(path, text.as_bytes(), "0755")
    }

    /// Content of `path` inside the lab.
    pub fn read_file(&self, path: &str) -> Result<String, LabError> {
        self.ok(&["cat", "--", path])
    }

    /// True if `path` exists inside the lab.
    pub fn exists(&self, path: &str) -> Result<bool, LabError> {
        Ok(self.run(&["test", "-e", path])?.success())
    }

    /// True if network interface `name` exists in the lab.
    pub fn link_exists(&self, name: &str) -> Result<bool, LabError> {
        Ok(self.run(&["ip", "link", "show", "dev", name])?.success())
    }

    /// A veth pair: `local` here (left DOWN, like a NIC at boot) and `peer_name` in
    /// `peer` (brought UP). This is how tests get "physical" NICs like `eth0`.
    pub fn add_veth(&self, local: &str, peer: &Lab, peer_name: &str) -> Result<(), LabError> {
        let peer_pid = peer.pid().to_string();
        let argv = [
            "ip", "link", "add", local, "type", "veth", "peer", "name", peer_name, "netns",
            &peer_pid,
        ];
        // Only the network namespace: `netns PID` must be read in the host's PIDs.
        let cmd = self.holder.command(Enter::NetOnly, &argv);
        self.run_command(&argv, cmd, None)?.into_stdout()?;
        peer.ok(&["ip", "link", "set", "dev", peer_name, "up"])?;
        Ok(())
    }

    /// True if `path` lies inside one of the lab's private mounts.
    pub fn is_private(&self, path: &str) -> bool {
        let path = Path::new(path);
        path.is_absolute()
            && !path
                .components()
                .any(|c| c == std::path::Component::ParentDir)
            && self
                .private
                .borrow()
                .iter()
                .any(|dir| path.starts_with(dir))
    }

    /// Polls `check` (every 20 ms) until it returns `Ok(true)`; fails with a
    /// [`LabError::Setup`] naming `what` after `timeout`. Errors of `check` end it.
    pub fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        mut check: impl FnMut() -> Result<bool, LabError>,
    ) -> Result<(), LabError> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if check()? {
                return Ok(());
            }
            if std::time::Instant::now() >= deadline {
                return Err(self.setup_error(format!("{what}: still not true after {timeout:?}")));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Prints the lab's state (OVS, links, routes, end of the OVS logs) to stderr;
    /// done automatically when a test panics while a lab is alive.
    pub fn dump(&self) {
        eprintln!("===== state of lab {} =====", self.name);
        let mut commands: Vec<Vec<&str>> = vec![
            vec!["ip", "-br", "addr"],
            vec!["ip", "route", "show", "table", "all"],
        ];
        if self.system {
            commands.insert(0, vec!["ovs-vsctl", "--timeout=3", "show"]);
            for log in [
                "/var/log/openvswitch/ovs-vswitchd.log",
                "/var/log/openvswitch/ovsdb-server.log",
            ] {
                commands.push(vec!["tail", "-n", "20", log]);
            }
        }
        for argv in commands {
            eprintln!("--- {}", argv.join(" "));
            match self.run(&argv) {
                Ok(out) => eprint!("{}{}", out.stdout, out.stderr),
                Err(e) => eprintln!("{e}"),
            }
        }
    }

    fn install_bytes(&self, path: &str, bytes: &[u8], mode: &str) -> Result<(), LabError> {
        if !self.is_private(path) {
            return Err(self.setup_error(format!(
                "refusing to write {path}: not inside a private mount of the lab ({:?}), \
                 it would change the host",
                self.private.borrow()
            )));
        }
        self.run_input(&["install", "-D", "-m", mode, "/dev/stdin", path], bytes)?
            .into_stdout()
            .map(|_| ())
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.dump();
        }
        if self.system {
            // Stop the daemons cleanly (by pidfile); killing the lab's init below
            // removes whatever else runs in it.
            let _ = self.stop_ovs();
        }
        self.holder.kill();
    }
}

/// The shared hold on the host of a new lab.
fn lab_host_lock(lab: &str) -> Result<HostLock, LabError> {
    HostLock::shared().map_err(|message| LabError::Setup {
        lab: lab.to_string(),
        message,
    })
}

fn prepend<'a>(first: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
    let mut argv = vec![first];
    argv.extend_from_slice(rest);
    argv
}
