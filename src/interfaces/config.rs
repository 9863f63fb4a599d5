//! Resolved configuration: every stanza from every sourced file, in order.
//!
//! CONTRACT (used by `ovs::options`, `check`, `hook`, `query`): the public types and
//! method signatures below are shared with other modules; change them only together.

use std::path::{Path, PathBuf};

/// Where something was written: file and 1-based line of its first physical line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    pub file: PathBuf,
    pub line: usize,
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// One option line of an `iface` stanza, e.g. `ovs_bridge br0`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opt {
    /// Name as ifupdown stores it (after its own `-`/`_` handling).
    pub name: String,
    /// Value with leading/trailing white space removed; may be empty.
    pub value: String,
    pub pos: Position,
}

/// One `iface NAME FAMILY METHOD [inherits TEMPLATE]` stanza.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Iface {
    pub name: String,
    pub family: String,
    pub method: String,
    pub inherits: Option<String>,
    /// Options written in this stanza, in file order (repeats kept).
    pub options: Vec<Opt>,
    pub pos: Position,
}

impl Iface {
    /// First value of option `name` in this stanza's own options.
    pub fn get(&self, name: &str) -> Option<&Opt> {
        self.options.iter().find(|o| o.name == name)
    }
}

/// A `mapping GLOB...` stanza with its `script` and `map` lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub patterns: Vec<String>,
    pub script: Option<String>,
    pub maps: Vec<String>,
    pub pos: Position,
}

/// Errors while reading interfaces files. Every variant names a position.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("{pos}: {message}")]
    Syntax { pos: Position, message: String },
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The whole configuration after `source`/`source-directory`.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Every iface stanza in file order (an interface may have several: inet + inet6).
    pub ifaces: Vec<Iface>,
    /// Interfaces per allow class; `auto` and `allow-auto` are class "auto".
    pub allow: Vec<(String, String, Position)>, // (class, iface, pos)
    pub mappings: Vec<Mapping>,
    /// `rename CUR=NEW`
    pub renames: Vec<(String, String, Position)>,
    pub no_auto_down: Vec<(String, Position)>,
    pub no_scripts: Vec<(String, Position)>,
    /// Every file read, in order.
    pub files: Vec<PathBuf>,
}

impl Config {
    /// Read `path` and everything it sources.
    pub fn load(path: &Path) -> Result<Config, ParseError> {
        let _ = path;
        todo!("parser")
    }

    /// Stanzas of one interface name, in file order.
    pub fn stanzas<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Iface> + 'a {
        self.ifaces.iter().filter(move |i| i.name == name)
    }

    /// Options of a stanza after `inherits` (template first, then own; as ifupdown
    /// would export them).
    pub fn resolved_options(&self, iface: &Iface) -> Vec<Opt> {
        let _ = iface;
        todo!("parser")
    }

    /// Interfaces of an allow class, in file order, without duplicates, as
    /// `ifquery --list --allow CLASS` (class "auto" for auto).
    pub fn list(&self, class: &str) -> Vec<String> {
        let _ = class;
        todo!("parser")
    }
}
