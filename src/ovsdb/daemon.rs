//! Are the OVS daemons running, and starting them the way the system does when they
//! are not — within a time limit, so that a boot never hangs on OVS.
//!
//! Running ([`health`]) means: ovsdb-server listens on `RUNDIR/db.sock` and the
//! process in `RUNDIR/ovs-vswitchd.pid` is alive (ovs-vsctl would otherwise wait
//! its whole timeout for ovs-vswitchd to apply a change). Checking costs no process
//! and never blocks (the connection is made without waiting, so a daemon whose
//! queue of connections is full cannot hold us).
//!
//! Answering ([`answers`]) means more: a daemon can be alive with its socket
//! accepting connections and still never answer (stopped with SIGSTOP, stuck in a
//! loop). ovs-vsctl then waits its whole `--timeout` for every call, once per
//! interface, and `ifup -a` takes minutes. So before OVS is used, each daemon is
//! asked one JSON-RPC question on its own socket, with a short bound
//! ([`PROBE_LIMIT`]), without starting a process: ovsdb-server a `select` of
//! `Open_vSwitch:cur_cfg` on `db.sock` (the value tells a busy ovs-vswitchd from
//! a hung one, see [`answers`]), ovs-vswitchd `version` on its unixctl socket
//! `RUNDIR/ovs-vswitchd.PID.ctl` (what `ovs-appctl version` asks). Any reply will
//! do. A daemon that does not reply in time is [`Hung`], which names it. A full
//! queue of connections is tried again within the bound ([`query`]): busy, not
//! hung, unless it stays full. [`query`] also serves the hook's reads of OVSDB
//! ([`super::state::Observed::read_direct`]).
//!
//! Starting: `systemctl start --no-block openvswitch-switch.service` when systemd runs
//! (`/run/systemd/system` exists), else `/etc/init.d/openvswitch-switch start` (with
//! `READ_INTERFACES=no`, so the init script does not itself run `ifup` on the
//! bridges we are bringing up), else `service openvswitch-switch start`. Then we wait
//! until both daemons answer, at most the limit. A failed attempt is remembered for
//! the rest of the same `ifup`/`ifdown` run (`session`), so `ifup -a` with OVS broken
//! waits once, not once per interface.

use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::socket::{AddressFamily, SockFlag, SockType, UnixAddr, connect, socket};

use crate::sys::process::{ProcessError, failure_line, run_bounded};

/// Default run directory of the OVS daemons.
pub const RUNDIR: &str = "/run/openvswitch";
/// How long we wait for OVS to start.
pub const START_LIMIT: Duration = Duration::from_secs(20);
/// How long we still look after the start command failed.
const GRACE: Duration = Duration::from_secs(2);
/// How long each daemon may take to answer [`answers`]' question. Generous for a
/// daemon that is busy, short against `ifup -a`'s whole bound.
pub const PROBE_LIMIT: Duration = Duration::from_secs(5);
/// Where a failed start is remembered for the rest of one ifup/ifdown run.
pub const FAILED_MARK: &str = "/run/network/ifupdown-ovs.start-failed";

/// What is missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    Running,
    Down(String),
}

/// Check the daemons under `rundir`. A socket whose queue of connections is full
/// has a listener: running (whether it answers is [`answers`]' question).
pub fn health(rundir: &Path) -> Health {
    let sock = rundir.join("db.sock");
    match connect_now(&sock) {
        Ok(_) | Err(Errno::EAGAIN) => {}
        Err(e) => {
            return Health::Down(format!(
                "ovsdb-server is not running ({}: {})",
                sock.display(),
                std::io::Error::from(e)
            ));
        }
    }
    let pidfile = rundir.join("ovs-vswitchd.pid");
    if vswitchd_pid(rundir).is_some() {
        Health::Running
    } else {
        Health::Down(format!(
            "ovs-vswitchd is not running (no live process in {})",
            pidfile.display()
        ))
    }
}

/// The live process in `RUNDIR/ovs-vswitchd.pid`.
fn vswitchd_pid(rundir: &Path) -> Option<u32> {
    std::fs::read_to_string(rundir.join("ovs-vswitchd.pid"))
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .filter(|pid| Path::new(&format!("/proc/{pid}")).exists())
}

/// Connect to the Unix socket `path` without waiting: `EAGAIN` when its queue
/// of connections is full (a blocking connect would wait until the daemon
/// accepts, which a hung one never does).
fn connect_now(path: &Path) -> Result<UnixStream, Errno> {
    let fd = socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    connect(fd.as_raw_fd(), &UnixAddr::new(path)?)?;
    let stream = UnixStream::from(fd);
    stream
        .set_nonblocking(false)
        .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(0)))?;
    Ok(stream)
}

/// One of the two OVS daemons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Daemon {
    OvsdbServer,
    Vswitchd,
}

impl std::fmt::Display for Daemon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Daemon::OvsdbServer => "ovsdb-server",
            Daemon::Vswitchd => "ovs-vswitchd",
        })
    }
}

/// A daemon that runs but does not answer.
#[derive(Debug, thiserror::Error)]
#[error(
    "Open vSwitch does not answer: {daemon} {silence}; it is stopped or hung (see /var/log/openvswitch/{daemon}.log; `service openvswitch-switch restart` restarts it)"
)]
pub struct Hung {
    pub daemon: Daemon,
    pub silence: Silence,
}

impl Hung {
    /// Whether the socket could not be reached at all (not there, refused): no
    /// daemon listens, which is not a hang (the caller's other way says why).
    pub fn unreachable(&self) -> bool {
        matches!(&self.silence, Silence::Io { source, .. }
            if matches!(source.kind(), ErrorKind::NotFound | ErrorKind::ConnectionRefused))
    }
}

/// How a daemon failed to answer on `socket`.
#[derive(Debug, thiserror::Error)]
pub enum Silence {
    #[error("gave no reply within {} s on {}", .limit.as_secs_f32(), .socket.display())]
    NoReply { socket: PathBuf, limit: Duration },
    #[error("accepts no connection on {} (its queue is full)", .socket.display())]
    QueueFull { socket: PathBuf },
    #[error("closed {} without a reply", .socket.display())]
    Closed { socket: PathBuf },
    #[error("cannot be asked on {}: {source}", .socket.display())]
    Io {
        socket: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// ovs-vswitchd's question: the unixctl command `version`.
const VERSION: &[u8] = br#"{"id":0,"method":"version","params":[]}"#;

/// Whether both daemons under `rundir` answer a question within `limit` each
/// (ovs-vswitchd only if it runs: [`health`] says when it does not).
///
/// ovs-vswitchd answers between two reconfigurations only: with hundreds of
/// hotplug runs at once it may be busy longer than `limit`. Busy is told from
/// hung by OVSDB's `Open_vSwitch:cur_cfg`, which ovs-vswitchd raises after each
/// change it applied: when it rose while we waited, ovs-vswitchd works (and each
/// ovs-vsctl call still has its own `--timeout`); a stopped or stuck one raises
/// nothing. Nor is a busy ovs-vswitchd waited for ([`ask_working`]): one that
/// does not reply at once but uses CPU meanwhile works.
pub fn answers(rundir: &Path, limit: Duration) -> Result<(), Hung> {
    let db = rundir.join("db.sock");
    let before = cur_cfg(&exchange(Daemon::OvsdbServer, &db, CUR_CFG, limit)?);
    if let Some(pid) = vswitchd_pid(rundir) {
        let ctl = rundir.join(format!("ovs-vswitchd.{pid}.ctl"));
        match ask_working(Daemon::Vswitchd, &ctl, pid, limit) {
            Err(Hung {
                silence: Silence::NoReply { .. },
                ..
            }) if before.is_some()
                && query(rundir, CUR_CFG, limit)
                    .ok()
                    .as_ref()
                    .and_then(cur_cfg)
                    > before => {}
            r => r?,
        }
    }
    Ok(())
}

/// [`ask`] `version` of a daemon whose process is `pid`, but a daemon that
/// does not reply at once and meanwhile works (its CPU time in
/// `/proc/PID/stat` rises, and it is not stopped) is busy, not hung: Ok
/// without waiting for it. ovs-vswitchd answers only between two pieces of
/// work (a reconfiguration, a link that went down with hundreds of ports on
/// the bridge): waiting for it cost a hotplug `ifdown` 50 ms and more per NIC
/// at 250 ports, and ovs-vsctl waits for what it must anyway (`cur_cfg`). A
/// stopped or stuck daemon does not work: it still has `limit` to reply.
fn ask_working(daemon: Daemon, socket: &Path, pid: u32, limit: Duration) -> Result<(), Hung> {
    let hung = |silence| Hung { daemon, silence };
    let socket = socket.to_path_buf();
    let deadline = Instant::now() + limit;
    let cpu = cpu_time(pid);
    let s = connect_or_hung(daemon, &socket, deadline)?;
    let io = |source: std::io::Error, socket: PathBuf| match source.kind() {
        ErrorKind::WouldBlock | ErrorKind::TimedOut => hung(Silence::NoReply { socket, limit }),
        _ => hung(Silence::Io { socket, source }),
    };
    let left = deadline.saturating_duration_since(Instant::now());
    if let Err(e) = s
        .set_write_timeout(Some(left.max(Duration::from_millis(1))))
        .and_then(|()| (&s).write_all(VERSION))
    {
        return Err(io(e, socket));
    }
    let mut byte = [0u8; 1];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(hung(Silence::NoReply { socket, limit }));
        }
        let slice = left.min(Duration::from_millis(20));
        match s
            .set_read_timeout(Some(slice))
            .and_then(|()| (&s).read(&mut byte))
        {
            // any reply will do
            Ok(1..) => return Ok(()),
            Ok(0) => return Err(hung(Silence::Closed { socket })),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                if working(pid, cpu) {
                    return Ok(());
                }
            }
            Err(e) => return Err(io(e, socket)),
        }
    }
}

/// The CPU time (user + system, in clock ticks) and state of process `pid`.
fn cpu_time(pid: u32) -> Option<(u64, char)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // after the command name in parentheses: state, then fields 4..
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let state = fields.first()?.chars().next()?;
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime, state))
}

/// Whether process `pid` used CPU since `before` ([`cpu_time`]) and is not
/// stopped (`T`, `t`) or dead.
fn working(pid: u32, before: Option<(u64, char)>) -> bool {
    match (before, cpu_time(pid)) {
        (Some((was, _)), Some((now, state))) => {
            now > was && !matches!(state, 'T' | 't' | 'Z' | 'X')
        }
        _ => false,
    }
}

/// ovsdb-server's question: `Open_vSwitch:cur_cfg`, ovs-vswitchd's progress.
const CUR_CFG: &[u8] = br#"{"id":0,"method":"transact","params":["Open_vSwitch",{"op":"select","table":"Open_vSwitch","where":[],"columns":["cur_cfg"]}]}"#;

/// `cur_cfg` in a reply to [`CUR_CFG`].
fn cur_cfg(reply: &serde_json::Value) -> Option<i64> {
    reply["result"][0]["rows"][0]["cur_cfg"].as_i64()
}

/// Ask ovsdb-server under `rundir` one JSON-RPC `request` on its own socket,
/// without starting a process (no ovs-vsctl, no schema, no table monitor): the
/// JSON reply within `limit`, the connection and a full queue of connections
/// included. The hook's reads go here ([`super::state::Observed::read_direct`]).
pub fn query(rundir: &Path, request: &[u8], limit: Duration) -> Result<serde_json::Value, Hung> {
    exchange(Daemon::OvsdbServer, &rundir.join("db.sock"), request, limit)
}

/// Connect to `socket`; while its queue of connections is full (`EAGAIN`: a
/// busy daemon, e.g. 250 hotplug runs at once), try again after a short pause
/// that doubles up to 100 ms, until `deadline`. A hung daemon's queue stays
/// full: the wait ends at `deadline` all the same.
pub(super) fn connect_by(socket: &Path, deadline: Instant) -> Result<UnixStream, Errno> {
    let mut pause = Duration::from_millis(2);
    loop {
        match connect_now(socket) {
            Err(Errno::EAGAIN) if Instant::now() + pause < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            r => return r,
        }
    }
}

/// [`connect_by`], its failure told as the daemon's [`Hung`]: a queue still
/// full at `deadline` ([`Silence::QueueFull`]) or another error.
pub(super) fn connect_or_hung(
    daemon: Daemon,
    socket: &Path,
    deadline: Instant,
) -> Result<UnixStream, Hung> {
    connect_by(socket, deadline).map_err(|e| {
        let socket = socket.to_path_buf();
        let silence = match e {
            Errno::EAGAIN => Silence::QueueFull { socket },
            e => Silence::Io {
                socket,
                source: e.into(),
            },
        };
        Hung { daemon, silence }
    })
}

/// The socket as a reader that ends at `deadline`: every read waits at most
/// what is left, and [`Timed::late`] tells a time-out from another error.
struct Timed<'a> {
    s: &'a UnixStream,
    deadline: Instant,
    late: bool,
}

impl Read for Timed<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            self.late = true;
            return Err(ErrorKind::TimedOut.into());
        }
        self.s.set_read_timeout(Some(left))?;
        match self.s.read(buf) {
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                self.late = true;
                Err(e)
            }
            r => r,
        }
    }
}

/// Send `request` to `daemon` on `socket`; the first whole JSON value it sends
/// back within `limit`.
fn exchange(
    daemon: Daemon,
    socket: &Path,
    request: &[u8],
    limit: Duration,
) -> Result<serde_json::Value, Hung> {
    let hung = |silence| Hung { daemon, silence };
    let socket = socket.to_path_buf();
    let deadline = Instant::now() + limit;
    let s = connect_or_hung(daemon, &socket, deadline)?;
    let no_reply = |socket| hung(Silence::NoReply { socket, limit });
    let left = deadline.saturating_duration_since(Instant::now());
    let sent = s
        .set_write_timeout(Some(left.max(Duration::from_millis(1))))
        .and_then(|()| (&s).write_all(request));
    match sent {
        Ok(()) => {}
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
            return Err(no_reply(socket));
        }
        Err(source) => return Err(hung(Silence::Io { socket, source })),
    }
    let mut timed = Timed {
        s: &s,
        deadline,
        late: false,
    };
    let reply = serde_json::Deserializer::from_reader(std::io::BufReader::new(&mut timed))
        .into_iter::<serde_json::Value>()
        .next();
    match reply {
        Some(Ok(v)) => Ok(v),
        _ if timed.late => Err(no_reply(socket)),
        None => Err(hung(Silence::Closed { socket })),
        Some(Err(e)) if e.is_eof() => Err(hung(Silence::Closed { socket })),
        Some(Err(e)) => Err(hung(Silence::Io {
            socket,
            source: std::io::Error::new(ErrorKind::InvalidData, e),
        })),
    }
}

/// OVS could not be made to run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "Open vSwitch is not running: {why}; {tried}. Start it (`service openvswitch-switch start`; see /var/log/openvswitch/ovs-vswitchd.log), then run ifup again"
)]
pub struct NotRunning {
    pub why: String,
    pub tried: String,
}

/// The start command for this system.
pub fn start_command() -> Vec<String> {
    let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect();
    if Path::new("/run/systemd/system").exists() {
        v(&[
            "systemctl",
            "start",
            "--no-block",
            "openvswitch-switch.service",
        ])
    } else if Path::new("/etc/init.d/openvswitch-switch").exists() {
        v(&["/etc/init.d/openvswitch-switch", "start"])
    } else {
        v(&["service", "openvswitch-switch", "start"])
    }
}

/// Make sure OVS runs: start it if needed and wait at most `limit`.
pub fn ensure_running(
    rundir: &Path,
    limit: Duration,
    session: Option<&str>,
) -> Result<(), NotRunning> {
    let why = match health(rundir) {
        Health::Running => return Ok(()),
        Health::Down(why) => why,
    };
    let mark = PathBuf::from(FAILED_MARK);
    if let Some(s) = session
        && std::fs::read_to_string(&mark).is_ok_and(|m| m.trim() == s)
    {
        return Err(NotRunning {
            why,
            tried: "starting it already failed earlier in this run".into(),
        });
    }
    let start = Instant::now();
    let argv = start_command();
    let shown = argv.join(" ");
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]).env("READ_INTERFACES", "no");
    let outcome = run_bounded(&mut cmd, limit);
    // After a successful start command the daemons may still be coming up (and
    // `systemctl --no-block` returns at once): wait up to the limit. After a
    // failed one, only a short grace period: waiting longer would not help.
    let (mut tried, wait) = match &outcome {
        Ok(f) if f.success() => (format!("`{shown}` ran"), limit),
        Ok(f) => (format!("`{shown}` failed: {}", failure_line(f)), GRACE),
        Err(ProcessError::Timeout { limit, .. }) => (
            format!(
                "`{shown}` did not finish within {} s (killed)",
                limit.as_secs()
            ),
            Duration::ZERO,
        ),
        Err(e) => (format!("`{shown}`: {e}"), Duration::ZERO),
    };
    let deadline = Instant::now() + wait.min(limit.saturating_sub(start.elapsed()));
    loop {
        match health(rundir) {
            Health::Running => {
                let _ = std::fs::remove_file(&mark);
                return Ok(());
            }
            Health::Down(now) if Instant::now() >= deadline => {
                if wait == limit {
                    tried.push_str(&format!(
                        ", and it was still down after {} s",
                        start.elapsed().as_secs()
                    ));
                }
                if let Some(s) = session {
                    let _ = std::fs::write(&mark, format!("{s}\n"));
                }
                return Err(NotRunning { why: now, tried });
            }
            Health::Down(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cpu_time_of_this_process_rises_while_it_works() {
        let me = std::process::id();
        let before = super::cpu_time(me);
        assert!(matches!(before, Some((_, 'R' | 'S'))), "{before:?}");
        let start = std::time::Instant::now();
        let mut x = 0u64;
        while !super::working(me, before) {
            x = x.wrapping_add(std::hint::black_box(1));
            assert!(start.elapsed() < std::time::Duration::from_secs(5), "{x}");
        }
        assert!(!super::working(1 << 30, before));
    }

    use super::*;
    use std::io::{Read, Write};
    use std::os::unix::net::UnixListener;

    #[test]
    fn health_needs_socket_and_vswitchd() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(health(dir.path()), Health::Down(w) if w.contains("ovsdb-server")));
        let _l = UnixListener::bind(dir.path().join("db.sock")).unwrap();
        assert!(matches!(health(dir.path()), Health::Down(w) if w.contains("ovs-vswitchd")));
        std::fs::write(
            dir.path().join("ovs-vswitchd.pid"),
            format!("{}\n", std::process::id()),
        )
        .unwrap();
        assert_eq!(health(dir.path()), Health::Running);
        std::fs::write(dir.path().join("ovs-vswitchd.pid"), "999999999\n").unwrap();
        assert!(matches!(health(dir.path()), Health::Down(_)));
    }

    /// A daemon on `dir/name` that reads one request and, if `reply`, answers
    /// it in two pieces.
    fn daemon(dir: &Path, name: &str, reply: bool) -> std::thread::JoinHandle<()> {
        let l = UnixListener::bind(dir.join(name)).unwrap();
        std::thread::spawn(move || {
            let (mut c, _) = l.accept().unwrap();
            let mut buf = [0u8; 256];
            let _ = c.read(&mut buf);
            if reply {
                // (a reader may leave after the first byte: ovs-vswitchd's)
                let _ = c.write_all(br#"{"id":0,"res"#);
                std::thread::sleep(Duration::from_millis(20));
                let _ = c.write_all(br#"ult":[],"error":null}"#);
            } else {
                std::thread::sleep(Duration::from_millis(500));
            }
        })
    }

    #[test]
    fn answers_asks_each_daemon_on_its_socket() {
        let dir = tempfile::tempdir().unwrap();
        let pid = std::process::id();
        std::fs::write(dir.path().join("ovs-vswitchd.pid"), format!("{pid}\n")).unwrap();
        let a = daemon(dir.path(), "db.sock", true);
        let b = daemon(dir.path(), &format!("ovs-vswitchd.{pid}.ctl"), true);
        answers(dir.path(), Duration::from_secs(5)).unwrap();
        a.join().unwrap();
        b.join().unwrap();
    }

    #[test]
    fn a_silent_daemon_is_hung_and_named() {
        let dir = tempfile::tempdir().unwrap();
        // a process that does not work: not busy, silent
        let mut idle = std::process::Command::new("sleep")
            .arg("10")
            .spawn()
            .unwrap();
        let pid = idle.id();
        std::fs::write(dir.path().join("ovs-vswitchd.pid"), format!("{pid}")).unwrap();
        let a = daemon(dir.path(), "db.sock", true);
        let _b = daemon(dir.path(), &format!("ovs-vswitchd.{pid}.ctl"), false);
        let start = Instant::now();
        let e = answers(dir.path(), Duration::from_millis(200)).unwrap_err();
        assert!(start.elapsed() < Duration::from_secs(2));
        a.join().unwrap();
        assert_eq!(e.daemon, Daemon::Vswitchd);
        let s = e.to_string();
        assert!(
            s.starts_with(
                "Open vSwitch does not answer: ovs-vswitchd gave no reply within 0.2 s on "
            ),
            "{s}"
        );
        assert!(s.contains("service openvswitch-switch restart"), "{s}");
        let _ = idle.kill();
        let _ = idle.wait();
        // a listener that never accepts: connecting works, no reply comes
        let dir = tempfile::tempdir().unwrap();
        let _l = UnixListener::bind(dir.path().join("db.sock")).unwrap();
        let e = answers(dir.path(), Duration::from_millis(100)).unwrap_err();
        assert_eq!(e.daemon, Daemon::OvsdbServer);
        assert!(matches!(e.silence, Silence::NoReply { .. }), "{e}");
        // no socket at all
        let dir = tempfile::tempdir().unwrap();
        let e = answers(dir.path(), Duration::from_millis(100)).unwrap_err();
        assert!(matches!(e.silence, Silence::Io { .. }), "{e}");
    }

    #[test]
    fn running_needs_no_start() {
        let dir = tempfile::tempdir().unwrap();
        let _l = UnixListener::bind(dir.path().join("db.sock")).unwrap();
        std::fs::write(
            dir.path().join("ovs-vswitchd.pid"),
            format!("{}", std::process::id()),
        )
        .unwrap();
        assert_eq!(
            ensure_running(dir.path(), Duration::from_millis(1), None),
            Ok(())
        );
    }

    #[test]
    fn message_says_what_to_do() {
        let e = NotRunning {
            why: "ovsdb-server is not running".into(),
            tried: "`x` failed".into(),
        };
        let s = e.to_string();
        assert!(
            s.starts_with("Open vSwitch is not running: ovsdb-server"),
            "{s}"
        );
        assert!(s.contains("service openvswitch-switch start"), "{s}");
    }
}
