//! `reload --try SECONDS`, `commit` and `rollback`: apply a new interfaces file for a
//! trial period and put the old one back unless the change is confirmed, the way
//! `netplan try` and nmstate's `--no-commit` do (docs/reload.md, "Try, commit,
//! rollback").
//!
//! A try with `-i FILE` replaces the interfaces file ifupdown reads
//! (`/etc/network/interfaces`) by FILE, after checking it in place; a try without
//! `-i` applies the files as the admin edited them in place. Either way it saves
//! two copies of the configuration's files (the main file and every file reached by
//! `source`/`source-directory`, `interfaces::snapshot`): the previous generation
//! (with `-i`: the files in place that either version reads; without: the copy of
//! the files last applied, kept by `hook::applied`, and the try is refused without
//! one) and the tried one ([`record`]); starts a detached revert timer ([`timer`]);
//! then applies with `ifupdown-ovs reload -i /etc/network/interfaces` (our own
//! binary, through the bounded runner: the reload's own lock, plan and ifupdown
//! bookkeeping stay its business). A revert (at the deadline, by `rollback`, or at
//! once when the reload fails) puts every previous file back byte for byte, removes
//! the files the try added (read now or by the tried version, not by the previous
//! one), keeps each version it replaces or removes as a rejected copy beside it
//! ([`files`]), reloads, and gives ifupdown back the set of interfaces it had up
//! before the try (`restore_up`). `commit` keeps the tried copy as the files last
//! applied.

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
use crate::hook::applied;
use crate::interfaces::snapshot::{self, Snapshot};
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
    /// The copy of the files last applied (`hook::applied::files_path`).
    pub applied: PathBuf,
}

impl Env {
    /// `/run/ifupdown-ovs` and `/etc/network/interfaces`.
    pub fn system() -> Env {
        Env {
            layout: Layout::new(record::RUN_DIR),
            target: PathBuf::from(DEFAULT_FILE),
            applied: applied::files_path(),
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
    let what = if p.candidate == p.target {
        format!(
            "the edited {} and the files it sources (reverted to the files last applied)",
            p.target.display()
        )
    } else {
        format!("{} as {}", p.candidate.display(), p.target.display())
    };
    say!(
        "trying {what}: it is reverted at {} (in {left} s) unless you run:\n    \
         ifupdown-ovs commit\nTo revert now: ifupdown-ovs rollback\n\
         (revert timer: pid {}, log {}; it survives the end of this session)",
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
/// diagnostics naming `shown`. Errors refuse the try; otherwise the configuration.
fn check(staged: &Path, shown: &Path) -> Result<Config, TrialError> {
    let fix = |s: String| s.replace(&staged.display().to_string(), &shown.display().to_string());
    let failed = || TrialError::CheckFailed {
        path: shown.to_path_buf(),
    };
    match Config::load(staged) {
        Err(ParseError::Syntax { pos, message }) => {
            say_err!("{}", fix(format!("{pos}: error: {message}")));
            Err(failed())
        }
        Err(e) => {
            say_err!("{}", fix(e.to_string()));
            Err(failed())
        }
        Ok(cfg) => {
            let diags = lint::check_config(&cfg, &CheckEnv::default());
            for d in &diags {
                say_err!("{}", fix(d.to_string()));
            }
            match diags.iter().any(|d| d.severity == Severity::Error) {
                true => Err(failed()),
                false => Ok(cfg),
            }
        }
    }
}

/// The files the configuration in `main` reads now (only `main` when it does not
/// load: a broken file in place is still put back as it was).
fn current_files(main: &Path) -> Result<Snapshot, TrialError> {
    let files = Config::load(main).map(|c| c.files).unwrap_or_default();
    Ok(Snapshot::capture(main, &files)?)
}

/// What a try replaces and what it applies, and the new main file when it comes
/// from `-i`.
struct Versions {
    previous: Snapshot,
    tried: Snapshot,
    staged: Option<files::Staged>,
}

/// `--try -i FILE`: the tried version is FILE (checked where it will be) with the
/// files it sources; the previous one is the files in place that either version
/// reads (a file the new version sources that exists now is no addition of the
/// try: a revert leaves it as it is now).
fn versions_from(env: &Env, candidate: &Path, mode: u32) -> Result<Versions, TrialError> {
    let new = files::read_candidate(candidate)?;
    let staged = files::Staged::new(&env.target, &new, mode)?;
    let cfg = check(staged.path(), candidate)?;
    let sourced: Vec<PathBuf> = cfg
        .files
        .into_iter()
        .filter(|f| f != staged.path())
        .collect();
    let mut tried = Snapshot::capture(&env.target, &sourced)?;
    if let Some(main) = tried.files.iter_mut().find(|f| f.path == env.target) {
        main.bytes = new;
    }
    let mut read = Config::load(&env.target)
        .map(|c| c.files)
        .unwrap_or_default();
    read.extend(sourced);
    let previous = Snapshot::capture(&env.target, &read)?;
    Ok(Versions {
        previous,
        tried,
        staged: Some(staged),
    })
}

/// `--try` without `-i`: the files were edited in place; the previous version is
/// the copy of the files last applied (refused without one).
fn versions_in_place(env: &Env) -> Result<Versions, TrialError> {
    let previous = applied::read_files(&env.applied)?.ok_or_else(|| TrialError::NoApplied {
        target: env.target.clone(),
        copy: env.applied.clone(),
    })?;
    if previous.main != env.target {
        return Err(TrialError::AppliedOther {
            target: env.target.clone(),
            main: previous.main,
        });
    }
    let cfg = check(&env.target, &env.target)?;
    let tried = Snapshot::capture(&env.target, &cfg.files)?;
    if tried == previous {
        return Err(TrialError::NothingEdited {
            target: env.target.clone(),
        });
    }
    Ok(Versions {
        previous,
        tried,
        staged: None,
    })
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
    let in_place = same_file(candidate, &env.target);
    let lock = Lock::take(&env.layout)?;
    if let Some(p) = record::read(&env.layout, &lock)? {
        return Err(TrialError::AlreadyPending {
            deadline: files::utc(p.deadline),
            timer: timer::trouble(&p),
            target: p.target,
            candidate: p.candidate,
        });
    }
    let (_, mode) = files::read(&env.target)?;
    let v = match in_place {
        true => versions_in_place(env)?,
        false => versions_from(env, candidate, mode)?,
    };
    let now = files::now();
    let mut p = Pending {
        id: format!("{now}-{}", std::process::id()),
        target: env.target.clone(),
        candidate: match in_place {
            true => env.target.clone(),
            false => candidate.to_path_buf(),
        },
        mode,
        started: now,
        deadline: now + seconds,
        seconds,
        timer_pid: 0,
        up_before: host.up_interfaces(),
    };
    record::create(&env.layout, &lock, &p, &v.previous, &v.tried)?;
    let installed = host
        .start_timer(&env.layout, &p.id, p.deadline)
        .and_then(|pid| {
            p.timer_pid = pid;
            record::update(&env.layout, &lock, &p)
        })
        .and_then(|()| v.staged.map_or(Ok(()), files::Staged::install));
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

/// Keep the pending try: cancel its timer, keep the tried files as the ones last
/// applied, drop its record.
pub fn commit(env: &Env) -> Result<Pending, TrialError> {
    let lock = Lock::take(&env.layout)?;
    let p = record::read(&env.layout, &lock)?.ok_or_else(|| nothing_pending(env, "commit"))?;
    timer::stop(&p);
    keep_as_applied(env, &lock);
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

/// At `commit`: the tried files become the copy of the files last applied, unless
/// a reload wrote that copy since the try started (the try's own reload does, and
/// a plain reload during the trial knows better what is applied now). Problems are
/// warnings: the commit itself stands.
fn keep_as_applied(env: &Env, lock: &Lock) {
    let modified = |path: &Path| {
        std::fs::symlink_metadata(path)
            .and_then(|m| m.modified())
            .ok()
    };
    // `try/previous` is written when the try starts, before its reload
    if let (Some(copy), Some(start)) = (modified(&env.applied), modified(&env.layout.previous()))
        && copy > start
    {
        return;
    }
    match record::tried(&env.layout, lock) {
        Ok(Some(tried)) => {
            if let Err(e) = applied::write_files(&env.applied, &tried) {
                say_err!("ifupdown-ovs: warning: the committed files are not copied: {e}");
            }
        }
        Ok(None) => {}
        Err(e) => say_err!("ifupdown-ovs: warning: {e}"),
    }
}

/// Revert the pending try now. Returns the rejected copies.
pub fn rollback(env: &Env, host: &dyn Host) -> Result<Vec<PathBuf>, TrialError> {
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

/// Put the previous files back (keeping the current ones as rejected copies), drop
/// the record, reload. Returns the rejected copies (none when the files already
/// held the previous versions).
fn revert(
    env: &Env,
    host: &dyn Host,
    lock: &Lock,
    p: &Pending,
    why: &str,
) -> Result<Vec<PathBuf>, TrialError> {
    let previous = record::previous(&env.layout, lock, p)?;
    let tried = record::tried(&env.layout, lock)?;
    let now = files::now();
    let restored = restore_files(p, &previous, tried.as_ref(), now)?;
    record::remove(&env.layout, lock)?;
    let of = match p.candidate == p.target {
        true => "the files edited in place".to_string(),
        false => p.candidate.display().to_string(),
    };
    let line = format!(
        "{why} at {}: {} put back as before the try of {of}{}",
        files::utc(now),
        p.target.display(),
        restored.describe()
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
    reloaded.map(|()| restored.rejected)
}

/// What a revert did to the files.
#[derive(Default)]
struct Restored {
    /// Files put back (they differed or were gone).
    put_back: Vec<PathBuf>,
    /// Files the try added, removed.
    removed: Vec<PathBuf>,
    /// The rejected copies kept.
    rejected: Vec<PathBuf>,
}

impl Restored {
    fn describe(&self) -> String {
        let list = |v: &[PathBuf]| {
            v.iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut out = String::new();
        if !self.put_back.is_empty() {
            out += &format!(" (files put back: {})", list(&self.put_back));
        }
        if !self.removed.is_empty() {
            out += &format!("; removed, added by the try: {}", list(&self.removed));
        }
        out += &match self.rejected.len() {
            0 => "; the files already held the previous versions".to_string(),
            1 => format!("; the rejected version is kept in {}", list(&self.rejected)),
            _ => format!(
                "; the rejected versions are kept in {}",
                list(&self.rejected)
            ),
        };
        out
    }
}

/// Put every file of `previous` back byte for byte (mode kept, atomic, no symlink
/// followed), the main file last; remove the files the try added (read by the
/// tried or the current configuration, not by the previous one). What is replaced
/// or removed is kept as a rejected copy beside it.
fn restore_files(
    p: &Pending,
    previous: &Snapshot,
    tried: Option<&Snapshot>,
    now: u64,
) -> Result<Restored, TrialError> {
    let mut done = Restored::default();
    let mut added: Vec<PathBuf> = Vec::new();
    let now_read = current_files(&p.target)
        .map(|s| s.paths())
        .unwrap_or_default();
    for f in tried
        .map(Snapshot::paths)
        .unwrap_or_default()
        .into_iter()
        .chain(now_read)
    {
        if previous.get(&f).is_none() && !added.contains(&f) {
            added.push(f);
        }
    }
    let keep = |path: &Path, bytes: &[u8], mode: u32| {
        files::keep_rejected(path, bytes, mode, now, path != p.target)
    };
    for path in &added {
        if let Some((bytes, mode)) = snapshot::read_file(path)? {
            done.rejected.push(keep(path, &bytes, mode)?);
            std::fs::remove_file(path).map_err(|source| TrialError::File {
                path: path.clone(),
                what: "cannot remove",
                source,
            })?;
            done.removed.push(path.clone());
        }
    }
    let main_last = previous
        .files
        .iter()
        .filter(|f| f.path != p.target)
        .chain(previous.files.iter().filter(|f| f.path == p.target));
    for f in main_last {
        match snapshot::read_file(&f.path)? {
            Some((bytes, mode)) if bytes == f.bytes && mode == f.mode => continue,
            Some((bytes, mode)) => done.rejected.push(keep(&f.path, &bytes, mode)?),
            None => {}
        }
        files::replace(&f.path, &f.bytes, f.mode)?;
        done.put_back.push(f.path.clone());
    }
    Ok(done)
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
