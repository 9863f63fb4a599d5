//! ovs-vsctl's value syntax (ovs-vsctl(8), "Database Values"), checked against a
//! column type: atoms (integers, reals, `true`/`false`, strings bare or in JSON
//! double quotes, UUIDs or `@name`), sets (`[a,b]`, `a,b`, `a b`, integer ranges
//! `1-5`), maps (`{k=v,k2=v2}`, `k=v`), and the schema's constraints on them (enums,
//! integer and real ranges, string lengths, how many values).

use super::model::{Atomic, Base, Type};

/// Why a value does not fit its column type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueProblem {
    #[error("{why} in `{text}`")]
    Syntax { text: String, why: &'static str },
    #[error("`{token}` is not {}", .atomic.name())]
    NotAtom { token: String, atomic: Atomic },
    #[error("`{token}` is not one of {}{}", .allowed.join(", "), hint(.suggestion))]
    NotInEnum {
        token: String,
        allowed: Vec<String>,
        suggestion: Option<String>,
    },
    #[error("{token} is less than {min}, the least allowed")]
    Below { token: String, min: String },
    #[error("{token} is greater than {max}, the most allowed")]
    Above { token: String, max: String },
    #[error("`{token}` is {len} characters long; allowed: {}", lengths(*.min, *.max))]
    Length {
        token: String,
        len: u64,
        min: Option<u64>,
        max: Option<u64>,
    },
    #[error("{count} values, but the column takes {}", counts(*.min, *.max))]
    Count {
        count: usize,
        min: u64,
        max: Option<u64>,
    },
    #[error("`{token}` is given twice")]
    Duplicate { token: String },
    #[error("the range {from}-{to} is empty or longer than 4096")]
    Range { from: i64, to: i64 },
}

pub(super) fn hint(s: &Option<String>) -> String {
    match s {
        Some(s) => format!(" (did you mean {s}?)"),
        None => String::new(),
    }
}

fn lengths(min: Option<u64>, max: Option<u64>) -> String {
    match (min, max) {
        (Some(a), Some(b)) => format!("{a} to {b}"),
        (Some(a), None) => format!("at least {a}"),
        (None, Some(b)) => format!("at most {b}"),
        (None, None) => "any".into(),
    }
}

fn counts(min: u64, max: Option<u64>) -> String {
    match max {
        Some(m) if m == min => format!("exactly {m}"),
        Some(m) => format!("{min} to {m}"),
        None => format!("at least {min}"),
    }
}

/// One token of ovs-vsctl's value syntax and whether it was quoted.
struct Token {
    text: String,
    quoted: bool,
}

/// The delimiters that end a bare token (`ovsdb_token_is_delim` in OVS).
fn is_delim(c: char) -> bool {
    ":=, []{}!<>".contains(c) || c.is_whitespace()
}

struct Cursor<'a> {
    all: &'a str,
    rest: &'a str,
}

impl<'a> Cursor<'a> {
    fn skip_spaces(&mut self) {
        self.rest = self.rest.trim_start();
    }
    fn peek(&self) -> Option<char> {
        self.rest.chars().next()
    }
    fn eat(&mut self, c: char) -> bool {
        match self.rest.strip_prefix(c) {
            Some(r) => {
                self.rest = r;
                true
            }
            None => false,
        }
    }
    fn syntax(&self, why: &'static str) -> ValueProblem {
        ValueProblem::Syntax {
            text: self.all.to_string(),
            why,
        }
    }
    fn token(&mut self) -> Result<Token, ValueProblem> {
        self.skip_spaces();
        if self.eat('"') {
            return self.quoted();
        }
        let mut text = String::new();
        let mut chars = self.rest.char_indices();
        let mut end = self.rest.len();
        while let Some((i, c)) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some((_, e)) => text.push(e),
                    None => return Err(self.syntax("a `\\` ends the value")),
                }
            } else if is_delim(c) {
                end = i;
                break;
            } else {
                text.push(c);
            }
        }
        if text.is_empty() && end == 0 {
            return Err(self.syntax("a value is missing"));
        }
        self.rest = &self.rest[end..];
        Ok(Token {
            text,
            quoted: false,
        })
    }
    /// A JSON string, its opening quote eaten.
    fn quoted(&mut self) -> Result<Token, ValueProblem> {
        let mut text = String::new();
        let mut chars = self.rest.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.rest = &self.rest[i + 1..];
                    return Ok(Token { text, quoted: true });
                }
                '\\' => match chars.next() {
                    Some((_, 'n')) => text.push('\n'),
                    Some((_, 't')) => text.push('\t'),
                    Some((_, 'r')) => text.push('\r'),
                    Some((_, 'b')) => text.push('\u{8}'),
                    Some((_, 'f')) => text.push('\u{c}'),
                    Some((_, 'u')) => {
                        let hex: String =
                            (0..4).filter_map(|_| chars.next().map(|x| x.1)).collect();
                        match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                            Some(ch) => text.push(ch),
                            None => return Err(self.syntax("a bad \\u escape")),
                        }
                    }
                    Some((_, e @ ('"' | '\\' | '/'))) => text.push(e),
                    _ => return Err(self.syntax("a bad escape in a quoted string")),
                },
                c => text.push(c),
            }
        }
        Err(self.syntax("an unterminated quoted string"))
    }
}

/// The keys (and values, for a map) of `text` as a value of `ty`, each checked
/// against its constraints; the whole checked against the number of values allowed.
pub fn parse(text: &str, ty: &Type) -> Result<Vec<(String, Option<String>)>, ValueProblem> {
    let mut c = Cursor {
        all: text,
        rest: text,
    };
    c.skip_spaces();
    let (open, close) = if ty.is_map() { ('{', '}') } else { ('[', ']') };
    let bracketed = c.eat(open);
    if !bracketed && c.peek().is_none() {
        return Err(c.syntax(if ty.is_map() {
            "an empty map is written {}"
        } else {
            "an empty set is written []"
        }));
    }
    let ranges = ty.key.atomic == Atomic::Integer && !ty.is_scalar() && !ty.is_map();
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    loop {
        c.skip_spaces();
        match c.peek() {
            None => break,
            Some(ch) if bracketed && ch == close => break,
            _ => {}
        }
        let key = c.token()?;
        let mut keys = Vec::new();
        match (ranges, range_of(&key)) {
            (true, Some((from, to))) => {
                if to < from || to - from >= 4096 {
                    return Err(ValueProblem::Range { from, to });
                }
                for n in [from, to] {
                    atom(&n.to_string(), &ty.key)?;
                }
                keys.extend((from..=to).map(|n| n.to_string()));
            }
            _ => keys.push(token_atom(&key, &ty.key)?),
        }
        let value = match &ty.value {
            Some(vb) => {
                c.skip_spaces();
                if !c.eat('=') {
                    return Err(c.syntax("`=` is missing after a map key"));
                }
                let v = c.token()?;
                Some(token_atom(&v, vb)?)
            }
            None => None,
        };
        for k in keys {
            if out.iter().any(|(x, _)| *x == k) {
                return Err(ValueProblem::Duplicate { token: k });
            }
            out.push((k, value.clone()));
        }
        c.skip_spaces();
        if c.eat(',') {
            c.skip_spaces();
        }
    }
    if bracketed && !c.eat(close) {
        return Err(c.syntax(if ty.is_map() {
            "a `}` is missing"
        } else {
            "a `]` is missing"
        }));
    }
    c.skip_spaces();
    if c.peek().is_some() {
        return Err(c.syntax("unexpected text after the value"));
    }
    let n = out.len() as u64;
    if n < ty.min || ty.max.is_some_and(|m| n > m) {
        return Err(ValueProblem::Count {
            count: out.len(),
            min: ty.min,
            max: ty.max,
        });
    }
    Ok(out)
}

/// `A-B` with two integers (a range of an integer set).
fn range_of(t: &Token) -> Option<(i64, i64)> {
    if t.quoted || t.text.parse::<i64>().is_ok() {
        return None;
    }
    let (neg, body) = match t.text.strip_prefix('-') {
        Some(b) => ("-", b),
        None => ("", t.text.as_str()),
    };
    let (a, b) = body.split_once('-')?;
    Some((format!("{neg}{a}").parse().ok()?, b.parse().ok()?))
}

/// A token as an atom of `base`: a quoted token is a string, never a number, a
/// boolean or a UUID (ovs-vsctl: `"\"1\"" is not a valid integer`).
fn token_atom(t: &Token, base: &Base) -> Result<String, ValueProblem> {
    if t.quoted && base.atomic != Atomic::String {
        return Err(ValueProblem::NotAtom {
            token: format!("\"{}\"", t.text),
            atomic: base.atomic,
        });
    }
    atom(&t.text, base)
}

/// One atom of base type `base`, from its text (a string's without its quotes).
pub fn atom(text: &str, base: &Base) -> Result<String, ValueProblem> {
    let not = || ValueProblem::NotAtom {
        token: text.to_string(),
        atomic: base.atomic,
    };
    match base.atomic {
        Atomic::Integer => {
            let n: i64 = text.trim_start_matches('+').parse().map_err(|_| not())?;
            if let Some(min) = base.min_integer.filter(|m| n < *m) {
                return Err(ValueProblem::Below {
                    token: text.into(),
                    min: min.to_string(),
                });
            }
            if let Some(max) = base.max_integer.filter(|m| n > *m) {
                return Err(ValueProblem::Above {
                    token: text.into(),
                    max: max.to_string(),
                });
            }
        }
        Atomic::Real => {
            let x: f64 = text.parse().map_err(|_| not())?;
            if !x.is_finite() {
                return Err(not());
            }
            if let Some(min) = base.min_real.filter(|m| x < *m) {
                return Err(ValueProblem::Below {
                    token: text.into(),
                    min: min.to_string(),
                });
            }
            if let Some(max) = base.max_real.filter(|m| x > *m) {
                return Err(ValueProblem::Above {
                    token: text.into(),
                    max: max.to_string(),
                });
            }
        }
        Atomic::Boolean if text != "true" && text != "false" => return Err(not()),
        Atomic::Boolean => {}
        Atomic::Uuid if !(is_uuid(text) || is_named_uuid(text)) => return Err(not()),
        Atomic::Uuid => {}
        Atomic::String => {
            let len = text.chars().count() as u64;
            if base.min_length.is_some_and(|m| len < m) || base.max_length.is_some_and(|m| len > m)
            {
                return Err(ValueProblem::Length {
                    token: text.into(),
                    len,
                    min: base.min_length,
                    max: base.max_length,
                });
            }
        }
    }
    if let Some(allowed) = &base.enumeration
        && !allowed.iter().any(|a| a == text)
    {
        let names: Vec<&str> = allowed.iter().map(String::as_str).collect();
        return Err(ValueProblem::NotInEnum {
            token: text.into(),
            allowed: allowed.clone(),
            suggestion: crate::config::suggest::did_you_mean(text, &names).map(str::to_string),
        });
    }
    Ok(text.to_string())
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let lens = [8, 4, 4, 4, 12];
    parts.len() == 5
        && parts
            .iter()
            .zip(lens)
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// `@name`, a row created by the same ovs-vsctl invocation.
fn is_named_uuid(s: &str) -> bool {
    s.strip_prefix('@').is_some_and(|n| {
        n.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}
