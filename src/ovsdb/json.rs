//! `ovs-vsctl --format=json` output, read with serde_json: its tables (one per
//! command, one per line: `{"data":[[CELL, ...], ...],"headings":[COLUMN, ...]}`)
//! and the OVSDB values in their cells:
//!
//! - atoms ([`Atom`]): strings, integers, reals, booleans, `["uuid", U]` and
//!   `["named-uuid", U]`;
//! - sets: `["set", [ATOM, ...]]`, or one bare atom standing for a one-element set
//!   (optional columns such as `tag` or `error` are sets of zero or one atom);
//! - maps: `["map", [[KEY, VALUE], ...]]`.
//!
//! Readers never panic: whatever does not have the expected shape reads as absent
//! (or as a [`TableError`] when a whole table cannot be read).

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

/// One OVSDB atom of a cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Atom<'a> {
    Str(&'a str),
    Int(i64),
    Real(f64),
    Bool(bool),
    Uuid(&'a str),
    NamedUuid(&'a str),
}

impl<'a> Atom<'a> {
    /// The atom `v` encodes, if it encodes one (sets, maps, null and objects do not).
    pub fn of(v: &'a Value) -> Option<Atom<'a>> {
        match v {
            Value::String(s) => Some(Atom::Str(s)),
            Value::Bool(b) => Some(Atom::Bool(*b)),
            Value::Number(n) => match n.as_i64() {
                Some(i) => Some(Atom::Int(i)),
                None => n.as_f64().map(Atom::Real),
            },
            Value::Array(a) => match a.as_slice() {
                [Value::String(t), Value::String(u)] if t == "uuid" => Some(Atom::Uuid(u)),
                [Value::String(t), Value::String(u)] if t == "named-uuid" => {
                    Some(Atom::NamedUuid(u))
                }
                _ => None,
            },
            Value::Null | Value::Object(_) => None,
        }
    }

    /// The integer, when the atom is one.
    pub fn int(self) -> Option<i64> {
        match self {
            Atom::Int(i) => Some(i),
            _ => None,
        }
    }
}

/// The atom as text: strings and uuids as they are, numbers and booleans as
/// ovs-vsctl writes them.
impl fmt::Display for Atom<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Atom::Str(s) | Atom::Uuid(s) | Atom::NamedUuid(s) => f.write_str(s),
            Atom::Int(i) => write!(f, "{i}"),
            Atom::Real(r) => write!(f, "{r}"),
            Atom::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// The atoms of an OVSDB set (`["set", [...]]`, or one atom standing for a
/// one-element set); elements that are not atoms are left out, and a missing
/// column, a map or anything else gives none.
pub fn set(v: Option<&Value>) -> Vec<Atom<'_>> {
    let Some(v) = v else {
        return Vec::new();
    };
    if let Value::Array(a) = v
        && let [Value::String(t), Value::Array(items)] = a.as_slice()
        && t == "set"
    {
        return items.iter().filter_map(Atom::of).collect();
    }
    Atom::of(v).into_iter().collect()
}

/// An OVSDB map (`["map", [[k, v], ...]]`) with atoms as text; pairs whose key or
/// value is not an atom are left out, anything that is not a map gives an empty map.
pub fn map(v: Option<&Value>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(Value::Array(a)) = v
        && let [Value::String(t), Value::Array(pairs)] = a.as_slice()
        && t == "map"
    {
        for pair in pairs {
            if let Some([k, v]) = pair.as_array().map(Vec::as_slice)
                && let (Some(k), Some(v)) = (Atom::of(k), Atom::of(v))
            {
                out.insert(k.to_string(), v.to_string());
            }
        }
    }
    out
}

/// One row of a table: column -> cell.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TableRow(BTreeMap<String, Value>);

impl TableRow {
    /// The cell of `column` as it came.
    pub fn get(&self, column: &str) -> Option<&Value> {
        self.0.get(column)
    }

    /// A column holding one atom (`name`, `type`, `_uuid`, ...).
    pub fn atom(&self, column: &str) -> Option<Atom<'_>> {
        self.get(column).and_then(Atom::of)
    }

    /// A column holding one atom, as text.
    pub fn text(&self, column: &str) -> Option<String> {
        self.atom(column).map(|a| a.to_string())
    }

    /// A column holding a boolean: true only when it is `true`.
    pub fn is_true(&self, column: &str) -> bool {
        self.atom(column) == Some(Atom::Bool(true))
    }

    /// A set column's atoms.
    pub fn set(&self, column: &str) -> Vec<Atom<'_>> {
        set(self.get(column))
    }

    /// A set column's atoms as text (the uuids of `ports`, ...).
    pub fn texts(&self, column: &str) -> Vec<String> {
        self.set(column).iter().map(Atom::to_string).collect()
    }

    /// An optional column (a set of at most one atom: `tag`, `error`, `mac`, ...).
    pub fn optional(&self, column: &str) -> Option<Atom<'_>> {
        self.set(column).into_iter().next()
    }

    /// A map column with atoms as text.
    pub fn map(&self, column: &str) -> BTreeMap<String, String> {
        map(self.get(column))
    }
}

impl FromIterator<(String, Value)> for TableRow {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Self {
        TableRow(iter.into_iter().collect())
    }
}

/// What is wrong with output that is JSON but not the tables expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Shape {
    #[error("expected {expected} tables, got {got}")]
    TableCount { expected: usize, got: usize },
    #[error("no headings")]
    NoHeadings,
    #[error("no data")]
    NoData,
}

/// Why `--format=json` tables could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// Not JSON at all.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Shape(#[from] Shape),
}

/// The rows of one table (`{"headings":[..],"data":[[..],..]}`). Headings that are
/// not strings and rows that are not arrays are left out; a row with fewer cells
/// than headings lacks the last columns.
pub fn table(line: &str) -> Result<Vec<TableRow>, TableError> {
    let j: Value = serde_json::from_str(line)?;
    let headings: Vec<&str> = j
        .get("headings")
        .and_then(Value::as_array)
        .ok_or(Shape::NoHeadings)?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let data = j
        .get("data")
        .and_then(Value::as_array)
        .ok_or(Shape::NoData)?;
    Ok(data
        .iter()
        .filter_map(Value::as_array)
        .map(|cells| {
            headings
                .iter()
                .map(|h| h.to_string())
                .zip(cells.iter().cloned())
                .collect()
        })
        .collect())
}

/// The `N` tables of one ovs-vsctl call with `N` `list`/`find` commands: one table
/// per non-empty line.
pub fn tables<const N: usize>(text: &str) -> Result<[Vec<TableRow>; N], TableError> {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let count = Shape::TableCount {
        expected: N,
        got: lines.len(),
    };
    if lines.len() != N {
        return Err(count.into());
    }
    let tables = lines
        .into_iter()
        .map(table)
        .collect::<Result<Vec<_>, _>>()?;
    <[Vec<TableRow>; N]>::try_from(tables).map_err(|_| count.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real `ovs-vsctl --format=json list Interface` output (the columns
    /// `ovsdb::state` reads): an error, a configured MAC, a patch port's options,
    /// empty sets for unset optional columns, an external id with a quote, a
    /// backslash, a tab, non-ASCII text and a control character.
    const IFACES: &str = r#"{"data":[[["uuid","85d69655-c083-434d-89c2-a449b50d632b"],"eth2",["map",[]],"",["map",[]],-1,"could not open network device eth2 (No such device)",["set",[]]],[["uuid","485f8416-47ed-4152-b7b7-6d47d28c13f2"],"eth\"0",["map",[["note","quote \" back\\slash tab\t é 😀 \u0001"]]],"",["map",[]],["set",[]],["set",[]],"02:00:00:00:00:01"],[["uuid","dea1634f-40da-4032-ab02-dca503dd5c1e"],"p1",["map",[]],"patch",["map",[["peer","p2"]]],3,["set",[]],["set",[]]]],"headings":["_uuid","name","external_ids","type","options","ofport","error","mac"]}"#;

    #[test]
    fn reads_a_real_table() {
        let rows = table(IFACES).unwrap();
        let [eth2, eth0, p1] = rows.as_slice() else {
            panic!("three rows expected, got {rows:?}");
        };
        assert_eq!(
            eth2.atom("_uuid"),
            Some(Atom::Uuid("85d69655-c083-434d-89c2-a449b50d632b"))
        );
        assert_eq!(eth2.text("type").as_deref(), Some(""));
        assert_eq!(eth2.optional("ofport").and_then(Atom::int), Some(-1));
        assert_eq!(
            eth2.optional("error").map(|a| a.to_string()).as_deref(),
            Some("could not open network device eth2 (No such device)")
        );
        assert_eq!(eth2.optional("mac"), None);
        assert_eq!(eth0.text("name").as_deref(), Some("eth\"0"));
        assert_eq!(
            eth0.map("external_ids").get("note").map(String::as_str),
            Some("quote \" back\\slash tab\t é 😀 \u{1}")
        );
        assert_eq!(eth0.optional("ofport"), None);
        assert_eq!(eth0.optional("mac"), Some(Atom::Str("02:00:00:00:00:01")));
        assert_eq!(
            p1.map("options").get("peer").map(String::as_str),
            Some("p2")
        );
        assert_eq!(p1.optional("ofport").and_then(Atom::int), Some(3));
        assert!(p1.map("external_ids").is_empty());
    }

    #[test]
    fn sets_and_maps() {
        let v = |s: &str| -> Value { serde_json::from_str(s).unwrap() };
        // many, one (bare), none
        let many = v(r#"["set",[["uuid","a"],["named-uuid","b"],7,true,1.5]]"#);
        assert_eq!(
            set(Some(&many)),
            [
                Atom::Uuid("a"),
                Atom::NamedUuid("b"),
                Atom::Int(7),
                Atom::Bool(true),
                Atom::Real(1.5)
            ]
        );
        assert_eq!(set(Some(&v(r#"["uuid","a"]"#))), [Atom::Uuid("a")]);
        assert_eq!(set(Some(&v("5"))), [Atom::Int(5)]);
        assert_eq!(set(Some(&v(r#""x""#))), [Atom::Str("x")]);
        assert!(set(Some(&v(r#"["set",[]]"#))).is_empty());
        assert!(set(None).is_empty());
        // not sets of atoms
        assert!(set(Some(&v(r#"["map",[["k","v"]]]"#))).is_empty());
        assert!(set(Some(&v("null"))).is_empty());
        assert!(set(Some(&v(r#"{"set":[1]}"#))).is_empty());
        assert_eq!(set(Some(&v(r#"["set",[[1],null,2]]"#))), [Atom::Int(2)]);
        // maps: atoms as text, pairs of non-atoms left out
        let m = map(Some(&v(
            r#"["map",[["k","v"],["n",2],["b",false],["u",["uuid","x"]],["bad",["set",[]]],["odd"],[1,2,3]]]"#,
        )));
        let m: Vec<(&str, &str)> = m.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(m, [("b", "false"), ("k", "v"), ("n", "2"), ("u", "x")]);
        assert!(map(Some(&v(r#"["map",[]]"#))).is_empty());
        assert!(map(Some(&v(r#"["set",[["k","v"]]]"#))).is_empty());
        assert!(map(Some(&v("7"))).is_empty());
        assert!(map(None).is_empty());
        // atoms as text
        assert_eq!(Atom::Int(-1).to_string(), "-1");
        assert_eq!(Atom::Bool(false).to_string(), "false");
        assert_eq!(Atom::of(&v("null")), None);
        assert_eq!(Atom::of(&v(r#"["uuid",1]"#)), None);
        assert_eq!(Atom::Str("x").int(), None);
    }

    #[test]
    fn escapes_and_unicode() {
        let rows = table(
            r#"{"headings":["name"],"data":[["\u00e9\ud83d\ude00 \"q\" \\ \/ \b\f\n\r\t"],["plain"]]}"#,
        )
        .unwrap();
        assert_eq!(
            rows[0].text("name").as_deref(),
            Some("é😀 \"q\" \\ / \u{8}\u{c}\n\r\t")
        );
        assert_eq!(rows[1].text("name").as_deref(), Some("plain"));
    }

    #[test]
    fn tables_and_their_shape() {
        let empty = r#"{"data":[],"headings":["_uuid","name"]}"#;
        let [a, b] = tables::<2>(&format!("{empty}\n\n{IFACES}\n")).unwrap();
        assert!(a.is_empty());
        assert_eq!(b.len(), 3);
        assert!(matches!(
            tables::<3>(&format!("{empty}\n{empty}\n")),
            Err(TableError::Shape(Shape::TableCount {
                expected: 3,
                got: 2
            }))
        ));
        assert_eq!(
            tables::<3>("").map(|_| ()).unwrap_err().to_string(),
            "expected 3 tables, got 0"
        );
        assert!(matches!(
            table("{}"),
            Err(TableError::Shape(Shape::NoHeadings))
        ));
        assert!(matches!(
            table(r#"{"headings":[]}"#),
            Err(TableError::Shape(Shape::NoData))
        ));
        assert!(matches!(table("{"), Err(TableError::Json(_))));
        // odd but readable: a non-string heading, a row that is not an array, a
        // short row
        let rows = table(r#"{"headings":["a",1,"b"],"data":[["x","y","z"],7,["only"]]}"#).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].text("a").as_deref(), Some("x"));
        assert_eq!(rows[0].text("b").as_deref(), Some("y"));
        assert_eq!(rows[1].text("b"), None);
    }

    #[test]
    fn garbage_is_an_error_never_a_panic() {
        let deep = "[".repeat(10_000);
        let garbage = [
            "",
            " ",
            "\0",
            "nul",
            "[1,",
            "{\"a\" 1}",
            "\"abc",
            "[1] x",
            "\"\\ud800\"",
            "\"\\x\"",
            "1e99999",
            "-",
            "{\"headings\":\"x\",\"data\":[]}",
            "{\"headings\":[],\"data\":{}}",
            "[[[]]]",
            "\u{feff}{}",
            deep.as_str(),
        ];
        for g in garbage {
            let _ = table(g);
            let _ = tables::<3>(g);
            assert!(table(g).is_err(), "{g:?} read as a table");
        }
        // byte soup, including cut-off real output
        let mut seed: u32 = 0x2545_f491;
        for cut in 0..IFACES.len() {
            let Some(prefix) = IFACES.get(..cut) else {
                continue;
            };
            assert!(table(prefix).is_err(), "a cut-off table read at {cut}");
            let mut bytes = IFACES.as_bytes().to_vec();
            for _ in 0..4 {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                let at = seed as usize % bytes.len();
                bytes[at] = (seed >> 8) as u8;
            }
            let text = String::from_utf8_lossy(&bytes);
            if let Ok(rows) = table(&text) {
                for r in &rows {
                    for c in ["_uuid", "name", "external_ids", "ofport", "error", "mac"] {
                        let _ = (r.text(c), r.texts(c), r.optional(c), r.map(c));
                    }
                }
            }
        }
    }
}
