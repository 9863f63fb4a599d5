//! Command-line interface (clap). Each subcommand hands its arguments to the module
//! that does the work and gets back an exit code.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// The default interfaces file ([`crate::interfaces::DEFAULT_FILE`]).
pub use crate::interfaces::DEFAULT_FILE as DEFAULT_INTERFACES;

#[derive(Debug, Parser)]
#[command(
    name = "ifupdown-ovs",
    version,
    about = "Open vSwitch for classic ifupdown: check, query, plan and apply ovs_* options"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Lint a whole interfaces file (and what it sources)
    Check(CheckArgs),
    /// Print an interface's options like ifquery, or list interfaces
    Query(QueryArgs),
    /// Print the commands the hooks would run for an interface, without running them
    Plan(PlanArgs),
    /// Show what in OVS is ours and whether it matches the configuration
    Status(StatusArgs),
    /// Run as an ifupdown hook (normally chosen automatically from PHASE/MODE/IFACE)
    Hook(HookArgs),
    /// Run as the OVSPort OCF resource agent
    Ocf(OcfArgs),
    /// Apply an edited interfaces file to the running host, touching only what changed
    Reload(ReloadArgs),
    /// Keep the file applied by `reload --try` (cancel its revert)
    Commit(CommitArgs),
    /// Revert the file applied by `reload --try` now
    Rollback(RollbackArgs),
}

#[derive(Debug, Args)]
pub struct InterfacesFile {
    /// interfaces(5) file to read
    #[arg(short = 'i', long = "interfaces", default_value = DEFAULT_INTERFACES)]
    pub interfaces: PathBuf,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub file: InterfacesFile,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    #[command(flatten)]
    pub file: InterfacesFile,
    /// List interfaces (of class `auto` unless --allow is given)
    #[arg(short = 'l', long)]
    pub list: bool,
    /// Allow class for --list
    #[arg(long, value_name = "CLASS")]
    pub allow: Option<String>,
    /// Interface to print (ifquery IFACE)
    #[arg(required_unless_present = "list")]
    pub iface: Option<String>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub file: InterfacesFile,
    /// Plan `ifdown` instead of `ifup`
    #[arg(long)]
    pub down: bool,
    pub iface: String,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub file: InterfacesFile,
}

#[derive(Debug, Args)]
pub struct HookArgs {
    #[command(flatten)]
    pub file: InterfacesFile,
}

#[derive(Debug, Args)]
pub struct OcfArgs {
    /// OCF action (start, stop, monitor, validate-all, meta-data)
    pub action: String,
}

#[derive(Debug, Args)]
pub struct ReloadArgs {
    #[command(flatten)]
    pub file: InterfacesFile,
    /// Print what the reload would do (the ifdown/ifup runs, the ovs-vsctl
    /// transaction, the ip steps) and change nothing
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub trial: TryArgs,
}

#[derive(Debug, Args)]
pub struct CommitArgs {}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// (the revert timer) wait until this time, seconds since the epoch
    #[arg(long, hide = true, requires = "id", value_name = "DEADLINE")]
    pub at: Option<u64>,
    /// (the revert timer) the try it reverts
    #[arg(long, hide = true, requires = "at")]
    pub id: Option<String>,
}

/// `reload --try SECONDS` (flattened into the reload's arguments).
#[derive(Debug, Args)]
pub struct TryArgs {
    /// Apply the file given with -i (or, without -i, the interfaces files as
    /// edited in place) for SECONDS, then revert every interfaces file unless
    /// `ifupdown-ovs commit` comes first (see also `ifupdown-ovs rollback`)
    #[arg(
        long = "try",
        value_name = "SECONDS",
        conflicts_with = "dry_run",
        value_parser = clap::value_parser!(u64).range(1..=86_400)
    )]
    pub seconds: Option<u64>,
}
