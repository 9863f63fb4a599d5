//! Resolved configuration: every stanza from every sourced file, in order.
//!
//! CONTRACT (used by `ovs::options`, `check`, `hook`, `query`): the public types and
//! method signatures below are shared with other modules; change them only together.
//!
//! Semantics follow ifupdown 0.8.41 (checked against its `ifquery`):
//! * An error in the file given to [`Config::load`] fails the load. An error in a
//!   sourced file stops reading that file only (what it defined before the error
//!   stays) and is kept in [`Config::warnings`], as ifupdown warns and goes on.
//! * `source` of a missing file is skipped silently; a file that cannot be read or is
//!   a directory gives a warning. A file is read once per load (ifupdown compares the
//!   path strings it builds, so `source` cycles end); nesting deeper than
//!   [`MAX_DEPTH`] gives a warning instead of looping through symlinks.
//! * `inherits` needs a template defined earlier (same family if one is given).
//!   Resolved options are the template's, then the stanza's own: an own option of a
//!   name already present is appended to that value after a newline (so `mtu 1500`
//!   in the template and `mtu 9000` in the stanza give `1500\n9000`, as ifquery
//!   prints); a repeated option in one stanza is joined the same way. `up`,
//!   `pre-up`, `down` and `post-down` stay separate entries; `post-up` is stored as
//!   `up` and `pre-down` as `down`. A name ending in `?` sets the option only if it is
//!   not set yet. `-` and `_` are kept as written (`ovs-foo` and `ovs_foo` are two
//!   options to ifquery; only the hook environment maps both to `IF_OVS_FOO`).
//!   [`Iface::options`] keeps the written names (with a trailing `?`, after the
//!   `post-up`/`pre-down` renaming); [`Config::resolved_options`] applies all of this.
//! * Input is bounded: one file may hold at most [`MAX_FILE_BYTES`] (16 MiB), and
//!   all the files of one load together [`MAX_TOTAL_BYTES`] (64 MiB). A file over a
//!   limit (`/dev/zero`, a FIFO that never ends, a runaway generator) fails the whole
//!   load with [`InputTooLarge`] naming it, even when it is only sourced: a
//!   configuration read in part would be worse than none. ifupdown has no limit; real
//!   files are a few KiB (and 64k stanzas are 3 MiB). Anything that can be opened is
//!   read (`/dev/stdin`, a pipe), as ifupdown's `fopen` does, up to the limit.
//! * Invalid UTF-8 (ifupdown takes bytes) is refused with a syntax error at its line
//!   wherever the text becomes a name: `iface`, `mapping`, `auto`/`allow-*`,
//!   `rename`, `no-*`, `source*` lines, every option name, and the values of
//!   `ovs_*`/`ovs-*` options (they become OVSDB names and `ovs-vsctl` arguments). A
//!   lossy conversion would configure another name than the one written. Other
//!   option values (a `description`, an `up` command) keep U+FFFD in place of
//!   the bad bytes; comments are never decoded.
//! * Positions are the first physical line of a continued line (ifupdown's own
//!   messages give the last one).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::grammar::{self, Line};
use super::lines::logical_lines;
use super::pattern;
use super::source;

/// How deep `source` may nest before we stop (ifupdown has no limit).
pub const MAX_DEPTH: usize = 32;

/// The most we read from one interfaces file.
pub const MAX_FILE_BYTES: u64 = 16 << 20;

/// The most we read from all the files of one [`Config::load`].
pub const MAX_TOTAL_BYTES: u64 = 64 << 20;

/// Why a file was not read: it is over a size limit (carried in a
/// [`ParseError::Io`] of kind `FileTooLarge`, so that every caller that reports
/// "cannot read" reports this with the file's name).
#[derive(Debug, thiserror::Error)]
pub enum InputTooLarge {
    #[error("refused: larger than {} MiB, the most ifupdown-ovs reads from one interfaces file", .limit >> 20)]
    File { limit: u64 },
    #[error(
        "refused: with this file the interfaces files read come to more than {} MiB, \
         the most ifupdown-ovs reads in all",
        .limit >> 20
    )]
    Total { limit: u64 },
}

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

/// Option names that ifupdown keeps as separate entries (commands), never merged.
pub const COMMAND_OPTIONS: &[&str] = &["pre-up", "up", "down", "post-down"];

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

/// Something ifupdown reports and goes on: an error in a sourced file, a file that
/// could not be read, an ignored word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub pos: Position,
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.pos, self.message)
    }
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
    /// What ifupdown would warn about and go on (see the module documentation).
    pub warnings: Vec<Warning>,
    /// Whether some stanza is written `iface NAME inet|inet6 loopback`. If not,
    /// ifupdown adds an implicit `iface lo inet loopback` (see [`Config::has_logical`]).
    pub loopback_declared: bool,
    /// Where each interface's stanzas are in `ifaces`, built on first use so that
    /// lookups by name stay linear in the size of the file.
    index: NameIndex,
}

/// Interface name to the positions of its stanzas in [`Config::ifaces`], in file
/// order. Built from `ifaces` on first use; if `ifaces` has grown or shrunk since
/// (a hand-built or edited `Config`), lookups fall back to a scan. Entries are
/// checked against the name, so an index is never wrong, at worst slow.
#[derive(Debug, Clone, Default)]
struct NameIndex {
    map: OnceLock<(usize, HashMap<String, Vec<usize>>)>,
}

impl NameIndex {
    fn get(&self, ifaces: &[Iface]) -> Option<&HashMap<String, Vec<usize>>> {
        let (len, map) = self.map.get_or_init(|| {
            let mut map: HashMap<String, Vec<usize>> = HashMap::new();
            for (i, st) in ifaces.iter().enumerate() {
                map.entry(st.name.clone()).or_default().push(i);
            }
            (ifaces.len(), map)
        });
        (*len == ifaces.len()).then_some(map)
    }
}

/// Where the current option lines go.
#[derive(Clone, Copy)]
enum Stanza {
    None,
    Iface(usize),
    Mapping(usize),
}

struct Loader {
    cfg: Config,
    seen: HashSet<String>,
    /// Bytes read so far from all files (see [`MAX_TOTAL_BYTES`]).
    total: u64,
    /// Stanzas by name as they are read (for `inherits`).
    by_name: HashMap<String, Vec<usize>>,
    /// `(class, name)` of the allow lines so far (ifupdown drops repeats).
    allowed: HashSet<(String, String)>,
    /// `false` for [`Config::parse_str`]: `source` lines read nothing.
    read_files: bool,
}

fn syntax(pos: &Position, message: impl Into<String>) -> ParseError {
    ParseError::Syntax {
        pos: pos.clone(),
        message: message.into(),
    }
}

impl Loader {
    fn warn(&mut self, pos: &Position, message: impl Into<String>) {
        self.cfg.warnings.push(Warning {
            pos: pos.clone(),
            message: message.into(),
        });
    }

    /// Read one file. `from` is the `source` line that named it (`None` for the top).
    fn read_file(
        &mut self,
        path: &str,
        from: Option<&Position>,
        depth: usize,
    ) -> Result<(), ParseError> {
        if !self.seen.insert(path.to_string()) {
            return Ok(());
        }
        let bytes = self.read_capped(path)?;
        let _ = from;
        self.cfg.files.push(PathBuf::from(path));
        self.parse(&bytes, path, depth)
    }

    /// The bytes of `path`, within [`MAX_FILE_BYTES`] and what is left of
    /// [`MAX_TOTAL_BYTES`]. Reads at most one byte more than allowed, so that
    /// `/dev/zero` or an endless pipe costs no more than the limit.
    fn read_capped(&mut self, path: &str) -> Result<Vec<u8>, ParseError> {
        use std::io::Read;
        let io = |source: std::io::Error| ParseError::Io {
            path: PathBuf::from(path),
            source,
        };
        let left = MAX_TOTAL_BYTES.saturating_sub(self.total);
        let limit = MAX_FILE_BYTES.min(left);
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(limit + 1).read_to_end(&mut bytes))
            .map_err(io)?;
        let read = bytes.len() as u64;
        if read > limit {
            let why = if limit == MAX_FILE_BYTES {
                InputTooLarge::File {
                    limit: MAX_FILE_BYTES,
                }
            } else {
                InputTooLarge::Total {
                    limit: MAX_TOTAL_BYTES,
                }
            };
            return Err(io(std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                why,
            )));
        }
        self.total += read;
        Ok(bytes)
    }

    /// Read a sourced file; its problems become warnings, except a file over a
    /// size limit, which fails the load.
    fn source_file(&mut self, path: &str, from: &Position, depth: usize) -> Result<(), ParseError> {
        if depth > MAX_DEPTH {
            self.warn(
                from,
                format!("not reading {path}: `source` nested more than {MAX_DEPTH} deep"),
            );
            return Ok(());
        }
        match self.read_file(path, Some(from), depth) {
            Ok(()) => {}
            Err(ParseError::Syntax { pos, message }) => {
                self.cfg.warnings.push(Warning { pos, message })
            }
            Err(ParseError::Io { path, source })
                if source.kind() == std::io::ErrorKind::FileTooLarge =>
            {
                return Err(ParseError::Io { path, source });
            }
            Err(ParseError::Io { path, source }) => {
                self.warn(from, format!("cannot read {}: {source}", path.display()));
            }
        }
        Ok(())
    }

    fn source(
        &mut self,
        file: &str,
        rest: &str,
        pos: &Position,
        depth: usize,
        directory: bool,
    ) -> Result<(), ParseError> {
        let what = if directory {
            "source-directory"
        } else {
            "source"
        };
        if !self.read_files {
            self.warn(
                pos,
                format!("`{what}` not followed (no files are read here)"),
            );
            return Ok(());
        }
        let words = match source::wordexp(&source::pattern_for(file, rest)) {
            Ok(w) => w,
            Err(e) => {
                self.warn(pos, format!("`{what} {rest}` reads nothing: {e}"));
                return Ok(());
            }
        };
        for w in words {
            if directory {
                let Some(entries) = source::directory_entries(&w) else {
                    continue;
                };
                for e in entries {
                    self.source_file(&e, pos, depth + 1)?;
                }
            } else {
                if let Err(e) = std::fs::metadata(&w)
                    && e.kind() == std::io::ErrorKind::NotFound
                {
                    continue;
                }
                self.source_file(&w, pos, depth + 1)?;
            }
        }
        Ok(())
    }

    fn parse(&mut self, bytes: &[u8], file: &str, depth: usize) -> Result<(), ParseError> {
        let mut stanza = Stanza::None;
        for ll in logical_lines(bytes) {
            let pos = Position {
                file: PathBuf::from(file),
                line: ll.line,
            };
            let line = match grammar::parse_line(&ll.text) {
                Ok(Some(l)) => l,
                Ok(None) => continue,
                Err(e) => return Err(syntax(&pos, e.to_string())),
            };
            if let Some((offset, byte)) = ll.invalid_utf8
                && names_something(&line, stanza)
            {
                let before = ll.text.get(..offset).unwrap_or_default();
                let skip = before.chars().count().saturating_sub(30);
                let before: String = before.chars().skip(skip).collect();
                return Err(syntax(
                    &pos,
                    format!(
                        "invalid UTF-8 (byte 0x{byte:02x} after `{before}`): names and ovs_* \
                         options must be UTF-8, or another name than the one written would be \
                         configured"
                    ),
                ));
            }
            stanza = match line {
                Line::Mapping(patterns) => {
                    self.cfg.mappings.push(Mapping {
                        patterns,
                        script: None,
                        maps: Vec::new(),
                        pos,
                    });
                    Stanza::Mapping(self.cfg.mappings.len() - 1)
                }
                Line::Source(rest) => {
                    self.source(file, &rest, &pos, depth, false)?;
                    Stanza::None
                }
                Line::SourceDirectory(rest) => {
                    self.source(file, &rest, &pos, depth, true)?;
                    Stanza::None
                }
                Line::Iface(il) => Stanza::Iface(self.iface(il, pos)?),
                Line::Allow { class, names } => {
                    for n in names {
                        if self.allowed.insert((class.clone(), n.clone())) {
                            self.cfg.allow.push((class.clone(), n, pos.clone()));
                        }
                    }
                    Stanza::None
                }
                Line::NoAutoDown(names) => {
                    self.cfg
                        .no_auto_down
                        .extend(names.into_iter().map(|n| (n, pos.clone())));
                    Stanza::None
                }
                Line::NoScripts(names) => {
                    self.cfg
                        .no_scripts
                        .extend(names.into_iter().map(|n| (n, pos.clone())));
                    Stanza::None
                }
                Line::Rename(words) => {
                    for w in words {
                        match w.split_once('=') {
                            Some((cur, new)) => {
                                self.cfg.renames.push((cur.into(), new.into(), pos.clone()))
                            }
                            None => {
                                self.warn(&pos, format!("rename {w}: expected CUR=NEW; ignored"))
                            }
                        }
                    }
                    Stanza::None
                }
                Line::Option { name, value } => {
                    self.option(stanza, name, value, &pos)?;
                    stanza
                }
            };
        }
        Ok(())
    }

    fn iface(&mut self, il: grammar::IfaceLine, pos: Position) -> Result<usize, ParseError> {
        if let Some(w) = &il.ignored {
            self.warn(
                &pos,
                format!("extra parameter for the iface line not understood and ignored: {w}"),
            );
        }
        let mut family = il.family.clone();
        let mut method = il.method.clone();
        if let Some(t) = &il.inherits {
            let template = self
                .by_name
                .get(t)
                .into_iter()
                .flatten()
                .map(|&i| &self.cfg.ifaces[i])
                .find(|i| il.family.as_ref().is_none_or(|f| *f == i.family));
            let Some(template) = template else {
                return Err(syntax(
                    &pos,
                    format!(
                        "unknown iface to inherit from: {t} ({})",
                        il.family.as_deref().unwrap_or("*")
                    ),
                ));
            };
            family.get_or_insert_with(|| template.family.clone());
            method.get_or_insert_with(|| template.method.clone());
        }
        if matches!(il.family.as_deref(), Some("inet" | "inet6"))
            && il.method.as_deref() == Some("loopback")
        {
            self.cfg.loopback_declared = true;
        }
        self.by_name
            .entry(il.name.clone())
            .or_default()
            .push(self.cfg.ifaces.len());
        self.cfg.ifaces.push(Iface {
            name: il.name,
            family: family.unwrap_or_default(),
            method: method.unwrap_or_default(),
            inherits: il.inherits,
            options: Vec::new(),
            pos,
        });
        Ok(self.cfg.ifaces.len() - 1)
    }

    fn option(
        &mut self,
        stanza: Stanza,
        name: String,
        value: String,
        pos: &Position,
    ) -> Result<(), ParseError> {
        match stanza {
            Stanza::None => Err(syntax(pos, "misplaced option")),
            Stanza::Mapping(m) => {
                let map = &mut self.cfg.mappings[m];
                match name.as_str() {
                    "script" if map.script.is_some() => {
                        Err(syntax(pos, "duplicate script in mapping"))
                    }
                    "script" => {
                        map.script = Some(value);
                        Ok(())
                    }
                    "map" => {
                        map.maps.push(value);
                        Ok(())
                    }
                    _ => Err(syntax(pos, "misplaced option")),
                }
            }
            Stanza::Iface(i) => {
                if value.is_empty() {
                    return Err(syntax(pos, "option with empty value"));
                }
                let name = match name.as_str() {
                    "post-up" => "up".to_string(),
                    "pre-down" => "down".to_string(),
                    _ => name,
                };
                self.cfg.ifaces[i].options.push(Opt {
                    name,
                    value,
                    pos: pos.clone(),
                });
                Ok(())
            }
        }
    }
}

/// Whether the text of `line` (in `stanza`) becomes a name or an OVS argument,
/// where invalid UTF-8 is refused (see the module documentation).
fn names_something(line: &Line, stanza: Stanza) -> bool {
    match line {
        Line::Option { name, .. } => {
            name.contains('\u{fffd}')
                || !matches!(stanza, Stanza::Iface(_))
                || name.starts_with("ovs_")
                || name.starts_with("ovs-")
        }
        _ => true,
    }
}

/// Add one written option to a resolved list the way ifupdown does.
fn merge_option(list: &mut Vec<Opt>, opt: &Opt) {
    let name = opt.name.as_str();
    let command = COMMAND_OPTIONS.contains(&name);
    let mut value = opt.value.clone();
    if !command {
        for o in list.iter().filter(|o| o.name == name) {
            value = format!("{}\n{}", o.value, value);
        }
    }
    let (base, keep_old) = match name.strip_suffix('?') {
        Some(b) => (b, true),
        None => (name, false),
    };
    if !command && let Some(o) = list.iter_mut().find(|o| o.name == base) {
        if !keep_old {
            o.value = value;
        }
        return;
    }
    list.push(Opt {
        name: base.to_string(),
        value,
        pos: opt.pos.clone(),
    });
}

/// Result of [`Config::list_with`]: what `ifquery --list` prints, and the entries it
/// reports as unknown (it then exits with status 1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    pub names: Vec<String>,
    pub unknown: Vec<String>,
}

impl Config {
    /// Read `path` and everything it sources.
    pub fn load(path: &Path) -> Result<Config, ParseError> {
        let mut l = Loader {
            cfg: Config::default(),
            seen: HashSet::new(),
            total: 0,
            by_name: HashMap::new(),
            allowed: HashSet::new(),
            read_files: true,
        };
        let p = path.to_string_lossy().into_owned();
        l.read_file(&p, None, 0)?;
        Ok(l.cfg)
    }

    /// Parse `text` as if it were the file `path`, without reading any file:
    /// `source` and `source-directory` lines only add a warning. For tests and
    /// fuzzing. Never panics.
    pub fn parse_str(text: &str, path: &Path) -> Result<Config, ParseError> {
        Self::parse_bytes(text.as_bytes(), path)
    }

    /// [`Config::parse_str`] on raw bytes (invalid UTF-8 is replaced, not rejected).
    pub fn parse_bytes(bytes: &[u8], path: &Path) -> Result<Config, ParseError> {
        let mut l = Loader {
            cfg: Config::default(),
            seen: HashSet::new(),
            total: 0,
            by_name: HashMap::new(),
            allowed: HashSet::new(),
            read_files: false,
        };
        let p = path.to_string_lossy().into_owned();
        l.cfg.files.push(path.to_path_buf());
        l.parse(bytes, &p, 0)?;
        Ok(l.cfg)
    }

    /// Stanzas of one interface name, in file order.
    pub fn stanzas<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Iface> + 'a {
        self.positions_of(name)
            .into_iter()
            .filter_map(|i| self.ifaces.get(i))
    }

    /// Where the stanzas of `name` are in `ifaces`, in file order.
    fn positions_of(&self, name: &str) -> Vec<usize> {
        match self.index.get(&self.ifaces) {
            Some(map) => map
                .get(name)
                .into_iter()
                .flatten()
                .copied()
                .filter(|&i| self.ifaces.get(i).is_some_and(|st| st.name == name))
                .collect(),
            None => (0..self.ifaces.len())
                .filter(|&i| self.ifaces[i].name == name)
                .collect(),
        }
    }

    /// Each interface name once, in the order of its first stanza.
    pub fn names(&self) -> Vec<&str> {
        let mut seen: HashSet<&str> = HashSet::new();
        self.ifaces
            .iter()
            .map(|st| st.name.as_str())
            .filter(|n| seen.insert(n))
            .collect()
    }

    /// The template `iface` inherits from: the first stanza before it with that name
    /// and the same family (as ifupdown found it while reading).
    pub fn template_of(&self, iface: &Iface) -> Option<&Iface> {
        let t = iface.inherits.as_deref()?;
        // where `iface` is among the stanzas of its name (by address, else by value)
        let own = self.positions_of(&iface.name);
        let end = own
            .iter()
            .find(|&&i| std::ptr::eq(&self.ifaces[i], iface))
            .or_else(|| own.iter().find(|&&i| self.ifaces[i] == *iface))
            .copied()
            .unwrap_or(self.ifaces.len());
        self.positions_of(t)
            .into_iter()
            .take_while(|&i| i < end)
            .map(|i| &self.ifaces[i])
            .find(|i| i.family == iface.family)
    }

    /// Options of a stanza after `inherits` (template first, then own; as ifupdown
    /// would export them).
    pub fn resolved_options(&self, iface: &Iface) -> Vec<Opt> {
        let mut list = match self.template_of(iface) {
            Some(t) => self.resolved_options(t),
            None => Vec::new(),
        };
        for o in &iface.options {
            merge_option(&mut list, o);
        }
        list
    }

    /// Entries of an allow class exactly as written (patterns not expanded, no
    /// implicit `lo`), in file order, without duplicates.
    pub fn allowed<'a>(&'a self, class: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.allow
            .iter()
            .filter(move |(c, _, _)| c == class)
            .map(|(_, i, _)| i.as_str())
    }

    /// Whether ifupdown knows the logical interface `name`: a stanza defines it, a
    /// mapping pattern matches it, or it is the implicit `lo`.
    pub fn has_logical(&self, name: &str) -> bool {
        self.stanzas(name).next().is_some()
            || self
                .mappings
                .iter()
                .any(|m| m.patterns.iter().any(|p| pattern::fnmatch(p, name)))
            || (name == "lo" && !self.loopback_declared)
    }

    /// The name ifupdown uses for `name` after the `rename` lines: each `CUR=NEW`
    /// in file order, one pass, replaces the name if CUR is it (CUR may be a
    /// pattern, matched against the kernel's `interfaces`). A name containing `=`
    /// is not renamed.
    pub fn renamed(
        &self,
        name: &str,
        interfaces: &[String],
        attr: &dyn Fn(&str, &str) -> Option<String>,
    ) -> String {
        let mut name = name.to_string();
        if name.contains('=') {
            return name;
        }
        for (cur, new, _) in &self.renames {
            let hit = if pattern::parse(cur).is_some() {
                pattern::expand(cur, interfaces, attr).contains(&name)
            } else {
                *cur == name
            };
            if hit {
                name = new.clone();
            }
        }
        name
    }

    /// `ifquery --list --allow CLASS` against the given kernel interfaces (for
    /// patterns): class "auto" starts with `lo`; patterns are expanded; names are
    /// renamed ([`Config::renamed`]); an entry `PHYS=LOGICAL` prints PHYS; entries
    /// whose logical interface is unknown go to `unknown`.
    pub fn list_with(
        &self,
        class: &str,
        interfaces: &[String],
        attr: &dyn Fn(&str, &str) -> Option<String>,
    ) -> Listing {
        let mut entries: Vec<String> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        if class == "auto" {
            entries.push("lo".into());
            seen.insert("lo".into());
        }
        for e in self.allowed(class) {
            for x in pattern::expand(e, interfaces, attr) {
                if seen.insert(x.clone()) {
                    entries.push(x);
                }
            }
        }
        let mut out = Listing::default();
        for e in entries {
            let e = self.renamed(&e, interfaces, attr);
            let (phys, logical) = e.split_once('=').unwrap_or((&e, &e));
            if self.has_logical(logical) {
                out.names.push(phys.to_string());
            } else {
                out.unknown.push(logical.to_string());
            }
        }
        out
    }

    /// Interfaces of an allow class, in file order, without duplicates, as
    /// `ifquery --list --allow CLASS` (class "auto" for auto).
    pub fn list(&self, class: &str) -> Vec<String> {
        self.list_with(class, &pattern::system_interfaces(), &pattern::sys_attr)
            .names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Config {
        match Config::parse_str(text, Path::new("/etc/network/interfaces")) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        }
    }

    fn err(text: &str) -> String {
        match Config::parse_str(text, Path::new("t.if")) {
            Ok(c) => panic!("no error for {text:?}: {c:?}"),
            Err(e) => e.to_string(),
        }
    }

    fn resolved(c: &Config, name: &str) -> Vec<(String, String)> {
        c.stanzas(name)
            .flat_map(|i| c.resolved_options(i))
            .map(|o| (o.name, o.value))
            .collect()
    }

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    const BASIC: &str = "\
# comment
auto lo br0
allow-hotplug eth1
allow-auto eth2
allow-ovs br0 eth1 br0
no-auto-down br0
no-scripts eth9
rename eth5=lan0 bad

iface lo inet loopback

iface br0 inet static
    address 192.0.2.1/24
  ovs_type OVSBridge
ovs_ports eth1 \\
    eth2
    post-up echo up
iface br0 inet6 auto
mapping eth* wlan?
    script /usr/local/bin/map
    map a b
    map c
";

    #[test]
    fn basic_file() {
        let c = parse(BASIC);
        assert_eq!(c.ifaces.len(), 3);
        let br0 = &c.ifaces[1];
        assert_eq!(
            (br0.name.as_str(), br0.family.as_str(), br0.method.as_str()),
            ("br0", "inet", "static")
        );
        assert_eq!(br0.pos.line, 12);
        assert_eq!(
            br0.get("ovs_ports").map(|o| o.value.as_str()),
            Some("eth1     eth2")
        );
        assert_eq!(br0.get("ovs_ports").map(|o| o.pos.line), Some(15));
        assert_eq!(br0.get("up").map(|o| o.value.as_str()), Some("echo up"));
        assert_eq!(c.stanzas("br0").count(), 2);
        assert!(c.loopback_declared);
        let auto: Vec<&str> = c.allowed("auto").collect();
        assert_eq!(auto, vec!["lo", "br0", "eth2"]);
        let ovs: Vec<&str> = c.allowed("ovs").collect();
        assert_eq!(ovs, vec!["br0", "eth1"]);
        assert_eq!(c.no_auto_down[0].0, "br0");
        assert_eq!(c.no_scripts[0].0, "eth9");
        assert_eq!(c.renames.len(), 1);
        assert_eq!(
            (c.renames[0].0.as_str(), c.renames[0].1.as_str()),
            ("eth5", "lan0")
        );
        assert!(c.warnings.iter().any(|w| w.message.contains("rename bad")));
        let m = &c.mappings[0];
        assert_eq!(m.patterns, vec!["eth*", "wlan?"]);
        assert_eq!(m.script.as_deref(), Some("/usr/local/bin/map"));
        assert_eq!(m.maps, vec!["a b", "c"]);
    }

    #[test]
    fn hash_inside_line_is_data() {
        let c = parse("iface x inet manual\n  up echo a # b\n");
        assert_eq!(resolved(&c, "x"), pairs(&[("up", "echo a # b")]));
    }

    #[test]
    fn repeated_options_join_and_commands_stay_separate() {
        let c = parse(
            "iface x inet manual\n a 1\n up u1\n a 2\n post-up u2\n pre-down d1\n down d2\n pre-up p\n post-down q\n",
        );
        assert_eq!(c.ifaces[0].options.len(), 8, "written options are all kept");
        assert_eq!(
            resolved(&c, "x"),
            pairs(&[
                ("a", "1\n2"),
                ("up", "u1"),
                ("up", "u2"),
                ("down", "d1"),
                ("down", "d2"),
                ("pre-up", "p"),
                ("post-down", "q")
            ])
        );
    }

    #[test]
    fn lone_backslash_then_indented_line_is_an_unnamed_option() {
        // ifquery prints ": a b" for this.
        let c = parse("iface x inet manual\n\\\n a b\n c d\n");
        assert_eq!(resolved(&c, "x"), pairs(&[("", "a b"), ("c", "d")]));
    }

    #[test]
    fn dash_and_underscore_are_distinct() {
        let c = parse("iface x inet manual\n ovs-foo a\n ovs_foo b\n");
        assert_eq!(
            resolved(&c, "x"),
            pairs(&[("ovs-foo", "a"), ("ovs_foo", "b")])
        );
    }

    #[test]
    fn question_mark_sets_only_if_unset() {
        let c = parse(
            "iface x inet manual\n foo? a\n foo? b\n bar c\n bar? d\n up? e\n up f\n up? g\n",
        );
        assert_eq!(
            resolved(&c, "x"),
            pairs(&[("foo", "a"), ("bar", "c"), ("up", "e"), ("up", "f")])
        );
    }

    #[test]
    fn inherits_template_first_own_appended() {
        let c = parse(
            "iface t inet static\n mtu 1500\n hw 1\n up t\n\
             iface x inet static inherits t\n address 1\n mtu 9000\n up x\n",
        );
        assert_eq!(
            resolved(&c, "x"),
            pairs(&[
                ("mtu", "1500\n9000"),
                ("hw", "1"),
                ("up", "t"),
                ("address", "1"),
                ("up", "x")
            ])
        );
        assert_eq!(c.ifaces[1].inherits.as_deref(), Some("t"));
        assert_eq!(c.template_of(&c.ifaces[1]).map(|t| t.pos.line), Some(1));
        // The stanza's own options stay its own.
        assert_eq!(c.ifaces[1].options.len(), 3);
    }

    #[test]
    fn inherits_chain_and_family_from_template() {
        let c = parse(
            "iface a inet6 manual\n p 1\niface b inherits a\n q 2\niface c inet6 inherits b\n r 3\n",
        );
        let b = &c.ifaces[1];
        assert_eq!((b.family.as_str(), b.method.as_str()), ("inet6", "manual"));
        let cc = &c.ifaces[2];
        assert_eq!(cc.method, "manual");
        assert_eq!(
            resolved(&c, "c"),
            pairs(&[("p", "1"), ("q", "2"), ("r", "3")])
        );
    }

    #[test]
    fn inherits_picks_first_template_of_family() {
        let c = parse(
            "iface t inet manual\n a 4\niface t inet6 manual\n a 6\niface x inet6 manual inherits t\n",
        );
        assert_eq!(resolved(&c, "x"), pairs(&[("a", "6")]));
    }

    #[test]
    fn error_messages_name_file_and_line() {
        assert_eq!(
            err("iface x inet manual\n  a\n"),
            "t.if:2: option with empty value"
        );
        assert_eq!(err("\na b\n"), "t.if:2: misplaced option");
        assert_eq!(
            err("iface x inet manual\nauto x\n a b\n"),
            "t.if:3: misplaced option"
        );
        assert_eq!(err("mapping e*\n foo a\n"), "t.if:2: misplaced option");
        assert_eq!(
            err("mapping e*\n script a\n script b\n"),
            "t.if:3: duplicate script in mapping"
        );
        assert_eq!(err("iface\n"), "t.if:1: too few parameters for iface line");
        assert_eq!(
            err("iface x foo manual\n"),
            "t.if:1: unknown or no address type and no inherits keyword specified"
        );
        assert_eq!(
            err("iface x inet foo\n"),
            "t.if:1: unknown or no method and no inherits keyword specified"
        );
        assert_eq!(
            err("iface x inet manual inherits\n"),
            "t.if:1: 'inherits' keyword is missing a parameter"
        );
        assert_eq!(
            err("iface x inet manual inherits y\n"),
            "t.if:1: unknown iface to inherit from: y (inet)"
        );
        assert_eq!(
            err("iface y inet6 manual\niface x inet manual inherits y\n"),
            "t.if:2: unknown iface to inherit from: y (inet)"
        );
        assert_eq!(
            err("iface x inherits y\n"),
            "t.if:1: unknown iface to inherit from: y (*)"
        );
        // A template must come first.
        assert!(
            err("iface x inet manual inherits y\niface y inet manual\n").starts_with("t.if:1:")
        );
        // The line of a continued line is its first physical line.
        assert_eq!(
            err("iface x inet manual\n\n  a\\\n\n"),
            "t.if:3: option with empty value"
        );
    }

    #[test]
    fn extra_iface_word_is_a_warning() {
        let c = parse("iface x inet manual extra\n a b\n");
        assert_eq!(resolved(&c, "x"), pairs(&[("a", "b")]));
        assert_eq!(
            c.warnings[0].to_string(),
            "/etc/network/interfaces:1: extra parameter for the iface line not understood and ignored: extra"
        );
    }

    #[test]
    fn parse_str_does_not_follow_source() {
        let c = parse("source /etc/passwd\nsource-directory /etc\niface x inet manual\n");
        assert_eq!(c.warnings.len(), 2);
        assert_eq!(c.files, vec![PathBuf::from("/etc/network/interfaces")]);
        assert_eq!(c.ifaces.len(), 1);
    }

    #[test]
    fn source_ends_the_stanza() {
        assert_eq!(
            err("iface x inet manual\nsource nothere\n a b\n"),
            "t.if:3: misplaced option"
        );
    }

    #[test]
    fn list_like_ifquery() {
        let c = parse(
            "auto br0 eth0=lan nope /e*\nallow-ovs br0 eth9\niface br0 inet manual\niface lan inet manual\n\
             mapping eth9\n script /bin/true\n",
        );
        let devs: Vec<String> = vec!["lo".into(), "eth0".into(), "eth1".into()];
        let no_attr = |_: &str, _: &str| None;
        let l = c.list_with("auto", &devs, &no_attr);
        // lo is implicit (no loopback stanza); /e* gives eth0 (new) and eth1 (unknown).
        assert_eq!(l.names, vec!["lo", "br0", "eth0"]);
        assert_eq!(l.unknown, vec!["nope", "eth0", "eth1"]);
        let l = c.list_with("ovs", &devs, &no_attr);
        assert_eq!(
            l.names,
            vec!["br0", "eth9"],
            "eth9 is known through a mapping"
        );
        assert!(c.list_with("none", &devs, &no_attr).names.is_empty());
    }

    #[test]
    fn rename_one_pass_in_order() {
        let devs: Vec<String> = vec!["lo".into(), "eth0".into()];
        let no_attr = |_: &str, _: &str| None;
        let c = parse("rename b=c\nrename a=b\n");
        assert_eq!(c.renamed("a", &devs, &no_attr), "b");
        let c = parse("rename a=b b=c\n");
        assert_eq!(c.renamed("a", &devs, &no_attr), "c");
        let c = parse("rename a=b b=a\n");
        assert_eq!(c.renamed("a", &devs, &no_attr), "a");
        let c = parse("rename /l*=b /x*=y a*=z\n");
        assert_eq!(c.renamed("lo", &devs, &no_attr), "b");
        assert_eq!(
            c.renamed("xy", &devs, &no_attr),
            "xy",
            "patterns match kernel names only"
        );
        assert_eq!(
            c.renamed("a*", &devs, &no_attr),
            "z",
            "without / it is a plain name"
        );
        assert_eq!(c.renamed("lo=x", &devs, &no_attr), "lo=x");
        let c = parse("rename a=b\nauto a\niface b inet manual\n");
        assert_eq!(c.list_with("auto", &devs, &no_attr).names, vec!["lo", "b"]);
    }

    #[test]
    fn declared_loopback_removes_implicit_lo() {
        let c = parse("iface foo inet loopback\n");
        assert!(!c.has_logical("lo"));
        let l = c.list_with("auto", &[], &|_, _| None);
        assert_eq!(l.unknown, vec!["lo"]);
        assert!(parse("iface x inet manual\n").has_logical("lo"));
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn load_follows_source_relative_and_globs() {
        let d = tempfile::tempdir().unwrap();
        let top = write(
            d.path(),
            "interfaces",
            "source sub/*\nsource missing-file\nsource-directory dir.d\niface top inet manual\n a b\n",
        );
        write(d.path(), "sub/b", "iface b inet manual\n");
        write(
            d.path(),
            "sub/a",
            "iface a inet manual\n x 1\nsource ../sub/c\n",
        );
        write(d.path(), "sub/c", "iface c inet manual\n");
        write(d.path(), "dir.d/ok_1", "iface d1 inet manual\n");
        write(d.path(), "dir.d/ok-0", "iface d0 inet manual\n");
        write(d.path(), "dir.d/not.ok", "iface bad inet manual\n");
        let c = Config::load(&top).unwrap();
        let names: Vec<&str> = c.ifaces.iter().map(|i| i.name.as_str()).collect();
        // sub/c is read twice, as ifupdown does: once as "sub/../sub/c", once as
        // "sub/c" (it compares the path strings it builds).
        assert_eq!(names, vec!["a", "c", "b", "c", "d0", "d1", "top"]);
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        assert_eq!(c.files.len(), 7);
        assert_eq!(c.ifaces[0].pos.file, d.path().join("sub/a"));
    }

    #[test]
    fn load_cycles_end() {
        let d = tempfile::tempdir().unwrap();
        let top = write(d.path(), "a", "source b\niface a inet manual\n");
        write(d.path(), "b", "source a\nsource b\niface b inet manual\n");
        let c = Config::load(&top).unwrap();
        // Every path is built as DIR/NAME from the same DIR, so each file is read once.
        let names: Vec<&str> = c.ifaces.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, vec!["b", "a"]);
        assert_eq!(c.files.len(), 2, "{:?}", c.files);
    }

    #[test]
    fn load_deep_symlink_nesting_stops() {
        let d = tempfile::tempdir().unwrap();
        let top = write(d.path(), "a", "source l/a\niface x inet manual\n");
        std::os::unix::fs::symlink(".", d.path().join("l")).unwrap();
        let c = Config::load(&top).unwrap();
        assert!(
            c.warnings.iter().any(|w| w.message.contains("nested")),
            "{:?}",
            c.warnings
        );
        assert!(c.files.len() <= MAX_DEPTH + 2);
    }

    #[test]
    fn error_in_sourced_file_is_a_warning() {
        let d = tempfile::tempdir().unwrap();
        let top = write(d.path(), "i", "source s\niface z inet manual\n e f\n");
        write(d.path(), "s", "iface y inet manual\n c d\n zz\n q r\n");
        let c = Config::load(&top).unwrap();
        assert_eq!(resolved(&c, "z"), pairs(&[("e", "f")]));
        assert_eq!(resolved(&c, "y"), pairs(&[("c", "d")]));
        assert_eq!(c.warnings.len(), 1);
        assert_eq!(
            c.warnings[0].to_string(),
            format!("{}/s:3: option with empty value", d.path().display())
        );
    }

    #[test]
    fn sourced_directory_is_a_warning() {
        let d = tempfile::tempdir().unwrap();
        let top = write(d.path(), "i", "source sub\n");
        std::fs::create_dir(d.path().join("sub")).unwrap();
        let c = Config::load(&top).unwrap();
        assert_eq!(c.warnings.len(), 1);
        assert!(
            c.warnings[0].message.starts_with("cannot read"),
            "{}",
            c.warnings[0]
        );
    }

    #[test]
    fn load_errors() {
        let d = tempfile::tempdir().unwrap();
        let e = Config::load(&d.path().join("nope")).unwrap_err();
        assert!(e.to_string().contains("nope: cannot read"), "{e}");
        let top = write(d.path(), "i", "iface x inet manual\n a\n");
        let e = Config::load(&top).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("{}:2: option with empty value", top.display())
        );
    }

    #[test]
    fn fuzz_regressions_do_not_panic() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/fuzz-regressions");
        let Ok(rd) = std::fs::read_dir(&dir) else {
            return;
        };
        for e in rd.flatten() {
            let bytes = std::fs::read(e.path()).unwrap_or_default();
            let _ = Config::parse_bytes(&bytes, &e.path());
        }
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        for s in [
            "\\",
            "\\\\",
            "iface",
            "iface \u{fffd} inet manual\n \u{fffd} \u{fffd}",
            "\0\0\n#\\\n\\",
            "auto =\nauto /\nauto //\nauto /=/\nrename =\n",
            "iface x inet manual\n ? a\n ?? b\n",
        ] {
            let _ = Config::parse_str(s, Path::new("f"));
        }
    }

    /// `n` lines of a comment of 1 MiB each.
    fn big_comments(n: usize) -> String {
        let line = format!("#{}\n", "x".repeat((1 << 20) - 2));
        line.repeat(n)
    }

    #[test]
    fn input_over_the_size_limits_is_refused_naming_the_file() {
        let d = tempfile::tempdir().unwrap();
        let top = write(d.path(), "big", &big_comments(17));
        let e = Config::load(&top).unwrap_err();
        assert!(
            matches!(&e, ParseError::Io { path, source }
                if *path == top && source.kind() == std::io::ErrorKind::FileTooLarge),
            "{e}"
        );
        assert_eq!(
            e.to_string(),
            format!(
                "{}: cannot read: refused: larger than 16 MiB, the most ifupdown-ovs reads \
                 from one interfaces file",
                top.display()
            )
        );
        // an endless device costs no more than the limit
        let e = Config::load(Path::new("/dev/zero")).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("/dev/zero: cannot read: refused: larger than 16 MiB"),
            "{e}"
        );
        // sourced: the whole load fails (not a warning and a partial configuration)
        let top = write(
            d.path(),
            "top",
            "auto a\niface a inet manual\nsource /dev/zero\n",
        );
        let e = Config::load(&top).unwrap_err();
        assert!(
            e.to_string().starts_with("/dev/zero: cannot read: refused"),
            "{e}"
        );
        // in all: five files of 15 MiB
        let mut text = String::new();
        for k in 0..5 {
            write(d.path(), &format!("part{k}"), &big_comments(15));
            text.push_str(&format!("source part{k}\n"));
        }
        let top = write(d.path(), "parts", &text);
        let e = Config::load(&top).unwrap_err();
        assert!(
            e.to_string()
                .contains("part4: cannot read: refused: with this file"),
            "{e}"
        );
        assert!(e.to_string().contains("more than 64 MiB"), "{e}");
        // a file just under the limit is read
        let top = write(
            d.path(),
            "ok",
            &format!("{}auto a\niface a inet manual\n", big_comments(15)),
        );
        assert_eq!(Config::load(&top).unwrap().list("auto"), ["lo", "a"]);
    }

    #[test]
    fn invalid_utf8_in_names_is_refused_at_its_line() {
        let p = Path::new("/etc/network/interfaces");
        let err = |b: &[u8]| Config::parse_bytes(b, p).unwrap_err().to_string();
        assert_eq!(
            err(b"auto a\nauto br\xff0\n"),
            "/etc/network/interfaces:2: invalid UTF-8 (byte 0xff after `auto br`): names and \
             ovs_* options must be UTF-8, or another name than the one written would be \
             configured"
        );
        assert!(
            err(b"iface br\xe90 inet manual\n")
                .starts_with("/etc/network/interfaces:1: invalid UTF-8 (byte 0xe9")
        );
        assert!(
            err(b"iface p1 inet manual\n ovs_bridge br\xff\n")
                .starts_with("/etc/network/interfaces:2: ")
        );
        assert!(
            err(b"iface p1 inet manual\n ovs-ports a \\\n b\xff\n")
                .starts_with("/etc/network/interfaces:2: ")
        );
        assert!(
            err(b"iface p1 inet manual\n ovs_\xffbridge br0\n")
                .starts_with("/etc/network/interfaces:2: ")
        );
        assert!(err(b"mapping eth\xff\n").starts_with("/etc/network/interfaces:1: "));
        assert!(err(b"allow-hotplug e\xff\n").starts_with("/etc/network/interfaces:1: "));
        // comments and the values of other options are not names
        let c = Config::parse_bytes(
            b"# caf\xe9\niface p1 inet manual\n description caf\xe9\n up echo \xff\n",
            p,
        )
        .unwrap();
        assert_eq!(c.ifaces[0].options[0].value, "caf\u{fffd}");
    }

    /// Parses `n` interfaces and does every kind of lookup once per name; returns the
    /// fastest of three runs (the least disturbed by other load on the machine).
    fn time_lookups(n: usize) -> std::time::Duration {
        let mut text = String::new();
        for i in 0..n {
            text.push_str(&format!(
                "auto p{i}\niface p{i} inet manual\n ovs_bridge br0\n"
            ));
        }
        text.push_str("iface t inet manual\niface u inherits t\n");
        let runs = (0..3).map(|_| {
            let started = std::time::Instant::now();
            let c = Config::parse_str(&text, Path::new("i")).unwrap();
            let names = c.names();
            assert_eq!(names.len(), n + 2);
            for name in &names {
                assert!(c.stanzas(name).next().is_some());
                assert!(c.has_logical(name));
            }
            assert_eq!(c.list_with("auto", &[], &|_, _| None).names.len(), n + 1);
            let u = c.stanzas("u").next().unwrap();
            assert_eq!(c.template_of(u).map(|t| t.name.as_str()), Some("t"));
            started.elapsed()
        });
        runs.min().unwrap_or_default()
    }

    #[test]
    fn lookups_stay_linear_in_the_number_of_stanzas() {
        // Four times the interfaces: linear lookups take about 4x as long, quadratic
        // ones (a scan of every stanza per name, of every allow line per allow line)
        // 16x. A ratio, not a time, so that a loaded machine does not fail the test.
        let small = time_lookups(4_000);
        let large = time_lookups(16_000);
        let ratio = large.as_secs_f64() / small.as_secs_f64().max(1e-6);
        assert!(
            ratio < 9.0,
            "4x the stanzas took {ratio:.1}x as long ({small:?} -> {large:?})"
        );
    }

    #[test]
    fn lookups_on_a_config_changed_after_use_still_see_every_stanza() {
        let mut c = parse("iface a inet manual\niface b inet manual\n");
        assert_eq!(c.stanzas("a").count(), 1);
        let mut more = c.ifaces[0].clone();
        more.family = "inet6".into();
        c.ifaces.push(more);
        assert_eq!(c.stanzas("a").count(), 2);
        assert_eq!(c.names(), ["a", "b"]);
    }
}
