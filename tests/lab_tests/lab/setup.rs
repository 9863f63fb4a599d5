//! Building a lab's private file system view: tmpfs mounts, overlays, the bind-mounted
//! binary and the ifupdown hooks (ours: the links of the repository's hook folders).
//! All mounts happen inside the lab's mount namespace (private propagation), so the
//! host never sees them.

use std::path::{Path, PathBuf};

use super::error::LabError;
use super::{Hooks, Lab};

/// Directories every lab (machine or peer) sees as a private copy-on-write overlay of
/// the host's: whatever a tested program writes there (resolv.conf, DHCP leases,
/// rt_tables, ...) stays in the lab.
const OVERLAID_DIRS: &[&str] = &["/etc", "/var/lib"];

/// Directories every lab gets an empty tmpfs on (besides `/run`).
const LAB_TMPFS: &[&str] = &["/tmp"];

/// Directories every machine under test gets a fresh, empty tmpfs on.
const PRIVATE_DIRS: &[&str] = &[
    "/etc/network",
    "/etc/openvswitch",
    "/var/log/openvswitch",
    "/var/lib/openvswitch",
];

/// Directories created in the private `/run`.
const RUN_DIRS: &[&str] = &["/run/network", "/run/openvswitch", "/run/lock"];

/// The hook directories of ifupdown.
pub const HOOK_DIRS: &[&str] = &[
    "/etc/network/if-pre-up.d",
    "/etc/network/if-up.d",
    "/etc/network/if-down.d",
    "/etc/network/if-post-down.d",
];

/// Where the binary appears inside the lab.
pub const BINARY: &str = "/usr/sbin/ifupdown-ovs";

/// The checkout: its `if-pre-up.d/`, `if-up.d/`, `if-down.d/` and `if-post-down.d/`
/// hold our hooks as the package installs them into `/etc/network`.
const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// Debian's own OVS hook script.
pub const DEBIAN_HOOK: &str = "/usr/share/openvswitch/scripts/ifupdown.sh";

impl Lab {
    /// Mounts a fresh, empty tmpfs on `dir` (which must exist) inside the lab.
    pub fn tmpfs(&self, dir: &str) -> Result<(), LabError> {
        self.ok(&["mount", "-t", "tmpfs", "-o", "mode=0755", "lab-tmpfs", dir])?;
        self.private.borrow_mut().push(dir.to_string());
        Ok(())
    }

    /// Makes `dir` writable inside the lab: an overlay whose lower layer is the
    /// host's directory and whose upper layer lives in the lab's `/run/lab`.
    pub fn overlay(&self, dir: &str) -> Result<(), LabError> {
        let base = format!(
            "/run/lab/overlay/{}",
            dir.trim_matches('/').replace('/', "_")
        );
        let upper = format!("{base}/upper");
        let work = format!("{base}/work");
        self.ok(&["mkdir", "-p", &upper, &work])?;
        let opts = format!("lowerdir={dir},upperdir={upper},workdir={work}");
        self.ok(&["mount", "-t", "overlay", "-o", &opts, "lab-overlay", dir])?;
        self.private.borrow_mut().push(dir.to_string());
        Ok(())
    }

    /// Makes the host file `src` appear at `dest` inside the lab (bind mount onto an
    /// empty file; `dest`'s directory must be writable, e.g. via [`Lab::overlay`]).
    /// A file the lab hides (the checkout may lie under `/tmp`, which every lab
    /// replaces) is first copied into the lab's private `/run`, through the holder's
    /// root as the host sees it (`/proc/PID/root`).
    pub fn bind_file(&self, src: &Path, dest: &str) -> Result<(), LabError> {
        let src_text = src
            .to_str()
            .ok_or_else(|| self.setup_error(format!("{src:?}: not UTF-8")))?;
        let inside = if self.exists(src_text)? {
            src_text.to_string()
        } else {
            self.copy_in(src)?
        };
        self.ok(&["touch", dest])?;
        self.ok(&["mount", "--bind", &inside, dest]).map(|_| ())
    }

    /// Copies host file `src` into `/run/lab-files/` of the lab; returns its path there.
    fn copy_in(&self, src: &Path) -> Result<String, LabError> {
        let name = src
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| self.setup_error(format!("{}: no file name", src.display())))?;
        let inside = format!("/run/lab-files/{name}");
        let host_dir = PathBuf::from(format!("/proc/{}/root/run/lab-files", self.pid()));
        std::fs::create_dir_all(&host_dir)
            .and_then(|()| std::fs::copy(src, host_dir.join(name)))
            .map_err(|e| {
                self.setup_error(format!(
                    "{} is hidden inside the lab and cannot be copied into it: {e}",
                    src.display()
                ))
            })?;
        Ok(inside)
    }

    /// Links the hooks `kind` says into `/etc/network/if-*.d/`; removes ours and
    /// Debian's first, so a test can switch hooks in the middle. Ours are the links of
    /// the repository's hook folders (`if-up.d/ifupdown-ovs` -> `/usr/sbin/ifupdown-ovs`,
    /// where the lab puts the built binary), made again in the lab's `/etc/network`.
    pub fn install_hooks(&self, kind: Hooks) -> Result<(), LabError> {
        let ours = self.repo_hooks()?;
        let mut old = ours.clone();
        old.extend(HOOK_DIRS.iter().map(|dir| format!("{dir}/openvswitch")));
        let mut rm = vec!["rm", "-f", "--"];
        rm.extend(old.iter().map(String::as_str));
        self.ok(&rm)?;
        match kind {
            Hooks::None => {}
            Hooks::Ours => {
                if !self.exists(BINARY)? {
                    return Err(self.setup_error(format!(
                        "Hooks::Ours needs {BINARY}: give LabOptions::binary"
                    )));
                }
                for link in &ours {
                    self.ok(&["ln", "-s", BINARY, link])?;
                }
            }
            Hooks::Debian => {
                for dir in ["/etc/network/if-pre-up.d", "/etc/network/if-post-down.d"] {
                    self.ok(&["ln", "-s", DEBIAN_HOOK, &format!("{dir}/openvswitch")])?;
                }
            }
        }
        Ok(())
    }

    /// Where the links of the repository's hook folders go in the lab (the same four
    /// folders as [`HOOK_DIRS`]). Each must point at [`BINARY`]: that is where the lab
    /// (and the package) puts the binary.
    fn repo_hooks(&self) -> Result<Vec<String>, LabError> {
        let mut links = Vec::new();
        for dir in HOOK_DIRS {
            let folder = Path::new(REPO).join(dir.trim_start_matches("/etc/network/"));
            let entries = std::fs::read_dir(&folder)
                .map_err(|e| self.setup_error(format!("{}: {e}", folder.display())))?;
            let mut names: Vec<String> = entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            if names.is_empty() {
                return Err(self.setup_error(format!("{}: no hook", folder.display())));
            }
            for name in names {
                let path = folder.join(&name);
                let target = std::fs::read_link(&path).map_err(|e| {
                    self.setup_error(format!("{}: not a link: {e}", path.display()))
                })?;
                if target != Path::new(BINARY) {
                    return Err(self.setup_error(format!(
                        "{} points at {}, not at {BINARY} where the lab puts the binary",
                        path.display(),
                        target.display()
                    )));
                }
                links.push(format!("{dir}/{name}"));
            }
        }
        Ok(links)
    }

    /// Everything `Lab::new` promises (see the module documentation).
    pub(super) fn setup_system(&self) -> Result<(), LabError> {
        self.setup_run()?;
        for dir in PRIVATE_DIRS {
            self.tmpfs(dir)?;
        }
        for dir in self.options.tmpfs.clone() {
            self.tmpfs(&dir)?;
        }
        let mut dirs = vec!["mkdir", "-p", "/etc/network/interfaces.d"];
        dirs.extend_from_slice(HOOK_DIRS);
        self.ok(&dirs)?;
        self.write_interfaces("# /etc/network/interfaces of the ifupdown-ovs test lab\n")?;
        if let Some(binary) = self.options.binary.clone() {
            self.overlay("/usr/sbin")?;
            self.bind_file(&binary, BINARY)?;
        }
        self.install_hooks(self.options.hooks)
    }

    /// What a peer gets: private `/run`, `/tmp`, `/etc`, `/var/lib`; `lo` up; a hostname.
    pub(super) fn setup_peer(&self) -> Result<(), LabError> {
        self.setup_run()
    }

    /// Private `/run` (overlays keep their upper layers there), `/tmp`, overlays.
    fn setup_run(&self) -> Result<(), LabError> {
        self.tmpfs("/run")?;
        let mut dirs = vec!["mkdir", "-p"];
        dirs.extend_from_slice(RUN_DIRS);
        self.ok(&dirs)?;
        for dir in LAB_TMPFS {
            self.tmpfs(dir)?;
        }
        for dir in OVERLAID_DIRS {
            self.overlay(dir)?;
        }
        self.ok(&["ip", "link", "set", "dev", "lo", "up"])?;
        let host: String = self.name.chars().take(64).collect();
        self.ok(&["hostname", &host]).map(|_| ())
    }

    pub(super) fn setup_error(&self, message: String) -> LabError {
        LabError::Setup {
            lab: self.name.clone(),
            message,
        }
    }
}
