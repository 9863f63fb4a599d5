//! Helpers shared by the hook_* lab tests: fixtures, traffic checks, OVS queries.

use std::time::Duration;

use crate::lab::{Hooks, Lab, LabError, LabOptions};

/// Text of `fixtures/examples/NAME`.
pub fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/examples")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Whether `from` reaches `addr` (a few tries: ARP and MAC learning take a moment).
pub fn reaches(from: &Lab, addr: &str) -> Result<bool, LabError> {
    for _ in 0..4 {
        if from
            .run(&["ping", "-n", "-c", "1", "-W", "1", addr])?
            .success()
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether `from` reaches `addr` at once; for addresses that must NOT answer
/// (one try of two seconds).
pub fn answers(from: &Lab, addr: &str) -> Result<bool, LabError> {
    Ok(from
        .run(&["ping", "-n", "-c", "2", "-i", "0.5", "-W", "1", addr])?
        .success())
}

/// Non-empty trimmed lines of `ovs-vsctl ARGS`.
pub fn vsctl_lines(l: &Lab, args: &[&str]) -> Result<Vec<String>, LabError> {
    Ok(l.vsctl(args)?
        .lines()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect())
}

/// `ovs-vsctl get ...`, trimmed.
pub fn get(l: &Lab, args: &[&str]) -> Result<String, LabError> {
    let mut a = vec!["get"];
    a.extend_from_slice(args);
    Ok(l.vsctl(&a)?.trim().to_string())
}

/// Everything in OVSDB that ifupdown-ovs marked as its own (rows with
/// `external_ids:ifupdown-ovs`), as `Table:name` lines.
pub fn ours(l: &Lab) -> Result<Vec<String>, LabError> {
    let mut out = Vec::new();
    for table in ["Bridge", "Port", "Interface"] {
        let names = l.vsctl(&[
            "--bare",
            "--columns=name",
            "find",
            table,
            "external_ids:ifupdown-ovs!=\"\"",
        ])?;
        out.extend(
            names
                .lines()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(|n| format!("{table}:{n}")),
        );
    }
    out.sort();
    Ok(out)
}

/// A sysctl inside the lab.
pub fn sysctl(l: &Lab, path: &str) -> Result<String, LabError> {
    Ok(l.read_file(&format!("/proc/sys/{path}"))?
        .trim()
        .to_string())
}

/// IPv6 addresses of a device (empty when none).
pub fn inet6(l: &Lab, dev: &str) -> Result<String, LabError> {
    Ok(l.ok(&["ip", "-6", "-o", "addr", "show", "dev", dev])?
        .trim()
        .to_string())
}

/// The MAC of a kernel device (`ip -br link`: /sys belongs to the host's netns).
pub fn link_mac(l: &Lab, dev: &str) -> Result<String, LabError> {
    let out = l.ok(&["ip", "-br", "link", "show", "dev", dev])?;
    Ok(out
        .split_whitespace()
        .nth(2)
        .unwrap_or_default()
        .to_string())
}

/// `ifup`/`ifdown` ARGS, which must succeed without printing anything on stderr.
pub fn quiet(l: &Lab, argv: &[&str]) -> Result<(), LabError> {
    let out = l.run(argv)?;
    assert!(out.success(), "{argv:?} failed: {out:?}");
    assert_eq!(out.stderr, "", "{argv:?} printed on stderr");
    Ok(())
}

/// A lab with no hooks and its own OVS: a simulated switch.
pub fn switch(name: &str) -> Result<Lab, LabError> {
    let sw = Lab::with_options(
        name,
        LabOptions {
            hooks: Hooks::None,
            ..Default::default()
        },
    )?;
    sw.start_ovs()?;
    sw.vsctl(&[
        "add-br",
        "sw0",
        "--",
        "set",
        "Bridge",
        "sw0",
        "datapath_type=netdev",
    ])?;
    sw.ok(&["ip", "link", "set", "dev", "sw0", "up"])?;
    Ok(sw)
}

/// Poll up to `secs` seconds for `check`.
pub fn eventually(
    l: &Lab,
    what: &str,
    secs: u64,
    check: impl FnMut() -> Result<bool, LabError>,
) -> Result<(), LabError> {
    l.wait_for(what, Duration::from_secs(secs), check)
}

/// Whether a device is administratively up (UP in its flags; the operational state
/// of OVS tap devices stays UNKNOWN).
pub fn is_up(l: &Lab, dev: &str) -> Result<bool, LabError> {
    let out = l.ok(&["ip", "-br", "link", "show", "dev", dev])?;
    let flags = out.split_whitespace().last().unwrap_or_default();
    Ok(flags
        .trim_matches(|c| c == '<' || c == '>')
        .split(',')
        .any(|f| f == "UP"))
}
