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
use std::net::{IpAddr, Ipv6Addr};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use super::observe::{LinkAddr, LinkState, read_link};
use super::params::Params;
use crate::sys::process;
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
        .stdout(log)
        .stderr(log2);
    process::detach(&mut cmd);
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

/// How long the announcer waits for the addresses it expects to appear (start
/// spawns it before `ifup`) and for IPv6 duplicate address detection to end.
pub const WAIT_FOR_ADDRESSES: Duration = Duration::from_secs(10);
/// How often it looks at the link meanwhile.
const POLL: Duration = Duration::from_millis(20);

/// The addresses of `link` that can be announced now and were not yet: global,
/// not failed DAD, and for IPv6 no longer tentative (RFC 4429 forbids
/// advertisements that override caches for an optimistic address; the kernel's
/// own DAD probes already show the MAC to the switches meanwhile).
fn ready<'a>(link: &'a [LinkAddr], done: &[IpAddr]) -> Vec<&'a LinkAddr> {
    link.iter()
        .filter(|a| a.global && !a.dadfailed && (a.ip.is_ipv4() || !a.tentative))
        .filter(|a| !done.contains(&a.ip))
        .collect()
}

/// IPv6 addresses of `link` in optimistic DAD (usable, DAD still running) not yet
/// advertised early.
fn optimistic<'a>(link: &'a [LinkAddr], early: &[IpAddr]) -> Vec<&'a LinkAddr> {
    link.iter()
        .filter(|a| a.global && !a.dadfailed && a.tentative && a.optimistic)
        .filter(|a| a.ip.is_ipv6() && !early.contains(&a.ip))
        .collect()
}

/// The ICMPv6 body of an unsolicited neighbour advertisement for `target` with
/// `mac` as target link-layer address, Router, Solicited and **Override clear**
/// (RFC 4429 3.3: an optimistic address must not override caches; with the
/// floating MAC unchanged a host only needs to learn that the address answers
/// again, which O=0 does for an entry waiting on resolution, RFC 4861 7.2.5).
/// The kernel fills in the checksum.
fn na_body(target: Ipv6Addr, mac: [u8; 6]) -> [u8; 32] {
    let mut b = [0u8; 32];
    b[0] = 136; // neighbour advertisement
    b[8..24].copy_from_slice(&target.octets());
    b[24] = 2; // target link-layer address option
    b[25] = 1; // 8 octets
    b[26..32].copy_from_slice(&mac);
    b
}

/// Parse `aa:bb:cc:dd:ee:ff`.
fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let bytes: Vec<u8> = text
        .split(':')
        .map(|h| u8::from_str_radix(h, 16).ok())
        .collect::<Option<_>>()?;
    bytes.try_into().ok()
}

/// Send one unsolicited neighbour advertisement for the optimistic `target` to all
/// nodes on `iface`, from `target` itself, hop limit 255 (raw ICMPv6 socket; no
/// process, no shell).
fn send_optimistic_na(iface: &str, target: Ipv6Addr, mac: [u8; 6]) -> nix::Result<()> {
    use nix::sys::socket::{
        AddressFamily, SockFlag, SockProtocol, SockType, SockaddrIn6, bind, sendto, setsockopt,
        socket, sockopt,
    };
    use std::net::SocketAddrV6;
    let fd = socket(
        AddressFamily::Inet6,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC,
        SockProtocol::IcmpV6,
    )?;
    setsockopt(&fd, sockopt::BindToDevice, &std::ffi::OsString::from(iface))?;
    setsockopt(&fd, sockopt::Ipv6MulticastHops, &255)?;
    bind(
        std::os::fd::AsRawFd::as_raw_fd(&fd),
        &SockaddrIn6::from(SocketAddrV6::new(target, 0, 0, 0)),
    )?;
    let index = nix::net::if_::if_nametoindex(iface)?;
    let all_nodes = SockaddrIn6::from(SocketAddrV6::new(
        Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1),
        0,
        0,
        index,
    ));
    sendto(
        std::os::fd::AsRawFd::as_raw_fd(&fd),
        &na_body(target, mac),
        &all_nodes,
        nix::sys::socket::MsgFlags::empty(),
    )?;
    Ok(())
}

/// Advertise each optimistic address of `link` at once, and again every
/// `period` while it stays optimistic (DAD takes about a second; the full
/// announcement with `send_ua` follows when it is over). Repeating matters: Linux
/// ignores an advertisement while its entry is FAILED, and takes it while the
/// entry waits on resolution again. `early`: when each address was last
/// advertised.
fn advertise_optimistic(
    iface: &str,
    link: &LinkState,
    early: &mut Vec<(IpAddr, Instant)>,
    period: Duration,
    since: Instant,
) {
    let Some(mac) = link.mac.as_deref().and_then(parse_mac) else {
        return;
    };
    let recent: Vec<IpAddr> = early
        .iter()
        .filter(|(_, at)| at.elapsed() < period)
        .map(|(ip, _)| *ip)
        .collect();
    for a in optimistic(&link.addresses, &recent) {
        let IpAddr::V6(ip) = a.ip else { continue };
        let first = !early.iter().any(|(e, _)| *e == a.ip);
        early.retain(|(e, _)| *e != a.ip);
        early.push((a.ip, Instant::now()));
        match send_optimistic_na(iface, ip, mac) {
            Ok(()) if first => eprintln!(
                "{iface}: {ip} is optimistic: neighbour advertisement (override clear) sent {} ms \
                 after the announcer started, repeated every {} ms while DAD runs",
                since.elapsed().as_millis(),
                period.as_millis()
            ),
            Ok(()) => {}
            Err(e) => eprintln!("warning: {iface}: cannot advertise {ip} early: {e}"),
        }
    }
}

/// The link-local addresses of `link` still in (non-optimistic) DAD.
fn tentative_link_local(link: &[LinkAddr]) -> Vec<&LinkAddr> {
    link.iter()
        .filter(|a| !a.global && a.ip.is_ipv6() && a.tentative && !a.optimistic && !a.dadfailed)
        .collect()
}

/// Make the port's link-local addresses usable at once: add each one again with
/// `nodad` (`ip -6 addr del`, then `add ... nodad`). Without a link-local address
/// that passed DAD, Linux sends no neighbour solicitation (an optimistic global
/// address may not be its source, RFC 4429 3.3), so the node cannot find the
/// MAC of a host it must answer; worse, while that neighbour entry is incomplete
/// Linux sends replies from an optimistic source to the default router instead
/// (`ip6_dst_lookup_tail`), so they wait for the next solicitation, a second
/// after the link-local DAD. This loses no duplicate detection: the link-local address is
/// made from the floating MAC, which is only ever twice on the link when the
/// port runs on two nodes, and then the global addresses' own DAD (still run,
/// optimistically) fails and monitor reports it.
fn settle_link_local(iface: &str, link: &[LinkAddr], since: Instant) {
    for a in tentative_link_local(link) {
        let addr = format!("{}/{}", a.ip, a.prefix);
        let run = |words: &[&str]| {
            crate::sys::process::run_bounded(
                Command::new("ip").args(["-6", "addr"]).args(words),
                Duration::from_secs(2),
            )
            .map_err(|e| e.to_string())
            .and_then(|f| {
                if f.success() {
                    Ok(())
                } else {
                    Err(f.stderr.trim().to_string())
                }
            })
        };
        let result = run(&["del", &addr, "dev", iface])
            .and_then(|()| run(&["add", &addr, "dev", iface, "nodad"]));
        match result {
            Ok(()) => eprintln!(
                "{iface}: link-local {addr} added again without DAD {} ms after the announcer \
                 started",
                since.elapsed().as_millis()
            ),
            Err(e) => eprintln!("warning: {iface}: link-local {addr}: {e}"),
        }
    }
}

/// Every expected address is announced or failed DAD (nothing left to wait for).
/// With nothing expected: as soon as anything was announced.
fn settled(link: &[LinkAddr], expected: &[IpAddr], done: &[IpAddr]) -> bool {
    if expected.is_empty() {
        return !done.is_empty();
    }
    expected
        .iter()
        .all(|ip| done.contains(ip) || link.iter().any(|a| a.ip == *ip && a.dadfailed))
}

/// The announcer's body (`OVSPort announce IFACE`): wait (bounded) for the
/// addresses to appear on the link, announce each one as soon as it can be, then
/// exit. `expected`: the stanza's static addresses (empty: announce what the link
/// has). Returns the process exit code (always 0: failures are logged).
pub fn run_announcer(run_dir: &Path, params: &Params, expected: &[IpAddr]) -> i32 {
    let iface = &params.interface;
    let started = Instant::now();
    let tools = Tools::find();
    let per = Duration::from_millis(u64::from(params.arp_interval_ms.max(1000)));
    let limit = per * params.arp_count + Duration::from_secs(5);
    let mut running: Vec<(Vec<String>, Child, Instant)> = Vec::new();
    let mut done: Vec<IpAddr> = Vec::new();
    let mut early: Vec<(IpAddr, Instant)> = Vec::new();
    let period = Duration::from_millis(u64::from(params.arp_interval_ms.max(20)));
    let mut ll_done = false;
    let mut last_error = None;
    loop {
        match read_link(iface) {
            Ok(Some(link)) => {
                if expected.iter().any(IpAddr::is_ipv6) && !ll_done {
                    // as soon as the link-local address exists (the link is up),
                    // before the global address arrives and with it the first
                    // packets to answer
                    let ll = |a: &&LinkAddr| !a.global && a.ip.is_ipv6();
                    if !tentative_link_local(&link.addresses).is_empty() {
                        settle_link_local(iface, &link.addresses, started);
                        ll_done = true;
                    } else if link.addresses.iter().filter(ll).any(|a| !a.tentative) {
                        ll_done = true;
                    }
                }
                advertise_optimistic(iface, &link, &mut early, period, started);
                let now = ready(&link.addresses, &done);
                if !now.is_empty() {
                    let owned: Vec<LinkAddr> = now.into_iter().cloned().collect();
                    done.extend(owned.iter().map(|a| a.ip));
                    if running.is_empty() {
                        eprintln!(
                            "{iface}: first announcement {} ms after the announcer started",
                            started.elapsed().as_millis()
                        );
                    }
                    launch(iface, &owned, params, &tools, &mut running);
                }
                if settled(&link.addresses, expected, &done) {
                    break;
                }
            }
            Ok(None) => last_error = Some("no such device".to_string()),
            Err(e) => last_error = Some(e.to_string()),
        }
        if started.elapsed() >= WAIT_FOR_ADDRESSES {
            let missing: Vec<String> = expected
                .iter()
                .filter(|ip| !done.contains(ip))
                .map(IpAddr::to_string)
                .collect();
            eprintln!(
                "warning: {iface}: after {} s, not announced: {}{}",
                WAIT_FOR_ADDRESSES.as_secs(),
                if missing.is_empty() {
                    "-".to_string()
                } else {
                    missing.join(" ")
                },
                last_error.map(|e| format!(" ({e})")).unwrap_or_default()
            );
            break;
        }
        std::thread::sleep(POLL);
    }
    let mut sent = 0;
    for (argv, mut child, since) in running {
        let left = limit.saturating_sub(since.elapsed());
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

/// Start the commands announcing `addrs` (they run in parallel, each bounded by
/// the announcer's limit from its own start).
fn launch(
    iface: &str,
    addrs: &[LinkAddr],
    params: &Params,
    tools: &Tools,
    running: &mut Vec<(Vec<String>, Child, Instant)>,
) {
    let (cmds, notes) = commands(
        iface,
        addrs,
        params.arp_count,
        params.arp_interval_ms,
        tools,
    );
    for n in &notes {
        eprintln!("warning: {iface}: {n}");
    }
    for argv in cmds {
        let mut c = Command::new(&argv[0]);
        c.args(&argv[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        match c.spawn() {
            Ok(child) => running.push((argv, child, Instant::now())),
            Err(e) => eprintln!("warning: {iface}: cannot run {}: {e}", argv[0]),
        }
    }
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
            optimistic: false,
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

    #[test]
    fn neighbour_advertisement_without_override() {
        let b = na_body("2001:db8::50".parse().unwrap(), [2, 0, 0, 0, 0, 1]);
        assert_eq!(b[0], 136);
        assert_eq!(&b[4..8], &[0, 0, 0, 0], "R, S and O clear");
        assert_eq!(b[8], 0x20);
        assert_eq!(b[23], 0x50);
        assert_eq!(&b[24..32], &[2, 1, 2, 0, 0, 0, 0, 1]);
        assert_eq!(parse_mac("02:00:00:00:00:0a"), Some([2, 0, 0, 0, 0, 10]));
        assert_eq!(parse_mac("02:00:00"), None);
        let mut six = addr("2001:db8::50", 64);
        six.tentative = true;
        assert!(optimistic(std::slice::from_ref(&six), &[]).is_empty());
        six.optimistic = true;
        assert_eq!(optimistic(std::slice::from_ref(&six), &[]).len(), 1);
        assert!(optimistic(std::slice::from_ref(&six), &[six.ip]).is_empty());
    }

    #[test]
    fn only_a_tentative_link_local_is_settled() {
        let mut ll = addr("fe80::ff:fe00:1", 64);
        assert!(tentative_link_local(std::slice::from_ref(&ll)).is_empty());
        ll.tentative = true;
        assert_eq!(tentative_link_local(std::slice::from_ref(&ll)).len(), 1);
        ll.optimistic = true;
        assert!(tentative_link_local(std::slice::from_ref(&ll)).is_empty());
        let mut global = addr("2001:db8::50", 64);
        global.tentative = true;
        assert!(tentative_link_local(&[global]).is_empty());
    }

    #[test]
    fn announces_each_address_once_when_it_can() {
        let mut six = addr("2001:db8::50", 64);
        six.tentative = true;
        let link = vec![addr("192.0.2.50", 24), six.clone(), addr("fe80::1", 64)];
        let now: Vec<IpAddr> = ready(&link, &[]).iter().map(|a| a.ip).collect();
        assert_eq!(now, ["192.0.2.50".parse::<IpAddr>().unwrap()]);
        let done = now.clone();
        assert!(ready(&link, &done).is_empty());
        let expected: Vec<IpAddr> = vec!["192.0.2.50".parse().unwrap(), six.ip];
        assert!(!settled(&link, &expected, &done));
        // DAD over: the IPv6 address goes out too, and nothing is left to wait for
        let mut link2 = link.clone();
        link2[1].tentative = false;
        let more: Vec<IpAddr> = ready(&link2, &done).iter().map(|a| a.ip).collect();
        assert_eq!(more, [six.ip]);
        assert!(settled(&link2, &expected, &[done[0], six.ip]));
        // a failed DAD ends the wait without announcing
        let mut link3 = link;
        link3[1].dadfailed = true;
        assert!(settled(&link3, &expected, &done));
        assert!(!settled(&[], &[], &[]));
    }
}
