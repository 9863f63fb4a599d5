//! Logical lines, the line grammar, interface patterns and dirname on arbitrary
//! bytes, with the invariants they promise.
#![no_main]

use ifupdown_ovs::interfaces::{grammar, lines, pattern, source};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let devs: Vec<String> = ["lo", "eth0"].iter().map(|s| s.to_string()).collect();
    let attr = |_: &str, _: &str| Some("1500".to_string());
    let mut last = 0;
    for l in lines::logical_lines(data) {
        assert!(l.line > last && l.last_line >= l.line);
        last = l.last_line;
        assert_eq!(l.text.trim_end_matches(lines::is_c_space_char), l.text);
        if let Ok(Some(line)) = grammar::parse_line(&l.text) {
            match line {
                grammar::Line::Allow { names, .. } => {
                    for n in names {
                        assert!(n.len() <= grammar::MAX_WORD);
                        let _ = pattern::expand(&n, &devs, &attr);
                    }
                }
                grammar::Line::Source(rest) | grammar::Line::SourceDirectory(rest) => {
                    let _ = source::dirname(&rest);
                    let _ = source::pattern_for(&rest, &rest);
                }
                _ => {}
            }
        }
    }
});
