//! A stable hash of what an interface's pre-up configures. `ifup -a` records it for
//! each interface it set up in one batch (hook::records); the interface's own hook run
//! compares it with its own, so that a changed stanza or environment is never taken
//! for one the batch already applied. The same hash derives the MACs we pin on
//! bridges (desired::pinned_mac).

/// 64-bit FNV-1a: small, and stable across builds, runs and Rust versions (unlike
/// std's `DefaultHasher`).
pub fn fnv1a(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The fingerprint of a description (e.g. the `Debug` form of an interface's
/// model and desired node), as 16 hex digits.
pub fn fingerprint(description: &str) -> String {
    format!("{:016x}", fnv1a(description.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_reference_vectors() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fingerprint("x"), fingerprint("x"));
        assert_ne!(fingerprint("tag=1"), fingerprint("tag=2"));
        assert_eq!(fingerprint("x").len(), 16);
    }
}
