//! Checks that the lab can run here: root, and the programs it drives.

use std::path::{Path, PathBuf};

/// Install line printed when something is missing (what `.ci/run` installs).
pub const INSTALL_HINT: &str = "apt-get install -y --no-install-recommends \
     openvswitch-switch ifupdown iproute2 util-linux mount iputils-ping debianutils \
     hostname procps";

/// Programs the lab itself uses, with the Debian package that provides each.
const TOOLS: &[(&str, &str)] = &[
    ("unshare", "util-linux"),
    ("nsenter", "util-linux"),
    ("mount", "mount"),
    ("ip", "iproute2"),
    ("ifup", "ifupdown"),
    ("ifdown", "ifupdown"),
    ("ifquery", "ifupdown"),
    ("run-parts", "debianutils"),
    ("ovs-vsctl", "openvswitch-switch"),
    ("ovsdb-tool", "openvswitch-switch"),
    ("ovsdb-server", "openvswitch-switch"),
    ("ovs-vswitchd", "openvswitch-switch"),
    ("ping", "iputils-ping"),
    ("hostname", "hostname"),
    ("install", "coreutils"),
    ("sh", "dash"),
];

/// Files the lab needs besides programs.
const FILES: &[(&str, &str)] = &[(
    "/usr/share/openvswitch/vswitch.ovsschema",
    "openvswitch-common",
)];

/// Where to look for programs (the test's own PATH may lack the sbin dirs).
const SEARCH: &[&str] = &[
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

/// Full path of `program`, if installed.
pub fn find_program(program: &str) -> Option<PathBuf> {
    let from_env = std::env::var("PATH").unwrap_or_default();
    from_env
        .split(':')
        .filter(|d| !d.is_empty())
        .chain(SEARCH.iter().copied())
        .map(|dir| Path::new(dir).join(program))
        .find(|p| p.is_file())
}

/// `Err` with a message saying exactly what is missing and how to install it.
pub fn check_root_and_tools() -> Result<(), String> {
    let mut problems = Vec::new();
    if !nix::unistd::geteuid().is_root() {
        problems.push("not running as root (network namespaces and mounts need it)".to_string());
    }
    for (program, package) in TOOLS {
        if find_program(program).is_none() {
            problems.push(format!("program `{program}` missing (package {package})"));
        }
    }
    for (file, package) in FILES {
        if !Path::new(file).is_file() {
            problems.push(format!("file {file} missing (package {package})"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the ifupdown-ovs test lab cannot run here:\n  - {}\nLab tests must run as root with \
             these Debian packages installed:\n  {INSTALL_HINT}\n(.ci/run installs all of it.)",
            problems.join("\n  - ")
        ))
    }
}

/// Panics (so that the test FAILS, never passes silently) unless the lab can run.
pub fn require_root_and_tools() {
    if let Err(message) = check_root_and_tools() {
        panic!("{message}");
    }
}
