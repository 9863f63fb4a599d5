//! The schema checks (`config::schema`) on arbitrary input, with the copy of the
//! OVS schema in fixtures/schema/: a `COLUMN=VALUE` / `COLUMN:KEY=VALUE` word of
//! any column of the Bridge, Port and Interface tables (ovs-vsctl's value syntax:
//! quotes, sets, maps, ranges, and the documented keys), `ovs_extra` text split
//! as the hook splits it (`config::options::split_text`, substitutions kept, never
//! run) and checked command by command, and the schema parser itself on arbitrary
//! JSON. None may panic; every finding must print.
#![no_main]

use std::sync::OnceLock;

use ifupdown_ovs::config::options::{Text, split_text};
use ifupdown_ovs::config::schema::{Finding, Schema, check_assignments, check_command};
use ifupdown_ovs::sys::words::commands;
use libfuzzer_sys::fuzz_target;

fn schema() -> &'static Schema {
    static S: OnceLock<Schema> = OnceLock::new();
    S.get_or_init(|| {
        Schema::parse(include_str!("../../fixtures/schema/vswitch.ovsschema"))
            .expect("the fixture schema parses")
    })
}

fn shown(findings: Vec<Finding>) {
    for f in findings {
        let text = match f {
            Finding::Error(e) => e.to_string(),
            Finding::Warning(w) => w.to_string(),
        };
        assert!(!text.is_empty());
    }
}

fuzz_target!(|data: &[u8]| {
    let [mode, pick, rest @ ..] = data else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let s = schema();
    match mode % 3 {
        0 => {
            let table = ["Bridge", "Port", "Interface"][*pick as usize % 3];
            let Some(t) = s.tables.get(table) else {
                return;
            };
            let cols: Vec<&String> = t.columns.keys().collect();
            let col = cols[(*pick as usize / 3) % cols.len()];
            // the value as written, and as a key=value of the column
            let words = [format!("{col}={text}"), format!("{col}:{text}")];
            shown(check_assignments(s, table, &words, &[]));
        }
        1 => {
            if let Ok(words) = split_text("p0", text, Text::Commands) {
                for cmd in commands(words) {
                    shown(check_command(s, &cmd));
                }
            }
        }
        _ => {
            let _ = Schema::parse(text);
        }
    }
});
