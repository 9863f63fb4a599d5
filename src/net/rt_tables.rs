//! Routing table names as iproute2 knows them: its built-in names plus
//! `rt_tables` and `rt_tables.d/*.conf` in each configuration directory.

use std::fmt;
use std::path::{Path, PathBuf};

/// A routing table, by number or by a name from /etc/iproute2/rt_tables. Read from
/// `ovs_route_table` by `config` (its `FromStr` lives there, with the option's errors).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RouteTable {
    Id(u32),
    Name(String),
}

impl fmt::Display for RouteTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouteTable::Id(n) => write!(f, "{n}"),
            RouteTable::Name(s) => f.write_str(s),
        }
    }
}

/// Names iproute2 knows without any file.
const BUILTIN: [(&str, u32); 4] = [
    ("unspec", 0),
    ("default", 253),
    ("main", 254),
    ("local", 255),
];

/// The directories iproute2 reads, most specific first.
pub fn default_dirs() -> Vec<PathBuf> {
    vec![
        PathBuf::from("/etc/iproute2"),
        PathBuf::from("/usr/share/iproute2"),
    ]
}

/// The id of table `name`, or None if no file defines it. Missing or unreadable
/// files count as empty (as in iproute2).
pub fn lookup(dirs: &[PathBuf], name: &str) -> Option<u32> {
    if let Some((_, id)) = BUILTIN.iter().find(|(n, _)| *n == name) {
        return Some(*id);
    }
    dirs.iter().flat_map(|d| files_in(d)).find_map(|file| {
        let text = std::fs::read_to_string(&file).ok()?;
        parse(&text)
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, id)| id)
    })
}

/// `DIR/rt_tables`, then `DIR/rt_tables.d/*.conf` in name order.
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut extra: Vec<PathBuf> = std::fs::read_dir(dir.join("rt_tables.d"))
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "conf"))
                .collect()
        })
        .unwrap_or_default();
    extra.sort();
    let mut files = vec![dir.join("rt_tables")];
    files.extend(extra);
    files
}

/// `ID NAME` lines; `#` starts a comment; ids in decimal or 0x hex.
fn parse(text: &str) -> Vec<(String, u32)> {
    text.lines()
        .filter_map(|line| {
            let line = line.split('#').next().unwrap_or("");
            let mut words = line.split_whitespace();
            let (id, name) = (words.next()?, words.next()?);
            let id = match id.strip_prefix("0x") {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => id.parse().ok()?,
            };
            Some((name.to_string(), id))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_files_and_conf_dir() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("rt_tables"),
            "# comment\n255\tlocal\n100 mgmt # trailing\n0x20 hexy\nbogus line\n",
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("rt_tables.d")).unwrap();
        std::fs::write(dir.path().join("rt_tables.d/ha.conf"), "200 ovsbr0p1\n").unwrap();
        std::fs::write(dir.path().join("rt_tables.d/skip.txt"), "201 ignored\n").unwrap();
        let dirs = vec![dir.path().to_path_buf(), dir.path().join("missing")];
        assert_eq!(lookup(&dirs, "mgmt"), Some(100));
        assert_eq!(lookup(&dirs, "hexy"), Some(32));
        assert_eq!(lookup(&dirs, "ovsbr0p1"), Some(200));
        assert_eq!(lookup(&dirs, "ignored"), None);
        assert_eq!(lookup(&dirs, "nosuch"), None);
        assert_eq!(lookup(&[], "main"), Some(254));
    }
}
