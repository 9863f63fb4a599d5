//! What /proc says about a process: its parent, its start time (which, with the pid,
//! names one process for good: pids are reused, start times are not), its command line.

/// Fields of `/proc/PID/stat` that we use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcStat {
    /// Field 4: the parent's pid.
    pub ppid: u32,
    /// Field 22: start time in clock ticks since boot.
    pub start_time: u64,
}

/// Parent pid and start time of `pid`, or `None` when it is gone or unreadable.
pub fn stat(pid: u32) -> Option<ProcStat> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&s)
}

/// Start time (field 22) of `pid`.
pub fn start_time(pid: u32) -> Option<u64> {
    stat(pid).map(|s| s.start_time)
}

fn parse_stat(s: &str) -> Option<ProcStat> {
    // the command name (field 2) is in parentheses and may hold spaces and ')'
    let rest = &s[s.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(ProcStat {
        ppid: f.get(1)?.parse().ok()?,
        start_time: f.get(19)?.parse().ok()?,
    })
}

/// The arguments of `pid` (empty when it is gone).
pub fn cmdline(pid: u32) -> Vec<String> {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| {
            b.split(|c| *c == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The environment `pid` was started with (`/proc/PID/environ`: what execve
/// gave it, not later changes), as `NAME=VALUE` pairs; None when unreadable.
pub fn environ(pid: u32) -> Option<Vec<(String, String)>> {
    let b = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
    Some(parse_environ(&b))
}

fn parse_environ(b: &[u8]) -> Vec<(String, String)> {
    b.split(|c| *c == 0)
        .filter_map(|kv| {
            let kv = String::from_utf8_lossy(kv);
            let (k, v) = kv.split_once('=')?;
            Some((k.to_string(), v.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_name_with_spaces_and_parentheses_is_skipped() {
        let line = "42 (a) b (c)) S 7 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 12345 0 0";
        assert_eq!(
            parse_stat(line),
            Some(ProcStat {
                ppid: 7,
                start_time: 12345
            })
        );
    }

    #[test]
    fn this_process_has_a_parent_and_a_command_line() {
        let me = stat(std::process::id()).unwrap();
        assert!(me.ppid > 0);
        assert!(!cmdline(std::process::id()).is_empty());
        assert_eq!(start_time(std::process::id()), Some(me.start_time));
    }
}
