//! Link state with iproute2 (`ip link set dev NAME up|down`), run as an argv with a
//! time limit, and whether a device exists (`if_nametoindex`, in our network
//! namespace — /sys/class/net may belong to another one).

use std::process::Command;
use std::time::Duration;

use crate::sys::process::{ProcessError, failure_line, run_bounded};

/// How long one `ip` call may take.
pub const IP_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a link could not be changed.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("{0}")]
    Process(#[from] ProcessError),
    #[error("`{argv}` failed: {message}")]
    Failed { argv: String, message: String },
}

/// `ip link set dev NAME up` (or `down`).
pub fn set_argv(dev: &str, up: bool) -> Vec<String> {
    [
        "ip",
        "link",
        "set",
        "dev",
        dev,
        if up { "up" } else { "down" },
    ]
    .map(String::from)
    .to_vec()
}

/// Run an `ip` argv (as from [`set_argv`]).
pub fn run_ip(argv: &[String]) -> Result<(), LinkError> {
    let Some((prog, args)) = argv.split_first() else {
        return Ok(());
    };
    let f = run_bounded(Command::new(prog).args(args), IP_TIMEOUT)?;
    if f.success() {
        Ok(())
    } else {
        Err(LinkError::Failed {
            argv: argv.join(" "),
            message: failure_line(&f),
        })
    }
}

/// Whether the kernel has a network device `name`.
pub fn exists(name: &str) -> bool {
    !name.is_empty() && !name.contains('/') && nix::net::if_::if_nametoindex(name).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv() {
        assert_eq!(
            set_argv("br0", true),
            ["ip", "link", "set", "dev", "br0", "up"]
        );
        assert_eq!(set_argv("br0", false)[5], "down");
    }

    #[test]
    fn lo_exists_and_bad_names_do_not() {
        assert!(exists("lo"));
        assert!(!exists(""));
        assert!(!exists("../lo"));
        assert!(!exists("surely-not-a-dev"));
    }

    #[test]
    fn failure_names_the_command() {
        let e = run_ip(&[
            "/bin/sh".into(),
            "-c".into(),
            "echo 'Cannot find device' >&2; exit 1".into(),
        ])
        .unwrap_err();
        assert!(e.to_string().contains("Cannot find device"), "{e}");
    }
}
