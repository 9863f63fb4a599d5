//! `ifupdown-ovs query`: print an interface's options, or list an allow class, the
//! way `ifquery` (ifupdown 0.8) does.
//!
//! `query IFACE` prints `name: value` for every option of every stanza of IFACE, in
//! file order, after `inherits` (a value joined from repeated options spans several
//! lines, as in ifquery). IFACE may be `PHYS=LOGICAL`; `rename` lines apply to it
//! first. Like ifquery, mapping scripts
//! whose pattern matches the name are run (argv `SCRIPT PHYS`, `map` lines on stdin)
//! and give the logical name; unlike ifquery, a script is killed after
//! [`MAPPING_TIMEOUT`]. The values ifquery derives itself from the method are
//! derived here too ([`derive`]: `netmask` and `broadcast` from `address
//! 192.0.2.1/24`, `hwaddress ether X` → `X`, inet6 defaults like `dad-attempts`).
//! Not done: ifquery's use of the state in /run/network/ifstate. A missing or unreadable top file is an error here (ifquery
//! warns and goes on with no stanzas).
//!
//! `query --list [--allow CLASS]` prints the physical names of the class (default
//! `auto`, which always starts with `lo`), patterns expanded against the kernel's
//! interfaces; an entry without a stanza or mapping is reported unknown (exit 1).

use std::io::Write;
use std::process::Command;
use std::time::Duration;

use crate::cli::QueryArgs;
use crate::error::Error;
use crate::interfaces::{Config, Mapping, pattern};
use crate::sys::process::{ProcessError, run_bounded_input};

mod derive;

/// How long a mapping script may run before it is killed (ifupdown waits forever;
/// scripts that probe the network, like guessnet's, take seconds).
pub const MAPPING_TIMEOUT: Duration = Duration::from_secs(60);

pub fn run(args: &QueryArgs) -> Result<i32, Error> {
    let cfg = Config::load(&args.file.interfaces)?;
    for w in &cfg.warnings {
        eprintln!("ifupdown-ovs: {w}");
    }
    let mut out = std::io::stdout().lock();
    let (text, errors) = if args.list {
        if args.iface.is_some() {
            return Err(Error::Usage(
                "either use --list or give an interface, not both".into(),
            ));
        }
        list(&cfg, args.allow.as_deref().unwrap_or("auto"))
    } else {
        let Some(target) = args.iface.as_deref() else {
            return Err(Error::Usage("no interface given".into()));
        };
        query(&cfg, target, args.allow.as_deref(), &run_mapping)
    };
    out.write_all(text.as_bytes()).map_err(|e| Error::Io {
        what: "writing to standard output".into(),
        source: e,
    })?;
    for e in &errors {
        eprintln!("ifupdown-ovs: {e}");
    }
    Ok(if errors.is_empty() { 0 } else { 1 })
}

/// `ifquery --list --allow CLASS`: output text and error messages.
pub fn list(cfg: &Config, class: &str) -> (String, Vec<String>) {
    let listing = cfg.list_with(class, &pattern::system_interfaces(), &pattern::sys_attr);
    let text = listing.names.iter().map(|n| format!("{n}\n")).collect();
    let errors = listing
        .unknown
        .iter()
        .map(|n| format!("unknown interface {n}"))
        .collect();
    (text, errors)
}

/// Whether `phys` is in allow class `class` (patterns expanded; `PHYS=LOGICAL`
/// entries count by their physical part).
fn in_class(cfg: &Config, class: &str, phys: &str) -> bool {
    let devs = pattern::system_interfaces();
    let mut entries: Vec<String> = Vec::new();
    if class == "auto" {
        entries.push("lo".into());
    }
    for e in cfg.allowed(class) {
        entries.extend(pattern::expand(e, &devs, &pattern::sys_attr));
    }
    entries
        .iter()
        .any(|e| e.split_once('=').map_or(e.as_str(), |(p, _)| p) == phys)
}

/// Why a mapping script gave no logical name; the texts are ifquery's (typos
/// included), but for the time limit, which ifquery does not have.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    /// A `mapping` stanza without a `script` line (ifquery prints `(null)`).
    #[error("error trying to executing mapping script (null) on {phys}")]
    NoScript { phys: String },
    #[error(
        "executing \"{script}\" failed: {source}; error trying to executing mapping script {script} on {phys}"
    )]
    Spawn {
        script: String,
        phys: String,
        source: std::io::Error,
    },
    #[error(
        "mapping script {script} on {phys} did not finish within {} s and was killed",
        .limit.as_secs_f32()
    )]
    Timeout {
        script: String,
        phys: String,
        limit: Duration,
    },
    /// Its output was too large, or held open by what it left behind.
    #[error("mapping script {script} on {phys}: {source}")]
    Output {
        script: String,
        phys: String,
        #[source]
        source: ProcessError,
    },
    /// The script exited with a status other than 0.
    #[error("error trying to executing mapping script {script} on {phys}")]
    Failed { script: String, phys: String },
    #[error("no output from mapping script {script} on {phys}")]
    NoOutput { script: String, phys: String },
}

/// Runs a mapping script: `(mapping, physical name)` -> new logical name, or the
/// error that makes ifquery stop.
pub type MappingRunner = dyn Fn(&Mapping, &str) -> Result<String, MappingError>;

/// `ifquery [--allow CLASS] TARGET`: output text and error messages.
pub fn query(
    cfg: &Config,
    target: &str,
    allow: Option<&str>,
    mapper: &MappingRunner,
) -> (String, Vec<String>) {
    let target = cfg.renamed(target, &pattern::system_interfaces(), &pattern::sys_attr);
    let (phys, mut logical) = match target.split_once('=') {
        Some((p, l)) => (p.to_string(), l.to_string()),
        None => (target.to_string(), target.to_string()),
    };
    if let Some(class) = allow
        && !in_class(cfg, class, &phys)
    {
        return (String::new(), Vec::new());
    }
    if !cfg.has_logical(&logical) {
        return (String::new(), vec![format!("unknown interface {logical}")]);
    }
    for m in &cfg.mappings {
        if m.patterns.iter().any(|p| pattern::fnmatch(p, &logical)) {
            match mapper(m, &phys) {
                Ok(new) => logical = new,
                Err(e) => return (String::new(), vec![e.to_string()]),
            }
        }
    }
    let implicit_lo = logical == "lo" && !cfg.loopback_declared;
    let mut found = implicit_lo;
    let mut text = String::new();
    for iface in cfg.stanzas(&logical) {
        found = true;
        let mut options: Vec<(String, String)> = cfg
            .resolved_options(iface)
            .into_iter()
            .map(|o| (o.name, o.value))
            .collect();
        derive::derive(&iface.family, &iface.method, &phys, &mut options);
        for (name, value) in options {
            text.push_str(&format!("{name}: {value}\n"));
        }
    }
    if !found {
        return (text, vec![format!("unknown interface {phys}")]);
    }
    (text, Vec::new())
}

/// Run a mapping script as ifupdown does: argv `[script, physical]`, each `map` line
/// on stdin; it must exit with status 0 and print a line, whose text (trailing white
/// space removed) is the new logical name. What it writes to stderr is passed on.
/// It may run for [`MAPPING_TIMEOUT`].
pub fn run_mapping(m: &Mapping, phys: &str) -> Result<String, MappingError> {
    run_mapping_within(m, phys, MAPPING_TIMEOUT)
}

/// [`run_mapping`] with a time limit of `limit`.
pub fn run_mapping_within(
    m: &Mapping,
    phys: &str,
    limit: Duration,
) -> Result<String, MappingError> {
    let Some(script) = m.script.clone() else {
        return Err(MappingError::NoScript { phys: phys.into() });
    };
    let phys = phys.to_string();
    let input: String = m.maps.iter().map(|l| format!("{l}\n")).collect();
    let finished =
        match run_bounded_input(Command::new(&script).arg(&phys), input.as_bytes(), limit) {
            Ok(f) => f,
            Err(ProcessError::Spawn { source, .. }) => {
                return Err(MappingError::Spawn {
                    script,
                    phys,
                    source,
                });
            }
            Err(ProcessError::Timeout { limit, .. }) => {
                return Err(MappingError::Timeout {
                    script,
                    phys,
                    limit,
                });
            }
            Err(source) => {
                return Err(MappingError::Output {
                    script,
                    phys,
                    source,
                });
            }
        };
    eprint!("{}", finished.stderr);
    if !finished.success() {
        return Err(MappingError::Failed { script, phys });
    }
    if finished.stdout.is_empty() {
        return Err(MappingError::NoOutput { script, phys });
    }
    let first = finished.stdout.split('\n').next().unwrap_or("");
    Ok(first
        .trim_end_matches(crate::interfaces::lines::is_c_space_char)
        .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn cfg(text: &str) -> Config {
        Config::parse_str(text, Path::new("t")).unwrap()
    }

    fn no_map(_: &Mapping, phys: &str) -> Result<String, MappingError> {
        Ok(phys.to_string())
    }

    #[test]
    fn prints_all_stanzas_after_inherits() {
        let c = cfg("iface t inet manual\n mtu 1\n\
             iface x inet manual inherits t\n mtu 2\n a b\n b c\n b d\niface x inet6 auto\n p q\n");
        let (text, errs) = query(&c, "x", None, &no_map);
        assert_eq!(
            text,
            "mtu: 1\n2\na: b\nb: c\nd\np: q\n\
             accept_ra: 2\nrequest_prefix: 0\nll-attempts: 60\nll-interval: 0.1\n"
        );
        assert!(errs.is_empty());
    }

    #[test]
    fn unknown_interface() {
        let c = cfg("iface x inet manual\n");
        let (text, errs) = query(&c, "y", None, &no_map);
        assert_eq!(text, "");
        assert_eq!(errs, vec!["unknown interface y"]);
    }

    #[test]
    fn implicit_lo_prints_nothing() {
        let c = cfg("iface x inet manual\n");
        assert_eq!(query(&c, "lo", None, &no_map), (String::new(), vec![]));
        let c = cfg("iface foo inet loopback\n");
        assert_eq!(
            query(&c, "lo", None, &no_map).1,
            vec!["unknown interface lo"]
        );
    }

    #[test]
    fn physical_equals_logical() {
        let c = cfg("auto eth0=x\niface x inet manual\n a b\n");
        assert_eq!(query(&c, "eth0=x", None, &no_map).0, "a: b\n");
        assert_eq!(
            query(&c, "eth0", None, &no_map).1,
            vec!["unknown interface eth0"]
        );
        // --allow: an interface outside the class is skipped silently
        assert_eq!(
            query(&c, "x", Some("auto"), &no_map),
            (String::new(), vec![])
        );
        assert_eq!(
            query(&c, "x", Some("foo"), &no_map),
            (String::new(), vec![])
        );
        assert_eq!(query(&c, "eth0=x", Some("auto"), &no_map).0, "a: b\n");
    }

    #[test]
    fn rename_applies_first() {
        let c = cfg("rename a=b\nauto b\niface b inet manual\n x y\n");
        assert_eq!(query(&c, "a", None, &no_map), ("x: y\n".into(), vec![]));
        assert_eq!(query(&c, "a", Some("auto"), &no_map).0, "x: y\n");
        let c = cfg("rename a=b=c\niface b inet manual\n x y\n");
        assert_eq!(query(&c, "a", None, &no_map).1, vec!["unknown interface c"]);
    }

    #[test]
    fn mapping_changes_the_logical_name() {
        let c = cfg("mapping eth*\n script s\n map m\niface home inet manual\n a b\n");
        let mapper = |m: &Mapping, phys: &str| {
            assert_eq!(m.maps, vec!["m"]);
            assert_eq!(phys, "eth0");
            Ok("home".to_string())
        };
        assert_eq!(query(&c, "eth0", None, &mapper), ("a: b\n".into(), vec![]));
        // A mapping that gives nothing known: ifquery says unknown interface PHYS.
        assert_eq!(
            query(&c, "eth0", None, &no_map).1,
            vec!["unknown interface eth0"]
        );
        // A failing script stops the query with its message.
        let failing = |_: &Mapping, phys: &str| {
            Err(MappingError::Failed {
                script: "s".into(),
                phys: phys.into(),
            })
        };
        assert_eq!(
            query(&c, "eth0", None, &failing),
            (
                String::new(),
                vec!["error trying to executing mapping script s on eth0".to_string()]
            )
        );
    }

    #[test]
    fn run_mapping_uses_argv_and_stdin() {
        let m = Mapping {
            patterns: vec!["*".into()],
            script: Some("/bin/echo".into()),
            maps: vec![],
            pos: crate::interfaces::Position {
                file: "t".into(),
                line: 1,
            },
        };
        let err = |m: &Mapping| run_mapping(m, "eth0").unwrap_err().to_string();
        assert_eq!(run_mapping(&m, "eth0").unwrap(), "eth0");
        let failing = Mapping {
            script: Some("/bin/false".into()),
            ..m.clone()
        };
        assert_eq!(
            err(&failing),
            "error trying to executing mapping script /bin/false on eth0"
        );
        let silent = Mapping {
            script: Some("/bin/true".into()),
            ..m.clone()
        };
        assert_eq!(
            err(&silent),
            "no output from mapping script /bin/true on eth0"
        );
        let none = Mapping {
            script: None,
            ..m.clone()
        };
        assert_eq!(
            err(&none),
            "error trying to executing mapping script (null) on eth0"
        );
        let missing = Mapping {
            script: Some("/nonexistent/script".into()),
            ..m.clone()
        };
        assert!(
            err(&missing).starts_with("executing \"/nonexistent/script\" failed: "),
            "{}",
            err(&missing)
        );
        assert!(
            err(&missing).ends_with(
                "; error trying to executing mapping script /nonexistent/script on eth0"
            )
        );
        let cat = Mapping {
            script: Some("/bin/cat".into()),
            maps: vec!["first  ".into(), "second".into()],
            ..m.clone()
        };
        // `cat /dev/stdin` echoes the map lines: the first one, trimmed, is the name.
        assert_eq!(run_mapping(&cat, "/dev/stdin").unwrap(), "first");
        // a script that hangs is killed after the limit
        let hang = Mapping {
            script: Some("/bin/sleep".into()),
            ..m
        };
        let started = std::time::Instant::now();
        let e = run_mapping_within(&hang, "5", Duration::from_millis(200)).unwrap_err();
        assert!(matches!(e, MappingError::Timeout { .. }), "{e}");
        assert_eq!(
            e.to_string(),
            "mapping script /bin/sleep on 5 did not finish within 0.2 s and was killed"
        );
        assert!(started.elapsed() < Duration::from_secs(3));
    }

    #[test]
    fn list_uses_class() {
        let c = cfg("auto br0\nallow-ovs br0 nope\niface br0 inet manual\n");
        let (text, errs) = list(&c, "ovs");
        assert_eq!(text, "br0\n");
        assert_eq!(errs, vec!["unknown interface nope"]);
        let (text, _) = list(&c, "auto");
        assert_eq!(text, "lo\nbr0\n");
    }
}
