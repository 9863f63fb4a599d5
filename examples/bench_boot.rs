//! `bench_boot`: boot-time cost of `ifup -a` / `ifdown -a` for a hypervisor-like
//! interfaces file (one bridge `ovsbr0`, a trunk port `eth0`, N tagged internal
//! ports `vlanK`, `auto` on each), measured in fresh test labs (docs/architecture.md "The test
//! lab") for four or five variants, interleaved round-robin:
//!
//! - `ours`: our four hook links;
//! - `debian`: Debian's `ifupdown.sh` hook;
//! - `ifupdown`: `/bin/true` as the only hook in each `if-*.d` (ifupdown's own cost);
//! - `ovs`: no ifupdown at all, one `ovs-vsctl` transaction creating everything plus
//!   one `ip -batch` setting the links up; down: one `ovs-vsctl del-br`;
//! - `before` (only with `--before-binary`): our hooks from an earlier build, so that a
//!   change is measured against the code it replaces in the same run
//!   (`scripts/bench --before REV` builds REV and passes it).
//!
//! Every run is checked (ports, tags and links exist after up; nothing of the bridge
//! is left after down), so that a broken hook never looks fast. Prints medians, the
//! ratios to the floors and PASS/SHORT per target as a Markdown table, also written
//! to `--out`. A SHORT never fails the process; a failed run does (exit 1).
//! Run it through `scripts/bench`, which builds everything and passes `--binary`.

// The lab tests use all of the lab; this program only part of it.
#[allow(dead_code, unused_imports)]
#[path = "../tests/lab_tests/lab/mod.rs"]
mod lab;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use lab::{Hooks, Lab, LabError, LabOptions};

/// The hook directories of ifupdown (where the no-op variant links `/bin/true`).
const HOOK_DIRS: &[&str] = &[
    "/etc/network/if-pre-up.d",
    "/etc/network/if-up.d",
    "/etc/network/if-down.d",
    "/etc/network/if-post-down.d",
];

const BRIDGE: &str = "ovsbr0";
const TRUNK: &str = "eth0";

/// Which commands bring the interfaces up and down: one row pair (up, down) of
/// the report each. A new row is one more variant here (with its arms in
/// `name`, `args`, `shown` and, if its file differs, `file_text`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, ValueEnum)]
enum Command {
    /// `ifup -a` / `ifdown -a`, every stanza `auto`.
    #[default]
    All,
    /// README.Debian's style: the bridge `auto`, its ports `allow-ovsbr0` (the
    /// bridge's hook brings them up with `ifup --allow=ovsbr0`); `ifup -a` /
    /// `ifdown -a`.
    Bridge,
    /// Debian 12's `networking.service`: `ifup -a --read-environment` /
    /// `ifdown -a --read-environment --exclude=lo`.
    ReadEnv,
    /// `/etc/init.d/openvswitch-switch`: every stanza `allow-ovs` instead of
    /// `auto`, `ifup --allow=ovs NAMES` / `ifdown --allow=ovs NAMES` (NAMES: what
    /// `ifquery --allow ovs --list` prints, in file order).
    InitScript,
    /// Hotplug (`ifup@.service`): N NICs `allow-hotplug`, the bridge up already
    /// (untimed); `ifup --allow=hotplug NIC` / `ifdown NIC`, one NIC after the other.
    Hotplug,
    /// The same, all N processes started at once.
    HotplugConcurrent,
}

impl Command {
    /// Every row, in the order of the report.
    const ROWS: [Command; 6] = [
        Command::All,
        Command::Bridge,
        Command::ReadEnv,
        Command::InitScript,
        Command::Hotplug,
        Command::HotplugConcurrent,
    ];

    /// The row's name on the command line and in progress lines.
    fn name(self) -> String {
        self.to_possible_value()
            .map(|v| v.get_name().to_string())
            .unwrap_or_default()
    }

    /// One process per NIC (the hotplug rows).
    fn hotplug(self) -> bool {
        matches!(self, Command::Hotplug | Command::HotplugConcurrent)
    }

    /// The ifup (`up`) or ifdown arguments for `n` VLAN ports (not for hotplug:
    /// see [`hotplug_argv`]).
    fn args(self, up: bool, n: usize) -> Vec<String> {
        let mut a: Vec<String> = match self {
            Command::All | Command::Bridge => vec!["-a".into()],
            Command::ReadEnv if up => vec!["-a".into(), "--read-environment".into()],
            Command::ReadEnv => vec![
                "-a".into(),
                "--read-environment".into(),
                "--exclude=lo".into(),
            ],
            Command::InitScript => vec!["--allow=ovs".into()],
            Command::Hotplug | Command::HotplugConcurrent => Vec::new(),
        };
        if self == Command::InitScript {
            a.extend(link_names(n));
        }
        a
    }

    /// How the report names the up or down command.
    fn shown(self, phase: Phase) -> &'static str {
        match (self, phase) {
            (Command::All, Phase::Up) => "ifup -a",
            (Command::All, Phase::Down) => "ifdown -a",
            (Command::Bridge, Phase::Up) => "ifup -a (ports allow-ovsbr0)",
            (Command::Bridge, Phase::Down) => "ifdown -a (ports allow-ovsbr0)",
            (Command::ReadEnv, Phase::Up) => "ifup -a --read-environment",
            (Command::ReadEnv, Phase::Down) => "ifdown -a --read-environment --exclude=lo",
            (Command::InitScript, Phase::Up) => "ifup --allow=ovs $(ifquery --allow ovs --list)",
            (Command::InitScript, Phase::Down) => {
                "ifdown --allow=ovs $(ifquery --allow ovs --list)"
            }
            (Command::Hotplug, Phase::Up) => "ifup --allow=hotplug NIC, one by one",
            (Command::Hotplug, Phase::Down) => "ifdown NIC, one by one",
            (Command::HotplugConcurrent, Phase::Up) => "ifup --allow=hotplug NIC, all at once",
            (Command::HotplugConcurrent, Phase::Down) => "ifdown NIC, all at once",
        }
    }

    /// The interfaces file of this row for `variant`. The floors get every stanza
    /// `auto` in the `bridge` row: with `/bin/true` as hooks nothing would bring
    /// `allow-ovsbr0` ports up.
    fn file_text(self, variant: Variant, n: usize, ports_line: bool) -> String {
        if self.hotplug() {
            return hotplug_interfaces(variant, n);
        }
        let text = interfaces(variant, n, ports_line);
        match self {
            Command::InitScript => text.replace("\nauto ", "\nallow-ovs "),
            Command::Bridge if variant.hooks() != Hooks::None => text
                .replace("\nauto ", &format!("\nallow-{BRIDGE} "))
                .replacen(
                    &format!("\nallow-{BRIDGE} {BRIDGE}\n"),
                    &format!("\nauto {BRIDGE}\n"),
                    1,
                ),
            _ => text,
        }
    }
}

/// What is measured in one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
enum Variant {
    /// Our hooks.
    Ours,
    /// Debian's hook (openvswitch-switch's ifupdown.sh).
    Debian,
    /// `/bin/true` as the only hook: ifupdown's own cost.
    Ifupdown,
    /// One ovs-vsctl transaction + one `ip -batch` (up), one `del-br` (down).
    Ovs,
    /// Our hooks from an earlier build (`--before-binary`).
    Before,
}

impl Variant {
    const ALL: [Variant; 4] = [
        Variant::Ours,
        Variant::Debian,
        Variant::Ifupdown,
        Variant::Ovs,
    ];

    fn name(self) -> &'static str {
        match self {
            Variant::Ours => "ours",
            Variant::Debian => "debian",
            Variant::Ifupdown => "ifupdown",
            Variant::Ovs => "ovs",
            Variant::Before => "before",
        }
    }

    fn hooks(self) -> Hooks {
        match self {
            Variant::Ours | Variant::Before => Hooks::Ours,
            Variant::Debian => Hooks::Debian,
            Variant::Ifupdown | Variant::Ovs => Hooks::None,
        }
    }

    /// True when the variant builds an OVS bridge (checked after up and down).
    fn builds_bridge(self) -> bool {
        self != Variant::Ifupdown
    }
}

#[derive(Debug, Parser)]
#[command(about = "Benchmark ifup -a / ifdown -a: our hooks vs Debian's vs the floors")]
struct Args {
    /// The ifupdown-ovs binary to install in the labs (needed for `ours`).
    #[arg(long)]
    binary: Option<PathBuf>,
    /// An earlier build of the ifupdown-ovs binary: adds the variant `before`.
    #[arg(long)]
    before_binary: Option<PathBuf>,
    /// What the earlier build is (e.g. its commit), printed with its results.
    #[arg(long, default_value = "earlier build")]
    label_before: String,
    /// Quick run: 2 repetitions, N = 10 and 100 (unless --reps / --sizes say otherwise).
    #[arg(long)]
    quick: bool,
    /// Repetitions per variant and N (default 5, or 2 with --quick).
    #[arg(long)]
    reps: Option<usize>,
    /// Numbers of VLAN ports, comma separated (default 10,100,250; --quick 10,100).
    #[arg(long, value_delimiter = ',')]
    sizes: Option<Vec<usize>>,
    /// Variants to run, comma separated (default all).
    #[arg(long, value_enum, value_delimiter = ',')]
    variants: Option<Vec<Variant>>,
    /// Where to write the Markdown result.
    #[arg(long, default_value = "target/bench-boot.md")]
    out: PathBuf,
    /// Free text describing the build (commit, profile), printed with the results.
    #[arg(long, default_value = "")]
    label: String,
    /// Leave `ovs_ports` out of the bridge stanza (ports then only come up through
    /// their own `auto` stanzas): shows what batching from `ovs_ports` is worth.
    #[arg(long)]
    without_ovs_ports: bool,
    /// After the timed runs, one untimed run per N and variant that counts the
    /// `ovs-vsctl` and `ip` processes started during up and down (through logging
    /// wrappers in the lab's `/usr/sbin`).
    #[arg(long)]
    count_calls: bool,
    /// With --count-calls: also print every counted command line to stderr.
    #[arg(long, requires = "count_calls")]
    show_calls: bool,
    /// The rows measured, comma separated (default: every row): `all` (`ifup -a`),
    /// `bridge` (bridge `auto`, ports `allow-ovsbr0`), `read-env` (Debian 12's
    /// boot, `ifup -a --read-environment`), `init-script` (`ifup --allow=ovs
    /// NAMES`, every stanza `allow-ovs`), `hotplug` and `hotplug-concurrent`
    /// (`ifup --allow=hotplug NIC` per NIC).
    #[arg(long, alias = "command", value_enum, value_delimiter = ',')]
    commands: Option<Vec<Command>>,
    /// Time limit per command in a lab, in seconds.
    #[arg(long, default_value_t = 300)]
    timeout: u64,
}

/// What can end one run.
#[derive(Debug, thiserror::Error)]
enum RunError {
    #[error("{0}")]
    Lab(#[from] LabError),
    /// The run completed but left the wrong state (a broken hook must not look fast).
    #[error("sanity check failed: {0}")]
    Sanity(String),
}

/// Wall times of one run.
#[derive(Clone, Copy, Debug)]
struct Sample {
    up: Duration,
    down: Duration,
}

/// Processes started during one up and one down, per counted program
/// (in the order of [`COUNTED`]).
#[derive(Clone, Debug)]
struct Calls {
    up: Vec<usize>,
    down: Vec<usize>,
}

/// One cell of the report: the row's command, N, the variant.
type Key = (Command, usize, Variant);

/// All samples, by [`Key`]; failures as messages.
#[derive(Default)]
struct Results {
    samples: BTreeMap<Key, Vec<Sample>>,
    calls: BTreeMap<Key, Calls>,
    failures: Vec<String>,
}

fn main() -> ExitCode {
    let mut args = Args::parse();
    // The lab resolves binaries inside its own mount namespace (cwd `/`).
    for (flag, binary) in [
        ("--binary", &mut args.binary),
        ("--before-binary", &mut args.before_binary),
    ] {
        if let Some(given) = binary.as_ref() {
            match std::fs::canonicalize(given) {
                Ok(path) => *binary = Some(path),
                Err(e) => {
                    eprintln!("bench_boot: {flag} {}: {e}", given.display());
                    return ExitCode::from(2);
                }
            }
        }
    }
    if let Err(message) = lab::check_root_and_tools() {
        eprintln!("{message}");
        return ExitCode::from(2);
    }
    let variants = args.variants.clone().unwrap_or_else(|| {
        let mut all = Variant::ALL.to_vec();
        if args.before_binary.is_some() {
            all.push(Variant::Before);
        }
        all
    });
    if variants.contains(&Variant::Before) && args.before_binary.is_none() {
        eprintln!(
            "bench_boot: variant `before` needs --before-binary (scripts/bench --before REV)"
        );
        return ExitCode::from(2);
    }
    if variants.contains(&Variant::Ours) && args.binary.is_none() {
        eprintln!("bench_boot: variant `ours` needs --binary (scripts/bench passes it)");
        return ExitCode::from(2);
    }
    let reps = args.reps.unwrap_or(if args.quick { 1 } else { 3 });
    let sizes = args.sizes.clone().unwrap_or_else(|| {
        if args.quick {
            vec![10]
        } else {
            vec![10, 100, 250]
        }
    });
    let commands = args
        .commands
        .clone()
        .unwrap_or_else(|| Command::ROWS.to_vec());

    let load_before = load_average();
    let started = Instant::now();
    let mut results = Results::default();
    for rep in 0..reps {
        for (&command, &n) in commands
            .iter()
            .flat_map(|c| sizes.iter().map(move |n| (c, n)))
        {
            // Rotate the order per repetition, so no variant always runs first.
            for i in 0..variants.len() {
                let variant = variants[(i + rep) % variants.len()];
                let label = format!(
                    "rep {}/{reps} {} N={n} {}",
                    rep + 1,
                    command.name(),
                    variant.name()
                );
                match run_once(&args, command, variant, n, false) {
                    Ok((sample, _)) => {
                        eprintln!(
                            "{label}: up {:.3} s, down {:.3} s",
                            secs(sample.up),
                            secs(sample.down)
                        );
                        results
                            .samples
                            .entry((command, n, variant))
                            .or_default()
                            .push(sample);
                    }
                    Err(e) => {
                        eprintln!("{label}: FAILED: {e}");
                        results.failures.push(format!("{label}: {e}"));
                    }
                }
            }
        }
    }
    if args.count_calls {
        for (&command, &n) in commands
            .iter()
            .flat_map(|c| sizes.iter().map(move |n| (c, n)))
        {
            for &variant in &variants {
                let label = format!("counting {} N={n} {}", command.name(), variant.name());
                match run_once(&args, command, variant, n, true) {
                    Ok((_, Some(calls))) => {
                        eprintln!("{label}: up {:?}, down {:?}", calls.up, calls.down);
                        results.calls.insert((command, n, variant), calls);
                    }
                    Ok((_, None)) => {}
                    Err(e) => {
                        eprintln!("{label}: FAILED: {e}");
                        results.failures.push(format!("{label}: {e}"));
                    }
                }
            }
        }
    }
    let elapsed = started.elapsed();

    let load = (load_before, load_average());
    let report = report(&args, reps, &commands, &sizes, &results, elapsed, load);
    print!("{report}");
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty())
        && let Err(e) = std::fs::create_dir_all(dir)
    {
        eprintln!("bench_boot: cannot create {}: {e}", dir.display());
    }
    match std::fs::write(&args.out, &report) {
        Ok(()) => eprintln!("bench_boot: written to {}", args.out.display()),
        Err(e) => eprintln!("bench_boot: cannot write {}: {e}", args.out.display()),
    }
    if results.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("bench_boot: {} run(s) failed", results.failures.len());
        ExitCode::from(1)
    }
}

// ---------------------------------------------------------------- one run

/// One fresh lab: set up (untimed), `ifup -a` (timed), check, `ifdown -a` (timed),
/// check; the lab is torn down when it goes out of scope. With `count`, the
/// programs of [`COUNTED`] are wrapped and their starts counted (the times then
/// include the wrappers' cost and mean little).
fn run_once(
    args: &Args,
    command: Command,
    variant: Variant,
    n: usize,
    count: bool,
) -> Result<(Sample, Option<Calls>), RunError> {
    let name = format!("bench-{}-{n}", variant.name());
    let options = LabOptions {
        hooks: variant.hooks(),
        binary: if variant == Variant::Before {
            args.before_binary.clone()
        } else {
            args.binary.clone()
        },
        timeout: Duration::from_secs(args.timeout),
        ..LabOptions::default()
    };
    let host = Lab::with_options(&name, options)?;
    let wire = Lab::peer(&format!("{name}-wire"))?;
    host.add_veth(TRUNK, &wire, TRUNK)?;
    host.start_ovs()?;
    if variant == Variant::Ifupdown {
        for dir in HOOK_DIRS {
            host.ok(&["ln", "-s", "/bin/true", &format!("{dir}/true")])?;
        }
    }
    host.write_interfaces(&command.file_text(variant, n, !args.without_ovs_ports))?;
    if command.hotplug() {
        hotplug_setup(&host, variant, n)?;
    }
    if count {
        install_counters(&host)?;
    }

    let up = timed(|| up(&host, variant, n, command))?;
    let show = args.show_calls;
    let up_calls = take_counts(&host, count, show.then_some("up"))?;
    check_up(&host, command, variant, n)?;
    take_counts(&host, count, None)?;
    let down = timed(|| down(&host, variant, n, command))?;
    let down_calls = take_counts(&host, count, show.then_some("down"))?;
    check_down(&host, command, variant)?;
    let calls = count.then_some(Calls {
        up: up_calls,
        down: down_calls,
    });
    Ok((Sample { up, down }, calls))
}

/// Programs whose starts `--count-calls` counts.
const COUNTED: &[&str] = &["ovs-vsctl", "ip"];
/// Where the wrappers log, one line per start (in the lab's private `/run`).
const CALL_LOG: &str = "/run/bench-calls";

/// Puts a wrapper for each program of [`COUNTED`] into the lab's `/usr/sbin`
/// (first in `PATH`, before `/usr/bin`): it logs a line, then execs the real one.
fn install_counters(host: &Lab) -> Result<(), RunError> {
    if !host.is_private("/usr/sbin/ip") {
        host.overlay("/usr/sbin")?;
    }
    host.ok(&["mkdir", "-p", CALL_LOG])?;
    for name in COUNTED {
        let real = lab::find_program(name)
            .and_then(|p| std::fs::canonicalize(p).ok())
            .ok_or_else(|| RunError::Sanity(format!("{name} not found")))?;
        let shim = format!("/usr/sbin/{name}");
        // Remove first: writing through a symlink (/usr/sbin/ip -> /bin/ip) would
        // change the host's file.
        host.ok(&["rm", "-f", &shim])?;
        host.write_executable(
            &shim,
            &format!(
                "#!/bin/sh\necho \"$*\" >>{CALL_LOG}/{name}\nexec {} \"$@\"\n",
                real.display()
            ),
        )?;
    }
    Ok(())
}

/// Starts logged since the last call, per program of [`COUNTED`]; clears the logs.
/// Nothing to do (and no time spent) when `count` is false. With `show`, prints
/// the logged command lines to stderr, headed by `show`.
fn take_counts(host: &Lab, count: bool, show: Option<&str>) -> Result<Vec<usize>, RunError> {
    let mut counts = Vec::new();
    if !count {
        return Ok(counts);
    }
    for name in COUNTED {
        let log = format!("{CALL_LOG}/{name}");
        let out = host.run(&["cat", "--", &log])?;
        let lines: Vec<&str> = if out.success() {
            out.stdout.lines().collect()
        } else {
            Vec::new()
        };
        if let Some(what) = show {
            for line in &lines {
                eprintln!("  [{what}] {name} {line}");
            }
        }
        counts.push(lines.len());
        host.ok(&["rm", "-f", "--", &log])?;
    }
    Ok(counts)
}

/// Wall time of `f`, which must succeed.
fn timed(f: impl FnOnce() -> Result<(), RunError>) -> Result<Duration, RunError> {
    let start = Instant::now();
    f()?;
    Ok(start.elapsed())
}

/// The interfaces file: bridge first (with `ovs_ports` if `ports_line`), then the
/// trunk, then `vlan1`..`vlanN` with tags 1..N. The same text for every variant
/// except the datapath line: Debian's hook ignores `ovs_datapath_type`.
fn interfaces(variant: Variant, n: usize, ports_line: bool) -> String {
    let vlans: Vec<String> = (1..=n).map(|k| format!("vlan{k}")).collect();
    let datapath = if variant == Variant::Debian {
        "ovs_extra set bridge ${IFACE} datapath_type=netdev"
    } else {
        "ovs_datapath_type netdev"
    };
    let ports = if ports_line {
        format!("    ovs_ports {TRUNK} {}\n", vlans.join(" "))
    } else {
        String::new()
    };
    let mut text = format!(
        "# bench_boot: {n} VLAN ports, variant {}\n\n\
         auto {BRIDGE}\niface {BRIDGE} inet manual\n    ovs_type OVSBridge\n\
         {ports}    {datapath}\n\n\
         auto {TRUNK}\niface {TRUNK} inet manual\n    ovs_bridge {BRIDGE}\n    \
         ovs_type OVSPort\n",
        variant.name(),
    );
    for (k, vlan) in (1..=n).zip(&vlans) {
        let _ = write!(
            text,
            "\nauto {vlan}\niface {vlan} inet manual\n    ovs_bridge {BRIDGE}\n    \
             ovs_type OVSIntPort\n    ovs_options tag={k}\n"
        );
    }
    text
}

/// The timed "up" step.
fn up(host: &Lab, variant: Variant, n: usize, command: Command) -> Result<(), RunError> {
    if command.hotplug() {
        return hotplug_run(host, command, variant, n, Phase::Up);
    }
    if variant != Variant::Ovs {
        let args = command.args(true, n);
        // Profiling (docs/benchmark.md, "Where the time goes"): a command line
        // (split at blanks) run in front of the timed ifup, e.g. a light strace.
        if let Ok(wrap) = std::env::var("BENCH_UP_WRAP") {
            let mut argv: Vec<&str> = wrap.split_whitespace().collect();
            argv.push("ifup");
            argv.extend(args.iter().map(String::as_str));
            host.ok(&argv)?;
            return Ok(());
        }
        host.ifup(&args.iter().map(String::as_str).collect::<Vec<_>>())?;
        return Ok(());
    }
    let mut argv: Vec<String> = ["ovs-vsctl", "--timeout=60", "--", "add-br", BRIDGE]
        .map(String::from)
        .to_vec();
    let mut add = |words: &[&str]| {
        argv.push("--".to_string());
        argv.extend(words.iter().map(|w| w.to_string()));
    };
    add(&["set", "bridge", BRIDGE, "datapath_type=netdev"]);
    add(&["add-port", BRIDGE, TRUNK]);
    for k in 1..=n {
        let vlan = format!("vlan{k}");
        add(&["add-port", BRIDGE, &vlan, &format!("tag={k}")]);
        add(&["set", "interface", &vlan, "type=internal"]);
    }
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    host.ok(&argv)?;
    let batch: String = link_names(n)
        .iter()
        .map(|link| format!("link set dev {link} up\n"))
        .collect();
    host.run_input(&["ip", "-batch", "-"], batch.as_bytes())?
        .into_stdout()?;
    Ok(())
}

/// The timed "down" step.
fn down(host: &Lab, variant: Variant, n: usize, command: Command) -> Result<(), RunError> {
    if command.hotplug() {
        hotplug_run(host, command, variant, n, Phase::Down)
    } else if variant != Variant::Ovs {
        let args = command.args(false, n);
        host.ifdown(&args.iter().map(String::as_str).collect::<Vec<_>>())?;
        Ok(())
    } else {
        host.vsctl(&["del-br", BRIDGE])?;
        Ok(())
    }
}

/// Every link the file configures: bridge, trunk, VLAN ports.
fn link_names(n: usize) -> Vec<String> {
    [BRIDGE.to_string(), TRUNK.to_string()]
        .into_iter()
        .chain((1..=n).map(|k| format!("vlan{k}")))
        .collect()
}

// ---------------------------------------------------------------- hotplug rows

/// The hotplug NICs: `nic1`..`nicN`.
fn nic_names(n: usize) -> Vec<String> {
    (1..=n).map(|k| format!("nic{k}")).collect()
}

/// The hotplug rows' file: the bridge `auto` (up before the timed part), N system
/// ports `allow-hotplug`, not in the bridge's `ovs_ports` (they appear later).
fn hotplug_interfaces(variant: Variant, n: usize) -> String {
    let datapath = if variant == Variant::Debian {
        "ovs_extra set bridge ${IFACE} datapath_type=netdev"
    } else {
        "ovs_datapath_type netdev"
    };
    let mut text = format!(
        "# bench_boot: {n} hotplug NICs, variant {}\n\n\
         auto {BRIDGE}\niface {BRIDGE} inet manual\n    ovs_type OVSBridge\n    {datapath}\n",
        variant.name(),
    );
    for nic in nic_names(n) {
        let _ = write!(
            text,
            "\nallow-hotplug {nic}\niface {nic} inet manual\n    ovs_bridge {BRIDGE}\n    \
             ovs_type OVSPort\n"
        );
    }
    text
}

/// Untimed: the NICs (veth pairs `nicK` / `nicKp`, made with one `ip -batch`), and
/// the bridge up (`ifup ovsbr0`, or `add-br` for the OVS floor).
fn hotplug_setup(host: &Lab, variant: Variant, n: usize) -> Result<(), RunError> {
    let batch: String = nic_names(n)
        .iter()
        .map(|nic| format!("link add {nic} type veth peer name {nic}p\nlink set dev {nic}p up\n"))
        .collect();
    host.run_input(&["ip", "-batch", "-"], batch.as_bytes())?
        .into_stdout()?;
    if variant == Variant::Ovs {
        host.vsctl(&[
            "add-br",
            BRIDGE,
            "--",
            "set",
            "bridge",
            BRIDGE,
            "datapath_type=netdev",
        ])?;
        host.ok(&["ip", "link", "set", "dev", BRIDGE, "up"])?;
    } else {
        host.ifup(&[BRIDGE])?;
    }
    Ok(())
}

/// The timed part of a hotplug row: per NIC `ifup --allow=hotplug NIC` (up) or
/// `ifdown NIC` (down), as `ifup@.service` runs them; for the OVS floor `add-port`
/// and `ip link set up` (up) or `del-port` (down) per NIC. One by one, or all at
/// once (`xargs -P 0`: every process started together, each one's exit status
/// counted).
fn hotplug_run(
    host: &Lab,
    command: Command,
    variant: Variant,
    n: usize,
    phase: Phase,
) -> Result<(), RunError> {
    let per_nic: Vec<&str> = match (variant, phase) {
        (Variant::Ovs, Phase::Up) => vec![
            "sh",
            "-c",
            "ovs-vsctl --timeout=60 add-port ovsbr0 \"$1\" && ip link set dev \"$1\" up",
            "add",
        ],
        (Variant::Ovs, Phase::Down) => vec!["ovs-vsctl", "--timeout=60", "del-port", BRIDGE],
        (_, Phase::Up) => vec!["ifup", "--allow=hotplug"],
        (_, Phase::Down) => vec!["ifdown"],
    };
    let parallel = if command == Command::HotplugConcurrent {
        "0"
    } else {
        "1"
    };
    let mut argv = vec!["xargs", "-P", parallel, "-n", "1"];
    argv.extend(per_nic);
    let names = nic_names(n).join("\n") + "\n";
    let out = host.run_input(&argv, names.as_bytes())?;
    // BENCH_HOOK_STDERR=1: what the hooks said (ifupdown passes their stderr on),
    // to see why a run left something behind although every exit status was 0
    if std::env::var_os("BENCH_HOOK_STDERR").is_some() && !out.stderr.is_empty() {
        eprintln!(
            "--- stderr of {} {:?}:\n{}",
            command.name(),
            phase,
            out.stderr
        );
    }
    out.into_stdout()?;
    Ok(())
}

// ---------------------------------------------------------------- sanity checks

/// After up: ifupdown knows every interface as configured; where OVS is involved,
/// the bridge has exactly the trunk and N ports with the right tags, and every
/// link is administratively up.
fn check_up(host: &Lab, command: Command, variant: Variant, n: usize) -> Result<(), RunError> {
    let links = if command.hotplug() {
        std::iter::once(BRIDGE.to_string())
            .chain(nic_names(n))
            .collect()
    } else {
        link_names(n)
    };
    if variant != Variant::Ovs {
        let state = configured(host)?;
        let missing: Vec<String> = links
            .iter()
            .filter(|l| !state.contains(l))
            .cloned()
            .collect();
        if !missing.is_empty() {
            return Err(RunError::Sanity(format!(
                "after up, {} interface(s) not configured: {}",
                missing.len(),
                abbreviate(&missing)
            )));
        }
    }
    if !variant.builds_bridge() {
        return Ok(());
    }
    let rows = host.vsctl(&[
        "--format=csv",
        "--no-headings",
        "--columns=name,tag",
        "list",
        "Port",
    ])?;
    let mut ports = 0;
    for line in rows.lines() {
        let (name, tag) = line.split_once(',').unwrap_or((line, ""));
        let name = name.trim_matches('"');
        if name == BRIDGE {
            continue;
        }
        ports += 1;
        let expected = match name.strip_prefix("vlan") {
            Some(k) => k.to_string(),
            None if name == TRUNK || name.starts_with("nic") => "[]".to_string(),
            None => return Err(RunError::Sanity(format!("unexpected port {name}"))),
        };
        if tag != expected {
            return Err(RunError::Sanity(format!(
                "port {name} has tag {tag}, expected {expected}"
            )));
        }
    }
    let expected = if command.hotplug() { n } else { n + 1 };
    if ports != expected {
        return Err(RunError::Sanity(format!(
            "after up, {BRIDGE} has {ports} ports, expected {expected}"
        )));
    }
    let up_links = host.ok(&["ip", "-o", "link", "show", "up"])?;
    let up_links: Vec<&str> = up_links.lines().filter_map(link_name).collect();
    let down: Vec<String> = links
        .into_iter()
        .filter(|l| !up_links.contains(&l.as_str()))
        .collect();
    if !down.is_empty() {
        return Err(RunError::Sanity(format!(
            "after up, {} link(s) not up: {}",
            down.len(),
            abbreviate(&down)
        )));
    }
    Ok(())
}

/// After down: no bridge in OVS, no bridge or VLAN link left, and ifupdown
/// considers nothing configured. Hotplug rows: only the bridge is left, empty,
/// and configured.
fn check_down(host: &Lab, command: Command, variant: Variant) -> Result<(), RunError> {
    if variant != Variant::Ovs {
        let state = configured(host)?;
        let left = if command.hotplug() {
            state.iter().any(|s| s != BRIDGE)
        } else {
            !state.is_empty()
        };
        if left {
            return Err(RunError::Sanity(format!(
                "after down, configured: {}",
                abbreviate(&state)
            )));
        }
    }
    if !variant.builds_bridge() {
        return Ok(());
    }
    if command.hotplug() {
        let ports = host.vsctl(&["list-ports", BRIDGE])?;
        if !ports.trim().is_empty() {
            return Err(RunError::Sanity(format!(
                "after down, ports left on {BRIDGE}: {}",
                ports.split_whitespace().collect::<Vec<_>>().join(" ")
            )));
        }
        return Ok(());
    }
    let bridges = host.vsctl(&["list-br"])?;
    if !bridges.trim().is_empty() {
        return Err(RunError::Sanity(format!(
            "after down, bridges left: {}",
            bridges.split_whitespace().collect::<Vec<_>>().join(" ")
        )));
    }
    let links = host.ok(&["ip", "-o", "link", "show"])?;
    let left: Vec<String> = links
        .lines()
        .filter_map(link_name)
        .filter(|l| *l == BRIDGE || l.starts_with("vlan"))
        .map(String::from)
        .collect();
    if !left.is_empty() {
        return Err(RunError::Sanity(format!(
            "after down, {} link(s) left: {}",
            left.len(),
            abbreviate(&left)
        )));
    }
    Ok(())
}

/// Interfaces ifupdown considers configured (`ifquery --state`), without `lo`,
/// which ifupdown 0.8 brings up on its own.
fn configured(host: &Lab) -> Result<Vec<String>, RunError> {
    Ok(host
        .ok(&["ifquery", "--state"])?
        .lines()
        .filter_map(|l| l.split('=').next())
        .map(str::trim)
        .filter(|l| !l.is_empty() && *l != "lo")
        .map(String::from)
        .collect())
}

/// The link name of one `ip -o link` line (`2: eth0@if3: <...`).
fn link_name(line: &str) -> Option<&str> {
    let name = line.split(": ").nth(1)?;
    Some(name.split('@').next().unwrap_or(name))
}

/// The first few names of a list, for messages.
fn abbreviate(names: &[String]) -> String {
    let mut text = names.iter().take(5).cloned().collect::<Vec<_>>().join(" ");
    if names.len() > 5 {
        text.push_str(" ...");
    }
    text
}

// ---------------------------------------------------------------- report

/// Targets of the "Boot performance" issue.
const UP_VS_FLOOR: f64 = 1.3;
const DEBIAN_VS_OURS: f64 = 3.5;
const DOWN_VS_FLOOR: f64 = 1.3;
const GROWTH: f64 = 2.7;
/// Issue "Speed on the commands a real boot runs": a row above this many times
/// the floor sum is flagged.
const FLAG_ABOVE: f64 = 1.2;

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// Median of some values (mean of the two middle ones for an even count).
fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    })
}

/// Up or down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Up,
    Down,
}

impl Results {
    fn times(&self, command: Command, n: usize, variant: Variant, phase: Phase) -> Vec<f64> {
        self.samples
            .get(&(command, n, variant))
            .map(|s| {
                s.iter()
                    .map(|s| secs(if phase == Phase::Up { s.up } else { s.down }))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn median(&self, command: Command, n: usize, variant: Variant, phase: Phase) -> Option<f64> {
        median(self.times(command, n, variant, phase))
    }

    /// ifupdown floor + OVS floor.
    fn floor(&self, command: Command, n: usize, phase: Phase) -> Option<f64> {
        Some(
            self.median(command, n, Variant::Ifupdown, phase)?
                + self.median(command, n, Variant::Ovs, phase)?,
        )
    }
}

fn cell(value: Option<f64>, unit: &str) -> String {
    match value {
        Some(v) => format!("{v:.2}{unit}"),
        None => "n/a".to_string(),
    }
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

/// "PASS"/"SHORT"/"n/a" for `value` against a maximum (`at_most`) or minimum.
fn verdict(value: Option<f64>, limit: f64, at_most: bool) -> &'static str {
    match value {
        None => "n/a",
        Some(v) if (at_most && v <= limit) || (!at_most && v >= limit) => "PASS",
        Some(_) => "SHORT",
    }
}

/// The machine, for the table heading.
fn machine() -> String {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".to_string());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "?".to_string());
    let ovs = command_line(&["ovs-vsctl", "--version"])
        .and_then(|s| s.split_whitespace().last().map(String::from))
        .unwrap_or_else(|| "?".to_string());
    let ifupdown = command_line(&["dpkg-query", "-W", "-f", "${Version}", "ifupdown"])
        .unwrap_or_else(|| "?".to_string());
    format!(
        "{cpus} CPUs ({model}), kernel {kernel}, Open vSwitch {ovs} (userspace datapath), \
         ifupdown {ifupdown}"
    )
}

/// The 1-minute load average: the machine may be shared (other builds running).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(String::from))
        .unwrap_or_else(|| "?".to_string())
}

/// First line of a host command's output (version queries only).
fn command_line(argv: &[&str]) -> Option<String> {
    let (program, args) = argv.split_first()?;
    let path = lab::find_program(program)?;
    let out = std::process::Command::new(path).args(args).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().next().map(|l| l.trim().to_string())
}

/// Ours against the earlier build (`before`), measured in the same run.
fn before_table(
    md: &mut String,
    label: &str,
    commands: &[Command],
    sizes: &[usize],
    results: &Results,
) {
    let _ = writeln!(md, "\nThis build against `before` ({label}), same run:\n");
    let _ = writeln!(md, "| N | command | ours | before | ours / before |");
    let _ = writeln!(md, "|---:|---|---:|---:|---:|");
    for (command, n, phase) in cells(commands, sizes) {
        let ours = results.median(command, n, Variant::Ours, phase);
        let before = results.median(command, n, Variant::Before, phase);
        let _ = writeln!(
            md,
            "| {n} | `{}` | {} | {} | {} |",
            command.shown(phase),
            cell(ours, " s"),
            cell(before, " s"),
            cell(ratio(ours, before), "x"),
        );
    }
}

/// Every (command, N, phase) of the report, in its order.
fn cells(commands: &[Command], sizes: &[usize]) -> Vec<(Command, usize, Phase)> {
    let mut out = Vec::new();
    for &command in commands {
        for &n in sizes {
            for phase in [Phase::Up, Phase::Down] {
                out.push((command, n, phase));
            }
        }
    }
    out
}

/// The main table: one line per row, N and phase; `FLAG` where ours is above
/// [`FLAG_ABOVE`] times the floor sum. Returns the flagged lines.
fn main_table(
    md: &mut String,
    commands: &[Command],
    sizes: &[usize],
    results: &Results,
) -> Vec<String> {
    let mut flagged = Vec::new();
    let _ = writeln!(
        md,
        "| N | command | ours | Debian | ifupdown floor | OVS floor | floor sum | \
         ours / floor sum | Debian / ours | flag |"
    );
    let _ = writeln!(md, "|---:|---|---:|---:|---:|---:|---:|---:|---:|---|");
    for (command, n, phase) in cells(commands, sizes) {
        let ours = results.median(command, n, Variant::Ours, phase);
        let debian = results.median(command, n, Variant::Debian, phase);
        let floor = results.floor(command, n, phase);
        let vs_floor = ratio(ours, floor);
        let flag = match vs_floor {
            Some(r) if r > FLAG_ABOVE => {
                flagged.push(format!(
                    "N={n} `{}`: {r:.2}x the floor sum",
                    command.shown(phase)
                ));
                "FLAG"
            }
            Some(_) => "",
            None => "n/a",
        };
        let _ = writeln!(
            md,
            "| {n} | `{}` | {} | {} | {} | {} | {} | {} | {} | {flag} |",
            command.shown(phase),
            cell(ours, " s"),
            cell(debian, " s"),
            cell(results.median(command, n, Variant::Ifupdown, phase), " s"),
            cell(results.median(command, n, Variant::Ovs, phase), " s"),
            cell(floor, " s"),
            cell(vs_floor, "x"),
            cell(ratio(debian, ours), "x"),
        );
    }
    flagged
}

/// The hotplug rows per NIC (median wall time / N, in ms); `FLAG` where ours is
/// slower than Debian's hook. Returns the flagged lines.
fn hotplug_table(
    md: &mut String,
    commands: &[Command],
    sizes: &[usize],
    results: &Results,
) -> Vec<String> {
    let mut flagged = Vec::new();
    let hotplug: Vec<Command> = commands.iter().copied().filter(|c| c.hotplug()).collect();
    if hotplug.is_empty() {
        return flagged;
    }
    let _ = writeln!(md, "\nHotplug, per NIC (median wall time / N):\n");
    let _ = writeln!(
        md,
        "| N | command | ours | Debian | ifupdown floor | OVS floor | ours / Debian | flag |"
    );
    let _ = writeln!(md, "|---:|---|---:|---:|---:|---:|---:|---|");
    for (command, n, phase) in cells(&hotplug, sizes) {
        let per = |v: Variant| {
            results
                .median(command, n, v, phase)
                .map(|t| t * 1000.0 / n as f64)
        };
        let (ours, debian) = (per(Variant::Ours), per(Variant::Debian));
        let vs = ratio(ours, debian);
        let flag = match vs {
            Some(r) if r > 1.0 => {
                flagged.push(format!(
                    "N={n} `{}`: {r:.2}x Debian's hook per NIC",
                    command.shown(phase)
                ));
                "FLAG"
            }
            Some(_) => "",
            None => "n/a",
        };
        let _ = writeln!(
            md,
            "| {n} | `{}` | {} | {} | {} | {} | {} | {flag} |",
            command.shown(phase),
            cell(ours, " ms"),
            cell(debian, " ms"),
            cell(per(Variant::Ifupdown), " ms"),
            cell(per(Variant::Ovs), " ms"),
            cell(vs, "x"),
        );
    }
    flagged
}

/// The targets of the "Boot performance" issue (rows `all` only).
fn targets(md: &mut String, sizes: &[usize], results: &Results) {
    let command = Command::All;
    let (up_cmd, down_cmd) = (command.shown(Phase::Up), command.shown(Phase::Down));
    let _ = writeln!(md, "\nTargets (issue \"Boot performance\"):\n");
    let _ = writeln!(md, "| target | value | limit | verdict |");
    let _ = writeln!(md, "|---|---:|---:|---|");
    let mut target = |what: String, value: Option<f64>, limit: f64, at_most: bool| {
        let _ = writeln!(
            md,
            "| {what} | {} | {} {limit:.1}x | {} |",
            cell(value, "x"),
            if at_most { "≤" } else { "≥" },
            verdict(value, limit, at_most)
        );
    };
    let ours = |n, phase| results.median(command, n, Variant::Ours, phase);
    for n in [100, 250].into_iter().filter(|n| sizes.contains(n)) {
        target(
            format!("N={n} `{up_cmd}`: ours / (ifupdown floor + OVS floor)"),
            ratio(ours(n, Phase::Up), results.floor(command, n, Phase::Up)),
            UP_VS_FLOOR,
            true,
        );
        target(
            format!("N={n} `{up_cmd}`: Debian / ours"),
            ratio(
                results.median(command, n, Variant::Debian, Phase::Up),
                ours(n, Phase::Up),
            ),
            DEBIAN_VS_OURS,
            false,
        );
        target(
            format!("N={n} `{down_cmd}`: ours / (ifupdown floor + del-br floor)"),
            ratio(ours(n, Phase::Down), results.floor(command, n, Phase::Down)),
            DOWN_VS_FLOOR,
            true,
        );
    }
    if sizes.contains(&100) && sizes.contains(&250) {
        for phase in [Phase::Up, Phase::Down] {
            target(
                format!("growth of ours, `{}`: N=250 / N=100", command.shown(phase)),
                ratio(ours(250, phase), ours(100, phase)),
                GROWTH,
                true,
            );
        }
    }
}

/// The whole Markdown report.
fn report(
    args: &Args,
    reps: usize,
    commands: &[Command],
    sizes: &[usize],
    results: &Results,
    elapsed: Duration,
    load: (String, String),
) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "### Boot benchmark: every command a boot runs, ours vs Debian's hook vs the floors\n"
    );
    let _ = writeln!(md, "Machine: {}.  ", machine());
    let _ = writeln!(
        md,
        "Median of {reps} run(s) per cell, wall seconds, fresh lab per run, variants \
         interleaved{}{}{}; whole benchmark {:.0} s; load average {} before, {} after.\n",
        if args.quick { " (quick)" } else { "" },
        if args.without_ovs_ports {
            "; bridge stanza without `ovs_ports`"
        } else {
            ""
        },
        if args.label.is_empty() {
            String::new()
        } else {
            format!("; build: {}", args.label)
        },
        secs(elapsed),
        load.0,
        load.1
    );
    let mut flagged = main_table(&mut md, commands, sizes, results);
    flagged.extend(hotplug_table(&mut md, commands, sizes, results));
    if flagged.is_empty() {
        let _ = writeln!(
            md,
            "\nNo row above {FLAG_ABOVE:.1}x the floor sum; no hotplug row slower than \
             Debian's hook per NIC."
        );
    } else {
        let _ = writeln!(md, "\nFLAGGED ({}):\n", flagged.len());
        for line in &flagged {
            let _ = writeln!(md, "- {line}");
        }
    }

    if results
        .samples
        .keys()
        .any(|(_, _, v)| *v == Variant::Before)
    {
        before_table(&mut md, &args.label_before, commands, sizes, results);
    }
    if commands.contains(&Command::All) && sizes.iter().any(|n| [100, 250].contains(n)) {
        targets(&mut md, sizes, results);
    }

    if !results.calls.is_empty() {
        let _ = writeln!(
            md,
            "\nProcesses started (one untimed run with counting wrappers):\n"
        );
        let _ = writeln!(
            md,
            "| N | command | variant | up: ovs-vsctl | ip | down: ovs-vsctl | ip |"
        );
        let _ = writeln!(md, "|---:|---|---|---:|---:|---:|---:|");
        for (&(command, n, variant), calls) in &results.calls {
            let join = |v: &[usize]| {
                v.iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(" | ")
            };
            let _ = writeln!(
                md,
                "| {n} | {} | {} | {} | {} |",
                command.name(),
                variant.name(),
                join(&calls.up),
                join(&calls.down)
            );
        }
    }

    let _ = writeln!(
        md,
        "\n<details><summary>All runs (up / down, s)</summary>\n"
    );
    for (&(command, n, variant), samples) in &results.samples {
        let runs: Vec<String> = samples
            .iter()
            .map(|s| format!("{:.2}/{:.2}", secs(s.up), secs(s.down)))
            .collect();
        let _ = writeln!(
            md,
            "- {} N={n} {}: {}",
            command.name(),
            variant.name(),
            runs.join(", ")
        );
    }
    let _ = writeln!(md, "\n</details>");
    if !results.failures.is_empty() {
        let _ = writeln!(
            md,
            "\n**{} run(s) failed** (not counted above):\n",
            results.failures.len()
        );
        for failure in &results.failures {
            let first = failure.lines().next().unwrap_or_default();
            let _ = writeln!(md, "- {first}");
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }

    #[test]
    fn verdicts() {
        assert_eq!(verdict(Some(1.2), 1.3, true), "PASS");
        assert_eq!(verdict(Some(1.4), 1.3, true), "SHORT");
        assert_eq!(verdict(Some(3.0), 3.5, false), "SHORT");
        assert_eq!(verdict(None, 3.5, false), "n/a");
    }

    #[test]
    fn interfaces_text_declares_every_port() {
        let text = interfaces(Variant::Ours, 3, true);
        assert!(text.contains("ovs_ports eth0 vlan1 vlan2 vlan3\n"));
        assert!(text.contains("ovs_datapath_type netdev"));
        assert!(text.contains("auto vlan3\niface vlan3 inet manual"));
        assert!(text.contains("ovs_options tag=3\n"));
        assert_eq!(text.matches("\nauto ").count(), 5);
        let debian = interfaces(Variant::Debian, 1, false);
        assert!(debian.contains("ovs_extra set bridge ${IFACE} datapath_type=netdev"));
        assert!(!debian.contains("ovs_ports"));
    }

    #[test]
    fn commands_name_every_interface_for_the_init_script() {
        assert_eq!(Command::All.args(true, 2), ["-a"]);
        assert_eq!(
            Command::ReadEnv.args(false, 2),
            ["-a", "--read-environment", "--exclude=lo"]
        );
        assert_eq!(
            Command::InitScript.args(true, 2),
            ["--allow=ovs", BRIDGE, TRUNK, "vlan1", "vlan2"]
        );
    }

    #[test]
    fn each_row_has_its_file() {
        let bridge = Command::Bridge.file_text(Variant::Ours, 2, true);
        assert!(bridge.contains("\nauto ovsbr0\niface ovsbr0"));
        assert!(bridge.contains("\nallow-ovsbr0 vlan2\n"));
        assert!(bridge.contains("\nallow-ovsbr0 eth0\n"));
        assert_eq!(bridge.matches("\nauto ").count(), 1);
        // the floors cannot bring allow-ovsbr0 ports up: every stanza auto
        let floor = Command::Bridge.file_text(Variant::Ifupdown, 2, true);
        assert_eq!(floor.matches("\nauto ").count(), 4);
        let init = Command::InitScript.file_text(Variant::Debian, 2, true);
        assert_eq!(init.matches("\nallow-ovs ").count(), 4);
        let hotplug = Command::HotplugConcurrent.file_text(Variant::Ours, 3, true);
        assert!(hotplug.contains("\nallow-hotplug nic3\niface nic3 inet manual"));
        assert_eq!(hotplug.matches("\nauto ").count(), 1);
        assert!(!hotplug.contains("ovs_ports"));
        assert_eq!(Command::HotplugConcurrent.name(), "hotplug-concurrent");
        assert_eq!(Command::ReadEnv.name(), "read-env");
    }

    #[test]
    fn link_names_from_ip_output() {
        assert_eq!(
            link_name("3: eth0@if2: <BROADCAST,MULTICAST,UP> mtu 1500"),
            Some("eth0")
        );
        assert_eq!(link_name("5: vlan1: <UP> mtu 1500"), Some("vlan1"));
        assert_eq!(link_name("garbage"), None);
    }
}
