//! A hook run's plan: the ordered steps (one ovs-vsctl transaction, the check that
//! OVS applied it, sysctls, `ip` commands, source routing, nested ifup/ifdown of a
//! bridge's ports). `plan` prints it; the hook executes it.

use std::fmt;

use crate::net::route;
use crate::net::sysctl::{Reset, Sysctl};
use crate::ovsdb::vsctl::Transaction;
use crate::sys::words::shell_line;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// One ovs-vsctl transaction.
    Vsctl(Transaction),
    /// After a transaction: these interfaces have an `ofport` and no `error`.
    Verify(Vec<String>),
    /// Written to /proc/sys.
    Sysctl(Sysctl),
    /// An interface sysctl set back to its `default` value.
    SysctlReset(Reset),
    /// An `ip` argv (link up/down).
    Ip(Vec<String>),
    /// Source routing of one interface and family installed or removed: the kernel's
    /// rules and routes are read, then one `ip -batch -` (printed as a here-document).
    Routing(route::Change),
    /// A nested `ifup`/`ifdown` argv for a bridge's ports (Debian's
    /// `ifup --allow=BRIDGE PORTS`).
    Ifupdown(Vec<String>),
    /// Something the user should know; not an error.
    Warn(String),
    /// A step that runs only if kernel device `dev` exists when its turn comes.
    IfPresent { dev: String, step: Box<Step> },
}

/// The steps of one hook run, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub steps: Vec<Step>,
    /// `--timeout` for ovs-vsctl (shown in the printed command).
    pub timeout: u32,
}

impl Plan {
    pub fn new(timeout: u32) -> Plan {
        Plan {
            steps: Vec::new(),
            timeout,
        }
    }

    pub fn push(&mut self, s: Step) {
        match &s {
            Step::Vsctl(tx) if tx.is_empty() => {}
            Step::Verify(v) | Step::Ip(v) | Step::Ifupdown(v) if v.is_empty() => {}
            _ => self.steps.push(s),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// One line per step.
    pub fn lines(&self) -> Vec<String> {
        self.steps.iter().map(|s| self.line(s)).collect()
    }

    pub fn line(&self, s: &Step) -> String {
        match s {
            Step::Vsctl(tx) => shell_line(&tx.argv(self.timeout)),
            Step::Verify(names) => format!(
                "# check: Interface {} got an ofport and no error",
                names.join(" ")
            ),
            Step::Sysctl(s) => s.to_string(),
            Step::SysctlReset(r) => r.to_string(),
            Step::Routing(c) => c.to_string(),
            Step::Ip(argv) | Step::Ifupdown(argv) => shell_line(argv),
            Step::Warn(w) => format!("# warning: {w}"),
            Step::IfPresent { dev, step } => {
                format!("{}  # if {dev} exists", self.line(step))
            }
        }
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for l in self.lines() {
            writeln!(f, "{l}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_one_line_per_step_and_skips_empty() {
        let mut p = Plan::new(10);
        let mut tx = Transaction::new();
        tx.push(["set", "Interface", "p1", "mac=\"00:01:02:03:04:05\""]);
        p.push(Step::Vsctl(Transaction::new()));
        p.push(Step::Vsctl(tx));
        p.push(Step::Verify(vec!["p1".into()]));
        p.push(Step::Verify(vec![]));
        p.push(Step::Sysctl(Sysctl::disable_ipv6("p1", true)));
        p.push(Step::Ip(crate::net::link::set_argv("p1", true)));
        p.push(Step::Warn("kept".into()));
        p.push(Step::IfPresent {
            dev: "bond0".into(),
            step: Box::new(Step::Ip(crate::net::link::set_argv("bond0", true))),
        });
        assert_eq!(
            p.lines(),
            [
                "ovs-vsctl --timeout=10 -- set Interface p1 'mac=\"00:01:02:03:04:05\"'",
                "# check: Interface p1 got an ofport and no error",
                "sysctl -w net.ipv6.conf.p1.disable_ipv6=1",
                "ip link set dev p1 up",
                "# warning: kept",
                "ip link set dev bond0 up  # if bond0 exists",
            ]
        );
    }
}
