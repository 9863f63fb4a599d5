//! ovs-vsctl: one transaction per change ([`Transaction`], commands chained with
//! `--`), OVSDB value quoting ([`quote_string`], [`assignment`]), and a runner
//! ([`Vsctl`]) that always passes `--timeout` and also bounds the process itself.
//!
//! When its `--timeout` expires, ovs-vsctl kills itself with SIGALRM and prints
//! only `terminating with signal 14 (Alarm clock)`; the runner reports that as
//! [`VsctlError::Timeout`], which names the time-out, so that the user reads that
//! OVS did not answer in time rather than an alarm clock.

use std::os::unix::process::ExitStatusExt;
use std::process::Command;
use std::time::Duration;

use crate::sys::process::{ProcessError, failure_line, run_bounded};

/// The program, found through `PATH` like Debian's hook does.
pub const PROGRAM: &str = "ovs-vsctl";

/// `--timeout` for every call (seconds). ovs-vsctl waits at most this long for
/// ovsdb-server and, after a change, for ovs-vswitchd to apply it.
pub const DEFAULT_TIMEOUT: u32 = 10;

/// OVSDB string syntax for a value: a JSON string. ovs-vsctl reads `"..."` as exactly
/// that string, so `:` `,` `=` `"` `\` and white space reach the database intact
/// (a bare `mac=00:01:...` fails: `:` separates map keys).
pub fn quote_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Characters ovs-vsctl takes literally in a bare (unquoted) value.
fn is_bare(value: &str) -> bool {
    !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.+/,@".contains(c))
}

/// A `column[:key]` on the left of `=` in an ovs-vsctl `set`.
fn is_column_ref(lhs: &str) -> bool {
    let (col, key) = match lhs.split_once(':') {
        Some((c, k)) => (c, Some(k)),
        None => (lhs, None),
    };
    col.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && col
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && key.is_none_or(|k| !k.is_empty() && !k.contains(['"', ' ', '=']))
}

/// Split `column[:key]=value` (as written in `ovs_options`) into its parts, or None
/// when the word is not such an assignment.
pub fn split_assignment(word: &str) -> Option<(&str, &str)> {
    let (lhs, value) = word.split_once('=')?;
    is_column_ref(lhs).then_some((lhs, value))
}

/// Make a user's `column[:key]=value` word safe for ovs-vsctl, keeping what the user
/// already wrote in OVSDB syntax:
/// - a map value (`column:key=...`) is one string: quoted unless already quoted;
/// - other values stay as written when bare (`tag=5`, `trunks=1,2`), already quoted or
///   bracketed (`"..."`, `[...]`, `{...}`), or escaped with `\` (`mac=00\:01...`);
///   anything else (`:`, spaces, quotes) is quoted as one string.
///
/// Words that are not assignments are returned unchanged.
pub fn assignment(word: &str) -> String {
    let Some((lhs, value)) = split_assignment(word) else {
        return word.to_string();
    };
    let keep = if lhs.contains(':') {
        value.starts_with('"')
    } else {
        is_bare(value) || value.starts_with(['"', '[', '{']) || value.contains('\\')
    };
    if keep {
        word.to_string()
    } else {
        format!("{lhs}={}", quote_string(value))
    }
}

/// One ovs-vsctl transaction: its commands run atomically, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transaction {
    pub commands: Vec<Vec<String>>,
}

impl Transaction {
    pub fn new() -> Self {
        Self::default()
    }

    /// Append one command (its words, without `--`).
    pub fn push<I, S>(&mut self, words: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let cmd: Vec<String> = words.into_iter().map(Into::into).collect();
        if !cmd.is_empty() {
            self.commands.push(cmd);
        }
    }

    pub fn extend(&mut self, other: Transaction) {
        self.commands.extend(other.commands);
    }

    pub fn is_empty(&self) -> bool {
        self.commands.is_empty()
    }

    /// The argv: `ovs-vsctl --timeout=T -- CMD1 -- CMD2 ...`.
    pub fn argv(&self, timeout: u32) -> Vec<String> {
        let mut argv = vec![PROGRAM.to_string(), format!("--timeout={timeout}")];
        for c in &self.commands {
            argv.push("--".into());
            argv.extend(c.iter().cloned());
        }
        argv
    }
}

/// Why an ovs-vsctl call failed.
#[derive(Debug, thiserror::Error)]
pub enum VsctlError {
    #[error("{0}")]
    Process(#[from] ProcessError),
    #[error("ovs-vsctl failed: {message}")]
    Failed { message: String },
    /// Its `--timeout` expired (it died of SIGALRM).
    #[error(
        "ovs-vsctl got no answer from Open vSwitch within its time-out of {timeout} s (--timeout={timeout})"
    )]
    Timeout { timeout: u32 },
}

impl VsctlError {
    /// Whether OVS did not answer in time (ovs-vsctl's `--timeout`, or our limit
    /// on the process).
    pub fn timed_out(&self) -> bool {
        matches!(
            self,
            VsctlError::Timeout { .. } | VsctlError::Process(ProcessError::Timeout { .. })
        )
    }
}

/// Runs ovs-vsctl. `program` may be replaced (tests, other install paths).
#[derive(Debug, Clone)]
pub struct Vsctl {
    pub program: String,
    /// Passed as `--timeout`.
    pub timeout: u32,
}

impl Default for Vsctl {
    fn default() -> Self {
        Vsctl {
            program: PROGRAM.to_string(),
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

impl Vsctl {
    /// The process limit: ovs-vsctl's own timeout plus a margin.
    fn limit(&self) -> Duration {
        Duration::from_secs(u64::from(self.timeout) + 5)
    }

    /// Run one transaction; its standard output on success.
    pub fn apply(&self, tx: &Transaction) -> Result<String, VsctlError> {
        let argv = tx.argv(self.timeout);
        self.run(&argv[1..])
    }

    /// Run ovs-vsctl with `args` (after the program name).
    pub fn run<S: AsRef<str>>(&self, args: &[S]) -> Result<String, VsctlError> {
        let mut cmd = Command::new(&self.program);
        cmd.args(args.iter().map(|a| a.as_ref()));
        let f = run_bounded(&mut cmd, self.limit())?;
        if f.success() {
            Ok(f.stdout)
        } else if f.status.signal() == Some(nix::sys::signal::Signal::SIGALRM as i32) {
            Err(VsctlError::Timeout {
                timeout: self.timeout,
            })
        } else {
            Err(VsctlError::Failed {
                message: failure_line(&f),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote_string("00:01:02:03:04:05"), "\"00:01:02:03:04:05\"");
        assert_eq!(quote_string("a \"b\" \\c"), r#""a \"b\" \\c""#);
        assert_eq!(quote_string(""), "\"\"");
        assert_eq!(quote_string("x\ny\u{1}"), "\"x\\ny\\u0001\"");
    }

    #[test]
    fn user_assignments() {
        assert_eq!(assignment("tag=5"), "tag=5");
        assert_eq!(assignment("trunks=1,2,3"), "trunks=1,2,3");
        assert_eq!(assignment("bond_mode=balance-tcp"), "bond_mode=balance-tcp");
        assert_eq!(
            assignment("mac=00:01:02:03:04:05"),
            "mac=\"00:01:02:03:04:05\""
        );
        assert_eq!(
            assignment("mac=\"00:01:02:03:04:05\""),
            "mac=\"00:01:02:03:04:05\""
        );
        assert_eq!(
            assignment(r"mac=00\:01\:02\:03\:04\:05"),
            r"mac=00\:01\:02\:03\:04\:05"
        );
        assert_eq!(assignment("trunks=[1,2]"), "trunks=[1,2]");
        assert_eq!(
            assignment("other_config:lacp-time=fast"),
            "other_config:lacp-time=\"fast\""
        );
        assert_eq!(
            assignment("external-ids:descr=uplink to sw1"),
            "external-ids:descr=\"uplink to sw1\""
        );
        assert_eq!(
            assignment(r#"external_ids:q=say "hi" \o/"#),
            r#"external_ids:q="say \"hi\" \\o/""#
        );
        assert_eq!(
            assignment("options:remote_ip=192.0.2.2"),
            "options:remote_ip=\"192.0.2.2\""
        );
        // not assignments: unchanged
        assert_eq!(assignment("set"), "set");
        assert_eq!(assignment("--id=@x"), "--id=@x");
        assert_eq!(assignment("ofport!=-1"), "ofport!=-1");
        assert_eq!(split_assignment("tag=5"), Some(("tag", "5")));
        assert_eq!(split_assignment("br0"), None);
    }

    #[test]
    fn transaction_argv() {
        let mut tx = Transaction::new();
        assert!(tx.is_empty());
        tx.push(["--may-exist", "add-br", "br0"]);
        tx.push(Vec::<String>::new());
        tx.push(["set", "Bridge", "br0", "datapath_type=netdev"]);
        assert_eq!(
            tx.argv(7),
            [
                "ovs-vsctl",
                "--timeout=7",
                "--",
                "--may-exist",
                "add-br",
                "br0",
                "--",
                "set",
                "Bridge",
                "br0",
                "datapath_type=netdev"
            ]
        );
    }

    #[test]
    fn runner_reports_failure_line() {
        let v = Vsctl {
            program: "/bin/sh".into(),
            timeout: 1,
        };
        assert_eq!(v.run(&["-c", "echo hi"]).unwrap(), "hi\n");
        let e = v
            .run(&["-c", "echo 'ovs-vsctl: no bridge named br9' >&2; exit 1"])
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "ovs-vsctl failed: ovs-vsctl: no bridge named br9"
        );
        assert!(!e.timed_out());
    }

    #[test]
    fn runner_names_the_time_out() {
        let v = Vsctl {
            program: "/bin/sh".into(),
            timeout: 3,
        };
        let e = v
            .run(&[
                "-c",
                "echo 'terminating with signal 14 (Alarm clock)' >&2; kill -ALRM $$",
            ])
            .unwrap_err();
        assert!(e.timed_out());
        assert_eq!(
            e.to_string(),
            "ovs-vsctl got no answer from Open vSwitch within its time-out of 3 s (--timeout=3)"
        );
    }
}
