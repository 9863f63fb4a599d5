//! `reload --try SECONDS`, `commit` and `rollback`: apply a new interfaces file for a
//! trial period and put the old one back unless the change is confirmed, the way
//! `netplan try` and nmstate's `--no-commit` do (docs/reload.md, "Try, commit,
//! rollback").
//!
//! A try replaces the interfaces file ifupdown reads (`/etc/network/interfaces`) by
//! the file given with `-i`, after checking it in place; saves the old version as the
//! "previous generation" ([`record`]); starts a detached revert timer ([`timer`]);
//! then applies the new file with `ifupdown-ovs reload -i /etc/network/interfaces`
//! (our own binary, through the bounded runner: the reload's own lock, plan and
//! ifupdown bookkeeping stay its business). A revert (at the deadline, by `rollback`,
//! or at once when the reload of the new file fails) keeps the file it replaces as
//! `/etc/network/interfaces.rejected-STAMP` ([`files`]), puts the previous version
//! back, reloads to it, and gives ifupdown back the set of interfaces it had up
//! before the try (`restore_up`). Only the main file is swapped: files it reaches by
//! `source`/`source-directory` belong to both versions and are left alone.
//!
//! Submodules: [`record`] (the pending record and the lock), [`files`] (the
//! interfaces file and its rejected copies), [`timer`] (the detached timer),
//! [`error`] (`TrialError`).
//!
//! The steps are written against [`Host`] (run a reload, start a timer) so that unit
//! tests can run them without a reload or a detached process.

/// `println!` and `eprintln!` that do not panic when the terminal is gone (a hung-up
/// SSH session, whose hangup a try ignores): the try goes on, and the timer covers
/// what nobody reads.
macro_rules! say {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}
macro_rules! say_err {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($t)*);
    }};
}

pub mod error;
pub mod files;
pub mod record;
pub mod timer;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use self::error::TrialError;
use self::record::{Layout, Lock, Pending};
use self::timer::Wake;
use crate::cli::{CommitArgs, RollbackArgs};
use crate::config::lint::{self, CheckEnv, Severity};
use crate::error::Error;
use crate::interfaces::{Config, DEFAULT_FILE, ParseError};
use crate::sys::process::{self, run_bounded};

/// The longest a reload may take (a large file can take many `ifup`s).
pub const RELOAD_LIMIT: Duration = Duration::from_secs(600);

/// What a try needs from the host.
pub trait Host {
    /// Make the running host match `file` (`ifupdown-ovs reload -i FILE`).
    fn reload(&self, file: &Path) -> Result<(), TrialError>;
    /// Start the detached timer of try `id`, to fire at `at`; its pid.
    fn start_timer(&self, layout: &Layout, id: &str, at: u64) -> Result<u32, TrialError>;
    /// Tell the system log about a revert (which nobody may be watching).
    fn notify(&self, line: &str);
    /// What ifupdown has up now, as its state says (`PHYS=LOGICAL`).
    fn up_interfaces(&self) -> Vec<String>;
    /// `PROGRAM -i FILE IFACE` (`ifup` or `ifdown`).
    fn ifupdown(&self, program: &str, file: &Path, iface: &str) -> Result<(), TrialError>;
}

/// The real host: our own binary runs the reload and is the timer.
pub struct Exe {
    pub exe: PathBuf,
}

impl Exe {
    /// This binary. If it was replaced while we ran (a package upgrade during a
    /// trial), the kernel names it `PATH (deleted)`: run the new `PATH`.
    pub fn current() -> Result<Exe, TrialError> {
        let exe = std::env::current_exe().map_err(TrialError::NoExe)?;
        let text = exe.to_string_lossy();
        let exe = match text.strip_suffix(" (deleted)") {
            Some(path) if !exe.exists() => PathBuf::from(path),
            _ => exe,
        };
        Ok(Exe { exe })
    }
}

impl Host for Exe {
    fn reload(&self, file: &Path) -> Result<(), TrialError> {
        wait_reload_idle(&crate::reload::lock_path(), RELOAD_LIMIT);
        let mut cmd = Command::new(&self.exe);
        cmd.arg("reload").arg("-i").arg(file);
        let done = run_bounded(&mut cmd, RELOAD_LIMIT).map_err(|source| TrialError::ReloadRun {
            file: file.to_path_buf(),
            source,
        })?;
        if !done.stdout.trim().is_empty() {
            say!("{}", done.stdout.trim_end());
        }
        if !done.stderr.trim().is_empty() {
            say_err!("{}", done.stderr.trim_end());
        }
        if done.success() {
            Ok(())
        } else {
            Err(TrialError::ReloadFailed {
                file: file.to_path_buf(),
                line: process::failure_line(&done),
            })
        }
    }

    fn start_timer(&self, layout: &Layout, id: &str, at: u64) -> Result<u32, TrialError> {
        timer::spawn(&self.exe, layout, id, at)
    }

    fn up_interfaces(&self) -> Vec<String> {
        crate::hook::applied::configured_interfaces(Path::new(crate::hook::STATE_DIR))
            .into_iter()
            .map(|(phys, logical)| format!("{phys}={logical}"))
            .collect()
    }

    fn ifupdown(&self, program: &str, file: &Path, iface: &str) -> Result<(), TrialError> {
        let mut cmd = Command::new(program);
        cmd.arg("-i").arg(file).arg(iface);
        let done = run_bounded(&mut cmd, RELOAD_LIMIT).map_err(|source| TrialError::Ifupdown {
            program: program.to_string(),
            iface: iface.to_string(),
            line: source.to_string(),
        })?;
        if done.success() {
            return Ok(());
        }
        Err(TrialError::Ifupdown {
            program: program.to_string(),
            iface: iface.to_string(),
            line: process::failure_line(&done),
        })
    }

    /// `logger -t ifupdown-ovs` (best effort: logger may be missing).
    fn notify(&self, line: &str) {
        let mut cmd = Command::new("logger");
        cmd.args(["-t", "ifupdown-ovs", "--", line]);
        if let Err(e) = run_bounded(&mut cmd, Duration::from_secs(5)) {
            log::info!("{e}");
        }
    }
}

/// Wait (at most `limit`) until no reload holds the reload lock `path`: a reload
/// refuses to start while another runs, and a revert must not fail for that (the
/// reload of a killed `reload --try` may still run, or somebody reloads by hand at
/// the deadline). After `limit` the reload runs anyway and says that it is busy.
fn wait_reload_idle(path: &Path, limit: Duration) {
    let start = std::time::Instant::now();
    let mut told = false;
    loop {
        let file = match crate::sys::rundir::open_trusted(path, true) {
            Ok(f) => f,
            Err(_) => return, // no lock file (no reload yet), or one the reload refuses too
        };
        match nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock) {
            Ok(_unlocked_on_drop) => return,
            Err((_, nix::errno::Errno::EWOULDBLOCK)) if start.elapsed() < limit => {
                if !told {
                    say_err!("ifupdown-ovs: waiting for another reload to finish");
                    told = true;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(_) => return,
        }
    }
}

/// Where a try keeps its records and which file it replaces.
#[derive(Debug, Clone)]
pub struct Env {
    pub layout: Layout,
    pub target: PathBuf,
}

impl Env {
    /// `/run/ifupdown-ovs` and `/etc/network/interfaces`.
    pub fn system() -> Env {
        Env {
            layout: Layout::new(record::RUN_DIR),
            target: PathBuf::from(DEFAULT_FILE),
        }
    }
}

/// Trying, committing and rolling back change `/etc/network` and the host: root
/// only (otherwise the run directory's ownership check would refuse it with a
/// less clear message).
fn as_root() -> Result<(), TrialError> {
    if nix::unistd::geteuid().is_root() {
        Ok(())
    } else {
        Err(TrialError::NotRoot)
    }
}

/// Print a trial error as the other commands print theirs, exit 1.
fn report(r: Result<i32, TrialError>) -> Result<i32, Error> {
    Ok(r.unwrap_or_else(|e| {
        say_err!("ifupdown-ovs: {e}");
        1
    }))
}

/// `ifupdown-ovs reload --try SECONDS -i FILE`.
pub fn run_try(candidate: &Path, seconds: u64) -> Result<i32, Error> {
    // a hangup of the asking session must not cut the reload short
    timer::ignore_hangup();
    report(as_root().and_then(|()| Exe::current()).and_then(|host| {
        let p = start(&Env::system(), &host, candidate, seconds)?;
        print_started(&Env::system(), &p);
        Ok(0)
    }))
}

/// `ifupdown-ovs commit`.
pub fn run_commit(_args: &CommitArgs) -> Result<i32, Error> {
    report(as_root().and_then(|()| commit(&Env::system())).map(|p| {
        say!(
            "committed: {} (from {}) stays; the revert timer is cancelled",
            p.target.display(),
            p.candidate.display()
        );
        0
    }))
}

/// `ifupdown-ovs rollback`, and the timer (`rollback --at DEADLINE --id ID`).
pub fn run_rollback(args: &RollbackArgs) -> Result<i32, Error> {
    let env = Env::system();
    match (&args.at, &args.id) {
        (Some(at), Some(id)) => report(Exe::current().map(|host| run_timer(&env, &host, id, *at))),
        _ => report(
            as_root()
                .and_then(|()| Exe::current())
                .and_then(|host| rollback(&env, &host).map(|_| 0)),
        ),
    }
}

fn print_started(env: &Env, p: &Pending) {
    let left = p.deadline.saturating_sub(files::now());
    say!(
        "trying {} as {}: it is reverted at {} (in {left} s) unless you run:\n    \
         ifupdown-ovs commit\nTo revert now: ifupdown-ovs rollback\n\
         (revert timer: pid {}, log {}; it survives the end of this session)",
        p.candidate.display(),
        p.target.display(),
        files::utc(p.deadline),
        p.timer_pid,
        env.layout.log().display()
    );
}

/// Same file (device and inode), or the same path when one does not exist.
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => a == b,
    }
}

/// Check `staged` (the new file where it will be) as `check` would; print the
/// diagnostics naming `shown`. Errors refuse the try.
fn check(staged: &Path, shown: &Path) -> Result<(), TrialError> {
    let fix = |s: String| s.replace(&staged.display().to_string(), &shown.display().to_string());
    let failed = match Config::load(staged) {
        Err(ParseError::Syntax { pos, message }) => {
            say_err!("{}", fix(format!("{pos}: error: {message}")));
            true
        }
        Err(e) => {
            say_err!("{}", fix(e.to_string()));
            true
        }
        Ok(cfg) => {
            let diags = lint::check_config(&cfg, &CheckEnv::default());
            for d in &diags {
                say_err!("{}", fix(d.to_string()));
            }
            diags.iter().any(|d| d.severity == Severity::Error)
        }
    };
    if failed {
        return Err(TrialError::CheckFailed {
            path: shown.to_path_buf(),
        });
    }
    Ok(())
}

/// Start a try: check, save the previous generation, start the timer, install the
/// new file, reload. On a failed reload the try is reverted at once and the reload's
/// error returned.
pub fn start(
    env: &Env,
    host: &dyn Host,
    candidate: &Path,
    seconds: u64,
) -> Result<Pending, TrialError> {
    if same_file(candidate, &env.target) {
        return Err(TrialError::NoCandidate {
            target: env.target.clone(),
        });
    }
    let lock = Lock::take(&env.layout)?;
    if let Some(p) = record::read(&env.layout, &lock)? {
        return Err(TrialError::AlreadyPending {
            deadline: files::utc(p.deadline),
            timer: timer::trouble(&p),
            target: p.target,
            candidate: p.candidate,
        });
    }
    let (old, mode) = files::read(&env.target)?;
    let new = files::read_candidate(candidate)?;
    let staged = files::Staged::new(&env.target, &new, mode)?;
    check(staged.path(), candidate)?;
    let now = files::now();
    let mut p = Pending {
        id: format!("{now}-{}", std::process::id()),
        target: env.target.clone(),
        candidate: candidate.to_path_buf(),
        mode,
        started: now,
        deadline: now + seconds,
        seconds,
        timer_pid: 0,
        up_before: host.up_interfaces(),
    };
    record::create(&env.layout, &lock, &p, &old)?;
    let installed = host
        .start_timer(&env.layout, &p.id, p.deadline)
        .and_then(|pid| {
            p.timer_pid = pid;
            record::update(&env.layout, &lock, &p)
        })
        .and_then(|()| staged.install());
    if let Err(e) = installed {
        timer::stop(&p);
        let _ = record::remove(&env.layout, &lock);
        return Err(e);
    }
    if let Err(e) = host.reload(&env.target) {
        say_err!("ifupdown-ovs: {e}; reverting to the previous file");
        timer::stop(&p);
        revert(
            env,
            host,
            &lock,
            &p,
            "reverted (the reload of the new file failed)",
        )?;
        return Err(e);
    }
    // the trial period starts when the new state is in place
    p.deadline = files::now() + seconds;
    record::update(&env.layout, &lock, &p)?;
    Ok(p)
}

fn nothing_pending(env: &Env, action: &'static str) -> TrialError {
    TrialError::NothingPending {
        action,
        last: record::last(&env.layout)
            .map(|l| format!(" (the last try: {l})"))
            .unwrap_or_default(),
    }
}

/// Keep the pending try: cancel its timer, drop its record.
pub fn commit(env: &Env) -> Result<Pending, TrialError> {
    let lock = Lock::take(&env.layout)?;
    let p = record::read(&env.layout, &lock)?.ok_or_else(|| nothing_pending(env, "commit"))?;
    timer::stop(&p);
    record::remove(&env.layout, &lock)?;
    record::set_last(
        &env.layout,
        &lock,
        &format!(
            "committed at {}: {} from {}",
            files::utc(files::now()),
            p.target.display(),
            p.candidate.display()
        ),
    );
    Ok(p)
}

/// Revert the pending try now.
pub fn rollback(env: &Env, host: &dyn Host) -> Result<Option<PathBuf>, TrialError> {
    let lock = Lock::take(&env.layout)?;
    let p = record::read(&env.layout, &lock)?.ok_or_else(|| nothing_pending(env, "roll back"))?;
    timer::stop(&p);
    revert(env, host, &lock, &p, "rolled back")
}

/// The timer's body: wait for the deadline, then revert unless the try is gone.
/// Returns the exit code.
pub fn run_timer(env: &Env, host: &dyn Host, id: &str, at: u64) -> i32 {
    timer::ignore_hangup();
    let mut at = at;
    loop {
        timer::sleep_until(at, files::now);
        let step = Lock::take(&env.layout).and_then(|lock| {
            let rec = record::read(&env.layout, &lock)?;
            match timer::decide(rec.as_ref(), id, files::now()) {
                Wake::Exit => Ok(Some(0)),
                Wake::SleepUntil(t) => {
                    at = t;
                    Ok(None)
                }
                Wake::Revert => {
                    let p = rec.ok_or_else(|| nothing_pending(env, "revert"))?;
                    revert(
                        env,
                        host,
                        &lock,
                        &p,
                        "reverted (no commit before the deadline)",
                    )
                    .map(|_| Some(0))
                }
            }
        });
        match step {
            Ok(Some(code)) => return code,
            Ok(None) => continue,
            Err(e) => {
                let line = format!("revert timer of try {id}: {e}");
                say_err!("ifupdown-ovs: {line}");
                host.notify(&line);
                return 1;
            }
        }
    }
}

/// Put the previous file back (keeping the current one as a rejected copy), drop the
/// record, reload. Returns the rejected copy (none when the file already held the
/// previous version).
fn revert(
    env: &Env,
    host: &dyn Host,
    lock: &Lock,
    p: &Pending,
    why: &str,
) -> Result<Option<PathBuf>, TrialError> {
    let previous = record::previous(&env.layout, lock)?;
    let now = files::now();
    let (current, current_mode) = files::read(&p.target)?;
    let rejected = if current == previous {
        None
    } else {
        Some(files::keep_rejected(
            &p.target,
            &current,
            current_mode,
            now,
        )?)
    };
    files::replace(&p.target, &previous, p.mode)?;
    record::remove(&env.layout, lock)?;
    let kept = match &rejected {
        Some(r) => format!("the rejected version is kept in {}", r.display()),
        None => "it already held the previous version".to_string(),
    };
    let line = format!(
        "{why} at {}: {} put back as it was before the try of {}; {kept}",
        files::utc(now),
        p.target.display(),
        p.candidate.display()
    );
    say!("{line}");
    host.notify(&line);
    let reloaded = host.reload(&p.target);
    let last = match &reloaded {
        Ok(()) => {
            let notes = restore_up(host, p);
            for n in &notes {
                say!("{n}");
                host.notify(n);
            }
            std::iter::once(line)
                .chain(notes)
                .collect::<Vec<_>>()
                .join("; ")
        }
        Err(e) => format!("{line}; but the reload failed ({e}): run `ifupdown-ovs reload`"),
    };
    record::set_last(&env.layout, lock, &last);
    reloaded.map(|()| rejected)
}

/// After the revert's reload: give back exactly the set of interfaces ifupdown had
/// up before the try. The reload brings up `auto` interfaces and takes down the
/// ones the file dropped, but an interface the try brought up that the previous
/// file still has without `auto` (`allow-hotplug`, say) would stay up, and one the
/// try took down that is not `auto` would stay down. Returns what was done, one
/// line each (failures included: they do not undo the revert).
fn restore_up(host: &dyn Host, p: &Pending) -> Vec<String> {
    let phys = |entry: &str| entry.split('=').next().unwrap_or(entry).to_string();
    let before: Vec<String> = p.up_before.iter().map(|e| phys(e)).collect();
    let now = host.up_interfaces();
    let now_phys: Vec<String> = now.iter().map(|e| phys(e)).collect();
    let mut notes = Vec::new();
    for iface in now_phys.iter().filter(|i| !before.contains(i)) {
        notes.push(match host.ifupdown("ifdown", &p.target, iface) {
            Ok(()) => format!("ifdown {iface}: it was not up before the try"),
            Err(e) => format!("warning: {e}"),
        });
    }
    for entry in &p.up_before {
        if now_phys.contains(&phys(entry)) {
            continue;
        }
        notes.push(match host.ifupdown("ifup", &p.target, entry) {
            Ok(()) => format!("ifup {entry}: it was up before the try"),
            Err(e) => format!("warning: {e}"),
        });
    }
    notes
}

#[cfg(test)]
mod tests;
