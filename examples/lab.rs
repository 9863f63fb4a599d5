//! `lab FIXTURE`: bring an interfaces file up and down in a throwaway lab (see
//! docs/architecture.md, "The test lab", and tests/lab_tests/lab/mod.rs) and show
//! what happened. Run it through `scripts/lab`, which builds everything and passes
//! `--binary`.
//!
//! Steps: a veth "NIC" to a peer namespace for every NIC name the file mentions
//! (eth*, ens*, enp*, eno*), a private OVS, then what a Debian boot does:
//! `ifup -a` (networking), `ifup --allow=ovs <ifquery --allow ovs --list>`
//! (openvswitch-switch); then `ovs-vsctl show`, `ip -br addr`; then the reverse.
//! `source` lines are kept but the files they name are not copied into the lab.

// The lab tests use all of the lab; this program only part of it.
#[allow(dead_code, unused_imports)]
#[path = "../tests/lab_tests/lab/mod.rs"]
mod lab;

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use lab::{Hooks, Lab, LabError, LabOptions};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum HookChoice {
    Ours,
    Debian,
    None,
}

#[derive(Debug, Parser)]
#[command(about = "Bring an interfaces file up and down in a throwaway namespace lab")]
struct Args {
    /// The interfaces file to try.
    fixture: PathBuf,
    /// Hooks installed in the lab's /etc/network/if-*.d.
    #[arg(long, value_enum, default_value = "ours")]
    hooks: HookChoice,
    /// The ifupdown-ovs binary to install at /usr/sbin/ifupdown-ovs in the lab.
    #[arg(long)]
    binary: Option<PathBuf>,
    /// After bringing everything up, wait for Enter before tearing down (explore the
    /// lab with the printed nsenter command meanwhile).
    #[arg(long)]
    keep: bool,
    /// Time limit per command, in seconds.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Err(message) = lab::check_root_and_tools() {
        eprintln!("{message}");
        return ExitCode::from(2);
    }
    match run(&args) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(failed) => {
            eprintln!("lab: {failed} step(s) failed");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("lab: {e}");
            ExitCode::from(2)
        }
    }
}

/// Runs the demo; returns how many steps failed.
fn run(args: &Args) -> Result<usize, LabError> {
    let text = std::fs::read_to_string(&args.fixture).map_err(|e| LabError::Setup {
        lab: "lab".to_string(),
        message: format!("cannot read {}: {e}", args.fixture.display()),
    })?;
    let hooks = match args.hooks {
        HookChoice::Ours => Hooks::Ours,
        HookChoice::Debian => Hooks::Debian,
        HookChoice::None => Hooks::None,
    };
    let options = LabOptions {
        hooks,
        binary: args.binary.clone().or_else(lab::default_binary),
        timeout: Duration::from_secs(args.timeout),
        ..LabOptions::default()
    };
    let host = Lab::with_options("lab", options)?;
    let wire = Lab::peer("lab-wire")?;
    let nics = lab::nics_named_in(&text);
    for nic in &nics {
        host.add_veth(nic, &wire, nic)?;
    }
    println!(
        "lab: NICs (veth to namespace lab-wire): {}",
        if nics.is_empty() {
            "none".to_string()
        } else {
            nics.join(" ")
        }
    );
    host.write_interfaces(&text)?;
    host.start_ovs()?;
    println!("lab: OVS started (userspace datapath), hooks: {:?}", hooks);

    let mut failed = 0;
    failed += step(&host, &["ifup", "-a"])?;
    let ovs_class = allow_ovs(&host)?;
    if !ovs_class.is_empty() {
        let mut argv = vec!["ifup", "--allow=ovs"];
        argv.extend(ovs_class.iter().map(String::as_str));
        failed += step(&host, &argv)?;
    }
    show(&host)?;

    if args.keep {
        println!(
            "lab: kept. Explore with: nsenter -t {} -m -n -u -p bash   (peer: nsenter -t {} -m -n -u -p bash)",
            host.pid(),
            wire.pid()
        );
        println!("lab: press Enter to tear down");
        let mut line = String::new();
        let _ = std::io::stdin().lock().read_line(&mut line);
    }

    if !ovs_class.is_empty() {
        let mut argv = vec!["ifdown", "--allow=ovs"];
        argv.extend(ovs_class.iter().map(String::as_str));
        failed += step(&host, &argv)?;
    }
    failed += step(&host, &["ifdown", "-a"])?;
    show(&host)?;
    Ok(failed)
}

/// Interfaces of the `allow-ovs` class, as the openvswitch-switch init script asks.
fn allow_ovs(host: &Lab) -> Result<Vec<String>, LabError> {
    let out = host.run(&["ifquery", "--allow", "ovs", "--list"])?;
    Ok(out.stdout.split_whitespace().map(str::to_string).collect())
}

/// Runs one step and prints it; returns 1 if it failed, else 0.
fn step(host: &Lab, argv: &[&str]) -> Result<usize, LabError> {
    println!("\n$ {}", argv.join(" "));
    let start = Instant::now();
    let out = host.run(argv)?;
    print!("{}", out.stdout);
    eprint!("{}", out.stderr);
    println!("({}, {:.2} s)", out.status, start.elapsed().as_secs_f64());
    Ok(usize::from(!out.success()))
}

/// Prints the state of OVS and of the links.
fn show(host: &Lab) -> Result<(), LabError> {
    for argv in [
        &["ovs-vsctl", "--timeout=10", "show"][..],
        &["ip", "-br", "addr"][..],
    ] {
        println!("\n$ {}", argv.join(" "));
        let out = host.run(argv)?;
        print!("{}{}", out.stdout, out.stderr);
    }
    Ok(())
}
