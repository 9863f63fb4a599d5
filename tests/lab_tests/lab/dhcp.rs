//! A DHCP server and router advertisements on the far end of a lab's wire
//! (`dnsmasq`, Debian package dnsmasq-base), for tests of ifupdown's `inet dhcp`
//! (dhclient) and `inet6 auto` (SLAAC) with real servers instead of `manual`.
//!
//! The userspace datapath forwards what it reads from a veth as it is. A veth with
//! TX checksum offload hands over UDP packets whose checksum is only partial, and
//! DHCP clients drop such replies: [`Lab::no_tx_offload`] turns it off
//! (`ethtool -K DEV tx off`) on every veth end that carries DHCP.
//!
//! Everything dnsmasq writes (pid file, lease file, log) is in the lab's private
//! `/tmp`.

use super::Lab;
use super::error::LabError;

/// Where [`Lab::start_dnsmasq`] keeps its lease file (`EXPIRY MAC IP NAME ID` lines).
pub const DNSMASQ_LEASES: &str = "/tmp/dnsmasq.leases";
/// dnsmasq's log (`--log-dhcp`: every DHCP exchange).
pub const DNSMASQ_LOG: &str = "/tmp/dnsmasq.log";

/// What [`Lab::start_dnsmasq`] serves on one device.
pub struct Dnsmasq<'a> {
    /// The device it serves (it must have an address in each range).
    pub dev: &'a str,
    /// `--dhcp-range` values: `START,END,MASK,LEASE` for DHCPv4,
    /// `PREFIX::,ra-only,64` for router advertisements only (SLAAC).
    pub ranges: &'a [&'a str],
    /// `--dhcp-host` values, e.g. `00:01:02:03:04:05,192.0.2.10`.
    pub hosts: &'a [&'a str],
}

impl Lab {
    /// Turns off TX checksum offload on `dev` (see the module doc).
    pub fn no_tx_offload(&self, dev: &str) -> Result<(), LabError> {
        self.ok(&["ethtool", "-K", dev, "tx", "off"])?;
        Ok(())
    }

    /// Starts dnsmasq in the background: DHCP only (no DNS), router advertisements
    /// every 10 s (and on solicitation), no configuration file, as root. It dies
    /// with the lab.
    pub fn start_dnsmasq(&self, d: &Dnsmasq) -> Result<(), LabError> {
        let mut args: Vec<String> = [
            "dnsmasq",
            "--conf-file=/dev/null",
            "--user=root",
            "--port=0",
            "--bind-interfaces",
            "--dhcp-authoritative",
            "--enable-ra",
            "--log-dhcp",
            "--pid-file=/tmp/dnsmasq.pid",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.push(format!("--interface={}", d.dev));
        args.push(format!("--ra-param={},10,600", d.dev));
        args.push(format!("--dhcp-leasefile={DNSMASQ_LEASES}"));
        args.push(format!("--log-facility={DNSMASQ_LOG}"));
        args.extend(d.ranges.iter().map(|r| format!("--dhcp-range={r}")));
        args.extend(d.hosts.iter().map(|h| format!("--dhcp-host={h}")));
        // dnsmasq reports start-up errors on stderr, then runs detached from it
        let script = format!(
            "{} </dev/null >/dev/null 2>/tmp/dnsmasq.err || {{ cat /tmp/dnsmasq.err >&2; exit 1; }}",
            args.join(" ")
        );
        self.ok(&["sh", "-c", &script])?;
        Ok(())
    }
}
