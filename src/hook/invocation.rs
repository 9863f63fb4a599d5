//! The ifup/ifdown run a hook belongs to. ifupdown tells its hooks neither its
//! `-i FILE` nor its `--state-dir` nor which run they are part of: we walk up our
//! ancestor processes (`/proc/PID/stat`, `/proc/PID/cmdline`) to the nearest
//! `ifup`/`ifdown`/`ifquery` (whose arguments count) and the outermost one (whose
//! pid and start time name the session that [`super::records`] belong to), and
//! read their command lines the way ifupdown 0.8's getopt_long does, and, for
//! `--read-environment`, the variables ifupdown 0.8 then reads from its own
//! environment (`/proc/PID/environ`; its hooks do not see them). Also ifupdown's
//! state: whether it has an interface configured.
//!
//! May use: `sys` (procfs). Nothing else of the crate.

use std::path::{Path, PathBuf};

use crate::sys::procfs;

/// ifupdown's default state directory.
pub const STATE_DIR: &str = "/run/network";

/// The ifup/ifdown run we belong to; `file_override` (`ifupdown-ovs hook -i FILE`)
/// Whether ifupdown has `name` configured: its `ifstate.NAME` is not empty.
pub fn is_configured(state_dir: &Path, name: &str) -> bool {
    if name.contains('/') {
        return false;
    }
    std::fs::read_to_string(state_dir.join(format!("ifstate.{name}")))
        .is_ok_and(|s| !s.trim().is_empty())
}

/// What we learn from the ifup/ifdown process that runs us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// Its `-i FILE`, if given.
    pub file: Option<PathBuf>,
    /// Its `--state-dir`, else /run/network.
    pub state_dir: PathBuf,
    /// Identifies the outermost ifup/ifdown run: `PID:START` (start time from
    /// `/proc/PID/stat`).
    pub session: Option<String>,
    /// The nearest ifup/ifdown (whose `-i` and `--state-dir` are used).
    pub nearest: Option<Caller>,
    /// The outermost one (the session's).
    pub outermost: Option<Caller>,
}

/// An ifup/ifdown/ifquery process among our ancestors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// `ifup`, `ifdown`, ...
    pub prog: String,
    pub pid: u32,
    pub args: IfupdownArgs,
}

impl Caller {
    /// What this ifup/ifdown read from its environment: with `--read-environment`,
    /// see [`ReadEnvironment`]; without, nothing. None when its environment cannot
    /// be read.
    pub fn read_environment(&self) -> Option<ReadEnvironment> {
        if !self.args.read_env {
            return Some(ReadEnvironment::default());
        }
        procfs::environ(self.pid).map(ReadEnvironment::from_vars)
    }
}

/// What ifupdown 0.8's `--read-environment` takes from the environment of ifup
/// (`parse_environment_variables` in its main.c; nothing else, and nothing that
/// changes what its hooks see): `VERBOSE=yes` is `-v`, `CONFIGURE_INTERFACES=no`
/// is `-n`, `EXCLUDE_INTERFACES` holds `--exclude` patterns separated by blanks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadEnvironment {
    pub verbose: bool,
    pub no_act: bool,
    pub exclude: Vec<String>,
}

impl ReadEnvironment {
    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> ReadEnvironment {
        let mut r = ReadEnvironment::default();
        for (k, v) in vars {
            match k.as_str() {
                "VERBOSE" => r.verbose = v == "yes",
                "CONFIGURE_INTERFACES" => r.no_act = v == "no",
                "EXCLUDE_INTERFACES" => {
                    r.exclude = v
                        .split([' ', '\t', '\n'])
                        .filter(|p| !p.is_empty())
                        .map(str::to_string)
                        .collect();
                }
                _ => {}
            }
        }
        r
    }
}

impl Default for Invocation {
    fn default() -> Self {
        Invocation {
            file: None,
            state_dir: PathBuf::from(STATE_DIR),
            session: None,
            nearest: None,
            outermost: None,
        }
    }
}

const IFUPDOWN: [&str; 4] = ["ifup", "ifdown", "ifquery", "ifreload"];

impl Invocation {
    /// The ifup/ifdown run we belong to; `file_override` (`ifupdown-ovs hook -i
    /// FILE`) replaces the interfaces file it names.
    pub fn find(file_override: Option<PathBuf>) -> Invocation {
        let mut inv = Invocation::from_ancestors();
        if let Some(f) = file_override {
            inv.file = Some(f);
        }
        inv
    }

    /// Walk up from our parent to the nearest ifup/ifdown (for its arguments) and the
    /// outermost one (for the session).
    pub fn from_ancestors() -> Invocation {
        let mut inv = Invocation::default();
        let mut pid = std::os::unix::process::parent_id();
        for _ in 0..64 {
            if pid <= 1 {
                break;
            }
            let Some(procfs::ProcStat {
                ppid,
                start_time: start,
            }) = procfs::stat(pid)
            else {
                break;
            };
            let argv = procfs::cmdline(pid);
            let prog = argv
                .first()
                .and_then(|a| Path::new(a).file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if IFUPDOWN.contains(&prog.as_str()) {
                let args = IfupdownArgs::parse(argv.get(1..).unwrap_or_default());
                if inv.nearest.is_none() {
                    let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).ok();
                    inv.file = args.file.clone().map(|f| match &cwd {
                        Some(c) if f.is_relative() => c.join(f),
                        _ => f,
                    });
                    if let Some(d) = &args.state_dir {
                        inv.state_dir = d.clone();
                    }
                    inv.nearest = Some(Caller {
                        prog: prog.clone(),
                        pid,
                        args: args.clone(),
                    });
                }
                inv.session = Some(format!("{pid}:{start}"));
                inv.outermost = Some(Caller { prog, pid, args });
            }
            pid = ppid;
        }
        inv
    }
}

/// What an ifup/ifdown command line asks (ifupdown 0.8's options, read the way
/// its getopt_long reads them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IfupdownArgs {
    /// `-i FILE`, `--interfaces FILE`.
    pub file: Option<PathBuf>,
    /// `--state-dir DIR`.
    pub state_dir: Option<PathBuf>,
    /// `-a`, `--all`.
    pub all: bool,
    /// `--allow CLASS`.
    pub allow: Option<String>,
    /// `--force`.
    pub force: bool,
    /// `-X`, `--exclude PATTERN`.
    pub exclude: Vec<String>,
    /// Some `-o`, `--option NAME=VALUE` (it changes every interface's options).
    pub option: bool,
    /// `--read-environment` (exclusions and more from the environment).
    pub read_env: bool,
    /// Interface arguments.
    pub names: Vec<String>,
}

/// ifupdown's long options; `true`: takes an argument.
const LONG: [(&str, bool); 18] = [
    ("help", false),
    ("version", false),
    ("verbose", false),
    ("all", false),
    ("allow", true),
    ("interfaces", true),
    ("exclude", true),
    ("no-act", false),
    ("no-mappings", false),
    ("no-scripts", false),
    ("no-loopback", false),
    ("force", false),
    ("ignore-errors", false),
    ("option", true),
    ("list", false),
    ("state", false),
    ("read-environment", false),
    ("state-dir", true),
];

impl IfupdownArgs {
    /// Parse an argv without the program name.
    pub fn parse(args: &[String]) -> IfupdownArgs {
        let mut a = IfupdownArgs::default();
        let mut it = args.iter();
        while let Some(w) = it.next() {
            if w == "--" {
                a.names.extend(it.by_ref().cloned());
                break;
            }
            if let Some(long) = w.strip_prefix("--") {
                let (given, val) = match long.split_once('=') {
                    Some((n, v)) => (n, Some(v.to_string())),
                    None => (long, None),
                };
                // getopt_long takes exact names and unambiguous abbreviations
                let exact = LONG.iter().find(|(n, _)| *n == given);
                let mut prefixed = LONG.iter().filter(|(n, _)| n.starts_with(given));
                let found = exact.or_else(|| match (prefixed.next(), prefixed.next()) {
                    (Some(one), None) => Some(one),
                    _ => None,
                });
                let Some((name, takes)) = found else {
                    continue;
                };
                let val = if *takes && val.is_none() {
                    it.next().cloned()
                } else {
                    val
                };
                a.set(name, val);
            } else if let Some(cluster) = w.strip_prefix('-').filter(|c| !c.is_empty()) {
                for (i, c) in cluster.char_indices() {
                    if "Xsio".contains(c) {
                        let rest = &cluster[i + 1..];
                        let val = if rest.is_empty() {
                            it.next().cloned()
                        } else {
                            Some(rest.to_string())
                        };
                        let name = match c {
                            'X' => "exclude",
                            'i' => "interfaces",
                            'o' => "option",
                            _ => "",
                        };
                        a.set(name, val);
                        break;
                    }
                    if c == 'a' {
                        a.all = true;
                    }
                }
            } else {
                a.names.push(w.clone());
            }
        }
        a
    }

    fn set(&mut self, name: &str, val: Option<String>) {
        match name {
            "all" => self.all = true,
            "force" => self.force = true,
            "read-environment" => self.read_env = true,
            "option" => self.option = true,
            "allow" => self.allow = val,
            "interfaces" => self.file = val.map(PathBuf::from),
            "state-dir" => self.state_dir = val.map(PathBuf::from),
            "exclude" => self.exclude.extend(val),
            _ => {}
        }
    }
}

/// `-i FILE` / `-iFILE` / `--interfaces[=]FILE` and `--state-dir[=]DIR` from an
/// ifupdown argv (without the program name).
pub fn parse_ifupdown_args(args: &[String]) -> (Option<PathBuf>, Option<PathBuf>) {
    let a = IfupdownArgs::parse(args);
    (a.file, a.state_dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn finds_interfaces_file_in_ifupdown_args() {
        let p = |a: &[&str]| parse_ifupdown_args(&args(a));
        assert_eq!(p(&["-a"]), (None, None));
        assert_eq!(
            p(&["-i", "/tmp/if", "br0"]).0,
            Some(PathBuf::from("/tmp/if"))
        );
        assert_eq!(p(&["-i/tmp/if"]).0, Some(PathBuf::from("/tmp/if")));
        assert_eq!(p(&["-vi", "/tmp/if"]).0, Some(PathBuf::from("/tmp/if")));
        assert_eq!(p(&["--interfaces=/x", "-a"]).0, Some(PathBuf::from("/x")));
        assert_eq!(p(&["--interfaces", "/x"]).0, Some(PathBuf::from("/x")));
        assert_eq!(p(&["-o", "i=1", "br0"]).0, None, "-o takes an argument");
        assert_eq!(
            p(&["--allow", "-i", "br0"]).0,
            None,
            "--allow takes an argument"
        );
        assert_eq!(
            p(&["--state-dir", "/s", "-a"]),
            (None, Some(PathBuf::from("/s")))
        );
        assert_eq!(p(&["--", "-i", "x"]).0, None);
    }

    #[test]
    fn reads_what_ifup_was_asked() {
        let p = |a: &[&str]| IfupdownArgs::parse(&args(a));
        let a = p(&["-a", "--allow=ovs", "--force", "-X", "eth*", "--exclude=lo"]);
        assert!(a.all && a.force && !a.option && !a.read_env);
        assert_eq!(a.allow.as_deref(), Some("ovs"));
        assert_eq!(a.exclude, ["eth*", "lo"]);
        assert!(a.names.is_empty());
        let a = p(&["-va", "--allow", "br0", "-o", "x=1", "p1", "--", "-p2"]);
        assert!(a.all && a.option);
        assert_eq!(a.allow.as_deref(), Some("br0"));
        assert_eq!(a.names, ["p1", "-p2"]);
        // abbreviations getopt_long accepts; ambiguous ones are nothing
        let a = p(&["--int", "/x", "--read-env", "--al", "y"]);
        assert_eq!(a.file, Some(PathBuf::from("/x")));
        assert!(a.read_env);
        assert!(!a.all && a.allow.is_none());
        assert_eq!(a.names, ["y"]);
        assert!(p(&["--option", "a=b", "br0"]).option);
        assert_eq!(p(&["--option", "a=b", "br0"]).names, ["br0"]);
    }

    #[test]
    fn read_environment_takes_what_ifupdown_takes() {
        let vars = |v: &[(&str, &str)]| {
            ReadEnvironment::from_vars(v.iter().map(|(k, x)| (k.to_string(), x.to_string())))
        };
        let r = vars(&[
            ("PATH", "/bin"),
            ("EXCLUDE_INTERFACES", " lo\teth*\n  vlan7 "),
            ("VERBOSE", "yes"),
            ("IFUPDOWN_br0", "pre-up"),
        ]);
        assert_eq!(r.exclude, ["lo", "eth*", "vlan7"]);
        assert!(r.verbose && !r.no_act);
        let r = vars(&[("VERBOSE", "1"), ("CONFIGURE_INTERFACES", "no")]);
        assert!(!r.verbose && r.no_act && r.exclude.is_empty());
        assert_eq!(vars(&[]), ReadEnvironment::default());
        // without --read-environment nothing is read
        let c = Caller {
            prog: "ifup".into(),
            pid: u32::MAX,
            args: IfupdownArgs::default(),
        };
        assert_eq!(c.read_environment(), Some(ReadEnvironment::default()));
        let c = Caller {
            args: IfupdownArgs {
                read_env: true,
                ..IfupdownArgs::default()
            },
            ..c
        };
        assert_eq!(c.read_environment(), None, "no such process");
        let me = Caller {
            pid: std::process::id(),
            ..c
        };
        assert!(me.read_environment().is_some());
    }

    #[test]
    fn ancestors_of_a_test_are_not_ifupdown() {
        let inv = Invocation::from_ancestors();
        assert_eq!(inv.file, None);
        assert_eq!(inv.state_dir, PathBuf::from(STATE_DIR));
    }

    #[test]
    fn stat_of_self() {
        let ppid = procfs::stat(std::process::id()).unwrap().ppid;
        assert_eq!(ppid, std::os::unix::process::parent_id());
    }

    #[test]
    fn configured_from_state_files() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("ifstate.eth0"), "eth0\n").unwrap();
        std::fs::write(d.path().join("ifstate.eth1"), "").unwrap();
        assert!(is_configured(d.path(), "eth0"));
        assert!(!is_configured(d.path(), "eth1"));
        assert!(!is_configured(d.path(), "eth2"));
        assert!(!is_configured(d.path(), "../x"));
    }
}
