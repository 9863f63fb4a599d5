//! The OVS database schema, read at run time, and the checks of `ovs_options`,
//! `ovs_tunnel_options` and `ovs_extra` against it.
//!
//! Why at run time: the columns, their types, enums and ranges are those of the
//! Open vSwitch that is installed (`/usr/share/openvswitch/vswitch.ovsschema`), which
//! changes with OVS releases; a table compiled in would reject what a newer OVS
//! takes and accept what an older one refuses. The file is parsed once per process,
//! lazily ([`installed`]): the hook runs once per interface at boot and only parses
//! it when the interface has words to check (about a millisecond, see
//! docs/options.md). [`SCHEMA_ENV`] (`IFUPDOWN_OVS_SCHEMA`) names another file, for
//! tests (a copy lives in `fixtures/schema/`). A schema that cannot be read is not
//! a failure: the words are then not checked, and `check` says so once.
//!
//! Parts: `model` (the schema's tables, columns and types, and ovs-vsctl's way of
//! naming them: any case, `-` for `_`, unique abbreviations), `value` (ovs-vsctl's
//! value syntax — atoms, sets, maps, ranges — checked against a column type),
//! `keys` (the keys of `other_config`, `options`, `bfd`, `lldp` that
//! ovs-vswitchd.conf.db(5) documents, with their types), `commands` (the ovs-vsctl
//! commands, their options and argument counts, and the check of one `ovs_extra`
//! command), `check` (one `COLUMN[:KEY]=VALUE` word, [`SchemaError`] and
//! [`SchemaWarning`]).

mod check;
mod commands;
mod keys;
mod model;
mod value;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub use check::{
    Finding, SHOWN_UNKNOWN, SchemaError, SchemaWarning, UNKNOWN, check_assignments, is_unknowable,
};
pub use commands::check_command;
pub use model::{Atomic, Base, Column, Schema, Table, Type};
pub use value::ValueProblem;

/// Where OVS installs its schema.
pub const DEFAULT_PATH: &str = "/usr/share/openvswitch/vswitch.ovsschema";

/// Environment variable naming another schema file (tests, a development OVS).
/// ifupdown clears the environment of its hooks, so it reaches `check`, `plan` and
/// the agent, not the hooks.
pub const SCHEMA_ENV: &str = "IFUPDOWN_OVS_SCHEMA";

/// Why the schema could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read the OVS schema {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the OVS schema {} is not valid: {why}", path.display())]
    Invalid { path: PathBuf, why: String },
}

impl LoadError {
    /// What is wrong, without the path.
    pub fn reason(&self) -> String {
        match self {
            LoadError::Read { source, .. } => format!("cannot be read ({source})"),
            LoadError::Invalid { why, .. } => format!("is not a valid OVS schema ({why})"),
        }
    }
    pub fn path(&self) -> &Path {
        match self {
            LoadError::Read { path, .. } | LoadError::Invalid { path, .. } => path,
        }
    }
}

/// The path [`installed`] reads: `$IFUPDOWN_OVS_SCHEMA`, else [`DEFAULT_PATH`]. Unit
/// tests read the copy in `fixtures/schema/`, whatever OVS the host has.
pub fn installed_path() -> PathBuf {
    if let Some(p) = std::env::var_os(SCHEMA_ENV).filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    if cfg!(test) {
        return Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/schema/vswitch.ovsschema");
    }
    PathBuf::from(DEFAULT_PATH)
}

/// The installed schema, read and parsed once per process.
pub fn installed() -> Result<&'static Schema, &'static LoadError> {
    static ONCE: OnceLock<Result<Schema, LoadError>> = OnceLock::new();
    ONCE.get_or_init(|| load(&installed_path())).as_ref()
}

/// Read and parse the schema at `path`.
pub fn load(path: &Path) -> Result<Schema, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Schema::parse(&text).map_err(|why| LoadError::Invalid {
        path: path.to_path_buf(),
        why: why.to_string(),
    })
}

#[cfg(test)]
mod tests;
