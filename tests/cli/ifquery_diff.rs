//! Differential test: `ifupdown-ovs query` against the real `ifquery` (ifupdown 0.8)
//! on every fixture in fixtures/parse/, fixtures/examples/ and fixtures/ifquery/
//! (the last holds ifupdown's own testcases 1, 3, 5, 7 and 9, whose stanzas make
//! ifquery derive values: netmask and broadcast from `address A/N`, `broadcast
//! -`, inet6 prefixes and defaults, `hwaddress ether X`, a 6to4 `hexaddress`).
//!
//! For each `*.interfaces` file it runs, with both programs: `IFACE` for every
//! interface named in the file (plus one unknown name), `--list`, and
//! `--list --allow CLASS` for every allow class, and compares standard output and
//! success/failure. Everything must match line for line, the values ifquery
//! derives from the method included.
//!
//! ifquery gets a fresh `--state-dir`, so that the host's /run/network/ifstate does
//! not change its answers. Needs `/sbin/ifquery` (package ifupdown); it fails with a
//! clear message when that is missing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use ifupdown_ovs::interfaces::Config;

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
    for dir in ["parse", "examples", "ifquery"] {
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

/// Compare ifquery's output with ours, line for line.
fn compare(ifq: &str, ours: &str) -> Result<(), String> {
    let q: Vec<&str> = ifq.lines().collect();
    let o: Vec<&str> = ours.lines().collect();
    for i in 0..q.len().max(o.len()) {
        let (a, b) = (q.get(i).copied(), o.get(i).copied());
        if a != b {
            return Err(format!(
                "line {}: ifquery {:?} vs ours {:?}",
                i + 1,
                a.unwrap_or("<end>"),
                b.unwrap_or("<end>")
            ));
        }
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
        "{} of {compared} queries differ from ifquery:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn compare_catches_every_difference() {
    assert_eq!(compare("mtu: 1500\n9000\n", "mtu: 1500\n9000\n"), Ok(()));
    // a changed value, a missing line, an extra line, a derived value left out
    assert!(compare("mtu: 1500\n", "mtu: 9000\n").is_err());
    assert!(compare("mtu: 1500\nup: x\n", "mtu: 1500\n").is_err());
    assert!(compare("mtu: 1500\n", "mtu: 1500\nup: x\n").is_err());
    assert!(compare("address: 192.0.2.1\n", "address: 192.0.2.1/24\n").is_err());
    assert!(compare("address: a\nnetmask: 1\n", "address: a\n").is_err());
}
