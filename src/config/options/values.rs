//! Parsers for option values that have no model type of their own: trunk lists,
//! yes/no flags, bounded numbers, kernel interface names, `hwaddress`.

use crate::config::model::{Mac, ValueError, VlanId};

/// `1,2,10-20` (commas and/or white space; ranges inclusive; `[...]` as ovs-vsctl
/// prints sets). Sorted, without duplicates.
pub fn parse_trunks(s: &str) -> Result<Vec<VlanId>, ValueError> {
    let inner = s.trim();
    let inner = inner
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(inner);
    let mut out = Vec::new();
    for item in inner
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|t| !t.is_empty())
    {
        match item.split_once('-') {
            Some((lo, hi)) => {
                let (lo, hi) = (lo.parse::<VlanId>()?, hi.parse::<VlanId>()?);
                if lo > hi {
                    return Err(ValueError(format!("range {item} is reversed")));
                }
                out.extend((lo.0..=hi.0).map(VlanId));
            }
            None => out.push(item.parse::<VlanId>()?),
        }
    }
    if out.is_empty() {
        return Err(ValueError(
            "empty trunk list (expected VLAN ids like 1,2,10-20)".into(),
        ));
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// yes/no, on/off, true/false, 1/0 (any case).
pub fn parse_bool(s: &str) -> Result<bool, ValueError> {
    match s.to_ascii_lowercase().as_str() {
        "yes" | "on" | "true" | "1" => Ok(true),
        "no" | "off" | "false" | "0" => Ok(false),
        _ => Err(ValueError(format!(
            "\"{s}\" is not yes or no (also accepted: on/off, true/false, 1/0)"
        ))),
    }
}

/// A decimal number within `lo..=hi`.
pub fn parse_bounded(s: &str, lo: u32, hi: u32, what: &str) -> Result<u32, ValueError> {
    let out_of_range = || ValueError(format!("{what} {s} is outside {lo}..{hi}"));
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ValueError(format!(
            "\"{s}\" is not a {what} (a number in {lo}..{hi})"
        )));
    }
    match s.parse::<u32>() {
        Ok(n) if (lo..=hi).contains(&n) => Ok(n),
        _ => Err(out_of_range()),
    }
}

/// The kernel's `dev_valid_name`: not empty, at most 15 bytes, not `.` or `..`, no
/// `/`, `:` or white space.
pub fn check_ifname(s: &str) -> Result<(), ValueError> {
    if s.is_empty() {
        return Err(ValueError("empty interface name".into()));
    }
    if s.len() > 15 {
        return Err(ValueError(format!(
            "interface name \"{s}\" is longer than 15 bytes"
        )));
    }
    if s == "." || s == ".." {
        return Err(ValueError(format!("\"{s}\" is not a valid interface name")));
    }
    if let Some(c) = s
        .chars()
        .find(|&c| c == '/' || c == ':' || c.is_ascii_whitespace())
    {
        let shown = if c.is_ascii_whitespace() {
            "white space".to_string()
        } else {
            format!("'{c}'")
        };
        return Err(ValueError(format!(
            "interface name \"{s}\" contains {shown}, which the kernel refuses"
        )));
    }
    Ok(())
}

/// ifupdown's `hwaddress [ether] MAC`; `random` means ifupdown picks one (None).
pub fn parse_hwaddress(s: &str) -> Result<Option<Mac>, ValueError> {
    let words: Vec<&str> = s.split_whitespace().collect();
    let mac = match words.as_slice() {
        ["ether", mac] | [mac] => *mac,
        _ => {
            return Err(ValueError(format!(
                "\"{s}\" is not \"[ether] MAC\" or \"random\""
            )));
        }
    };
    if mac == "random" {
        return Ok(None);
    }
    mac.parse::<Mac>().map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[u16]) -> Vec<VlanId> {
        v.iter().copied().map(VlanId).collect()
    }

    #[test]
    fn trunks() {
        assert_eq!(parse_trunks("1,2,10-12").unwrap(), ids(&[1, 2, 10, 11, 12]));
        assert_eq!(parse_trunks("3 1, 2 2").unwrap(), ids(&[1, 2, 3]));
        assert_eq!(parse_trunks("[5,6]").unwrap(), ids(&[5, 6]));
        assert_eq!(parse_trunks("0-4095").unwrap().len(), 4096);
        assert_eq!(
            parse_trunks("20-10").unwrap_err().0,
            "range 20-10 is reversed"
        );
        assert_eq!(
            parse_trunks("1,4096").unwrap_err().0,
            "VLAN id 4096 is outside 0..4095"
        );
        assert!(parse_trunks("1-").is_err());
        assert!(parse_trunks("a").is_err());
        assert!(parse_trunks(" , ").is_err());
    }

    #[test]
    fn bools() {
        for t in ["yes", "On", "TRUE", "1"] {
            assert_eq!(parse_bool(t), Ok(true));
        }
        for f in ["no", "off", "False", "0"] {
            assert_eq!(parse_bool(f), Ok(false));
        }
        assert!(parse_bool("y").is_err());
    }

    #[test]
    fn bounded() {
        assert_eq!(parse_bounded("1500", 68, 65535, "MTU"), Ok(1500));
        assert_eq!(
            parse_bounded("67", 68, 65535, "MTU").unwrap_err().0,
            "MTU 67 is outside 68..65535"
        );
        assert!(parse_bounded("99999999999", 68, 65535, "MTU").is_err());
        assert!(parse_bounded("1e3", 68, 65535, "MTU").is_err());
    }

    #[test]
    fn ifnames() {
        for ok in ["eth0", "ovsbr0p1", "a.b-c_d", "123456789012345"] {
            assert!(check_ifname(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            check_ifname("1234567890123456").unwrap_err().0,
            "interface name \"1234567890123456\" is longer than 15 bytes"
        );
        assert!(check_ifname("").is_err());
        assert!(check_ifname(".").is_err());
        assert!(check_ifname("..").is_err());
        assert!(check_ifname("a/b").is_err());
        assert_eq!(
            check_ifname("eth0:1").unwrap_err().0,
            "interface name \"eth0:1\" contains ':', which the kernel refuses"
        );
        assert!(check_ifname("a\tb").is_err());
        // 15 bytes counted as bytes, not characters
        assert!(check_ifname("ééééééé12").is_err());
    }

    #[test]
    fn hwaddresses() {
        let mac = Mac([2, 0, 0, 0, 0, 1]);
        assert_eq!(parse_hwaddress("ether 02:00:00:00:00:01"), Ok(Some(mac)));
        assert_eq!(parse_hwaddress("02:00:00:00:00:01"), Ok(Some(mac)));
        assert_eq!(parse_hwaddress("random"), Ok(None));
        assert!(parse_hwaddress("ether").is_err());
        assert!(parse_hwaddress("ether 01:00:00:00:00:01").is_err());
    }
}
