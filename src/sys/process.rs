//! Child processes with limits: every program we run (ovs-vsctl, ip, init scripts,
//! `$(...)` of ovs_extra) is waited for at most a bounded time, and what it prints
//! is read up to a cap, then it is killed. Without both, one stuck or chatty child
//! holds `ifup` (and the boot) forever or grows us without bound.
//!
//! The child leads its own process group, so that the limit holds for what it
//! starts, too: on timeout, and when the output passes its cap, the whole group is
//! killed. Output is read with `poll(2)` in this thread until the limit, never
//! "until EOF": a process the child leaves in the background can hold the pipes
//! open long after the child exits (`sh -c 'sleep 30 & echo x'`). Two policies
//! for such leftovers ([`Leftovers`]):
//!
//! * [`run_bounded`] (every program but the shell of `$(...)`): the child's own
//!   output is complete when it exits, so after its exit we read at most
//!   [`AFTER_EXIT`] more, then stop and leave the leftover alone (a daemon started
//!   by an init script must survive us);
//! * [`run_contained`] (the shell of `$(...)`): as in a shell, the output is
//!   complete only at EOF, so it must come within the limit, or
//!   [`ProcessError::OutputHeld`]; afterwards the whole group is killed, so nothing
//!   a substitution starts outlives it.
//!
//! The child's exit is seen with `waitid(WNOWAIT)`, which leaves it a zombie: its
//! pid, which is the group's id, cannot be reused before we have killed the group.

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{Signal, killpg};
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid};
use nix::unistd::Pid;

/// The most a child may write to its stdout, and to its stderr, before it is
/// killed: 32 MiB. Our largest reader is `ovs-vsctl` listing the Bridge, Port and
/// Interface tables with a few columns (a few hundred bytes per port): 32 MiB is
/// more than 50,000 ports.
pub const OUTPUT_CAP: usize = 32 << 20;

/// How long [`run_bounded`] still reads after the child exited, for output that
/// processes it left behind hold open.
pub const AFTER_EXIT: Duration = Duration::from_secs(1);

/// How often a running child is asked whether it has exited.
const POLL: Duration = Duration::from_millis(2);

/// What a finished child left behind.
#[derive(Debug, Clone)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    pub fn success(&self) -> bool {
        self.status.success()
    }
}

/// Why a child did not finish.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("cannot run {program}: {source}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{program} did not finish within {} s and was killed", .limit.as_secs_f32())]
    Timeout { program: String, limit: Duration },
    #[error(
        "{program} exited, but a process it left in the background kept its output open \
         for more than {} s (killed)",
        .limit.as_secs_f32()
    )]
    OutputHeld { program: String, limit: Duration },
    #[error("{program} wrote more than {} to {stream} and was killed", show_bytes(*.cap))]
    TooMuchOutput {
        program: String,
        stream: &'static str,
        cap: usize,
    },
}

/// `n` bytes for messages: in MiB or KiB when it is a whole number of them.
pub fn show_bytes(n: usize) -> String {
    match n {
        n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
        n => format!("{n} bytes"),
    }
}

/// What happens to processes the child leaves behind (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Leftovers {
    /// Read [`AFTER_EXIT`] more after the child's exit, then leave them alone.
    Tolerate,
    /// The output must reach EOF within the limit; then kill the whole group.
    Contain,
}

#[derive(Debug, Clone, Copy)]
struct Bounds {
    limit: Duration,
    cap: usize,
    leftovers: Leftovers,
}

/// Make `cmd` start detached: in a session and process group of its own (so
/// that neither a hang-up of the asking terminal nor a kill of its process group
/// reaches it), stdin from /dev/null. For the processes that outlive the one
/// that starts them: the OVSPort announcer, the revert timer of `reload --try`.
pub fn detach(cmd: &mut Command) -> &mut Command {
    // SAFETY: setsid is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            nix::unistd::setsid()
                .map(|_| ())
                .map_err(std::io::Error::from)
        });
    }
    cmd.stdin(Stdio::null())
}

/// Run `cmd` (stdin closed, stdout and stderr captured) for at most `limit`,
/// reading at most [`OUTPUT_CAP`] of each stream.
pub fn run_bounded(cmd: &mut Command, limit: Duration) -> Result<Finished, ProcessError> {
    let b = Bounds {
        limit,
        cap: OUTPUT_CAP,
        leftovers: Leftovers::Tolerate,
    };
    run(cmd, None, b)
}

/// [`run_bounded`] with `input` written to the child's stdin (then closed), as
/// `ip -batch -` wants.
pub fn run_bounded_input(
    cmd: &mut Command,
    input: &[u8],
    limit: Duration,
) -> Result<Finished, ProcessError> {
    let b = Bounds {
        limit,
        cap: OUTPUT_CAP,
        leftovers: Leftovers::Tolerate,
    };
    run(cmd, Some(input), b)
}

/// Run `cmd` like a shell's command substitution: its output must be complete
/// (EOF) within `limit`, at most `cap` bytes per stream, and every process of its
/// group is killed when it is done.
pub fn run_contained(
    cmd: &mut Command,
    limit: Duration,
    cap: usize,
) -> Result<Finished, ProcessError> {
    let b = Bounds {
        limit,
        cap,
        leftovers: Leftovers::Contain,
    };
    run(cmd, None, b)
}

/// How watching a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// Exited, and its output reached EOF.
    Done,
    /// Exited; leftovers still hold the output, and we stop reading.
    Abandoned,
    /// Exited; leftovers held the output until the limit.
    Held,
    /// Still running at the limit.
    Timeout,
    /// Wrote more than the cap to this stream.
    TooMuch(&'static str),
}

fn run(cmd: &mut Command, input: Option<&[u8]>, b: Bounds) -> Result<Finished, ProcessError> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let mut child = cmd
        .process_group(0)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| ProcessError::Spawn {
            program: program.clone(),
            source,
        })?;
    let mut io = Pipes::take(&mut child, input, b.cap);
    let end = watch(&child, &mut io, b);
    let group = i32::try_from(child.id()).ok().map(Pid::from_raw);
    let kill_group = || {
        if let Some(g) = group {
            let _ = killpg(g, Signal::SIGKILL);
        }
    };
    let leftovers_die = match end {
        End::Done => b.leftovers == Leftovers::Contain,
        End::Abandoned => false,
        End::Held | End::Timeout | End::TooMuch(_) => true,
    };
    if leftovers_die {
        kill_group();
    }
    drop(io.input.take());
    if end == End::Abandoned {
        log::warn!(
            "{program} exited, but a process it left behind keeps its output open; not read further"
        );
    }
    if matches!(end, End::Timeout | End::TooMuch(_)) {
        let _ = child.kill();
    }
    let status = child.wait();
    match end {
        End::Timeout => Err(ProcessError::Timeout {
            program,
            limit: b.limit,
        }),
        End::Held => Err(ProcessError::OutputHeld {
            program,
            limit: b.limit,
        }),
        End::TooMuch(stream) => Err(ProcessError::TooMuchOutput {
            program,
            stream,
            cap: b.cap,
        }),
        End::Done | End::Abandoned => Ok(Finished {
            status: status.map_err(|source| ProcessError::Spawn { program, source })?,
            stdout: String::from_utf8_lossy(&io.out.buf).into_owned(),
            stderr: String::from_utf8_lossy(&io.err.buf).into_owned(),
        }),
    }
}

/// Read (and feed) the child until it is done or a bound is reached.
fn watch(child: &Child, io: &mut Pipes, b: Bounds) -> End {
    let deadline = Instant::now() + b.limit;
    let mut exited: Option<Instant> = None;
    loop {
        if exited.is_none() && has_exited(child) {
            exited = Some(Instant::now());
        }
        let now = Instant::now();
        let stop_reading = match (exited, b.leftovers) {
            (Some(t), Leftovers::Tolerate) => (t + AFTER_EXIT).min(deadline),
            _ => deadline,
        };
        match exited {
            Some(_) if io.closed() => return End::Done,
            Some(_) if now >= stop_reading => {
                return match b.leftovers {
                    Leftovers::Tolerate => End::Abandoned,
                    Leftovers::Contain => End::Held,
                };
            }
            None if now >= deadline => return End::Timeout,
            Some(_) => {}
            None => {}
        }
        let wait = match exited {
            Some(_) => stop_reading - now,
            None => POLL.min(deadline - now),
        };
        if let Err(stream) = io.pump(wait) {
            return End::TooMuch(stream);
        }
    }
}

/// Whether the child has exited, leaving it to be reaped (see the module doc).
fn has_exited(child: &Child) -> bool {
    let Ok(pid) = i32::try_from(child.id()) else {
        return true;
    };
    let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
    match waitid(Id::Pid(Pid::from_raw(pid)), flags) {
        Ok(WaitStatus::StillAlive) | Err(nix::errno::Errno::EINTR) => false,
        Ok(_) | Err(_) => true,
    }
}

/// One captured output stream.
struct Stream {
    name: &'static str,
    file: Option<File>,
    buf: Vec<u8>,
}

/// The child's input still to be written.
struct Feed {
    file: File,
    data: Vec<u8>,
    at: usize,
}

/// The child's pipes, non-blocking, so that one thread can serve all three.
struct Pipes {
    out: Stream,
    err: Stream,
    input: Option<Feed>,
    cap: usize,
}

/// Our end of a pipe as a non-blocking file (None if it cannot be made so: then
/// a read could block, and the stream is not read).
fn nonblocking(fd: impl Into<OwnedFd>) -> Option<File> {
    use nix::fcntl::{FcntlArg, OFlag, fcntl};
    let fd: OwnedFd = fd.into();
    let flags = OFlag::from_bits_truncate(fcntl(&fd, FcntlArg::F_GETFL).ok()?);
    fcntl(&fd, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK)).ok()?;
    Some(File::from(fd))
}

impl Pipes {
    fn take(child: &mut Child, input: Option<&[u8]>, cap: usize) -> Pipes {
        let stream = |name, fd: Option<OwnedFd>| Stream {
            name,
            file: fd.and_then(nonblocking),
            buf: Vec::new(),
        };
        let input = input.zip(child.stdin.take()).and_then(|(data, w)| {
            Some(Feed {
                file: nonblocking(w)?,
                data: data.to_vec(),
                at: 0,
            })
        });
        Pipes {
            out: stream("stdout", child.stdout.take().map(OwnedFd::from)),
            err: stream("stderr", child.stderr.take().map(OwnedFd::from)),
            input,
            cap,
        }
    }

    /// Both output streams reached EOF.
    fn closed(&self) -> bool {
        self.out.file.is_none() && self.err.file.is_none()
    }

    /// Wait up to `wait` for the pipes, then read and write what they allow. Err:
    /// the stream that passed the cap.
    fn pump(&mut self, wait: Duration) -> Result<(), &'static str> {
        let timeout = PollTimeout::try_from(wait).unwrap_or(PollTimeout::MAX);
        let mut fds: Vec<PollFd> = [&self.out, &self.err]
            .into_iter()
            .filter_map(|s| s.file.as_ref())
            .map(|f| PollFd::new(f.as_fd(), PollFlags::POLLIN))
            .collect();
        if let Some(f) = &self.input {
            fds.push(PollFd::new(f.file.as_fd(), PollFlags::POLLOUT));
        }
        if fds.is_empty() {
            std::thread::sleep(wait);
        } else {
            // EINTR or any other error: the loop comes back here.
            let _ = poll(&mut fds, timeout);
        }
        drop(fds);
        self.feed();
        self.out.drain(self.cap)?;
        self.err.drain(self.cap)
    }

    /// Write what the input pipe takes; close it when all is written or the child
    /// does not read it.
    fn feed(&mut self) {
        let Some(f) = &mut self.input else { return };
        loop {
            match f.file.write(&f.data[f.at..]) {
                Ok(n) if n > 0 && f.at + n < f.data.len() => f.at += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                // all written, or the reader is gone: close
                Ok(_) | Err(_) => break,
            }
        }
        self.input = None;
    }
}

impl Stream {
    /// Read what is there, up to EOF (then the stream is closed) or `cap`.
    fn drain(&mut self, cap: usize) -> Result<(), &'static str> {
        let Some(f) = &mut self.file else {
            return Ok(());
        };
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match f.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) if self.buf.len() + n > cap => return Err(self.name),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(_) => break,
            }
        }
        self.file = None;
        Ok(())
    }
}

/// One line describing a failed child: its first stderr line, else its exit status.
pub fn failure_line(f: &Finished) -> String {
    match f.stderr.lines().map(str::trim).find(|l| !l.is_empty()) {
        Some(l) => l.to_string(),
        None => format!("{}", f.status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_output_and_status() {
        let f = run_bounded(
            Command::new("/bin/sh").args(["-c", "echo out; echo err >&2; exit 3"]),
            Duration::from_secs(5),
        )
        .unwrap();
        assert_eq!(f.stdout, "out\n");
        assert_eq!(f.stderr, "err\n");
        assert_eq!(f.status.code(), Some(3));
        assert_eq!(failure_line(&f), "err");
    }

    #[test]
    fn kills_after_limit() {
        let start = Instant::now();
        let r = run_bounded(
            Command::new("/bin/sh").args(["-c", "sleep 5"]),
            Duration::from_millis(200),
        );
        assert!(matches!(r, Err(ProcessError::Timeout { .. })), "{r:?}");
        assert!(start.elapsed() < Duration::from_secs(3));
    }

    #[test]
    fn input_reaches_the_child_and_output_comes_back() {
        let f = run_bounded_input(
            &mut Command::new("cat"),
            b"rule add x\n",
            Duration::from_secs(5),
        )
        .unwrap();
        assert!(f.success());
        assert_eq!(f.stdout, "rule add x\n");
    }

    #[test]
    fn a_hanging_child_with_input_is_killed() {
        let t = Instant::now();
        let r = run_bounded_input(
            Command::new("sleep").arg("5"),
            b"",
            Duration::from_millis(100),
        );
        assert!(matches!(r, Err(ProcessError::Timeout { .. })), "{r:?}");
        assert!(t.elapsed() < Duration::from_secs(3));
    }

    #[test]
    fn missing_program() {
        let r = run_bounded(
            &mut Command::new("/nonexistent/prog"),
            Duration::from_secs(1),
        );
        assert!(matches!(r, Err(ProcessError::Spawn { .. })));
    }

    #[test]
    fn a_background_child_holding_the_output_does_not_hold_us() {
        let t = Instant::now();
        let f = run_bounded(
            Command::new("/bin/sh").args(["-c", "sleep 30 & echo x"]),
            Duration::from_secs(5),
        )
        .unwrap();
        assert!(
            t.elapsed() < AFTER_EXIT + Duration::from_secs(1),
            "{:?}",
            t.elapsed()
        );
        assert!(f.success());
        assert_eq!(f.stdout, "x\n");
    }

    #[test]
    fn a_contained_child_must_close_its_output_within_the_limit() {
        let t = Instant::now();
        let r = run_contained(
            Command::new("/bin/sh").args(["-c", "sleep 30 & echo x"]),
            Duration::from_millis(300),
            1024,
        );
        assert!(matches!(r, Err(ProcessError::OutputHeld { .. })), "{r:?}");
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    }

    #[test]
    fn a_contained_child_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("pid");
        let script = format!(
            "sleep 30 >/dev/null 2>&1 & echo $! > {}; echo x",
            pidfile.display()
        );
        let f = run_contained(
            Command::new("/bin/sh").args(["-c", &script]),
            Duration::from_secs(5),
            1024,
        )
        .unwrap();
        assert_eq!(f.stdout, "x\n");
        let pid: i32 = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // Killed and reaped by init, or a zombie of ours at most for a moment.
        let gone = (0..100).any(|_| {
            let state = std::fs::read_to_string(format!("/proc/{pid}/stat"));
            let dead = state.map_or(true, |s| s.contains(") Z "));
            if !dead {
                std::thread::sleep(Duration::from_millis(10));
            }
            dead
        });
        assert!(gone, "sleep {pid} still runs");
    }

    #[test]
    fn output_is_capped() {
        let t = Instant::now();
        let r = run_bounded(
            Command::new("/bin/sh").args(["-c", "yes"]),
            Duration::from_secs(20),
        );
        assert!(
            matches!(
                r,
                Err(ProcessError::TooMuchOutput {
                    stream: "stdout",
                    cap: OUTPUT_CAP,
                    ..
                })
            ),
            "{r:?}"
        );
        assert!(t.elapsed() < Duration::from_secs(10));
        let r = run_contained(
            Command::new("/bin/sh").args(["-c", "head -c 2000 /dev/zero >&2"]),
            Duration::from_secs(5),
            1024,
        );
        let e = r.unwrap_err();
        assert_eq!(
            e.to_string(),
            "/bin/sh wrote more than 1 KiB to stderr and was killed"
        );
    }

    #[test]
    fn large_input_and_output_pass_both_ways() {
        let data = vec![b'a'; 3 << 20];
        let f =
            run_bounded_input(&mut Command::new("cat"), &data, Duration::from_secs(10)).unwrap();
        assert_eq!(f.stdout.len(), data.len());
    }

    #[test]
    fn a_child_that_ignores_its_input_is_not_blocked_on() {
        let data = vec![b'a'; 1 << 20];
        let f = run_bounded_input(
            Command::new("/bin/sh").args(["-c", "exec 0<&-; echo done"]),
            &data,
            Duration::from_secs(5),
        )
        .unwrap();
        assert_eq!(f.stdout, "done\n");
    }

    #[test]
    fn bytes_are_shown_in_their_unit() {
        assert_eq!(show_bytes(64 << 10), "64 KiB");
        assert_eq!(show_bytes(OUTPUT_CAP), "32 MiB");
        assert_eq!(show_bytes(1000), "1000 bytes");
    }
}
