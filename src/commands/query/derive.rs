//! The values ifquery adds to a stanza's options before it prints them.
//!
//! ifupdown 0.8 does not print an interface's options as written: first it adds
//! the method's defaults that the stanza does not set (`broadcast +` for `inet
//! static`, `dad-attempts 60` and friends for `inet6 static`), then it runs the
//! method's conversions in their order, each on every option of its name:
//! `hwaddress ether X` becomes `X`, `address A/24` gives a `netmask` (unless the
//! stanza has one) and loses its prefix, `broadcast +`/`-` is computed from the
//! address and netmask, `gateway` sets `accept_ra 0` (unless set), a 6to4
//! `local` gives `hexaddress`, `preferred-lifetime` is `0` on an alias (`eth0:1`).
//! A conversion that makes a new option appends it (or, for a name that ends in
//! `?` in ifupdown's tables, leaves an existing one alone).
//!
//! The tables here are those of ifupdown 0.8's `inet.defn` and `inet6.defn` for
//! Linux, and the conversions behave as ifupdown's do on odd input too (a value
//! that is not an address is left as it is, `address /64` of `inet6 static` gives
//! `address 64` and an empty netmask), because `query` must print what `ifquery`
//! prints. The one difference: `hwaddress random` is a random MAC here too, but
//! not the same one.

use std::net::Ipv4Addr;

/// A conversion of ifupdown (the name of its C function in the comment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Conv {
    /// `cleanup_hwaddress`: drop a leading `ether`/`ax25`/`ARCnet`/`netrom`
    /// class, and make `random` a random locally administered unicast MAC.
    Hwaddress,
    /// `compute_v4_mask`: the netmask of `A/BITS`, `A/MASK` or, without a
    /// prefix, of A's class.
    V4Mask,
    /// `compute_v4_addr`: `A/…` → `A`.
    V4Addr,
    /// `compute_v4_broadcast`: `+` / `-` → the highest / lowest address of the
    /// subnet (`255.255.255.255` / `0.0.0.0` for a /31).
    V4Broadcast,
    /// `set_preferred_lft`: `0` on an alias (the physical name has a `:`).
    PreferredLifetime,
    /// `get_token /`: the Nth part between slashes, or empty.
    SlashToken(usize),
    /// `if_set`: this value.
    Set(&'static str),
    /// `make_hex_address`: `1.2.3.4` → `0102:0304`.
    HexAddress,
}

/// One conversion: on every option `option`, run `conv` on it, or on a new
/// option `into` holding its value (`keep`: not when `into` exists already).
struct Conversion {
    option: &'static str,
    into: Option<(&'static str, bool)>,
    conv: Conv,
}

const fn on(option: &'static str, conv: Conv) -> Conversion {
    Conversion {
        option,
        into: None,
        conv,
    }
}

const fn into(option: &'static str, new: &'static str, keep: bool, conv: Conv) -> Conversion {
    Conversion {
        option,
        into: Some((new, keep)),
        conv,
    }
}

const HW: &[Conversion] = &[on("hwaddress", Conv::Hwaddress)];

/// A method's defaults (name, value) and conversions.
type Method = (
    &'static [(&'static str, &'static str)],
    &'static [Conversion],
);

/// The defaults and conversions of method `method` of `family` (Linux).
fn method(family: &str, method: &str) -> Method {
    const INET_STATIC: &[Conversion] = &[
        on("hwaddress", Conv::Hwaddress),
        into("address", "netmask", true, Conv::V4Mask),
        on("address", Conv::V4Addr),
        on("broadcast", Conv::V4Broadcast),
    ];
    const INET6_STATIC: &[Conversion] = &[
        on("hwaddress", Conv::Hwaddress),
        on("preferred-lifetime", Conv::PreferredLifetime),
        into("address", "netmask", true, Conv::SlashToken(1)),
        on("address", Conv::SlashToken(0)),
        into("gateway", "accept_ra", true, Conv::Set("0")),
    ];
    const LIFETIME: &[Conversion] = &[on("preferred-lifetime", Conv::PreferredLifetime)];
    const SIX_TO_FOUR: &[Conversion] = &[
        into("local", "hexaddress", false, Conv::HexAddress),
        on("preferred-lifetime", Conv::PreferredLifetime),
    ];
    match (family, method) {
        ("inet", "static") => (&[("broadcast", "+")], INET_STATIC),
        ("inet", "manual" | "dhcp") | ("inet6", "manual") => (&[], HW),
        ("inet6", "auto") => (&AUTO_DEFAULTS, &[]),
        ("inet6", "dhcp") => (&DHCP6_DEFAULTS, HW),
        ("inet6", "static") => (
            &[
                ("autoconf", "0"),
                ("preferred-lifetime", ""),
                ("dad-attempts", "60"),
                ("dad-interval", "0.1"),
            ],
            INET6_STATIC,
        ),
        ("inet6", "v4tunnel") => (&[("preferred-lifetime", "")], LIFETIME),
        ("inet6", "6to4") => (&[("preferred-lifetime", "")], SIX_TO_FOUR),
        _ => (&[], &[]),
    }
}

const AUTO_DEFAULTS: [(&str, &str); 4] = [
    ("accept_ra", "2"),
    ("request_prefix", "0"),
    ("ll-attempts", "60"),
    ("ll-interval", "0.1"),
];
const DHCP6_DEFAULTS: [(&str, &str); 4] = [
    ("accept_ra", "1"),
    ("request_prefix", "0"),
    ("ll-attempts", "60"),
    ("ll-interval", "0.1"),
];

/// `options` (name, value; a stanza's, after `inherits`, in file order) as
/// ifquery prints them for a stanza of `family`/`method` of physical interface
/// `phys`.
pub fn derive(family: &str, method_name: &str, phys: &str, options: &mut Vec<(String, String)>) {
    let (defaults, conversions) = method(family, method_name);
    for (name, value) in defaults {
        if !options.iter().any(|(n, _)| n == name) {
            options.push((name.to_string(), value.to_string()));
        }
    }
    for c in conversions {
        let mut j = 0;
        while j < options.len() {
            if options[j].0 == c.option {
                let target = match c.into {
                    None => Some(j),
                    Some((new, keep)) => {
                        let value = options[j].1.clone();
                        set(options, new, value, keep)
                    }
                };
                if let Some(t) = target {
                    let v = convert(c.conv, options, phys, &options[t].1);
                    options[t].1 = v;
                }
            }
            j += 1;
        }
    }
}

/// ifupdown's `set_variable`: replace the value of option `name` (unless
/// `keep`), or append it; which one it is, or None when kept.
fn set(
    options: &mut Vec<(String, String)>,
    name: &str,
    value: String,
    keep: bool,
) -> Option<usize> {
    match options.iter().position(|(n, _)| n == name) {
        Some(_) if keep => None,
        Some(i) => {
            options[i].1 = value;
            Some(i)
        }
        None => {
            options.push((name.to_string(), value));
            Some(options.len() - 1)
        }
    }
}

/// The first non-empty value of option `name` (ifupdown's `get_var`).
fn var<'a>(options: &'a [(String, String)], name: &str) -> Option<&'a str> {
    options
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

fn convert(conv: Conv, options: &[(String, String)], phys: &str, value: &str) -> String {
    let same = || value.to_string();
    match conv {
        Conv::Hwaddress => hwaddress(value),
        Conv::V4Mask => v4_mask(value).unwrap_or_else(same),
        Conv::V4Addr => slash_parts(&v4_buffer(value))
            .next()
            .map_or_else(same, str::to_string),
        Conv::V4Broadcast => v4_broadcast(options, value).unwrap_or_else(same),
        Conv::PreferredLifetime if slash_free_alias(phys) => "0".to_string(),
        Conv::PreferredLifetime => same(),
        Conv::SlashToken(n) => slash_parts(value).nth(n).unwrap_or("").to_string(),
        Conv::Set(v) => v.to_string(),
        Conv::HexAddress => hex_address(value).unwrap_or_else(same),
    }
}

/// Non-empty parts between `/` (C's `strtok(s, "/")`).
fn slash_parts(s: &str) -> impl Iterator<Item = &str> {
    s.split('/').filter(|p| !p.is_empty())
}

/// Whether a name is an alias: it has a second part after a `:`.
fn slash_free_alias(phys: &str) -> bool {
    phys.split(':').filter(|p| !p.is_empty()).nth(1).is_some()
}

/// ifupdown copies an IPv4 `address` into a buffer of 33 characters first.
fn v4_buffer(value: &str) -> String {
    let b = value.as_bytes();
    String::from_utf8_lossy(&b[..b.len().min(33)]).into_owned()
}

fn hwaddress(value: &str) -> String {
    if value == "random" {
        return random_mac().unwrap_or_else(|| value.to_string());
    }
    match value.split_once(' ') {
        Some((class, rest))
            if ["ether", "ax25", "ARCnet", "netrom"]
                .iter()
                .any(|c| c.eq_ignore_ascii_case(class)) =>
        {
            rest.to_string()
        }
        _ => value.to_string(),
    }
}

fn random_mac() -> Option<String> {
    use std::io::Read;
    let mut mac = [0u8; 6];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut mac))
        .ok()?;
    mac[0] = (mac[0] | 0x2) & !0x1;
    let parts: Vec<String> = mac.iter().map(|b| format!("{b:02x}")).collect();
    Some(parts.join(":"))
}

/// `A/BITS` (or `A/MASK`, or `A` alone: its class's mask) → the netmask; None
/// when A is not an IPv4 address or the prefix not a number.
fn v4_mask(value: &str) -> Option<String> {
    let buf = v4_buffer(value);
    let mut parts = slash_parts(&buf);
    let addr: Ipv4Addr = parts.next()?.parse().ok()?;
    let mask = match parts.next() {
        None => {
            let width = match addr.octets()[0] {
                0..=127 => 8,
                128..=191 => 16,
                192..=223 => 24,
                _ => 32,
            };
            width_mask(width)
        }
        Some(p) => match p.parse::<Ipv4Addr>() {
            Ok(m) => u32::from(m),
            Err(_) => width_mask(leading_int(p)?),
        },
    };
    Some(Ipv4Addr::from(mask).to_string())
}

/// `~((1L << (32 - width)) - 1)` on 64 bits, as ifupdown computes it (the
/// shift count taken modulo 64, as the processor does), cut to 32 bits.
fn width_mask(width: i64) -> u32 {
    let shift = (32i64.wrapping_sub(width) & 63) as u32;
    let ones = 1i64.wrapping_shl(shift).wrapping_sub(1);
    (!ones) as u32
}

/// C's `sscanf("%d")`: optional blanks, a sign, digits; what follows is ignored.
fn leading_int(s: &str) -> Option<i64> {
    let t = s.trim_start();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    let n: i64 = digits[..end].parse().ok()?;
    Some(if neg { n.wrapping_neg() } else { n })
}

fn v4_broadcast(options: &[(String, String)], value: &str) -> Option<String> {
    if value != "+" && value != "-" {
        return None;
    }
    let addr = u32::from(var(options, "address")?.parse::<Ipv4Addr>().ok()?);
    let mask = u32::from(var(options, "netmask")?.parse::<Ipv4Addr>().ok()?);
    let plus = value == "+";
    let b = match (mask == 0xffff_fffe, plus) {
        (false, true) => addr | !mask,
        (false, false) => addr & mask,
        (true, true) => u32::MAX,
        (true, false) => 0,
    };
    Some(Ipv4Addr::from(b).to_string())
}

/// `1.2.3.4` → `0102:0304` (each part up to 3 digits, modulo 256, as C's
/// `%3hhu`); None when it does not start with four such parts.
fn hex_address(value: &str) -> Option<String> {
    let mut rest = value;
    let mut b = [0u8; 4];
    for (i, slot) in b.iter_mut().enumerate() {
        if i > 0 {
            rest = rest.strip_prefix('.')?;
        }
        rest = rest.trim_start();
        let rest_digits = rest.strip_prefix('+').unwrap_or(rest);
        let n = rest_digits
            .char_indices()
            .take(3)
            .take_while(|(_, c)| c.is_ascii_digit())
            .count();
        if n == 0 {
            return None;
        }
        let v: u32 = rest_digits[..n].parse().ok()?;
        *slot = (v % 256) as u8;
        rest = &rest_digits[n..];
    }
    Some(format!("{:02x}{:02x}:{:02x}{:02x}", b[0], b[1], b[2], b[3]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn derived(family: &str, method: &str, phys: &str, opts: &[(&str, &str)]) -> Vec<String> {
        let mut v: Vec<(String, String)> = opts
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        derive(family, method, phys, &mut v);
        v.into_iter().map(|(n, v)| format!("{n}: {v}")).collect()
    }

    #[test]
    fn inet_static_splits_the_prefix_and_computes_broadcast() {
        assert_eq!(
            derived("inet", "static", "eth1", &[("address", "1.2.3.4/14")]),
            [
                "address: 1.2.3.4",
                "broadcast: 1.3.255.255",
                "netmask: 255.252.0.0"
            ]
        );
        assert_eq!(
            derived(
                "inet",
                "static",
                "eth3",
                &[("address", "1.2.3.4/24"), ("broadcast", "-")]
            ),
            [
                "address: 1.2.3.4",
                "broadcast: 1.2.3.0",
                "netmask: 255.255.255.0"
            ]
        );
        // a /31 has no broadcast address
        assert_eq!(
            derived("inet", "static", "e", &[("address", "1.2.3.4/31")])[1],
            "broadcast: 255.255.255.255"
        );
        // a netmask given wins; without a prefix the class decides
        assert_eq!(
            derived(
                "inet",
                "static",
                "e",
                &[("address", "1.2.3.4/14"), ("netmask", "255.255.255.128")]
            ),
            [
                "address: 1.2.3.4",
                "netmask: 255.255.255.128",
                "broadcast: 1.2.3.127"
            ]
        );
        assert_eq!(
            derived("inet", "static", "e", &[("address", "172.16.0.1")])[2],
            "netmask: 255.255.0.0"
        );
        // not an address: left as it is, netmask a copy (as ifquery does)
        assert_eq!(
            derived("inet", "static", "e", &[("address", "foo/24")]),
            ["address: foo", "broadcast: +", "netmask: foo/24"]
        );
    }

    #[test]
    fn inet6_static_defaults_prefix_and_gateway() {
        assert_eq!(
            derived(
                "inet6",
                "static",
                "eth1",
                &[("address", "2001:db8::1/64"), ("gateway", "2001:db8::ff")]
            ),
            [
                "address: 2001:db8::1",
                "gateway: 2001:db8::ff",
                "autoconf: 0",
                "preferred-lifetime: ",
                "dad-attempts: 60",
                "dad-interval: 0.1",
                "netmask: 64",
                "accept_ra: 0"
            ]
        );
        let odd = derived("inet6", "static", "eth0:1", &[("address", "/64")]);
        assert_eq!(odd[0], "address: 64");
        assert_eq!(odd[2], "preferred-lifetime: 0");
        assert_eq!(odd[5], "netmask: ");
    }

    #[test]
    fn hwaddress_class_hexaddress_and_auto_defaults() {
        assert_eq!(
            derived(
                "inet",
                "manual",
                "e",
                &[("hwaddress", "ether 00:DE:AD:00:BE:AF")]
            ),
            ["hwaddress: 00:DE:AD:00:BE:AF"]
        );
        assert_eq!(
            derived("inet", "manual", "e", &[("hwaddress", "foo 00:01")]),
            ["hwaddress: foo 00:01"]
        );
        let r = derived("inet", "dhcp", "e", &[("hwaddress", "random")]);
        assert_eq!(r[0].len(), "hwaddress: ".len() + 17, "{r:?}");
        assert_eq!(
            derived("inet6", "6to4", "t", &[("local", "1.2.3.4")]),
            [
                "local: 1.2.3.4",
                "preferred-lifetime: ",
                "hexaddress: 0102:0304"
            ]
        );
        assert_eq!(
            derived("inet6", "auto", "e", &[("accept_ra", "0")]),
            [
                "accept_ra: 0",
                "request_prefix: 0",
                "ll-attempts: 60",
                "ll-interval: 0.1"
            ]
        );
        assert_eq!(derived("inet6", "dhcp", "e", &[])[0], "accept_ra: 1");
        assert!(derived("inet", "loopback", "lo", &[]).is_empty());
    }

    #[test]
    fn odd_masks_as_c_computes_them() {
        assert_eq!(width_mask(0), 0);
        assert_eq!(width_mask(32), u32::MAX);
        assert_eq!(width_mask(24), 0xffff_ff00);
        assert_eq!(leading_int(" 24x"), Some(24));
        assert_eq!(leading_int("x"), None);
        assert_eq!(hex_address("10.0.300.1"), Some("0a00:2c01".into()));
        assert_eq!(hex_address("10.0.1"), None);
    }
}
