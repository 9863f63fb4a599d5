//! `ovs_options`, `ovs_tunnel_options` and `ovs_extra` are shell-like text: the hook
//! splits them into words with [`words::split`] only when it plans (`plan::desired`),
//! after the options have been validated. Anything that split rejects (an
//! unterminated quote, `${NAME:-x}`, `$1`, `$(...)` outside ovs_extra) and every
//! `ovs_options` / `ovs_tunnel_options` word that is not `COLUMN[:KEY]=VALUE` would
//! then fail the hook with no file position, and `check` would never see it. So the
//! same splitter runs here, in validate-only mode, and its errors are option errors
//! at the option's position, for `check`, the agent and the hook alike.
//!
//! Validate-only: a command substitution in `ovs_extra` is parsed (it must be
//! terminated) but never run ([`Subst::Keep`]); in the other two it is an error, as
//! in the hook ([`Subst::Forbidden`]). Variables are what the hook environment gives
//! (see [`lookup`]): `$IFACE` is the interface; the other variables ifupdown sets
//! (`IF_*`, `LOGICAL`, `PHASE`, ...) have values only a hook run knows, so words
//! holding them are split but their values not checked ([`UNKNOWN`]); any other
//! variable is unset in the hook and expands to nothing, as it does there.

use crate::sys::words::{self, Expand, Subst, WordsError};

/// Stands for the value of a variable only a hook run knows. Never in a value of
/// ours: ifupdown cannot export a NUL.
pub(super) const UNKNOWN: &str = crate::config::schema::UNKNOWN;

/// Variables ifupdown sets for every hook run, besides `IFACE` and `IF_*`.
const HOOK_VARS: &[&str] = &[
    "LOGICAL",
    "ADDRFAM",
    "METHOD",
    "MODE",
    "PHASE",
    "VERBOSITY",
    "PATH",
];

/// The value of `$name` as far as validation can know it, for interface `iface`.
pub fn lookup(iface: &str, name: &str) -> Option<String> {
    if name == "IFACE" {
        Some(iface.to_string())
    } else if name.starts_with("IF_") || HOOK_VARS.contains(&name) {
        Some(UNKNOWN.to_string())
    } else {
        None
    }
}

/// Which of the three options, and so how it is split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    /// `ovs_options`, `ovs_tunnel_options`: no command substitution.
    Columns,
    /// `ovs_extra`: command substitution is parsed, not run.
    Commands,
}

/// Split `value` as the hook would, running nothing; words holding [`UNKNOWN`] stand
/// for values only a hook run knows.
pub fn split(iface: &str, value: &str, text: Text) -> Result<Vec<String>, WordsError> {
    let vars = |name: &str| lookup(iface, name);
    let ex = Expand {
        vars: &vars,
        subst: match text {
            Text::Columns => Subst::Forbidden,
            Text::Commands => Subst::Keep,
        },
    };
    words::split(value, &ex)
}

/// Whether `word` holds a value only a hook run knows.
pub fn is_unknown(word: &str) -> bool {
    word.contains(UNKNOWN)
}

/// `COLUMN[:KEY]=VALUE` as ovs-vsctl `set` takes it: the same test
/// (`sys::words::split_assignment`) that `ovsdb::vsctl` and `plan::desired` apply.
pub fn is_column_assignment(word: &str) -> bool {
    words::split_assignment(word).is_some()
}

/// The first word of `words` that is not a column assignment (words holding
/// unknown values are not judged).
pub fn first_not_a_column(words: &[String]) -> Option<&str> {
    words
        .iter()
        .find(|w| !is_unknown(w) && !is_column_assignment(w))
        .map(String::as_str)
}
