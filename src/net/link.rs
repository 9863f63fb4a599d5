//! Link state with iproute2 (`ip link set dev NAME up|down`), run as an argv with a
//! time limit, and whether a device exists (`if_nametoindex`, in our network
//! namespace — /sys/class/net may belong to another one).
//!
//! `ip link set dev NAME up|down` changes one flag, `IFF_UP`: [`run_ip`] sets it
//! with one `ioctl` instead ([`set_up_flag`]: no process, ~0.1 ms against ~4 ms
//! for `ip`; a link already in that state is left alone), and runs `ip` only
//! when the ioctl fails, for `ip`'s own error message. A hotplug NIC's hook sets
//! its link up once and down once.

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

/// Run an `ip` argv (as from [`set_argv`]); `ip link set dev NAME up|down`
/// as one ioctl when it can ([`set_up_flag`]).
pub fn run_ip(argv: &[String]) -> Result<(), LinkError> {
    let Some((prog, args)) = argv.split_first() else {
        return Ok(());
    };
    if let [p, link, set, dev, name, state] = argv
        && p == "ip"
        && link == "link"
        && set == "set"
        && dev == "dev"
        && (state == "up" || state == "down")
        && set_up_flag(name, state == "up").is_ok()
    {
        return Ok(());
    }
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

/// Set (`up`) or clear `IFF_UP` on device `name`, as `ip link set dev NAME
/// up|down` does, with `SIOCGIFFLAGS` / `SIOCSIFFLAGS` on a datagram socket of
/// our network namespace. Ok(false) when the flag already was so (nothing
/// changed).
pub fn set_up_flag(name: &str, up: bool) -> std::io::Result<bool> {
    use nix::libc;
    use std::os::fd::AsRawFd;
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.len() >= libc::IFNAMSIZ || bytes.contains(&0) {
        return Err(std::io::ErrorKind::InvalidInput.into());
    }
    let sock = nix::sys::socket::socket(
        nix::sys::socket::AddressFamily::Inet,
        nix::sys::socket::SockType::Datagram,
        nix::sys::socket::SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    // SAFETY: ifreq is plain data (all zeroes is valid); the name is NUL
    // terminated (shorter than IFNAMSIZ, zeroed); the ioctls read and write
    // only this struct, and `ifru_flags` is the union member they use.
    unsafe {
        let mut req: libc::ifreq = std::mem::zeroed();
        for (d, s) in req.ifr_name.iter_mut().zip(bytes) {
            *d = *s as libc::c_char;
        }
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let flags = req.ifr_ifru.ifru_flags;
        let is_up = flags & libc::IFF_UP as libc::c_short != 0;
        if is_up == up {
            return Ok(false);
        }
        req.ifr_ifru.ifru_flags = if up {
            flags | libc::IFF_UP as libc::c_short
        } else {
            flags & !(libc::IFF_UP as libc::c_short)
        };
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(true)
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
    fn up_flag_refuses_bad_names() {
        // (the host's links are never changed here; the lab tests set links
        // up and down through every hook run)
        assert!(set_up_flag("surely-not-a-dev", true).is_err());
        assert!(set_up_flag("", true).is_err());
        assert!(set_up_flag("a-name-far-too-long", true).is_err());
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
