//! The words of `ovs_options`, `ovs_tunnel_options` and `ovs_extra` against the
//! installed OVS schema (`config::schema::installed`, read on the first interface
//! that has such words; none when it cannot be read), reported as option errors
//! and warnings at the position of the line that holds them: what OVS would
//! reject at boot, `check`, `plan` and the hook refuse first. The VLAN words of a
//! port's `ovs_options` (`tag`, `trunks`, `vlan_mode`) are checked by `vlan` and
//! left out here.
//!
//! Each line of a repeated option is split on its own (the hook joins them with a
//! space, or ` -- ` for `ovs_extra`, so no word spans two lines); a line that does
//! not split was already reported by `kinds` and is skipped.

use super::diag::Diag;
use super::spec::Opts;
use super::text::{self, Text};
use crate::config::schema::{self, Finding, Schema};
use crate::interfaces::Position;
use crate::sys::words;

/// The columns `vlan` checks in a port's `ovs_options`.
pub(super) const VLAN_COLUMNS: &[&str] = &["tag", "trunks", "vlan_mode"];

/// The lines of `option`, each split as the hook splits it (values only a hook run
/// knows shown as [`schema::SHOWN_UNKNOWN`]), with their positions.
fn lines<'a>(
    iface: &str,
    o: &Opts<'a>,
    option: &str,
    kind: Text,
) -> Vec<(Vec<String>, Option<&'a Position>)> {
    let Some(g) = o.get(option) else {
        return Vec::new();
    };
    g.lines
        .iter()
        .enumerate()
        .filter_map(|(i, line)| {
            let words = text::split(iface, line, kind).ok()?;
            let shown = words
                .iter()
                .map(|w| w.replace(schema::UNKNOWN, schema::SHOWN_UNKNOWN))
                .collect();
            let pos = g
                .line_pos
                .get(i)
                .and_then(Option::as_ref)
                .or(g.pos.as_ref());
            Some((shown, pos))
        })
        .collect()
}

fn installed(o: &Opts, option: &str) -> Option<&'static Schema> {
    o.get(option)?;
    schema::installed().ok()
}

/// The words of `option` (`ovs_options`, `ovs_tunnel_options`) as columns of
/// `table`, but those in `skip`.
pub(super) fn columns(
    iface: &str,
    o: &Opts,
    option: &str,
    table: &str,
    skip: &[&str],
    d: &mut Diag,
) {
    let Some(s) = installed(o, option) else {
        return;
    };
    for (words, pos) in lines(iface, o, option, Text::Columns) {
        for f in schema::check_assignments(s, table, &words, skip) {
            report(option, pos, None, f, d);
        }
    }
}

/// Each command of `ovs_extra`.
pub(super) fn commands(iface: &str, o: &Opts, d: &mut Diag) {
    let Some(s) = installed(o, "ovs_extra") else {
        return;
    };
    for (line, pos) in lines(iface, o, "ovs_extra", Text::Commands) {
        for cmd in words::commands(line) {
            for f in schema::check_command(s, &cmd) {
                report("ovs_extra", pos, Some(words::shell_line(&cmd)), f, d);
            }
        }
    }
}

fn report(option: &str, pos: Option<&Position>, command: Option<String>, f: Finding, d: &mut Diag) {
    match f {
        Finding::Error(e) => d.schema_error(option, pos, command, e),
        Finding::Warning(w) => {
            let message = match command {
                Some(c) => format!("`{c}`: {w}"),
                None => w.to_string(),
            };
            d.warn(option, pos, message);
        }
    }
}
