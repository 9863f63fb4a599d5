//! ifupdown-ovs: one binary, several entry points. It runs as an ifupdown hook when
//! the ifupdown environment says so (`PHASE`, `MODE`, `IFACE`), as the OVSPort OCF
//! agent when called by that name, and as the CLI otherwise.

use clap::Parser;

use ifupdown_ovs::cli::{Cli, Command};
use ifupdown_ovs::commands::{check, plan, query, status, trial};
use ifupdown_ovs::{error, hook, ocf, reload};

fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn"))
        .format_timestamp(None)
        .init();
    let code = match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("ifupdown-ovs: {e}");
            e.exit_code()
        }
    };
    std::process::exit(code);
}

fn run() -> Result<i32, error::Error> {
    let argv0 = std::env::args_os().next().unwrap_or_default();
    let invoked_as = std::path::Path::new(&argv0)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if invoked_as == "OVSPort" {
        let action = std::env::args().nth(1).unwrap_or_default();
        return ocf::run(&action);
    }
    if std::env::args_os().len() == 1 && hook::is_hook_environment() {
        return hook::run_from_environment();
    }
    let cli = Cli::parse();
    match &cli.command {
        Command::Check(args) => check::run(args),
        Command::Query(args) => query::run(args),
        Command::Plan(args) => plan::run(args),
        Command::Status(args) => status::run(args),
        Command::Hook(args) => hook::run_cli(args),
        Command::Ocf(args) => ocf::run(&args.action),
        Command::Reload(args) => match args.trial.seconds {
            Some(seconds) => trial::run_try(&args.file.interfaces, seconds),
            None => reload::run(args).or_else(|e| {
                eprintln!("ifupdown-ovs: {e}");
                Ok(1)
            }),
        },
        Command::Commit(args) => trial::run_commit(args),
        Command::Rollback(args) => trial::run_rollback(args),
    }
}
