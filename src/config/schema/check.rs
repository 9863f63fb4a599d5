//! One `COLUMN[:KEY]=VALUE` word against a table of the schema, as ovs-vsctl would
//! judge it after the hook has made it safe (`ovsdb::vsctl::assignment`, repeated
//! here in [`as_sent`]: config sits beside ovsdb, not above it); and the errors and
//! warnings of every schema check.

use super::keys::{self, Key};
use super::model::{Column, Lookup, Schema, Table};
use super::value::{self, ValueProblem, hint};

/// Stands for the value of a variable only a hook run knows (see
/// `config::options::text`). Never in a value of ours: ifupdown cannot export a NUL.
pub const UNKNOWN: &str = "\0";

/// How messages show [`UNKNOWN`]: the checks take it for a variable as well.
pub const SHOWN_UNKNOWN: &str = "$…";

/// Whether `word` holds something only a hook run knows: a variable's value
/// ([`UNKNOWN`], [`SHOWN_UNKNOWN`]) or a command substitution kept as written.
pub fn is_unknowable(word: &str) -> bool {
    [UNKNOWN, SHOWN_UNKNOWN, "$(", "`"]
        .iter()
        .any(|m| word.contains(m))
}

/// A word or command OVS would reject.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    #[error("no table {name}{}", hint(.suggestion))]
    NoTable {
        name: String,
        suggestion: Option<String>,
    },
    #[error("{name} abbreviates several tables: {}", .candidates.join(", "))]
    AmbiguousTable {
        name: String,
        candidates: Vec<String>,
    },
    #[error("`{word}`: the {table} table has no column {column}{}{}", hint(.suggestion), in_tables(.elsewhere))]
    NoColumn {
        word: String,
        table: String,
        column: String,
        suggestion: Option<String>,
        /// Tables that do have this column.
        elsewhere: Vec<String>,
    },
    #[error("`{word}`: {column} abbreviates several columns of {table}: {}", .candidates.join(", "))]
    AmbiguousColumn {
        word: String,
        table: String,
        column: String,
        candidates: Vec<String>,
    },
    #[error("`{word}`: {table} column {column} is not a map, it takes no KEY")]
    NotAMap {
        word: String,
        table: String,
        column: String,
    },
    #[error("`{word}`: {table} column {column} cannot be changed")]
    ReadOnly {
        word: String,
        table: String,
        column: String,
    },
    #[error("`{word}`: {table} column {column}: {problem}")]
    Value {
        word: String,
        table: String,
        column: String,
        problem: Box<ValueProblem>,
    },
    #[error("`{word}`: {table} {column}:{key}: {problem} (ovs-vswitchd.conf.db(5))")]
    KeyValue {
        word: String,
        table: String,
        column: String,
        key: String,
        problem: Box<ValueProblem>,
    },
    #[error("unknown ovs-vsctl command `{name}`{}", hint(.suggestion))]
    UnknownCommand {
        name: String,
        suggestion: Option<String>,
    },
    #[error("`{command}` takes {} argument(s), not {given}", arity(*.min, *.max))]
    Arity {
        command: String,
        given: usize,
        min: usize,
        max: Option<usize>,
    },
    /// `add-br` takes BRIDGE, or BRIDGE PARENT VLAN (a VLAN bridge): never two.
    #[error("`add-br` takes 1 argument (BRIDGE) or 3 (BRIDGE PARENT VLAN), not 2")]
    AddBrTwo,
    #[error("`{command}` has no option {option}")]
    CommandOption { command: String, option: String },
    #[error("options without a command: {}", .options.join(" "))]
    NoCommand { options: Vec<String> },
    #[error("`{command}`: `{word}` is not COLUMN[:KEY]=VALUE")]
    NotAssignment { command: String, word: String },
    #[error("{table} column {column} cannot be cleared: it must hold a value")]
    NotEmptyable { table: String, column: String },
    #[error("{table} column {column} is a map: `{word}` is not KEY=VALUE")]
    NotAPair {
        table: String,
        column: String,
        word: String,
    },
}

/// Something OVS takes but that is probably not what was meant, or a check that
/// could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaWarning {
    #[error(
        "`{word}`: {key} is not a key of {table} {column} that ovs-vswitchd.conf.db(5) documents{}",
        hint(.suggestion)
    )]
    UnknownKey {
        word: String,
        table: String,
        column: String,
        key: String,
        suggestion: Option<String>,
    },
    #[error("`{word}`: {what} is only known when the hook runs ($VARIABLE or $(...)): not checked")]
    Unchecked { word: String, what: &'static str },
}

/// One result of a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    Error(SchemaError),
    Warning(SchemaWarning),
}

fn in_tables(tables: &[String]) -> String {
    if tables.is_empty() {
        String::new()
    } else {
        format!(" (a column of {})", tables.join(", "))
    }
}

fn arity(min: usize, max: Option<usize>) -> String {
    match max {
        Some(m) if m == min => format!("{m}"),
        Some(m) => format!("{min} to {m}"),
        None => format!("at least {min}"),
    }
}

/// The tables the hook sets words on, in the order they are offered as "a column
/// of ...".
const ROW_TABLES: &[&str] = &["Bridge", "Port", "Interface"];

/// Check every `COLUMN[:KEY]=VALUE` word of `words` as a column of `table`, except
/// the columns named in `skip` (checked elsewhere) and words that are no such
/// assignment (the caller reports them).
pub fn check_assignments(
    schema: &Schema,
    table: &str,
    words: &[String],
    skip: &[&str],
) -> Vec<Finding> {
    let mut out = Vec::new();
    let Ok(t) = schema.table(table) else {
        return out;
    };
    for w in words {
        let Some((lhs, _)) = crate::sys::words::split_assignment(w) else {
            continue;
        };
        let col = lhs.split_once(':').map_or(lhs, |(c, _)| c);
        if skip.contains(&col) {
            continue;
        }
        assignment(schema, t, w, &mut out);
    }
    out
}

/// The column `name` of `t`, or an error about `word`.
pub(super) fn column<'a>(
    schema: &Schema,
    t: &'a Table,
    name: &str,
    word: &str,
) -> Result<&'a Column, SchemaError> {
    t.column(name).map_err(|l| match l {
        Lookup::Missing { suggestion } => SchemaError::NoColumn {
            word: word.to_string(),
            table: t.name.clone(),
            column: name.to_string(),
            suggestion,
            elsewhere: schema
                .tables_with(name)
                .into_iter()
                .filter(|x| ROW_TABLES.contains(x) && *x != t.name)
                .map(str::to_string)
                .collect(),
        },
        Lookup::Ambiguous { candidates } => SchemaError::AmbiguousColumn {
            word: word.to_string(),
            table: t.name.clone(),
            column: name.to_string(),
            candidates,
        },
    })
}

/// One `COLUMN[:KEY]=VALUE` word (`word`, already known to be one) of table `t`.
pub(super) fn assignment(schema: &Schema, t: &Table, word: &str, out: &mut Vec<Finding>) {
    let Some((lhs, value)) = crate::sys::words::split_assignment(word) else {
        return;
    };
    let (col, key) = match lhs.split_once(':') {
        Some((c, k)) => (c, Some(k)),
        None => (lhs, None),
    };
    if is_unknowable(col) {
        out.push(Finding::Warning(SchemaWarning::Unchecked {
            word: word.to_string(),
            what: "the column",
        }));
        return;
    }
    let c = match column(schema, t, col, word) {
        Ok(c) => c,
        Err(e) => return out.push(Finding::Error(e)),
    };
    let err = |problem| {
        Finding::Error(SchemaError::Value {
            word: word.to_string(),
            table: t.name.clone(),
            column: c.name.clone(),
            problem: Box::new(problem),
        })
    };
    if !c.mutable {
        return out.push(Finding::Error(SchemaError::ReadOnly {
            word: word.to_string(),
            table: t.name.clone(),
            column: c.name.clone(),
        }));
    }
    match key {
        Some(key) => map_entry(t, c, word, key, Some(value), out),
        None if is_unknowable(value) => {
            if !takes_any_string(c) {
                out.push(unchecked(word));
            }
        }
        None => match value::parse(&as_sent(value), &c.ty) {
            Ok(pairs) if c.ty.is_map() => {
                for (k, v) in pairs {
                    map_entry(t, c, word, &k, v.as_deref(), out);
                }
            }
            Ok(_) => {}
            Err(problem) => out.push(err(problem)),
        },
    }
}

fn unchecked(word: &str) -> Finding {
    Finding::Warning(SchemaWarning::Unchecked {
        word: word.to_string(),
        what: "the value",
    })
}

/// Any string is a valid value of `c` (or of a set of strings).
fn takes_any_string(c: &Column) -> bool {
    let k = &c.ty.key;
    c.ty.value.is_none()
        && k.atomic == super::model::Atomic::String
        && k.enumeration.is_none()
        && k.min_length.is_none()
        && k.max_length.is_none()
}

/// The value ovs-vsctl receives for `COLUMN=value` from the hook: as written when
/// it is bare, quoted, bracketed or escaped, otherwise as one quoted string
/// (`ovsdb::vsctl::assignment`).
fn as_sent(value: &str) -> String {
    let bare = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.+/,@".contains(c));
    if bare || value.starts_with(['"', '[', '{']) || value.contains('\\') {
        value.to_string()
    } else {
        serde_json::Value::String(value.to_string()).to_string()
    }
}

/// `column:key=value` (value None: the key alone, as `remove` takes it), and each
/// pair of a whole map: the key and value types, and the documented keys.
pub(super) fn map_entry(
    t: &Table,
    c: &Column,
    word: &str,
    key: &str,
    value: Option<&str>,
    out: &mut Vec<Finding>,
) {
    let Some(value_base) = &c.ty.value else {
        return out.push(Finding::Error(SchemaError::NotAMap {
            word: word.to_string(),
            table: t.name.clone(),
            column: c.name.clone(),
        }));
    };
    let value_err = |problem| {
        Finding::Error(SchemaError::Value {
            word: word.to_string(),
            table: t.name.clone(),
            column: c.name.clone(),
            problem: Box::new(problem),
        })
    };
    if is_unknowable(key) {
        return out.push(Finding::Warning(SchemaWarning::Unchecked {
            word: word.to_string(),
            what: "the key",
        }));
    }
    if let Err(p) = value::atom(key, &c.ty.key) {
        return out.push(value_err(p));
    }
    let documented = keys::is_documented_map(&t.name, &c.name);
    let known = keys::lookup(&t.name, &c.name, key);
    if documented && known.is_none() {
        let names = keys::names(&t.name, &c.name);
        out.push(Finding::Warning(SchemaWarning::UnknownKey {
            word: word.to_string(),
            table: t.name.clone(),
            column: c.name.clone(),
            key: key.to_string(),
            suggestion: crate::config::suggest::did_you_mean(key, &names).map(str::to_string),
        }));
    }
    let Some(value) = value else {
        return;
    };
    if is_unknowable(value) {
        if known.is_some_and(|k| k != Key::Text) {
            out.push(unchecked(word));
        }
        return;
    }
    // The hook sends a map value as one string, unquoted first if it was quoted.
    let value = match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        Some(inner) => serde_json::from_str::<String>(&format!("\"{inner}\""))
            .unwrap_or_else(|_| inner.to_string()),
        None => value.to_string(),
    };
    if let Err(p) = value::atom(&value, value_base) {
        return out.push(value_err(p));
    }
    if let Some(k) = known
        && let Err(problem) = keys::check(k, &value)
    {
        out.push(Finding::Error(SchemaError::KeyValue {
            word: word.to_string(),
            table: t.name.clone(),
            column: c.name.clone(),
            key: key.to_string(),
            problem: Box::new(problem),
        }));
    }
}
