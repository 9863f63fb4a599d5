//! Differential test: `ifupdown-ovs query` against the real `ifquery` (ifupdown 0.8)
//! on every fixture in fixtures/parse/ and fixtures/examples/.
//!
//! For each `*.interfaces` file it runs, with both programs: `IFACE` for every
//! interface named in the file (plus one unknown name), `--list`, and
//! `--list --allow CLASS` for every allow class, and compares standard output and
//! success/failure.
//!
//! Values that ifquery derives itself from the method are left out of the
//! comparison, because `query` prints only what the files say: the options in
//! [`DERIVED`] when ifquery adds them (for example `netmask` and `broadcast` from
//! `address 192.0.2.1/24`, the inet6 defaults `dad-attempts` and so on), and the
//! prefix that ifquery cuts off `address` (it moves it to `netmask`). Everything
//! else must match line for line.
//!
//! ifquery gets a fresh `--state-dir`, so that the host's /run/network/ifstate does
//! not change its answers. Needs `/sbin/ifquery` (package ifupdown); it fails with a
//! clear message when that is missing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use ifupdown_ovs::interfaces::Config;

/// Options ifquery adds or computes from the method (ifupdown 0.8.41 on Linux).
const DERIVED: &[&str] = &[
    "broadcast",
    "netmask",
    "autoconf",
    "preferred-lifetime",
    "dad-attempts",
    "dad-interval",
    "accept_ra",
    "request_prefix",
    "ll-attempts",
    "ll-interval",
    "hexaddress",
];

fn ifquery() -> PathBuf {
    for p in ["/sbin/ifquery", "/usr/sbin/ifquery"] {
        if Path::new(p).exists() {
            return PathBuf::from(p);
        }
    }
    panic!(
        "ifquery not found (/sbin/ifquery): this test compares against ifupdown 0.8's \
         ifquery; install it with `apt-get install ifupdown`"
    );
}

fn fixtures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut out = Vec::new();
    for dir in ["parse", "examples"] {
        let Ok(rd) = std::fs::read_dir(root.join(dir)) else {
            continue; // fixtures/examples may not exist yet
        };
        let mut files: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "interfaces"))
            .collect();
        files.sort();
        out.extend(files);
    }
    out
}

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

fn run(cmd: &mut Command) -> Run {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    Run {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Compare ifquery's output with ours, skipping what ifquery derives itself.
fn compare(ifq: &str, ours: &str) -> Result<(), String> {
    let q: Vec<&str> = ifq.lines().collect();
    let o: Vec<&str> = ours.lines().collect();
    let (mut i, mut j) = (0, 0);
    while i < q.len() {
        if j < o.len() && q[i] == o[j] {
            i += 1;
            j += 1;
            continue;
        }
        if let Some((name, _)) = q[i]
            .split_once(": ")
            .or(q[i].strip_suffix(':').map(|n| (n, "")))
            && DERIVED.contains(&name)
        {
            i += 1;
            continue;
        }
        if j < o.len()
            && let (Some(qa), Some(oa)) = (
                q[i].strip_prefix("address: "),
                o[j].strip_prefix("address: "),
            )
            && oa
                .strip_prefix(qa)
                .is_some_and(|rest| rest.starts_with('/'))
        {
            i += 1;
            j += 1;
            continue;
        }
        return Err(format!(
            "ifquery line {} {:?} vs ours line {} {:?}",
            i + 1,
            q[i],
            j + 1,
            o.get(j).copied().unwrap_or("<end>")
        ));
    }
    if j < o.len() {
        return Err(format!("ours has extra line {} {:?}", j + 1, o[j]));
    }
    Ok(())
}

/// Interface names and allow classes to ask about.
fn questions(file: &Path) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut names = BTreeSet::new();
    let mut classes = BTreeSet::new();
    names.insert("no-such-iface0".to_string());
    names.insert("lo".to_string());
    classes.insert("auto".to_string());
    if let Ok(cfg) = Config::load(file) {
        for i in &cfg.ifaces {
            names.insert(i.name.clone());
        }
        for (class, entry, _) in &cfg.allow {
            classes.insert(class.clone());
            if !entry.contains('/') {
                names.insert(entry.clone());
            }
        }
    }
    (names, classes)
}

#[test]
fn query_matches_ifquery_on_fixtures() {
    let ifq = ifquery();
    let ours = env!("CARGO_BIN_EXE_ifupdown-ovs");
    let files = fixtures();
    assert!(!files.is_empty(), "no fixtures found under fixtures/parse");
    let state = tempfile::tempdir().expect("temporary state dir");
    let mut failures = Vec::new();
    let mut compared = 0;
    for file in &files {
        let (names, classes) = questions(file);
        let mut asks: Vec<Vec<String>> = names.iter().map(|n| vec![n.clone()]).collect();
        for c in &classes {
            asks.push(vec!["--list".into(), "--allow".into(), c.clone()]);
        }
        asks.push(vec!["--list".into()]);
        for ask in asks {
            let theirs = run(Command::new(&ifq)
                .arg("-i")
                .arg(file)
                .arg("--state-dir")
                .arg(state.path())
                .args(&ask));
            let mine = run(Command::new(ours)
                .arg("query")
                .arg("-i")
                .arg(file)
                .args(&ask));
            compared += 1;
            let what = format!("{} {}", file.display(), ask.join(" "));
            if theirs.ok != mine.ok {
                failures.push(format!(
                    "{what}: ifquery {} but ours {}\n  ifquery stderr: {}\n  our stderr: {}",
                    if theirs.ok { "succeeds" } else { "fails" },
                    if mine.ok { "succeeds" } else { "fails" },
                    theirs.stderr.trim(),
                    mine.stderr.trim()
                ));
                continue;
            }
            if let Err(e) = compare(&theirs.stdout, &mine.stdout) {
                failures.push(format!(
                    "{what}: {e}\n--- ifquery:\n{}--- ours:\n{}",
                    theirs.stdout, mine.stdout
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {compared} queries differ from ifquery (values ifquery derives itself \
         — {DERIVED:?} and the /prefix of address — are left out of the comparison):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn compare_skips_only_derived_values() {
    let ifq = "address: 192.0.2.1\nmtu: 1500\n9000\nbroadcast: 192.0.2.255\nnetmask: 255.255.255.0\npreferred-lifetime: \n";
    let ours = "address: 192.0.2.1/24\nmtu: 1500\n9000\n";
    assert_eq!(compare(ifq, ours), Ok(()));
    // A real difference is caught: a changed value, a missing line, an extra line.
    assert!(compare("mtu: 1500\n", "mtu: 9000\n").is_err());
    assert!(compare("mtu: 1500\nup: x\n", "mtu: 1500\n").is_err());
    assert!(compare("mtu: 1500\n", "mtu: 1500\nup: x\n").is_err());
    assert!(compare("address: 192.0.2.1\n", "address: 192.0.2.10/24\n").is_err());
    // A derived name that we print must match too.
    assert!(compare("netmask: 1\n", "netmask: 2\n").is_err());
}
