//! Interface patterns of `auto`/`allow-` lines: `[VARIABLE]/VALUE[/N][=LOGICAL]`.
//!
//! ifupdown 0.8 replaces a pattern by the kernel's interfaces that match it (in the
//! order the kernel lists them in /sys/class/net). VALUE is an fnmatch(3) pattern on
//! the interface name, or, with a VARIABLE, on the content of
//! `/sys/class/net/IFACE/VARIABLE` (`mac` compares the MAC address exactly,
//! ignoring case). N keeps only the N-th match. A name not starting with `/` and
//! without a `/` after a variable name is not a pattern. `=LOGICAL` is kept on each
//! result.

use std::path::Path;

/// The kernel's interfaces, in directory order of /sys/class/net.
pub fn system_interfaces() -> Vec<String> {
    let Ok(rd) = std::fs::read_dir("/sys/class/net") else {
        return Vec::new();
    };
    rd.filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .collect()
}

/// Content of `/sys/class/net/IFACE/ATTR`, white space trimmed.
pub fn sys_attr(iface: &str, attr: &str) -> Option<String> {
    if attr.contains('/') || attr == ".." || iface.contains('/') {
        return None;
    }
    let p = Path::new("/sys/class/net").join(iface).join(attr);
    std::fs::read_to_string(p)
        .ok()
        .map(|s| s.trim().to_string())
}

/// fnmatch(3) without flags.
pub fn fnmatch(pattern: &str, name: &str) -> bool {
    match glob::Pattern::new(pattern) {
        Ok(p) => p.matches_with(
            name,
            glob::MatchOptions {
                case_sensitive: true,
                require_literal_separator: false,
                require_literal_leading_dot: false,
            },
        ),
        Err(_) => pattern == name,
    }
}

/// A parsed pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    pub variable: Option<String>,
    pub value: String,
    pub nth: Option<usize>,
    pub logical: Option<String>,
}

/// Parse an allow entry; `None` if it is a plain interface name.
pub fn parse(entry: &str) -> Option<Pattern> {
    let (body, logical) = match entry.split_once('=') {
        Some((b, l)) => (b, Some(l.to_string())),
        None => (entry, None),
    };
    let slash = body.find('/')?;
    // GNU/Hurd device names are not patterns; harmless on Linux.
    if body.starts_with("/dev/") {
        return None;
    }
    let variable = (slash > 0).then(|| body[..slash].to_string());
    let rest = &body[slash + 1..];
    let (value, nth) = match rest.split_once('/') {
        Some((v, opts)) => (v.to_string(), opts.parse::<usize>().ok().filter(|&n| n > 0)),
        None => (rest.to_string(), None),
    };
    Some(Pattern {
        variable,
        value,
        nth,
        logical,
    })
}

/// Expand one allow entry against `interfaces`; `attr(iface, name)` reads a sysfs
/// attribute. Plain names are returned unchanged.
pub fn expand(
    entry: &str,
    interfaces: &[String],
    attr: &dyn Fn(&str, &str) -> Option<String>,
) -> Vec<String> {
    let Some(p) = parse(entry) else {
        return vec![entry.to_string()];
    };
    let matching = interfaces.iter().filter(|i| match p.variable.as_deref() {
        None => fnmatch(&p.value, i),
        Some("mac") => attr(i, "address").is_some_and(|a| a.eq_ignore_ascii_case(&p.value)),
        Some(var) => attr(i, var).is_some_and(|a| fnmatch(&p.value, &a)),
    });
    let chosen: Vec<&String> = match p.nth {
        Some(n) => matching.skip(n - 1).take(1).collect(),
        None => matching.collect(),
    };
    chosen
        .into_iter()
        .map(|i| match &p.logical {
            Some(l) => format!("{i}={l}"),
            None => i.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn devs() -> Vec<String> {
        ["ifb0", "ifb1", "lo", "eth0"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    fn attr(i: &str, a: &str) -> Option<String> {
        match (i, a) {
            ("lo", "address") => Some("00:00:00:00:00:00".into()),
            ("eth0", "address") => Some("02:FC:00:00:00:01".into()),
            ("lo", "mtu") => Some("65536".into()),
            (_, "mtu") => Some("1500".into()),
            _ => None,
        }
    }

    #[test]
    fn plain_names_are_not_patterns() {
        assert_eq!(parse("eth0"), None);
        assert_eq!(parse("eth0=x"), None);
        assert_eq!(expand("eth0=x", &devs(), &attr), vec!["eth0=x"]);
    }

    #[test]
    fn name_patterns() {
        assert_eq!(expand("/e*", &devs(), &attr), vec!["eth0"]);
        assert_eq!(expand("/ifb*=x", &devs(), &attr), vec!["ifb0=x", "ifb1=x"]);
        assert_eq!(expand("/*/3", &devs(), &attr), vec!["lo"]);
        assert_eq!(expand("/*/9", &devs(), &attr), Vec::<String>::new());
        assert_eq!(expand("/nomatch*", &devs(), &attr), Vec::<String>::new());
    }

    #[test]
    fn variable_patterns() {
        assert_eq!(
            expand("mac/02:fc:00:00:00:01", &devs(), &attr),
            vec!["eth0"]
        );
        assert_eq!(
            expand("mtu/1500", &devs(), &attr),
            vec!["ifb0", "ifb1", "eth0"]
        );
        assert_eq!(expand("nosuch/x", &devs(), &attr), Vec::<String>::new());
    }

    #[test]
    fn fnmatch_basics() {
        assert!(fnmatch("eth*", "eth0"));
        assert!(fnmatch("e?h[0-9]", "eth1"));
        assert!(!fnmatch("eth*", "wlan0"));
        assert!(fnmatch("[", "["));
    }
}
