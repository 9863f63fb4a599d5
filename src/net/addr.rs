//! Interface addresses: the static addresses of an `inet`/`inet6` stanza as ifupdown
//! hands them to hooks (`IF_ADDRESS` `192.0.2.50` + `IF_NETMASK` `255.255.255.0`,
//! or as written in the file: `192.0.2.50/24`), their family and connected prefix.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// IPv4 or IPv6: `ADDRFAM` `inet` or `inet6`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    /// From ifupdown's `ADDRFAM` (None for `can`, `ipx`, ...).
    pub fn from_addrfam(s: &str) -> Option<Family> {
        match s {
            "inet" => Some(Family::V4),
            "inet6" => Some(Family::V6),
            _ => None,
        }
    }

    pub fn of(a: &IpAddr) -> Family {
        match a {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }

    /// `ip`'s family option, `-4` or `-6`.
    pub fn flag(self) -> &'static str {
        match self {
            Family::V4 => "-4",
            Family::V6 => "-6",
        }
    }

    /// ifupdown's name, `inet` or `inet6`.
    pub fn addrfam(self) -> &'static str {
        match self {
            Family::V4 => "inet",
            Family::V6 => "inet6",
        }
    }

    /// Prefix length of a single host (32 or 128).
    pub fn host_len(self) -> u8 {
        match self {
            Family::V4 => 32,
            Family::V6 => 128,
        }
    }
}

/// An address with its prefix length, as on an interface (`192.0.2.50/24`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IfAddr {
    pub addr: IpAddr,
    pub len: u8,
}

impl IfAddr {
    pub fn family(&self) -> Family {
        Family::of(&self.addr)
    }

    /// The connected prefix (`192.0.2.0/24`): host bits cleared.
    pub fn network(&self) -> IfAddr {
        let addr = match self.addr {
            IpAddr::V4(a) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.len)).unwrap_or(0);
                IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask))
            }
            IpAddr::V6(a) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.len))
                    .unwrap_or(0);
                IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask))
            }
        };
        IfAddr {
            addr,
            len: self.len,
        }
    }

    /// Parse `ADDR` or `ADDR/LEN` (`default_len` when no length is given).
    pub fn parse(s: &str, default_len: Option<u8>) -> Result<IfAddr, String> {
        let (a, l) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (s, None),
        };
        let addr: IpAddr = a
            .parse()
            .map_err(|_| format!("\"{s}\" is not an IP address"))?;
        let max = Family::of(&addr).host_len();
        let len = match l {
            Some(l) => parse_len(l, max).ok_or_else(|| {
                format!("\"{s}\": prefix length \"{l}\" is not a number in 0..{max}")
            })?,
            None => default_len.unwrap_or(max),
        };
        Ok(IfAddr { addr, len })
    }
}

impl fmt::Display for IfAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

fn parse_len(s: &str, max: u8) -> Option<u8> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u8>().ok().filter(|n| *n <= max)
}

/// A netmask as ifupdown accepts it: a prefix length (`24`, `64`) or, for IPv4, a
/// dotted quad with contiguous ones (`255.255.255.0`).
pub fn netmask_len(s: &str, family: Family) -> Result<u8, String> {
    if let Some(n) = parse_len(s, family.host_len()) {
        return Ok(n);
    }
    if family == Family::V4
        && let Ok(m) = s.parse::<Ipv4Addr>()
    {
        let m = u32::from(m);
        if m.leading_ones() + m.trailing_zeros() == 32 {
            return Ok(m.leading_ones() as u8);
        }
    }
    Err(format!(
        "netmask \"{s}\" is not a prefix length{}",
        if family == Family::V4 {
            " or a contiguous dotted netmask"
        } else {
            ""
        }
    ))
}

/// The static addresses and gateway of one stanza.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticConfig {
    pub family: Family,
    pub addrs: Vec<IfAddr>,
    pub gateway: Option<IpAddr>,
}

/// From a stanza's `address` (one or more, separated by white space or newlines, as
/// ifupdown joins a repeated option), `netmask` and `gateway`. Addresses of the
/// other family are an error.
pub fn parse_static(
    family: Family,
    address: &str,
    netmask: Option<&str>,
    gateway: Option<&str>,
) -> Result<StaticConfig, String> {
    let netmask = netmask.map(str::trim).filter(|s| !s.is_empty());
    let default_len = netmask
        .map(|m| netmask_len(m, family))
        .transpose()
        .map_err(|e| format!("netmask: {e}"))?;
    let mut addrs = Vec::new();
    for word in address.split_whitespace() {
        let a = IfAddr::parse(word, default_len).map_err(|e| format!("address: {e}"))?;
        if a.family() != family {
            return Err(format!(
                "address: {word} is not an {} address",
                family.addrfam()
            ));
        }
        if !addrs.contains(&a) {
            addrs.push(a);
        }
    }
    let gateway = match gateway.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(g) => {
            let a: IpAddr = g
                .parse()
                .map_err(|_| format!("gateway: \"{g}\" is not an IP address"))?;
            if Family::of(&a) != family {
                return Err(format!(
                    "gateway: {g} is not an {} address",
                    family.addrfam()
                ));
            }
            Some(a)
        }
    };
    Ok(StaticConfig {
        family,
        addrs,
        gateway,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_as_ifupdown_passes_them() {
        let c = parse_static(
            Family::V4,
            "192.0.2.50",
            Some("255.255.255.0"),
            Some("192.0.2.1"),
        )
        .unwrap();
        assert_eq!(c.addrs[0].to_string(), "192.0.2.50/24");
        assert_eq!(c.addrs[0].network().to_string(), "192.0.2.0/24");
        assert_eq!(c.gateway, Some("192.0.2.1".parse().unwrap()));
        let c = parse_static(Family::V4, "192.0.2.50/24\n198.51.100.7", None, None).unwrap();
        assert_eq!(c.addrs.len(), 2);
        assert_eq!(c.addrs[1].to_string(), "198.51.100.7/32");
        let c = parse_static(Family::V6, "2001:db8::1", Some("64"), None).unwrap();
        assert_eq!(c.addrs[0].network().to_string(), "2001:db8::/64");
        let c = parse_static(Family::V6, "2001:db8:1:2:3::1/56", None, None).unwrap();
        assert_eq!(c.addrs[0].network().to_string(), "2001:db8:1::/56");
    }

    #[test]
    fn bad_values_name_the_option() {
        let e = |fam, a: &str, m: Option<&str>, g: Option<&str>| {
            parse_static(fam, a, m, g).unwrap_err()
        };
        assert!(e(Family::V4, "2001:db8::1", None, None).starts_with("address:"));
        assert!(e(Family::V4, "192.0.2.1/33", None, None).contains("0..32"));
        assert!(e(Family::V4, "x", None, None).contains("not an IP address"));
        assert!(e(Family::V4, "192.0.2.1", Some("255.0.255.0"), None).starts_with("netmask:"));
        assert!(e(Family::V6, "2001:db8::1", Some("255.255.255.0"), None).starts_with("netmask:"));
        assert!(e(Family::V4, "192.0.2.1", None, Some("2001:db8::1")).starts_with("gateway:"));
    }

    #[test]
    fn netmasks() {
        assert_eq!(netmask_len("255.255.255.0", Family::V4), Ok(24));
        assert_eq!(netmask_len("0.0.0.0", Family::V4), Ok(0));
        assert_eq!(netmask_len("255.255.255.255", Family::V4), Ok(32));
        assert_eq!(netmask_len("64", Family::V6), Ok(64));
        assert!(netmask_len("129", Family::V6).is_err());
        let z = IfAddr::parse("192.0.2.9/0", None).unwrap();
        assert_eq!(z.network().to_string(), "0.0.0.0/0");
    }

    #[test]
    fn families() {
        assert_eq!(Family::from_addrfam("inet6"), Some(Family::V6));
        assert_eq!(Family::from_addrfam("can"), None);
        assert_eq!(Family::V4.flag(), "-4");
    }
}
