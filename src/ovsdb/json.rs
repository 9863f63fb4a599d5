//! A small JSON reader, enough for `ovs-vsctl --format=json` output (objects, arrays,
//! strings with escapes, numbers, booleans, null). Not a general-purpose library: no
//! serialisation, numbers are kept as `f64` and `i64` when integral. Also the few
//! readers of OVSDB values in that output ([`table_rows`], [`atom`], [`set`], [`map`]).

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Array(Vec<Json>),
    Object(BTreeMap<String, Json>),
}

/// Where and why a JSON text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid JSON at byte {at}: {what}")]
pub struct JsonError {
    pub at: usize,
    pub what: &'static str,
}

impl Json {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_array(&self) -> Option<&[Json]> {
        match self {
            Json::Array(a) => Some(a),
            _ => None,
        }
    }
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(o) => o.get(key),
            _ => None,
        }
    }
}

/// Parse one JSON value; only white space may follow it.
pub fn parse(text: &str) -> Result<Json, JsonError> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    let v = p.value(0)?;
    p.ws();
    if p.i != p.s.len() {
        return Err(p.err("trailing characters"));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

const MAX_DEPTH: usize = 64;

impl Parser<'_> {
    fn err(&self, what: &'static str) -> JsonError {
        JsonError { at: self.i, what }
    }

    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> Result<(), JsonError> {
        self.ws();
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.err("unexpected character"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, JsonError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        self.ws();
        match self.peek() {
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => self.string().map(Json::Str),
            Some(b't') => self.word("true", Json::Bool(true)),
            Some(b'f') => self.word("false", Json::Bool(false)),
            Some(b'n') => self.word("null", Json::Null),
            Some(c) if c == b'-' || c.is_ascii_digit() => self.number(),
            Some(_) => Err(self.err("unexpected character")),
            None => Err(self.err("unexpected end")),
        }
    }

    fn word(&mut self, w: &str, v: Json) -> Result<Json, JsonError> {
        if self.s[self.i..].starts_with(w.as_bytes()) {
            self.i += w.len();
            Ok(v)
        } else {
            Err(self.err("unknown literal"))
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json, JsonError> {
        self.i += 1;
        let mut map = BTreeMap::new();
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(Json::Object(map));
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return Err(self.err("expected a string key"));
            }
            let k = self.string()?;
            self.eat(b':')?;
            let v = self.value(depth + 1)?;
            map.insert(k, v);
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(Json::Object(map));
                }
                _ => return Err(self.err("expected , or }")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Json, JsonError> {
        self.i += 1;
        let mut items = Vec::new();
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(Json::Array(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(Json::Array(items));
                }
                _ => return Err(self.err("expected , or ]")),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let h = self
            .s
            .get(self.i..self.i + 4)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .ok_or_else(|| self.err("bad \\u escape"))?;
        self.i += 4;
        Ok(h)
    }

    fn string(&mut self) -> Result<String, JsonError> {
        self.i += 1; // opening quote
        let mut out: Vec<u8> = Vec::new();
        loop {
            let c = self.peek().ok_or_else(|| self.err("unterminated string"))?;
            self.i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let e = self.peek().ok_or_else(|| self.err("unterminated string"))?;
                    self.i += 1;
                    let ch = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let mut cp = self.hex4()?;
                            if (0xd800..0xdc00).contains(&cp)
                                && self.s[self.i..].starts_with(b"\\u")
                            {
                                self.i += 2;
                                let lo = self.hex4()?;
                                cp = 0x10000
                                    + ((cp - 0xd800) << 10)
                                    + (lo.wrapping_sub(0xdc00) & 0x3ff);
                            }
                            char::from_u32(cp).unwrap_or('\u{fffd}')
                        }
                        _ => return Err(self.err("bad escape")),
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                _ => out.push(c),
            }
        }
        String::from_utf8(out).map_err(|_| self.err("invalid UTF-8"))
    }

    fn number(&mut self) -> Result<Json, JsonError> {
        let start = self.i;
        while let Some(c) = self.peek() {
            if c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E') {
                self.i += 1;
            } else {
                break;
            }
        }
        let text =
            std::str::from_utf8(&self.s[start..self.i]).map_err(|_| self.err("bad number"))?;
        if let Ok(i) = text.parse::<i64>() {
            return Ok(Json::Int(i));
        }
        text.parse::<f64>()
            .map(Json::Float)
            .map_err(|_| self.err("bad number"))
    }
}

/// One row of a `--format=json` table: column -> value.
pub type TableRow = BTreeMap<String, Json>;

/// Why a `--format=json` table could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    #[error(transparent)]
    Json(#[from] JsonError),
    /// The JSON is fine but lacks `headings` or `data`.
    #[error("{0}")]
    Shape(&'static str),
}

/// The rows of one `ovs-vsctl --format=json` table (`{"headings":[..],"data":[[..]]}`).
pub fn table_rows(line: &str) -> Result<Vec<TableRow>, TableError> {
    let j = parse(line)?;
    let headings: Vec<String> = j
        .get("headings")
        .and_then(Json::as_array)
        .ok_or(TableError::Shape("no headings"))?
        .iter()
        .filter_map(|h| h.as_str().map(str::to_string))
        .collect();
    let data = j
        .get("data")
        .and_then(Json::as_array)
        .ok_or(TableError::Shape("no data"))?;
    Ok(data
        .iter()
        .filter_map(Json::as_array)
        .map(|cells| {
            headings
                .iter()
                .cloned()
                .zip(cells.iter().cloned())
                .collect()
        })
        .collect())
}

/// An OVSDB atom as text: strings, numbers, booleans, `["uuid", U]` and
/// `["named-uuid", U]`.
pub fn atom(j: &Json) -> Option<String> {
    match j {
        Json::Str(s) => Some(s.clone()),
        Json::Int(i) => Some(i.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        Json::Array(a) => match a.as_slice() {
            [Json::Str(t), Json::Str(u)] if t == "uuid" || t == "named-uuid" => Some(u.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// An OVSDB set's elements (`["set", [...]]`, or one atom standing for a
/// one-element set); empty when the column is missing.
pub fn set(j: Option<&Json>) -> Vec<Json> {
    match j {
        None => Vec::new(),
        Some(Json::Array(a)) => match a.as_slice() {
            [Json::Str(t), Json::Array(items)] if t == "set" => items.clone(),
            _ => vec![Json::Array(a.clone())],
        },
        Some(other) => vec![other.clone()],
    }
}

/// An OVSDB map (`["map", [[k, v], ...]]`) with atoms as text; pairs whose key or
/// value is not an atom are left out, anything that is not a map gives an empty map.
pub fn map(j: Option<&Json>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(Json::Array(a)) = j
        && let [Json::Str(t), Json::Array(pairs)] = a.as_slice()
        && t == "map"
    {
        for pair in pairs {
            if let Some([k, v]) = pair.as_array()
                && let (Some(k), Some(v)) = (atom(k), atom(v))
            {
                out.insert(k, v);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vsctl_output() {
        let j = parse(
            r#"{"data":[["p1",["set",[1,2]],["map",[["c","x y\\z\"q"]]],["uuid","1185"],-1,true]],"headings":["name"]}"#,
        )
        .unwrap();
        let row = &j.get("data").unwrap().as_array().unwrap()[0];
        let row = row.as_array().unwrap();
        assert_eq!(row[0], Json::Str("p1".into()));
        assert_eq!(
            row[1],
            Json::Array(vec![
                Json::Str("set".into()),
                Json::Array(vec![Json::Int(1), Json::Int(2)])
            ])
        );
        let m = row[2].as_array().unwrap()[1].as_array().unwrap()[0]
            .as_array()
            .unwrap();
        assert_eq!(m[1], Json::Str("x y\\z\"q".into()));
        assert_eq!(row[4], Json::Int(-1));
        assert_eq!(row[5], Json::Bool(true));
    }

    #[test]
    fn unicode_and_errors() {
        assert_eq!(
            parse(r#""\u00e9\ud83d\ude00""#).unwrap(),
            Json::Str("é😀".into())
        );
        assert_eq!(parse("  null ").unwrap(), Json::Null);
        assert!(parse("[1,").is_err());
        assert!(parse("{\"a\" 1}").is_err());
        assert!(parse("\"abc").is_err());
        assert!(parse("[1] x").is_err());
        assert!(parse(&"[".repeat(100)).is_err());
        assert_eq!(parse("1.5").unwrap(), Json::Float(1.5));
    }

    #[test]
    fn ovsdb_values() {
        let rows = table_rows(
            r#"{"data":[[["uuid","u1"],["set",[["uuid","a"],["named-uuid","b"]]],["map",[["k","v"],["n",2],["bad",["set",[]]]]],7]],"headings":["_uuid","ports","external_ids","tag"]}"#,
        )
        .unwrap();
        let [r] = rows.as_slice() else {
            panic!("one row expected, got {rows:?}");
        };
        assert_eq!(r.get("_uuid").and_then(atom).as_deref(), Some("u1"));
        let ports: Vec<String> = set(r.get("ports")).iter().filter_map(atom).collect();
        assert_eq!(ports, ["a", "b"]);
        let m = map(r.get("external_ids"));
        assert_eq!(m.len(), 2);
        assert_eq!(m.get("n").map(String::as_str), Some("2"));
        assert_eq!(set(r.get("tag")), [Json::Int(7)]);
        assert!(set(r.get("missing")).is_empty());
        assert!(map(r.get("tag")).is_empty());
        assert_eq!(atom(&Json::Bool(false)).as_deref(), Some("false"));
        assert_eq!(atom(&Json::Null), None);
        assert_eq!(table_rows("{}"), Err(TableError::Shape("no headings")));
        assert_eq!(
            table_rows(r#"{"headings":[]}"#),
            Err(TableError::Shape("no data"))
        );
        assert!(matches!(table_rows("{"), Err(TableError::Json(_))));
    }
}
