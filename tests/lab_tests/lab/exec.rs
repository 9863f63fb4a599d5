//! Running one prepared command with a time limit. Output goes to anonymous
//! temporary files, not pipes: a daemon that inherits stdout/stderr can never make
//! us wait. On timeout the whole process group is killed.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use super::error::{LabError, Output};

/// Runs `cmd` (already holding its program and arguments) to completion or until
/// `timeout`. `argv` is only used in messages. `input`, if any, becomes stdin.
pub fn run(
    lab: &str,
    argv: &[String],
    mut cmd: Command,
    input: Option<&[u8]>,
    timeout: Duration,
) -> Result<Output, LabError> {
    let spawn_err = |source| LabError::Spawn {
        lab: lab.to_string(),
        argv: argv.to_vec(),
        source,
    };
    let mut out = tempfile::tempfile().map_err(spawn_err)?;
    let mut err = tempfile::tempfile().map_err(spawn_err)?;
    let stdin = match input {
        Some(bytes) => {
            let mut f = tempfile::tempfile().map_err(spawn_err)?;
            f.write_all(bytes).map_err(spawn_err)?;
            f.seek(SeekFrom::Start(0)).map_err(spawn_err)?;
            Stdio::from(f)
        }
        None => Stdio::null(),
    };
    cmd.stdin(stdin)
        .stdout(out.try_clone().map_err(spawn_err)?)
        .stderr(err.try_clone().map_err(spawn_err)?)
        .process_group(0);
    let mut child = cmd.spawn().map_err(spawn_err)?;
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    let status = loop {
        match child.try_wait().map_err(spawn_err)? {
            Some(status) => break Some(status),
            None if Instant::now() >= deadline => break None,
            None => {
                sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(20));
            }
        }
    };
    let status = match status {
        Some(status) => status,
        None => {
            if let Ok(raw) = i32::try_from(child.id()) {
                let _ = killpg(Pid::from_raw(raw), Signal::SIGKILL);
            }
            let _ = child.wait();
            return Err(LabError::Timeout {
                lab: lab.to_string(),
                argv: argv.to_vec(),
                seconds: timeout.as_secs(),
                stdout: read_all(&mut out),
                stderr: read_all(&mut err),
            });
        }
    };
    Ok(Output {
        lab: lab.to_string(),
        argv: argv.to_vec(),
        status,
        stdout: read_all(&mut out),
        stderr: read_all(&mut err),
    })
}

/// Whole content of a captured output file (lossy UTF-8; empty if unreadable).
fn read_all(file: &mut File) -> String {
    let mut bytes = Vec::new();
    if file.seek(SeekFrom::Start(0)).is_ok() {
        let _ = file.read_to_end(&mut bytes);
    }
    String::from_utf8_lossy(&bytes).into_owned()
}
