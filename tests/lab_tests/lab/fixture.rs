//! Reading what a fixture (an interfaces file) needs from the lab.

/// Names of "physical" NICs an interfaces text mentions: every word that looks like
/// a kernel NIC name (`eth*`, `ens*`, `enp*`, `eno*` followed by a digit), with VLAN
/// (`eth0.10`) and alias (`eth0:1`) suffixes removed. Sorted, without duplicates.
/// Comments are ignored. The lab gives each one a veth to a peer namespace.
pub fn nics_named_in(text: &str) -> Vec<String> {
    let mut names: Vec<String> = text
        .lines()
        .map(|line| line.split('#').next().unwrap_or(""))
        .flat_map(|line| {
            line.split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-')))
        })
        .filter_map(nic_base)
        .collect();
    names.sort();
    names.dedup();
    names
}

/// `Some(base name)` if `word` names a NIC (or a VLAN/alias on one).
fn nic_base(word: &str) -> Option<String> {
    let base = word.split(['.', ':']).next()?;
    let rest = ["eth", "ens", "enp", "eno"]
        .iter()
        .find_map(|prefix| base.strip_prefix(prefix))?;
    let ok = rest.starts_with(|c: char| c.is_ascii_digit())
        && rest.chars().all(|c| c.is_ascii_alphanumeric())
        && base.len() <= 15;
    ok.then(|| base.to_string())
}
