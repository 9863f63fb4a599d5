//! `ifupdown-ovs check` on the fixture files: every broken fixture gives exactly the
//! diagnostics its `# expect: LINE: ...` header lines announce and exit status 1;
//! every example and parser fixture passes (no error, exit status 0).

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixtures(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(dir);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// (exit status, stdout lines) of `ifupdown-ovs check -i FILE`, with the copy of
/// the OVS schema in fixtures/schema/ (not the host's).
fn check(file: &Path) -> (i32, Vec<String>) {
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/schema/vswitch.ovsschema");
    let out = Command::new(env!("CARGO_BIN_EXE_ifupdown-ovs"))
        .arg("check")
        .arg("-i")
        .arg(file)
        .env("IFUPDOWN_OVS_SCHEMA", schema)
        .env_remove("IFACE")
        .env_remove("PHASE")
        .env_remove("MODE")
        .output()
        .expect("run ifupdown-ovs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    (
        out.status.code().unwrap_or(-1),
        stdout.lines().map(str::to_string).collect(),
    )
}

#[test]
fn broken_fixtures_report_exactly_their_problem() {
    let files = fixtures("broken");
    assert!(files.len() >= 30, "broken fixtures missing: {files:?}");
    let mut failures = Vec::new();
    for file in &files {
        // lossy: a fixture may hold invalid UTF-8 (outside its `# expect:` lines)
        let text =
            String::from_utf8_lossy(&std::fs::read(file).expect("read fixture")).into_owned();
        let expected: Vec<String> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# expect: "))
            .map(|rest| format!("{}:{rest}", file.display()))
            .collect();
        assert!(
            !expected.is_empty(),
            "{}: no `# expect:` line",
            file.display()
        );
        let (code, lines) = check(file);
        if code != 1 || lines != expected {
            failures.push(format!(
                "{}: exit {code}\n  expected: {expected:#?}\n  got: {lines:#?}",
                file.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn examples_and_parser_fixtures_pass() {
    let files: Vec<PathBuf> = ["examples", "parse"]
        .iter()
        .flat_map(|d| fixtures(d))
        .collect();
    assert!(
        files.iter().any(|f| f.ends_with("seed-vlan.interfaces")),
        "examples missing"
    );
    let mut failures = Vec::new();
    for file in &files {
        let (code, lines) = check(file);
        if code != 0 || lines.iter().any(|l| l.contains(": error: ")) {
            failures.push(format!("{}: exit {code}: {lines:#?}", file.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A schema that cannot be read is one warning for the whole file, not a failure
/// and not one warning per interface (docs/options.md, "Checked against the OVS
/// schema").
#[test]
fn unreadable_schema_is_one_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("interfaces");
    std::fs::write(
        &file,
        "iface br0 inet manual\n    ovs_type OVSBridge\n    ovs_options stp_enable=maybe\n\n\
         iface p0 inet manual\n    ovs_type OVSIntPort\n    ovs_bridge br0\n    ovs_extra frobnicate\n",
    )
    .expect("write");
    let garbled = dir.path().join("schema.json");
    std::fs::write(&garbled, "{\"name\": ").expect("write");
    for schema in [dir.path().join("missing.json"), garbled] {
        let out = Command::new(env!("CARGO_BIN_EXE_ifupdown-ovs"))
            .args(["check", "-i"])
            .arg(&file)
            .env("IFUPDOWN_OVS_SCHEMA", &schema)
            .env_remove("IFACE")
            .env_remove("PHASE")
            .env_remove("MODE")
            .output()
            .expect("run ifupdown-ovs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(out.status.code(), Some(0), "{stdout}");
        assert_eq!(lines.len(), 1, "{stdout}");
        assert!(
            lines[0].starts_with(&format!("{}: warning: ", schema.display()))
                && lines[0].ends_with("are not checked against the OVS schema"),
            "{stdout}"
        );
    }
}
