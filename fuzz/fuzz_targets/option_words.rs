//! The word splitter of `ovs_options` / `ovs_extra` (`sys::words::split`) with
//! command substitution forbidden or kept (validate-only): never run, so this
//! target starts no process. Also: `check`'s column test agrees with the one the
//! hook applies (`ovsdb::vsctl::split_assignment`).
#![no_main]

use ifupdown_ovs::config::options::{Text, is_column_assignment, split_text};
use ifupdown_ovs::ovsdb::vsctl::split_assignment;
use ifupdown_ovs::sys::words::{Expand, Subst, split};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let vars = |n: &str| (n == "V").then(|| " a  b ".to_string());
    for subst in [Subst::Forbidden, Subst::Keep] {
        let ex = Expand { vars: &vars, subst };
        if let Ok(words) = split(text, &ex) {
            for w in &words {
                assert_eq!(is_column_assignment(w), split_assignment(w).is_some(), "{w:?}");
            }
        }
    }
    // What check accepts as ovs_options, the hook's splitter accepts too.
    if split_text("p0", text, Text::Columns).is_ok() {
        let ex = Expand {
            vars: &vars,
            subst: Subst::Forbidden,
        };
        assert!(split(text, &ex).is_ok(), "{text:?}");
    }
    let _ = split_text("p0", text, Text::Commands);
    for w in text.split_whitespace() {
        assert_eq!(is_column_assignment(w), split_assignment(w).is_some(), "{w:?}");
    }
});
