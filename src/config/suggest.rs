//! "Did you mean": the edit distance behind the suggestions for a mistyped option
//! name (`config::options`), and for a mistyped table, column, key, enum value or
//! ovs-vsctl command (`config::schema`). Both use it, so it sits below them.

/// Levenshtein distance over characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let up = row[j + 1];
            row[j + 1] = (diag + usize::from(ca != cb)).min(up + 1).min(row[j] + 1);
            diag = up;
        }
    }
    row[b.len()]
}

/// The candidate closest to `name`, if it is close enough to be a plausible typo.
pub fn did_you_mean<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    closest(name, candidates.iter().copied(), |s| s.to_string())
}

/// Like [`did_you_mean`], comparing `norm(name)` with `norm(candidate)` (ovs-vsctl
/// compares table and column names without case, `-` and `_` alike).
pub fn closest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    norm: impl Fn(&str) -> String,
) -> Option<&'a str> {
    let name = norm(name);
    let limit = (name.chars().count() / 3).clamp(1, 3);
    candidates
        .into_iter()
        .map(|c| (edit_distance(&name, &norm(c)), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("ovs_brigde", "ovs_bridge"), 2);
        let names = ["ovs_bridge", "ovs_bonds", "ovs_ports"];
        assert_eq!(did_you_mean("ovs_brige", &names), Some("ovs_bridge"));
        assert_eq!(did_you_mean("ovs_port", &names), Some("ovs_ports"));
        assert_eq!(did_you_mean("ovs_frobnicate", &names), None);
        let lower = |s: &str| s.to_ascii_lowercase();
        assert_eq!(closest("brige", ["Port", "Bridge"], lower), Some("Bridge"));
    }
}
