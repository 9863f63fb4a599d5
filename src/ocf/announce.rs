//! Announcing the port's addresses after start, in the background and bounded, the
//! way ocf:heartbeat:IPaddr2 does: for each IPv4 address `arp_count` gratuitous ARP
//! request/reply pairs `arp_interval_ms` apart (arping), for each IPv6 address as many
//! unsolicited neighbour advertisements (resource-agents' `send_ua`).
//!
//! start spawns a detached announcer (this binary as `OVSPort announce IFACE`, in a
//! session of its own, stdout/stderr to `/run/ifupdown-ovs/IFACE.announce.log`) and
//! records its pid in `/run/ifupdown-ovs/IFACE.announce.pid`. The announcer sends in
//! parallel (requests and replies are two arping processes), kills what is still
//! running at its deadline and removes the pidfile. stop (and the next start) end a
//! still-running announcer by its process group and pass its log on. Failing to
//! announce is logged, never fatal.
//!
//! The run directory and these files go through [`crate::sys::rundir`]: the
//! directory 0700 and the files 0600 whatever the umask, the log and the pidfile
//! never opened through a symlink (the log is created anew with `O_EXCL`, the
//! pidfile written to a temporary name and renamed), and a pidfile or log is read
//! only when owned by root and not writable by others. A run directory that fails
//! the check is refused ([`SpawnError::Refused`]): start logs it and does not
//! announce.

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use super::observe::{LinkAddr, read_link};
use super::params::Params;
use crate::sys::rundir::{self, RunDirError};

/// Where pidfiles and logs go.
pub const RUN_DIR: &str = "/run/ifupdown-ovs";

/// The announcer's action name (`OVSPort announce IFACE`).
pub const ACTION: &str = "announce";

pub fn pidfile(run_dir: &Path, iface: &str) -> PathBuf {
    run_dir.join(format!("{iface}.announce.pid"))
}

pub fn logfile(run_dir: &Path, iface: &str) -> PathBuf {
    run_dir.join(format!("{iface}.announce.log"))
}

/// Which arping is installed: they differ in flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arping {
    /// Thomas Habets' arping (Debian package arping).
    Habets,
    /// iputils-arping.
    Iputils,
}

/// The tools found for announcing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tools {
    pub arping: Option<(PathBuf, Arping)>,
    /// resource-agents' send_arp, used when there is no arping.
    pub send_arp: Option<PathBuf>,
    pub send_ua: Option<PathBuf>,
}

/// Directories holding resource-agents' helpers (`$HA_BIN` first).
fn ha_bin_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("HA_BIN")
        .map(PathBuf::from)
        .into_iter()
        .collect();
    dirs.push(PathBuf::from("/usr/libexec/heartbeat"));
    dirs.push(PathBuf::from("/usr/lib/heartbeat"));
    dirs
}

fn find_in(dirs: &[PathBuf], name: &str) -> Option<PathBuf> {
    dirs.iter().map(|d| d.join(name)).find(|p| p.is_file())
}

/// A program in PATH or the sbin directories.
pub fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .filter(|d| !d.is_empty())
        .chain(["/usr/sbin", "/usr/bin", "/sbin", "/bin"])
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

impl Tools {
    /// Look for the tools (runs `arping --help` once to tell the two apart).
    pub fn find() -> Tools {
        let arping = find_program("arping").and_then(|p| {
            let out = crate::sys::process::run_bounded(
                Command::new(&p).arg("--help"),
                Duration::from_secs(2),
            )
            .ok()?;
            let text = format!("{}{}", out.stdout, out.stderr);
            arping_flavour(&text).map(|f| (p, f))
        });
        let dirs = ha_bin_dirs();
        Tools {
            arping,
            send_arp: find_in(&dirs, "send_arp"),
            send_ua: find_in(&dirs, "send_ua"),
        }
    }

    /// Cheap presence check for start's log (no process run).
    pub fn missing_note(has_v4: bool, has_v6: bool) -> Vec<String> {
        let dirs = ha_bin_dirs();
        let mut out = Vec::new();
        if has_v4 && find_program("arping").is_none() && find_in(&dirs, "send_arp").is_none() {
            out.push(
                "neither arping (package arping) nor send_arp (resource-agents) is \
                 installed: IPv4 addresses are not announced"
                    .to_string(),
            );
        }
        if has_v6 && find_in(&dirs, "send_ua").is_none() {
            out.push(
                "send_ua (package resource-agents) is not installed: IPv6 addresses are not \
                 announced"
                    .to_string(),
            );
        }
        out
    }
}

/// Tell the arpings apart by their help text.
pub fn arping_flavour(help: &str) -> Option<Arping> {
    if help.contains("Habets") || help.contains("ARPing 2") {
        Some(Arping::Habets)
    } else if help.contains("iputils") || help.contains("-I device") {
        Some(Arping::Iputils)
    } else {
        None
    }
}

/// The commands that announce `addrs` on `iface` (all run at once), and notes on
/// what cannot be announced.
pub fn commands(
    iface: &str,
    addrs: &[LinkAddr],
    count: u32,
    interval_ms: u32,
    tools: &Tools,
) -> (Vec<Vec<String>>, Vec<String>) {
    let mut cmds = Vec::new();
    let mut notes = Vec::new();
    let n = count.to_string();
    let secs = format!("{:.3}", f64::from(interval_ms) / 1000.0);
    let ms = interval_ms.to_string();
    for a in addrs.iter().filter(|a| a.global && !a.dadfailed) {
        let ip = a.ip.to_string();
        let v = |words: &[&str]| words.iter().map(|w| w.to_string()).collect::<Vec<_>>();
        if a.ip.is_ipv4() {
            match (&tools.arping, &tools.send_arp) {
                (Some((p, Arping::Habets)), _) => {
                    let p = p.display().to_string();
                    let base = v(&[
                        &p, "-q", "-U", "-c", &n, "-W", &secs, "-i", iface, "-S", &ip,
                    ]);
                    let mut request = base.clone();
                    request.push(ip.clone());
                    let mut reply = base;
                    reply.insert(3, "-P".into());
                    reply.push(ip.clone());
                    cmds.push(request);
                    cmds.push(reply);
                }
                (Some((p, Arping::Iputils)), _) => {
                    let p = p.display().to_string();
                    cmds.push(v(&[&p, "-q", "-U", "-c", &n, "-I", iface, &ip]));
                    cmds.push(v(&[&p, "-q", "-A", "-c", &n, "-I", iface, &ip]));
                }
                (None, Some(s)) => {
                    let s = s.display().to_string();
                    cmds.push(v(&[
                        &s, "-i", &ms, "-r", &n, iface, &ip, "auto", "not_used", "not_used",
                    ]));
                }
                (None, None) => notes.push(format!("no arping: {ip} not announced")),
            }
        } else if a.tentative {
            notes.push(format!("{ip} is still tentative (DAD): not announced"));
        } else {
            match &tools.send_ua {
                Some(s) => {
                    let s = s.display().to_string();
                    let prefix = a.prefix.to_string();
                    cmds.push(v(&[&s, "-i", &ms, "-c", &n, &ip, &prefix, iface]));
                }
                None => notes.push(format!("no send_ua (resource-agents): {ip} not announced")),
            }
        }
    }
    (cmds, notes)
}

/// Why the announcer could not be started (start logs it and goes on).
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    /// The run directory, the log or the pidfile.
    #[error("{}: {source}", .path.display())]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The run directory or a file in it is not safe to use.
    #[error(transparent)]
    Refused(RunDirError),
    #[error("cannot find this program: {0}")]
    NoExe(std::io::Error),
    #[error("cannot start {}: {source}", .exe.display())]
    Start {
        exe: PathBuf,
        source: std::io::Error,
    },
}

/// An I/O error on `path`.
fn file_error(path: &Path) -> impl FnOnce(std::io::Error) -> SpawnError + '_ {
    move |source| SpawnError::File {
        path: path.to_path_buf(),
        source,
    }
}

impl From<RunDirError> for SpawnError {
    fn from(e: RunDirError) -> SpawnError {
        match e {
            RunDirError::Io { path, source } => SpawnError::File { path, source },
            other => SpawnError::Refused(other),
        }
    }
}

/// Start the announcer for `params.interface` (detached), record its pid.
pub fn spawn(run_dir: &Path, params: &Params) -> Result<u32, SpawnError> {
    let iface = &params.interface;
    let log = open_log(run_dir, iface)?;
    let log_path = logfile(run_dir, iface);
    let log2 = log.try_clone().map_err(file_error(&log_path))?;
    let exe = std::env::current_exe().map_err(SpawnError::NoExe)?;
    let mut cmd = Command::new(&exe);
    cmd.arg0("OVSPort")
        .args([ACTION, iface.as_str()])
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2);
    // SAFETY: setsid is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            nix::unistd::setsid()
                .map(|_| ())
                .map_err(std::io::Error::from)
        });
    }
    let child = cmd.spawn().map_err(|source| SpawnError::Start {
        exe: exe.clone(),
        source,
    })?;
    let pid = child.id();
    write_pidfile(&pidfile(run_dir, iface), pid)?;
    Ok(pid)
}

/// Create the run directory if needed, check it, and create the announcer's log
/// anew.
fn open_log(run_dir: &Path, iface: &str) -> Result<fs::File, SpawnError> {
    rundir::ensure_dir(run_dir)?;
    Ok(rundir::replace(&logfile(run_dir, iface))?)
}

fn write_pidfile(path: &Path, pid: u32) -> Result<(), SpawnError> {
    Ok(rundir::write_atomic(path, format!("{pid}\n").as_bytes())?)
}

/// Read one of our files in `run_dir`, if the directory and the file can be
/// trusted ([`rundir::read_trusted`]).
fn read_ours(run_dir: &Path, path: &Path) -> Option<String> {
    rundir::check_dir(run_dir).ok()?;
    match rundir::read_trusted(path) {
        Ok(text) => Some(text),
        Err(RunDirError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            None
        }
        Err(e) => {
            log::warn!("{e}");
            None
        }
    }
}

/// Is `pid` a live announcer for `iface` (by its command line)?
fn is_announcer(pid: u32, iface: &str) -> bool {
    let Ok(raw) = fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let args: Vec<&[u8]> = raw.split(|b| *b == 0).collect();
    args.get(1) == Some(&ACTION.as_bytes()) && args.get(2) == Some(&iface.as_bytes()) && alive(pid)
}

/// Alive and not a zombie.
fn alive(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z'))
    })
}

/// End a still-running announcer of `iface`, pass its log on, remove its files.
pub fn stop(run_dir: &Path, iface: &str) {
    let pf = pidfile(run_dir, iface);
    if let Some(pid) = read_ours(run_dir, &pf).and_then(|s| s.trim().parse::<u32>().ok())
        && is_announcer(pid, iface)
        && let Ok(raw) = i32::try_from(pid)
    {
        log::info!("ending the announcer of {iface} (pid {pid})");
        let _ = killpg(Pid::from_raw(raw), Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(1);
        while alive(pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        if alive(pid) {
            let _ = killpg(Pid::from_raw(raw), Signal::SIGKILL);
        }
    }
    let _ = fs::remove_file(&pf);
    let lf = logfile(run_dir, iface);
    if let Some(text) = read_ours(run_dir, &lf) {
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            if line.contains("warning") || line.contains("WARN") || line.contains("ERROR") {
                log::warn!("announcer: {line}");
            } else {
                log::info!("announcer: {line}");
            }
        }
    }
    let _ = fs::remove_file(&lf);
}

/// The announcer's body (`OVSPort announce IFACE`): announce, bounded, then exit.
/// Returns the process exit code (always 0: failures are logged).
pub fn run_announcer(run_dir: &Path, params: &Params) -> i32 {
    let iface = &params.interface;
    let started = Instant::now();
    let link = match read_link(iface) {
        Ok(Some(l)) => l,
        Ok(None) => {
            eprintln!("warning: {iface}: no such device, nothing announced");
            return finish(run_dir, iface);
        }
        Err(e) => {
            eprintln!("warning: {iface}: {e}; nothing announced");
            return finish(run_dir, iface);
        }
    };
    let tools = Tools::find();
    let (cmds, notes) = commands(
        iface,
        &link.addresses,
        params.arp_count,
        params.arp_interval_ms,
        &tools,
    );
    for n in &notes {
        eprintln!("warning: {iface}: {n}");
    }
    let per = Duration::from_millis(u64::from(params.arp_interval_ms.max(1000)));
    let limit = per * params.arp_count + Duration::from_secs(5);
    let mut running: Vec<(Vec<String>, Child)> = Vec::new();
    for argv in cmds {
        let mut c = Command::new(&argv[0]);
        c.args(&argv[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        match c.spawn() {
            Ok(child) => running.push((argv, child)),
            Err(e) => eprintln!("warning: {iface}: cannot run {}: {e}", argv[0]),
        }
    }
    let mut sent = 0;
    for (argv, mut child) in running {
        let left = limit.saturating_sub(started.elapsed());
        let status = wait_until(&mut child, left);
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            use std::io::Read;
            let _ = e.read_to_string(&mut err);
        }
        let err = err.trim();
        match status {
            // arping exits 1 when nobody answers, as expected for unsolicited ARP
            Some(code) if (code == 0 || code == 1) && err.is_empty() => sent += 1,
            Some(code) => eprintln!(
                "warning: {iface}: `{}` exited {code}: {err}",
                argv.join(" ")
            ),
            None => eprintln!(
                "warning: {iface}: `{}` still ran after {} s and was killed",
                argv.join(" "),
                limit.as_secs()
            ),
        }
    }
    eprintln!(
        "{iface}: {sent} announcement command(s) done in {} ms",
        started.elapsed().as_millis()
    );
    finish(run_dir, iface)
}

/// Wait for `child` at most `left`; kill it then. The exit code (None: killed).
fn wait_until(child: &mut Child, left: Duration) -> Option<i32> {
    let deadline = Instant::now() + left;
    loop {
        match child.try_wait() {
            Ok(Some(s)) => return Some(s.code().unwrap_or(-1)),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

/// Remove our pidfile if it still names us.
fn finish(run_dir: &Path, iface: &str) -> i32 {
    let pf = pidfile(run_dir, iface);
    let me = std::process::id();
    if read_ours(run_dir, &pf).is_some_and(|s| s.trim().parse::<u32>().ok() == Some(me)) {
        let _ = fs::remove_file(&pf);
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(ip: &str, prefix: u8) -> LinkAddr {
        LinkAddr {
            ip: ip.parse().unwrap(),
            prefix,
            dadfailed: false,
            tentative: false,
            global: !ip.starts_with("fe80"),
        }
    }

    fn tools(arping: Option<Arping>) -> Tools {
        Tools {
            arping: arping.map(|f| (PathBuf::from("/usr/sbin/arping"), f)),
            send_arp: Some(PathBuf::from("/usr/libexec/heartbeat/send_arp")),
            send_ua: Some(PathBuf::from("/usr/libexec/heartbeat/send_ua")),
        }
    }

    #[test]
    fn habets_pairs_and_send_ua() {
        let addrs = [
            addr("192.0.2.50", 24),
            addr("2001:db8::50", 64),
            addr("fe80::1", 64),
        ];
        let (cmds, notes) = commands("p1", &addrs, 5, 100, &tools(Some(Arping::Habets)));
        assert!(notes.is_empty(), "{notes:?}");
        let lines: Vec<String> = cmds.iter().map(|c| c.join(" ")).collect();
        assert_eq!(
            lines,
            [
                "/usr/sbin/arping -q -U -c 5 -W 0.100 -i p1 -S 192.0.2.50 192.0.2.50",
                "/usr/sbin/arping -q -U -P -c 5 -W 0.100 -i p1 -S 192.0.2.50 192.0.2.50",
                "/usr/libexec/heartbeat/send_ua -i 100 -c 5 2001:db8::50 64 p1",
            ]
        );
    }

    #[test]
    fn other_tools() {
        let addrs = [addr("192.0.2.50", 24)];
        let (cmds, _) = commands("p1", &addrs, 3, 200, &tools(Some(Arping::Iputils)));
        assert_eq!(
            cmds[0].join(" "),
            "/usr/sbin/arping -q -U -c 3 -I p1 192.0.2.50"
        );
        assert_eq!(
            cmds[1].join(" "),
            "/usr/sbin/arping -q -A -c 3 -I p1 192.0.2.50"
        );
        let (cmds, _) = commands("p1", &addrs, 3, 200, &tools(None));
        assert_eq!(
            cmds[0].join(" "),
            "/usr/libexec/heartbeat/send_arp -i 200 -r 3 p1 192.0.2.50 auto not_used not_used"
        );
        let (cmds, notes) = commands("p1", &addrs, 3, 200, &Tools::default());
        assert!(cmds.is_empty());
        assert_eq!(notes, ["no arping: 192.0.2.50 not announced"]);
    }

    #[test]
    fn skips_what_cannot_be_announced() {
        let mut tentative = addr("2001:db8::50", 64);
        tentative.tentative = true;
        let mut failed = addr("192.0.2.51", 24);
        failed.dadfailed = true;
        let (cmds, notes) = commands("p1", &[tentative, failed], 5, 100, &tools(None));
        assert!(cmds.is_empty());
        assert_eq!(
            notes,
            ["2001:db8::50 is still tentative (DAD): not announced"]
        );
        let mut t = tools(None);
        t.send_ua = None;
        let (_, notes) = commands("p1", &[addr("2001:db8::1", 64)], 5, 100, &t);
        assert!(notes[0].contains("no send_ua"), "{notes:?}");
    }

    #[test]
    fn flavours() {
        assert_eq!(
            arping_flavour("ARPing 2.23, by Thomas Habets <thomas@habets.se>"),
            Some(Arping::Habets)
        );
        assert_eq!(
            arping_flavour("Usage: arping [-fqbDUAV] [-c count] [-w timeout] [-I device]"),
            Some(Arping::Iputils)
        );
        assert_eq!(arping_flavour("something else"), None);
    }

    #[test]
    fn stop_without_announcer_cleans_up() {
        let t = tempfile::tempdir().unwrap();
        // a directory of its own: the temporary one may be 0777 while another test
        // runs with umask 000
        let d = t.path().join("run");
        rundir::ensure_dir(&d).unwrap();
        std::fs::write(pidfile(&d, "p1"), "999999999\n").unwrap();
        std::fs::write(logfile(&d, "p1"), "p1: 2 announcement command(s) done\n").unwrap();
        stop(&d, "p1");
        assert!(!pidfile(&d, "p1").exists());
        assert!(!logfile(&d, "p1").exists());
        // our own pid is no announcer: never signalled
        std::fs::write(pidfile(&d, "p1"), format!("{}\n", std::process::id())).unwrap();
        stop(&d, "p1");
        assert!(!is_announcer(std::process::id(), "p1"));
    }

    fn mode(p: &Path) -> u32 {
        use std::os::unix::fs::MetadataExt;
        std::fs::symlink_metadata(p).unwrap().mode() & 0o7777
    }

    #[test]
    fn run_files_are_private_and_never_followed() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("run");
        let victim = t.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        rundir::tests::with_umask_000(|| {
            drop(open_log(&d, "p1").unwrap());
            write_pidfile(&pidfile(&d, "p1"), 42).unwrap();
        });
        assert_eq!(mode(&d), 0o700);
        assert_eq!(mode(&logfile(&d, "p1")), 0o600);
        assert_eq!(mode(&pidfile(&d, "p1")), 0o600);
        // planted symlinks are replaced, not written through
        for f in [logfile(&d, "p1"), pidfile(&d, "p1")] {
            std::fs::remove_file(&f).unwrap();
            std::os::unix::fs::symlink(&victim, &f).unwrap();
        }
        let mut log = open_log(&d, "p1").unwrap();
        std::io::Write::write_all(&mut log, b"x").unwrap();
        write_pidfile(&pidfile(&d, "p1"), 43).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        // a world-writable run directory is refused
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = open_log(&d, "p1").unwrap_err();
        assert!(matches!(e, SpawnError::Refused(_)), "{e}");
        assert!(
            e.to_string().contains("not writable by group or others"),
            "{e}"
        );
    }

    #[test]
    fn spawn_errors_name_the_file() {
        let env = crate::ocf::params::OcfEnv::from_vars([(
            "OCF_RESKEY_interface".to_string(),
            "p1".to_string(),
        )]);
        let params = Params::parse(&env).unwrap().strict().unwrap();
        let e = spawn(Path::new("/dev/null/run"), &params).unwrap_err();
        assert!(matches!(e, SpawnError::File { .. }), "{e}");
        assert!(e.to_string().starts_with("/dev/null/run: "), "{e}");
    }
}
