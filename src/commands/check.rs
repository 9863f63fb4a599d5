//! `ifupdown-ovs check`: lint a whole interfaces file with [`lint::check_config`]
//! and print one diagnostic per line. The checks themselves live in the
//! configuration layer ([`crate::config::lint`]), where the OCF agent uses them too.

use crate::cli::CheckArgs;
use crate::config::lint::{self, CheckEnv, Severity};
use crate::error::Error;
use crate::interfaces::{Config, ParseError};

/// Load, check, print one diagnostic per line on stdout. Exit status 1 when there is
/// an error (a parse error included), else 0.
pub fn run(args: &CheckArgs) -> Result<i32, Error> {
    let cfg = match Config::load(&args.file.interfaces) {
        Ok(cfg) => cfg,
        Err(ParseError::Syntax { pos, message }) => {
            println!("{pos}: error: {message}");
            return Ok(1);
        }
        Err(e) => return Err(e.into()),
    };
    let diags = lint::check_config(&cfg, &CheckEnv::default());
    for d in &diags {
        println!("{d}");
    }
    let failed = diags.iter().any(|d| d.severity == Severity::Error);
    Ok(i32::from(failed))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    const BRIDGE: &str = "iface br0 inet manual\n  ovs_type OVSBridge\n";

    #[test]
    fn run_exit_codes() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| -> PathBuf {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            p
        };
        let args = |p: PathBuf| CheckArgs {
            file: crate::cli::InterfacesFile { interfaces: p },
        };
        assert_eq!(run(&args(write("ok", BRIDGE))).unwrap(), 0);
        assert_eq!(
            run(&args(write(
                "warn",
                "iface br0 inet manual\n  ovs_type OVSBridge\n  ovs_xyzzy 1\n"
            )))
            .unwrap(),
            0
        );
        assert_eq!(
            run(&args(write(
                "bad",
                "iface br0 inet manual\n  ovs_type OVSBrdge\n"
            )))
            .unwrap(),
            1
        );
        assert!(run(&args(dir.path().join("missing"))).is_err());
    }
}
