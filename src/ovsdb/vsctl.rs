//! ovs-vsctl: one transaction per change ([`Transaction`], commands chained with
//! `--`), OVSDB value quoting ([`quote_string`], [`assignment`]), and a runner
//! ([`Vsctl`]) that always passes `--timeout` and also bounds the process itself.
//!
//! ovs-vsctl reads its commands only from its command line, and Linux bounds that:
//! all arguments together (with the environment) to `ARG_MAX` (a quarter of the
//! stack limit: 2 MiB with the usual 8 MiB), and each single argument to
//! `MAX_ARG_STRLEN` (128 KiB). A bridge with 10,000 ports is a 2.6 MB transaction,
//! which `execve` refuses with "Argument list too long". So [`Vsctl::apply`] runs a
//! transaction whose arguments exceed [`argv_budget`] (half of `ARG_MAX`, at most
//! [`MAX_ARGV_BYTES`]) as several consecutive transactions, cut between commands
//! ([`Transaction::chunks`]): the commands still run in order, each one in a
//! transaction of its own size, but no longer all or nothing (a failure leaves the
//! chunks before it applied; running `ifup` again completes them). Transactions
//! under the budget (a bridge with up to about 4,000 ports) stay one call. A
//! transaction whose commands refer to each other (`--id=@name`) is never cut, and
//! a single argument over `MAX_ARG_STRLEN` is refused before ovs-vsctl is started
//! ([`VsctlError::TooLong`]).
//!
//! When its `--timeout` expires, ovs-vsctl kills itself with SIGALRM and prints
//! only `terminating with signal 14 (Alarm clock)`; the runner reports that as
//! [`VsctlError::Timeout`], which names the time-out, so that the user reads that
//! OVS did not answer in time rather than an alarm clock.

use std::os::unix::process::ExitStatusExt;
use std::process::Command;
use std::time::{Duration, Instant};

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

/// Split `column[:key]=value` (as written in `ovs_options`) into its parts, or None
/// when the word is not such an assignment (it lives in `sys::words`, where
/// `config` checks the same words).
pub use crate::sys::words::split_assignment;

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

    /// What the arguments of this transaction cost against `ARG_MAX`: each word's
    /// bytes, its NUL and its pointer, with `--` before each command and the
    /// program name and `--timeout=T` first.
    pub fn argv_bytes(&self) -> usize {
        let word = |w: &str| w.len() + 1 + std::mem::size_of::<usize>();
        let head = word(PROGRAM) + word("--timeout=100000");
        head + self
            .commands
            .iter()
            .map(|c| command_bytes(c))
            .sum::<usize>()
    }

    /// This transaction as consecutive transactions whose arguments fit in
    /// `budget` bytes ([`Transaction::argv_bytes`]), cut between commands, in
    /// order; itself alone when it fits. Refused when a single argument is over
    /// [`MAX_ARG_STRLEN`], when one command alone does not fit, or when the
    /// transaction would have to be cut but its commands refer to each other
    /// (`@name`).
    pub fn chunks(&self, budget: usize) -> Result<Vec<Transaction>, VsctlError> {
        if let Some(w) = self
            .commands
            .iter()
            .flatten()
            .find(|w| w.len() >= MAX_ARG_STRLEN)
        {
            return Err(VsctlError::TooLong(TooLong::Argument {
                start: w.chars().take(40).collect(),
                bytes: w.len(),
            }));
        }
        let total = self.argv_bytes();
        if total <= budget {
            return Ok(vec![self.clone()]);
        }
        let refers = |w: &String| w.starts_with('@') || w.contains("=@");
        if self.commands.iter().flatten().any(refers) {
            return Err(VsctlError::TooLong(TooLong::Linked {
                bytes: total,
                budget,
            }));
        }
        let empty = Transaction::new().argv_bytes();
        let mut out: Vec<Transaction> = Vec::new();
        let mut size = empty;
        for c in &self.commands {
            let cost = command_bytes(c);
            if empty + cost > budget {
                return Err(VsctlError::TooLong(TooLong::Command {
                    start: c.join(" ").chars().take(60).collect(),
                    bytes: empty + cost,
                    budget,
                }));
            }
            match out.last_mut() {
                Some(t) if size + cost <= budget => t.commands.push(c.clone()),
                _ => {
                    out.push(Transaction {
                        commands: vec![c.clone()],
                    });
                    size = empty;
                }
            }
            size += cost;
        }
        Ok(out)
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

/// The most one argument may hold, its NUL included (Linux's `MAX_ARG_STRLEN`,
/// 32 pages).
pub const MAX_ARG_STRLEN: usize = 128 * 1024;

/// The most the arguments of one ovs-vsctl call may take, whatever `ARG_MAX` is.
pub const MAX_ARGV_BYTES: usize = 1 << 20;

/// The budget for the arguments of one ovs-vsctl call: half of `ARG_MAX` (the
/// other half is for the environment), at most [`MAX_ARGV_BYTES`].
pub fn argv_budget() -> usize {
    // SAFETY: sysconf only reads a limit of the system.
    let arg_max = unsafe { nix::libc::sysconf(nix::libc::_SC_ARG_MAX) };
    let arg_max = usize::try_from(arg_max).unwrap_or(MAX_ARG_STRLEN);
    (arg_max / 2).clamp(MAX_ARG_STRLEN / 2, MAX_ARGV_BYTES)
}

/// The cost of one command against `ARG_MAX`, with the `--` before it.
fn command_bytes(c: &[String]) -> usize {
    let word = |w: &str| w.len() + 1 + std::mem::size_of::<usize>();
    word("--") + c.iter().map(|w| word(w)).sum::<usize>()
}

/// Why a transaction cannot be passed to ovs-vsctl (see the module documentation).
#[derive(Debug, thiserror::Error)]
pub enum TooLong {
    #[error(
        "one argument is {bytes} bytes, more than the {MAX_ARG_STRLEN} bytes Linux passes \
         in one argument: {start}..."
    )]
    Argument { start: String, bytes: usize },
    #[error(
        "one command takes {bytes} bytes, more than the {budget} bytes of one call: {start}..."
    )]
    Command {
        start: String,
        bytes: usize,
        budget: usize,
    },
    #[error(
        "the transaction takes {bytes} bytes, more than the {budget} bytes of one call, and \
         its commands refer to each other (@name), so it cannot be cut"
    )]
    Linked { bytes: usize, budget: usize },
}

const ONE_SECOND: Duration = Duration::from_secs(1);

/// Whether ovs-vsctl failed before it reached ovsdb-server (its message).
fn not_connected(message: &str) -> bool {
    message.contains("database connection failed") || message.contains("connection attempt failed")
}

/// Up to `pause` more, different in each process, so that runs refused
/// together do not come back together.
fn jitter(pause: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let seed = u64::from(nanos ^ std::process::id().wrapping_mul(2_654_435_761));
    let max = u64::try_from(pause.as_millis()).unwrap_or(1).max(1);
    Duration::from_millis(seed % max)
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
    /// Too long for one command line (see [`TooLong`]).
    #[error("ovs-vsctl cannot be given this transaction: {0}")]
    TooLong(TooLong),
    /// A read asked straight on ovsdb-server's socket got no answer in time
    /// ([`super::state::Observed::read_direct`]).
    #[error(transparent)]
    Unanswered(#[from] super::daemon::Hung),
    /// A transaction spoken straight to ovsdb-server ([`super::native`]) is in
    /// OVSDB, but ovs-vswitchd did not apply it within the time-out.
    #[error(
        "Open vSwitch did not apply the change within the time-out of {timeout} s: ovs-vswitchd did not confirm it (OVSDB has it)"
    )]
    NotApplied { timeout: u32 },
}

impl VsctlError {
    /// Why OVS refused the transaction, when it answered and refused it (not
    /// when it did not answer, or ovs-vsctl could not run).
    pub fn refusal(&self) -> Option<super::refusal::Refusal> {
        match self {
            VsctlError::Failed { message } => Some(super::refusal::Refusal::parse(message)),
            _ => None,
        }
    }

    /// Whether OVS did not answer in time (ovs-vsctl's `--timeout`, or our limit
    /// on the process).
    pub fn timed_out(&self) -> bool {
        matches!(
            self,
            VsctlError::Timeout { .. }
                | VsctlError::Process(ProcessError::Timeout { .. })
                | VsctlError::Unanswered(_)
                | VsctlError::NotApplied { .. }
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

    /// Run one transaction; its standard output on success. A transaction too
    /// long for one command line runs as several, in order
    /// ([`Transaction::chunks`]).
    pub fn apply(&self, tx: &Transaction) -> Result<String, VsctlError> {
        let mut out = String::new();
        for chunk in tx.chunks(argv_budget())? {
            let argv = chunk.argv(self.timeout);
            out.push_str(&self.run(&argv[1..])?);
        }
        Ok(out)
    }

    /// [`Vsctl::apply`] for callers that saw ovsdb-server running just before:
    /// a call that could not connect (`database connection failed`: its queue
    /// of connections was full, with hundreds of hotplug runs at once) is run
    /// again after a short random pause, until the time-out: all attempts
    /// together take at most `--timeout` (each gets what is left). Safe to
    /// repeat: a call that did not connect changed nothing. (ovs-vsctl's own
    /// `--retry` waits a second and more between attempts.)
    pub fn apply_retrying(&self, tx: &Transaction) -> Result<String, VsctlError> {
        let mut out = String::new();
        for chunk in tx.chunks(argv_budget())? {
            out.push_str(&self.run_retrying(&chunk)?);
        }
        Ok(out)
    }

    /// One transaction of [`Vsctl::apply_retrying`].
    fn run_retrying(&self, tx: &Transaction) -> Result<String, VsctlError> {
        let start = Instant::now();
        let total = Duration::from_secs(u64::from(self.timeout));
        let mut pause = Duration::from_millis(20);
        loop {
            let left = total.saturating_sub(start.elapsed());
            let timeout = u32::try_from(left.as_secs()).unwrap_or(self.timeout).max(1);
            let argv = tx.argv(timeout);
            let v = Vsctl {
                program: self.program.clone(),
                timeout,
            };
            match v.run(&argv[1..]) {
                Err(VsctlError::Failed { message })
                    if not_connected(&message) && start.elapsed() + pause + ONE_SECOND < total =>
                {
                    std::thread::sleep(pause + jitter(pause));
                    pause = (pause * 2).min(Duration::from_millis(500));
                }
                r => return r,
            }
        }
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

    /// A stand-in for ovs-vsctl in `dir` that fails `refusals` times without
    /// connecting, then prints its arguments.
    fn flaky(dir: &std::path::Path, refusals: u32) -> Vsctl {
        use std::os::unix::fs::PermissionsExt;
        let prog = dir.join("ovs-vsctl");
        let count = dir.join("count");
        std::fs::write(
            &prog,
            format!(
                "#!/bin/sh\necho x >> {c}\nif [ $(wc -l < {c}) -le {refusals} ]; then\n  echo 'ovs-vsctl: unix:/var/run/openvswitch/db.sock: database connection failed (Protocol error)' >&2; exit 1\nfi\necho \"$@\"\n",
                c = count.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&prog, std::fs::Permissions::from_mode(0o755)).unwrap();
        Vsctl {
            program: prog.display().to_string(),
            timeout: 3,
        }
    }

    #[test]
    fn a_refused_connection_is_tried_again_within_the_time_out() {
        let mut tx = Transaction::new();
        tx.push(["add-port", "br0", "eth1"]);
        let dir = tempfile::tempdir().unwrap();
        let out = flaky(dir.path(), 3).apply_retrying(&tx).unwrap();
        assert!(out.starts_with("--timeout="), "{out}");
        assert!(out.ends_with("-- add-port br0 eth1\n"), "{out}");
        // apply alone does not try again
        let dir = tempfile::tempdir().unwrap();
        let e = flaky(dir.path(), 1).apply(&tx).unwrap_err();
        assert!(e.to_string().contains("database connection failed"), "{e}");
        // refused for good: given up within the time-out, with ovs-vsctl's message
        let dir = tempfile::tempdir().unwrap();
        let start = std::time::Instant::now();
        let e = flaky(dir.path(), 1000).apply_retrying(&tx).unwrap_err();
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "{:?}",
            start.elapsed()
        );
        assert!(e.to_string().contains("database connection failed"), "{e}");
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

    /// A bridge with `n` tagged internal ports, as converge writes it.
    fn bridge_with_ports(n: usize) -> Transaction {
        let mut tx = Transaction::new();
        tx.push(["--may-exist", "add-br", "br0"]);
        for i in 0..n {
            let p = format!("p{i}");
            tx.push(["--may-exist", "add-port", "br0", &p]);
            tx.push(vec![
                "set".to_string(),
                "Port".into(),
                p.clone(),
                format!("tag={}", i % 4000 + 1),
                format!("external_ids:ifupdown-ovs=\"{p}\""),
                "external_ids:ifupdown-ovs-columns=\"tag\"".into(),
            ]);
            tx.push(vec![
                "set".to_string(),
                "Interface".into(),
                p.clone(),
                "type=internal".into(),
                format!("external_ids:ifupdown-ovs=\"{p}\""),
            ]);
        }
        tx
    }

    #[test]
    fn transactions_that_fit_stay_whole() {
        let tx = bridge_with_ports(1000);
        assert!(tx.argv_bytes() < argv_budget(), "{}", tx.argv_bytes());
        assert_eq!(tx.chunks(argv_budget()).unwrap(), std::slice::from_ref(&tx));
    }

    #[test]
    fn long_transactions_are_cut_between_commands_in_order() {
        let tx = bridge_with_ports(10_000);
        assert!(tx.argv_bytes() > 2 << 20, "{}", tx.argv_bytes());
        let budget = argv_budget();
        let chunks = tx.chunks(budget).unwrap();
        assert!(chunks.len() > 1);
        assert!(chunks.iter().all(|c| c.argv_bytes() <= budget));
        let again: Vec<Vec<String>> = chunks.into_iter().flat_map(|c| c.commands).collect();
        assert_eq!(again, tx.commands);
        // references between commands: never cut
        let mut linked = tx.clone();
        linked.push(["--id=@q", "create", "QoS", "type=linux-htb"]);
        linked.push(["set", "Port", "p1", "qos=@q"]);
        let e = linked.chunks(budget).unwrap_err();
        assert!(e.to_string().contains("refer to each other"), "{e}");
        assert_eq!(linked.chunks(usize::MAX).unwrap().len(), 1);
        // one argument over MAX_ARG_STRLEN
        let mut huge = Transaction::new();
        huge.push(vec![
            "set".to_string(),
            "Bridge".into(),
            "br0".into(),
            format!("external_ids:x=\"{}\"", "x".repeat(MAX_ARG_STRLEN)),
        ]);
        let e = huge.chunks(budget).unwrap_err();
        assert!(e.to_string().contains("more than the 131072 bytes"), "{e}");
    }

    #[test]
    fn a_bridge_with_10000_ports_can_be_applied() {
        // `true` stands for ovs-vsctl: what matters is that execve takes the argv
        let v = Vsctl {
            program: "true".into(),
            timeout: 1,
        };
        let tx = bridge_with_ports(10_000);
        v.apply(&tx).unwrap();
    }
}
