//! The schema as data: tables, columns and their types, parsed from the OVSDB
//! schema JSON (RFC 7047, section 3.2), and names resolved the way ovs-vsctl
//! resolves them (ovs-vsctl(8), "Identifying Tables, Records, and Columns"): case
//! does not matter, `-` and `_` are the same, and a unique abbreviation is enough.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::config::suggest::closest;

/// The parsed schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    pub name: String,
    pub version: String,
    /// By exact name.
    pub tables: BTreeMap<String, Table>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub name: String,
    /// By exact name.
    pub columns: BTreeMap<String, Column>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub ty: Type,
    /// False for columns that cannot change once the row exists (`name`).
    pub mutable: bool,
}

/// A column type: a set of `min`..`max` keys, or a map when `value` is given.
#[derive(Debug, Clone, PartialEq)]
pub struct Type {
    pub key: Base,
    pub value: Option<Base>,
    pub min: u64,
    /// None: unlimited.
    pub max: Option<u64>,
}

/// An atomic type with its constraints.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Base {
    pub atomic: Atomic,
    /// The allowed values, as written in the schema (strings, or numbers as text).
    pub enumeration: Option<Vec<String>>,
    pub min_integer: Option<i64>,
    pub max_integer: Option<i64>,
    pub min_real: Option<f64>,
    pub max_real: Option<f64>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    /// The table a UUID refers to.
    pub ref_table: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Atomic {
    Integer,
    Real,
    Boolean,
    #[default]
    String,
    Uuid,
}

impl Atomic {
    fn parse(s: &str) -> Option<Atomic> {
        Some(match s {
            "integer" => Atomic::Integer,
            "real" => Atomic::Real,
            "boolean" => Atomic::Boolean,
            "string" => Atomic::String,
            "uuid" => Atomic::Uuid,
            _ => return None,
        })
    }
    pub fn name(self) -> &'static str {
        match self {
            Atomic::Integer => "an integer",
            Atomic::Real => "a number",
            Atomic::Boolean => "true or false",
            Atomic::String => "a string",
            Atomic::Uuid => "a UUID or @name",
        }
    }
}

/// Why the JSON is not a schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShapeError {
    #[error("not JSON: {0}")]
    Json(String),
    #[error("{0}: missing or of the wrong type")]
    Field(String),
    #[error("{place}: unknown atomic type `{name}`")]
    Atomic { place: String, name: String },
}

fn field(place: &str, name: &str) -> ShapeError {
    ShapeError::Field(format!("{place}.{name}"))
}

impl Schema {
    /// Parse the JSON text of an OVSDB schema.
    pub fn parse(text: &str) -> Result<Schema, ShapeError> {
        let v: Value = serde_json::from_str(text).map_err(|e| ShapeError::Json(e.to_string()))?;
        let text_of = |name: &str| {
            v.get(name)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| field("schema", name))
        };
        let name = text_of("name")?;
        let version = text_of("version").unwrap_or_default();
        let tables = v
            .get("tables")
            .and_then(Value::as_object)
            .ok_or_else(|| field("schema", "tables"))?;
        let mut out = BTreeMap::new();
        for (tname, t) in tables {
            let cols = t
                .get("columns")
                .and_then(Value::as_object)
                .ok_or_else(|| field(tname, "columns"))?;
            let mut columns = BTreeMap::new();
            for (cname, c) in cols {
                let place = format!("{tname}.{cname}");
                let ty = c.get("type").ok_or_else(|| field(&place, "type"))?;
                let column = Column {
                    name: cname.clone(),
                    ty: parse_type(&place, ty)?,
                    mutable: c.get("mutable").and_then(Value::as_bool).unwrap_or(true),
                };
                columns.insert(cname.clone(), column);
            }
            out.insert(
                tname.clone(),
                Table {
                    name: tname.clone(),
                    columns,
                },
            );
        }
        Ok(Schema {
            name,
            version,
            tables: out,
        })
    }

    /// The table ovs-vsctl would take `name` for.
    pub fn table(&self, name: &str) -> Result<&Table, Lookup> {
        resolve(name, &self.tables)
    }

    /// The tables that have a column named exactly (up to case and `-`) `column`.
    pub fn tables_with(&self, column: &str) -> Vec<&str> {
        self.tables
            .values()
            .filter(|t| t.columns.keys().any(|c| same(c, column)))
            .map(|t| t.name.as_str())
            .collect()
    }
}

impl Table {
    /// The column ovs-vsctl would take `name` for.
    pub fn column(&self, name: &str) -> Result<&Column, Lookup> {
        resolve(name, &self.columns)
    }
}

impl Type {
    pub fn is_map(&self) -> bool {
        self.value.is_some()
    }
    /// At most one value, possibly none: an "optional" column.
    pub fn is_scalar(&self) -> bool {
        self.max == Some(1)
    }
}

fn parse_type(place: &str, v: &Value) -> Result<Type, ShapeError> {
    if v.is_string() {
        return Ok(Type {
            key: parse_base(place, v)?,
            value: None,
            min: 1,
            max: Some(1),
        });
    }
    let key = v.get("key").ok_or_else(|| field(place, "key"))?;
    let value = match v.get("value") {
        Some(val) => Some(parse_base(place, val)?),
        None => None,
    };
    let min = v.get("min").and_then(Value::as_u64).unwrap_or(1);
    let max = match v.get("max") {
        None => Some(1),
        Some(Value::String(s)) if s == "unlimited" => None,
        Some(m) => Some(m.as_u64().ok_or_else(|| field(place, "max"))?),
    };
    Ok(Type {
        key: parse_base(place, key)?,
        value,
        min,
        max,
    })
}

fn parse_base(place: &str, v: &Value) -> Result<Base, ShapeError> {
    let atomic_of = |s: &str| {
        Atomic::parse(s).ok_or_else(|| ShapeError::Atomic {
            place: place.to_string(),
            name: s.to_string(),
        })
    };
    if let Some(s) = v.as_str() {
        return Ok(Base {
            atomic: atomic_of(s)?,
            ..Base::default()
        });
    }
    let ty = v
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| field(place, "type"))?;
    let int = |k: &str| v.get(k).and_then(Value::as_i64);
    let real = |k: &str| v.get(k).and_then(Value::as_f64);
    let len = |k: &str| v.get(k).and_then(Value::as_u64);
    Ok(Base {
        atomic: atomic_of(ty)?,
        enumeration: v.get("enum").map(enum_values),
        min_integer: int("minInteger"),
        max_integer: int("maxInteger"),
        min_real: real("minReal"),
        max_real: real("maxReal"),
        min_length: len("minLength"),
        max_length: len("maxLength"),
        ref_table: v
            .get("refTable")
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}

/// An enum is an OVSDB set: `["set", [a, b]]`, or a single atom.
fn enum_values(v: &Value) -> Vec<String> {
    let atoms: Vec<&Value> = match v.as_array().map(Vec::as_slice) {
        Some([Value::String(tag), Value::Array(items)]) if tag == "set" => items.iter().collect(),
        _ => vec![v],
    };
    atoms
        .into_iter()
        .map(|a| match a {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

/// A name that does not resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// Nothing matches; the closest name if it looks like a typo.
    Missing { suggestion: Option<String> },
    /// An abbreviation of several names.
    Ambiguous { candidates: Vec<String> },
}

/// ovs-vsctl's comparison: no case, `-` is `_`.
fn norm(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c == '-' {
                '_'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

fn same(a: &str, b: &str) -> bool {
    norm(a) == norm(b)
}

/// Exact (up to case and `-`), else the one name `name` abbreviates.
fn resolve<'a, T>(name: &str, items: &'a BTreeMap<String, T>) -> Result<&'a T, Lookup> {
    if let Some(t) = items.get(name) {
        return Ok(t);
    }
    let n = norm(name);
    if let Some((_, t)) = items.iter().find(|(k, _)| norm(k) == n) {
        return Ok(t);
    }
    let prefixed: Vec<(&String, &T)> = if n.is_empty() {
        Vec::new()
    } else {
        items
            .iter()
            .filter(|(k, _)| norm(k).starts_with(&n))
            .collect()
    };
    match prefixed.as_slice() {
        [(_, t)] => Ok(t),
        [] => Err(Lookup::Missing {
            suggestion: closest(name, items.keys().map(String::as_str), norm).map(str::to_string),
        }),
        many => Err(Lookup::Ambiguous {
            candidates: many.iter().map(|(k, _)| (*k).clone()).collect(),
        }),
    }
}
