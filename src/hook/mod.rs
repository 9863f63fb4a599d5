//! The ifupdown hook: `/etc/network/if-{pre-up,up,down,post-down}.d/ifupdown-ovs`,
//! all links to `/usr/sbin/ifupdown-ovs` (docs/hooks.md says what each phase does;
//! docs/architecture.md, "One ifup, step by step", how a run goes).
//!
//! ifupdown runs the hooks of every stanza it brings up or down, and for `ifup -a`
//! and `ifdown -a` also once with `IFACE=--all` before the interfaces and once
//! after them. A run reads its environment ([`env`](mod@env)), finds the ifup/ifdown it
//! belongs to ([`invocation`]), and is either the run of one stanza
//! (`stanza`: set up, converge or remove one interface, with its own
//! transaction) or the `--all` run (`all`: every OVS interface of `ifup -a` in
//! ONE transaction before their own runs, which then have nothing left to do;
//! the OVS removal of `ifdown -a` in one transaction at its end — see
//! docs/batch.md and docs/architecture.md, "ifup -a and ifdown -a in one
//! transaction"). The two share what they did through [`records`].
//!
//! Failures print `ifupdown-ovs: IFACE: what is wrong` ([`error::HookError`];
//! option errors name their file and line instead) and exit 1 so that ifupdown
//! fails that interface (pre-up) or reports it (post-down). The `--all` pre-up run
//! never fails: that would abort the whole `ifup -a`.
//!
//! Submodules, and what each may use besides `plan` (the hook plans nothing
//! itself) and the layers below it:
//! - [`env`](mod@env): the hook environment, and the runs it alone shows have nothing to
//!   do; reads no file;
//! - [`invocation`]: the ifup/ifdown run among our ancestors (its `-i FILE`,
//!   `--state-dir`, command line, session) and ifupdown's state; only `sys`;
//! - `stanza`: the run of one stanza; uses `env`, `invocation`, `records`,
//!   `execute`;
//! - `all`: the `IFACE=--all` runs; uses `invocation`, `records`, `execute`;
//! - [`records`]: what the runs of one `ifup -a` / `ifdown -a` share, on disk;
//! - `execute`: runs a plan's steps and checks what OVS did; `ovsdb`, `net`;
//! - [`error`]: why a run fails, as data;
//! - [`applied`]: the applied-stanza store (what each ifup applied, until its
//!   ifdown), read by `crate::reload`; `invocation`, `records`.

use std::path::PathBuf;

use crate::cli::HookArgs;
use crate::error::Error;
use crate::plan::phases::Phase;
use crate::plan::scene::HookEnv;

mod all;
pub mod applied;
pub mod env;
pub mod error;
mod execute;
pub mod invocation;
pub mod records;
mod stanza;

pub use env::is_hook_environment;
pub use invocation::{STATE_DIR, is_configured};

/// `ifupdown-ovs hook [-i FILE]`: run as a hook from the environment, with the
/// interfaces file given explicitly instead of found from the ancestors.
pub fn run_cli(args: &HookArgs) -> Result<i32, Error> {
    if !is_hook_environment() {
        return Err(Error::Usage(
            "hook: IFACE, MODE and PHASE must be set (ifupdown sets them for hooks)".into(),
        ));
    }
    Ok(run(Some(args.file.interfaces.clone())))
}

/// Entry point for ifupdown's run-parts.
pub fn run_from_environment() -> Result<i32, Error> {
    Ok(run(None))
}

/// One hook run from this process's environment: its exit status, after its
/// errors (one `ifupdown-ovs: ` line each).
fn run(file_override: Option<PathBuf>) -> i32 {
    let Some(h) = env::from_process() else {
        return 0;
    };
    match hook(&h, file_override) {
        Ok(()) => 0,
        Err(e) => {
            // one write: the lines of runs at once (hotplug) do not mix
            let text: String = e
                .to_string()
                .lines()
                .map(|l| format!("ifupdown-ovs: {l}\n"))
                .collect();
            let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), text.as_bytes());
            1
        }
    }
}

/// One hook run: the `--all` run or a stanza's.
fn hook(h: &HookEnv, file_override: Option<PathBuf>) -> Result<(), error::HookError> {
    let Some(phase) = Phase::from_hook(&h.mode, &h.phase) else {
        return Ok(());
    };
    if h.iface == "--all" {
        let r = all::run(
            h,
            phase,
            invocation::Invocation::find(file_override.clone()),
        );
        applied::record(h, phase, file_override);
        return r;
    }
    let r = stanza::run(h, phase, file_override.clone());
    if r.is_ok() {
        applied::record(h, phase, file_override);
    }
    r
}

/// Run a plan's steps in order as the hook does, stopping at the first failure
/// (for `crate::reload`, which converges interfaces in place).
pub fn execute_plan(
    plan: &crate::plan::steps::Plan,
    vsctl: &crate::ovsdb::vsctl::Vsctl,
    verbose: bool,
    iface: &str,
) -> Result<(), error::HookError> {
    execute::execute(plan, vsctl, verbose, iface)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_exits() {
        let h = |iface: &str, mode: &str, phase: &str, vars: &[(&str, &str)]| {
            let mut v: Vec<(String, String)> = vec![
                ("IFACE".into(), iface.into()),
                ("MODE".into(), mode.into()),
                ("PHASE".into(), phase.into()),
            ];
            v.extend(vars.iter().map(|(k, x)| (k.to_string(), x.to_string())));
            HookEnv::from_vars(v).unwrap()
        };
        let missing = Some(PathBuf::from("/nonexistent/interfaces"));
        assert!(hook(&h("--all", "start", "pre-up", &[]), missing.clone()).is_ok());
        assert!(hook(&h("eth0", "start", "post-up", &[]), missing.clone()).is_ok());
        assert!(hook(&h("eth0", "start", "pre-up", &[]), missing.clone()).is_ok());
        // an invalid OVS stanza is an error naming the option
        let e = hook(
            &h("eth0", "start", "pre-up", &[("IF_OVS_TYPE", "OVSPort")]),
            missing,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "eth0: error: ovs_bridge: missing; an OVSPort needs the bridge it belongs to"
        );
    }
}
