//! The OVSPort OCF resource agent (`ocf:ifupdown-ovs:OVSPort`): a floating OVS
//! internal port whose fixed MAC moves with its addresses between cluster nodes.
//! The binary runs as the agent when called as `OVSPort` (the link
//! `/usr/lib/ocf/resource.d/ifupdown-ovs/OVSPort`) or as `ifupdown-ovs ocf ACTION`.
//!
//! Parts: parameters from `OCF_RESKEY_*` ([`params`]), the resource resolved from the
//! interfaces file and checked with `config::lint` ([`target`]), the real state ([`observe`])
//! and its verdict ([`status`]), ifup/ifdown ([`ifupdown`]), the background address
//! announcement ([`announce`]), the actions ([`actions`]), exit codes ([`rc`]) and
//! the meta-data ([`metadata`]).

use crate::error::Error;

pub mod actions;
pub mod announce;
pub mod ifupdown;
pub mod metadata;
pub mod observe;
pub mod params;
pub mod rc;
pub mod status;
pub mod target;

use params::OcfEnv;
use rc::{ActionResult, Rc};

const USAGE: &str = "usage: OVSPort {start|stop|monitor|status|validate-all|meta-data|usage}";

/// Run OCF `action`; returns the OCF exit code. Every OCF outcome is `Ok`.
pub fn run(action: &str) -> Result<i32, Error> {
    let agent = actions::Agent::new(OcfEnv::from_process());
    let result: ActionResult = match action {
        "meta-data" => {
            print!("{}", metadata::xml());
            Ok(())
        }
        "usage" | "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        "" => {
            eprintln!("{USAGE}");
            return Ok(Rc::ErrArgs.code());
        }
        "start" => agent.start(),
        "stop" => agent.stop(),
        "monitor" | "status" => agent.monitor(),
        "validate-all" => agent.validate(),
        announce::ACTION => return Ok(agent.announce()),
        other => {
            eprintln!("OVSPort: action {other} is not implemented\n{USAGE}");
            return Ok(Rc::Unimplemented.code());
        }
    };
    Ok(report(action, result))
}

/// Log the outcome; an error gets its `ocf-exit-reason:` line.
fn report(action: &str, result: ActionResult) -> i32 {
    match result {
        Ok(()) => Rc::Success.code(),
        Err(o) if o.rc == Rc::NotRunning => {
            log::info!("{action}: {}", o.reason);
            o.rc.code()
        }
        Err(o) => {
            eprintln!("{}", o.exit_reason_line());
            log::error!("{action}: {o}");
            o.rc.code()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_without_side_effects() {
        assert_eq!(run("meta-data").unwrap(), 0);
        assert_eq!(run("usage").unwrap(), 0);
        assert_eq!(run("").unwrap(), 2);
        for unsupported in [
            "reload",
            "promote",
            "demote",
            "notify",
            "migrate_to",
            "migrate_from",
        ] {
            assert_eq!(run(unsupported).unwrap(), 3, "{unsupported}");
        }
    }

    #[test]
    fn errors_print_an_exit_reason() {
        let o = rc::Outcome::configured("no stanza");
        assert_eq!(report("validate-all", Err(o)), 6);
        assert_eq!(
            report("monitor", Err(rc::Outcome::not_running("absent"))),
            7
        );
        assert_eq!(report("start", Ok(())), 0);
    }
}
