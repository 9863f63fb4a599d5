//! One `ovs_extra` command (the words between two `--`) as ovs-vsctl would take it:
//! a known command, only the options it has, as many arguments as it takes, and for
//! the database commands (`set`, `add`, `remove`, `clear`, `get`, `create`, ...)
//! the table, columns, keys and values against the schema. Command names,
//! options and argument counts are those of ovs-vsctl(8) of Open vSwitch 3.1, as
//! `ovs-vsctl --commands` lists them (its `vsctl_commands` table and the database
//! commands of `db-ctl-base`).
//!
//! Words only a hook run knows (`$VAR`, `$(...)`) may expand to any number of
//! words, so in a command holding one the fixed positions (table, record,
//! column) are checked only before it, the argument count not at all, and each
//! `COLUMN[:KEY]=VALUE` word after it for what it shows (its column, and its value
//! when that is known).

use super::check::{
    Finding, SchemaError, SchemaWarning, assignment, column, is_unknowable, map_entry,
};
use super::model::{Lookup, Schema, Table, Type};
use super::value;

/// What the arguments of a command are, beyond their number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Args {
    /// Not checked against the schema (names of bridges, ports, targets...).
    Plain,
    /// `add-port BRIDGE PORT [COLUMN[:KEY]=VALUE]...`, `add-bond ...`: assignments
    /// (Port columns) among them.
    PortColumns,
    /// `set-fail-mode BRIDGE MODE`.
    FailMode,
    /// `TABLE RECORD COLUMN[:KEY]=VALUE...` (`set`).
    Set,
    /// `TABLE COLUMN[:KEY]=VALUE...` (`create`).
    Create,
    /// `TABLE RECORD COLUMN VALUE...` (`add`, `remove`).
    AddRemove { remove: bool },
    /// `TABLE RECORD COLUMN...` (`clear`).
    Clear,
    /// `TABLE RECORD [COLUMN[:KEY]]...` (`get`).
    Get,
    /// `TABLE [CONDITION]...` (`find`) and `TABLE RECORD [CONDITION]...`
    /// (`wait-until`: `conds_from` = 2).
    Find { conds_from: usize },
    /// `TABLE [RECORD]...` (`list`, `destroy`).
    Table,
}

/// (name, least and most arguments, its options, what the arguments are).
type Command = (
    &'static str,
    usize,
    Option<usize>,
    &'static [&'static str],
    Args,
);

const ANY: Option<usize> = None;
const IF_EXISTS: &[&str] = &["--if-exists"];
const MAY_EXIST: &[&str] = &["--may-exist"];
const NONE: &[&str] = &[];

#[rustfmt::skip]
const COMMANDS: &[Command] = &[
    ("init", 0, Some(0), NONE, Args::Plain),
    ("show", 0, Some(0), NONE, Args::Plain),
    ("emer-reset", 0, Some(0), NONE, Args::Plain),
    ("add-br", 1, Some(3), MAY_EXIST, Args::Plain),
    ("del-br", 1, Some(1), IF_EXISTS, Args::Plain),
    ("list-br", 0, Some(0), &["--real", "--fake"], Args::Plain),
    ("br-exists", 1, Some(1), NONE, Args::Plain),
    ("br-to-vlan", 1, Some(1), NONE, Args::Plain),
    ("br-to-parent", 1, Some(1), NONE, Args::Plain),
    ("br-set-external-id", 2, Some(3), NONE, Args::Plain),
    ("br-get-external-id", 1, Some(2), NONE, Args::Plain),
    ("list-ports", 1, Some(1), NONE, Args::Plain),
    ("add-port", 2, ANY, MAY_EXIST, Args::PortColumns),
    ("add-bond", 4, ANY, &["--may-exist", "--fake-iface"], Args::PortColumns),
    ("add-bond-iface", 2, Some(2), MAY_EXIST, Args::Plain),
    ("del-bond-iface", 1, Some(2), IF_EXISTS, Args::Plain),
    ("del-port", 1, Some(2), &["--if-exists", "--with-iface"], Args::Plain),
    ("port-to-br", 1, Some(1), NONE, Args::Plain),
    ("list-ifaces", 1, Some(1), NONE, Args::Plain),
    ("iface-to-br", 1, Some(1), NONE, Args::Plain),
    ("add-zone-tp", 2, ANY, MAY_EXIST, Args::Plain),
    ("del-zone-tp", 2, Some(2), IF_EXISTS, Args::Plain),
    ("list-zone-tp", 1, Some(1), NONE, Args::Plain),
    ("list-dp-cap", 1, Some(1), NONE, Args::Plain),
    ("get-controller", 1, Some(1), NONE, Args::Plain),
    ("del-controller", 1, Some(1), NONE, Args::Plain),
    ("set-controller", 1, ANY, &["--inactivity-probe"], Args::Plain),
    ("get-fail-mode", 1, Some(1), NONE, Args::Plain),
    ("del-fail-mode", 1, Some(1), NONE, Args::Plain),
    ("set-fail-mode", 2, Some(2), NONE, Args::FailMode),
    ("get-manager", 0, Some(0), NONE, Args::Plain),
    ("del-manager", 0, Some(0), NONE, Args::Plain),
    ("set-manager", 1, ANY, &["--inactivity-probe"], Args::Plain),
    ("get-ssl", 0, Some(0), NONE, Args::Plain),
    ("del-ssl", 0, Some(0), NONE, Args::Plain),
    ("set-ssl", 3, Some(3), &["--bootstrap"], Args::Plain),
    ("add-aa-mapping", 3, Some(3), NONE, Args::Plain),
    ("del-aa-mapping", 3, Some(3), NONE, Args::Plain),
    ("get-aa-mapping", 1, Some(1), NONE, Args::Plain),
    ("comment", 0, ANY, NONE, Args::Plain),
    ("get", 2, ANY, &["--if-exists", "--id"], Args::Get),
    ("list", 1, ANY, &["--if-exists", "--columns"], Args::Table),
    ("find", 1, ANY, &["--columns"], Args::Find { conds_from: 1 }),
    ("set", 3, ANY, IF_EXISTS, Args::Set),
    ("add", 4, ANY, IF_EXISTS, Args::AddRemove { remove: false }),
    ("remove", 4, ANY, IF_EXISTS, Args::AddRemove { remove: true }),
    ("clear", 3, ANY, IF_EXISTS, Args::Clear),
    ("create", 2, ANY, &["--id"], Args::Create),
    ("destroy", 1, ANY, &["--if-exists", "--all"], Args::Table),
    ("wait-until", 2, ANY, NONE, Args::Find { conds_from: 2 }),
];

/// Check one command (`words`: its options, name and arguments, split as the hook
/// splits `ovs_extra`, before anything only the hook knows is expanded).
pub fn check_command(schema: &Schema, words: &[String]) -> Vec<Finding> {
    let mut out = Vec::new();
    let n_opts = words.iter().take_while(|w| w.starts_with("--")).count();
    let (opts, rest) = words.split_at(n_opts);
    let Some((name, args)) = rest.split_first() else {
        if !opts.is_empty() && !opts.iter().any(|w| is_unknowable(w)) {
            out.push(Finding::Error(SchemaError::NoCommand {
                options: opts.to_vec(),
            }));
        }
        return out;
    };
    if is_unknowable(name) {
        out.push(Finding::Warning(SchemaWarning::Unchecked {
            word: name.clone(),
            what: "the command",
        }));
        return out;
    }
    let Some(&(cmd, min, max, options, kind)) = COMMANDS.iter().find(|c| c.0 == name) else {
        let names: Vec<&str> = COMMANDS.iter().map(|c| c.0).collect();
        out.push(Finding::Error(SchemaError::UnknownCommand {
            name: name.clone(),
            suggestion: crate::config::suggest::did_you_mean(name, &names).map(str::to_string),
        }));
        return out;
    };
    for o in opts {
        let bare = o.split_once('=').map_or(o.as_str(), |(b, _)| b);
        if !is_unknowable(o) && !options.contains(&bare) {
            out.push(Finding::Error(SchemaError::CommandOption {
                command: cmd.to_string(),
                option: o.clone(),
            }));
        }
    }
    // Only the arguments before the first word only the hook knows are in place.
    let known = args.iter().take_while(|w| !is_unknowable(w)).count();
    if known == args.len() && (args.len() < min || max.is_some_and(|m| args.len() > m)) {
        out.push(Finding::Error(SchemaError::Arity {
            command: cmd.to_string(),
            given: args.len(),
            min,
            max,
        }));
        return out;
    }
    if cmd == "add-br" && known == 2 {
        out.push(Finding::Error(SchemaError::AddBrTwo));
        return out;
    }
    Checker {
        schema,
        cmd,
        out: &mut out,
    }
    .arguments(kind, args, known);
    out
}

struct Checker<'a, 'o> {
    schema: &'a Schema,
    cmd: &'static str,
    out: &'o mut Vec<Finding>,
}

impl<'a> Checker<'a, '_> {
    /// The arguments of a command of kind `kind`. `args[known]` is the first word
    /// only the hook knows: the fixed positions (table, record, column) are in
    /// place only before it; the words after them are judged one by one, skipping
    /// those only the hook knows.
    fn arguments(&mut self, kind: Args, args: &[String], known: usize) {
        let after = |i: usize| if known >= i { &args[i..] } else { &args[..0] };
        match kind {
            Args::Plain => {}
            Args::PortColumns => self.assignments("Port", after(2), false),
            Args::FailMode => {
                if known >= 2 {
                    self.fail_mode(&args[1]);
                }
            }
            Args::Set | Args::Create | Args::AddRemove { .. } | Args::Clear | Args::Get => {
                let Some(t) = self.table(args, known) else {
                    return;
                };
                match kind {
                    Args::Set => self.assignments_of(t, after(2), true),
                    Args::Create => self.assignments_of(t, after(1), true),
                    Args::AddRemove { remove } => self.add_remove(t, after(2), remove),
                    Args::Clear => self.clear(t, after(2)),
                    _ => self.get(t, after(2)),
                }
            }
            Args::Find { conds_from } => {
                if let Some(t) = self.table(args, known) {
                    self.conditions(t, after(conds_from));
                }
            }
            Args::Table => {
                self.table(args, known);
            }
        }
    }

    /// The table named by the first argument, if it is known and resolves.
    fn table(&mut self, args: &[String], known: usize) -> Option<&'a Table> {
        if known == 0 {
            return None;
        }
        let name = &args[0];
        match self.schema.table(name) {
            Ok(t) => Some(t),
            Err(Lookup::Missing { suggestion }) => {
                self.error(SchemaError::NoTable {
                    name: name.clone(),
                    suggestion,
                });
                None
            }
            Err(Lookup::Ambiguous { candidates }) => {
                self.error(SchemaError::AmbiguousTable {
                    name: name.clone(),
                    candidates,
                });
                None
            }
        }
    }

    fn error(&mut self, e: SchemaError) {
        self.out.push(Finding::Error(e));
    }

    fn assignments(&mut self, table: &str, words: &[String], strict: bool) {
        if let Ok(t) = self.schema.table(table) {
            self.assignments_of(t, words, strict);
        }
    }

    /// `COLUMN[:KEY]=VALUE` words of `t`; with `strict`, every word must be one
    /// (the first that is not is reported).
    fn assignments_of(&mut self, t: &Table, words: &[String], strict: bool) {
        let mut reported = false;
        for w in words {
            if crate::sys::words::split_assignment(w).is_some() {
                assignment(self.schema, t, w, self.out);
            } else if strict && !reported && !is_unknowable(w) {
                reported = true;
                self.error(SchemaError::NotAssignment {
                    command: self.cmd.to_string(),
                    word: w.clone(),
                });
            }
        }
    }

    fn fail_mode(&mut self, mode: &str) {
        let Some(c) = self
            .schema
            .table("Bridge")
            .ok()
            .and_then(|t| t.column("fail_mode").ok())
        else {
            return;
        };
        if let Err(problem) = value::atom(mode, &c.ty.key) {
            self.error(SchemaError::Value {
                word: mode.to_string(),
                table: "Bridge".into(),
                column: c.name.clone(),
                problem: Box::new(problem),
            });
        }
    }

    /// `RECORD COLUMN VALUE...` of `add` / `remove` (`args` starts at the column).
    fn add_remove(&mut self, t: &Table, args: &[String], remove: bool) {
        let Some((col, values)) = args.split_first().filter(|(c, _)| !is_unknowable(c)) else {
            return;
        };
        let c = match column(self.schema, t, col, col) {
            Ok(c) => c,
            Err(e) => return self.error(e),
        };
        for v in values.iter().filter(|v| !is_unknowable(v)) {
            if c.ty.is_map() {
                match v.split_once('=') {
                    Some((k, val)) => map_entry(t, c, v, k, Some(val), self.out),
                    None if remove => map_entry(t, c, v, v, None, self.out),
                    None => self.error(SchemaError::NotAPair {
                        table: t.name.clone(),
                        column: c.name.clone(),
                        word: v.clone(),
                    }),
                }
                continue;
            }
            // Each word is one or more elements of the set, whatever its size.
            let elements = Type {
                min: 0,
                max: None,
                ..c.ty.clone()
            };
            if let Err(problem) = value::parse(v, &elements) {
                self.error(SchemaError::Value {
                    word: v.clone(),
                    table: t.name.clone(),
                    column: c.name.clone(),
                    problem: Box::new(problem),
                });
            }
        }
    }

    fn clear(&mut self, t: &Table, cols: &[String]) {
        for col in cols.iter().filter(|c| !is_unknowable(c)) {
            match column(self.schema, t, col, col) {
                Ok(c) if c.ty.min > 0 => self.error(SchemaError::NotEmptyable {
                    table: t.name.clone(),
                    column: c.name.clone(),
                }),
                Ok(_) => {}
                Err(e) => self.error(e),
            }
        }
    }

    /// `COLUMN[:KEY]` of `get`.
    fn get(&mut self, t: &Table, cols: &[String]) {
        for w in cols.iter().filter(|c| !is_unknowable(c)) {
            let (col, key) = match w.split_once(':') {
                Some((c, k)) => (c, Some(k)),
                None => (w.as_str(), None),
            };
            match column(self.schema, t, col, w) {
                Ok(c) if key.is_some() && !c.ty.is_map() => self.error(SchemaError::NotAMap {
                    word: w.clone(),
                    table: t.name.clone(),
                    column: c.name.clone(),
                }),
                Ok(_) => {}
                Err(e) => self.error(e),
            }
        }
    }

    /// `COLUMN[:KEY]OP VALUE` of `find` / `wait-until`: the column.
    fn conditions(&mut self, t: &Table, conds: &[String]) {
        for w in conds {
            let end = w.find([':', '=', '!', '<', '>', '{']).unwrap_or(w.len());
            if is_unknowable(&w[..end]) {
                continue;
            }
            if let Err(e) = column(self.schema, t, &w[..end], w) {
                self.error(e);
            }
        }
    }
}
