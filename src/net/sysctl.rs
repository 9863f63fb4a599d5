//! Sysctls under /proc/sys, read and written directly (no `sysctl` process). Keys
//! use sysctl(8)'s dotted form; a `.` inside an interface name is written `/`, as
//! sysctl does (`net.ipv6.conf.eth0/100.disable_ipv6`).

use std::fmt;
use std::path::{Path, PathBuf};

/// Where /proc/sys is (tests may point elsewhere).
pub const PROC_SYS: &str = "/proc/sys";

/// One setting: `key = value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sysctl {
    /// Dotted key, e.g. `net.ipv6.conf.br0.disable_ipv6`.
    pub key: String,
    pub value: String,
}

/// Why a sysctl could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot set {key}={value} ({}): {source}", path.display())]
pub struct SysctlError {
    pub key: String,
    pub value: String,
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// An interface name as one element of a dotted key.
fn key_part(ifname: &str) -> String {
    ifname.replace('.', "/")
}

impl Sysctl {
    /// `net.ipv6.conf.IFACE.disable_ipv6 = 1` (or 0).
    pub fn disable_ipv6(ifname: &str, disable: bool) -> Sysctl {
        Sysctl {
            key: format!("net.ipv6.conf.{}.disable_ipv6", key_part(ifname)),
            value: if disable { "1" } else { "0" }.into(),
        }
    }

    /// `net.ipv4.conf.IFACE.NAME = value`.
    pub fn ipv4_conf(ifname: &str, name: &str, value: impl ToString) -> Sysctl {
        Sysctl {
            key: format!("net.ipv4.conf.{}.{name}", key_part(ifname)),
            value: value.to_string(),
        }
    }

    /// The file under `root` (normally [`PROC_SYS`]).
    pub fn path_in(&self, root: &Path) -> PathBuf {
        let mut p = root.to_path_buf();
        for part in self.key.split('.') {
            p.push(part.replace('/', "."));
        }
        p
    }

    /// Current value, trimmed.
    pub fn read_in(&self, root: &Path) -> std::io::Result<String> {
        std::fs::read_to_string(self.path_in(root)).map(|s| s.trim().to_string())
    }

    /// Write the value. IPv6 settings are a no-op when the kernel has no IPv6 at
    /// all (`ipv6.disable=1`: there is no `net/ipv6` directory).
    pub fn apply_in(&self, root: &Path) -> Result<(), SysctlError> {
        let path = self.path_in(root);
        if self.key.starts_with("net.ipv6.") && !root.join("net/ipv6").exists() {
            return Ok(());
        }
        std::fs::write(&path, format!("{}\n", self.value)).map_err(|source| SysctlError {
            key: self.key.clone(),
            value: self.value.clone(),
            path,
            source,
        })
    }

    pub fn apply(&self) -> Result<(), SysctlError> {
        self.apply_in(Path::new(PROC_SYS))
    }
}

/// Set an interface's `net.ipv4.conf.IFACE.NAME` back to `net.ipv4.conf.default.NAME`,
/// the value the kernel gives a new device (how ifdown undoes an `ovs_arp_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reset {
    pub key: String,
    pub default_key: String,
}

impl Reset {
    pub fn ipv4_conf(ifname: &str, name: &str) -> Reset {
        Reset {
            key: format!("net.ipv4.conf.{}.{name}", key_part(ifname)),
            default_key: format!("net.ipv4.conf.default.{name}"),
        }
    }

    /// Read the default under `root`, write it to the key.
    pub fn apply_in(&self, root: &Path) -> Result<(), SysctlError> {
        let from = Sysctl {
            key: self.default_key.clone(),
            value: String::new(),
        };
        let value = from.read_in(root).map_err(|source| SysctlError {
            key: self.key.clone(),
            value: format!("(value of {})", self.default_key),
            path: from.path_in(root),
            source,
        })?;
        Sysctl {
            key: self.key.clone(),
            value,
        }
        .apply_in(root)
    }

    pub fn apply(&self) -> Result<(), SysctlError> {
        self.apply_in(Path::new(PROC_SYS))
    }
}

impl fmt::Display for Reset {
    /// As the equivalent shell: `sysctl -w KEY="$(sysctl -n DEFAULT)"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "sysctl -w {}=\"$(sysctl -n {})\"",
            self.key, self.default_key
        )
    }
}

impl fmt::Display for Sysctl {
    /// As the equivalent command: `sysctl -w KEY=VALUE`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sysctl -w {}={}", self.key, self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_paths() {
        let s = Sysctl::disable_ipv6("eth0.100", true);
        assert_eq!(s.key, "net.ipv6.conf.eth0/100.disable_ipv6");
        assert_eq!(
            s.to_string(),
            "sysctl -w net.ipv6.conf.eth0/100.disable_ipv6=1"
        );
        assert_eq!(
            s.path_in(Path::new("/proc/sys")),
            PathBuf::from("/proc/sys/net/ipv6/conf/eth0.100/disable_ipv6")
        );
        assert_eq!(
            Sysctl::ipv4_conf("br0", "arp_ignore", 1).key,
            "net.ipv4.conf.br0.arp_ignore"
        );
    }

    #[test]
    fn writes_and_reads() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("net/ipv6/conf/br0");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("disable_ipv6"), "0\n").unwrap();
        let s = Sysctl::disable_ipv6("br0", true);
        s.apply_in(root.path()).unwrap();
        assert_eq!(s.read_in(root.path()).unwrap(), "1");
        // a device that does not exist: an error naming key and path
        let e = Sysctl::disable_ipv6("nope", true)
            .apply_in(root.path())
            .unwrap_err();
        assert!(
            e.to_string().contains("net.ipv6.conf.nope.disable_ipv6=1"),
            "{e}"
        );
    }

    #[test]
    fn reset_copies_the_default() {
        let root = tempfile::tempdir().unwrap();
        for (dev, v) in [("default", "2\n"), ("p1", "0\n")] {
            let d = root.path().join("net/ipv4/conf").join(dev);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("arp_announce"), v).unwrap();
        }
        let r = Reset::ipv4_conf("p1", "arp_announce");
        assert_eq!(
            r.to_string(),
            "sysctl -w net.ipv4.conf.p1.arp_announce=\"$(sysctl -n net.ipv4.conf.default.arp_announce)\""
        );
        r.apply_in(root.path()).unwrap();
        let now = Sysctl::ipv4_conf("p1", "arp_announce", "")
            .read_in(root.path())
            .unwrap();
        assert_eq!(now, "2");
        let e = Reset::ipv4_conf("p1", "arp_ignore")
            .apply_in(root.path())
            .unwrap_err();
        assert!(e.to_string().contains("default.arp_ignore"), "{e}");
    }

    #[test]
    fn no_ipv6_in_kernel_is_fine() {
        let root = tempfile::tempdir().unwrap();
        Sysctl::disable_ipv6("br0", true)
            .apply_in(root.path())
            .unwrap();
        assert!(
            Sysctl::ipv4_conf("br0", "arp_filter", 1)
                .apply_in(root.path())
                .is_err()
        );
    }
}
