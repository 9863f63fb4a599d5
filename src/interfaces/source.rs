//! What `source` and `source-directory` read, the way ifupdown 0.8 finds it.
//!
//! ifupdown builds `DIR/REST` (DIR = dirname of the including file, unless REST starts
//! with `/`) and hands it to `wordexp(3)` without command substitution. This module
//! does the parts of that expansion that matter here: white space splits words,
//! quotes and backslashes protect characters, `$NAME`/`${NAME}` and a leading `~` are
//! taken from the environment, and words with glob characters expand to the sorted
//! matching paths (kept literally when nothing matches). Like wordexp, a line with an
//! unquoted `| & ; < > ( ) { }`, or with a command substitution, expands to nothing
//! (ifupdown then reads nothing, silently). Field splitting of expanded variables
//! and the rarer shell forms (`${X:-y}`, `$1`) are not done.

use std::path::Path;

/// Why a `source` argument expanded to nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpandError {
    /// wordexp's WRDE_BADCHAR: an unquoted shell special character.
    BadChar(char),
    /// wordexp's WRDE_CMDSUB: `$(...)` or a backquote.
    CommandSubstitution,
    /// wordexp's WRDE_SYNTAX: unbalanced quotes or `${`.
    Syntax,
}

impl std::fmt::Display for ExpandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExpandError::BadChar(c) => write!(f, "unquoted shell character {c:?}"),
            ExpandError::CommandSubstitution => f.write_str("command substitution is not allowed"),
            ExpandError::Syntax => f.write_str("unbalanced quotes or braces"),
        }
    }
}

/// POSIX `dirname(3)` on a path string.
pub fn dirname(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return if path.is_empty() {
            ".".into()
        } else {
            "/".into()
        };
    }
    match trimmed.rfind('/') {
        None => ".".into(),
        Some(i) => {
            let d = trimmed[..i].trim_end_matches('/');
            if d.is_empty() { "/".into() } else { d.into() }
        }
    }
}

/// The string ifupdown passes to wordexp for `source REST` in file `including`.
pub fn pattern_for(including: &str, rest: &str) -> String {
    if rest.starts_with('/') {
        rest.to_string()
    } else {
        format!("{}/{}", dirname(including), rest)
    }
}

/// One word being built: its literal text and the same as a glob pattern (quoted
/// characters escaped), and whether it has unquoted glob characters.
#[derive(Default)]
struct Word {
    text: String,
    pattern: String,
    globbing: bool,
    started: bool,
}

impl Word {
    fn push_quoted(&mut self, c: char) {
        self.started = true;
        self.text.push(c);
        if matches!(c, '*' | '?' | '[' | ']') {
            self.pattern.push('[');
            self.pattern.push(c);
            self.pattern.push(']');
        } else {
            self.pattern.push(c);
        }
    }
    fn push_str_quoted(&mut self, s: &str) {
        self.started = true;
        for c in s.chars() {
            self.push_quoted(c);
        }
    }
    fn push_plain(&mut self, c: char) {
        self.started = true;
        self.text.push(c);
        self.pattern.push(c);
        if matches!(c, '*' | '?' | '[') {
            self.globbing = true;
        }
    }
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_default()
}

/// Read `$NAME` or `${NAME}` after the `$` at `chars[*i]`; returns the value.
fn expand_var(chars: &[char], i: &mut usize) -> Result<Option<String>, ExpandError> {
    let next = chars.get(*i + 1).copied();
    match next {
        Some('(') => Err(ExpandError::CommandSubstitution),
        Some('{') => {
            let start = *i + 2;
            let end = chars[start..]
                .iter()
                .position(|&c| c == '}')
                .ok_or(ExpandError::Syntax)?;
            let name: String = chars[start..start + end].iter().collect();
            *i = start + end + 1;
            Ok(Some(env(&name)))
        }
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {
            let start = *i + 1;
            let mut j = start;
            while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
                j += 1;
            }
            let name: String = chars[start..j].iter().collect();
            *i = j;
            Ok(Some(env(&name)))
        }
        _ => Ok(None),
    }
}

/// Split and expand like `wordexp(s, WRDE_NOCMD)`; glob words are matched against
/// the file system.
pub fn wordexp(s: &str) -> Result<Vec<String>, ExpandError> {
    let mut out = Vec::new();
    for w in split_words(s)? {
        if w.globbing {
            let matches = glob_sorted(&w.pattern);
            if !matches.is_empty() {
                out.extend(matches);
                continue;
            }
        }
        out.push(w.text);
    }
    Ok(out)
}

/// The words of `s`: quotes removed, variables and `~` expanded, globs not yet.
fn split_words(s: &str) -> Result<Vec<Word>, ExpandError> {
    let chars: Vec<char> = s.chars().collect();
    let mut words: Vec<Word> = Vec::new();
    let mut cur = Word::default();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i = match c {
            '\n' => return Err(ExpandError::BadChar('\n')),
            ' ' | '\t' => {
                if cur.started {
                    words.push(std::mem::take(&mut cur));
                }
                i + 1
            }
            '|' | '&' | ';' | '<' | '>' | '(' | ')' | '{' | '}' => {
                return Err(ExpandError::BadChar(c));
            }
            '`' => return Err(ExpandError::CommandSubstitution),
            '\\' => {
                match chars.get(i + 1) {
                    Some(&n) => cur.push_quoted(n),
                    None => cur.started = true,
                }
                i + 2
            }
            '\'' => single_quoted(&chars, i, &mut cur)?,
            '"' => double_quoted(&chars, i, &mut cur)?,
            '$' => dollar(&chars, i, &mut cur, Word::push_plain)?,
            '~' if !cur.started => {
                // Only `~` and `~/...` (the current user's home).
                if matches!(chars.get(i + 1), None | Some('/' | ' ' | '\t')) {
                    cur.push_str_quoted(&env("HOME"));
                } else {
                    cur.push_plain('~');
                }
                i + 1
            }
            _ => {
                cur.push_plain(c);
                i + 1
            }
        };
    }
    if cur.started {
        words.push(cur);
    }
    Ok(words)
}

/// `'...'` starting at `chars[i]`, taken literally; returns the index after it.
fn single_quoted(chars: &[char], i: usize, cur: &mut Word) -> Result<usize, ExpandError> {
    let end = chars[i + 1..]
        .iter()
        .position(|&c| c == '\'')
        .ok_or(ExpandError::Syntax)?;
    let lit: String = chars[i + 1..i + 1 + end].iter().collect();
    cur.push_str_quoted(&lit);
    Ok(i + end + 2)
}

/// `"..."` starting at `chars[i]`: a backslash quotes `$`, a backquote, `"` and a
/// backslash; variables expand. Returns the index after it.
fn double_quoted(chars: &[char], i: usize, cur: &mut Word) -> Result<usize, ExpandError> {
    cur.started = true;
    let mut i = i + 1;
    loop {
        let Some(&d) = chars.get(i) else {
            return Err(ExpandError::Syntax);
        };
        i = match d {
            '"' => return Ok(i + 1),
            '`' => return Err(ExpandError::CommandSubstitution),
            '\\' if matches!(chars.get(i + 1), Some('$' | '`' | '"' | '\\')) => {
                cur.push_quoted(chars[i + 1]);
                i + 2
            }
            '$' => dollar(chars, i, cur, Word::push_quoted)?,
            _ => {
                cur.push_quoted(d);
                i + 1
            }
        };
    }
}

/// `$NAME` or `${NAME}` at `chars[i]`, its value added quoted; a `$` that starts
/// neither is added with `lone`. Returns the index after it.
fn dollar(
    chars: &[char],
    i: usize,
    cur: &mut Word,
    lone: fn(&mut Word, char),
) -> Result<usize, ExpandError> {
    let mut next = i;
    match expand_var(chars, &mut next)? {
        Some(v) => {
            cur.push_str_quoted(&v);
            Ok(next)
        }
        None => {
            lone(cur, '$');
            Ok(i + 1)
        }
    }
}

/// Paths matching a shell glob, sorted bytewise, spelled with the pattern's own
/// directory prefix (the glob crate drops a leading `./`, wordexp does not).
fn glob_sorted(pattern: &str) -> Vec<String> {
    let opts = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    };
    let Ok(paths) = glob::glob_with(pattern, opts) else {
        return Vec::new();
    };
    let dot = pattern.starts_with("./");
    let mut out: Vec<String> = paths
        .filter_map(Result::ok)
        .map(|p| {
            let s = p.to_string_lossy().into_owned();
            if dot && !s.starts_with("./") {
                format!("./{s}")
            } else {
                s
            }
        })
        .collect();
    out.sort();
    out
}

/// Whether `source-directory` reads a file of this name: `^[a-zA-Z0-9_-]+$`.
pub fn directory_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The files `source-directory` reads from `dir`, in ifupdown's order (sorted
/// bytewise), as `DIR/NAME`. `None` if `dir` cannot be listed (ifupdown skips it
/// silently).
pub fn directory_entries(dir: &str) -> Option<Vec<String>> {
    let rd = std::fs::read_dir(Path::new(dir)).ok()?;
    let mut names: Vec<String> = rd
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| directory_name_ok(n))
        .collect();
    names.sort();
    Some(names.into_iter().map(|n| format!("{dir}/{n}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dirname_like_posix() {
        assert_eq!(dirname("interfaces"), ".");
        assert_eq!(dirname("/etc/network/interfaces"), "/etc/network");
        assert_eq!(dirname("/x"), "/");
        assert_eq!(dirname("/"), "/");
        assert_eq!(dirname(""), ".");
        assert_eq!(dirname("a/b/"), "a");
        assert_eq!(dirname("a//b"), "a");
    }

    #[test]
    fn pattern_relative_and_absolute() {
        assert_eq!(
            pattern_for("/etc/network/interfaces", "interfaces.d/*"),
            "/etc/network/interfaces.d/*"
        );
        assert_eq!(pattern_for("/etc/network/interfaces", "/x/y"), "/x/y");
        assert_eq!(pattern_for("t.if", "sub"), "./sub");
    }

    #[test]
    fn words_and_quotes() {
        assert_eq!(wordexp("a  b").unwrap(), vec!["a", "b"]);
        assert_eq!(wordexp("'a b'\"c\"\\ d").unwrap(), vec!["a bc d"]);
        assert_eq!(wordexp("/no/such/dir/*").unwrap(), vec!["/no/such/dir/*"]);
    }

    #[test]
    fn refused_like_wordexp() {
        assert_eq!(wordexp("a;b"), Err(ExpandError::BadChar(';')));
        assert_eq!(wordexp("a{b,c}"), Err(ExpandError::BadChar('{')));
        assert_eq!(wordexp("$(ls)"), Err(ExpandError::CommandSubstitution));
        assert_eq!(wordexp("`ls`"), Err(ExpandError::CommandSubstitution));
        assert_eq!(wordexp("'a"), Err(ExpandError::Syntax));
        assert_eq!(wordexp("\"a"), Err(ExpandError::Syntax));
        assert_eq!(wordexp("${a"), Err(ExpandError::Syntax));
        assert!(ExpandError::BadChar(';').to_string().contains("';'"));
    }

    #[test]
    fn variables() {
        // PATH is always set for tests.
        let path = std::env::var("PATH").unwrap_or_default();
        assert_eq!(wordexp("$PATH").unwrap(), vec![path.clone()]);
        assert_eq!(wordexp("x${PATH}").unwrap(), vec![format!("x{path}")]);
        assert_eq!(wordexp("a$").unwrap(), vec!["a$"]);
    }

    #[test]
    fn globs_sorted_and_quoted_globs_literal() {
        let d = tempfile::tempdir().unwrap();
        for n in ["b", "a", ".hidden", "c.x"] {
            std::fs::write(d.path().join(n), "").unwrap();
        }
        let base = d.path().to_str().unwrap();
        let got = wordexp(&format!("{base}/*")).unwrap();
        let want: Vec<String> = ["a", "b", "c.x"]
            .iter()
            .map(|n| format!("{base}/{n}"))
            .collect();
        assert_eq!(got, want);
        assert_eq!(
            wordexp(&format!("'{base}/*'")).unwrap(),
            vec![format!("{base}/*")]
        );
        let names = directory_entries(base).unwrap();
        assert_eq!(names, vec![format!("{base}/a"), format!("{base}/b")]);
        assert!(directory_entries(&format!("{base}/nope")).is_none());
    }

    #[test]
    fn directory_filter() {
        assert!(directory_name_ok("A_b-9"));
        assert!(!directory_name_ok("x.y"));
        assert!(!directory_name_ok(""));
        assert!(!directory_name_ok("é"));
    }
}
