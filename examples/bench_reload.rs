//! `bench_reload`: the cost of `ifupdown-ovs reload` for a one-line change (one
//! VLAN port's `ovs_tag`) on a host with N VLAN ports (default 250) up, in a fresh
//! test lab (docs/architecture.md, "The test lab"), against baselines measured in
//! the same lab and run, interleaved:
//!
//! - `status`: `ifupdown-ovs status` (reads the file and OVSDB once: the floor of
//!   any command that compares the two);
//! - `vsctl`: the one `ovs-vsctl set Port` that makes the change by hand (the floor
//!   of one transaction);
//! - `ifdown+ifup`: `ifdown vlanK; ifup vlanK` after the edit, what an ifupdown user
//!   does without reload (flaps the port, recreates its device).
//!
//! Each reload is checked (the tag changed, the port kept its ifindex) and its
//! ovs-vsctl starts are counted with a logging wrapper: the target is one write
//! transaction (plus the read-only reads) and under 0.3 s. Prints a Markdown table
//! (also written to `--out`); a SHORT never fails the process, a failed check does.
//! Run it through `scripts/bench --reload`, which builds everything.

// The lab tests use all of the lab; this program only part of it.
#[allow(dead_code, unused_imports)]
#[path = "../tests/lab_tests/lab/mod.rs"]
mod lab;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use lab::{Lab, LabError, LabOptions};

const BRIDGE: &str = "ovsbr0";
const TRUNK: &str = "eth0";
const CALL_LOG: &str = "/run/bench-calls";
/// The reload target (seconds) and the number of write transactions allowed.
const TARGET_SECS: f64 = 0.3;
const TARGET_WRITES: usize = 1;

#[derive(Debug, Parser)]
struct Args {
    /// The ifupdown-ovs binary to test
    #[arg(long)]
    binary: Option<PathBuf>,
    /// Number of VLAN ports
    #[arg(long, default_value_t = 250)]
    n: usize,
    /// Repetitions of each measurement
    #[arg(long, default_value_t = 5)]
    reps: usize,
    /// Markdown output file
    #[arg(long)]
    out: Option<PathBuf>,
    /// Label for the table (build, commit)
    #[arg(long, default_value = "")]
    label: String,
}

#[derive(Debug, thiserror::Error)]
enum RunError {
    #[error(transparent)]
    Lab(#[from] LabError),
    #[error("sanity check failed: {0}")]
    Sanity(String),
}

fn interfaces(n: usize, changed: Option<(usize, usize)>) -> String {
    let vlans: Vec<String> = (1..=n).map(|k| format!("vlan{k}")).collect();
    let mut text = format!(
        "auto {BRIDGE}\niface {BRIDGE} inet manual\n    ovs_type OVSBridge\n    \
         ovs_ports {TRUNK} {}\n    ovs_datapath_type netdev\n\n\
         auto {TRUNK}\niface {TRUNK} inet manual\n    ovs_bridge {BRIDGE}\n    \
         ovs_type OVSPort\n",
        vlans.join(" ")
    );
    for (k, vlan) in (1..=n).zip(&vlans) {
        let tag = match changed {
            Some((port, tag)) if port == k => tag,
            _ => k,
        };
        let _ = write!(
            text,
            "\nauto {vlan}\niface {vlan} inet manual\n    ovs_bridge {BRIDGE}\n    \
             ovs_type OVSIntPort\n    ovs_tag {tag}\n"
        );
    }
    text
}

fn timed(f: impl FnOnce() -> Result<(), RunError>) -> Result<f64, RunError> {
    let start = Instant::now();
    f()?;
    Ok(start.elapsed().as_secs_f64())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// A logging `ovs-vsctl` first in the lab's `PATH` (see bench_boot's counters).
fn install_counter(host: &Lab) -> Result<(), RunError> {
    if !host.is_private("/usr/sbin/ip") {
        host.overlay("/usr/sbin")?;
    }
    host.ok(&["mkdir", "-p", CALL_LOG])?;
    let real = lab::find_program("ovs-vsctl")
        .and_then(|p| std::fs::canonicalize(p).ok())
        .ok_or_else(|| RunError::Sanity("ovs-vsctl not found".into()))?;
    host.ok(&["rm", "-f", "/usr/sbin/ovs-vsctl"])?;
    host.write_executable(
        "/usr/sbin/ovs-vsctl",
        &format!(
            "#!/bin/sh\necho \"$*\" >>{CALL_LOG}/ovs-vsctl\nexec {} \"$@\"\n",
            real.display()
        ),
    )?;
    Ok(())
}

/// ovs-vsctl starts since the last call: (all, writes). Reads are the read-only
/// `--format=json` listings and `--version`.
fn take_calls(host: &Lab) -> Result<(usize, usize), RunError> {
    let log = format!("{CALL_LOG}/ovs-vsctl");
    let out = host.run(&["cat", "--", &log])?;
    let lines: Vec<String> = if out.success() {
        out.stdout.lines().map(String::from).collect()
    } else {
        Vec::new()
    };
    host.ok(&["rm", "-f", "--", &log])?;
    if std::env::var_os("BENCH_SHOW_CALLS").is_some() {
        for l in &lines {
            eprintln!("  ovs-vsctl {l}");
        }
    }
    let writes = lines
        .iter()
        .filter(|l| !l.contains("--format=json") && !l.contains("--version"))
        .count();
    Ok((lines.len(), writes))
}

fn ifindex(host: &Lab, dev: &str) -> Result<String, RunError> {
    let out = host.ok(&["ip", "-o", "link", "show", "dev", dev])?;
    Ok(out.split(':').next().unwrap_or_default().trim().to_string())
}

fn tag(host: &Lab, port: &str) -> Result<String, RunError> {
    Ok(host
        .vsctl(&["get", "Port", port, "tag"])?
        .trim()
        .to_string())
}

struct Results {
    reload: Vec<f64>,
    status: Vec<f64>,
    vsctl: Vec<f64>,
    restart: Vec<f64>,
    calls: Vec<(usize, usize)>,
}

fn run(args: &Args) -> Result<Results, RunError> {
    let options = LabOptions {
        binary: args.binary.clone(),
        timeout: Duration::from_secs(600),
        ..LabOptions::default()
    };
    let host = Lab::with_options("bench-reload", options)?;
    let wire = Lab::peer("bench-reload-wire")?;
    host.add_veth(TRUNK, &wire, TRUNK)?;
    host.start_ovs()?;
    host.write_interfaces(&interfaces(args.n, None))?;
    host.ifup(&["-a"])?;
    install_counter(&host)?;
    take_calls(&host)?;
    let port = args.n / 2 + 1;
    let name = format!("vlan{port}");
    let mut r = Results {
        reload: Vec::new(),
        status: Vec::new(),
        vsctl: Vec::new(),
        restart: Vec::new(),
        calls: Vec::new(),
    };
    for rep in 0..args.reps {
        let index = ifindex(&host, &name)?;
        // reload: a one-line change, then back
        for tag_now in [4000 - rep, port] {
            let change = (tag_now != port).then_some((port, tag_now));
            host.write_interfaces(&interfaces(args.n, change))?;
            take_calls(&host)?;
            r.reload.push(timed(|| {
                host.ok(&["ifupdown-ovs", "reload"])?;
                Ok(())
            })?);
            r.calls.push(take_calls(&host)?);
            if tag(&host, &name)? != tag_now.to_string() {
                return Err(RunError::Sanity(format!("{name}: tag not {tag_now}")));
            }
            if ifindex(&host, &name)? != index {
                return Err(RunError::Sanity(format!("{name}: recreated by reload")));
            }
        }
        r.status.push(timed(|| {
            host.ok(&["ifupdown-ovs", "status"])?;
            Ok(())
        })?);
        let set = format!("tag={port}");
        r.vsctl.push(timed(|| {
            host.vsctl(&["set", "Port", &name, &set])?;
            Ok(())
        })?);
        r.restart.push(timed(|| {
            host.ifdown(&[&name])?;
            host.ifup(&[&name])?;
            Ok(())
        })?);
        take_calls(&host)?;
    }
    host.ifdown(&["-a"])?;
    Ok(r)
}

fn report(args: &Args, r: &Results) -> String {
    let reload = median(r.reload.clone());
    let max_writes = r.calls.iter().map(|c| c.1).max().unwrap_or(0);
    let max_calls = r.calls.iter().map(|c| c.0).max().unwrap_or(0);
    let verdict = |ok: bool| if ok { "PASS" } else { "SHORT" };
    let mut s = String::new();
    let _ = writeln!(
        s,
        "## reload: one-line change at N = {} VLAN ports ({} reps, {})\n",
        args.n, args.reps, args.label
    );
    let _ = writeln!(s, "| what | median s | ratio to reload |\n|---|---|---|");
    for (what, v) in [
        ("`reload` (one `ovs_tag` changed)", reload),
        ("`status` (reads file + OVSDB)", median(r.status.clone())),
        ("one `ovs-vsctl set`", median(r.vsctl.clone())),
        ("`ifdown vlanK; ifup vlanK`", median(r.restart.clone())),
    ] {
        let _ = writeln!(s, "| {what} | {v:.3} | {:.2} |", v / reload);
    }
    let _ = writeln!(
        s,
        "\nreload: {reload:.3} s (target < {TARGET_SECS} s: {}); ovs-vsctl write \
         transactions per reload: at most {max_writes} (target {TARGET_WRITES}: {}); \
         ovs-vsctl starts in all: at most {max_calls}",
        verdict(reload < TARGET_SECS),
        verdict(max_writes <= TARGET_WRITES),
    );
    s
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Err(e) = lab::check_root_and_tools() {
        eprintln!("bench_reload: cannot run here: {e}");
        return ExitCode::from(2);
    }
    match run(&args) {
        Ok(r) => {
            let text = report(&args, &r);
            print!("{text}");
            if let Some(out) = &args.out
                && let Err(e) = std::fs::write(out, &text)
            {
                eprintln!("bench_reload: {}: {e}", out.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench_reload: {e}");
            ExitCode::FAILURE
        }
    }
}
