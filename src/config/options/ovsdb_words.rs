//! The words of `ovs_options`, `ovs_tunnel_options` and `ovs_extra` against the
//! installed OVS schema (`config::schema`), reported as option errors and
//! warnings at the option's position: what OVS would reject at boot, `check`,
//! `plan` and the hook refuse first. The VLAN words of a port's `ovs_options`
//! (`tag`, `trunks`, `vlan_mode`) are checked by `vlan` and left out here.

use super::diag::Diag;
use super::spec::Opts;
use crate::config::schema::{self, Finding};
use crate::sys::words;

/// The columns `vlan` checks in a port's `ovs_options`.
pub(super) const VLAN_COLUMNS: &[&str] = &["tag", "trunks", "vlan_mode"];

/// `words` of `option` as columns of `table`, but those in `skip`.
pub(super) fn columns(
    o: &Opts,
    option: &str,
    words: &[String],
    table: &str,
    skip: &[&str],
    d: &mut Diag,
) {
    if words.is_empty() {
        return;
    }
    let Ok(s) = schema::installed() else {
        return;
    };
    for f in schema::check_assignments(s, table, &shown_words(words), skip) {
        report(o, option, None, f, d);
    }
}

/// Each command of `ovs_extra` (`words`, split as the hook splits them).
pub(super) fn commands(o: &Opts, words: &[String], d: &mut Diag) {
    if words.is_empty() {
        return;
    }
    let Ok(s) = schema::installed() else {
        return;
    };
    for cmd in words::commands(shown_words(words)) {
        for f in schema::check_command(s, &cmd) {
            report(o, "ovs_extra", Some(words::shell_line(&cmd)), f, d);
        }
    }
}

/// The words with the values only a hook run knows shown as `$…`
/// ([`schema::SHOWN_UNKNOWN`], which the checks skip).
fn shown_words(words: &[String]) -> Vec<String> {
    words
        .iter()
        .map(|w| w.replace(schema::UNKNOWN, schema::SHOWN_UNKNOWN))
        .collect()
}

fn report(o: &Opts, option: &str, command: Option<String>, f: Finding, d: &mut Diag) {
    let pos = o.pos(option);
    match f {
        Finding::Error(e) => d.schema_error(option, pos, command, e),
        Finding::Warning(w) => {
            let w = w.to_string();
            let message = match command {
                Some(c) => format!("`{c}`: {w}"),
                None => w,
            };
            d.warn(option, pos, message);
        }
    }
}
