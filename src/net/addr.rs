//! Interface addresses: the static addresses of an `inet`/`inet6` stanza as ifupdown
//! hands them to hooks (`IF_ADDRESS` `192.0.2.50` + `IF_NETMASK` `255.255.255.0`,
//! or as written in the file: `192.0.2.50/24`), their family and connected prefix.
//! One parser for both: the hook's [`parse_static`] and the OCF agent's
//! [`StanzaAddr::parse`] (which keeps "no length written" apart).

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

/// Why an address, prefix length or netmask does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddrError {
    #[error("\"{0}\" is not an IP address")]
    NotAnAddress(String),
    #[error("\"{word}\": prefix length \"{len}\" is not a number in 0..{max}")]
    BadPrefix { word: String, len: String, max: u8 },
    #[error("netmask \"{mask}\" is not a prefix length{}", if *.family == Family::V4 { " or a contiguous dotted netmask" } else { "" })]
    BadNetmask { mask: String, family: Family },
    /// An address (or gateway) of the other family than its stanza's.
    #[error("{word} is not an {} address", .family.addrfam())]
    WrongFamily { word: String, family: Family },
}

/// Which option of a stanza's static configuration is wrong, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StaticError {
    #[error("netmask: {0}")]
    Netmask(AddrError),
    #[error("address: {0}")]
    Address(AddrError),
    #[error("gateway: {0}")]
    Gateway(AddrError),
}

/// An IPv4 or IPv6 address with its prefix length, as on an interface (`192.0.2.50/24`).
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
    pub fn parse(s: &str, default_len: Option<u8>) -> Result<IfAddr, AddrError> {
        let (addr, len) = split_len(s)?;
        let len = len.or(default_len).unwrap_or(Family::of(&addr).host_len());
        Ok(IfAddr { addr, len })
    }
}

/// `ADDR` or `ADDR/LEN`: the address and the length when one is written.
fn split_len(s: &str) -> Result<(IpAddr, Option<u8>), AddrError> {
    let (a, l) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    let addr: IpAddr = a
        .parse()
        .map_err(|_| AddrError::NotAnAddress(s.to_string()))?;
    let max = Family::of(&addr).host_len();
    let len = l
        .map(|l| {
            parse_len(l, max).ok_or_else(|| AddrError::BadPrefix {
                word: s.to_string(),
                len: l.to_string(),
                max,
            })
        })
        .transpose()?;
    Ok((addr, len))
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
pub fn netmask_len(s: &str, family: Family) -> Result<u8, AddrError> {
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
    Err(AddrError::BadNetmask {
        mask: s.to_string(),
        family,
    })
}

/// An address as a stanza gives it (`address` with or without `/LEN`, `netmask`):
/// the prefix length only when one is written. The OCF agent compares it with the
/// link's addresses, and a length not written is not compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StanzaAddr {
    pub ip: IpAddr,
    pub prefix: Option<u8>,
}

impl StanzaAddr {
    /// `ADDR[/LEN]`, the length else from `netmask` (a length or, for IPv4, a
    /// dotted netmask), read as [`parse_static`] reads them: a bad netmask is an
    /// error even when the length is written.
    pub fn parse(word: &str, netmask: Option<&str>) -> Result<StanzaAddr, StaticError> {
        let (ip, written) = split_len(word).map_err(StaticError::Address)?;
        let from_netmask = netmask
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(|m| netmask_len(m, Family::of(&ip)))
            .transpose()
            .map_err(StaticError::Netmask)?;
        let prefix = written.or(from_netmask);
        Ok(StanzaAddr { ip, prefix })
    }
}

impl fmt::Display for StanzaAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.prefix {
            Some(p) => write!(f, "{}/{p}", self.ip),
            None => write!(f, "{}", self.ip),
        }
    }
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
) -> Result<StaticConfig, StaticError> {
    let netmask = netmask.map(str::trim).filter(|s| !s.is_empty());
    let default_len = netmask
        .map(|m| netmask_len(m, family))
        .transpose()
        .map_err(StaticError::Netmask)?;
    let mut addrs = Vec::new();
    for word in address.split_whitespace() {
        let a = IfAddr::parse(word, default_len).map_err(StaticError::Address)?;
        if a.family() != family {
            return Err(StaticError::Address(AddrError::WrongFamily {
                word: word.to_string(),
                family,
            }));
        }
        if !addrs.contains(&a) {
            addrs.push(a);
        }
    }
    let gateway = match gateway.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(g) => Some(parse_gateway(g, family).map_err(StaticError::Gateway)?),
    };
    Ok(StaticConfig {
        family,
        addrs,
        gateway,
    })
}

/// A gateway address of `family`.
fn parse_gateway(g: &str, family: Family) -> Result<IpAddr, AddrError> {
    let a: IpAddr = g
        .parse()
        .map_err(|_| AddrError::NotAnAddress(g.to_string()))?;
    if Family::of(&a) != family {
        return Err(AddrError::WrongFamily {
            word: g.to_string(),
            family,
        });
    }
    Ok(a)
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
            parse_static(fam, a, m, g).unwrap_err().to_string()
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
    fn messages_name_the_value() {
        let e = |fam, a: &str, m: Option<&str>, g: Option<&str>| {
            parse_static(fam, a, m, g).unwrap_err().to_string()
        };
        assert_eq!(
            e(Family::V4, "x", None, None),
            "address: \"x\" is not an IP address"
        );
        assert_eq!(
            e(Family::V4, "192.0.2.1/33", None, None),
            "address: \"192.0.2.1/33\": prefix length \"33\" is not a number in 0..32"
        );
        assert_eq!(
            e(Family::V4, "2001:db8::1", None, None),
            "address: 2001:db8::1 is not an inet address"
        );
        assert_eq!(
            e(Family::V4, "192.0.2.1", Some("255.0.255.0"), None),
            "netmask: netmask \"255.0.255.0\" is not a prefix length or a contiguous dotted netmask"
        );
        assert_eq!(
            e(Family::V6, "2001:db8::1", Some("255.255.255.0"), None),
            "netmask: netmask \"255.255.255.0\" is not a prefix length"
        );
        assert_eq!(
            e(Family::V4, "192.0.2.1", None, Some("gw")),
            "gateway: \"gw\" is not an IP address"
        );
        assert_eq!(
            e(Family::V6, "2001:db8::1", None, Some("192.0.2.1")),
            "gateway: 192.0.2.1 is not an inet6 address"
        );
    }

    #[test]
    fn stanza_addresses_keep_an_unwritten_length_apart() {
        let a = |w: &str, m: Option<&str>| StanzaAddr::parse(w, m).map(|a| a.to_string());
        assert_eq!(a("192.0.2.1/24", None).as_deref(), Ok("192.0.2.1/24"));
        assert_eq!(
            a("192.0.2.1", Some("255.255.255.128")).as_deref(),
            Ok("192.0.2.1/25")
        );
        assert_eq!(a("192.0.2.1", Some("24")).as_deref(), Ok("192.0.2.1/24"));
        assert_eq!(a("192.0.2.1", None).as_deref(), Ok("192.0.2.1"));
        assert_eq!(a("192.0.2.1", Some(" ")).as_deref(), Ok("192.0.2.1"));
        assert_eq!(
            a("2001:db8:0::1", Some("64")).as_deref(),
            Ok("2001:db8::1/64")
        );
        // the length written wins over netmask, as in `parse_static`
        assert_eq!(
            a("192.0.2.1/24", Some("255.255.0.0")).as_deref(),
            Ok("192.0.2.1/24")
        );
        assert!(matches!(
            StanzaAddr::parse("192.0.2.1", Some("255.0.255.0")),
            Err(StaticError::Netmask(AddrError::BadNetmask { .. }))
        ));
        assert!(matches!(
            StanzaAddr::parse("192.0.2.1/33", None),
            Err(StaticError::Address(AddrError::BadPrefix { max: 32, .. }))
        ));
        assert!(matches!(
            StanzaAddr::parse("host.example", None),
            Err(StaticError::Address(AddrError::NotAnAddress(_)))
        ));
        assert_eq!(netmask_len("0.0.0.0", Family::V4), Ok(0));
        assert_eq!(netmask_len("255.255.255.255", Family::V4), Ok(32));
    }

    #[test]
    fn families() {
        assert_eq!(Family::from_addrfam("inet6"), Some(Family::V6));
        assert_eq!(Family::from_addrfam("can"), None);
        assert_eq!(Family::V4.flag(), "-4");
    }
}
