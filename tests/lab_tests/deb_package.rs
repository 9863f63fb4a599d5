//! The Debian package (debian/, man/, completions/, scripts/deb).
//!
//! Fast checks run everywhere: the packaging files agree with each other, with
//! the CLI and with the paths of docs/packaging.md (the hooks come from the
//! repository's `if-*.d/` folders); the maintainer scripts are strict POSIX
//! sh; the diverted names are ones run-parts never runs; the man pages render
//! without warnings.
//!
//! `build_install_divert_purge` builds the package with scripts/deb (release
//! build, lintian) and installs and purges it on THIS machine, in both orders
//! with openvswitch-switch. It needs root and changes the host's dpkg state
//! (restored at the end, also on failure), so it runs only when `CI=true` or
//! `IFUPDOWN_OVS_DEB_TEST=1`, and otherwise prints that it did not run.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::lab::{Hooks, HostLock, Lab, LabOptions};

const HOOK_DIRS: [&str; 4] = [
    "/etc/network/if-pre-up.d",
    "/etc/network/if-up.d",
    "/etc/network/if-down.d",
    "/etc/network/if-post-down.d",
];
const SBIN: &str = "/usr/sbin/ifupdown-ovs";
const OCF_AGENT: &str = "/usr/lib/ocf/resource.d/ifupdown-ovs/OVSPort";
const OVS_HOOK_SCRIPT: &str = "/usr/share/openvswitch/scripts/ifupdown.sh";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    let path = root().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Run a command; panic with its output unless it succeeds.
fn run(argv: &[&str]) -> Output {
    let out = Command::new(argv[0])
        .args(&argv[1..])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {argv:?}: {e}"));
    assert!(
        out.status.success(),
        "{argv:?} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(argv: &[&str]) -> String {
    String::from_utf8_lossy(&run(argv).stdout).into_owned()
}

/// One `dpkg-divert` call of a maintainer script.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Divert {
    add: bool,
    path: String,
    divert_to: String,
}

/// The dpkg-divert calls of a maintainer script (backslash continuations joined).
fn diversions(script: &str) -> Vec<Divert> {
    let joined = script.replace("\\\n", " ");
    let mut found = Vec::new();
    for line in joined.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.first() != Some(&"dpkg-divert") {
            continue;
        }
        let after = |flag: &str| {
            words
                .iter()
                .position(|w| *w == flag)
                .and_then(|i| words.get(i + 1))
                .map(|w| w.to_string())
        };
        assert!(
            words.contains(&"--rename"),
            "diversion without --rename: {line}"
        );
        assert_eq!(
            after("--package").as_deref(),
            Some("ifupdown-ovs"),
            "{line}"
        );
        let divert_to = after("--divert").unwrap_or_else(|| panic!("no --divert in: {line}"));
        let (add, path) = match (after("--add"), after("--remove")) {
            (Some(p), None) => (true, p),
            (None, Some(p)) => (false, p),
            _ => panic!("need exactly one of --add/--remove: {line}"),
        };
        found.push(Divert {
            add,
            path,
            divert_to,
        });
    }
    found
}

fn preinst_diversions() -> Vec<Divert> {
    diversions(&read("debian/ifupdown-ovs.preinst"))
}

#[test]
fn changelog_version_is_the_crate_version() {
    let changelog = read("debian/changelog");
    let first = changelog.lines().next().unwrap_or_default();
    let expected = format!("ifupdown-ovs ({}) ", env!("CARGO_PKG_VERSION"));
    assert!(
        first.starts_with(&expected),
        "debian/changelog starts with {first:?}, expected {expected:?}...: bump both together"
    );
}

/// `(source, destination)` lines of a debhelper list (`.links`, `.install`).
fn pairs(rel: &str) -> BTreeSet<(String, String)> {
    read(rel)
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut w = l.split_whitespace();
            let src = w.next().unwrap_or_default();
            let dst = w.next().unwrap_or_else(|| panic!("{rel}: bad line {l:?}"));
            (src.to_string(), dst.to_string())
        })
        .collect()
}

/// The hooks are the links of the repository's folders `if-pre-up.d/` ...
/// `if-post-down.d/` (each holding `ifupdown-ovs` -> /usr/sbin/ifupdown-ovs, as
/// Debian's openvswitch source shows its hook), installed by dh_install into the
/// same folders of /etc/network; dh_link makes the agent's link.
#[test]
fn links_are_the_designed_names() {
    let links: BTreeSet<(String, String)> = pairs("debian/ifupdown-ovs.links")
        .into_iter()
        .map(|(src, dst)| (format!("/{src}"), format!("/{dst}")))
        .collect();
    let want = BTreeSet::from([(SBIN.to_string(), OCF_AGENT.to_string())]);
    assert_eq!(links, want, "debian/ifupdown-ovs.links");

    let installed: BTreeSet<(String, String)> = pairs("debian/ifupdown-ovs.install")
        .into_iter()
        .filter(|(src, _)| src.starts_with("if-"))
        .collect();
    let mut want = BTreeSet::new();
    for dir in HOOK_DIRS {
        let folder = dir.trim_start_matches("/etc/network/");
        let entries: Vec<String> = std::fs::read_dir(root().join(folder))
            .unwrap_or_else(|e| panic!("{folder}/: {e}"))
            .map(|e| e.unwrap_or_else(|e| panic!("{folder}/: {e}")).file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .collect();
        assert_eq!(entries, ["ifupdown-ovs"], "{folder}/ holds our hook only");
        let hook = format!("{folder}/ifupdown-ovs");
        assert_eq!(
            std::fs::read_link(root().join(&hook)).ok(),
            Some(PathBuf::from(SBIN)),
            "{hook} is a link to {SBIN}"
        );
        want.insert((hook, format!("{}/", dir.trim_start_matches('/'))));
    }
    assert_eq!(installed, want, "hook lines of debian/ifupdown-ovs.install");
}

#[test]
fn maintainer_scripts_are_strict_posix_sh() {
    for name in ["preinst", "postrm"] {
        let rel = format!("debian/ifupdown-ovs.{name}");
        let text = read(&rel);
        assert!(text.starts_with("#!/bin/sh\n"), "{rel}: not #!/bin/sh");
        assert!(text.lines().any(|l| l == "set -e"), "{rel}: no `set -e`");
        assert!(text.contains("\n#DEBHELPER#\n"), "{rel}: no #DEBHELPER#");
        // dash is Debian's /bin/sh; -n parses without running.
        run(&["dash", "-n", root().join(&rel).to_str().unwrap_or_default()]);
        let status = Command::new("dash")
            .arg(root().join(&rel))
            .arg("no-such-action")
            .output()
            .unwrap_or_else(|e| panic!("cannot run dash: {e}"))
            .status;
        assert_eq!(status.code(), Some(1), "{rel} must reject unknown actions");
    }
}

#[test]
fn postrm_removes_exactly_what_preinst_adds() {
    let added = preinst_diversions();
    assert!(added.iter().all(|d| d.add), "preinst only adds: {added:?}");
    let paths: BTreeSet<&str> = added.iter().map(|d| d.path.as_str()).collect();
    let want: BTreeSet<&str> = [
        "/etc/network/if-pre-up.d/openvswitch",
        "/etc/network/if-post-down.d/openvswitch",
    ]
    .into();
    assert_eq!(paths, want, "the two links of openvswitch-switch's hook");
    let removed = diversions(&read("debian/ifupdown-ovs.postrm"));
    let as_removed: Vec<Divert> = added
        .iter()
        .map(|d| Divert {
            add: false,
            ..d.clone()
        })
        .collect();
    assert_eq!(removed, as_removed);
    for d in &added {
        assert_eq!(
            Path::new(&d.divert_to).parent(),
            Path::new(&d.path).parent(),
            "{d:?}: keep the diverted link beside the original"
        );
    }
}

/// run-parts runs names of `[A-Za-z0-9_-]` only, and with --lsbsysinit some
/// dotted LSB names too: the diverted names must escape both.
#[test]
fn run_parts_skips_the_diverted_names() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let mut names = vec!["ifupdown-ovs".to_string()];
    for d in preinst_diversions() {
        let name = Path::new(&d.divert_to).file_name().unwrap_or_default();
        names.push(name.to_string_lossy().into_owned());
    }
    assert!(names.len() > 1);
    for name in &names {
        let path = dir.path().join(name);
        std::fs::write(&path, "#!/bin/sh\n").unwrap_or_else(|e| panic!("{e}"));
        run(&["chmod", "0755", path.to_str().unwrap_or_default()]);
    }
    let d = dir.path().to_str().unwrap_or_default();
    for args in [vec!["--test", d], vec!["--lsbsysinit", "--test", d]] {
        let mut argv = vec!["run-parts"];
        argv.extend(args.iter().copied());
        let listed = stdout(&argv);
        let want = format!("{d}/ifupdown-ovs\n");
        assert_eq!(listed, want, "{argv:?} must run our hook only");
    }
}

#[test]
fn package_sources_exist() {
    for list in [
        "debian/ifupdown-ovs.manpages",
        "debian/ifupdown-ovs.install",
    ] {
        for line in read(list).lines().filter(|l| !l.trim().is_empty()) {
            let src = line.split_whitespace().next().unwrap_or_default();
            // A file, or a link (the hooks point at /usr/sbin/ifupdown-ovs, which
            // need not exist on the build machine).
            let path = root().join(src);
            assert!(
                path.is_file() || path.is_symlink(),
                "{list}: {src} is missing"
            );
        }
    }
    let examples: Vec<PathBuf> = std::fs::read_dir(root().join("fixtures/examples"))
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "interfaces"))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        read("debian/ifupdown-ovs.examples").trim(),
        "fixtures/examples/*.interfaces"
    );
    assert!(
        !examples.is_empty(),
        "fixtures/examples/*.interfaces: none (the package ships them as examples)"
    );
}

/// Subcommands and long options as `ifupdown-ovs [SUB] --help` lists them.
fn help_words(args: &[&str]) -> (Vec<String>, Vec<String>) {
    let bin = env!("CARGO_BIN_EXE_ifupdown-ovs");
    let mut argv = vec![bin];
    argv.extend_from_slice(args);
    argv.push("--help");
    let text = stdout(&argv);
    let mut commands = Vec::new();
    let mut longs = Vec::new();
    let mut in_commands = false;
    for line in text.lines() {
        if line.starts_with("Commands:") {
            in_commands = true;
            continue;
        }
        if !line.starts_with(' ') {
            in_commands = false;
        }
        let first = line.split_whitespace().next().unwrap_or_default();
        if in_commands && !first.is_empty() && first != "help" {
            commands.push(first.to_string());
        }
        for word in line.split_whitespace() {
            if let Some(long) = word.strip_prefix("--") {
                let long = long.trim_end_matches(',');
                if !long.is_empty() && long.chars().all(|c| c.is_ascii_lowercase() || c == '-') {
                    longs.push(format!("--{long}"));
                }
            }
        }
    }
    (commands, longs)
}

/// The man page and the bash completion name every subcommand and option.
#[test]
fn man_page_and_completion_cover_the_cli() {
    let man = read("man/ifupdown-ovs.8");
    let completion = read("completions/ifupdown-ovs");
    let (commands, top_longs) = help_words(&[]);
    assert!(commands.len() >= 6, "subcommands from --help: {commands:?}");
    for cmd in &commands {
        let synopsis = format!(".B ifupdown\\-ovs {}", cmd.replace('-', "\\-"));
        assert!(
            man.contains(&synopsis),
            "man page: no SYNOPSIS line for {cmd}"
        );
        let section = format!(".B {cmd}");
        let section_arg = format!(".BI \"{cmd} \"");
        assert!(
            man.contains(&section) || man.contains(&section_arg),
            "man page: {cmd} not described under COMMANDS"
        );
        assert!(
            completion.contains(&format!(" {cmd} ")) || completion.contains(&format!(" {cmd}\"")),
            "bash completion: no {cmd}"
        );
        let (_, longs) = help_words(&[cmd]);
        for long in longs.iter().chain(&top_longs) {
            assert!(
                man.contains(&long.replace('-', "\\-")),
                "man page: no {long} (of {cmd})"
            );
            assert!(
                completion.contains(long.as_str()),
                "bash completion: no {long} (of {cmd})"
            );
        }
    }
}

/// Every option of the issue's list and of docs/options.md has an entry in
/// ifupdown-ovs-interfaces(5).
#[test]
fn interfaces_man_page_covers_the_options() {
    let man = read("man/ifupdown-ovs-interfaces.5");
    let mut options: BTreeSet<String> = [
        "ovs_type",
        "ovs_bridge",
        "ovs_ports",
        "ovs_bonds",
        "ovs_options",
        "ovs_extra",
        "ovs_patch_peer",
        "ovs_tunnel_type",
        "ovs_tunnel_options",
        "ovs_mtu",
        "ovs_vlan_parent",
        "ovs_vlan",
        "ovs_tag",
        "ovs_trunks",
        "ovs_vlan_mode",
        "ovs_mac",
        "hwaddress",
        "ovs_datapath_type",
        "ovs_disable_ipv6",
        "ovs_route_table",
        "ovs_route_pref",
        "ovs_route",
        "ovs_arp_filter",
        "ovs_arp_ignore",
        "ovs_arp_announce",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // Its headings name the options: "### `ovs_vlan_parent`, `ovs_vlan`".
    for heading in read("docs/options.md")
        .lines()
        .filter(|l| l.starts_with("### "))
    {
        for (i, part) in heading.split('`').enumerate() {
            if i % 2 == 1 && part.starts_with("ovs_") {
                options.insert(part.to_string());
            }
        }
    }
    for opt in &options {
        let entry = format!(".BI \"{opt} \"");
        assert!(
            man.contains(&entry),
            "ifupdown-ovs-interfaces(5): no entry for {opt}"
        );
    }
    for kind in [
        "OVSBridge",
        "OVSPort",
        "OVSIntPort",
        "OVSBond",
        "OVSPatchPort",
        "OVSTunnel",
    ] {
        assert!(man.contains(&format!(".B {kind}\n")), "no ovs_type {kind}");
    }
}

/// The example of ifupdown-ovs-interfaces(5) passes `ifupdown-ovs check`.
#[test]
fn interfaces_man_page_example_passes_check() {
    let man = read("man/ifupdown-ovs-interfaces.5");
    let section = man
        .split(".SH EXAMPLES\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no EXAMPLES section"));
    let body = section
        .split(".nf\n")
        .nth(1)
        .and_then(|s| s.split("\n.fi\n").next())
        .unwrap_or_else(|| panic!("no .nf/.fi block in EXAMPLES"));
    let file = tempfile::NamedTempFile::new().unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(file.path(), format!("{}\n", body.replace("\\-", "-")))
        .unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new(env!("CARGO_BIN_EXE_ifupdown-ovs"))
        .args(["check", "-i"])
        .arg(file.path())
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success() && out.stdout.is_empty(),
        "check on the man page's example:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn man_pages_render_without_warnings() {
    for page in ["man/ifupdown-ovs.8", "man/ifupdown-ovs-interfaces.5"] {
        let path = root().join(page);
        // What lintian's manpages check runs.
        let out = Command::new("man")
            .args(["--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z"])
            .arg(&path)
            .env("LC_ALL", "C.UTF-8")
            .env("MANWIDTH", "80")
            .output()
            .unwrap_or_else(|e| panic!("cannot run man (package man-db): {e}"));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && err.trim().is_empty(),
            "{page}:\n{err}"
        );
    }
}

#[test]
fn bash_completion_parses() {
    run(&[
        "bash",
        "-n",
        root()
            .join("completions/ifupdown-ovs")
            .to_str()
            .unwrap_or_default(),
    ]);
}

// ---------------------------------------------------------------------------
// The real thing: build, install, purge, on this machine.

/// Not captured by the test harness, so it shows in `cargo test` output.
fn say(msg: &str) {
    let _ = writeln!(std::io::stderr(), "deb_package: {msg}");
}

fn package_status(pkg: &str) -> String {
    Command::new("dpkg-query")
        .args(["-W", "-f", "${Status}", pkg])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

fn installed(pkg: &str) -> bool {
    package_status(pkg) == "install ok installed"
}

/// dpkg knows the package in any state but "not installed" (e.g. config-files).
fn known_to_dpkg(pkg: &str) -> bool {
    let status = package_status(pkg);
    !status.is_empty() && !status.ends_with(" not-installed")
}

fn our_diversions() -> Vec<String> {
    stdout(&["dpkg-divert", "--list", "ifupdown-ovs"])
        .lines()
        .map(str::to_string)
        .collect()
}

/// The hook scripts run-parts would run, in all four directories, in both modes.
fn active_hooks() -> BTreeSet<String> {
    let mut all = BTreeSet::new();
    for dir in HOOK_DIRS {
        for lsb in [false, true] {
            let mut argv = vec!["run-parts"];
            if lsb {
                argv.push("--lsbsysinit");
            }
            argv.extend(["--test", dir]);
            all.extend(stdout(&argv).lines().map(str::to_string));
        }
    }
    all
}

fn link_target(path: &str) -> Option<PathBuf> {
    std::fs::read_link(path).ok()
}

/// openvswitch-switch's hook links are where they belong, and not diverted.
fn assert_ovs_hook_restored() {
    for d in preinst_diversions() {
        assert_eq!(
            link_target(&d.path),
            Some(PathBuf::from(OVS_HOOK_SCRIPT)),
            "{} is back",
            d.path
        );
        assert!(
            std::fs::symlink_metadata(&d.divert_to).is_err(),
            "{} is gone",
            d.divert_to
        );
    }
    assert!(
        our_diversions().is_empty(),
        "diversions left: {:?}",
        our_diversions()
    );
    let hooks = active_hooks();
    assert!(
        hooks.contains("/etc/network/if-pre-up.d/openvswitch"),
        "{hooks:?}"
    );
    assert!(
        !hooks.iter().any(|h| h.ends_with("/ifupdown-ovs")),
        "{hooks:?}"
    );
}

/// Installed, diverted, and only our hook runs.
fn assert_installed_and_diverting() {
    let divs = our_diversions();
    for d in preinst_diversions() {
        let line = format!("diversion of {} to {} by ifupdown-ovs", d.path, d.divert_to);
        assert!(divs.contains(&line), "missing `{line}` in {divs:?}");
        assert!(
            std::fs::symlink_metadata(&d.path).is_err(),
            "{} must not exist while diverted",
            d.path
        );
        assert_eq!(
            link_target(&d.divert_to),
            Some(PathBuf::from(OVS_HOOK_SCRIPT)),
            "openvswitch-switch's link sits at {}",
            d.divert_to
        );
    }
    let want: BTreeSet<String> = HOOK_DIRS
        .iter()
        .map(|d| format!("{d}/ifupdown-ovs"))
        .collect();
    let active: BTreeSet<String> = active_hooks()
        .into_iter()
        .filter(|h| h.contains("ifupdown-ovs") || h.contains("openvswitch"))
        .collect();
    assert_eq!(active, want, "only our hooks are active");
    for hook in &want {
        assert_eq!(link_target(hook), Some(PathBuf::from(SBIN)), "{hook}");
    }
    let agent = std::fs::canonicalize(OCF_AGENT).unwrap_or_else(|e| panic!("{OCF_AGENT}: {e}"));
    assert_eq!(agent, PathBuf::from(SBIN));
    for file in [
        "/usr/share/man/man8/ifupdown-ovs.8.gz",
        "/usr/share/man/man5/ifupdown-ovs-interfaces.5.gz",
        "/usr/share/bash-completion/completions/ifupdown-ovs",
        "/usr/share/doc/ifupdown-ovs/README.Debian",
        "/usr/share/doc/ifupdown-ovs/copyright",
    ] {
        assert!(Path::new(file).is_file(), "{file} is installed");
    }
    let examples = std::fs::read_dir("/usr/share/doc/ifupdown-ovs/examples")
        .map(|rd| rd.count())
        .unwrap_or(0);
    assert!(examples > 0, "examples are installed");
    let version = stdout(&[SBIN, "--version"]);
    assert!(version.contains(env!("CARGO_PKG_VERSION")), "{version}");
}

/// Puts the machine back: openvswitch-switch installed, ifupdown-ovs purged,
/// a policy-rc.d of our own removed. Runs on success and on panic.
struct Restore {
    ovs_deb: PathBuf,
    own_policy_rc_d: bool,
}

impl Drop for Restore {
    fn drop(&mut self) {
        let env = [("DEBIAN_FRONTEND", "noninteractive")];
        if known_to_dpkg("ifupdown-ovs") {
            say("restore: dpkg --purge ifupdown-ovs");
            let _ = Command::new("dpkg")
                .args(["--purge", "ifupdown-ovs"])
                .envs(env)
                .status();
        }
        if !installed("openvswitch-switch") {
            say(&format!("restore: dpkg -i {}", self.ovs_deb.display()));
            let _ = Command::new("dpkg")
                .arg("-i")
                .arg(&self.ovs_deb)
                .envs(env)
                .status();
        }
        if self.own_policy_rc_d {
            let _ = std::fs::remove_file(POLICY_RC_D);
        }
    }
}

const POLICY_RC_D: &str = "/usr/sbin/policy-rc.d";

/// What `dpkg -V` reports for a package (modified files), to compare states.
fn dpkg_verify(pkg: &str) -> String {
    Command::new("dpkg")
        .args(["-V", pkg])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

/// openvswitch-switch's .deb of the installed version, from apt's cache or
/// downloaded, so that it can be put back after the test removed it.
fn ovs_switch_deb(dir: &Path) -> PathBuf {
    let version = stdout(&["dpkg-query", "-W", "-f", "${Version}", "openvswitch-switch"]);
    let arch = stdout(&["dpkg", "--print-architecture"]);
    let file = format!(
        "openvswitch-switch_{}_{}.deb",
        version.trim().replace(':', "%3a"),
        arch.trim()
    );
    let cached = Path::new("/var/cache/apt/archives").join(&file);
    if cached.is_file() {
        return cached;
    }
    let out = Command::new("apt-get")
        .args([
            "download",
            &format!("openvswitch-switch={}", version.trim()),
        ])
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run apt-get download: {e}"));
    let path = dir.join(&file);
    assert!(
        out.status.success() && path.is_file(),
        "cannot get {file} to restore openvswitch-switch later, so not removing it:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

/// The test lab brings the seed's VLAN setup up and down with the INSTALLED files:
/// `/usr/sbin/ifupdown-ovs` as the package put it (no overlay of a build) and the
/// package's four hook links, recreated as the same links in the lab's private
/// `/etc/network`.
fn seed_up_with_installed_files() {
    let options = LabOptions {
        hooks: Hooks::None,
        binary: None,
        ..LabOptions::default()
    };
    let host = Lab::with_options("deb-seed", options).unwrap_or_else(|e| panic!("{e:?}"));
    let wire = Lab::peer("deb-seed-wire").unwrap_or_else(|e| panic!("{e:?}"));
    let ok = |argv: &[&str]| host.ok(argv).unwrap_or_else(|e| panic!("{e:?}"));
    host.add_veth("eth0", &wire, "eth0")
        .unwrap_or_else(|e| panic!("{e:?}"));
    for dir in HOOK_DIRS {
        let link = format!("{dir}/ifupdown-ovs");
        let target = std::fs::read_link(&link)
            .unwrap_or_else(|e| panic!("the package installs {link} as a link: {e}"));
        ok(&["ln", "-s", target.to_str().unwrap_or_default(), &link]);
    }
    host.start_ovs().unwrap_or_else(|e| panic!("{e:?}"));
    host.write_interfaces(&read("fixtures/examples/seed-vlan.interfaces"))
        .unwrap_or_else(|e| panic!("{e:?}"));
    ok(&["ifup", "-a"]);
    let bridges: Vec<String> = ok(&["ovs-vsctl", "list-br"])
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(bridges, ["ovsbr0", "ovsbr0v1", "ovsbr0v2"]);
    assert_eq!(
        ok(&["ovs-vsctl", "br-to-parent", "ovsbr0v2"]).trim(),
        "ovsbr0"
    );
    assert_eq!(ok(&["ovs-vsctl", "br-to-vlan", "ovsbr0v2"]).trim(), "2");
    assert_eq!(
        ok(&["ovs-vsctl", "get", "Interface", "ovsbr0p1", "mac"]).trim(),
        "\"00:01:02:03:04:05\""
    );
    ok(&["ifdown", "-a"]);
    assert_eq!(ok(&["ovs-vsctl", "list-br"]).trim(), "");
}

#[test]
fn build_install_divert_purge() {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let asked = std::env::var("IFUPDOWN_OVS_DEB_TEST").is_ok_and(|v| v == "1");
    if !ci && !asked {
        say(
            "NOT RUN: build_install_divert_purge (builds the .deb, installs and purges it on \
             this machine); runs when CI=true or IFUPDOWN_OVS_DEB_TEST=1, as root",
        );
        return;
    }
    assert!(
        nix::unistd::geteuid().is_root(),
        "build_install_divert_purge needs root (it installs the package)"
    );
    assert!(
        installed("openvswitch-switch"),
        "openvswitch-switch must be installed before this test (it is restored to that state)"
    );
    assert!(
        !known_to_dpkg("ifupdown-ovs"),
        "ifupdown-ovs is already on this machine ({}); purge it first",
        package_status("ifupdown-ovs")
    );
    assert!(
        our_diversions().is_empty(),
        "stale diversions: {:?}",
        our_diversions()
    );
    let verify_before = dpkg_verify("openvswitch-switch");

    say("building with scripts/deb (release build and lintian)");
    let built = stdout(&[root().join("scripts/deb").to_str().unwrap_or_default()]);
    let deb = built.lines().last().unwrap_or_default().to_string();
    assert!(
        deb.ends_with(".deb") && Path::new(&deb).is_file(),
        "scripts/deb printed {built:?}"
    );
    // scripts/deb fails on lintian errors and warnings; check errors once more.
    let lintian = Command::new("lintian")
        .arg(&deb)
        .output()
        .unwrap_or_else(|e| panic!("cannot run lintian: {e}"));
    let report = String::from_utf8_lossy(&lintian.stdout);
    assert!(
        !report.lines().any(|l| l.starts_with("E:")),
        "lintian errors:\n{report}"
    );

    // From here on the host's packages change, which every lab sees: wait until no
    // lab of another test is alive, and keep new ones from starting until the
    // machine is back in its starting state (`restore`, dropped before `_host`).
    say("waiting until no other test has a lab");
    let _host = HostLock::exclusive().unwrap_or_else(|e| panic!("{e}"));
    let scratch = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let ovs_deb = ovs_switch_deb(scratch.path());
    let own_policy_rc_d = !Path::new(POLICY_RC_D).exists();
    let restore = Restore {
        ovs_deb,
        own_policy_rc_d,
    };
    if own_policy_rc_d {
        // Keep package scripts from stopping or starting the host's OVS.
        std::fs::write(POLICY_RC_D, "#!/bin/sh\nexit 101\n").unwrap_or_else(|e| panic!("{e}"));
        run(&["chmod", "0755", POLICY_RC_D]);
    }

    say("openvswitch-switch first, then ifupdown-ovs");
    run(&["apt-get", "install", "-y", &deb]);
    assert_installed_and_diverting();
    say("the lab brings the seed's VLAN setup up and down with the installed files");
    seed_up_with_installed_files();
    let ours: Vec<String> = stdout(&["dpkg", "-L", "ifupdown-ovs"])
        .lines()
        .map(str::to_string)
        .collect();

    say("upgrade (reinstall) keeps the diversions");
    run(&["dpkg", "-i", &deb]);
    assert_installed_and_diverting();

    say("purge");
    run(&["apt-get", "purge", "-y", "ifupdown-ovs"]);
    assert_ovs_hook_restored();
    for path in &ours {
        let p = Path::new(path);
        if p.is_dir() && !path.contains("ifupdown-ovs") {
            continue; // shared directories such as /etc/network/if-up.d
        }
        assert!(std::fs::symlink_metadata(p).is_err(), "{path} left behind");
    }

    say("ifupdown-ovs first, then openvswitch-switch");
    run(&["dpkg", "-r", "openvswitch-switch"]);
    assert!(std::fs::symlink_metadata("/etc/network/if-pre-up.d/openvswitch").is_err());
    run(&["dpkg", "-i", &deb]);
    run(&["dpkg", "-i", restore.ovs_deb.to_str().unwrap_or_default()]);
    assert!(installed("openvswitch-switch"));
    assert_installed_and_diverting();

    say("purge again: openvswitch-switch's hook comes back");
    run(&["dpkg", "--purge", "ifupdown-ovs"]);
    assert_ovs_hook_restored();
    assert_eq!(
        dpkg_verify("openvswitch-switch"),
        verify_before,
        "dpkg -V openvswitch-switch as before"
    );
    say("done: machine back to its starting state");
}
