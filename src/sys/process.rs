//! Child processes with a time limit: every program we run (ovs-vsctl, ip, init
//! scripts, `$(...)` of ovs_extra) is waited for at most a bounded time, then killed.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

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
}

/// Run `cmd` (stdin closed, stdout and stderr captured) for at most `limit`. The
/// child leads its own process group, so that on timeout its children die with it.
pub fn run_bounded(cmd: &mut Command, limit: Duration) -> Result<Finished, ProcessError> {
    run(cmd, None, limit)
}

/// [`run_bounded`] with `input` written to the child's stdin (then closed), as
/// `ip -batch -` wants.
pub fn run_bounded_input(
    cmd: &mut Command,
    input: &[u8],
    limit: Duration,
) -> Result<Finished, ProcessError> {
    run(cmd, Some(input), limit)
}

/// How often a running child is asked whether it has finished.
const POLL: Duration = Duration::from_millis(2);

fn run(cmd: &mut Command, input: Option<&[u8]>, limit: Duration) -> Result<Finished, ProcessError> {
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
    // A thread writes, so that a child which fills its output pipes before reading
    // all of its input cannot deadlock with us.
    let writer = input.zip(child.stdin.take()).map(|(data, mut w)| {
        let data = data.to_vec();
        std::thread::spawn(move || {
            let _ = w.write_all(&data);
        })
    });
    let out = child.stdout.take().map(reader);
    let err = child.stderr.take().map(reader);
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(POLL),
            Ok(None) | Err(_) => {
                if let Ok(pid) = i32::try_from(child.id()) {
                    let _ = nix::sys::signal::killpg(
                        nix::unistd::Pid::from_raw(pid),
                        nix::sys::signal::Signal::SIGKILL,
                    );
                }
                let _ = child.kill();
                let _ = child.wait();
                return Err(ProcessError::Timeout { program, limit });
            }
        }
    };
    if let Some(w) = writer {
        let _ = w.join();
    }
    let collect = |h: Option<std::thread::JoinHandle<String>>| {
        h.and_then(|h| h.join().ok()).unwrap_or_default()
    };
    Ok(Finished {
        status,
        stdout: collect(out),
        stderr: collect(err),
    })
}

fn reader<R: Read + Send + 'static>(mut r: R) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
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
}
