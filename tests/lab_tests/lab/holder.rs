//! The process that holds a lab's namespaces open.
//!
//! `unshare --pid --fork --kill-child --mount --net --uts --propagation private
//! --mount-proc` starts a small shell loop as PID 1 of a new PID namespace (it reaps
//! orphans, so detached daemons never linger as zombies). Everything in the lab is
//! entered with `nsenter -t <init>`. Killing that init makes the kernel kill every
//! process of the lab, which frees its mount and network namespaces: nothing can be
//! left behind. `unshare` itself gets `PR_SET_PDEATHSIG`, so even a test process
//! killed with SIGKILL takes its labs with it (note: the signal fires when the
//! *thread* that created the lab ends).

use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::error::LabError;

/// The init loop of a lab: PID 1 must reap orphans; `wait` in dash does.
const INIT_LOOP: &str = "while :; do sleep 3600 & wait; done";

/// Namespaces that a command can enter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enter {
    /// Everything: mount, network, UTS and PID namespace (the normal case).
    All,
    /// Only the network namespace; the command sees the host's files and PIDs.
    NetOnly,
}

/// A running namespace holder.
pub struct Holder {
    unshare: Child,
    init: i32,
}

impl Holder {
    /// Creates the namespaces and waits until the init loop runs in them.
    pub fn spawn(lab: &str) -> Result<Holder, LabError> {
        let setup = |message: String| LabError::Setup {
            lab: lab.to_string(),
            message,
        };
        let mut errors = tempfile::tempfile().map_err(|e| setup(format!("tempfile: {e}")))?;
        let mut cmd = Command::new("unshare");
        cmd.args([
            "--pid",
            "--fork",
            "--kill-child",
            "--mount",
            "--net",
            "--uts",
            "--propagation",
            "private",
            "--mount-proc",
            "--",
            "sh",
            "-c",
            INIT_LOOP,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(
            errors
                .try_clone()
                .map_err(|e| setup(format!("tempfile: {e}")))?,
        );
        // SAFETY: the closure only makes one async-signal-safe syscall (prctl).
        unsafe {
            cmd.pre_exec(|| {
                nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(std::io::Error::from)
            });
        }
        let unshare = cmd
            .spawn()
            .map_err(|e| setup(format!("cannot run unshare: {e}")))?;
        let mut holder = Holder { unshare, init: 0 };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(init) = holder.find_init() {
                holder.init = init;
                return Ok(holder);
            }
            if let Ok(Some(status)) = holder.unshare.try_wait() {
                let mut text = String::new();
                let _ = errors.seek(SeekFrom::Start(0));
                let _ = errors.read_to_string(&mut text);
                return Err(setup(format!(
                    "unshare exited ({status}) before the namespaces were ready: {text}"
                )));
            }
            if Instant::now() >= deadline {
                return Err(setup("namespaces not ready after 10 s".to_string()));
            }
            sleep(Duration::from_millis(2));
        }
    }

    /// The init's PID once it has exec'd the shell (mounts are then complete).
    fn find_init(&self) -> Option<i32> {
        let pid = self.unshare.id();
        let children = fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).ok()?;
        let init: i32 = children.split_whitespace().next()?.parse().ok()?;
        let comm = fs::read_to_string(format!("/proc/{init}/comm")).ok()?;
        (comm.trim() == "sh").then_some(init)
    }

    /// PID (in the host's PID namespace) of the lab's init process.
    pub fn init_pid(&self) -> i32 {
        self.init
    }

    /// A command that runs `argv` inside the namespaces, with a clean environment.
    pub fn command(&self, enter: Enter, argv: &[&str]) -> Command {
        let mut cmd = Command::new("nsenter");
        cmd.arg("-t").arg(self.init.to_string());
        match enter {
            Enter::All => cmd.args(["-m", "-n", "-u", "-p"]),
            Enter::NetOnly => cmd.arg("-n"),
        };
        cmd.arg("--").args(argv);
        cmd.env_clear()
            .env(
                "PATH",
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            )
            .env("LANG", "C.UTF-8")
            .env("HOME", "/root");
        for keep in ["RUST_BACKTRACE", "RUST_LOG", "TERM"] {
            if let Some(value) = std::env::var_os(keep) {
                cmd.env(keep, value);
            }
        }
        cmd
    }

    /// Kills every process of the lab and waits until the namespaces are gone.
    pub fn kill(&mut self) {
        if self.init > 0 {
            // unshare exits once its child, the init, is reaped; the kernel reaps
            // the init only after every other process of the PID namespace is gone.
            let _ = kill(Pid::from_raw(self.init), Signal::SIGKILL);
            let deadline = Instant::now() + Duration::from_secs(10);
            while matches!(self.unshare.try_wait(), Ok(None)) && Instant::now() < deadline {
                sleep(Duration::from_millis(2));
            }
            self.init = 0;
        }
        let _ = self.unshare.kill();
        let _ = self.unshare.wait();
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        self.kill();
    }
}
